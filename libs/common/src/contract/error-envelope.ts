/** Codes of the error envelope the server replies with. */
export const ErrorCodes = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  INVALID_COMMAND_ARGS: 'INVALID_COMMAND_ARGS',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
  /** The server is draining before it stops: the request was not handled, so sending it again (elsewhere, or once reconnected) is safe. */
  SHUTTING_DOWN: 'SHUTTING_DOWN',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface FieldViolation {
  /** Path of the offending field, e.g. `text`, `args`, or `(payload)` for the payload as a whole. */
  field: string;
  /** Failed constraint name to human-readable message, as class-validator reports it. */
  constraints: Record<string, string>;
}

export interface ErrorDetailsByCode {
  VALIDATION_FAILED: { violations: FieldViolation[] };
  UNKNOWN_COMMAND: { command: string; knownCommands: string[] };
  INVALID_COMMAND_ARGS: { command: string; usage: string };
  INTERNAL_ERROR: Record<string, never>;
  SHUTTING_DOWN: { retryable: true };
}

/** The one shape every error reply has; `details` depends on `code`. */
export type RpcErrorEnvelope<C extends ErrorCode = ErrorCode> = {
  [K in C]: { code: K; message: string; details: ErrorDetailsByCode[K] };
}[C];

const ERROR_CODE_SET: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

export function isRpcErrorEnvelope(value: unknown): value is RpcErrorEnvelope {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.code === 'string' &&
    ERROR_CODE_SET.has(candidate.code) &&
    typeof candidate.message === 'string' &&
    typeof candidate.details === 'object' &&
    candidate.details !== null
  );
}
