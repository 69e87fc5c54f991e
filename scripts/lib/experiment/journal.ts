// The journal (`autoresearch.jsonl`): the zod schemas of its config header and result
// lines (tolerant of the seed's hand-written lines), whole-line appends, the check that a
// journal can be written before anything else happens, and the one function that makes
// journal text safe to print. It never rewrites a journal except `writeJournalHeader`
// on a journal with no results.
import { existsSync, readFileSync, statSync } from "node:fs";
import * as z from "zod/mini";
import { CliError, EXIT } from "../cli/errors.ts";
import { appendLineDurably, whyNotWritable, writeFileAtomic } from "../files/atomic.ts";
import type { Experiment, Round } from "./experiment-file.ts";
import { FIRST_JOURNAL } from "./artifacts.ts";
import { formatDelta } from "../text/number-format.ts";
import { journalTimestamp } from "../text/timestamp.ts";

export const STATUSES = ["baseline", "keep", "discard", "crash", "guard_fail"] as const;
export type Status = (typeof STATUSES)[number];

/** Numbers may arrive as numbers or strings ("0.7050", "+0.012"); anything else is null. */
function toNumber(value: unknown): number | null {
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

/** "Guard-Fail" -> "guard_fail"; null for a status the kit does not know. */
function toStatus(value: unknown): Status | null {
  const status = String(value ?? "").toLowerCase().replace(/-/g, "_");
  return (STATUSES as readonly string[]).includes(status) ? (status as Status) : null;
}

// Field readers, tolerant the way the seed's hand-written lines need: strings for numbers,
// nulls, missing fields. A seed field always has a value (a missing key takes the default);
// an optional field of ours that is missing or malformed is left out rather than failing the
// line. zod/mini: the same checks as zod's classic API, built in a fraction of the time.
function read<T>(convert: (value: unknown) => T) {
  return z.pipe(z.unknown(), z.transform(convert));
}
const looseNumber = z._default(read(toNumber), null);
const looseText = (fallback: string) =>
  z._default(read((value) => (value == null ? fallback : String(value))), fallback);
const textOrNull = z._default(read((value) => (value == null || value === "" ? null : String(value))), null);
const wholeNumber = read((value) => {
  const number = toNumber(value);
  return number !== null && Number.isInteger(number) && number >= 1 ? number : undefined;
});
const scoreList = z.array(read(toNumber)); // index-aligned with the guard and case lists
const caseScores = z.catch(z.nullable(z.record(z.string(), z.number())), null);
function ours<T extends z.ZodMiniType>(schema: T) {
  return z.catch(z.optional(schema), undefined);
}

const NoiseSchema = z.object({
  sd: looseNumber,
  mean: looseNumber,
  runs: z.catch(scoreList, []),
  deterministic: z.catch(z.nullable(z.boolean()), null),
  min_detectable_effect: looseNumber,
});

/** Line 1, the config header: the seed's fields first, ours after. */
const ConfigLineSchema = z.object({
  type: z.literal("config"),
  constrained_file: looseText(""),
  eval_command: looseText(""),
  metric: looseText("score"),
  guard_metric: textOrNull,
  guard_threshold: looseNumber,
  baseline: looseNumber,
  min_delta: looseNumber,
  direction: z._default(
    read((value): "max" | "min" => (value === "min" || value === "minimize" ? "min" : "max")),
    "max",
  ),
  guard_op: ours(z.nullable(z.string())),
  formula: ours(z.nullable(z.string())),
  round: z.optional(wholeNumber),
  name: ours(z.string()),
  constrained_files: ours(z.array(z.string())),
  iterations: z.optional(wholeNumber),
  plateau: z.optional(wholeNumber), // budget.plateau, so a journal read alone keeps it
  noise: ours(z.nullable(NoiseSchema)),
  hashes: ours(z.record(z.string(), z.string())),
  decision: ours(z.record(z.string(), z.number())),
  measurement: ours(z.string()), // fingerprint of the measurement fields baseline recorded
  created_at: ours(z.string()),
  baselined_at: ours(z.string()),
  previous_round: ours(z.number()), // next-round from a journal alone: the round this one follows
  previous_best: ours(z.nullable(z.number())),
});

/** One iteration's outcome (or the baseline). Optional fields are ours. */
const ResultLineSchema = z.object({
  type: z.catch(z.literal("result"), "result"), // the seed's lines may leave it out
  iteration: looseNumber, // null: numbered by position
  commit: textOrNull,
  score: looseNumber,
  delta: z._default(
    read((value) => (typeof value === "string" && value.trim() !== "" ? value.trim() : formatDelta(toNumber(value)))),
    null,
  ),
  guard_score: looseNumber,
  guard_pass: z._default(read(toBoolean), null),
  status: z._default(read((value) => toStatus(value) ?? "discard"), "discard"),
  description: looseText(""),
  timestamp: looseText(""),
  reason: ours(z.nullable(z.string())),
  runs: ours(scoreList), // every candidate eval run's score, in order
  guard_runs: ours(scoreList),
  case_runs: ours(z.array(caseScores)),
  incumbent_runs: ours(scoreList), // incumbent re-runs made while deciding this candidate
  incumbent_guard_runs: ours(scoreList),
  incumbent_case_runs: ours(z.array(caseScores)),
  incumbent_commit: ours(z.nullable(z.string())),
  metrics: ours(z.record(z.string(), z.number())),
  verdict: ours(z.nullable(z.record(z.string(), z.unknown()))),
  cases: ours(z.nullable(z.object({ fixed: z.array(z.string()), broken: z.array(z.string()) }))),
  duration_s: ours(z.number()),
  patch: ours(z.nullable(z.string())),
  changed_files: ours(z.array(z.string())),
  log: ours(z.nullable(z.string())),
  output_tail: ours(z.nullable(z.string())),
});

// Fields no schema names (a seed's "notes", an agent's timing) ride along unchecked, so a
// rewritten header or a copied line keeps them; the types name only what the kit reads.
const ConfigLineReader = z.looseObject(ConfigLineSchema.def.shape);
const ResultLineReader = z.looseObject(ResultLineSchema.def.shape);

export type ConfigLine = z.output<typeof ConfigLineSchema>;
export type ResultLine = Omit<z.output<typeof ResultLineSchema>, "iteration"> & { iteration: number };

export type Journal = {
  config: ConfigLine | null;
  results: ResultLine[];
  warnings: string[];
};

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
export function parseJournal(text: string, label = FIRST_JOURNAL): Journal {
  const journal: Journal = { config: null, results: [], warnings: [] };
  for (const { lineNumber, text: line, value, torn } of journalLines(text)) {
    const index = lineNumber - 1;
    if (value === undefined) {
      journal.warnings.push(
        `${label}:${index + 1}: skipped ${
          torn ? "a torn last line (an interrupted write)" : "a line that is not JSON"
        }: ${stripControlCharacters(line.slice(0, 60))}`,
      );
      continue;
    }
    if (!value || typeof value !== "object" || Array.isArray(value)) {
      journal.warnings.push(`${label}:${index + 1}: skipped a line that is not a JSON object`);
      continue;
    }
    const record = value as Record<string, unknown>;
    if (record.type === "config") {
      if (journal.config) journal.warnings.push(`${label}:${index + 1}: a second config line; the later one is used`);
      journal.config = ConfigLineReader.parse(record);
    } else if (record.type === "result" || (record.type === undefined && "status" in record)) {
      const result = ResultLineReader.parse(record);
      if (toStatus(record.status) === null) {
        journal.warnings.push(
          `${label}:${index + 1}: unknown status "${stripControlCharacters(String(record.status))}", read as discard`,
        );
      }
      journal.results.push({ ...result, iteration: result.iteration ?? journal.results.length });
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
    throw new CliError(
      `The journal "${label}" is a directory, not a file. Move it aside (mv "${label}" "${label}.old") and re-run.`,
      "E_JOURNAL_NOT_A_FILE",
      EXIT.USAGE,
    );
  }
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new CliError(
      `Cannot read the journal "${label}" (${reason}). Check its permissions (ls -l "${label}") and re-run.`,
      "E_JOURNAL_UNREADABLE",
      EXIT.USAGE,
    );
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
