// The journal (`autoresearch.jsonl`): the seed's config header and result lines,
// tolerant reading of hand-written journals, whole-line appends, the check that a
// journal can be written before anything else happens, and the one function that makes
// journal text safe to print. It never rewrites a journal except `writeJournalHeader`
// on a journal with no results.
import { existsSync, readFileSync, statSync } from "node:fs";
import { CliError, EXIT } from "../cli/errors.ts";
import { appendLineDurably, whyNotWritable, writeFileAtomic } from "../files/atomic.ts";
import type { Experiment, Round } from "./experiment-file.ts";
import { formatDelta } from "../text/number-format.ts";
import { journalTimestamp } from "../text/timestamp.ts";

export const STATUSES = ["baseline", "keep", "discard", "crash", "guard_fail"] as const;
export type Status = (typeof STATUSES)[number];

/** Line 0: the seed's fields first, ours after. */
export type ConfigLine = {
  type: "config";
  constrained_file: string;
  eval_command: string;
  metric: string;
  guard_metric: string | null;
  guard_threshold: number | null;
  baseline: number | null;
  min_delta?: number | null;
  direction?: "max" | "min";
  guard_op?: string | null;
  round?: number;
  name?: string;
  constrained_files?: string[];
  iterations?: number;
  plateau?: number; // budget.plateau, so a journal read without its experiment file keeps it
  noise?: { sd: number; mean: number; runs: number[]; deterministic: boolean; min_detectable_effect: number | null } | null;
  hashes?: Record<string, string>;
  decision?: Record<string, number>;
  created_at?: string;
  [extra: string]: unknown;
};

/** One iteration's outcome (or the baseline). Optional fields are ours. */
export type ResultLine = {
  type: "result";
  iteration: number;
  commit: string | null;
  score: number | null;
  delta: string | null;
  guard_score: number | null;
  guard_pass: boolean | null;
  status: Status;
  description: string;
  timestamp: string;
  reason?: string | null;
  runs?: number[]; // every candidate eval run's score, in order
  guard_runs?: (number | null)[];
  incumbent_runs?: number[]; // incumbent re-runs made while deciding this candidate
  incumbent_commit?: string | null;
  metrics?: Record<string, number>;
  verdict?: Record<string, unknown> | null;
  cases?: { fixed: string[]; broken: string[] } | null;
  duration_s?: number;
  patch?: string | null;
  changed_files?: string[];
  log?: string | null;
  output_tail?: string | null;
  [extra: string]: unknown;
};

export type Journal = {
  config: ConfigLine | null;
  results: ResultLine[];
  warnings: string[];
};

/** Numbers may arrive as numbers or strings ("0.7050", "+0.012"); anything else is null. */
export function toNumber(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "") {
    const number = Number(value.trim());
    return Number.isFinite(number) ? number : null;
  }
  return null;
}

function toBoolean(value: unknown): boolean | null {
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "PASS" || value === "pass") return true;
  if (value === "false" || value === "FAIL" || value === "fail") return false;
  return null;
}

export function normalizeConfig(raw: Record<string, unknown>): ConfigLine {
  return {
    ...raw,
    type: "config",
    constrained_file: String(raw.constrained_file ?? ""),
    eval_command: String(raw.eval_command ?? ""),
    metric: String(raw.metric ?? "score"),
    guard_metric: raw.guard_metric == null || raw.guard_metric === "" ? null : String(raw.guard_metric),
    guard_threshold: toNumber(raw.guard_threshold),
    baseline: toNumber(raw.baseline),
    min_delta: toNumber(raw.min_delta),
    direction: raw.direction === "min" || raw.direction === "minimize" ? "min" : "max",
  };
}

export function normalizeResult(raw: Record<string, unknown>, position: number): ResultLine {
  const status = String(raw.status ?? "").toLowerCase().replace(/-/g, "_");
  const score = toNumber(raw.score);
  const deltaNumber = toNumber(raw.delta);
  return {
    ...raw,
    type: "result",
    iteration: toNumber(raw.iteration) ?? position,
    commit: raw.commit == null || raw.commit === "" ? null : String(raw.commit),
    score,
    delta: typeof raw.delta === "string" && raw.delta.trim() !== "" ? raw.delta.trim() : formatDelta(deltaNumber),
    guard_score: toNumber(raw.guard_score),
    guard_pass: toBoolean(raw.guard_pass),
    status: (STATUSES as readonly string[]).includes(status) ? (status as Status) : "discard",
    description: String(raw.description ?? ""),
    timestamp: String(raw.timestamp ?? ""),
  };
}

/** A journal's non-blank lines as written, each parsed (`value` undefined when it is not JSON). */
export function journalLines(text: string): { lineNumber: number; text: string; value: unknown; torn: boolean }[] {
  const lines = text.split("\n");
  const parsed: { lineNumber: number; text: string; value: unknown; torn: boolean }[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    parsed.push({ lineNumber: index + 1, text: line, value, torn: index >= lines.length - 2 && !text.endsWith("\n") });
  });
  return parsed;
}

