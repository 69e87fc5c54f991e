// The journal (`autoresearch.jsonl`): the zod schemas of its config header and result
// lines (tolerant of the seed's hand-written lines; zod loads only for a line that needs
// converting), whole-line appends, the check that a journal can be written before anything
// else happens, and the one function that makes journal text safe to print. It never
// rewrites a journal except `writeJournalHeader` on a journal with no results.
import { existsSync, readFileSync, statSync } from "node:fs";
import type * as ZodMini from "zod/mini";
import { CliError, EXIT } from "../cli/errors.ts";
import { requirePackage } from "../cli/packages.ts";
import { appendLineDurably, sha256OfText, whyNotWritable, writeFileAtomic } from "../files/atomic.ts";
import type { Experiment, Round } from "./schema.ts";
import { FIRST_JOURNAL } from "./artifacts.ts";
import { formatDelta } from "../text/number-format.ts";
import { baselineGuardFigure, guardSpecText, isRelativeGuard, resolveGuard } from "./guard.ts";
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

// How each field of a line is read: its zod reader (tolerant the way the seed's hand-written
// lines need: strings for numbers, nulls, missing fields) and, beside it, the shape it reads
// to. A seed field always has a value (a missing key takes the default); an optional field of
// ours that is missing or malformed is left out rather than failing the line. A line whose
// every field already has the shape it reads to (every line the harness writes) reads as
// itself, so it is taken as it is, fields in the schema's order like zod's output; zod is
// loaded for the first line that needs converting (it costs ~25 ms of a step's start-up).
// zod/mini: the same checks as zod's classic API, built in a fraction of the time.
type Zod = typeof ZodMini;
type Field<S extends ZodMini.ZodMiniType = ZodMini.ZodMiniType> = {
  /** The zod reader, built on first use. */
  schema: (z: Zod) => S;
  /** `value` as `schema` reads it, when reading changes nothing but an object's key order; else MISS. */
  asRead: (value: unknown) => unknown;
  /** A line may leave the field out and read the same. */
  optional: boolean;
};
type Fields = Record<string, Field>;
const MISS = Symbol("needs zod");

function field<S extends ZodMini.ZodMiniType>(
  schema: (z: Zod) => S,
  isRead: (value: unknown) => boolean,
  options: { optional?: boolean } = {},
): Field<S> {
  return { schema, asRead: (value) => (isRead(value) ? value : MISS), optional: options.optional ?? false };
}

function read<T>(z: Zod, convert: (value: unknown) => T) {
  return z.pipe(z.unknown(), z.transform(convert));
}
const isNumber = (value: unknown) => typeof value === "number" && Number.isFinite(value);
const isNumberOrNull = (value: unknown) => value === null || isNumber(value);
const isString = (value: unknown) => typeof value === "string";
const isStringOrNull = (value: unknown) => value === null || isString(value);
const isBooleanOrNull = (value: unknown) => value === null || typeof value === "boolean";
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);
const isArrayOf = (isItem: (value: unknown) => boolean) => (value: unknown) =>
  Array.isArray(value) && value.every(isItem);
const isRecordOf = (isItem: (value: unknown) => boolean) => (value: unknown) =>
  isPlainObject(value) && Object.values(value).every(isItem);
const isCaseScores = (value: unknown) => value === null || isRecordOf(isNumber)(value);
const isScoreList = isArrayOf(isNumberOrNull);
const isCount = (value: unknown) => Number.isInteger(value) && (value as number) >= 0;
const isCountPair = (value: unknown) => Array.isArray(value) && value.length === 2 && value.every(isCount);
const isSizeChange = (value: unknown) => isPlainObject(value) && isCountPair(value.lines) && isCountPair(value.tokens);
/** How a lever moved in one iteration: a number `up` or `down`, any other value `changed`. */
export const LEVER_MOVES = ["up", "down", "changed", "added", "removed"] as const;
const isLeverChange = (value: unknown) =>
  isPlainObject(value) && isString(value.name) && isStringOrNull(value.from) && isStringOrNull(value.to) &&
  (LEVER_MOVES as readonly unknown[]).includes(value.direction) && (value.file === undefined || isString(value.file));
const isAttribution = (value: unknown) =>
  value === null ||
  (isPlainObject(value) && isArrayOf(isLeverChange)(value.levers) && isArrayOf(isString)(value.functions) &&
    typeof value.other === "boolean");

const looseNumber = field((z) => z._default(read(z, toNumber), null), isNumberOrNull);
const looseText = (fallback: string) =>
  field((z) => z._default(read(z, (value) => (value == null ? fallback : String(value))), fallback), isString);
