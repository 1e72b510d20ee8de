// `npm run bench`: interleaved rounds (A B C P Q, A B C P Q, …), fresh processes each, loopback only,
// every phase bounded in time.
//
// Servers alone, each driven by the same minimal client (minimal-client.cjs: framing, JSON, ids, no Nest):
//   A this project's server as shipped (framed socket, validation pipe, stats guard, error filter, drain),
//   B a stock Nest TCP server with a bare echo handler, C a plain `net` server with the same framing (the limit).
// Pairs, client and server together: P = EchoClient + A's server, Q = Nest's ClientTCP + B's server.
// Phases: sequential p50/p90/p99/p99.9, 1×64 and 16×16 req/s, 1 MiB echo; for each, from inside the server
// process (servers/probe.cjs): CPU µs per request, V8 heap bytes allocated per request, GC pauses.
// A's text gateway and UDP endpoint are measured against plain Node line and UDP echo servers (C's column),
// and A and B against 32 MiB of garbage. Prints a table; writes JSON and an SVG chart under bench/results/.
//
// BENCH_ROUNDS (3 by default; fewer for a quick look), BENCH_PAIRS (e.g. "AB"; diagnostics S, N, R on request), BENCH_PHASES (e.g.
// "16x16,seq"; also "text", "udp", "garbage"), BENCH_X_SERVER / BENCH_Y_SERVER (experiments), BENCH_SERVER_FLAGS (node flags for the servers, e.g.
// "--cpu-prof --cpu-prof-dir=/tmp/prof").
const { spawn } = require('node:child_process');
const { readFileSync, mkdirSync, writeFileSync } = require('node:fs');
const os = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
/** 3 by default; fewer only for a quick look (the table says so). */
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 3)) || 3);
const CLIENT_LIMIT_MS = 90_000;
const SERVER_LIMIT_MS = 300_000;
const CLOCK_TICK_US = 1e6 / 100; // USER_HZ on Linux
const PROBE = join(__dirname, 'servers', 'probe.cjs');
const SERVER_FLAGS = (process.env.BENCH_SERVER_FLAGS ?? '').split(' ').filter(Boolean);

const ALL_PHASES = ['seq', '1x64', '16x16', 'mib'];
const PAIR_PHASES = ['seq', '1x64', '16x16'];
const MINIMAL = { script: 'minimal-client.cjs', args: [] };
const nestClient = (kind) => ({ script: 'load-client.cjs', args: [kind] });

