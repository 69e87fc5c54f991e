// What a round's journal says, as one plain object: start vs current best, iterations
// against the budget, kept changes ranked by gain, dead ends grouped, crashes, plateau,
// noise and guard status, plus one row per iteration. Pure: journal data in, data out.
// It reads no files and formats nothing for display (see dashboard-render.ts for that);
// the dashboard and next-round.ts both build on it.
import { BudgetSchema, type Experiment } from "./experiment-file.ts";
import { toNumber, type Journal, type ResultLine, type Status } from "./journal.ts";
import { formatDelta } from "../text/number-format.ts";
import { passesGuard } from "./guard.ts";

/** budget.plateau when neither the experiment file nor the journal's config line says. */
const DEFAULT_PLATEAU = BudgetSchema.parse({}).plateau;

export type SummaryContext = {
  /** The experiment file, when there is one: budget, direction, guard op and baseline noise come from it. */
  experiment?: Experiment | null;
  /** Which round's baseline to use from the experiment (default: the journal's own round, else current_round). */
  round?: number | null;
};

export type IterationRow = {
  iteration: number;
  commit: string | null;
  status: Status;
  /** The mean of the line's eval runs when it has several, else its score; null for a crash. */
  score: number | null;
  /** How many eval runs stand behind `score` (1 for a plain score, 0 for none). */
  runs: number;
  /** As recorded in the journal; computed against the incumbent when the line has none. */
  delta: string | null;
  guardScore: number | null;
  guardPass: boolean | null;
  description: string;
  reason: string | null;
  timestamp: string;
  /** The incumbent after this iteration: the running best, re-measured when fresh runs exist. */
  incumbent: number | null;
};

export type KeptChange = {
  iteration: number;
  commit: string | null;
  description: string;
  /** The kept version's score: re-measured (mean of fresh incumbent runs) when available. */
  score: number | null;
  /** The score on the runs that selected it (can be inflated by the winner's curse). */
  selectedScore: number | null;
  /** The incumbent it replaced. */
  previous: number | null;
  /** Improvement over `previous` in the metric's direction: positive is better. */
  gain: number | null;
  guardScore: number | null;
};

export type DeadEndGroup = {
  /** The lever name or first significant words shared by the group's descriptions. */
  key: string;
  count: number;
  statuses: { discard: number; guard_fail: number };
  iterations: number[];
  /** Distinct descriptions in journal order, never empty: the "do not retry" material. */
  descriptions: string[];
  /** Kept changes with the same key: that lever did pay off once, in another direction or size. */
  keptIterations: number[];
};

export type CrashNote = { iteration: number; description: string; reason: string };

export type NoiseFigures = {
  sd: number | null;
  mean: number | null;
  runs: number;
  minDetectableEffect: number | null;
  deterministic: boolean | null;
  minDelta: number | null;
  source: "journal" | "experiment" | "none";
};

export type GuardStatus = {
  metric: string;
  op: string;
  threshold: number;
  /** The incumbent's guard score (the baseline's before any keep). */
  current: number | null;
  pass: boolean | null;
};

export type Summary = {
  metric: { name: string; direction: "max" | "min"; formula: string | null };
  constrainedFiles: string[];
  round: number | null;
  /** The baseline score the round started from. */
  start: number | null;
  best: {
    /** The incumbent: the last kept result (re-measured when fresh runs exist), or the baseline. */
    score: number | null;
    iteration: number | null; // null: still the baseline
    commit: string | null;
    description: string | null;
    /** Eval runs behind `score`: fresh incumbent runs when re-measured, else the kept line's own runs. */
    runs: number;
    remeasured: boolean;
  };
  improvement: { absolute: number | null; relative: number | null; text: string | null };
  iterations: { done: number; budget: number | null; remaining: number | null; lastTimestamp: string | null };
  counts: { keep: number; discard: number; crash: number; guard_fail: number };
  /** Kept changes in journal order. */
  kept: KeptChange[];
  /** Kept changes, largest gain first. */
  topChanges: KeptChange[];
  deadEnds: DeadEndGroup[];
  crashes: CrashNote[];
  plateau: { sinceLastKeep: number; lastKeepIteration: number | null; threshold: number; reached: boolean };
  noise: NoiseFigures;
  guard: GuardStatus | null;
  rows: IterationRow[];
  /** What could not be worked out, and why; for stderr, never for the dashboard body. */
  limitations: string[];
};

