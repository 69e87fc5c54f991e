// Keep/discard decision engine (docs DECISION.md): is this candidate really better than the incumbent?
// Pure: takes plain JSON data (runs, pooled noise, options) and returns a verdict saying what to
// do next (keep, discard, guard_fail, or which version to run again) and why. It never runs evals,
// reads the journal, touches git or the clock; the caller records runs and rebuilds state after a crash.
// Example: decideCandidate(initialDecisionState(baselineRuns), { direction: "min" }) -> { action: "run_candidate", ... }

import { CliError } from "./errors.ts";
import {
  MAD_TO_STANDARD_DEVIATION,
  fUpperTail,
  mean,
  median,
  medianAbsoluteDeviation,
  sampleStandardDeviation,
  studentTQuantile,
  sumOfSquaredDeviations,
} from "./stats.ts";
import { passesGuard } from "./guard.ts";

export type Direction = "max" | "min";
export type GuardOperator = ">=" | "<=" | ">" | "<";
export type VerdictAction = "keep" | "discard" | "guard_fail" | "run_candidate" | "run_incumbent" | "run_both";
export type DecisionMode = "deterministic" | "sequential";

export interface DecisionOptions {
  direction: Direction;
  /** alpha: the false-keep rate the procedure is tuned for (the one user knob). */
  falseKeepRate: number;
  /** One-sided significance level of each sequential look. */
  perLookLevel: number;
  maxCandidateRuns: number;
  maxIncumbentRuns: number;
  /** Runs a new incumbent gets after a keep, never reusing the runs that selected it. */
  freshIncumbentRuns: number;
  baselineRuns: number;
  /** Smallest gain worth keeping, in metric units (>= 0, whatever the direction). */
  minEffect: number;
  /** Print resolution of the score, in metric units. */
  resolution: number;
}

/** One eval run: its SCORE, the guard metric if any, and its `CASE <id> <value>` lines. */
export interface Run {
  score: number;
  guard?: number | null;
  cases?: Record<string, number>;
}

export interface GuardConfig {
  metric: string;
  op: GuardOperator;
  threshold: number;
}

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
}

export interface DecisionState {
  /** Runs of the incumbent since it became incumbent (fresh ones only). */
  incumbentRuns: Run[];
  candidateRuns: Run[];
  noise: NoiseHistory;
  guard: GuardConfig | null;
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
}

export interface Verdict {
  action: VerdictAction;
  /** One plain sentence (or two) for the journal and the dashboard. */
  reason: string;
  mode: DecisionMode;
  /** t statistic of (gain - minEffect); null in deterministic mode or when it cannot be computed. */
  statistic: number | null;
  /** t critical value the statistic must reach to keep. */
  threshold: number | null;
  df: number | null;
  sigma: number | null;
  sigmaSource: "runs" | "cases" | null;
  /** Observed gain of the candidate over the incumbent, oriented: positive = better (metric units). */
  estimatedGain: number | null;
  /** candidateMean - incumbentMean as printed (negative is better when minimizing). */
  delta: number | null;
  /** The observed gain needed to keep with the runs so far (metric units, oriented). */
  requiredGain: number | null;
  /** Two-sided interval for the true gain; its lower end reaches minEffect exactly when t reaches threshold. */
  confidenceInterval: [number, number] | null;
  confidenceLevel: number | null;
  /** True gain kept with 80% power at the last possible look (metric units). */
  minDetectableEffect: number | null;
  candidateMean: number | null;
  incumbentMean: number | null;
  candidateRunCount: number;
  incumbentRunCount: number;
  guardMean: number | null;
  guardPass: boolean | null;
  /** Case ids the candidate fixed / broke (null without case lines in both versions). */
  casesFixed: string[] | null;
  casesBroken: string[] | null;
}

export interface Calibration {
  runs: number;
  mean: number | null;
  median: number | null;
  sd: number | null;
  /** max - min of the scores. */
  spread: number | null;
  /** sd / |mean|; null when the mean is 0 or sd is unknown. */
  cv: number | null;
  deterministic: boolean;
  /** MAD-based sd, floored like sigma; the yardstick for wild runs. */
  robustSd: number | null;
  /** Indexes (into the runs given) of scores more than 10 robust sd from the median. */
  wildRuns: number[];
  minDetectableEffect: number | null;
  /** Smallest observed gain that can be kept after the most runs (for the journal's min_delta). */
  recommendedMinDelta: number | null;
  warnings: string[];
}

