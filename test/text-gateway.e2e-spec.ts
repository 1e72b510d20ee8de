import { type EchoClient, type ServerStats } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { readStats } from './support/client-calls';
import { delay, gbk, LinePeer, PeerSet, pollUntil } from './support/line-peer';
import { ClientPool, startTestServer } from './support/test-server';

const MAX_LINE_BYTES = 1024;
const LINE_TOO_LONG = `ERR LINE_TOO_LONG the line is over ${MAX_LINE_BYTES} bytes; the rest of it is discarded`;
const NEITHER_ENCODING = 'ERR INVALID_TEXT the line is neither valid UTF-8 nor valid GBK (GB18030)';
const CONTROL_CHARACTERS = 'ERR INVALID_TEXT control characters (NUL, ESC and the like) are not accepted';
const HALF_CHARACTER = 'ERR INVALID_TEXT the line ended in the middle of a character';
/** The default TEXT_WELCOME_DELAY_MS. */
const WELCOME_DELAY_MS = 200;

/** Mixed scripts in UTF-8: 2-, 3- and 4-byte characters, an emoji sequence and ASCII. */
const UTF8_TEXT = 'héllo 你好，世界 👋🏽 end';
/** GBK (2-byte characters), one GB18030 4-byte character (😀 = 94 39 FC 36), and ASCII. */
const GBK_BYTES = Buffer.concat([gbk('你好，世界 '), Buffer.from([0x94, 0x39, 0xfc, 0x36]), gbk(' 测试 end')]);

/** A peer connected to `port` answers a line: the gateway still serves after whatever a test did. */
async function expectServed(port: number): Promise<void> {
  const peer = await LinePeer.connect(port);
  try {
    expect(await peer.ask('still serving')).toBe('still serving');
  } finally {
    peer.destroy();
  }
}

