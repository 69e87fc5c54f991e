// Keep/discard decision engine (docs DECISION.md): is this candidate really better than the incumbent?
// Pure: takes plain JSON data (runs, pooled noise, options) and returns a verdict: keep, discard, guard_fail
// or which version to run again, and why. It never runs evals, reads the journal, touches git or the clock
// (the caller records runs and rebuilds state after a crash), nor estimates noise (noise.ts) or
// baseline figures (calibrate.ts).
// Example: decideCandidate(initialDecisionState(baselineRuns), { direction: "min" })
//   -> { action: "run_candidate", ... }

import { mean, studentTQuantile } from "./stats.ts";
import { isSmaller, type SizeChange } from "../iterate/file-size.ts";
import { passesGuard } from "../experiment/guard.ts";
import { formatCompact, isWholeNumberMetric } from "../text/number-format.ts";
import {
  candidateRunCap,
  type DecisionOptions,
  type DecisionSettings,
  type Direction,
  finiteOrNull,
  formatter,
  type GuardConfig,
  orient,
  printResolution,
  resolveDecisionOptions,
  type Run,
  sharesIncumbentRuns,
  simplifyMarginLevelFor,
  type TiebreakConfig,
  tiebreakLevelFor,
  tieLevelFor,
} from "./options.ts";
import {
  addGroupToPool,
  comparisonScale,
  emptyNoiseHistory,
  estimateNoise,
  finiteRuns,
  minDetectableEffect,
  type NoiseHistory,
  plannedRuns,
  poolGroup,
  scoresOf,
  spreadOf,
} from "./noise.ts";

export type VerdictAction = "keep" | "discard" | "guard_fail" | "run_candidate" | "run_incumbent" | "run_both";
export type DecisionMode = "deterministic" | "sequential";
/** Which test made a keep: a real gain, a tie won on a tiebreak, or a simplification that is not worse. */
export type { SizeChange };
export type KeepRule = "gain" | "tiebreak" | "simplification";

/** Pooled noise of the metrics judged beside the score: the guard's and each tiebreak's. */
export interface SideNoise {
  guard: NoiseHistory;
  tiebreaks: Record<string, NoiseHistory>;
}

export interface DecisionState {
  /**
   * The incumbent's reference runs: under shared incumbent runs the runs that selected it first,
   * then the runs measured while it is incumbent; under the earlier rule fresh runs only.
   */
  incumbentRuns: Run[];
  /** How many of incumbentRuns, from the start, are the runs that selected it (0: none). */
  inheritedRunCount?: number;
  /** How many of incumbentRuns were measured before the current candidate (the rest ran beside it; absent: 0). */
  incumbentRunsBeforeCandidate?: number;
  candidateRuns: Run[];
  noise: NoiseHistory;
  guard: GuardConfig | null;
  /** Secondary objectives in order (none: only the main metric decides). */
  tiebreaks?: TiebreakConfig[];
  sideNoise?: SideNoise;
}

/** What the candidate asks for: a simplification keep (iterate --simplify, or the loop's SIMPLIFY: line). */
export interface CandidateRequest {
  simplification?: SizeChange | null;
}

/** How a tiebreak compared, for the journal. */
export interface TiebreakResult {
  metric: string;
  direction: Direction;
  /** Oriented gain (positive = better), metric units. */
  gain: number | null;
  statistic: number | null;
  threshold: number | null;
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
  /** Which test made a keep (null unless the action is keep). */
  rule: KeepRule | null;
  /** Non-inferiority margin of a tie route (metric units), and the t of (gain + margin) against it. */
  tieMargin: number | null;
  tieStatistic: number | null;
  tiebreak: TiebreakResult | null;
  /** The absolute threshold the guard was judged against, and the t of its distance beyond it. */
  guardThreshold: number | null;
  guardStatistic: number | null;
  sizeChange: SizeChange | null;
}

/** Starting state: the baseline runs are the first incumbent's runs, nothing pooled yet. */
export function initialDecisionState(
  baselineRuns: Run[],
  guard: GuardConfig | null = null,
  tiebreaks: TiebreakConfig[] = [],
): DecisionState {
  const incumbentRuns = finiteRuns(baselineRuns);
  return {
    incumbentRuns,
    inheritedRunCount: 0,
    incumbentRunsBeforeCandidate: incumbentRuns.length,
    candidateRuns: [],
    noise: emptyNoiseHistory(),
    guard,
    tiebreaks,
    sideNoise: emptySideNoise(),
  };
}

function emptySideNoise(): SideNoise {
  return { guard: emptyNoiseHistory(), tiebreaks: {} };
}

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

// The incumbent's runs beside a candidate are compared with its earlier runs at this two-sided
// level: a shift the noise cannot explain (the machine changed speed, a service got slower) means
// the earlier runs no longer describe it (bench/decision.ts scenario R).
const DRIFT_LEVEL = 0.001;

/** The incumbent's runs a candidate is compared with, after the drift check. */
interface Reference {
  runs: Run[];
  /** How many of runs are the runs that selected the incumbent. */
  inherited: number;
  /** How many of runs were measured beside the current candidate. */
  besideCandidate: number;
  /** Earlier runs set aside because the runs beside the candidate moved away from them. */
  dropped: Run[];
  drift: { shift: number; statistic: number; critical: number; df: number } | null;
}

/**
 * Under shared incumbent runs, the incumbent's runs beside the current candidate are checked
 * against its earlier runs (the selecting runs and those beside earlier candidates): when they
 * differ by more than the noise explains at DRIFT_LEVEL, the earlier runs are set aside and only
 * the runs beside this candidate describe the incumbent from now on.
 */
function incumbentReference(state: DecisionState, options: DecisionOptions): Reference {
  const split = Math.min(state.incumbentRunsBeforeCandidate ?? 0, state.incumbentRuns.length);
  const earlier = finiteRuns(state.incumbentRuns.slice(0, split));
  const beside = finiteRuns(state.incumbentRuns.slice(split));
  const inheritedRaw = Math.min(state.inheritedRunCount ?? 0, split);
  const inherited = finiteRuns(state.incumbentRuns.slice(0, inheritedRaw)).length;
  const whole: Reference = {
    runs: [...earlier, ...beside],
    inherited,
    besideCandidate: beside.length,
    dropped: [],
    drift: null,
  };
  if (!sharesIncumbentRuns(options) || earlier.length === 0 || beside.length === 0) return whole;
  // Under the relative noise model the check is scaled to the incumbent's level, not the candidate's.
  const noise = estimateNoise(
    state.noise,
    [earlier, beside, finiteRuns(state.candidateRuns)],
    options,
    mean(scoresOf([...earlier, ...beside])),
  );
  const earlierMean = mean(scoresOf(earlier));
  const besideMean = mean(scoresOf(beside));
  if (noise.sigma === null || earlierMean === null || besideMean === null) return whole;
  const shift = besideMean - earlierMean;
  const statistic = shift / (noise.sigma * Math.sqrt(1 / earlier.length + 1 / beside.length));
  const critical = studentTQuantile(1 - DRIFT_LEVEL / 2, noise.df) as number;
  if (Math.abs(statistic) < critical) return whole;
  return {
    runs: beside,
    inherited: 0,
    besideCandidate: beside.length,
    dropped: earlier,
    drift: { shift, statistic, critical, df: noise.df },
  };
}

