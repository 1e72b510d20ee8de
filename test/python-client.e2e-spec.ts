import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { contractAsyncApi, EVENT_PATTERNS, REQUEST_PATTERNS, type EchoClient } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { statsWhen } from './support/client-calls';
import { REPO_ROOT } from './support/run-process';
import { ClientPool, startTestServer } from './support/test-server';

const CLIENT = join(REPO_ROOT, 'test', 'python-client', 'echo_client.py');
/** The client's own socket and HTTP timeouts are 5 s; it is killed past this. */
const PROCESS_TIMEOUT_MS = 30_000;

interface PythonExit {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs the Python client to its end, killed when it outlives PROCESS_TIMEOUT_MS. */
async function runClient(...args: Array<string | number>): Promise<PythonExit> {
  const child = spawn('python3', ['-u', CLIENT, ...args.map(String)], {
    cwd: REPO_ROOT,
    env: { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let [stdout, stderr, timedOut] = ['', '', false];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, PROCESS_TIMEOUT_MS);
  try {
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** An HTTP server answering `/asyncapi.json` with `document`, for a client pointed at it. */
async function serveDocument(document: unknown): Promise<Server> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

describe('A Python client written from the published contract (test/python-client)', () => {
  let server: RunningEchoServer;
  let clients: ClientPool;
  let client: EchoClient;

  beforeAll(async () => {
    server = await startTestServer();
    clients = new ClientPool(server);
    client = clients.create();
  });

  afterAll(async () => {
    await clients.closeAll();
    await server.close();
  });

  it('fetches /asyncapi.json, calls every request example and emits every event example, each reply valid against its schema', async () => {
    const result = await runClient(server.host, server.port, server.metricsPort!);
    expect({ code: result.code, timedOut: result.timedOut, stderr: result.stderr }).toEqual({ code: 0, timedOut: false, stderr: '' });

    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      `asyncapi 3.0.0: echo-pair wire contract ${contractAsyncApi().info.version}, ${REQUEST_PATTERNS.length + EVENT_PATTERNS.length} operations`,
    );
    for (const pattern of REQUEST_PATTERNS) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^call ${pattern} \\{.*\\} -> .+: ok$`)));
      expect(lines).toContainEqual(`call ${pattern} with x-not-in-the-contract -> VALIDATION_FAILED: ok`);
    }
    for (const pattern of EVENT_PATTERNS) {
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^emit ${pattern} \\{.*\\}: sent$`)));
    }
    expect(lines).toContain('every reply matched the contract');

    // The events reached the server's handlers: each example counted once.
    const stats = await statsWhen(client, ({ events }) => EVENT_PATTERNS.every((pattern) => events[pattern] >= 1));
    EVENT_PATTERNS.forEach((pattern) => expect(stats.events[pattern]).toBe(1));
  });

  it('fails, naming the field, when a reply breaks the schema it fetched', async () => {
    // The same document with one constraint the server's echo reply cannot meet.
    const document = JSON.parse(JSON.stringify(contractAsyncApi())) as {
      components: { schemas: { EchoResponseDto: { properties: { bytes: Record<string, unknown> } } } };
    };
    document.components.schemas.EchoResponseDto.properties.bytes.maximum = 0;
    const http = await serveDocument(document);
    try {
      const result = await runClient(server.host, server.port, (http.address() as AddressInfo).port);
      expect({ code: result.code, timedOut: result.timedOut }).toEqual({ code: 1, timedOut: false });
      expect(result.stderr).toMatch(/^FAIL echo's response does not match its schema: bytes: \d+ is greater than the maximum of 0$/m);
    } finally {
      http.close();
    }
  });

  it('exits 2 when the server does not answer', async () => {
    const http = await serveDocument({});
    const { port } = http.address() as AddressInfo;
    http.close();
    await once(http, 'close');
    const result = await runClient('127.0.0.1', server.port, port);
    expect({ code: result.code, timedOut: result.timedOut }).toEqual({ code: 2, timedOut: false });
    expect(result.stderr).toMatch(/^cannot reach the server: /);
  });
});
