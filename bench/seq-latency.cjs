// `node bench/seq-latency.cjs [pairs] [rounds] [samples]` (after `npm run build`): the sequential phase alone,
// in finer grain than `npm run bench`: p50/p90/p99/p99.9, GC pauses per 1000 calls in client and server
// (`--trace-gc`), how many of the slowest 1% overlap a client GC pause, client heap growth per call, and
// preemptions (involuntary context switches) per 1000 calls of each process. Pairs as in run-bench.cjs
// (default "ABCPQ"), interleaved, fresh processes each round. SEQ_HISTOGRAM=1 prints a histogram;
// SEQ_NODE_FLAGS adds node flags to both processes (e.g. `--cpu-prof`). Loopback only, every run bounded.
const { spawn } = require('node:child_process');
const { createHistogram } = require('node:perf_hooks');
const { join } = require('node:path');

// As in run-bench.cjs: A, B, C are the servers driven by the minimal client; P, Q the pairs; S, R diagnostics.
const PAIRS = {
  A: { server: 'project-server.cjs', client: 'minimal' },
  B: { server: 'stock-nest-server.cjs', client: 'minimal' },
  C: { server: 'plain-net-server.cjs', client: 'minimal' },
  P: { server: 'project-server.cjs', client: 'project' },
  Q: { server: 'stock-nest-server.cjs', client: 'stock' },
  S: { server: 'stock-nest-server.cjs', client: 'project', env: { BENCH_SOCKET: 'framed' } },
  R: { server: 'project-server.cjs', client: 'framed-raw' },
};
const [pairArg = 'ABCPQ', roundArg = '3', sampleArg = '20000'] = process.argv.slice(2);
const ROUNDS = Math.min(20, Math.max(1, Number(roundArg)));
const SAMPLES = Math.min(100_000, Math.max(1_000, Number(sampleArg)));
const RUN_LIMIT_MS = 60_000;

function run(script, args, env) {
  const child = spawn(
    process.execPath,
    ['--trace-gc', ...(process.env.SEQ_NODE_FLAGS ?? '').split(' ').filter(Boolean), join(__dirname, script), ...args],
    {
      cwd: join(__dirname, '..'),
      env: { ...process.env, ...env },
      // V8's --trace-gc goes through C stdio, whose buffer can land inside a line of ours: results come on fd 3.
      stdio: ['ignore', 'pipe', 'inherit', 'pipe'],
    },
  );
  const killer = setTimeout(() => child.kill('SIGKILL'), RUN_LIMIT_MS);
  child.once('exit', () => clearTimeout(killer));
  const lines = [];
  let rest = '';
  let port;
  child.stdout.on('data', (chunk) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop();
    lines.push(...parts);
    const found = /\{"port":(\d+)[,}]/.exec(parts.join('\n'));
    if (found && port === undefined) port = Number(found[1]);
  });
  let result = '';
  child.stdio[3].on('data', (chunk) => (result += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const waitPort = async () => {
    for (let i = 0; i < 400 && port === undefined && child.exitCode === null; i += 1) await new Promise((r) => setTimeout(r, 25));
    if (port === undefined) throw new Error(`${script} did not report its port`);
    return { port };
  };
  const json = async () => {
    await exited;
    return JSON.parse(result);
  };
  return { child, lines, json, waitPort, exited };
}

/** `--trace-gc` lines: `[pid:addr:0] 1234 ms: Scavenge 4.1 (5.2) -> 3.2 (6.2) MB, pooled: 0 MB, 0.61 / 0.00 ms ...`. */
function gcPauses(lines) {
  const pauses = [];
  for (const line of lines) {
    const match =
      /\]\s+(\d+) ms: (Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)[^,]*,(?: pooled: [\d.]+ MB,)? ([\d.]+) \/ ([\d.]+) ms/.exec(line);
    if (match) pauses.push({ atMs: Number(match[1]), kind: match[2], ms: Number(match[3]) });
  }
  return pauses;
}

/** Involuntary context switches (preemptions) of a process so far. */
function preempted(pid) {
  const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]);
}

