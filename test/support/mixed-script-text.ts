/** ASCII, accents, CJK, Arabic (RTL), Hebrew, Devanagari, emoji with ZWJ and skin tone, a combining mark. */
const SAMPLE = 'Hello, wörld! 你好，世界。 مرحبا بالعالم שלום नमस्ते 👨‍👩‍👧‍👦👍🏽 é ';

/** Deterministic text of at least `minBytes` UTF-8 bytes mixing many scripts. */
export function mixedScriptText(minBytes: number): string {
  const repeats = Math.ceil(minBytes / Buffer.byteLength(SAMPLE, 'utf8'));
  return Array.from({ length: repeats }, (_, index) => `${index}:${SAMPLE}`).join('');
}
