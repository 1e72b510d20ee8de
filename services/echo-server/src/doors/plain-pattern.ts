/** Characters a JSON text can begin with: whitespace, `{`, `[`, `"`, `-`, a digit, or `t`/`f`/`n` of true/false/null. */
const JSON_START = /^[\s{["\-0-9tfn]/;

/**
 * Whether a pattern string cannot be JSON, so that stock Nest's route lookup (`JSON.parse`, which
 * throws for a plain word like `echo`, then the word as it is) would route it as it is. The doors'
 * route lookup fast path (docs/performance.md) routes such a pattern without the exception.
 */
export function isPlainPattern(pattern: string): boolean {
  return !JSON_START.test(pattern);
}
