// Small numeric helpers for the decision engine: mean, standard deviation, median,
// median absolute deviation, sums of squares, Student-t quantiles and the F upper tail.
// Pure functions over plain number arrays. They do not validate or filter input:
// callers pass finite numbers, and get null (never NaN) where a figure is undefined.
// The one side effect is loading the two @stdlib distributions on first use (under Deno without
// node_modules: fetched by a child Deno, then imported in a worker); it never prints.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// The @stdlib distributions are loaded on first use: together they cost ~100 ms of
// start-up (dozens of tiny modules), and a deterministic eval never needs them. No dynamic import
// may name them literally anywhere in the kit: Deno fetches every package a literal import names
// before the script starts (~460 files for these two), needed or not.
const nodeRequire = createRequire(import.meta.url);
const STATISTICS_PACKAGES = ["@stdlib/stats-base-dists-t-quantile", "@stdlib/stats-base-dists-f-cdf"];
let tQuantileFunction: ((probability: number, degreesOfFreedom: number) => number) | null = null;
let fCumulativeFunction: ((x: number, d1: number, d2: number) => number) | null = null;
let packageFetchListener: (summary: string) => void = () => {};

/**
 * Receive the one-line summary of what Deno fetched into its cache for the statistics (only
 * under Deno, only on the run that fetches them); the caller decides whether to show it.
 */
export function onStatisticsPackagesFetched(listener: (summary: string) => void): void {
  packageFetchListener = listener;
}

function studentTQuantileRaw(probability: number, degreesOfFreedom: number): number {
  tQuantileFunction ??= requireModule("@stdlib/stats-base-dists-t-quantile") as typeof tQuantileFunction;
  return tQuantileFunction!(probability, degreesOfFreedom);
}

function fCumulative(x: number, numeratorDf: number, denominatorDf: number): number {
  fCumulativeFunction ??= requireModule("@stdlib/stats-base-dists-f-cdf") as typeof fCumulativeFunction;
  return fCumulativeFunction!(x, numeratorDf, denominatorDf);
}

/** `require` of one of STATISTICS_PACKAGES, under Deno also when no node_modules folder holds it. */
function requireModule(name: string): unknown {
  try {
    return nodeRequire(name);
  } catch (error) {
    if (!("Deno" in globalThis)) throw error;
  }
  // Deno's `require` finds a package of its own cache only once an `import` has put it in the
  // process's module graph, and the callers are synchronous: fetch quietly if needed, then import
  // in a worker (same process, same graph) while this thread waits.
  fetchForDenoOnce();
  importInWorker(STATISTICS_PACKAGES);
  return nodeRequire(name);
}

/** Deno's npm cache folder for a package (DENO_DIR, else the platform's cache folder). */
function denoCacheFolder(name: string): string {
  const home = homedir();
  const root = process.env.DENO_DIR ??
    (process.platform === "darwin"
      ? join(home, "Library/Caches/deno")
      : process.platform === "win32"
      ? join(process.env.LOCALAPPDATA ?? home, "deno")
      : join(process.env.XDG_CACHE_HOME ?? join(home, ".cache"), "deno"));
  return join(root, "npm", "registry.npmjs.org", name);
}

/**
 * Fetch the statistics packages into Deno's cache in a child Deno whose download lines are
 * counted, not shown, and hand one summary line to the listener. Skipped when the cache holds them.
 */
function fetchForDenoOnce(): void {
  if (STATISTICS_PACKAGES.every((name) => existsSync(denoCacheFolder(name)))) return;
  const started = performance.now();
  const kitConfig = join(dirname(fileURLToPath(import.meta.url)), "../../../deno.json");
  const code = STATISTICS_PACKAGES.map((name) => `await import(${JSON.stringify(name)});`).join("");
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno!.execPath();
  const fetched = spawnSync(deno, ["eval", ...(existsSync(kitConfig) ? ["--config", kitConfig] : []), code], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" }, // plain "Download <url>" lines, to count
  });
  const downloads = (fetched.stderr ?? "").split("\n").filter((line) => /Download\s+\S+\.tgz\b/.test(line));
  if (fetched.status !== 0) return; // the worker's import then fails, or downloads, and says why
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const count = `${downloads.length} package${downloads.length === 1 ? "" : "s"}`;
  packageFetchListener(
    `Deno fetched the statistics packages into its cache, once: ${STATISTICS_PACKAGES.join(", ")} ` +
      `with their dependencies (${count}, ${seconds} s).`,
  );
}

/** Import `names` in a module worker and block until it is done (a minute at most). */
function importInWorker(names: readonly string[]): void {
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const code = `self.onmessage = async (event) => {
  const flag = new Int32Array(event.data.signal);
  try { for (const name of event.data.names) await import(name); Atomics.store(flag, 0, 1); }
  catch { Atomics.store(flag, 0, 2); }
  Atomics.notify(flag, 0);
};`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    worker.postMessage({ names, signal });
    Atomics.wait(flag, 0, 0, 60_000);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
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
