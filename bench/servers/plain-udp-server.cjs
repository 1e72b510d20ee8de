// C (UDP phase): a plain `dgram` echo server, no framework: every datagram is sent back to its sender as it came.
const { createSocket } = require('node:dgram');

const socket = createSocket('udp4');
socket.on('error', () => undefined); // a vanished peer; UDP has nothing to clean up
socket.on('message', (message, sender) => socket.send(message, sender.port, sender.address));
socket.bind(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ port: socket.address().port })}\n`));
process.on('SIGTERM', () => process.exit(0));
