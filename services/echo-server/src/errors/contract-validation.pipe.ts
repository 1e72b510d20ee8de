import { Injectable, ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { ErrorCodes, WireLimits } from '@echo-pair/common';
import { RpcEnvelopeException } from './rpc-envelope.exception';
import { createValidationException } from './validation-exception.factory';

/**
 * Nest's `ValidationPipe` configured for the wire contract, behind a cheap
 * check of the payload's shape. class-transformer's cost grows faster than
 * linearly with a payload's keys: 300k unknown keys in one 3 MB frame kept the
 * server busy for over half a minute. A payload must be a JSON object with at
 * most `WireLimits.payloadMaxKeys` keys before any conversion runs.
 */
@Injectable()
export class ContractValidationPipe extends ValidationPipe {
  constructor() {
    super({ transform: true, whitelist: true, forbidNonWhitelisted: true, exceptionFactory: createValidationException });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body') {
      assertPayloadShape(value);
    }
    return super.transform(value, metadata);
  }
}

function assertPayloadShape(value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw payloadViolation({ isObject: 'the payload must be a JSON object' });
  }
  let keys = 0;
  for (const key in value) {
    if (Object.hasOwn(value, key) && ++keys > WireLimits.payloadMaxKeys) {
      throw payloadViolation({ maxKeys: `the payload must have at most ${WireLimits.payloadMaxKeys} keys` });
    }
  }
}

function payloadViolation(constraints: Record<string, string>): RpcEnvelopeException {
  return new RpcEnvelopeException({
    code: ErrorCodes.VALIDATION_FAILED,
    message: `invalid request: ${Object.values(constraints).join('; ')}`,
    details: { violations: [{ field: '(payload)', constraints }] },
  });
}
