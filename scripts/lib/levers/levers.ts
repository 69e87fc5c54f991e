// Levers (constants, weights, thresholds, prompts, lists, flags) and the entry function of the
// file an experiment constrains, for init's instructions. Python is read by Python's own `ast`
// (one python3 spawn), TypeScript/JavaScript by @babel/parser, anything else by a line-by-line
// regex heuristic, which is also the fallback when a file does not parse; extractVersions reads
// several sources without blocking (every Python one in the same python3 run), for an
// iteration's attribution while its eval runs. Which function is the entry is entries.ts's
// choice. It only reads: it never imports or runs the analysed code, and never rewrites it.
import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CliError, EXIT } from "../cli/errors.ts";
import { clip, extractWithBabel, isBoundary, isPrompt, promptLever, shapeOfTypeText } from "./typescript.ts";
import { splitTopLevel } from "../text/split-top-level.ts";
import { classifyLevers } from "./kinds.ts";
import { chooseEntry, type EntryProject, type FileFacts } from "./entries.ts";
import {
  type EntryFunction,
  type Extracted,
  type FileAnalysis,
  type FunctionFacts,
  type Language,
  languageOfExtension,
  type RawLever,
  type ReturnsShape,
} from "./lever.ts";

export type AnalyzeOptions = {
  entry?: string; // `--entry NAME`; `Class.method` (or `Class#method`) reaches a method, inherited ones too
  language?: Language;
  fileName?: string; // for messages (and `.tsx`/`.jsx` for JSX); analyzeFile passes the path
  pythonCommand?: string; // default "python3"
  /**
   * The repository the file is in: with it, analyzeFile follows a class's bases into the project
   * files it imports them from. `root` is the experiment folder paths are shown relative to.
   */
  repoRoot?: string;
  root?: string;
  /** The analysed file's path (analyzeFile passes it), for following imports. */
  path?: string;
  /** No entry is chosen (nor warned about): the eval calls an entry in another file. */
  skipEntry?: boolean;
};

const PYTHON_TIMEOUT_MS = 30_000;

/** By extension, else by a `#!` line: `ranker.py` -> python, `run` with `#!/usr/bin/env node` -> javascript. */
export function detectLanguage(path: string, source?: string): Language {
  const byExtension = languageOfExtension(path);
  if (byExtension) return byExtension;
  const shebang = source?.startsWith("#!") ? source.split("\n", 1)[0]! : "";
  if (/python/.test(shebang)) return "python";
  if (/\b(?:deno|bun|tsx|ts-node)\b/.test(shebang)) return "typescript";
  if (/\bnode\b/.test(shebang)) return "javascript";
  return "other";
}

export async function analyzeFile(path: string, options: AnalyzeOptions = {}): Promise<FileAnalysis> {
  let source: string;
  try {
    source = (await readFile(path, "utf8")).replace(/^\uFEFF/, "");
  } catch (error) {
    throw new CliError(`Cannot read "${path}": ${(error as Error).message}`, "E_FILE_UNREADABLE", EXIT.USAGE);
  }
  const language = options.language ?? detectLanguage(path, source);
  return analyzeSource(source, language, { ...options, fileName: options.fileName ?? path, path: resolve(path) });
}

/**
 * One file's language and raw facts, warnings dropped: how entries.ts reads the files a class's
 * bases come from. `pythonCommand` runs the Python parser (default "python3").
 */
export function extractFileFacts(path: string, source: string, pythonCommand = "python3"): FileFacts {
  const language = detectLanguage(path, source);
  return { language, extracted: extractSource(source, language, path, pythonCommand, []).extracted };
}

/**
 * Levers, public functions and the entry function of `source`. Synchronous in every language
 * (Python runs as one blocking python3 call). Throws CliError E_ENTRY_NOT_FOUND when
 * `options.entry` names no function in the file.
 */
