import type { ClientProxy } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import type { ConnectionPool } from './connection-pool';
import type { CallOptions, WhenDisconnected } from './echo-client-options';
import type { Replica } from './replica';
import type { RpcClientError } from './rpc-client.error';

/** Makes a call's packet on a proxy (`proxy.send` or `proxy.emit`, in the call's trace context). */
export type StartCall<T> = (proxy: ClientProxy) => Observable<T>;

/** What every call of one client shares: made once per client, so that a call allocates only itself. */
export interface CallContext {
  readonly replicas: ConnectionPool;
  /** For calls whose options set none. */
  readonly defaultTimeoutMs: number;
  readonly whenDisconnected: WhenDisconnected;
  /** Maps whatever an attempt failed with to the client's error. */
  readonly toError: (error: unknown, pattern: string) => RpcClientError;
}

/** What an attempt reads of its call (`ClientCall`), and tells it. */
export interface AttemptedCall<T> {
  readonly context: CallContext;
  readonly pattern: string;
  readonly start: StartCall<T>;
  readonly options: CallOptions | undefined;
  readonly emptyIsDone: boolean;
  readonly timeoutMs: number;
  /** The attempt under way sent its packet on `replica`. */
  sent(replica: Replica): void;
}
