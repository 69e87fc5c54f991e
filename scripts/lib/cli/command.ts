// The command-line shell every script shares: declared options whose parsed values are typed
// from the declaration (defineCommand), range checks at parse time, --help with examples, the
// colour and prompt policy, a cross-runtime "is this the entry module" check, and the one
// top-level catch that turns errors into exit codes (and, with --json, a JSON error line).
// It does no experiment work, and imports nothing heavy: --help loads only this, errors.ts and
// number-format.ts (how a JSON line writes numbers).
import { parseArgs } from "node:util";
import { CliError, ERROR_CODES, EXIT, isCliError } from "./errors.ts";
import { jsonLine } from "../text/number-format.ts";

export type OptionSpec = {
  type: "string" | "boolean" | "number" | "integer";
  description: string;
  short?: string;
  multiple?: boolean;
  valueName?: string;
  choices?: readonly string[];
  default?: string | boolean | number;
  /** number/integer options: the smallest value allowed (inclusive), e.g. 1 for a count of runs. */
  min?: number;
  /** number/integer options: the value must be strictly above this, e.g. 0 for a timeout. */
  exclusiveMin?: number;
  /** number/integer options: the largest value allowed (inclusive). */
  max?: number;
};

export type OptionSpecs = Record<string, OptionSpec>;

export type CommandSpec<Options extends OptionSpecs = OptionSpecs> = {
  name: string; // e.g. "init.ts"
  summary: string;
  usage: string; // e.g. "init.ts FILE [options]"
  details?: string;
  options: Options;
  positionals?: { min: number; max: number; names: string };
  examples: string[];
  exitCodes?: Record<number, string>;
};

/** One value as declared: integer/number -> number, boolean -> boolean, choices -> their union. */
type OneValue<Option extends OptionSpec> = Option extends { choices: readonly (infer Choice)[] } ? Choice
  : TypeValue<Option["type"]>;
type TypeValue<Type extends OptionSpec["type"]> = Type extends "boolean" ? boolean
  : Type extends "number" | "integer" ? number
  : string;

/**
 * multiple -> an array; undefined when the flag is absent, unless a default is declared. An
 * undeclared shape (plain OptionSpec) gets every value it could have.
 */
type OptionValue<Option extends OptionSpec> =
  | (Option extends { multiple: true } ? OneValue<Option>[]
    : Option extends { type: unknown; multiple?: false } ? OneValue<Option> // `type` keeps it from being a weak type
    : OneValue<Option> | OneValue<Option>[])
  | (Option extends { default: string | boolean | number } ? never : undefined);

export type OptionValues<Options extends OptionSpecs> =
  & { -readonly [Name in keyof Options]: OptionValue<Options[Name]> }
  & { help: boolean | undefined };

export type ParsedArgs<Options extends OptionSpecs = OptionSpecs> = {
  values: OptionValues<Options>;
  positionals: string[];
};

/**
 * Declare a command; the option declarations stay literal types, so parseCommandLine and
 * runCommand hand the handler values typed per option (citty's defineCommand), e.g.
 * `{ runs: { type: "integer", ... } }` arrives as `values.runs: number | undefined`.
 */
export function defineCommand<const Options extends OptionSpecs>(spec: CommandSpec<Options>): CommandSpec<Options> {
  return spec;
}

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "show this help" };

