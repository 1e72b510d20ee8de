// Attacks by numbers: thousands of connections (silent, and a few dripping one byte a second), and a UDP
// flood of datagrams of assorted sizes at a capped rate. Bounded in count and time (`durationMs`); each closes what it opened
// and resolves with its figures.
const { createSocket } = require('node:dgram');
const { openTracked, openMany, summarise, sleep } = require('./tracked-socket.cjs');

const DRIP_MS = 1_000;
const CONNECT_CONCURRENCY = 100;
/** Datagram sizes, cycled: empty-ish, small, the client's 1200, up to UDP_MAX_DATAGRAM_BYTES (16 KiB) and past it. */
const UDP_SIZES = [1, 16, 100, 600, 1200, 4000, 16_384, 16_385, 32_000, 65_000];
const UDP_WINDOW = 32;
const UDP_TICK_MS = 10;
const UDP_HEADERS = 28;

/**
 * Thousands of connections to both doors: first `drippers` per door that send one byte a second (a text
 * line, a Nest frame, that never ends), then `textConnections` and `tcpConnections` that say nothing, all
 * held until the time is up. Every text connection reads what it gets, so a refusal line is seen.
 */
async function connectionFlood({ host, textPort, tcpPort, textConnections = 3_000, tcpConnections = 1_500, drippers = 10, durationMs }) {
  const deadline = performance.now() + durationMs;
  const open = (port) => () => openTracked(host, port, { read: 'all' });
  const textDrippers = await openMany(drippers, drippers, deadline, open(textPort));
  const tcpDrippers = await openMany(drippers, drippers, deadline, open(tcpPort));
  tcpDrippers.filter((tracked) => tracked.connected).forEach((tracked) => tracked.socket.write('1000#{'));
  const drip = setInterval(() => {
    for (const tracked of [...textDrippers, ...tcpDrippers]) {
      if (tracked.connected && !tracked.socket.destroyed) tracked.socket.write('x');
    }
  }, DRIP_MS);
  const text = await openMany(textConnections, CONNECT_CONCURRENCY, deadline, open(textPort));
  const tcp = await openMany(tcpConnections, CONNECT_CONCURRENCY, deadline, open(tcpPort));
  const remaining = deadline - performance.now();
  if (remaining > 0) await sleep(remaining);
  clearInterval(drip);
  const figures = {
    text: summarise(text),
    tcp: summarise(tcp),
    textDrippers: summarise(textDrippers),
    tcpDrippers: summarise(tcpDrippers),
  };
  [...textDrippers, ...tcpDrippers, ...text, ...tcp].forEach((tracked) => tracked.close());
  return figures;
}

/** The datagram of size `size` number `n`: mostly text lines, every third a `{` that is no packet, every fifth invalid UTF-8. */
function datagram(size, n) {
  const payload = Buffer.alloc(size, 'a');
  if (n % 3 === 0) payload[0] = 0x7b; // `{`
  if (n % 5 === 0) payload.fill(0xff, 0, Math.min(size, 8));
  payload[size - 1] = 0x0a;
  return payload;
}

/**
 * A UDP flood: `sockets` sockets sending `perSecond` datagrams a second between them for the whole time,
 * cycling through UDP_SIZES (at most UDP_WINDOW unsent per socket). The rate is capped because the attacker
 * shares the machine's CPUs with the server: uncapped, this process and Docker's userland proxy would take
 * them all, and the run would measure the machine rather than the server. Replies are read and counted, to
 * compare their bytes with the requests'.
 */
async function udpFlood({ host, port, sockets = 4, perSecond = 2_000, durationMs }) {
  const deadline = performance.now() + durationMs;
  const payloads = UDP_SIZES.flatMap((size, index) => [datagram(size, index), datagram(size, index + 1), datagram(size, index + 2)]);
  const figures = { sockets, sent: 0, bytesSent: 0, sendErrors: 0, replies: 0, replyBytes: 0, replyToRequestRatio: 0 };
  const perTick = Math.max(1, Math.round((perSecond * UDP_TICK_MS) / 1000 / sockets));
  const run = (socket) =>
    new Promise((resolve) => {
      let inFlight = 0;
      let n = 0;
      const timer = setInterval(() => {
        if (performance.now() >= deadline) {
          clearInterval(timer);
          resolve();
          return;
        }
        for (let i = 0; i < perTick && inFlight < UDP_WINDOW; i += 1) {
          const payload = payloads[n++ % payloads.length];
          inFlight += 1;
          socket.send(payload, (error) => {
            inFlight -= 1;
            if (error) figures.sendErrors += 1;
            else {
              figures.sent += 1;
              figures.bytesSent += payload.length;
            }
          });
        }
      }, UDP_TICK_MS);
    });
  const opened = await Promise.all(
    Array.from(
      { length: sockets },
      () =>
        new Promise((resolve) => {
          const socket = createSocket('udp4');
          socket.on('error', () => (figures.sendErrors += 1));
          socket.on('message', (message) => {
            figures.replies += 1;
            figures.replyBytes += message.length;
          });
          socket.connect(port, host, () => resolve(socket));
        }),
    ),
  );
  await Promise.all(opened.map(run));
  await sleep(250); // the last replies
  opened.forEach((socket) => socket.close());
  const withHeaders = (bytes, count) => bytes + UDP_HEADERS * count;
  figures.replyToRequestRatio =
    figures.sent > 0
      ? Math.round((withHeaders(figures.replyBytes, figures.replies) / withHeaders(figures.bytesSent, figures.sent)) * 1000) / 1000
      : 0;
  return figures;
}

module.exports = { connectionFlood, udpFlood };
