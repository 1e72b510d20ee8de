import type { ConnectionState, EchoClient, EchoClientConnectionInfo, ReplicaInfo } from '@echo-pair/common';
import { CALL_DURATION_BUCKETS, CONNECTION_STATES, OTHER, WorkerMetrics } from './worker-metrics';

/** A client as the metrics read it: only `connectionInfo()`, of replicas the test sets. */
class FakeClient {
  state: ConnectionState = 'connected';
  replicas: Array<Pick<ReplicaInfo, 'address' | 'state' | 'connects'>> = [];

  connectionInfo(): EchoClientConnectionInfo {
    return { state: this.state, replicas: this.replicas } as unknown as EchoClientConnectionInfo;
  }

  asClient(): EchoClient {
    return this as unknown as EchoClient;
  }
}

/** The samples of a family, as `name{labels} value` lines, from the text a scrape gets. */
async function samplesOf(metrics: WorkerMetrics, name: string): Promise<string[]> {
  return (await metrics.metrics()).split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('WorkerMetrics', () => {
  let metrics: WorkerMetrics;

  beforeEach(() => {
    metrics = new WorkerMetrics({ port: 3000 });
  });

  it("holds the process's default metrics and its own families, with their types", async () => {
    const text = await metrics.metrics();

    for (const family of ['process_cpu_user_seconds_total', 'nodejs_heap_size_used_bytes']) {
      expect(text).toContain(`# TYPE ${family}`);
    }
    expect(text).toContain('# TYPE echo_worker_calls_total counter');
    expect(text).toContain('# TYPE echo_worker_call_duration_seconds histogram');
    expect(text).toContain('# TYPE echo_worker_connections gauge');
    expect(text).toContain('# TYPE echo_worker_reconnects_total counter');
  });

  it('counts and times each call by pattern and outcome', async () => {
    metrics.onCall('echo', 'ok', 0.0003);
    metrics.onCall('echo', 'ok', 0.002);
    metrics.onCall('command', 'UNKNOWN_COMMAND', 0.004);

    expect(await samplesOf(metrics, 'echo_worker_calls_total')).toEqual([
      'echo_worker_calls_total{pattern="echo",outcome="ok"} 2',
      'echo_worker_calls_total{pattern="command",outcome="UNKNOWN_COMMAND"} 1',
    ]);
    const buckets = await samplesOf(metrics, 'echo_worker_call_duration_seconds_bucket');
    expect(buckets).toContain('echo_worker_call_duration_seconds_bucket{le="0.00025",pattern="echo",outcome="ok"} 0');
    expect(buckets).toContain('echo_worker_call_duration_seconds_bucket{le="0.0005",pattern="echo",outcome="ok"} 1');
    expect(buckets).toContain('echo_worker_call_duration_seconds_bucket{le="+Inf",pattern="echo",outcome="ok"} 2');
    expect(buckets.filter((line) => line.includes('pattern="echo"'))).toHaveLength(CALL_DURATION_BUCKETS.length + 1);
    expect(await samplesOf(metrics, 'echo_worker_call_duration_seconds_sum')).toContain(
      'echo_worker_call_duration_seconds_sum{pattern="command",outcome="UNKNOWN_COMMAND"} 0.004',
    );
  });

  it.each([
    { label: 'a pattern outside the contract', pattern: 'x'.repeat(300), outcome: 'ok', labels: `pattern="${OTHER}",outcome="ok"` },
    {
      label: 'an outcome that is no error code',
      pattern: 'echo',
      outcome: 'something a peer wrote',
      labels: `pattern="echo",outcome="${OTHER}"`,
    },
  ])('labels $label "other": every label value is bounded', async ({ pattern, outcome, labels }) => {
    metrics.onCall(pattern, outcome, 0.001);

    expect(await samplesOf(metrics, 'echo_worker_calls_total')).toEqual([`echo_worker_calls_total{${labels}} 1`]);
  });

  it('reports the connections of the watched clients by server address and state, every state of each address', async () => {
    const first = new FakeClient();
    first.replicas = [
      { address: '10.0.0.7', state: 'connected', connects: 1 },
      { address: '10.0.0.8', state: 'reconnecting', connects: 1 },
    ];
    const second = new FakeClient();
    second.replicas = [{ address: '10.0.0.7', state: 'connected', connects: 1 }];
    const ipv6 = new FakeClient();
    ipv6.replicas = [{ address: '::1', state: 'connecting', connects: 0 }];
    [first, second, ipv6].forEach((client) => metrics.watch(client.asClient()));

    const samples = await samplesOf(metrics, 'echo_worker_connections');

    expect(samples).toHaveLength(3 * CONNECTION_STATES.length);
    expect(samples).toEqual(
      expect.arrayContaining([
        'echo_worker_connections{address="10.0.0.7:3000",state="connected"} 2',
        'echo_worker_connections{address="10.0.0.7:3000",state="reconnecting"} 0',
        'echo_worker_connections{address="10.0.0.8:3000",state="reconnecting"} 1',
        'echo_worker_connections{address="10.0.0.8:3000",state="connected"} 0',
        'echo_worker_connections{address="[::1]:3000",state="connecting"} 1',
      ]),
    );
  });

  it('drops an address from the gauge once no connection goes there (a replica gone), and a closed client', async () => {
    const client = new FakeClient();
    client.replicas = [
      { address: '10.0.0.7', state: 'connected', connects: 1 },
      { address: '10.0.0.8', state: 'connected', connects: 1 },
    ];
    metrics.watch(client.asClient());
    expect(await samplesOf(metrics, 'echo_worker_connections')).toHaveLength(2 * CONNECTION_STATES.length);

    client.replicas = [{ address: '10.0.0.7', state: 'connected', connects: 1 }];
    expect((await samplesOf(metrics, 'echo_worker_connections')).every((line) => line.includes('10.0.0.7'))).toBe(true);

    client.state = 'closed';
    expect(await samplesOf(metrics, 'echo_worker_connections')).toEqual([]);
  });

  it('counts reconnects per address, never going down: when a replica is replaced, or its client closed', async () => {
    const client = new FakeClient();
    client.replicas = [{ address: '10.0.0.7', state: 'connected', connects: 1 }];
    metrics.watch(client.asClient());
    expect(await samplesOf(metrics, 'echo_worker_reconnects_total')).toEqual(['echo_worker_reconnects_total{address="10.0.0.7:3000"} 0']);

    client.replicas = [{ address: '10.0.0.7', state: 'connected', connects: 4 }];
    expect(await samplesOf(metrics, 'echo_worker_reconnects_total')).toEqual(['echo_worker_reconnects_total{address="10.0.0.7:3000"} 3']);

    // Gone from the name's answers and back: a new replica, counting from its first connection again.
    client.replicas = [{ address: '10.0.0.7', state: 'connected', connects: 2 }];
    expect(await samplesOf(metrics, 'echo_worker_reconnects_total')).toEqual(['echo_worker_reconnects_total{address="10.0.0.7:3000"} 4']);

    client.state = 'closed';
    expect(await samplesOf(metrics, 'echo_worker_reconnects_total')).toEqual(['echo_worker_reconnects_total{address="10.0.0.7:3000"} 4']);
  });

  it('gives each instance its own registry', async () => {
    const other = new WorkerMetrics({ port: 3000 });
    metrics.onCall('echo', 'ok', 0.001);

    expect(await samplesOf(other, 'echo_worker_calls_total')).toEqual([]);
  });
});
