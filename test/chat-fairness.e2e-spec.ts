import type { EchoClient } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { expectFairFlood, floodLine, firstMismatch, joinRoom, readChat, readInFits } from './support/chat-flood';
import { readStats } from './support/client-calls';
import { PeerSet } from './support/line-peer';
import { ClientPool, startTestServer } from './support/test-server';

/** CHAT_STALL_MS of this suite: small, so that the member that never reads is cut off soon. */
const STALL_MS = 2_000;
/** Bound on reading a whole flood. */
const READ_BOUND_MS = 30_000;

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
    await expectFairFlood({ connect: () => peers.connect(server.textPort!), readStats: () => readStats(client), stallMs: STALL_MS });
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
