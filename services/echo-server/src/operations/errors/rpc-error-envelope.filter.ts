import { BadRequestException, Catch, Logger, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { RpcException } from '@nestjs/microservices';
import { describeError, ErrorCodes, isRpcErrorEnvelope, type RpcErrorEnvelope } from '@echo-pair/common';
import { throwError, type Observable } from 'rxjs';
import { DrainService } from '../shutdown/drain.service';
import { StatsService } from '../stats/stats.service';
import { describeServedCall, patternAndTransportOf } from '../../core/served-call';

/**
 * Replies to every failed request with the contract's error envelope, counts it (in `stats`, and
 * as the request's outcome in the metrics), and logs it. Errors the contract does not describe
 * become `INTERNAL_ERROR` without leaking their message; their stack goes to the log. INTERNAL_ERROR and
 * INVALID_RESPONSE (a response that broke the contract) are logged as errors, the others as warnings. The HTTP side
 * port's errors (a 404, `/readyz`'s 503) get Nest's own HTTP handling, inherited from
 * `BaseExceptionFilter`, and are not counted (see docs/operations.md).
 */
@Catch()
export class RpcErrorEnvelopeFilter extends BaseExceptionFilter {
  private readonly logger = new Logger('RpcErrors');

  constructor(
    private readonly stats: StatsService,
    private readonly drain: DrainService,
  ) {
    super();
  }

  override catch(exception: unknown, host: ArgumentsHost): Observable<never> | void {
    if (host.getType() !== 'rpc') {
      super.catch(exception, host);
      return;
    }
    const envelope = this.toEnvelope(exception);
    const context: unknown = host.switchToRpc().getContext();
    this.stats.recordError(envelope.code, patternAndTransportOf(context)?.transport ?? 'tcp');
    // The request's outcome for the metrics and the server span, through the processing hooks' observers.
    this.drain.failed(context, envelope.code);
    const where = describeServedCall(context);
    if (envelope.code === ErrorCodes.INTERNAL_ERROR) {
      this.logger.error(`${where}: ${describeError(exception)}`, exception instanceof Error ? exception.stack : undefined);
    } else if (envelope.code === ErrorCodes.INVALID_RESPONSE) {
      // The server's own bug (VALIDATE_RESPONSES): its message names the pattern and the fields, never their values.
      this.logger.error(`${where}: ${envelope.code} ${JSON.stringify(envelope.message)}`);
    } else {
      // The message can quote what the peer sent: JSON-quoted, it cannot forge a log line.
      this.logger.warn(`${where}: ${envelope.code} ${JSON.stringify(envelope.message)}`);
    }
    return throwError(() => envelope);
  }

  private toEnvelope(exception: unknown): RpcErrorEnvelope {
    const payload = exception instanceof RpcException ? exception.getError() : undefined;
    if (isRpcErrorEnvelope(payload)) {
      return payload;
    }
    // Nest's built-in parsing pipes (ParseIntPipe and the like) throw BadRequestException.
    if (exception instanceof BadRequestException) {
      return { code: ErrorCodes.VALIDATION_FAILED, message: exception.message, details: { violations: [] } };
    }
    return { code: ErrorCodes.INTERNAL_ERROR, message: 'internal server error', details: {} };
  }
}
