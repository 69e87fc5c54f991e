// What a round's journal says, as one plain object: start vs current best (both means of
// eval runs, with their run counts, as iterate compares them), iterations
// against the budget, kept changes ranked by gain, the lessons of the recorded diffs
// (lessons.ts: kept directions, dead ends, inconclusive tries, unscored lines), crashes, plateau,
// noise and guard status, plus one row per iteration. Pure: journal data in, data out.
// It reads no files and formats nothing for display (scripts/lib/dashboard/ does); the
// dashboard, the loop's prompt and next-round build on it.
import type { Baseline, Experiment, Round } from "./schema.ts";
import { DEFAULTS, GUARD_OPS } from "./defaults.ts";
import { type ConfigLine, iterationResults, type Journal, type ResultLine, type Status } from "./journal.ts";
import { formatDelta, measureDecimals } from "../text/number-format.ts";
import {
  baselineGuardFigure,
  guardBasis,
  parseGuardSpec,
  passesGuard,
  resolveGuard as resolveGuardThreshold,
} from "./guard.ts";
import { buildLessons, type Finding, type Lessons, triedChangeLine, unscoredReason } from "./lessons.ts";
import { hasHoldoutScores, type HoldoutSummary, holdoutSummary, overfitting } from "./holdout.ts";

/** budget.plateau when neither the experiment file nor the journal's config line says. */
const DEFAULT_PLATEAU = DEFAULTS.budget.plateau;

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
  /** Why the line has no eval run behind it (a restored scope violation, a repeat); null when it was scored or crashed. */
  unscored: string | null;
  /** The change as the lessons name it, from the recorded diff: "#7 `TITLE_WEIGHT` 3 → 2 discarded (-0.0040)". */
  change: string;
  timestamp: string;
  /** The incumbent after this iteration: the running best, re-measured when fresh runs exist. */
  incumbent: number | null;
  /** A simplification request's measured size, [before, after] lines and tokens; null when none was asked. */
  simplification: { lines: [number, number]; tokens: [number, number] } | null;
  /** What kept it when not a plain gain: "simplification", or "tiebreak <metric>"; else null. */
  keptBy: string | null;
};

export type KeptChange = {
  iteration: number;
  commit: string | null;
  description: string;
  /** The kept version's score: re-measured (mean of fresh incumbent runs) when available. */
  score: number | null;
  /** The score on the runs that selected it (can be inflated by the winner's curse). */
  selectedScore: number | null;
  /** The incumbent it replaced, as iterate measured it when it decided: the mean of the incumbent's runs. */
  previous: number | null;
  /**
   * `selectedScore` over `previous` in the metric's direction (positive is better): the figure
   * iterate decided on, so the same as the table's delta and the keep's commit message.
   */
  gain: number | null;
  guardScore: number | null;
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
  /** A relative guard's origin, "baseline 8.00 ×1.10" (guard.ts guardBasis); null for an absolute guard. */
  basis?: string | null;
  /** The incumbent's guard score (the baseline's before any keep). */
  current: number | null;
  pass: boolean | null;
};

