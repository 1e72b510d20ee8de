// C (text phase): a plain `net` line-echo server, no framework: split on `\n`, write each line back with `\n`.
const { createServer } = require('node:net');

const MAX_LINE_BYTES = 64 * 1024; // as the project's TEXT_MAX_LINE_BYTES: a peer cannot grow a buffer without bound

const server = createServer((socket) => {
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    const data = pending.length > 0 ? Buffer.concat([pending, chunk]) : chunk;
    let out = '';
    let start = 0;
    // `\n` is never part of a UTF-8 multi-byte character: splitting the bytes on it keeps characters whole.
    for (let end = data.indexOf(0x0a); end >= 0; end = data.indexOf(0x0a, start)) {
      out += `${data.toString('utf8', start, end)}\n`;
      start = end + 1;
    }
    pending = data.subarray(start);
    if (pending.length > MAX_LINE_BYTES) {
      socket.destroy();
      return;
    }
    if (out.length > 0) socket.write(out); // one write per chunk, as plain-net-server.cjs does
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
