import type { ConfigService } from '@nestjs/config';
import { Registry } from 'prom-client';
import { ErrorCodes, SOCKET_REJECTION_REASONS } from '@echo-pair/common';
import type { EchoServerEnvironment } from '../../../config/echo-server-environment';
import type { DrainService } from '../../shutdown/drain.service';
import { StatsService } from '../../stats/stats.service';
import { ServerMetrics } from './server-metrics';

type Sample = { labels: Record<string, string | number>; value: number };

function configWith(textEnabled: boolean): ConfigService<EchoServerEnvironment, true> {
  return { get: (key: string) => (key === 'TEXT_ENABLED' ? textEnabled : undefined) } as unknown as ConfigService<
    EchoServerEnvironment,
    true
  >;
}

describe('ServerMetrics', () => {
  let registry: Registry;
  let stats: StatsService;
  let drain: { inFlight: number; draining: boolean };

  async function samples(name: string): Promise<Sample[]> {
    const found = (await registry.getMetricsAsJSON()).find((metric) => metric.name === name);
    if (found === undefined) {
      throw new Error(`${name} is not registered`);
    }
    return found.values.map(({ labels, value }) => ({ labels: { ...labels } as Sample['labels'], value }));
  }

  async function value(name: string, labels: Sample['labels'] = {}): Promise<number | undefined> {
    return (await samples(name)).find((sample) => JSON.stringify(sample.labels) === JSON.stringify(labels))?.value;
  }

  beforeEach(() => {
    registry = new Registry();
    stats = new StatsService();
    drain = { inFlight: 0, draining: false };
    new ServerMetrics(registry, stats, drain as DrainService, configWith(true));
  });

  it('registers conventional names only: counters end in _total, no metric outside echo_server_', () => {
    const metrics = registry.getMetricsAsArray() as unknown as Array<{ name: string; type: string }>;

    expect(metrics.map(({ name }) => name)).toEqual(expect.arrayContaining(['echo_server_events_total', 'echo_server_draining']));
    for (const { name, type } of metrics) {
      expect(name).toMatch(/^echo_server_[a-z_]+$/);
      expect(name.endsWith('_total')).toBe(type === 'counter');
    }
  });

  it('exports the figures of stats, read at scrape time', async () => {
    stats.connectionOpened('tcp');
    stats.connectionOpened('tcp');
    stats.connectionClosed('tcp');
    stats.connectionOpened('text');
    stats.connectionRejected();
    stats.recordEvent('note', 'udp');
    stats.recordError('VALIDATION_FAILED', 'tcp');
    stats.recordError('LINE_TOO_LONG', 'text');
    stats.recordError('LINE_TOO_LONG', 'text');
    stats.recordRejection('BAD_HEADER');
    stats.recordChatDeliveries(3);
    stats.setChatGauges(1, 2);
    stats.recordDatagram();
    stats.recordDatagram();
    stats.recordDatagramDropped('INVALID_UTF8');
    stats.recordReplyTooLarge();

    expect(await samples('echo_server_connections_open')).toEqual([
      { labels: { transport: 'tcp' }, value: 1 },
      { labels: { transport: 'text' }, value: 1 },
    ]);
    expect(await samples('echo_server_connections_accepted_total')).toEqual([
      { labels: { transport: 'tcp' }, value: 2 },
      { labels: { transport: 'text' }, value: 1 },
    ]);
    expect(await value('echo_server_connections_refused_total')).toBe(1);
    expect(await samples('echo_server_events_total')).toEqual([{ labels: { pattern: 'note' }, value: 1 }]);
    expect(await value('echo_server_errors_total', { code: 'VALIDATION_FAILED' })).toBe(1);
    expect(await value('echo_server_errors_total', { code: 'LINE_TOO_LONG' })).toBe(2);
    expect(await value('echo_server_rejections_total', { reason: 'BAD_HEADER' })).toBe(1);
    expect(await value('echo_server_chat_deliveries_total')).toBe(3);
    expect(await value('echo_server_chat_members')).toBe(2);
    expect(await value('echo_server_udp_datagrams_received_total')).toBe(2);
    expect(await value('echo_server_udp_datagrams_dropped_total', { reason: 'INVALID_UTF8' })).toBe(1);
    expect(await value('echo_server_udp_datagrams_dropped_total', { reason: 'REPLY_OVER_ALLOWANCE' })).toBe(0);
    expect(await value('echo_server_udp_replies_too_large_total')).toBe(1);
  });

  it("exports the kernel's drops of the UDP door's socket, read at scrape time, 0 while nothing reads them", async () => {
    expect(await value('echo_server_udp_kernel_drops_total')).toBe(0);
    let drops: number | undefined = 5;
    stats.readUdpKernelDropsWith(() => drops);
    expect(await value('echo_server_udp_kernel_drops_total')).toBe(5);
    drops = 12;
    expect(await value('echo_server_udp_kernel_drops_total')).toBe(12);
    drops = undefined; // not Linux, or the socket closed
    expect(await value('echo_server_udp_kernel_drops_total')).toBe(0);
  });

  it('agrees with stats after more traffic: the totals are its own, not a second count', async () => {
    stats.recordError('UNKNOWN_COMMAND', 'tcp');
    expect(await value('echo_server_errors_total', { code: 'UNKNOWN_COMMAND' })).toBe(1);

    stats.recordError('UNKNOWN_COMMAND', 'udp');
    stats.recordError('UNKNOWN_COMMAND', 'text');

    expect(await value('echo_server_errors_total', { code: 'UNKNOWN_COMMAND' })).toBe(stats.snapshot().errors.byCode.UNKNOWN_COMMAND);
    expect(await value('echo_server_errors_total', { code: 'UNKNOWN_COMMAND' })).toBe(3);
  });

  it('exports every error code and rejection reason from zero, and nothing else', async () => {
    expect(await samples('echo_server_errors_total')).toEqual(Object.values(ErrorCodes).map((code) => ({ labels: { code }, value: 0 })));
    expect(await samples('echo_server_rejections_total')).toEqual(
      SOCKET_REJECTION_REASONS.map((reason) => ({ labels: { reason }, value: 0 })),
    );
  });

  it('exports the messages in flight and whether the server drains', async () => {
    expect([await value('echo_server_messages_in_flight'), await value('echo_server_draining')]).toEqual([0, 0]);

    drain.inFlight = 3;
    drain.draining = true;

    expect([await value('echo_server_messages_in_flight'), await value('echo_server_draining')]).toEqual([3, 1]);
  });

  it('leaves the text transport out of the connection metrics when the text gateway is off', async () => {
    registry = new Registry();
    new ServerMetrics(registry, stats, drain as DrainService, configWith(false));

    expect((await samples('echo_server_connections_open')).map(({ labels }) => labels.transport)).toEqual(['tcp']);
  });
});
