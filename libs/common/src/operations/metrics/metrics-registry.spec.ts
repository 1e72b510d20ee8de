import { Counter } from 'prom-client';
import { createMetricsRegistry } from './metrics-registry';

describe('createMetricsRegistry', () => {
  it("holds the process's default metrics (process_*, nodejs_*)", async () => {
    const names = (await createMetricsRegistry().getMetricsAsJSON()).map(({ name }) => name);

    expect(names).toEqual(
      expect.arrayContaining([
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_heap_size_used_bytes',
      ]),
    );
  });

  it('gives each application instance its own registry: the same metric name in two does not collide', async () => {
    const [first, second] = [createMetricsRegistry(), createMetricsRegistry()];
    const a = new Counter({ name: 'echo_server_test_total', help: 'a', registers: [first] });
    new Counter({ name: 'echo_server_test_total', help: 'b', registers: [second] });

    a.inc(2);

    expect(await first.getSingleMetricAsString('echo_server_test_total')).toContain('echo_server_test_total 2');
    expect(await second.getSingleMetricAsString('echo_server_test_total')).toContain('echo_server_test_total 0');
  });
});
