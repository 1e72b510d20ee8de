import {
  describeTlsClientError,
  framedJsonSocket,
  FramedJsonSocket,
  TlsPeerMemory,
  type FramedJsonSocketOptions,
  type SocketRejection,
  type TlsHandshakeRefusal,
} from '@echo-pair/common';
import type { MessageHandler, PacketId, PacketMetadata, ReadPacket, TcpOptions, TcpSocket, WritePacket } from '@nestjs/microservices';
import { IncomingRequestDeserializer, ServerTCP, TcpContext } from '@nestjs/microservices';
import type { DropArgument, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { isObservable } from 'rxjs';
import { finalize } from 'rxjs/operators';

/** Characters a JSON text can begin with: whitespace, `{`, `[`, `"`, `-`, a digit, or `t`/`f`/`n` of true/false/null. */
const JSON_START = /^[\s{["\-0-9tfn]/;
/** What `handleMessage` returns for a frame it rejected (Nest's socket listener chains `.catch` on it). */
const REJECTED = Promise.resolve();

type IncomingPacket = ReadPacket & Partial<PacketId> & { metadata?: PacketMetadata };

/** Nest's TCP options, the framed socket's limits, the request rules and the connection limit of this server. */
export interface EchoServerTcpOptions extends NonNullable<TcpOptions['options']> {
  /**
   * With these limits, `socketClass` is `framedJsonSocket(framing)`, its rejections reported to
   * the hooks' `rejected`. The request rules need a `FramedJsonSocket`: this, or a `socketClass` of one.
   */
  framing?: Omit<FramedJsonSocketOptions, 'onRejection'>;
  /** Connections served at once; further ones are closed on arrival (the hooks' `dropped`). */
  maxConnections?: number;
  /**
   * Requests (frames with an `id`) of one connection that may await their final reply; further
   * frames are left unread until one completes, and a request reusing the id of one in flight
   * is rejected (`DUPLICATE_REQUEST_ID`). 0 (the default) disables both.
   */
  maxInFlight?: number;
  /**
   * Rejects frames without a `pattern` (string, number or object): `NO_PATTERN`. Nest would treat
   * such a frame as an event with no handler and never answer it, id or not.
   */
  requirePattern?: boolean;
}

/** What the TCP transport reports to the rest of the server, without depending on it. */
export interface EchoServerTcpHooks {
  /** A connection was accepted (with TLS, before its handshake). */
  opened(socket: Socket): void;
  /** A connection was closed on arrival because `maxConnections` were open. */
  dropped(peer: DropArgument): void;
  /** A connection was closed because its peer broke the framing or a request rule. */
  rejected(rejection: SocketRejection): void;
  /** A TLS handshake failed: plain TCP, no client certificate, one from another CA, a timeout. */
  tlsRefused(refusal: TlsHandshakeRefusal): void;
}

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
 * **Request rules** (`maxInFlight`, `requirePattern`; off by default). A frame without a pattern,
 * or a request reusing the id of one in flight, closes the connection through the framed socket's
 * `reject` (its `onRejection` hears of it, once). A request is in flight from its dispatch until its
 * final reply is sent (`isDisposed`, or an error), or until it ends without one (its handler
 * rejected; an event-shaped packet); with `maxInFlight` of them the connection's frames are held
 * (`holdFrames`) until one ends. Frames taking a stock path (events, requests without a handler, a
 * custom deserializer) are in flight until that path settles: a stream produced through a custom
 * deserializer is released once subscribed, before its last packet.
 *
 * **Connections.** With hooks, it reports each connection accepted, each one dropped at
 * `maxConnections`, each one rejected by the framed socket or a request rule, and each failed
 * TLS handshake, from its own server's events.
 *
 * It overrides `handleMessage` and uses protected members of `Server` (`onProcessingStartHook`,
 * `createProcessingEndHookRunner`, `send`, `serializer`): check it when upgrading Nest; the spec
 * runs it side by side with stock `ServerTCP`.
 */
export class EchoServerTcp extends ServerTCP {
  private readonly maxInFlight: number;
  private readonly requirePattern: boolean;
  /** Per connection, the ids of its requests in flight (with `maxInFlight` only). */
  private readonly inFlight = new WeakMap<TcpSocket, Set<unknown>>();

  constructor(options: EchoServerTcpOptions, hooks?: EchoServerTcpHooks) {
    super(options.framing === undefined ? options : { ...options, socketClass: framedSocketOf(options.framing, hooks) });
    this.maxInFlight = options.maxInFlight ?? 0;
    this.requirePattern = options.requirePattern ?? false;
    const framed = this.socketClass === FramedJsonSocket || this.socketClass.prototype instanceof FramedJsonSocket;
    if ((this.maxInFlight > 0 || this.requirePattern) && !framed) {
      throw new TypeError('EchoServerTcp: maxInFlight and requirePattern need a FramedJsonSocket as socketClass (framedJsonSocket())');
    }
    if (options.maxConnections !== undefined) {
      this.server.maxConnections = options.maxConnections;
    }
    if (hooks !== undefined) {
      this.report(hooks);
    }
  }

  /** Plain TCP, TLS, or mutual TLS (a client certificate required), as the listening log line says. */
  get security(): 'TCP' | 'TLS' | 'mutual TLS' {
    return this.tlsOptions === undefined ? 'TCP' : this.tlsOptions.requestCert ? 'mutual TLS' : 'TLS';
  }

  protected override getRouteFromPattern(pattern: string): string {
    return JSON_START.test(pattern) ? super.getRouteFromPattern(pattern) : this.normalizePattern(pattern);
  }

  override handleMessage(socket: TcpSocket, rawMessage: unknown): Promise<unknown> {
    // The id of this request if it is counted in flight (with `maxInFlight`): released when it ends.
    let tracked: unknown;
    if (this.requirePattern || this.maxInFlight > 0) {
      // With the rules on, the socket is a FramedJsonSocket: its messages are objects.
      const message = rawMessage as { pattern?: unknown; id?: unknown };
      if (this.requirePattern && !hasPattern(message.pattern)) {
        (socket as FramedJsonSocket).reject('NO_PATTERN', 'frame body is an object without a pattern');
        return REJECTED;
      }
      if (this.maxInFlight > 0 && message.id !== undefined) {
        const requests = this.requestsOf(socket);
        if (requests.has(message.id)) {
          (socket as FramedJsonSocket).reject('DUPLICATE_REQUEST_ID', `id ${JSON.stringify(message.id).slice(0, 80)} is already in flight`);
          return REJECTED;
        }
        requests.add(message.id);
        if (requests.size >= this.maxInFlight) {
          (socket as FramedJsonSocket).holdFrames();
        }
        tracked = message.id;
      }
    }
    if (Object.getPrototypeOf(this.deserializer) !== IncomingRequestDeserializer.prototype) {
      return this.stockPath(socket, rawMessage, tracked);
    }
    let hooked = false;
    // Stock `handleMessage` is async: whatever fails here rejects (Nest's socket listener logs it), never throws.
    try {
      // The stock deserializer is synchronous: awaiting it only costs a turn of the microtask queue.
      const packet = this.deserializer.deserialize(rawMessage) as IncomingPacket;
      if (packet.id === undefined) {
        return this.stockPath(socket, packet, tracked); // an event: the stock path (the deserializer returns a packet as it is)
      }
      const pattern = this.getPatternAsString(packet.pattern);
      const handler = this.getHandlerByPattern(pattern);
      if (!handler) {
        return this.stockPath(socket, packet, tracked);
      }
      const context = new TcpContext([socket, pattern, packet.metadata]);
      // From here the request ends in `runRequest` (`packet` is the message itself: `packet.id` is the id tracked),
      // unless the start hook throws before it calls it: then it stays in flight, as it does on stock paths.
      hooked = true;
      const started = this.onProcessingStartHook(this.transportId, context, () =>
        this.runRequest(handler, socket, packet, context),
      ) as unknown;
      // Nest's socket listener chains `.catch` on what this returns.
      return started instanceof Promise ? started : Promise.resolve(started);
    } catch (error) {
      if (!hooked) {
        this.release(socket, tracked); // no reply will come
      }
      // Rejects with what was thrown, as the stock async method does.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** Stock `handleMessage`; a request it takes is in flight until it settles (it sends Nest's "no handler" reply before). */
  private stockPath(socket: TcpSocket, message: unknown, tracked: unknown): Promise<unknown> {
    const handled = super.handleMessage(socket, message);
    return tracked === undefined ? handled : handled.finally(() => this.release(socket, tracked));
  }

  /** The request's handler, then its reply; what stock `runWithProcessingHooks` and `handleRequest` do, with one promise. */
  private runRequest(handler: MessageHandler, socket: TcpSocket, packet: IncomingPacket, context: TcpContext): Promise<void> {
    const runEndHook = this.createProcessingEndHookRunner(context);
    let result: Promise<unknown>;
    try {
      result = Promise.resolve(handler(packet.data, context));
    } catch (error) {
      runEndHook();
      this.release(socket, packet.id);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    return result.then(
      (value) => {
        if (isObservable(value)) {
          const respond =
            this.maxInFlight > 0 ? this.respondUntilFinal(socket, packet.id) : (data: WritePacket) => this.respond(socket, packet.id, data);
          this.send(value.pipe(finalize(runEndHook)), respond);
          return;
        }
        runEndHook();
        process.nextTick(this.replyOnce, socket, packet.id, value);
      },
      (error: unknown) => {
        runEndHook();
        this.release(socket, packet.id);
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
    this.release(socket, id);
  };

  /** `respond` for a stream's packets, releasing the request after its final one: `isDisposed`, or an error (stock `send` merges the two). */
  private respondUntilFinal(socket: TcpSocket, id: string | undefined): (data: WritePacket) => void {
    let open = true;
    return (data) => {
      try {
        this.respond(socket, id, data);
      } finally {
        if (open && (data.isDisposed === true || (data.err !== undefined && data.err !== null))) {
          open = false;
          this.release(socket, id);
        }
      }
    };
  }

  /** Hooks the server's connection events, before it listens. */
  private report(hooks: EchoServerTcpHooks): void {
    this.server.on('connection', (socket: Socket) => hooks.opened(socket));
    this.server.on('drop', (peer: DropArgument) => hooks.dropped(peer));
    if (this.tlsOptions !== undefined) {
      // A failed handshake's socket may have lost its peer address: remembered from the connection.
      const peers = new TlsPeerMemory();
      this.server.on('connection', peers.remember);
      this.server.on('tlsClientError', (error: Error, socket: TLSSocket) =>
        hooks.tlsRefused(describeTlsClientError(error, socket, peers.peerOf)),
      );
    }
  }

  /** The connection's requests in flight, made with its first request. */
  private requestsOf(socket: TcpSocket): Set<unknown> {
    let requests = this.inFlight.get(socket);
    if (requests === undefined) {
      requests = new Set();
      this.inFlight.set(socket, requests);
    }
    return requests;
  }

  /** The request `id` has ended (with `maxInFlight`): the connection's frames flow again if it was at its limit. */
  private release(socket: TcpSocket, id: unknown): void {
    if (this.maxInFlight === 0) {
      return;
    }
    const requests = this.inFlight.get(socket);
    if (requests !== undefined && requests.delete(id) && requests.size === this.maxInFlight - 1) {
      (socket as FramedJsonSocket).resumeFrames();
    }
  }

  /** Stock `ServerTCP`'s `respond`: the id added, serialized, sent. */
  private respond(socket: TcpSocket, id: string | undefined, data: WritePacket): void {
    socket.sendMessage(this.serializer.serialize(Object.assign(data, { id: id as string })));
  }
}

/** The framed socket with these limits, its rejections reported to the hooks (logged without). */
function framedSocketOf(framing: Omit<FramedJsonSocketOptions, 'onRejection'>, hooks: EchoServerTcpHooks | undefined) {
  return framedJsonSocket(hooks === undefined ? framing : { ...framing, onRejection: (rejection) => hooks.rejected(rejection) });
}

/** A pattern Nest can route: a string, a number or an object. */
function hasPattern(pattern: unknown): boolean {
  return typeof pattern === 'string' || typeof pattern === 'number' || (typeof pattern === 'object' && pattern !== null);
}
