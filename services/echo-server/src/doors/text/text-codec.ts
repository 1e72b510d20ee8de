import iconv from 'iconv-lite';
import { isAscii, isUtf8 } from 'node:buffer';

import type { EncodingSetting, TextEncodingName } from '../../config/echo-server-environment';

export type { EncodingSetting, TextEncodingName };

// Fatal decoders throw on malformed input; without `stream` each call is independent, so they can be shared.
// `ignoreBOM` keeps a U+FEFF as text: decoding is then the exact inverse of encoding.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const gb18030Decoder = new TextDecoder('gb18030', { fatal: true, ignoreBOM: true });

/**
 * Where iconv-lite (GB18030-2005) and the WHATWG decoder used here (GB18030-2022) disagree on a
 * character that has a 2-byte code: encode it as that decoder reads it, so text comes back as it
 * arrived, byte for byte. (18 private-use characters, U+E5E5 and U+E78D–U+E864, have no code the
 * decoder reads back; iconv-lite's bytes for them decode as other characters.)
 */
const GB18030_2022_TWO_BYTE = new Map<string, Buffer>(
  (
    [
      [0xfe10, 0xa6d9],
      [0xfe11, 0xa6db],
      [0xfe12, 0xa6da],
      [0xfe13, 0xa6dc],
      [0xfe14, 0xa6dd],
      [0xfe15, 0xa6de],
      [0xfe16, 0xa6df],
      [0xfe17, 0xa6ec],
      [0xfe18, 0xa6ed],
      [0xfe19, 0xa6f3],
      [0x9fb4, 0xfe59],
      [0x9fb5, 0xfe61],
      [0x9fb6, 0xfe66],
      [0x9fb7, 0xfe67],
      [0x9fb8, 0xfe6d],
      [0x9fb9, 0xfe7e],
      [0x9fba, 0xfe90],
      [0x9fbb, 0xfea0],
    ] as const
  ).map(([codePoint, code]) => [String.fromCharCode(codePoint), Buffer.from([code >> 8, code & 0xff])]),
);
const GB18030_2022_SPLIT = /([\u9fb4-\u9fbb\ufe10-\ufe19])/;

/**
 * What the first non-ASCII bytes of a connection say. A few short GBK byte strings are valid
 * UTF-8 too (C3 A4 is GBK "盲" and UTF-8 "ä"); UTF-8 wins then, as it is the likelier one.
 */
export function detectEncoding(bytes: Buffer): 'ascii' | 'utf-8' | 'gbk' | 'invalid' {
  if (isAscii(bytes)) {
    return 'ascii';
  }
  if (isUtf8(bytes)) {
    return 'utf-8'; // checked, not decoded: as strict as the fatal decoder
  }
  return decodeText(bytes, 'gbk') === undefined ? 'invalid' : 'gbk';
}

/** The text, or undefined when the bytes are not valid in that encoding ('gbk' reads GB18030, its superset). */
export function decodeText(bytes: Buffer, encoding: TextEncodingName): string | undefined {
  try {
    return (encoding === 'gbk' ? gb18030Decoder : utf8Decoder).decode(bytes);
  } catch {
    return undefined;
  }
}

/** 'gbk' writes GB18030, which has a code for every character. Lone surrogates become U+FFFD in both. */
export function encodeText(text: string, encoding: TextEncodingName): Buffer {
  if (encoding === 'utf-8') {
    return Buffer.from(text, 'utf8'); // Buffer writes a lone surrogate as U+FFFD itself: no well-formed copy first
  }
  const wellFormed = text.toWellFormed();
  if (!GB18030_2022_SPLIT.test(wellFormed)) {
    return iconv.encode(wellFormed, 'gb18030');
  }
  // split() with a capturing group puts the matched characters at the odd indexes.
  const parts = wellFormed.split(GB18030_2022_SPLIT);
  return Buffer.concat(parts.map((part, index) => (index % 2 === 1 && GB18030_2022_TWO_BYTE.get(part)) || iconv.encode(part, 'gb18030')));
}

/**
 * How many trailing bytes of `bytes` are an incomplete character in `encoding`, for
 * `LineSplitter.flushPartial`. `bytes` must start at a character boundary (a line start).
 *
 * 'auto' (still undecided): the UTF-8 answer when the bytes before that tail are valid UTF-8, as
 * `detectEncoding` prefers UTF-8; otherwise the GB18030 answer. (Taking the larger of the two
 * answers would break both: UTF-8 "你" E4 BD A0 ends in a lone GB18030 lead byte, GBK "你好"
 * C4 E3 BA C3 ends in a UTF-8 lead byte.)
 */
