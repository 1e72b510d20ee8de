import type { Readable } from 'node:stream';
import type { StartedTestContainer } from 'testcontainers';
import { delay } from './bounded';
import type { Cleanup } from './cleanup';
import type { LoadCounts } from './load-worker';

/** What one replica address had carried at a progress line: calls sent to it, and those that failed on it. */
export interface ReplicaCount {
  calls: number;
  failures: number;
}

/** A progress line of a load worker balancing over replicas, and when the test read it. */
export interface ReplicaProgressLine extends LoadCounts {
  /** `Date.now()` when the line was read (the worker prints one a second, so its counts are at most that old). */
  at: number;
  /** Calls per replica address so far (every address of the run, also gone ones); empty while it knew one address. */
  replicas: ReadonlyMap<string, ReplicaCount>;
}

/** One line of the worker's final per-replica report. */
export interface ReplicaReportLine {
  /** The replica's `hello` instance (its host name), or undefined when it did not answer. */
  instance?: string;
  address: string;
  calls: number;
  failed: number;
}

// `progress: 300/10000 sent, 290 ok, 2 errors, 290 req/s, replicas 10.0.1.5=150 10.0.1.6=148/2`
const PROGRESS_LINE = /^progress: (\d+)\/\d+ sent, (\d+) ok, (\d+) errors, \S+ req\/s(?:, replicas (.+))?$/;
const REPLICA_ENTRY = /^(.+)=(\d+)(?:\/(\d+))?$/;
// `replica 5f2c0a1b9d3e at 10.0.1.5: 1234 calls, 0 failed`
const REPORT_LINE = /^replica (\S+|\(no hello reply\)) at (\S+): (\d+) calls?, (\d+) failed$/gm;
const POLL_MS = 100;

/**
 * The progress lines of a running load worker, with the calls per replica that it adds to them
 * when it balances over several, read as they come from its log stream: a timeline of where
 * the calls went while a test changes the replicas under it.
 */
export class ReplicaProgress {
  private readonly lines: ReplicaProgressLine[] = [];
  private partial = '';

  private constructor(stream: Readable) {
    stream.on('data', (chunk: string) => this.read(chunk));
  }

  /** Follows `worker`'s output from its start; the stream is closed by `cleanup`. */
  static async follow(cleanup: Cleanup, worker: StartedTestContainer): Promise<ReplicaProgress> {
    const stream = await worker.logs();
    cleanup.add(`log stream of ${worker.getId().slice(0, 12)}`, () => Promise.resolve(stream.destroy()));
    return new ReplicaProgress(stream);
  }

  /** The last line read so far; throws when there is none yet. */
  latest(): ReplicaProgressLine {
    const line = this.lines.at(-1);
    if (line === undefined) {
      throw new Error('the load worker has printed no progress line yet');
    }
    return line;
  }

  /** The first line read after `after` (a line, or the start) that satisfies `accept`, waiting at most `timeoutMs`. */
  async waitFor(
    what: string,
    accept: (line: ReplicaProgressLine) => boolean,
    timeoutMs: number,
    after?: ReplicaProgressLine,
  ): Promise<ReplicaProgressLine> {
    const deadline = Date.now() + timeoutMs;
    const from = after === undefined ? 0 : this.lines.indexOf(after) + 1;
    for (let index = from; ;) {
      for (; index < this.lines.length; index += 1) {
        if (accept(this.lines[index])) {
          return this.lines[index];
        }
      }
      if (Date.now() >= deadline) {
        throw new Error(`no progress line showed ${what} within ${timeoutMs} ms; the last ones:\n${this.describe(from)}`);
      }
      await delay(POLL_MS);
    }
  }

  private read(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const parsed = parseProgressLine(line.trimEnd(), Date.now());
      if (parsed !== undefined) {
        this.lines.push(parsed);
      }
    }
  }

  private describe(from: number): string {
    const shown = this.lines.slice(Math.max(from, this.lines.length - 5)).map(formatProgressLine);
    return shown.length === 0 ? 'none' : shown.join('\n');
  }
}

export function parseProgressLine(line: string, at: number): ReplicaProgressLine | undefined {
  const match = PROGRESS_LINE.exec(line);
  if (!match) {
    return undefined;
  }
  const replicas = new Map<string, ReplicaCount>();
  for (const entry of match[4]?.split(' ') ?? []) {
    const replica = REPLICA_ENTRY.exec(entry);
    if (!replica) {
      throw new Error(`a progress line with a replica entry that is not <address>=<calls>[/<failed>]: ${line}`);
    }
    replicas.set(replica[1], { calls: Number(replica[2]), failures: Number(replica[3] ?? 0) });
  }
  return { sent: Number(match[1]), ok: Number(match[2]), errors: Number(match[3]), at, replicas };
}

export function formatProgressLine({ sent, ok, errors, replicas }: ReplicaProgressLine): string {
  const served = [...replicas].map(([address, { calls, failures }]) => `${address}=${calls}${failures > 0 ? `/${failures}` : ''}`);
  return `sent ${sent}, ok ${ok}, errors ${errors}${served.length > 0 ? `; ${served.join(' ')}` : ''}`;
}

/** What each address carried between two lines (an address absent from `from` counts from 0). */
export function replicaDeltas(from: ReplicaProgressLine, to: ReplicaProgressLine): Map<string, ReplicaCount> {
  const deltas = new Map<string, ReplicaCount>();
  for (const [address, { calls, failures }] of to.replicas) {
    const before = from.replicas.get(address) ?? { calls: 0, failures: 0 };
    deltas.set(address, { calls: calls - before.calls, failures: failures - before.failures });
  }
  return deltas;
}

/**
 * The addresses among `addresses` that carried less than half of an even share of the calls
 * between two lines, with their share; empty when every one did its part.
 */
export function belowFairShare(deltas: ReadonlyMap<string, ReplicaCount>, addresses: readonly string[]): string[] {
  const calls = addresses.map((address) => deltas.get(address)?.calls ?? 0);
  const total = calls.reduce((sum, count) => sum + count, 0);
  const floor = total / addresses.length / 2;
  return addresses.flatMap((address, index) =>
    calls[index] >= floor && calls[index] > 0
      ? []
      : [`${address} carried ${calls[index]} of ${total} calls (half an even share: ${floor})`],
  );
}

/** `10.0.1.5 1234, 10.0.1.6 1200 (2 failed)`: calls per address, as a note prints them. */
export function formatDeltas(deltas: ReadonlyMap<string, ReplicaCount>, addresses: readonly string[] = [...deltas.keys()]): string {
  return addresses
    .map((address) => {
      const { calls, failures } = deltas.get(address) ?? { calls: 0, failures: 0 };
      return `${address} ${calls}${failures > 0 ? ` (${failures} failed)` : ''}`;
    })
    .join(', ');
}

/** The final per-replica lines of a load run's transcript (stdout). */
export function parseReplicaReport(stdout: string): ReplicaReportLine[] {
  return [...stdout.matchAll(REPORT_LINE)].map(([, instance, address, calls, failed]) => ({
    instance: instance === '(no hello reply)' ? undefined : instance,
    address,
    calls: Number(calls),
    failed: Number(failed),
  }));
}