describe('text gateway: framing, limits and bad input', () => {
  let server: RunningEchoServer;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({ TEXT_MAX_LINE_BYTES: String(MAX_LINE_BYTES), LOG_LEVEL: 'fatal' });
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await peers.destroyAll();
    await server?.close();
  });

  const connect = () => peers.connect(server.textPort!);

  it('answers several lines written at once with one reply each, in order', async () => {
    const peer = await connect();
    await peer.write('one\ntwo\r\nthree\n\n  \nfour\n');
    expect(await peer.readLines(4)).toEqual(['one', 'two', 'three', 'four']);
    expect((await peer.drainFor(100)).lines).toEqual([]);
  });

  it('sends the replies before a slow command at once, and answers the lines after it in order once it ends', async () => {
    const peer = await connect();
    const started = performance.now();
    await peer.write('one\n/sleep 1000\ntwo\n/upper three\n');
    expect(await peer.readLines(1)).toEqual(['one']);
    expect(performance.now() - started).toBeLessThan(1000); // not held back by the sleep after it
    expect(await peer.readLines(3)).toEqual(['slept 1000 ms', 'two', 'THREE']);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
  });

  it('takes \\r\\n as a line end, also when the \\r and the \\n arrive apart', async () => {
    const peer = await connect();
    await peer.write('crlf\r\n');
    expect((await peer.readLineBytes()).toString('latin1')).toBe('crlf');
    await peer.write('split\r');
    await delay(5);
    await peer.write('\n');
    expect((await peer.readLineBytes()).toString('latin1')).toBe('split');
  });

  it('answers a partial line without a newline once the peer pauses (the idle flush)', async () => {
    const peer = await connect();
    const started = performance.now();
    await peer.write('no newline, then a pause');
    expect(await peer.readLine(2_000)).toBe('no newline, then a pause');
    expect(performance.now() - started).toBeGreaterThanOrEqual(25); // TEXT_IDLE_FLUSH_MS, 30 ms by default
  });

  it('echoes a line of exactly TEXT_MAX_LINE_BYTES, with \\n or \\r\\n', async () => {
    const peer = await connect();
    const longest = 'x'.repeat(MAX_LINE_BYTES - 3) + '你'; // 1024 bytes in UTF-8
    expect(Buffer.byteLength(longest)).toBe(MAX_LINE_BYTES);
    await peer.write(`${longest}\n${longest}\r\n`);
    expect(await peer.readLines(2)).toEqual([longest, longest]);
  });

  it('refuses a line one byte over TEXT_MAX_LINE_BYTES with LINE_TOO_LONG, discards its rest, and stays usable', async () => {
    const peer = await connect();
    await peer.write(`${'y'.repeat(MAX_LINE_BYTES + 1)}\nnext\n`);
    expect(await peer.readLines(2)).toEqual([LINE_TOO_LONG, 'next']);
    await peer.write(`${'z'.repeat(5 * MAX_LINE_BYTES)}\nafter the long one\n`);
    expect(await peer.readLines(2)).toEqual([LINE_TOO_LONG, 'after the long one']);
    expect((await peer.drainFor(100)).lines).toEqual([]);
    await expectServed(server.textPort!);
  });

  it('refuses a line that never ends once it passes the limit, once, then serves the next line', async () => {
    const peer = await connect();
    await peer.write('w'.repeat(3 * MAX_LINE_BYTES));
    expect(await peer.readLine(2_000)).toBe(LINE_TOO_LONG);
    // More of the same line, past the idle flush: discarded, not answered.
    await peer.write('w'.repeat(3 * MAX_LINE_BYTES));
    await delay(100);
    await peer.write('w'.repeat(MAX_LINE_BYTES));
    expect(await peer.drainFor(200)).toEqual({ lines: [], partialBytes: 0 });
    await peer.write('\nusable again\n');
    expect(await peer.readLine()).toBe('usable again');
    await expectServed(server.textPort!);
  });

  it('refuses bytes invalid in both UTF-8 and GBK with INVALID_TEXT, and stays usable', async () => {
    const peer = await connect();
    await peer.write(Buffer.from([0xff, 0xfe, 0x80, 0xff, 0x0a]));
    expect(await peer.readLine()).toBe(NEITHER_ENCODING);
    await peer.write(Buffer.concat([Buffer.from('ok '), Buffer.from([0xc0, 0xaf, 0xff]), Buffer.from(' end\n')]));
    expect(await peer.readLine()).toBe(NEITHER_ENCODING);
    expect(await peer.ask('still usable')).toBe('still usable');
    await expectServed(server.textPort!);
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['ESC (a terminal escape sequence)', '\u001b[2J\u001b[31mred'],
    ['BEL', 'ring\u0007'],
    ['DEL', 'rub\u007fout'],
  ])('refuses %s with INVALID_TEXT and stays usable', async (_label, line) => {
    const peer = await connect();
    expect(await peer.ask(line)).toBe(CONTROL_CHARACTERS);
    expect(await peer.ask('tab\tis fine')).toBe('tab\tis fine');
    await expectServed(server.textPort!);
  });

  it('answers a flood of 20,000 lines written at once, in order, none lost, while the peer reads slowly at first', async () => {
    const count = 20_000;
    const peer = await connect();
    peer.pause(); // the replies back up: the server must stop reading, not drop or split lines
    const lines = Array.from({ length: count }, (_, index) => `flood line ${String(index).padStart(6, '0')} ${'.'.repeat(index % 50)}`);
    const flood = Buffer.from(lines.join('\n') + '\n');
    const started = performance.now();
    const written = peer.write(flood);
    await delay(1_000);
    const unreadBeforeResume = peer.unreadLines;
    peer.resume();
    expect(await written).toBe(true);
    const replies = await peer.readLines(count, 60_000);
    console.info(
      `flood: ${count} lines (${flood.length} bytes) answered in ${Math.round(performance.now() - started)} ms, 1 s of it unread`,
    );
    const firstMismatch = replies.findIndex((reply, index) => reply !== lines[index]);
    expect({ firstMismatch, reply: replies[firstMismatch], expected: lines[firstMismatch] }).toEqual({
      firstMismatch: -1,
      reply: undefined,
      expected: undefined,
    });
    expect(unreadBeforeResume).toBe(0);
    expect(await peer.drainFor(200)).toEqual({ lines: [], partialBytes: 0 });
    await expectServed(server.textPort!);
  }, 90_000);

  it('sends a silent client the welcome (ASCII only, naming /help and quit), once', async () => {
    const peer = await connect();
    const started = performance.now();
    const welcome = await peer.readLine(WELCOME_DELAY_MS + 2_000);
    expect(performance.now() - started).toBeGreaterThanOrEqual(WELCOME_DELAY_MS - 20);
    expect(welcome).toMatch(/^[\x20-\x7e]+$/);
    expect(welcome).toContain('/help');
    expect(welcome).toMatch(/\bquit\b/);
    expect(welcome).toContain('Welcome');
    expect((await peer.drainFor(WELCOME_DELAY_MS)).lines).toEqual([]);
    expect(await peer.ask('after the welcome')).toBe('after the welcome');
  });

  it('answers a client that speaks at once first, and never sends it the welcome', async () => {
    const peer = await connect();
    await peer.send('hello at once');
    expect(await peer.readLine()).toBe('hello at once');
    expect(await peer.drainFor(WELCOME_DELAY_MS * 3)).toEqual({ lines: [], partialBytes: 0 });
  });

  it('runs commands with quoted arguments and says bye to quit', async () => {
    const peer = await connect();
    expect(await peer.ask('/upper "a  b" c')).toBe('A  B C');
    expect(await peer.ask('/reverse 你好')).toBe('好你');
    expect(await peer.ask('quit')).toBe('bye');
    expect(await peer.closesWithin(2_000)).toBe(true);
  });
});

