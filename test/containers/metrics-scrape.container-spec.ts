import { createRequire } from 'node:module';
import type { StartedTestContainer } from 'testcontainers';
import { Cleanup } from './support/cleanup';
import { waitForExit } from './support/container-exit';
import { clientWorkerContainer, echoServerContainer, startContainer, startNetwork } from './support/echo-containers';
import { expectExitCode } from '../support/run-process';

/** The server's metrics port inside its container (the Dockerfile's METRICS_PORT). */
const METRICS_PORT = 9464;
const SCRAPE_MS = 60_000;

/** A family as parse-prometheus-text-format returns it (it ships no types); values are strings. */
interface ParsedFamily {
  name: string;
  type: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string }>;
}

const parsePrometheusTextFormat = createRequire(__filename)('parse-prometheus-text-format') as (text: string) => ParsedFamily[];

/**
 * What the scraping container runs (the client-worker image, its entrypoint replaced by `node`):
 * one `GET /metrics` to the server by its name on the network, printed as JSON on stdout.
 */
const SCRAPE = `
fetch('http://echo-server:${METRICS_PORT}/metrics', { signal: AbortSignal.timeout(10000) })
  .then(async (response) => {
    process.stdout.write(JSON.stringify({ status: response.status, contentType: response.headers.get('content-type'), body: await response.text() }));
  })
  .catch((error) => {
    process.stderr.write(String(error && error.cause ? error.cause : error));
    process.exitCode = 1;
  });
`;

/**
 * Issue 13 §4: Prometheus as another container on the compose network would see the server: its
 * `/metrics` scraped from a second container on a fresh network, by the server's name, parsed.
 */
describe("the server's metrics scraped from another container on its network", () => {
  const cleanup = new Cleanup();
  let scraper: StartedTestContainer;

  beforeAll(async () => {
    const network = await startNetwork(cleanup);
    // Healthy means its HEALTHCHECK said hello through the framing: at least one request is counted.
    await startContainer(cleanup, echoServerContainer().withNetwork(network).withNetworkAliases('echo-server'));
    scraper = await startContainer(
      cleanup,
      clientWorkerContainer().withNetwork(network).withEntrypoint(['node']).withCommand(['-e', SCRAPE]),
    );
  });

  afterAll(() => cleanup.run());

  it('gets the Prometheus text format, which parses, with the request counter and the process metrics', async () => {
    const result = await waitForExit(scraper.getId(), SCRAPE_MS);
    expectExitCode(result, 0);
    const { status, contentType, body } = JSON.parse(result.stdout) as { status: number; contentType: string; body: string };

    expect(status).toBe(200);
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const families = new Map(parsePrometheusTextFormat(body).map((family) => [family.name, family]));
    const requests = families.get('echo_server_requests_total');
    expect(requests?.type).toBe('COUNTER');
    const hellos = requests?.metrics.find(
      ({ labels }) => labels?.pattern === 'hello' && labels.transport === 'tcp' && labels.outcome === 'ok',
    );
    expect(Number(hellos?.value)).toBeGreaterThanOrEqual(1);
    expect(families.get('echo_server_request_duration_seconds')?.type).toBe('HISTOGRAM');
    expect(families.get('echo_server_draining')?.metrics).toEqual([{ value: '0' }]);
    expect(families.has('process_resident_memory_bytes')).toBe(true);
  });
});
