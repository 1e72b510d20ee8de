import type { TcpClientOptions } from '@nestjs/microservices';
import { Patterns } from '../contract/patterns';

/** What a call does while the client has no connection (after a drop, or while the server is down). */
export type WhenDisconnected = 'wait' | 'fail-fast';

/** Capped exponential backoff with "equal jitter": each wait is between half of the step and all of it. */
export interface BackoffOptions {
  /** Wait before the first retry, in milliseconds. */
  initialDelayMs?: number;
  /** No wait is longer than this, in milliseconds. */
  maxDelayMs?: number;
  /** Each further wait is this many times the previous step. */
  factor?: number;
}

export interface ReconnectOptions extends BackoffOptions {
  /** Reconnect in the background once the connection drops or a connect fails, until `close()`. Default true. */
  enabled?: boolean;
  /**
   * A connection proves healthy by carrying a reply or by lasting this long, in milliseconds; one
   * dropped before either counts as a failed attempt for the backoff, so that a peer which accepts
   * and closes at once (a port proxy while its container restarts) is not hammered. Default 1000.
   */
  healthyAfterMs?: number;
}

export interface RetryOptions extends BackoffOptions {
  /** Attempts of one call in all, the first included; 1 means no retry. Default 3 when retry is on. */
  attempts?: number;
}

/** The transport of `EchoClient`: Nest's TCP (framed), or JSON datagrams over UDP (see `EchoClientUdp`). */
export type EchoClientProtocol = 'tcp' | 'udp';

export interface UdpOptions {
  /** Largest request datagram sent, in bytes; a larger request fails with `NOT_SENT`. Default 16384, the server's default limit. */
  maxDatagramBytes?: number;
  /** An idempotent request without a reply is sent again after this long, in milliseconds, doubling up to 1000. Default 200. */
  retransmitAfterMs?: number;
}

/**
 * Resolves a host name to every address it stands for, as `dns.promises.lookup(host, { all: true })`
 * does (the default): one per replica for a scaled compose service, Swarm's `tasks.<service>` or
 * `endpoint_mode: dnsrr`, a Kubernetes headless Service. Injectable for tests.
 */
export type HostResolver = (host: string) => Promise<readonly string[]>;

/**
 * Told of every call of an `EchoClient` once it has ended: its pattern, its outcome (`ok`, or
 * the `RpcClientError` code it failed with) and how long it took, in seconds, from the call to
 * its end (waits for a connection and repeats included). It runs on every call: keep it to a
 * few synchronous steps (a counter, a histogram observation); it must not throw.
 */
export type CallListener = (pattern: string, outcome: string, seconds: number) => void;

export interface EchoClientOptions {
  /**
   * The server: an IP address, or a name. Over TCP a name is resolved to every address it has,
   * and the client keeps a connection to each and spreads its calls over them (see `BalancedPool`);
   * an IP address, or UDP, is one server as given.
   */
  host: string;
  /** The server's TCP port, or its UDP port with `protocol: 'udp'`. */
  port: number;
  /** Default `'tcp'`. */
  protocol?: EchoClientProtocol;
  /** Options of the UDP transport, used with `protocol: 'udp'`. */
  udp?: UdpOptions;
  /** Default timeout of every call, in milliseconds. */
  timeoutMs?: number;
  /** Extra options of Nest's TCP transport: TLS, and the framing limits passed to the framed socket. TCP only. */
  transport?: Omit<NonNullable<TcpClientOptions['options']>, 'host' | 'port'>;
  /** Background reconnect; on by default. */
  reconnect?: ReconnectOptions;
  /** Default `'wait'`: a call waits for the connection within its own timeout; `'fail-fast'` rejects it at once. */
  whenDisconnected?: WhenDisconnected;
  /**
   * Repeats idempotent calls (`hello`, `echo`, pure commands) that failed with a retryable
   * transport error, within the call's own timeout. Off by default; `true` takes the defaults.
   */
  retry?: boolean | RetryOptions;
  /**
   * After this many calls in a row time out on one connection with nothing at all received on it
   * in between, the connection is considered dead (a path gone without FIN or RST) and destroyed,
   * so that the reconnect takes over and the calls in flight fail with `CONNECTION_LOST`.
   * Default 3; 0 turns it off. TCP only.
   */
  deadAfterTimeouts?: number;
  /**
   * TCP keepalive idle delay of the client's socket, in milliseconds: the kernel probes a connection
   * idle this long and closes it when the peer is gone, which calls alone cannot notice while no call
   * is made. Default 15000; 0 turns it off. TCP only.
   */
  keepAliveMs?: number;
  /**
   * When `host` is a name (TCP only): how often it is resolved again, in milliseconds, so that new
   * replicas get calls and vanished ones are dropped. It is also resolved again soon after a
   * connection fails. Default 5000; 0 resolves again only after failures.
   */
  resolveIntervalMs?: number;
  /** Resolves `host` when it is a name; default `dns.promises.lookup(host, { all: true })`. */
  resolver?: HostResolver;
  /** Told of every call once it has ended (for metrics); none by default, and then no call is timed. */
  onCall?: CallListener;
}

/** What `new EchoClient(proxy, settings)` reads of `EchoClientOptions` (the rest is for `EchoClient.create`, which makes the proxy). */
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

export interface CallOptions {
  /** Overrides the client's default timeout for this call. */
  timeoutMs?: number;
  /** Overrides the client's `whenDisconnected` for this call. */
  whenDisconnected?: WhenDisconnected;
  /**
   * Sends the call to this replica only (an `address` of `connectionInfo().replicas`), and repeats
   * it there, if at all: for what must reach every replica, such as a `hello` to each. Without it,
   * the client picks the replica.
   */
  replica?: string;
}

export interface RequestOptions extends CallOptions {
  /**
   * Overrides the client's retry for this call. `true` also asserts that the call is
   * idempotent, so it is repeated even when the client does not know it to be.
   */
  retry?: boolean;
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = {
  enabled: true,
  initialDelayMs: 100,
  maxDelayMs: 5_000,
  factor: 2,
  healthyAfterMs: 1_000,
};

export const DEFAULT_DEAD_AFTER_TIMEOUTS = 3;

export const DEFAULT_KEEP_ALIVE_MS = 15_000;

export const DEFAULT_RESOLVE_INTERVAL_MS = 5_000;

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 3, initialDelayMs: 50, maxDelayMs: 1_000, factor: 2 };

/**
 * Commands without side effects, which the client may repeat. `sleep` is left out: it exists
 * to take time, and a repeat would spend a second wait of the caller's timeout.
 */
const IDEMPOTENT_COMMANDS: ReadonlySet<string> = new Set(['upper', 'lower', 'reverse', 'time', 'uptime', 'stats', 'help']);

/** Whether repeating this request is safe: `hello`, `echo` and the commands of `IDEMPOTENT_COMMANDS` change nothing on the server. */
export function isIdempotentRequest(pattern: string, request: unknown): boolean {
  if (pattern === Patterns.HELLO || pattern === Patterns.ECHO) {
    return true;
  }
  if (pattern !== Patterns.COMMAND || typeof request !== 'object' || request === null) {
    return false;
  }
  const { name } = request as { name?: unknown };
  return typeof name === 'string' && IDEMPOTENT_COMMANDS.has(name);
}
