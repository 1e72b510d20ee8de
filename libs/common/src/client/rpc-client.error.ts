import type { ErrorCode, RpcErrorEnvelope } from '../contract/error-envelope';

/** Failures seen only by the client: they never travel in an envelope. */
export const ClientErrorCodes = {
  /** The server has no handler for the pattern (Nest's own reply). */
  UNKNOWN_PATTERN: 'UNKNOWN_PATTERN',
  /** No reply within the call's timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The connection could not be opened. */
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  /** The peer or the network dropped the connection while the call was in flight; the request may or may not have been handled. */
  CONNECTION_LOST: 'CONNECTION_LOST',
  /** The client was closed (`close()`) while the call was in flight or before it was sent. */
  CONNECTION_CLOSED: 'CONNECTION_CLOSED',
  /** The client refused to send the call (for example a null payload). */
  NOT_SENT: 'NOT_SENT',
  /** The server replied with an error this contract does not describe. */
  REMOTE_ERROR: 'REMOTE_ERROR',
} as const;

type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];
export type RpcClientErrorCode = ErrorCode | ClientErrorCode;

/**
 * Transport failures that may not happen again: the call may succeed if repeated once the
 * connection is back. Whether repeating is safe (idempotence) is the caller's decision;
 * the client repeats only idempotent calls, and only when asked to.
 */
export const RETRYABLE_CODES: ReadonlySet<RpcClientErrorCode> = new Set<RpcClientErrorCode>([
  'TIMEOUT',
  'CONNECTION_FAILED',
  'CONNECTION_LOST',
  /** The server was draining and did not run the request: safe to repeat, even if not idempotent. */
  'SHUTTING_DOWN',
]);

export interface RpcClientErrorInit {
  code: RpcClientErrorCode;
  message: string;
  pattern: string;
  /** Present when the server replied with the contract's error envelope. */
  envelope?: RpcErrorEnvelope;
  cause?: unknown;
  /** Defaults to whether `code` is one of `RETRYABLE_CODES`. */
  retryable?: boolean;
}

/** Every failed call of the typed client rejects with this error. */
export class RpcClientError extends Error {
  override readonly name = 'RpcClientError';
  readonly code: RpcClientErrorCode;
  readonly pattern: string;
  readonly envelope?: RpcErrorEnvelope;
  /** A transient transport failure: the same call may succeed later (see `RETRYABLE_CODES`). */
  readonly retryable: boolean;

  constructor(init: RpcClientErrorInit) {
    super(init.message, { cause: init.cause });
    this.code = init.code;
    this.pattern = init.pattern;
    this.envelope = init.envelope;
    this.retryable = init.retryable ?? RETRYABLE_CODES.has(init.code);
  }
}
