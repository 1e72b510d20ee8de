import { Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { Counter, Gauge, Registry } from 'prom-client';
import {
  ErrorCodes,
  EVENT_PATTERNS,
  SOCKET_REJECTION_REASONS,
  Transports,
  UDP_DROP_REASONS,
  type ServerStats,
  type TransportName,
} from '@echo-pair/common';
import type { EchoServerEnvironment } from '../../../config/echo-server-environment';
import { DrainService } from '../../shutdown/drain.service';
import { StatsService } from '../../stats/stats.service';

const ERROR_CODES = Object.values(ErrorCodes);

/**
 * The server's counters and gauges, read at scrape time from where they are kept already
 * (`StatsService`, the same figures as the `stats` command, and `DrainService`): nothing
 * is counted twice, and nothing here runs per message. Label sets that are known in advance
 * (error codes, rejection reasons, transports) are exported from zero, so that `rate()`
 * sees their first increase.
 */
@Injectable()
export class ServerMetrics {
  constructor(registry: Registry, stats: StatsService, drain: DrainService, config: ConfigService<EchoServerEnvironment, true>) {
    // Transports that accept connections (UDP has none).
    const connected: TransportName[] = config.get('TEXT_ENABLED', { infer: true }) ? [Transports.TCP, Transports.TEXT] : [Transports.TCP];
    const registers = [registry];
    // Every collect() of one scrape runs synchronously, one after another: each takes its own snapshot.
    const snapshot = (): ServerStats => stats.snapshot();
    // prom-client counters only go up: a total kept elsewhere is exported from a reset.

    new Counter<'pattern'>({
      name: 'echo_server_events_total',
      help: 'Events (no reply) received, by pattern; counted before validation, as in stats.',
      labelNames: ['pattern'],
      registers,
      collect() {
        const { events } = snapshot();
        this.reset();
        EVENT_PATTERNS.forEach((pattern) => this.inc({ pattern }, events[pattern]));
      },
    });
    new Counter<'code'>({
      name: 'echo_server_errors_total',
      help: 'Errors by code, as stats counts them: error replies (also those raised before a handler, such as LINE_TOO_LONG, or REPLY_TOO_LARGE), and failed events.',
      labelNames: ['code'],
      registers,
      collect() {
        const { byCode } = snapshot().errors;
        this.reset();
        ERROR_CODES.forEach((code) => this.inc({ code }, byCode[code] ?? 0));
      },
    });
    new Gauge<'transport'>({
      name: 'echo_server_connections_open',
      help: 'Connections open, by transport.',
      labelNames: ['transport'],
      registers,
      collect() {
        const { transports } = snapshot();
        connected.forEach((transport) => this.set({ transport }, transports[transport].connections.open));
      },
    });
    new Counter<'transport'>({
      name: 'echo_server_connections_accepted_total',
      help: 'Connections accepted, by transport.',
      labelNames: ['transport'],
      registers,
      collect() {
        const { transports } = snapshot();
        this.reset();
        connected.forEach((transport) => this.inc({ transport }, transports[transport].connections.total));
      },
    });
    new Counter({
      name: 'echo_server_connections_refused_total',
      help: 'Connections refused on arrival because their address held MAX_CONNECTIONS_PER_ADDRESS already (Nest TCP and text doors).',
      registers,
      collect() {
        this.reset();
        this.inc(snapshot().connections.rejected);
      },
    });
    new Counter({
      name: 'echo_server_connections_evicted_total',
      help: 'Connections closed, the longest idle, to make room for a newcomer at MAX_CONNECTIONS or TEXT_MAX_CONNECTIONS.',
      registers,
      collect() {
        this.reset();
        this.inc(snapshot().connections.evicted);
      },
    });
    new Counter<'reason'>({
      name: 'echo_server_rejections_total',
      help: 'Connections closed by the server because the peer broke the framing or a per-connection limit, or failed the TLS handshake, by reason.',
      labelNames: ['reason'],
      registers,
      collect() {
        const { byReason } = snapshot().rejections;
        this.reset();
        SOCKET_REJECTION_REASONS.forEach((reason) => this.inc({ reason }, byReason[reason] ?? 0));
      },
    });
    new Gauge({
      name: 'echo_server_messages_in_flight',
      help: 'Requests and events being handled: from their dispatch until their reply or error is produced.',
      registers,
      collect() {
        this.set(drain.inFlight);
      },
    });
    new Gauge({
      name: 'echo_server_draining',
      help: '1 once the server drains before it stops (it takes no new connections or requests), else 0.',
      registers,
      collect() {
        this.set(drain.draining ? 1 : 0);
      },
    });
    new Counter({
      name: 'echo_server_chat_deliveries_total',
      help: 'Chat lines delivered to the members of a room (text gateway).',
      registers,
      collect() {
        this.reset();
        this.inc(snapshot().chat.deliveries);
      },
    });
    new Counter({
      name: 'echo_server_chat_cut_off_total',
      help: 'Chat members cut off: nothing read for CHAT_STALL_MS while lines waited, or more than CHAT_MAX_BACKLOG_BYTES waiting.',
      registers,
      collect() {
        this.reset();
        this.inc(snapshot().chat.cutOff);
      },
    });
    new Gauge({
      name: 'echo_server_chat_members',
      help: 'Text connections that are members of a chat room.',
      registers,
      collect() {
        this.set(snapshot().chat.members);
      },
    });
    new Counter({
      name: 'echo_server_udp_datagrams_received_total',
      help: 'UDP datagrams received, whether handled or dropped.',
      registers,
      collect() {
        this.reset();
        this.inc(snapshot().datagrams.received);
      },
    });
    new Counter<'reason'>({
      name: 'echo_server_udp_datagrams_dropped_total',
      help: 'UDP datagrams dropped without a reply, by reason: too large, empty, unreadable, or a reply that not even its REPLY_TOO_LARGE error fits the amplification allowance.',
      labelNames: ['reason'],
      registers,
      collect() {
        const { droppedByReason } = snapshot().datagrams;
        this.reset();
        UDP_DROP_REASONS.forEach((reason) => this.inc({ reason }, droppedByReason[reason] ?? 0));
      },
    });
    new Counter({
      name: 'echo_server_udp_replies_too_large_total',
      help: 'UDP replies refused with REPLY_TOO_LARGE: larger than the amplification bound of their request.',
      registers,
      collect() {
        this.reset();
        this.inc(snapshot().datagrams.repliesTooLarge);
      },
    });
    new Counter({
      name: 'echo_server_udp_kernel_drops_total',
      help: "UDP datagrams the kernel dropped for the UDP door's socket before the server read them (its receive buffer full), the drops column of /proc/net/udp; 0 where that cannot be read (UDP off, not Linux).",
      registers,
      collect() {
        this.reset();
        this.inc(stats.udpKernelDrops() ?? 0);
      },
    });
  }
}
