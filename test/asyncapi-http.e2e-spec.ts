import { DiagnosticSeverity, Parser } from '@asyncapi/parser';
import { contractAsyncApi, EVENT_PATTERNS, REQUEST_PATTERNS } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { startTestServer } from './support/test-server';

describe('GET /asyncapi.json: the published contract', () => {
  let server: RunningEchoServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server.close();
  });

  it('answers an AsyncAPI 3.0 document naming every request and event pattern, as JSON', async () => {
    const response = await fetch(`http://127.0.0.1:${server.metricsPort}/asyncapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const served = (await response.json()) as { asyncapi: string; channels: Record<string, { address: string }>; operations: object };

    expect(served.asyncapi).toBe('3.0.0');
    expect(Object.values(served.channels).map(({ address }) => address)).toEqual([...REQUEST_PATTERNS, ...EVENT_PATTERNS]);
    expect(Object.keys(served.operations)).toEqual([...REQUEST_PATTERNS, ...EVENT_PATTERNS]);
    // The document docs/asyncapi.yaml holds (a unit spec compares that file with the same function).
    expect(served).toEqual(JSON.parse(JSON.stringify(contractAsyncApi())));

    const { document, diagnostics } = await new Parser().parse(served);
    expect(diagnostics.filter(({ severity }) => Number(severity) <= Number(DiagnosticSeverity.Warning))).toEqual([]);
    expect(
      document
        ?.operations()
        .filterBySend()
        .map((operation) => operation.channels().all()[0]?.address()),
    ).toEqual([...REQUEST_PATTERNS, ...EVENT_PATTERNS]);
  });
});
