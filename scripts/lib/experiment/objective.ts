// The objective as configuration: the tiebreak specs (`--tiebreak ndcg@10:max`, repeatable,
// ordered) read into the experiment file's `tiebreaks`, the objective written as one line for
// people ("precision@3 (max), guard mrr>=0.80, tiebreak ndcg@10 (max)"), and where a round's
// score is read from when next-round changed the metric after the eval was written (the eval's
// SCORE line still means the earlier metric, so the score is read from its named metric lines).
// Pure: text and data in, data out. It does not parse guards (guard.ts does) and runs no eval.
import { type FormulaTerm, parseMetricFormula } from "../process/eval-output.ts";
import { DIRECTIONS } from "./defaults.ts";
import { defaultDirectionFor } from "../harness/metric-catalog.ts";
import type { Guard } from "./schema.ts";

export type Direction = (typeof DIRECTIONS)[number];

/** One secondary objective: judged only when the main metric is tied. */
export type Tiebreak = { metric: string; direction: Direction };

const METRIC_NAME = /^[A-Za-z][\w@.\-/]*$/;

/**
 * Read `--tiebreak` values in the order given: `ndcg@10` (higher is better), `ndcg@10:max`,
 * `latency_ms:min`. A bad direction, a malformed name, a tiebreak naming the main metric or one
 * given twice is a problem: one sentence saying what to write instead.
 * parseTiebreakSpecs(["ndcg@10", "latency_ms:min"], "mrr")
 *   -> { tiebreaks: [{ metric: "ndcg@10", direction: "max" }, { metric: "latency_ms", direction: "min" }] }
 */
export function parseTiebreakSpecs(
  specs: readonly string[],
  mainMetric: string,
): { tiebreaks: Tiebreak[] } | { problem: string } {
  const tiebreaks: Tiebreak[] = [];
  for (const spec of specs) {
    const text = spec.trim();
    const colon = text.lastIndexOf(":");
    const metric = (colon === -1 ? text : text.slice(0, colon)).trim();
    const directionText = colon === -1 ? "max" : text.slice(colon + 1).trim().toLowerCase();
    if (!METRIC_NAME.test(metric)) {
      return {
        problem:
          `Cannot read --tiebreak "${spec}": write a metric name the eval prints, optionally with :max or :min, e.g. --tiebreak ndcg@10 or --tiebreak latency_ms:min.`,
      };
    }
    const direction = DIRECTIONS.find((known) => known === directionText);
    if (!direction) {
      return {
        problem:
          `Cannot read --tiebreak "${spec}": the direction after ":" must be max or min (higher or lower is better), e.g. --tiebreak ${metric}:max.`,
      };
    }
    if (sameMetric(metric, mainMetric)) {
      return {
        problem:
          `--tiebreak ${metric} names the main metric; a tiebreak decides between changes tied on ${mainMetric}, so name another metric the eval prints, e.g. --tiebreak ndcg@10.`,
      };
    }
    if (tiebreaks.some((earlier) => sameMetric(earlier.metric, metric))) {
      return {
        problem:
          `--tiebreak ${metric} is given twice; give each tiebreak once, in the order they break ties (the first decides first).`,
      };
    }
    tiebreaks.push({ metric, direction });
  }
  return { tiebreaks };
}

