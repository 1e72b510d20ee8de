import fc from 'fast-check';
import { TcpContext, type TcpSocket } from '@nestjs/microservices';
import { Counter, Histogram, Registry } from 'prom-client';
import { ErrorCodes, EVENT_PATTERNS, REQUEST_PATTERNS, Transports, type ErrorCode, type TransportName } from '@echo-pair/common';
import { GatewayContext } from '../../../core/gateway-context';
import { REQUEST_DURATION_BUCKETS, RequestMetrics } from './request-metrics';

const LABEL_NAMES = ['pattern', 'transport', 'outcome'] as const;
type RequestLabel = (typeof LABEL_NAMES)[number];

/**
 * `RequestMetrics` as it was before its histogram left prom-client's hot path: start times and
 * failures in maps keyed by context, and a prom-client `Histogram` observed per request (the
 * same counter). Kept here as the reference the exposition must stay identical to.
 */
class ReferenceMetrics {
  private readonly startedAt = new Map<unknown, number>();
  private readonly failures = new Map<unknown, ErrorCode>();
  private readonly series = new Map<string, Map<string, Map<string, { labels: Record<RequestLabel, string>; count: number }>>>();
  private readonly duration: Histogram<RequestLabel>;

  constructor(registry: Registry) {
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
    this.duration = new Histogram<RequestLabel>({
      name: 'echo_server_request_duration_seconds',
      help: 'Time from the dispatch of a request to its handler until its reply or error is produced, by pattern, transport and outcome.',
      labelNames: LABEL_NAMES,
      buckets: [...REQUEST_DURATION_BUCKETS],
      registers: [registry],
    });
  }

  started(context: unknown): void {
    this.startedAt.set(context, performance.now());
  }

  failed(context: unknown, code: ErrorCode): void {
    if (this.startedAt.has(context)) {
      this.failures.set(context, code);
    }
  }

  ended(context: unknown): void {
    const startedAt = this.startedAt.get(context);
    if (startedAt === undefined) {
      return;
    }
    this.startedAt.delete(context);
    const outcome = this.failures.get(context) ?? 'ok';
    this.failures.delete(context);
    const transport =
      context instanceof TcpContext ? Transports.TCP : context instanceof GatewayContext ? context.getTransport() : undefined;
    if (transport === undefined) {
      return;
    }
    const pattern = (context as TcpContext | GatewayContext).getPattern();
    if ((EVENT_PATTERNS as readonly string[]).includes(pattern)) {
      return;
    }
    const labels = { pattern: (REQUEST_PATTERNS as readonly string[]).includes(pattern) ? pattern : 'other', transport, outcome };
    const byPattern = this.series.get(transport) ?? new Map<string, Map<string, { labels: Record<RequestLabel, string>; count: number }>>();
    this.series.set(transport, byPattern);
    const byOutcome = byPattern.get(labels.pattern) ?? new Map<string, { labels: Record<RequestLabel, string>; count: number }>();
    byPattern.set(labels.pattern, byOutcome);
    const series = byOutcome.get(outcome) ?? { labels, count: 0 };
    byOutcome.set(outcome, series);
    series.count += 1;
    this.duration.observe(series.labels, (performance.now() - startedAt) / 1000);
  }
}

type Doors = TransportName | 'none';

/** What the hooks and the filter tell the metrics, the scrapes between, and the clock at each call (`performance.now()`, ms). */
type Step =
  | { call: 'started' | 'ended'; context: number; now: number }
  | { call: 'failed'; context: number; code: ErrorCode }
  | { call: 'scrape' }
  | { call: 'reset' };

const CONTEXTS = 16;
/** Clock readings whose difference from 0 ms is exactly a bucket bound once in seconds (0.1 ms / 1000 === 0.0001). */
const BOUND_MS = REQUEST_DURATION_BUCKETS.map((bound) => bound * 1000);

