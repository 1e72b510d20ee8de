/**
 * The attributes of the spans of a call: the client's span (one per `EchoClient` call) and the
 * server's (one per handled message) carry the same ones, so that both sides read alike.
 * Every value is bounded: a contract pattern (or `other` on the server), a transport name, `ok`
 * or an error code of the contract; no peer address and no text a peer chose.
 */
export const TraceAttributes = {
  /** Always `nestjs`: the RPC system of both sides (OpenTelemetry's `rpc.system`). */
  RPC_SYSTEM: 'rpc.system',
  /** The pattern called: `hello`, `echo`, `command`, `note` (`other` on the server for a pattern outside the contract). */
  PATTERN: 'echo.pattern',
  /** `tcp` or `udp` on the client; `tcp`, `text` or `udp` on the server. */
  TRANSPORT: 'echo.transport',
  /** `ok`, or the error code the call failed with. */
  OUTCOME: 'echo.outcome',
  /** The error code of a failed call (the envelope's, or a client-side one such as `TIMEOUT`); absent when it succeeded. */
  ERROR_CODE: 'echo.error_code',
} as const;

export const RPC_SYSTEM_NAME = 'nestjs';

/** The outcome of a call that succeeded. */
export const OK_OUTCOME = 'ok';
