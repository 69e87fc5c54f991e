// The metrics the generated evals know how to compute, by name: which exist for which eval
// flavour, what each means in words (for instructions and eval headers), the default metric
// for an entry function's return shape, the natural direction, and the output adapter (how
// the eval turns what the entry returns into what the metrics compare) with the warnings for a
// metric that does not fit the shape. Pure data and lookups; the computation itself lives in
// the eval templates and must stay in step with this file.
import { type FormulaTerm, parseMetricFormula } from "../process/eval-output.ts";

export type Direction = "max" | "min";
export type { ReturnsShape as ReturnShape } from "../levers/lever.ts";
import type { ReturnsShape as ReturnShape } from "../levers/lever.ts";

const RANKING = /^(precision|recall|hit_rate|hitrate|hit|mrr)(?:@(\d+))?$/i;
const MATCHING = /^(accuracy|pass_rate|exact_match|pass)$/i;
const ERROR = /^(abs_error|mean_abs_error|mae)$/i;
const TIMING_MS = /^(latency|latency_ms|time_ms|duration_ms)$/i;
const TIMING_S = /^(latency_s|time_s|duration_s|seconds)$/i;
/** Names that are better when lower, for the default direction (read inside words: "val_loss", "latencyms"). */
const LOWER_IS_BETTER = /latency|time|duration|seconds|error|loss|mae|rmse|mse|cost|size|bytes|memory|(^|[^a-z])ms$/i;
/**
 * Whole words of a name that are better when lower: a language model's bits per byte, character or
 * dimension (val_bpb, as autoresearch's train.py prints it), perplexity, negative log-likelihood,
 * cross-entropy, word, character and equal error rates, calibration error, Brier score, regret,
 * FID, KL divergence, false positives, counts of failures. Words, so "power" is not "wer".
 */
const LOWER_IS_BETTER_WORDS = new Set([
  "bpb",
  "bpc",
  "bpd",
  "perplexity",
  "ppl",
  "nll",
  "xent",
  "wer",
  "cer",
  "eer",
  "ece",
  "brier",
  "regret",
  "mape",
  "smape",
  "fid",
  "kl",
  "divergence",
  "fpr",
  "fnr",
  "false",
  "incorrect",
  "wrong",
  "mistakes",
  "failures",
  "failed",
  "fails",
  "crashes",
  "violations",
  "penalty",
  "drops",
]);
/** Phrases better when lower whose words are not: "bits_per_byte", "cross_entropy", "neg_log_likelihood". */
const LOWER_IS_BETTER_PHRASES =
  /bits_?per_?(byte|char|character|dim|token)|cross_?entropy|neg(ative)?_?log_?likelihood/i;
/** A rate per unit of time (tokens_per_second, qps): better when higher unless it counts failures. */
const THROUGHPUT = /(^|_)(qps|rps|tps|ops|throughput|speedup)($|_)|per_?(sec|second|s|minute|min|hour)$/i;
const FAILURE_WORDS = /error|fail|loss|incorrect|wrong|crash|violation|drop/i;
/** Whole words better when higher: init takes these as meant, with no warning about the direction. */
const HIGHER_IS_BETTER_WORDS = new Set([
  "score",
  "accuracy",
  "acc",
  "precision",
  "recall",
  "f1",
  "auc",
  "auroc",
  "auprc",
  "ndcg",
  "map",
  "mrr",
  "hit",
  "hits",
  "pass",
  "passed",
  "bleu",
  "rouge",
  "chrf",
  "reward",
  "rewards",
  "return",
  "returns",
  "coverage",
  "win",
  "wins",
  "success",
  "correct",
  "r2",
  "iou",
  "dice",
  "sharpe",
  "profit",
  "likelihood",
  "elo",
]);

function wordsOf(name: string): string[] {
  return name.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
}

export function isTimingMetric(name: string): boolean {
  return TIMING_MS.test(name) || TIMING_S.test(name);
}

/** Whether the generated eval of this flavour computes `name` without edits. */
export function evalComputes(name: string, flavor: "python" | "django" | "typescript" | "shell"): boolean {
  if (flavor === "shell") return MATCHING.test(name) || isTimingMetric(name);
  return RANKING.test(name) || MATCHING.test(name) || ERROR.test(name) || isTimingMetric(name);
}

/** The metric names a `--metric` value involves: one name, or every term of a formula. */
export function metricComponents(metric: string): { terms: FormulaTerm[] | null; names: string[] } {
  const terms = parseMetricFormula(metric);
  return { terms, names: terms ? terms.map((term) => term.metric) : [metric.trim()] };
}

/** precision@10 for what ranks items (ids best first, or one score per item); accuracy otherwise (a record warns). */
export function defaultMetricFor(shape: ReturnShape, flavor: "python" | "django" | "typescript" | "shell"): string {
  if (flavor === "shell") return "accuracy";
  return RANKED_SHAPES.includes(shape) ? "precision@10" : "accuracy";
}