const PAIRS = {
  A: {
    server: 'project-server.cjs',
    client: MINIMAL,
    label: "A this project's server (validation on), minimal client",
    gateways: 'project',
    garbage: true,
  },
  B: { server: 'stock-nest-server.cjs', client: MINIMAL, label: 'B stock Nest TCP server, bare handler, minimal client', garbage: true },
  C: {
    server: 'plain-net-server.cjs',
    client: MINIMAL,
    label: 'C plain Node net server (and line/dgram servers), minimal client',
    gateways: 'plain',
  },
  P: { server: 'project-server.cjs', client: nestClient('project'), label: "P pair: EchoClient + A's server", phases: PAIR_PHASES },
  Q: { server: 'stock-nest-server.cjs', client: nestClient('stock'), label: "Q pair: stock ClientTCP + B's server", phases: PAIR_PHASES },
  // Diagnostics, only with BENCH_PAIRS.
  S: {
    server: 'stock-nest-server.cjs',
    client: nestClient('project'),
    label: "S: B's bare handler with the framed socket, EchoClient",
    env: { BENCH_SOCKET: 'framed' },
    phases: PAIR_PHASES,
  },
  N: {
    server: 'project-server.cjs',
    client: nestClient('project-nagle'),
    label: 'N: P with Nagle on',
    env: { TCP_NO_DELAY: 'false' },
    phases: ['seq'],
  },
  R: {
    server: 'project-server.cjs',
    client: nestClient('framed-raw'),
    label: "R: A's server, a bare ClientProxy on the framed socket",
    phases: PAIR_PHASES,
  },
  // BENCH_OTHER_CLIENT names the dist directory of another build of libs/common (an older commit's, say):
  // O is P with that build's EchoClient, so that the two clients are compared in one run.
  ...(process.env.BENCH_OTHER_CLIENT
    ? {
        O: {
          server: 'project-server.cjs',
          client: nestClient('project-other'),
          label: `O pair: EchoClient of ${process.env.BENCH_OTHER_CLIENT} + A's server`,
          phases: PAIR_PHASES,
        },
      }
    : {}),
  // Experiments: BENCH_X_SERVER / BENCH_Y_SERVER name a server script of your own (it prints `{"port":…}` first),
  // measured like A with the minimal client (and its text and UDP doors, if it prints their ports), e.g. A
  // with one change undone, or an older build's bench/servers/project-server.cjs, against A in the same run.
  ...Object.fromEntries(
    ['X', 'Y']
      .filter((name) => process.env[`BENCH_${name}_SERVER`])
      .map((name) => [
        name,
        {
          server: process.env[`BENCH_${name}_SERVER`],
          client: MINIMAL,
          label: `${name}: ${process.env[`BENCH_${name}_SERVER`]}, minimal client`,
          gateways: 'project',
        },
      ]),
  ),
};
const DEFAULT_PAIRS = 'ABCPQ';
/** The line and UDP phases: 16 connections (client sockets), 16 requests in flight each. A runs them on its own ports; C on plain servers. */
const GATEWAY_PHASES = {
  text: { client: 'line-load-client.cjs', portOf: (ports) => ports.textPort, plainServer: 'plain-line-server.cjs' },
  udp: { client: 'udp-load-client.cjs', portOf: (ports) => ports.udpPort, plainServer: 'plain-udp-server.cjs' },
};
const GATEWAY_CLIENT_ARGS = ['16', '16'];
const SELECTED = [...(process.env.BENCH_PAIRS ?? DEFAULT_PAIRS)].filter((name) => name in PAIRS);
const PHASE_FILTER = process.env.BENCH_PHASES ? new Set(process.env.BENCH_PHASES.split(',').map((phase) => phase.trim())) : undefined;
const wanted = (phase) => PHASE_FILTER === undefined || PHASE_FILTER.has(phase);

function cpuMicros(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_US;
}

