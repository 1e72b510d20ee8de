import type { OnApplicationShutdown, Type } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import {
  catchError,
  defer,
  EmptyError,
  from,
  lastValueFrom,
  mergeMap,
  retry,
  tap,
  throwError,
  timeout,
  timer,
  type Observable,
  type Subscription,
} from 'rxjs';
import type { CommandRequest, CommandResponse } from '../contract/command.types';
import type { EchoRequest, EchoResponse } from '../contract/echo.types';
import type { HelloRequest, HelloResponse } from '../contract/hello.types';
import type { NoteEvent } from '../contract/note.types';
import { Events, Patterns, type EventPattern, type RequestPattern } from '../contract/patterns';
import type { EventOf, RequestOf, ResponseOf } from '../contract/wire-contract';
import { backoffDelayMs } from './backoff';
import { ConnectionKeeper, type ConnectionInfo } from './connection-keeper';
import { EchoClientTcp, type EchoClientTcpOptions } from './echo-client-tcp';
import { EchoClientUdp } from './echo-client-udp';
import {
  CLOSE_GRACE_MS,
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_DEAD_AFTER_TIMEOUTS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_RECONNECT,
  DEFAULT_RETRY,
  isIdempotentRequest,
  type CallOptions,
  type EchoClientOptions,
  type RequestOptions,
  type RetryOptions,
  type WhenDisconnected,
} from './echo-client-options';
import { RpcClientError } from './rpc-client.error';
import { toRpcClientError } from './rpc-error-mapper';
import { destroyUnlessClosed } from '../transport/destroy-unless-closed';
import { framedJsonSocket } from '../transport/framed-json-socket';

export type EchoClientSettings = Partial<
  Pick<EchoClientOptions, 'host' | 'port' | 'timeoutMs' | 'reconnect' | 'whenDisconnected' | 'retry' | 'deadAfterTimeouts'>
>;

/**
 * The typed client of the wire contract. Every call is checked by the compiler
 * against `RequestContract`, carries a timeout, and rejects with `RpcClientError`.
 * It reconnects by itself (see `ConnectionKeeper`), and may repeat idempotent calls.
 */
export class EchoClient implements OnApplicationShutdown {
  private readonly defaultTimeoutMs: number;
  private readonly whenDisconnected: WhenDisconnected;
  private readonly retryPolicy?: Required<RetryOptions>;
  private readonly connection: ConnectionKeeper;
  private closing = false;

  constructor(
    private readonly proxy: ClientProxy,
    options: EchoClientSettings = {},
    private readonly random: () => number = Math.random,
  ) {
    this.defaultTimeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.whenDisconnected = options.whenDisconnected ?? 'wait';
    this.retryPolicy = options.retry ? { ...DEFAULT_RETRY, ...(options.retry === true ? {} : options.retry) } : undefined;
    const target = options.host === undefined ? 'the server' : `${options.host}:${options.port}`;
    this.connection = new ConnectionKeeper(
      proxy,
      { ...DEFAULT_RECONNECT, ...options.reconnect },
      target,
      random,
      // Over UDP there is no connection to find dead, nor a TCP socket whose bytes read would tell.
      proxy instanceof EchoClientUdp ? 0 : (options.deadAfterTimeouts ?? DEFAULT_DEAD_AFTER_TIMEOUTS),
    );
  }

  /** Over UDP, the largest request datagram this client sends (a larger request fails with `NOT_SENT`); undefined over TCP. */
  get maxDatagramBytes(): number | undefined {
    return this.proxy instanceof EchoClientUdp ? this.proxy.maxDatagramBytes : undefined;
  }

  /** The connection's state and counters: attempts, connects, drops, timeouts in a row, connections found dead. */
  connectionInfo(): ConnectionInfo {
    return this.connection.info();
  }

  /**
   * A client over `options.protocol`: by default Nest's TCP transport with the project's framed
   * socket, whose framing options (`maxBufferSize`, `incompleteMessageTimeout`, `maxSendBufferSize`)
   * set its frame limit, incomplete-frame timeout and send-buffer limit; or JSON datagrams over UDP
   * (`EchoClientUdp`), which has no TLS. It connects lazily, or on `connect()`.
   */
  static create(options: EchoClientOptions): EchoClient {
    return new EchoClient(options.protocol === 'udp' ? udpProxy(options) : tcpProxy(options), options);
  }

  hello(request: HelloRequest = {}, options?: RequestOptions): Promise<HelloResponse> {
    return this.send(Patterns.HELLO, request, options);
  }

