import { BadRequestException, Catch, Logger, type ArgumentsHost, type RpcExceptionFilter } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { describeError, ErrorCodes, isRpcErrorEnvelope, type RpcErrorEnvelope } from '@echo-pair/common';
import { throwError, type Observable } from 'rxjs';
import { StatsService } from '../stats/stats.service';
import { describeServedCall, patternAndTransportOf } from '../transport/served-call';

/**
 * Replies to every failed request with the contract's error envelope, counts
 * it, and logs it. Errors the contract does not describe become
 * `INTERNAL_ERROR` without leaking their message; their stack goes to the log.
 */
@Catch()
export class RpcErrorEnvelopeFilter implements RpcExceptionFilter<unknown> {
  private readonly logger = new Logger('RpcErrors');

  constructor(private readonly stats: StatsService) {}

  catch(exception: unknown, host: ArgumentsHost): Observable<never> {
    const envelope = this.toEnvelope(exception);
    const context: unknown = host.switchToRpc().getContext();
    this.stats.recordError(envelope.code, patternAndTransportOf(context)?.transport ?? 'tcp');
    const where = describeServedCall(context);
    if (envelope.code === ErrorCodes.INTERNAL_ERROR) {
      this.logger.error(`${where}: ${describeError(exception)}`, exception instanceof Error ? exception.stack : undefined);
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
