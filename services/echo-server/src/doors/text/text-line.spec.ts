import { ErrorCodes } from '@echo-pair/common';
import iconv from 'iconv-lite';
import type { EncodingSetting } from './text-codec';
import { bytesToHold, continuesCharacter, decodeLine, errorLine } from './text-line';

const hex = (text: string): Buffer => Buffer.from(text.replace(/ /g, ''), 'hex');
const gbk = (text: string): Buffer => iconv.encode(text, 'gb18030');
const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');

describe('decodeLine', () => {
  describe("'auto'", () => {
    it('reads ASCII without deciding the encoding', () => {
      const decoded = decodeLine(utf8('hello, world'), 'auto');

      expect(decoded).toEqual({ ok: true, text: 'hello, world' });
      expect(decoded).not.toHaveProperty('detected');
    });

    it('reads the empty line', () => {
      expect(decodeLine(Buffer.alloc(0), 'auto')).toEqual({ ok: true, text: '' });
    });

    it('detects UTF-8', () => {
      expect(decodeLine(utf8('héllo 你好 😀'), 'auto')).toEqual({ ok: true, text: 'héllo 你好 😀', detected: 'utf-8' });
    });

    it('detects GBK', () => {
      // C4 E3 BA C3: C4 needs a continuation byte in UTF-8, so this is GBK only.
      expect(gbk('你好')).toEqual(hex('c4e3 bac3'));

      expect(decodeLine(gbk('你好, world'), 'auto')).toEqual({ ok: true, text: '你好, world', detected: 'gbk' });
    });

    it('prefers UTF-8 for bytes valid in both', () => {
      // C3 A4: UTF-8 "ä", GBK "盲".
      expect(decodeLine(hex('c3a4'), 'auto')).toEqual({ ok: true, text: 'ä', detected: 'utf-8' });
    });

    it.each([
      ['a lone FF', 'ff'],
      ['FF after ASCII', '61 62 ff'],
      ['a truncated character at the end', '61 e4'],
      ['a UTF-8 lead byte followed by ASCII', 'e4 41 42 ff'],
    ])('refuses %s as INVALID_TEXT', (_label, bytes) => {
      expect(decodeLine(hex(bytes), 'auto')).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.INVALID_TEXT,
          message: 'the line is neither valid UTF-8 nor valid GBK (GB18030)',
          details: { encoding: 'auto' },
        },
      });
    });
  });

  describe('a fixed encoding', () => {
    it('reads UTF-8 as UTF-8, reporting no detection', () => {
      const decoded = decodeLine(utf8('你好'), 'utf-8');

      expect(decoded).toEqual({ ok: true, text: '你好' });
      expect(decoded).not.toHaveProperty('detected');
    });

    it('reads GBK as GBK, reporting no detection', () => {
      const decoded = decodeLine(gbk('你好'), 'gbk');

      expect(decoded).toEqual({ ok: true, text: '你好' });
      expect(decoded).not.toHaveProperty('detected');
    });

    it('reads bytes valid in both as the fixed encoding, not as the likelier one', () => {
      expect(decodeLine(hex('c3a4'), 'gbk')).toEqual({ ok: true, text: '盲' });
      expect(decodeLine(hex('c3a4'), 'utf-8')).toEqual({ ok: true, text: 'ä' });
    });

    it('refuses GBK on a UTF-8 connection, suggesting /encoding gbk', () => {
      const decoded = decodeLine(gbk('你好'), 'utf-8');

      expect(decoded).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.INVALID_TEXT,
          message: "the line is not valid UTF-8, this connection's encoding; send /encoding gbk to switch",
          details: { encoding: 'utf-8' },
        },
      });
    });

    it('refuses invalid GBK on a GBK connection, suggesting /encoding utf-8', () => {
      // UTF-8 "你" is E4 BD A0: E4 BD is a GBK character, A0 a lead byte without its second byte.
      const decoded = decodeLine(utf8('你'), 'gbk');

      expect(decoded).toEqual({
        ok: false,
        error: {
          code: ErrorCodes.INVALID_TEXT,
          message: "the line is not valid GBK, this connection's encoding; send /encoding utf-8 to switch",
          details: { encoding: 'gbk' },
        },
      });
    });
  });

  describe('control characters', () => {
    it.each([
      ['NUL', 'a\u0000b'],
      ['ESC (a screen-clearing sequence)', '\u001b[2J'],
      ['BEL', 'ding\u0007'],
      ['backspace', 'abc\u0008\u0008'],
      ['LF', 'a\nb'],
      ['CR', 'a\rb'],
      ['US (0x1F)', '\u001f'],
      ['DEL', 'x\u007f'],
    ])('refuses %s', (_label, text) => {
      for (const encoding of ['auto', 'utf-8', 'gbk'] as const) {
        const decoded = decodeLine(utf8(text), encoding);

        expect(decoded).toEqual({
          ok: false,
          error: {
            code: ErrorCodes.INVALID_TEXT,
            message: 'control characters (NUL, ESC and the like) are not accepted',
            details: { encoding: expect.any(String) as unknown },
          },
        });
      }
    });

    it('names the encoding the line was read in', () => {
      const refusal = (bytes: Buffer, encoding: EncodingSetting) => {
        const decoded = decodeLine(bytes, encoding);
        return decoded.ok ? undefined : decoded.error.details;
      };

      expect(refusal(gbk('你好\u001b'), 'auto')).toEqual({ encoding: 'gbk' });
      expect(refusal(utf8('你好\u001b'), 'auto')).toEqual({ encoding: 'utf-8' });
      expect(refusal(gbk('你好\u001b'), 'gbk')).toEqual({ encoding: 'gbk' });
    });

    it.each([
      ['CSI (U+009B, ESC [ on some terminals)', '\u009b2J'],
      ['NEL (U+0085)', 'a\u0085b'],
    ])('refuses the C1 control %s in UTF-8 text', (_label, text) => {
      for (const encoding of ['auto', 'utf-8'] as const) {
        expect(decodeLine(utf8(text), encoding)).toMatchObject({ ok: false, error: { code: ErrorCodes.INVALID_TEXT } });
      }
    });

    it('refuses a control character in GBK text as well', () => {
      expect(decodeLine(gbk('你\u0000好'), 'gbk').ok).toBe(false);
    });

    it('accepts tab, space and printable characters around them', () => {
      expect(decodeLine(utf8('a\tb ~'), 'auto')).toEqual({ ok: true, text: 'a\tb ~' });
      expect(decodeLine(gbk('你\t好'), 'gbk')).toEqual({ ok: true, text: '你\t好' });
    });

    it('draws the line at the ends of the ranges: U+009F refused; U+0020, U+00A0 and a BOM kept as text', () => {
      expect(decodeLine(utf8('a\u009f'), 'utf-8').ok).toBe(false);
      expect(decodeLine(utf8(' \u00a0x'), 'auto')).toEqual({ ok: true, text: ' \u00a0x', detected: 'utf-8' });
      expect(decodeLine(utf8('\ufeffhi'), 'utf-8')).toEqual({ ok: true, text: '\ufeffhi' });
      expect(decodeLine(gbk('\ufeff你'), 'gbk')).toEqual({ ok: true, text: '\ufeff你' });
    });
  });
});

