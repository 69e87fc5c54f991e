// What a round's held-out scores say: the held-out score of the baseline and of each keep
// (journal fields `holdout_score` / `holdout_runs`), the gain on the eval set against the gain
// on the held-out set from the baseline to the latest measured keep, whether the held-out gain
// fell behind by more than their combined noise (the overfitting signal), and the keep whose
// held-out score was best; and the one sentence an agent is told when the signal fires. Pure:
// journal lines in, figures out. It reads no files, formats no figures and never names the
// held-out file (the dashboard, the loop prompt and next-round decide what each reader may see).
import { mean, studentTQuantile, sumOfSquaredDeviations } from "../decision/stats.ts";
import { printedResolution } from "../decision/options.ts";
import { measureDecimals, type MeasureStyle } from "../text/number-format.ts";

/** One-sided level of the overfitting test (see `overfitting`). */
const OVERFITTING_TEST_LEVEL = 0.01;

/** What an agent (loop prompt, next round's instructions) is told when `behind`: no figures, no file. */
export const OVERFITTING_WARNING =
  "Gains on the eval set are not carrying over to unseen cases: prefer general changes over ones fitted to the eval's cases.";

/** The fields of a journal result line this module reads; a ResultLine is one. */
export type HoldoutLine = {
  iteration: number;
  status: string;
  commit: string | null;
  score: number | null;
  runs?: (number | null)[];
  /** Re-runs of the incumbent made while deciding this line: fresh measurements of the last keep (or the baseline). */
  incumbent_runs?: (number | null)[];
  incumbent_commit?: string | null;
  /** The mean of the held-out runs (absent before a held-out set existed, or when its measurement failed). */
  holdout_score?: unknown;
  holdout_runs?: unknown;
  /** Each run's `CASE` scores: the eval set's per-case gains give the case-sampling noise. */
  case_runs?: unknown;
};

/** The baseline or a keep, with both of its scores. */
/** How the overfitting figures are written: to the decimals of the eval-set and held-out scores. */
export function holdoutStyle(points: readonly HoldoutPoint[]): MeasureStyle {
  return { decimals: measureDecimals(points.flatMap((point) => [point.evalScore, point.holdoutScore])) };
}

export type HoldoutPoint = {
  iteration: number;
  status: "baseline" | "keep";
  commit: string | null;
  /**
   * Its eval-set score as the summary's incumbent: the mean of the fresh re-runs made after it was
   * kept when there are any (the runs that selected a keep are biased upward), else of its own runs
   * (the baseline's with its re-runs); null when it has none.
   */
  evalScore: number | null;
  holdoutScore: number;
  /** Held-out runs behind `holdoutScore`. */
  holdoutRuns: number;
};

export type OverfittingSignal<L extends HoldoutLine = HoldoutLine> = {
  /** The baseline and every keep that has a held-out score, in journal order. */
  points: HoldoutPoint[];
  /** The baseline's point; null when the baseline has no held-out score. */
  baseline: HoldoutPoint | null;
  /** The latest keep with a held-out score, else the baseline's point. */
  latest: HoldoutPoint | null;
  /** latest - baseline on the eval set, oriented (positive is better); null without both points. */
  evalGain: number | null;
  /** The same on the held-out set. */
  holdoutGain: number | null;
  /** t(0.99, df)·√(se_eval² + se_holdout²): each se the standard error of that gain from its set's run-to-run sd. */
  combinedNoise: number | null;
  /** evalGain - holdoutGain > combinedNoise: the eval-set gain is not carrying over to unseen cases. */
  behind: boolean;
  /** The baseline or keep line with the best held-out score (ties: the earliest); null with none. */
  bestHoldoutLine: L | null;
  best: HoldoutPoint | null;
};

export type OverfittingOptions = {
  /**
   * The smallest difference the eval prints (decision.resolution): no standard error is taken below
   * it; null or left out: read from the scores (printedResolution).
   */
  resolution?: number | null;
  /** The eval's run-to-run sd from the baseline's noise measurement, used when the lines' runs cannot give one. */
  evalSd?: number | null;
  /** The held-out share of the labelled cases (holdout.split), for the held-out set's case count; else as many as the eval set's. */
  holdoutShare?: number | null;
};

/**
 * The overfitting signal of one round's result lines (baseline included).
 * Example: baseline eval 0.60 / held-out 0.58, last keep eval 0.72 / held-out 0.60, sd 0.005
 * over 3 runs each -> evalGain +0.12, holdoutGain +0.02, combinedNoise ≈ 0.012, behind.
 */
