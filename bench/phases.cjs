// The load phases of `npm run bench`, run the same way whatever the client. A client passes
// `open()`, which resolves with a connection `{ call(text, done), close() }`: `call` sends one `echo`
// of `text` and calls `done(error, echoedText)` once with the reply's `text`. Percentiles come from
// Node's HDR histogram (`perf_hooks.createHistogram`, 3 significant figures), in nanoseconds.
const { createHistogram } = require('node:perf_hooks');

const SEQ_WARMUP_CALLS = 300;
const SEQ_MAX_CALLS = 20_000;
const SEQ_MAX_MS = 4_000;
const THROUGHPUT_WARMUP_MS = 500;
const THROUGHPUT_MEASURE_MS = 3_000;
const MIB_ROUNDS = 30;
const MIB_MAX_MS = 10_000;

/** `conn.call` as a promise, for the few places that wait for one call. */
function callOnce(conn, text) {
  return new Promise((resolve, reject) => conn.call(text, (error, echoed) => (error ? reject(error) : resolve(echoed))));
}

function wrongEcho(sent, echoed) {
  return new Error(`wrong echo: sent ${JSON.stringify(String(sent).slice(0, 40))}, got ${JSON.stringify(String(echoed).slice(0, 40))}`);
}

/** One call at a time: latency percentiles (p50, p90, p99, p99.9, max) after a warm-up. */
async function sequential(open) {
  const conn = await open();
  for (let i = 0; i < SEQ_WARMUP_CALLS; i += 1) await callOnce(conn, `warm ${i}`);
  const histogram = createHistogram();
  let calls = 0;
  const deadline = performance.now() + SEQ_MAX_MS;
  await new Promise((resolve, reject) => {
    const next = () => {
      if (calls >= SEQ_MAX_CALLS || performance.now() >= deadline) {
        resolve();
        return;
      }
      const text = `seq ${calls}`;
      const started = performance.now();
      conn.call(text, (error, echoed) => {
        const ns = Math.round((performance.now() - started) * 1e6);
        if (error || echoed !== text) {
          reject(error ?? wrongEcho(text, echoed));
          return;
        }
        histogram.record(Math.max(1, ns));
        calls += 1;
        next();
      });
    };
    next();
  });
  await conn.close();
  const us = (p) => histogram.percentile(p) / 1000;
  return {
    calls,
    p50Us: us(50),
    p90Us: us(90),
    p99Us: us(99),
    p999Us: us(99.9),
    maxUs: histogram.max / 1000,
    requests: calls + SEQ_WARMUP_CALLS,
  };
}

/** `connections` connections with `inFlight` calls each, a new call as each reply comes: replies per second. */
async function throughput(open, connections, inFlight) {
  const conns = await Promise.all(Array.from({ length: connections }, () => open()));
  let counting = false;
  let counted = 0;
  let total = 0;
  let stopping = false;
  let failure;
  const workers = conns.flatMap((conn, c) =>
    Array.from(
      { length: inFlight },
      (_, w) =>
        new Promise((resolve) => {
          let i = 0;
          const step = () => {
            if (stopping || failure) {
              resolve();
              return;
            }
            const text = `c${c} w${w} #${i++} échö`;
            conn.call(text, (error, echoed) => {
              if (error || echoed !== text) {
                failure ??= error ?? wrongEcho(text, echoed);
                resolve();
                return;
              }
              total += 1;
              if (counting) counted += 1;
              step();
            });
          };
          step();
        }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, THROUGHPUT_WARMUP_MS));
  counting = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, THROUGHPUT_MEASURE_MS));
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  stopping = true;
  await Promise.all(workers);
  await Promise.all(conns.map((conn) => conn.close()));
  if (failure) throw failure;
  return { reqPerSec: counted / seconds, requests: total };
}

/** A 1 MiB mixed-script text echoed back and forth on one connection: MiB/s of text echoed. */
async function mebibyte(open, text) {
  const bytes = Buffer.byteLength(text);
  const conn = await open();
  if ((await callOnce(conn, text)) !== text) throw wrongEcho(text, '(another text)');
  let rounds = 0;
  const histogram = createHistogram();
  const started = performance.now();
  while (rounds < MIB_ROUNDS && performance.now() - started < MIB_MAX_MS) {
    const t0 = performance.now();
    if ((await callOnce(conn, text)) !== text) throw wrongEcho(text, '(another text)');
    histogram.record(Math.max(1, Math.round((performance.now() - t0) * 1e6)));
    rounds += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  await conn.close();
  return { mibPerSec: (rounds * bytes) / (1024 * 1024) / seconds, p50Ms: histogram.percentile(50) / 1e6, requests: rounds + 1 };
}

/** Runs one phase by name; `mibText` builds the 1 MiB text (only the `mib` phase needs it). */
function runPhase(phase, open, mibText) {
  switch (phase) {
    case 'seq':
      return sequential(open);
    case '1x64':
      return throughput(open, 1, 64);
    case '16x16':
      return throughput(open, 16, 16);
    case 'mib':
      return mebibyte(open, mibText());
    default:
      throw new Error(`unknown phase ${phase}`);
  }
}

/**
 * Runs `main` and prints its result as one JSON line, with the CPU the client process spent per
 * request (its connections opened included); exits 0, or 1 with the error.
 */
function report(main) {
  const cpuBefore = process.cpuUsage();
  main().then(
    (result) => {
      if (result) {
        const { user, system } = process.cpuUsage(cpuBefore);
        result.clientCpuUsPerRequest = (user + system) / result.requests;
        process.stdout.write(`${JSON.stringify(result)}\n`);
      }
      process.exit(0);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

module.exports = { runPhase, report, callOnce, PHASE_NAMES: ['seq', '1x64', '16x16', 'mib'] };
