import type { OnApplicationShutdown, Type } from '@nestjs/common';
import { ClientProxyFactory, type ClientProxy } from '@nestjs/microservices';
import { context, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { isIP } from 'node:net';
import { Observable } from 'rxjs';
import type { CommandRequest, CommandResponse } from '../contract/command.types';
import type { EchoRequest, EchoResponse } from '../contract/echo.types';
import type { HelloRequest, HelloResponse } from '../contract/hello.types';
import type { NoteEvent } from '../contract/note.types';
import { Events, Patterns, type EventPattern, type RequestPattern } from '../contract/patterns';
import type { EventOf, RequestOf, ResponseOf } from '../contract/wire-contract';
import { withRetry } from './call-retry';
import { timeoutError } from './call-attempt';
import { ClientCall, type CallContext, type StartCall } from './client-call';
import { ConnectionKeeper, type ConnectFailure } from './connection-keeper';
import { EchoClientTcp, type EchoClientTcpOptions } from './echo-client-tcp';
import { EchoClientUdp } from './echo-client-udp';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  DEFAULT_DEAD_AFTER_TIMEOUTS,
  DEFAULT_KEEP_ALIVE_MS,
  DEFAULT_RECONNECT,
  DEFAULT_RESOLVE_INTERVAL_MS,
  DEFAULT_RETRY,
  isIdempotentRequest,
  type CallListener,
  type CallOptions,
  type EchoClientOptions,
  type RequestOptions,
  type RetryOptions,
} from './echo-client-options';
import { lookupAllAddresses, ReplicaSet, type EchoClientConnectionInfo, type ReplicaDiscovery } from './replica-set';
import { CLOSE_GRACE_MS } from '../transport/destroy-unless-closed';
import { RpcClientError } from './rpc-client.error';
import { toRpcClientError } from './rpc-error-mapper';
import { framedJsonSocket } from '../transport/framed-json-socket';
import { OK_OUTCOME, RPC_SYSTEM_NAME, TraceAttributes } from '../operations/tracing/trace-attributes';
import { injectTraceContext } from '../operations/tracing/trace-metadata';
import { activeTracer } from '../operations/tracing/tracing-state';

export type EchoClientSettings = Partial<
  Pick<
    EchoClientOptions,
    | 'host'
    | 'port'
    | 'timeoutMs'
    | 'reconnect'
    | 'whenDisconnected'
    | 'retry'
    | 'deadAfterTimeouts'
    | 'resolveIntervalMs'
    | 'resolver'
    | 'onCall'
  >
>;

/**
 * The typed client of the wire contract. Every call is checked by the compiler
 * against `RequestContract`, carries a timeout, and rejects with `RpcClientError`.
 * It reconnects by itself (see `ConnectionKeeper`), and may repeat idempotent calls.
 * Given a name that resolves to several addresses (replicas), it keeps a connection to
 * each and spreads its calls over them (see `ReplicaSet`); a repeat goes to another replica.
 *
 * With tracing started (`startTracing`), every call is a client span (a producer span for an
 * event) whose W3C trace context travels to the server in the packet's `metadata`, added by
 * the dispatch hook of the proxies `create` makes; `onCall` is told of every call's outcome and
 * duration. With neither, a call takes exactly the path it takes without them.
 */
