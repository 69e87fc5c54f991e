// Keep/discard decision engine (docs DECISION.md): is this candidate really better than the incumbent?
// Pure: takes plain JSON data (runs, pooled noise, options) and returns a verdict: keep, discard, guard_fail
// or which version to run again, and why. It never runs evals, reads the journal, touches git or the clock
// (the caller records runs and rebuilds state after a crash), nor estimates noise (noise.ts) or
// baseline figures (calibrate.ts).
// Example: decideCandidate(initialDecisionState(baselineRuns), { direction: "min" })
//   -> { action: "run_candidate", ... }

import { mean, studentTQuantile } from "./stats.ts";
import { passesGuard } from "../experiment/guard.ts";
import { formatCompact, isWholeNumberMetric } from "../text/number-format.ts";
import {
  type DecisionOptions,
  finiteOrNull,
  formatter,
  type GuardConfig,
  orient,
  resolveDecisionOptions,
  type Run,
} from "./options.ts";
import {
  addGroupToPool,
  emptyNoiseHistory,
  estimateNoise,
  finiteRuns,
  minDetectableEffect,
  type NoiseHistory,
  poolGroup,
  scoresOf,
  spreadOf,
} from "./noise.ts";

export type VerdictAction = "keep" | "discard" | "guard_fail" | "run_candidate" | "run_incumbent" | "run_both";
export type DecisionMode = "deterministic" | "sequential";

export interface DecisionState {
  /** Runs of the incumbent since it became incumbent (fresh ones only). */
  incumbentRuns: Run[];
  candidateRuns: Run[];
  noise: NoiseHistory;
  guard: GuardConfig | null;
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

/** Starting state: the baseline runs are the first incumbent's runs, nothing pooled yet. */
export function initialDecisionState(baselineRuns: Run[], guard: GuardConfig | null = null): DecisionState {
  return { incumbentRuns: finiteRuns(baselineRuns), candidateRuns: [], noise: emptyNoiseHistory(), guard };
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
  const guardPass = state.guard && guardMean !== null
    ? passesGuard(guardMean, state.guard.op, state.guard.threshold)
    : null;
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
/**
 * How the reason writes this comparison's scores: a whole-number metric (a count of failures)
 * without decimals, judged from every run on both sides, as the step line beside it does.
 */
function reasonFormat(summary: Summary) {
  const scores = [...scoresOf(summary.candidateRuns), ...scoresOf(summary.incumbentRuns)];
  return formatter(summary.options, { whole: isWholeNumberMetric(scores) });
}

/** The guard values of both sides' runs, to judge whether the guard is a whole-number metric. */
function guardValuesOf(runs: readonly Run[]): number[] {
  return runs.map((run) => run.guard).filter((value): value is number => typeof value === "number");
}

function keepUnlessGuardFails(
  summary: Summary,
  state: DecisionState,
  fields: Partial<Verdict> & Pick<Verdict, "reason" | "mode">,
): Verdict {
  const guard = state.guard;
  if (guard && summary.guardPass !== true) {
    const style = {
      whole: isWholeNumberMetric([...guardValuesOf(summary.candidateRuns), ...guardValuesOf(summary.incumbentRuns)]),
    };
    const reason = summary.guardMean === null
      ? `Guard failed: the candidate improved the score but its runs printed no "${guard.metric}" value to check.`
      : `Guard failed: the candidate improved the score but its mean ${guard.metric} ${
        formatCompact(summary.guardMean, style)
      } is not ${guard.op} ${formatCompact(guard.threshold, style)}.`;
    return { ...buildVerdict(summary, { ...fields, action: "guard_fail", reason }), guardPass: false };
  }
  return buildVerdict(summary, { ...fields, action: "keep" });
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
  return keepUnlessGuardFails(summary, state, {
    ...exact,
    reason: `Kept: the candidate scored ${format.score(candidateRuns[0].score)} twice against ${
      format.score(incumbentMean)
    } (${format.signed(candidateRuns[0].score - incumbentMean)}; deterministic eval).`,
  });
}

function decideSequential(state: DecisionState, summary: Summary, switchNote: string): Verdict {
  const { options, incumbentRuns, candidateRuns, incumbentMean, candidateMean, gain } = summary;
  const format = reasonFormat(summary);
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
      reason: `${switchNote}The incumbent has ${nIncumbent} fresh run${
        nIncumbent === 1 ? "" : "s"
      }; it needs ${options.freshIncumbentRuns} before candidates can be compared with it.`,
    });
  }
  if (nCandidate === 0 || gain === null || incumbentMean === null || candidateMean === null) {
    return buildVerdict(summary, { mode, action: "run_candidate", reason: `${switchNote}Run the candidate once.` });
  }

  const noise = estimateNoise(state.noise, [incumbentRuns, candidateRuns], options);
  const finalIncumbentRuns = Math.max(
    nIncumbent,
    Math.min(options.maxIncumbentRuns, nIncumbent + options.maxCandidateRuns - nCandidate),
  );
  if (noise.sigma === null) {
    const action = runMore();
    if (action === "run_incumbent" && !incumbentMayRunAgain) {
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
  } against the incumbent's ${format.score(incumbentMean)} over ${nIncumbent} (${
    format.signed(candidateMean - incumbentMean)
  })`;
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
      reason:
        `${switchNote}Discarded after ${nCandidate} runs: ${means} is not a significant gain${effectNote} (${test}).`,
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
    const format = reasonFormat(summary);
    const switchNote = `The candidate's runs differ (${
      candidateScores.map(format.score).join(", ")
    }), so the eval is not deterministic: switching to sequential tests. `;
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
  return {
    ...state,
    incumbentRuns: [],
    candidateRuns: [],
    noise: poolGroup(withIncumbent, candidateRuns, resolved.resolution),
  };
}

/** After a discard or guard_fail: the candidate's runs join the noise pool; the incumbent keeps its runs. */
export function discardCandidate(state: DecisionState, options: Partial<DecisionOptions> = {}): DecisionState {
  return { ...state, candidateRuns: [], noise: addGroupToPool(state.noise, state.candidateRuns, options) };
}
