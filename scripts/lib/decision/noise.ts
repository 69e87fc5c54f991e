// The eval's within-version noise, pooled over versions into plain sums a restarted process rebuilds
// from the journal; the sd used for tests (per run or per case, floored at the print resolution), the
// smallest detectable gain and the runs a target gain needs, and the run helpers (finite runs,
// scores, spread) the engine shares.
// Pure: it does not read the journal (decision-state.ts), decide (decide.ts) or calibrate (calibrate.ts).
// Example: estimateNoise(emptyNoiseHistory(), [[{ score: 0.70 }, { score: 0.72 }]]).sigma -> 0.0141...

import { fUpperTail, mean, studentTQuantile, sumOfSquaredDeviations } from "./stats.ts";
import {
  candidateRunCap,
  type DecisionOptions,
  type DecisionSettings,
  type NoiseModel,
  resolveDecisionOptions,
  type Run,
} from "./options.ts";

/**
 * Within-version noise pooled over finished versions (the current incumbent and candidate are
 * added on the fly). Plain numbers so a restarted process rebuilds it by replaying the journal.
 */
export interface NoiseHistory {
  /** Sum over versions of squared deviations of run scores from their version's mean. */
  sumOfSquares: number;
  /** Sum over versions of (runs - 1). */
  degreesOfFreedom: number;
  /** The same sums per case: sum over versions and cases of squared deviations. */
  caseSumOfSquares: number;
  caseDegreesOfFreedom: number;
  /** Cases per run behind the case sums; null until a version with case lines was pooled. */
  caseCount: number | null;
  /** False once a run lacked case lines, had other case ids, or its cases did not average to its score. */
  casesConsistent: boolean;
  /** False once any version's runs differed by more than resolution / 2 (then never true again). */
  deterministic: boolean;
  versionsPooled: number;
  /**
   * The same sums with each version's squares divided by its mean squared (the noise as a share
   * of the score), and sum over versions of (runs - 1) * ln|mean|: what the relative noise model
   * needs (relativeNoiseFits). Absent in a history built before they existed: the absolute model.
   */
  relativeSumOfSquares?: number;
  relativeCaseSumOfSquares?: number;
  logScaleSum?: number;
  /** The sign every pooled version's mean had (0: none yet); null once one was 0 or of the other sign. */
  scaleSign?: 1 | -1 | 0 | null;
}

export interface NoiseEstimate {
  /** Standard deviation of one run's score used for tests (metric units), floored; null without degrees of freedom. */
  sigma: number | null;
  df: number;
  source: "runs" | "cases" | null;
  runSigma: number | null;
  runDf: number;
  /** Per-case pooled sd divided by sqrt(cases): the run sd if cases were independent. */
  caseSigma: number | null;
  caseDf: number;
  /** F-test p-value for "run-level variance exceeds the per-case estimate" (cases share noise). */
  sharedNoisePValue: number | null;
  floored: boolean;
  /**
   * "relative" when the versions' noise grew and shrank with their scores (timings): sigma is then
   * relativeSigma times the scale it was asked for; "absolute" otherwise.
   */
  model: "absolute" | "relative";
  /** The run sd as a share of the score under the relative model; null under the absolute one. */
  relativeSigma: number | null;
}

// Power used to express the minimum detectable effect (a conventional 80%).
const DETECTION_POWER = 0.8;
// Fall back to run-level noise when this F-test says cases share noise. decision_sim.py used 0.10;
// with more looks per candidate (shared incumbent runs) an F-test without the power to see shared
// noise let the per-case estimate through too often: scenario C (60% of the noise shared) kept
// 4.3-4.4% of no-ops with case lines. At 0.5 the per-case estimate is used only when the runs vary
// no more than it predicts: C 3.6-3.8%, A unchanged in no-op keeps (seeds 3, 6). That choice is
// cautious (the larger of the two estimates, about), and cost scenario A with case lines 0.2 σ of
// true gain a session against the same eval without them. Once the runs have SHARED_NOISE_TEST_DF
// degrees of freedom the F-test sees 60% shared noise nearly 9 times in 10 at 0.1, so from there 0.1 is
// used (bench/decision.ts over seeds 1-8: A with case lines +0.08 σ; C at most 4.0% of no-ops).
const SHARED_NOISE_P_VALUE = { fewRuns: 0.5, manyRuns: 0.1 };
const SHARED_NOISE_TEST_DF = 15;