/**
 * Under shared incumbent runs, whether a keep with this gain (or a discard with this share of its
 * loss: LOSS_DRIFT_FACTOR) waits for an incumbent run beside the candidate's: the run the drift
 * check compares with the incumbent's earlier runs. Only a gain as large as a
 * drift that one run would show waits: a shift beyond the check's critical value with the noise
 * known (the normal quantile, not Student's: early in a round, with few degrees of freedom, the
 * t quantile would excuse every keep, yet the run beside it also moves the reference and later
 * runs show the drift). A smaller gain, were it all drift, would pass the check more often than
 * not, so the run would cost an eval and protect nothing; it also gave the test another look at
 * the same candidate (bench/decision.ts scenario A: about 2 evals a session fewer, the same
 * gain; scenario R still catches a 20% speed change).
 */
function shiftWaitsForBesideRun(reference: Reference, shift: number, sigma: number): boolean {
  if (reference.besideCandidate > 0) return false;
  const earlier = reference.runs.length;
  if (earlier === 0) return true;
  return shift >= driftShiftQuantile() * sigma * Math.sqrt(1 / earlier + 1);
}

// After the machine slows down, every candidate looks worse by the change and is given up at its
// first look, so the incumbent never runs beside one and the drift check never sees it: scenario
// R with scenario A's changes (seed 1) found 0.20 σ of true gain in the 15 candidates after a 20%
// (10 σ) slowdown, against 5.90 σ without it. A candidate that looks worse by this many times the
// shift the drift check would see with one run (3.29·σ·√(1/n + 1)) waits for an incumbent run
// beside it before a discard: 6.17 σ after the slowdown (5.96-6.28 on seeds 1-8). At 1 (the keep
// side's size) bad changes' first runs reached it and scenario A spent 1.4 evals a session more;
// at 2 it spends 0.05 more. A smaller drift leaves candidates a chance to look promising, and the
// incumbent runs beside those.
const LOSS_DRIFT_FACTOR = 2;

let driftQuantile: number | null = null;
/** The normal quantile at 1 - DRIFT_LEVEL / 2 (3.29): Student's t at a billion degrees of freedom. */
function driftShiftQuantile(): number {
  return driftQuantile ??= studentTQuantile(1 - DRIFT_LEVEL / 2, 1e9) as number;
}

interface Summary {
  options: DecisionOptions;
  reference: Reference;
  incumbentRuns: Run[];
  candidateRuns: Run[];
  incumbentMean: number | null;
  candidateMean: number | null;
  /** Oriented gain in metric units. */
  gain: number | null;
  guardMean: number | null;
  guardPass: boolean | null;
  guardThreshold: number | null;
  cases: { fixed: string[]; broken: string[] } | null;
  sizeChange: SizeChange | null;
}

function summarize(state: DecisionState, options: DecisionOptions, request: CandidateRequest): Summary {
  const reference = incumbentReference(state, options);
  const incumbentRuns = reference.runs;
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
  const guardPass = state.guard && guardMean !== null
    ? passesGuard(guardMean, state.guard.op, state.guard.threshold)
    : null;
  const cases = candidateRuns.length > 0 ? compareCases(incumbentRuns, candidateRuns, options) : null;
  return {
    options,
    reference,
    incumbentRuns,
    candidateRuns,
    incumbentMean,
    candidateMean,
    gain,
    guardMean,
    guardPass,
    guardThreshold: state.guard?.threshold ?? null,
    cases,
    sizeChange: request.simplification ?? null,
  };
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
    rule: fields.action === "keep" ? fields.rule ?? "gain" : null,
    tieMargin: finiteOrNull(fields.tieMargin),
    tieStatistic: finiteOrNull(fields.tieStatistic),
    tiebreak: fields.tiebreak ?? null,
    guardThreshold: summary.guardThreshold,
    guardStatistic: finiteOrNull(fields.guardStatistic),
    sizeChange: summary.sizeChange,
  };
}

/**
 * How the reason writes this comparison's scores: a whole-number metric (a count of failures)
 * without decimals, judged from every run on both sides, as the step line beside it does.
 */
function reasonFormat(summary: Summary) {
  const scores = [...scoresOf(summary.candidateRuns), ...scoresOf(summary.incumbentRuns)];
  return formatter(summary.options, { whole: isWholeNumberMetric(scores) });
}

/** A side metric's values (the guard's, a tiebreak's) as runs of their own, for pooling and estimating noise. */
function sideRuns(runs: readonly Run[], pick: (run: Run) => number | null | undefined): Run[] {
  const values: Run[] = [];
  for (const run of runs) {
    const value = pick(run);
    if (typeof value === "number" && Number.isFinite(value)) values.push({ score: value });
  }
  return values;
}

/** A side metric compared between the incumbent's and the candidate's runs, with its own pooled noise. */
interface SideComparison {
  incumbentMean: number | null;
  candidateMean: number | null;
  /** Oriented: positive = the candidate is better. */
  gain: number | null;
  /** Every version's values so far agree within resolution / 2: compare exactly. */
  deterministic: boolean;
  sigma: number | null;
  df: number;
  candidateCount: number;
  incumbentCount: number;
  /** The metric's print resolution (printResolution of both sides' values). */
  resolution: number;
}

/**
 * A guard's or a tiebreak's values compared. Their noise follows decision.noise_model as far as it
 * can without knowing the metric: constant stays constant; otherwise auto, on the metric's own
 * versions (a guard on latency_ms beside an mrr score).
 */
