// `npm run demo`: the echo server and a demo worker as two local processes on 127.0.0.1.
// Hand-written rather than `concurrently` because it must hand a free port to both
// processes, exit with the worker's status, and stop the server within a bound.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const HOST = '127.0.0.1';
const SERVER_STOP_TIMEOUT_MS = 5_000;

async function freePort() {
  const probe = createServer();
  probe.listen(0, HOST);
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
}

async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), SERVER_STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

// ECHO_PORT picks the port; unset, blank or 0 means a free one (the worker needs a real port).
const requestedPort = Number(process.env.ECHO_PORT?.trim() || 0);
const port = requestedPort > 0 ? requestedPort : await freePort();
// The text gateway and UDP likewise (TEXT_PORT, UDP_PORT); free ones by default, so that the demo never collides.
const textPort = Number(process.env.TEXT_PORT?.trim() || 0) || (await freePort());
const udpPort = Number(process.env.UDP_PORT?.trim() || 0) || textPort;
const metricsPort = Number(process.env.METRICS_PORT?.trim() || 0) || (await freePort());
const transport = process.env.ECHO_TRANSPORT?.trim() || 'tcp';
console.log(
  `demo: echo-server on ${HOST}:${port} (text gateway ${textPort}/tcp, UDP ${udpPort}/udp, metrics http://${HOST}:${metricsPort}/metrics), client-worker over ${transport}`,
);

// The server's log goes to stderr, so that stdout carries the worker's transcript alone.
const server = spawn(process.execPath, [join(root, 'services/echo-server/dist/main.js')], {
  env: {
    ...process.env,
    ECHO_HOST: HOST,
    ECHO_PORT: String(port),
    TEXT_PORT: String(textPort),
    UDP_PORT: String(udpPort),
    METRICS_PORT: String(metricsPort),
  },
  stdio: ['ignore', process.stderr, process.stderr],
});

const worker = spawn(process.execPath, [join(root, 'services/client-worker/dist/main.js'), 'demo'], {
  env: { ...process.env, ECHO_SERVER_HOST: HOST, ECHO_SERVER_PORT: String(port), ECHO_SERVER_UDP_PORT: String(udpPort) },
  stdio: ['ignore', 'inherit', 'inherit'],
});

for (const [name, child] of [
  ['echo-server', server],
  ['client-worker', worker],
]) {
  child.on('error', (error) => {
    console.error(`demo: cannot start ${name}: ${error.message}`);
    server.kill('SIGKILL');
    worker.kill('SIGKILL');
    process.exit(1);
  });
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => worker.kill(signal));
}

const [workerCode, workerSignal] = await once(worker, 'exit');
await stop(server);
const status = workerCode ?? 1;
console.log(`demo: client-worker ${workerSignal ? `stopped by ${workerSignal}` : `exited with ${workerCode}`}; echo-server stopped`);
process.exit(status);
