import type { ServerStats } from '@echo-pair/common';
import { pollUntil, type LinePeer } from './line-peer';

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
export function statsWhen(read: () => Promise<ServerStats>, holds: (stats: ServerStats) => boolean, timeoutMs = 10_000): Promise<ServerStats> {
  return pollUntil(read, holds, timeoutMs, 50);
}