function compareSide(
  history: NoiseHistory,
  incumbent: readonly Run[],
  candidate: readonly Run[],
  direction: Direction,
  noiseModel: DecisionOptions["noiseModel"],
): SideComparison {
  const incumbentValues = scoresOf(incumbent);
  const candidateValues = scoresOf(candidate);
  const resolution = printResolution([...incumbentValues, ...candidateValues]);
  const incumbentMean = mean(incumbentValues);
  const candidateMean = mean(candidateValues);
  const hasEvidence = history.degreesOfFreedom > 0 || incumbentValues.length >= 2 || candidateValues.length >= 2;
  const deterministic = history.deterministic && hasEvidence && spreadOf(incumbentValues) <= resolution / 2 &&
    spreadOf(candidateValues) <= resolution / 2;
  const noise = estimateNoise(
    history,
    [incumbent, candidate],
    { resolution, noiseModel: noiseModel === "constant" ? "constant" : "auto" },
    comparisonScale(incumbent, candidate),
  );
  return {
    incumbentMean,
    candidateMean,
    gain: incumbentMean !== null && candidateMean !== null ? orient(candidateMean - incumbentMean, direction) : null,
    deterministic,
    sigma: noise.sigma,
    df: noise.df,
    candidateCount: candidateValues.length,
    incumbentCount: incumbentValues.length,
    resolution,
  };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

/**
 * Called when a test says keep. The guard is judged on the candidate's runs against its threshold:
 * exactly when every version's guard values agree (a deterministic guard), else by a one-sided
 * t-test of the distance beyond the threshold with the guard's pooled noise, at the per-look
 * level. A borderline guard asks for another candidate run; at the run cap the mean decides.
 * Guard failure is only declared here, so a candidate that loses on the score is reported as a
 * plain discard (the more useful reason).
 */
function judgeGuard(keep: Verdict, summary: Summary, state: DecisionState, runCap: number): Verdict {
  const guard = state.guard;
  if (!guard) return keep;
  const { options, candidateRuns, incumbentRuns } = summary;
  // Guard figures are written like the guard column (compact), t statistics like the score's test.
  const style = { whole: isWholeNumberMetric([...guardValuesOf(candidateRuns), ...guardValuesOf(incumbentRuns)]) };
  const format = { score: (value: number) => formatCompact(value, style), t: formatter(options).t };
  const what = keep.rule === "tiebreak"
    ? "the candidate won on the tiebreak"
    : keep.rule === "simplification"
    ? "the candidate is a simplification that scores no worse"
    : "the candidate improved the score";
  const fail = (reason: string, guardStatistic: number | null = null): Verdict => ({
    ...keep,
    action: "guard_fail",
    rule: null,
    guardPass: false,
    guardStatistic: finiteOrNull(guardStatistic),
    reason,
  });
  const guardMean = summary.guardMean;
  if (guardMean === null) {
    return fail(`Guard failed: ${what} but its runs printed no "${guard.metric}" value to check.`);
  }
  const side = compareSide(
    state.sideNoise?.guard ?? emptyNoiseHistory(),
    sideRuns(incumbentRuns, (run) => run.guard),
    sideRuns(candidateRuns, (run) => run.guard),
    "max",
    summary.options.noiseModel,
  );
  const count = side.candidateCount;
  const bound = `${guard.op} ${format.score(guard.threshold)}`;
  const observed = `its mean ${guard.metric} ${format.score(guardMean)} over ${plural(count, "run")}`;
  const passes = passesGuard(guardMean, guard.op, guard.threshold);
  if (side.deterministic) {
    const exact = `its mean ${guard.metric} ${format.score(guardMean)}`;
    return passes ? { ...keep, guardPass: true } : fail(`Guard failed: ${what} but ${exact} is not ${bound}.`);
  }
  // Positive when the mean is on the failing side of the threshold.
  const beyond = guard.op === "<=" || guard.op === "<" ? guardMean - guard.threshold : guard.threshold - guardMean;
  const statistic = side.sigma === null ? null : beyond / (side.sigma / Math.sqrt(count));
  const critical = side.sigma === null ? null : studentTQuantile(1 - options.perLookLevel, side.df);
  const test = statistic !== null && critical !== null
    ? `t = ${format.t(statistic)}, decided at ±${format.t(critical)} with ${side.df} df`
    : "its noise is not measured yet";
  if (statistic !== null && critical !== null && statistic >= critical) {
    return fail(`Guard failed: ${what} but ${observed} is beyond ${bound} (${test}).`, statistic);
  }
  if (statistic !== null && critical !== null && -statistic >= critical) {
    return { ...keep, guardPass: true, guardStatistic: statistic, reason: `${keep.reason} The guard holds (${test}).` };
  }
  if (candidateRuns.length < runCap) {
    return {
      ...keep,
      action: "run_candidate",
      rule: null,
      guardPass: null,
      guardStatistic: finiteOrNull(statistic),
      reason: `The guard is borderline: ${observed} against ${bound} (${test}); ${what}: run the candidate again.`,
    };
  }
  const atCap = `borderline after ${plural(count, "run")} (${test}), so the mean decides`;
  return passes
    ? { ...keep, guardPass: true, guardStatistic: statistic, reason: `${keep.reason} The guard holds: ${atCap}.` }
    : fail(`Guard failed: ${what} but ${observed} is not ${bound}; ${atCap}.`, statistic);
}

/** The guard values of both sides' runs, to judge whether the guard is a whole-number metric. */
function guardValuesOf(runs: readonly Run[]): number[] {
  return runs.map((run) => run.guard).filter((value): value is number => typeof value === "number");
}

function decideDeterministic(state: DecisionState, summary: Summary): Verdict {
  const { options, candidateRuns, incumbentMean, gain } = summary;
  const format = reasonFormat(summary);
  const requiredGain = Math.max(options.minEffect, options.resolution / 2);
  const common = { mode: "deterministic" as const, requiredGain, minDetectableEffect: requiredGain, df: null };
  if (incumbentMean === null) {
    return buildVerdict(summary, {
      ...common,
      action: "run_incumbent",
      reason: "The incumbent has no runs yet: run it once.",
    });
  }
  if (candidateRuns.length === 0 || gain === null) {
    return buildVerdict(summary, {
      ...common,
      action: "run_candidate",
      reason: "Run the candidate once (the eval is deterministic).",
    });
  }
  const firstGain = orient(candidateRuns[0].score - incumbentMean, options.direction);
  const exact = { ...common, confidenceInterval: [firstGain, firstGain] as [number, number], confidenceLevel: 1 };
  if (firstGain <= requiredGain) {
    return buildVerdict(summary, {
      ...exact,
      action: "discard",
      reason: `Discarded: the candidate scored ${format.score(candidateRuns[0].score)} against ${
        format.score(incumbentMean)
      } (${format.signed(candidateRuns[0].score - incumbentMean)}), not better by more than ${
        format.score(requiredGain)
      }.`,
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
  return buildVerdict(summary, {
    ...exact,
    action: "keep",
    reason: `Kept: the candidate scored ${format.score(candidateRuns[0].score)} twice against ${
      format.score(incumbentMean)
    } (${format.signed(candidateRuns[0].score - incumbentMean)}; deterministic eval).`,
  });
}

// Incumbent runs a candidate is compared with at least, under shared incumbent runs.
const MIN_REFERENCE_RUNS = 2;
// Under shared runs a candidate that needs more runs gets one, and the incumbent one beside it
// only while the incumbent's reference (the selecting runs included) is at most this many runs
// ahead of the candidate's. A run of the candidate with fewer runs narrows its comparison more
// than one of the incumbent with more, so a reference several runs ahead waits for the candidate
// to catch up instead of growing further on every look. bench/decision.ts scenario A over seeds
// 1-8, against the incumbent running beside every look: 4.4 evals a session fewer (64.5-65.1 to
// 59.9-60.7) for 0.2 σ of true gain, which the run cap of 5 and the bounds below buy back.
const INCUMBENT_LEAD = 1;

// Under shared incumbent runs a candidate is given up once its t falls to the bound of its look
// (the last one repeats); from maxCandidateRuns on it goes on, up to three times as many runs, only while
// its t stays above EXTEND_STATISTIC: its interval still straddles the threshold. Tuned with
// the look levels (options.ts), max_incumbent_runs and INCUMBENT_LEAD on bench/decision.ts
// scenario A: rising bounds spend fewer runs on no-ops, the extension finds more of the real
// gains the regular cap stopped short of. Bounds of 0.75 (then 0.5) at the second and third looks
// saved 2.6 evals a session for 0.27 σ of gain, which the two-run reference (MIN_REFERENCE_RUNS)
// more than pays; once the incumbent stopped running beside every look, 0.7 at the second look
// and 1.1 (not 1.25) at the fourth spent some of the evals saved where they found the most gain.
const FUTILITY_BOUNDS = [0, 0.7, 0.75, 1.1];
const EXTEND_STATISTIC = 1.5;

// With tiebreaks the false-keep budget is shared: a no-op can also be kept on a tiebreak, so the
// main test's looks take this share of their level (bench/decision.ts scenario T: no-op keeps <= 5%).
const MAIN_SHARE_BESIDE_TIEBREAKS = 0.8;

// With decision.target_gain a candidate is given up once its gain is this many standard errors
// below the target, and runs at most the runs that find the target with 80% power (between
// maxCandidateRuns and candidateRunCap, six times as many; bench/decision.ts scenario P).
const TARGET_FUTILITY_STATISTIC = 0.9;
// ...and its looks, many more of them, take this share of the level: at 0.7 scenario A with a
// target kept 5.0% of no-ops, at 0.5 3.8-4.2% (within alpha; scenario P 2.1-2.5%, its power
// still 1.8x the earlier rule's).
const TARGET_LEVEL_SHARE = 0.5;

/**
 * The share of its level the main test's looks take under shared incumbent runs: less beside
 * tiebreaks (they can keep a no-op too) and with a target gain (many more looks). 1 under the
 * earlier rule, which was tuned without them.
 */
function levelShare(state: DecisionState, options: DecisionOptions): number {
  if (!sharesIncumbentRuns(options)) return 1;
  return (state.tiebreaks?.length ? MAIN_SHARE_BESIDE_TIEBREAKS : 1) *
    (options.targetGain === null ? 1 : TARGET_LEVEL_SHARE);
}

/** The t at or below which a candidate is given up at this look. */
function futilityBound(options: DecisionOptions, look: number): number {
  if (!sharesIncumbentRuns(options)) return 0;
  if (look >= options.maxCandidateRuns) return EXTEND_STATISTIC;
  return FUTILITY_BOUNDS[Math.min(look, FUTILITY_BOUNDS.length) - 1];
}

function driftNote(reference: Reference, format: ReturnType<typeof reasonFormat>): string {
  const { drift, dropped, besideCandidate } = reference;
  if (!drift) return "";
  return `The incumbent's ${plural(besideCandidate, "run")} beside this candidate moved ${
    format.signed(drift.shift)
  } from its ${plural(dropped.length, "earlier run")} (t = ${format.t(drift.statistic)}, beyond ±${
    format.t(drift.critical)
  }): the measurements drifted, so the earlier runs are set aside. `;
}

function decideSequential(state: DecisionState, summary: Summary, switchNote: string): Verdict {
  const { options, incumbentRuns, candidateRuns, incumbentMean, candidateMean, gain, reference } = summary;
  const format = reasonFormat(summary);
  const nCandidate = candidateRuns.length;
  const nIncumbent = incumbentRuns.length;
  const shared = sharesIncumbentRuns(options);
  const target = shared ? options.targetGain : null;
  // Run caps: the default ones until the noise is known; with a target gain, the runs it takes.
  let cap = candidateRunCap(options);
  let incumbentCap = options.maxIncumbentRuns;
  // The selecting runs do not count against the incumbent's own runs.
  const incumbentMayRunAgain = () => nIncumbent - reference.inherited < incumbentCap;
  // Under shared runs the incumbent runs beside a candidate only while its reference is at most
  // INCUMBENT_LEAD runs ahead of the candidate's (see INCUMBENT_LEAD), or once it has run beside
  // this candidate: the drift check's run then goes on growing, so a drift one run beside could
  // not show is seen at the next look. A target gain plans the runs both versions need to find
  // it, so the incumbent runs beside every look.
  const incumbentRunsBeside = () =>
    incumbentMayRunAgain() &&
    (!shared || target !== null || reference.besideCandidate > 0 || nCandidate + INCUMBENT_LEAD >= nIncumbent);
  const runMore = (): Verdict["action"] =>
    nCandidate >= cap ? "run_incumbent" : incumbentRunsBeside() ? "run_both" : "run_candidate";
  const mode = "sequential" as const;
  switchNote = driftNote(reference, format) + switchNote;

  // Under shared runs a candidate is compared with at least two incumbent runs. An incumbent kept
  // on one run gets one of its own first: that one selecting run is both the noisiest reference
  // and the most overstated (winner's curse), and a real gain tested against it was often given
  // up at the first look (bench/decision.ts scenario A: 0.55 σ more true gain a session for 3.7
  // evals, the best trade found). Without the runs that selected it (after a tie-route keep, or a
  // drift check) both are its own, as the earlier rule's fresh runs.
  const needed = shared ? MIN_REFERENCE_RUNS : Math.min(options.freshIncumbentRuns, options.maxIncumbentRuns);
  if (nIncumbent < needed) {
    return buildVerdict(summary, {
      mode,
      action: "run_incumbent",
      reason: reference.inherited > 0
        ? `${switchNote}The incumbent has only the ${
          plural(nIncumbent, "run")
        } that selected it; a candidate is compared with at least ${needed}: run the incumbent again.`
        : `${switchNote}The incumbent has ${
          plural(nIncumbent, "fresh run")
        }; it needs ${needed} before candidates can be compared with it.`,
    });
  }
  if (nCandidate === 0 || gain === null || incumbentMean === null || candidateMean === null) {
    return buildVerdict(summary, { mode, action: "run_candidate", reason: `${switchNote}Run the candidate once.` });
  }

  const noise = estimateNoise(
    state.noise,
    [incumbentRuns, candidateRuns],
    options,
    comparisonScale(incumbentRuns, candidateRuns),
  );
  const finalIncumbentRuns = Math.max(
    nIncumbent,
    Math.min(options.maxIncumbentRuns, nIncumbent + options.maxCandidateRuns - nCandidate),
  );
  if (noise.sigma === null) {
    const action = runMore();
    if (action === "run_incumbent" && !incumbentMayRunAgain()) {
      return buildVerdict(summary, {
        mode,
        action: "discard",
        reason:
          `${switchNote}Discarded: no version has two runs, so the noise cannot be measured and no gain can be shown.`,
      });
    }
    return buildVerdict(summary, {
      mode,
      action,
      reason: `${switchNote}No version has two runs yet, so the noise is unknown: ${
        action === "run_both"
          ? "run the candidate and the incumbent again"
          : action === "run_candidate"
          ? "run the candidate again"
          : "run the incumbent again"
      }.`,
    });
  }

  const sigma = noise.sigma;
  const df = noise.df;
  const planned = target === null ? null : plannedRuns(sigma, df, options, target, levelShare(state, options));
  if (planned !== null) {
    cap = planned;
    incumbentCap = planned;
  }
  // Past maxIncumbentRuns (a tie route ran the incumbent longer) the standard error counts only that
  // many: conservative, so the main test keeps the false-keep rate it was tuned for with at most
  // maxIncumbentRuns (bench/decision.ts scenario T), while the mean still uses every run.
  const standardError = sigma *
    Math.sqrt(1 / nCandidate + 1 / Math.min(nIncumbent, incumbentCap + reference.inherited));
  const statistic = (gain - options.minEffect) / standardError;
  const level = (nCandidate === 1 ? options.firstLookLevel : options.perLookLevel) * levelShare(state, options);
  const threshold = studentTQuantile(1 - level, df) as number;
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
    confidenceLevel: 1 - 2 * level,
    minDetectableEffect: minDetectableEffect(sigma, df, options.maxCandidateRuns, finalIncumbentRuns, options),
  };
  const means = `the candidate's mean ${format.score(candidateMean)} over ${nCandidate} run${
    nCandidate === 1 ? "" : "s"
  } against the incumbent's ${format.score(incumbentMean)} over ${nIncumbent} (${
    format.signed(candidateMean - incumbentMean)
  })`;
  // Under the proportional noise model the sd is the pooled share of the score, at this score.
  const scaled = noise.model === "relative" && noise.relativeSigma !== null
    ? `; noise ${(noise.relativeSigma * 100).toPrecision(2)}% of the score`
    : "";
  const test = `t = ${format.t(statistic)}, needs ${format.t(threshold)} with ${df} df${scaled}`;
  const effectNote = options.minEffect > 0 ? ` beyond the minimum effect ${format.score(options.minEffect)}` : "";

  // Past its own run cap (a tie route or a borderline guard asked for more runs) the main test no
  // longer keeps: its false-keep rate is tuned for that many looks.
  if (statistic >= threshold && nCandidate <= cap) {
    if (shared && shiftWaitsForBesideRun(reference, gain, sigma)) {
      return buildVerdict(summary, {
        ...fields,
        action: "run_incumbent",
        reason:
          `${switchNote}Promising: ${means} (${test}); a gain this large could also be the measurements drifting: run the incumbent once beside it before a keep.`,
      });
    }
    return buildVerdict(summary, {
      ...fields,
      action: "keep",
      reason: `${switchNote}Kept: ${means} is a real gain${effectNote} (${test}).`,
    });
  }
  // A loss far beyond a drift's size waits for an incumbent run beside the candidate: see
  // LOSS_DRIFT_FACTOR.
  if (shared && shiftWaitsForBesideRun(reference, -gain / LOSS_DRIFT_FACTOR, sigma)) {
    return buildVerdict(summary, {
      ...fields,
      action: "run_incumbent",
      reason:
        `${switchNote}Far behind: ${means} (${test}); a loss this large could also be the measurements drifting: run the incumbent once beside it before a discard.`,
    });
  }
  if (target !== null) {
    // Given up once the gain is clearly below the target (or at the planned runs), not at t <= 0:
    // a gain of the target's size often looks like nothing after one or two runs.
    const belowTarget = (gain - options.minEffect - target) / standardError;
    if (nCandidate < cap && belowTarget > -TARGET_FUTILITY_STATISTIC) {
      const action = runMore();
      return buildVerdict(summary, {
        ...fields,
        action,
        reason: `${switchNote}Undecided: ${means} (${test}); a gain of the target ${
          format.score(target)
        } is still possible: run the candidate${action === "run_both" ? " and the incumbent" : ""} again.`,
      });
    }
    const why = nCandidate >= cap
      ? `${plural(nCandidate, "run")}, the most the target gain ${format.score(target)} plans for`
      : `${plural(nCandidate, "run")}: the gain is clearly below the target ${format.score(target)} (t against it ${
        format.t(belowTarget)
      }, at most -${format.t(TARGET_FUTILITY_STATISTIC)})`;
    return buildVerdict(summary, {
      ...fields,
      action: "discard",
      reason: `${switchNote}Discarded after ${why}: ${means} is not a significant gain${effectNote} (${test}).`,
    });
  }
  if (statistic <= 0) {
    return buildVerdict(summary, {
      ...fields,
      action: "discard",
      reason: `${switchNote}Discarded: ${means} shows no gain${effectNote} (${test}).`,
    });
  }
  const bound = futilityBound(options, nCandidate);
  if (nCandidate >= cap || statistic <= bound) {
    const why = nCandidate >= cap
      ? `${nCandidate} runs: ${means} is not a significant gain${effectNote} (${test})`
      : nCandidate >= options.maxCandidateRuns
      ? `${nCandidate} runs: ${means} is not a significant gain${effectNote}, and not close enough for more runs (${test}; more runs need t above ${
        format.t(bound)
      })`
      : `${
        plural(nCandidate, "run")
      }: ${means} is too small a gain${effectNote} to be worth more runs (${test}; more runs need t above ${
        format.t(bound)
      })`;
    return buildVerdict(summary, { ...fields, action: "discard", reason: `${switchNote}Discarded after ${why}.` });
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

/** Whether the main test judges this candidate exactly (a deterministic eval whose runs agree). */
function isDeterministicMode(state: DecisionState, summary: Summary): boolean {
  const { resolution } = summary.options;
  return isDeterministicSoFar(state, resolution) && spreadOf(scoresOf(summary.candidateRuns)) <= resolution / 2;
}

function decideMain(state: DecisionState, summary: Summary): Verdict {
  const { options } = summary;
  if (isDeterministicSoFar(state, options.resolution)) {
    const candidateScores = scoresOf(summary.candidateRuns);
    if (spreadOf(candidateScores) <= options.resolution / 2) return decideDeterministic(state, summary);
    const format = reasonFormat(summary);
    const switchNote = `The candidate's runs differ (${
      candidateScores.map(format.score).join(", ")
    }), so the eval is not deterministic: switching to sequential tests. `;
    return decideSequential(state, summary, switchNote);
  }
  return decideSequential(state, summary, "");
}

// ------------------------------------------------------------------ tie routes

// A tie test gives up after maxCandidateRuns runs once its t falls to this: half a standard error
// below the margin. At 0 (the estimate at the margin) a no-op simplification was given up too
// often to be kept 80% of the time (bench/decision.ts scenario S).
const TIE_FUTILITY_STATISTIC = -0.5;

/** Where a tie route stands: it keeps, needs more runs, or cannot keep this candidate any more. */
type RouteStatus = "keep" | "alive" | "dead";

interface TieTest {
  status: "pass" | "alive" | "dead";
  margin: number | null;
  statistic: number | null;
  /** One clause for the reason: "the score is not worse by more than 0.0100 (t = ...)". */
  text: string;
}

/** "120 → 104 lines, 900 → 820 tokens" */
export function describeSizeChange(size: SizeChange): string {
  return `${size.lines[0]} → ${size.lines[1]} lines, ${size.tokens[0]} → ${size.tokens[1]} tokens`;
}

/**
 * Non-inferiority of the main metric: is the candidate not worse than the incumbent by more than
 * the margin? Deterministic eval: its confirmed score is at most the margin below (default
 * max(minEffect, resolution / 2): no loss). Noisy eval: a one-sided t-test of (gain + margin) at
 * the tie level. A simplification's margin is decision.simplify_margin, by default the minimum
 * detectable effect of this test run to maxTieRuns (a loss it could see); a tiebreak's is the main
 * test's minimum detectable effect (a difference the main test could not have seen: a tie). It
 * gives up when the estimate sits below -margin after maxCandidateRuns runs.
 */
function mainTieTest(
  state: DecisionState,
  summary: Summary,
  deterministic: boolean,
  purpose: Exclude<KeepRule, "gain">,
): TieTest {
  const { options, candidateRuns, incumbentRuns, incumbentMean, gain } = summary;
  const format = reasonFormat(summary);
  const count = candidateRuns.length;
  if (count === 0 || gain === null || incumbentMean === null) {
    return { status: "alive", margin: null, statistic: null, text: "the candidate has no run yet" };
  }
  if (deterministic) {
    // A simplification may not lose anything by default (minEffect is the smallest gain worth a
    // keep, not a loss worth accepting); a tie is whatever the main test could not tell apart.
    const margin = purpose === "simplification"
      ? options.simplifyMargin ?? options.resolution / 2
      : Math.max(options.minEffect, options.resolution / 2);
    const firstGain = orient(candidateRuns[0].score - incumbentMean, options.direction);
    const scored = `it scored ${format.score(candidateRuns[0].score)} against ${format.score(incumbentMean)}`;
    if (firstGain < -margin) {
      return { status: "dead", margin, statistic: null, text: `${scored}, worse by more than ${format.score(margin)}` };
    }
    if (count < 2) {
      return { status: "alive", margin, statistic: null, text: `${scored}: run it once more to confirm` };
    }
    return {
      status: "pass",
      margin,
      statistic: null,
      text: `${scored} twice, not worse by more than ${format.score(margin)} (deterministic eval)`,
    };
  }
  const noise = estimateNoise(
    state.noise,
    [incumbentRuns, candidateRuns],
    options,
    comparisonScale(incumbentRuns, candidateRuns),
  );
  const tieLevel = tieLevelFor(options);
  if (noise.sigma === null) {
    const status = count >= options.maxTieRuns ? "dead" : "alive";
    return { status, margin: null, statistic: null, text: "the noise is not measured yet" };
  }
  const margin = purpose === "simplification"
    ? options.simplifyMargin ??
      minDetectableEffect(noise.sigma, noise.df, options.maxTieRuns, options.maxTieRuns, {
        ...options,
        perLookLevel: simplifyMarginLevelFor(options),
        minEffect: 0,
      }) ?? noise.sigma
    : minDetectableEffect(noise.sigma, noise.df, options.maxCandidateRuns, options.maxIncumbentRuns, {
      ...options,
      minEffect: 0,
    }) ?? noise.sigma;
  const standardError = noise.sigma * Math.sqrt(1 / count + 1 / incumbentRuns.length);
  const statistic = (gain + margin) / standardError;
  const critical = studentTQuantile(1 - tieLevel, noise.df) as number;
  const text = `the score is ${summary.candidateMean !== null ? format.score(summary.candidateMean) : "?"} over ${
    plural(count, "run")
  } against ${format.score(incumbentMean)} over ${incumbentRuns.length}, not worse by more than ${
    format.score(margin)
  }? (t = ${format.t(statistic)}, needs ${format.t(critical)} with ${noise.df} df)`;
  if (statistic >= critical) return { status: "pass", margin, statistic, text: text.replace("? (", " (") };
  const hopeless = count >= options.maxTieRuns ||
    (statistic <= TIE_FUTILITY_STATISTIC && count >= options.maxCandidateRuns);
  return { status: hopeless ? "dead" : "alive", margin, statistic, text };
}

/** One tiebreak compared: better, worse or equal (exact or tested), or still undecided. */
function tiebreakTest(
  state: DecisionState,
  summary: Summary,
  tiebreak: TiebreakConfig,
): { status: "better" | "equal" | "worse" | "alive" | "dead"; result: TiebreakResult; text: string } {
  const { options, candidateRuns, incumbentRuns } = summary;
  const pick = (run: Run) => run.tiebreaks?.[tiebreak.metric];
  const side = compareSide(
    state.sideNoise?.tiebreaks[tiebreak.metric] ?? emptyNoiseHistory(),
    sideRuns(incumbentRuns, pick),
    sideRuns(candidateRuns, pick),
    tiebreak.direction,
    options.noiseModel,
  );
  // Its values as printed (compact), its t statistics like the score's.
  const format = { score: (value: number) => formatCompact(value), t: formatter(options).t };
  const count = candidateRuns.length; // runs asked for, whether or not each printed the tiebreak
  const result: TiebreakResult = {
    metric: tiebreak.metric,
    direction: tiebreak.direction,
    gain: finiteOrNull(side.gain),
    statistic: null,
    threshold: null,
  };
  if (side.gain === null || side.candidateMean === null || side.incumbentMean === null) {
    const who = side.candidateMean === null ? "the candidate's" : "the incumbent's";
    return { status: "dead", result, text: `${who} runs printed no "${tiebreak.metric}" value` };
  }
  const moved = `${tiebreak.metric} ${format.score(side.incumbentMean)} → ${format.score(side.candidateMean)}`;
  if (side.deterministic) {
    const resolution = side.resolution / 2;
    if (side.gain > resolution) {
      return side.candidateCount >= 2
        ? { status: "better", result, text: `${moved} (exact)` }
        : { status: "alive", result, text: `${moved}: run it once more to confirm` };
    }
    if (side.gain < -resolution) return { status: "worse", result, text: `${moved} is worse` };
    return { status: "equal", result, text: `${moved} is equal` };
  }
  const tieLevel = tiebreakLevelFor(options);
  if (side.sigma === null) {
    const status = count >= options.maxTieRuns ? "dead" : "alive";
    return { status, result, text: `${moved}, its noise not measured yet` };
  }
  const statistic = side.gain / (side.sigma * Math.sqrt(1 / side.candidateCount + 1 / side.incumbentCount));
  const critical = studentTQuantile(1 - tieLevel, side.df) as number;
  const tested = { ...result, statistic, threshold: critical };
  const text = `${moved} (t = ${format.t(statistic)}, needs ${format.t(critical)} with ${side.df} df)`;
  if (statistic >= critical) return { status: "better", result: tested, text };
  if (-statistic >= critical) return { status: "worse", result: tested, text: `${text} is worse` };
  const hopeless = count >= options.maxTieRuns || (statistic <= 0 && count >= options.maxCandidateRuns);
  return { status: hopeless ? "dead" : "alive", result: tested, text };
}

interface RouteResult {
  status: RouteStatus;
  rule: Exclude<KeepRule, "gain">;
  reason: string;
  fields: Pick<Verdict, "tieMargin" | "tieStatistic" | "tiebreak">;
}

/**
 * The routes to a keep besides a real gain, asked for by the candidate (a simplification) or the
 * objective (tiebreaks): null when neither applies. Both need the main metric's tie test.
 */
function tieRoutes(
  state: DecisionState,
  summary: Summary,
  request: CandidateRequest,
  deterministic: boolean,
): RouteResult[] {
  const routes: RouteResult[] = [];
  const size = request.simplification ?? null;
  const tiebreaks = state.tiebreaks ?? [];
  if (size && !isSmaller(size)) {
    routes.push({
      status: "dead",
      rule: "simplification",
      reason: `Not judged as a simplification: the files did not get smaller (${describeSizeChange(size)}).`,
      fields: { tieMargin: null, tieStatistic: null, tiebreak: null },
    });
  }
  if (!(size && isSmaller(size)) && tiebreaks.length === 0) return routes;
  if (size && isSmaller(size)) {
    const tie = mainTieTest(state, summary, deterministic, "simplification");
    // A simplification must not undo a tiebreak's gain either: one shown worse ends the route.
    const worse = tiebreaks.map((tiebreak) => tiebreakTest(state, summary, tiebreak))
      .find((compared) => compared.status === "worse");
    const tieFields = { tieMargin: tie.margin, tieStatistic: tie.statistic, tiebreak: worse?.result ?? null };
    const status: RouteStatus = worse ? "dead" : tie.status === "pass" ? "keep" : tie.status;
    const reason = status === "keep"
      ? `Kept as a simplification (${describeSizeChange(size)}): ${tie.text}.`
      : `As a simplification (${describeSizeChange(size)}): ${worse ? `tiebreak ${worse.text}` : tie.text}.`;
    routes.push({ status, rule: "simplification", reason, fields: tieFields });
  }
  if (tiebreaks.length === 0) return routes;
  const tie = mainTieTest(state, summary, deterministic, "tiebreak");
  const tieFields = { tieMargin: tie.margin, tieStatistic: tie.statistic, tiebreak: null };
  // A clear loss on the main metric is no tie: the main test's reason says all there is to say.
  if (tie.status === "dead") return [...routes, { status: "dead", rule: "tiebreak", reason: "", fields: tieFields }];
  for (const tiebreak of tiebreaks) {
    const compared = tiebreakTest(state, summary, tiebreak);
    if (compared.status === "equal") continue;
    const fields = { ...tieFields, tiebreak: compared.result };
    const both = `tie on the main metric: ${tie.text}; tiebreak ${compared.text}`;
    let status: RouteStatus;
    if (compared.status === "worse" || compared.status === "dead") status = "dead";
    else if (compared.status === "better" && tie.status === "pass") status = "keep";
    else status = "alive";
    const reason = status === "keep"
      ? `Kept on the tiebreak: ${both}.`
      : status === "dead"
      ? `On the tiebreak: ${compared.text}.`
      : `On the tiebreak: ${both}.`;
    routes.push({ status, rule: "tiebreak", reason, fields });
    return routes; // the first tiebreak that is not exactly equal decides the order
  }
  routes.push({
    status: "dead",
    rule: "tiebreak",
    reason: "On the tiebreak: every tiebreak metric is equal.",
    fields: tieFields,
  });
  return routes;
}

/**
 * The keep/discard rule of DECISION.md. Deterministic eval: one run, confirmed by an identical
 * second run when it beats the incumbent by more than max(minEffect, resolution/2). Noisy eval:
 * sequential t-tests of (gain - minEffect) against pooled noise at perLookLevel per look.
 * Besides a real gain, a candidate is kept on a tie route: a simplification (asked for, and the
 * files got smaller) that is not worse than the incumbent by more than the tie margin, or a tie on
 * the main metric with a significantly better tiebreak. A keep then passes the guard's test.
 * Returns "run_*" until it can decide; the caller adds the runs and asks again.
 */
export function decideCandidate(
  state: DecisionState,
  options: DecisionSettings = {},
  request: CandidateRequest = {},
): Verdict {
  const resolved = resolveForState(state, options);
  const summary = summarize(state, resolved, request);
  const routes = tieRoutes(state, summary, request, isDeterministicMode(state, summary));
  const main = decideMain(state, summary);
  if (main.action === "keep") return judgeGuard(main, summary, state, candidateRunCap(resolved));
  const keeping = routes.find((route) => route.status === "keep");
  // Under shared incumbent runs a noisy eval's route keeps only after the incumbent ran beside the
  // candidate, whatever the size of the gain: the drift check comes first (a main-test keep waits
  // for it only with a drift-sized gain).
  if (
    keeping && main.mode === "sequential" && sharesIncumbentRuns(resolved) && summary.reference.besideCandidate === 0
  ) {
    return {
      ...main,
      ...keeping.fields,
      action: "run_incumbent",
      rule: null,
      reason: `${keeping.reason.replace(/^Kept /, "Keepable ")} Run the incumbent once beside it before a keep.`,
    };
  }
  if (keeping) {
    const keep: Verdict = { ...main, ...keeping.fields, action: "keep", rule: keeping.rule, reason: keeping.reason };
    return judgeGuard(keep, summary, state, resolved.maxTieRuns);
  }
  // A route is never run past its cap, whatever its tests say (a run without the tiebreak's value
  // counts too).
  const capped = summary.candidateRuns.length >= resolved.maxTieRuns;
  const route = (capped ? undefined : routes.find((candidate) => candidate.status === "alive")) ??
    routes.find((candidate) => candidate.rule === "tiebreak") ?? routes[0];
  if (!route) return main;
  if (main.action !== "discard") return { ...main, ...route.fields };
  if (route.status !== "alive" || capped) {
    const notes = routes.map((each) => each.reason).filter((reason) => reason !== "");
    return { ...main, ...route.fields, reason: [main.reason, ...notes].join(" ") };
  }
  const incumbentAlsoRuns = summary.incumbentRuns.length < resolved.maxTieRuns &&
    !(main.mode === "deterministic" && (route.fields.tiebreak === null || route.fields.tiebreak.statistic === null));
  return {
    ...main,
    ...route.fields,
    action: incumbentAlsoRuns ? "run_both" : "run_candidate",
    reason: `Tied so far. ${route.reason} Run the candidate${incumbentAlsoRuns ? " and the incumbent" : ""} again.`,
  };
}

/** The options for this state: a null resolution is read from the incumbent's and the candidate's scores. */
function resolveForState(state: DecisionState, options: DecisionSettings): DecisionOptions {
  return resolveDecisionOptions(options, scoresOf(finiteRuns([...state.incumbentRuns, ...state.candidateRuns])));
}

/** The guard's and tiebreaks' pooled noise with more versions' runs folded in. */
function poolSides(state: DecisionState, groups: readonly (readonly Run[])[]): SideNoise {
  const sides = state.sideNoise ?? emptySideNoise();
  let guard = sides.guard;
  const tiebreaks = { ...sides.tiebreaks };
  for (const group of groups) {
    const pool = (history: NoiseHistory, values: Run[]) =>
      poolGroup(history, values, printResolution(scoresOf(values)));
    if (state.guard) guard = pool(guard, sideRuns(group, (run) => run.guard));
    for (const { metric } of state.tiebreaks ?? []) {
      tiebreaks[metric] = pool(
        tiebreaks[metric] ?? emptyNoiseHistory(),
        sideRuns(group, (run) => run.tiebreaks?.[metric]),
      );
    }
  }
  return { guard, tiebreaks };
}

/**
 * After a keep: the candidate becomes the incumbent. Under shared incumbent runs its reference
 * starts from the runs that selected it: they overstate it (winner's curse), which can only make
 * later keeps harder, and runs beside later candidates join them; the old incumbent's runs join
 * the noise pool. A keep on a tie route (a simplification, a tiebreak) was selected for "not
 * worse" over many runs, which biases them too much to carry on (bench/decision.ts scenario S):
 * as under the earlier rule, the incumbent starts with no runs, the next decideCandidate asks for
 * fresh runs, and both old versions join the noise pool. A deterministic eval has no noise to
 * select on, so its identical confirmation runs stay as the reference.
 */
export function promoteCandidate(
  state: DecisionState,
  options: DecisionSettings = {},
  rule: KeepRule | null = "gain",
): DecisionState {
  const resolved = resolveForState(state, options);
  const candidateRuns = finiteRuns(state.candidateRuns);
  const deterministic = isDeterministicSoFar(state, resolved.resolution) &&
    spreadOf(scoresOf(candidateRuns)) <= resolved.resolution / 2;
  const reference = incumbentReference(state, resolved);
  const oldGroups = reference.dropped.length > 0 ? [reference.dropped, reference.runs] : [state.incumbentRuns];
  const withIncumbent = oldGroups.reduce(
    (history, group) => poolGroup(history, group, resolved.resolution),
    state.noise,
  );
  // Under the earlier rule a deterministic keep's runs are its reference but not "selecting runs".
  const startedFrom = {
    inheritedRunCount: sharesIncumbentRuns(resolved) ? candidateRuns.length : 0,
    incumbentRunsBeforeCandidate: candidateRuns.length,
  };
  if (deterministic || (sharesIncumbentRuns(resolved) && (rule ?? "gain") === "gain")) {
    // The candidate's runs go on as the incumbent's and are pooled when it is replaced.
    return {
      ...state,
      incumbentRuns: candidateRuns,
      ...startedFrom,
      candidateRuns: [],
      noise: withIncumbent,
      sideNoise: poolSides(state, oldGroups),
    };
  }
  return {
    ...state,
    incumbentRuns: [],
    inheritedRunCount: 0,
    incumbentRunsBeforeCandidate: 0,
    candidateRuns: [],
    noise: poolGroup(withIncumbent, candidateRuns, resolved.resolution),
    sideNoise: poolSides(state, [...oldGroups, candidateRuns]),
  };
}

/**
 * After a discard or guard_fail: the candidate's runs join the noise pool; the incumbent keeps its
 * runs, less the earlier ones a drift check set aside (they join the pool as a group of their own).
 */
export function discardCandidate(state: DecisionState, options: DecisionSettings = {}): DecisionState {
  const resolved = resolveForState(state, options);
  const reference = incumbentReference(state, resolved);
  const drifted = reference.dropped.length > 0;
  const incumbentRuns = drifted ? reference.runs : state.incumbentRuns;
  const setAside = drifted ? [reference.dropped] : [];
  return {
    ...state,
    incumbentRuns,
    inheritedRunCount: drifted ? reference.inherited : state.inheritedRunCount ?? 0,
    incumbentRunsBeforeCandidate: incumbentRuns.length,
    candidateRuns: [],
    noise: [...setAside, state.candidateRuns].reduce(
      (history, group) => poolGroup(history, group, resolved.resolution),
      state.noise,
    ),
    sideNoise: poolSides(state, [...setAside, state.candidateRuns]),
  };
}
