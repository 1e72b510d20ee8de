import { randomUUID } from 'node:crypto';
import type { ServerStats } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { ClientPool, startTestServer } from './support/test-server';

const CLIENTS = 200;
const ECHOES_PER_CLIENT = 50;

/** The tutorials' "serve many clients at once", checked reply by reply. */
describe('many concurrent clients', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;

  beforeAll(async () => {
    server = await startTestServer();
    pool = new ClientPool(server);
  });

  afterAll(async () => {
    await pool?.closeAll();
    await server?.close();
  });

  it(`matches every reply to its request: ${CLIENTS} clients x ${ECHOES_PER_CLIENT} echoes in flight`, async () => {
    const clients = Array.from({ length: CLIENTS }, () => pool.create(30_000));
    await Promise.all(clients.map((client) => client.connect()));
    const run = randomUUID();

    const outcomes = await Promise.all(
      clients.flatMap((client, clientIndex) =>
        Array.from({ length: ECHOES_PER_CLIENT }, async (_, messageIndex) => {
          const text = `${run} client ${clientIndex} message ${messageIndex} 你好 👋`;
          const reply = await client.echo({ text });
          return reply.text === text;
        }),
      ),
    );

    expect(outcomes).toHaveLength(CLIENTS * ECHOES_PER_CLIENT);
    expect(outcomes.filter((matched) => !matched)).toHaveLength(0);

    const stats = JSON.parse((await clients[0].command({ name: 'stats' })).output) as ServerStats;
    expect(stats.messages.echo).toBe(CLIENTS * ECHOES_PER_CLIENT);
    expect(stats.connections.open).toBe(CLIENTS);
    expect(stats.errors.total).toBe(0);
  });
});