describe('errorLine', () => {
  it('writes ERR, the code and the message', () => {
    expect(errorLine({ code: ErrorCodes.UNKNOWN_COMMAND, message: 'unknown command "x"' })).toBe('ERR UNKNOWN_COMMAND unknown command "x"');
  });

  it('folds line breaks and the blanks around them into one space', () => {
    const written = errorLine({ code: ErrorCodes.VALIDATION_FAILED, message: 'first  \r\n  second\nthird\r\rfourth\n\n\nfifth' });

    expect(written).toBe('ERR VALIDATION_FAILED first second third fourth fifth');
    expect(written).not.toMatch(/[\r\n]/);
  });

  it('keeps blanks that are not around a line break', () => {
    expect(errorLine({ code: ErrorCodes.INTERNAL_ERROR, message: 'a  b\tc' })).toBe('ERR INTERNAL_ERROR a  b\tc');
  });
});

describe('bytesToHold', () => {
  it.each<[string, Buffer, EncodingSetting, number]>([
    ['ASCII', utf8('abc'), 'auto', 0],
    ['nothing', Buffer.alloc(0), 'auto', 0],
    ['a whole UTF-8 character', utf8('a你'), 'utf-8', 0],
    ['1 of 3 UTF-8 bytes', Buffer.concat([utf8('ab'), hex('e4')]), 'utf-8', 1],
    ['2 of 3 UTF-8 bytes', Buffer.concat([utf8('ab'), hex('e4bd')]), 'utf-8', 2],
    ['3 of 4 UTF-8 bytes', Buffer.concat([utf8('ab'), hex('f09f98')]), 'utf-8', 3],
    ['a whole GBK character', gbk('a你'), 'gbk', 0],
    ['a GBK lead byte', Buffer.concat([gbk('你'), hex('ba')]), 'gbk', 1],
    ['2 of 4 GB18030 bytes', Buffer.concat([utf8('a'), hex('8130')]), 'gbk', 2],
    ['3 of 4 GB18030 bytes', Buffer.concat([utf8('a'), hex('813081')]), 'gbk', 3],
    ['auto: 2 of 3 UTF-8 bytes', Buffer.concat([utf8('héllo'), hex('e4bd')]), 'auto', 2],
    // UTF-8 would say 2 (E3 BA), but C4 before it is no UTF-8: GBK's answer, the lone BA.
    ['auto: a GBK lead byte after GBK', Buffer.concat([gbk('你'), hex('ba')]), 'auto', 1],
  ])('holds the tail of %s', (_label, bytes, encoding, held) => {
    expect(bytesToHold(bytes, encoding)).toBe(held);
  });

  it.each<[string, Buffer, EncodingSetting]>([
    ['UTF-8 after an invalid byte', hex('61 ff e4bd'), 'utf-8'],
    ['UTF-8 after GBK text on a UTF-8 connection', Buffer.concat([gbk('你'), hex('e4bd')]), 'utf-8'],
    ['GB18030 after an invalid byte', hex('61 ff 81'), 'gbk'],
    ['auto: after an invalid byte', hex('61 ff e4bd'), 'auto'],
    // Both encodings see C4 as a lead byte waiting for its second byte, but FF is neither.
    ['auto: a lead byte after an invalid byte', hex('61 ff c4'), 'auto'],
  ])('holds nothing when the head is not valid text: %s', (_label, bytes, encoding) => {
    expect(bytesToHold(bytes, encoding)).toBe(0);
  });
});

