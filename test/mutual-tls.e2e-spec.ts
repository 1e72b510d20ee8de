import {
  buildMixedScriptText,
  clientTlsOptions,
  EchoClient,
  InvalidConfigurationError,
  readTlsFiles,
  REQUEST_PATTERNS,
  ServiceConsoleLogger,
  type EchoClientOptions,
} from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { connect, type ConnectionOptions } from 'node:tls';
import { readStats, rejection, statsWhen } from './support/client-calls';
import { expectPassingDemo } from './support/demo-transcript';
import { frameOf, RawPeer } from './support/raw-peer';
import { compiled, runNode } from './support/run-process';
import { startTestServer } from './support/test-server';
import { createTlsFixtures, serverTlsEnv, workerTlsEnv, type TlsFixtures } from './support/tls-fixtures';

const WORKER = 'services/client-worker/dist/main.js';
const CALL_TIMEOUT_MS = 5_000;
/** A refused connection is closed well within this (the handshake fails at once). */
const CLOSED_WITHIN_MS = 5_000;
const WARNING_WITHIN_MS = 5_000;
const HELLO = frameOf({ pattern: 'hello', data: { client: 'intruder' }, id: 'intruder-1' });

/**
 * A real server on 127.0.0.1 with TLS_CERT_FILE, TLS_KEY_FILE and TLS_CA_FILE set (mutual
 * TLS, the default), against certificates made for this run by scripts/gen-dev-certs.sh.
 */