export function incompleteTailBytes(bytes: Buffer, encoding: EncodingSetting): number {
  if (encoding === 'utf-8') {
    return utf8IncompleteTail(bytes);
  }
  if (encoding === 'gbk') {
    return gb18030IncompleteTail(bytes);
  }
  const utf8Tail = utf8IncompleteTail(bytes);
  const gbTail = gb18030IncompleteTail(bytes);
  if (utf8Tail === gbTail || decodeText(bytes.subarray(0, bytes.length - utf8Tail), 'utf-8') !== undefined) {
    return utf8Tail;
  }
  return gbTail;
}

/** Accepts utf-8, utf8, gbk, gb2312, gb18030 and cp936 in any case; every GB name means 'gbk' (GB18030 on the wire). */
export function parseEncodingName(name: string): TextEncodingName | undefined {
  switch (name.trim().toLowerCase()) {
    case 'utf-8':
    case 'utf8':
      return 'utf-8';
    case 'gbk':
    case 'gb2312':
    case 'gb18030':
    case 'cp936':
      return 'gbk';
    default:
      return undefined;
  }
}

/** A lead byte at the end that lacks some of its continuation bytes: how many bytes of it there are (0–3). */
function utf8IncompleteTail(bytes: Buffer): number {
  for (let seen = 1; seen <= Math.min(3, bytes.length); seen++) {
    const byte = bytes[bytes.length - seen];
    if (byte >= 0x80 && byte <= 0xbf) {
      continue; // a continuation byte: the lead is further back
    }
    const needed = byte >= 0xc2 && byte <= 0xdf ? 2 : byte >= 0xe0 && byte <= 0xef ? 3 : byte >= 0xf0 && byte <= 0xf4 ? 4 : 0;
    return seen < needed ? seen : 0;
  }
  return 0;
}

/**
 * GB18030: one byte 00–80 or FF (80 is €, FF invalid), two bytes [81–FE][40–7E 80–FE], or four
 * bytes [81–FE][30–39][81–FE][30–39]. Parses from the last byte that can only stand alone
 * (00–2F, 3A–3F: never the 2nd, 3rd or 4th byte of anything) or from the start.
 */
function gb18030IncompleteTail(bytes: Buffer): number {
  let index = bytes.length;
  while (index > 0 && !isGbStandalone(bytes[index - 1])) {
    index--;
  }
  while (index < bytes.length) {
    const lead = bytes[index];
    if (lead < 0x81 || lead > 0xfe) {
      index += 1;
      continue;
    }
    const left = bytes.length - index;
    if (left === 1) {
      return 1;
    }
    const second = bytes[index + 1];
    if (isDigit(second)) {
      if (left === 2) {
        return 2;
      }
      if (!isGbLead(bytes[index + 2])) {
        index += 1; // malformed: the decoder will refuse it, nothing to wait for
      } else if (left === 3) {
        return 3;
      } else {
        index += isDigit(bytes[index + 3]) ? 4 : 1;
      }
    } else {
      index += (second >= 0x40 && second <= 0x7e) || (second >= 0x80 && second <= 0xfe) ? 2 : 1;
    }
  }
  return 0;
}

function isGbStandalone(byte: number): boolean {
  return byte <= 0x2f || (byte >= 0x3a && byte <= 0x3f);
}

function isGbLead(byte: number): boolean {
  return byte >= 0x81 && byte <= 0xfe;
}

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

/** The last text `encodeTextShared` encoded, per encoding. */
const lastEncoded = new Map<TextEncodingName, { text: string; bytes: Buffer }>();

/**
 * `encodeText`, returning the very buffer of the previous call for the same text and encoding: a
 * chat line goes out to every member of a room in turn, and the members' send queues then hold
 * one buffer between them rather than a copy each (the buffers are never written to).
 */
export function encodeTextShared(text: string, encoding: TextEncodingName): Buffer {
  const last = lastEncoded.get(encoding);
  if (last !== undefined && last.text === text) {
    return last.bytes;
  }
  const bytes = encodeText(text, encoding);
  lastEncoded.set(encoding, { text, bytes });
  return bytes;
}
