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