/** Below this p-value of the F-test the runs vary more than the cases predict: their noise is shared. */
function sharedNoisePValueFor(runDf: number): number {
  return runDf >= SHARED_NOISE_TEST_DF ? SHARED_NOISE_P_VALUE.manyRuns : SHARED_NOISE_P_VALUE.fewRuns;
}
// The relative noise model (sd a fixed share of the score) replaces the absolute one only when it
// explains the versions' spreads this much better (log likelihood ratio; e^2, about 7 to 1), so a
// run of versions at one score level, where both fit alike, keeps the absolute model. Timing evals
// whose score moves by multiples within a session (bench/decision.ts scenario H) pass it within a
// few keeps; under the absolute model a throughput eval kept 12.5% of no-ops there.
const RELATIVE_MODEL_EVIDENCE = 2;

/** A rounded score is uniform within +-resolution/2, so its sd is at least resolution/sqrt(12). */
export function noiseFloor(resolution: number): number {
  return resolution / Math.sqrt(12);
}

export function emptyNoiseHistory(): NoiseHistory {
  return {
    sumOfSquares: 0,
    degreesOfFreedom: 0,
    caseSumOfSquares: 0,
    caseDegreesOfFreedom: 0,
    caseCount: null,
    casesConsistent: true,
    deterministic: true,
    versionsPooled: 0,
    relativeSumOfSquares: 0,
    relativeCaseSumOfSquares: 0,
    logScaleSum: 0,
    scaleSign: 0,
  };
}

interface CaseGroupStats {
  usable: boolean;
  squares: number;
  df: number;
  caseCount: number;
}

export function finiteRuns(runs: readonly Run[]): Run[] {
  return runs.filter((run) => Number.isFinite(run.score));
}

export function scoresOf(runs: readonly Run[]): number[] {
  return runs.map((run) => run.score);
}

/** max - min of the values; 0 for none. */
export function spreadOf(values: readonly number[]): number {
  return values.length === 0 ? 0 : Math.max(...values) - Math.min(...values);
}

/**
 * Per-case sums for one version. Usable only when every run has the same case ids and its
 * cases average to its score (within print resolution): only then is var(score) = var(case)/cases.
 */
function caseGroupStats(runs: readonly Run[], resolution: number): CaseGroupStats {
  const unusable = { usable: false, squares: 0, df: 0, caseCount: 0 };
  if (runs.length === 0) return { usable: true, squares: 0, df: 0, caseCount: 0 };
  const first = runs[0].cases;
  if (!first) return unusable;
  const ids = Object.keys(first);
  if (ids.length === 0) return unusable;
  const tolerance = resolution * 1.001;
  for (const run of runs) {
    const cases = run.cases;
    if (!cases || Object.keys(cases).length !== ids.length) return unusable;
    let total = 0;
    for (const id of ids) {
      const value = cases[id];
      if (!Number.isFinite(value)) return unusable;
      total += value;
    }
    if (Math.abs(total / ids.length - run.score) > tolerance) return unusable;
  }
  let squares = 0;
  if (runs.length > 1) {
    for (const id of ids) {
      let sum = 0;
      for (const run of runs) sum += (run.cases as Record<string, number>)[id];
      const centre = sum / runs.length;
      for (const run of runs) squares += ((run.cases as Record<string, number>)[id] - centre) ** 2;
    }
  }
  return { usable: true, squares, df: (runs.length - 1) * ids.length, caseCount: ids.length };
}

function sameCaseIds(a: readonly Run[], b: readonly Run[]): boolean {
  const left = a[0]?.cases;
  const right = b[0]?.cases;
  if (!left || !right) return true; // an empty group says nothing against it
  const leftIds = Object.keys(left);
  return leftIds.length === Object.keys(right).length && leftIds.every((id) => id in right);
}

