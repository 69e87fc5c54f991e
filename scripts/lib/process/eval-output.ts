// The eval contract, parsed: `SCORE: x` (last one wins; without one, the line named as the
// experiment's metric, as training scripts print `val_bpb: 0.99`), named metrics (and a test
// runner's summary as tests_passed, tests_failed, tests_skipped, tests_total and pass_rate)
// (`NAME: x`, `METRIC name=value`, `GUARD: x`, a one-line JSON object's numbers) and per-case `CASE id x` lines, plus
// composite formulas like `0.8*precision@12+0.2*mrr`. Pure: text in, data out.

import { formatMetric } from "../text/number-format.ts";
import {
  createTestSummaryReader,
  type TestCounts,
  type TestRunnerChoice,
  testRunnerOf,
  testSummaryMetrics,
} from "./test-summary.ts";

export type EvalOutput = {
  score: number | null;
  /** Why there is no usable score (missing, NaN, Infinity), else null. */
  scoreProblem: string | null;
  /** The named line read as the score because the eval printed no SCORE line (lower-cased), else null. */
  scoreLine: string | null;
  /** Named metrics, keys lower-cased for case-insensitive lookup. */
  metrics: Record<string, number>;
  cases: Record<string, number> | null;
  /** What a test runner's summary lines counted (test-summary.ts), or null when none was printed. */
  tests: TestCounts | null;
  /**
   * The runner the eval command runs (test-summary.ts), or null when it runs none it names: then
   * its summaries only fill in names the eval did not print, and a non-zero exit stays a crash.
   */
  testRunner: TestRunnerChoice | null;
};

const SCORE_LINE = /^\s*SCORE:\s*(\S+)\s*$/;
const NAMED_LINE =
  /^\s*([A-Za-z][\w@.\-/]*(?: [\w@.\-/]+)?)\s*:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|NaN|inf|-inf|Infinity|-Infinity)\s*$/;
const METRIC_LINE = /^\s*METRIC\s+([^\s=]+)\s*=\s*(\S+)\s*$/;
const CASE_LINE = /^\s*CASE\s+(\S+)\s+(\S+)\s*$/;
// A JSON object on one line (`{"accuracy": 0.91, "f1": 0.88}`, as many eval scripts print their
// results): its top-level numbers are named metrics, under names a formula can use. A longer line
// is a log, not a result, and is not parsed.
const JSON_LINE = /^\s*\{.*\}\s*$/;
const JSON_LINE_MAX_CHARACTERS = 65_536;
const JSON_METRIC_NAME = /^[A-Za-z][\w@.\-/]*$/;

/** The named metrics of a one-line JSON object; none for anything else. */
function jsonLineMetrics(line: string): [string, number][] {
  if (line.length > JSON_LINE_MAX_CHARACTERS || !JSON_LINE.test(line)) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return [];
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return [];
  return Object.entries(parsed as Record<string, unknown>).filter((entry): entry is [string, number] =>
    typeof entry[1] === "number" && Number.isFinite(entry[1]) && JSON_METRIC_NAME.test(entry[0])
  );
}

/**
 * Incremental parser so a long eval output never has to be held in memory. `metric` (the
 * experiment's metric): without a SCORE line, its own named line is the score, as a formula's
 * terms are (evaluator.ts); printed neither way, the line a missing-SCORE message names first.
 */
export function createEvalOutputParser(metric: string | null = null, command: string | null = null) {
  let score: number | null = null;
  let rawScore: string | null = null;
  const metrics: Record<string, number> = {};
  const cases: Record<string, number> = {};
  let caseCount = 0;
  const testRunner = command === null ? null : testRunnerOf(command);
  const testSummary = createTestSummaryReader(testRunner ?? "any");
  return {
    line(line: string): void {
      testSummary.line(line);
      const scoreMatch = SCORE_LINE.exec(line);
      if (scoreMatch) {
        rawScore = scoreMatch[1];
        score = Number(rawScore);
        return;
      }
      const caseMatch = CASE_LINE.exec(line);
      if (caseMatch) {
        const value = Number(caseMatch[2]);
        if (Number.isFinite(value)) {
          cases[caseMatch[1]] = value;
          caseCount++;
        }
        return;
      }
      const metricMatch = METRIC_LINE.exec(line) ?? NAMED_LINE.exec(line);
      if (metricMatch) {
        const value = Number(metricMatch[2]);
        if (Number.isFinite(value)) metrics[metricMatch[1].toLowerCase()] = value;
        return;
      }
      for (const [name, value] of jsonLineMetrics(line)) metrics[name.toLowerCase()] = value;
    },
    finish(): EvalOutput {
      // A test runner's counts are named metrics too. When the command runs that runner, its counts
      // win over lines of the same name (what the code under test printed is not the runner's count).
      const tests = testSummary.finish();
      for (const [name, value] of Object.entries(tests ? testSummaryMetrics(tests) : {})) {
        if (testRunner !== null || !(name in metrics)) metrics[name] = value;
      }
      let scoreProblem: string | null = null;
      let scoreLine: string | null = null;
      const own = metric?.toLowerCase();
      if (rawScore === null && own !== undefined && own in metrics) {
        scoreLine = own;
        score = metrics[own];
      } else if (rawScore === null) scoreProblem = missingScoreProblem(metrics, metric);
      else if (!Number.isFinite(score)) {
        scoreProblem = `the eval printed SCORE: ${rawScore}, which is not a finite number`;
      }
      return {
        score: scoreProblem ? null : score,
        scoreProblem,
        scoreLine,
        metrics,
        cases: caseCount > 0 ? cases : null,
        tests,
        testRunner,
      };
    },
  };
}

