import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ErrorCodes, EVENT_PATTERNS } from '@echo-pair/common';
import { RpcEnvelopeException } from '../../core/rpc-envelope.exception';
import { patternAndTransportOf } from '../../core/served-call';
import { DrainService } from './drain.service';

const EVENTS: ReadonlySet<string> = new Set(EVENT_PATTERNS);

/**
 * Once the drain has begun, refuses every new request with SHUTTING_DOWN: it is
 * not run, so sending it again elsewhere is safe. Events have no reply to refuse
 * with, and are still handled. A guard, so one synchronous flag test per call.
 *
 * A global guard applies to the HTTP side port too: its requests (`/readyz` must answer
 * 503 during the drain, `/healthz` 200, `/metrics` its figures) always pass.
 */
@Injectable()
export class DrainGuard implements CanActivate {
  constructor(private readonly drain: DrainService) {}

  canActivate(context: ExecutionContext): boolean {
    if (
      !this.drain.draining ||
      context.getType() !== 'rpc' ||
      EVENTS.has(patternAndTransportOf(context.switchToRpc().getContext())?.pattern ?? '')
    ) {
      return true;
    }
    throw new RpcEnvelopeException({
      code: ErrorCodes.SHUTTING_DOWN,
      message: 'the server is shutting down and takes no new requests; send it again to another server or once reconnected',
      details: { retryable: true },
    });
  }
}
