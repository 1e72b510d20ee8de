// One bench phase against one server, as a process of its own; prints its result as JSON.
// Usage: node bench/load-client.cjs <kind> <port> <phase>
require('reflect-metadata');
const { connect } = require('node:net');
const { lastValueFrom } = require('rxjs');
const { ClientProxyFactory, Transport } = require('@nestjs/microservices');
const { EchoClient, FrameDecoder, buildMixedScriptText, framedJsonSocket } = require('@echo-pair/common');

const [kind, portText, phase] = process.argv.slice(2);
const port = Number(portText);
const HOST = '127.0.0.1';
const CALL_TIMEOUT_MS = 15_000;

/** A connection that echoes a text and resolves with the text echoed back. */
async function open() {
  if (kind === 'project' || kind === 'project-nagle') {
    const client =
      kind === 'project'
        ? EchoClient.create({ host: HOST, port, timeoutMs: CALL_TIMEOUT_MS })
        : new EchoClient(
            ClientProxyFactory.create({
              transport: Transport.TCP,
              options: { host: HOST, port, socketClass: framedJsonSocket({ noDelay: false }) },
            }),
            { timeoutMs: CALL_TIMEOUT_MS },
          );
    await client.connect();
    return { call: async (text) => (await client.echo({ text })).text, close: () => client.close() };
  }
  if (kind === 'stock' || kind === 'framed-raw') {
    // framed-raw: a bare ClientProxy on the framed socket, to tell EchoClient's own cost from the server's.
    const options = kind === 'stock' ? { host: HOST, port } : { host: HOST, port, socketClass: framedJsonSocket() };
    const proxy = ClientProxyFactory.create({ transport: Transport.TCP, options });
    await proxy.connect();
    return { call: async (text) => (await lastValueFrom(proxy.send('echo', { text }))).text, close: () => proxy.close() };
  }
  return openPlain();
}

function openPlain() {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    const decoder = new FrameDecoder(16 * 1024 * 1024, 64 * 1024 * 1024);
    const pending = new Map();
    let nextId = 0;
    socket.on('data', (chunk) => {
      decoder.push(chunk);
      for (let text = decoder.next(); text !== undefined; text = decoder.next()) {
        const { id, response } = JSON.parse(text);
        pending.get(id)?.(response.text);
        pending.delete(id);
      }
    });
    socket.once('error', reject);
    socket.once('connect', () =>
      resolve({
        call: (text) =>
          new Promise((done) => {
            const id = String(nextId++);
            pending.set(id, done);
            const json = JSON.stringify({ pattern: 'echo', data: { text }, id });
            socket.write(`${json.length}#${json}`);
          }),
        close: () => socket.destroy(),
      }),
    );
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function sequential() {
  const conn = await open();
  for (let i = 0; i < 300; i += 1) await conn.call(`warm ${i}`);
  const samples = [];
  const deadline = performance.now() + 3_000;
  while (samples.length < 5_000 && performance.now() < deadline) {
    const started = performance.now();
    await conn.call(`seq ${samples.length}`);
    samples.push((performance.now() - started) * 1000);
  }
  await conn.close();
  samples.sort((a, b) => a - b);
  return { p50Us: percentile(samples, 50), p99Us: percentile(samples, 99), requests: samples.length + 300 };
}

async function throughput(connections, inFlight) {
  const conns = await Promise.all(Array.from({ length: connections }, () => open()));
  let counting = false;
  let counted = 0;
  let total = 0;
  let stop = false;
  const workers = conns.flatMap((conn, c) =>
    Array.from({ length: inFlight }, async (_, w) => {
      for (let i = 0; !stop; i += 1) {
        const text = `c${c} w${w} #${i} échö`;
        if ((await conn.call(text)) !== text) throw new Error('wrong echo');
        total += 1;
        if (counting) counted += 1;
      }
    }),
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  counting = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  stop = true;
  await Promise.all(workers);
  await Promise.all(conns.map((conn) => conn.close()));
  return { reqPerSec: counted / seconds, requests: total };
}

async function mebibyte() {
  const text = buildMixedScriptText(1024 * 1024);
  const bytes = Buffer.byteLength(text);
  const conn = await open();
  await conn.call(text);
  let rounds = 0;
  const started = performance.now();
  while (rounds < 10 && performance.now() - started < 10_000) {
    if ((await conn.call(text)) !== text) throw new Error('wrong echo');
    rounds += 1;
  }
  const seconds = (performance.now() - started) / 1000;
  await conn.close();
  return { mibPerSec: (rounds * bytes) / (1024 * 1024) / seconds, requests: rounds + 1 };
}

/** Streams 32 MiB with no `#`, reconnecting whenever the server closes; then holds the last connection until killed. */
async function garbage() {
  const TOTAL = 32 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 'no hash here 0123456789 ');
  let sent = 0;
  let connections = 0;
  const deadline = performance.now() + 60_000;
  let socket;
  while (sent < TOTAL && performance.now() < deadline) {
    socket = connect({ host: HOST, port });
    socket.on('error', () => undefined);
    connections += 1;
    await new Promise((resolve) => socket.once('connect', resolve).once('close', resolve));
    while (sent < TOTAL && !socket.destroyed && !socket.writableEnded && performance.now() < deadline) {
      const ok = await new Promise((resolve) => socket.write(chunk, (error) => resolve(!error)));
      if (!ok) break;
      sent += chunk.length;
    }
  }
  process.stdout.write(`${JSON.stringify({ sentBytes: sent, connections })}\n`);
  await new Promise((resolve) => process.once('SIGTERM', resolve));
  socket?.destroy();
}

const phases = {
  seq: sequential,
  '1x64': () => throughput(1, 64),
  '16x16': () => throughput(16, 16),
  mib: mebibyte,
  garbage,
};

// seq-latency-client.cjs reuses `open` (same argv: kind, port).
module.exports = { open };
if (require.main !== module) return;

phases[phase]().then(
  (result) => {
    if (result) process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
