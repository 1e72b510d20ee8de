import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serveMetrics, type MetricsHttpServer } from './metrics-http-server';

/** One HTTP request to the metrics port: status, headers and body. */
function fetchFrom(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('serveMetrics', () => {
  let server: MetricsHttpServer | undefined;

  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers GET /metrics with the Prometheus text format, on a free port for port 0', async () => {
    server = await serveMetrics(() => Promise.resolve('echo_worker_calls_total 1\n'), '127.0.0.1', 0);

    const response = await fetchFrom(server.port, '/metrics');

    expect(server.port).toBeGreaterThan(0);
    expect(response).toMatchObject({ status: 200, body: 'echo_worker_calls_total 1\n' });
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
    expect(await fetchFrom(server.port, '/metrics?name[]=x')).toMatchObject({ status: 200 });
  });

  it.each([
    { path: '/', method: 'GET', status: 404 },
    { path: '/metrics/x', method: 'GET', status: 404 },
    { path: '/metrics', method: 'POST', status: 405 },
    { path: '/metrics', method: 'HEAD', status: 200 },
  ])('answers $method $path with $status', async ({ path, method, status }) => {
    server = await serveMetrics(() => Promise.resolve('x 1\n'), '127.0.0.1', 0);

    const response = await fetchFrom(server.port, path, method);

    expect(response.status).toBe(status);
    if (method === 'HEAD') {
      expect(response.body).toBe('');
    }
  });

  it('answers 500 when the metrics cannot be collected, and goes on serving', async () => {
    let fail = true;
    server = await serveMetrics(() => (fail ? Promise.reject(new Error('boom')) : Promise.resolve('ok 1\n')), '127.0.0.1', 0);

    expect((await fetchFrom(server.port, '/metrics')).status).toBe(500);
    fail = false;
    expect((await fetchFrom(server.port, '/metrics')).status).toBe(200);
  });

  it('rejects when its port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      await expect(serveMetrics(() => Promise.resolve(''), '127.0.0.1', (taken.address() as AddressInfo).port)).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('closes, ending a keep-alive connection, and stops listening', async () => {
    server = await serveMetrics(() => Promise.resolve('x 1\n'), '127.0.0.1', 0);
    const { port } = server;
    await fetchFrom(port, '/metrics');

    await server.close();
    server = undefined;

    await expect(fetchFrom(port, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
