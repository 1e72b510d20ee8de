// One run of mixed abuse against a server container, shared by the container suite
// (test/containers/abuse.container-spec.ts) and the soak (bench/soak.cjs): well-behaved load alone (the
// baseline), then, optionally, each attack from one connection with the server's RSS before and during it,
// then every attack together, each from several connections through the published ports, while the
// well-behaved load runs again from another address. Resolves with every figure; report.cjs prints them.
const { readFileSync } = require('node:fs');
const os = require('node:os');
const { longLines, unreadFlood, chatFlood, MiB } = require('./stream-attacks.cjs');
const { connectionFlood, udpFlood } = require('./connection-attacks.cjs');
const { readMemory, inspectContainer, logLinesBetween, startSampler, watchEvents } = require('./container-memory.cjs');
const { probeDoors } = require('./probe-doors.cjs');
const { watchOpenConnections } = require('./open-connections.cjs');
const { sleep } = require('./tracked-socket.cjs');

/** The attacks of the combined phase: several connections each. */
const DEFAULT_SCALE = {
  longLineConnections: 4,
  longLineBytes: 64 * MiB,
  longFrameConnections: 2,
  floodConnections: 4,
  floodBytes: 20 * MiB,
  textConnections: 3_000,
  tcpConnections: 1_500,
  drippers: 10,
  chatFlooders: 2,
  chatSlowReaders: 2,
  udpSockets: 4,
  udpPerSecond: 2_000,
};
/** The connection flood starts this long after the others, which hold their connections by then (one address shares one limit). */
const FLOOD_DELAY_MS = 1_000;
const SINGLE_STEP_MS = 3_000;
/** After a single-connection step, how long its RSS is still watched (the server frees what it held). */
const SETTLE_MS = 500;

/** Each attack from one connection (a chat flooder with one reader that never reads): the 64 MiB bound is per abusive connection. */
function singleSteps({ host, tcpPort, textPort, udpPort }, scale) {
  const durationMs = SINGLE_STEP_MS;
  return [
    [
      'long line, no newline (text)',
      () => longLines({ host, port: textPort, connections: 1, bytesPerConnection: scale.longLineBytes, durationMs }),
    ],
    ['unfinished 8 MiB frame (Nest)', () => longLines({ host, port: tcpPort, door: 'nest', connections: 1, durationMs })],
    [
      'flood, replies unread (text)',
      () => unreadFlood({ host, port: textPort, connections: 1, bytesPerConnection: scale.floodBytes, durationMs }),
    ],
    [
      'flood, replies unread (Nest)',
      () => unreadFlood({ host, port: tcpPort, door: 'nest', connections: 1, bytesPerConnection: scale.floodBytes, durationMs }),
    ],
    [
      'silent and dripping connections',
      () => connectionFlood({ host, textPort, tcpPort, textConnections: 1, tcpConnections: 1, drippers: 1, durationMs }),
    ],
    ['chat flood into a reader that never reads', () => chatFlood({ host, port: textPort, flooders: 1, slowReaders: 1, durationMs })],
    ['UDP flood', () => udpFlood({ host, port: udpPort, sockets: 1, durationMs })],
  ];
}

/** Every attack at once for `durationMs`, the connection flood starting FLOOD_DELAY_MS later. */
async function allAttacks({ host, tcpPort, textPort, udpPort }, durationMs, scale) {
  const [longText, longNest, floodText, floodNest, chat, udp, connections] = await Promise.all([
    longLines({ host, port: textPort, connections: scale.longLineConnections, bytesPerConnection: scale.longLineBytes, durationMs }),
    longLines({ host, port: tcpPort, door: 'nest', connections: scale.longFrameConnections, durationMs }),
    unreadFlood({ host, port: textPort, connections: scale.floodConnections, bytesPerConnection: scale.floodBytes, durationMs }),
    unreadFlood({
      host,
      port: tcpPort,
      door: 'nest',
      connections: scale.floodConnections,
      bytesPerConnection: scale.floodBytes,
      durationMs,
    }),
    chatFlood({ host, port: textPort, flooders: scale.chatFlooders, slowReaders: scale.chatSlowReaders, durationMs }),
    udpFlood({ host, port: udpPort, sockets: scale.udpSockets, perSecond: scale.udpPerSecond, durationMs }),
    sleep(FLOOD_DELAY_MS).then(() =>
      connectionFlood({
        host,
        textPort,
        tcpPort,
        textConnections: scale.textConnections,
        tcpConnections: scale.tcpConnections,
        drippers: scale.drippers,
        durationMs: durationMs - FLOOD_DELAY_MS,
      }),
    ),
  ]);
  return { longText, longNest, floodText, floodNest, chat, udp, connections };
}

/** Figures of two rounds as one: counts add up, `max…` figures take the larger, rates average, names stay. */
function mergeFigures(a, b) {
  if (a === undefined) return b;
  const merged = {};
  for (const [key, value] of Object.entries(b)) {
    const previous = a[key];
    if (typeof value === 'number' || value === null) {
      if (key.startsWith('max')) merged[key] = previous === null || value === null ? (previous ?? value) : Math.max(previous, value);
      else if (key.endsWith('PerSecond') || key.endsWith('Ratio')) merged[key] = Math.round(((previous + value) / 2) * 1000) / 1000;
      else if (key === 'sockets') merged[key] = value;
      else merged[key] = (previous ?? 0) + (value ?? 0);
    } else if (typeof value === 'object') merged[key] = mergeFigures(previous, value);
    else merged[key] = value;
  }
  return merged;
}

