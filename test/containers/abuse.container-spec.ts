import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runAbuse, type AbuseReport, type WellBehavedFigures } from '../../bench/abuse/abuse-run.cjs';
import { formatReport, RSS_BOUND_BYTES, writeReport } from '../../bench/abuse/report.cjs';
import { REPO_ROOT } from '../support/run-process';
import { Cleanup } from './support/cleanup';
import { startComposeProject } from './support/compose-project';
import { waitForExit } from './support/container-exit';
import { LOOPBACK, LoopbackContainer, startContainer } from './support/echo-containers';
import { IMAGES, uniqueName } from './support/test-run';
import { getContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';

/** The abuse phase: with the 10 s baseline, the 60-second soak of CI (`npm run soak` runs it for 10 minutes). */
const ABUSE_SECONDS = Number(process.env.ABUSE_SECONDS ?? 50);
const BASELINE_SECONDS = 10;
const STARTUP_MS = 120_000;
/** Start-up, the baseline, seven single-connection steps of about 4.5 s, the abuse, the checks after. */
const RUN_MS = STARTUP_MS + (BASELINE_SECONDS + 40 + ABUSE_SECONDS + 60) * 1000;
/** The client image: bare Node, which the well-behaved client needs and nothing more. */
const CLIENT_IMAGE = 'node:24-bookworm-slim';
const CLIENT_FILE = 'bench/abuse/well-behaved.cjs';
/** The server's defaults for the bounds checked here, unless the container's environment sets them. */
const DEFAULTS = { MAX_CONNECTIONS_PER_ADDRESS: 256, INCOMPLETE_MESSAGE_TIMEOUT_MS: 10_000 };
/** Timers fire late on a loaded machine: a cut is on time within half its bound more, plus 2 s. */
const lateBoundS = (boundMs: number): number => (boundMs * 1.5) / 1000 + 2;
/** The well-behaved client's connections per door, from its own address. */
const WELL_BEHAVED_CONNECTIONS = 1;

/** The server's memory limit in docker-compose.yml (`deploy.resources.limits.memory`, e.g. `512M`), in bytes. */
function composeMemoryLimit(): number {
  const compose = parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { deploy?: { resources?: { limits?: { memory?: string } } } }>;
  };
  const limit = compose.services['echo-server'].deploy?.resources?.limits?.memory ?? '';
  const match = /^(\d+)([bkmg]?)b?$/i.exec(limit);
  if (!match) {
    throw new Error(`docker-compose.yml gives the echo-server no memory limit that this suite reads: ${JSON.stringify(limit)}`);
  }
  return Number(match[1]) * 1024 ** ' kmg'.indexOf(match[2].toLowerCase() || ' ');
}

/**
 * The compose file's echo-server (its image, memory limit, hardening and restart policy) under every attack at
 * once, each from several connections through the published ports, while a well-behaved client on the
 * compose network calls it at a fixed rate. The well-behaved load comes from a container of its own because
 * through the published ports every host client has the bridge gateway's address, which the abusers fill
 * up to the per-address limits. bench/abuse holds the attacks and the measurements, shared with `npm run soak`;
 * the table goes to the console and to bench/results/abuse-<date>.md.
 */
/**
 * Its own step of `npm test`, after every other suite (`npm run test:abuse`, ABUSE_SUITE=true): its
 * attackers load the machine's CPUs for a minute, which would slow the suites running beside it.
 */
const describeWhenAsked = process.env.ABUSE_SUITE === 'true' ? describe : describe.skip;

