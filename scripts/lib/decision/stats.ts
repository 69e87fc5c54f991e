// Small numeric helpers for the decision engine: mean, standard deviation, median,
// median absolute deviation, sums of squares, Student-t quantiles and the F upper tail.
// Pure functions over plain number arrays. They do not validate or filter input:
// callers pass finite numbers, and get null (never NaN) where a figure is undefined.
// The one side effect is loading the two @stdlib distributions on first use (cli/packages.ts,
// also under Deno without node_modules); it never prints.

import { requirePackage } from "../cli/packages.ts";

// The @stdlib distributions are loaded on first use (cli/packages.ts): together they cost ~100 ms
// of start-up (dozens of tiny modules), and a deterministic eval never needs them.
let tQuantileFunction: ((probability: number, degreesOfFreedom: number) => number) | null = null;
let fCumulativeFunction: ((x: number, d1: number, d2: number) => number) | null = null;

function studentTQuantileRaw(probability: number, degreesOfFreedom: number): number {
  tQuantileFunction ??= requirePackage("statistics", "@stdlib/stats-base-dists-t-quantile") as typeof tQuantileFunction;
  return tQuantileFunction!(probability, degreesOfFreedom);
}

function fCumulative(x: number, numeratorDf: number, denominatorDf: number): number {
  fCumulativeFunction ??= requirePackage("statistics", "@stdlib/stats-base-dists-f-cdf") as typeof fCumulativeFunction;
  return fCumulativeFunction!(x, numeratorDf, denominatorDf);
}

/** Arithmetic mean; null for an empty list. mean([1, 2, 6]) -> 3 */
export function mean(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  // Summing offsets from the first value keeps identical scores exactly equal to their mean
  // (0.7 three times averages to 0.7, not 0.6999999999999998), so ties give t = 0 and sd = 0.
  const shift = values[0];
  let total = 0;
  for (const value of values) total += value - shift;
  return shift + total / values.length;
}

/** Sum of squared deviations from the mean; 0 for fewer than two values. */
export function sumOfSquaredDeviations(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const centre = mean(values) as number;
  let total = 0;
  for (const value of values) total += (value - centre) ** 2;
  return total;
}

/** Sample standard deviation (n - 1 denominator); null for fewer than two values. */
export function sampleStandardDeviation(values: readonly number[]): number | null {
  if (values.length < 2) return null;
  return Math.sqrt(sumOfSquaredDeviations(values) / (values.length - 1));
}

/** Median; null for an empty list. median([5, 1, 3, 2]) -> 2.5 */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Median absolute deviation from the median (unscaled); null for an empty list. */
export function medianAbsoluteDeviation(values: readonly number[]): number | null {
  const centre = median(values);
  if (centre === null) return null;
  return median(values.map((value) => Math.abs(value - centre)));
}

// 1 / Phi^-1(3/4): makes the MAD estimate the standard deviation of Gaussian data.
export const MAD_TO_STANDARD_DEVIATION = 1.4826;

/** Pooled variance sum(SS_g) / sum(n_g - 1) over groups; null when no group has two values. */
export function pooledVariance(groups: readonly (readonly number[])[]): number | null {
  let squares = 0;
  let degreesOfFreedom = 0;
  for (const group of groups) {
    squares += sumOfSquaredDeviations(group);
    degreesOfFreedom += Math.max(group.length - 1, 0);
  }
  return degreesOfFreedom > 0 ? squares / degreesOfFreedom : null;
}

/**
 * Student-t quantile: the value t with P(T <= t) = probability for `degreesOfFreedom`.
 * Null when it is undefined (fewer than one degree of freedom), so no NaN leaks out.
 */
export function studentTQuantile(probability: number, degreesOfFreedom: number): number | null {
  if (!(degreesOfFreedom >= 1) || !(probability > 0 && probability < 1)) return null;
  const key = `${probability}:${degreesOfFreedom}`;
  let value = T_QUANTILE_CACHE.get(key);
  if (value === undefined) {
    value = studentTQuantileRaw(probability, degreesOfFreedom);
    if (T_QUANTILE_CACHE.size >= T_QUANTILE_CACHE_LIMIT) T_QUANTILE_CACHE.clear();
    T_QUANTILE_CACHE.set(key, value);
  }
  return Number.isFinite(value) ? value : null;
}

// The decision loop asks for the same few (level, df) pairs over and over; the quantile's
// series evaluation dominates a decision's cost in simulation. Bounded so it cannot grow.
const T_QUANTILE_CACHE = new Map<string, number>();
const T_QUANTILE_CACHE_LIMIT = 10_000; // entries

/** Upper tail P(F > x) of the F distribution; null when undefined. */
export function fUpperTail(x: number, numeratorDf: number, denominatorDf: number): number | null {
  if (!(numeratorDf >= 1) || !(denominatorDf >= 1) || Number.isNaN(x)) return null;
  const value = 1 - fCumulative(x, numeratorDf, denominatorDf);
  return Number.isFinite(value) ? value : null;
}