describe('continuesCharacter', () => {
  describe("'utf-8'", () => {
    it.each([
      ['the 2nd byte', 'e4', 'bd a0 61'],
      ['the 3rd byte', 'e4bd', 'a0'],
      ['the rest of an emoji', 'f09f', '98 80'],
      ['a 2-byte character', 'c3', 'a4'],
    ])('accepts %s', (_label, held, next) => {
      expect(continuesCharacter(hex(held), hex(next), 'utf-8')).toBe(true);
    });

    it.each([
      ['ASCII', 'e4', '41'],
      ['a new lead byte', 'e4', 'e4 bd a0'],
      ['a line end', 'e4bd', '0a'],
      ['a continuation byte out of range for that lead', 'f0', '80 80 80'],
      ['a GBK trail byte', 'c4', 'e3'],
    ])('refuses %s', (_label, held, next) => {
      expect(continuesCharacter(hex(held), hex(next), 'utf-8')).toBe(false);
    });
  });

  describe("'gbk'", () => {
    it.each([
      ['a 2nd byte 40–7E', 'c4', '41'],
      ['a 2nd byte 80–FE', 'c4', 'e3'],
      ['a 4-byte code', '81', '30 81 30'],
      ['the 3rd byte of a 4-byte code', '8130', '81 30'],
      ['the 4th byte of a 4-byte code', '813081', '30'],
    ])('accepts %s', (_label, held, next) => {
      expect(continuesCharacter(hex(held), hex(next), 'gbk')).toBe(true);
    });

    it.each([
      ['a space', 'c4', '20'],
      ['a line end', 'c4', '0a'],
      ['FF', 'c4', 'ff'],
      ['ASCII after a 4-byte start', '8130', '41'],
    ])('refuses %s', (_label, held, next) => {
      expect(continuesCharacter(hex(held), hex(next), 'gbk')).toBe(false);
    });
  });

  describe("'auto'", () => {
    it('accepts what continues a UTF-8 character', () => {
      expect(continuesCharacter(hex('e4'), hex('bd a0'), 'auto')).toBe(true);
      expect(continuesCharacter(hex('e4bd'), hex('a0'), 'auto')).toBe(true);
    });

    it('accepts what continues only a GBK character', () => {
      expect(continuesCharacter(hex('c4'), hex('e3'), 'utf-8')).toBe(false);
      expect(continuesCharacter(hex('c4'), hex('e3'), 'auto')).toBe(true);
      expect(continuesCharacter(hex('8130'), hex('81'), 'auto')).toBe(true);
    });

    it('refuses what continues neither', () => {
      expect(continuesCharacter(hex('e4'), hex('0a'), 'auto')).toBe(false);
      expect(continuesCharacter(hex('c4'), hex('20'), 'auto')).toBe(false);
      expect(continuesCharacter(hex('e4bd'), hex('ff'), 'auto')).toBe(false);
      expect(continuesCharacter(hex('8130'), hex('41'), 'auto')).toBe(false);
    });
  });
});
