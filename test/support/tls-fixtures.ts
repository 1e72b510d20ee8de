import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
/** The same script that makes the compose demo's certificates, so that the tests also cover it. */
const GEN_DEV_CERTS = join(__dirname, '..', '..', 'scripts', 'gen-dev-certs.sh');
const GENERATE_TIMEOUT_MS = 30_000;

/** The files of one throwaway CA: its certificate, a server certificate and a client certificate. */
export interface CertificateSet {
  caCert: string;
  caKey: string;
  /** CN echo-server; SANs echo-server, localhost, 127.0.0.1, ::1; serverAuth and clientAuth. */
  serverCert: string;
  serverKey: string;
  /** CN client-worker; clientAuth. */
  clientCert: string;
  clientKey: string;
}

export interface TlsFixtures {
  /** The CA the server trusts, with its server and client certificates. */
  trusted: CertificateSet;
  /** Another CA, unknown to the server, with its own client certificate. */
  other: CertificateSet;
  /** Removes every file. */
  remove(): Promise<void>;
}

/**
 * Creates two throwaway CAs with their certificates in a fresh temporary directory
 * (no key is ever committed), with `scripts/gen-dev-certs.sh` and the host's openssl.
 */
export async function createTlsFixtures(): Promise<TlsFixtures> {
  const dir = await mkdtemp(join(tmpdir(), 'echo-pair-tls-'));
  try {
    const [trusted, other] = await Promise.all([
      generate(join(dir, 'trusted'), 'trusted test CA'),
      generate(join(dir, 'other'), 'other test CA'),
    ]);
    return { trusted, other, remove: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function generate(dir: string, caName: string): Promise<CertificateSet> {
  try {
    await run('bash', [GEN_DEV_CERTS, dir], {
      env: { PATH: process.env.PATH ?? '', CA_NAME: caName, CERT_DAYS: '2' },
      timeout: GENERATE_TIMEOUT_MS,
    });
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    throw new Error(`scripts/gen-dev-certs.sh failed (is openssl installed?): ${(error as Error).message}\n${stdout}${stderr}`, {
      cause: error,
    });
  }
  return {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clientCert: join(dir, 'client.crt'),
    clientKey: join(dir, 'client.key'),
  };
}

/** The echo server's TLS variables for mutual TLS with `set`'s CA. */
export function serverTlsEnv(set: CertificateSet): Record<string, string> {
  return { TLS_CERT_FILE: set.serverCert, TLS_KEY_FILE: set.serverKey, TLS_CA_FILE: set.caCert };
}

/** The client worker's TLS variables: trusts `set`'s CA and presents its client certificate. */
export function workerTlsEnv(set: CertificateSet): Record<string, string> {
  return { TLS_CA_FILE: set.caCert, TLS_CERT_FILE: set.clientCert, TLS_KEY_FILE: set.clientKey };
}
