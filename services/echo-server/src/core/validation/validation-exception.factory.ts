import type { ValidationError } from 'class-validator';
import { ErrorCodes, type FieldViolation } from '@echo-pair/common';
import { RpcEnvelopeException } from '../rpc-envelope.exception';

/** `ValidationPipe`'s `exceptionFactory`: one violation per bad field, nested paths dotted. */
export function createValidationException(errors: ValidationError[]): RpcEnvelopeException {
  const violations = violationsOf(errors);
  const fields = violations.map((violation) => violation.field).join(', ');
  return new RpcEnvelopeException({
    code: ErrorCodes.VALIDATION_FAILED,
    message: violations.length > 0 ? `invalid request: ${fields}` : 'invalid request',
    details: { violations },
  });
}

/** One violation per bad field of class-validator's errors, nested paths dotted (`limits.sleepMaxMs`, `commands.0.name`). */
export function violationsOf(errors: readonly ValidationError[]): FieldViolation[] {
  return errors.flatMap((error) => collectViolations(error, ''));
}

function collectViolations(error: ValidationError, parentPath: string): FieldViolation[] {
  const field = parentPath ? `${parentPath}.${error.property}` : error.property;
  const own: FieldViolation[] = error.constraints ? [{ field, constraints: error.constraints }] : [];
  return own.concat((error.children ?? []).flatMap((child) => collectViolations(child, field)));
}
