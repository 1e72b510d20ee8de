// Preloaded (`node -r ./bench/servers/probe.cjs`) into every bench server process, whatever the server.
// run-bench.cjs asks it over the IPC channel, around each phase: `begin`, then `end`, which answers with
// what the server process spent in between:
// - cpuUs: user + system CPU time (process.cpuUsage(), µs);
// - allocatedBytes: bytes allocated on the V8 heap. Every byte allocated in the phase is either still
//   on the heap at its end or was freed by a GC during it, so allocated = (used heap at end − used heap
//   at begin) + Σ over the phase's GCs of (used heap before − used heap after), the GCs' heap figures
//   coming from v8.GCProfiler. It counts V8 heap objects (strings, objects, closures, promises…), not
//   Buffer/ArrayBuffer backing stores, which live outside the heap (reported apart as externalGrowth);
// - gc: the phase's GC pauses as perf_hooks reports them (PerformanceObserver, entry type `gc`): count,
//   total and largest pause in ms, and how many were minor (scavenges) and major (mark-compact);
// - syscalls: read and write system calls of the process (/proc/self/io syscr, syscw), which tell how
//   well replies are batched into writes, and its context switches (/proc/self/status): `waits` (it
//   blocked, e.g. idle in epoll) and `preempted` (the scheduler took the CPU from it);
// - cpuSystemUs: the part of cpuUs spent in the kernel (syscalls, and on loopback the peer's TCP receive path).
// With BENCH_CPU_PROF_DIR set, it also records a CPU profile of the phase alone (the inspector's sampling
// profiler, as `--cpu-prof` uses, without the start-up) and writes it there as <pid>-<n>.cpuprofile.
const v8 = require('node:v8');
const { constants } = require('node:perf_hooks'); // PerformanceObserver and performance: Node's globals
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const PROFILE_DIR = process.env.BENCH_CPU_PROF_DIR;
/** With BENCH_HEAP_PROF=1 (and BENCH_CPU_PROF_DIR), a sampling heap profile of the phase instead, collected objects included. */
const HEAP_PROFILE = process.env.BENCH_HEAP_PROF === '1';
let session;
let profiles = 0;

function post(method, params = {}) {
  return new Promise((resolve, reject) => session.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
}

async function startProfile() {
  if (session === undefined) {
    const { Session } = require('node:inspector');
    session = new Session();
    session.connect();
    await post('Profiler.enable');
    await post('Profiler.setSamplingInterval', { interval: 1000 });
  }
  if (HEAP_PROFILE) {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  await post('Profiler.start');
}

async function stopProfile() {
  const { profile } = await post(HEAP_PROFILE ? 'HeapProfiler.stopSampling' : 'Profiler.stop');
  profiles += 1;
  const file = join(PROFILE_DIR, `${process.pid}-${profiles}.${HEAP_PROFILE ? 'heapprofile' : 'cpuprofile'}`);
  writeFileSync(file, JSON.stringify(profile));
  return file;
}

/** Read and write system calls, and context switches (waits, and preemptions), of this process so far (Linux), or undefined. */
function syscalls() {
  try {
    const { readFileSync } = require('node:fs');
    const io = readFileSync('/proc/self/io', 'utf8');
    const status = readFileSync('/proc/self/status', 'utf8');
    return {
      reads: Number(/syscr: (\d+)/.exec(io)[1]),
      writes: Number(/syscw: (\d+)/.exec(io)[1]),
      waits: Number(/\nvoluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]),
      preempted: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]),
    };
  } catch {
    return undefined;
  }
}

if (typeof process.send === 'function') {
  let phase;
  let pauses = [];
  new PerformanceObserver((list) => {
    if (phase !== undefined) pauses.push(...list.getEntries());
  }).observe({ entryTypes: ['gc'] });

  const begin = async () => {
    if (PROFILE_DIR) await startProfile();
    pauses = [];
    const profiler = new v8.GCProfiler();
    profiler.start();
    const heap = v8.getHeapStatistics();
    phase = {
      syscalls: syscalls(),
      profiler,
      startedAt: performance.now(),
      cpu: process.cpuUsage(),
      used: heap.used_heap_size,
      external: heap.external_memory,
    };
    return { ok: true };
  };

  const end = async () => {
    const cpu = process.cpuUsage(phase.cpu);
    const calls = syscalls();
    const heap = v8.getHeapStatistics();
    const { statistics } = phase.profiler.stop();
    let freed = 0;
    for (const gc of statistics) freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    const endedAt = performance.now();
    const profile = PROFILE_DIR ? await stopProfile() : undefined;
    // GC entries are delivered to the observer asynchronously: give them a moment.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const inPhase = pauses.filter((entry) => entry.startTime >= phase.startedAt && entry.startTime <= endedAt);
    const kindOf = (entry) => entry.detail?.kind ?? entry.kind;
    const result = {
      cpuUs: cpu.user + cpu.system,
      cpuSystemUs: cpu.system,
      allocatedBytes: heap.used_heap_size - phase.used + freed,
      externalGrowth: heap.external_memory - phase.external,
      syscalls: calls && phase.syscalls && Object.fromEntries(Object.keys(calls).map((key) => [key, calls[key] - phase.syscalls[key]])),
      gc: {
        count: inPhase.length,
        totalMs: inPhase.reduce((sum, entry) => sum + entry.duration, 0),
        maxMs: inPhase.reduce((max, entry) => Math.max(max, entry.duration), 0),
        minor: inPhase.filter((entry) => kindOf(entry) === constants.NODE_PERFORMANCE_GC_MINOR).length,
        major: inPhase.filter((entry) => kindOf(entry) === constants.NODE_PERFORMANCE_GC_MAJOR).length,
        profiledCount: statistics.length,
        profiledCostMs: statistics.reduce((sum, gc) => sum + gc.cost, 0) / 1000,
      },
      elapsedMs: endedAt - phase.startedAt,
      profile,
    };
    phase = undefined;
    pauses = [];
    return result;
  };

  process.on('message', (message) => {
    if (message === null || typeof message !== 'object' || !('probe' in message)) return;
    Promise.resolve(message.probe === 'begin' ? begin() : end()).then(
      (result) => process.send({ probeReply: message.seq, ...result }),
      (error) => process.send({ probeReply: message.seq, error: String(error) }),
    );
  });
  process.channel?.unref();
}
