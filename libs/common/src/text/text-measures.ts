import type { EchoResponse } from '../contract/echo.types';

export type TextMeasures = Pick<EchoResponse, 'bytes' | 'codeUnits' | 'codePoints'>;

/** The sizes of a text as the `echo` reply reports them. */
export function measureText(text: string): TextMeasures {
  let codePoints = 0;
  for (const _codePoint of text) {
    codePoints += 1;
  }
  return { bytes: Buffer.byteLength(text, 'utf8'), codeUnits: text.length, codePoints };
}