export function isRankingMetric(name: string): boolean {
  return RANKING.test(name.trim());
}

/** Shapes whose output is a ranking of items: ids best first, or a score per item the eval sorts. */
const RANKED_SHAPES: ReturnShape[] = ["ranked_list", "scores"];

/**
 * min for latency, error, loss, bits per byte, perplexity, cost and size; max otherwise, and for a
 * rate per unit of time (tokens_per_second). A formula follows its first term.
 */
export function defaultDirectionFor(metric: string): Direction {
  const first = metricComponents(metric).names[0] ?? metric;
  if (MATCHING.test(first) || RANKING.test(first)) return "max";
  if (THROUGHPUT.test(first) && !FAILURE_WORDS.test(first)) return "max";
  const lower = LOWER_IS_BETTER.test(first) || LOWER_IS_BETTER_PHRASES.test(first) ||
    wordsOf(first).some((word) => LOWER_IS_BETTER_WORDS.has(word));
  return lower ? "min" : "max";
}

/**
 * Whether defaultDirectionFor only guessed: the name says neither lower nor higher is better
 * (a made-up "objective"), so init names the direction it took and how to change it.
 */
export function isDirectionGuessed(metric: string): boolean {
  const first = metricComponents(metric).names[0] ?? metric;
  if (defaultDirectionFor(metric) === "min" || MATCHING.test(first) || RANKING.test(first)) return false;
  return !THROUGHPUT.test(first) && !wordsOf(first).some((word) => HIGHER_IS_BETTER_WORDS.has(word));
}

/** Metrics printed beside SCORE for context (and as guard candidates), besides the SCORE terms. */
export function extraMetricsFor(
  shape: ReturnShape,
  metricNames: string[],
  flavor: "python" | "django" | "typescript" | "shell",
): string[] {
  const ranked = RANKED_SHAPES.includes(shape) || metricNames.some(isRankingMetric);
  const extras = flavor === "shell"
    ? ["accuracy"]
    : ranked
    ? ["mrr", `hit_rate@${rankingCutOff(metricNames) ?? 10}`]
    : ["accuracy"];
  if (metricNames.some(isTimingMetric) && ranked && flavor !== "shell") {
    extras.unshift(`precision@${rankingCutOff(metricNames) ?? 10}`);
  }
  return extras.filter((name) => !metricNames.includes(name));
}

function rankingCutOff(names: string[]): number | null {
  for (const name of names) {
    const match = RANKING.exec(name);
    if (match?.[2]) return Number(match[2]);
  }
  return null;
}

/** One metric in words, e.g. for "precision@12". */
export function describeMetric(name: string, entryName: string | null): string {
  const ranking = RANKING.exec(name);
  const call = entryName ? `\`${entryName}\`` : "the code under test";
  if (ranking) {
    const k = ranking[2] ? Number(ranking[2]) : null;
    const top = k ? `the top ${k} results` : "the returned results";
    switch (ranking[1].toLowerCase()) {
      case "precision":
        return `${name}: the share of ${top} of ${call} that are relevant (listed in the case's "expected"), divided by min(${
          k ?? "k"
        }, number of relevant ids) so a perfect ranking scores 1.0; averaged over cases`;
      case "recall":
        return `${name}: the share of a case's relevant ids found in ${top}; averaged over cases`;
      case "mrr":
        return `${name}: mean reciprocal rank, 1 / position of the first relevant result in ${top} (0 when none); averaged over cases`;
      default:
        return `${name}: 1 when any relevant id appears in ${top}, else 0; averaged over cases (hit rate)`;
    }
  }
  if (MATCHING.test(name)) return `${name}: the share of cases whose output from ${call} equals the expected output`;
  if (ERROR.test(name)) {
    return `${name}: the absolute difference between ${call}'s number and the expected number; averaged over cases`;
  }
  if (TIMING_MS.test(name)) {
    return `${name}: milliseconds per call of ${call} (median of repeated calls per case), averaged over cases`;
  }
  if (TIMING_S.test(name)) {
    return `${name}: seconds per call of ${call} (median of repeated calls per case), averaged over cases`;
  }
  return `${name}: as computed by the eval`;
}

/** The whole SCORE in words, including a composite's terms. */
export function describeScore(metric: string, direction: Direction, entryName: string | null): string {
  const { terms, names } = metricComponents(metric);
  const better = direction === "max" ? "higher is better" : "lower is better";
  if (!terms) return `${describeMetric(names[0], entryName)} (${better}).`;
  const formula = terms.map((term, index) =>
    `${index === 0 ? (term.weight < 0 ? "-" : "") : term.weight < 0 ? " - " : " + "}${
      Math.abs(term.weight) === 1 ? "" : `${Math.abs(term.weight)} × `
    }${term.metric}`
  ).join("");
  const parts = [...new Set(names)].map((name) => `  - ${describeMetric(name, entryName)}`);
  return `SCORE = ${formula} (${better}), where\n${parts.join("\n")}`;
}

