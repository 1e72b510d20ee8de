import type { ServerStats } from '@echo-pair/common';
import { pollUntil, type LinePeer } from './line-peer';

/** Where the scenario's members connect and how it reads the server's counters. */
export interface FloodScenario {
  connect(): Promise<LinePeer>;
  /** Where the member that never reads connects, if not by `connect` (see the container suite). */
  connectSilent?(): Promise<LinePeer>;
  readStats(): Promise<ServerStats>;
  /** The server's CHAT_STALL_MS. */
  stallMs: number;
  /** Lines of 1 KiB the flooder writes at once; 10,000 by default. */
  lines?: number;
  /** Bound on reading the whole flood. */
  readBoundMs?: number;
}

/**
 * The scenario: in one room a flooder writes `lines` lines of 1 KiB as fast as it can, a
 * member reads them in fits, a third member never reads. The reader gets every line in order;
 * the silent member is cut off once it has read nothing for CHAT_STALL_MS, not before, and it
 * alone; the flooder stays on and its later lines arrive. Returns what it measured.
 */
export async function expectFairFlood(scenario: FloodScenario): Promise<{ floodMs: number; cutOffAfterMs: number; silentLines: number }> {
  const { stallMs, lines: LINES = 10_000, readBoundMs = 30_000 } = scenario;
  const [flooder, reader, silent] = await Promise.all([
    scenario.connect(),
    scenario.connect(),
    (scenario.connectSilent ?? scenario.connect).call(scenario),
  ]);
  await joinRoom('flood', [
    { peer: flooder, nick: 'flooder' },
    { peer: reader, nick: 'reader' },
    { peer: silent, nick: 'silent' },
  ]);
  silent.pause();
  const before = await scenario.readStats();
  const fits = readInFits(reader);

  const startedAt = performance.now();
  // About 10 MiB in one write: Node and the kernel send it as fast as the server reads it.
  const written = flooder.write(Array.from({ length: LINES }, (_, index) => `${floodLine(index + 1)}\n`).join(''));
  const cut = statsWhen(scenario.readStats, (stats) => stats.chat.cutOff > before.chat.cutOff, stallMs + readBoundMs).then((stats) => ({
    stats,
    afterMs: performance.now() - startedAt,
  }));
  const read = await readChat(reader, LINES, (line) => line.startsWith('<flooder> '), readBoundMs);
  const floodMs = performance.now() - startedAt;
  fits.stop();

  expect(read.error).toBeUndefined();
  expect(read.lines).toHaveLength(LINES);
  expect(firstMismatch(read.lines, LINES, (index) => `<flooder> ${floodLine(index + 1)}`)).toBe(-1);
  expect(await written).toBe(true);

  // The silent member is cut off once it has read nothing for CHAT_STALL_MS, not before; it alone.
  const { stats, afterMs } = await cut;
  expect(stats.chat.cutOff - before.chat.cutOff).toBe(1);
  expect(afterMs).toBeGreaterThanOrEqual(stallMs);
  expect(afterMs).toBeLessThan(stallMs + 15_000);
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
  const after = await scenario.readStats();
  expect(after.chat.cutOff - before.chat.cutOff).toBe(1);
  expect(after.chat.members).toBe(before.chat.members - 1);

  // What the silent member did get is whole lines, in order, and then its connection is closed.
  silent.resume();
  expect(await silent.closesWithin(10_000)).toBe(true);
  const got = (await silent.drainFor(0)).lines;
  expect(got.length).toBeLessThan(LINES);
  expect(firstMismatch(got, got.length, (index) => `<flooder> ${floodLine(index + 1)}`)).toBe(-1);
  return { floodMs, cutOffAfterMs: afterMs, silentLines: got.length };
}

/** A chat line of `bytes` bytes (with its newline), numbered. */
export function floodLine(index: number, bytes = 1024): string {
  const head = `flood ${index} `;
  return head + 'x'.repeat(bytes - 1 - head.length);
}

/**
 * Reads like a slow but steady client: it stops reading for `pauseMs`, then reads for as long,
 * over and over (the kernel buffers fill meanwhile), until `stop()`.
 */
export function readInFits(peer: LinePeer, pauseMs = 5): { stop(): void } {
  let paused = false;
  const timer = setInterval(() => {
    paused = !paused;
    if (paused) {
      peer.pause();
    } else {
      peer.resume();
    }
  }, pauseMs);
  return {
    stop: () => {
      clearInterval(timer);
      peer.resume();
    },
  };
}

/**
 * Reads chat lines from `peer` until `count` of them satisfy `counted`, or `timeoutMs` passed;
 * returns those lines in order and the others (announcements, say) apart.
 */
export async function readChat(
  peer: LinePeer,
  count: number,
  counted: (line: string) => boolean,
  timeoutMs: number,
): Promise<{ lines: string[]; others: string[]; error?: string }> {
  const deadline = performance.now() + timeoutMs;
  const lines: string[] = [];
  const others: string[] = [];
  while (lines.length < count) {
    let line: string;
    try {
      line = await peer.readLine(Math.max(1, deadline - performance.now()));
    } catch (error) {
      return { lines, others, error: (error as Error).message };
    }
    (counted(line) ? lines : others).push(line);
  }
  return { lines, others };
}

/** The index of the first line that differs from `expected(index)`, or -1; a whole diff of 10,000 lines says less. */
export function firstMismatch(lines: string[], count: number, expected: (index: number) => string): number {
  for (let index = 0; index < count; index++) {
    if (lines[index] !== expected(index)) {
      return index;
    }
  }
  return -1;
}

/** Members of one room, joined, their announcements read. */
export async function joinRoom(room: string, members: Array<{ peer: LinePeer; nick: string }>): Promise<void> {
  for (const [index, { peer, nick }] of members.entries()) {
    expect(await peer.ask(`/nick ${nick}`)).toBe(`* you are ${nick}`);
    expect(await peer.ask(`/join ${room}`)).toMatch(new RegExp(`^\\* you joined #${room}: `));
    for (const earlier of members.slice(0, index)) {
      expect(await earlier.peer.readLine()).toBe(`* ${nick} joined #${room}`);
    }
  }
}

/** The stats once `holds` is true of them, or the last read after `timeoutMs`. */
export function statsWhen(
  read: () => Promise<ServerStats>,
  holds: (stats: ServerStats) => boolean,
  timeoutMs = 10_000,
): Promise<ServerStats> {
  return pollUntil(read, holds, timeoutMs, 50);
}
