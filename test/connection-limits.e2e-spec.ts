import type { ServerStats } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { setTimeout as delay } from 'node:timers/promises';
import { capturedLogs } from './support/captured-logs';
import { readStats } from './support/client-calls';
import { PeerSet } from './support/line-peer';
import { frameOf, RawPeer } from './support/raw-peer';
import { ClientPool, startTestServer } from './support/test-server';

/**
 * Another client than 127.0.0.1, as the per-address limits count it (Linux routes all of 127/8 to
 * loopback). The first suite's tests connect from addresses of their own, as the server sees the
 * closes of one test's connections a moment after the test ends.
 */
const OTHER_ADDRESS = '127.0.0.2';

/** Echoes one request over the Nest TCP port from `localAddress`, with a raw framed peer; resolves with the reply's text. */
async function echoFrom(server: RunningEchoServer, localAddress: string, text: string): Promise<unknown> {
  const peer = await RawPeer.connect(server.port, server.host, localAddress);
  try {
    await peer.write(frameOf({ pattern: 'echo', data: { text }, id: `from ${localAddress}` }));
    const [reply] = await peer.waitForFrames(1, 5_000);
    return (reply?.response as { text?: unknown } | undefined)?.text;
  } finally {
    peer.destroy();
  }
}

describe('connection limits: MAX_CONNECTIONS_PER_ADDRESS on the text and Nest TCP doors', () => {
  const PER_ADDRESS = 4;
  let server: RunningEchoServer;
  let pool: ClientPool;
  const peers = new PeerSet();
  const raw: RawPeer[] = [];

  beforeAll(async () => {
    server = await startTestServer({ MAX_CONNECTIONS_PER_ADDRESS: String(PER_ADDRESS), TEXT_WELCOME_DELAY_MS: '60000', LOG_LEVEL: 'warn' });
    pool = new ClientPool(server);
  });

  afterEach(async () => {
    await peers.destroyAll();
    raw.splice(0).forEach((peer) => peer.destroy());
  });

  afterAll(async () => {
    await pool?.closeAll();
    await server?.close();
  });

  it('sends a refused text connection one line saying which limit, then closes it, even after it wrote', async () => {
    const from = { localAddress: '127.0.0.11' };
    const admitted = await Promise.all(Array.from({ length: PER_ADDRESS }, () => peers.connect(server.textPort!, from)));
    const refused = await peers.connect(server.textPort!, from);
    // It writes before it learns it is refused: it must still get the line, not a reset.
    await refused.write('hello?\n'.repeat(1000)).catch(() => undefined);
    expect(await refused.closesWithin(3_000)).toBe(true);
    const { lines } = await refused.drainFor(0);
    expect(lines).toEqual([
      `ERR LIMIT_REACHED MAX_CONNECTIONS_PER_ADDRESS: ${PER_ADDRESS} connections from 127.0.0.11 are open; try again later`,
    ]);
    expect(refused.errors.map((error) => (error as NodeJS.ErrnoException).code)).not.toContain('ECONNRESET');
    for (const [index, peer] of admitted.entries()) {
      expect(await peer.ask(`admitted ${index}`)).toBe(`admitted ${index}`);
    }
    const other = await peers.connect(server.textPort!, { localAddress: OTHER_ADDRESS });
    expect(await other.ask('from another address')).toBe('from another address');
  });

  it('closes a refused Nest TCP connection without a reply, and serves another address', async () => {
    for (let index = 0; index < PER_ADDRESS; index++) {
      raw.push(await RawPeer.connect(server.port, server.host, '127.0.0.21'));
    }
    const refused = await RawPeer.connect(server.port, server.host, '127.0.0.21');
    raw.push(refused);
    await refused.write(frameOf({ pattern: 'echo', data: { text: 'refused' }, id: 1 })).catch(() => undefined);
    expect(await refused.closesWithin(3_000)).toBe(true);
    expect(refused.frames()).toEqual([]);
    expect(await echoFrom(server, OTHER_ADDRESS, 'served')).toBe('served');
  });

  it('counts every refusal and logs them as a summary, not one line each', async () => {
    const client = pool.create();
    const before = await readStats(client);
    const attempts = 60;
    const admitted = await Promise.all(
      Array.from({ length: PER_ADDRESS }, () => peers.connect(server.textPort!, { localAddress: '127.0.0.5' })),
    );
    const refused = await Promise.all(
      Array.from({ length: attempts }, () =>
        RawPeer.connect(server.textPort!, server.host, '127.0.0.5').then((peer) => (raw.push(peer), peer)),
      ),
    );
    await Promise.all(refused.map((peer) => peer.closesWithin(3_000)));
    const after = await readStats(client);
    expect(after.connections.rejected - before.connections.rejected).toBe(attempts);
    // At most the interval's first few refusals in full; the rest wait for its summary.
    const lines = capturedLogs('warn').filter((line) => line.message.includes('127.0.0.5'));
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(admitted.every((peer) => !peer.isClosed)).toBe(true);
  });
});

