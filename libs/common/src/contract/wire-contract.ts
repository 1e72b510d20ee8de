import type { CommandRequest, CommandResponse } from './command.types';
import type { EchoRequest, EchoResponse } from './echo.types';
import type { HelloRequest, HelloResponse } from './hello.types';
import type { NoteEvent } from './note.types';
import { type Events, type Patterns, type EventPattern, type RequestPattern } from './patterns';

/** Request and response type of every request pattern. */
export interface RequestContract {
  [Patterns.HELLO]: { request: HelloRequest; response: HelloResponse };
  [Patterns.ECHO]: { request: EchoRequest; response: EchoResponse };
  [Patterns.COMMAND]: { request: CommandRequest; response: CommandResponse };
}

/** Payload type of every event pattern. */
export interface EventContract {
  [Events.NOTE]: NoteEvent;
}

export type RequestOf<P extends RequestPattern> = RequestContract[P]['request'];
export type ResponseOf<P extends RequestPattern> = RequestContract[P]['response'];
export type EventOf<E extends EventPattern> = EventContract[E];

/**
 * What a server must implement for each pattern. Controllers `implement`
 * `Pick<ServerContract, ...>` so that a change to the contract breaks their build.
 * Extra parameters (such as the RPC context) are allowed after the payload.
 */
export type ServerContract = {
  [P in RequestPattern]: (request: RequestOf<P>, ...context: never[]) => ResponseOf<P> | Promise<ResponseOf<P>>;
} & {
  [E in EventPattern]: (event: EventOf<E>, ...context: never[]) => void | Promise<void>;
};
