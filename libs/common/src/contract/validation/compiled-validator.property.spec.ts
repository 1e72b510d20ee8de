import fc from 'fast-check';
import {
  Allow,
  ArrayMaxSize,
  IsArray,
  IsDefined,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  MaxLength,
  Min,
  Validate,
  ValidateNested,
  ValidatePromise as IsPromise,
  ValidateIf,
  ValidatorConstraint,
  type ValidationArguments,
  type ValidatorConstraintInterface,
  validateSync,
  type ValidatorOptions,
} from 'class-validator';
import { WireLimits } from '../wire-limits';
import { CommandDto } from '../dto/command.dto';
import { EchoDto } from '../dto/echo.dto';
import { HelloDto } from '../dto/hello.dto';
import { NoteDto } from '../dto/note.dto';
import { MaxTextLength } from '../dto/max-text-length.decorator';
import { compiledValidatorFor } from './compiled-validator';

/** What the server's validation pipe passes (Nest's `ValidationPipe` with whitelist and forbidNonWhitelisted). */
const PIPE_OPTIONS: ValidatorOptions = {
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: false,
  validationError: { target: false, value: false },
};

/** Other options, to show that the compiled check follows each the way class-validator does. */
const OTHER_OPTIONS: ValidatorOptions[] = [
  {},
  { forbidUnknownValues: false },
  { whitelist: true, forbidUnknownValues: false, validationError: { target: false } },
  { whitelist: true, forbidNonWhitelisted: true, skipMissingProperties: true, validationError: { target: false, value: false } },
  { skipNullProperties: true, forbidUnknownValues: false, validationError: { target: false } },
  { skipUndefinedProperties: true, stopAtFirstError: true, validationError: { target: false } },
  { groups: ['strict'], validationError: { target: false, value: false } },
  { always: true, strictGroups: true, dismissDefaultMessages: true, validationError: { target: false } },
];

/** Strings at, below and above `max` code units, and above it in code units but not in class-validator's characters. */
function aroundLimit(max: number): string[] {
  const half = Math.floor(max / 2);
  return [
    'a'.repeat(max),
    'a'.repeat(max + 1),
    'a'.repeat(Math.max(0, max - 1)),
    '😀'.repeat(half),
    '😀'.repeat(half + 1), // max + 2 code units, half + 1 characters: MaxLength lets it pass
    '😀'.repeat(max),
    '😀'.repeat(max + 1),
    `${'a'.repeat(max - 1)}\u2764\uFE0F`, // a variation selector counts with the character before it
    `${'a'.repeat(max)}\u2764\uFE0F`,
    '\uD800'.repeat(max + 1), // lone surrogates count one each
  ];
}

/** The DTOs' smaller limits, in the random payloads; the larger ones (64 Ki, 1 Mi code units) are checked one by one below. */
const longTexts = [WireLimits.clientNameMaxLength, WireLimits.commandNameMaxLength, WireLimits.noteTextMaxLength].flatMap(aroundLimit);
const hugeTexts = [WireLimits.commandArgMaxLength, WireLimits.echoTextMaxLength].flatMap(aroundLimit);

/** Any text, command-name-like text, long texts at the DTOs' limits. */
const anyText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4}){0,2}$/) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', 'upper', 'Upper', 'my-cmd', 'a--b', '-x', 'x-', '你好', '😀', 'e\u0301') },
  { weight: 1, arbitrary: fc.constantFrom(...longTexts) },
);

/** Any value a property can hold: texts, other JSON values, arrays of texts, and a few that JSON cannot carry. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: anyText },
  { weight: 3, arbitrary: fc.array(anyText, { maxLength: WireLimits.commandArgsMaxCount + 2 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, 0, 1, -1, 1.5, true, false, [], {}, NaN) },
  { weight: 1, arbitrary: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(new Set(['a', 'b']), new Set([1]), new Map([['k', 'v']]), new Date(0), Symbol.for('s')) },
);

/** Payloads for a DTO: its own keys (each present or not), and sometimes keys it does not declare. */
function payloadsFor(keys: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  const extraKeys = fc.constantFrom('extra', 'Text', 'texts', 'id', 'pattern', '0', 'constructor2', 'toString');
  return fc
    .tuple(
      fc.record(Object.fromEntries(keys.map((key) => [key, anyValue])), { requiredKeys: [] }),
      fc.dictionary(extraKeys, anyValue, { maxKeys: 2 }),
      fc.boolean(),
    )
    .map(([own, extra, withExtra]) => (withExtra ? { ...own, ...extra } : own));
}

