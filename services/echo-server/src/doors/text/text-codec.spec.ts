import fc from 'fast-check';
import iconv from 'iconv-lite';
import { LineSplitter } from './line-splitter';
import {
  decodeText,
  detectEncoding,
  encodeText,
  encodeTextShared,
  incompleteTailBytes,
  parseEncodingName,
  type TextEncodingName,
} from './text-codec';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');
const gbk = (text: string): Buffer => iconv.encode(text, 'gb18030');
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

/** Private-use characters that no GB18030 code decodes to in the WHATWG (GB18030-2022) decoder. */
const GB18030_UNREACHABLE = new Set([0xe5e5, ...range(0xe78d, 0xe796), 0xe81e, 0xe826, 0xe82b, 0xe82c, 0xe832, 0xe843, 0xe854, 0xe864]);

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, index) => from + index);
}

/** Mixed text: ASCII (digits included, which are GB18030 4-byte code bytes), Latin, CJK, €, emoji. */
const mixedText = fc.string({
  unit: fc.oneof(
    fc.constantFrom(
      'a',
      '0',
      '9',
      '@',
      ' ',
      '\r',
      'ä',
      'é',
      '€',
      '你',
      '好',
      '盲',
      '浣',
      '😀',
      '𠀀',
      '\u0080',
      '\uFE10',
      '\u9FB4',
      '\uFFFD',
    ),
    fc.integer({ min: 0x4e00, max: 0x9fa5 }).map((codePoint) => String.fromCodePoint(codePoint)),
    fc.integer({ min: 0x20, max: 0x7e }).map((codePoint) => String.fromCodePoint(codePoint)),
  ),
  maxLength: 12,
});

/** Byte offsets where a character of `text` starts or ends in `encoding`. */
function boundaries(text: string, encoding: TextEncodingName): Set<number> {
  const offsets = new Set([0]);
  let offset = 0;
  for (const character of text) {
    offset += encodeText(character, encoding).length;
    offsets.add(offset);
  }
  return offsets;
}

