import { clientTlsOptions, readTlsFiles, tlsFilePathsOf, type CallListener, type EchoClientOptions } from '@echo-pair/common';
import { serverPortOf } from './server-address';
import type { WorkerEnvironment } from './worker-environment';

/**
 * The options of every client of the worker (the module's `EchoClient` and those load mode adds),
 * from its validated environment, read once. With `metrics`, each call is reported to it.
 *
 * TLS when TLS_CA_FILE is set: the server is verified against it (by TLS_SERVER_NAME, else
 * ECHO_SERVER_HOST), with TLS_CERT_FILE/TLS_KEY_FILE as the client certificate. The files are
 * read here; an unusable one throws `InvalidConfigurationError`.
 */
export function echoClientOptionsOf(environment: WorkerEnvironment, metrics?: { onCall: CallListener }): EchoClientOptions {
  const transport = tlsTransportOf(environment);
  return {
    host: environment.ECHO_SERVER_HOST,
    protocol: environment.ECHO_TRANSPORT,
    port: serverPortOf(environment),
    timeoutMs: environment.CALL_TIMEOUT_MS,
    reconnect: {
      enabled: environment.RECONNECT,
      initialDelayMs: environment.RECONNECT_BACKOFF_MS,
      maxDelayMs: environment.RECONNECT_BACKOFF_MAX_MS,
    },
    whenDisconnected: environment.WHEN_DISCONNECTED,
    deadAfterTimeouts: environment.DEAD_AFTER_TIMEOUTS,
    keepAliveMs: environment.TCP_KEEPALIVE_MS,
    resolveIntervalMs: environment.ECHO_RESOLVE_INTERVAL_MS,
    retry: environment.RETRY_IDEMPOTENT && { attempts: environment.RETRY_ATTEMPTS },
    ...(transport === undefined ? {} : { transport }),
    ...(metrics === undefined ? {} : { onCall: metrics.onCall }),
  };
}

function tlsTransportOf(environment: WorkerEnvironment): EchoClientOptions['transport'] {
  if (environment.TLS_CA_FILE === undefined) {
    return undefined;
  }
  const material = readTlsFiles(tlsFilePathsOf(environment));
  return { tlsOptions: clientTlsOptions(material, { serverName: environment.TLS_SERVER_NAME }) };
}
