import { formatMs } from '../../output/format';
import type { LoadTally } from './load-tally';
import type { ReplicaCalls } from './replica-calls';

export interface LoadRun {
  tally: LoadTally;
  requested: number;
  durationMs: number;
  /** Why the run stopped issuing requests before sending them all, if it did. */
  cutShort?: string;
}

/** The calls one replica (one address of the server's name) carried, over all the run's clients. */
export interface ReplicaServed {
  address: string;
  /** `hello`'s `instance` of the replica; undefined when it did not answer one. */
  instance?: string;
  /** Calls sent to it, whatever their outcome. */
  calls: number;
  /** Of those, the ones that failed on the transport (lost, timed out, not connected, refused while it drained). */
  failures: number;
}

/**
 * `progress: 300/10000 sent, 290 ok, 2 errors, 290 req/s`, and when the calls have gone to more
 * than one replica (address) in this run, the calls each has carried so far, in numeric order, with
 * `/<failed>` when some failed on it: `, replicas 10.0.1.5=150 10.0.1.6=148/2`. With a single
 * address (an IP address, a name with one), the line is exactly as without balancing.
 */
export function formatProgress({ tally, requested, durationMs }: LoadRun, replicas: readonly ReplicaCalls[] = []): string {
  const line = `progress: ${tally.sent}/${requested} sent, ${tally.ok} ok, ${tally.errors} errors, ${requestRate(tally.completed, durationMs)} req/s`;
  if (replicas.length < 2) {
    return line;
  }
  const served = replicas.map(({ address, calls, failures }) => `${address}=${calls}${failures > 0 ? `/${failures}` : ''}`);
  return `${line}, replicas ${served.join(' ')}`;
}

export function formatLoadReport(run: LoadRun): string[] {
  const { tally, requested, durationMs, cutShort } = run;
  const latency = tally.latencies.summary();
  const lines = [
    `summary: sent ${tally.sent}, ok ${tally.ok}, errors ${tally.errors}, duration ${(durationMs / 1000).toFixed(3)} s, ${requestRate(tally.completed, durationMs)} req/s`,
    tally.ok > 0
      ? `latency ms: p50 ${formatMs(latency.p50)}, p90 ${formatMs(latency.p90)}, p99 ${formatMs(latency.p99)}, max ${formatMs(latency.max)}`
      : 'latency ms: no successful request',
  ];
  if (tally.errors > 0) {
    const byCode = [...tally.errorsByCode].sort(([, a], [, b]) => b - a);
    lines.push(`errors by code: ${byCode.map(([code, count]) => `${code} ${count}`).join(', ')}`);
  }
  if (cutShort !== undefined) {
    lines.push(`stopped early: ${cutShort}; ${tally.sent} of ${requested} requests sent`);
  }
  return lines;
}

function requestRate(completed: number, durationMs: number): string {
  return durationMs > 0 ? Math.round((completed * 1000) / durationMs).toString() : '-';
}

/** One line per replica: how many calls it served, by `hello`'s instance and its address. */
export function formatReplicaReport(replicas: readonly ReplicaServed[]): string[] {
  return [...replicas]
    .sort((a, b) => a.address.localeCompare(b.address, 'en', { numeric: true }))
    .map(
      ({ address, instance, calls, failures }) =>
        `replica ${instance ?? '(no hello reply)'} at ${address}: ${calls} call${calls === 1 ? '' : 's'}, ${failures} failed`,
    );
}
