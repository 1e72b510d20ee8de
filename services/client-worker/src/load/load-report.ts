import { formatMs } from '../output/format';
import type { LoadTally } from './load-tally';
import { summarizeLatencies } from './percentile';

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

export function formatProgress({ tally, requested, durationMs }: LoadRun): string {
  return `progress: ${tally.sent}/${requested} sent, ${tally.ok} ok, ${tally.errors} errors, ${requestRate(tally.completed, durationMs)} req/s`;
}

export function formatLoadReport(run: LoadRun): string[] {
  const { tally, requested, durationMs, cutShort } = run;
  const latency = summarizeLatencies(tally.latencies);
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