/** Parse argv against the declared options; throws a usage CliError naming the bad flag. */
export function parseCommandLine<Options extends OptionSpecs>(
  spec: CommandSpec<Options>,
  argv: string[],
): ParsedArgs<Options> {
  const declared: OptionSpecs = { help: HELP_OPTION, ...spec.options };
  const nodeOptions: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, option] of Object.entries(declared)) {
    nodeOptions[parserKey(name, declared)] = {
      type: option.type === "boolean" ? "boolean" : "string",
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    // allowNegative lets `--no-branch` style flags be declared as plain booleans
    parsed = parseArgs(
      {
        args: renameLiteralNegations(declared, joinNegativeNumbers(declared, argv)),
        options: nodeOptions,
        allowPositionals: true,
        strict: true,
        allowNegative: true,
      } as Parameters<typeof parseArgs>[0],
    ) as typeof parsed;
  } catch (error) {
    throw new CliError(
      `${describeParseError((error as Error).message, declared)}. See: ${spec.name} --help`,
      "E_USAGE",
    );
  }
  const values: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(declared)) {
    const raw = parsed.values[parserKey(name, declared)];
    if (raw === undefined) {
      values[name] = option.default;
      continue;
    }
    values[name] = coerceOption(spec, name, option, raw as string | boolean | string[]);
  }
  const positionals = parsed.positionals;
  if (!values.help && spec.positionals) {
    if (positionals.length < spec.positionals.min) {
      throw new CliError(`Missing ${spec.positionals.names}. Usage: ${spec.usage}`, "E_USAGE");
    }
    if (positionals.length > spec.positionals.max) {
      throw new CliError(`Unexpected argument "${positionals[spec.positionals.max]}". Usage: ${spec.usage}`, "E_USAGE");
    }
  } else if (!values.help && positionals.length > 0 && !spec.positionals) {
    throw new CliError(`Unexpected argument "${positionals[0]}". Usage: ${spec.usage}`, "E_USAGE");
  }
  // The one place the declared types are asserted: each value was built from its declaration above.
  return { values: values as OptionValues<Options>, positionals };
}

function coerceOption(
  spec: CommandSpec<OptionSpecs>,
  name: string,
  option: OptionSpec,
  raw: string | boolean | string[],
) {
  if (option.type === "boolean") return raw;
  const one = (text: string) => {
    if (option.choices && !option.choices.includes(text)) {
      throw new CliError(
        `--${name} must be one of ${option.choices.join(", ")}, not "${text}". See: ${spec.name} --help`,
        "E_USAGE",
      );
    }
    if (option.type === "string") return text;
    const number = Number(text);
    const valid = text.trim() !== "" && Number.isFinite(number) &&
      (option.type === "number" || Number.isInteger(number));
    if (!valid) {
      const kind = option.type === "integer" ? "a whole number" : "a number";
      throw new CliError(`--${name} must be ${kind}, not "${text}". See: ${spec.name} --help`, "E_USAGE");
    }
    const bound = outOfRange(option, number);
    if (bound) throw new CliError(`--${name} must be ${bound}, not ${text}. See: ${spec.name} --help`, "E_USAGE");
    return number;
  };
  if (Array.isArray(raw)) return raw.map(one) as string[];
  return one(raw as string);
}

/** The broken bound as words ("at least 1", "above 0"), or null when `value` is in range. */
function outOfRange(option: OptionSpec, value: number): string | null {
  if (option.min !== undefined && value < option.min) return `at least ${option.min}`;
  if (option.exclusiveMin !== undefined && value <= option.exclusiveMin) return `above ${option.exclusiveMin}`;
  if (option.max !== undefined && value > option.max) return `at most ${option.max}`;
  return null;
}

const NEGATIVE_NUMBER = /^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

// A declared boolean `--no-NAME` beside a value option `--NAME` (next-round's --no-guard beside
// --guard): node's parseArgs would read it as negating NAME, so it is parsed under its own key.
const LITERAL_PREFIX = "literal-";

function isLiteralNegation(name: string, declared: OptionSpecs): boolean {
  const positive = name.startsWith("no-") ? declared[name.slice(3)] : undefined;
  return declared[name]?.type === "boolean" && positive !== undefined && positive.type !== "boolean";
}

function parserKey(name: string, declared: OptionSpecs): string {
  return isLiteralNegation(name, declared) ? LITERAL_PREFIX + name : name;
}

function renameLiteralNegations(declared: OptionSpecs, argv: string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((arg, index) =>
    (end === -1 || index < end) && arg.startsWith("--") && isLiteralNegation(arg.slice(2), declared)
      ? `--${LITERAL_PREFIX}${arg.slice(2)}`
      : arg
  );
}

/**
 * `--min-effect -0.5` -> `--min-effect=-0.5`: node's parseArgs refuses an option value that
 * starts with a dash ("argument is ambiguous"), but a negative number after a value-taking
 * option can only be its value. Its range is then checked like any other value.
 */