const textOrNull = field(
  (z) => z._default(read(z, (value) => (value == null || value === "" ? null : String(value))), null),
  (value) => value === null || (isString(value) && value !== ""),
);
const optionalWholeNumber = field(
  (z) =>
    z.optional(read(z, (value) => {
      const number = toNumber(value);
      return number !== null && Number.isInteger(number) && number >= 1 ? number : undefined;
    })),
  (value) => Number.isInteger(value) && (value as number) >= 1,
  { optional: true },
);
const scoreList = (z: Zod) => z.array(read(z, toNumber)); // index-aligned with the guard and case lists
const caseScores = (z: Zod) => z.catch(z.nullable(z.record(z.string(), z.number())), null);

/** A field only the harness writes: left out when missing or malformed. */
function ours<S extends ZodMini.ZodMiniType>(schema: (z: Zod) => S, isRead: (value: unknown) => boolean) {
  return field((z) => z.catch(z.optional(schema(z)), undefined), isRead, { optional: true });
}

// Each declaration's fields as a list, made once: a 10,000-line journal reads every line through it.
const FIELD_LISTS = new WeakMap<Fields, [string, Field][]>();
function fieldList(fields: Fields): [string, Field][] {
  let list = FIELD_LISTS.get(fields);
  if (!list) FIELD_LISTS.set(fields, list = Object.entries(fields));
  return list;
}

/** `record` as an object schema of `fields` reads it (unknown keys dropped, or kept when `loose`), or MISS. */
function readAsItIs(
  fields: Fields,
  record: Record<string, unknown>,
  loose: boolean,
): Record<string, unknown> | typeof MISS {
  const out: Record<string, unknown> = {};
  for (const [name, declared] of fieldList(fields)) {
    if (!Object.hasOwn(record, name)) {
      if (declared.optional) continue;
      return MISS;
    }
    const value = declared.asRead(record[name]);
    if (value === MISS) return MISS;
    out[name] = value;
  }
  if (loose) { for (const name of Object.keys(record)) if (!Object.hasOwn(fields, name)) out[name] = record[name]; }
  return out;
}

type ObjectSchema<F extends Fields> = ZodMini.ZodMiniObject<{ [K in keyof F]: ReturnType<F[K]["schema"]> }>;
function objectSchema<F extends Fields>(z: Zod, fields: F, options: { loose?: boolean } = {}): ObjectSchema<F> {
  const shape = Object.fromEntries(Object.entries(fields).map(([name, declared]) => [name, declared.schema(z)]));
  return (options.loose ? z.looseObject(shape) : z.object(shape)) as unknown as ObjectSchema<F>;
}

/** A nullable object field of ours, read with `fields` (unknown keys dropped). */
function oursObject<F extends Fields>(fields: F) {
  const schema = (z: Zod) => z.catch(z.optional(z.nullable(objectSchema(z, fields))), undefined);
  const asRead = (value: unknown) =>
    value === null ? null : isPlainObject(value) ? readAsItIs(fields, value, false) : MISS;
  return { schema, asRead, optional: true };
}

const NOISE_FIELDS = {
  sd: looseNumber,
  mean: looseNumber,
  runs: field((z) => z.catch(scoreList(z), []), isScoreList),
  deterministic: field((z) => z.catch(z.nullable(z.boolean()), null), isBooleanOrNull),
  min_detectable_effect: looseNumber,
};

const CASES_FIELDS = {
  fixed: field((z) => z.array(z.string()), isArrayOf(isString)),
  broken: field((z) => z.array(z.string()), isArrayOf(isString)),
};

/** Line 1, the config header: the seed's fields first, ours after. */
const CONFIG_FIELDS = {
  type: field((z) => z.literal("config"), (value) => value === "config"),
  constrained_file: looseText(""),
  eval_command: looseText(""),
  metric: looseText("score"),
  guard_metric: textOrNull,
  guard_threshold: looseNumber,
  baseline: looseNumber,
  min_delta: looseNumber,
  direction: field(
    (z) =>
      z._default(read(z, (value): "max" | "min" => (value === "min" || value === "minimize" ? "min" : "max")), "max"),
    (value) => value === "max" || value === "min",
  ),
  guard_op: ours((z) => z.nullable(z.string()), isStringOrNull),
  guard_spec: ours((z) => z.string(), isString), // a relative guard as written; guard_threshold holds it resolved
  formula: ours((z) => z.nullable(z.string()), isStringOrNull),
  round: optionalWholeNumber,
  name: ours((z) => z.string(), isString),
  constrained_files: ours((z) => z.array(z.string()), isArrayOf(isString)),
  iterations: optionalWholeNumber,
  plateau: optionalWholeNumber, // budget.plateau, so a journal read alone keeps it
  noise: oursObject(NOISE_FIELDS),
  hashes: ours((z) => z.record(z.string(), z.string()), isRecordOf(isString)),
  // null: a default (simplify_margin); a word for a choice (noise_model)
  decision: ours(
    (z) => z.record(z.string(), z.nullable(z.union([z.number(), z.string()]))),
    isRecordOf((value) => isNumberOrNull(value) || isString(value)),
  ),
  measurement: ours((z) => z.string(), isString), // fingerprint of the measurement fields baseline recorded
  created_at: ours((z) => z.string(), isString),
  baselined_at: ours((z) => z.string(), isString),
  previous_round: ours((z) => z.number(), isNumber), // next-round from a journal alone: the round this one follows
  previous_best: ours((z) => z.nullable(z.number()), isNumberOrNull),
  // The round's held-out set, without its path (the journal is read by the agent): sha256 of the path, runs, split share.
  holdout: ours(
    (z) => z.object({ path_hash: z.string(), runs: z.number(), split: z.nullable(z.number()) }),
    (value) => isPlainObject(value) && isString(value.path_hash) && isNumber(value.runs) && isNumberOrNull(value.split),
  ),
  // The round's secondary objectives, in order (the metric, direction and guard fields hold the rest of its objective).
  tiebreaks: ours(
    (z) => z.array(z.object({ metric: z.string(), direction: z.enum(["max", "min"]) })),
    isArrayOf((value) =>
      isPlainObject(value) && isString(value.metric) && (value.direction === "max" || value.direction === "min")
    ),
  ),
};