/** Starts a node script; its first stdout line is JSON (a result, or a server's ports). Servers get the probe and an IPC channel. */
function start(script, args, { env = {}, server = false } = {}) {
  const flags = server ? ['-r', PROBE, ...SERVER_FLAGS] : [];
  const child = spawn(process.execPath, [...flags, script.startsWith('/') ? script : join(__dirname, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: server ? ['ignore', 'pipe', 'inherit', 'ipc'] : ['ignore', 'pipe', 'inherit'],
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), server ? SERVER_LIMIT_MS : CLIENT_LIMIT_MS);
  let out = '';
  const firstLine = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline >= 0) resolve(JSON.parse(out.slice(0, newline)));
    });
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code} before reporting`)));
  });
  firstLine.catch(() => undefined);
  const exited = new Promise((resolve) => child.once('exit', resolve)).finally(() => clearTimeout(timer));
  const replies = new Map();
  let sequence = 0;
  if (server) {
    child.on('message', (message) => {
      replies.get(message?.probeReply)?.(message);
      replies.delete(message?.probeReply);
    });
  }
  /** Asks the server's probe to `begin` or `end` a phase; `end` resolves with what the server spent. */
  const probe = (command) =>
    new Promise((resolve, reject) => {
      const seq = (sequence += 1);
      const timeout = setTimeout(() => reject(new Error(`${script}: no probe reply to ${command}`)), 10_000);
      replies.set(seq, (message) => {
        clearTimeout(timeout);
        if (message.error) reject(new Error(message.error));
        else resolve(message);
      });
      child.send({ probe: command, seq });
    });
  return { child, firstLine, exited, probe };
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

/** Runs one load client to its end; adds what the server process spent, per request. */
async function measure(server, client, args) {
  await server.probe('begin');
  const started = start(client, args);
  const measured = await started.firstLine;
  await started.exited;
  const spent = await server.probe('end');
  return {
    ...measured,
    serverCpuUsPerRequest: spent.cpuUs / measured.requests,
    serverHeapBytesPerRequest: spent.allocatedBytes / measured.requests,
    serverGc: spent.gc,
    serverExternalGrowthBytes: spent.externalGrowth,
    serverWritesPerRequest: spent.syscalls && spent.syscalls.writes / measured.requests,
    serverReadsPerRequest: spent.syscalls && spent.syscalls.reads / measured.requests,
    serverSystemCpuUsPerRequest: spent.cpuSystemUs / measured.requests,
    serverPreemptionsPer1000: spent.syscalls && (1000 * spent.syscalls.preempted) / measured.requests,
  };
}

async function runGatewayPhases(kind, ports, server) {
  const result = {};
  for (const [phase, spec] of Object.entries(GATEWAY_PHASES)) {
    if (!wanted(phase)) continue;
    if (kind === 'project') {
      if (spec.portOf(ports) !== undefined) {
        result[phase] = await measure(server, spec.client, [String(spec.portOf(ports)), ...GATEWAY_CLIENT_ARGS]);
      }
      continue;
    }
    const plain = start(join('servers', spec.plainServer), [], { server: true });
    try {
      const { port } = await plain.firstLine;
      result[phase] = await measure(plain, spec.client, [String(port), ...GATEWAY_CLIENT_ARGS]);
    } finally {
      await stop(plain);
    }
  }
  return result;
}

async function runPair(name) {
  const pair = PAIRS[name];
  const server = start(pair.server.startsWith('/') ? pair.server : join('servers', pair.server), [], { env: pair.env, server: true });
  const result = {};
  try {
    const ports = await server.firstLine;
    const { port } = ports;
    for (const phase of (pair.phases ?? ALL_PHASES).filter(wanted)) {
      result[phase] = await measure(server, pair.client.script, [...pair.client.args, String(port), phase]);
    }
    // Before the garbage phase, which leaves A's server with 32 MiB of work behind it.
    if (pair.gateways !== undefined) {
      Object.assign(result, await runGatewayPhases(pair.gateways, ports, server));
    }
    if (pair.garbage && wanted('garbage')) {
      const before = cpuMicros(server.child.pid);
      const client = start('minimal-client.cjs', [String(port), 'garbage']);
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
  { key: 'seq p99.9 (µs)', get: (r) => r.seq?.p999Us, lowerIsBetter: true },
  { key: '1×64 req/s', get: (r) => r['1x64']?.reqPerSec },
  { key: '16×16 req/s', get: (r) => r['16x16']?.reqPerSec },
  { key: '1 MiB echo MiB/s', get: (r) => r.mib?.mibPerSec },
  { key: 'server CPU µs/req (16×16)', get: (r) => r['16x16']?.serverCpuUsPerRequest, lowerIsBetter: true },
  { key: '… of which kernel (16×16)', get: (r) => r['16x16']?.serverSystemCpuUsPerRequest, lowerIsBetter: true },
  { key: 'server CPU µs/req (seq)', get: (r) => r.seq?.serverCpuUsPerRequest, lowerIsBetter: true },
  { key: 'client CPU µs/req (16×16)', get: (r) => r['16x16']?.clientCpuUsPerRequest, lowerIsBetter: true },
  { key: 'client CPU µs/req (seq)', get: (r) => r.seq?.clientCpuUsPerRequest, lowerIsBetter: true },
  { key: 'server write syscalls/req (16×16)', get: (r) => r['16x16']?.serverWritesPerRequest, lowerIsBetter: true },
  { key: 'server preempted /1000 req (16×16)', get: (r) => r['16x16']?.serverPreemptionsPer1000, lowerIsBetter: true },
  { key: 'server heap B/req (16×16)', get: (r) => r['16x16']?.serverHeapBytesPerRequest, lowerIsBetter: true },
  { key: 'server heap B/req (seq)', get: (r) => r.seq?.serverHeapBytesPerRequest, lowerIsBetter: true },
  { key: 'server GC pauses (16×16)', get: (r) => r['16x16']?.serverGc.count, lowerIsBetter: true },
  { key: 'server GC pause ms total (16×16)', get: (r) => r['16x16']?.serverGc.totalMs, lowerIsBetter: true },
  { key: 'server GC pause ms max (16×16)', get: (r) => r['16x16']?.serverGc.maxMs, lowerIsBetter: true },
  { key: 'server GC pause ms total (seq)', get: (r) => r.seq?.serverGc.totalMs, lowerIsBetter: true },
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
    row.PoverQ = ratio(row.P, row.Q);
    return row;
  });
}

/** Issue 20's targets, judged on this run's medians (C's text and udp rows are the plain line and UDP servers). */
function targets(summary) {
  const row = (key) => summary.find((r) => r.metric === key);
  const m = (key, name) => row(key)?.[name]?.median;
  const check = (label, value, goal, higherIsBetter = true) => ({
    label,
    value,
    goal: `${higherIsBetter ? '≥' : '≤'} ${goal}`,
    met: value === undefined ? undefined : higherIsBetter ? value >= goal : value <= goal,
  });
  const over = (a, b) => (a !== undefined && b !== undefined && b > 0 ? a / b : undefined);
  return [
    check('A/B req/s at 1×64', over(m('1×64 req/s', 'A'), m('1×64 req/s', 'B')), 1.8),
    check('A/B req/s at 16×16', over(m('16×16 req/s', 'A'), m('16×16 req/s', 'B')), 1.8),
    check('A/C server CPU µs/req (16×16)', over(m('server CPU µs/req (16×16)', 'A'), m('server CPU µs/req (16×16)', 'C')), 2.0, false),
    check('A/C text lines/s', over(m('text 16 conns req/s', 'A'), m('text 16 conns req/s', 'C')), 0.25),
    check('A text server CPU µs/line', m('server CPU µs/req (text)', 'A'), 5, false),
    check('A/C UDP datagrams/s', over(m('udp 16 sockets req/s', 'A'), m('udp 16 sockets req/s', 'C')), 0.5),
    check('A UDP server CPU µs/datagram', m('server CPU µs/req (udp)', 'A'), 20, false),
    check('A/C UDP datagrams lost', over(m('udp datagrams lost %', 'A'), Math.max(m('udp datagrams lost %', 'C') ?? 0, 0.01)), 2.0, false),
    check('A server heap B/req (16×16)', m('server heap B/req (16×16)', 'A'), 4000, false),
    check('A/B seq p99', over(m('seq p99 (µs)', 'A'), m('seq p99 (µs)', 'B')), 1.0, false),
  ];
}

/** Where the numbers came from: the CPU, and how busy the machine was. */
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

function table(summary, goals, before, after, seconds) {
  const cell = (s) => (s ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : '—');
  const r2 = (value) => (value ? value.toFixed(2) : '—');
  const load = (averages) => averages.map((value) => value.toFixed(2)).join(' ');
  const diagnostics = ['O', 'S', 'N', 'R', 'X', 'Y'].filter((name) => SELECTED.includes(name));
  const lines = [
    `CPU: ${before.cpuModel} × ${before.cpus} (${before.platform}), Node ${before.node}`,
    `load average (1/5/15 min): ${load(before.loadAverage)} at start, ${load(after.loadAverage)} at end; ${Math.round(seconds)} s`,
    `medians (min–max) of ${ROUNDS} interleaved rounds${ROUNDS < 3 ? ' (fewer than 3: a quick look, not a result)' : ''}, fresh processes; A, B, C driven by the same minimal client`,
    `(minimal-client.cjs); P = EchoClient + A's server, Q = Nest ClientTCP + B's server. Server CPU, heap bytes`,
    `allocated and GC pauses are measured inside the server process (servers/probe.cjs) over each phase.`,
    `text/udp rows: A = this project's text gateway / UDP endpoint, C = plain-line-server.cjs / plain-udp-server.cjs;`,
    `${GATEWAY_CLIENT_ARGS[0]} connections (sockets) × ${GATEWAY_CLIENT_ARGS[1]} in flight. Compare within one run: the machine is shared.`,
    '',
    `| metric | A project | B stock Nest | C plain Node | A/B | A/C | P pair | Q stock pair | P/Q |${diagnostics.map((name) => ` ${name} |`).join('')}`,
    `|---|---|---|---|---|---|---|---|---|${diagnostics.map(() => '---|').join('')}`,
    ...summary.map(
      (row) =>
        `| ${row.metric} | ${cell(row.A)} | ${cell(row.B)} | ${cell(row.C)} | ${r2(row.AoverB)} | ${r2(row.AoverC)} | ${cell(row.P)} | ${cell(row.Q)} | ${r2(row.PoverQ)} |${diagnostics.map((name) => ` ${cell(row[name])} |`).join('')}`,
    ),
    '',
    'targets (issue 20), on this run’s medians:',
    ...goals.map(
      (goal) =>
        `- ${goal.label}: ${goal.value === undefined ? '—' : goal.value.toFixed(2)} (goal ${goal.goal}) ${goal.met === undefined ? 'not measured' : goal.met ? 'met' : 'MISSED'}`,
    ),
  ];
  return lines.join('\n');
}

