import type { TcpClientOptions } from '@nestjs/microservices';

export interface EchoClientOptions {
  host: string;
  port: number;
  /** Default timeout of every call, in milliseconds. */
  timeoutMs?: number;
  /** Extra options of Nest's TCP transport: TLS, and the framing limits passed to the framed socket. */
  transport?: Omit<NonNullable<TcpClientOptions['options']>, 'host' | 'port'>;
}

export interface CallOptions {
  /** Overrides the client's default timeout for this call. */
  timeoutMs?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 5_000;

/** How long `close()` waits for the peer to close its side before destroying the socket. */
export const CLOSE_GRACE_MS = 1_000;