export type Summary = {
  metric: { name: string; direction: "max" | "min"; formula: string | null };
  /** The round's secondary objectives, in order (none: absent or empty). */
  tiebreaks?: { metric: string; direction: "max" | "min" }[];
  /** The experiment's current round, when there is an experiment file: a later round means the objective may have changed since. */
  currentRound?: number | null;
  constrainedFiles: string[];
  round: number | null;
  /**
   * The baseline the round started from, as iterate compares with it: the mean of the baseline's
   * runs and of its re-runs before the first keep (not the median baseline.ts reports as its score).
   */
  start: number | null;
  /** Eval runs behind `start`. */
  startRuns: number;
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
  /**
   * best.score - start: means against means. `basis` names the runs behind each side ("mean of 6
   * re-measured runs vs the baseline's mean of 3 runs"), because once a keep is re-measured this
   * is a different figure from the keep's own gain (table, commit message), which was measured on
   * the runs that selected it.
   */
  improvement: { absolute: number | null; relative: number | null; text: string | null; basis: string | null };
  iterations: { done: number; budget: number | null; remaining: number | null; lastTimestamp: string | null };
  counts: { keep: number; discard: number; crash: number; guard_fail: number };
  /** Kept changes in journal order. */
  kept: KeptChange[];
  /** Kept changes, largest gain first. */
  topChanges: KeptChange[];
  /** What the iterations teach, from their recorded diffs (lessons.ts): kept directions, dead ends, inconclusive tries. */
  lessons: Lessons;
  /** The real dead ends (a lever direction or function that lost twice or more, conclusively, never kept). */
  deadEnds: Finding[];
  crashes: CrashNote[];
  plateau: { sinceLastKeep: number; lastKeepIteration: number | null; threshold: number; reached: boolean };
  noise: NoiseFigures;
  guard: GuardStatus | null;
  rows: IterationRow[];
  /**
   * The held-out scores of the baseline and the keeps and the overfitting signal (holdout.ts);
   * absent when no line has a held-out score. The dashboard shows it; the loop's prompt only says
   * when `behind`, without its figures.
   */
  holdout?: HoldoutSummary;
  /** Each parallel worker's candidates and what became of them (iterate --parallel); absent for a serial round. */
  workers?: WorkerActivity[];
  /** What the round's iterations cost (agent and eval time, tokens, dollars); absent when no line records any. */
  cost?: CostSummary;
  /** What could not be worked out, and why; for stderr, never for the dashboard body. */
  limitations: string[];
};

/**
 * The round's spend over its iteration lines: agent and eval seconds, tokens and dollars (null
 * when no line reported them), and per unit of kept gain (the sum of the keeps' gains, in metric
 * units; null without a positive one). Lines from before these fields count as zero.
 */
export type CostSummary = {
  iterations: number;
  agent_seconds: number;
  eval_seconds: number;
  tokens_in: number | null;
  tokens_out: number | null;
  cost_usd: number | null;
  /** Lines whose agent reported a cost_usd: fewer than `iterations` means the dollars are partial. */
  priced_iterations: number;
  kept_gain: number | null;
  usd_per_gain: number | null;
  seconds_per_gain: number | null;
  tokens_per_gain: number | null;
};

/** One parallel worker's share of the round: its candidates by status, and how many were carried onto a newer incumbent. */
export type WorkerActivity = Summary["counts"] & {
  worker: string;
  candidates: number;
  /** Kept or measured again after being carried onto a newer incumbent. */
  carriedOver: number;
  /** Made on an incumbent a keep replaced, and its change conflicted with that keep. */
  conflicts: number;
};

/** Summarize one round's journal; `context.experiment` fills in what the journal lacks. */
export function summarizeJournal(journal: Journal, context: SummaryContext = {}): Summary {
  const sources = resolveSources(journal, context);
  const results = iterationResults(journal);
  const replay = replayIterations(results, sources);
  const kept = settleGains(replay.kept, replay.keptFreshRuns);
  const start = replay.baselinePool.length > 0 ? average(replay.baselinePool) : sources.start;
  const best = bestOf(results, kept, replay.keptFreshRuns, sources, start);
  const noise = resolveNoise(journal.config, sources.round?.baseline ?? null);
  const lessons = buildLessons({
    results,
    minEffect: context.experiment?.decision.min_effect ?? numberOrNull(journal.config?.decision?.min_effect),
    baselineMinDetectableEffect: noise.minDetectableEffect,
  });
  const startRuns = replay.baselinePool.length > 0 ? replay.baselinePool.length : start === null ? 0 : 1;
  const absolute = best.score !== null && start !== null ? best.score - start : null;
  const holdout = hasHoldoutScores(journal.results)
    ? holdoutSummary(overfitting(journal.results, sources.metric.direction, {
      resolution: context.experiment?.decision.resolution ?? numberOrNull(journal.config?.decision?.resolution) ??
        undefined,
      evalSd: noise.sd,
      holdoutShare: context.experiment?.holdout?.split ?? null,
    }))
    : null;
  return {
    metric: sources.metric,
    tiebreaks: sources.tiebreaks,
    currentRound: context.experiment?.current_round ?? null,
    constrainedFiles: sources.constrainedFiles,
    round: sources.roundNumber,
    start,
    startRuns,
    best,
    improvement: {
      absolute,
      relative: absolute !== null && start !== null && start !== 0 ? absolute / Math.abs(start) : null,
      text: formatDelta(absolute, { decimals: measureDecimals([start, best.score]) }),
      basis: absolute === null ? null : improvementBasis(best, startRuns),
    },
    iterations: {
      done: results.length,
      budget: sources.budget,
      remaining: sources.budget === null ? null : Math.max(0, sources.budget - results.length),
      lastTimestamp: results.length > 0 ? results[results.length - 1].timestamp || null : null,
    },
    counts: countStatuses(results),
    ...workerActivity(results),
    kept,
    topChanges: [...kept].sort((a, b) => (b.gain ?? -Infinity) - (a.gain ?? -Infinity) || a.iteration - b.iteration),
    lessons,
    deadEnds: lessons.deadEnds,
    crashes: results.filter((result) => result.status === "crash").map((result) => ({
      iteration: result.iteration,
      description: result.description,
      reason: crashReason(result),
    })),
    plateau: plateauOf(results, kept, sources.plateau),
    noise,
    guard: sources.guard
      ? {
        ...sources.guard,
        current: replay.incumbentGuard,
        pass: replay.incumbentGuard === null
          ? null
          : passesGuard(replay.incumbentGuard, sources.guard.op, sources.guard.threshold),
      }
      : null,
    rows: replay.rows,
    ...(holdout ? { holdout } : {}),
    ...costOf(results, kept),
    limitations: sources.limitations,
  };
}

