import { Injectable, type ArgumentMetadata, type PipeTransform, type Type } from '@nestjs/common';
import { validateSync, type ValidatorOptions } from 'class-validator';
import { compiledValidatorFor, ErrorCodes, WireLimits } from '@echo-pair/common';
import { RpcEnvelopeException } from '../rpc-envelope.exception';
import { createValidationException } from './validation-exception.factory';

/** What Nest's `ValidationPipe` passes for `{ whitelist: true, forbidNonWhitelisted: true }`. */
const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
};
/** Metatypes Nest's `ValidationPipe` leaves alone: they have no class-validator rules. */
const UNVALIDATED_TYPES: ReadonlySet<unknown> = new Set([String, Boolean, Number, Array, Object, Buffer, Date]);
/** Keys Nest's `ValidationPipe` strips before validating (prototype pollution). */
const PROTO_KEYS: ReadonlySet<string> = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * Validates `@Payload()` parameters against their class-validator DTO with the
 * results of Nest's `ValidationPipe({ transform, whitelist, forbidNonWhitelisted })`,
 * on the hot path of every request, so without its per-request cost:
 *
 * - the payload must be a JSON object of at most `WireLimits.payloadMaxKeys` keys
 *   before anything else runs (class-transformer's cost once grew faster than
 *   linearly with a payload's keys: 300k keys kept the server busy for 30 s);
 * - the DTO instance is built by copying that object's own keys (the DTOs are flat
 *   and declare no class-transformer conversions, so `plainToInstance` would
 *   produce the same instance, at several times the cost);
 * - `validateSync`, as the DTOs have no async constraints: no promise per request; through
 *   `compiledValidatorFor`, which reads each DTO's class-validator metadata once and runs the same
 *   constraints (same verdicts and violations: compiled-validator.property.spec.ts), leaving every
 *   violation, and any DTO it does not compile, to `validateSync` itself.
 *
 * A global pipe (APP_PIPE) also runs on HTTP route parameters, where it cannot tell HTTP
 * from RPC (`ArgumentMetadata` has no context). The side port's routes (`/metrics`,
 * `/healthz`, `/readyz`) take no parameter, so it never runs there; their query strings
 * and path parameters would pass unchanged (`metadata.type` is not `body`).
 */
@Injectable()
export class ContractValidationPipe implements PipeTransform {
  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type !== 'body') {
      return value;
    }
    assertPayloadShape(value);
    const metatype = metadata.metatype;
    if (metatype === undefined || UNVALIDATED_TYPES.has(metatype)) {
      return value;
    }
    const entity = toInstance(metatype, value);
    const compiled = compiledValidatorFor(metatype, VALIDATOR_OPTIONS);
    const errors = compiled === undefined ? validateSync(entity, VALIDATOR_OPTIONS) : compiled.validate(entity);
    if (errors.length > 0) {
      throw createValidationException(errors);
    }
    return entity;
  }
}

function assertPayloadShape(value: unknown): asserts value is Record<string, unknown> {
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

/** A new instance of the DTO with the payload's own keys, prototype keys left out. */
function toInstance(metatype: Type<unknown>, value: Record<string, unknown>): object {
  const entity = new metatype() as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    if (!PROTO_KEYS.has(key)) {
      entity[key] = value[key];
    }
  }
  return entity;
}

function payloadViolation(constraints: Record<string, string>): RpcEnvelopeException {
  return new RpcEnvelopeException({
    code: ErrorCodes.VALIDATION_FAILED,
    message: `invalid request: ${Object.values(constraints).join('; ')}`,
    details: { violations: [{ field: '(payload)', constraints }] },
  });
}
