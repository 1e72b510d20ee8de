// Attacks that push bytes down TCP connections: long lines (or an 8 MiB frame) that never end, floods whose
// replies are never read, and a chat room flooded while one member reads and others never do. Each is bounded
// in connections, bytes and time (`durationMs`), closes what it opened and resolves with its figures.
const { randomUUID } = require('node:crypto');
const { openTracked, writeUntil, holdUntil, summarise } = require('./tracked-socket.cjs');

const MiB = 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const CHAT_JOIN_MS = 500;
const sum = (values) => values.reduce((total, value) => total + value, 0);

/** `count` lines of `prefix <n> <padding>` in one buffer of about CHUNK_BYTES. */
function linesChunk(prefix) {
  let text = '';
  for (let n = 0; text.length < CHUNK_BYTES; n += 1) text += `${prefix} ${n} ${'y'.repeat(60)}\n`;
  return Buffer.from(text);
}

/** About CHUNK_BYTES of complete Nest `echo` frames. */
function framesChunk() {
  let text = '';
  for (let id = 0; text.length < CHUNK_BYTES; id += 1) {
    const json = JSON.stringify({ pattern: 'echo', data: { text: `flood ${id} ${'y'.repeat(60)}` }, id: `f${id}` });
    text += `${json.length}#${json}`;
  }
  return Buffer.from(text);
}

/**
 * Long lines with no newline: each connection sends `bytesPerConnection` of `x` (no `\n`; no `#` either)
 * as fast as the server takes them, then holds the connection open with its line unfinished, until the
 * server closes it or the time is up. On the Nest door (`door: 'nest'`) the same as a frame whose header
 * announces `frameLength` code units, which never get all there.
 */
async function longLines({ host, port, door = 'text', connections = 4, bytesPerConnection = 64 * MiB, frameLength = 8 * MiB, durationMs }) {
  const deadline = performance.now() + durationMs;
  const opened = await Promise.all(Array.from({ length: connections }, () => openTracked(host, port, { read: 'all' })));
  const chunk = Buffer.alloc(CHUNK_BYTES, 'x');
  const sent = await Promise.all(
    opened
      .filter((tracked) => tracked.connected)
      .map(async (tracked) => {
        let limit = bytesPerConnection;
        let header = 0;
        if (door === 'nest') {
          const opening = Buffer.from(`${frameLength}#{"pattern":"echo","data":{"text":"`);
          tracked.socket.write(opening);
          header = opening.length;
          limit = Math.min(bytesPerConnection, frameLength - opening.length - 1);
        }
        return header + (await writeUntil(tracked, limit, deadline, chunk));
      }),
  );
  await holdUntil(opened, deadline);
  const figures = { door, ...summarise(opened), bytesSent: sum(sent), replyLines: sum(opened.map((tracked) => tracked.lines)) };
  opened.forEach((tracked) => tracked.close());
  return figures;
}

/**
 * Floods whose replies are never read: each connection sends `bytesPerConnection` of short lines (or Nest
 * `echo` frames) as fast as the server takes them and reads nothing after the first chunk it receives (so a
 * refusal line is still seen), until the bytes are sent, the server closes it or the time is up.
 */
async function unreadFlood({ host, port, door = 'text', connections = 4, bytesPerConnection = 20 * MiB, durationMs }) {
  const deadline = performance.now() + durationMs;
  const opened = await Promise.all(Array.from({ length: connections }, () => openTracked(host, port, { read: 'first' })));
  const chunk = door === 'nest' ? framesChunk() : linesChunk('flood');
  const sent = await Promise.all(
    opened.filter((tracked) => tracked.connected).map((tracked) => writeUntil(tracked, bytesPerConnection, deadline, chunk)),
  );
  // Held until the time is up: the replies stay unread, so the server keeps holding or cuts.
  await holdUntil(opened, deadline);
  const figures = { door, ...summarise(opened), bytesSent: sum(sent) };
  opened.forEach((tracked) => tracked.close());
  return figures;
}

/**
 * A chat flood: `flooders` members send lines into one room as fast as the server takes them; one member
 * reads everything (the normal reader, whose lines are counted) and `slowReaders` members never read.
 */
async function chatFlood({ host, port, flooders = 2, slowReaders = 2, durationMs }) {
  const deadline = performance.now() + durationMs;
  const tag = randomUUID().slice(0, 6);
  const room = `abuse-${tag}`;
  let readerLines = 0;
  const join = async (nick, read, onLine) => {
    const tracked = await openTracked(host, port, { read, onLine });
    if (tracked.connected) tracked.socket.write(`/nick ${nick}\n/join ${room}\n`);
    return tracked;
  };
  const reader = await join(`reader${tag}`, 'all', (line) => {
    if (line.includes('flood-line')) readerLines += 1;
  });
  const slow = await Promise.all(Array.from({ length: slowReaders }, (_, index) => join(`slow${index}${tag}`, 'first')));
  const senders = await Promise.all(Array.from({ length: flooders }, (_, index) => join(`flood${index}${tag}`, 'all')));
  await new Promise((resolve) => setTimeout(resolve, CHAT_JOIN_MS));
  const startedAt = performance.now();
  const chunk = linesChunk('flood-line');
  const sent = await Promise.all(
    senders.filter((tracked) => tracked.connected).map((tracked) => writeUntil(tracked, Number.POSITIVE_INFINITY, deadline, chunk)),
  );
  const seconds = (performance.now() - startedAt) / 1000;
  const linesPerChunk = chunk.toString().split('\n').length - 1;
  const figures = {
    room,
    flooders: summarise(senders),
    linesSent: Math.round((sum(sent) / chunk.length) * linesPerChunk),
    bytesSent: sum(sent),
    sendMiBPerSecond: seconds > 0 ? Math.round((sum(sent) / MiB / seconds) * 10) / 10 : 0,
    reader: { ...summarise([reader]), linesReceived: readerLines },
    slowReaders: summarise(slow),
  };
  [reader, ...slow, ...senders].forEach((tracked) => tracked.close());
  return figures;
}

module.exports = { longLines, unreadFlood, chatFlood, MiB };
