// The text phase against one line-echo server, as a process of its own; prints its result as JSON.
// Usage: node bench/line-load-client.cjs <port> [connections=16] [window=16]
// Each connection keeps `window` lines in flight (pipelined), checks every reply line against the line it
// sent (replies come back in order on one connection) and sends a new line for each reply. Loopback only;
// bounded in time: warm-up, a measured interval, then at most DRAIN_MS for the replies still in flight.
const { connect } = require('node:net');

const [portText, connectionsText = '16', windowText = '16'] = process.argv.slice(2);
const port = Number(portText);
const CONNECTIONS = Number(connectionsText);
const WINDOW = Number(windowText);
const HOST = '127.0.0.1';
const WARMUP_MS = 500;
const MEASURE_MS = 3_000;
const DRAIN_MS = 5_000;
const CONNECT_TIMEOUT_MS = 5_000;

let counting = false;
let counted = 0;
let total = 0;
let stopping = false;

function openConnection(index) {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: HOST, port, noDelay: true });
    const expected = [];
    let next = 0;
    let partial = '';
    let settleDrained;
    const drained = new Promise((done) => (settleDrained = done));
    const timer = setTimeout(
      () => socket.destroy(new Error(`connection ${index}: no connect in ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );

    const send = (count) => {
      let out = '';
      for (let i = 0; i < count; i += 1) {
        const line = `c${index} #${next++} échö`;
        expected.push(line);
        out += `${line}\n`;
      }
      if (out.length > 0) socket.write(out);
    };

    socket.setEncoding('utf8'); // the decoder keeps a character split across chunks whole
    socket.on('data', (chunk) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop();
      for (const line of lines) {
        const want = expected.shift();
        if (line !== want) {
          socket.destroy(new Error(`connection ${index}: expected ${JSON.stringify(want)}, got ${JSON.stringify(line)}`));
          return;
        }
      }
      total += lines.length;
      if (counting) counted += lines.length;
      if (!stopping) send(lines.length);
      else if (expected.length === 0) settleDrained();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
      fail(error);
    });
    socket.once('close', () => settleDrained());
    socket.once('connect', () => {
      clearTimeout(timer);
      send(WINDOW);
      resolve({
        socket,
        inFlight: () => expected.length,
        drained: () => (expected.length === 0 ? Promise.resolve() : drained),
      });
    });
  });
}

function fail(error) {
  console.error(error);
  process.exit(1);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

(async () => {
  const conns = await Promise.all(Array.from({ length: CONNECTIONS }, (_, index) => openConnection(index)));
  await sleep(WARMUP_MS);
  counting = true;
  const started = performance.now();
  await sleep(MEASURE_MS);
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  stopping = true;
  await Promise.race([Promise.all(conns.map((conn) => conn.drained())), sleep(DRAIN_MS)]);
  const unanswered = conns.reduce((sum, conn) => sum + conn.inFlight(), 0);
  conns.forEach((conn) => conn.socket.destroy());
  return { reqPerSec: counted / seconds, requests: total, connections: CONNECTIONS, window: WINDOW, unanswered };
})().then((result) => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}, fail);