/** Fold a finished version's runs into the pooled history (returns a new history). */
export function addGroupToPool(
  history: NoiseHistory,
  runs: readonly Run[],
  options: DecisionSettings = {},
): NoiseHistory {
  return poolGroup(history, runs, resolveDecisionOptions(options, scoresOf(finiteRuns(runs))).resolution);
}

/** addGroupToPool with the print resolution already resolved. */
export function poolGroup(history: NoiseHistory, runs: readonly Run[], resolution: number): NoiseHistory {
  const group = finiteRuns(runs);
  if (group.length === 0) return history;
  const scores = scoresOf(group);
  const cases = caseGroupStats(group, resolution);
  const caseCountAgrees = history.caseCount === null || cases.caseCount === history.caseCount;
  const casesConsistent = history.casesConsistent && cases.usable && caseCountAgrees;
  const squares = sumOfSquaredDeviations(scores);
  // A version with one run says nothing of its noise, so nothing of how the noise scales either.
  const centre = group.length > 1 ? mean(scores) as number : null;
  const sign = centre === null ? (history.scaleSign ?? 0) : centre > 0 ? 1 : centre < 0 ? -1 : null;
  const scaleSign = history.scaleSign === null || sign === null ||
      (history.scaleSign !== 0 && history.scaleSign !== undefined && sign !== history.scaleSign)
    ? null
    : sign;
  const scaleSquared = centre !== null && scaleSign !== null ? centre * centre : null;
  return {
    sumOfSquares: history.sumOfSquares + squares,
    degreesOfFreedom: history.degreesOfFreedom + group.length - 1,
    caseSumOfSquares: casesConsistent ? history.caseSumOfSquares + cases.squares : 0,
    caseDegreesOfFreedom: casesConsistent ? history.caseDegreesOfFreedom + cases.df : 0,
    caseCount: casesConsistent ? cases.caseCount : null,
    casesConsistent,
    deterministic: history.deterministic && spreadOf(scores) <= resolution / 2,
    versionsPooled: history.versionsPooled + 1,
    relativeSumOfSquares: (history.relativeSumOfSquares ?? 0) + (scaleSquared ? squares / scaleSquared : 0),
    relativeCaseSumOfSquares: casesConsistent
      ? (history.relativeCaseSumOfSquares ?? 0) + (scaleSquared ? cases.squares / scaleSquared : 0)
      : 0,
    logScaleSum: (history.logScaleSum ?? 0) + (scaleSquared ? (group.length - 1) * Math.log(scaleSquared) / 2 : 0),
    scaleSign,
  };
}

/**
 * Whether the pooled versions' spreads are better explained by a noise that is a fixed share of
 * the score than by one noise for all: the profile log likelihoods of the two one-parameter
 * models, -(df/2) ln(SS/df) against -(df/2) ln(SS_rel/df) - sum (n_v - 1) ln|mean_v|, must differ by
 * RELATIVE_MODEL_EVIDENCE. Needs every version's mean of one sign (a score around 0 has no scale).
 */
export function relativeNoiseFits(history: NoiseHistory): boolean {
  const df = history.degreesOfFreedom;
  const relative = history.relativeSumOfSquares ?? 0;
  if (!history.scaleSign || df < 2 || !(history.sumOfSquares > 0) || !(relative > 0)) return false;
  const absoluteFit = -(df / 2) * Math.log(history.sumOfSquares / df);
  const relativeFit = -(df / 2) * Math.log(relative / df) - (history.logScaleSum ?? 0);
  return relativeFit - absoluteFit >= RELATIVE_MODEL_EVIDENCE;
}

/**
 * The score level a noise estimate is scaled to under the relative model when the caller names
 * none: the mean of the current groups' runs.
 */
function currentScale(groups: readonly (readonly Run[])[]): number | null {
  return mean(groups.flatMap((group) => scoresOf(finiteRuns(group))));
}

