import type { ErrorCode, RpcErrorEnvelope } from '../contract/error-envelope';

/** Failures seen only by the client: they never travel in an envelope. */
export const ClientErrorCodes = {
  /** The server has no handler for the pattern (Nest's own reply). */
  UNKNOWN_PATTERN: 'UNKNOWN_PATTERN',
  /** No reply within the call's timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The connection could not be opened. */
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  /** The connection closed while the call was in flight. */
  CONNECTION_CLOSED: 'CONNECTION_CLOSED',
  /** The client refused to send the call (for example a null payload). */
  NOT_SENT: 'NOT_SENT',
  /** The server replied with an error this contract does not describe. */
  REMOTE_ERROR: 'REMOTE_ERROR',
} as const;

export type ClientErrorCode = (typeof ClientErrorCodes)[keyof typeof ClientErrorCodes];
export type RpcClientErrorCode = ErrorCode | ClientErrorCode;

export interface RpcClientErrorInit {
  code: RpcClientErrorCode;
  message: string;
  pattern: string;
  /** Present when the server replied with the contract's error envelope. */
  envelope?: RpcErrorEnvelope;
  cause?: unknown;
}

/** Every failed call of the typed client rejects with this error. */
export class RpcClientError extends Error {
  override readonly name = 'RpcClientError';
  readonly code: RpcClientErrorCode;
  readonly pattern: string;
  readonly envelope?: RpcErrorEnvelope;

  constructor(init: RpcClientErrorInit) {
    super(init.message, { cause: init.cause });
    this.code = init.code;
    this.pattern = init.pattern;
    this.envelope = init.envelope;
  }
}
