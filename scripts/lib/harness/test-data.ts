// Test data: the scaffold init writes (JSON for Python/TypeScript evals, TSV for the shell
// eval), inspection that baseline uses to refuse unfinished data, and reading the inputs a
// user passes with --cases-from. Pure except `inspectTestDataFile`. It does not run code:
// filling expected outputs from the current code is the generated eval's `--bootstrap`.
import { readFileSync, statSync } from "node:fs";
import { extname } from "node:path";
import type { EntryOwner } from "../levers/lever.ts";
import type { OutputAdapter, ReturnShape } from "./metric-catalog.ts";
import { splitTopLevel } from "../text/split-top-level.ts";

/** Marks the files this module writes; other formats are inspected leniently. */
export const TEST_DATA_FORMAT = "autoresearch-kit/test-data@1";
/** A string value starting with this is a placeholder baseline refuses. */
export const PLACEHOLDER_PREFIX = "TODO:";
/** The seed: minimum 15 test cases, 20-30 is better. */
export const SCAFFOLD_CASES = 20;
/** Header of the shell eval's tab-separated test data. */
export const TSV_COLUMNS = ["id", "input", "expected"] as const;

export type CaseShape = ReturnShape | "latency";

export type Placeholder = { caseId: string; field: string };
export type TestDataReport = {
  /** "kit" for files in TEST_DATA_FORMAT / our TSV; otherwise what the file looked like. */
  format: "kit-json" | "kit-tsv" | "json" | "jsonl" | "table" | "text";
  cases: number;
  placeholders: Placeholder[];
  /** Reasons the file cannot be used at all (baseline refuses). */
  problems: string[];
  /** Worth saying, not blocking (e.g. expected outputs bootstrapped and not yet reviewed). */
  warnings: string[];
};

/** A case's input, keyed by the entry function's parameter names. */
export type CaseInput = { id: string | null; input: Record<string, unknown> };

// ---- inspection -------------------------------------------------------------------------------

/**
 * Inspect test data text. Kit files must have an id, an input and an expected field per case;
 * any other JSON/JSONL/CSV/TSV is counted and searched for "TODO:" placeholders only.
 * Example: inspectTestData('{"format":"autoresearch-kit/test-data@1","cases":[{"id":"a","input":{"q":"TODO: x"},"expected":[1]}]}', "t.json")
 *   -> { format: "kit-json", cases: 1, placeholders: [{ caseId: "a", field: "input.q" }], problems: [], warnings: [] }
 */