/** One iteration's outcome (or the baseline). Optional fields are ours. */
const RESULT_FIELDS = {
  type: field((z) => z.catch(z.literal("result"), "result"), (value) => value === "result"), // the seed's lines may leave it out
  iteration: looseNumber, // null: numbered by position
  commit: textOrNull,
  score: looseNumber,
  delta: field(
    (z) =>
      z._default(
        read(z, (value) =>
          typeof value === "string" && value.trim() !== "" ? value.trim() : formatDelta(toNumber(value))),
        null,
      ),
    (value) => value === null || (isString(value) && value !== "" && value === value.trim()),
  ),
  guard_score: looseNumber,
  guard_pass: field((z) => z._default(read(z, toBoolean), null), isBooleanOrNull),
  status: field(
    (z) => z._default(read(z, (value) => toStatus(value) ?? "discard"), "discard"),
    (value) => (STATUSES as readonly unknown[]).includes(value),
  ),
  description: looseText(""),
  timestamp: looseText(""),
  reason: ours((z) => z.nullable(z.string()), isStringOrNull),
  runs: ours(scoreList, isScoreList), // every candidate eval run's score, in order
  guard_runs: ours(scoreList, isScoreList),
  case_runs: ours((z) => z.array(caseScores(z)), isArrayOf(isCaseScores)),
  incumbent_runs: ours(scoreList, isScoreList), // incumbent re-runs made while deciding this candidate
  incumbent_guard_runs: ours(scoreList, isScoreList),
  incumbent_case_runs: ours((z) => z.array(caseScores(z)), isArrayOf(isCaseScores)),
  // Each run's values of the tiebreak metrics ({metric: value}, null for none), aligned with runs / incumbent_runs.
  tiebreak_runs: ours((z) => z.array(caseScores(z)), isArrayOf(isCaseScores)),
  incumbent_tiebreak_runs: ours((z) => z.array(caseScores(z)), isArrayOf(isCaseScores)),
  incumbent_commit: ours((z) => z.nullable(z.string()), isStringOrNull),
  metrics: ours((z) => z.record(z.string(), z.number()), isRecordOf(isNumber)),
  verdict: ours(
    (z) => z.nullable(z.record(z.string(), z.unknown())),
    (value) => value === null || isPlainObject(value),
  ),
  cases: oursObject(CASES_FIELDS),
  duration_s: ours((z) => z.number(), isNumber),
  // What the iteration cost: the agent's wall time (every attempt), the candidate's eval runs' time,
  // and the tokens and dollars the agent reported (absent when it reported none).
  agent_seconds: ours((z) => z.number(), isNumber),
  eval_seconds: ours((z) => z.number(), isNumber),
  runner_retries: ours((z) => z.number(), isNumber), // eval.runner's attempts again after its own failures, this step
  tokens_in: ours((z) => z.number(), isNumber),
  tokens_out: ours((z) => z.number(), isNumber),
  tokens_cached: ours((z) => z.number(), isNumber),
  cost_usd: ours((z) => z.number(), isNumber),
  // A call retried after transient failures: how many attempts it took, and why each failed one did.
  agent_attempts: ours((z) => z.number(), isNumber),
  agent_retries: ours((z) => z.array(z.string()), isArrayOf(isString)),
  patch: ours((z) => z.nullable(z.string()), isStringOrNull),
  changed_files: ours((z) => z.array(z.string()), isArrayOf(isString)),
  log: ours((z) => z.nullable(z.string()), isStringOrNull),
  output_tail: ours((z) => z.nullable(z.string()), isStringOrNull),
  // What the candidate's diff changed, read from the code (never from the description): the
  // levers with old -> new values, the functions whose bodies changed, and whether other lines
  // changed. null when it could not be worked out; absent on lines written before it existed.
  attribution: ours(
    (z) =>
      z.nullable(z.object({
        levers: z.array(z.object({
          name: z.string(),
          from: z.nullable(z.string()),
          to: z.nullable(z.string()),
          direction: z.enum(LEVER_MOVES),
          file: z.optional(z.string()),
        })),
        functions: z.array(z.string()),
        other: z.boolean(),
      })),
    isAttribution,
  ),
  // A fingerprint of the candidate's normalised diff against its incumbent: the same change
  // submitted again is recognised without measuring it.
  change_hash: ours((z) => z.nullable(z.string()), isStringOrNull),
  // A simplification request's measured size of the constrained files, [before, after] each.
  // The held-out set's figures on the baseline line and on keep lines: the mean of its runs (null when
  // they crashed), the runs, and why there is no figure. Never its path.
  holdout_score: ours((z) => z.nullable(z.number()), isNumberOrNull),
  holdout_runs: ours(scoreList, isScoreList),
  holdout_note: ours((z) => z.string(), isString),
  simplification: ours(
    (z) => {
      const pair = z.tuple([z.int().check(z.nonnegative()), z.int().check(z.nonnegative())]);
      return z.object({ lines: pair, tokens: pair });
    },
    isSizeChange,
  ),
};