/** The round's cost figures, or nothing when no line records any (a journal from before them). */
function costOf(results: ResultLine[], kept: KeptChange[]): { cost?: CostSummary } {
  const costed = results.filter((line) =>
    [line.agent_seconds, line.eval_seconds, line.tokens_in, line.tokens_out, line.cost_usd].some((value) =>
      typeof value === "number"
    )
  );
  if (costed.length === 0) return {};
  const total = (pick: (line: ResultLine) => number | undefined) => {
    const values = results.map(pick).filter((value): value is number => typeof value === "number");
    return values.length ? values.reduce((sum, value) => sum + value, 0) : null;
  };
  const rounded = (value: number | null, places: number) =>
    value === null ? null : Math.round(value * 10 ** places) / 10 ** places;
  const agentSeconds = total((line) => line.agent_seconds) ?? 0;
  const evalSeconds = total((line) => line.eval_seconds) ?? 0;
  const tokensIn = total((line) => line.tokens_in);
  const tokensOut = total((line) => line.tokens_out);
  const usd = total((line) => line.cost_usd);
  const gains = kept.map((change) => change.gain).filter((gain): gain is number => gain !== null && gain > 0);
  const keptGain = gains.length ? gains.reduce((sum, gain) => sum + gain, 0) : null;
  const per = (value: number | null) => (value === null || keptGain === null ? null : value / keptGain);
  const tokens = tokensIn === null && tokensOut === null ? null : (tokensIn ?? 0) + (tokensOut ?? 0);
  return {
    cost: {
      iterations: results.length,
      agent_seconds: rounded(agentSeconds, 3)!,
      eval_seconds: rounded(evalSeconds, 3)!,
      tokens_in: tokensIn,
      tokens_out: tokensOut,
      cost_usd: rounded(usd, 6),
      priced_iterations: results.filter((line) => typeof line.cost_usd === "number").length,
      kept_gain: keptGain,
      usd_per_gain: per(usd),
      seconds_per_gain: per(agentSeconds + evalSeconds),
      tokens_per_gain: per(tokens),
    },
  };
}

/** What the summary is measured against, from the experiment file first, else the journal's config line. */
type Sources = {
  roundNumber: number | null;
  round: Round | null;
  metric: Summary["metric"];
  constrainedFiles: string[];
  baselineLine: ResultLine | null;
  start: number | null;
  startGuard: number | null;
  guard: { metric: string; op: string; threshold: number; basis?: string | null } | null;
  tiebreaks: { metric: string; direction: "max" | "min" }[];
  budget: number | null;
  plateau: number;
  limitations: string[];
};

