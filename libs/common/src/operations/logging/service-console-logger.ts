import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';
import { activeTraceIds } from '../../transport/trace-context/trace-metadata';

export interface ServiceConsoleLoggerOptions extends ConsoleLoggerOptions {
  /** Added as `service` to every JSON record, so that collected logs tell the services apart. */
  service: string;
  /** Write every level to stderr, for processes whose stdout carries their own output. */
  stderrOnly?: boolean;
}

/**
 * Nest's console logger, naming its service in JSON records and optionally keeping stdout free.
 * With tracing on, a JSON record written while a span is active (a message being handled, a
 * call under way) carries its `traceId` and `spanId`, so that logs and traces join.
 */
export class ServiceConsoleLogger extends ConsoleLogger {
  private readonly service: string;
  private readonly stderrOnly: boolean;

  constructor({ service, stderrOnly = false, ...options }: ServiceConsoleLoggerOptions) {
    super(options);
    this.service = service;
    this.stderrOnly = stderrOnly;
  }

  protected override getJsonLogObject(
    ...args: Parameters<ConsoleLogger['getJsonLogObject']>
  ): ReturnType<ConsoleLogger['getJsonLogObject']> {
    const record = { service: this.service, ...super.getJsonLogObject(...args) };
    const ids = activeTraceIds();
    return ids === undefined ? record : { ...record, traceId: ids.traceId, spanId: ids.spanId };
  }

  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    super.printMessages(messages, context, logLevel, this.stderrOnly ? 'stderr' : writeStreamType, errorStack, params);
  }
}
