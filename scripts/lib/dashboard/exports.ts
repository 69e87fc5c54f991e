// The journal as flat tables: Karpathy's `results.tsv` (his five columns and header, so his
// analysis notebook reads a round of ours) and a CSV of every useful column for spreadsheets.
// Pure: takes the summary and the journal, returns text. It writes no file (dashboard.ts prints
// it on stdout) and converts nothing: a score stays in the round's metric and direction.
import type { Journal, ResultLine } from "../experiment/journal.ts";
import { stripControlCharacters } from "../experiment/journal.ts";
import type { IterationRow, Summary } from "../experiment/summary.ts";
import { cleanNumber, roundMeasure } from "../text/number-format.ts";
import { visibleRows } from "./prose.ts";

/** karpathy/autoresearch program.md: "commit val_bpb memory_gb status description", tab-separated. */
export const RESULTS_TSV_HEADER = ["commit", "val_bpb", "memory_gb", "status", "description"] as const;
/** His convention for a crash: the score and memory as zeros, written like his examples. */
const TSV_CRASH_SCORE = "0.000000";
const TSV_NO_MEMORY = "0.0";
const SHORT_COMMIT_LENGTH = 7;
/**
 * Metrics an eval may print for its peak memory, with the factor to gigabytes: his train.py prints
 * peak_vram_mb (the TSV's memory_gb is it / 1024, to one decimal).
 */
const MEMORY_METRICS: [name: string, toGigabytes: number][] = [
  ["memory_gb", 1],
  ["peak_memory_gb", 1],
  ["peak_vram_gb", 1],
  ["peak_vram_mb", 1 / 1024],
  ["peak_memory_mb", 1 / 1024],
  ["memory_mb", 1 / 1024],
];
/** Per-line cost fields a journal may carry (iterate's cost accounting): a CSV column each, when any line has it. */
const COST_FIELDS = ["duration_s", "agent_seconds", "eval_seconds", "tokens_in", "tokens_out", "cost_usd"] as const;
const CSV_COLUMNS = [
  "iteration",
  "commit",
  "status",
  "score",
  "runs",
  "delta",
  "guard_score",
  "guard_pass",
  "memory_gb",
  "description",
  "reason",
  "timestamp",
] as const;

type ExportRow = {
  iteration: number;
  commit: string | null;
  status: IterationRow["status"];
  score: number | null;
  runs: number;
  delta: string | null;
  guardScore: number | null;
  guardPass: boolean | null;
  memoryGb: number | null;
  description: string;
  reason: string | null;
  timestamp: string;
  line: ResultLine | null;
};

export type ExportOptions = { last?: number | null };

/**
 * Karpathy's results.tsv: the baseline first (status keep, as his first run), then one row per
 * iteration. guard_fail is "discard" (measured, not kept); a line never scored has an empty score.
 * His format has no quoting, so tabs and newlines in a description become spaces; a field with a
 * double quote is quoted the way Python's csv module writes TSV, so csv and pandas read it back.
 */
export function renderResultsTsv(summary: Summary, journal: Journal, options: ExportOptions = {}): string {
  const lines = [RESULTS_TSV_HEADER.join("\t")];
  for (const row of exportRows(summary, journal, options)) {
    const crashed = row.status === "crash";
    const score = crashed ? TSV_CRASH_SCORE : measureText(row.score);
    const memory = crashed || row.memoryGb === null ? TSV_NO_MEMORY : row.memoryGb.toFixed(1);
    const status = row.status === "crash"
      ? "crash"
      : row.status === "keep" || row.status === "baseline"
      ? "keep"
      : "discard";
    const fields = [(row.commit ?? "").slice(0, SHORT_COMMIT_LENGTH), score, memory, status, row.description];
    lines.push(fields.map(tsvField).join("\t"));
  }
  return lines.join("\n") + "\n";
}

/**
 * A CSV (RFC 4180: comma-separated, CRLF rows, fields with a comma, quote or line break quoted
 * and inner quotes doubled) of every line with the kit's own statuses, and the cost fields when
 * the journal has them. Descriptions keep their line breaks inside the quotes. The agent writes
 * the descriptions, so a text that a spreadsheet would run as a formula is made inert (inertText).
 */
