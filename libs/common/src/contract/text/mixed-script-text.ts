import { createHash } from 'node:crypto';

/**
 * ASCII, CJK, emoji (a ZWJ family and a skin tone among them), Arabic and Hebrew
 * (right to left), Devanagari, Greek, accented Latin both precomposed and with a
 * combining mark.
 */
const SAMPLE = 'Hello, world! 你好，世界。 👋🌍 👨‍👩‍👧‍👦 👍🏽 مرحبا بالعالم שלום नमस्ते café naïve e\u0301 Ærøskøbing Ωμέγα — ';

/** The sample repeated until its UTF-8 encoding has at least `minBytes` bytes; the same every time. */
export function buildMixedScriptText(minBytes: number): string {
  return SAMPLE.repeat(Math.max(1, Math.ceil(minBytes / Buffer.byteLength(SAMPLE, 'utf8'))));
}

/** The first 12 hex digits of the SHA-256 of the text's UTF-8 bytes. */
export function shortSha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 12);
}