describe('text gateway: messages split at every byte boundary', () => {
  const SPLIT_MAX_LINE_BYTES = 8192;
  let server: RunningEchoServer;
  const peers = new PeerSet();

  // A long idle flush: a pause between the two halves never makes the first half a line of its own.
  beforeAll(async () => {
    server = await startTestServer({
      TEXT_IDLE_FLUSH_MS: '5000',
      TEXT_MAX_LINE_BYTES: String(SPLIT_MAX_LINE_BYTES),
      TEXT_WELCOME_DELAY_MS: '60000',
      LOG_LEVEL: 'fatal',
    });
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await peers.destroyAll();
    await server?.close();
  });

  /** Writes `line` + `\n` in two writes at every boundary (the server reads them apart) and expects the line back, byte for byte. */
  async function expectSplitEchoes(peer: LinePeer, line: Buffer): Promise<number> {
    const message = Buffer.concat([line, Buffer.from('\r\n')]);
    let splits = 0;
    for (let cut = 1; cut < message.length; cut++) {
      await peer.write(message.subarray(0, cut));
      await delay(3);
      await peer.write(message.subarray(cut));
      const reply = await peer.readLineBytes();
      expect({ cut, reply: reply.toString('hex') }).toEqual({ cut, reply: line.toString('hex') });
      splits += 1;
    }
    return splits;
  }

  it('echoes UTF-8 exactly, split inside 2-, 3- and 4-byte characters', async () => {
    const peer = await peers.connect(server.textPort!);
    const line = Buffer.from(UTF8_TEXT, 'utf8');
    expect(await expectSplitEchoes(peer, line)).toBe(line.length + 1);
  });

  it('echoes GBK exactly (and replies in GBK), split inside 2- and 4-byte characters', async () => {
    const peer = await peers.connect(server.textPort!, { encoding: 'gbk' });
    expect(await expectSplitEchoes(peer, GBK_BYTES)).toBe(GBK_BYTES.length + 1);
    expect(await peer.ask('/upper gbk 中文')).toBe('GBK 中文');
  });

  it('echoes a UTF-8 message written one byte at a time', async () => {
    const peer = await peers.connect(server.textPort!);
    const text = Array.from({ length: 12 }, (_, index) => `${index}: ${UTF8_TEXT}`).join(' | '); // over 256 bytes: the held line grows
    const message = Buffer.from(`${text}\n`, 'utf8');
    for (const byte of message) {
      await peer.write(Buffer.from([byte]));
      await delay(1);
    }
    expect((await peer.readLineBytes()).toString('utf8')).toBe(text);
  });

  it('echoes long lines written in pieces, UTF-8 and GBK, byte for byte', async () => {
    const utf8 = await peers.connect(server.textPort!);
    const longUtf8 = Buffer.from(Array.from({ length: 150 }, (_, index) => `${index} ${UTF8_TEXT}`).join(' '), 'utf8'); // about 5 KB
    const gbkPeer = await peers.connect(server.textPort!, { encoding: 'gbk' });
    const longGbk = Buffer.concat(Array.from({ length: 200 }, () => GBK_BYTES)); // about 5 KB
    for (const [peer, line] of [
      [utf8, longUtf8],
      [gbkPeer, longGbk],
    ] as const) {
      const message = Buffer.concat([line, Buffer.from('\n')]);
      for (let start = 0; start < message.length; start += 97) {
        await peer.write(message.subarray(start, start + 97));
        await delay(1);
      }
      const reply = await peer.readLineBytes();
      expect({ length: reply.length, same: reply.equals(line) }).toEqual({ length: line.length, same: true });
    }
  });

  it('echoes a line of exactly TEXT_MAX_LINE_BYTES written in pieces, and refuses one byte more', async () => {
    const peer = await peers.connect(server.textPort!);
    const longest = Buffer.from('好'.repeat(SPLIT_MAX_LINE_BYTES / 4) + 'x'.repeat(SPLIT_MAX_LINE_BYTES / 4), 'utf8');
    expect(longest.length).toBe(SPLIT_MAX_LINE_BYTES);
    for (const [line, ending] of [
      [longest, '\r\n'],
      [longest, '\n'],
      [Buffer.concat([longest, Buffer.from('x')]), '\n'],
    ] as const) {
      const message = Buffer.concat([line, Buffer.from(ending)]);
      for (let start = 0; start < message.length; start += 500) {
        await peer.write(message.subarray(start, start + 500));
        await delay(1);
      }
    }
    expect((await peer.readLineBytes()).equals(longest)).toBe(true);
    expect((await peer.readLineBytes()).equals(longest)).toBe(true);
    expect(await peer.readLine()).toBe(`ERR LINE_TOO_LONG the line is over ${SPLIT_MAX_LINE_BYTES} bytes; the rest of it is discarded`);
    expect(await peer.ask('short again')).toBe('short again');
  });
});

