import { EchoClient, RpcClientError, type EchoClientOptions, type ReplicaInfo, type ServerStats } from '@echo-pair/common';
import type { RunningEchoServer } from '@echo-pair/echo-server';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { readStats } from './support/client-calls';
import { ReplicaServers } from './support/replica-servers';
import { compiled, expectExitCode, REPO_ROOT, runNode } from './support/run-process';

/** A name no DNS knows: only the injected resolver (or the preloaded replica-dns.cjs) answers for it. */
const NAME = 'echo-replicas.balancing.test';
const [A, B, C, D] = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'];
const RECONNECT = { initialDelayMs: 50, maxDelayMs: 500, factor: 2 };
/** Bounds every wait for the client to see a change. */
const SETTLE_MS = 10_000;

/** Polls `check` every 20 ms until it holds; fails, saying what, after `timeoutMs`. */
async function until(what: string, check: () => boolean, timeoutMs = SETTLE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) {
      throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface LoadRun {
  sent: number;
  ok: number;
  /** Failed calls by error code. */
  failed: Record<string, number>;
}

interface LoadPlan {
  /** Calls to make at most. */
  total: number;
  /** Calls in flight at once: each lane waits for its reply before the next. */
  lanes: number;
  /** No call is started after this long. */
  timeoutMs: number;
  /** Runs once, when this many calls have been started (not awaited by the lanes). */
  at?: { sent: number; action: () => Promise<unknown> };
  /** Stops the run early once it holds. */
  stopWhen?: () => boolean;
}

/** Echoes over `client`, bounded in count and in time; each reply is checked. */
async function load(client: EchoClient, plan: LoadPlan): Promise<LoadRun> {
  const run: LoadRun = { sent: 0, ok: 0, failed: {} };
  const deadline = Date.now() + plan.timeoutMs;
  let action: Promise<unknown> | undefined;
  const lane = async (): Promise<void> => {
    while (run.sent < plan.total && Date.now() < deadline && !(plan.stopWhen?.() ?? false)) {
      const text = `call ${run.sent}`;
      run.sent += 1;
      if (plan.at !== undefined && action === undefined && run.sent >= plan.at.sent) {
        action = plan.at.action();
      }
      try {
        expect((await client.echo({ text })).text).toBe(text);
        run.ok += 1;
      } catch (error: unknown) {
        const code = error instanceof RpcClientError ? error.code : String(error);
        run.failed[code] = (run.failed[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: plan.lanes }, lane));
  await action;
  return run;
}

const replicaOf = (client: EchoClient, address: string): ReplicaInfo | undefined =>
  client.connectionInfo().replicas.find((replica) => replica.address === address);

const connectedCount = (client: EchoClient): number =>
  client.connectionInfo().replicas.filter((replica) => replica.state === 'connected').length;

const callsBy = (client: EchoClient): Record<string, number> =>
  Object.fromEntries(client.connectionInfo().replicas.map((replica) => [replica.address, replica.calls]));

/** A server's own counters, through a `stats` sent to that replica only. */
async function statsOf(client: EchoClient, address: string): Promise<ServerStats> {
  return JSON.parse((await client.command({ name: 'stats' }, { replica: address })).output) as ServerStats;
}

describe('EchoClient over three replicas behind one name (127.0.0.1-3, one port)', () => {
  let replicas: ReplicaServers;
  let client: EchoClient | undefined;

  /** A client of the name, resolved by the test's resolver; connected to every replica listed. */
  async function connectClient(options: Partial<EchoClientOptions> = {}): Promise<EchoClient> {
    const created = EchoClient.create({
      host: NAME,
      port: replicas.port,
      timeoutMs: 5_000,
      reconnect: RECONNECT,
      resolver: replicas.resolver,
      ...options,
    });
    client = created;
    await created.connect();
    await until(`all ${replicas.listed.length} replicas connected`, () => connectedCount(created) === replicas.listed.length);
    return created;
  }

  beforeEach(async () => {
    replicas = await ReplicaServers.start(NAME, [A, B, C]);
  });

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await replicas.closeAll();
  });

  it('spreads calls evenly: each replica serves at least half of an even share, as its own counters say', async () => {
    const balanced = await connectClient({ resolveIntervalMs: 60_000 });

    const run = await load(balanced, { total: 3_000, lanes: 30, timeoutMs: 30_000 });

    expect(run).toEqual({ sent: 3_000, ok: 3_000, failed: {} });
    const calls = callsBy(balanced);
    console.info(`spread of 3000 echoes over 3 replicas: ${JSON.stringify(calls)}`);
    const served = await Promise.all([A, B, C].map(async (address) => (await statsOf(balanced, address)).messages.echo));
    expect(served.reduce((sum, count) => sum + count, 0)).toBe(3_000);
    expect(served).toEqual([calls[A], calls[B], calls[C]]);
    served.forEach((count) => expect(count).toBeGreaterThanOrEqual(500));
    expect(balanced.connectionInfo()).toMatchObject({ state: 'connected', connects: 3, drops: 0, resolution: { host: NAME, resolves: 1 } });
  });

  it('when a server closes, fails only the calls it had in flight, and sends the rest to the others', async () => {
    const balanced = await connectClient();
    let callsOfBAtDrop = -1;

    const run = await load(balanced, {
      total: 2_000,
      lanes: 20,
      timeoutMs: 30_000,
      at: {
        sent: 400,
        action: async () => {
          await replicas.close(B);
          await until('the client saw B go', () => replicaOf(balanced, B)?.state !== 'connected');
          callsOfBAtDrop = replicaOf(balanced, B)!.calls;
        },
      },
    });

    const failed = Object.values(run.failed).reduce((sum, count) => sum + count, 0);
    console.info(
      `server B closed under load: ${failed} call(s) failed (${JSON.stringify(run.failed)}); calls ${JSON.stringify(callsBy(balanced))}`,
    );
    expect(run.sent).toBe(2_000);
    expect(run.ok + failed).toBe(2_000);
    expect(Object.keys(run.failed).filter((code) => code !== 'CONNECTION_LOST')).toEqual([]);
    expect(failed).toBeLessThanOrEqual(20); // at most one in flight per lane when B closed
    expect(replicaOf(balanced, B)).toMatchObject({ calls: callsOfBAtDrop, failures: failed, inFlight: 0 });
    expect(callsOfBAtDrop).toBeGreaterThan(0);
    const calls = callsBy(balanced);
    expect(calls[A] + calls[C]).toBe(2_000 - callsOfBAtDrop);
    expect(balanced.connectionInfo().state).toBe('connected');
  });

  it('repeats an idempotent call lost with its replica on another one', async () => {
    const balanced = await connectClient({ retry: true, timeoutMs: 10_000 });

    // `retry: true` for one call asserts that it is idempotent: sleep, so that it is in flight when its server closes.
    const sleeping = balanced.command({ name: 'sleep', args: ['1500'] }, { retry: true });
    sleeping.catch(() => undefined); // awaited below
    await until('the sleep in flight', () => balanced.connectionInfo().replicas.some((replica) => replica.inFlight === 1));
    const first = balanced.connectionInfo().replicas.find((replica) => replica.inFlight === 1)!.address;
    await new Promise((resolve) => setTimeout(resolve, 200)); // the request has reached its server
    await replicas.close(first);

    await expect(sleeping).resolves.toMatchObject({ output: 'slept 1500 ms' });
    expect(replicaOf(balanced, first)).toMatchObject({ calls: 1, failures: 1 });
    const others = [A, B, C].filter((address) => address !== first);
    const repeatedOn = others.filter((address) => replicaOf(balanced, address)!.calls === 1);
    expect(repeatedOn).toHaveLength(1);
    expect(others.map((address) => replicaOf(balanced, address)!.calls).sort()).toEqual([0, 1]);
    // The other replica's own counters: it ran the sleep.
    expect((await statsOf(balanced, repeatedOn[0])).commands.sleep).toBe(1);
  });

  it('gives a replica that appears calls within seconds, and none to one that vanished from the name', async () => {
    replicas.listed = [A, B];
    const balanced = await connectClient({ resolveIntervalMs: 500 });
    expect(balanced.connectionInfo().replicas.map((replica) => replica.address)).toEqual([A, B]);
    await replicas.startOn(D);
    let appearedAt = 0;
    let servedAfterMs = -1;

    const run = await load(balanced, {
      total: 100_000,
      lanes: 8,
      timeoutMs: 20_000,
      at: {
        sent: 200,
        action: async () => {
          replicas.listed = [B, D];
          appearedAt = Date.now();
          await until('D served calls', () => (replicaOf(balanced, D)?.calls ?? 0) > 50);
          servedAfterMs = Date.now() - appearedAt;
          await until('A dropped', () => replicaOf(balanced, A) === undefined);
        },
      },
      stopWhen: () => servedAfterMs >= 0 && replicaOf(balanced, A) === undefined && (replicaOf(balanced, D)?.calls ?? 0) > 500,
    });

    console.info(`a new replica served its first 50 calls ${servedAfterMs} ms after it appeared in the name`);
    expect(run.failed).toEqual({});
    expect(servedAfterMs).toBeGreaterThanOrEqual(0);
    expect(servedAfterMs).toBeLessThan(3_000);
    expect(balanced.connectionInfo().replicas.map((replica) => replica.address)).toEqual([B, D]);
    // A's own counters: the client sends it nothing more.
    const direct = EchoClient.create({ host: A, port: replicas.port, timeoutMs: 5_000 });
    try {
      const before = (await readStats(direct)).messages.echo;
      expect(await load(balanced, { total: 300, lanes: 8, timeoutMs: 20_000 })).toEqual({ sent: 300, ok: 300, failed: {} });
      expect((await readStats(direct)).messages.echo).toBe(before);
    } finally {
      await direct.close();
    }
  });

  it('repeats elsewhere the calls a draining server refuses with SHUTTING_DOWN: no call fails', async () => {
    const balanced = await connectClient({ retry: true, timeoutMs: 10_000 });
    // A sleep in flight on B keeps it draining, its connection open, for a second.
    const sleeping = balanced.command({ name: 'sleep', args: ['1000'] }, { replica: B });
    sleeping.catch(() => undefined); // awaited below
    await balanced.echo({ text: 'after the sleep was sent' }, { replica: B }); // frames of one connection are read in order
    let drained: ReturnType<RunningEchoServer['drain']> | undefined;

    const run = await load(balanced, {
      total: 3_000,
      lanes: 20,
      timeoutMs: 30_000,
      at: { sent: 300, action: async () => (drained = replicas.servers.get(B)!.drain(5_000)) },
    });

    const ofB = replicaOf(balanced, B)!;
    console.info(
      `B drained under load: ${ofB.failures} call(s) refused or lost there and repeated elsewhere; calls ${JSON.stringify(callsBy(balanced))}`,
    );
    expect(run).toEqual({ sent: 3_000, ok: 3_000, failed: {} });
    expect(ofB.failures).toBeGreaterThanOrEqual(1);
    await expect(sleeping).resolves.toMatchObject({ output: 'slept 1000 ms' });
    await expect(drained).resolves.toMatchObject({ drained: true, inFlight: 0 });
    replicas.servers.delete(B); // drained and closed
  });

  it('runs the load worker over the replicas and reports how many calls each served, by hello instance', async () => {
    const env = {
      REPLICA_DNS: `${NAME}=${A},${B},${C}`,
      ECHO_SERVER_HOST: NAME,
      ECHO_SERVER_PORT: String(replicas.port),
      WORKER_NAME: 'balancing-e2e',
      LOAD_REQUESTS: '3000',
      LOAD_CONCURRENCY: '30',
      LOAD_CONNECTIONS: '2',
      LOAD_MAX_SECONDS: '30',
      ECHO_RESOLVE_INTERVAL_MS: '1000',
    };
    const preload = ['--require', join(REPO_ROOT, 'test/support/replica-dns.cjs')];

    const result = await runNode([...preload, compiled('services/client-worker/dist/main.js'), 'load'], { env, timeoutMs: 60_000 });

    expectExitCode(result, 0);
    expect(result.stdout).toMatch(/^summary: sent 3000, ok 3000, errors 0,/m);
    const lines = [...result.stdout.matchAll(/^replica (\S+) at (\S+): (\d+) calls, (\d+) failed$/gm)];
    console.info(lines.map(([line]) => line).join('\n'));
    expect(lines.map(([, instance, address, , failed]) => ({ instance, address, failed }))).toEqual(
      [A, B, C].map((address) => ({ instance: hostname(), address, failed: '0' })),
    );
    const calls = lines.map(([, , , count]) => Number(count));
    expect(calls.reduce((sum, count) => sum + count, 0)).toBeGreaterThanOrEqual(3_000);
    calls.forEach((count) => expect(count).toBeGreaterThanOrEqual(500));
  });
});

describe('EchoClient of a name with one address', () => {
  let replicas: ReplicaServers;
  let client: EchoClient | undefined;

  afterEach(async () => {
    await client?.close();
    await replicas?.closeAll();
  });

  it('is one connection, as for an address: reconnects to its server after a restart, and reports as before', async () => {
    replicas = await ReplicaServers.start(NAME, [B]);
    client = EchoClient.create({ host: NAME, port: replicas.port, timeoutMs: 5_000, reconnect: RECONNECT, resolver: replicas.resolver });
    expect((await client.echo({ text: 'before' })).text).toBe('before');

    await replicas.close(B);
    const connected = client;
    await until('the client saw the server go', () => connected.connectionInfo().state !== 'connected');
    const waitedInVain = await client.echo({ text: 'waits' }, { timeoutMs: 400 }).catch((error: unknown) => error);
    expect(waitedInVain).toMatchObject({ code: 'CONNECTION_FAILED', retryable: true });
    expect((waitedInVain as Error).message).toMatch(new RegExp(`^not connected to ${NAME}:${replicas.port} within 400 ms .*ECONNREFUSED`));
    await replicas.startOn(B);

    expect((await client.echo({ text: 'after' }, { timeoutMs: SETTLE_MS })).text).toBe('after');
    const info = client.connectionInfo();
    expect(info).toMatchObject({ state: 'connected', connects: 2, drops: 1, consecutiveFailures: 0 });
    expect(info.replicas).toEqual([expect.objectContaining({ address: B, state: 'connected', calls: 2, failures: 0 })]);
  });
});
