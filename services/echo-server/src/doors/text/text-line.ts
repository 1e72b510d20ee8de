import { ErrorCodes, type RpcErrorEnvelope } from '@echo-pair/common';
import { isAscii } from 'node:buffer';
import { decodeText, detectEncoding, incompleteTailBytes, type EncodingSetting, type TextEncodingName } from './text-codec';

export type DecodedLine =
  | { ok: true; text: string; /** Set when this line decided an `auto` connection's encoding. */ detected?: TextEncodingName }
  | { ok: false; error: RpcErrorEnvelope };

/** The text of one line in the connection's encoding (`auto`: detected from the line when it has non-ASCII bytes). */
export function decodeLine(bytes: Buffer, encoding: EncodingSetting): DecodedLine {
  let detected: TextEncodingName | undefined;
  let effective: TextEncodingName = encoding === 'auto' ? 'utf-8' : encoding;
  let text: string | undefined;
  if (encoding !== 'auto') {
    text = decodeText(bytes, encoding);
  } else if (isAscii(bytes)) {
    text = bytes.toString('latin1'); // ASCII reads the same in both encodings, and decides neither
  } else {
    // As `detectEncoding` decides, but decoding once: UTF-8 if it reads as UTF-8, else GBK.
    text = decodeText(bytes, 'utf-8');
    detected = effective = 'utf-8';
    if (text === undefined) {
      text = decodeText(bytes, 'gbk');
      if (text === undefined) {
        return invalidText('auto', 'the line is neither valid UTF-8 nor valid GBK (GB18030)');
      }
      detected = effective = 'gbk';
    }
  }
  if (text === undefined) {
    const other = effective === 'gbk' ? 'utf-8' : 'gbk';
    return invalidText(
      effective,
      `the line is not valid ${effective.toUpperCase()}, this connection's encoding; send /encoding ${other} to switch`,
    );
  }
  if (hasControlCharacter(text)) {
    return invalidText(effective, 'control characters (NUL, ESC and the like) are not accepted');
  }
  return detected === undefined ? { ok: true, text } : { ok: true, text, detected };
}

/**
 * How many trailing bytes of a partial line to keep for the next read, as the start of a character
 * split across reads: none when the bytes before them are not valid text anyway, since then the
 * line fails now and must not drag its tail into the next message.
 */
export function bytesToHold(bytes: Buffer, encoding: EncodingSetting): number {
  const tail = incompleteTailBytes(bytes, encoding);
  if (tail === 0) {
    return 0;
  }
  const head = bytes.subarray(0, bytes.length - tail);
  const valid = encoding === 'auto' ? detectEncoding(head) !== 'invalid' : decodeText(head, encoding) !== undefined;
  return valid ? tail : 0;
}

/**
 * Whether `next`, the bytes that arrived after a flush kept `held` back, can finish the character
 * `held` began. If not, `held` is reported on its own and `next` starts a clean message.
 */
export function continuesCharacter(held: Buffer, next: Buffer, encoding: EncodingSetting): boolean {
  const probe = Buffer.concat([held, next.subarray(0, 4)]);
  const encodings: TextEncodingName[] = encoding === 'auto' ? ['utf-8', 'gbk'] : [encoding];
  return encodings.some((name) => {
    try {
      // Streaming: an unfinished sequence at the end of the probe is no error, a wrong byte is.
      new TextDecoder(name === 'gbk' ? 'gb18030' : 'utf-8', { fatal: true }).decode(probe.subarray(0, held.length + 1), { stream: true });
      return true;
    } catch {
      return false;
    }
  });
}

/** One reply line for an error: `ERR <CODE> <message>`, the message on one line. */
export function errorLine(error: Pick<RpcErrorEnvelope, 'code' | 'message'>): string {
  return `ERR ${error.code} ${error.message.replace(/\s*[\r\n]+\s*/g, ' ')}`;
}

/**
 * C0 control characters but tab, DEL, and the C1 controls (U+009B acts as ESC [ on some terminals). Refused, not echoed: a line is shown on other people's
 * terminals (chat), where ESC sequences could rewrite the screen, and NUL ends C strings. A loop over the
 * UTF-16 code units: cheaper per line than a regular expression's test.
 */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const unit = text.charCodeAt(index);
    if ((unit < 0x20 && unit !== 0x09) || (unit >= 0x7f && unit <= 0x9f)) {
      return true;
    }
  }
  return false;
}

function invalidText(encoding: string, message: string): DecodedLine {
  return { ok: false, error: { code: ErrorCodes.INVALID_TEXT, message, details: { encoding } } };
}
