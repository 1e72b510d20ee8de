import { isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions, type SecureVersion, type TlsOptions } from 'node:tls';
import type { TlsMaterial } from './tls-files';

/** The oldest protocol either side accepts; TLS 1.0 and 1.1 are deprecated (RFC 8996). */
const TLS_MIN_VERSION: SecureVersion = 'TLSv1.2';

/** A connection whose handshake is not done within this is closed (Node's default is 120 s). */
export const TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

export interface ServerTlsSettings {
  /** Mutual TLS: refuse clients without a certificate signed by `ca`. Needs `material.ca`. */
  requireClientCert: boolean;
  handshakeTimeoutMs?: number;
}

/** `tlsOptions` of Nest's TCP server transport (`tls.createServer`). */
export function serverTlsOptions(
  material: TlsMaterial,
  { requireClientCert, handshakeTimeoutMs = TLS_HANDSHAKE_TIMEOUT_MS }: ServerTlsSettings,
): TlsOptions {
  if (material.cert === undefined || material.key === undefined) {
    throw new TypeError('a TLS server needs a certificate and its key');
  }
  if (requireClientCert && material.ca === undefined) {
    throw new TypeError('requiring client certificates needs the CA that signs them');
  }
  return {
    cert: material.cert,
    key: material.key,
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    // Node then refuses the handshake itself: an unverified client never reaches a handler.
    requestCert: requireClientCert,
    rejectUnauthorized: requireClientCert,
    minVersion: TLS_MIN_VERSION,
    handshakeTimeout: handshakeTimeoutMs,
  };
}

export interface ClientTlsSettings {
  /**
   * The name the server's certificate must carry; defaults to the host connected to.
   * A DNS name is also sent as SNI; an IP address is only checked (SNI takes no addresses).
   */
  serverName?: string;
  /** Verify the server's chain, but not that its certificate names the host (a local probe of its own process). */
  skipServerIdentity?: boolean;
}

/** `tlsOptions` of Nest's TCP client transport (`tls.connect`): the server is always verified against `material.ca`. */
export function clientTlsOptions(
  material: TlsMaterial,
  { serverName, skipServerIdentity = false }: ClientTlsSettings = {},
): ConnectionOptions {
  const options: ConnectionOptions = {
    ...(material.ca === undefined ? {} : { ca: material.ca }),
    ...(material.cert === undefined ? {} : { cert: material.cert }),
    ...(material.key === undefined ? {} : { key: material.key }),
    rejectUnauthorized: true,
    minVersion: TLS_MIN_VERSION,
  };
  if (skipServerIdentity) {
    options.checkServerIdentity = () => undefined;
  } else if (serverName !== undefined && isIP(serverName) !== 0) {
    options.checkServerIdentity = (_host, certificate) => checkServerIdentity(serverName, certificate);
  } else if (serverName !== undefined) {
    options.servername = serverName;
  }
  return options;
}
