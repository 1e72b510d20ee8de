import type { ConnectionOptions } from 'node:tls';
import { clientTlsOptions, describeError, EchoClient, readTlsFiles, tlsFilePathsOf, REQUEST_PATTERNS } from '@echo-pair/common';
import { HEALTHCHECK_CLIENT } from '../../core/server-identity';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';

/** The client name the healthcheck says hello with; the server logs its hellos at debug level only. */

export interface HealthProbeTarget {
  host: string;
  port: number;
  /** Bound on the whole probe: connect, `hello`, reply. */
  timeoutMs: number;
  /** Set when the server speaks TLS: see `probeTlsOptionsFor`. */
  tls?: ConnectionOptions;
}

export type HealthProbeResult = { healthy: true; detail: string } | { healthy: false; detail: string };

/** Where a local probe should connect for a server listening on `listenHost`. */
export function probeHostFor(listenHost: string): string {
  if (listenHost === '0.0.0.0' || listenHost === '') {
    return '127.0.0.1';
  }
  if (listenHost === '::' || listenHost === '[::]') {
    return '::1';
  }
  return listenHost;
}

/**
 * How the local probe speaks to a TLS server: with the server's own certificate and key
 * as its client certificate (so the certificate needs clientAuth as well as serverAuth
 * when client certificates are required), and verifying the server's chain against
 * TLS_CA_FILE (or the system's CAs without it). It skips only the name check: the probe
 * connects to its own process on loopback, which the certificate's names rarely include.
 * Throws `InvalidConfigurationError` when a file is unusable.
 */
export function probeTlsOptionsFor(environment: EchoServerEnvironment): ConnectionOptions | undefined {
  if (environment.TLS_CERT_FILE === undefined) {
    return undefined;
  }
  const material = readTlsFiles(tlsFilePathsOf(environment));
  return clientTlsOptions(material, { skipServerIdentity: true });
}

/**
 * Speaks the protocol, not just TCP: sends `hello` through the real framing and
 * checks that the reply is the server's welcome, serving every request pattern.
 */
export async function probeHealth({ host, port, timeoutMs, tls }: HealthProbeTarget): Promise<HealthProbeResult> {
  const client = EchoClient.create({ host, port, timeoutMs, ...(tls === undefined ? {} : { transport: { tlsOptions: tls } }) });
  try {
    const hello = await client.hello({ client: HEALTHCHECK_CLIENT });
    const missing = REQUEST_PATTERNS.filter((pattern) => !hello.patterns?.requests?.includes(pattern));
    if (missing.length > 0) {
      return { healthy: false, detail: `${hello.server} does not serve ${missing.join(', ')}` };
    }
    return { healthy: true, detail: `${hello.server} ${hello.version} (${hello.instance}) answered hello` };
  } catch (error: unknown) {
    return { healthy: false, detail: describeError(error) };
  } finally {
    await client.close();
  }
}