/** Bars per metric, each scaled to the metric's largest median. */
function chart(summary) {
  const colors = { A: '#2b7bb9', B: '#d9822b', C: '#6b8e23', P: '#7fb3dd', Q: '#f0b27a' };
  const names = Object.keys(colors);
  const rows = summary.filter((row) => names.some((name) => row[name]));
  const rowHeight = 30 + 16 * names.length;
  const width = 760;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${rows.length * rowHeight + 50}" font-family="sans-serif" font-size="12">`,
    `<text x="10" y="20" font-size="14">Medians of ${ROUNDS} interleaved rounds (bar length relative per metric); A project, B stock Nest, C plain Node (minimal client); P, Q pairs</text>`,
  ];
  rows.forEach((row, index) => {
    const top = 40 + index * rowHeight;
    const present = names.filter((name) => row[name]);
    const largest = Math.max(...present.map((name) => row[name].median));
    parts.push(`<text x="10" y="${top + 12}">${row.metric}${row.lowerIsBetter ? ' (lower is better)' : ''}</text>`);
    present.forEach((name, bar) => {
      const value = row[name].median;
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
  const startedAt = Date.now();
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
  const goals = targets(summary);
  const out = join(__dirname, 'results');
  mkdirSync(out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const after = machine();
  const seconds = (Date.now() - startedAt) / 1000;
  const meta = {
    node: process.version,
    cpus: before.cpus,
    cpuModel: before.cpuModel,
    platform: before.platform,
    loadAverage: { start: before.loadAverage, end: after.loadAverage },
    seconds,
    rounds: ROUNDS,
    selected: SELECTED.join(''),
    phases: PHASE_FILTER ? [...PHASE_FILTER] : 'all',
    serverFlags: SERVER_FLAGS,
    pairs: Object.fromEntries(SELECTED.map((name) => [name, PAIRS[name]])),
    gatewayPhases: {
      clientArgs: { connections: Number(GATEWAY_CLIENT_ARGS[0]), inFlight: Number(GATEWAY_CLIENT_ARGS[1]) },
      servers: Object.fromEntries(Object.entries(GATEWAY_PHASES).map(([phase, spec]) => [phase, spec.plainServer])),
    },
  };
  writeFileSync(join(out, `bench-${stamp}.json`), JSON.stringify({ meta, summary, targets: goals, rounds }, null, 2));
  writeFileSync(join(out, `bench-${stamp}.svg`), chart(summary));
  console.log(table(summary, goals, before, after, seconds));
  console.log(`\nresults: bench/results/bench-${stamp}.json, bench/results/bench-${stamp}.svg`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
