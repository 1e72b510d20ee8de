import { ClientTCP, type TcpClientOptions, type TcpSocket } from '@nestjs/microservices';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { Observable } from 'rxjs';
import { isTracingOn } from '../transport/trace-context/tracing-state';
import { fastPathEnabled } from '../transport/fast-path';

export type EchoClientTcpOptions = NonNullable<TcpClientOptions['options']> & {
  /** TCP keepalive idle delay of each socket, in milliseconds; 0 or unset leaves keepalive off. */
  keepAliveMs?: number;
  /** The fast paths (the default), or stock `ClientTCP`'s `send` and `handleResponse` (`false`); unset, from `ECHO_FAST_PATH`. */
  fastPath?: boolean;
};

/**
 * Nest's `ClientTCP` with TCP keepalive (`keepAliveMs`), its socket opened outside any trace
 * context, and two fast paths: a request on an open connection is published when subscribed to,
 * and a reply is routed in the tick it arrives in. With `fastPath: false` (or ECHO_FAST_PATH=false)
 * stock `send` and `handleResponse` run instead, decided once here (docs/performance.md).
 */
export class EchoClientTcp extends ClientTCP {
  /** The socket whose connection `connect()` has resolved, until it closes. */
  private openSocket: unknown = null;
  private readonly keepAliveMs: number;
  private readonly fastPath: boolean;

  constructor(options: EchoClientTcpOptions) {
    super(options);
    this.keepAliveMs = options.keepAliveMs ?? 0;
    this.fastPath = options.fastPath ?? fastPathEnabled();
    if (!this.fastPath) {
      // Own properties, in front of the overrides below: stock behaviour, with no test per message.
      this.send = <TResult, TInput>(pattern: unknown, data: TInput) => super.send<TResult, TInput>(pattern, data);
      this.handleResponse = (buffer: unknown) => super.handleResponse(buffer);
    }
  }

  /** Turns TCP keepalive on for every socket, before it connects, so that a peer gone while the connection is idle is noticed. */
  override createSocket(): TcpSocket {
    const socket = super.createSocket();
    if (this.keepAliveMs > 0) {
      socket.netSocket.setKeepAlive(true, this.keepAliveMs);
    }
    return socket;
  }

  /**
   * With tracing on, the socket is opened in the root context: a connection opened by a call
   * outlives it, and the callbacks of its socket's events (replies, drops, reconnects, their log
   * lines) must not run in the context of the call that happened to open it.
   */
  override connect(): Promise<unknown> {
    const before = this.connectionPromise;
    const connection = (isTracingOn() ? context.with(ROOT_CONTEXT, () => super.connect()) : super.connect()) as Promise<unknown>;
    if (this.fastPath && connection !== before) {
      const socket = this.socket;
      connection.then(
        () => {
          if (this.socket === socket) {
            this.openSocket = socket;
          }
        },
        () => undefined, // the caller of connect() gets the failure
      );
    }
    return connection;
  }

  override send<TResult = unknown, TInput = unknown>(pattern: unknown, data: TInput): Observable<TResult> {
    if (
      this.socket === null ||
      this.socket !== this.openSocket ||
      pattern === null ||
      pattern === undefined ||
      data === null ||
      data === undefined
    ) {
      return super.send<TResult, TInput>(pattern, data);
    }
    return new Observable<TResult>((observer) => this.publish(this.createPacket(pattern, data), this.createObserver(observer)));
  }

  override handleResponse(buffer: unknown): Promise<void> {
    const packet = this.deserializer.deserialize(buffer) as Reply | Promise<Reply>;
    if (packet instanceof Promise) {
      return packet.then((settled) => this.route(settled));
    }
    this.route(packet);
    return SETTLED;
  }

  /** What stock `handleResponse` does with a deserialized reply. */
  private route({ err, response, isDisposed, id }: Reply): void {
    const callback = this.routingMap.get(id as string) as ((packet: Reply) => void) | undefined;
    if (!callback) {
      return;
    }
    if (isDisposed || err) {
      callback({ err, response, isDisposed: true });
      return;
    }
    callback({ err, response });
  }
}

/** A deserialized reply packet (Nest's `WritePacket` with its id, typed without `any`). */
interface Reply {
  id?: string;
  err?: unknown;
  response?: unknown;
  isDisposed?: boolean;
}

/** `handleResponse` must return a promise; nobody awaits it (ClientTCP's socket listener drops it). */
const SETTLED: Promise<void> = Promise.resolve();
