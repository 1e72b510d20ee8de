import type { MessageHandler, PacketId, PacketMetadata, ReadPacket, TcpSocket, WritePacket } from '@nestjs/microservices';
import { IncomingRequestDeserializer, ServerTCP, TcpContext } from '@nestjs/microservices';
import { isObservable } from 'rxjs';
import { finalize } from 'rxjs/operators';

/** Characters a JSON text can begin with: whitespace, `{`, `[`, `"`, `-`, a digit, or `t`/`f`/`n` of true/false/null. */
const JSON_START = /^[\s{["\-0-9tfn]/;

type IncomingPacket = ReadPacket & Partial<PacketId> & { metadata?: PacketMetadata };

/**
 * Nest's TCP transport server with two cheaper steps per message and the same behaviour.
 *
 * **Route lookup.** Stock `getRouteFromPattern` runs `JSON.parse` on every string pattern; for a
 * plain name like `echo` that throws and builds a stack trace per message. A pattern whose first
 * character cannot begin JSON cannot parse, so it is used as it is, exactly as the stock fallback
 * would; any other pattern takes the stock path.
 *
 * **Dispatch.** Stock `handleMessage` wraps each request in about ten promises (the deserializer
 * awaited, `runWithProcessingHooks`, `handleRequest`, `produce`, a `process.nextTick` async loop)
 * and an rxjs pipeline (`of`, `finalize`, `catchError`, `finalize`, a subscription) even when the
 * handler returned a plain value. Here a request is the handler Nest built for its pattern (the
 * whole pipeline: guards, interceptors, pipes, exception filters) called once, and one `then`:
 *
 * - the processing start hook runs before the handler and the end hook once the reply is produced,
 *   with the same `TcpContext`, as in stock `runWithProcessingHooks`;
 * - a plain result is replied to on the next tick as stock `send` does for `of(result)`: one packet
 *   `{ response, isDisposed: true, id }`, serialized by the configured serializer;
 * - an observable result (a streaming handler, or the error an exception filter produced) goes
 *   through stock `send`, unchanged, so its packets, `err` and `isDisposed` are the stock ones;
 * - a rejected handler ends the processing span and rejects, which Nest's socket listener logs;
 * - events, requests without a handler, and any deserializer but Nest's own (which may be
 *   asynchronous) take the stock path.
 *
 * It overrides `handleMessage` and uses protected members of `Server` (`onProcessingStartHook`,
 * `createProcessingEndHookRunner`, `send`, `serializer`): check it when upgrading Nest; the spec
 * runs it side by side with stock `ServerTCP`.
 */
export class EchoServerTcp extends ServerTCP {
  protected override getRouteFromPattern(pattern: string): string {
    return JSON_START.test(pattern) ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }

  override handleMessage(socket: TcpSocket, rawMessage: unknown): Promise<unknown> {
    if (Object.getPrototypeOf(this.deserializer) !== IncomingRequestDeserializer.prototype) {
      return super.handleMessage(socket, rawMessage);
    }
    // Stock `handleMessage` is async: whatever fails here rejects (Nest's socket listener logs it), never throws.
    try {
      // The stock deserializer is synchronous: awaiting it only costs a turn of the microtask queue.
      const packet = this.deserializer.deserialize(rawMessage) as IncomingPacket;
      if (packet.id === undefined) {
        return super.handleMessage(socket, packet); // an event: the stock path (the deserializer returns a packet as it is)
      }
      const pattern = this.getPatternAsString(packet.pattern);
      const handler = this.getHandlerByPattern(pattern);
      if (!handler) {
        return super.handleMessage(socket, packet);
      }
      const context = new TcpContext([socket, pattern, packet.metadata]);
      const started = this.onProcessingStartHook(this.transportId, context, () =>
        this.runRequest(handler, socket, packet, context),
      ) as unknown;
      // Nest's socket listener chains `.catch` on what this returns.
      return started instanceof Promise ? started : Promise.resolve(started);
    } catch (error) {
      // Rejects with what was thrown, as the stock async method does.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** The request's handler, then its reply; what stock `runWithProcessingHooks` and `handleRequest` do, with one promise. */
  private runRequest(handler: MessageHandler, socket: TcpSocket, packet: IncomingPacket, context: TcpContext): Promise<void> {
    const runEndHook = this.createProcessingEndHookRunner(context);
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(handler(packet.data, context));
    } catch (error) {
      runEndHook();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    return result.then(
      (value) => {
        if (isObservable(value)) {
          this.send(value.pipe(finalize(runEndHook)), (data) => this.respond(socket, packet.id, data));
          return;
        }
        runEndHook();
        process.nextTick(this.replyOnce, socket, packet.id, value);
      },
      (error: unknown) => {
        runEndHook();
        throw error;
      },
    );
  }

  /** The one packet stock `send` writes for a plain result: the value, and `isDisposed` merged into it. */
  private readonly replyOnce = (socket: TcpSocket, id: string | undefined, value: unknown): void => {
    try {
      this.respond(socket, id, { response: value, isDisposed: true });
    } catch (error) {
      this.logger.error(error); // as stock `send` does with a reply that cannot be published
    }
  };

  /** Stock `ServerTCP`'s `respond`: the id added, serialized, sent. */
  private respond(socket: TcpSocket, id: string | undefined, data: WritePacket): void {
    socket.sendMessage(this.serializer.serialize(Object.assign(data, { id: id as string })));
  }
}
