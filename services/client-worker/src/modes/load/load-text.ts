const FILLER = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/**
 * The text of the `index`-th load request: `length` ASCII characters that start
 * with the index where there is room, so that a reply delivered to the wrong
 * request shows up as a mismatch.
 */
export function loadText(index: number, length: number): string {
  const head = `#${index} `;
  return (head + FILLER.repeat(Math.ceil(length / FILLER.length))).slice(0, length);
}
