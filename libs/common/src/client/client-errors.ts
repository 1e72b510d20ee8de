import { RpcClientError } from './rpc-client.error';

/** What a call, or `connect()`, fails with once the client is closed. */
export function closedError(pattern: string): RpcClientError {
  return new RpcClientError({ code: 'CONNECTION_CLOSED', message: 'the client is closed', pattern });
}

/** What a call fails with when no reply came within its timeout. */
export function timeoutError(pattern: string, timeoutMs: number): RpcClientError {
  return new RpcClientError({ code: 'TIMEOUT', message: `no reply to "${pattern}" within ${timeoutMs} ms`, pattern });
}

/** Nest's transport refuses null payloads; say so in the client's own terms. */
export function notSent(pattern: string): RpcClientError {
  return new RpcClientError({ code: 'NOT_SENT', message: `not sent: "${pattern}" needs a payload object, got null or undefined`, pattern });
}