describe('connection limits: a flood of 4,000 connections from one address', () => {
  const FLOOD = 4_000;
  let server: RunningEchoServer;
  let pool: ClientPool;
  const peers = new PeerSet();
  const raw: RawPeer[] = [];

  beforeAll(async () => {
    // The defaults: MAX_CONNECTIONS_PER_ADDRESS 256, 1000 connections per door.
    server = await startTestServer({ TEXT_WELCOME_DELAY_MS: '60000', LOG_LEVEL: 'fatal' });
    pool = new ClientPool(server);
  });

  afterAll(async () => {
    raw.splice(0).forEach((peer) => peer.destroy());
    await peers.destroyAll();
    await pool?.closeAll();
    await server?.close();
  });

  it('serves a client from another address on the text and Nest ports, and tells every refused text connection why', async () => {
    const textFlood = Promise.all(
      Array.from({ length: FLOOD }, () => RawPeer.connect(server.textPort!, server.host).then((peer) => (raw.push(peer), peer))),
    );
    const nestFlood = Promise.all(
      Array.from({ length: FLOOD / 2 }, () => RawPeer.connect(server.port, server.host).then((peer) => (raw.push(peer), peer))),
    );
    // During the flood: the other address is served on both doors.
    const text = await peers.connect(server.textPort!, { localAddress: OTHER_ADDRESS });
    expect(await text.ask('served during the flood')).toBe('served during the flood');
    expect(await echoFrom(server, OTHER_ADDRESS, 'served during the flood')).toBe('served during the flood');
    const [textPeers, nestPeers] = await Promise.all([textFlood, nestFlood]);
    // Refused connections are closed after their line (destroyed CLOSE_GRACE_MS later if they do not close their side).
    const refusedCount = FLOOD - 256 + FLOOD / 2 - 256;
    for (
      let waited = 0;
      waited < 20_000 && [...textPeers, ...nestPeers].filter((peer) => peer.isClosed).length < refusedCount;
      waited += 100
    ) {
      await delay(100);
    }
    const textRefused = textPeers.filter((peer) => peer.isClosed);
    expect(textRefused).toHaveLength(FLOOD - 256);
    const refusalLine = 'ERR LIMIT_REACHED MAX_CONNECTIONS_PER_ADDRESS: 256 connections from 127.0.0.1 are open; try again later\n';
    expect(textRefused.filter((peer) => peer.text() !== refusalLine)).toEqual([]);
    expect(nestPeers.filter((peer) => peer.isClosed)).toHaveLength(FLOOD / 2 - 256);
    // The flood's admitted connections hold 127.0.0.1's share: end them before a client from there asks for the stats.
    raw.splice(0).forEach((peer) => peer.destroy());
    let stats: ServerStats | undefined;
    let attempt = 0;
    for (; attempt < 50 && stats === undefined; attempt++) {
      stats = await readStats(pool.create()).catch(() => delay(100).then(() => undefined));
    }
    if (stats === undefined) throw new Error('no stats');
    // The stats client's own attempts may have been refused while the server saw the flood close.
    expect(stats.connections.rejected - (attempt - 1)).toBe(refusedCount);
    expect(stats.connections.evicted).toBe(0);
    // Still served after it.
    expect(await text.ask('and after')).toBe('and after');
  }, 60_000);
});