// ---- output adapters ----------------------------------------------------------------------------

/**
 * How the eval reads the entry's output (after `field`, when set) before computing metrics:
 *   ids    — a ranked list: each item's id (see ITEM_ID_RULE); a single value is a one-item ranking
 *   scores — one number per item in the items' order (or a record of id -> score): item positions
 *            ("0", "1", ... or the test data's setup "ids") sorted by score, highest first
 *   auto   — a ranking whose form shows only at run time: numbers with a fraction (or a record of
 *            numbers) are scores, anything else item ids
 *   value  — the value itself, compared as it is (labels, numbers, records)
 */
export type OutputRead = "ids" | "scores" | "auto" | "value";
/** `field` is a dot path (`hits`, `items.0.id`, `result.label`) read from the returned record first. */
export type OutputAdapter = { field: string | null; read: OutputRead };
export type AdapterChoice = { adapter: OutputAdapter; description: string };

/** What identifies a returned item; the eval templates follow this rule, in this order. */
export const ITEM_ID_RULE =
  'its "id", "pk", "slug", "key", "name" or "title"; else a nested "item"\'s id (or the item itself when text); else "refIndex" or "index"; a pair\'s first element; else the item as text';

/** For a ranking metric, how each shape's output becomes ranked ids; any other metric compares the value. */
const RANKING_READ: Record<ReturnShape, OutputRead> = {
  ranked_list: "ids",
  scores: "scores",
  label: "ids", // a single answer counts as a one-item ranking (warned)
  number: "ids",
  object: "auto", // what a field holds is known only at run time
  unknown: "auto",
};

/**
 * The adapter the eval uses for this shape and metric (a name or a formula), with one sentence
 * saying what it does. Example: chooseAdapter("scores", "mrr", null) -> { adapter: { field: null,
 * read: "scores" }, description: "The eval ranks item positions by score, ..." }.
 */
export function chooseAdapter(
  shape: ReturnShape,
  metric: string,
  outputField: string | null | undefined,
): AdapterChoice {
  const field = outputField?.trim() ? outputField.trim() : null;
  const ranking = metricComponents(metric).names.some(isRankingMetric);
  // With a field, what the field holds decides: its shape is not known before the eval runs.
  const read: OutputRead = ranking ? (field ? "auto" : RANKING_READ[shape]) : "value";
  const adapter = { field, read };
  return { adapter, description: describeAdapter(adapter) };
}

export function describeAdapter(adapter: OutputAdapter): string {
  const what = adapter.field ? `field "${adapter.field}" of the returned record` : "the returned value";
  switch (adapter.read) {
    case "ids":
      return `The eval reads ${what} as a ranked list of item ids (an item's id is ${ITEM_ID_RULE}).`;
    case "scores":
      return `The eval ranks item positions by ${what} (one score per item), highest first (ties keep list order); an item's id is its position "0", "1", ..., or its name in the test data's setup "ids" list when there is one.`;
    case "auto":
      return `The eval reads ${what} as a ranking: numbers with a fraction (or a record of numbers) as one score per item, sorted highest first, anything else as a ranked list of item ids.`;
    default:
      return `The eval compares ${what} as it is with each case's "expected".`;
  }
}

/** Warnings for a metric that does not fit what the entry returns; empty when it fits. */
export function shapeWarnings(
  shape: ReturnShape,
  metric: string,
  outputField: string | null | undefined,
  entryName: string | null,
): string[] {
  const names = metricComponents(metric).names;
  const entry = entryName ? `"${entryName}"` : "The entry function";
  const field = outputField?.trim() ? outputField.trim() : null;
  const warnings: string[] = [];
  if (shape === "object" && !field) {
    warnings.push(
      `${entry} returns a record; pass --output-field FIELD (e.g. hits, items.0.id, result.label) to score the field that holds the answer. Without it the whole record is compared for equality.`,
    );
  }
  if (field) return warnings; // what the field holds is not known here
  const ranking = names.find(isRankingMetric);
  if (ranking && (shape === "label" || shape === "number")) {
    warnings.push(
      `${entry} returns a ${shape}, but ${ranking} scores a ranked list: each case's one answer counts as a one-item ranking. Use accuracy${
        shape === "number" ? " or abs_error" : ""
      }, or an entry that returns ranked results.`,
    );
  }
  const matching = names.find((name) => MATCHING.test(name));
  if (matching && shape === "scores") {
    warnings.push(
      `${entry} returns one score per item, and ${matching} compares the whole score array for equality; a ranking metric (mrr, precision@10) ranks the items by score instead.`,
    );
  }
  const error = names.find((name) => ERROR.test(name));
  if (error && (RANKED_SHAPES.includes(shape) || shape === "label")) {
    warnings.push(`${error} compares numbers, but ${entry} returns ${shape === "label" ? "a label" : "a list"}.`);
  }
  return warnings;
}