function resolveSources(journal: Journal, context: SummaryContext): Sources {
  const config = journal.config;
  const experiment = context.experiment ?? null;
  const limitations: string[] = [];
  const roundNumber = context.round ?? config?.round ?? experiment?.current_round ?? null;
  const round = experiment?.rounds.find((candidate) => candidate.round === roundNumber) ?? null;
  // The experiment file holds the current round's objective (next-round may change it); an earlier
  // round's is the one its journal header recorded.
  const earlier = Boolean(config && experiment && roundNumber !== null && roundNumber < experiment.current_round);
  const objective = earlier ? null : experiment;
  const baselineLine = journal.results.find((result) => result.status === "baseline") ?? null;
  const start = config?.baseline ?? (baselineLine ? lineScore(baselineLine) : null) ?? round?.baseline?.score ?? null;
  if (start === null) {
    limitations.push('no baseline score in the journal: run baseline.ts, or add "baseline" to the config line');
  }
  const budget = experiment?.budget.iterations ?? config?.iterations ?? null;
  if (budget === null) {
    limitations.push(
      'no iteration budget (no experiment file, no "iterations" in the config line): showing the iteration count alone',
    );
  }
  return {
    roundNumber,
    round,
    metric: {
      name: objective?.metric.name ?? config?.metric ?? "score",
      direction: objective?.metric.direction ?? config?.direction ?? "max",
      formula: objective?.metric.formula ?? config?.formula ?? null,
    },
    constrainedFiles: round?.constrained_files ?? constrainedFilesFromConfig(config),
    baselineLine,
    start,
    startGuard: baselineLine?.guard_score ?? round?.baseline?.guard_score ?? null,
    guard: resolveGuard(config, objective, round),
    tiebreaks: objective?.tiebreaks ?? config?.tiebreaks ?? [],
    budget,
    // The loop stops on the same number, so the dashboard never calls a plateau the loop does not.
    plateau: experiment?.budget.plateau ?? config?.plateau ?? DEFAULT_PLATEAU,
    limitations,
  };
}

type Replay = {
  rows: IterationRow[];
  /** Kept changes in order, scored on the runs that selected them (settleGains re-scores them). */
  kept: KeptChange[];
  /** Per kept change: runs of it made after it was kept (the next candidates' incumbent re-runs). */
  keptFreshRuns: number[][];
  /** The guard score of the incumbent after the last line. */
  incumbentGuard: number | null;
  /** The baseline's runs and its re-runs before the first keep: what iterate compared the first candidates with. */
  baselinePool: number[];
};

/** Walk the iterations in order, following the incumbent: one row per line, the keeps, their fresh runs. */
function replayIterations(results: ResultLine[], sources: Sources): Replay {
  const { guard } = sources;
  const orient = sources.metric.direction === "min" ? -1 : 1;
  // Like iterate, the baseline's re-runs join its own runs; a kept incumbent starts afresh.
  const baselinePool = finiteRuns(sources.baselineLine?.runs);
  const replay: Replay = { rows: [], kept: [], keptFreshRuns: [], incumbentGuard: sources.startGuard, baselinePool };
  let incumbentCommit: string | null = sources.baselineLine?.commit ?? null;
  let incumbentSelected: number | null = sources.start;
  // Runs of the current incumbent made after it was selected (for the baseline: all of its runs).
  let freshRuns: number[] | null = baselinePool.length > 0 ? baselinePool : null;

  for (const result of results) {
    if (freshRuns && result.incumbent_runs) {
      const commit = result.incumbent_commit ?? null;
      if (commit === null || incumbentCommit === null || sameCommit(commit, incumbentCommit)) {
        freshRuns.push(...finiteRuns(result.incumbent_runs));
      }
    }
    const incumbentBefore = incumbentValue(incumbentSelected, freshRuns);
    const score = lineScore(result);
    const guardScore = lineGuardScore(result);
    if (result.status === "keep" && score !== null) {
      // The delta iterate recorded is the figure the table and the commit message show; the
      // incumbent it implies is the one the keep was decided against.
      const recorded = recordedDelta(result);
      const previous = recorded === null ? incumbentBefore : score - recorded;
      replay.kept.push({
        iteration: result.iteration,
        commit: result.commit,
        description: result.description,
        score,
        selectedScore: score,
        previous,
        gain: previous === null ? null : orient * (score - previous),
        guardScore,
      });
      incumbentCommit = result.commit;
      incumbentSelected = score;
      replay.incumbentGuard = guardScore ?? replay.incumbentGuard;
      freshRuns = [];
      replay.keptFreshRuns.push(freshRuns);
    }
    replay.rows.push({
      iteration: result.iteration,
      commit: result.commit,
      status: result.status,
      score,
      runs: runCount(result),
      delta: result.delta ??
        (score !== null && incumbentBefore !== null
          ? formatDelta(score - incumbentBefore, { decimals: measureDecimals([score, incumbentBefore]) })
          : null),
      guardScore,
      guardPass: result.guard_pass ??
        (guard && guardScore !== null ? passesGuard(guardScore, guard.op, guard.threshold) : null),
      description: result.description,
      reason: result.reason || null,
      unscored: unscoredReason(result),
      change: triedChangeLine(result),
      timestamp: result.timestamp,
      incumbent: incumbentValue(incumbentSelected, freshRuns),
      simplification: result.simplification ?? null,
      keptBy: result.status === "keep" ? keptByRule(result.verdict) : null,
    });
  }
  return replay;
}

