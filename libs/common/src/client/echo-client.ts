import type { OnApplicationShutdown } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { context, SpanKind, type Context } from '@opentelemetry/api';
import { isIP } from 'node:net';
import { Observable } from 'rxjs';
import type { CommandRequest, CommandResponse } from '../contract/command.types';
import type { EchoRequest, EchoResponse } from '../contract/echo.types';
import type { HelloRequest } from '../contract/hello.types';
import type { NoteEvent } from '../contract/note.types';
import { Events, Patterns, type EventPattern, type RequestPattern } from '../contract/patterns';
import type { EventOf, HelloResponse, RequestOf, ResponseOf } from '../contract/wire-contract';
import { activeTracer } from '../transport/trace-context/tracing-state';
import { withRetry } from './call-retry';
import type { CallContext, StartCall } from './call-context';
import { CallTelemetry } from './call-telemetry';
import { notSent, timeoutError } from './client-errors';
import './client-features'; // registers the optional folders (balancing/, udp/)
import { ClientCall } from './client-call';
import type { ConnectFailure, EchoClientConnectionInfo } from './connection-info';
import type { ConnectionPool, ReplicaDiscovery } from './connection-pool';
import { createConnectionPool, isDiscovery } from './create-connection-pool';
import { isDatagramProxy } from './datagram-proxy';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_RETRY,
  isIdempotentRequest,
  type CallListener,
  type CallOptions,
  type EchoClientOptions,
  type EchoClientSettings,
  type RequestOptions,
  type RetryOptions,
} from './echo-client-options';
import { registeredBalancing, transportFactory } from './feature-registry';
import { RpcClientError } from './rpc-client.error';
import { toRpcClientError } from './rpc-error-mapper';
import { tcpProxy } from './tcp-proxy';

/**
 * The typed client of the wire contract: every call is checked by the compiler against
 * `RequestContract`, carries a timeout, and rejects with `RpcClientError`. It reconnects by itself
 * (`ConnectionKeeper`) and may repeat idempotent calls; given a name with several addresses
 * (replicas), it keeps a connection to each and spreads its calls over them, a repeat going to
 * another replica. With tracing started every call is a span whose context travels to the server;
 * `onCall` is told of every call's outcome and duration. Why and how: docs/client.md.
 */
export class EchoClient implements OnApplicationShutdown {
  private readonly onCall?: CallListener;
  private readonly telemetry: CallTelemetry;
  private readonly retryPolicy?: Required<RetryOptions>;
  private readonly replicas: ConnectionPool;
  /** What every call shares: the replicas, the defaults, the error mapping. */
  private readonly calls: CallContext;
  private closing = false;

  /**
   * @param proxy the one connection of the client; or, for a `host` name (with `options.host` and
   *   `options.port`), how to make the proxy of each address the name resolves to.
   */
  constructor(
    proxy: ClientProxy | ReplicaDiscovery,
    options: EchoClientSettings = {},
    private readonly random: () => number = Math.random,
  ) {
    this.onCall = options.onCall;
    this.telemetry = new CallTelemetry(options.onCall, !isDiscovery(proxy) && isDatagramProxy(proxy) ? 'udp' : 'tcp');
    this.retryPolicy = options.retry ? { ...DEFAULT_RETRY, ...(options.retry === true ? {} : options.retry) } : undefined;
    this.replicas = createConnectionPool(proxy, options, random);
    this.calls = {
      replicas: this.replicas,
      defaultTimeoutMs: options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
      whenDisconnected: options.whenDisconnected ?? 'wait',
      toError: this.toError,
    };
  }

  /** Over UDP, the largest request datagram this client sends (a larger request fails with `NOT_SENT`); undefined over TCP. */
  get maxDatagramBytes(): number | undefined {
    const proxy = this.replicas.fixedProxy;
    return proxy !== undefined && isDatagramProxy(proxy) ? proxy.maxDatagramBytes : undefined;
  }

  /**
   * Every failed connect attempt (of each replica's connection; for a name, every failed resolution
   * too), with when the next attempt starts: what a process waiting for its server reports meanwhile.
   */
  get connectFailures(): Observable<ConnectFailure> {
    return this.replicas.failures;
  }

  /**
   * The connections' state and counters: attempts, connects, drops, timeouts in a row, connections
   * found dead; and `replicas`, each replica with its own and the calls it carried (one for an IP
   * address; one per address of a name). See `EchoClientConnectionInfo`.
   */
  connectionInfo(): EchoClientConnectionInfo {
    return this.replicas.info();
  }