describe('mutual TLS', () => {
  let fixtures: TlsFixtures;
  let server: RunningEchoServer;
  let trustedClient: EchoClient;
  const clients: EchoClient[] = [];
  /** The server's warnings: its logger is Nest's console logger, whatever LOG_LEVEL prints. */
  const warnings: string[] = [];
  let warn: jest.SpiedFunction<ServiceConsoleLogger['warn']>;

  beforeAll(async () => {
    warn = jest.spyOn(ServiceConsoleLogger.prototype, 'warn').mockImplementation((message: unknown) => {
      warnings.push(String(message));
    });
    fixtures = await createTlsFixtures();
    // Every refused handshake logged in full: these tests refuse several within the summaries' interval.
    server = await startTestServer({ ...serverTlsEnv(fixtures.trusted), LOG_LEVEL: 'fatal', REFUSAL_LOG_FULL_LINES: '1000' });
    const { caCert, clientCert, clientKey } = fixtures.trusted;
    trustedClient = client({ tlsOptions: clientTlsOptions(readTlsFiles({ caFile: caCert, certFile: clientCert, keyFile: clientKey })) });
  });

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((each) => each.close()));
    await server?.close();
    await fixtures?.remove();
    warn?.mockRestore();
  });

  function client(transport?: EchoClientOptions['transport'], timeoutMs = CALL_TIMEOUT_MS): EchoClient {
    const created = EchoClient.create({ host: server.host, port: server.port, timeoutMs, ...(transport ? { transport } : {}) });
    clients.push(created);
    return created;
  }

  /** The first warning matching `pattern`, waiting for it a bounded time; fails with every warning seen. */
  async function warningMatching(pattern: RegExp): Promise<string> {
    const deadline = performance.now() + WARNING_WITHIN_MS;
    for (;;) {
      const found = warnings.find((line) => pattern.test(line));
      if (found !== undefined) {
        return found;
      }
      if (performance.now() > deadline) {
        throw new Error(`no warning matched ${pattern} within ${WARNING_WITHIN_MS} ms; warnings:\n${warnings.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * A TLS client that tries `hello` with `options`: resolves once the server closed the
   * connection (or after CLOSED_WITHIN_MS), with its local port and what it received.
   */
  async function tlsAttempt(options: ConnectionOptions): Promise<{ localPort: number | undefined; received: string; closed: boolean }> {
    const socket = connect({ host: server.host, port: server.port, ...options });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', () => undefined); // the refusal, seen from the client: asserted through the server's log
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    await Promise.race([new Promise((resolve) => socket.once('connect', resolve)), closed]);
    const localPort = socket.localPort;
    socket.write(HELLO); // queued until the handshake completes, if it ever does
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, CLOSED_WITHIN_MS);
    await closed;
    clearTimeout(timer);
    return { localPort, received: Buffer.concat(received).toString('latin1'), closed: !timedOut };
  }

  it('serves every pattern to a client with a certificate of the trusted CA', async () => {
    const hello = await trustedClient.hello({ client: 'tls-e2e' });
    expect([...hello.patterns.requests].sort()).toEqual([...REQUEST_PATTERNS].sort());

    // 1 MiB of mixed scripts: frames span many TLS records, and come back byte-identical.
    const text = buildMixedScriptText(1024 * 1024);
    const echoed = await trustedClient.echo({ text });
    expect(echoed.text === text).toBe(true);
    expect(echoed.bytes).toBe(Buffer.byteLength(text));

    expect((await trustedClient.command({ name: 'upper', args: ['über', 'tls'] })).output).toBe('ÜBER TLS');

    const before = await readStats(trustedClient);
    await trustedClient.note({ text: 'over TLS', author: 'e2e' });
    const after = await statsWhen(trustedClient, (stats) => stats.events.note > before.events.note);
    expect(after.events.note).toBe(before.events.note + 1);
  });

  it('runs the compiled demo worker over mutual TLS from its TLS_* variables', async () => {
    const env = {
      ECHO_SERVER_HOST: '127.0.0.1',
      ECHO_SERVER_PORT: String(server.port),
      WORKER_NAME: 'tls-worker',
      ...workerTlsEnv(fixtures.trusted),
    };
    expectPassingDemo(await runNode([compiled(WORKER), 'demo'], { env, timeoutMs: 60_000 }));
  });

  it('refuses a plain-TCP client, logs its address and counts the refusal in stats', async () => {
    const before = (await readStats(trustedClient)).rejections.byReason.TLS_HANDSHAKE_REFUSED ?? 0;
    const peer = await RawPeer.connect(server.port, server.host);
    try {
      const localPort = peer.socket.localPort;
      await peer.write(HELLO);
      expect(await peer.closesWithin(CLOSED_WITHIN_MS)).toBe(true);
      expect(peer.frames()).toEqual([]);
      await warningMatching(
        new RegExp(
          `^TLS handshake from 127\\.0\\.0\\.1:${localPort} refused: ERR_SSL_WRONG_VERSION_NUMBER \\(not a TLS handshake: a plain-TCP client\\?\\)$`,
        ),
      );
    } finally {
      peer.destroy();
    }
    expect((await readStats(trustedClient)).rejections.byReason.TLS_HANDSHAKE_REFUSED).toBe(before + 1);
    // The typed client without TLS fails as well, and gets no reply.
    await rejection(client(undefined, 2_000).hello());
  });

  it.each([
    {
      label: 'whose certificate comes from another CA',
      options: (f: TlsFixtures): ConnectionOptions => readTlsOptions(f.trusted.caCert, f.other.clientCert, f.other.clientKey),
      reason:
        '(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY) \\(client certificate rejected: it does not verify against TLS_CA_FILE\\)',
    },
    {
      label: 'without a certificate',
      options: (f: TlsFixtures): ConnectionOptions => readTlsOptions(f.trusted.caCert),
      reason: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE \\(the client sent no certificate\\)',
    },
    {
      label: 'without a certificate, offering only TLS 1.2',
      options: (f: TlsFixtures): ConnectionOptions => ({ ...readTlsOptions(f.trusted.caCert), maxVersion: 'TLSv1.2' }),
      reason: 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE \\(the client sent no certificate\\)',
    },
  ])('refuses a TLS client $label and logs its address', async ({ options, reason }) => {
    const attempt = await tlsAttempt(options(fixtures));
    expect(attempt.closed).toBe(true);
    expect(attempt.received).not.toContain('"response"');
    expect(attempt.localPort).toEqual(expect.any(Number));
    await warningMatching(new RegExp(`^TLS handshake from 127\\.0\\.0\\.1:${attempt.localPort} refused: ${reason}$`));

    // The typed client with the same options fails too; the trusted one is unaffected.
    await rejection(client({ tlsOptions: options(fixtures) }, 2_000).hello());
    expect((await trustedClient.hello()).server).toBe('echo-server');
  });

  it('does not start with an unusable TLS file: a configuration error naming the variable', async () => {
    const missing = `${fixtures.trusted.serverKey}.missing`;
    const failure = startTestServer({ ...serverTlsEnv(fixtures.trusted), TLS_KEY_FILE: missing });
    await expect(failure).rejects.toBeInstanceOf(InvalidConfigurationError);
    await expect(failure).rejects.toThrow(`TLS_KEY_FILE=${JSON.stringify(missing)}: cannot read it (ENOENT)`);
  });

  it('serves a client without a certificate when TLS_REQUIRE_CLIENT_CERT=false', async () => {
    const { serverCert, serverKey, caCert } = fixtures.trusted;
    const oneWay = await startTestServer({
      TLS_CERT_FILE: serverCert,
      TLS_KEY_FILE: serverKey,
      TLS_REQUIRE_CLIENT_CERT: 'false',
      LOG_LEVEL: 'fatal',
    });
    const anonymous = EchoClient.create({
      host: oneWay.host,
      port: oneWay.port,
      timeoutMs: CALL_TIMEOUT_MS,
      transport: { tlsOptions: readTlsOptions(caCert) },
    });
    try {
      expect((await anonymous.echo({ text: 'one-way TLS' })).text).toBe('one-way TLS');
    } finally {
      await anonymous.close();
      await oneWay.close();
    }
  });
});

function readTlsOptions(caFile: string, certFile?: string, keyFile?: string): ConnectionOptions {
  return clientTlsOptions(readTlsFiles({ caFile, certFile, keyFile }));
}
