// One bench phase of a client/server pair, as a process of its own; prints its result as JSON.
// Usage: node bench/load-client.cjs <kind> <port> <phase>
// Kinds: `project` (EchoClient), `project-other` (the EchoClient of BENCH_OTHER_CLIENT), `project-nagle` (EchoClient, Nagle on), `stock` (Nest's ClientTCP,
// stock JsonSocket), `framed-raw` (a bare ClientProxy on the framed socket), `minimal` (the minimal
// client of minimal-client.cjs, which the servers alone are measured with). Phases as in phases.cjs.
require('reflect-metadata');
const { lastValueFrom } = require('rxjs');
const { ClientProxyFactory, Transport } = require('@nestjs/microservices');
const { EchoClient, buildMixedScriptText, framedJsonSocket } = require('@echo-pair/common');
const { openMinimal } = require('./minimal-client.cjs');
const { runPhase, report } = require('./phases.cjs');

const HOST = '127.0.0.1';
const CALL_TIMEOUT_MS = 15_000;

/** A connection in the shape phases.cjs drives: `call(text, done)` with the text echoed back. */
async function open(kind, port) {
  const settle = (promise, done) =>
    promise.then(
      (text) => done(null, text),
      (error) => done(error),
    );
  if (kind === 'project' || kind === 'project-nagle' || kind === 'project-other') {
    // project-other: the EchoClient of another build of libs/common (BENCH_OTHER_CLIENT, its dist directory), against this one in one run.
    const Client = kind === 'project-other' ? require(process.env.BENCH_OTHER_CLIENT).EchoClient : EchoClient;
    const client =
      kind !== 'project-nagle'
        ? Client.create({ host: HOST, port, timeoutMs: CALL_TIMEOUT_MS })
        : new EchoClient(
            ClientProxyFactory.create({
              transport: Transport.TCP,
              options: { host: HOST, port, socketClass: framedJsonSocket({ noDelay: false }) },
            }),
            { timeoutMs: CALL_TIMEOUT_MS },
          );
    await client.connect();
    return {
      call: (text, done) =>
        settle(
          client.echo({ text }).then((reply) => reply.text),
          done,
        ),
      close: () => client.close(),
    };
  }
  if (kind === 'stock' || kind === 'framed-raw') {
    // framed-raw: a bare ClientProxy on the framed socket, to tell EchoClient's own cost from the server's.
    const options = kind === 'stock' ? { host: HOST, port } : { host: HOST, port, socketClass: framedJsonSocket() };
    const proxy = ClientProxyFactory.create({ transport: Transport.TCP, options });
    await proxy.connect();
    return {
      call: (text, done) =>
        settle(
          lastValueFrom(proxy.send('echo', { text })).then((reply) => reply.text),
          done,
        ),
      close: () => proxy.close(),
    };
  }
  if (kind === 'minimal' || kind === 'plain') {
    return openMinimal(port);
  }
  throw new Error(`unknown client kind ${kind}`);
}

// seq-latency-client.cjs reuses `open`.
module.exports = { open };

if (require.main === module) {
  const [kind, portText, phase] = process.argv.slice(2);
  report(() =>
    runPhase(
      phase,
      () => open(kind, Number(portText)),
      () => buildMixedScriptText(1024 * 1024),
    ),
  );
}