/** The attacks in rounds of `roundSeconds` (the last one shorter) until `seconds` are over, their figures merged. */
async function attackRounds(target, seconds, roundSeconds, sizes, progress) {
  let merged;
  let rounds = 0;
  for (let left = seconds; left > 0; left -= roundSeconds) {
    rounds += 1;
    if (roundSeconds < seconds) progress(`abuse round ${rounds}, ${Math.min(left, roundSeconds)} s`);
    merged = mergeFigures(merged, await allAttacks(target, Math.min(left, roundSeconds) * 1000, sizes));
  }
  const { udp } = merged;
  udp.replyToRequestRatio =
    udp.sent > 0 ? Math.round(((udp.replyBytes + 28 * udp.replies) / (udp.bytesSent + 28 * udp.sent)) * 1000) / 1000 : 0;
  return { ...merged, rounds };
}

function cpuModel() {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  return `${model.trim()} (${os.cpus().length} CPUs)`;
}

/**
 * The run. `target`: host and published ports; `containerId`: the server's container; `wellBehaved(seconds)`:
 * runs the well-behaved client from another address for `seconds` and resolves with its figures
 * (well-behaved.cjs); `roundSeconds`: the attacks start again every so often (a soak's connections would
 * otherwise be refused or timed out once, and the abuse over); `progress(line)`: where to say which phase runs.
 */
async function runAbuse({
  target,
  containerId,
  wellBehaved,
  baselineSeconds,
  abuseSeconds,
  roundSeconds = abuseSeconds,
  singleConnection = true,
  scale = {},
  progress = () => undefined,
}) {
  const sizes = { ...DEFAULT_SCALE, ...scale };
  const stepsSeconds = singleConnection ? (7 * (SINGLE_STEP_MS + SETTLE_MS + 1_500)) / 1000 : 0;
  const before = { memory: await readMemory(containerId), container: await inspectContainer(containerId) };
  const sampler = startSampler(containerId, { maxSeconds: baselineSeconds + stepsSeconds + abuseSeconds + 60 });
  const watch = watchEvents(containerId);
  try {
    progress(`baseline: well-behaved load alone for ${baselineSeconds} s`);
    const baseline = await wellBehaved(baselineSeconds);

    const single = [];
    if (singleConnection) {
      for (const [kind, attack] of singleSteps(target, sizes)) {
        progress(`one connection: ${kind}`);
        const start = await sampler.fresh();
        const from = performance.now();
        const figures = await attack();
        await sleep(SETTLE_MS);
        const peak = sampler.maxRssBetween(from, performance.now());
        single.push({
          kind,
          rssBeforeBytes: start?.rssBytes ?? null,
          rssPeakBytes: peak,
          growthBytes: peak === null || !start ? null : Math.max(0, peak - start.rssBytes),
          figures,
        });
      }
    }

    progress(`abuse: every attack together with the well-behaved load for ${abuseSeconds} s`);
    const abuseFrom = performance.now();
    const abuseStartedAt = new Date();
    const cpuBefore = { server: (await readMemory(containerId)).cpuSeconds, attackers: process.cpuUsage() };
    const openConnections = watchOpenConnections(target.host, target.httpPort);
    const [underAbuse, attacks] = await Promise.all([
      wellBehaved(abuseSeconds),
      attackRounds(target, abuseSeconds, roundSeconds, sizes, progress),
    ]);
    const abuseEndedAt = new Date();
    const abuseTo = performance.now();
    const open = await openConnections.stop();
    const serverCpu = (await readMemory(containerId)).cpuSeconds;
    const attackersCpu = process.cpuUsage(cpuBefore.attackers);
    const busySeconds = (abuseEndedAt - abuseStartedAt) / 1000;
    /** Shares of one core during the abuse: the server's container, and this process (the attackers, through Docker's proxy). */
    const cpu = {
      serverPercent:
        serverCpu === null || cpuBefore.server === null ? null : Math.round(((serverCpu - cpuBefore.server) / busySeconds) * 100),
      attackersPercent: Math.round(((attackersCpu.user + attackersCpu.system) / 1e6 / busySeconds) * 100),
    };

    progress('after: every door, memory, restarts');
    const doors = await probeDoors(target);
    const after = { memory: await readMemory(containerId), container: await inspectContainer(containerId) };
    const sampledPeak = sampler.maxCurrentBetween(0, performance.now());
    return {
      cpu: cpuModel(),
      baselineSeconds,
      abuseSeconds,
      wellBehaved: { baseline, underAbuse },
      single,
      attacks,
      doors,
      /** The server's largest count of open connections per door during the abuse, every address together. */
      openConnections: open,
      cpuDuringAbuse: cpu,
      memory: {
        cgroupVersion: after.memory.cgroupVersion,
        limitBytes: after.memory.limitBytes ?? after.container.memoryLimitBytes,
        // The kernel's peak covers the container's life; samples stand in where it keeps none.
        peakBytes: Math.max(after.memory.peakBytes ?? 0, sampledPeak ?? 0),
        peakSource: after.memory.peakBytes === null ? 'sampled every 250 ms' : 'cgroup',
        peakDuringAbuseBytes: sampler.maxCurrentBetween(abuseFrom, abuseTo),
        rssPeakBytes: after.memory.rssPeakBytes,
        oomKills: after.memory.oomKills,
        oomKilled: after.container.oomKilled,
      },
      restarts: {
        restartCount: after.container.restartCount - before.container.restartCount,
        sameStart: after.container.startedAt === before.container.startedAt,
        samePid: after.memory.pid === before.memory.pid,
        running: after.container.running,
        /** Each exit (`die`, with its code) and OOM kill (`oom`) during the run. */
        events: watch.events,
      },
      logLinesDuringAbuse: await logLinesBetween(containerId, abuseStartedAt, abuseEndedAt),
      environment: before.container.environment,
    };
  } finally {
    sampler.stop();
    watch.stop();
  }
}

module.exports = { runAbuse, DEFAULT_SCALE };
