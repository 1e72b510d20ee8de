// `npm run bench`: interleaved rounds (A B C A B C …) of this project's pair (A), a stock
// NestJS TCP pair (B) and a plain `net` pair (C), fresh processes each; loopback only,
// every phase bounded in time. A's text gateway and UDP endpoint are measured against a plain
// Node line-echo server and a plain UDP echo server (C's column) in the same rounds.
// Prints a table; writes JSON and an SVG chart under bench/results/.
const { spawn } = require('node:child_process');
const { readFileSync, mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS ?? 3));
const PHASE_LIMIT_MS = 90_000;
const CLOCK_TICK_US = 1e6 / 100; // USER_HZ on Linux

const PAIRS = {
  A: { server: 'project-server.cjs', client: 'project', label: 'A this project (validation on)', gateways: 'project' },
  B: { server: 'stock-nest-server.cjs', client: 'stock', label: 'B stock NestJS TCP' },
  C: { server: 'plain-net-server.cjs', client: 'plain', label: 'C plain Node (net; line and dgram servers)', gateways: 'plain' },
  S: {
    server: 'stock-nest-server.cjs',
    client: 'project',
    label: "B's bare handler with the framed socket, our client",
    env: { BENCH_SOCKET: 'framed' },
    phases: ['seq', '1x64', '16x16'],
  },
  N: { server: 'project-server.cjs', client: 'project-nagle', label: 'A with Nagle on', env: { TCP_NO_DELAY: 'false' }, phases: ['seq'] },
  R: {
    server: 'project-server.cjs',
    client: 'framed-raw',
    label: "A's server, a bare ClientProxy on the framed socket (no EchoClient)",
    phases: ['seq', '1x64', '16x16'],
  },
};
const PHASES = ['seq', '1x64', '16x16', 'mib'];
/**
 * The line and UDP phases: 16 connections (client sockets), 16 requests in flight each. A runs them
 * on its own text gateway and UDP ports; C on a plain server of its own, a fresh process per phase.
 */
const GATEWAY_PHASES = {
  text: { client: 'line-load-client.cjs', portOf: (ports) => ports.textPort, plainServer: 'plain-line-server.cjs' },
  udp: { client: 'udp-load-client.cjs', portOf: (ports) => ports.udpPort, plainServer: 'plain-udp-server.cjs' },
};
const GATEWAY_CLIENT_ARGS = ['16', '16'];
/** BENCH_PAIRS=AB runs only those pairs (for a quick look); the default runs all. */
const SELECTED = [...(process.env.BENCH_PAIRS ?? Object.keys(PAIRS).join(''))].filter((name) => name in PAIRS);

function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
}