// DECISION.md: alpha 0.05 -> 0.02 per look. Five looks with a stop at t <= 0 keep no-ops at
// about 3% overall in simulation, so the same share scales the level for other alphas.
const PER_LOOK_SHARE_OF_ALPHA = 0.4;
// Power used to express the minimum detectable effect (a conventional 80%).
const DETECTION_POWER = 0.8;
// decision_sim.py: fall back to run-level noise when this F-test says cases share noise.
const SHARED_NOISE_P_VALUE = 0.1;
// hyperfine's rule of thumb for a run that is not measuring the same thing (robust sd units).
const WILD_RUN_ROBUST_SDS = 10;
// Above this sd / |mean| the noise deserves a warning even without an expected gain (fraction).
const HIGH_NOISE_CV = 0.05;

export const DEFAULT_DECISION_OPTIONS: Readonly<DecisionOptions> = Object.freeze({
  direction: "max",
  falseKeepRate: 0.05,
  perLookLevel: 0.02,
  maxCandidateRuns: 5,
  maxIncumbentRuns: 6,
  freshIncumbentRuns: 2,
  baselineRuns: 3,
  minEffect: 0,
  resolution: 1e-4,
});

/** Per-look level for a false-keep rate: perLookLevelFor(0.05) -> 0.02, as in DECISION.md. */
export function perLookLevelFor(falseKeepRate: number): number {
  return falseKeepRate * PER_LOOK_SHARE_OF_ALPHA;
}

/**
 * Defaults < overrides. When only falseKeepRate is given, perLookLevel follows it.
 * Throws on values the procedure cannot work with, naming the option and value.
 */
export function resolveDecisionOptions(overrides: Partial<DecisionOptions> = {}): DecisionOptions {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const options: DecisionOptions = { ...DEFAULT_DECISION_OPTIONS, ...defined };
  if (overrides.perLookLevel === undefined && overrides.falseKeepRate !== undefined) {
    options.perLookLevel = perLookLevelFor(overrides.falseKeepRate);
  }
  if (options.direction !== "max" && options.direction !== "min") {
    throw new CliError(`Cannot use decision option direction "${options.direction}": it must be "max" or "min"`, "E_DECISION_OPTION");
  }
  for (const name of ["falseKeepRate", "perLookLevel"] as const) {
    if (!(options[name] > 0 && options[name] < 0.5)) {
      throw new CliError(`Cannot use decision option ${name} "${options[name]}": it must be between 0 and 0.5`, "E_DECISION_OPTION");
    }
  }
  for (const name of ["maxCandidateRuns", "maxIncumbentRuns", "freshIncumbentRuns", "baselineRuns"] as const) {
    if (!(Number.isInteger(options[name]) && options[name] >= 1)) {
      throw new CliError(`Cannot use decision option ${name} "${options[name]}": it must be a whole number >= 1`, "E_DECISION_OPTION");
    }
  }
  if (!(options.minEffect >= 0)) {
    throw new CliError(`Cannot use decision option minEffect "${options.minEffect}": it must be >= 0 (metric units)`, "E_DECISION_OPTION");
  }
  if (!(options.resolution > 0)) {
    throw new CliError(`Cannot use decision option resolution "${options.resolution}": it must be > 0`, "E_DECISION_OPTION");
  }
  return options;
}

/** Higher is better after orienting: y = score when maximizing, -score when minimizing. */
export function orient(score: number, direction: Direction): number {
  return direction === "max" ? score : -score;
}

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
  };
}

/** Starting state: the baseline runs are the first incumbent's runs, nothing pooled yet. */
export function initialDecisionState(baselineRuns: Run[], guard: GuardConfig | null = null): DecisionState {
  return { incumbentRuns: finiteRuns(baselineRuns), candidateRuns: [], noise: emptyNoiseHistory(), guard };
}

