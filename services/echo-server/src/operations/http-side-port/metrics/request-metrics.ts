import { Injectable, Optional, type OnModuleInit } from '@nestjs/common';
import { TcpContext } from '@nestjs/microservices';
import { Counter, Registry } from 'prom-client';
import { EVENT_PATTERNS, REQUEST_PATTERNS, Transports, type ErrorCode, type TransportName } from '@echo-pair/common';
import { DrainService, type CallObserver } from '../../shutdown/drain.service';
import { GatewayContext } from '../../../core/gateway-context';
import { BucketHistogram, type HistogramSeries } from './bucket-histogram';

/** The `pattern` label of a request whose pattern is not the contract's (a handler reached through a JSON-quoted name). */
export const OTHER_PATTERN = 'other';
/** The `outcome` label of a request that replied; a failed one has its error code. */
const OK_OUTCOME = 'ok';

/**
 * Seconds, from 100 µs (a small echo on loopback is handled in tens of µs) to 10 s
 * (`sleep` at its default bound, SLEEP_MAX_MS); a longer request falls in +Inf.
 */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

const REQUESTS: ReadonlySet<string> = new Set(REQUEST_PATTERNS);
const EVENTS: ReadonlySet<string> = new Set(EVENT_PATTERNS);
const LABEL_NAMES = ['pattern', 'transport', 'outcome'] as const;

type RequestLabel = (typeof LABEL_NAMES)[number];

type RequestLabels = Record<RequestLabel, string>;

/** One label set: its request count (exported through the counter's `collect`), and its histogram series. */
interface Series {
  readonly labels: RequestLabels;
  count: number;
  readonly duration: HistogramSeries<RequestLabel>;
}

/** A context that has started: its start time (`performance.now()`) under the key of one `RequestMetrics`, until it ends. */
type Timed = Record<symbol, number | undefined>;

/**
 * `echo_server_requests_total` and `echo_server_request_duration_seconds`, by pattern, transport
 * and outcome, every label bounded. Fed by the transports' processing hooks (`DrainService.observe`),
 * which see every handled message begin and end, and by the exception filter, which alone knows the
 * error code of a failed one. Labels, and how it records them: docs/operations.md; cost per
 * request: docs/performance.md.
 */
@Injectable()
export class RequestMetrics implements CallObserver, OnModuleInit {
  /**
   * Where a started context keeps its start time: on the context itself (a message's own object,
   * dropped with it), not in a map. One key per instance, so that two never share a start.
   */
  private readonly startedAt = Symbol('RequestMetrics.startedAt');
  private readonly failures = new Map<unknown, ErrorCode>();
  /** transport → pattern → outcome → series. */
  private readonly series = new Map<string, Map<string, Map<string, Series>>>();
  private readonly duration: BucketHistogram<RequestLabel>;

  constructor(
    registry: Registry,
    @Optional() private readonly drain?: DrainService,
  ) {
    const series = this.series;
    new Counter<RequestLabel>({
      name: 'echo_server_requests_total',
      help: 'Requests handled, by pattern (the contract\'s, or "other"), transport and outcome ("ok" or the error code); counted when the reply or error is produced.',
      labelNames: LABEL_NAMES,
      registers: [registry],
      collect() {
        this.reset();
        for (const byPattern of series.values()) {
          for (const byOutcome of byPattern.values()) {
            for (const { labels, count } of byOutcome.values()) {
              this.inc(labels, count);
            }
          }
        }
      },
    });
    // Recorded in plain arrays per series, handed to prom-client at scrape time: no prom-client call per request.
    this.duration = new BucketHistogram<RequestLabel>(
      'echo_server_request_duration_seconds',
      'Time from the dispatch of a request to its handler until its reply or error is produced, by pattern, transport and outcome.',
      REQUEST_DURATION_BUCKETS,
      registry,
    );
  }

  /** Fed by the drain's processing hooks from the start: registers with them. */
  onModuleInit(): void {
    this.drain?.observe(this);
  }

  /** Processing start hook: a message was dispatched. */
  started(context: unknown): void {
    const timed = asTimed(context);
    if (timed !== undefined) {
      timed[this.startedAt] = performance.now();
    }
  }

  /** The exception filter produced the error envelope `code` for the message of `context`. */
  failed(context: unknown, code: ErrorCode): void {
    if (asTimed(context)?.[this.startedAt] !== undefined) {
      this.failures.set(context, code);
    }
  }

  /** Processing end hook: the message's reply or error was produced (an event: its handler finished). */
  ended(context: unknown): void {
    const timed = asTimed(context);
    const startedAt = timed?.[this.startedAt];
    if (timed === undefined || startedAt === undefined) {
      return; // ended without a start, or ended already
    }
    timed[this.startedAt] = undefined; // not `delete`, which would make V8 slow the object down
    let outcome: string = OK_OUTCOME;
    if (this.failures.size > 0) {
      outcome = this.failures.get(context) ?? OK_OUTCOME;
      this.failures.delete(context);
    }
    const transport = transportOf(context);
    if (transport === undefined) {
      return;
    }
    const pattern = (context as TcpContext | GatewayContext).getPattern();
    if (EVENTS.has(pattern)) {
      return; // events: echo_server_events_total, from the stats
    }
    const series = this.seriesOf(transport, REQUESTS.has(pattern) ? pattern : OTHER_PATTERN, outcome);
    series.count += 1;
    this.duration.observe(series.duration, (performance.now() - startedAt) / 1000);
  }

  private seriesOf(transport: TransportName, pattern: string, outcome: string): Series {
    let byPattern = this.series.get(transport);
    if (byPattern === undefined) {
      byPattern = new Map();
      this.series.set(transport, byPattern);
    }
    let byOutcome = byPattern.get(pattern);
    if (byOutcome === undefined) {
      byOutcome = new Map();
      byPattern.set(pattern, byOutcome);
    }
    let series = byOutcome.get(outcome);
    if (series === undefined) {
      const labels: RequestLabels = { pattern, transport, outcome };
      series = { labels, count: 0, duration: this.duration.series(labels) };
      byOutcome.set(outcome, series);
    }
    return series;
  }
}

function transportOf(context: unknown): TransportName | undefined {
  if (context instanceof TcpContext) {
    return Transports.TCP;
  }
  return context instanceof GatewayContext ? context.getTransport() : undefined;
}

/** The context as a carrier of start times: any object can be (Nest's contexts always are objects). */
function asTimed(context: unknown): Timed | undefined {
  return typeof context === 'object' && context !== null ? (context as Timed) : undefined;
}