describe('text gateway: timers and connection limits', () => {
  const IDLE_FLUSH_MS = 10;
  const IDLE_TIMEOUT_MS = 600;
  const MAX_CONNECTIONS = 3;
  let server: RunningEchoServer;
  let pool: ClientPool;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({
      TEXT_IDLE_FLUSH_MS: String(IDLE_FLUSH_MS),
      TEXT_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS),
      TEXT_MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      LOG_LEVEL: 'fatal',
    });
    pool = new ClientPool(server);
  });

  afterEach(async () => {
    await peers.destroyAll();
    // The server counts the closes of this test's connections before the next test opens its own.
    await pollUntil(
      () => readStats(pool.create()),
      (stats) => stats.transports.text.connections.open === 0,
    );
  });

  afterAll(async () => {
    await peers.destroyAll();
    await pool?.closeAll();
    await server?.close();
  });

  it('answers half a GBK character followed by silence with INVALID_TEXT, after a while, and stays usable', async () => {
    const peer = await peers.connect(server.textPort!, { encoding: 'gbk' });
    const hao = gbk('好'); // BA C3
    const started = performance.now();
    await peer.write(Buffer.concat([gbk('你'), hao.subarray(0, 1)]));
    // The complete character is flushed as a line; the half one waits for its other byte, then gives up.
    expect(await peer.readLine(2_000)).toBe('你');
    expect(await peer.readLine(5_000)).toBe(HALF_CHARACTER);
    expect(performance.now() - started).toBeGreaterThanOrEqual(IDLE_FLUSH_MS * 10);
    await peer.write(Buffer.concat([hao.subarray(1), Buffer.from('\n')]));
    // Its other byte, alone, is no character either.
    expect(await peer.readLine()).toBe(
      "ERR INVALID_TEXT the line is not valid GBK, this connection's encoding; send /encoding utf-8 to switch",
    );
    expect(await peer.ask('好')).toBe('好');
  });

  it('waits for the rest of a character split across a pause, and gives up on a lone lead byte', async () => {
    const peer = await peers.connect(server.textPort!, { encoding: 'gbk' });
    await peer.write(Buffer.from([0xc4])); // the first byte of 你 in GBK
    await delay(IDLE_FLUSH_MS * 5);
    await peer.write(Buffer.from([0xe3, 0x0a]));
    expect(await peer.readLine()).toBe('你');
    await peer.write(Buffer.from([0xc4]));
    expect(await peer.readLine(5_000)).toBe(HALF_CHARACTER);
    expect(await peer.ask('好的')).toBe('好的');
    await expectServed(server.textPort!);
  });

  it('closes a silent connection after TEXT_IDLE_TIMEOUT_MS, saying bye', async () => {
    const peer = await peers.connect(server.textPort!);
    const started = performance.now();
    expect(await peer.closesWithin(IDLE_TIMEOUT_MS + WELCOME_DELAY_MS + 3_000)).toBe(true);
    expect(performance.now() - started).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 50);
    const { lines } = await peer.drainFor(0);
    expect(lines.at(-1)).toMatch(/^bye: nothing received for /);
    await expectServed(server.textPort!);
  });

  it('keeps a connection that keeps talking open past TEXT_IDLE_TIMEOUT_MS', async () => {
    const peer = await peers.connect(server.textPort!);
    for (let round = 0; round < 6; round++) {
      expect(await peer.ask(`round ${round}`)).toBe(`round ${round}`);
      await delay(IDLE_TIMEOUT_MS / 3);
    }
    expect(peer.isClosed).toBe(false);
  });

  it('at TEXT_MAX_CONNECTIONS, closes the connection idle longest with a bye for a newcomer, and the others keep working', async () => {
    const client = pool.create();
    const before = await readStats(client);
    const members = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, () => peers.connect(server.textPort!)));
    for (const [index, peer] of members.entries()) {
      expect(await peer.ask(`member ${index}`)).toBe(`member ${index}`);
    }
    // Member 0 speaks again: member 1 is now the one idle longest.
    expect(await members[0].ask('still here')).toBe('still here');
    const newcomer = await peers.connect(server.textPort!, { localAddress: '127.0.0.2' });
    expect(await newcomer.ask('my turn')).toBe('my turn');
    expect(await members[1].closesWithin(2_000)).toBe(true);
    const { lines } = await members[1].drainFor(0);
    expect(lines.at(-1)).toBe('bye: the server is at TEXT_MAX_CONNECTIONS and this connection was idle the longest');
    for (const index of [0, 2]) {
      expect(await members[index].ask(`still member ${index}`)).toBe(`still member ${index}`);
    }
    const after = await readStats(client);
    expect(after.connections.evicted - before.connections.evicted).toBe(1);
    expect(after.connections.rejected - before.connections.rejected).toBe(0);
    expect(after.transports.text.connections.open).toBe(MAX_CONNECTIONS);
  });
});

