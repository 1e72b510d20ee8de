import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { PATTERN_HANDLER_METADATA, PATTERN_METADATA } from '@nestjs/microservices/constants';
import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError, type ValidatorOptions } from 'class-validator';
import { compiledValidatorFor, CONTRACT, ErrorCodes, type FieldViolation } from '@echo-pair/common';
import { map, type Observable } from 'rxjs';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { RpcEnvelopeException } from '../rpc-envelope.exception';
import { violationsOf } from './validation-exception.factory';

/** The request pipe's options: unknown fields are violations too, and no value is copied into an error. */
const VALIDATOR_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
};
/** Keys that an instance cannot take as its own by assignment: checked apart (see `violationsOfResponse`). */
const PROTO_KEYS: readonly string[] = ['__proto__', 'prototype', 'constructor'];
/** Nest's `PatternHandler.MESSAGE`, as its decorators store it (events have no response). */
const MESSAGE_HANDLER = 1;

type ResponseClass = new () => object;

/** The violations of one response against its class; empty when it keeps the contract. */
type Check = (responseClass: ResponseClass, response: object) => ValidationError[];

/** What the interceptor knows of one handler: its pattern and response class, or null when it has none (events, HTTP routes). */
interface CheckedHandler {
  readonly pattern: string;
  readonly responseClass: ResponseClass;
}

/**
 * With VALIDATE_RESPONSES on (registered as APP_INTERCEPTOR only then), checks what each request
 * handler of a contract pattern returns against the pattern's response class
 * (`CONTRACT.requests[pattern].response`), on every door (the doors all run the handlers Nest
 * built, interceptors included). A response that breaks the contract is not sent: the call fails
 * with INVALID_RESPONSE naming the fields, which the exception filter logs. A valid response passes
 * unchanged (the same object, so the same bytes). With ECHO_FAST_PATH a flat class is checked by
 * the compiled validator, as the request pipe does; otherwise, and for nested classes,
 * class-transformer and class-validator's `validateSync`.
 */
@Injectable()
export class ResponseValidationInterceptor implements NestInterceptor {
  private readonly check: Check;
  private readonly handlers = new WeakMap<object, CheckedHandler | null>();

  constructor(config: ConfigService<EchoServerEnvironment, true>) {
    this.check = config.get('ECHO_FAST_PATH', { infer: true }) === false ? stockCheck : fastCheck;
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const checked = this.checkedHandlerOf(context.getHandler());
    if (checked === null) {
      return next.handle();
    }
    const { pattern, responseClass } = checked;
    return next.handle().pipe(
      map((response: unknown) => {
        const violations = violationsOfResponse(this.check, responseClass, response);
        if (violations.length > 0) {
          throw invalidResponse(pattern, violations);
        }
        return response;
      }),
    );
  }

  private checkedHandlerOf(handler: object): CheckedHandler | null {
    let checked = this.handlers.get(handler);
    if (checked === undefined) {
      checked = readCheckedHandler(handler);
      this.handlers.set(handler, checked);
    }
    return checked;
  }
}

/** The contract pattern a message handler serves (from Nest's own metadata) and its response class. */
function readCheckedHandler(handler: object): CheckedHandler | null {
  if (Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) !== MESSAGE_HANDLER) {
    return null;
  }
  const patterns = (Reflect.getMetadata(PATTERN_METADATA, handler) as unknown[] | undefined) ?? [];
  for (const pattern of patterns) {
    if (typeof pattern === 'string' && Object.hasOwn(CONTRACT.requests, pattern)) {
      const unit = CONTRACT.requests[pattern as keyof typeof CONTRACT.requests];
      return { pattern, responseClass: unit.response };
    }
  }
  return null;
}

function violationsOfResponse(check: Check, responseClass: ResponseClass, response: unknown): FieldViolation[] {
  if (typeof response !== 'object' || response === null || Array.isArray(response)) {
    return [{ field: '(response)', constraints: { isObject: 'the response must be a JSON object' } }];
  }
  // class-validator's whitelist does not see these keys (it looks them up in a plain object), yet JSON sends them.
  const protoKeys = PROTO_KEYS.filter((key) => Object.hasOwn(response, key)).map((key) => ({
    field: key,
    constraints: { whitelistValidation: `property ${key} should not exist` },
  }));
  return [...violationsOf(check(responseClass, response)), ...protoKeys];
}

/** The fast path: a flat class gets an instance with the response's own keys and the compiled validator. */
function fastCheck(responseClass: ResponseClass, response: object): ValidationError[] {
  const compiled = compiledValidatorFor(responseClass, VALIDATOR_OPTIONS);
  if (compiled === undefined) {
    return stockCheck(responseClass, response); // nested classes: class-transformer builds the nested instances
  }
  const entity = new responseClass() as Record<string, unknown>;
  for (const key of Object.keys(response)) {
    if (!PROTO_KEYS.includes(key)) {
      entity[key] = (response as Record<string, unknown>)[key];
    }
  }
  return compiled.validate(entity);
}

/** The stock path: class-transformer's instance, class-validator's `validateSync`. */
function stockCheck(responseClass: ResponseClass, response: object): ValidationError[] {
  return validateSync(plainToInstance(responseClass, response), VALIDATOR_OPTIONS);
}

function invalidResponse(pattern: string, violations: FieldViolation[]): RpcEnvelopeException {
  const described = violations.map(({ field, constraints }) => `${field}: ${Object.values(constraints).join('; ')}`).join(', ');
  return new RpcEnvelopeException({
    code: ErrorCodes.INVALID_RESPONSE,
    message: `invalid response to ${JSON.stringify(pattern)}: ${described}`,
    details: { pattern, violations },
  });
}
