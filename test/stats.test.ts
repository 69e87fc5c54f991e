// Unit tests for scripts/lib/decision/stats.ts: each helper on small inputs with known answers,
// and null (never NaN) where a figure is undefined.

import { describe, expect, test } from "bun:test";
import {
  fUpperTail,
  mean,
  median,
  medianAbsoluteDeviation,
  pooledVariance,
  sampleStandardDeviation,
  studentTQuantile,
  sumOfSquaredDeviations,
} from "../scripts/lib/decision/stats.ts";

describe("stats helpers", () => {
  const cases: [string, () => number | null, number | null][] = [
    ["mean of 1, 2, 6 is 3", () => mean([1, 2, 6]), 3],
    ["mean of nothing is null", () => mean([]), null],
    ["median of an odd list is its middle value", () => median([5, 1, 3]), 3],
    ["median of an even list averages the two middle values", () => median([5, 1, 3, 2]), 2.5],
    ["median of nothing is null", () => median([]), null],
    ["sum of squared deviations of 1, 2, 3 is 2", () => sumOfSquaredDeviations([1, 2, 3]), 2],
    ["sum of squared deviations of one value is 0", () => sumOfSquaredDeviations([4]), 0],
    ["sample sd of 0.70, 0.71, 0.72 is 0.01", () => sampleStandardDeviation([0.7, 0.71, 0.72]), 0.01],
    ["sample sd of one value is null", () => sampleStandardDeviation([0.7]), null],
    ["median absolute deviation of 1, 2, 3, 4, 100 is 1", () => medianAbsoluteDeviation([1, 2, 3, 4, 100]), 1],
    [
      "pooled variance weighs groups by their degrees of freedom",
      () => pooledVariance([[1, 3], [2, 4, 6], [9]]),
      (2 + 8) / 3,
    ],
    ["pooled variance without a group of two is null", () => pooledVariance([[1], [2]]), null],
    ["the t quantile at 0.98 with 10 df is 2.3593", () => studentTQuantile(0.98, 10), 2.359314623736535],
    ["the t quantile at 0.98 with 2 df is 4.8487", () => studentTQuantile(0.98, 2), 4.848732214442601],
    ["the t quantile with 0 df is null, not NaN", () => studentTQuantile(0.98, 0), null],
    ["the t quantile at probability 1 is null, not Infinity", () => studentTQuantile(1, 5), null],
    ["the F upper tail at 2 with 3 and 100 df is 0.1188", () => fUpperTail(2, 3, 100), 1 - 0.8811575321060005],
    ["the F upper tail at 0 is 1", () => fUpperTail(0, 5, 50), 1],
    ["the F upper tail with 0 df is null", () => fUpperTail(1, 0, 50), null],
  ];
  for (const [sentence, compute, expected] of cases) {
    test(sentence, () => {
      const value = compute();
      if (expected === null) expect(value).toBeNull();
      else expect(value as number).toBeCloseTo(expected, 8);
    });
  }

  test("the t quantile is the same on a repeated call (cached)", () => {
    expect(studentTQuantile(0.98, 17)).toBe(studentTQuantile(0.98, 17));
  });
});