export function analyzeSource(source: string, language: Language, options: AnalyzeOptions = {}): FileAnalysis {
  const fileName = options.fileName ?? `the ${language} source`;
  const warnings: string[] = [];
  const pythonCommand = options.pythonCommand ?? "python3";
  const { extracted, method } = extractSource(source, language, fileName, pythonCommand, warnings);
  // The files a class's bases come from are read with the same Python as the file itself.
  const extract = (path: string, text: string) => extractFileFacts(path, text, pythonCommand);
  const project: EntryProject | undefined = options.repoRoot && options.path
    ? { path: options.path, repoRoot: options.repoRoot, root: options.root, extract }
    : undefined;
  const entry = options.skipEntry
    ? null
    : chooseEntry(extracted, language, { requested: options.entry, fileName, warnings, source, project });
  const functions = extracted.functions.filter((candidate) => candidate.public && !candidate.method).map(publicView);
  return {
    language,
    levers: classifyLevers(extracted.levers),
    functions,
    classes: extracted.classes,
    imports: extracted.imports,
    entry: entry ? publicView(entry) : null,
    warnings,
    method,
  };
}

/** The extractor for the language, falling back to the heuristic (with a warning) when it cannot read the file. */
function extractSource(
  source: string,
  language: Language,
  fileName: string,
  pythonCommand: string,
  warnings: string[],
): { extracted: Extracted; method: FileAnalysis["method"] } {
  if (language === "python") {
    const extracted = extractWithPython(source, fileName, pythonCommand, warnings);
    if (extracted) return { extracted, method: "python-ast" };
  } else if (language === "typescript" || language === "javascript") {
    const result = extractWithBabel(source, language, { jsx: /x$/i.test(fileName) || undefined });
    if (result.ok) return { extracted: result, method: "babel" };
    warnings.push(cannotParse(fileName, result.line, result.message));
  }
  return { extracted: extractWithHeuristic(source), method: "heuristic" };
}

function cannotParse(fileName: string, line: number | null, message: string): string {
  return `Cannot parse "${fileName}"${line ? ` at line ${line}` : ""}: ${
    message.replace(/\.$/, "")
  }; levers were found with the heuristic`;
}

function publicView(
  { name, line, signature, params, required, returns, returnsShape, owner, file }: FunctionFacts,
): EntryFunction {
  const view: EntryFunction = { name, line, signature, params, returnsShape };
  if (required) view.required = required;
  if (returns !== undefined && returns !== null) view.returns = returns;
  if (owner) view.owner = owner;
  if (file) view.file = file;
  return view;
}

/** One version of a file to read for levers and functions: its text, language and name (for the heuristic's choice). */
export type SourceVersion = { source: string; language: Language; fileName: string };

/**
 * The raw facts of several sources at once, without blocking: every Python source in one python3
 * run (`--many`), TypeScript/JavaScript by Babel, anything else by the heuristic. A source its
 * parser cannot read gets null (no heuristic fallback: two versions read by different readers
 * would name their levers differently). What an iteration's attribution reads while its eval runs.
 */
export async function extractVersions(
  versions: SourceVersion[],
  pythonCommand = "python3",
): Promise<(Extracted | null)[]> {
  const python = versions.flatMap((version, index) => version.language === "python" ? [index] : []);
  const pythonResults = python.length
    ? await extractManyWithPython(python.map((index) => versions[index]!.source), pythonCommand)
    : [];
  return versions.map((version, index) => {
    if (version.language === "python") return pythonResults[python.indexOf(index)] ?? null;
    if (version.language === "typescript" || version.language === "javascript") {
      const result = extractWithBabel(version.source, version.language, {
        jsx: /x$/i.test(version.fileName) || undefined,
      });
      return result.ok
        ? { levers: result.levers, functions: result.functions, classes: result.classes, imports: result.imports }
        : null;
    }
    return extractWithHeuristic(version.source);
  });
}

