import { validateEnvironment } from '@echo-pair/common';
import { createTlsFixtures, serverTlsEnv, type TlsFixtures } from '../../../../../test/support/tls-fixtures';
import { EchoServerEnvironment } from '../../config/echo-server-environment';
import { startEchoServer, type RunningEchoServer } from '../../echo-server.factory';
import { probeHealth, probeTlsOptionsFor } from '../../operations/health/health-probe';

// The healthcheck probe of a server with this module: the test goes with the module when it is removed.
describe('TlsModule: probeHealth of a mutual-TLS server', () => {
  let fixtures: TlsFixtures;
  let server: RunningEchoServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    fixtures = await createTlsFixtures();
    env = {
      ECHO_HOST: '127.0.0.1',
      ECHO_PORT: '0',
      TEXT_PORT: '0',
      UDP_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'fatal',
      SERVER_NAME: 'probed',
      ...serverTlsEnv(fixtures.trusted),
    };
    server = await startEchoServer({ env });
  }, 30_000);

  afterAll(async () => {
    await server?.close();
    await fixtures?.remove();
  });

  it('is healthy with the server’s own certificate, key and CA from its environment', async () => {
    const tls = probeTlsOptionsFor(validateEnvironment(EchoServerEnvironment, env));
    expect(tls).toMatchObject({ rejectUnauthorized: true, minVersion: 'TLSv1.2' });

    const result = await probeHealth({ host: server.host, port: server.port, timeoutMs: 2_000, tls });
    expect(result.healthy).toBe(true);
    expect(result.detail).toMatch(/^probed \S+ \(.+\) answered hello$/);
  });

  it('is unhealthy when it speaks plain TCP to it', async () => {
    const result = await probeHealth({ host: server.host, port: server.port, timeoutMs: 2_000 });
    expect(result.healthy).toBe(false);
  });
});
