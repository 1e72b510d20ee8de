// C: a plain `net` server with the same framing and no framework: the machine's limit.
const { createServer } = require('node:net');
// The module file itself, not the package's index, which would load Nest.
const { FrameDecoder } = require('@echo-pair/common/dist/transport/frame-decoder');

const server = createServer((socket) => {
  socket.setNoDelay(true);
  const decoder = new FrameDecoder(8 * 1024 * 1024, 32 * 1024 * 1024);
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk) => {
    let out = '';
    try {
      decoder.push(chunk);
      for (let text = decoder.next(); text !== undefined; text = decoder.next()) {
        const { id, data } = JSON.parse(text);
        const json = JSON.stringify({ id, response: data, isDisposed: true });
        out += `${json.length}#${json}`;
      }
    } catch {
      socket.destroy();
      return;
    }
    if (out.length > 0) socket.write(out);
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