export function overfitting<L extends HoldoutLine>(
  lines: readonly L[],
  direction: "max" | "min",
  options: OverfittingOptions = {},
): OverfittingSignal<L> {
  const orient = direction === "min" ? -1 : 1;
  const measured: { line: L; point: HoldoutPoint; evalRuns: number[] }[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.status !== "baseline" && line.status !== "keep") continue;
    const evalRuns = evalRunsOf(lines, index);
    const point = holdoutPoint(line, evalRuns);
    if (point) measured.push({ line, point, evalRuns });
  }
  const baselineEntry = measured.find((entry) => entry.point.status === "baseline") ?? null;
  const latestEntry = measured.findLast((entry) => entry.point.status === "keep") ?? baselineEntry;
  let bestEntry: (typeof measured)[number] | null = null;
  for (const entry of measured) {
    // Ties go to the earlier keep: a later keep that gained on the eval set but not on unseen cases
    // is exactly the change --from-best-holdout is there to leave out.
    if (bestEntry === null || orient * (entry.point.holdoutScore - bestEntry.point.holdoutScore) > 0) {
      bestEntry = entry;
    }
  }
  const signal: OverfittingSignal<L> = {
    points: measured.map((entry) => entry.point),
    baseline: baselineEntry?.point ?? null,
    latest: latestEntry?.point ?? null,
    evalGain: null,
    holdoutGain: null,
    combinedNoise: null,
    behind: false,
    bestHoldoutLine: bestEntry?.line ?? null,
    best: bestEntry?.point ?? null,
  };
  if (!baselineEntry || !latestEntry) return signal;
  const { line: startLine, point: start } = baselineEntry;
  const { line: endLine, point: end } = latestEntry;
  const evalRuns = [baselineEntry.evalRuns, latestEntry.evalRuns];
  signal.holdoutGain = orient * (end.holdoutScore - start.holdoutScore);
  if (start.evalScore === null || end.evalScore === null) return signal;
  signal.evalGain = orient * (end.evalScore - start.evalScore);
  const holdoutRuns = [finite(startLine.holdout_runs), finite(endLine.holdout_runs)];
  const evalSd = pooledSd(evalRuns) ?? options.evalSd ?? 0;
  // One held-out run per measurement (a deterministic eval) gives no spread: the same eval's own noise stands in.
  const holdoutSd = pooledSd(holdoutRuns) ?? evalSd;
  const resolution = options.resolution ??
    printedResolution([...evalRuns.flat(), ...holdoutRuns.flat(), start.holdoutScore, end.holdoutScore]);
  const seEval = Math.max(resolution, gainStandardError(evalSd, evalRuns));
  const seHoldout = Math.max(resolution, gainStandardError(holdoutSd, holdoutRuns));
  // The two sets hold different cases: even a change that helps every case alike in kind gains
  // different amounts on each, by the spread of its per-case gains (read from the eval set's CASE
  // lines) over both sets' case counts. Without it a deterministic eval warned on honest changes.
  const gains = perCaseGains(startLine, endLine, orient);
  let seCases = 0;
  let caseDegrees = 0;
  if (gains.length >= 2) {
    const evalCases = gains.length;
    const share = options.holdoutShare;
    const heldCases = share && share > 0 && share < 1
      ? Math.max(1, Math.round((evalCases * share) / (1 - share)))
      : evalCases;
    seCases = Math.sqrt(sumOfSquaredDeviations(gains) / (evalCases - 1)) * Math.sqrt(1 / evalCases + 1 / heldCases);
    caseDegrees = evalCases - 1;
  }
  // A one-sided test at 1% of "the eval-set gain exceeds the held-out gain", with the degrees of
  // freedom the two spreads were measured from: 2 standard errors warned in 6-8% of honest
  // sessions (bench/decision.ts scenario O), where the spreads come from 2-6 runs.
  const degreesOfFreedom = caseDegrees + [...evalRuns, ...holdoutRuns].reduce(
    (total, runs) => total + Math.max(0, runs.length - 1),
    0,
  );
  const critical = studentTQuantile(1 - OVERFITTING_TEST_LEVEL, Math.max(1, degreesOfFreedom)) ?? 2;
  signal.combinedNoise = critical * Math.sqrt(seEval ** 2 + seHoldout ** 2 + seCases ** 2);
  signal.behind = signal.evalGain - signal.holdoutGain > signal.combinedNoise;
  return signal;
}

