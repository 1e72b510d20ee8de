import {
  ClientErrorCodes,
  createMetricsRegistry,
  ErrorCodes,
  EVENT_PATTERNS,
  OK_OUTCOME,
  REQUEST_PATTERNS,
  type CallListener,
  type ConnectionState,
  type EchoClient,
} from '@echo-pair/common';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The `pattern` label of a call outside the contract, and the `outcome` of a failure of no known code. */
export const OTHER = 'other';

/** Seconds, as the server's request histogram: 100 µs to 10 s (CALL_TIMEOUT_MS is 5 s by default); longer in +Inf. */
export const CALL_DURATION_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Every state a connection can be in; each address exports all of them, so that a state set reads complete. */
export const CONNECTION_STATES: readonly ConnectionState[] = ['idle', 'connecting', 'connected', 'reconnecting', 'closed'];

const PATTERNS: ReadonlySet<string> = new Set([...REQUEST_PATTERNS, ...EVENT_PATTERNS]);
/** `ok`, every error code of the contract and of the client, and `EchoClient`'s `UNEXPECTED`. */
const OUTCOMES: ReadonlySet<string> = new Set([OK_OUTCOME, ...Object.values(ErrorCodes), ...Object.values(ClientErrorCodes), 'UNEXPECTED']);

type CallLabel = 'pattern' | 'outcome';

/** One label set of the call metrics: its counter and histogram children, made once. */
interface CallSeries {
  readonly calls: Counter.Internal;
  readonly duration: Histogram.Internal<CallLabel>;
}

export interface WorkerMetricsOptions {
  /** The server's port the worker calls (TCP, or UDP with ECHO_TRANSPORT=udp): the port part of the `address` label. */
  port: number;
}

/**
 * The worker's Prometheus metrics, on a registry of its own (with the process's default metrics):
 * `echo_worker_calls_total` and `echo_worker_call_duration_seconds` by `pattern` and `outcome`, fed
 * by `EchoClient`'s `onCall` as each call ends; `echo_worker_connections{address,state}` and
 * `echo_worker_reconnects_total{address}` (connections opened again after the first), read from the
 * watched clients' `connectionInfo()` when scraped. Every label is bounded: docs/operations.md.
 */
export class WorkerMetrics {
  readonly registry: Registry;
  private readonly clients = new Set<EchoClient>();
  /** Per client, per replica address: the reconnects already counted. */
  private readonly counted = new WeakMap<EchoClient, Map<string, number>>();
  /** Per `address` label: reconnects counted so far (the counter's value; it never goes down). */
  private readonly reconnectTotals = new Map<string, number>();
  private readonly series = new Map<string, Map<string, CallSeries>>();
  private readonly calls: Counter<CallLabel>;
  private readonly duration: Histogram<CallLabel>;

  constructor(private readonly options: WorkerMetricsOptions) {
    this.registry = createMetricsRegistry();
    const registers = [this.registry];
    this.calls = new Counter<CallLabel>({
      name: 'echo_worker_calls_total',
      help: 'Calls the worker made, by pattern and outcome ("ok" or the error code); counted when the call ended.',
      labelNames: ['pattern', 'outcome'],
      registers,
    });
    this.duration = new Histogram<CallLabel>({
      name: 'echo_worker_call_duration_seconds',
      help: 'Time from a call to its reply or failure, waits for a connection and repeats included, by pattern and outcome.',
      labelNames: ['pattern', 'outcome'],
      buckets: [...CALL_DURATION_BUCKETS],
      registers,
    });
    // Each collect() of a scrape runs on its own: each reads the clients afresh (a few replicas each).
    const read = (): ReturnType<WorkerMetrics['readConnections']> => this.readConnections();
    new Gauge<'address' | 'state'>({
      name: 'echo_worker_connections',
      help: "The worker's connections to each server address (host:port of a replica), by state: idle, connecting, connected, reconnecting, closed.",
      labelNames: ['address', 'state'],
      registers,
      collect() {
        this.reset();
        for (const [address, byState] of read().states) {
          CONNECTION_STATES.forEach((state) => this.set({ address, state }, byState.get(state) ?? 0));
        }
      },
    });
    new Counter<'address'>({
      name: 'echo_worker_reconnects_total',
      help: 'Connections to each server address opened again after the first (after a drop or a failed attempt).',
      labelNames: ['address'],
      registers,
      collect() {
        this.reset();
        for (const [address, total] of read().reconnects) {
          this.inc({ address }, total);
        }
      },
    });
  }

  /** `EchoClient`'s `onCall`: counts and times each call as it ends. */
  readonly onCall: CallListener = (pattern, outcome, seconds) => {
    const series = this.seriesOf(PATTERNS.has(pattern) ? pattern : OTHER, OUTCOMES.has(outcome) ? outcome : OTHER);
    series.calls.inc();
    series.duration.observe(seconds);
  };

  /** Reads `client`'s connections at every scrape, until it is closed. */
  watch(client: EchoClient): EchoClient {
    this.clients.add(client);
    return client;
  }

  /** The text `GET /metrics` answers. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  private seriesOf(pattern: string, outcome: string): CallSeries {
    let byOutcome = this.series.get(pattern);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      this.series.set(pattern, byOutcome);
    }
    let series = byOutcome.get(outcome);
    if (series === undefined) {
      const labels = { pattern, outcome };
      series = { calls: this.calls.labels(labels), duration: this.duration.labels(labels) };
      byOutcome.set(outcome, series);
    }
    return series;
  }

  /** The connections of the watched clients by address and state, and the reconnect totals brought up to date. */
  private readConnections(): { states: Map<string, Map<ConnectionState, number>>; reconnects: ReadonlyMap<string, number> } {
    const states = new Map<string, Map<ConnectionState, number>>();
    for (const client of this.clients) {
      const info = client.connectionInfo();
      let counted = this.counted.get(client);
      if (counted === undefined) {
        counted = new Map();
        this.counted.set(client, counted);
      }
      for (const replica of info.replicas) {
        const address = this.addressOf(replica.address);
        const reconnects = Math.max(0, replica.connects - 1);
        const before = counted.get(replica.address) ?? 0;
        // A replica dropped and added again starts from zero: what it has is new.
        const added = reconnects >= before ? reconnects - before : reconnects;
        counted.set(replica.address, reconnects);
        this.reconnectTotals.set(address, (this.reconnectTotals.get(address) ?? 0) + added);
        if (info.state !== 'closed') {
          let byState = states.get(address);
          if (byState === undefined) {
            byState = new Map();
            states.set(address, byState);
          }
          byState.set(replica.state, (byState.get(replica.state) ?? 0) + 1);
        }
      }
      if (info.state === 'closed') {
        this.clients.delete(client); // its reconnects are counted; it has no connection left
      }
    }
    return { states, reconnects: this.reconnectTotals };
  }

  /** `host:port` of a replica address (an IPv6 address in brackets). */
  private addressOf(address: string): string {
    return `${address.includes(':') ? `[${address}]` : address}:${this.options.port}`;
  }
}