/** Summarize one round's journal; `context.experiment` fills in what the journal lacks. */
export function summarizeJournal(journal: Journal, context: SummaryContext = {}): Summary {
  const config = journal.config;
  const experiment = context.experiment ?? null;
  const limitations: string[] = [];
  const roundNumber = context.round ?? toInteger(config?.round) ?? experiment?.current_round ?? null;
  const round = experiment?.rounds.find((candidate) => candidate.round === roundNumber) ?? null;
  const direction = experiment?.metric.direction ?? config?.direction ?? "max";
  const orient = direction === "min" ? -1 : 1;

  const baselineLine = journal.results.find((result) => result.status === "baseline") ?? null;
  const start = config?.baseline ?? (baselineLine ? lineScore(baselineLine) : null) ?? round?.baseline?.score ?? null;
  if (start === null) limitations.push("no baseline score in the journal: run baseline.ts, or add \"baseline\" to the config line");

  const guard = resolveGuard(journal, experiment);
  const startGuard = baselineLine?.guard_score ?? round?.baseline?.guard_score ?? null;

  const results = journal.results.filter((result) => result.status !== "baseline");
  const rows: IterationRow[] = [];
  const kept: KeptChange[] = [];
  const keptFreshRuns: number[][] = [];
  let incumbentCommit: string | null = baselineLine?.commit ?? null;
  let incumbentSelected: number | null = start;
  let incumbentGuard: number | null = startGuard;
  let freshRuns: number[] | null = null; // runs of the current kept incumbent made after it was kept

  for (const result of results) {
    if (freshRuns && Array.isArray(result.incumbent_runs)) {
      const commit = result.incumbent_commit ?? null;
      if (commit === null || incumbentCommit === null || sameCommit(commit, incumbentCommit)) {
        for (const run of result.incumbent_runs) if (typeof run === "number" && Number.isFinite(run)) freshRuns.push(run);
      }
    }
    const incumbentBefore = incumbentValue(incumbentSelected, freshRuns);
    const score = lineScore(result);
    const guardScore = lineGuardScore(result);
    if (result.status === "keep" && score !== null) {
      kept.push({
        iteration: result.iteration,
        commit: result.commit,
        description: result.description,
        score,
        selectedScore: score,
        previous: incumbentValue(incumbentSelected, freshRuns),
        gain: null,
        guardScore,
      });
      incumbentCommit = result.commit;
      incumbentSelected = score;
      incumbentGuard = guardScore ?? incumbentGuard;
      freshRuns = [];
      keptFreshRuns.push(freshRuns);
    }
    rows.push({
      iteration: result.iteration,
      commit: result.commit,
      status: result.status,
      score,
      runs: runCount(result),
      delta: result.delta ?? (score !== null && incumbentBefore !== null ? formatDelta(score - incumbentBefore) : null),
      guardScore,
      guardPass: result.guard_pass ?? (guard && guardScore !== null ? passesGuard(guardScore, guard.op, guard.threshold) : null),
      description: result.description,
      reason: typeof result.reason === "string" && result.reason !== "" ? result.reason : null,
      timestamp: result.timestamp,
      incumbent: incumbentValue(incumbentSelected, freshRuns),
    });
  }

  // Re-measured scores are known only once the whole journal is read; gains use them.
  kept.forEach((change, index) => {
    change.score = incumbentValue(change.selectedScore, keptFreshRuns[index]);
    change.previous = index === 0 ? start : kept[index - 1].score;
    change.gain = change.score !== null && change.previous !== null ? orient * (change.score - change.previous) : null;
  });

  const lastKept = kept.length > 0 ? kept[kept.length - 1] : null;
  const lastKeptLine = lastKept ? results.find((result) => result.iteration === lastKept.iteration && result.status === "keep") : undefined;
  const bestScore = lastKept ? lastKept.score : start;
  const absolute = bestScore !== null && start !== null ? bestScore - start : null;
  const lastFresh = keptFreshRuns.length > 0 ? keptFreshRuns[keptFreshRuns.length - 1] : [];

  const budget = experiment?.budget.iterations ?? toInteger(config?.iterations) ?? null;
  if (budget === null) limitations.push("no iteration budget (no experiment file, no \"iterations\" in the config line): showing the iteration count alone");
  const lastKeepIndex = lastKept ? results.findLastIndex((result) => result.status === "keep" && lineScore(result) !== null) : -1;
  const sinceLastKeep = results.length - 1 - lastKeepIndex;
  // The loop stops on the same number, so the dashboard never calls a plateau the loop does not.
  const plateau = experiment?.budget.plateau ?? positiveInteger(config?.plateau) ?? DEFAULT_PLATEAU;

  const guardStatus: GuardStatus | null = guard
    ? { ...guard, current: incumbentGuard, pass: incumbentGuard === null ? null : passesGuard(incumbentGuard, guard.op, guard.threshold) }
    : null;

  return {
    metric: {
      name: experiment?.metric.name ?? config?.metric ?? "score",
      direction,
      formula: experiment?.metric.formula ?? (typeof config?.formula === "string" ? config.formula : null),
    },
    constrainedFiles: round?.constrained_files ?? constrainedFilesFromConfig(config),
    round: roundNumber,
    start,
    best: {
      score: bestScore,
      iteration: lastKept?.iteration ?? null,
      commit: lastKept?.commit ?? incumbentCommitOrNull(baselineLine),
      description: lastKept?.description ?? null,
      runs: lastKept ? (lastFresh.length > 0 ? lastFresh.length : lastKeptLine ? runCount(lastKeptLine) : 1) : 0,
      remeasured: lastFresh.length > 0,
    },
    improvement: {
      absolute,
      relative: absolute !== null && start !== null && start !== 0 ? absolute / Math.abs(start) : null,
      text: formatDelta(absolute),
    },
    iterations: {
      done: results.length,
      budget,
      remaining: budget === null ? null : Math.max(0, budget - results.length),
      lastTimestamp: results.length > 0 ? results[results.length - 1].timestamp || null : null,
    },
    counts: countStatuses(results),
    kept,
    topChanges: [...kept].sort((a, b) => (b.gain ?? -Infinity) - (a.gain ?? -Infinity) || a.iteration - b.iteration),
    deadEnds: groupDeadEnds(results),
    crashes: results.filter((result) => result.status === "crash").map((result) => ({
      iteration: result.iteration,
      description: result.description,
      reason: crashReason(result),
    })),
    plateau: { sinceLastKeep, lastKeepIteration: lastKept?.iteration ?? null, threshold: plateau, reached: sinceLastKeep >= plateau },
    noise: resolveNoise(journal, round?.baseline ?? null),
    guard: guardStatus,
    rows,
    limitations,
  };
}

