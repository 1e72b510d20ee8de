import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { EVENT_PATTERNS, REQUEST_PATTERNS, type EventPattern, type RequestPattern } from '@echo-pair/common';
import { patternAndTransportOf } from '../../core/served-call';
import { StatsService } from './stats.service';

const REQUESTS: ReadonlySet<string> = new Set(REQUEST_PATTERNS);
const EVENTS: ReadonlySet<string> = new Set(EVENT_PATTERNS);

/**
 * Counts every request and event per pattern before validation runs, and lets
 * every call through. A global guard rather than an interceptor: Nest runs a
 * guard that returns a boolean in one synchronous step, while any interceptor
 * wraps each call in several observables and async resources, which cost the
 * echo hot path about a tenth of its CPU time.
 */
@Injectable()
export class StatsGuard implements CanActivate {
  constructor(private readonly stats: StatsService) {}

  canActivate(context: ExecutionContext): boolean {
    const call = context.getType() === 'rpc' ? patternAndTransportOf(context.switchToRpc().getContext()) : undefined;
    if (call === undefined) {
      return true;
    }
    if (REQUESTS.has(call.pattern)) {
      this.stats.recordMessage(call.pattern as RequestPattern, call.transport);
    } else if (EVENTS.has(call.pattern)) {
      this.stats.recordEvent(call.pattern as EventPattern, call.transport);
    }
    return true;
  }
}