describe('text gateway: encodings', () => {
  let auto: RunningEchoServer;
  let fixedGbk: RunningEchoServer;
  const peers = new PeerSet();

  beforeAll(async () => {
    [auto, fixedGbk] = await Promise.all([
      startTestServer({ LOG_LEVEL: 'fatal' }),
      startTestServer({ TEXT_ENCODING: 'gbk', LOG_LEVEL: 'fatal' }),
    ]);
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await peers.destroyAll();
    await Promise.all([auto?.close(), fixedGbk?.close()]);
  });

  it('detects GBK from the first non-ASCII line and replies in GBK', async () => {
    const peer = await peers.connect(auto.textPort!, { encoding: 'gbk' });
    await peer.send('plain ASCII first');
    expect(await peer.readLine()).toBe('plain ASCII first');
    await peer.send('你好，世界');
    expect((await peer.readLineBytes()).equals(gbk('你好，世界'))).toBe(true);
    // Replies the server writes itself come in GBK too.
    await peer.send('/reverse 你好世界');
    expect((await peer.readLineBytes()).equals(gbk('界世好你'))).toBe(true);
    await peer.send('/upper abc 中文');
    expect((await peer.readLineBytes()).equals(gbk('ABC 中文'))).toBe(true);
  });

  it('detects UTF-8, then refuses GBK bytes until /encoding gbk switches the connection', async () => {
    const peer = await peers.connect(auto.textPort!);
    expect(await peer.ask('héllo 你好')).toBe('héllo 你好');
    await peer.write(Buffer.concat([gbk('你好'), Buffer.from('\n')]));
    expect(await peer.readLine()).toBe(
      "ERR INVALID_TEXT the line is not valid UTF-8, this connection's encoding; send /encoding gbk to switch",
    );
    expect(await peer.ask('/encoding gbk')).toBe('* encoding gbk');
    peer.encoding = 'gbk';
    await peer.send('你好');
    expect((await peer.readLineBytes()).equals(gbk('你好'))).toBe(true);
    expect(await peer.ask('/encoding utf-8')).toBe('* encoding utf-8');
    peer.encoding = 'utf-8';
    expect(await peer.ask('/reverse 你好')).toBe('好你');
  });

  it('/encoding gbk reads bytes that are valid in both as GBK', async () => {
    const peer = await peers.connect(auto.textPort!);
    const both = Buffer.from('ä', 'utf8'); // C3 A4: UTF-8 "ä", GBK "盲"
    await peer.write(Buffer.concat([Buffer.from('/upper '), both, Buffer.from('\n')]));
    expect((await peer.readLineBytes()).toString('utf8')).toBe('Ä'); // undecided: UTF-8 wins
    const switched = await peers.connect(auto.textPort!);
    expect(await switched.ask('/encoding gbk')).toBe('* encoding gbk');
    await switched.write(Buffer.concat([Buffer.from('/upper '), both, Buffer.from('\n')]));
    expect((await switched.readLineBytes()).equals(gbk('盲'))).toBe(true);
  });

  it('refuses an unknown /encoding', async () => {
    const peer = await peers.connect(auto.textPort!);
    expect(await peer.ask('/encoding latin1')).toBe('ERR INVALID_COMMAND_ARGS encoding: expects utf-8 or gbk');
    expect(await peer.ask('/encoding')).toBe('ERR INVALID_COMMAND_ARGS encoding: expects utf-8 or gbk');
  });

  it('TEXT_ENCODING=gbk reads and writes GBK from the first byte, and refuses /encoding', async () => {
    const peer = await peers.connect(fixedGbk.textPort!, { encoding: 'gbk' });
    await peer.send('固定的编码');
    expect((await peer.readLineBytes()).equals(gbk('固定的编码'))).toBe(true);
    // C3 A4 is "ä" in UTF-8, but this port reads GBK: "盲", which has no upper case.
    await peer.write(Buffer.concat([Buffer.from('/upper '), Buffer.from('ä', 'utf8'), Buffer.from('\n')]));
    expect((await peer.readLineBytes()).equals(gbk('盲'))).toBe(true);
    expect(await peer.ask('/encoding utf-8')).toBe('ERR INVALID_COMMAND_ARGS encoding: fixed to gbk on this port');
    await peer.send('仍然是GBK');
    expect((await peer.readLineBytes()).equals(gbk('仍然是GBK'))).toBe(true);
  });

  it('TEXT_ENCODING=gbk sends the welcome in ASCII', async () => {
    const peer = await peers.connect(fixedGbk.textPort!, { encoding: 'gbk' });
    const welcome = await peer.readLineBytes(WELCOME_DELAY_MS + 2_000);
    expect(welcome.every((byte) => byte >= 0x20 && byte < 0x7f)).toBe(true);
    expect(welcome.toString('latin1')).toContain('/help');
  });
});

