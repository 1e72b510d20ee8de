// A TCP connection of an attack, with what happened to it: when it connected, the first line the server sent
// (a refusal, a welcome, a `bye`), whether the server closed it and when. The attacks count connections from it.
const { connect } = require('node:net');

const CONNECT_TIMEOUT_MS = 10_000;
const FIRST_LINE_MAX = 200;
/** The line a text connection refused for its address gets, before it is closed. */
const REFUSAL_PREFIX = 'ERR LIMIT_REACHED MAX_CONNECTIONS_PER_ADDRESS';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Opens a connection and resolves once it is connected or has failed (never rejects). `read`: `all` reads
 * everything (counting lines), `first` reads until the first chunk then stops reading (a peer that never
 * reads its replies, yet sees a refusal line), `none` never reads.
 */
function openTracked(host, port, { read = 'all', onLine } = {}) {
  return new Promise((resolve) => {
    const socket = connect({ host, port, noDelay: true });
    const tracked = {
      socket,
      connected: false,
      connectedAt: undefined,
      connectFailed: false,
      firstLine: undefined,
      firstDataAt: undefined,
      bytesReceived: 0,
      lines: 0,
      closedByServer: false,
      closedAt: undefined,
      closedByUs: false,
      error: undefined,
      /** Our end: destroys the socket; a later close is ours, not the server's. */
      close() {
        if (!tracked.closedAt) tracked.closedByUs = true;
        socket.destroy();
      },
    };
    let partial = '';
    const timer = setTimeout(() => socket.destroy(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
    const onData = (chunk) => {
      tracked.bytesReceived += chunk.length;
      tracked.firstDataAt ??= performance.now();
      const text = partial + chunk.toString('latin1');
      const lines = text.split('\n');
      partial = lines.pop().slice(-FIRST_LINE_MAX);
      tracked.lines += lines.length;
      if (tracked.firstLine === undefined && (lines.length > 0 || read === 'first')) {
        tracked.firstLine = (lines[0] ?? text).slice(0, FIRST_LINE_MAX);
      }
      if (onLine) lines.forEach(onLine);
      if (read === 'first') {
        socket.off('data', onData);
        socket.pause();
      }
    };
    if (read !== 'none') socket.on('data', onData);
    else socket.pause();
    socket.on('error', (error) => {
      tracked.error ??= error.code ?? error.message;
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      tracked.connected = true;
      tracked.connectedAt = performance.now();
      resolve(tracked);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      tracked.closedAt = performance.now();
      if (!tracked.connected) {
        tracked.connectFailed = true;
        resolve(tracked);
      } else if (!tracked.closedByUs) {
        tracked.closedByServer = true;
      }
    });
  });
}

/** Opens `count` connections with at most `concurrency` connecting at once, stopping at `deadline` (performance.now()). */
async function openMany(count, concurrency, deadline, open) {
  const opened = [];
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      next += 1;
      opened.push(await open());
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return opened;
}

/** Writes `chunk` (a Buffer or a function of the index returning one) until `limit` bytes, a close or `deadline`, honouring back-pressure. */
async function writeUntil(tracked, limit, deadline, chunk) {
  const { socket } = tracked;
  let sent = 0;
  let index = 0;
  while (sent < limit && !socket.destroyed && performance.now() < deadline) {
    const whole = typeof chunk === 'function' ? chunk(index++) : chunk;
    const data = whole.length > limit - sent ? whole.subarray(0, limit - sent) : whole;
    sent += data.length;
    if (!socket.write(data)) {
      await new Promise((resolve) => {
        const done = () => {
          clearTimeout(timer);
          socket.off('drain', done);
          socket.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, deadline - performance.now()));
        socket.once('drain', done).once('close', done);
      });
    }
  }
  return sent;
}

/** Waits until every connection of `connections` is closed, or `deadline`. */
async function holdUntil(connections, deadline) {
  while (performance.now() < deadline && connections.some((tracked) => tracked.connected && tracked.closedAt === undefined)) {
    await sleep(100);
  }
}

/**
 * What happened to a set of connections: opened, failed to connect, refused with the refusal line, closed
 * by the server without a byte (a refusal without its line), closed by the server otherwise, open at the end,
 * and the longest time from connect to the server's close. Call it before closing them.
 */
function summarise(connections) {
  const figures = {
    attempted: connections.length,
    connectFailed: 0,
    refusedWithLine: 0,
    closedWithoutLine: 0,
    closedByServer: 0,
    openAtEnd: 0,
    maxSecondsToClose: null,
    byeLines: 0,
    /** Open at the end without a byte from the server: on a text door, not accepted yet (held in Docker's proxy or the backlog). */
    silentAtEnd: 0,
  };
  for (const tracked of connections) {
    if (tracked.connectFailed) {
      figures.connectFailed += 1;
      continue;
    }
    if (tracked.firstLine?.startsWith(REFUSAL_PREFIX)) figures.refusedWithLine += 1;
    else if (tracked.firstLine?.startsWith('bye')) figures.byeLines += 1;
    if (tracked.closedByServer) {
      figures.closedByServer += 1;
      if (tracked.bytesReceived === 0) figures.closedWithoutLine += 1;
      if (!tracked.firstLine?.startsWith(REFUSAL_PREFIX)) {
        const seconds = (tracked.closedAt - tracked.connectedAt) / 1000;
        figures.maxSecondsToClose = Math.max(figures.maxSecondsToClose ?? 0, Math.round(seconds * 10) / 10);
      }
    } else if (tracked.closedAt === undefined) {
      figures.openAtEnd += 1;
      if (tracked.bytesReceived === 0) figures.silentAtEnd += 1;
    }
  }
  return figures;
}

module.exports = { openTracked, openMany, writeUntil, holdUntil, summarise, sleep, REFUSAL_PREFIX };