/** The eval's named metrics are looked up case-insensitively, so names are compared the same way. */
export function sameMetric(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** "ndcg@10:max": the spec as --tiebreak takes it again. */
export function tiebreakSpecText(tiebreak: Tiebreak): string {
  return `${tiebreak.metric}:${tiebreak.direction}`;
}

/** "ndcg@10 (max) then recall@10 (max)"; null with none. */
export function describeTiebreaks(tiebreaks: readonly Tiebreak[]): string | null {
  if (tiebreaks.length === 0) return null;
  return tiebreaks.map((tiebreak) => `${tiebreak.metric} (${tiebreak.direction})`).join(" then ");
}

/**
 * The objective in one line: "precision@3 (max), guard mrr>=0.80, tiebreak ndcg@10 (max)".
 * `guard` is the guard as describeGuard (guard.ts) writes it, or null without one.
 */
export function describeObjective(objective: {
  metric: string;
  direction: Direction;
  guard: string | null;
  tiebreaks: readonly Tiebreak[];
}): string {
  const parts = [`${objective.metric} (${objective.direction})`];
  if (objective.guard) parts.push(`guard ${objective.guard}`);
  const tiebreaks = describeTiebreaks(objective.tiebreaks);
  if (tiebreaks) parts.push(`${objective.tiebreaks.length > 1 ? "tiebreaks" : "tiebreak"} ${tiebreaks}`);
  return parts.join(", ");
}

/**
 * How every eval run of the experiment is read, whatever runs it (baseline, its probe, a step, the
 * held-out set): the guard's metric name, the score formula (for an eval without a SCORE line) and
 * where the score comes from when it is not SCORE. The one home of those three options of runEval.
 */
export function evalReading(experiment: {
  metric: { name: string; formula?: string | null; score_from?: string | null };
  guard: { metric: string } | null;
}): {
  guardMetric: string | null;
  metric: string;
  formula: FormulaTerm[] | null;
  scoreFrom: FormulaTerm[] | null;
} {
  return {
    guardMetric: experiment.guard?.metric ?? null,
    metric: experiment.metric.name,
    formula: experiment.metric.formula ? parseMetricFormula(experiment.metric.formula) : null,
    scoreFrom: scoreSourceTerms(experiment.metric),
  };
}

/**
 * Where the score comes from when it is not the eval's SCORE line: the terms of `score_from`
 * (one metric name, or a formula of them) read from the eval's named metric lines. null: the
 * SCORE line is the score, as the eval was written.
 * scoreSourceTerms({ score_from: "precision@3" }) -> [{ weight: 1, metric: "precision@3" }]
 */
export function scoreSourceTerms(metric: { score_from?: string | null }): FormulaTerm[] | null {
  const source = metric.score_from?.trim();
  if (!source) return null;
  return parseMetricFormula(source) ?? [{ weight: 1, metric: source }];
}

/**
 * Why the eval cannot score `metric` as the new objective, as one sentence; null when it can.
 * The eval can when `metric` is what its SCORE line already means (`scoreMeans`), or when every
 * name `metric` involves (one, or a formula's terms) was among the named metrics the eval printed
 * in round N's runs (`printed`, as the journal's `metrics` fields hold them). `role` names the
 * flag in the sentence ("--metric", "--tiebreak", "--guard").
 */
export function unprintedMetricProblem(
  metric: string,
  options: { role: string; printed: ReadonlySet<string>; scoreMeans: string | null; round: number },
): string | null {
  if (options.scoreMeans !== null && sameMetric(metric, options.scoreMeans)) return null;
  let names: string[];
  try {
    names = (parseMetricFormula(metric) ?? [{ weight: 1, metric }]).map((term) => term.metric);
  } catch (error) {
    return error instanceof Error ? `${options.role} ${metric}: ${error.message}.` : String(error);
  }
  const missing = names.filter((name) => !options.printed.has(name.toLowerCase()));
  if (missing.length === 0) return null;
  const printed = [...options.printed].sort();
  const what = printed.length === 0
    ? `printed no named metrics in round ${options.round}'s runs, only SCORE${
      options.scoreMeans ? ` (${options.scoreMeans})` : ""
    }`
    : `printed ${printed.join(", ")} in round ${options.round}'s runs${
      options.scoreMeans ? `, and SCORE (${options.scoreMeans})` : ""
    }`;
  return `${options.role} ${metric}: the eval ${what}, not ${
    missing.join(", ")
  }; name one of those, or make the eval print "METRIC ${missing[0]}=<value>" first. Nothing was written.`;
}

/** next-round's objective flags as given; absent means "as round N had it". */
export type ObjectiveFlags = {
  metric?: string;
  direction?: Direction;
  guard?: string;
  tiebreaks?: readonly string[];
  noGuard?: boolean;
  noTiebreak?: boolean;
};

/** The objective fields of the experiment file (its top-level metric, guard and tiebreaks). */
export type Objective = {
  metric: { name: string; direction: Direction; formula: string | null; score_from?: string | null };
  guard: Guard | null;
  tiebreaks: Tiebreak[];
};

/** What round N's eval is known to print: its named metrics, and what its SCORE line means. */
export type PrintedMetrics = { printed: ReadonlySet<string>; scoreMeans: string | null; round: number };

export type ObjectiveProblem = { problem: string; flag: "--metric" | "--guard" | "--tiebreak" | "--direction" };

/**
 * Round N+1's objective from round N's and next-round's flags: a new metric the eval already
 * printed (as a named metric, or what SCORE means), a new direction, a new or removed guard (read
 * by `readGuard`, guard.ts's parser), new or removed tiebreaks. A new metric that is not what
 * SCORE means is read from the eval's named metric lines (`score_from`), so the eval itself stays
 * the round's frozen copy. `notes` says what changed and what was dropped, for the person.
 * Pure: the caller says what the eval printed.
 */
export function nextObjective(
  current: Objective,
  flags: ObjectiveFlags,
  evidence: PrintedMetrics,
  readGuard: (spec: string) => { guard: Guard } | { problem: string },
): { objective: Objective; changed: boolean; notes: string[] } | ObjectiveProblem {
  const notes: string[] = [];
  if (flags.guard !== undefined && flags.noGuard) {
    return { flag: "--guard", problem: "--guard and --no-guard contradict each other; give one of them." };
  }
  if (flags.tiebreaks?.length && flags.noTiebreak) {
    return { flag: "--tiebreak", problem: "--tiebreak and --no-tiebreak contradict each other; give one of them." };
  }
  let metric = { ...current.metric };
  if (flags.metric !== undefined) {
    const compact = flags.metric.replace(/\s+/g, "");
    if (compact === "") {
      return {
        flag: "--metric",
        problem: "--metric must not be empty; name a metric the eval prints, e.g. --metric precision@3.",
      };
    }
    if (!sameMetric(compact, current.metric.name)) {
      const problem = unprintedMetricProblem(compact, { role: "--metric", ...evidence });
      if (problem) return { flag: "--metric", problem };
      let isFormula = false;
      try {
        isFormula = parseMetricFormula(compact) !== null;
      } catch (error) {
        return { flag: "--metric", problem: error instanceof Error ? error.message : String(error) };
      }
      const meansScore = evidence.scoreMeans !== null && sameMetric(compact, evidence.scoreMeans);
      metric = {
        name: compact,
        direction: flags.direction ?? defaultDirectionFor(compact),
        formula: isFormula ? compact : null,
        ...(meansScore ? {} : { score_from: compact }),
      };
    }
  }
  if (flags.direction !== undefined) metric.direction = flags.direction;

  let guard = current.guard;
  if (flags.noGuard) guard = null;
  else if (flags.guard !== undefined) {
    const read = readGuard(flags.guard);
    if ("problem" in read) {
      return { flag: "--guard", problem: `Cannot read --guard "${flags.guard}": it ${read.problem}.` };
    }
    const known = current.guard !== null && sameMetric(read.guard.metric, current.guard.metric);
    // Named, not SCORE: a guard is read from the eval's named metric lines only.
    const problem = known ? null : unprintedMetricProblem(read.guard.metric, {
      role: "--guard",
      ...evidence,
      scoreMeans: null,
    });
    if (problem) return { flag: "--guard", problem };
    guard = read.guard;
  }

  let tiebreaks = current.tiebreaks;
  if (flags.noTiebreak) tiebreaks = [];
  else if (flags.tiebreaks?.length) {
    const read = parseTiebreakSpecs(flags.tiebreaks, metric.name);
    if ("problem" in read) return { flag: "--tiebreak", problem: read.problem };
    for (const tiebreak of read.tiebreaks) {
      const problem = unprintedMetricProblem(tiebreak.metric, { role: "--tiebreak", ...evidence, scoreMeans: null });
      if (problem) return { flag: "--tiebreak", problem };
    }
    tiebreaks = read.tiebreaks;
  } else {
    // A tiebreak that became the main metric breaks no tie any more.
    const dropped = tiebreaks.filter((tiebreak) => sameMetric(tiebreak.metric, metric.name));
    if (dropped.length > 0) {
      tiebreaks = tiebreaks.filter((tiebreak) => !dropped.includes(tiebreak));
      notes.push(`The tiebreak ${dropped[0].metric} is the main metric now, so it no longer breaks ties.`);
    }
  }
  const objective: Objective = { metric, guard, tiebreaks };
  return { objective, changed: objectiveKey(objective) !== objectiveKey(current), notes };
}

function objectiveKey(objective: Objective): string {
  const { metric, guard, tiebreaks } = objective;
  return JSON.stringify([
    metric.name,
    metric.direction,
    metric.formula,
    metric.score_from ?? null,
    guard ? [guard.metric, guard.op, guard.threshold, guard.baseline_offset, guard.baseline_factor] : null,
    tiebreaks.map((tiebreak) => [tiebreak.metric, tiebreak.direction]),
  ]);
}