describe('text codec', () => {
  describe('detectEncoding', () => {
    it('says ascii when no byte is 0x80 or above', () => {
      expect(detectEncoding(Buffer.alloc(0))).toBe('ascii');
      expect(detectEncoding(utf8('hello\r\x00\x7f'))).toBe('ascii');
    });

    it('tells UTF-8 from GBK by which one the bytes are valid in', () => {
      expect(detectEncoding(utf8('你好'))).toBe('utf-8');
      expect(detectEncoding(hex('c4 e3 ba c3'))).toBe('gbk');
      expect(detectEncoding(gbk('hi 你好 😀 €'))).toBe('gbk');
      expect(detectEncoding(hex('ff'))).toBe('invalid');
      expect(detectEncoding(hex('61 e4'))).toBe('invalid');
    });

    it('prefers UTF-8 when the bytes are valid in both', () => {
      expect(gbk('盲')).toEqual(hex('c3 a4'));
      expect(detectEncoding(hex('c3 a4'))).toBe('utf-8');
    });
  });

  describe('decodeText', () => {
    it('decodes valid bytes and refuses invalid ones', () => {
      expect(decodeText(utf8('你好 😀'), 'utf-8')).toBe('你好 😀');
      expect(decodeText(hex('c4 e3 ba c3 94 39 fc 36 a2 e3 80'), 'gbk')).toBe('你好😀€€');
      expect(decodeText(hex('c4 e3'), 'utf-8')).toBeUndefined();
      expect(decodeText(hex('e4 bd'), 'utf-8')).toBeUndefined();
      expect(decodeText(hex('c4'), 'gbk')).toBeUndefined();
      expect(decodeText(hex('ff'), 'gbk')).toBeUndefined();
      expect(decodeText(Buffer.alloc(0), 'gbk')).toBe('');
    });

    it('keeps a byte order mark as text', () => {
      expect(decodeText(hex('ef bb bf 61'), 'utf-8')).toBe('\uFEFFa');
      expect(decodeText(gbk('\uFEFFa'), 'gbk')).toBe('\uFEFFa');
    });
  });

  describe('encodeText', () => {
    it('writes UTF-8, and GB18030 for gbk', () => {
      expect(encodeText('你好😀', 'utf-8')).toEqual(hex('e4 bd a0 e5 a5 bd f0 9f 98 80'));
      expect(encodeText('你好', 'gbk')).toEqual(hex('c4 e3 ba c3'));
      expect(encodeText('a😀€', 'gbk')).toEqual(hex('61 94 39 fc 36 a2 e3'));
      expect(encodeText('', 'gbk')).toEqual(Buffer.alloc(0));
    });

    it('writes a lone surrogate as U+FFFD in both encodings', () => {
      expect(decodeText(encodeText('a\uD800b', 'utf-8'), 'utf-8')).toBe('a\uFFFDb');
      expect(decodeText(encodeText('a\uDFFFb', 'gbk'), 'gbk')).toBe('a\uFFFDb');
    });

    it('writes UTF-8 as the well-formed text would be: lone surrogates anywhere, pairs kept', () => {
      for (const text of ['\uD800', '\uDC00x', 'x\uD83D', '\uD83D\uDE00', '\uDE00\uD83D', 'a\uD800\uD800b\uDFFF']) {
        expect(encodeText(text, 'utf-8')).toEqual(Buffer.from(text.toWellFormed(), 'utf8'));
        expect(encodeText(text, 'utf-8').toString('hex')).not.toMatch(/^(..)*ed[a-f]/); // no encoded surrogate (ED A0–ED BF)
      }
    });

    it('gives back, byte for byte, the 2-byte GB18030 codes that GB18030-2022 reassigned', () => {
      const codes = [...range(0xa6d9, 0xa6df), 0xa6ec, 0xa6ed, 0xa6f3, 0xfe59, 0xfe61, 0xfe66, 0xfe67, 0xfe6d, 0xfe7e, 0xfe90, 0xfea0];
      for (const code of codes) {
        const bytes = Buffer.from([code >> 8, code & 0xff]);
        const text = decodeText(bytes, 'gbk');

        expect(text).toHaveLength(1);
        expect(encodeText(`a${text}b${text}`, 'gbk')).toEqual(Buffer.concat([hex('61'), bytes, hex('62'), bytes]));
      }
    });

    it('round-trips every character through gbk, except the private-use ones GB18030-2022 no longer decodes to', () => {
      const codePoints = [...range(0, 0xd7ff), ...range(0xe000, 0x10ffff)].filter((codePoint) => !GB18030_UNREACHABLE.has(codePoint));
      const failing: string[] = [];
      for (let from = 0; from < codePoints.length; from += 0x4000) {
        const block = codePoints.slice(from, from + 0x4000);
        if (decodeText(encodeText(String.fromCodePoint(...block), 'gbk'), 'gbk') !== String.fromCodePoint(...block)) {
          const single = (codePoint: number) => String.fromCodePoint(codePoint);
          failing.push(
            ...block
              .filter((codePoint) => decodeText(encodeText(single(codePoint), 'gbk'), 'gbk') !== single(codePoint))
              .map((codePoint) => codePoint.toString(16)),
          );
        }
      }

      expect(failing).toEqual([]);
    });

    it('round-trips any well-formed text through both encodings', () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ unit: 'binary' }), mixedText),
          fc.constantFrom<TextEncodingName>('utf-8', 'gbk'),
          (raw, encoding) => {
            const text = [...raw].filter((character) => !GB18030_UNREACHABLE.has(character.codePointAt(0) ?? 0)).join('');

            expect(decodeText(encodeText(text, encoding), encoding)).toBe(text);
          },
        ),
        { numRuns: 500 },
      );
    });
  });

  describe('incompleteTailBytes', () => {
    it('counts the bytes of a UTF-8 character that lacks continuation bytes', () => {
      const emoji = utf8('😀');
      expect(incompleteTailBytes(Buffer.alloc(0), 'utf-8')).toBe(0);
      expect(incompleteTailBytes(utf8('a你'), 'utf-8')).toBe(0);
      expect(incompleteTailBytes(utf8('a你').subarray(0, 2), 'utf-8')).toBe(1);
      expect(incompleteTailBytes(utf8('a你').subarray(0, 3), 'utf-8')).toBe(2);
      expect(incompleteTailBytes(emoji.subarray(0, 3), 'utf-8')).toBe(3);
      expect(incompleteTailBytes(emoji, 'utf-8')).toBe(0);
      expect(incompleteTailBytes(hex('61 80 80 80'), 'utf-8')).toBe(0);
      expect(incompleteTailBytes(hex('c3'), 'utf-8')).toBe(1);
    });

    it('counts the bytes of a GB18030 character cut after its 1st, 2nd or 3rd byte', () => {
      expect(incompleteTailBytes(hex('c4'), 'gbk')).toBe(1);
      expect(incompleteTailBytes(hex('c4 e3'), 'gbk')).toBe(0);
      expect(incompleteTailBytes(hex('c4 e3 ba'), 'gbk')).toBe(1);
      expect(incompleteTailBytes(hex('61 94'), 'gbk')).toBe(1);
      expect(incompleteTailBytes(hex('61 94 39'), 'gbk')).toBe(2);
      expect(incompleteTailBytes(hex('61 94 39 fc'), 'gbk')).toBe(3);
      expect(incompleteTailBytes(hex('61 94 39 fc 36'), 'gbk')).toBe(0);
      // The last byte is a lead byte value, but it is the 2nd byte of a pair.
      expect(incompleteTailBytes(hex('ba c3'), 'gbk')).toBe(0);
      expect(incompleteTailBytes(hex('c4 e3 ba c3 ba c3'), 'gbk')).toBe(0);
      // 0x40-0x7E and digits are 2nd bytes too: no resynchronising on them.
      expect(incompleteTailBytes(hex('81 40 c4'), 'gbk')).toBe(1);
      expect(incompleteTailBytes(hex('81 40 81'), 'gbk')).toBe(1);
      expect(incompleteTailBytes(hex('81 30 81 30 81'), 'gbk')).toBe(1);
      expect(incompleteTailBytes(hex('81 30 81 30 81 30'), 'gbk')).toBe(2);
      expect(incompleteTailBytes(hex('80 c4'), 'gbk')).toBe(1);
    });

    it('while undecided, holds what UTF-8 holds if the rest is UTF-8, else what GB18030 holds', () => {
      // UTF-8 "你" ends in a lone GB18030 lead byte (A0 after the pair E4 BD); GBK "你好" ends in a UTF-8 lead byte (C3).
      expect(incompleteTailBytes(utf8('你'), 'auto')).toBe(0);
      expect(incompleteTailBytes(utf8('你'), 'gbk')).toBe(1);
      expect(incompleteTailBytes(gbk('你好'), 'auto')).toBe(0);
      expect(incompleteTailBytes(gbk('你好'), 'utf-8')).toBe(1);
      expect(incompleteTailBytes(gbk('你'), 'auto')).toBe(0);
      expect(incompleteTailBytes(utf8('你好').subarray(0, 4), 'auto')).toBe(1);
      expect(incompleteTailBytes(utf8('你好').subarray(0, 5), 'auto')).toBe(2);
      expect(incompleteTailBytes(gbk('你好').subarray(0, 3), 'auto')).toBe(1);
      expect(incompleteTailBytes(utf8('ab'), 'auto')).toBe(0);
    });

    it('holds exactly the bytes of a character cut in two, at every cut of any text, in both encodings', () => {
      fc.assert(
        fc.property(mixedText, fc.constantFrom<TextEncodingName>('utf-8', 'gbk'), (text, encoding) => {
          const bytes = encodeText(text, encoding);
          const starts = boundaries(text, encoding);
          for (let end = 0; end <= bytes.length; end++) {
            const head = bytes.subarray(0, end);
            let lastStart = end;
            while (!starts.has(lastStart)) {
              lastStart--;
            }
            const hold = incompleteTailBytes(head, encoding);

            expect(hold).toBe(end - lastStart);
            expect(
              (decodeText(bytes.subarray(0, end - hold), encoding) ?? '') + (decodeText(bytes.subarray(end - hold), encoding) ?? ''),
            ).toBe(text);
            if (encoding === 'utf-8') {
              expect(incompleteTailBytes(head, 'auto')).toBe(hold);
            }
          }
        }),
        { numRuns: 300 },
      );
    });

    it('lets a LineSplitter flush a line read in any pieces without breaking a character', () => {
      fc.assert(
        fc.property(
          mixedText,
          fc.constantFrom<TextEncodingName>('utf-8', 'gbk'),
          fc.array(fc.nat(), { maxLength: 8 }),
          (text, encoding, cuts) => {
            const bytes = encodeText(text.replace(/\r/g, ''), encoding);
            const points = [...new Set(cuts.map((point) => point % (bytes.length + 1)))].sort((a, b) => a - b);
            const splitter = new LineSplitter({ maxLineBytes: 1024 });
            const pieces: string[] = [];
            let start = 0;
            for (const point of [...points, bytes.length]) {
              splitter.push(bytes.subarray(start, point));
              start = point;
              const flushed = splitter.flushPartial((held) => incompleteTailBytes(held, encoding));
              if (flushed !== undefined) {
                const piece = decodeText(flushed, encoding);
                expect(piece).toBeDefined();
                pieces.push(piece ?? '');
              }
            }

            expect(pieces.join('')).toBe(text.replace(/\r/g, ''));
            expect(splitter.pendingBytes).toBe(0);
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('parseEncodingName', () => {
    it('accepts the usual names in any case, every GB name meaning gbk', () => {
      for (const name of ['utf-8', 'utf8', 'UTF-8', 'Utf8', ' utf-8 ']) {
        expect(parseEncodingName(name)).toBe('utf-8');
      }
      for (const name of ['gbk', 'GBK', 'gb2312', 'GB2312', 'gb18030', 'GB18030', 'cp936', 'CP936']) {
        expect(parseEncodingName(name)).toBe('gbk');
      }
    });

    it('refuses other names', () => {
      for (const name of ['', 'auto', 'latin1', 'utf-16', 'big5', 'gb', 'utf_8']) {
        expect(parseEncodingName(name)).toBeUndefined();
      }
    });
  });
});

describe('encodeTextShared', () => {
  it('returns the same buffer for the same text and encoding in a row, and the right bytes', () => {
    const first = encodeTextShared('<alice> 你好\n', 'gbk');
    expect(encodeTextShared('<alice> 你好\n', 'gbk')).toBe(first);
    expect(first).toEqual(encodeText('<alice> 你好\n', 'gbk'));
    const utf8 = encodeTextShared('<alice> 你好\n', 'utf-8');
    expect(utf8).toEqual(Buffer.from('<alice> 你好\n', 'utf8'));
    expect(encodeTextShared('<alice> 你好\n', 'gbk')).toBe(first);
    expect(encodeTextShared('<bob> hi\n', 'utf-8')).not.toBe(utf8);
  });
});