/**
 * The grouping key for a dead end: a lever-like identifier in the description
 * (LOCATION_WEIGHT, boostFactor, title_weight), else its first two significant words
 * after the verb. "Increased location base weight from 2x to 5x" -> "location base".
 */
export function deadEndKey(description: string): string {
  const identifier = description.match(/\b(?:[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+|[a-z]+[A-Z][A-Za-z0-9]*)\b/);
  if (identifier) return identifier[0].toLowerCase();
  const words = description.toLowerCase().match(/[a-z][a-z0-9@-]*/g) ?? [];
  const significant = words.filter((word) => !STOP_WORDS.has(word) && !ACTION_WORDS.has(word) && !/^\d/.test(word));
  return significant.slice(0, 2).join(" ") || NO_DESCRIPTION;
}

const NO_DESCRIPTION = "(no description)";
const ACTION_WORDS = new Set([
  "add", "added", "adding", "adjust", "adjusted", "apply", "applied", "boosted", "bump", "bumped",
  "cap", "capped", "change", "changed", "decrease", "decreased", "disable", "disabled", "double", "doubled",
  "drop", "dropped", "enable", "enabled", "halve", "halved", "implement", "implemented", "increase", "increased",
  "introduce", "introduced", "lower", "lowered", "make", "made", "modify", "modified", "move", "moved",
  "normalize", "normalized", "raise", "raised", "reduce", "reduced", "refactor", "refactored", "remove", "removed",
  "replace", "replaced", "revert", "reverted", "rewrite", "rewrote", "set", "swap", "swapped", "switch", "switched",
  "try", "tried", "tune", "tuned", "tweak", "tweaked", "update", "updated", "use", "used", "more", "less", "new",
]);
const STOP_WORDS = new Set([
  "a", "an", "the", "to", "from", "of", "for", "in", "on", "by", "with", "and", "or", "as", "at", "into", "is",
  "be", "it", "its", "this", "that", "than", "via", "instead", "up", "down", "all", "x", "some", "slightly",
]);

function groupDeadEnds(results: ResultLine[]): DeadEndGroup[] {
  const groups = new Map<string, DeadEndGroup>();
  for (const result of results) {
    if (result.status !== "discard" && result.status !== "guard_fail") continue;
    const key = deadEndKey(result.description);
    let group = groups.get(key);
    if (!group) {
      group = { key, count: 0, statuses: { discard: 0, guard_fail: 0 }, iterations: [], descriptions: [], keptIterations: [] };
      groups.set(key, group);
    }
    group.count += 1;
    group.statuses[result.status] += 1;
    group.iterations.push(result.iteration);
    const description = result.description.trim() === "" ? NO_DESCRIPTION : result.description;
    if (!group.descriptions.includes(description)) group.descriptions.push(description);
  }
  for (const result of results) {
    if (result.status === "keep") groups.get(deadEndKey(result.description))?.keptIterations.push(result.iteration);
  }
  return [...groups.values()].sort((a, b) => b.count - a.count || a.iterations[0] - b.iterations[0]);
}

function countStatuses(results: ResultLine[]): Summary["counts"] {
  const counts = { keep: 0, discard: 0, crash: 0, guard_fail: 0 };
  for (const result of results) if (result.status !== "baseline") counts[result.status] += 1;
  return counts;
}

function crashReason(result: ResultLine): string {
  if (typeof result.reason === "string" && result.reason.trim() !== "") return result.reason.trim();
  if (typeof result.output_tail === "string") {
    const lines = result.output_tail.split("\n").map((line) => line.trim()).filter(Boolean);
    if (lines.length > 0) return lines[lines.length - 1];
  }
  return "no reason recorded";
}

function resolveGuard(journal: Journal, experiment: Experiment | null): { metric: string; op: string; threshold: number } | null {
  if (experiment?.guard) return { ...experiment.guard };
  const config = journal.config;
  if (!config?.guard_metric || config.guard_threshold === null) return null;
  const op = typeof config.guard_op === "string" && [">=", "<=", ">", "<"].includes(config.guard_op) ? config.guard_op : ">=";
  return { metric: config.guard_metric, op, threshold: config.guard_threshold };
}

function resolveNoise(journal: Journal, baseline: NonNullable<Experiment["rounds"][number]["baseline"]> | null): NoiseFigures {
  const config = journal.config;
  const minDelta = config?.min_delta ?? baseline?.min_delta ?? null;
  const noise = config?.noise && typeof config.noise === "object" ? (config.noise as Record<string, unknown>) : null;
  if (noise) {
    const runs = Array.isArray(noise.runs) ? noise.runs.length : 0;
    return {
      sd: toNumber(noise.sd),
      mean: toNumber(noise.mean),
      runs,
      minDetectableEffect: toNumber(noise.min_detectable_effect),
      deterministic: typeof noise.deterministic === "boolean" ? noise.deterministic : null,
      minDelta,
      source: "journal",
    };
  }
  if (baseline) {
    return {
      sd: baseline.sd,
      mean: baseline.mean,
      runs: baseline.runs.length,
      minDetectableEffect: baseline.min_detectable_effect,
      deterministic: baseline.deterministic,
      minDelta,
      source: "experiment",
    };
  }
  return { sd: null, mean: null, runs: 0, minDetectableEffect: null, deterministic: null, minDelta, source: "none" };
}

function lineScore(result: ResultLine): number | null {
  const runs = finiteRuns(result.runs);
  if (runs.length > 1) return average(runs);
  return result.score ?? (runs.length === 1 ? runs[0] : null);
}

function lineGuardScore(result: ResultLine): number | null {
  const runs = finiteRuns(result.guard_runs);
  if (runs.length > 1) return average(runs);
  return result.guard_score ?? (runs.length === 1 ? runs[0] : null);
}

function runCount(result: ResultLine): number {
  const runs = finiteRuns(result.runs);
  if (runs.length > 0) return runs.length;
  return result.score === null ? 0 : 1;
}

function incumbentValue(selected: number | null, freshRuns: number[] | null): number | null {
  return freshRuns && freshRuns.length > 0 ? average(freshRuns) : selected;
}

function incumbentCommitOrNull(line: ResultLine | null): string | null {
  return line?.commit ?? null;
}

/** Short and full hashes of one commit compare equal ("abc1234" vs "abc1234ef..."). */
function sameCommit(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

function constrainedFilesFromConfig(config: Journal["config"]): string[] {
  if (Array.isArray(config?.constrained_files) && config.constrained_files.length > 0) return config.constrained_files.map(String);
  return config?.constrained_file ? [config.constrained_file] : [];
}

function finiteRuns(value: unknown): number[] {
  if (!Array.isArray(value)) return [];
  const runs: number[] = [];
  for (const item of value) {
    const number = toNumber(item);
    if (number !== null) runs.push(number);
  }
  return runs;
}

function positiveInteger(value: unknown): number | null {
  const number = toInteger(value);
  return number !== null && number >= 1 ? number : null;
}

function toInteger(value: unknown): number | null {
  const number = toNumber(value);
  return number !== null && Number.isInteger(number) ? number : null;
}

function average(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}
