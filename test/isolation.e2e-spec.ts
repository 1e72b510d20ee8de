import {
  WireLimits,
  type CommandRequest,
  type EchoRequest,
  type EchoClient,
  type NoteEvent,
  type RpcErrorEnvelope,
} from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { errorsAdded, readStats, rejection, statsWhen } from './support/client-calls';
import { ClientPool, startTestServer } from './support/test-server';

/** The promise of docs/contract.md: a bad request changes nothing else; the connection stays usable, other clients are unaffected. */
describe('a bad request changes nothing else', () => {
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

  it('counts an invalid note as a validation error, and the same connection keeps working', async () => {
    const client = pool.create();
    const reader = pool.create();
    await Promise.all([client.connect(), reader.connect()]);
    const before = await readStats(reader);

    await client.note({ text: 5 } as unknown as NoteEvent);
    const after = await statsWhen(reader, (stats) => stats.errors.total > before.errors.total);

    expect(after.events.note - before.events.note).toBe(1);
    expect(errorsAdded(before, after)).toEqual({ VALIDATION_FAILED: 1 });
    expect((await client.echo({ text: 'after a bad note' })).text).toBe('after a bad note');
    // Still the connection it had: nothing was closed, nothing was opened again.
    expect((await readStats(reader)).connections).toMatchObject({ open: before.connections.open, total: before.connections.total });
  });

  it("serves another client's echoes, all of them, while one client sends nothing but invalid requests", async () => {
    const ROUNDS = 100;
    const bad = pool.create();
    const good = pool.create();
    const badCalls: Array<{ code: string | undefined; call: (round: number) => Promise<unknown> }> = [
      { code: 'VALIDATION_FAILED', call: (round) => bad.send('echo', { text: round, extra: true } as unknown as EchoRequest) },
      { code: 'VALIDATION_FAILED', call: () => bad.send('command', { name: ['upper'] } as unknown as CommandRequest) },
      { code: 'UNKNOWN_COMMAND', call: () => bad.command({ name: 'shutdown', args: ['now'] }) },
      { code: 'INVALID_COMMAND_ARGS', call: () => bad.command({ name: 'sleep', args: ['-1'] }) },
      { code: 'UNKNOWN_PATTERN', call: () => bad.send('exec' as 'echo', { text: 'id' }) },
      { code: undefined, call: (round) => bad.note({ text: round } as unknown as NoteEvent) }, // an event: no reply
    ];

    const sendBad = async (): Promise<Array<string | undefined>> => {
      const codes: Array<string | undefined> = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const { code, call } = badCalls[round % badCalls.length];
        codes.push(code === undefined ? await call(round).then(() => undefined) : (await rejection(call(round))).code);
      }
      return codes;
    };
    const sendGood = async (): Promise<string[]> => {
      const texts: string[] = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        texts.push((await good.echo({ text: `good ${round} 你好` })).text);
      }
      return texts;
    };

    const [badCodes, goodTexts] = await Promise.all([sendBad(), sendGood()]);

    expect(badCodes).toEqual(Array.from({ length: ROUNDS }, (_, round) => badCalls[round % badCalls.length].code));
    expect(goodTexts).toEqual(Array.from({ length: ROUNDS }, (_, round) => `good ${round} 你好`));
    expect((await bad.echo({ text: 'the bad client is served too' })).text).toBe('the bad client is served too');
  });

  it('rejects a payload of 200,000 unknown keys at once, naming (payload), without stopping another client', async () => {
    const sender = pool.create();
    const other = pool.create();
    await Promise.all([sender.connect(), other.connect()]);
    const payload = Object.fromEntries(Array.from({ length: 200_000 }, (_, index) => [`key${index}`, index]));

    // Without the cheap shape check, converting this payload kept the server busy for tens
    // of seconds: every call below would time out. The bound is the call timeout, far above the
    // milliseconds that the check takes, never a measured duration.
    let settled = false;
    const oversized = rejection(sender.send('echo', payload as unknown as EchoRequest, { timeoutMs: 10_000 })).finally(() => {
      settled = true;
    });
    const echoes: string[] = [];
    const echo = async (client: EchoClient, text: string) => echoes.push((await client.echo({ text }, { timeoutMs: 10_000 })).text);
    for (let round = 0; round < 1_000 && !settled; round += 1) {
      await echo(other, `meanwhile ${round}`);
    }
    const error = await oversized;
    await echo(other, 'afterwards');
    await echo(sender, 'the sender too');

    expect(error.code).toBe('VALIDATION_FAILED');
    expect((error.envelope as RpcErrorEnvelope<'VALIDATION_FAILED'>).details.violations).toEqual([
      { field: '(payload)', constraints: { maxKeys: `the payload must have at most ${WireLimits.payloadMaxKeys} keys` } },
    ]);
    expect(echoes.slice(-2)).toEqual(['afterwards', 'the sender too']);
  });
});

describe('MAX_CONNECTIONS_PER_ADDRESS, as EchoClient sees it', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;

  beforeAll(async () => {
    // Every client here connects from 127.0.0.1 (the global cap evicts the idle instead: connection-limits.e2e-spec.ts).
    server = await startTestServer({ MAX_CONNECTIONS_PER_ADDRESS: '3' });
    pool = new ClientPool(server);
  });

  afterAll(async () => {
    await pool?.closeAll();
    await server?.close();
  });

  it('refuses a connection beyond the limit (the call fails as a lost connection), counts it, and keeps serving the others', async () => {
    const admitted = [pool.create(), pool.create(), pool.create()];
    // A reply to each: the server holds all three before the fourth one connects.
    for (const [index, client] of admitted.entries()) {
      expect((await client.echo({ text: `admitted ${index}` })).text).toBe(`admitted ${index}`);
    }

    const error = await rejection(pool.create(5_000).echo({ text: 'one too many' }));

    expect(['CONNECTION_LOST', 'CONNECTION_FAILED']).toContain(error.code);
    const stats = await readStats(admitted[0]);
    expect(stats.connections).toMatchObject({ open: 3, total: 3 });
    expect(stats.connections.rejected).toBeGreaterThanOrEqual(1);
    const replies = await Promise.all(admitted.map((client, index) => client.echo({ text: `still served ${index}` })));
    expect(replies.map((reply) => reply.text)).toEqual(['still served 0', 'still served 1', 'still served 2']);
  });
});
