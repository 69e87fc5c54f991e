// The metrics the generated evals know how to compute, by name: which exist for which eval
// flavour, what each means in words (for instructions and eval headers), the default metric
// for an entry function's return shape, and the natural direction. Pure data and lookups;
// the computation itself lives in the eval templates and must stay in step with this file.
import { type FormulaTerm, parseMetricFormula } from "../process/eval-output.ts";

export type Direction = "max" | "min";
export type { ReturnsShape as ReturnShape } from "../levers/lever.ts";
import type { ReturnsShape as ReturnShape } from "../levers/lever.ts";

const RANKING = /^(precision|recall|hit_rate|hitrate|hit|mrr)(?:@(\d+))?$/i;
const MATCHING = /^(accuracy|pass_rate|exact_match|pass)$/i;
const ERROR = /^(abs_error|mean_abs_error|mae)$/i;
const TIMING_MS = /^(latency|latency_ms|time_ms|duration_ms)$/i;
const TIMING_S = /^(latency_s|time_s|duration_s|seconds)$/i;
/** Names that are better when lower, for the default direction. */
const LOWER_IS_BETTER = /latency|time|duration|seconds|error|loss|mae|rmse|mse|cost|size|bytes|memory|ms$/i;

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

export function defaultMetricFor(shape: ReturnShape, flavor: "python" | "django" | "typescript" | "shell"): string {
  if (flavor === "shell") return "accuracy";
  return shape === "ranked_list" ? "precision@10" : "accuracy";
}

/** min for latency, error, loss, cost and size; max otherwise. A formula follows its first term. */
export function defaultDirectionFor(metric: string): Direction {
  const first = metricComponents(metric).names[0] ?? metric;
  return LOWER_IS_BETTER.test(first) && !MATCHING.test(first) && !RANKING.test(first) ? "min" : "max";
}

/** Metrics printed beside SCORE for context (and as guard candidates), besides the SCORE terms. */
export function extraMetricsFor(
  shape: ReturnShape,
  metricNames: string[],
  flavor: "python" | "django" | "typescript" | "shell",
): string[] {
  const extras = flavor === "shell"
    ? ["accuracy"]
    : shape === "ranked_list"
    ? ["mrr", `hit_rate@${rankingCutOff(metricNames) ?? 10}`]
    : ["accuracy"];
  if (metricNames.some(isTimingMetric) && shape === "ranked_list" && flavor !== "shell") {
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