export function inspectTestData(text: string, path: string): TestDataReport {
  const extension = extname(path).toLowerCase();
  if (extension === ".jsonl" || extension === ".ndjson") return inspectJsonLines(text);
  if (extension === ".tsv" || extension === ".csv") return inspectTable(text, extension === ".tsv" ? "\t" : ",");
  if (extension === ".json" || /^\s*[[{]/.test(text)) return inspectJson(text);
  const lines = text.split("\n").filter((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
  const placeholders = lines.flatMap((
    line,
    index,
  ) => (line.includes(PLACEHOLDER_PREFIX) ? [{ caseId: String(index + 1), field: "line" }] : []));
  return { format: "text", cases: lines.length, placeholders, problems: [], warnings: [] };
}

/** Read and inspect a test data file; an unreadable file is a problem, not an exception. */
export function inspectTestDataFile(path: string): TestDataReport {
  let text: string;
  try {
    if (statSync(path).isDirectory()) return emptyReport(`"${path}" is a directory, not a file`);
    text = readFileSync(path, "utf8");
  } catch (error) {
    return emptyReport(`cannot read "${path}": ${(error as Error).message}`);
  }
  return inspectTestData(text, path);
}

function emptyReport(problem: string): TestDataReport {
  return { format: "text", cases: 0, placeholders: [], problems: [problem], warnings: [] };
}

function inspectJson(text: string): TestDataReport {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return emptyReport(`not valid JSON (${(error as Error).message})`);
  }
  const isKit = isRecord(value) && value.format === TEST_DATA_FORMAT;
  const cases = Array.isArray(value) ? value : isRecord(value) ? findCaseArray(value) : null;
  const setup = isRecord(value) && cases !== null ? inspectSetup(value.setup, isKit) : null;
  if (cases === null) {
    if (isKit) return { ...emptyReport('it has no "cases" array'), format: "kit-json" };
    const placeholders = findPlaceholders(value, "").map((field) => ({ caseId: "(file)", field }));
    return {
      format: "json",
      cases: isRecord(value) ? Object.keys(value).length : 1,
      placeholders,
      problems: [],
      warnings: [],
    };
  }
  const report = inspectCases(cases, isKit ? "kit-json" : "json");
  if (!setup) return report;
  return {
    ...report,
    placeholders: [...setup.placeholders, ...report.placeholders],
    problems: [...setup.problems, ...report.problems],
  };
}

/** The document's shared "setup" (constructor arguments): an object, and no placeholder left in it. */
function inspectSetup(setup: unknown, strict: boolean): Pick<TestDataReport, "placeholders" | "problems"> {
  if (setup === undefined) return { placeholders: [], problems: [] };
  const problems = strict && !isRecord(setup) ? ['"setup" must be an object of constructor arguments'] : [];
  const placeholders = findPlaceholders(setup, "setup").map((field) => ({ caseId: "(setup)", field }));
  return { placeholders, problems };
}

function inspectJsonLines(text: string): TestDataReport {
  const cases: unknown[] = [];
  const problems: string[] = [];
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") return;
    try {
      cases.push(JSON.parse(line));
    } catch {
      problems.push(`line ${index + 1} is not valid JSON`);
    }
  });
  const report = inspectCases(cases, "jsonl");
  return { ...report, problems: [...problems, ...report.problems] };
}

function findCaseArray(record: Record<string, unknown>): unknown[] | null {
  for (const key of ["cases", "queries", "examples", "tests", "data", "items"]) {
    if (Array.isArray(record[key])) return record[key] as unknown[];
  }
  return null;
}

function inspectCases(cases: unknown[], format: "kit-json" | "json" | "jsonl"): TestDataReport {
  const strict = format === "kit-json";
  const problems: string[] = [];
  const placeholders: Placeholder[] = [];
  const seen = new Set<string>();
  let bootstrapped = 0;
  cases.forEach((item, index) => {
    const fallbackId = String(index + 1);
    if (!isRecord(item)) {
      if (strict) problems.push(`case ${index + 1} is not an object with id, input and expected`);
      for (const field of findPlaceholders(item, "")) {
        placeholders.push({ caseId: fallbackId, field: field || "value" });
      }
      return;
    }
    const id = typeof item.id === "string" || typeof item.id === "number" ? String(item.id) : null;
    if (strict) {
      if (id === null) problems.push(`case ${index + 1} has no "id"`);
      else if (seen.has(id)) problems.push(`case id "${id}" appears more than once`);
      if (!isRecord(item.input)) problems.push(`case "${id ?? index + 1}" has no "input" object`);
      if (!("expected" in item)) {
        problems.push(`case "${id ?? index + 1}" has no "expected" field (use null when nothing is checked)`);
      }
      if ("setup" in item && !isRecord(item.setup)) {
        problems.push(`case "${id ?? index + 1}" has a "setup" that is not an object`);
      }
    }
    if (id !== null) seen.add(id);
    if (item.source === "bootstrap") bootstrapped++;
    const searched = strict ? { setup: item.setup, input: item.input, expected: item.expected } : item;
    for (const field of findPlaceholders(searched, "")) placeholders.push({ caseId: id ?? fallbackId, field });
  });
  const warnings = bootstrapped > 0
    ? [
      `${bootstrapped} case${
        bootstrapped === 1 ? "" : "s"
      } have expected outputs copied from the current code ("source": "bootstrap"); check them, correct the wrong ones, then delete the "source" field`,
    ]
    : [];
  return { format, cases: cases.length, placeholders, problems, warnings };
}

function inspectTable(text: string, separator: string): TestDataReport {
  const rows = text.split("\n").map((line) => line.replace(/\r$/, "")).filter((line) =>
    line.trim() !== "" && !line.startsWith("#")
  );
  if (rows.length === 0) {
    return { format: "table", cases: 0, placeholders: [], problems: ["it has no header and no cases"], warnings: [] };
  }
  const header = rows[0].split(separator).map((cell) => cell.trim());
  const isKit = separator === "\t" && TSV_COLUMNS.every((column, index) => header[index] === column);
  const problems: string[] = [];
  const placeholders: Placeholder[] = [];
  const seen = new Set<string>();
  rows.slice(1).forEach((row, index) => {
    const cells = row.split(separator);
    const id = cells[0]?.trim() || String(index + 1);
    if (isKit) {
      if (cells.length < TSV_COLUMNS.length) {
        problems.push(
          `case "${id}" has ${cells.length} column${cells.length === 1 ? "" : "s"}; expected id<TAB>input<TAB>expected`,
        );
      }
      if (seen.has(id)) problems.push(`case id "${id}" appears more than once`);
      seen.add(id);
    }
    cells.forEach((cell, column) => {
      if (cell.trim().startsWith(PLACEHOLDER_PREFIX)) {
        placeholders.push({ caseId: id, field: header[column] ?? `column ${column + 1}` });
      }
    });
  });
  return { format: isKit ? "kit-tsv" : "table", cases: rows.length - 1, placeholders, problems, warnings: [] };
}

/** Paths of string values that start with the placeholder prefix, e.g. ["input.query", "expected[0]"]. */
function findPlaceholders(value: unknown, path: string): string[] {
  if (typeof value === "string") return value.trimStart().startsWith(PLACEHOLDER_PREFIX) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => findPlaceholders(item, `${path}[${index}]`));
  if (isRecord(value)) {
    return Object.entries(value).flatMap(([key, item]) => findPlaceholders(item, path ? `${path}.${key}` : key));
  }
  return [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// ---- scaffold ---------------------------------------------------------------------------------

/** Kinds of case worth covering (the seed: cover the variety of inputs the system handles). */
const CASE_NOTES = [
  "a typical, common input",
  "another typical input, different topic",
  "a short input (one or two words)",
  "a long, detailed input",
  "an input with a misspelling or odd casing",
  "an ambiguous input with more than one reasonable answer",
  "an input where the right answer is rare or unpopular",
  "an input that today's code gets wrong (a known failure)",
  "an input with numbers, dates or units",
  "an input in the system's less common category",
  "an edge case: empty or near-empty input",
  "an edge case: input with punctuation or special characters",
  "a synonym or paraphrase of an earlier case",
  "a negative case: nothing should match well",
  "a case that mixes two intents",
  "a realistic input copied from production logs",
  "another realistic input from production logs",
  "a hard case your users complain about",
  "a case guarding behaviour that must not regress",
  "a case from a different user segment or locale",
];

export type ScaffoldOptions = {
  /** The entry function as written, e.g. "def rank(query: str, k: int = 10) -> list[str]". */
  signature: string | null;
  /** Parameters to fill per case (those without defaults), in order; an object pattern's keys are filled each on its own. */
  parameters: string[];
  shape: CaseShape;
  /** Real inputs from --cases-from; otherwise SCAFFOLD_CASES placeholder cases. */
  inputs?: CaseInput[] | null;
  count?: number;
  /** A method's class: an instance entry with required constructor parameters gets a "setup" to fill. */
  owner?: EntryOwner | null;
  /** How the eval reads the output (metric-catalog.ts chooseAdapter); absent: as the shape says. */
  adapter?: OutputAdapter | null;
  /** How the eval passes setup: Python as keyword arguments, TypeScript/JavaScript by position. */
  language?: "python" | "typescript";
};

const RANKED_IDS_MEANING =
  "a list of the ids of results that should rank near the top (relevant results); the eval compares them with item ids in the returned list";
const POSITIONS_MEANING =
  'a list of the items that should rank near the top, named by their position in the entry\'s score list ("0" for the first item, "1", ...), or by their id when "setup" has an "ids" list naming the items in order; the eval ranks items by score, highest first';

/** What "expected" means for each shape (and adapter, when the metric reads the output another way), for the person filling it. */
export function expectedMeaning(shape: CaseShape, adapter: OutputAdapter | null = null): string {
  const field = adapter?.field ? ` (the eval reads field "${adapter.field}" of the returned record)` : "";
  if (shape !== "latency" && adapter && adapter.read !== "value") {
    if (adapter.read === "scores") return POSITIONS_MEANING;
    if (adapter.read === "auto") {
      return `${RANKED_IDS_MEANING}${field}; when it holds one score per item, name items by position ("0", "1", ...) or by setup "ids"`;
    }
    return `${RANKED_IDS_MEANING}${field}`;
  }
  switch (shape) {
    case "ranked_list":
      return RANKED_IDS_MEANING;
    case "scores":
      return "the correct list of scores, compared for equality (a ranking metric such as mrr ranks items by score instead)";
    case "number":
      return 'the correct number; a case passes within its optional "tolerance" (default 1e-6 relative)';
    case "latency":
      return "optional for a latency experiment: null means outputs are not checked; fill it (or use --cases-from) to also report accuracy, a good guard metric";
    default:
      return `the correct output${field}, compared for equality after JSON normalisation`;
  }
}

function placeholderExpected(shape: CaseShape, adapter: OutputAdapter | null): unknown {
  if (shape === "latency") return null;
  const read = adapter?.read ?? (shape === "ranked_list" ? "ids" : shape === "scores" ? "scores" : "value");
  if (read === "scores") {
    return [
      `${PLACEHOLDER_PREFIX} position ("0", "1", ...) or setup id of an item that must rank near the top`,
      `${PLACEHOLDER_PREFIX} another relevant item, or delete this line`,
    ];
  }
  if (read !== "value") {
    return [
      `${PLACEHOLDER_PREFIX} id of a result that must rank near the top`,
      `${PLACEHOLDER_PREFIX} another relevant id, or delete this line`,
    ];
  }
  if (shape === "number") return `${PLACEHOLDER_PREFIX} the correct number`;
  return `${PLACEHOLDER_PREFIX} the correct output`;
}

/**
 * How a record of named values fills one parameter ("setup" a constructor's, a case's "input" the
 * entry's): a name takes `record[name]`; an object pattern (`{ corpus, k1 = 1.2 }`,
 * TypeScript/JavaScript) takes an object of the record's keys it names.
 */
export type ParameterSource = string | { keys: string[] };

/** Parameters as a record fills them, and the record keys the required ones need (variadic ones dropped). */
export function parameterSources(
  params: string[],
  required: string[],
): { params: ParameterSource[]; required: string[] } {
  const sources = params.filter((param) => !isVariadic(param)).map((param) => {
    const pattern = objectPatternKeys(param);
    return pattern ? { keys: pattern.keys } : param;
  });
  return { params: sources, required: inputKeys(required) };
}

/** A constructor's parameters as "setup" fills them, and the setup keys it requires. */
export function constructorSetup(owner: EntryOwner): { params: ParameterSource[]; required: string[] } {
  return parameterSources(owner.constructorParams, owner.constructorRequired);
}

/** The record keys that fill these parameters: a name itself, an object pattern its keys without a default. */
export function inputKeys(parameters: string[]): string[] {
  return parameters.flatMap((param) => isVariadic(param) ? [] : objectPatternKeys(param)?.required ?? [param]);
}

/**
 * The input keys a test case fills for the entry's required parameters; when an options object
 * defaults every key (`{ query = "" }`), its first key, as an entry without required parameters
 * is asked for its first one.
 */
function caseInputKeys(parameters: string[]): string[] {
  const keys = inputKeys(parameters);
  if (keys.length > 0) return keys;
  const first = parameters.map(objectPatternKeys).find((pattern) => pattern !== null && pattern.keys.length > 0);
  return first ? first.keys.slice(0, 1) : [];
}

function isVariadic(param: string): boolean {
  return /^(\*|\.\.\.)/.test(param);
}

/** `{ corpus, k1 = 1.2, fields: f }` -> keys ["corpus", "k1", "fields"], required ["corpus"]; null for a plain name. */
export function objectPatternKeys(param: string): { keys: string[]; required: string[] } | null {
  const text = param.trim();
  if (!text.startsWith("{") || !text.endsWith("}")) return null;
  const keys: string[] = [];
  const required: string[] = [];
  for (const part of splitTopLevel(text.slice(1, -1))) {
    const key = /^\s*([A-Za-z_$][\w$]*|"[^"]*"|'[^']*')/.exec(part)?.[1]?.replace(/^["']|["']$/g, "");
    if (!key || part.trim().startsWith("...")) continue;
    keys.push(key);
    if (!/(^|[^=!<>])=(?![=>])/.test(part.replace(/=>/g, ""))) required.push(key);
  }
  return { keys, required };
}

