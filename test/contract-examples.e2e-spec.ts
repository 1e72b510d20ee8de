import { CONTRACT, EchoClient, EVENT_PATTERNS, eventExampleOf, REQUEST_PATTERNS, requestExampleOf } from '@echo-pair/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { readStats, statsWhen } from './support/client-calls';
import { clientsOnFastPath, FAST_PATH_MODES } from './support/fast-path-modes';
import { startTestServer } from './support/test-server';

/**
 * Every pattern of the contract, through its own example, against a real server: a pattern added
 * to the contract is tested here without a line of this file changing. With the fast paths and
 * with stock Nest's (ECHO_FAST_PATH), on the server and in the client. Each reply must also pass
 * its pattern's response class (class-validator here, in the test, whatever the server checked).
 */
describe.each(FAST_PATH_MODES)('the contract examples, against a real server ($mode)', ({ ECHO_FAST_PATH }) => {
  let server: RunningEchoServer;
  let client: EchoClient;

  clientsOnFastPath(ECHO_FAST_PATH);

  beforeAll(async () => {
    server = await startTestServer({ ECHO_FAST_PATH });
    client = EchoClient.create({ host: server.host, port: server.port, timeoutMs: 10_000 });
  });

  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it.each(REQUEST_PATTERNS.map((pattern) => [pattern]))('"%s" answers its example as the contract says', async (pattern) => {
    const { request, response } = requestExampleOf(pattern);

    const reply: object = await client.send(pattern, request);

    expect(reply).toMatchObject(response);
    const responseClass = CONTRACT.requests[pattern].response as new () => object;
    expect(
      validateSync(plainToInstance(responseClass, reply), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }),
    ).toEqual([]);
  });

  it.each(EVENT_PATTERNS.map((pattern) => [pattern]))('"%s" takes its example and counts it', async (pattern) => {
    const before = (await readStats(client)).events[pattern];

    await client.emit(pattern, eventExampleOf(pattern));

    const after = await statsWhen(client, (stats) => stats.events[pattern] > before);
    expect(after.events[pattern]).toBe(before + 1);
  });
});
