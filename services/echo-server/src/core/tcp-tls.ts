import type { TlsOptions } from 'node:tls';

/** The TCP door's TLS options, provided by the TLS module (doors/tls) when TLS_* is set; null without TLS. */
export const TCP_TLS_OPTIONS = Symbol('TCP_TLS_OPTIONS');

export type TcpTlsOptions = TlsOptions | null;
