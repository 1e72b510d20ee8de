import { MIN_FRAME_LENGTH, type EchoClient, type ServerStats, type SocketRejectionReason } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { readStats, statsWhen } from './support/client-calls';
import { frameOf, RawPeer } from './support/raw-peer';
import { ClientPool, startTestServer } from './support/test-server';

const MAX_LENGTH = MIN_FRAME_LENGTH;
const FRAME_TIMEOUT_MS = 400;
const MAX_CONNECTIONS = 24;
const MAX_PER_ADDRESS = 16;
/** The attackers' address: the observer and the steady client connect from 127.0.0.1. */
const ATTACKER_ADDRESS = '127.0.0.3';
/** A connection rejected at once is closed within this (the grace period for its FIN is 1 s). */
const PROMPT_CLOSE_MS = 2_000;
const STEADY_MAX_REQUESTS = 2_000;

/**
 * Hostile peers against a live server. For each: the attacking connection ends
 * within its bound (or gets an error reply where its frame was well formed), and a
 * well-behaved client running at the same time completes every request.
 */
describe('hostile peers', () => {
  let server: RunningEchoServer;
  let pool: ClientPool;
  let observer: EchoClient;
  const peers: RawPeer[] = [];

  beforeAll(async () => {
    server = await startTestServer({
      INCOMPLETE_MESSAGE_TIMEOUT_MS: String(FRAME_TIMEOUT_MS),
      MAX_CONNECTIONS: String(MAX_CONNECTIONS),
      MAX_CONNECTIONS_PER_ADDRESS: String(MAX_PER_ADDRESS),
      MAX_MESSAGE_LENGTH: String(MAX_LENGTH),
      MAX_IN_FLIGHT_PER_CONNECTION: '64',
      LOG_LEVEL: 'fatal',
    });
    pool = new ClientPool(server);
    observer = pool.create();
    await observer.connect();
  });

  afterEach(() => {
    peers.splice(0).forEach((peer) => peer.destroy());
  });

  afterAll(async () => {
    await pool?.closeAll();
    await server?.close();
  });

  async function peer(): Promise<RawPeer> {
    const connected = await RawPeer.connect(server.port, server.host, ATTACKER_ADDRESS);
    peers.push(connected);
    return connected;
  }

  /** Runs `attack` while a well-behaved client echoes in a loop; every one of its requests must succeed. */
  async function whileServing(attack: () => Promise<void>): Promise<number> {
    const client = pool.create();
    await client.connect();
    let stop = false;
    let completed = 0;
    const steady = (async () => {
      while ((!stop || completed === 0) && completed < STEADY_MAX_REQUESTS) {
        const text = `steady #${completed} ✓`;
        const reply = await client.echo({ text });
        expect(reply.text).toBe(text);
        completed += 1;
      }
    })();
    try {
      await attack();
    } finally {
      stop = true;
      await steady.finally(() => client.close());
    }
    return completed;
  }

  async function rejectionsAdded(before: ServerStats, reason: SocketRejectionReason): Promise<number> {
    const after = await statsWhen(
      observer,
      (stats) => (stats.rejections.byReason[reason] ?? 0) > (before.rejections.byReason[reason] ?? 0),
    );
    return (after.rejections.byReason[reason] ?? 0) - (before.rejections.byReason[reason] ?? 0);
  }

  async function expectRejectedPromptly(bytes: string | Buffer, reason: SocketRejectionReason): Promise<void> {
    const before = await readStats(observer);
    await whileServing(async () => {
      const attacker = await peer();
      await attacker.write(bytes);
      expect(await attacker.closesWithin(PROMPT_CLOSE_MS)).toBe(true);
    });
    expect(await rejectionsAdded(before, reason)).toBe(1);
  }

  /** Streams up to `totalBytes` of `chunk` until the server closes the connection; returns the bytes written. */
  async function flood(attacker: RawPeer, chunk: Buffer, totalBytes: number): Promise<number> {
    let written = 0;
    while (written < totalBytes && (await attacker.write(chunk))) {
      written += chunk.length;
    }
    return written;
  }

  it('closes a no-"#" flood of digits at the digit that passes the maximum length', async () => {
    const before = await readStats(observer);
    await whileServing(async () => {
      const attacker = await peer();
      const written = await flood(attacker, Buffer.alloc(64 * 1024, '7'), 32 * 1024 * 1024);
      expect(await attacker.closesWithin(PROMPT_CLOSE_MS)).toBe(true);
      expect(written).toBeLessThan(32 * 1024 * 1024);
    });
    expect(await rejectionsAdded(before, 'FRAME_TOO_LONG')).toBe(1);
  });

  it('closes a no-"#" flood of garbage at its first byte', async () => {
    const before = await readStats(observer);
    await whileServing(async () => {
      const attacker = await peer();
      await flood(attacker, Buffer.alloc(64 * 1024, 'garbage '), 32 * 1024 * 1024);
      expect(await attacker.closesWithin(PROMPT_CLOSE_MS)).toBe(true);
    });
    expect(await rejectionsAdded(before, 'BAD_HEADER')).toBe(1);
  });

  it('rejects a header with a non-digit', () => expectRejectedPromptly('12x#{}', 'BAD_HEADER'));

  it('rejects oversized header digits', () => expectRejectedPromptly('123456789012345678901234567890#', 'FRAME_TOO_LONG'));

  it('rejects an announced length over the maximum when the header arrives', () =>
    expectRejectedPromptly(`${MAX_LENGTH + 1}#{"pattern":"echo"`, 'FRAME_TOO_LONG'));

  it('rejects invalid JSON', () => expectRejectedPromptly('9#{"a":1,}}', 'INVALID_JSON'));

  it.each(['null', '42', '"text"', '[1,2]'])('rejects the non-object body %s', (body) =>
    expectRejectedPromptly(`${body.length}#${body}`, 'NOT_AN_OBJECT'),
  );

  it('rejects a body that is not UTF-8', () => expectRejectedPromptly(Buffer.from([0x34, 0x23, 0x22, 0xff, 0xfe, 0x22]), 'INVALID_UTF8'));

  it('closes a connection that sends half a frame and stalls, after the incomplete-frame timeout', async () => {
    const before = await readStats(observer);
    await whileServing(async () => {
      const attacker = await peer();
      await attacker.write('100#{"pattern":"echo","data":');
      const started = performance.now();
      expect(await attacker.closesWithin(FRAME_TIMEOUT_MS + PROMPT_CLOSE_MS)).toBe(true);
      expect(performance.now() - started).toBeGreaterThanOrEqual(FRAME_TIMEOUT_MS - 50);
    });
    expect(await rejectionsAdded(before, 'INCOMPLETE_FRAME_TIMEOUT')).toBe(1);
  });

  it('does not let a peer dripping one byte at a time stretch the timeout', async () => {
    await whileServing(async () => {
      const attacker = await peer();
      const started = performance.now();
      const body = `{"pattern":"echo","data":{"text":"${'z'.repeat(200)}"},"id":"drip"}`;
      const bytes = Buffer.from(`${body.length}#${body}`);
      for (let i = 0; i < bytes.length && !attacker.isClosed; i += 1) {
        await attacker.write(bytes.subarray(i, i + 1));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(attacker.isClosed).toBe(true);
      expect(performance.now() - started).toBeLessThan(FRAME_TIMEOUT_MS + PROMPT_CLOSE_MS);
    });
  });

  it('replies with an error envelope to a request whose data has the wrong shape, and keeps the connection', async () => {
    await whileServing(async () => {
      const attacker = await peer();
      await attacker.write(
        frameOf({ pattern: 'echo', id: 'w1', data: { nope: 1 } }) + frameOf({ pattern: 'command', id: 'w2', data: 'upper' }),
      );
      const frames = await attacker.waitForFrames(2, 5_000);

      expect(frames.find((frame) => frame.id === 'w1')).toMatchObject({ err: { code: 'VALIDATION_FAILED' }, isDisposed: true });
      expect(frames.find((frame) => frame.id === 'w2')).toMatchObject({ err: { code: 'VALIDATION_FAILED' }, isDisposed: true });
      expect(attacker.isClosed).toBe(false);
    });
  });

  it('rejects a JSON object without a pattern, which Nest would drop unanswered', () =>
    expectRejectedPromptly(frameOf({ id: 'w3', whatever: true }), 'NO_PATTERN'));

  it("replies to an unknown pattern with Nest's error, and keeps the connection", async () => {
    await whileServing(async () => {
      const attacker = await peer();
      await attacker.write(frameOf({ pattern: 'no-such-pattern', id: 'u1', data: {} }));
      const [reply] = await attacker.waitForFrames(1, 5_000);

      expect(reply).toMatchObject({ id: 'u1', err: 'There is no matching message handler defined in the remote service.' });
      expect(attacker.isClosed).toBe(false);
    });
  });

  it('answers a valid frame split byte by byte', async () => {
    await whileServing(async () => {
      const attacker = await peer();
      const bytes = Buffer.from(frameOf({ pattern: 'echo', id: 'b1', data: { text: 'byte by byte: é€😀' } }));
      for (let i = 0; i < bytes.length; i += 1) {
        await attacker.write(bytes.subarray(i, i + 1));
        await new Promise((resolve) => setImmediate(resolve));
      }
      const [reply] = await attacker.waitForFrames(1, 5_000);

      expect(reply).toMatchObject({ id: 'b1', response: { text: 'byte by byte: é€😀' }, isDisposed: true });
    });
  });

  it('answers thousands of frames coalesced in one write, each once', async () => {
    const count = 5_000;
    await whileServing(async () => {
      const attacker = await peer();
      const frames = Array.from({ length: count }, (_, index) =>
        frameOf({ pattern: 'echo', id: `c${index}`, data: { text: `#${index}` } }),
      );
      await attacker.write(frames.join(''));
      const replies = await attacker.waitForFrames(count, 30_000);

      expect(replies).toHaveLength(count);
      expect(new Set(replies.map((reply) => reply.id)).size).toBe(count);
      expect(replies.every((reply) => (reply.response as { text: string }).text === `#${String(reply.id).slice(1)}`)).toBe(true);
    });
  });

  it('refuses connections past MAX_CONNECTIONS_PER_ADDRESS from one address and counts them, serving another address', async () => {
    const before = await readStats(observer);
    const attempts = MAX_PER_ADDRESS + 24;
    await whileServing(async () => {
      const flood = await Promise.all(Array.from({ length: attempts }, () => peer()));
      const outcomes = await Promise.all(flood.map((attacker) => attacker.closesWithin(PROMPT_CLOSE_MS)));
      expect(outcomes.filter(Boolean).length).toBe(attempts - MAX_PER_ADDRESS);
      flood.forEach((attacker) => attacker.destroy());
    });
    const after = await readStats(observer);
    expect(after.connections.rejected - before.connections.rejected).toBe(attempts - MAX_PER_ADDRESS);
    expect(after.connections.evicted - before.connections.evicted).toBe(0);
  });

  it('survives a peer resetting the connection in the middle of a frame', async () => {
    await whileServing(async () => {
      for (let round = 0; round < 20; round += 1) {
        const attacker = await peer();
        await attacker.write('500#{"pattern":"echo","data":{"text":"cut');
        attacker.reset();
        await attacker.closed;
      }
    });
    // Only the observer is left; the server saw every reset connection close.
    const stats = await statsWhen(observer, (counters) => counters.connections.open === 1);
    expect(stats.connections.open).toBe(1);
  });

  it('stays up and serving after all of it', async () => {
    await expect(observer.echo({ text: 'still here' })).resolves.toMatchObject({ text: 'still here' });
  });
});