/**
 * The scale that makes sigma * sqrt(1/nA + 1/nB) the exact standard error of meanA - meanB when
 * each version's sd is the same share of its own mean: sqrt((mA^2/nA + mB^2/nB) / (1/nA + 1/nB)).
 */
export function comparisonScale(a: readonly Run[], b: readonly Run[]): number | null {
  const left = mean(scoresOf(finiteRuns(a)));
  const right = mean(scoresOf(finiteRuns(b)));
  if (left === null || right === null) return left ?? right;
  const weightA = 1 / finiteRuns(a).length;
  const weightB = 1 / finiteRuns(b).length;
  return Math.sqrt((left * left * weightA + right * right * weightB) / (weightA + weightB));
}

/**
 * Noise sd for tests: pooled within-version variance over the history plus the current groups,
 * floored at resolution/sqrt(12). With consistent case lines the per-case estimate / cases is
 * used unless an F-test (the runs vary more than it predicts: p < 0.5 below SHARED_NOISE_TEST_DF
 * run degrees of freedom, p < 0.1 from there) says cases share noise.
 * Under decision.noise_model proportional (or auto, once relativeNoiseFits) the pooled share of the
 * score times `scale` (by default the current runs' mean) is used where it is the more careful of
 * the two: a throughput's noise grows as it gets faster, and one sd pooled over its slower
 * versions would judge a fast version by their quieter noise.
 */
export function estimateNoise(
  history: NoiseHistory,
  currentGroups: readonly (readonly Run[])[],
  options: DecisionSettings = {},
  scale: number | null = currentScale(currentGroups),
): NoiseEstimate {
  const { resolution, noiseModel } = resolveDecisionOptions(options, scoresOf(finiteRuns(currentGroups.flat())));
  let pooled = history;
  for (const group of currentGroups) pooled = poolGroup(pooled, group, resolution);
  const constant = estimateUnder(pooled, currentGroups, resolution, null);
  const proportionalApplies = scale !== null && scale !== 0 && Boolean(pooled.scaleSign) &&
    (noiseModel === "proportional" || (noiseModel === "auto" && relativeNoiseFits(pooled)));
  if (!proportionalApplies) return constant;
  // Each model's whole estimate (its choice of runs or cases included), and the proportional one
  // only where it makes the test more careful: it exists to stop a version being judged by quieter
  // versions' noise, never to make a test bolder than the constant model.
  const proportional = estimateUnder(pooled, currentGroups, resolution, Math.abs(scale as number));
  return caution(proportional) > caution(constant) ? proportional : constant;
}

/** How wide an estimate makes a test: its sd times a two-sided 95% t quantile at its df (0 without one). */
function caution(estimate: NoiseEstimate): number {
  if (estimate.sigma === null || estimate.df < 1) return 0;
  return estimate.sigma * (studentTQuantile(0.975, estimate.df) as number);
}

/**
 * The estimate under one model: the constant one (relativeScale null), or the proportional one
 * at `relativeScale` (the pooled shares of the score times it).
 */
