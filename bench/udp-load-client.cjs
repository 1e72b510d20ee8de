// The UDP phase against one UDP echo server, as a process of its own; prints its result as JSON.
// Usage: node bench/udp-load-client.cjs <port> [sockets=16] [window=16]
// Each client socket keeps `window` datagrams in flight; a datagram without a reply after TIMEOUT_MS
// counts as lost and frees its slot, so loss lowers the rate instead of hanging the phase. Each datagram
// is one text line ending in `\n` (as `nc -u` sends it); its reply must be the same bytes. Loopback only;
// bounded in time: warm-up, a measured interval, then at most TIMEOUT_MS for the datagrams still in flight.
const { createSocket } = require('node:dgram');

const [portText, socketsText = '16', windowText = '16'] = process.argv.slice(2);
const port = Number(portText);
const SOCKETS = Number(socketsText);
const WINDOW = Number(windowText);
const HOST = '127.0.0.1';
const WARMUP_MS = 500;
const MEASURE_MS = 3_000;
const TIMEOUT_MS = 250;
const SWEEP_MS = 25;
const CONNECT_TIMEOUT_MS = 5_000;

let counting = false;
let counted = 0;
let replies = 0;
let sent = 0;
let lost = 0;
let late = 0;
let sendErrors = 0;
let stopping = false;

function openSocket(index) {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    /** Text of each datagram in flight → when it was sent; insertion order is sending order. */
    const pending = new Map();
    let next = 0;
    const timer = setTimeout(() => reject(new Error(`socket ${index}: no connect in ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);

    const send = () => {
      const text = `s${index} #${next++} échö\n`;
      pending.set(text, performance.now());
      sent += 1;
      socket.send(text, (error) => {
        if (error) sendErrors += 1; // the datagram times out and counts as lost
      });
    };

    socket.on('message', (message) => {
      const text = message.toString('utf8');
      if (!pending.delete(text)) {
        late += 1; // answered after its timeout (or not ours)
        return;
      }
      replies += 1;
      if (counting) counted += 1;
      if (!stopping) send();
    });
    // A connected UDP socket reports ICMP errors (ECONNREFUSED) here; the datagram times out.
    socket.on('error', () => {
      sendErrors += 1;
    });
    socket.connect(port, HOST, () => {
      clearTimeout(timer);
      for (let i = 0; i < WINDOW; i += 1) send();
      resolve({
        socket,
        pending,
        /** Drops the datagrams older than TIMEOUT_MS, each replaced by a new one unless stopping. */
        sweep(now) {
          for (const [text, sentAt] of pending) {
            if (now - sentAt < TIMEOUT_MS) break;
            pending.delete(text);
            lost += 1;
            if (!stopping) send();
          }
        },
      });
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

(async () => {
  const sockets = await Promise.all(Array.from({ length: SOCKETS }, (_, index) => openSocket(index)));
  const sweeper = setInterval(() => {
    const now = performance.now();
    sockets.forEach((entry) => entry.sweep(now));
  }, SWEEP_MS);
  await sleep(WARMUP_MS);
  counting = true;
  const started = performance.now();
  await sleep(MEASURE_MS);
  counting = false;
  const seconds = (performance.now() - started) / 1000;
  stopping = true;
  // Every datagram still in flight is answered or lost within TIMEOUT_MS (plus a sweep).
  const deadline = performance.now() + TIMEOUT_MS + 4 * SWEEP_MS;
  while (sockets.some((entry) => entry.pending.size > 0) && performance.now() < deadline) await sleep(SWEEP_MS);
  clearInterval(sweeper);
  sockets.forEach((entry) => entry.socket.close());
  return {
    reqPerSec: counted / seconds,
    requests: replies,
    sockets: SOCKETS,
    window: WINDOW,
    sent,
    lost,
    late,
    sendErrors,
    /** Never answered: timed out and not answered late either. */
    lostPercent: sent > 0 ? (100 * (lost - late)) / sent : 0,
  };
})().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
