import { describeError, RpcClientError, type EchoClient } from '@echo-pair/common';
import type { StartedEchoServerContainer } from '@echo-pair/testcontainers';
import { getContainerRuntimeClient } from 'testcontainers';
import { readStats } from '../support/client-calls';
import { freePort } from '../support/loopback-port';
import { delay } from './support/bounded';
import { Cleanup } from './support/cleanup';
import { echoServerContainer, serverClient, startContainer } from './support/echo-containers';
import { SERVER_PORT } from './support/test-run';

const CALL_TIMEOUT_MS = 1_000;
const PAUSE_MS = 100;
/** Bounds of the calls made while the container restarts, in count and in time. */
const MAX_CALLS = 600;
const MAX_RESTART_MS = 120_000;
const CALLS_AFTER_RESTART = 5;
/** How a call may fail while the server is away: refused, dropped, or unanswered. */
const OUTAGE_CODES = ['CONNECTION_FAILED', 'CONNECTION_LOST', 'TIMEOUT'];

type Outcome = { ok: true; receivedAt: number } | { ok: false; code: string };

/**
 * `docker restart` under a connected typed client. Nest's ClientTCP reconnects on the first
 * call after its connection dropped; the calls made while nothing listens fail. The host
 * port is bound to a fixed free port: on restart the engine would pick a new random one.
 */
describe('restarting the echo-server container under a connected typed client', () => {
  const cleanup = new Cleanup();
  let server: StartedEchoServerContainer;
  let client: EchoClient;
  let hostPort: number;

  beforeAll(async () => {
    hostPort = await freePort();
    server = await startContainer(cleanup, echoServerContainer().withExposedPorts({ container: SERVER_PORT, host: hostPort }));
    client = serverClient(cleanup, server, { timeoutMs: CALL_TIMEOUT_MS });
  });

  afterAll(() => cleanup.run());

  async function call(index: number): Promise<Outcome> {
    try {
      const reply = await client.echo({ text: `call ${index}` });
      return { ok: true, receivedAt: Date.parse(reply.receivedAt) };
    } catch (error) {
      return { ok: false, code: error instanceof RpcClientError ? error.code : describeError(error) };
    }
  }

  it('fails only the calls made while it is away, then serves the same client again', async () => {
    expect((await client.echo({ text: 'connected before the restart' })).text).toBe('connected before the restart');

    let restarted = false;
    // SIGTERM first (the server closes its connections), then `restart` waits for the healthcheck.
    const restart = server.restart({ timeout: 10_000 }).finally(() => (restarted = true));
    const deadline = Date.now() + MAX_RESTART_MS;
    const during: Outcome[] = [];
    while (!restarted && during.length < MAX_CALLS && Date.now() < deadline) {
      during.push(await call(during.length));
      await delay(PAUSE_MS);
    }
    await restart;
    const after: Outcome[] = [];
    for (let index = 0; index < CALLS_AFTER_RESTART; index += 1) {
      after.push(await call(during.length + index));
    }

    const failed = during.flatMap((outcome) => (outcome.ok ? [] : [outcome.code]));
    console.info(
      `restart: ${during.length} calls while the container restarted, ${during.length - failed.length} succeeded, ` +
        `${failed.length} failed, in order: ${runLengths(during)}; ` +
        `then ${after.filter((outcome) => outcome.ok).length}/${CALLS_AFTER_RESTART} succeeded`,
    );

    expect(restarted).toBe(true);
    expect(server.getTcpPort()).toBe(hostPort);
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.filter((code) => !OUTAGE_CODES.includes(code))).toEqual([]);
    expect(after).toEqual(Array.from({ length: CALLS_AFTER_RESTART }, () => ({ ok: true, receivedAt: expect.any(Number) as number })));

    // Every call accounted for: the new server process counted exactly the echoes that succeeded
    // after it started, plus at most the calls that timed out (sent, their reply too late).
    const { State } = await (await getContainerRuntimeClient()).container.getById(server.getId()).inspect();
    const startedAt = Date.parse(State.StartedAt);
    const servedByNewProcess = [...during, ...after].filter((outcome) => outcome.ok && outcome.receivedAt >= startedAt).length;
    const timedOut = failed.filter((code) => code === 'TIMEOUT').length;
    const { messages } = await readStats(client);
    expect(messages.echo).toBeGreaterThanOrEqual(servedByNewProcess);
    expect(messages.echo).toBeLessThanOrEqual(servedByNewProcess + timedOut);
    expect(servedByNewProcess).toBeGreaterThanOrEqual(CALLS_AFTER_RESTART);
  });
});

/** The outcomes in order, repeats counted: "ok x20, CONNECTION_LOST, CONNECTION_FAILED x2, ok x30". */
function runLengths(outcomes: Outcome[]): string {
  const runs: Array<{ label: string; count: number }> = [];
  for (const outcome of outcomes) {
    const label = outcome.ok ? 'ok' : outcome.code;
    if (runs.at(-1)?.label === label) {
      runs[runs.length - 1].count += 1;
    } else {
      runs.push({ label, count: 1 });
    }
  }
  return runs.map(({ label, count }) => (count > 1 ? `${label} x${count}` : label)).join(', ');
}
