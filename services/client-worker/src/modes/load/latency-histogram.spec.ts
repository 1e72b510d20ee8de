import { LatencyHistogram } from './latency-histogram';

/** A histogram of these latencies (ms), recorded in the order given. */
function histogramOf(values: readonly number[]): LatencyHistogram {
  const histogram = new LatencyHistogram();
  values.forEach((value) => histogram.record(value));
  return histogram;
}

describe('LatencyHistogram', () => {
  describe('percentile', () => {
    const oneToHundred = histogramOf(Array.from({ length: 100 }, (_, i) => i + 1));

    it('uses the nearest rank', () => {
      expect(oneToHundred.percentile(50)).toBe(50);
      expect(oneToHundred.percentile(90)).toBe(90);
      expect(oneToHundred.percentile(99)).toBe(99);
      expect(oneToHundred.percentile(99.5)).toBe(100);
      expect(histogramOf([15, 20, 35, 40, 50]).percentile(30)).toBe(20);
      expect(histogramOf([15, 20, 35, 40, 50]).percentile(40)).toBe(20);
      expect(histogramOf([15, 20, 35, 40, 50]).percentile(50)).toBe(35);
    });

    it("takes the nearest rank's ceiling where the histogram's own percentile would round the rank down", () => {
      // 90% of 6 values is 5.4: the nearest rank is the 6th, the histogram's own percentile(90) the 5th.
      expect(histogramOf([1, 2, 3, 4, 5, 6]).percentile(90)).toBe(6);
      expect(histogramOf(Array.from({ length: 160 }, (_, i) => i + 1)).percentile(99)).toBe(159);
    });

    it('gives the smallest value at 0 and the largest at 100', () => {
      expect(histogramOf([3, 7, 9]).percentile(0)).toBe(3);
      expect(histogramOf([3, 7, 9]).percentile(100)).toBe(9);
    });

    it('gives the only value of a single sample at any percentile', () => {
      expect([0, 50, 99, 100].map((p) => histogramOf([4.2]).percentile(p))).toEqual([4.2, 4.2, 4.2, 4.2]);
    });

    it('gives NaN without values', () => {
      expect(new LatencyHistogram().percentile(50)).toBeNaN();
    });

    it.each([-1, 101, Number.NaN])('rejects the percentile %p', (p) => {
      expect(() => histogramOf([1]).percentile(p)).toThrow(RangeError);
    });

    it('keeps a latency to the microsecond under 262 ms, and within 1/131072 of itself above', () => {
      expect(histogramOf([123.4567]).percentile(100)).toBe(123.457);
      expect(histogramOf([262.1434]).percentile(100)).toBe(262.143);
      expect(histogramOf([0.0004]).percentile(100)).toBe(0.001);
      for (const ms of [262.1446, 1234.5678, 16_000.0001, 599_999.9999]) {
        expect(Math.abs(histogramOf([ms]).percentile(100) - ms)).toBeLessThanOrEqual(ms / 131_072 + 0.0005);
      }
    });
  });

  describe('summary', () => {
    it('orders the values numerically, not as text, whatever the order they were recorded in', () => {
      expect(histogramOf([100, 9, 80, 1, 10, 2.5, 70, 60, 50, 40]).summary()).toEqual({ p50: 40, p90: 80, p99: 100, max: 100 });
    });

    it('summarizes no values as NaN', () => {
      expect(new LatencyHistogram().summary()).toEqual({ p50: NaN, p90: NaN, p99: NaN, max: NaN });
    });

    it('counts what it recorded', () => {
      expect(histogramOf([5, 5, 7]).count).toBe(3);
    });
  });
});
