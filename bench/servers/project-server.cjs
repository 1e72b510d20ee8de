// A: this project's echo server (framed socket, validation pipe on), on 127.0.0.1 and free ports:
// Nest's TCP transport (`port`), the text gateway (`textPort`) and UDP (`udpPort`). Responses are
// not checked, as in the production image (VALIDATE_RESPONSES=false, unless the caller sets it:
// docs/contract.md gives its cost).
require('reflect-metadata');
const { startEchoServer } = require('@echo-pair/echo-server');

startEchoServer({
  env: {
    VALIDATE_RESPONSES: 'false',
    ...process.env,
    ECHO_HOST: '127.0.0.1',
    ECHO_PORT: '0',
    TEXT_PORT: '0',
    UDP_PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'error',
  },
}).then(
  (server) => {
    process.stdout.write(`${JSON.stringify({ port: server.port, textPort: server.textPort, udpPort: server.udpPort })}\n`);
    process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
