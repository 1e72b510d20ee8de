// The minimal load client of `npm run bench`: no Nest, nothing but Nest's TCP wire format. It frames
// `{ pattern: 'echo', data: { text }, id }` as `<length>#<json>`, cuts replies with FrameDecoder and
// routes them by id. The requests made within one tick go out in one write (so that the client's
// own syscalls do not starve the server on a small machine); that is all. Every server (C plain
// `net`, B stock Nest, A this project's) is driven by this same client, so servers are compared alone.
// Usage: node bench/minimal-client.cjs <port> <phase>   (phases: seq 1x64 16x16 mib garbage)
const { connect } = require('node:net');
// The module files themselves, not the package's index, which would load Nest.
const { FrameDecoder } = require('@echo-pair/common/dist/transport/frame-decoder');
const { runPhase, report } = require('./phases.cjs');

const HOST = '127.0.0.1';
const CONNECT_TIMEOUT_MS = 5_000;

/** One connection: `call(text, done)` sends an echo and calls `done(error, echoedText)` with the reply. */
function openMinimal(port) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    const decoder = new FrameDecoder(64 * 1024 * 1024, 256 * 1024 * 1024);
    const waiting = new Map();
    let nextId = 1;
    let out = '';
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      const text = out;
      out = '';
      if (!socket.destroyed) socket.write(text);
    };
    const timer = setTimeout(() => socket.destroy(new Error(`no connection in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    const failAll = (error) => {
      for (const done of waiting.values()) done(error);
      waiting.clear();
    };
    socket.on('data', (chunk) => {
      try {
        decoder.push(chunk);
        for (let text = decoder.next(); text !== undefined; text = decoder.next()) {
          const reply = JSON.parse(text);
          const done = waiting.get(reply.id);
          if (done === undefined) continue;
          waiting.delete(reply.id);
          if (reply.err !== undefined && reply.err !== null) done(new Error(`error reply: ${JSON.stringify(reply.err).slice(0, 200)}`));
          else done(null, reply.response?.text);
        }
      } catch (error) {
        socket.destroy(error);
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
      failAll(error);
    });
    socket.once('close', () => failAll(new Error('connection closed')));
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({
        call(text, done) {
          const id = nextId++;
          waiting.set(id, done);
          const json = JSON.stringify({ pattern: 'echo', data: { text }, id });
          out += `${json.length}#${json}`;
          if (!flushScheduled) {
            flushScheduled = true;
            process.nextTick(flush);
          }
        },
        close() {
          socket.destroy();
        },
      });
    });
  });
}

/** Streams 32 MiB with no `#`, reconnecting whenever the server closes; then holds the last connection until killed. */
async function garbage(port) {
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

module.exports = { openMinimal };

if (require.main === module) {
  const [portText, phase] = process.argv.slice(2);
  const port = Number(portText);
  if (phase === 'garbage') {
    garbage(port).then(
      () => process.exit(0),
      (error) => {
        console.error(error);
        process.exit(1);
      },
    );
  } else {
    const mibText = () => require('@echo-pair/common/dist/contract/text/mixed-script-text').buildMixedScriptText(1024 * 1024);
    report(() => runPhase(phase, () => openMinimal(port), mibText));
  }
}
