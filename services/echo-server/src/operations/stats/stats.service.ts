import { Injectable } from '@nestjs/common';
import {
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  type ErrorCode,
  type EventPattern,
  type RequestPattern,
  type ServerStats,
  type SocketRejectionReason,
  type TransportName,
  type TransportStats,
  TRANSPORT_NAMES,
  type UdpDropReason,
} from '@echo-pair/common';

/** In-memory counters behind the `stats` command. */
@Injectable()
export class StatsService {
  private readonly startedAt = performance.now();
  private open = 0;
  private totalConnections = 0;
  private rejectedConnections = 0;
  private evictedConnections = 0;
  private readonly messages = zeroCounts(REQUEST_PATTERNS);
  private readonly events = zeroCounts(EVENT_PATTERNS);
  private readonly commands: Record<string, number> = {};
  private readonly errorsByCode: Partial<Record<ErrorCode, number>> = {};
  private totalErrors = 0;
  private readonly rejectionsByReason: Partial<Record<SocketRejectionReason, number>> = {};
  private totalRejections = 0;
  private readonly transports = Object.fromEntries(TRANSPORT_NAMES.map((name) => [name, emptyTransport()])) as Record<
    TransportName,
    TransportStats
  >;
  private readonly chat = { rooms: 0, members: 0, deliveries: 0, cutOff: 0 };
  private readonly datagrams = { received: 0, dropped: 0, repliesTooLarge: 0 };
  private readonly datagramsDroppedByReason: Partial<Record<UdpDropReason, number>> = {};
  /** Reads the kernel's drops of the UDP door's socket, set by the door; not in `snapshot()` (the `stats` reply keeps its shape). */
  private udpKernelDropsReader: (() => number | undefined) | undefined;

  uptimeSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  get openConnections(): number {
    return this.open;
  }

  connectionOpened(transport: TransportName): number {
    this.totalConnections += 1;
    this.open += 1;
    const { connections } = this.transports[transport];
    connections.total += 1;
    connections.open += 1;
    return this.totalConnections;
  }

  connectionClosed(transport: TransportName): void {
    this.open -= 1;
    this.transports[transport].connections.open -= 1;
  }

  /** A connection refused on arrival by MAX_CONNECTIONS_PER_ADDRESS. */
  connectionRejected(): void {
    this.rejectedConnections += 1;
  }

  /** A connection closed to make room for a newcomer at a door's cap. */
  connectionEvicted(): void {
    this.evictedConnections += 1;
  }

  recordMessage(pattern: RequestPattern, transport: TransportName): void {
    this.messages[pattern] += 1;
    this.transports[transport].messages += 1;
  }

  recordEvent(pattern: EventPattern, transport: TransportName): void {
    this.events[pattern] += 1;
    this.transports[transport].messages += 1;
  }

  recordCommand(name: string): void {
    this.commands[name] = (this.commands[name] ?? 0) + 1;
  }

  recordError(code: ErrorCode, transport: TransportName): void {
    this.totalErrors += 1;
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
    this.transports[transport].errors += 1;
  }

  recordChatDeliveries(count: number): void {
    this.chat.deliveries += count;
  }

  recordChatCutOff(): void {
    this.chat.cutOff += 1;
  }

  setChatGauges(rooms: number, members: number): void {
    this.chat.rooms = rooms;
    this.chat.members = members;
  }

  recordDatagram(): void {
    this.datagrams.received += 1;
  }

  recordDatagramDropped(reason: UdpDropReason): void {
    this.datagrams.dropped += 1;
    this.datagramsDroppedByReason[reason] = (this.datagramsDroppedByReason[reason] ?? 0) + 1;
  }

  /** Where `udpKernelDrops()` reads from: the UDP door's socket (`UdpServer.kernelDroppedDatagrams`). */
  readUdpKernelDropsWith(reader: () => number | undefined): void {
    this.udpKernelDropsReader = reader;
  }

  /** Datagrams the kernel dropped for the UDP door's socket before the server read them; undefined where unknown (no UDP door, not Linux). */
  udpKernelDrops(): number | undefined {
    return this.udpKernelDropsReader?.();
  }

  recordReplyTooLarge(): void {
    this.datagrams.repliesTooLarge += 1;
  }

  recordRejection(reason: SocketRejectionReason): void {
    this.totalRejections += 1;
    this.rejectionsByReason[reason] = (this.rejectionsByReason[reason] ?? 0) + 1;
  }

  snapshot(): ServerStats {
    return {
      uptimeSeconds: Number(this.uptimeSeconds().toFixed(3)),
      connections: { open: this.open, total: this.totalConnections, rejected: this.rejectedConnections, evicted: this.evictedConnections },
      messages: { ...this.messages },
      events: { ...this.events },
      commands: { ...this.commands },
      errors: { total: this.totalErrors, byCode: { ...this.errorsByCode } },
      rejections: { total: this.totalRejections, byReason: { ...this.rejectionsByReason } },
      transports: Object.fromEntries(
        TRANSPORT_NAMES.map((name) => {
          const { connections, messages, errors } = this.transports[name];
          return [name, { connections: { ...connections }, messages, errors }];
        }),
      ) as Record<TransportName, TransportStats>,
      chat: { ...this.chat },
      datagrams: { ...this.datagrams, droppedByReason: { ...this.datagramsDroppedByReason } },
    };
  }
}

function emptyTransport(): TransportStats {
  return { connections: { open: 0, total: 0 }, messages: 0, errors: 0 };
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