const contextArbitrary = fc.record({
  pattern: fc.constantFrom(...REQUEST_PATTERNS, ...EVENT_PATTERNS, '"echo"', 'ECHO', '127.0.0.1:5050'),
  door: fc.constantFrom<Doors>('tcp', 'text', 'udp', 'none'),
});
const clockArbitrary = fc.oneof(
  fc.constant(0),
  fc.constantFrom(...BOUND_MS),
  fc.constantFrom(...BOUND_MS.map((ms) => ms * (1 + Number.EPSILON))),
  fc.double({ min: 0, max: 20_000, noNaN: true }),
);
const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ call: fc.constantFrom('started', 'ended'), context: fc.nat(CONTEXTS - 1), now: clockArbitrary }) },
  {
    weight: 2,
    arbitrary: fc.record({
      call: fc.constant('failed'),
      context: fc.nat(CONTEXTS - 1),
      code: fc.constantFrom(...Object.values(ErrorCodes)),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ call: 'scrape' as const }) },
  { weight: 1, arbitrary: fc.constant({ call: 'reset' as const }) },
);

function contextOf({ pattern, door }: { pattern: string; door: Doors }): unknown {
  if (door === 'none') {
    return { pattern };
  }
  return door === 'tcp' ? new TcpContext([{} as TcpSocket, pattern]) : new GatewayContext([pattern, door, '127.0.0.1:4242']);
}

describe('RequestMetrics against prom-client observed per request (the reference)', () => {
  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('writes the same exposition, byte for byte, for any sequence of starts, failures and ends', async () => {
    const now = jest.spyOn(performance, 'now');
    await fc.assert(
      fc.asyncProperty(
        fc.array(contextArbitrary, { minLength: CONTEXTS, maxLength: CONTEXTS }),
        fc.array(stepArbitrary, { maxLength: 400, size: 'max' }),
        fc.boolean(),
        async (specs, steps, defaultLabels) => {
          const registries = { subject: new Registry(), reference: new Registry() };
          if (defaultLabels) {
            Object.values(registries).forEach((registry) => registry.setDefaultLabels({ instance: 'a' }));
          }
          const subject = new RequestMetrics(registries.subject);
          const reference = new ReferenceMetrics(registries.reference);
          const contexts = specs.map(contextOf);
          const expectSame = async (): Promise<void> => {
            expect(await registries.subject.metrics()).toBe(await registries.reference.metrics());
          };
          for (const step of steps) {
            if (step.call === 'scrape') {
              await expectSame();
            } else if (step.call === 'reset') {
              Object.values(registries).forEach((registry) => registry.resetMetrics());
            } else if (step.call === 'failed') {
              subject.failed(contexts[step.context], step.code);
              reference.failed(contexts[step.context], step.code);
            } else {
              now.mockReturnValue(step.now);
              subject[step.call](contexts[step.context]);
              reference[step.call](contexts[step.context]);
            }
          }
          await expectSame();
        },
      ),
      { numRuns: 300 },
    );
  }, 30_000); // 300 sequences of up to 400 steps: about 1.5 s alone, more on a busy machine

  it('counts a request that lasted exactly a bound within that bound, as prom-client does (le is "<=")', async () => {
    const registry = new Registry();
    const metrics = new RequestMetrics(registry);
    const context = contextOf({ pattern: 'echo', door: 'tcp' });
    const now = jest.spyOn(performance, 'now').mockReturnValue(0);
    metrics.started(context);
    now.mockReturnValue(1); // 0.001 s
    metrics.ended(context);

    const text = await registry.metrics();
    expect(text).toContain('echo_server_request_duration_seconds_bucket{le="0.0005",pattern="echo",transport="tcp",outcome="ok"} 0\n');
    expect(text).toContain('echo_server_request_duration_seconds_bucket{le="0.001",pattern="echo",transport="tcp",outcome="ok"} 1\n');
    expect(text).toContain('echo_server_request_duration_seconds_bucket{le="+Inf",pattern="echo",transport="tcp",outcome="ok"} 1\n');
  });
});
