import { inspect, types } from 'node:util';
import { RpcClientError } from './rpc-client.error';

/** One line for any thrown value: `CODE: message` for client errors, the message for others. */
export function describeError(error: unknown): string {
  if (error instanceof RpcClientError) {
    return `${error.code}: ${error.message}`;
  }
  // `isNativeError` rather than `instanceof Error`: errors may come from another realm (Jest's VM contexts).
  if (types.isNativeError(error)) {
    return error.message;
  }
  if (typeof error === 'string') {
    return error;
  }
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return inspect(error, { depth: 2, breakLength: Infinity });
}