/** The constructor arguments an instance entry needs, as placeholders; null when it needs none. */
export function setupPlaceholders(owner: EntryOwner | null | undefined): Record<string, string> | null {
  if (!owner || owner.binding !== "instance") return null;
  const { required } = constructorSetup(owner);
  if (required.length === 0) return null;
  return Object.fromEntries(
    required.map((name) => [name, `${PLACEHOLDER_PREFIX} ${name} for ${owner.className}(...)`]),
  );
}

/** The constructor call as a person reads it: `new Search({ corpus, k1 }, setup.extra)` with prefix "setup.". */
export function constructorCall(owner: EntryOwner, prefix = ""): string {
  const shown = constructorSetup(owner).params.map((param) =>
    typeof param === "string" ? `${prefix}${param}` : `{ ${param.keys.join(", ")} }`
  );
  return `new ${owner.className}(${shown.join(", ")})`;
}

/** One sentence for "about": how "setup" reaches the constructor. */
function setupSentence(owner: EntryOwner, language: "python" | "typescript"): string {
  const call = language === "python"
    ? `${owner.className}(**setup), as keyword arguments`
    : `${constructorCall(owner)}, by position from setup's keys`;
  return ` "setup" is passed to ${call}, once for every case that shares it; a case's own "setup" overrides its keys.`;
}

