import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { validateEnvironment } from '@echo-pair/common';
import { EchoServerEnvironment } from '../../config/echo-server-environment';
import { startEchoServer, type RunningEchoServer } from '../../echo-server.factory';
import { probeHealth, probeHostFor, probeTlsOptionsFor } from './health-probe';

describe('probeHostFor', () => {
  it.each([
    ['0.0.0.0', '127.0.0.1'],
    ['::', '::1'],
    ['127.0.0.1', '127.0.0.1'],
    ['echo-server', 'echo-server'],
  ])('probes %s at %s', (listenHost, probeHost) => {
    expect(probeHostFor(listenHost)).toBe(probeHost);
  });
});

describe('probeHealth', () => {
  it('is healthy when the server answers hello', async () => {
    const server: RunningEchoServer = await startEchoServer({
      env: {
        ECHO_HOST: '127.0.0.1',
        ECHO_PORT: '0',
        TEXT_PORT: '0',
        UDP_PORT: '0',
        METRICS_PORT: '0',
        LOG_LEVEL: 'error',
        SERVER_NAME: 'probed',
      },
    });
    try {
      const result = await probeHealth({ host: server.host, port: server.port, timeoutMs: 2_000 });
      expect(result.healthy).toBe(true);
      expect(result.detail).toMatch(/^probed \S+ \(.+\) answered hello$/);
    } finally {
      await server.close();
    }
  });

  it('is unhealthy when nothing listens', async () => {
    const port = await closedPort();
    const result = await probeHealth({ host: '127.0.0.1', port, timeoutMs: 2_000 });
    expect(result.healthy).toBe(false);
    expect(result.detail).toMatch(/^CONNECTION_FAILED: .*ECONNREFUSED/);
  });

  it('is unhealthy when the port accepts but never speaks the protocol', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket)).listen(0, '127.0.0.1');
    await once(silent, 'listening');
    try {
      const { port } = silent.address() as AddressInfo;
      const result = await probeHealth({ host: '127.0.0.1', port, timeoutMs: 300 });
      expect(result.healthy).toBe(false);
      expect(result.detail).toMatch(/^TIMEOUT: /);
    } finally {
      sockets.forEach((socket) => socket.destroy());
      silent.close();
    }
  });
});

describe('probeTlsOptionsFor', () => {
  it('takes no TLS options when TLS is off', () => {
    expect(probeTlsOptionsFor(validateEnvironment(EchoServerEnvironment, {}))).toBeUndefined();
  });
});

async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