// ------------------------------------------------------------------ noise pooling

interface CaseGroupStats {
  usable: boolean;
  squares: number;
  df: number;
  caseCount: number;
}

function finiteRuns(runs: readonly Run[]): Run[] {
  return runs.filter((run) => Number.isFinite(run.score));
}

function scoresOf(runs: readonly Run[]): number[] {
  return runs.map((run) => run.score);
}

function spreadOf(values: readonly number[]): number {
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
  options: Partial<DecisionOptions> = {},
): NoiseHistory {
  return poolGroup(history, runs, resolveDecisionOptions(options).resolution);
}

function poolGroup(history: NoiseHistory, runs: readonly Run[], resolution: number): NoiseHistory {
  const group = finiteRuns(runs);
  if (group.length === 0) return history;
  const scores = scoresOf(group);
  const cases = caseGroupStats(group, resolution);
  const caseCountAgrees = history.caseCount === null || cases.caseCount === history.caseCount;
  const casesConsistent = history.casesConsistent && cases.usable && caseCountAgrees;
  return {
    sumOfSquares: history.sumOfSquares + sumOfSquaredDeviations(scores),
    degreesOfFreedom: history.degreesOfFreedom + group.length - 1,
    caseSumOfSquares: casesConsistent ? history.caseSumOfSquares + cases.squares : 0,
    caseDegreesOfFreedom: casesConsistent ? history.caseDegreesOfFreedom + cases.df : 0,
    caseCount: casesConsistent ? cases.caseCount : null,
    casesConsistent,
    deterministic: history.deterministic && spreadOf(scores) <= resolution / 2,
    versionsPooled: history.versionsPooled + 1,
  };
}

/**
 * Noise sd for tests: pooled within-version variance over the history plus the current groups,
 * floored at resolution/sqrt(12). With consistent case lines the per-case estimate / cases is
 * used unless an F-test (p < 0.10) says the run-level variance is larger (cases share noise).
 */
