import { CommandDto } from './dto/command.dto';
import { CommandResponseDto } from './dto/command-response.dto';
import { EchoDto } from './dto/echo.dto';
import { EchoResponseDto } from './dto/echo-response.dto';
import { HelloDto } from './dto/hello.dto';
import { HelloResponseDto } from './dto/hello-response.dto';
import { NoteDto } from './dto/note.dto';
import type { ResponseShape } from './dto/response-shape';
import type { CommandRequest, CommandResponse } from './command.types';
import type { EchoRequest, EchoResponse } from './echo.types';
import type { CommandDescriptor, HelloRequest, ServerLimits } from './hello.types';
import type { NoteEvent } from './note.types';

/**
 * One request pattern of the contract: the class-validator DTO its requests must pass (its
 * instances must be requests: a DTO that does not match the request type does not compile), the
 * class-validator class its responses must pass (the server checks them with VALIDATE_RESPONSES;
 * each response class is held to its response type both ways, see `ResponseShape`), and an example
 * call, which the e2e suite sends to a real server (checking the reply against the response class)
 * and the demo adds as a step.
 */
export interface RequestUnit<Request extends object, Response> {
  readonly kind: 'request';
  readonly dto: new () => Request;
  readonly response: new () => Response;
  readonly example: { readonly request: Request; readonly response: Partial<Response> };
}

/** One event pattern of the contract: fire and forget, no reply (so no response class). */
export interface EventUnit<Event extends object> {
  readonly kind: 'event';
  readonly dto: new () => Event;
  readonly example: Event;
}

function request<Request extends object, Response>(unit: Omit<RequestUnit<Request, Response>, 'kind'>): RequestUnit<Request, Response> {
  return { kind: 'request', ...unit };
}

function event<Event extends object>(unit: Omit<EventUnit<Event>, 'kind'>): EventUnit<Event> {
  return { kind: 'event', ...unit };
}

/**
 * `hello`'s response class. `HelloResponse` lists the contract's patterns, so hello.dto.ts cannot
 * name them (they come from this file, which imports it): here the class gets them, and is held
 * to `HelloResponse` both ways like the other response classes.
 */
class HelloResponseClass
  extends HelloResponseDto<RequestPattern, EventPattern>
  implements HelloResponse, ResponseShape<HelloResponse, HelloResponseClass> {}
// Typed apart: CONTRACT's type must not wait on the class's, which waits on CONTRACT's patterns.
const helloResponseClass: new () => HelloResponse = HelloResponseClass;

/**
 * The wire contract, the one source of truth of both services: every pattern by name. To add a
 * pattern, add its request and response types, its DTO and response class, and one entry here (in
 * this file, or in a file of its own imported here); the compiler then names every place that lacks
 * it (the server's handler map, a handler of the wrong shape). See docs/add-a-pattern.md and docs/contract.md.
 */
export const CONTRACT = {
  requests: {
    hello: request<HelloRequest, HelloResponse>({
      dto: HelloDto,
      response: helloResponseClass,
      example: { request: { client: 'contract example' }, response: {} },
    }),
    echo: request<EchoRequest, EchoResponse>({
      dto: EchoDto,
      response: EchoResponseDto,
      example: { request: { text: 'héllo 你好 😀' }, response: { text: 'héllo 你好 😀', codeUnits: 11, codePoints: 10 } },
    }),
    command: request<CommandRequest, CommandResponse>({
      dto: CommandDto,
      response: CommandResponseDto,
      example: { request: { name: 'upper', args: ['hi'] }, response: { name: 'upper', output: 'HI' } },
    }),
  },
  events: {
    note: event<NoteEvent>({ dto: NoteDto, example: { text: 'a contract example', author: 'contract' } }),
  },
} as const;

type Requests = typeof CONTRACT.requests;
type EventUnits = typeof CONTRACT.events;

/** Request/response patterns: the client waits for exactly one reply. */
export type RequestPattern = keyof Requests;
/** Fire-and-forget event patterns: the server never replies. */
export type EventPattern = keyof EventUnits;

export type RequestOf<P extends RequestPattern> = Requests[P] extends RequestUnit<infer Request, unknown> ? Request : never;
export type ResponseOf<P extends RequestPattern> = Requests[P] extends RequestUnit<object, infer Response> ? Response : never;
export type EventOf<E extends EventPattern> = EventUnits[E] extends EventUnit<infer Event> ? Event : never;

/**
 * The reply to `hello`. It lists the contract's own patterns, so it is declared here with the
 * contract rather than in hello.types, which the contract imports.
 */
export interface HelloResponse {
  /** The classic tutorials' greeting, sent here in reply to `hello`. */
  welcome: string;
  server: string;
  version: string;
  /** Host name of the serving process, to tell replicas apart. */
  instance: string;
  serverTime: string;
  patterns: { requests: RequestPattern[]; events: EventPattern[] };
  commands: CommandDescriptor[];
  limits: ServerLimits;
}

/** The contract's example call of a request pattern, typed by the pattern. */
export function requestExampleOf<P extends RequestPattern>(pattern: P): RequestUnit<RequestOf<P>, ResponseOf<P>>['example'] {
  return (CONTRACT.requests[pattern] as unknown as RequestUnit<RequestOf<P>, ResponseOf<P>>).example;
}

/** The contract's example payload of an event pattern, typed by the pattern. */
export function eventExampleOf<E extends EventPattern>(pattern: E): EventOf<E> {
  return (CONTRACT.events[pattern] as unknown as EventUnit<EventOf<E>>).example;
}

export const REQUEST_PATTERNS = Object.keys(CONTRACT.requests) as readonly RequestPattern[];
export const EVENT_PATTERNS = Object.keys(CONTRACT.events) as readonly EventPattern[];

/**
 * What a server must implement for each pattern. Handlers are checked against it where they are
 * declared (`@HandlePattern` on the server), so that a change to the contract breaks their build.
 * Extra parameters (such as the RPC context) are allowed after the payload.
 */
export type ServerContract = {
  [P in RequestPattern]: (request: RequestOf<P>, ...context: never[]) => ResponseOf<P> | Promise<ResponseOf<P>>;
} & {
  [E in EventPattern]: (event: EventOf<E>, ...context: never[]) => void | Promise<void>;
};