describe('text gateway: chat', () => {
  let server: RunningEchoServer;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({ CHAT_MAX_MEMBERS: '2', TEXT_WELCOME_DELAY_MS: '60000', LOG_LEVEL: 'fatal' });
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await peers.destroyAll();
    await server?.close();
  });

  async function stats(peer: LinePeer): Promise<ServerStats> {
    return JSON.parse(await peer.ask('/stats')) as ServerStats;
  }

  it('lets a UTF-8 member and a GBK member talk, each reading the other in its own encoding', async () => {
    const alice = await peers.connect(server.textPort!);
    const ming = await peers.connect(server.textPort!, { encoding: 'gbk' });
    const carol = await peers.connect(server.textPort!);
    const before = await stats(carol);

    expect(await alice.ask('/nick alice')).toBe('* you are alice');
    await ming.send('/nick 小明');
    expect((await ming.readLineBytes()).equals(gbk('* you are 小明'))).toBe(true);
    expect(await alice.ask('/join lobby')).toBe('* you joined #lobby: alice (1 member)');
    expect(await ming.ask('/join #lobby')).toBe('* you joined #lobby: alice, 小明 (2 members)');
    expect(await alice.readLine()).toBe('* 小明 joined #lobby');
    expect(await alice.ask('/who')).toBe('* #lobby: alice, 小明 (2 members)');

    await alice.send('你好，小明！');
    const toMing = await ming.readLineBytes();
    expect(toMing.equals(gbk('<alice> 你好，小明！'))).toBe(true);
    await ming.send('你好，alice。');
    const toAlice = await alice.readLineBytes();
    expect(toAlice.equals(Buffer.from('<小明> 你好，alice。', 'utf8'))).toBe(true);

    // A room member's lines are not echoed to it; commands still answer it alone.
    expect(await ming.drainFor(100)).toEqual({ lines: [], partialBytes: 0 });
    expect(await ming.ask('/upper 好')).toBe('好');

    // A third connection: the nick is taken (ignoring case) and the room is full.
    expect(await carol.ask('/nick ALICE')).toBe('ERR INVALID_COMMAND_ARGS nick: the nick ALICE is taken');
    expect(await carol.ask('/join lobby')).toBe('ERR LIMIT_REACHED #lobby is full (2 members)');
    expect(await carol.ask('/who')).toBe('* you are not in a room; rooms: #lobby (2)');
    expect(await carol.ask('/nick carol')).toBe('* you are carol');

    expect(await ming.ask('/leave')).toBe('* you left #lobby');
    expect(await alice.readLine()).toBe('* 小明 left #lobby');
    expect(await ming.ask('echoed again')).toBe('echoed again');

    expect(await carol.ask('/join lobby')).toBe('* you joined #lobby: alice, carol (2 members)');
    expect(await alice.readLine()).toBe('* carol joined #lobby');
    carol.destroy();
    expect(await alice.readLine()).toBe('* carol left (disconnected) #lobby');

    // Delivered: ming's join, alice's line, ming's line, ming's leave, carol's join and carol's departure, to one member each.
    const after = await stats(ming);
    expect(after.chat.deliveries - before.chat.deliveries).toBe(6);
    expect(after.chat.cutOff - before.chat.cutOff).toBe(0);
    expect(after.chat).toMatchObject({ rooms: 1, members: 1 });
    expect(await ming.drainFor(50)).toEqual({ lines: [], partialBytes: 0 });
  });

  it("refuses look-alikes of a member's nick, sent in UTF-8 and in GBK, and frees them with the nick", async () => {
    const alice = await peers.connect(server.textPort!);
    const mallory = await peers.connect(server.textPort!);
    const wang = await peers.connect(server.textPort!, { encoding: 'gbk' });
    expect(await alice.ask('/nick alice')).toBe('* you are alice');
    expect(await alice.ask('/join lookalikes')).toBe('* you joined #lookalikes: alice (1 member)');

    // A Cyrillic а (UTF-8 D0 B0), then full-width letters in GBK (A3 E1 ...), then the ligature ﬁ.
    expect(await mallory.ask('/nick \u0430lice')).toBe(
      'ERR INVALID_COMMAND_ARGS nick: the nick \u0430lice looks like alice, which is taken',
    );
    expect(await wang.ask('/nick \uFF41\uFF4C\uFF49\uFF43\uFF45')).toBe(
      'ERR INVALID_COMMAND_ARGS nick: the nick \uFF41\uFF4C\uFF49\uFF43\uFF45 looks like alice, which is taken',
    );
    expect(await alice.ask('/nick \uFB01')).toBe('* you are \uFB01');
    expect(await mallory.ask('/nick fi')).toBe('ERR INVALID_COMMAND_ARGS nick: the nick fi looks like \uFB01, which is taken');
    expect(await alice.ask('/who')).toBe('* #lookalikes: \uFB01 (1 member)');

    // Shown as typed to the room; freed once its holder is gone.
    expect(await mallory.ask('/join lookalikes')).toMatch(/^\* you joined #lookalikes: \uFB01, guest-\d+ \(2 members\)$/);
    alice.destroy();
    expect(await mallory.readLine()).toBe('* \uFB01 left (disconnected) #lookalikes');
    expect(await mallory.ask('/nick FI')).toBe('* you are FI');
    expect(await wang.ask('/nick \uFF41\uFF4C\uFF49\uFF43\uFF45')).toBe('* you are \uFF41\uFF4C\uFF49\uFF43\uFF45');
  });

  it('refuses bad nicks and room names', async () => {
    const peer = await peers.connect(server.textPort!);
    expect(await peer.ask('/nick guest-7')).toMatch(/^ERR INVALID_COMMAND_ARGS nick: a nick is 1 to 24 /);
    expect(await peer.ask(`/nick ${'n'.repeat(25)}`)).toMatch(/^ERR INVALID_COMMAND_ARGS nick: /);
    expect(await peer.ask('/nick a\tb')).toMatch(/^ERR INVALID_COMMAND_ARGS nick: /);
    expect(await peer.ask('/join no/slash')).toMatch(/^ERR INVALID_COMMAND_ARGS join: a room name is 1 to 32 /);
    expect(await peer.ask('/leave')).toBe('* you are not in a room');
  });
});