export function joinNegativeNumbers(declared: OptionSpecs, argv: string[]): string[] {
  const byShort = new Map(
    Object.entries(declared).filter(([, option]) => option.short).map(([name, option]) => [`-${option.short}`, name]),
  );
  const joined: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const token = argv[index];
    if (token === "--") {
      joined.push(...argv.slice(index));
      break;
    }
    const name = token.startsWith("--") ? token.slice(2) : byShort.get(token);
    const option = name === undefined ? undefined : declared[name];
    const next = argv[index + 1];
    if (option && option.type !== "boolean" && next !== undefined && NEGATIVE_NUMBER.test(next)) {
      joined.push(`--${name}=${next}`);
      index++;
    } else {
      joined.push(token);
    }
  }
  return joined;
}

/** node's parseArgs messages, cut to one line: the ambiguous-value one spans three. */
function describeParseError(message: string, declared: OptionSpecs): string {
  const ambiguous = /^Option '-(-?)([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    const long = ambiguous[1]
      ? ambiguous[2]
      : Object.keys(declared).find((name) => declared[name].short === ambiguous[2]) ?? ambiguous[2];
    return `--${long} was given a value that starts with a dash; attach it with "=": --${long}=VALUE`;
  }
  return message.replace(/\. To specify a positional argument.*$/s, "").split("\n")[0].replace(/\.$/, "");
}

export function renderHelp(spec: CommandSpec<OptionSpecs>): string {
  const lines = [`${spec.name} — ${spec.summary}`, "", `Usage: ${spec.usage}`];
  if (spec.details) lines.push("", spec.details.trim());
  lines.push("", "Options:");
  const entries = Object.entries({ ...spec.options, help: HELP_OPTION });
  const labels = entries.map(([name, option]) => {
    const value = option.type === "boolean" ? "" : ` ${option.valueName ?? option.type.toUpperCase()}`;
    const negatable = option.type === "boolean" && option.default === true;
    return `${option.short ? `-${option.short}, ` : "    "}--${negatable ? "[no-]" : ""}${name}${value}`;
  });
  const width = Math.max(...labels.map((label) => label.length)) + 2;
  entries.forEach(([, option], index) => {
    const range = [
      option.min !== undefined ? `at least ${option.min}` : null,
      option.exclusiveMin !== undefined ? `above ${option.exclusiveMin}` : null,
      option.max !== undefined ? `at most ${option.max}` : null,
    ].filter(Boolean).join(", ");
    const facts = [
      option.default !== undefined && option.type !== "boolean" ? `default: ${option.default}` : null,
      range || null,
    ].filter(Boolean);
    const extra = facts.length ? ` (${facts.join("; ")})` : "";
    lines.push(`  ${labels[index].padEnd(width)}${option.description}${extra}`);
  });
  lines.push("", "Examples:", ...spec.examples.map((example) => `  ${example}`));
  const exitCodes = {
    0: "done",
    1: "failed (harness or eval setup problem)",
    2: "bad usage or bad input",
    ...spec.exitCodes,
  };
  lines.push("", "Exit codes:", ...Object.entries(exitCodes).map(([code, meaning]) => `  ${code.padEnd(4)}${meaning}`));
  return lines.join("\n") + "\n";
}

/** True when this module is the program's entry point, under Bun, Deno and Node. */
export async function isMain(meta: ImportMeta): Promise<boolean> {
  const flag = (meta as ImportMeta & { main?: boolean }).main;
  if (typeof flag === "boolean") return flag;
  const entry = process.argv[1];
  if (!entry) return false;
  // Only Node (the dist/ bundles) gets here; Bun and Deno answer with import.meta.main.
  const [{ realpathSync }, { fileURLToPath }] = await Promise.all([import("node:fs"), import("node:url")]);
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(meta.url));
  } catch {
    return false;
  }
}

let colorEnabled = false;

/**
 * Colour policy for stderr: colour only on a terminal, never with NO_COLOR, --json or
 * machine formats; FORCE_COLOR forces it. The one colour used (warnings' yellow) is written
 * as its escape code, so no colour library is loaded at start-up.
 */
export function configureColor(options: { machineOutput?: boolean } = {}): boolean {
  const env = process.env;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  colorEnabled = !options.machineOutput && !("NO_COLOR" in env && env.NO_COLOR !== "") &&
    (forced || (Boolean(process.stderr.isTTY) && env.TERM !== "dumb"));
  return colorEnabled;
}

