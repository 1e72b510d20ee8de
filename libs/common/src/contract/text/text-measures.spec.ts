import fc from 'fast-check';
import { buildMixedScriptText } from './mixed-script-text';
import { measureText } from './text-measures';

describe('measureText', () => {
  it.each([
    ['empty', '', { bytes: 0, codeUnits: 0, codePoints: 0 }],
    ['ASCII', 'Hello', { bytes: 5, codeUnits: 5, codePoints: 5 }],
    ['accented', 'é', { bytes: 2, codeUnits: 1, codePoints: 1 }],
    ['CJK', '你好', { bytes: 6, codeUnits: 2, codePoints: 2 }],
    ['astral emoji', '👋', { bytes: 4, codeUnits: 2, codePoints: 1 }],
    ['ZWJ family', '👨‍👩‍👧‍👦', { bytes: 25, codeUnits: 11, codePoints: 7 }],
    ['combining mark', 'e\u0301', { bytes: 3, codeUnits: 2, codePoints: 2 }],
    ['lone surrogate', '\ud800', { bytes: 3, codeUnits: 1, codePoints: 1 }],
    ['surrogates in the wrong order', '\udc00\ud800', { bytes: 6, codeUnits: 2, codePoints: 2 }],
    ['a lone high surrogate before a pair', '\ud800\ud83d\udc4b', { bytes: 7, codeUnits: 3, codePoints: 2 }],
    ['a lone high surrogate at the end', 'a\ud800', { bytes: 4, codeUnits: 2, codePoints: 2 }],
  ])('measures %s text', (_label, text, measures) => {
    expect(measureText(text)).toEqual(measures);
  });

  it('counts code points as the string iterator does, across scripts', () => {
    const text = buildMixedScriptText(64 * 1024);

    expect(measureText(text).codePoints).toBe([...text].length);
  });
});

describe('measureText, against Node', () => {
  /** Texts of every kind: any code unit (lone surrogates too), any code point, and the boundaries of each UTF-8 length. */
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 40 }),
    fc.string({
      unit: fc.constantFrom(
        '\u007f',
        '\u0080',
        '\u07ff',
        '\u0800',
        '\ud7ff',
        '\ud800',
        '\udbff',
        '\udc00',
        '\udfff',
        '\ue000',
        '\uffff',
        '😀',
      ),
      maxLength: 40,
    }),
  );

  it('counts bytes as Buffer.byteLength, code points as the string iterator, code units as length', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(measureText(text)).toEqual({ bytes: Buffer.byteLength(text, 'utf8'), codeUnits: text.length, codePoints: [...text].length });
      }),
      { numRuns: 5000 },
    );
  });

  it('measures a mixed-script mebibyte as Node does', () => {
    const text = buildMixedScriptText(1024 * 1024);

    expect(measureText(text)).toEqual({ bytes: Buffer.byteLength(text), codeUnits: text.length, codePoints: [...text].length });
  });
});
