import { Injectable } from '@nestjs/common';
import {
  EVENT_PATTERNS,
  REQUEST_PATTERNS,
  type ErrorCode,
  type EventPattern,
  type RequestPattern,
  type ServerStats,
  type SocketRejectionReason,
} from '@echo-pair/common';

/** In-memory counters behind the `stats` command. */
@Injectable()
export class StatsService {
  private readonly startedAt = performance.now();
  private open = 0;
  private totalConnections = 0;
  private rejectedConnections = 0;
  private readonly messages = zeroCounts(REQUEST_PATTERNS);
  private readonly events = zeroCounts(EVENT_PATTERNS);
  private readonly commands: Record<string, number> = {};
  private readonly errorsByCode: Partial<Record<ErrorCode, number>> = {};
  private totalErrors = 0;
  private readonly rejectionsByReason: Partial<Record<SocketRejectionReason, number>> = {};
  private totalRejections = 0;

  uptimeSeconds(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  get openConnections(): number {
    return this.open;
  }

  connectionOpened(): number {
    this.totalConnections += 1;
    this.open += 1;
    return this.totalConnections;
  }

  connectionClosed(): void {
    this.open -= 1;
  }

  connectionRejected(): void {
    this.rejectedConnections += 1;
  }

  recordMessage(pattern: RequestPattern): void {
    this.messages[pattern] += 1;
  }

  recordEvent(pattern: EventPattern): void {
    this.events[pattern] += 1;
  }

  recordCommand(name: string): void {
    this.commands[name] = (this.commands[name] ?? 0) + 1;
  }

  recordError(code: ErrorCode): void {
    this.totalErrors += 1;
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
  }

  recordRejection(reason: SocketRejectionReason): void {
    this.totalRejections += 1;
    this.rejectionsByReason[reason] = (this.rejectionsByReason[reason] ?? 0) + 1;
  }

  snapshot(): ServerStats {
    return {
      uptimeSeconds: Number(this.uptimeSeconds().toFixed(3)),
      connections: { open: this.open, total: this.totalConnections, rejected: this.rejectedConnections },
      messages: { ...this.messages },
      events: { ...this.events },
      commands: { ...this.commands },
      errors: { total: this.totalErrors, byCode: { ...this.errorsByCode } },
      rejections: { total: this.totalRejections, byReason: { ...this.rejectionsByReason } },
    };
  }
}

function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}
