import type { EchoResponse } from '../echo.types';

export type TextMeasures = Pick<EchoResponse, 'bytes' | 'codeUnits' | 'codePoints'>;

/**
 * The sizes of a text as the `echo` reply reports them, in one pass over its char codes
 * (no string iterator, no encoder): UTF-8 bytes as `Buffer.byteLength(text, 'utf8')` counts
 * them (a lone surrogate is written as U+FFFD, 3 bytes), and code points as `for...of` counts
 * them (code units less the surrogate pairs; a lone surrogate counts as one).
 */
export function measureText(text: string): TextMeasures {
  const codeUnits = text.length;
  let bytes = codeUnits;
  let pairs = 0;
  for (let i = 0; i < codeUnits; i += 1) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      continue;
    }
    if (unit < 0x800) {
      bytes += 1;
      continue;
    }
    if (unit <= 0xdbff && unit >= 0xd800 && i + 1 < codeUnits) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 2; // 4 bytes for the 2 units of a pair
        pairs += 1;
        i += 1;
        continue;
      }
    }
    bytes += 2; // 3 bytes: the rest of the BMP, and a lone surrogate (U+FFFD)
  }
  return { bytes, codeUnits, codePoints: codeUnits - pairs };
}