function caseId(index: number): string {
  return `case-${String(index + 1).padStart(2, "0")}`;
}

/** The JSON test data for Python and TypeScript evals. */
export function buildJsonTestData(options: ScaffoldOptions): string {
  const inputs = options.inputs ?? null;
  const count = inputs ? inputs.length : options.count ?? SCAFFOLD_CASES;
  const cases = Array.from({ length: count }, (_unused, index) => {
    const provided = inputs?.[index];
    const note = provided ? "input provided with --cases-from" : CASE_NOTES[index % CASE_NOTES.length];
    const input = provided ? provided.input : Object.fromEntries(
      caseInputKeys(options.parameters).map((name) => [name, `${PLACEHOLDER_PREFIX} ${name} for ${note}`]),
    );
    const expected = placeholderExpected(options.shape, options.adapter ?? null);
    return { id: provided?.id ?? caseId(index), note, input, expected };
  });
  const setup = setupPlaceholders(options.owner);
  const document = {
    format: TEST_DATA_FORMAT,
    about:
      `Test data for the autoresearch eval. Replace every "${PLACEHOLDER_PREFIX} ..." value (baseline refuses placeholders), keep at least 15 cases (20-30 is better) covering the variety of real inputs, and review labels carefully: bad labels steer the whole experiment wrong. Frozen once the baseline is taken.${
        setup && options.owner ? setupSentence(options.owner, options.language ?? "python") : ""
      }`,
    entry: options.signature,
    shape: options.shape,
    ...(setup ? { setup } : {}),
    input_means: inputMeaning(options.parameters),
    expected_means: expectedMeaning(options.shape, options.adapter ?? null),
    cases,
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** What "input" holds: arguments by name, and an object parameter's keys each on its own. */
function inputMeaning(parameters: string[]): string {
  const keys = caseInputKeys(parameters);
  const patterns = parameters.filter((param) => objectPatternKeys(param) !== null);
  const names = keys.length ? ` (${keys.join(", ")})` : "";
  if (patterns.length === 0) {
    return `arguments of the entry function by parameter name${names}; parameters with defaults may be added`;
  }
  return `arguments of the entry function by parameter name${names}, the keys of its object parameter ${
    patterns.join(" and ")
  } each on its own (the eval passes them to it as one object); parameters and keys with defaults may be added`;
}

/** The tab-separated test data for the shell eval: one input string and one expected output per line. */
export function buildTsvTestData(options: { inputs?: CaseInput[] | null; count?: number; latency: boolean }): string {
  const inputs = options.inputs ?? null;
  const count = inputs ? inputs.length : options.count ?? SCAFFOLD_CASES;
  const lines = [
    `# ${TEST_DATA_FORMAT} (tab-separated): id<TAB>input<TAB>expected. Lines starting with # are comments.`,
    `# input is passed to the program as one argument; expected is compared with its trimmed stdout${
      options.latency ? " (leave it empty to skip the check)" : ""
    }.`,
    `# Replace every "${PLACEHOLDER_PREFIX} ..." value; baseline refuses placeholders. No tabs or newlines inside a value.`,
    TSV_COLUMNS.join("\t"),
  ];
  for (let index = 0; index < count; index++) {
    const provided = inputs?.[index];
    const input = provided
      ? tsvCell(inputAsText(provided.input))
      : `${PLACEHOLDER_PREFIX} ${CASE_NOTES[index % CASE_NOTES.length]}`;
    const expected = options.latency ? "" : `${PLACEHOLDER_PREFIX} the expected output`;
    lines.push([provided?.id ?? caseId(index), input, expected].join("\t"));
  }
  return `${lines.join("\n")}\n`;
}

function inputAsText(input: Record<string, unknown>): string {
  const values = Object.values(input);
  if (values.length === 1 && typeof values[0] === "string") return values[0];
  return JSON.stringify(values.length === 1 ? values[0] : input);
}

function tsvCell(text: string): string {
  return text.replace(/[\t\r\n]+/g, " ");
}

// ---- --cases-from -----------------------------------------------------------------------------

/**
 * Read the inputs a user supplies with --cases-from: a JSON array (or {"cases": [...]}) or JSON
 * Lines. Each item is an object of arguments by parameter name, {"id", "input"}, a positional
 * array, or a bare value when the entry takes one parameter. Throws an Error naming the item.
 */
export function parseCaseInputs(text: string, path: string, parameters: string[]): CaseInput[] {
  const items = parseItems(text, path);
  if (items.length === 0) throw new Error(`"${path}" holds no inputs`);
  return items.map((item, index) => toCaseInput(item, index, path, parameters));
}

function parseItems(text: string, path: string): unknown[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const lines = text.split("\n").filter((line) => line.trim() !== "");
    if (lines.length < 2) throw new Error(`"${path}" is not valid JSON or JSON Lines (${(error as Error).message})`);
    return lines.map((line, index) => {
      try {
        return JSON.parse(line);
      } catch {
        throw new Error(`line ${index + 1} of "${path}" is not valid JSON`);
      }
    });
  }
  if (Array.isArray(value)) return value;
  if (isRecord(value)) {
    const cases = findCaseArray(value) ?? (Array.isArray(value.inputs) ? value.inputs : null);
    if (cases) return cases;
  }
  if (extname(path).toLowerCase() === ".jsonl") return [value]; // a one-line JSON Lines file
  throw new Error(`"${path}" must hold a JSON array of inputs, {"cases": [...]}, or one JSON value per line`);
}

/** One --cases-from item as an input keyed like the scaffold's: parameter names, and an object parameter's keys. */
function toCaseInput(item: unknown, index: number, path: string, parameters: string[]): CaseInput {
  const keys = caseInputKeys(parameters);
  if (isRecord(item) && isRecord(item.input)) {
    return { id: item.id == null ? null : String(item.id), input: item.input };
  }
  if (isRecord(item) && "input" in item && keys.length <= 1) {
    return { id: item.id == null ? null : String(item.id), input: { [keys[0] ?? "input"]: item.input } };
  }
  if (isRecord(item) && (keys.length === 0 || keys.some((name) => name in item))) {
    const { id, ...rest } = item;
    return { id: id == null ? null : String(id), input: rest };
  }
  if (Array.isArray(item) && parameters.length > 1) {
    if (item.length !== parameters.length) {
      throw new Error(
        `input ${index + 1} of "${path}" has ${item.length} values but the entry function takes ${parameters.length} (${
          parameters.join(", ")
        })`,
      );
    }
    return {
      id: null,
      input: Object.assign(
        {},
        ...parameters.map((name, position) => positional(name, item[position], `input ${index + 1} of "${path}"`)),
      ),
    };
  }
  if (keys.length <= 1) return { id: null, input: { [keys[0] ?? "input"]: item } };
  throw new Error(
    `input ${index + 1} of "${path}" must be an object with ${keys.map((name) => `"${name}"`).join(", ")}`,
  );
}

/** One value of a positional array: a parameter's own key, or for an object parameter the object's keys it names. */
function positional(param: string, value: unknown, where: string): Record<string, unknown> {
  const pattern = objectPatternKeys(param);
  if (!pattern) return { [param]: value };
  if (!isRecord(value)) throw new Error(`${where} gives the object parameter ${param} a value that is not an object`);
  return Object.fromEntries(pattern.keys.filter((key) => key in value).map((key) => [key, value[key]]));
}