export function estimateNoise(
  history: NoiseHistory,
  currentGroups: readonly (readonly Run[])[],
  options: Partial<DecisionOptions> = {},
): NoiseEstimate {
  const { resolution } = resolveDecisionOptions(options);
  let pooled = history;
  for (const group of currentGroups) pooled = poolGroup(pooled, group, resolution);
  const floor = noiseFloor(resolution);
  const runDf = pooled.degreesOfFreedom;
  const runSigma = runDf > 0 ? Math.sqrt(pooled.sumOfSquares / runDf) : null;
  // The incumbent's and candidate's cases must be the same cases to share one per-case variance.
  const sameCases = currentGroups.every((group) => sameCaseIds(currentGroups[0], group));
  const caseDf = pooled.casesConsistent && sameCases ? pooled.caseDegreesOfFreedom : 0;
  const caseSigma = caseDf > 0 && pooled.caseCount
    ? Math.sqrt(pooled.caseSumOfSquares / caseDf / pooled.caseCount)
    : null;
  let sharedNoisePValue: number | null = null;
  let useCases = false;
  if (runSigma !== null && caseSigma !== null) {
    if (caseSigma > 0) {
      sharedNoisePValue = runDf >= 2 ? fUpperTail((runSigma / caseSigma) ** 2, runDf, caseDf) : null;
      useCases = sharedNoisePValue === null || sharedNoisePValue >= SHARED_NOISE_P_VALUE;
    } else {
      // Cases never moved: any run-level noise must be shared, so the cases cannot sharpen it.
      useCases = runSigma === 0;
    }
  }
  const rawSigma = useCases ? caseSigma : runSigma;
  const df = useCases ? caseDf : runDf;
  if (rawSigma === null) {
    return { sigma: null, df: 0, source: null, runSigma, runDf, caseSigma, caseDf, sharedNoisePValue, floored: false };
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
  options: Partial<DecisionOptions> = {},
): number | null {
  const resolved = resolveDecisionOptions(options);
  const critical = studentTQuantile(1 - resolved.perLookLevel, df);
  const powerQuantile = studentTQuantile(DETECTION_POWER, df);
  if (critical === null || powerQuantile === null || !(nCandidate >= 1 && nIncumbent >= 1)) return null;
  const standardError = Math.max(sigma, noiseFloor(resolved.resolution)) * Math.sqrt(1 / nCandidate + 1 / nIncumbent);
  return resolved.minEffect + (critical + powerQuantile) * standardError;
}

// ------------------------------------------------------------------ the decision

function isDeterministicSoFar(state: DecisionState, resolution: number): boolean {
  const incumbentScores = scoresOf(finiteRuns(state.incumbentRuns));
  const hasEvidence = state.noise.degreesOfFreedom > 0 || incumbentScores.length >= 2;
  return state.noise.deterministic && hasEvidence && spreadOf(incumbentScores) <= resolution / 2;
}

/** Mean of each case over the runs that have it; NaN for a case no run has. */
function caseMeans(runs: readonly Run[], ids: readonly string[]): { means: number[]; binary: boolean[] } {
  const means: number[] = [];
  const binary: boolean[] = [];
  for (const id of ids) {
    let total = 0;
    let count = 0;
    let zeroOrOne = true;
    for (const run of runs) {
      const value = run.cases?.[id];
      if (value === undefined || !Number.isFinite(value)) continue;
      total += value;
      count++;
      zeroOrOne &&= value === 0 || value === 1;
    }
    means.push(count > 0 ? total / count : Number.NaN);
    binary.push(zeroOrOne);
  }
  return { means, binary };
}

/**
 * Cases the candidate fixed or broke. 0/1 cases: the mean crosses 0.5 (a flip). Other cases:
 * the oriented case mean moves by more than resolution/2.
 */
function compareCases(
  incumbentRuns: readonly Run[],
  candidateRuns: readonly Run[],
  options: DecisionOptions,
): { fixed: string[]; broken: string[] } | null {
  const firstCandidate = candidateRuns.find((run) => run.cases)?.cases;
  if (!firstCandidate || !incumbentRuns.some((run) => run.cases)) return null;
  const ids = Object.keys(firstCandidate);
  const before = caseMeans(incumbentRuns, ids);
  const after = caseMeans(candidateRuns, ids);
  const passes = (value: number) => orient(value - 0.5, options.direction) > 0;
  const fixed: string[] = [];
  const broken: string[] = [];
  ids.forEach((id, index) => {
    const beforeMean = before.means[index];
    const afterMean = after.means[index];
    if (Number.isNaN(beforeMean) || Number.isNaN(afterMean)) return;
    if (before.binary[index] && after.binary[index]) {
      if (!passes(beforeMean) && passes(afterMean)) fixed.push(id);
      if (passes(beforeMean) && !passes(afterMean)) broken.push(id);
      return;
    }
    const gain = orient(afterMean - beforeMean, options.direction);
    if (gain > options.resolution / 2) fixed.push(id);
    if (gain < -options.resolution / 2) broken.push(id);
  });
  return { fixed, broken };
}

function finiteOrNull(value: number | null | undefined): number | null {
  return value !== null && value !== undefined && Number.isFinite(value) ? value : null;
}

function decimalsFor(resolution: number): number {
  return Math.min(Math.max(Math.ceil(-Math.log10(resolution) - 1e-9), 0), 12);
}

function formatter(options: DecisionOptions) {
  const decimals = decimalsFor(options.resolution);
  return {
    score: (value: number) => value.toFixed(decimals),
    signed: (value: number) => (value >= 0 ? "+" : "") + value.toFixed(decimals),
    t: (value: number) => value.toFixed(2),
  };
}

interface Summary {
  options: DecisionOptions;
  incumbentRuns: Run[];
  candidateRuns: Run[];
  incumbentMean: number | null;
  candidateMean: number | null;
  /** Oriented gain in metric units. */
  gain: number | null;
  guardMean: number | null;
  guardPass: boolean | null;
  cases: { fixed: string[]; broken: string[] } | null;
}

function summarize(state: DecisionState, options: DecisionOptions): Summary {
  const incumbentRuns = finiteRuns(state.incumbentRuns);
  const candidateRuns = finiteRuns(state.candidateRuns);
  const incumbentMean = mean(scoresOf(incumbentRuns));
  const candidateMean = mean(scoresOf(candidateRuns));
  const gain = incumbentMean !== null && candidateMean !== null
    ? orient(candidateMean - incumbentMean, options.direction)
    : null;
  const guardValues = candidateRuns
    .map((run) => run.guard)
    .filter((value): value is number => typeof value === "number" && Number.isFinite(value));
  const guardMean = mean(guardValues);
  const guardPass = state.guard && guardMean !== null ? passesGuard(guardMean, state.guard.op, state.guard.threshold) : null;
  const cases = candidateRuns.length > 0 ? compareCases(incumbentRuns, candidateRuns, options) : null;
  return { options, incumbentRuns, candidateRuns, incumbentMean, candidateMean, gain, guardMean, guardPass, cases };
}

function buildVerdict(
  summary: Summary,
  fields: Partial<Verdict> & Pick<Verdict, "action" | "reason" | "mode">,
): Verdict {
  const { incumbentMean, candidateMean, gain } = summary;
  const interval = fields.confidenceInterval;
  return {
    action: fields.action,
    reason: fields.reason,
    mode: fields.mode,
    statistic: finiteOrNull(fields.statistic),
    threshold: finiteOrNull(fields.threshold),
    df: finiteOrNull(fields.df),
    sigma: finiteOrNull(fields.sigma),
    sigmaSource: fields.sigmaSource ?? null,
    estimatedGain: finiteOrNull(gain),
    delta: incumbentMean !== null && candidateMean !== null ? finiteOrNull(candidateMean - incumbentMean) : null,
    requiredGain: finiteOrNull(fields.requiredGain),
    confidenceInterval: interval && Number.isFinite(interval[0]) && Number.isFinite(interval[1]) ? interval : null,
    confidenceLevel: finiteOrNull(fields.confidenceLevel),
    minDetectableEffect: finiteOrNull(fields.minDetectableEffect),
    candidateMean: finiteOrNull(candidateMean),
    incumbentMean: finiteOrNull(incumbentMean),
    candidateRunCount: summary.candidateRuns.length,
    incumbentRunCount: summary.incumbentRuns.length,
    guardMean: finiteOrNull(summary.guardMean),
    guardPass: summary.guardPass,
    casesFixed: summary.cases?.fixed ?? null,
    casesBroken: summary.cases?.broken ?? null,
  };
}

/**
 * Called when the primary test says keep. Guard failure is only declared here, so a candidate
 * that loses on the score is reported as a plain discard (the more useful reason).
 */
function keepUnlessGuardFails(
  summary: Summary,
  state: DecisionState,
  fields: Partial<Verdict> & Pick<Verdict, "reason" | "mode">,
): Verdict {
  const guard = state.guard;
  if (guard && summary.guardPass !== true) {
    const reason = summary.guardMean === null
      ? `Guard failed: the candidate improved the score but its runs printed no "${guard.metric}" value to check.`
      : `Guard failed: the candidate improved the score but its mean ${guard.metric} ${
        summary.guardMean.toPrecision(6)
      } is not ${guard.op} ${guard.threshold}.`;
    return { ...buildVerdict(summary, { ...fields, action: "guard_fail", reason }), guardPass: false };
  }
  return buildVerdict(summary, { ...fields, action: "keep" });
}

function decideDeterministic(state: DecisionState, summary: Summary): Verdict {
  const { options, candidateRuns, incumbentMean, gain } = summary;
  const format = formatter(options);
  const requiredGain = Math.max(options.minEffect, options.resolution / 2);
  const common = { mode: "deterministic" as const, requiredGain, minDetectableEffect: requiredGain, df: null };
  if (incumbentMean === null) {
    return buildVerdict(summary, { ...common, action: "run_incumbent", reason: "The incumbent has no runs yet: run it once." });
  }
  if (candidateRuns.length === 0 || gain === null) {
    return buildVerdict(summary, { ...common, action: "run_candidate", reason: "Run the candidate once (the eval is deterministic)." });
  }
  const firstGain = orient(candidateRuns[0].score - incumbentMean, options.direction);
  const exact = { ...common, confidenceInterval: [firstGain, firstGain] as [number, number], confidenceLevel: 1 };
  if (firstGain <= requiredGain) {
    return buildVerdict(summary, {
      ...exact,
      action: "discard",
      reason: `Discarded: the candidate scored ${format.score(candidateRuns[0].score)} against ${
        format.score(incumbentMean)
      } (${format.signed(candidateRuns[0].score - incumbentMean)}), not better by more than ${format.score(requiredGain)}.`,
    });
  }
  if (candidateRuns.length === 1) {
    return buildVerdict(summary, {
      ...exact,
      action: "run_candidate",
      reason: `The candidate scored ${format.score(candidateRuns[0].score)} against ${
        format.score(incumbentMean)
      }: run it once more to confirm the eval is deterministic.`,
    });
  }
  return keepUnlessGuardFails(summary, state, {
    ...exact,
    reason: `Kept: the candidate scored ${format.score(candidateRuns[0].score)} twice against ${
      format.score(incumbentMean)
    } (${format.signed(candidateRuns[0].score - incumbentMean)}; deterministic eval).`,
  });
}

function decideSequential(state: DecisionState, summary: Summary, switchNote: string): Verdict {
  const { options, incumbentRuns, candidateRuns, incumbentMean, candidateMean, gain } = summary;
  const format = formatter(options);
  const nCandidate = candidateRuns.length;
  const nIncumbent = incumbentRuns.length;
  const incumbentMayRunAgain = nIncumbent < options.maxIncumbentRuns;
  const runMore = (): Verdict["action"] =>
    nCandidate >= options.maxCandidateRuns ? "run_incumbent" : incumbentMayRunAgain ? "run_both" : "run_candidate";
  const mode = "sequential" as const;

  if (nIncumbent < Math.min(options.freshIncumbentRuns, options.maxIncumbentRuns)) {
    return buildVerdict(summary, {
      mode,
      action: "run_incumbent",
      reason: `${switchNote}The incumbent has ${nIncumbent} fresh run${nIncumbent === 1 ? "" : "s"}; it needs ${
        options.freshIncumbentRuns
      } before candidates can be compared with it.`,
    });
  }
  if (nCandidate === 0 || gain === null || incumbentMean === null || candidateMean === null) {
    return buildVerdict(summary, { mode, action: "run_candidate", reason: `${switchNote}Run the candidate once.` });
  }

  const noise = estimateNoise(state.noise, [incumbentRuns, candidateRuns], options);
  const finalIncumbentRuns = Math.max(nIncumbent, Math.min(options.maxIncumbentRuns, nIncumbent + options.maxCandidateRuns - nCandidate));
  if (noise.sigma === null) {
    const action = runMore();
    if (action === "run_incumbent" && !incumbentMayRunAgain) {
      return buildVerdict(summary, {
        mode,
        action: "discard",
        reason: `${switchNote}Discarded: no version has two runs, so the noise cannot be measured and no gain can be shown.`,
      });
    }
    return buildVerdict(summary, {
      mode,
      action,
      reason: `${switchNote}No version has two runs yet, so the noise is unknown: ${
        action === "run_both" ? "run the candidate and the incumbent again" : action === "run_candidate" ? "run the candidate again" : "run the incumbent again"
      }.`,
    });
  }

  const sigma = noise.sigma;
  const df = noise.df;
  const standardError = sigma * Math.sqrt(1 / nCandidate + 1 / nIncumbent);
  const statistic = (gain - options.minEffect) / standardError;
  const threshold = studentTQuantile(1 - options.perLookLevel, df) as number;
  const halfWidth = threshold * standardError;
  const fields = {
    mode,
    statistic,
    threshold,
    df,
    sigma,
    sigmaSource: noise.source,
    requiredGain: options.minEffect + halfWidth,
    confidenceInterval: [gain - halfWidth, gain + halfWidth] as [number, number],
    confidenceLevel: 1 - 2 * options.perLookLevel,
    minDetectableEffect: minDetectableEffect(sigma, df, options.maxCandidateRuns, finalIncumbentRuns, options),
  };
  const means = `the candidate's mean ${format.score(candidateMean)} over ${nCandidate} run${
    nCandidate === 1 ? "" : "s"
  } against the incumbent's ${format.score(incumbentMean)} over ${nIncumbent} (${format.signed(candidateMean - incumbentMean)})`;
  const test = `t = ${format.t(statistic)}, needs ${format.t(threshold)} with ${df} df`;
  const effectNote = options.minEffect > 0 ? ` beyond the minimum effect ${format.score(options.minEffect)}` : "";

  if (statistic >= threshold) {
    return keepUnlessGuardFails(summary, state, {
      ...fields,
      reason: `${switchNote}Kept: ${means} is a real gain${effectNote} (${test}).`,
    });
  }
  if (statistic <= 0) {
    return buildVerdict(summary, {
      ...fields,
      action: "discard",
      reason: `${switchNote}Discarded: ${means} shows no gain${effectNote} (${test}).`,
    });
  }
  if (nCandidate >= options.maxCandidateRuns) {
    return buildVerdict(summary, {
      ...fields,
      action: "discard",
      reason: `${switchNote}Discarded after ${nCandidate} runs: ${means} is not a significant gain${effectNote} (${test}).`,
    });
  }
  const action = runMore();
  return buildVerdict(summary, {
    ...fields,
    action,
    reason: `${switchNote}Undecided: ${means} (${test}); run the candidate${
      action === "run_both" ? " and the incumbent" : ""
    } again.`,
  });
}

/**
 * The keep/discard rule of DECISION.md. Deterministic eval: one run, confirmed by an identical
 * second run when it beats the incumbent by more than max(minEffect, resolution/2). Noisy eval:
 * sequential t-tests of (gain - minEffect) against pooled noise at perLookLevel per look.
 * Returns "run_*" until it can decide; the caller adds the runs and asks again.
 */
export function decideCandidate(state: DecisionState, options: Partial<DecisionOptions> = {}): Verdict {
  const resolved = resolveDecisionOptions(options);
  const summary = summarize(state, resolved);
  if (isDeterministicSoFar(state, resolved.resolution)) {
    const candidateScores = scoresOf(summary.candidateRuns);
    if (spreadOf(candidateScores) <= resolved.resolution / 2) return decideDeterministic(state, summary);
    const format = formatter(resolved);
    const switchNote = `The candidate's runs differ (${candidateScores.map(format.score).join(", ")}), so the eval is not deterministic: switching to sequential tests. `;
    return decideSequential(state, summary, switchNote);
  }
  return decideSequential(state, summary, "");
}

/**
 * After a keep: the candidate becomes the incumbent. Under noise it starts with no runs, so the
 * next decideCandidate asks for freshIncumbentRuns fresh runs (the runs that selected it are
 * biased upward: winner's curse) and both old versions join the noise pool. A deterministic eval
 * has no noise to select on, so its identical confirmation runs stay as the reference.
 */
export function promoteCandidate(state: DecisionState, options: Partial<DecisionOptions> = {}): DecisionState {
  const resolved = resolveDecisionOptions(options);
  const candidateRuns = finiteRuns(state.candidateRuns);
  const deterministic = isDeterministicSoFar(state, resolved.resolution) &&
    spreadOf(scoresOf(candidateRuns)) <= resolved.resolution / 2;
  const withIncumbent = poolGroup(state.noise, state.incumbentRuns, resolved.resolution);
  if (deterministic) {
    return { ...state, incumbentRuns: candidateRuns, candidateRuns: [], noise: withIncumbent };
  }
  return { ...state, incumbentRuns: [], candidateRuns: [], noise: poolGroup(withIncumbent, candidateRuns, resolved.resolution) };
}

/** After a discard or guard_fail: the candidate's runs join the noise pool; the incumbent keeps its runs. */
export function discardCandidate(state: DecisionState, options: Partial<DecisionOptions> = {}): DecisionState {
  return { ...state, candidateRuns: [], noise: addGroupToPool(state.noise, state.candidateRuns, options) };
}

// ------------------------------------------------------------------ calibration

/**
 * Baseline figures from the incumbent's first runs. Example (resolution 1e-4):
 * calibrate([{score: 0.71}, {score: 0.71}, {score: 0.71}]) -> deterministic, sd 0, recommendedMinDelta 0.0001.
 */
export function calibrate(
  runs: readonly Run[],
  options: Partial<DecisionOptions> & { expectedGain?: number } = {},
): Calibration {
  const { expectedGain, ...decisionOptions } = options;
  const resolved = resolveDecisionOptions(decisionOptions);
  const format = formatter(resolved);
  const indexed = runs.map((run, index) => ({ score: run.score, index })).filter((run) => Number.isFinite(run.score));
  const scores = indexed.map((run) => run.score);
  const n = scores.length;
  const centre = mean(scores);
  const middle = median(scores);
  const sd = sampleStandardDeviation(scores);
  const spread = n > 0 ? spreadOf(scores) : null;
  const deterministic = n >= 2 && (spread as number) <= resolved.resolution / 2;
  const mad = medianAbsoluteDeviation(scores);
  const robustSd = mad === null ? null : Math.max(MAD_TO_STANDARD_DEVIATION * mad, noiseFloor(resolved.resolution));
  const wildRuns = middle === null || robustSd === null
    ? []
    : indexed.filter((run) => Math.abs(run.score - middle) > WILD_RUN_ROBUST_SDS * robustSd).map((run) => run.index);

  let detectable: number | null = null;
  let recommendedMinDelta: number | null = null;
  if (deterministic) {
    detectable = Math.max(resolved.minEffect, resolved.resolution / 2);
    recommendedMinDelta = Math.ceil(detectable / resolved.resolution - 1e-9) * resolved.resolution;
  } else if (sd !== null) {
    const df = n - 1;
    detectable = minDetectableEffect(sd, df, resolved.maxCandidateRuns, resolved.maxIncumbentRuns, resolved);
    const critical = studentTQuantile(1 - resolved.perLookLevel, df) as number;
    const smallestKept = resolved.minEffect + critical * Math.max(sd, noiseFloor(resolved.resolution)) *
        Math.sqrt(1 / resolved.maxCandidateRuns + 1 / resolved.maxIncumbentRuns);
    recommendedMinDelta = Math.ceil(smallestKept / resolved.resolution - 1e-9) * resolved.resolution;
  }

  const warnings: string[] = [];
  if (n < 2) {
    warnings.push(`${n} baseline run${n === 1 ? "" : "s"} cannot measure noise: run the baseline at least 2 times (${resolved.baselineRuns} recommended).`);
  }
  for (const index of wildRuns) {
    warnings.push(`Run ${index + 1} scored ${format.score(runs[index].score)}, more than ${WILD_RUN_ROBUST_SDS} robust sd from the median ${
      format.score(middle as number)
    }: check the eval for crashes, caching or a cold start.`);
  }
  const cv = sd !== null && centre !== null && centre !== 0 ? sd / Math.abs(centre) : null;
  if (expectedGain !== undefined && detectable !== null && detectable > expectedGain) {
    warnings.push(`The noise (sd ${format.score(sd ?? 0)}) hides gains below ${format.score(detectable)}, more than the expected gain ${
      format.score(expectedGain)
    }: reduce the eval's noise (more cases, fixed seeds) or expect few keeps.`);
  } else if (cv !== null && cv > HIGH_NOISE_CV) {
    warnings.push(`Runs of the same code vary by ${(cv * 100).toFixed(1)}% of the score (sd ${format.score(sd as number)}): only gains above ${
      format.score(detectable ?? 0)
    } can be told from noise.`);
  }
  return {
    runs: n,
    mean: finiteOrNull(centre),
    median: finiteOrNull(middle),
    sd: finiteOrNull(sd),
    spread: finiteOrNull(spread),
    cv: finiteOrNull(cv),
    deterministic,
    robustSd: finiteOrNull(robustSd),
    wildRuns,
    minDetectableEffect: finiteOrNull(detectable),
    recommendedMinDelta: finiteOrNull(recommendedMinDelta),
    warnings,
  };
}
