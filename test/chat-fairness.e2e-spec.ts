import type { EchoClient } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { floodLine, firstMismatch, joinRoom, readChat, readInFits, statsWhen } from './support/chat-flood';
import { readStats } from './support/client-calls';
import { PeerSet } from './support/line-peer';
import { ClientPool, startTestServer } from './support/test-server';

/** CHAT_STALL_MS of this suite: small, so that the member that never reads is cut off soon. */
const STALL_MS = 2_000;
/** Bound on reading a whole flood. */
const READ_BOUND_MS = 60_000;

describe('chat fairness: a room throttles its senders, not its readers', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;
  let client: EchoClient;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({ CHAT_STALL_MS: String(STALL_MS), TEXT_WELCOME_DELAY_MS: '60000', LOG_LEVEL: 'fatal' });
    pool = new ClientPool(server);
    client = pool.create();
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await peers.destroyAll();
    await pool?.closeAll();
    await server?.close();
  });

  it('delivers all 10,000 lines of a flood to a member reading in fits, in order; cuts off the member that never reads after CHAT_STALL_MS, and it alone', async () => {
    const LINES = 10_000;
    const [flooder, reader, silent] = await Promise.all([0, 1, 2].map(() => peers.connect(server.textPort!)));
    await joinRoom('flood', [
      { peer: flooder, nick: 'flooder' },
      { peer: reader, nick: 'reader' },
      { peer: silent, nick: 'silent' },
    ]);
    silent.pause();
    const before = await readStats(client);
    const fits = readInFits(reader);

    const startedAt = performance.now();
    // About 10 MiB in one write: the flooder's kernel and Node send it as fast as the server reads it.
    const written = flooder.write(Array.from({ length: LINES }, (_, index) => `${floodLine(index + 1)}\n`).join(''));
    const cut = statsWhen(
      () => readStats(client),
      (stats) => stats.chat.cutOff > before.chat.cutOff,
      STALL_MS + READ_BOUND_MS,
    ).then((stats) => ({ stats, afterMs: performance.now() - startedAt }));
    const read = await readChat(reader, LINES, (line) => line.startsWith('<flooder> '), READ_BOUND_MS);
    fits.stop();

    expect(read.error).toBeUndefined();
    expect(read.lines).toHaveLength(LINES);
    expect(firstMismatch(read.lines, LINES, (index) => `<flooder> ${floodLine(index + 1)}`)).toBe(-1);
    expect(await written).toBe(true);

    // The silent member is cut off once it has read nothing for CHAT_STALL_MS, not before; it alone.
    const { stats, afterMs } = await cut;
    expect(stats.chat.cutOff - before.chat.cutOff).toBe(1);
    expect(afterMs).toBeGreaterThanOrEqual(STALL_MS);
    expect(afterMs).toBeLessThan(STALL_MS + 15_000);
    const left = '* silent left (disconnected) #flood';
    if (!read.others.includes(left)) {
      expect(await reader.readLine(5_000)).toBe(left);
    }
    expect(read.others.filter((line) => line !== left)).toEqual([]);
    expect(await flooder.readLine()).toBe(left);

    // The flooder and the reader are still on, and the flooder's later lines arrive.
    expect(await flooder.send('after the flood')).toBe(true);
    expect(await reader.readLine()).toBe('<flooder> after the flood');
    expect(await reader.ask('/who')).toBe('* #flood: flooder, reader (2 members)');
    const after = await readStats(client);
    expect(after.chat.cutOff - before.chat.cutOff).toBe(1);
    expect(after.chat.members).toBe(before.chat.members - 1);

    // What the silent member did get is whole lines, in order, and then its connection is closed.
    silent.resume();
    expect(await silent.closesWithin(10_000)).toBe(true);
    const got = (await silent.drainFor(0)).lines;
    expect(got.length).toBeLessThan(LINES);
    expect(firstMismatch(got, got.length, (index) => `<flooder> ${floodLine(index + 1)}`)).toBe(-1);
  }, 120_000);

  it('lets two members flood each other while both read in fits: each gets every line of the other, and no one is cut off', async () => {
    const LINES = 5_000;
    const [alice, bob] = await Promise.all([0, 1].map(() => peers.connect(server.textPort!)));
    await joinRoom('mutual', [
      { peer: alice, nick: 'alice' },
      { peer: bob, nick: 'bob' },
    ]);
    const before = await readStats(client);
    const fits = [readInFits(alice, 3), readInFits(bob, 7)];

    const flood = (from: string): string => Array.from({ length: LINES }, (_, index) => `${floodLine(index + 1)} ${from}\n`).join('');
    const written = Promise.all([alice.write(flood('a')), bob.write(flood('b'))]);
    const [aliceRead, bobRead] = await Promise.all([
      readChat(alice, LINES, (line) => line.startsWith('<bob> '), READ_BOUND_MS),
      readChat(bob, LINES, (line) => line.startsWith('<alice> '), READ_BOUND_MS),
    ]);
    fits.forEach((fit) => fit.stop());

    expect([aliceRead.error, bobRead.error]).toEqual([undefined, undefined]);
    expect(firstMismatch(aliceRead.lines, LINES, (index) => `<bob> ${floodLine(index + 1)} b`)).toBe(-1);
    expect(firstMismatch(bobRead.lines, LINES, (index) => `<alice> ${floodLine(index + 1)} a`)).toBe(-1);
    expect([aliceRead.others, bobRead.others]).toEqual([[], []]);
    expect(await written).toEqual([true, true]);
    expect((await readStats(client)).chat.cutOff).toBe(before.chat.cutOff);
    expect(await alice.ask('/who')).toBe('* #mutual: alice, bob (2 members)');
  }, 120_000);
});