/** Whether a question may be asked: a real terminal, outside CI and Jupyter, without --yes. */
export function canPrompt(options: { yes?: boolean } = {}): boolean {
  if (options.yes) return false;
  const env = process.env;
  if (env.CI && env.CI !== "false" && env.CI !== "0") return false;
  if (env.JPY_PARENT_PID) return false; // Jupyter's `!` cells get a pseudo-terminal
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Ask one question on the terminal (stderr), returning the default on empty input. */
export async function ask(question: string, fallback: string): Promise<string> {
  const { createInterface } = await import("node:readline");
  const reader = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer: string = await new Promise((resolve) => reader.question(`${question} [${fallback}] `, resolve));
    return answer.trim() === "" ? fallback : answer.trim();
  } finally {
    reader.close();
  }
}

/** Progress and advice for people: always stderr, so stdout stays data. */
export function note(message: string): void {
  process.stderr.write(message.endsWith("\n") ? message : `${message}\n`);
}

export function warn(message: string): void {
  const text = `warning: ${message}`;
  note(colorEnabled ? `\x1b[33m${text}\x1b[39m` : text);
}

/** Data for programs and pipes. */
export function printData(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/**
 * One JSON object as one line (JSON Lines): a loop's objects arrive one per line, so a program
 * can read stdout line by line (`jq -c`, `for await (const line of ...)`) whatever the verb.
 */
export function printJson(value: unknown): void {
  printData(jsonLine(value));
}

/**
 * Run a command's handler with the shared error policy and return the exit code.
 * Callers set process.exitCode rather than calling process.exit(), which can cut
 * off a large stdout write on Bun and Node. An error is one line on stderr; with
 * --json it is also one JSON line on stdout, {"error": {"code", "exit_code", "message"}},
 * so a program reading stdout gets an object either way (codes: errors.ts ERROR_CODES).
 */
export async function runCommand<Options extends OptionSpecs>(
  spec: CommandSpec<Options>,
  argv: string[],
  handler: (args: ParsedArgs<Options>) => Promise<number>,
): Promise<number> {
  // Before argv parses, a bad command line still answers in JSON when --json is among its flags.
  const end = argv.indexOf("--");
  let json = "json" in spec.options && (end < 0 ? argv : argv.slice(0, end)).includes("--json");
  let args: ParsedArgs<Options>;
  try {
    args = parseCommandLine(spec, argv);
  } catch (error) {
    // Nothing is written before this point, so console's direct writes cannot overtake other
    // output; they spare Bun setting up the process.stdout/stderr streams (~9 ms of a --help).
    return reportError(spec, error, json, {
      data: (line) => console.log("%s", line),
      note: (line) => console.error("%s", line),
    });
  }
  if (args.values.help) {
    console.log("%s", renderHelp(spec).replace(/\n$/, ""));
    return EXIT.OK;
  }
  const values: Record<string, unknown> = args.values;
  json = values.json === true;
  try {
    configureColor({ machineOutput: json });
    // Under Deno a first use of a package group fetches it: say so in one line, not hundreds.
    if ("Deno" in globalThis) (await import("./packages.ts")).onPackagesFetched(note);
    return await handler(args);
  } catch (error) {
    return reportError(spec, error, json, { data: printData, note });
  }
}

/** The one error report: a line on stderr, and with --json a JSON line on stdout; returns the exit code. */
function reportError(
  spec: CommandSpec<OptionSpecs>,
  error: unknown,
  json: boolean,
  write: { data: (line: string) => void; note: (line: string) => void },
): number {
  const known = isCliError(error);
  const code = known ? error.code : "E_UNEXPECTED";
  const exitCode = known ? error.exitCode : ERROR_CODES.E_UNEXPECTED.exit;
  const message = known ? error.message : String((error as Error)?.message ?? error);
  write.note(`${spec.name}: ${known ? message : `unexpected error: ${(error as Error)?.stack ?? error}`}`);
  if (json) write.data(jsonLine({ error: { code, exit_code: exitCode, message } }));
  return exitCode;
}

/** Entry-point glue for scripts/<verb>.ts. */
export function runIfMain(meta: ImportMeta, main: (argv: string[]) => Promise<number>): void {
  void isMain(meta).then(async (entry) => {
    if (entry) process.exitCode = await main(process.argv.slice(2));
  });
}