export function renderResultsCsv(summary: Summary, journal: Journal, options: ExportOptions = {}): string {
  const rows = exportRows(summary, journal, options);
  const costColumns = COST_FIELDS.filter((name) => rows.some((row) => costValue(row.line, name) !== null));
  const lines = [[...CSV_COLUMNS, ...costColumns].join(",")];
  for (const row of rows) {
    const fields = [
      String(row.iteration),
      row.commit ?? "",
      row.status,
      measureText(row.score),
      String(row.runs),
      row.delta ?? "",
      measureText(row.guardScore),
      row.guardPass === null ? "" : String(row.guardPass),
      row.memoryGb === null ? "" : String(cleanNumber(row.memoryGb)),
      inertText(csvText(row.description)),
      inertText(csvText(row.reason ?? "")),
      row.timestamp,
      ...costColumns.map((name) => numberText(costValue(row.line, name))),
    ];
    lines.push(fields.map(csvField).join(","));
  }
  return lines.join("\r\n") + "\r\n";
}

/** The baseline (its score as the dashboard's "Baseline": the mean iterate compared with), then the iterations. */
function exportRows(summary: Summary, journal: Journal, options: ExportOptions): ExportRow[] {
  const baselineLine = journal.results.find((result) => result.status === "baseline") ?? null;
  const iterationLines = new Map<number, ResultLine>();
  for (const result of journal.results) if (result.status !== "baseline") iterationLines.set(result.iteration, result);
  const rows: ExportRow[] = [];
  if (baselineLine || summary.start !== null) {
    rows.push({
      iteration: baselineLine?.iteration ?? 0,
      commit: baselineLine?.commit ?? null,
      status: "baseline",
      score: summary.start,
      runs: summary.startRuns,
      delta: null,
      guardScore: baselineLine?.guard_score ?? null,
      guardPass: baselineLine?.guard_pass ?? null,
      memoryGb: memoryOf(baselineLine),
      description: baselineLine?.description || "baseline",
      reason: null,
      timestamp: baselineLine?.timestamp ?? "",
      line: baselineLine,
    });
  }
  for (const row of visibleRows(summary, options.last)) {
    const line = iterationLines.get(row.iteration) ?? null;
    rows.push({
      iteration: row.iteration,
      commit: row.commit,
      status: row.status,
      score: row.score,
      runs: row.runs,
      delta: row.delta,
      guardScore: row.guardScore,
      guardPass: row.guardPass,
      memoryGb: memoryOf(line),
      description: row.description,
      reason: row.reason,
      timestamp: row.timestamp,
      line,
    });
  }
  return rows;
}

function memoryOf(line: ResultLine | null): number | null {
  const metrics = line?.metrics;
  if (!metrics) return null;
  const lowered = new Map(Object.entries(metrics).map(([name, value]) => [name.toLowerCase(), value]));
  for (const [name, toGigabytes] of MEMORY_METRICS) {
    const value = lowered.get(name);
    if (typeof value === "number" && Number.isFinite(value)) return value * toGigabytes;
  }
  return null;
}

/** A cost field as a number (iterate writes numbers; a hand-written line may hold a numeric string). */
function costValue(line: ResultLine | null, name: (typeof COST_FIELDS)[number]): number | null {
  const value = line ? (line as Record<string, unknown>)[name] : undefined;
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) ? number : null;
}

/** A score or guard value as the journal records it: four decimals at most (0.692833 -> 0.6928); empty for none. */
function measureText(value: number | null): string {
  const rounded = roundMeasure(value);
  return rounded === null ? "" : String(rounded);
}

/** A cost figure without binary noise (0.0123, 1200); empty for none. */
function numberText(value: number | null): string {
  const cleaned = cleanNumber(value);
  return cleaned === null ? "" : String(cleaned);
}

function tsvField(value: string): string {
  const flat = stripControlCharacters(value.replace(/[\t\r\n]+/g, " ")).trim();
  return flat.includes('"') ? `"${flat.replace(/"/g, '""')}"` : flat;
}

/**
 * A text that starts like a spreadsheet formula (=, +, -, @, or a tab or carriage return before
 * one) gets a leading apostrophe, which spreadsheets show as text and do not evaluate: an agent's
 * description "=HYPERLINK(...)" must not run when the user opens the CSV. Given the text as the
 * field will hold it (csvText), so a control character in front cannot hide the formula.
 */
export function inertText(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

/** What a CSV field holds of a text: line breaks as \n, no other control characters. */
function csvText(value: string): string {
  return stripControlCharacters(value.replace(/\r\n?/g, "\n"));
}

function csvField(value: string): string {
  const clean = csvText(value);
  return /[",\r\n]/.test(clean) ? `"${clean.replace(/"/g, '""')}"` : clean;
}
