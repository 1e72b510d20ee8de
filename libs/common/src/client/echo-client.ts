import type { OnApplicationShutdown } from '@nestjs/common';
import { ClientProxyFactory, Transport, type ClientProxy } from '@nestjs/microservices';
import type { Socket } from 'node:net';
import { catchError, from, lastValueFrom, throwError, timeout, type Observable } from 'rxjs';
import type { CommandRequest, CommandResponse } from '../contract/command.types';
import type { EchoRequest, EchoResponse } from '../contract/echo.types';
import type { HelloRequest, HelloResponse } from '../contract/hello.types';
import type { NoteEvent } from '../contract/note.types';
import { Events, Patterns, type EventPattern, type RequestPattern } from '../contract/patterns';
import type { EventOf, RequestOf, ResponseOf } from '../contract/wire-contract';
import { CLOSE_GRACE_MS, DEFAULT_CALL_TIMEOUT_MS, type CallOptions, type EchoClientOptions } from './echo-client-options';
import { RpcClientError } from './rpc-client.error';
import { toRpcClientError } from './rpc-error-mapper';
import { framedJsonSocket } from '../transport/framed-json-socket';

/**
 * The typed client of the wire contract. Every call is checked by the compiler
 * against `RequestContract`, carries a timeout, and rejects with `RpcClientError`.
 */
export class EchoClient implements OnApplicationShutdown {
  private readonly defaultTimeoutMs: number;

  constructor(
    private readonly proxy: ClientProxy,
    options: Pick<EchoClientOptions, 'timeoutMs'> = {},
  ) {
    this.defaultTimeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  /**
   * A client over Nest's TCP transport with the project's framed socket. Nest's
   * framing options (`maxBufferSize`, `incompleteMessageTimeout`, `maxSendBufferSize`)
   * set its frame limit, incomplete-frame timeout and send-buffer limit. It connects lazily, or on `connect()`.
   */
  static create(options: EchoClientOptions): EchoClient {
    const { maxBufferSize, incompleteMessageTimeout, maxSendBufferSize, ...transport } = options.transport ?? {};
    const proxy = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: {
        socketClass: framedJsonSocket({
          maxFrameLength: maxBufferSize,
          incompleteFrameTimeoutMs: incompleteMessageTimeout,
          maxSendBufferBytes: maxSendBufferSize,
        }),
        ...transport,
        host: options.host,
        port: options.port,
      },
    });
    return new EchoClient(proxy, options);
  }

  hello(request: HelloRequest = {}, options?: CallOptions): Promise<HelloResponse> {
    return this.send(Patterns.HELLO, request, options);
  }

  echo(request: EchoRequest, options?: CallOptions): Promise<EchoResponse> {
    return this.send(Patterns.ECHO, request, options);
  }

  command(request: CommandRequest, options?: CallOptions): Promise<CommandResponse> {
    return this.send(Patterns.COMMAND, request, options);
  }

  note(event: NoteEvent, options?: CallOptions): Promise<void> {
    return this.emit(Events.NOTE, event, options);
  }

  /** Sends a request and resolves with its single reply. */
  send<P extends RequestPattern>(pattern: P, request: RequestOf<P>, options?: CallOptions): Promise<ResponseOf<P>> {
    if (request === null || request === undefined) {
      return Promise.reject(notSent(pattern));
    }
    return lastValueFrom(this.guard(pattern, this.proxy.send<ResponseOf<P>, RequestOf<P>>(pattern, request), options));
  }

  /** Sends an event; resolves once it is handed to the connection (no reply, no delivery receipt). */
  async emit<E extends EventPattern>(pattern: E, event: EventOf<E>, options?: CallOptions): Promise<void> {
    if (event === null || event === undefined) {
      throw notSent(pattern);
    }
    await lastValueFrom(this.guard(pattern, this.proxy.emit<unknown, EventOf<E>>(pattern, event), options), { defaultValue: undefined });
  }

  /** Opens the connection now instead of on the first call. */
  async connect(options?: CallOptions): Promise<void> {
    await lastValueFrom(this.guard('connect', from(this.proxy.connect()), options), { defaultValue: undefined });
  }

  /**
   * Ends the connection. A peer that never closes its side would keep the
   * half-closed socket, and so the process, alive: it is destroyed after a grace period.
   */
  async close(): Promise<void> {
    const socket = this.currentSocket();
    await this.proxy.close();
    if (socket && !socket.destroyed) {
      const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      socket.once('close', () => clearTimeout(timer));
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  private currentSocket(): Socket | undefined {
    try {
      return this.proxy.unwrap<Socket>();
    } catch {
      return undefined; // never connected
    }
  }

  /** Bounds a call by its timeout and maps every failure to `RpcClientError`. */
  private guard<T>(pattern: string, source: Observable<T>, options: CallOptions | undefined): Observable<T> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    return source.pipe(
      timeout({
        first: timeoutMs,
        with: () =>
          throwError(() => new RpcClientError({ code: 'TIMEOUT', message: `no reply to "${pattern}" within ${timeoutMs} ms`, pattern })),
      }),
      catchError((error: unknown) => throwError(() => toRpcClientError(error, pattern))),
    );
  }
}

/** Nest's transport refuses null payloads; say so in the client's own terms. */
function notSent(pattern: string): RpcClientError {
  return new RpcClientError({ code: 'NOT_SENT', message: `not sent: "${pattern}" needs a payload object, got null or undefined`, pattern });
}