/** levers_python.py `--many` in one asynchronous python3 run; every entry null when it cannot run. */
function extractManyWithPython(sources: string[], pythonCommand: string): Promise<(Extracted | null)[]> {
  const none = sources.map(() => null);
  return new Promise((resolveResults) => {
    const script = fileURLToPath(new URL("./levers_python.py", import.meta.url));
    let child;
    try {
      child = spawn(pythonCommand, ["-I", "-S", script, "--many"], { stdio: ["pipe", "pipe", "ignore"] });
    } catch {
      resolveResults(none);
      return;
    }
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => child.kill("SIGKILL"), PYTHON_TIMEOUT_MS);
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", () => {
      clearTimeout(timer);
      resolveResults(none);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) return resolveResults(none);
      try {
        const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
        if (!Array.isArray(parsed) || parsed.length !== sources.length) return resolveResults(none);
        resolveResults(
          parsed.map((output: Partial<Extracted> & { syntaxError?: unknown }) =>
            output.syntaxError ? null : {
              levers: output.levers ?? [],
              functions: output.functions ?? [],
              classes: output.classes ?? [],
              imports: output.imports ?? [],
            }
          ),
        );
      } catch {
        resolveResults(none);
      }
    });
    child.stdin.on("error", () => {}); // a python3 that exits early closes the pipe: its exit code tells
    child.stdin.end(JSON.stringify(sources));
  });
}

// ---- Python ------------------------------------------------------------------------------------

/** One python3 run of levers_python.py; null (with a warning) when the heuristic must take over. */
function extractWithPython(
  source: string,
  fileName: string,
  pythonCommand: string,
  warnings: string[],
): Extracted | null {
  const fallback = "levers were found with the heuristic";
  const script = fileURLToPath(new URL("./levers_python.py", import.meta.url));
  // -I -S: no site-packages or PYTHON* variables can shadow `ast` or slow the start-up.
  const run = spawnSync(pythonCommand, ["-I", "-S", script], {
    input: source,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: PYTHON_TIMEOUT_MS,
  });
  if (run.error) {
    const missing = (run.error as NodeJS.ErrnoException).code === "ENOENT";
    warnings.push(
      missing
        ? `${pythonCommand} was not found, so "${fileName}" was read without Python's parser; ${fallback} (install Python 3.8+ for exact levers)`
        : `Could not run ${pythonCommand} on "${fileName}" (${run.error.message}); ${fallback}`,
    );
    return null;
  }
  let output: Partial<Extracted> & { syntaxError?: { line: number | null; message: string } };
  try {
    if (run.status !== 0) throw new Error(run.stderr.trim().split("\n").pop() || `exit code ${run.status}`);
    output = JSON.parse(run.stdout);
  } catch (error) {
    warnings.push(`The Python lever extractor failed on "${fileName}" (${(error as Error).message}); ${fallback}`);
    return null;
  }
  if (output.syntaxError) {
    warnings.push(cannotParse(fileName, output.syntaxError.line, output.syntaxError.message));
    return null;
  }
  // `returns: null` is dropped by publicView
  return {
    levers: output.levers ?? [],
    functions: output.functions ?? [],
    classes: output.classes ?? [],
    imports: output.imports ?? [],
  };
}

// ---- the regex heuristic (other languages, and files that do not parse) ------------------------

