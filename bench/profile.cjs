// `node bench/profile.cjs [servers, e.g. A or ABC] [phase] [top]` (after `npm run build`): profiles each server
// (servers/probe.cjs, the inspector's sampling profiler as `--cpu-prof` uses, start-up left out) under one phase of the minimal client (default 16x16), stops it, and prints the top of its CPU profile:
// phases `text` and `udp` drive line-load-client.cjs / udp-load-client.cjs (16 connections or sockets, 16 in flight each)
// against A's text gateway or UDP port, or C's plain line or UDP server, as run-bench.cjs does.
// self time by function, and grouped (GC, Nest core/microservices, rxjs, class-validator, node internals,
// this project's files, …). `node bench/profile.cjs file.cpuprofile [top]` summarizes a profile already made.
// The profile is kept under bench/results/profiles/.
const { spawn } = require('node:child_process');
const { mkdirSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const SERVERS = { A: 'project-server.cjs', B: 'stock-nest-server.cjs', C: 'plain-net-server.cjs' };
/** X: a server script of your own (BENCH_X_SERVER, an absolute path), as in run-bench.cjs. */
if (process.env.BENCH_X_SERVER) SERVERS.X = process.env.BENCH_X_SERVER;

/** The gateway phases: their load client, the port A reports for them, and the plain server that stands for C. */
const GATEWAY_PHASES = {
  text: { client: 'line-load-client.cjs', portOf: (ports) => ports.textPort, plainServer: 'plain-line-server.cjs' },
  udp: { client: 'udp-load-client.cjs', portOf: (ports) => ports.udpPort, plainServer: 'plain-udp-server.cjs' },
};
const GATEWAY_CLIENT_ARGS = ['16', '16'];

/** Which part of the stack a frame belongs to. */
function groupOf(node) {
  const { functionName, url } = node.callFrame;
  if (functionName === '(garbage collector)') return 'GC';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return '(program: native, not JS)';
  if (url === '') return `native: ${functionName || '(anonymous)'}`;
  if (url.startsWith('node:')) {
    const module = url.slice(5);
    if (/^(net|stream|internal\/stream|internal\/streams|internal\/net|internal\/stream_base_commons)/.test(module))
      return 'node: net/streams';
    if (/^internal\/process\/task_queues|^internal\/timers|^timers/.test(module)) return 'node: task queues/timers';
    if (/^internal\/async_hooks|async_hooks/.test(module)) return 'node: async hooks';
    return `node: ${module.split('/').slice(0, 2).join('/')}`;
  }
  const path = url.replace(/^file:\/\//, '');
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inModules) {
    const pkg = inModules[1];
    if (pkg === '@nestjs/microservices' || pkg === '@nestjs/core') {
      const rest = path.slice(path.indexOf(pkg) + pkg.length + 1);
      return `${pkg} ${rest.split('/')[0]}`;
    }
    return pkg;
  }
  return `project: ${relative(ROOT, path)}`;
}

function summarize(file, top = 25) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map();
  const intervals = profile.timeDeltas;
  for (let i = 0; i < profile.samples.length; i += 1) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (intervals[i] ?? 0));
  }
  const byFunction = new Map();
  const byGroup = new Map();
  let total = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    const group = groupOf(node);
    // The profiler's own stop (node:inspector `post`) lands in the last samples: not the server's.
    if (group === 'idle' || group === 'node: inspector') {
      continue;
    }
    total += us;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url
      ? `${url
          .replace(/^file:\/\//, '')
          .replace(`${ROOT}/`, '')
          .replace(/.*node_modules\//, '')}:${lineNumber + 1}`
      : '';
    const key = `${functionName || '(anonymous)'} ${where}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const lines = [`${relative(process.cwd(), file)}: ${(total / 1000).toFixed(0)} ms busy (idle and the profiler's own stop not counted)`];
  lines.push('', 'self time by group:');
  for (const [group, us] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us)}  ${group}`);
  lines.push('', 'self time by function:');
  for (const [key, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`${pct(us)}  ${key}`);
  return lines.join('\n');
}

/** Asks the server's probe (servers/probe.cjs) one thing over IPC and waits for its answer. */
function ask(server, command) {
  return new Promise((resolve, reject) => {
    const onMessage = (message) => {
      if (message?.probeReply !== command) return;
      server.off('message', onMessage);
      if (message.error) reject(new Error(message.error));
      else resolve(message);
    };
    server.on('message', onMessage);
    server.send({ probe: command, seq: command });
  });
}

/** Runs the server with the probe profiling one phase of the minimal client (start-up left out). */
async function profileServer(name, phase) {
  const gateway = GATEWAY_PHASES[phase];
  // C's gateway phases run against its plain line or UDP server rather than its framed one.
  const script = gateway !== undefined && name === 'C' ? gateway.plainServer : SERVERS[name];
  const dir = join(__dirname, 'results', 'profiles', `${name}-${phase}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(dir, { recursive: true });
  const server = spawn(
    process.execPath,
    ['-r', join(__dirname, 'servers', 'probe.cjs'), script.startsWith('/') ? script : join(__dirname, 'servers', script)],
    {
      cwd: ROOT,
      env: { ...process.env, BENCH_CPU_PROF_DIR: dir },
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
    },
  );
  const ports = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
    });
    server.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  await ask(server, 'begin');
  const clientArgs =
    gateway === undefined
      ? [join(__dirname, 'minimal-client.cjs'), String(ports.port), phase]
      : [join(__dirname, gateway.client), String(name === 'C' ? ports.port : gateway.portOf(ports)), ...GATEWAY_CLIENT_ARGS];
  const client = spawn(process.execPath, clientArgs, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let result = '';
  client.stdout.on('data', (chunk) => (result += chunk));
  await new Promise((resolve) => client.once('exit', resolve));
  const spent = await ask(server, 'end');
  server.kill('SIGTERM');
  await new Promise((resolve) => server.once('exit', resolve));
  const { requests } = JSON.parse(result);
  process.stdout.write(
    `${name} ${phase}: ${result.trim()}; server ${(spent.cpuUs / requests).toFixed(1)} µs CPU, ` +
      `(${(spent.cpuSystemUs / requests).toFixed(1)} in the kernel), ${Math.round(spent.allocatedBytes / requests)} heap bytes, ` +
      `${(spent.syscalls?.writes / requests).toFixed(3)} write and ${(spent.syscalls?.reads / requests).toFixed(3)} read syscalls, ` +
      `${((1000 * spent.syscalls?.preempted) / requests).toFixed(1)} preemptions per 1000 requests (CPU profiling on)\n`,
  );
  return spent.profile;
}

(async () => {
  const [first = 'A', second, third] = process.argv.slice(2);
  if (first.endsWith('.cpuprofile')) {
    console.log(summarize(first, Number(second ?? 25)));
    return;
  }
  for (const name of first) {
    const file = await profileServer(name, second ?? '16x16');
    console.log(summarize(file, Number(third ?? 25)), '\n');
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
