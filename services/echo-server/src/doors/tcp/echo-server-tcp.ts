import { FramedJsonSocket } from '@echo-pair/common';
import { IncomingRequestDeserializer, ServerTCP, TcpContext, type MessageHandler, type PacketId } from '@nestjs/microservices';
import type { PacketMetadata, ReadPacket, TcpSocket, WritePacket } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import type { AdmittedConnection } from '../admission/connection-admission';
import { limitConnections } from '../admission/connection-gate';
import { isPlainPattern } from '../plain-pattern';
import { LISTEN_BACKLOG, listenWithBacklog } from '../admission/listen-backlog';
import { finalize, isObservable } from 'rxjs';
import {
  connectionLimitsOf,
  framedSocketOf,
  reportConnections,
  type EchoServerTcpHooks,
  type EchoServerTcpOptions,
} from './echo-server-tcp-options';

export type { EchoServerTcpHooks, EchoServerTcpOptions } from './echo-server-tcp-options';

/** What `handleMessage` returns when nothing is pending: a frame rejected, a request answered at once (Nest chains `.catch` on it). */
const SETTLED = Promise.resolve();
/** A frame that broke a request rule. */
const REFUSED = Symbol('refused');

type IncomingPacket = ReadPacket & Partial<PacketId> & { metadata?: PacketMetadata };

/**
 * Nest's TCP transport server with the project's request rules (`requirePattern`, `maxInFlight`),
 * the framed socket's limits, `maxConnections` and connection hooks. With `fastPath` (the default)
 * it routes plain pattern names and dispatches requests through cheaper steps that send the same
 * packets as stock `handleMessage`; with `fastPath: false` stock `ServerTCP` routes and dispatches,
 * decided once here. Why and how the two are kept equal: docs/performance.md. It uses protected
 * members of `Server`: check it when upgrading Nest (the spec runs it beside stock `ServerTCP`).
 */
