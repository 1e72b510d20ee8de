import { ValidationPipe, type ArgumentMetadata, type Type } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { CommandDto, EchoDto, ErrorCodes, HelloDto, NoteDto, WireLimits, type RpcErrorEnvelope } from '@echo-pair/common';
import type { EchoServerEnvironment } from '../../config/echo-server-environment';
import { RpcEnvelopeException } from '../rpc-envelope.exception';
import { ContractValidationPipe } from './contract-validation.pipe';

/**
 * The metadata a pipe sees for an `@Payload()` parameter: Nest's `PipesConsumer`
 * maps `RpcParamtype.PAYLOAD` (3, the same number as `RouteParamtypes.BODY`) to
 * `'body'`, and the parameter has no `data`.
 */
function payloadOf(metatype: Type<unknown>): ArgumentMetadata {
  return { type: 'body', metatype, data: undefined };
}

/** The pipe `EchoServerModule` provides under APP_PIPE, with ECHO_FAST_PATH as given. */
function pipeWith(fastPath: boolean): ContractValidationPipe {
  return new ContractValidationPipe(new ConfigService<EchoServerEnvironment, true>({ ECHO_FAST_PATH: fastPath }));
}

/**
 * Every case runs on both paths: the fast one (the compiled validator) and stock Nest's
 * `ValidationPipe` (ECHO_FAST_PATH=false), which must accept and reject alike, with the same envelopes.
 */