  echo(request: EchoRequest, options?: RequestOptions): Promise<EchoResponse> {
    return this.send(Patterns.ECHO, request, options);
  }

  command(request: CommandRequest, options?: RequestOptions): Promise<CommandResponse> {
    return this.send(Patterns.COMMAND, request, options);
  }

  note(event: NoteEvent, options?: CallOptions): Promise<void> {
    return this.emit(Events.NOTE, event, options);
  }

  /**
   * Sends a request and resolves with its single reply. Idempotent requests are repeated
   * after a retryable failure when retry is on (for the client or this call).
   */
  send<P extends RequestPattern>(pattern: P, request: RequestOf<P>, options?: RequestOptions): Promise<ResponseOf<P>> {
    if (request === null || request === undefined) {
      return Promise.reject(notSent(pattern));
    }
    const retryPolicy = this.retryFor(pattern, request, options);
    if (retryPolicy === undefined && this.connection.state === 'connected') {
      return this.callNow(pattern, () => this.proxy.send<ResponseOf<P>, RequestOf<P>>(pattern, request), options, false);
    }
    return lastValueFrom(this.call(pattern, () => this.proxy.send<ResponseOf<P>, RequestOf<P>>(pattern, request), options, retryPolicy));
  }

  /** Sends an event, never repeated; resolves once it is handed to the connection (no reply, no delivery receipt). */
  async emit<E extends EventPattern>(pattern: E, event: EventOf<E>, options?: CallOptions): Promise<void> {
    if (event === null || event === undefined) {
      throw notSent(pattern);
    }
    if (this.connection.state === 'connected') {
      await this.callNow(pattern, () => this.proxy.emit<unknown, EventOf<E>>(pattern, event), options, true);
      return;
    }
    await lastValueFrom(
      this.call(pattern, () => this.proxy.emit<unknown, EventOf<E>>(pattern, event), options),
      { defaultValue: undefined },
    );
  }

  /** Opens the connection now instead of on the first call; rejects with `CONNECTION_FAILED` if this attempt fails. */
  async connect(options?: CallOptions): Promise<void> {
    await lastValueFrom(this.guard('connect', from(this.connection.connect()), options), { defaultValue: undefined });
  }