describe('text gateway: a chat member that does not read', () => {
  const LINE_BYTES = 16 * 1024;
  const MAX_LINES = 4_000;
  let server: RunningEchoServer;
  let pool: ClientPool;
  let client: EchoClient;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({ CHAT_MAX_BACKLOG_BYTES: '65536', TEXT_WELCOME_DELAY_MS: '60000', LOG_LEVEL: 'fatal' });
    pool = new ClientPool(server);
    client = pool.create();
  });

  afterEach(() => peers.destroyAll());

  afterAll(async () => {
    await peers.destroyAll();
    await pool?.closeAll();
    await server?.close();
  });

  /** Alice, bob and a slow member in `room`, their announcements read; the slow one has stopped reading. */
  async function room(name: string): Promise<{ alice: LinePeer; bob: LinePeer; slow: LinePeer }> {
    const [alice, bob, slow] = await Promise.all([0, 1, 2].map(() => peers.connect(server.textPort!)));
    expect(await alice.ask(`/nick alice-${name}`)).toBe(`* you are alice-${name}`);
    expect(await bob.ask(`/nick bob-${name}`)).toBe(`* you are bob-${name}`);
    expect(await slow.ask(`/nick slow-${name}`)).toBe(`* you are slow-${name}`);
    expect(await alice.ask(`/join ${name}`)).toMatch(/^\* you joined/);
    expect(await bob.ask(`/join ${name}`)).toMatch(/^\* you joined/);
    expect(await alice.readLine()).toBe(`* bob-${name} joined #${name}`);
    expect(await slow.ask(`/join ${name}`)).toMatch(/^\* you joined/);
    expect(await alice.readLine()).toBe(`* slow-${name} joined #${name}`);
    expect(await bob.readLine()).toBe(`* slow-${name} joined #${name}`);
    slow.pause();
    return { alice: alice, bob: bob, slow: slow };
  }

  function chatLine(index: number): string {
    const head = `line ${index} `;
    return head + 'x'.repeat(LINE_BYTES - head.length);
  }

  it('cuts off a member that does not read while the others keep chatting, counting deliveries and the cut-off exactly', async () => {
    const { alice, bob, slow } = await room('steady');
    const before = await readStats(client);
    let cutAt = 0;
    // One line at a time: bob reads it, then the stats say whether it cut the slow member off.
    for (let index = 1; index <= MAX_LINES && cutAt === 0; index++) {
      await alice.send(chatLine(index));
      expect(await bob.readLine()).toBe(`<alice-steady> ${chatLine(index)}`);
      const stats = await readStats(client);
      if (stats.chat.cutOff > before.chat.cutOff) {
        cutAt = index;
      }
    }
    expect(cutAt).toBeGreaterThan(0);
    console.info(
      `slow chat member: cut off by line ${cutAt} of ${LINE_BYTES} bytes (${cutAt * LINE_BYTES} bytes unread), CHAT_MAX_BACKLOG_BYTES=65536`,
    );
    expect(await bob.readLine()).toBe('* slow-steady left (disconnected) #steady');
    expect(await alice.readLine()).toBe('* slow-steady left (disconnected) #steady');
    await alice.send('still here?');
    expect(await bob.readLine()).toBe('<alice-steady> still here?');
    await bob.send('yes');
    expect(await alice.readLine()).toBe('<bob-steady> yes');

    const after = await readStats(client);
    // Lines before the cut reached two members, the cutting one bob alone; the departure went to two, the last two lines to one each.
    expect(after.chat.deliveries - before.chat.deliveries).toBe(2 * (cutAt - 1) + 1 + 2 + 2);
    expect(after.chat.cutOff - before.chat.cutOff).toBe(1);
    expect(after.chat.members).toBe(before.chat.members - 1);

    // The slow member finds its connection closed once it reads; what it got is intact lines, in order.
    slow.resume();
    expect(await slow.closesWithin(5_000)).toBe(true);
    const { lines } = await slow.drainFor(0);
    expect(lines.length).toBeLessThan(cutAt);
    lines.forEach((line, index) => expect(line).toBe(`<alice-steady> ${chatLine(index + 1)}`));
  }, 60_000);

  it('counts a member cut off once, even when more lines for it were already queued', async () => {
    const { alice, bob, slow } = await room('burst');
    const before = await readStats(client);
    const BURST = 16;
    let sent = 0;
    let left = false;
    // Bursts of lines in one write: the lines after the one that cuts the slow member off are handled before its socket's close.
    while (!left && sent < MAX_LINES) {
      const burst = Array.from({ length: BURST }, (_, offset) => chatLine(sent + offset + 1));
      await alice.write(burst.join('\n') + '\n');
      for (const line of burst) {
        const got = await bob.readLine();
        if (got === '* slow-burst left (disconnected) #burst') {
          left = true;
          expect(await bob.readLine()).toBe(`<alice-burst> ${line}`);
        } else {
          expect(got).toBe(`<alice-burst> ${line}`);
        }
      }
      sent += BURST;
    }
    if (!left) {
      expect(await bob.readLine()).toBe('* slow-burst left (disconnected) #burst');
    }
    expect(await alice.readLine()).toBe('* slow-burst left (disconnected) #burst');
    const after = await pollUntil(
      () => readStats(client),
      (stats) => stats.chat.members === before.chat.members - 1,
    );
    expect(after.chat.cutOff - before.chat.cutOff).toBe(1);
    slow.resume();
    expect(await slow.closesWithin(5_000)).toBe(true);
  }, 60_000);
});