describe('connection limits: deadlines that dripping cannot reset', () => {
  const LINE_TIMEOUT_MS = 1_000;
  const IDLE_TIMEOUT_MS = 2_000;
  let lineDeadline: RunningEchoServer;
  let idleDeadline: RunningEchoServer;
  const peers = new PeerSet();

  beforeAll(async () => {
    // A long idle flush: a byte every 100 ms never pauses long enough for a partial line to count as whole.
    [lineDeadline, idleDeadline] = await Promise.all([
      startTestServer({
        TEXT_IDLE_FLUSH_MS: '5000',
        TEXT_LINE_TIMEOUT_MS: String(LINE_TIMEOUT_MS),
        TEXT_WELCOME_DELAY_MS: '60000',
        LOG_LEVEL: 'fatal',
      }),
      startTestServer({
        TEXT_IDLE_FLUSH_MS: '5000',
        TEXT_LINE_TIMEOUT_MS: '0',
        TEXT_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
        TEXT_WELCOME_DELAY_MS: '60000',
        LOG_LEVEL: 'fatal',
      }),
    ]);
  });

  afterAll(async () => {
    await peers.destroyAll();
    await Promise.all([lineDeadline?.close(), idleDeadline?.close()]);
  });

  /** Sends one byte every 100 ms, never a newline, until the server closes the connection or 50 bytes went; resolves with the ms it took. */
  async function drip(server: RunningEchoServer): Promise<{ elapsed: number; lines: string[] }> {
    const peer = await peers.connect(server.textPort!);
    expect(await peer.ask('a whole line first')).toBe('a whole line first');
    const started = performance.now();
    for (let sent = 0; sent < 50 && !peer.isClosed; sent++) {
      await peer.write('x').catch(() => undefined);
      await delay(100);
    }
    const elapsed = performance.now() - started;
    expect(peer.isClosed).toBe(true);
    return { elapsed, lines: (await peer.drainFor(0)).lines };
  }

  it('closes a connection whose line is incomplete TEXT_LINE_TIMEOUT_MS after its first byte, saying which limit', async () => {
    const { elapsed, lines } = await drip(lineDeadline);
    expect(elapsed).toBeGreaterThanOrEqual(LINE_TIMEOUT_MS - 50);
    expect(lines).toEqual([
      `ERR LIMIT_REACHED TEXT_LINE_TIMEOUT_MS: the line was not complete ${LINE_TIMEOUT_MS / 1000} s after its first byte`,
    ]);
  });

  it('closes a dripping connection at TEXT_IDLE_TIMEOUT_MS after its last complete line: bytes of a line are not activity', async () => {
    const { elapsed, lines } = await drip(idleDeadline);
    expect(elapsed).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 150);
    expect(lines).toEqual([`bye: nothing received for ${IDLE_TIMEOUT_MS / 1000} s`]);
  });
});

describe('connection limits: behind a proxy that sends the PROXY protocol', () => {
  let server: RunningEchoServer;
  const peers = new PeerSet();
  const raw: RawPeer[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      PROXY_PROTOCOL: 'true',
      TRUSTED_PROXIES: '127.0.0.1',
      MAX_CONNECTIONS_PER_ADDRESS: '2',
      TEXT_WELCOME_DELAY_MS: '60000',
      LOG_LEVEL: 'fatal',
    });
  });

  afterAll(async () => {
    raw.splice(0).forEach((peer) => peer.destroy());
    await peers.destroyAll();
    await server?.close();
  });

  const header = (client: string, port: number) => `PROXY TCP4 ${client} 127.0.0.1 5555 ${port}\r\n`;

  it('counts each client a trusted proxy names, not the proxy, on the text door', async () => {
    const proxied = async (client: string) => {
      const peer = await peers.connect(server.textPort!);
      await peer.write(header(client, server.textPort!));
      return peer;
    };
    const first = await proxied('203.0.113.7');
    const second = await proxied('203.0.113.7');
    expect(await first.ask('one')).toBe('one');
    expect(await second.ask('two')).toBe('two');
    const third = await proxied('203.0.113.7');
    expect(await third.closesWithin(3_000)).toBe(true);
    expect((await third.drainFor(0)).lines).toEqual([
      'ERR LIMIT_REACHED MAX_CONNECTIONS_PER_ADDRESS: 2 connections from 203.0.113.7 are open; try again later',
    ]);
    const other = await proxied('203.0.113.8');
    expect(await other.ask('another client behind the same proxy')).toBe('another client behind the same proxy');
  });

  it('serves an untrusted peer as a direct client, its would-be header being data', async () => {
    const peer = await peers.connect(server.textPort!, { localAddress: OTHER_ADDRESS });
    await peer.write(header('198.51.100.1', server.textPort!));
    expect(await peer.readLine(5_000)).toBe(`PROXY TCP4 198.51.100.1 127.0.0.1 5555 ${server.textPort!}`);
  });

  it('closes a trusted connection that sends no header, and serves a proxied Nest TCP request', async () => {
    const bare = await RawPeer.connect(server.textPort!, server.host);
    raw.push(bare);
    await bare.write('no header\n');
    expect(await bare.closesWithin(3_000)).toBe(true);
    expect(bare.text()).toBe('');
    const nest = await RawPeer.connect(server.port, server.host);
    raw.push(nest);
    await nest.write(header('203.0.113.9', server.port) + frameOf({ pattern: 'echo', data: { text: 'proxied' }, id: 'p' }));
    const [reply] = await nest.waitForFrames(1, 5_000);
    expect(reply).toMatchObject({ id: 'p', response: { text: 'proxied' } });
  });
});
