// EchoClient's own cost per call, without a network: a stand-in proxy answers each request on the
// next microtask, 64 calls in flight. Given the dist directories of two builds of libs/common (this
// one and an older commit's, say), it runs them alternately in fresh processes and prints the CPU
// per call of each run (best of its rounds), so that two clients' call paths can be compared in one run.
// Usage: node bench/client-overhead.cjs [dist-dir …]   (default: this tree's libs/common/dist)
require('reflect-metadata');
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const { Observable } = require('rxjs');

const CALLS = 1_000_000;
const IN_FLIGHT = 64;
const ROUNDS = 4;
const ALTERNATIONS = 5;

class StandInProxy {
  get status() {
    return new Observable(() => undefined);
  }
  connect() {
    return Promise.resolve();
  }
  unwrap() {
    throw new Error('no socket');
  }
  close() {}
  send(_pattern, data) {
    return new Observable((observer) => {
      queueMicrotask(() => {
        observer.next({ text: data.text });
        observer.complete();
      });
    });
  }
}

/** In a child process: the best CPU µs per call of ROUNDS rounds of the EchoClient of `dist`. */
async function measure(dist) {
  const { EchoClient } = require(dist);
  const client = new EchoClient(new StandInProxy(), { timeoutMs: 5_000 });
  await client.connect();
  let best = Infinity;
  for (let round = 0; round < ROUNDS; round += 1) {
    const before = process.cpuUsage();
    for (let sent = 0; sent < CALLS; sent += IN_FLIGHT) {
      const calls = [];
      for (let k = 0; k < IN_FLIGHT; k += 1) calls.push(client.echo({ text: 'x' }));
      await Promise.all(calls);
    }
    const { user, system } = process.cpuUsage(before);
    best = Math.min(best, (user + system) / CALLS);
  }
  await client.close();
  return best;
}

if (process.argv[2] === '--child') {
  measure(process.argv[3]).then((best) => process.stdout.write(`${best}\n`));
} else {
  const dists = process.argv.length > 2 ? process.argv.slice(2) : [path.join(__dirname, '../libs/common/dist')];
  const results = dists.map(() => []);
  for (let turn = 0; turn < ALTERNATIONS; turn += 1) {
    dists.forEach((dist, index) => {
      results[index].push(Number(execFileSync(process.execPath, [__filename, '--child', path.resolve(dist)], { encoding: 'utf8' })));
    });
  }
  const os = require('node:os');
  console.log(
    `CPU: ${os.cpus()[0].model} × ${os.cpus().length}, Node ${process.version}; ${CALLS} calls per round, ${IN_FLIGHT} in flight`,
  );
  dists.forEach((dist, index) => {
    const sorted = [...results[index]].sort((a, b) => a - b);
    console.log(
      `${dist}: median ${sorted[Math.floor(sorted.length / 2)].toFixed(3)} µs CPU per call (runs: ${results[index].map((v) => v.toFixed(3)).join(', ')})`,
    );
  });
}