  /**
   * Ends the connection and the reconnecting; calls still waiting fail with `CONNECTION_CLOSED`.
   * A peer that never closes its side would keep the half-closed socket, and so the
   * process, alive: it is destroyed after a grace period.
   */
  async close(): Promise<void> {
    this.closing = true;
    this.connection.close();
    const socket = this.currentSocket();
    await this.proxy.close();
    if (socket && !socket.destroyed) {
      void destroyUnlessClosed(socket, CLOSE_GRACE_MS);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** The TCP socket, if any: a UDP client's `close()` ends its socket at once. */
  private currentSocket(): Socket | undefined {
    if (this.proxy instanceof EchoClientUdp) {
      return undefined;
    }
    try {
      return this.proxy.unwrap<Socket>();
    } catch {
      return undefined; // never connected
    }
  }

  /**
   * One call on an open connection, without retry: what `call` does then, with one subscription and
   * one timer instead of its operators, since most calls are of this kind. Like `timeout({ first })`,
   * the timer stops at the first value; like `lastValueFrom`, the promise settles on completion.
   */
  private callNow<T>(pattern: string, start: () => Observable<T>, options: CallOptions | undefined, emptyIsDone: boolean): Promise<T> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      let last: T | undefined;
      let hasValue = false;
      let subscription: Subscription | undefined;
      const timer = setTimeout(() => {
        subscription?.unsubscribe();
        reject(timeoutError(pattern, timeoutMs));
        this.connection.callTimedOut();
      }, timeoutMs);
      const fail = (error: unknown): void => {
        clearTimeout(timer);
        reject(this.toError(error, pattern));
      };
      try {
        subscription = start().subscribe({
          next: (value) => {
            if (!hasValue) {
              clearTimeout(timer);
              hasValue = true;
            }
            last = value;
          },
          error: fail,
          complete: () => {
            clearTimeout(timer);
            if (hasValue || emptyIsDone) {
              resolve(last as T);
            } else {
              reject(new EmptyError());
            }
          },
        });
      } catch (error) {
        fail(error);
      }
    });
  }

  /**
   * One call: waits for (or fails fast without) the connection, sends, and repeats a retryable
   * failure per `retryPolicy`. The whole, waits and repeats included, is bounded by the call's timeout.
   */
  private call<T>(
    pattern: string,
    start: () => Observable<T>,
    options: CallOptions | undefined,
    retryPolicy?: Required<RetryOptions>,
  ): Observable<T> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    const mode = options?.whenDisconnected ?? this.whenDisconnected;
    let deadline = 0;
    let sent = false;
    const attempt$ = defer(() => {
      sent = false;
      return this.connection.ready(mode, pattern);
    }).pipe(
      tap(() => (sent = true)),
      mergeMap(start),
      catchError((error: unknown) => throwError(() => this.toError(error, pattern))),
    );
    const attempts$ = !retryPolicy
      ? attempt$
      : attempt$.pipe(
          retry({
            count: retryPolicy.attempts - 1,
            delay: (error: RpcClientError, failures: number) => {
              const waitMs = backoffDelayMs(failures, retryPolicy, this.random);
              // A repeat that could not finish within the call's timeout is not started: the caller gets the real failure.
              return error.retryable && error.code !== 'TIMEOUT' && Date.now() + waitMs < deadline
                ? timer(waitMs)
                : throwError(() => error);
            },
          }),
        );
    return defer(() => {
      deadline = Date.now() + timeoutMs;
      return attempts$;
    }).pipe(
      timeout({
        first: timeoutMs,
        with: () => {
          if (!sent) {
            return throwError(() => this.connection.notConnectedError(pattern, timeoutMs));
          }
          this.connection.callTimedOut();
          return throwError(() => timeoutError(pattern, timeoutMs));
        },
      }),
    );
  }

  /** Bounds `connect()` by its timeout and maps every failure to `RpcClientError`. */
  private guard<T>(pattern: string, source: Observable<T>, options: CallOptions | undefined): Observable<T> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    return source.pipe(
      timeout({ first: timeoutMs, with: () => throwError(() => timeoutError(pattern, timeoutMs)) }),
      catchError((error: unknown) => throwError(() => this.toError(error, pattern))),
    );
  }

  /** The transport cannot tell a dropped connection from one the client closed itself; the client can. */
  private toError(error: unknown, pattern: string): RpcClientError {
    const mapped = toRpcClientError(error, pattern);
    if (mapped.code === 'CONNECTION_LOST' && this.closing) {
      return new RpcClientError({
        code: 'CONNECTION_CLOSED',
        message: 'the client was closed while the call was in flight',
        pattern,
        cause: error,
      });
    }
    return mapped;
  }

  /** The retry policy of this request, if it is to be repeated: per call, else per client for idempotent requests. */
  private retryFor(pattern: RequestPattern, request: unknown, options: RequestOptions | undefined): Required<RetryOptions> | undefined {
    if (options?.retry === false) {
      return undefined;
    }
    if (options?.retry === true) {
      return this.retryPolicy ?? DEFAULT_RETRY;
    }
    return this.retryPolicy && isIdempotentRequest(pattern, request) ? this.retryPolicy : undefined;
  }
}

function tcpProxy(options: EchoClientOptions): ClientProxy {
  const { maxBufferSize, incompleteMessageTimeout, maxSendBufferSize, ...transport } = options.transport ?? {};
  return ClientProxyFactory.create({
    // Nest types `customClass` as a ClientProxy of string statuses; ClientTCP's are narrower.
    customClass: EchoClientTcp as Type<ClientProxy>,
    options: {
      socketClass: framedJsonSocket({
        maxFrameLength: maxBufferSize,
        incompleteFrameTimeoutMs: incompleteMessageTimeout,
        maxSendBufferBytes: maxSendBufferSize,
      }),
      ...transport,
      host: options.host,
      port: options.port,
      keepAliveMs: options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
    } satisfies EchoClientTcpOptions,
  });
}

function udpProxy(options: EchoClientOptions): ClientProxy {
  // Falling back to plain text would be worse than no client.
  if (options.transport?.tlsOptions !== undefined) {
    throw new Error('TLS needs protocol "tcp": the UDP transport has no TLS');
  }
  return new EchoClientUdp({ ...options.udp, host: options.host, port: options.port });
}

function timeoutError(pattern: string, timeoutMs: number): RpcClientError {
  return new RpcClientError({ code: 'TIMEOUT', message: `no reply to "${pattern}" within ${timeoutMs} ms`, pattern });
}

/** Nest's transport refuses null payloads; say so in the client's own terms. */
function notSent(pattern: string): RpcClientError {
  return new RpcClientError({ code: 'NOT_SENT', message: `not sent: "${pattern}" needs a payload object, got null or undefined`, pattern });
}
