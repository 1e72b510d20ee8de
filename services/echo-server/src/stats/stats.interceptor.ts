import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { TcpContext } from '@nestjs/microservices';
import { EVENT_PATTERNS, REQUEST_PATTERNS, type EventPattern, type RequestPattern } from '@echo-pair/common';
import type { Observable } from 'rxjs';
import { StatsService } from './stats.service';

const REQUESTS: ReadonlySet<string> = new Set(REQUEST_PATTERNS);
const EVENTS: ReadonlySet<string> = new Set(EVENT_PATTERNS);

/** Counts every request and event per pattern before validation runs. */
@Injectable()
export class StatsInterceptor implements NestInterceptor {
  constructor(private readonly stats: StatsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const pattern = context.switchToRpc().getContext<TcpContext>().getPattern();
    if (REQUESTS.has(pattern)) {
      this.stats.recordMessage(pattern as RequestPattern);
    } else if (EVENTS.has(pattern)) {
      this.stats.recordEvent(pattern as EventPattern);
    }
    return next.handle();
  }
}
