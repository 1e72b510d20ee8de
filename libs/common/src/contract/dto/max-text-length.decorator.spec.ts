import { MaxLength, validateSync } from 'class-validator';
import { MaxTextLength } from './max-text-length.decorator';

const MAX = 8;

class Ours {
  @MaxTextLength(MAX)
  text!: unknown;

  @MaxTextLength(MAX, { each: true })
  list!: unknown;
}

class Theirs {
  @MaxLength(MAX)
  text!: unknown;

  @MaxLength(MAX, { each: true })
  list!: unknown;
}

function violations(type: new () => Ours | Theirs, text: unknown, list: unknown): unknown {
  const entity = Object.assign(new type(), { text, list });
  return validateSync(entity, { validationError: { target: false, value: false } }).map(({ property, constraints }) => ({
    property,
    constraints,
  }));
}

describe('MaxTextLength', () => {
  // At, below and above the limit, counted in code units, code points, and with variation selectors.
  it.each([
    '',
    'abcdefgh',
    'abcdefghi',
    '😀😀😀😀',
    '😀😀😀😀😀',
    '😀😀😀😀😀😀😀😀',
    '😀😀😀😀😀😀😀😀😀',
    'ab\u2764\uFE0Fcdefgh',
    'ab\u2764\uFE0Fcdefghi',
    '\uD800\uD800\uD800\uD800\uD800\uD800\uD800\uD800\uD800',
    'a'.repeat(100_000),
    42,
    null,
    ['x'],
  ])('judges %j as class-validator MaxLength does, with the same constraint and message', (text) => {
    const expected = violations(Theirs, text, [text, 'ok']);

    expect(violations(Ours, text, [text, 'ok'])).toEqual(expected);
  });

  it('rejects a text over the limit with maxLength', () => {
    expect(violations(Ours, 'abcdefghi', [])).toEqual([
      { property: 'text', constraints: { maxLength: 'text must be shorter than or equal to 8 characters' } },
    ]);
  });
});