function estimateUnder(
  pooled: NoiseHistory,
  currentGroups: readonly (readonly Run[])[],
  resolution: number,
  relativeScale: number | null,
): NoiseEstimate {
  const floor = noiseFloor(resolution);
  const runDf = pooled.degreesOfFreedom;
  const relative = relativeScale !== null;
  const level = relativeScale ?? 1;
  const runSquares = relative ? pooled.relativeSumOfSquares ?? 0 : pooled.sumOfSquares;
  const caseSquares = relative ? pooled.relativeCaseSumOfSquares ?? 0 : pooled.caseSumOfSquares;
  const runSigma = runDf > 0 ? Math.sqrt(runSquares / runDf) * level : null;
  // The incumbent's and candidate's cases must be the same cases to share one per-case variance.
  const sameCases = currentGroups.every((group) => sameCaseIds(currentGroups[0], group));
  const caseDf = pooled.casesConsistent && sameCases ? pooled.caseDegreesOfFreedom : 0;
  const caseSigma = caseDf > 0 && pooled.caseCount ? Math.sqrt(caseSquares / caseDf / pooled.caseCount) * level : null;
  const model = relative ? "relative" as const : "absolute" as const;
  let sharedNoisePValue: number | null = null;
  let useCases = false;
  if (runSigma !== null && caseSigma !== null) {
    if (caseSigma > 0) {
      sharedNoisePValue = runDf >= 2 ? fUpperTail((runSigma / caseSigma) ** 2, runDf, caseDf) : null;
      useCases = sharedNoisePValue === null || sharedNoisePValue >= sharedNoisePValueFor(runDf);
    } else {
      // Cases never moved: any run-level noise must be shared, so the cases cannot sharpen it.
      useCases = runSigma === 0;
    }
  }
  const rawSigma = useCases ? caseSigma : runSigma;
  const df = useCases ? caseDf : runDf;
  const relativeSigma = relative && rawSigma !== null ? rawSigma / level : null;
  if (rawSigma === null) {
    return {
      sigma: null,
      df: 0,
      source: null,
      runSigma,
      runDf,
      caseSigma,
      caseDf,
      sharedNoisePValue,
      floored: false,
      model,
      relativeSigma,
    };
  }
  return {
    sigma: Math.max(rawSigma, floor),
    df,
    source: useCases ? "cases" : "runs",
    runSigma,
    runDf,
    caseSigma,
    caseDf,
    sharedNoisePValue,
    floored: rawSigma < floor,
    model,
    relativeSigma,
  };
}

/**
 * True gain that a one-sided test at perLookLevel keeps with 80% power, after nCandidate and
 * nIncumbent runs, plus minEffect (metric units). Null without degrees of freedom.
 */
export function minDetectableEffect(
  sigma: number,
  df: number,
  nCandidate: number,
  nIncumbent: number,
  options: DecisionSettings = {},
): number | null {
  const resolved = resolveDecisionOptions(options);
  const critical = studentTQuantile(1 - resolved.perLookLevel, df);
  const powerQuantile = studentTQuantile(DETECTION_POWER, df);
  if (critical === null || powerQuantile === null || !(nCandidate >= 1 && nIncumbent >= 1)) return null;
  const standardError = Math.max(sigma, noiseFloor(resolved.resolution)) * Math.sqrt(1 / nCandidate + 1 / nIncumbent);
  return resolved.minEffect + (critical + powerQuantile) * standardError;
}

/**
 * Runs per version that find a true gain of `target` with 80% power at the later looks' level
 * times `share` (the level they are tested at): 2((t_level + t_0.80) sigma / target)^2, within
 * maxCandidateRuns and candidateRunCap: the inverse of minDetectableEffect for a target gain.
 */
export function plannedRuns(sigma: number, df: number, options: DecisionOptions, target: number, share = 1): number {
  const critical = studentTQuantile(1 - options.perLookLevel * share, df) as number;
  const power = studentTQuantile(DETECTION_POWER, df) as number;
  const runs = Math.ceil(2 * ((critical + power) * sigma / target) ** 2);
  return Math.min(Math.max(runs, options.maxCandidateRuns), candidateRunCap(options));
}

// Metric names whose noise is a share of the score: timings and rates (latency_ms, p99_seconds,
// train_time, throughput, qps, tokens_per_sec). Matched per word of the name.
const PROPORTIONAL_NOISE_WORDS = new Set([
  "latency",
  "time",
  "duration",
  "elapsed",
  "runtime",
  "wall",
  "seconds",
  "second",
  "secs",
  "sec",
  "s",
  "ms",
  "us",
  "ns",
  "throughput",
  "qps",
  "rps",
  "tps",
  "ops",
  "speed",
]);

/**
 * The noise model init writes for a metric: proportional for a timing or a rate, whose run-to-run
 * noise grows and shrinks with it, auto otherwise. suggestedNoiseModel("latency_ms") -> "proportional".
 */
export function suggestedNoiseModel(metricName: string): NoiseModel {
  const words = metricName.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase().split(/[^a-z0-9]+/);
  return words.some((word) => PROPORTIONAL_NOISE_WORDS.has(word)) ? "proportional" : "auto";
}
