import type { TcpClientOptions } from '@nestjs/microservices';

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
}

export interface RetryOptions extends BackoffOptions {
  /** Attempts of one call in all, the first included; 1 means no retry. Default 3 when retry is on. */
  attempts?: number;
}

export interface EchoClientOptions {
  host: string;
  port: number;
  /** Default timeout of every call, in milliseconds. */
  timeoutMs?: number;
  /** Extra options of Nest's TCP transport: TLS, and the framing limits passed to the framed socket. */
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
}

export interface CallOptions {
  /** Overrides the client's default timeout for this call. */
  timeoutMs?: number;
  /** Overrides the client's `whenDisconnected` for this call. */
  whenDisconnected?: WhenDisconnected;
}

export interface RequestOptions extends CallOptions {
  /**
   * Overrides the client's retry for this call. `true` also asserts that the call is
   * idempotent, so it is repeated even when the client does not know it to be.
   */
  retry?: boolean;
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** How long `close()` waits for the peer to close its side before destroying the socket. */
export const CLOSE_GRACE_MS = 1_000;

export const DEFAULT_RECONNECT: Required<ReconnectOptions> = { enabled: true, initialDelayMs: 100, maxDelayMs: 5_000, factor: 2 };

export const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 3, initialDelayMs: 50, maxDelayMs: 1_000, factor: 2 };

/**
 * Commands without side effects, which the client may repeat. `sleep` is left out: it exists
 * to take time, and a repeat would spend a second wait of the caller's timeout.
 */
export const IDEMPOTENT_COMMANDS: ReadonlySet<string> = new Set(['upper', 'lower', 'reverse', 'time', 'uptime', 'stats', 'help']);
