// What recording one request costs the server's request metrics (RequestMetrics), without a
// network: 1e6 started/ended pairs on fresh TcpContexts, 64 in flight, through the built
// RequestMetrics (services/echo-server/dist) and through the former way (start times in a Map, a
// prom-client Histogram child observed per request), alternately in one process. Also the start
// time's store alone: a Map keyed by context against a symbol-keyed property on the context.
// Prints the median CPU ns per request of each, less the loop's own cost (contexts, the clock).
// Usage: npx tsc -b && node bench/metrics-record.cjs
require('reflect-metadata');
const fs = require('node:fs');
const path = require('node:path');
const { TcpContext } = require('@nestjs/microservices');
const { Histogram, Registry } = require('prom-client');
const { EVENT_PATTERNS, REQUEST_PATTERNS } = require('@echo-pair/common');
const { RequestMetrics, REQUEST_DURATION_BUCKETS } = require(
  path.join(__dirname, '../services/echo-server/dist/operations/http-side-port/metrics/request-metrics'),
);

const REQUESTS = 1_000_000;
const IN_FLIGHT = 64;
const ROUNDS = 7;
const SOCKET = {};
const EVENTS = new Set(EVENT_PATTERNS);
const REQUESTS_PATTERNS = new Set(REQUEST_PATTERNS);

/** The former RequestMetrics' hot path, line for line: a Map of start times, a prom-client Histogram child per series. */
class FormerRequestMetrics {
  constructor(registry) {
    this.startedAt = new Map();
    this.failures = new Map();
    this.series = new Map();
    this.duration = new Histogram({
      name: 'echo_server_request_duration_seconds',
      help: 'Former request durations.',
      labelNames: ['pattern', 'transport', 'outcome'],
      buckets: [...REQUEST_DURATION_BUCKETS],
      registers: [registry],
    });
  }
  started(context) {
    this.startedAt.set(context, performance.now());
  }
  ended(context) {
    const startedAt = this.startedAt.get(context);
    if (startedAt === undefined) return;
    this.startedAt.delete(context);
    let outcome = 'ok';
    if (this.failures.size > 0) {
      outcome = this.failures.get(context) ?? 'ok';
      this.failures.delete(context);
    }
    if (!(context instanceof TcpContext)) return;
    const pattern = context.getPattern();
    if (EVENTS.has(pattern)) return;
    const series = this.seriesOf('tcp', REQUESTS_PATTERNS.has(pattern) ? pattern : 'other', outcome);
    series.count += 1;
    series.duration.observe((performance.now() - startedAt) / 1000);
  }
  seriesOf(transport, pattern, outcome) {
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
      const labels = { pattern, transport, outcome };
      series = { labels, count: 0, duration: this.duration.labels(labels) };
      byOutcome.set(outcome, series);
    }
    return series;
  }
}

/** Only the clock and the contexts, what every variant pays besides its own work. */
const loopOnly = {
  started() {
    performance.now();
  },
  ended() {
    performance.now();
  },
};

const START = Symbol('startedAt');
const startStores = {
  map: (() => {
    const map = new Map();
    return {
      started: (context) => map.set(context, performance.now()),
      ended(context) {
        const startedAt = map.get(context);
        map.delete(context);
        return startedAt;
      },
    };
  })(),
  symbol: {
    started(context) {
      context[START] = performance.now();
    },
    ended(context) {
      const startedAt = context[START];
      context[START] = undefined;
      return startedAt;
    },
  },
};

/** CPU ns per request of REQUESTS requests through `observer`, IN_FLIGHT at a time. */
function run(observer) {
  const batch = new Array(IN_FLIGHT);
  const before = process.cpuUsage();
  for (let done = 0; done < REQUESTS; done += IN_FLIGHT) {
    for (let k = 0; k < IN_FLIGHT; k += 1) {
      batch[k] = new TcpContext([SOCKET, 'echo']);
      observer.started(batch[k]);
    }
    for (let k = 0; k < IN_FLIGHT; k += 1) observer.ended(batch[k]);
  }
  const { user, system } = process.cpuUsage(before);
  return ((user + system) * 1000) / REQUESTS;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const variants = {
  loop: loopOnly,
  former: new FormerRequestMetrics(new Registry()),
  current: new RequestMetrics(new Registry()),
  'start time in a Map': startStores.map,
  'start time on the context': startStores.symbol,
};
const results = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (let round = 0; round < ROUNDS; round += 1) {
  for (const [name, observer] of Object.entries(variants)) results[name].push(run(observer));
}

const cpu = /^model name\s*:\s*(.*)$/m.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
console.log(`${cpu}, Node ${process.version}; ${REQUESTS} requests per round, ${IN_FLIGHT} in flight, ${ROUNDS} rounds each, alternated`);
const loop = median(results.loop);
console.log(`loop alone (fresh TcpContext, two clock reads): ${loop.toFixed(0)} ns per request`);
for (const name of Object.keys(variants).filter((name) => name !== 'loop')) {
  const value = median(results[name]);
  console.log(`${name}: ${(value - loop).toFixed(0)} ns per request beyond the loop (median ${value.toFixed(0)} ns)`);
}
