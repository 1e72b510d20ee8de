import { Injectable, ValidationPipe, type ArgumentMetadata, type PipeTransform, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { validateSync, type ValidatorOptions } from 'class-validator';
import { compiledValidatorFor, ErrorCodes, WireLimits } from '@echo-pair/common';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
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

type Transform = (value: unknown, metadata: ArgumentMetadata) => unknown;

/**
 * Validates `@Payload()` parameters against their class-validator DTO, with the results of Nest's
 * `ValidationPipe({ transform, whitelist, forbidNonWhitelisted })` and errors in the VALIDATION_FAILED
 * envelope. A payload must first be a JSON object of at most `WireLimits.payloadMaxKeys` keys.
 * With ECHO_FAST_PATH (the default) the DTO is built and checked by the compiled validator;
 * with ECHO_FAST_PATH=false, by Nest's `ValidationPipe` itself (docs/performance.md).
 * Other parameters (a context, an HTTP query) pass unchanged.
 */
@Injectable()
export class ContractValidationPipe implements PipeTransform {
  /** The path taken, chosen once from ECHO_FAST_PATH. */
  readonly transform: Transform;

  constructor(config: ConfigService<EchoServerEnvironment, true>) {
    this.transform = config.get('ECHO_FAST_PATH', { infer: true }) === false ? stockTransform() : fastTransform;
  }
}

/** The fast path: the DTO built by copying the payload's keys, then the compiled validator. */
function fastTransform(value: unknown, metadata: ArgumentMetadata): unknown {
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

/** The stock path: Nest's `ValidationPipe` (class-transformer, then class-validator's `validate`). */
function stockTransform(): Transform {
  const pipe = new ValidationPipe({ transform: true, ...VALIDATOR_OPTIONS, exceptionFactory: createValidationException });
  return (value, metadata) => {
    if (metadata.type !== 'body') {
      return value;
    }
    assertPayloadShape(value);
    return pipe.transform(value, metadata);
  };
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