/** Parse journal text; blank lines are skipped, a torn or broken line is skipped with a warning. */
export function parseJournal(text: string, label = "autoresearch.jsonl"): Journal {
  const journal: Journal = { config: null, results: [], warnings: [] };
  for (const { lineNumber, text: line, value, torn } of journalLines(text)) {
    const index = lineNumber - 1;
    if (value === undefined) {
      journal.warnings.push(`${label}:${index + 1}: skipped ${torn ? "a torn last line (an interrupted write)" : "a line that is not JSON"}: ${stripControlCharacters(line.slice(0, 60))}`);
      continue;
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      journal.warnings.push(`${label}:${index + 1}: skipped a line that is not a JSON object`);
      continue;
    }
    const record = value as Record<string, unknown>;
    if (record.type === "config") {
      if (journal.config) journal.warnings.push(`${label}:${index + 1}: a second config line; the later one is used`);
      journal.config = normalizeConfig(record);
    } else if (record.type === "result" || (record.type === undefined && "status" in record)) {
      const result = normalizeResult(record, journal.results.length);
      if (!(STATUSES as readonly string[]).includes(String(record.status).toLowerCase().replace(/-/g, "_"))) {
        journal.warnings.push(`${label}:${index + 1}: unknown status "${stripControlCharacters(String(record.status))}", read as discard`);
      }
      journal.results.push(result);
    }
  }
  return journal;
}

export function readJournal(path: string, label = path): Journal {
  if (!existsSync(path)) return { config: null, results: [], warnings: [] };
  return parseJournal(readJournalText(path, label), label);
}

/** A journal's text; a directory or an unreadable file is a one-line CliError (exit 2). */
export function readJournalText(path: string, label = path): string {
  if (statSync(path).isDirectory()) {
    throw new CliError(`The journal "${label}" is a directory, not a file. Move it aside (mv "${label}" "${label}.old") and re-run.`, "E_JOURNAL_NOT_A_FILE", EXIT.USAGE);
  }
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError(`Cannot read the journal "${label}" (${reason}). Check its permissions (ls -l "${label}") and re-run.`, "E_JOURNAL_UNREADABLE", EXIT.USAGE);
  }
}

/**
 * Refuse, before any side effect, a journal that cannot take the next line: a directory in
 * its place, a read-only file (chmod 444 counts even for root), or a folder that cannot be
 * written. `replace`: the caller rewrites the whole journal (temp file + rename), which needs
 * its folder writable too. `label` is the path as the person knows it.
 */
export function assertJournalWritable(path: string, label: string, options: { replace?: boolean } = {}): void {
  const problem = whyNotWritable(path, options);
  if (problem === null) return;
  const fix = problem === "it is a directory"
    ? `Move it aside (mv "${label}" "${label}.old") and re-run.`
    : problem === "it is read-only"
      ? `Make it writable (chmod u+w "${label}") and re-run.`
      : "Make that folder writable, or point the round's artifacts.journal elsewhere, and re-run.";
  throw new CliError(`Cannot write the journal "${label}": ${problem}. ${fix}`, "E_JOURNAL_NOT_WRITABLE", EXIT.USAGE);
}

const ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-~])/g;
// C0 controls except tab and newline, DEL, and C1 controls (U+0080-U+009F).
const CONTROL_CHARACTER = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text from a journal (descriptions, reasons, metric names), made safe to print: whole
 * terminal escape sequences (colours, titles) and every other control character except
 * newline and tab are removed, so a pasted "\x1b[31m" cannot recolour or rewrite a terminal.
 * "\x1b[31mfaster\x1b[0m tokenizer" -> "faster tokenizer".
 */
export function stripControlCharacters(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, "").replace(CONTROL_CHARACTER, "");
}

/** Append one result as a single whole line. */
export function appendResult(path: string, result: ResultLine): void {
  appendLineDurably(path, JSON.stringify(result));
}

/** Write (or replace) the config header of a journal that has no results besides a baseline being rewritten. */
export function writeJournalHeader(path: string, config: ConfigLine, results: ResultLine[] = []): void {
  const body = [config, ...results].map((line) => JSON.stringify(line)).join("\n") + "\n";
  writeFileAtomic(path, body);
}

/** Iteration results only (the baseline line is not an iteration). */
export function iterationResults(journal: Journal): ResultLine[] {
  return journal.results.filter((result) => result.status !== "baseline");
}

/** A round's journal config header before its baseline (baseline.ts fills baseline, min_delta and noise). */
export function journalHeaderFor(experiment: Experiment, round: Round): ConfigLine {
  const guard = experiment.guard;
  return {
    type: "config",
    constrained_file: round.constrained_files[0],
    eval_command: round.eval.command,
    metric: experiment.metric.formula ?? experiment.metric.name,
    guard_metric: guard?.metric ?? null,
    guard_threshold: guard?.threshold ?? null,
    baseline: null,
    min_delta: null,
    direction: experiment.metric.direction,
    guard_op: guard?.op ?? null,
    round: round.round,
    name: experiment.name,
    constrained_files: round.constrained_files,
    iterations: experiment.budget.iterations,
    plateau: experiment.budget.plateau,
    created_at: journalTimestamp(),
  };
}