/** The DTO instance the pipe builds: a new instance with the payload's own keys. */
function entityOf<T extends object>(type: new () => T, payload: Record<string, unknown>): T {
  return Object.assign(new type(), payload);
}

/** Compiled and class-validator's results agree: the same errors (so the same verdict), and `check` tells the verdict. */
function expectSameAsClassValidator(type: new () => object, payload: Record<string, unknown>, options: ValidatorOptions): void {
  const compiled = compiledValidatorFor(type, options);
  expect(compiled).toBeDefined();
  const expected = validateSync(entityOf(type, payload), options);
  expect(compiled!.validate(entityOf(type, payload))).toEqual(expected);
  expect(compiled!.check(entityOf(type, payload))).toBe(expected.length === 0);
  // A whitelist without forbidNonWhitelisted strips unknown properties: the compiled check strips the same.
  const theirs = entityOf(type, payload);
  const ours = entityOf(type, payload);
  validateSync(theirs, options);
  compiled!.check(ours);
  expect(ours).toEqual(theirs);
}

const DTOS: { type: new () => object; keys: string[] }[] = [
  { type: EchoDto, keys: ['text'] },
  { type: HelloDto, keys: ['client'] },
  { type: CommandDto, keys: ['name', 'args'] },
  { type: NoteDto, keys: ['text', 'author'] },
];

describe('compiledValidatorFor: the same verdicts and violations as class-validator', () => {
  describe.each(DTOS)('$type.name', ({ type, keys }) => {
    it('with the validation pipe’s options, for any payload', () => {
      fc.assert(
        fc.property(payloadsFor(keys), (payload) => expectSameAsClassValidator(type, payload, PIPE_OPTIONS)),
        { numRuns: 1000 },
      );
    });

    it('with other validator options', () => {
      fc.assert(
        fc.property(payloadsFor(keys), fc.constantFrom(...OTHER_OPTIONS), (payload, options) =>
          expectSameAsClassValidator(type, payload, options),
        ),
        { numRuns: 500 },
      );
    });

    it('accepts the valid payloads class-validator accepts (valid ones are common here)', () => {
      const validText = fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom(...longTexts));
      const payload = fc.record(
        Object.fromEntries(
          keys.map((key) => [
            key,
            key === 'args' ? fc.array(validText, { maxLength: 16 }) : key === 'name' ? fc.constantFrom('upper', 'my-cmd', 'x1') : validText,
          ]),
        ),
        { requiredKeys: [] },
      );
      fc.assert(
        fc.property(payload, (p) => expectSameAsClassValidator(type, p, PIPE_OPTIONS)),
        { numRuns: 300 },
      );
    });

    it('judges texts around the larger limits as class-validator does', () => {
      for (const text of hugeTexts) {
        for (const key of keys) {
          expectSameAsClassValidator(type, { [key]: key === 'args' ? [text, 'x'] : text }, PIPE_OPTIONS);
        }
      }
    });
  });
});

/** An async constraint: validateSync skips it. */
@ValidatorConstraint({ name: 'neverAsync', async: true })
class NeverAsync implements ValidatorConstraintInterface {
  validate(): Promise<boolean> {
    return Promise.resolve(false);
  }
}

/** A constraint declared sync that returns a promise for some values: validateSync records nothing for it then. */
@ValidatorConstraint({ name: 'sometimesPromise' })
class SometimesPromise implements ValidatorConstraintInterface {
  validate(value: unknown): boolean | Promise<boolean> {
    return value === 'later' ? Promise.resolve(false) : value !== 'bad';
  }
}

/** A constraint that reads every validation argument: the compiled check must pass the same ones. */
@ValidatorConstraint({ name: 'readsArguments' })
class ReadsArguments implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const object = args.object as Record<string, unknown>;
    return (
      args.targetName === 'KitchenSink' &&
      args.property === 'crossField' &&
      args.value === value &&
      (args.constraints[0] as number) === 2 &&
      (value === undefined || value !== object.required)
    );
  }
}

// A class with every kind of metadata the compiled check handles.
class Base {
  @IsOptional()
  @IsString()
  inherited?: unknown;

  @IsInt()
  overridden?: unknown;
}