describeWhenAsked('abuse through the published ports: the compose stack survives, well-behaved clients keep their share', () => {
  const cleanup = new Cleanup();
  const projectName = uniqueName('abuse');
  let report: AbuseReport;
  let setting: (name: keyof typeof DEFAULTS) => number;

  /** The well-behaved client for `seconds` in a container on `network`, reaching the server by its service name. */
  async function wellBehaved(network: string, seconds: number): Promise<WellBehavedFigures> {
    const client = await startContainer(
      cleanup,
      new LoopbackContainer(CLIENT_IMAGE)
        .withNetworkMode(network)
        .withUser('node')
        .withCopyFilesToContainer([{ source: join(REPO_ROOT, CLIENT_FILE), target: '/abuse/well-behaved.cjs' }])
        .withCommand(['node', '/abuse/well-behaved.cjs', 'echo-server', '3000', '3001', String(seconds)]),
    );
    const result = await waitForExit(client.getId(), (seconds + 30) * 1000);
    if (result.code !== 0) {
      throw new Error(`the well-behaved client exited with ${result.code}: ${result.stderr}`);
    }
    return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as WellBehavedFigures;
  }

  beforeAll(async () => {
    const server: StartedTestContainer = await startComposeProject(cleanup, {
      projectName,
      services: ['echo-server'],
      startupTimeoutMs: STARTUP_MS,
      environment: {
        ECHO_PUBLISH_ADDRESS: LOOPBACK,
        ECHO_PUBLISHED_PORT: '0',
        TEXT_PUBLISHED_PORT: '0',
        UDP_PUBLISHED_PORT: '0',
        METRICS_PUBLISHED_PORT: '0',
        ECHO_SERVER_IMAGE: IMAGES.echoServer.tag,
        CLIENT_WORKER_IMAGE: IMAGES.clientWorker.tag,
        // Shorter than the default 30 s: the members that read nothing must be cut within the abuse phase, after
        // the proxy's and the kernel's buffers (several MiB each way) have filled.
        CHAT_STALL_MS: '10000',
      },
    });
    const { NetworkSettings } = await (await getContainerRuntimeClient()).container.getById(server.getId()).inspect();
    const [network] = Object.keys(NetworkSettings.Networks);
    report = await runAbuse({
      target: {
        host: LOOPBACK,
        tcpPort: server.getMappedPort(3000),
        textPort: server.getMappedPort(3001),
        udpPort: server.getMappedPort(3001, 'udp'),
        httpPort: server.getMappedPort(9464),
      },
      containerId: server.getId(),
      wellBehaved: (seconds) => wellBehaved(network, seconds),
      baselineSeconds: BASELINE_SECONDS,
      abuseSeconds: ABUSE_SECONDS,
    });
    setting = (name) => Number(report.environment[name] ?? DEFAULTS[name]);
    const markdown = formatReport(report, `Abuse suite: ${ABUSE_SECONDS} s against the compose stack's server`);
    console.info(`${markdown}\n(${writeReport(REPO_ROOT, 'abuse', markdown, report)})`);
  }, RUN_MS);

  afterAll(() => cleanup.run());

  it('the container survives: no OOM kill, no restart, the same Node process throughout', () => {
    const { memory, restarts } = report;

    expect({ oomKills: memory.oomKills ?? 0, oomKilled: memory.oomKilled, ...restarts }).toEqual({
      events: [],
      oomKills: 0,
      oomKilled: false,
      restartCount: 0,
      sameStart: true,
      samePid: true,
      running: true,
    });
  });

  it("runs with the compose file's memory limit, and its peak stays below it", () => {
    expect(report.memory.limitBytes).toBe(composeMemoryLimit());
    expect(report.memory.peakBytes).toBeGreaterThan(0);
    expect(report.memory.peakBytes).toBeLessThan(composeMemoryLimit());
  });

  it('still answers on every door afterwards', () => {
    expect(report.doors).toEqual({ tcp: 'ok', text: 'ok', udp: 'ok', http: 'ok' });
  });

  it('every well-behaved call succeeds, without abuse and with it', () => {
    const { baseline, underAbuse } = report.wellBehaved;
    const outcome = ({ tcp, text }: WellBehavedFigures) => ({ tcp: tcp.failures, text: text.failures });

    expect(baseline.tcp.sent).toBeGreaterThan(0);
    expect(underAbuse.tcp.sent).toBeGreaterThan(0);
    expect(underAbuse.text.sent).toBeGreaterThan(0);
    expect({ baseline: outcome(baseline), underAbuse: outcome(underAbuse) }).toEqual({
      baseline: { tcp: {}, text: {} },
      underAbuse: { tcp: {}, text: {} },
    });
  });

  it('one abusive connection of each kind grows the RSS by at most 64 MiB', () => {
    expect(report.single).toHaveLength(7);
    const over = report.single.filter((step) => step.growthBytes === null || step.growthBytes > RSS_BOUND_BYTES);

    expect(over).toEqual([]);
  });

  it('one address holds at most MAX_CONNECTIONS_PER_ADDRESS per door; every refused text connection gets its ERR LIMIT_REACHED line', () => {
    const { text, tcp, textDrippers } = report.attacks.connections;
    // The server's own count (its /metrics): from the host, a connection it has not accepted yet looks open too.
    const { peak } = report.openConnections;
    const limit = setting('MAX_CONNECTIONS_PER_ADDRESS');

    // Every abuser shares the bridge gateway's address; the well-behaved client adds one connection per door.
    expect(peak.text).toBeLessThanOrEqual(limit + WELL_BEHAVED_CONNECTIONS);
    // The container's HEALTHCHECK probes the Nest door every 5 s, from the container's own loopback address.
    expect(peak.tcp).toBeLessThanOrEqual(limit + WELL_BEHAVED_CONNECTIONS + 1);
    expect(text.refusedWithLine).toBeGreaterThan(0);
    expect(tcp.closedByServer).toBeGreaterThan(0);
    // A text connection the server closed without a byte was refused without its line.
    expect({ text: text.closedWithoutLine, drippers: textDrippers.closedWithoutLine, notConnected: text.connectFailed }).toEqual({
      text: 0,
      drippers: 0,
      notConnected: 0,
    });
  });

  it('keeps accepting under abuse: every text connection of the flood gets its welcome or its refusal line', () => {
    const { text } = report.attacks.connections;

    // Open at the end without a byte: the server never took it from its listen queue in the whole phase.
    expect({ attempted: text.attempted, unanswered: text.silentAtEnd }).toEqual({ attempted: text.attempted, unanswered: 0 });
  });

  it('frames and lines that never end are cut: within INCOMPLETE_MESSAGE_TIMEOUT_MS on the Nest door, before the abuse is over on the text door', () => {
    const { longNest, longText, connections } = report.attacks;
    const boundS = lateBoundS(setting('INCOMPLETE_MESSAGE_TIMEOUT_MS'));

    expect({ frames: longNest.closedByServer, drippers: connections.tcpDrippers.closedByServer }).toEqual({
      frames: longNest.attempted,
      drippers: connections.tcpDrippers.attempted,
    });
    // The frames only: the drippers, timed from their connect, may wait in the listen queue first (the test above).
    expect(longNest.maxSecondsToClose ?? Infinity).toBeLessThanOrEqual(boundS);
    // TEXT_LINE_TIMEOUT_MS from the line's first byte, which the abuse phase outlasts.
    expect(longText.closedByServer).toBe(longText.attempted);
  });

  it('a chat flood is throttled at its senders: the member that reads stays and receives, those that read nothing are cut', () => {
    const { reader, slowReaders, linesSent } = report.attacks.chat;

    expect(linesSent).toBeGreaterThan(0);
    expect(reader.closedByServer).toBe(0);
    expect(reader.linesReceived).toBeGreaterThan(0);
    // At CHAT_MAX_BACKLOG_BYTES at once, else after CHAT_STALL_MS (10 s here), which the abuse phase outlasts. Counted
    // by the server: a member that reads nothing cannot see its close, queued behind what it left unread.
    expect(report.openConnections.chatCutOff).toBeGreaterThanOrEqual(slowReaders.attempted);
  });

  it('refusals are logged as summaries, not a line each', () => {
    const { text, tcp } = report.attacks.connections;
    const refusals = text.refusedWithLine + text.closedWithoutLine + tcp.closedByServer;

    expect(refusals).toBeGreaterThan(0);
    expect(report.logLinesDuringAbuse).toBeLessThan(Math.max(50, refusals / 10));
  });

  it('the UDP flood gets back at most 3 times the bytes it sent', () => {
    expect(report.attacks.udp.sent).toBeGreaterThan(0);
    expect(report.attacks.udp.replyToRequestRatio).toBeLessThanOrEqual(3);
  });
});