describe('text gateway: 1,000 connections at once', () => {
  const CONNECTIONS = 1_000; // the default TEXT_MAX_CONNECTIONS
  const BOUND_MS = 20_000;
  let server: RunningEchoServer;
  const peers = new PeerSet();

  beforeAll(async () => {
    server = await startTestServer({ LOG_LEVEL: 'fatal' });
  });

  afterAll(async () => {
    await peers.destroyAll();
    await server?.close();
  });

  it(`serves ${CONNECTIONS} concurrent text connections, each its own echo, within ${BOUND_MS / 1000} s`, async () => {
    const started = performance.now();
    let welcomed = 0;
    const replies = await Promise.all(
      Array.from({ length: CONNECTIONS }, async (_, index) => {
        // From four loopback addresses: each holds at most MAX_CONNECTIONS_PER_ADDRESS (256).
        const peer = await peers.connect(server.textPort!, { timeoutMs: BOUND_MS, localAddress: `127.0.0.${1 + (index % 4)}` });
        await peer.send(`connection ${index}`);
        // Under load the welcome may come first, if this line reached the server after TEXT_WELCOME_DELAY_MS.
        const { line, before } = await peer.readUntil((reply) => !reply.startsWith('Welcome to '), BOUND_MS);
        expect(before.length).toBeLessThanOrEqual(1);
        welcomed += before.length;
        return line;
      }),
    );
    const elapsedMs = performance.now() - started;
    console.info(`${CONNECTIONS} text connections: all echoed in ${Math.round(elapsedMs)} ms (${welcomed} got the welcome first)`);
    expect(replies).toEqual(Array.from({ length: CONNECTIONS }, (_, index) => `connection ${index}`));
    expect(elapsedMs).toBeLessThan(BOUND_MS);
  }, 60_000);
});