export type ConfigLine = ZodMini.output<ObjectSchema<typeof CONFIG_FIELDS>>;
export type ResultLine = Omit<ZodMini.output<ObjectSchema<typeof RESULT_FIELDS>>, "iteration"> & { iteration: number };

// Fields no schema names (a seed's "notes", an agent's timing) ride along unchecked, so a
// rewritten header or a copied line keeps them; the types name only what the kit reads.
let lineReaders: { config: ObjectSchema<typeof CONFIG_FIELDS>; result: ObjectSchema<typeof RESULT_FIELDS> } | null =
  null;

/** The zod readers of the two line kinds, built on first use. */
function zodLineReaders() {
  if (!lineReaders) {
    const z = requirePackage("experimentFile", "zod/mini") as Zod;
    lineReaders = {
      config: objectSchema(z, CONFIG_FIELDS, { loose: true }),
      result: objectSchema(z, RESULT_FIELDS, { loose: true }),
    };
  }
  return lineReaders;
}

function readConfigLine(record: Record<string, unknown>): ConfigLine {
  const asItIs = readAsItIs(CONFIG_FIELDS, record, true);
  return (asItIs === MISS ? zodLineReaders().config.parse(record) : asItIs) as ConfigLine;
}

function readResultLine(record: Record<string, unknown>): Omit<ResultLine, "iteration"> & { iteration: number | null } {
  const asItIs = readAsItIs(RESULT_FIELDS, record, true);
  return (asItIs === MISS ? zodLineReaders().result.parse(record) : asItIs) as ResultLine;
}

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
      journal.config = readConfigLine(record);
    } else if (record.type === "result" || (record.type === undefined && "status" in record)) {
      const result = readResultLine(record);
      if (toStatus(record.status) === null) {
        journal.warnings.push(
          `${label}:${index + 1}: unknown status "${stripControlCharacters(String(record.status))}", read as discard`,
        );
      }
      // The line is a fresh object (read as it is, or zod's output): numbered in place, not copied.
      result.iteration ??= journal.results.length;
      journal.results.push(result as ResultLine);
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
  const resolved = resolveGuard(guard, baselineGuardFigure(round.baseline)); // null for a relative guard before baseline
  return {
    type: "config",
    constrained_file: round.constrained_files[0],
    eval_command: round.eval.command,
    metric: experiment.metric.formula ?? experiment.metric.name,
    guard_metric: guard?.metric ?? null,
    guard_threshold: resolved?.threshold ?? null,
    baseline: null,
    min_delta: null,
    direction: experiment.metric.direction,
    guard_op: guard?.op ?? null,
    ...(guard && isRelativeGuard(guard) ? { guard_spec: guardSpecText(guard) } : {}),
    round: round.round,
    name: experiment.name,
    constrained_files: round.constrained_files,
    iterations: experiment.budget.iterations,
    plateau: experiment.budget.plateau,
    ...(experiment.tiebreaks.length > 0
      ? { tiebreaks: experiment.tiebreaks.map((tiebreak) => ({ ...tiebreak })) }
      : {}),
    ...(experiment.holdout
      ? {
        holdout: {
          path_hash: sha256OfText(experiment.holdout.path),
          runs: experiment.holdout.runs,
          split: experiment.holdout.split,
        },
      }
      : {}),
    created_at: journalTimestamp(),
  };
}