function start(script, args, env = {}) {
  const child = spawn(process.execPath, [join(__dirname, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), PHASE_LIMIT_MS);
  let out = '';
  const firstLine = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)));
    });
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code} before reporting`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve)).finally(() => clearTimeout(timer));
  return { child, firstLine, exited };
}

async function stop(started) {
  if (started.child.exitCode === null) started.child.kill('SIGTERM');
  await started.exited;
}

/** Waits until the process stops using CPU (two quiet samples), at most `limitMs`. */
async function settle(pid, limitMs) {
  const deadline = Date.now() + limitMs;
  let last = cpuMicros(pid);
  let quiet = 0;
  while (quiet < 2 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = cpuMicros(pid);
    quiet = now - last < 2 * CLOCK_TICK_US ? quiet + 1 : 0;
    last = now;
  }
}

/** Runs one load client to its end; adds the server's CPU time per request to what it reports. */
async function measure(serverPid, client, args) {
  const before = cpuMicros(serverPid);
  const started = start(client, args);
  const measured = await started.firstLine;
  await started.exited;
  const serverCpuUs = cpuMicros(serverPid) - before;
  return { ...measured, serverCpuUsPerRequest: serverCpuUs / measured.requests };
}

async function runGatewayPhases(kind, ports, serverPid) {
  const result = {};
  for (const [phase, spec] of Object.entries(GATEWAY_PHASES)) {
    if (kind === 'project') {
      result[phase] = await measure(serverPid, spec.client, [String(spec.portOf(ports)), ...GATEWAY_CLIENT_ARGS]);
      continue;
    }
    const plain = start(join('servers', spec.plainServer), []);
    try {
      const { port } = await plain.firstLine;
      result[phase] = await measure(plain.child.pid, spec.client, [String(port), ...GATEWAY_CLIENT_ARGS]);
    } finally {
      await stop(plain);
    }
  }
  return result;
}

async function runPair(name) {
  const pair = PAIRS[name];
  const server = start(join('servers', pair.server), [], pair.env);
  const result = {};
  try {
    const ports = await server.firstLine;
    const { port } = ports;
    for (const phase of pair.phases ?? PHASES) {
      result[phase] = await measure(server.child.pid, 'load-client.cjs', [pair.client, String(port), phase]);
    }
    // Before the garbage phase, which leaves A's server with 32 MiB of work behind it.
    if (pair.gateways !== undefined) {
      Object.assign(result, await runGatewayPhases(pair.gateways, ports, server.child.pid));
    }
    if (name === 'A' || name === 'B') {
      const before = cpuMicros(server.child.pid);
      const client = start('load-client.cjs', [pair.client, String(port), 'garbage']);
      const sent = await client.firstLine;
      await settle(server.child.pid, 60_000);
      result.garbage = { ...sent, serverCpuSeconds: (cpuMicros(server.child.pid) - before) / 1e6 };
      await stop(client);
    }
  } finally {
    await stop(server);
  }
  return result;
}

const METRICS = [
  { key: 'seq p50 (µs)', get: (r) => r.seq?.p50Us, lowerIsBetter: true },
  { key: 'seq p99 (µs)', get: (r) => r.seq?.p99Us, lowerIsBetter: true },
  { key: '1×64 req/s', get: (r) => r['1x64']?.reqPerSec },
  { key: '16×16 req/s', get: (r) => r['16x16']?.reqPerSec },
  { key: '1 MiB echo MiB/s', get: (r) => r.mib?.mibPerSec },
  { key: 'server CPU µs/req (16×16)', get: (r) => r['16x16']?.serverCpuUsPerRequest, lowerIsBetter: true },
  { key: 'text 16 conns req/s', get: (r) => r.text?.reqPerSec },
  { key: 'udp 16 sockets req/s', get: (r) => r.udp?.reqPerSec },
  { key: 'udp datagrams lost %', get: (r) => r.udp?.lostPercent, lowerIsBetter: true },
  { key: 'server CPU µs/req (text)', get: (r) => r.text?.serverCpuUsPerRequest, lowerIsBetter: true },
  { key: 'server CPU µs/req (udp)', get: (r) => r.udp?.serverCpuUsPerRequest, lowerIsBetter: true },
  { key: '32 MiB garbage: server CPU s', get: (r) => r.garbage?.serverCpuSeconds, lowerIsBetter: true },
];

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const fmt = (value) =>
  value === undefined ? '—' : value >= 100 ? Math.round(value).toLocaleString('en-US') : value >= 1 ? value.toFixed(1) : value.toFixed(3);

const ratio = (a, b) => (a && b && b.median > 0 ? a.median / b.median : undefined);

function summarize(rounds) {
  return METRICS.map((metric) => {
    const row = { metric: metric.key, lowerIsBetter: Boolean(metric.lowerIsBetter) };
    for (const name of Object.keys(PAIRS)) {
      const values = rounds.map((round) => (round[name] ? metric.get(round[name]) : undefined)).filter((value) => value !== undefined);
      row[name] = values.length ? { median: median(values), min: Math.min(...values), max: Math.max(...values) } : undefined;
    }
    row.AoverB = ratio(row.A, row.B);
    row.AoverC = ratio(row.A, row.C);
    return row;
  });
}

/** Where the numbers came from: the CPU, and how busy the machine was before and after the run. */
function machine() {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cpus: cpus.length,
    platform: `${os.platform()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg(),
  };
}