export class EchoClient implements OnApplicationShutdown {
  private readonly onCall?: CallListener;
  /** The `echo.transport` of its spans. */
  private readonly transport: 'tcp' | 'udp';
  private readonly retryPolicy?: Required<RetryOptions>;
  private readonly replicas: ReplicaSet;
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
    const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.onCall = options.onCall;
    this.transport = proxy instanceof EchoClientUdp ? 'udp' : 'tcp';
    this.retryPolicy = options.retry ? { ...DEFAULT_RETRY, ...(options.retry === true ? {} : options.retry) } : undefined;
    const policy = { ...DEFAULT_RECONNECT, ...options.reconnect };
    const deadAfterTimeouts = options.deadAfterTimeouts ?? DEFAULT_DEAD_AFTER_TIMEOUTS;
    if (isDiscovery(proxy)) {
      if (options.host === undefined || options.port === undefined) {
        throw new TypeError('EchoClient: a client of replicas needs options.host (the name to resolve) and options.port');
      }
      this.replicas = ReplicaSet.resolved(proxy, {
        host: options.host,
        port: options.port,
        policy,
        random,
        deadAfterTimeouts,
        resolveIntervalMs: Math.max(0, options.resolveIntervalMs ?? DEFAULT_RESOLVE_INTERVAL_MS),
        resolver: options.resolver ?? lookupAllAddresses,
        retireAfterMs: defaultTimeoutMs + CLOSE_GRACE_MS,
      });
    } else {
      const target = options.host === undefined ? 'the server' : `${options.host}:${options.port}`;
      const keeper = new ConnectionKeeper(
        proxy,
        policy,
        target,
        random,
        // Over UDP there is no connection to find dead, nor a TCP socket whose bytes read would tell.
        proxy instanceof EchoClientUdp ? 0 : deadAfterTimeouts,
      );
      this.replicas = ReplicaSet.fixed(proxy, keeper, options.host ?? 'the server');
    }
    this.calls = {
      replicas: this.replicas,
      defaultTimeoutMs,
      whenDisconnected: options.whenDisconnected ?? 'wait',
      toError: this.toError,
    };
  }

  /** Over UDP, the largest request datagram this client sends (a larger request fails with `NOT_SENT`); undefined over TCP. */
  get maxDatagramBytes(): number | undefined {
    const proxy = this.replicas.fixedProxy;
    return proxy instanceof EchoClientUdp ? proxy.maxDatagramBytes : undefined;
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
    if (options.protocol === 'udp') {
      return new EchoClient(udpProxy(options), options);
    }
    if (isIP(options.host) !== 0) {
      return new EchoClient(tcpProxy(options), options);
    }
    return new EchoClient({ createProxy: (address) => tcpProxy(replicaOptions(options, address)) }, options);
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
    return this.observed(pattern, SpanKind.CLIENT, tracer, (traceContext) => this.sendNow(pattern, request, options, traceContext));
  }

  /** Sends an event, never repeated; resolves once it is handed to the connection (no reply, no delivery receipt). */
  emit<E extends EventPattern>(pattern: E, event: EventOf<E>, options?: CallOptions): Promise<void> {
    const tracer = activeTracer();
    if (tracer === undefined && this.onCall === undefined) {
      return this.emitNow(pattern, event, options);
    }
    return this.observed(pattern, SpanKind.PRODUCER, tracer, (traceContext) => this.emitNow(pattern, event, options, traceContext));
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

  /**
   * A call with tracing on or a call listener: its span (a child of the caller's active span,
   * if any), and once it has ended the span's outcome and the listener's report.
   */
  private observed<T>(
    pattern: string,
    kind: SpanKind,
    tracer: Tracer | undefined,
    run: (traceContext?: Context) => Promise<T>,
  ): Promise<T> {
    const startedAt = performance.now();
    let span: Span | undefined;
    let result: Promise<T>;
    if (tracer === undefined) {
      result = run();
    } else {
      span = tracer.startSpan(pattern, {
        kind,
        attributes: {
          [TraceAttributes.RPC_SYSTEM]: RPC_SYSTEM_NAME,
          [TraceAttributes.PATTERN]: pattern,
          [TraceAttributes.TRANSPORT]: this.transport,
        },
      });
      result = run(trace.setSpan(context.active(), span));
    }
    return result.then(
      (value) => {
        this.ended(pattern, startedAt, span);
        return value;
      },
      (error: unknown) => {
        this.ended(pattern, startedAt, span, error instanceof RpcClientError ? error.code : UNEXPECTED_FAILURE);
        throw error;
      },
    );
  }

  private ended(pattern: string, startedAt: number, span: Span | undefined, failure?: string): void {
    const outcome = failure ?? OK_OUTCOME;
    if (span !== undefined) {
      span.setAttribute(TraceAttributes.OUTCOME, outcome);
      if (failure !== undefined) {
        span.setAttribute(TraceAttributes.ERROR_CODE, failure);
        span.setStatus({ code: SpanStatusCode.ERROR, message: failure });
      }
      span.end();
    }
    if (this.onCall !== undefined) {
      try {
        this.onCall(pattern, outcome, (performance.now() - startedAt) / 1000);
      } catch {
        // A listener that throws must not turn a reply into a failure.
      }
    }
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

function tcpProxy(options: EchoClientOptions): ClientProxy {
  const { maxBufferSize, incompleteMessageTimeout, maxSendBufferSize, ...transport } = options.transport ?? {};
  const proxy = ClientProxyFactory.create({
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
  return propagatingTraceContext(proxy);
}

/**
 * The options of one replica's proxy: its address instead of the name. Over TLS the server's
 * certificate is still checked against the name (sent as SNI), unless a name was set already.
 */
function replicaOptions(options: EchoClientOptions, address: string): EchoClientOptions {
  const tlsOptions = options.transport?.tlsOptions;
  if (tlsOptions === undefined || tlsOptions.servername !== undefined || tlsOptions.checkServerIdentity !== undefined) {
    return { ...options, host: address };
  }
  return { ...options, host: address, transport: { ...options.transport, tlsOptions: { ...tlsOptions, servername: options.host } } };
}

function isDiscovery(proxy: ClientProxy | ReplicaDiscovery): proxy is ReplicaDiscovery {
  return typeof (proxy as Partial<ReplicaDiscovery>).createProxy === 'function';
}

function udpProxy(options: EchoClientOptions): ClientProxy {
  // Falling back to plain text would be worse than no client.
  if (options.transport?.tlsOptions !== undefined) {
    throw new Error('TLS needs protocol "tcp": the UDP transport has no TLS');
  }
  return propagatingTraceContext(new EchoClientUdp({ ...options.udp, host: options.host, port: options.port }));
}

/**
 * With tracing on, each packet of `proxy` carries the trace context of its call (its `metadata`);
 * off, the hook returns at once. A stand-in without Nest's dispatch hook (a test's) is left as it is.
 */
function propagatingTraceContext<T extends ClientProxy>(proxy: T): T {
  if (typeof (proxy as Partial<ClientProxy>).setOnDispatchHook === 'function') {
    proxy.setOnDispatchHook(injectTraceContext);
  }
  return proxy;
}

/** The `echo.outcome` of a call that failed with something other than an `RpcClientError` (never expected). */
const UNEXPECTED_FAILURE = 'UNEXPECTED';

/**
 * `source()`, created and subscribed to in `traceContext`: the packet it makes on subscription
 * (synchronously on an open connection, after the connect otherwise: the context follows the
 * `await`) carries that context, wherever the subscription comes from.
 */
function subscribedIn<T>(traceContext: Context, source: () => Observable<T>): Observable<T> {
  return new Observable<T>((subscriber) => context.with(traceContext, () => source().subscribe(subscriber)));
}

/** Nest's transport refuses null payloads; say so in the client's own terms. */
function notSent(pattern: string): RpcClientError {
  return new RpcClientError({ code: 'NOT_SENT', message: `not sent: "${pattern}" needs a payload object, got null or undefined`, pattern });
}