const NUMBER = String.raw`[-+]?(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][-+]?\d+)?[fFdDlLuU]?`;
const BOOLEAN = "true|false|True|False|TRUE|FALSE";
const QUOTED = String.raw`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`;
const TRAILER = String.raw`\s*[;,]?\s*(?:(?:#|//|--|/\*).*)?$`;
/** `#define TOP_K 10` */
const DEFINE = new RegExp(String.raw`^\s*#\s*define\s+([A-Za-z_]\w*)\s+\(?(${NUMBER})\)?` + TRAILER);
/** `TOP_K = 10`, `const boost = 2.5;`, `static final double BOOST = 2.5;`, `x: float = 0.3`, `N=5`, `k := 3` */
const ASSIGNMENT = new RegExp(
  String
    .raw`^(\s*)((?:(?:-\w+|[A-Za-z_][\w<>\[\],]*)\s+)*)([A-Za-z_$][\w$]*)(?:\s*:\s*[^=]+?)?\s*:?=\s*(${NUMBER}|${BOOLEAN}|${QUOTED})` +
    TRAILER,
);
/** `X = """...`, `const X = \`...`, `X = dedent("""...` */
const LONG_STRING_START = new RegExp(
  String
    .raw`^(\s*)((?:[A-Za-z_][\w<>\[\],]*\s+)*)([A-Za-z_$][\w$]*)(?:\s*:\s*[^=]+?)?\s*=\s*(?:[\w.]+\(\s*)?[rRuUbBfF]{0,2}("""|'''|\x60)`,
);
/** `"title": 3.0,` / `boost: 2.5` (dict and object entries, YAML, TOML) */
const KEY_VALUE = new RegExp(String.raw`^(\s*)["']?([A-Za-z_$][\w$.-]*)["']?\s*:\s*(${NUMBER}|${BOOLEAN})` + TRAILER);
const DECLARING_WORD = /\b(?:const|let|var|val|final|static|readonly|local|declare|export|constexpr|pub|define)\b/;
const CONDITION_LINE = /\b(?:if|elif|while|until|unless|when)\b/;
const COMPARISON = new RegExp(String.raw`([\w.$\]\["')]+)\s*(<=|>=|<|>)\s*(${NUMBER})(?![\w.])`, "g");
const SHELL_COMPARISON = new RegExp(String.raw`"?\$\{?(\w+)\}?"?\s+-(gt|ge|lt|le)\s+(${NUMBER})\b`, "g");
const SHELL_OPERATORS: Record<string, string> = { gt: ">", ge: ">=", lt: "<", le: "<=" };
const FUNCTION_DEFINITIONS = [
  /^(\s*)(?:export\s+)?(?:default\s+)?(?:pub(?:\([\w:]+\))?\s+)?(?:async\s+)?(?:def|function\*?|func|fn|sub|proc)\s+([A-Za-z_$][\w$]*)\s*[(<]/,
  /^(\s*)(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*(?:async\s+)?(?:function\b|\([^)]*\)\s*(?::\s*[^=]+)?=>|[A-Za-z_$][\w$]*\s*=>)/,
  /^(\s*)(?:function\s+([A-Za-z_][\w-]*)\s*(?:\(\))?|([A-Za-z_][\w-]*)\s*\(\))\s*\{/, // shell
];
const CALL = /([A-Za-z_$][\w$]*)\s*\(/g;

/**
 * Levers and functions found line by line. Catches `NAME = number` in most languages, `#define`,
 * shell `NAME=5`, `key: number` entries, quoted and triple-quoted/backtick prompts, and numbers
 * compared on `if`/`while` lines. Indented plain assignments count only for UPPER_SNAKE names
 * (locals are not levers). Misses: weights as a whole (entries show one by one), values built by
 * calls, Go's `var x float64 = 1`, C functions (no keyword to find them by).
 */
export function extractWithHeuristic(source: string): Extracted {
  const lines = source.split(/\r\n|\r|\n/);
  const levers: RawLever[] = [];
  const definitions: { name: string; index: number; indent: string }[] = [];
  for (let index = 0; index < lines.length; index++) {
    const text = lines[index]!;
    const definition = matchFunction(text);
    if (definition) {
      definitions.push({ ...definition, index });
      continue;
    }
    const longString = text.match(LONG_STRING_START);
    if (longString && acceptsAssignment(longString[1]!, longString[2]!, longString[3]!)) {
      const delimiter = longString[4]!;
      const opened = text.indexOf(delimiter, longString.index! + longString[0].length - delimiter.length) +
        delimiter.length;
      const { body, endIndex } = readUntil(lines, index, opened, delimiter);
      if (isPrompt(longString[3]!, body)) {
        levers.push(promptLever(longString[3]!, body, index + 1, endIndex + 1, scopeAt(definitions, text)));
      }
      index = endIndex;
      continue;
    }
    const lever = leverOnLine(text, index + 1, scopeAt(definitions, text));
    if (lever) levers.push(lever);
    if (CONDITION_LINE.test(text)) {
      levers.push(...comparisonsOnLine(text, index + 1, currentFunction(definitions, text)));
    }
  }
  return { levers, functions: functionsFrom(definitions, lines), classes: [], imports: [] };
}

function matchFunction(text: string): { name: string; indent: string } | null {
  for (const pattern of FUNCTION_DEFINITIONS) {
    const match = text.match(pattern);
    if (match) return { name: (match[2] ?? match[3])!, indent: match[1]! };
  }
  return null;
}

function acceptsAssignment(indent: string, declaringWords: string, name: string): boolean {
  if (/^(?:if|elif|while|for|return|assert|and|or|not|in|is)$/.test(name)) return false;
  return indent === "" || DECLARING_WORD.test(declaringWords) || /^[A-Z][A-Z0-9_]*$/.test(name);
}

/** The function a line sits in (an indented line after an unindented definition), else the module. */
function scopeAt(definitions: { name: string; indent: string }[], text: string): string {
  return currentFunction(definitions, text) ?? "module";
}

function leverOnLine(text: string, line: number, scope: string): RawLever | null {
  const define = text.match(DEFINE);
  if (define) return numericLever(define[1]!, define[2]!, line, scope);
  const assignment = text.match(ASSIGNMENT);
  if (assignment && acceptsAssignment(assignment[1]!, assignment[2]!, assignment[3]!)) {
    return literalLever(assignment[3]!, assignment[4]!, line, scope);
  }
  const entry = text.match(KEY_VALUE);
  if (entry) return literalLever(entry[2]!, entry[3]!, line, scope);
  return null;
}

function literalLever(name: string, literal: string, line: number, scope: string): RawLever | null {
  if (new RegExp(`^(?:${BOOLEAN})$`).test(literal)) return { kind: "flag", name, line, value: literal, scope };
  if (/^["']/.test(literal)) {
    const body = literal.slice(1, -1).replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
    return isPrompt(name, body)
      ? promptLever(name, body, line, line, scope)
      : { kind: "string", name, line, value: clip(literal), scope };
  }
  return numericLever(name, literal, line, scope);
}

function numericLever(name: string, literal: string, line: number, scope: string): RawLever {
  const numeric = Number(literal.replace(/_/g, "").replace(/[fFdDlLuU]$/, "")); // 1_000, 0.3f
  return { kind: "number", name, line, value: clip(literal), numeric, scope };
}

/** The text of a string that opens at `lines[startIndex][openedAt]` and closes with `delimiter`. */
function readUntil(
  lines: string[],
  startIndex: number,
  openedAt: number,
  delimiter: string,
): { body: string; endIndex: number } {
  const parts: string[] = [];
  let from = openedAt;
  for (let index = startIndex; index < lines.length; index++) {
    const text = lines[index]!;
    const close = text.indexOf(delimiter, from);
    if (close !== -1) {
      parts.push(text.slice(from, close));
      return { body: parts.join("\n"), endIndex: index };
    }
    parts.push(text.slice(from));
    from = 0;
  }
  return { body: parts.join("\n"), endIndex: lines.length - 1 };
}

function comparisonsOnLine(text: string, line: number, functionName: string | null): RawLever[] {
  const found: RawLever[] = [];
  const scope = functionName ?? "module";
  const where = functionName ? `in ${functionName}(): ` : "";
  for (const match of text.matchAll(COMPARISON)) {
    const numeric = Number(match[3]!.replace(/_/g, ""));
    if (isBoundary(numeric) || /^[-+]?[\d.]/.test(match[1]!)) continue;
    found.push({
      kind: "threshold",
      name: clip(match[1]!, 40),
      line,
      value: match[3]!,
      numeric,
      detail: clip(`${where}${match[0]}`),
      scope,
    });
  }
  for (const match of text.matchAll(SHELL_COMPARISON)) {
    const numeric = Number(match[3]!);
    if (isBoundary(numeric)) continue;
    const detail = clip(`${where}${match[1]} ${SHELL_OPERATORS[match[2]!]} ${match[3]}`);
    found.push({ kind: "threshold", name: match[1]!, line, value: match[3]!, numeric, detail, scope });
  }
  return found;
}

/** The top-level function the scan is inside: the last unindented definition, if this line is indented. */
function currentFunction(definitions: { name: string; indent: string }[], text: string): string | null {
  const last = definitions.findLast((definition) => definition.indent === "");
  return last && /^\s/.test(text) ? last.name : null;
}

function functionsFrom(
  definitions: { name: string; index: number; indent: string }[],
  lines: string[],
): FunctionFacts[] {
  const topLevel = definitions.filter((definition) => definition.indent === "");
  const names = new Set(topLevel.map((definition) => definition.name));
  return topLevel.map((definition, position) => {
    const { signature, params, returns } = signatureFrom(lines, definition.index);
    const end = position + 1 < topLevel.length ? topLevel[position + 1]!.index : lines.length;
    const calls = new Set<string>();
    for (let index = definition.index + 1; index < end; index++) {
      for (const match of lines[index]!.matchAll(CALL)) {
        if (names.has(match[1]!) && match[1] !== definition.name) calls.add(match[1]!);
      }
    }
    const found: FunctionFacts = {
      name: definition.name,
      line: definition.index + 1,
      endLine: lastTextLine(lines, definition.index, end),
      signature,
      params,
      returnsShape: returns ? shapeOfAnyType(returns) : "unknown",
      calls: [...calls].sort(),
      public: !definition.name.startsWith("_"),
      method: false,
    };
    if (returns) found.returns = returns;
    return found;
  });
}

/** The last non-blank line before `endIndex` (0-based exclusive), 1-based: where a function found by indentation ends. */
function lastTextLine(lines: string[], startIndex: number, endIndex: number): number {
  for (let index = endIndex - 1; index > startIndex; index--) if (lines[index]!.trim()) return index + 1;
  return startIndex + 1;
}

/** The definition text up to its balanced `)` plus a `-> T` / `: T` return type, on one line. */
function signatureFrom(lines: string[], startIndex: number): { signature: string; params: string[]; returns?: string } {
  let text = lines[startIndex]!;
  const lastIndex = Math.min(lines.length, startIndex + 20) - 1; // a signature longer than 20 lines is cut
  for (let index = startIndex + 1; index <= lastIndex && !parenthesesClosed(text); index++) {
    text += ` ${lines[index]!.trim()}`;
  }
  const open = text.indexOf("(");
  const close = open === -1 ? -1 : closingParenthesis(text, open);
  if (close === -1) return { signature: clip(text.replace(/\s*[{:]\s*$/, ""), 200), params: [] };
  const params = splitTopLevel(text.slice(open + 1, close))
    .map((param) => param.trim().match(/^(\*{1,2}|\.\.\.)?\s*([A-Za-z_$][\w$]*)/))
    .filter((match): match is RegExpMatchArray => match !== null)
    .map((match) => (match[1] ?? "") + match[2]);
  const rest = text.slice(close + 1).replace(/\s*(?:\{|=>).*$/, "").replace(/\s*:\s*(?:#.*)?$/, "");
  const returns = rest.match(/^\s*(?:->|:)\s*(.+?)\s*$/)?.[1];
  const signature = (text.slice(0, close + 1) + rest).replace(/\s+/g, " ").replace(/\(\s+/g, "(").replace(
    /,?\s+\)/g,
    ")",
  ).trim();
  return returns ? { signature, params, returns } : { signature, params };
}

function parenthesesClosed(text: string): boolean {
  const open = text.indexOf("(");
  return open === -1 || closingParenthesis(text, open) !== -1;
}

function closingParenthesis(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index++) {
    if (text[index] === "(") depth++;
    else if (text[index] === ")" && --depth === 0) return index;
  }
  return -1;
}

/** Return-type text from either language family: TypeScript's rules, then Python's. */
function shapeOfAnyType(typeText: string): ReturnsShape {
  const shape = shapeOfTypeText(typeText);
  if (shape !== "unknown") return shape;
  const type = typeText.replace(/^Optional\[(.*)\]$/, "$1").trim();
  if (/^(?:list|List|Sequence|Iterable|Iterator|Generator|\[\]|Vec<|\[\]\w)/.test(type)) return "ranked_list";
  if (/^(?:str|bool|Literal|String|&str)\b/.test(type)) return "label";
  if (/^(?:int|float|f32|f64|i32|i64|u32|u64|usize|float64|int64)$/.test(type)) return "number";
  return "unknown";
}
