import { percentile, summarizeLatencies } from './percentile';

describe('percentile', () => {
  const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('uses the nearest rank', () => {
    expect(percentile(oneToHundred, 50)).toBe(50);
    expect(percentile(oneToHundred, 90)).toBe(90);
    expect(percentile(oneToHundred, 99)).toBe(99);
    expect(percentile(oneToHundred, 99.5)).toBe(100);
    expect(percentile([15, 20, 35, 40, 50], 30)).toBe(20);
    expect(percentile([15, 20, 35, 40, 50], 40)).toBe(20);
    expect(percentile([15, 20, 35, 40, 50], 50)).toBe(35);
  });

  it('gives the smallest value at 0 and the largest at 100', () => {
    expect(percentile([3, 7, 9], 0)).toBe(3);
    expect(percentile([3, 7, 9], 100)).toBe(9);
  });

  it('gives the only value of a single sample at any percentile', () => {
    expect([0, 50, 99, 100].map((p) => percentile([4.2], p))).toEqual([4.2, 4.2, 4.2, 4.2]);
  });

  it('gives NaN without values', () => {
    expect(percentile([], 50)).toBeNaN();
  });

  it.each([-1, 101, Number.NaN])('rejects the percentile %p', (p) => {
    expect(() => percentile([1], p)).toThrow(RangeError);
  });
});

describe('summarizeLatencies', () => {
  it('sorts numerically, not as text', () => {
    const values = [100, 9, 80, 1, 10, 2.5, 70, 60, 50, 40];
    expect(summarizeLatencies(values)).toEqual({ p50: 40, p90: 80, p99: 100, max: 100 });
    expect(values[0]).toBe(100);
  });

  it('summarizes no values as NaN', () => {
    expect(summarizeLatencies([])).toEqual({ p50: NaN, p90: NaN, p99: NaN, max: NaN });
  });
});