/** The verdict's rule when a tiebreak or a simplification made the keep: "tiebreak precision@3", "simplification". */
function keptByRule(verdict: ResultLine["verdict"]): string | null {
  if (!verdict) return null;
  if (verdict.rule === "simplification") return "simplification";
  if (verdict.rule !== "tiebreak") return null;
  const tiebreak = verdict.tiebreak;
  const metric = tiebreak && typeof tiebreak === "object" && "metric" in tiebreak ? tiebreak.metric : null;
  return typeof metric === "string" ? `tiebreak ${metric}` : "tiebreak";
}

/**
 * Re-measured scores are known only once the whole journal is read. Each gain stays the one
 * iterate decided on (selected score over the incumbent it was compared with), so top changes,
 * the table and the commit message give one figure for one keep.
 */
function settleGains(kept: KeptChange[], keptFreshRuns: number[][]): KeptChange[] {
  kept.forEach((change, index) => {
    change.score = incumbentValue(change.selectedScore, keptFreshRuns[index]);
  });
  return kept;
}

/** The delta a line recorded ("+0.0419"), as a number; null when it has none or it does not read as one. */
function recordedDelta(result: ResultLine): number | null {
  if (typeof result.delta !== "string") return null;
  const value = Number(result.delta.trim());
  return result.delta.trim() !== "" && Number.isFinite(value) ? value : null;
}

/** "mean of 6 re-measured runs of #3 vs the baseline's mean of 3 runs". */
function improvementBasis(best: Summary["best"], startRuns: number): string {
  const runs = (count: number) => `${count} run${count === 1 ? "" : "s"}`;
  const baseline = `the baseline's mean of ${runs(startRuns)}`;
  if (best.iteration === null) return baseline;
  const measured = best.remeasured
    ? `mean of ${runs(best.runs)} re-measured after #${best.iteration} was kept`
    : `mean of #${best.iteration}'s ${runs(best.runs)}`;
  return `${measured} vs ${baseline}`;
}

/** The incumbent: the last keep (re-measured when fresh runs exist), or the baseline. */
function bestOf(
  results: ResultLine[],
  kept: KeptChange[],
  keptFreshRuns: number[][],
  sources: Sources,
  start: number | null,
): Summary["best"] {
  const lastKept = kept.at(-1);
  if (!lastKept) {
    return {
      score: start,
      iteration: null,
      commit: sources.baselineLine?.commit ?? null,
      description: null,
      runs: 0,
      remeasured: false,
    };
  }
  const fresh = keptFreshRuns.at(-1) ?? [];
  const line = results.find((result) => result.iteration === lastKept.iteration && result.status === "keep");
  return {
    score: lastKept.score,
    iteration: lastKept.iteration,
    commit: lastKept.commit ?? sources.baselineLine?.commit ?? null,
    description: lastKept.description,
    runs: fresh.length > 0 ? fresh.length : line ? runCount(line) : 1,
    remeasured: fresh.length > 0,
  };
}

