import { RpcException } from '@nestjs/microservices';
import { ValidationError } from 'class-validator';
import { ErrorCodes } from '@echo-pair/common';
import { RpcEnvelopeException } from '../rpc-envelope.exception';
import { createValidationException } from './validation-exception.factory';

function validationError(property: string, constraints?: Record<string, string>, children: ValidationError[] = []): ValidationError {
  return Object.assign(new ValidationError(), { property, constraints, children });
}

describe('createValidationException', () => {
  it('builds an RpcException carrying a VALIDATION_FAILED envelope', () => {
    const exception = createValidationException([validationError('text', { isString: 'text must be a string' })]);

    expect(exception).toBeInstanceOf(RpcEnvelopeException);
    expect(exception).toBeInstanceOf(RpcException);
    expect(exception.getError()).toBe(exception.envelope);
    expect(exception.envelope).toEqual({
      code: ErrorCodes.VALIDATION_FAILED,
      message: 'invalid request: text',
      details: { violations: [{ field: 'text', constraints: { isString: 'text must be a string' } }] },
    });
  });

  it('lists one violation per field of a flat list, in order', () => {
    const { envelope } = createValidationException([
      validationError('name', { matches: 'name must be a lower-case command name such as "upper"', maxLength: 'too long' }),
      validationError('args', { isArray: 'args must be an array' }),
      validationError('extra', { whitelistValidation: 'property extra should not exist' }),
    ]);

    expect(envelope).toEqual({
      code: ErrorCodes.VALIDATION_FAILED,
      message: 'invalid request: name, args, extra',
      details: {
        violations: [
          { field: 'name', constraints: { matches: 'name must be a lower-case command name such as "upper"', maxLength: 'too long' } },
          { field: 'args', constraints: { isArray: 'args must be an array' } },
          { field: 'extra', constraints: { whitelistValidation: 'property extra should not exist' } },
        ],
      },
    });
  });

  it('dots the paths of nested errors and skips parents without constraints of their own', () => {
    const { envelope } = createValidationException([
      validationError('settings', undefined, [
        validationError('limits', undefined, [validationError('max', { isInt: 'max must be an integer number' })]),
        validationError('label', { isString: 'label must be a string' }),
      ]),
      validationError('items', undefined, [
        validationError('0', undefined, [validationError('text', { isNotEmpty: 'text should not be empty' })]),
        validationError('2', { isObject: 'each value in items must be an object' }),
      ]),
    ]);

    expect(envelope.message).toBe('invalid request: settings.limits.max, settings.label, items.0.text, items.2');
    expect(envelope.details).toEqual({
      violations: [
        { field: 'settings.limits.max', constraints: { isInt: 'max must be an integer number' } },
        { field: 'settings.label', constraints: { isString: 'label must be a string' } },
        { field: 'items.0.text', constraints: { isNotEmpty: 'text should not be empty' } },
        { field: 'items.2', constraints: { isObject: 'each value in items must be an object' } },
      ],
    });
  });

  it('reports a parent with constraints before its children', () => {
    const { envelope } = createValidationException([
      validationError('meta', { isObject: 'meta must be an object' }, [validationError('id', { isUuid: 'id must be a UUID' })]),
    ]);

    expect(envelope.details).toEqual({
      violations: [
        { field: 'meta', constraints: { isObject: 'meta must be an object' } },
        { field: 'meta.id', constraints: { isUuid: 'id must be a UUID' } },
      ],
    });
  });

  it.each([
    { label: 'no errors', errors: [] },
    { label: 'errors without any constraints', errors: [validationError('ghost', undefined, [validationError('inner')])] },
  ])('says just "invalid request" for $label', ({ errors }) => {
    expect(createValidationException(errors).envelope).toEqual({
      code: ErrorCodes.VALIDATION_FAILED,
      message: 'invalid request',
      details: { violations: [] },
    });
  });
});