/** A value as the eval printed it, less trailing zeros (300.1, 0.9979); a tiny one without exponent notation. */
function printed(value: number): string {
  const text = String(value);
  return text.includes("e") ? formatMetric(value) : text;
}

/** How every missing-SCORE problem starts. */
export const NO_SCORE_LINE = "the eval printed no SCORE line";

// Named metric lines a missing-SCORE message lists, so it can name the one to read the score from.
const NAMED_METRICS_LISTED = 3;

/**
 * Why a run has no score when it printed no SCORE line nor its metric's own line, with the fix for
 * an eval that prints its metric under another name (`val_bpb: 0.9979` for a metric called loss):
 * print SCORE, or read the score from that line.
 * missingScoreProblem({ val_loss: 0.41, epoch: 3 }, "loss")
 *   -> "the eval printed no SCORE line (it printed val_loss: 0.41, epoch: 3): print SCORE: <value> too, or set metric.score_from: val_loss ..."
 */
function missingScoreProblem(metrics: Record<string, number>, metric?: string | null): string {
  const names = Object.keys(metrics);
  if (names.length === 0) return `${NO_SCORE_LINE}${metric ? ` nor a ${metric} line` : ""}`;
  const listed = names.slice(0, NAMED_METRICS_LISTED).map((name) => `${name}: ${printed(metrics[name])}`).join(
    ", ",
  );
  const more = names.length > NAMED_METRICS_LISTED ? ` and ${names.length - NAMED_METRICS_LISTED} more` : "";
  return `${NO_SCORE_LINE} (it printed ${listed}${more}): print SCORE: <value> too, or set metric.score_from: ${
    names[0]
  } in the experiment file to read the score from that line`;
}

export function parseEvalOutput(text: string, metric: string | null = null, command: string | null = null): EvalOutput {
  const parser = createEvalOutputParser(metric, command);
  for (const line of text.split(/\r?\n/)) parser.line(line);
  return parser.finish();
}

/** Look a metric up by name, case-insensitively; `guard` also answers to a GUARD line. */
export function findMetric(output: EvalOutput, name: string | null | undefined): number | null {
  if (!name) return null;
  const key = name.toLowerCase();
  if (key in output.metrics) return output.metrics[key];
  if ("guard" in output.metrics) return output.metrics.guard;
  return null;
}

/**
 * The values a run printed for the tiebreak metrics, keyed by each name as configured (looked up
 * case-insensitively, never answered by a GUARD line); a metric the run did not print has no key.
 */
export function tiebreakValues(metrics: Record<string, number>, names: string[]): Record<string, number> {
  const values: Record<string, number> = {};
  for (const name of names) {
    const value = metrics[name.toLowerCase()];
    if (value !== undefined) values[name] = value;
  }
  return values;
}

export type FormulaTerm = { weight: number; metric: string };

/**
 * Parse `0.8*precision@12+0.2*mrr` (also `precision@12`, `2*a - b`) into weighted
 * terms. Returns null for a plain metric name. Throws with a readable message on
 * anything else; parentheses and division are not supported on purpose.
 */
export function parseMetricFormula(text: string): FormulaTerm[] | null {
  const read = readMetricFormula(text);
  if ("problem" in read) throw new Error(`Cannot read the metric formula "${text}": it ${read.problem}`);
  return read.terms;
}

/** Why `text` is neither a metric name nor a formula (`has something unexpected at "/mrr"; write it as ...`). */
export function metricFormulaProblem(text: string): string | null {
  const read = readMetricFormula(text);
  return "problem" in read ? read.problem : null;
}

const FORMULA_EXAMPLE = "write it as 0.8*precision@12+0.2*mrr";

function readMetricFormula(text: string): { terms: FormulaTerm[] | null } | { problem: string } {
  const compact = text.replace(/\s+/g, "");
  if (compact === "") return { problem: `is empty; ${FORMULA_EXAMPLE}` };
  if (/^[A-Za-z][\w@.\-/]*$/.test(compact) && !/[+*]/.test(compact)) return { terms: null };
  const terms: FormulaTerm[] = [];
  const pattern = /([+-]?)(?:(\d+(?:\.\d+)?|\.\d+)\*)?([A-Za-z][\w@./]*)/y;
  let position = 0;
  while (position < compact.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(compact);
    if (!match || (position > 0 && match[1] === "")) {
      return { problem: `has something unexpected at "${compact.slice(position)}"; ${FORMULA_EXAMPLE}` };
    }
    const weight = (match[1] === "-" ? -1 : 1) * (match[2] ? Number(match[2]) : 1);
    terms.push({ weight, metric: match[3] });
    position = pattern.lastIndex;
  }
  return { terms };
}

export function evaluateFormula(terms: FormulaTerm[], metrics: Record<string, number>): number | null {
  let total = 0;
  for (const term of terms) {
    const value = metrics[term.metric.toLowerCase()];
    if (value === undefined) return null;
    total += term.weight * value;
  }
  return total;
}