function plateauOf(results: ResultLine[], kept: KeptChange[], threshold: number): Summary["plateau"] {
  const lastKept = kept.at(-1);
  const lastKeepIndex = lastKept
    ? results.findLastIndex((result) => result.status === "keep" && lineScore(result) !== null)
    : -1;
  const sinceLastKeep = results.length - 1 - lastKeepIndex;
  return {
    sinceLastKeep,
    lastKeepIteration: lastKept?.iteration ?? null,
    threshold,
    reached: sinceLastKeep >= threshold,
  };
}

/** The `workers` field: present when any line names the worker that made it. */
function workerActivity(results: ResultLine[]): { workers?: WorkerActivity[] } {
  const byWorker = new Map<string, WorkerActivity>();
  for (const result of results) {
    const worker = (result as { worker?: unknown }).worker;
    if (typeof worker !== "string" || result.status === "baseline") continue;
    let activity = byWorker.get(worker);
    if (!activity) {
      activity = { worker, candidates: 0, keep: 0, discard: 0, crash: 0, guard_fail: 0, carriedOver: 0, conflicts: 0 };
      byWorker.set(worker, activity);
    }
    activity.candidates++;
    activity[result.status]++;
    if ((result as { rebased_from?: unknown }).rebased_from) activity.carriedOver++;
    if (result.reason?.includes("conflicts with the keeps since")) activity.conflicts++;
  }
  if (byWorker.size === 0) return {};
  return { workers: [...byWorker.values()].sort((a, b) => a.worker.localeCompare(b.worker, "en", { numeric: true })) };
}

function countStatuses(results: ResultLine[]): Summary["counts"] {
  const counts = { keep: 0, discard: 0, crash: 0, guard_fail: 0 };
  for (const result of results) if (result.status !== "baseline") counts[result.status] += 1;
  return counts;
}

function crashReason(result: ResultLine): string {
  const reason = result.reason?.trim();
  if (reason) return reason;
  const lines = (result.output_tail ?? "").split("\n").map((line) => line.trim()).filter(Boolean);
  return lines.length > 0 ? lines[lines.length - 1] : "no reason recorded";
}

/**
 * The guard with its threshold resolved (guard.ts): the experiment file's against the round's
 * baseline, else the journal's, whose header baseline wrote resolved (and `guard_spec` as written).
 */
function resolveGuard(config: ConfigLine | null, experiment: Experiment | null, round: Round | null): Sources["guard"] {
  if (experiment?.guard) {
    const figure = baselineGuardFigure(round?.baseline);
    const resolved = resolveGuardThreshold(experiment.guard, figure);
    if (resolved) return { ...resolved, basis: guardBasis(experiment.guard, figure) };
  }
  if (!config?.guard_metric || config.guard_threshold === null) return null; // a relative guard before its baseline
  const op = config.guard_op && (GUARD_OPS as readonly string[]).includes(config.guard_op) ? config.guard_op : ">=";
  const spec = experiment?.guard ?? (config.guard_spec ? parseGuardSpec(config.guard_spec) : null);
  const basis = spec ? guardBasis(spec, null) : null;
  return { metric: config.guard_metric, op, threshold: config.guard_threshold, ...(basis ? { basis } : {}) };
}

function resolveNoise(config: ConfigLine | null, baseline: Baseline | null): NoiseFigures {
  const minDelta = config?.min_delta ?? baseline?.min_delta ?? null;
  const noise = config?.noise;
  if (noise) {
    return {
      sd: noise.sd,
      mean: noise.mean,
      runs: noise.runs.length,
      minDetectableEffect: noise.min_detectable_effect,
      deterministic: noise.deterministic,
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

/** A line's score as iterate compares it: the mean of its runs (a baseline line's `score` is their median). */
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

/** Short and full hashes of one commit compare equal ("abc1234" vs "abc1234ef..."). */
function sameCommit(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

function constrainedFilesFromConfig(config: ConfigLine | null): string[] {
  if (config?.constrained_files?.length) return config.constrained_files;
  return config?.constrained_file ? [config.constrained_file] : [];
}

/** A line's runs with the ones it could not score (null) left out. */
function finiteRuns(runs: (number | null)[] | undefined): number[] {
  return (runs ?? []).filter((run): run is number => run !== null);
}

function average(values: number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total / values.length;
}

/** A journal header's decision setting when it is a number (a hand-edited one may not be). */
function numberOrNull(value: unknown): number | null {
  return typeof value === "number" ? value : null;
}