/** Percentiles (µs) of samples in µs, from Node's HDR histogram (3 significant figures). */
function percentilesOf(samples) {
  const histogram = createHistogram();
  for (const us of samples) histogram.record(Math.max(1, Math.round(us * 1000)));
  return { at: (p) => histogram.percentile(p) / 1000, max: histogram.max / 1000 };
}

async function runPair(name) {
  const pair = PAIRS[name];
  const server = run(join('servers', pair.server), [], pair.env);
  try {
    const { port } = await server.waitPort();
    const serverStart = server.lines.length;
    const serverSwitches = preempted(server.child.pid);
    const client = run('seq-latency-client.cjs', [pair.client, String(port), String(SAMPLES)], {});
    const result = await client.json();
    await client.exited;
    const serverPreemptedPer1000 = ((preempted(server.child.pid) - serverSwitches) * 1000) / result.samples.length;
    const clientGc = gcPauses(client.lines);
    const serverGc = gcPauses(server.lines.slice(serverStart));
    const sorted = [...result.samples].sort((a, b) => a - b);
    const percentiles = percentilesOf(result.samples);
    const p99 = percentiles.at(99);
    const slow = result.samples.filter((us) => us >= p99).length;
    return {
      n: sorted.length,
      p50: percentiles.at(50),
      p90: percentiles.at(90),
      p99,
      p999: percentiles.at(99.9),
      max: percentiles.max,
      slowAtOrAboveP99: slow,
      slowInClientGc: result.slowInGc,
      clientGc: { count: clientGc.length, per1000: (1000 * clientGc.length) / (sorted.length + 300), ms: sum(clientGc) },
      serverGc: { count: serverGc.length, per1000: (1000 * serverGc.length) / (sorted.length + 300), ms: sum(serverGc) },
      heapBytesPerCall: result.heapBytesPerCall,
      preempted: { client: result.preemptedPer1000, server: serverPreemptedPer1000 },
      histogram: histogram(sorted),
    };
  } finally {
    server.child.kill('SIGTERM');
    await server.exited;
  }
}

const sum = (pauses) => Number(pauses.reduce((total, pause) => total + pause.ms, 0).toFixed(1));

function histogram(sorted) {
  const edges = [100, 150, 200, 250, 300, 400, 500, 700, 1000, 2000, Infinity];
  const counts = edges.map(() => 0);
  for (const us of sorted) counts[edges.findIndex((edge) => us < edge)] += 1;
  return Object.fromEntries(edges.map((edge, i) => [`<${edge === Infinity ? '∞' : edge}`, counts[i]]));
}

(async () => {
  const names = [...pairArg].filter((name) => name in PAIRS);
  const all = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const name of names) {
      const r = await runPair(name);
      all[name].push(r);
      const f = (v) => Math.round(v);
      console.log(
        `r${round} ${name}: p50 ${f(r.p50)} p90 ${f(r.p90)} p99 ${f(r.p99)} p99.9 ${f(r.p999)} max ${f(r.max)} µs | ` +
          `slow≥p99 ${r.slowAtOrAboveP99}, in client GC ${r.slowInClientGc} | GC/1000 client ${r.clientGc.per1000.toFixed(2)} (${r.clientGc.ms} ms) ` +
          `server ${r.serverGc.per1000.toFixed(2)} (${r.serverGc.ms} ms) | client heap B/call ${f(r.heapBytesPerCall)} | ` +
          `preempted/1000 client ${r.preempted.client.toFixed(1)} server ${r.preempted.server.toFixed(1)}`,
      );
      if (process.env.SEQ_HISTOGRAM) console.log('   ', JSON.stringify(r.histogram));
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  for (const name of names) {
    const rs = all[name];
    console.log(
      `median ${name}: p50 ${Math.round(median(rs.map((r) => r.p50)))} p90 ${Math.round(median(rs.map((r) => r.p90)))} ` +
        `p99 ${Math.round(median(rs.map((r) => r.p99)))} p99.9 ${Math.round(median(rs.map((r) => r.p999)))} µs`,
    );
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
