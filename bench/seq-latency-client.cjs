// The sequential phase of seq-latency.cjs: `node bench/seq-latency-client.cjs <kind> <port> <samples>`.
// Writes one JSON text on fd 3: every sample (µs), how many of the slowest 1% overlap a client GC pause,
// heap bytes per call, preemptions per 1000 calls.
const { open } = require('./load-client.cjs');
const { callOnce } = require('./phases.cjs');

const [kind, portText] = process.argv.slice(2);

const { createHistogram } = require('node:perf_hooks');

const samples = Math.min(100_000, Number(process.argv[4]));
const gcs = [];
new PerformanceObserver((list) => gcs.push(...list.getEntries().map((e) => [e.startTime, e.startTime + e.duration]))).observe({
  entryTypes: ['gc'],
});

(async () => {
  const conn = await open(kind, Number(portText));
  for (let i = 0; i < 300; i += 1) await callOnce(conn, `warm ${i}`);
  const times = new Float64Array(samples);
  const starts = new Float64Array(samples);
  const switchesBefore = contextSwitches(process.pid);
  const heapBefore = process.memoryUsage().heapUsed;
  let allocated = 0;
  let lastHeap = heapBefore;
  const deadline = performance.now() + 30_000;
  let n = 0;
  while (n < samples && performance.now() < deadline) {
    const started = performance.now();
    await callOnce(conn, `seq ${n}`);
    const ended = performance.now();
    const probe = globalThis.__probe; // set by a `-r` preload that times the socket (SEQ_NODE_FLAGS), if any
    if (probe) {
      probe.sends.push((probe.w - started) * 1000);
      probe.recvs.push((ended - probe.d) * 1000);
      probe.gaps.push((probe.d - probe.w) * 1000);
    }
    starts[n] = started;
    times[n] = (ended - started) * 1000;
    n += 1;
    if (n % 64 === 0) {
      const heap = process.memoryUsage().heapUsed;
      if (heap > lastHeap) allocated += heap - lastHeap; // a drop is a GC: count growth only
      lastHeap = heap;
    }
  }
  const switches = contextSwitches(process.pid);
  await conn.close();
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the gc observer deliver
  const list = Array.from(times.subarray(0, n));
  const histogram = createHistogram();
  for (const us of list) histogram.record(Math.max(1, Math.round(us * 1000)));
  const p99 = histogram.percentile(99) / 1000;
  let slowInGc = 0;
  for (let i = 0; i < n; i += 1) {
    if (times[i] < p99) continue;
    const a = starts[i];
    const b = a + times[i] / 1000;
    if (gcs.some(([s, e]) => s < b && e > a)) slowInGc += 1;
  }
  require('node:fs').writeSync(
    3,
    JSON.stringify({
      samples: list,
      slowInGc,
      heapBytesPerCall: allocated / n,
      preemptedPer1000: (1000 * (switches.involuntary - switchesBefore.involuntary)) / n,
    }),
  );
  process.exit(0);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});

/** Involuntary context switches (preemptions by the scheduler) of a process so far. */
function contextSwitches(pid) {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
  return { involuntary: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]) };
}