class KitchenSink extends Base {
  @IsDefined()
  @IsString()
  @MaxLength(4)
  required!: unknown;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(3)
  @IsString({ each: true })
  @MaxTextLength(3, { each: true })
  list?: unknown;

  @ValidateIf((object: KitchenSink) => object.required === 'cond')
  @IsIn(['a', 'b'])
  conditional?: unknown;

  @IsNotEmpty({ groups: ['strict'] })
  @Matches(/^[a-z]+$/, { always: true, message: 'only letters, $property' })
  grouped?: unknown;

  @Allow()
  allowed?: unknown;

  @Min(0, { context: { hint: 'not negative' } })
  @IsOptional()
  withContext?: unknown;

  @IsString()
  override overridden?: unknown = undefined;

  @IsOptional()
  @Validate(NeverAsync)
  @Validate(SometimesPromise)
  maybeLater?: unknown;

  @Validate(ReadsArguments, [2])
  crossField?: unknown;
}

describe('compiledValidatorFor: every kind of metadata it handles', () => {
  it('is compiled once per class and options object', () => {
    expect(compiledValidatorFor(KitchenSink, PIPE_OPTIONS)).toBe(compiledValidatorFor(KitchenSink, PIPE_OPTIONS));
    expect(compiledValidatorFor(KitchenSink, { ...PIPE_OPTIONS })).not.toBe(compiledValidatorFor(KitchenSink, PIPE_OPTIONS));
    expect(compiledValidatorFor(KitchenSink)).toBe(compiledValidatorFor(KitchenSink));
  });

  it('leaves what is not an instance of the class itself to class-validator', () => {
    class Sub extends EchoDto {
      @IsInt()
      extra!: unknown;
    }
    const compiled = compiledValidatorFor(EchoDto, PIPE_OPTIONS)!;
    const sub = Object.assign(new Sub(), { text: 'ok', extra: 'not an int' });
    expect(compiled.validate(sub)).toEqual(validateSync(sub, PIPE_OPTIONS));
    expect(compiled.check(sub)).toBe(false);
    const masked = Object.assign(new EchoDto(), { text: 'ok', constructor: Sub });
    expect(compiled.validate(masked)).toEqual(validateSync(masked, PIPE_OPTIONS));
    expect(compiled.check(masked)).toBe(validateSync(masked, PIPE_OPTIONS).length === 0);
  });

  it('leaves nested and promise validation to class-validator', () => {
    class Inner {
      @IsString()
      text!: string;
    }
    class Outer {
      @ValidateNested()
      inner!: Inner;
    }
    class Later {
      @IsPromise()
      value!: unknown;
    }
    expect(compiledValidatorFor(Outer, PIPE_OPTIONS)).toBeUndefined();
    expect(compiledValidatorFor(Later, PIPE_OPTIONS)).toBeUndefined();
  });

  it('rejects an object of a class without metadata unless forbidUnknownValues is off, as class-validator does', () => {
    class Bare {}
    expect(compiledValidatorFor(Bare, {})!.validate(new Bare())).toEqual(validateSync(new Bare(), {}));
    expect(compiledValidatorFor(Bare, {})!.check(new Bare())).toBe(false);
    expect(compiledValidatorFor(Bare, { forbidUnknownValues: false })!.check(new Bare())).toBe(true);
  });

  const keys = [
    'inherited',
    'overridden',
    'required',
    'list',
    'conditional',
    'grouped',
    'allowed',
    'withContext',
    'maybeLater',
    'crossField',
  ];
  const values = fc.oneof(
    anyValue,
    fc.constantFrom('cond', 'a', 'b', 'abc', 'abcde', ['a', 'bb'], ['a', 'bbbb'], ['a', 1], new Set(['a']), new Set(['abcd']), -1, 3),
    fc.constantFrom('later', 'bad', 'good', ['later'], ['bad']),
  );
  const payload = fc
    .tuple(
      fc.record(Object.fromEntries(keys.map((key) => [key, values])), { requiredKeys: [] }),
      fc.dictionary(fc.constantFrom('extra', 'other'), anyValue, { maxKeys: 1 }),
    )
    .map(([own, extra]) => ({ ...own, ...extra }));

  it('agrees with class-validator for any payload and options', () => {
    fc.assert(
      fc.property(payload, fc.constantFrom(PIPE_OPTIONS, ...OTHER_OPTIONS), (p, options) =>
        expectSameAsClassValidator(KitchenSink, p, options),
      ),
      { numRuns: 2000 },
    );
  });
});
