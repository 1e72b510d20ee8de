// A with tracing on, for `BENCH_X_SERVER=bench/servers/project-server-traced.cjs` (tracing's cost, beside A in one run):
// the server's spans go by OTLP over HTTP, with the SDK's defaults (every request sampled: the minimal
// client sends no trace context; batched export), to a sink in a child process that reads and drops
// them, so that the sink's CPU is not counted as the server's.
require('reflect-metadata');
const { fork } = require('node:child_process');
const { once } = require('node:events');

if (process.argv[2] === 'sink') {
  const http = require('node:http');
  const sink = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  sink.listen(0, '127.0.0.1', () => process.send(sink.address().port));
  process.on('disconnect', () => process.exit(0));
  return;
}

(async () => {
  const sink = fork(__filename, ['sink'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [sinkPort] = await once(sink, 'message');
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${sinkPort}`;
  // The first line on stdout must be the ports: tracing's start-up line (Nest's default logger) is left out.
  require('@nestjs/common').Logger.overrideLogger(['error']);
  const { startTracingFromEnvironment } = require('@echo-pair/common');
  const tracing = startTracingFromEnvironment('echo-server');
  const { startEchoServer } = require('@echo-pair/echo-server');
  const server = await startEchoServer({
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
  });
  process.stdout.write(`${JSON.stringify({ port: server.port, textPort: server.textPort, udpPort: server.udpPort })}\n`);
  process.on('SIGTERM', async () => {
    await server.close();
    await tracing?.shutdown().catch(() => undefined);
    sink.kill();
    process.exit(0);
  });
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