export class EchoServerTcp extends ServerTCP {
  private readonly maxInFlight: number;
  private readonly requirePattern: boolean;
  /** Whether the fast paths run (ECHO_FAST_PATH), for the start-up log line. */
  readonly fastPath: boolean;
  /** The admitted place of each raw socket, and of each socket wrapper (to mark frames as activity). */
  private readonly connectionOf = new WeakMap<Socket, AdmittedConnection>();
  private readonly admitted = new WeakMap<TcpSocket, AdmittedConnection>();
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
    if (hooks !== undefined) {
      reportConnections(this.server, this.tlsOptions !== undefined, hooks);
    }
    if (options.maxConnections !== undefined) {
      this.limitConnections(options, hooks);
    }
    this.fastPath = options.fastPath ?? true;
    if (!this.fastPath) {
      // Own properties, in front of the overrides below: the stock methods, with no test per message.
      this.handleMessage = (socket, rawMessage) => this.stockHandleMessage(socket, rawMessage);
      this.getRouteFromPattern = (pattern) => super.getRouteFromPattern(pattern);
    }
  }

  /** Nest's listen, with the doors' listen backlog. */
  override listen(callback: (error?: unknown) => void): void {
    listenWithBacklog(this.server, LISTEN_BACKLOG, () => super.listen(callback));
  }

  /** Plain TCP, TLS, or mutual TLS (a client certificate required), as the listening log line says. */
  get security(): 'TCP' | 'TLS' | 'mutual TLS' {
    return this.tlsOptions === undefined ? 'TCP' : this.tlsOptions.requestCert ? 'mutual TLS' : 'TLS';
  }

  /** A pattern that cannot begin JSON is routed as it is, as stock's `JSON.parse` fallback would; any other, by stock. */
  protected override getRouteFromPattern(pattern: string): string {
    return isPlainPattern(pattern) ? this.normalizePattern(pattern) : super.getRouteFromPattern(pattern);
  }

  /** The request rules, then a request with a handler through `runRequest`; events, requests without one, a custom deserializer: stock. */
  override handleMessage(socket: TcpSocket, rawMessage: unknown): Promise<unknown> {
    this.touch(socket);
    // The id of this request if it is counted in flight (with `maxInFlight`): released when it ends.
    let tracked: unknown;
    if (this.requirePattern || this.maxInFlight > 0) {
      tracked = this.admit(socket, rawMessage);
      if (tracked === REFUSED) {
        return SETTLED;
      }
    }
    if (Object.getPrototypeOf(this.deserializer) !== IncomingRequestDeserializer.prototype) {
      return this.stockPath(socket, rawMessage, tracked);
    }
    let hooked = false;
    // Stock `handleMessage` is async: whatever fails here rejects (Nest's socket listener logs it), never throws.
    try {
      // Nest's own deserializer (checked above) is synchronous.
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
      // Typed as returning a promise; the project's hooks pass on whatever `done` returns (nothing for a request answered at once).
      const run = (() => this.runRequest(handler, socket, packet, context)) as () => Promise<void>;
      const started = this.onProcessingStartHook(this.transportId, context, run) as unknown;
      // Nest's socket listener chains `.catch` on what this returns.
      return started instanceof Promise ? started : SETTLED;
    } catch (error) {
      if (!hooked) {
        this.release(socket, tracked); // no reply will come
      }
      // Rejects with what was thrown, as the stock async method does.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
  }

  /** `handleMessage` with `fastPath: false`: the request rules, then stock `handleMessage`. */
  private stockHandleMessage(socket: TcpSocket, rawMessage: unknown): Promise<unknown> {
    this.touch(socket);
    let tracked: unknown;
    if (this.requirePattern || this.maxInFlight > 0) {
      tracked = this.admit(socket, rawMessage);
      if (tracked === REFUSED) {
        return SETTLED;
      }
    }
    return this.stockPath(socket, rawMessage, tracked);
  }

  /**
   * The request rules for one frame (the socket is a FramedJsonSocket, its messages objects):
   * REFUSED if it broke one (the connection is rejected), else the id it is tracked in flight by, if any.
   */
  private admit(socket: TcpSocket, rawMessage: unknown): unknown {
    const message = rawMessage as { pattern?: unknown; id?: unknown };
    if (this.requirePattern && !hasPattern(message.pattern)) {
      (socket as FramedJsonSocket).reject('NO_PATTERN', 'frame body is an object without a pattern');
      return REFUSED;
    }
    if (this.maxInFlight === 0 || message.id === undefined) {
      return undefined;
    }
    const requests = this.requestsOf(socket);
    if (requests.has(message.id)) {
      (socket as FramedJsonSocket).reject('DUPLICATE_REQUEST_ID', `id ${JSON.stringify(message.id).slice(0, 80)} is already in flight`);
      return REFUSED;
    }
    requests.add(message.id);
    if (requests.size >= this.maxInFlight) {
      (socket as FramedJsonSocket).holdFrames();
    }
    return message.id;
  }

  /** Stock `handleMessage`; a request it takes is in flight until it settles (it sends Nest's "no handler" reply before). */
  private stockPath(socket: TcpSocket, message: unknown, tracked: unknown): Promise<unknown> {
    const handled = super.handleMessage(socket, message);
    return tracked === undefined ? handled : handled.finally(() => this.release(socket, tracked));
  }

  /** The handler, then its reply, as stock `runWithProcessingHooks` and `handleRequest`; a promise only if the handler made one. */
  private runRequest(handler: MessageHandler, socket: TcpSocket, packet: IncomingPacket, context: TcpContext): Promise<void> | undefined {
    const runEndHook = this.createProcessingEndHookRunner(context);
    let result: unknown;
    try {
      result = handler(packet.data, context);
    } catch (error) {
      runEndHook();
      this.release(socket, packet.id);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      return Promise.reject(error);
    }
    if (!(result instanceof Promise)) {
      this.answer(socket, packet.id, result, runEndHook);
      return undefined;
    }
    return result.then(
      (value: unknown) => this.answer(socket, packet.id, value, runEndHook),
      (error: unknown) => {
        runEndHook();
        this.release(socket, packet.id);
        throw error;
      },
    );
  }

  /** Sends what the handler produced: a stream's packets, or a value's one packet on the next tick, as stock `send` does. */
  private answer(socket: TcpSocket, id: string | undefined, value: unknown, runEndHook: () => void): void {
    if (isObservable(value)) {
      const respond = this.maxInFlight > 0 ? this.respondUntilFinal(socket, id) : (data: WritePacket) => this.respond(socket, id, data);
      this.send(value.pipe(finalize(runEndHook)), respond);
      return;
    }
    runEndHook();
    process.nextTick(this.replyOnce, socket, id, value);
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

  /** Counts a complete frame as the connection's activity: the longest idle gives way at the cap. */
  private touch(socket: TcpSocket): void {
    const connection = this.admitted.get(socket);
    if (connection !== undefined) {
      connection.lastActive = performance.now();
    }
  }

  /** The connection limits, in front of every other `connection` listener (the TLS handshake's too). */
  private limitConnections(options: EchoServerTcpOptions, hooks: EchoServerTcpHooks | undefined): void {
    const limits = connectionLimitsOf(options, this.tlsOptions !== undefined, hooks);
    limitConnections(this.server, limits, (socket, connection) => this.connectionOf.set(socket, connection));
  }

  /** Nest's socket wrapper, its frames counted as its connection's activity. */
  protected override getSocketInstance(socket: Socket): TcpSocket {
    const framed = super.getSocketInstance(socket);
    // With TLS this is the TLS socket; the gate admitted the raw socket under it.
    const connection = this.connectionOf.get(socket) ?? this.connectionOf.get((socket as { _parent?: Socket })._parent!);
    if (connection !== undefined) {
      this.admitted.set(framed, connection);
    }
    return framed;
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

/** A pattern Nest can route: a string, a number or an object. */
function hasPattern(pattern: unknown): boolean {
  return typeof pattern === 'string' || typeof pattern === 'number' || (typeof pattern === 'object' && pattern !== null);
}
