// `npm run soak` (not in CI): the compose stack's server under mixed abuse and well-behaved load, then a table.
// Brings up docker-compose.yml's echo-server (its memory limit, hardening and restart policy) as a project of
// its own, on ephemeral loopback ports; runs the well-behaved load alone (the baseline), each attack from one
// connection, then every attack together, in rounds, for SOAK_SECONDS while the well-behaved load runs again.
// The attacks come from this host through the published ports; the well-behaved load runs in a
// node:24-bookworm-slim container on the stack's network, so that it has an address of its own: through the
// published ports every host client shares the bridge gateway's address, and with it the per-address limits.
// Prints the table and writes it to bench/results/soak-<date>.md. The stack is always taken down (docker
// compose down -v), also after an error or Ctrl-C.
//   SOAK_SECONDS=600           the abuse phase (10 minutes)
//   SOAK_BASELINE_SECONDS      the well-behaved load alone first (SOAK_SECONDS / 10, 10 to 60)
//   SOAK_ROUND_SECONDS=60      the attacks start again this often
//   SOAK_SINGLE=true           measure each attack from one connection (RSS growth) before the abuse phase
//   SOAK_BUILD=true            `--build` the server image (false: use echo-pair/echo-server:local as it is)
const { execFile } = require('node:child_process');
const { randomUUID } = require('node:crypto');
const { join } = require('node:path');
const { runAbuse } = require('./abuse/abuse-run.cjs');
const { formatReport, writeReport } = require('./abuse/report.cjs');

const REPO_ROOT = join(__dirname, '..');
const CLIENT_IMAGE = 'node:24-bookworm-slim';
const SERVER_ALIAS = 'echo-server';
const UP_TIMEOUT_MS = 600_000;
const DOWN_TIMEOUT_MS = 120_000;

const seconds = Number(process.env.SOAK_SECONDS ?? 600);
const baselineSeconds = Number(process.env.SOAK_BASELINE_SECONDS ?? Math.min(60, Math.max(10, Math.round(seconds / 10))));
const roundSeconds = Math.max(10, Number(process.env.SOAK_ROUND_SECONDS ?? 60));
const project = `echo-pair-soak-${randomUUID().slice(0, 8)}`;
const environment = {
  ...process.env,
  ECHO_PUBLISH_ADDRESS: '127.0.0.1',
  ECHO_PUBLISHED_PORT: '0',
  TEXT_PUBLISHED_PORT: '0',
  UDP_PUBLISHED_PORT: '0',
  METRICS_PUBLISHED_PORT: '0',
};
/** The well-behaved clients' containers, removed with the stack. */
const clients = new Set();

function run(command, args, timeoutMs) {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: REPO_ROOT, env: environment, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${command} ${args.join(' ')}: ${error.message}\n${stderr}`));
        else resolve(stdout.trim());
      },
    );
  });
}

const compose = (args, timeoutMs = 60_000) => run('docker', ['compose', '-p', project, ...args], timeoutMs);

/** `docker compose port`'s `127.0.0.1:49153` → 49153. */
async function publishedPort(port, protocol = 'tcp') {
  const address = await compose(['port', '--protocol', protocol, 'echo-server', String(port)]);
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

/** The well-behaved client for `runSeconds` in a container on the stack's network; resolves with its JSON. */
async function wellBehavedFrom(network, runSeconds) {
  const name = `${project}-well-behaved-${clients.size + 1}`;
  clients.add(name);
  const stdout = await run(
    'docker',
    [
      'run',
      '--rm',
      '--name',
      name,
      '--network',
      network,
      '--user',
      'node',
      '-v',
      `${join(REPO_ROOT, 'bench/abuse')}:/abuse:ro`,
      CLIENT_IMAGE,
    ].concat(['node', '/abuse/well-behaved.cjs', SERVER_ALIAS, '3000', '3001', String(runSeconds)]),
    (runSeconds + 60) * 1000,
  );
  clients.delete(name);
  return JSON.parse(stdout.split('\n').at(-1));
}

let tearingDown;
function tearDown() {
  tearingDown ??= (async () => {
    for (const name of clients) await run('docker', ['rm', '-f', name], 30_000).catch(() => undefined);
    process.stdout.write(`soak: docker compose -p ${project} down -v\n`);
    await compose(['down', '-v', '--timeout', '20'], DOWN_TIMEOUT_MS).catch((error) => process.stderr.write(`${error.message}\n`));
  })();
  return tearingDown;
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    process.stderr.write(`soak: ${signal}, taking the stack down\n`);
    void tearDown().then(() => process.exit(130));
  });
}

async function main() {
  const build = process.env.SOAK_BUILD !== 'false';
  process.stdout.write(`soak: docker compose -p ${project} up -d ${build ? '--build ' : ''}--wait echo-server\n`);
  await compose(['up', '-d', ...(build ? ['--build'] : []), '--wait', 'echo-server'], UP_TIMEOUT_MS);
  const containerId = await compose(['ps', '-q', 'echo-server']);
  const target = {
    host: '127.0.0.1',
    tcpPort: await publishedPort(3000),
    textPort: await publishedPort(3001),
    udpPort: await publishedPort(3001, 'udp'),
    httpPort: await publishedPort(9464),
  };
  const network = `${project}_echo-pair`;
  const report = await runAbuse({
    target,
    containerId,
    wellBehaved: (runSeconds) => wellBehavedFrom(network, runSeconds),
    baselineSeconds,
    abuseSeconds: seconds,
    roundSeconds,
    singleConnection: process.env.SOAK_SINGLE !== 'false',
    progress: (line) => process.stdout.write(`soak: ${line}\n`),
  });
  const markdown = formatReport(report, `Soak: ${seconds} s of mixed abuse against the compose stack`);
  process.stdout.write(`\n${markdown}\n`);
  process.stdout.write(`written to ${writeReport(REPO_ROOT, 'soak', markdown, report)}\n`);
}

main()
  .then(
    () => tearDown().then(() => 0),
    (error) => {
      process.stderr.write(`soak failed: ${error.stack ?? error}\n`);
      return tearDown().then(() => 1);
    },
  )
  .then((code) => process.exit(code));
