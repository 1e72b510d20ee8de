import { nowOrLater } from './now-or-later';

describe('nowOrLater', () => {
  it('runs the continuation at once on a value that is there, and returns its result', () => {
    const seen: number[] = [];
    const result = nowOrLater(2, (value) => {
      seen.push(value);
      return value * 10;
    });
    expect(seen).toEqual([2]);
    expect(result).toBe(20);
  });

  it('runs it once a promise resolves, and returns the promise of its result', async () => {
    const seen: number[] = [];
    const result = nowOrLater(Promise.resolve(3), (value) => {
      seen.push(value);
      return value * 10;
    });
    expect(seen).toEqual([]);
    expect(result).toBeInstanceOf(Promise);
    await expect(result).resolves.toBe(30);
    expect(seen).toEqual([3]);
  });
});
