import type { EchoResponse } from '../contract/echo.types';

export type TextMeasures = Pick<EchoResponse, 'bytes' | 'codeUnits' | 'codePoints'>;

/**
 * The sizes of a text as the `echo` reply reports them. Code points are code
 * units less the surrogate pairs (a lone surrogate counts as one, as in `for...of`):
 * a pass over char codes, without the string iterator's object per character.
 */
export function measureText(text: string): TextMeasures {
  const codeUnits = text.length;
  let pairs = 0;
  for (let i = 0; i < codeUnits - 1; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        pairs += 1;
        i += 1;
      }
    }
  }
  return { bytes: Buffer.byteLength(text, 'utf8'), codeUnits, codePoints: codeUnits - pairs };
}
