import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';

/** The worker's metrics port, listening. */
export interface MetricsHttpServer {
  /** The port actually bound (a free one for METRICS_PORT=0). */
  readonly port: number;
  /** Stops listening and ends open connections (a scraper's keep-alive one included). */
  close(): Promise<void>;
}

/** At most this many scrapers' connections at once: the port serves nothing else. */
const MAX_CONNECTIONS = 16;

/**
 * A small `node:http` server (the worker has no HTTP platform): `GET /metrics` answers the
 * Prometheus text format (0.0.4) from `metrics()`; every other path is 404 and every other
 * method 405. It never keeps the process alive (`unref`): the worker exits when its mode ends.
 */
export async function serveMetrics(metrics: () => Promise<string>, host: string, port: number): Promise<MetricsHttpServer> {
  const server = createServer((request, response) => void answer(request, response, metrics));
  server.maxConnections = MAX_CONNECTIONS;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await listen(server, host, port);
  server.unref();
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function answer(request: IncomingMessage, response: ServerResponse, metrics: () => Promise<string>): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    respond(response, 404, 'not found: the worker serves GET /metrics only\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('Allow', 'GET, HEAD');
    respond(response, 405, 'method not allowed\n');
    return;
  }
  try {
    const body = await metrics();
    response.writeHead(200, {
      'Content-Type': Registry.PROMETHEUS_CONTENT_TYPE,
      'Cache-Control': 'no-store',
      'Content-Length': Buffer.byteLength(body),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  } catch {
    respond(response, 500, 'metrics could not be collected\n');
  }
}

function respond(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