  /**
   * A client over `options.protocol`: by default Nest's TCP transport with the project's framed
   * socket, whose framing options (`maxBufferSize`, `incompleteMessageTimeout`, `maxSendBufferSize`)
   * set its frame limit, incomplete-frame timeout and send-buffer limit; or JSON datagrams over UDP
   * (`EchoClientUdp`), which has no TLS. It connects lazily, or on `connect()`.
   *
   * Over TCP, a `host` that is a name is resolved to all its addresses (`resolver`, every
   * `resolveIntervalMs`), with one connection per address and the calls spread over them; an IP
   * address is one connection, as given. UDP stays one address (the datagram socket resolves the name).
   */
  static create(options: EchoClientOptions): EchoClient {
    if (options.protocol !== undefined && options.protocol !== 'tcp') {
      return new EchoClient(transportFactory(options.protocol)(options), options);
    }
    const balancing = registeredBalancing();
    if (isIP(options.host) !== 0 || balancing === undefined) {
      return new EchoClient(tcpProxy(options), options);
    }
    return new EchoClient(balancing.discovery(options, tcpProxy), options);
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
    const tracer = activeTracer();
    if (tracer === undefined && this.onCall === undefined) {
      return this.sendNow(pattern, request, options);
    }
    return this.telemetry.observed(pattern, SpanKind.CLIENT, tracer, (traceContext) =>
      this.sendNow(pattern, request, options, traceContext),
    );
  }

  /** Sends an event, never repeated; resolves once it is handed to the connection (no reply, no delivery receipt). */
  emit<E extends EventPattern>(pattern: E, event: EventOf<E>, options?: CallOptions): Promise<void> {
    const tracer = activeTracer();
    if (tracer === undefined && this.onCall === undefined) {
      return this.emitNow(pattern, event, options);
    }
    return this.telemetry.observed(pattern, SpanKind.PRODUCER, tracer, (traceContext) =>
      this.emitNow(pattern, event, options, traceContext),
    );
  }

  /**
   * Opens the connection now instead of on the first call (for a name: resolves it, and resolves
   * once the first of its replicas' connections is open, the others opening meanwhile); rejects
   * with `CONNECTION_FAILED` if this attempt fails.
   */
  async connect(options?: CallOptions): Promise<void> {
    const timeoutMs = options?.timeoutMs ?? this.calls.defaultTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError('connect', timeoutMs)), timeoutMs);
    });
    try {
      await Promise.race([this.replicas.connect(), expired]);
    } catch (error: unknown) {
      throw this.toError(error, 'connect');
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Ends the connections, the reconnecting and the resolving; calls still waiting fail with
   * `CONNECTION_CLOSED`. A peer that never closes its side would keep the half-closed socket,
   * and so the process, alive: it is destroyed after a grace period.
   */
  async close(): Promise<void> {
    this.closing = true;
    await this.replicas.close();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /**
   * `send`, given the trace context its packets are to carry (with tracing on): each attempt's
   * packet is made in it, whichever context the attempt starts from (a wait for a connection
   * ends in the context of the event that ended it).
   */
  private sendNow<P extends RequestPattern>(
    pattern: P,
    request: RequestOf<P>,
    options: RequestOptions | undefined,
    traceContext?: Context,
  ): Promise<ResponseOf<P>> {
    if (request === null || request === undefined) {
      return Promise.reject(notSent(pattern));
    }
    const start =
      traceContext === undefined
        ? (proxy: ClientProxy) => proxy.send<ResponseOf<P>, RequestOf<P>>(pattern, request)
        : (proxy: ClientProxy) => subscribedIn(traceContext, () => proxy.send<ResponseOf<P>, RequestOf<P>>(pattern, request));
    return this.call(pattern, start, options, false, this.retryFor(pattern, request, options));
  }

  /** `emit`, given the trace context its packet is to carry (with tracing on). */
  private emitNow<E extends EventPattern>(
    pattern: E,
    event: EventOf<E>,
    options: CallOptions | undefined,
    traceContext?: Context,
  ): Promise<void> {
    if (event === null || event === undefined) {
      return Promise.reject(notSent(pattern));
    }
    const start =
      traceContext === undefined
        ? (proxy: ClientProxy) => proxy.emit<void, EventOf<E>>(pattern, event)
        : (proxy: ClientProxy) => subscribedIn(traceContext, () => proxy.emit<void, EventOf<E>>(pattern, event));
    return this.call(pattern, start, options, true);
  }

  /**
   * The one path of every call: its attempts (see `ClientCall`), repeated per `retryPolicy` when
   * it has one (see `withRetry`); the call's timeout bounds the whole, waits and repeats included.
   */
  private call<T>(
    pattern: string,
    start: StartCall<T>,
    options: CallOptions | undefined,
    emptyIsDone: boolean,
    retryPolicy?: Required<RetryOptions>,
  ): Promise<T> {
    const call = new ClientCall<T>(this.calls, pattern, start, options, emptyIsDone);
    if (retryPolicy === undefined) {
      return call.attempt();
    }
    return withRetry(call, retryPolicy, {
      random: this.random,
      canRepeatAtOnce: (failedOn) => !call.pinned && this.replicas.resolvesName && this.replicas.hasAlternative(failedOn),
    });
  }

  /** The transport cannot tell a dropped connection from one the client closed itself; the client can. */
  private readonly toError = (error: unknown, pattern: string): RpcClientError => {
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
  };

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

/**
 * `source()`, created and subscribed to in `traceContext`: the packet it makes on subscription
 * (synchronously on an open connection, after the connect otherwise: the context follows the
 * `await`) carries that context, wherever the subscription comes from.
 */
function subscribedIn<T>(traceContext: Context, source: () => Observable<T>): Observable<T> {
  return new Observable<T>((subscriber) => context.with(traceContext, () => source().subscribe(subscriber)));
}