/** The signal as a summary carries it: figures only, without the journal line itself. */
export type HoldoutSummary = Omit<OverfittingSignal, "bestHoldoutLine">;

export function holdoutSummary(signal: OverfittingSignal<HoldoutLine>): HoldoutSummary {
  const { bestHoldoutLine: _line, ...figures } = signal;
  return figures;
}

/** True when any line records a held-out score: the round has a held-out set to talk about. */
export function hasHoldoutScores(lines: readonly HoldoutLine[]): boolean {
  return lines.some((line) => holdoutScoreOf(line) !== null);
}

/** A line's held-out score: `holdout_score`, else the mean of `holdout_runs`; null when it has neither. */
export function holdoutScoreOf(line: HoldoutLine): number | null {
  if (typeof line.holdout_score === "number" && Number.isFinite(line.holdout_score)) return line.holdout_score;
  return mean(finite(line.holdout_runs));
}

/**
 * The eval runs behind the baseline or keep at `index`: a keep's fresh re-runs (the incumbent runs
 * of the lines after it, up to the next keep) when there are any, else its own runs; the baseline's
 * own runs with its re-runs. A line without runs stands for one run of its score.
 */
function evalRunsOf(lines: readonly HoldoutLine[], index: number): number[] {
  const line = lines[index];
  const fresh: number[] = [];
  for (const later of lines.slice(index + 1)) {
    const commit = later.incumbent_commit ?? null;
    const sameIncumbent = commit === null || line.commit === null || commit.startsWith(line.commit) ||
      line.commit.startsWith(commit);
    if (sameIncumbent) fresh.push(...finite(later.incumbent_runs));
    if (later.status === "keep") break;
  }
  const own = finite(line.runs);
  const selected = own.length > 0 ? own : line.score === null ? [] : [line.score];
  if (line.status === "baseline") return [...selected, ...fresh];
  return fresh.length > 0 ? fresh : selected;
}

function holdoutPoint(line: HoldoutLine, evalRuns: number[]): HoldoutPoint | null {
  const holdoutScore = holdoutScoreOf(line);
  if (holdoutScore === null) return null;
  return {
    iteration: line.iteration,
    status: line.status === "baseline" ? "baseline" : "keep",
    commit: line.commit,
    evalScore: mean(evalRuns),
    holdoutScore,
    holdoutRuns: Math.max(1, finite(line.holdout_runs).length),
  };
}

/** Each case's mean over a line's runs, from its `case_runs`. */
function caseMeans(line: HoldoutLine): Map<string, number> {
  const totals = new Map<string, { sum: number; count: number }>();
  if (Array.isArray(line.case_runs)) {
    for (const run of line.case_runs) {
      if (typeof run !== "object" || run === null) continue;
      for (const [id, value] of Object.entries(run as Record<string, unknown>)) {
        if (typeof value !== "number" || !Number.isFinite(value)) continue;
        const total = totals.get(id) ?? { sum: 0, count: 0 };
        totals.set(id, { sum: total.sum + value, count: total.count + 1 });
      }
    }
  }
  return new Map([...totals].map(([id, total]) => [id, total.sum / total.count]));
}

/** Oriented per-case gains from one line to another, over the cases both have. */
function perCaseGains(start: HoldoutLine, end: HoldoutLine, orient: number): number[] {
  const before = caseMeans(start);
  const after = caseMeans(end);
  const gains: number[] = [];
  for (const [id, value] of after) {
    const earlier = before.get(id);
    if (earlier !== undefined) gains.push(orient * (value - earlier));
  }
  return gains;
}

/** The sd within the two measurements, pooled; null when neither has two runs. */
function pooledSd(groups: number[][]): number | null {
  let squares = 0;
  let degreesOfFreedom = 0;
  for (const runs of groups) {
    squares += sumOfSquaredDeviations(runs);
    degreesOfFreedom += Math.max(0, runs.length - 1);
  }
  return degreesOfFreedom > 0 ? Math.sqrt(squares / degreesOfFreedom) : null;
}

/** The standard error of the difference of the two means: sd·√(1/n₁ + 1/n₂), a mean without runs counted as one run. */
function gainStandardError(sd: number, groups: number[][]): number {
  return sd * Math.sqrt(groups.reduce((total, runs) => total + 1 / Math.max(1, runs.length), 0));
}

function finite(values: unknown): number[] {
  if (!Array.isArray(values)) return [];
  return values.filter((value): value is number => typeof value === "number" && Number.isFinite(value));
}