function table(summary, before, after) {
  const cell = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '—');
  const load = (averages) => averages.map((value) => value.toFixed(2)).join(' ');
  const lines = [
    `CPU: ${before.cpuModel} × ${before.cpus} (${before.platform}), Node ${before.node}`,
    `load average (1/5/15 min): ${load(before.loadAverage)} at start, ${load(after.loadAverage)} at end`,
    `medians (min–max) of ${ROUNDS} interleaved rounds; text/udp rows: A = this project's text gateway / UDP endpoint,`,
    `C = plain-line-server.cjs / plain-udp-server.cjs; ${GATEWAY_CLIENT_ARGS[0]} connections (sockets) × ${GATEWAY_CLIENT_ARGS[1]} in flight`,
    '',
    `| metric | A project | B stock Nest | C plain Node | A/B | A/C | A, Nagle on | B handler, framed socket | A server, bare ClientProxy |`,
    `|---|---|---|---|---|---|---|---|---|`,
    ...summary.map(
      (row) =>
        `| ${row.metric} | ${cell(row.A)} | ${cell(row.B)} | ${cell(row.C)} | ${row.AoverB ? row.AoverB.toFixed(2) : '—'} | ${row.AoverC ? row.AoverC.toFixed(2) : '—'} | ${cell(row.N)} | ${cell(row.S)} | ${cell(row.R)} |`,
    ),
  ];
  return lines.join('\n');
}

/** Bars of A, B and C per metric, each scaled to the metric's largest median. */
function chart(summary) {
  const colors = { A: '#2b7bb9', B: '#d9822b', C: '#6b8e23' };
  const rows = summary.filter((row) => row.A || row.B || row.C);
  const rowHeight = 70;
  const width = 760;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${rows.length * rowHeight + 50}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14">Medians of ${ROUNDS} interleaved rounds (bar length relative per metric); A project, B stock Nest, C plain Node</text>`,
  ];
  rows.forEach((row, index) => {
    const top = 40 + index * rowHeight;
    const largest = Math.max(...['A', 'B', 'C'].map((name) => row[name]?.median ?? 0));
    parts.push(`<text x="10" y="${top + 12}">${row.metric}${row.lowerIsBetter ? ' (lower is better)' : ''}</text>`);
    ['A', 'B', 'C'].forEach((name, bar) => {
      const value = row[name]?.median;
      if (value === undefined) return;
      const length = largest > 0 ? Math.max(1, (value / largest) * 480) : 1;
      const y = top + 18 + bar * 16;
      parts.push(`<rect x="40" y="${y}" width="${length.toFixed(1)}" height="13" fill="${colors[name]}"/>`);
      parts.push(`<text x="26" y="${y + 11}">${name}</text><text x="${(45 + length).toFixed(1)}" y="${y + 11}">${fmt(value)}</text>`);
    });
  });
  parts.push('</svg>');
  return parts.join('\n');
}

(async () => {
  const before = machine();
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    const results = {};
    for (const name of SELECTED) {
      process.stderr.write(`round ${round}/${ROUNDS}: ${PAIRS[name].label}…\n`);
      results[name] = await runPair(name);
    }
    rounds.push(results);
  }
  const summary = summarize(rounds);
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const after = machine();
  const meta = {
    node: process.version,
    cpus: before.cpus,
    cpuModel: before.cpuModel,
    platform: before.platform,
    loadAverage: { start: before.loadAverage, end: after.loadAverage },
    rounds: ROUNDS,
    pairs: PAIRS,
    gatewayPhases: {
      clientArgs: { connections: Number(GATEWAY_CLIENT_ARGS[0]), inFlight: Number(GATEWAY_CLIENT_ARGS[1]) },
      servers: Object.fromEntries(Object.entries(GATEWAY_PHASES).map(([phase, spec]) => [phase, spec.plainServer])),
    },
  };
  writeFileSync(join(out, `bench-${stamp}.json`), JSON.stringify({ meta, summary, rounds }, null, 2));
  writeFileSync(join(out, `bench-${stamp}.svg`), chart(summary));
  console.log(table(summary, before, after));
  console.log(`\nresults: bench/results/bench-${stamp}.json, bench/results/bench-${stamp}.svg`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