describe.each([
  { mode: 'fast path', fastPath: true },
  { mode: 'stock ValidationPipe', fastPath: false },
])('ContractValidationPipe ($mode)', ({ fastPath }) => {
  const pipe = pipeWith(fastPath);

  async function rejectionOf(metatype: Type<unknown>, value: unknown): Promise<RpcErrorEnvelope> {
    let error: unknown;
    try {
      await pipe.transform(value, payloadOf(metatype));
    } catch (reason) {
      error = reason;
    }
    expect(error).toBeInstanceOf(RpcEnvelopeException);
    return (error as RpcEnvelopeException).envelope;
  }

  it.each([
    { dto: EchoDto, value: { text: 'hello' } },
    { dto: EchoDto, value: { text: '' } },
    { dto: EchoDto, value: { text: '👨‍👩‍👧‍👦 你好' } },
    { dto: CommandDto, value: { name: 'upper', args: ['a', 'b'] } },
    { dto: CommandDto, value: { name: 'time' } },
    { dto: CommandDto, value: { name: 'my-command2', args: [] } },
    {
      dto: CommandDto,
      value: { name: 'x'.repeat(WireLimits.commandNameMaxLength), args: Array<string>(WireLimits.commandArgsMaxCount).fill('a') },
    },
    { dto: HelloDto, value: {} },
    { dto: HelloDto, value: { client: 'worker-1' } },
    { dto: NoteDto, value: { text: 'hi' } },
    { dto: NoteDto, value: { text: 'hi', author: 'me' } },
  ])('accepts $dto.name $value as an instance of the DTO', async ({ dto, value }) => {
    const result: unknown = await pipe.transform(value, payloadOf(dto));

    expect(result).toBeInstanceOf(dto);
    expect(result).toEqual(value);
  });

  it.each([
    // label, DTO, payload, and the expected violations as field → constraint names
    { label: 'a number as text', dto: EchoDto, value: { text: 42 }, violations: { text: ['isString', 'maxLength'] } },
    { label: 'an unknown property', dto: EchoDto, value: { text: 'a', extra: 1 }, violations: { extra: ['whitelistValidation'] } },
    { label: 'no text', dto: EchoDto, value: {}, violations: { text: ['isString', 'maxLength'] } },
    {
      label: 'text over the wire limit',
      dto: EchoDto,
      value: { text: 'a'.repeat(WireLimits.echoTextMaxLength + 1) },
      violations: { text: ['maxLength'] },
    },
    { label: 'no name', dto: CommandDto, value: {}, violations: { name: ['isString', 'matches', 'maxLength'] } },
    {
      label: 'args not an array',
      dto: CommandDto,
      value: { name: 'upper', args: 'hi' },
      violations: { args: ['arrayMaxSize', 'isArray'] },
    },
    {
      label: 'args with a non-string',
      dto: CommandDto,
      value: { name: 'upper', args: ['a', 1] },
      violations: { args: ['isString', 'maxLength'] },
    },
    {
      label: 'too many args',
      dto: CommandDto,
      value: { name: 'upper', args: Array<string>(WireLimits.commandArgsMaxCount + 1).fill('a') },
      violations: { args: ['arrayMaxSize'] },
    },
    {
      label: 'an over-long arg',
      dto: CommandDto,
      value: { name: 'upper', args: ['ok', 'a'.repeat(WireLimits.commandArgMaxLength + 1)] },
      violations: { args: ['maxLength'] },
    },
    { label: 'a name with capitals', dto: CommandDto, value: { name: 'Upper' }, violations: { name: ['matches'] } },
    { label: 'a name with spaces', dto: CommandDto, value: { name: 'up per', args: ['x'] }, violations: { name: ['matches'] } },
    { label: 'a name with a shell metacharacter', dto: CommandDto, value: { name: 'upper;ls' }, violations: { name: ['matches'] } },
    {
      label: 'an over-long name',
      dto: CommandDto,
      value: { name: 'x'.repeat(WireLimits.commandNameMaxLength + 1) },
      violations: { name: ['maxLength'] },
    },
    {
      label: 'several bad fields',
      dto: CommandDto,
      value: { name: 'Bad Name', args: 'x', extra: true },
      violations: { extra: ['whitelistValidation'], name: ['matches'], args: ['arrayMaxSize', 'isArray'] },
    },
    { label: 'a number as client', dto: HelloDto, value: { client: 7 }, violations: { client: ['isString', 'maxLength'] } },
    { label: 'an over-long client', dto: HelloDto, value: { client: 'c'.repeat(65) }, violations: { client: ['maxLength'] } },
    {
      label: 'an unknown hello property',
      dto: HelloDto,
      value: { client: 'w', version: 2 },
      violations: { version: ['whitelistValidation'] },
    },
    { label: 'an empty note', dto: NoteDto, value: { text: '' }, violations: { text: ['isNotEmpty'] } },
    {
      label: 'a note over the limit',
      dto: NoteDto,
      value: { text: 'n'.repeat(WireLimits.noteTextMaxLength + 1) },
      violations: { text: ['maxLength'] },
    },
    { label: 'a number as author', dto: NoteDto, value: { text: 'hi', author: 5 }, violations: { author: ['isString', 'maxLength'] } },
  ])('rejects $label ($dto.name) as VALIDATION_FAILED', async ({ dto, value, violations }) => {
    const envelope = await rejectionOf(dto, value);

    expect(envelope.code).toBe(ErrorCodes.VALIDATION_FAILED);
    if (envelope.code !== ErrorCodes.VALIDATION_FAILED) return;
    const found = Object.fromEntries(envelope.details.violations.map(({ field, constraints }) => [field, Object.keys(constraints).sort()]));
    expect(found).toEqual(violations);
    expect(envelope.message).toBe(`invalid request: ${envelope.details.violations.map(({ field }) => field).join(', ')}`);
  });

  it('explains each constraint in words', async () => {
    expect(await rejectionOf(CommandDto, { name: 'Upper', args: ['a', 1], extra: 1 })).toEqual({
      code: ErrorCodes.VALIDATION_FAILED,
      message: 'invalid request: extra, name, args',
      details: {
        violations: [
          { field: 'extra', constraints: { whitelistValidation: 'property extra should not exist' } },
          { field: 'name', constraints: { matches: 'name must be a lower-case command name such as "upper"' } },
          {
            field: 'args',
            constraints: {
              isString: 'each value in args must be a string',
              maxLength: `each value in args must be shorter than or equal to ${WireLimits.commandArgMaxLength} characters`,
            },
          },
        ],
      },
    });
  });

  it.each([
    { dto: HelloDto, value: 42 },
    { dto: EchoDto, value: 'hi' },
    { dto: EchoDto, value: null },
    { dto: CommandDto, value: ['upper'] },
    { dto: NoteDto, value: true },
  ])('rejects the non-object $dto.name payload $value before validating fields', async ({ dto, value }) => {
    expect(await rejectionOf(dto, value)).toEqual({
      code: ErrorCodes.VALIDATION_FAILED,
      message: 'invalid request: the payload must be a JSON object',
      details: { violations: [{ field: '(payload)', constraints: { isObject: 'the payload must be a JSON object' } }] },
    });
  });

  it('rejects a payload with more keys than the wire limit before converting it', async () => {
    const value = Object.fromEntries(Array.from({ length: WireLimits.payloadMaxKeys + 1 }, (_, index) => [`key${index}`, index]));

    expect(await rejectionOf(EchoDto, value)).toEqual({
      code: ErrorCodes.VALIDATION_FAILED,
      message: `invalid request: the payload must have at most ${WireLimits.payloadMaxKeys} keys`,
      details: {
        violations: [{ field: '(payload)', constraints: { maxKeys: `the payload must have at most ${WireLimits.payloadMaxKeys} keys` } }],
      },
    });
  });

  it('leaves a context parameter alone', () => {
    const context = { not: 'a payload' };
    expect(pipe.transform(context, { type: 'custom', metatype: Object, data: undefined })).toBe(context);
  });

  it.each(['__proto__', 'prototype', 'constructor'])(
    'drops a "%s" key, as Nest\'s ValidationPipe does, without touching the prototype',
    async (key) => {
      const value = JSON.parse(`{"text":"hi","${key}":{"polluted":true}}`) as object;

      const result = await pipe.transform(value, payloadOf(EchoDto));

      expect(result).toBeInstanceOf(EchoDto);
      expect(Object.keys(result as object)).toEqual(['text']);
      expect((result as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    },
  );

  it('validates a payload without a DTO class only for its shape', async () => {
    const value = { any: 'thing' };
    expect(await pipe.transform(value, { type: 'body', metatype: Object, data: undefined })).toBe(value);
    expect(await pipe.transform(value, { type: 'body', metatype: undefined, data: undefined })).toBe(value);
    expect(() => pipe.transform('text', { type: 'body', metatype: undefined, data: undefined })).toThrow(RpcEnvelopeException);
  });
});

describe('ContractValidationPipe, the path chosen', () => {
  let transform: jest.SpyInstance;

  beforeEach(() => (transform = jest.spyOn(ValidationPipe.prototype, 'transform')));
  afterEach(() => transform.mockRestore());

  it("takes Nest's ValidationPipe with ECHO_FAST_PATH=false, and never with the fast path", async () => {
    await pipeWith(true).transform({ text: 'hi' }, payloadOf(EchoDto));
    expect(transform).not.toHaveBeenCalled();

    await pipeWith(false).transform({ text: 'hi' }, payloadOf(EchoDto));
    expect(transform).toHaveBeenCalledTimes(1);
  });

  it('keeps the fast path when the setting is absent (its default)', async () => {
    await new ContractValidationPipe(new ConfigService<EchoServerEnvironment, true>({})).transform({ text: 'hi' }, payloadOf(EchoDto));
    expect(transform).not.toHaveBeenCalled();
  });
});
