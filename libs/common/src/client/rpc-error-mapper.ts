import { types } from 'node:util';
import { isRpcErrorEnvelope } from '../contract/error-envelope';
import { describeError } from './describe-error';
import { RpcClientError } from './rpc-client.error';

/** Nest's reply when no handler matches the pattern (ServerTCP's NO_MESSAGE_HANDLER). */
const NO_MESSAGE_HANDLER_PREFIX = 'There is no matching message handler';
const CONNECTION_FAILURE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE']);

/** Turns whatever a Nest `ClientProxy` call failed with into an `RpcClientError`. */
export function toRpcClientError(error: unknown, pattern: string): RpcClientError {
  if (error instanceof RpcClientError) {
    return error;
  }
  if (isRpcErrorEnvelope(error)) {
    return new RpcClientError({ code: error.code, message: error.message, pattern, envelope: error });
  }
  if (typeof error === 'string' && error.startsWith(NO_MESSAGE_HANDLER_PREFIX)) {
    return new RpcClientError({ code: 'UNKNOWN_PATTERN', message: `${error} (pattern "${pattern}")`, pattern, cause: error });
  }
  // `isNativeError` rather than `instanceof Error`: socket errors may come from another realm (Jest's VM contexts).
  if (types.isNativeError(error)) {
    const systemCode = (error as NodeJS.ErrnoException).code;
    if (systemCode !== undefined && CONNECTION_FAILURE_CODES.has(systemCode)) {
      return new RpcClientError({ code: 'CONNECTION_FAILED', message: error.message, pattern, cause: error });
    }
    // ClientTCP fails the calls in flight with this when their socket closes.
    if (error.message === 'Connection closed') {
      return new RpcClientError({
        code: 'CONNECTION_LOST',
        message: 'connection lost while the call was in flight',
        pattern,
        cause: error,
      });
    }
  }
  return new RpcClientError({ code: 'REMOTE_ERROR', message: describeError(error), pattern, cause: error });
}
