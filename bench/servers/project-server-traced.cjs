// A with tracing on, for `BENCH_X_SERVER=bench/servers/project-server-traced.cjs` (tracing's cost, beside A in one run):
// the server's spans go by OTLP over HTTP, with the SDK's defaults (every request sampled: the minimal
// client sends no trace context; batched export), to a sink in a child process that reads and drops
// them, so that the sink's CPU is not counted as the server's. Then A's own script starts the server.
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
} else {
  (async () => {
    const sink = fork(__filename, ['sink'], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const [sinkPort] = await once(sink, 'message');
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${sinkPort}`;
    // The first line on stdout must be the ports: tracing's start-up line (Nest's default logger) is left out.
    require('@nestjs/common').Logger.overrideLogger(['error']);
    require('@echo-pair/common').startTracingFromEnvironment('echo-server');
    require('./project-server.cjs');
  })().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
