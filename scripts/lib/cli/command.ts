// The command-line shell every script shares: declared options (types checked, no
// surprise number coercion), --help with examples, the colour and prompt policy, a
// cross-runtime "is this the entry module" check, and the one top-level catch that
// turns errors into exit codes. Numeric options carry their allowed range, checked
// here at parse time. It does no experiment work of its own.
import { parseArgs } from "node:util";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import chalk from "chalk";
import { CliError, EXIT, isCliError } from "./errors.ts";

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

export type CommandSpec = {
  name: string; // e.g. "init.ts"
  summary: string;
  usage: string; // e.g. "init.ts FILE [options]"
  details?: string;
  options: Record<string, OptionSpec>;
  positionals?: { min: number; max: number; names: string };
  examples: string[];
  exitCodes?: Record<number, string>;
};

export type ParsedArgs = {
  values: Record<string, string | boolean | number | string[] | undefined>;
  positionals: string[];
};

const HELP_OPTION: OptionSpec = { type: "boolean", short: "h", description: "show this help" };

/** Parse argv against the declared options; throws a usage CliError naming the bad flag. */
export function parseCommandLine(spec: CommandSpec, argv: string[]): ParsedArgs {
  const declared = { help: HELP_OPTION, ...spec.options };
  const nodeOptions: Record<string, { type: "string" | "boolean"; short?: string; multiple?: boolean }> = {};
  for (const [name, option] of Object.entries(declared)) {
    nodeOptions[name] = {
      type: option.type === "boolean" ? "boolean" : "string",
      ...(option.short ? { short: option.short } : {}),
      ...(option.multiple ? { multiple: true } : {}),
    };
  }
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    // allowNegative lets `--no-branch` style flags be declared as plain booleans
    parsed = parseArgs({ args: joinNegativeNumbers(declared, argv), options: nodeOptions, allowPositionals: true, strict: true, allowNegative: true } as Parameters<typeof parseArgs>[0]) as typeof parsed;
  } catch (error) {
    throw new CliError(`${describeParseError((error as Error).message, declared)}. See: ${spec.name} --help`, "E_USAGE");
  }
  const values: ParsedArgs["values"] = {};
  for (const [name, option] of Object.entries(declared)) {
    const raw = parsed.values[name];
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
  return { values, positionals };
}

function coerceOption(spec: CommandSpec, name: string, option: OptionSpec, raw: string | boolean | string[]) {
  if (option.type === "boolean") return raw;
  const one = (text: string) => {
    if (option.choices && !option.choices.includes(text)) {
      throw new CliError(`--${name} must be one of ${option.choices.join(", ")}, not "${text}". See: ${spec.name} --help`, "E_USAGE");
    }
    if (option.type === "string") return text;
    const number = Number(text);
    const valid = text.trim() !== "" && Number.isFinite(number) && (option.type === "number" || Number.isInteger(number));
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

/**
 * `--min-effect -0.5` -> `--min-effect=-0.5`: node's parseArgs refuses an option value that
 * starts with a dash ("argument is ambiguous"), but a negative number after a value-taking
 * option can only be its value. Its range is then checked like any other value.
 */
export function joinNegativeNumbers(declared: Record<string, OptionSpec>, argv: string[]): string[] {
  const byShort = new Map(Object.entries(declared).filter(([, option]) => option.short).map(([name, option]) => [`-${option.short}`, name]));
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
function describeParseError(message: string, declared: Record<string, OptionSpec>): string {
  const ambiguous = /^Option '-(-?)([^']+)' argument is ambiguous/.exec(message);
  if (ambiguous) {
    const long = ambiguous[1] ? ambiguous[2] : Object.keys(declared).find((name) => declared[name].short === ambiguous[2]) ?? ambiguous[2];
    return `--${long} was given a value that starts with a dash; attach it with "=": --${long}=VALUE`;
  }
  return message.replace(/\. To specify a positional argument.*$/s, "").split("\n")[0].replace(/\.$/, "");
}

export function renderHelp(spec: CommandSpec): string {
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
    const facts = [option.default !== undefined && option.type !== "boolean" ? `default: ${option.default}` : null, range || null].filter(Boolean);
    const extra = facts.length ? ` (${facts.join("; ")})` : "";
    lines.push(`  ${labels[index].padEnd(width)}${option.description}${extra}`);
  });
  lines.push("", "Examples:", ...spec.examples.map((example) => `  ${example}`));
  const exitCodes = { 0: "done", 1: "failed (harness or eval setup problem)", 2: "bad usage or bad input", ...spec.exitCodes };
  lines.push("", "Exit codes:", ...Object.entries(exitCodes).map(([code, meaning]) => `  ${code.padEnd(4)}${meaning}`));
  return lines.join("\n") + "\n";
}

/** True when this module is the program's entry point, under Bun, Deno and Node. */
export function isMain(meta: ImportMeta): boolean {
  const flag = (meta as ImportMeta & { main?: boolean }).main;
  if (typeof flag === "boolean") return flag;
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(meta.url));
  } catch {
    return false;
  }
}

/**
 * Colour policy: colour only on a terminal, never with NO_COLOR, --json or
 * machine formats. chalk ignores NO_COLOR by itself, so the level is set here.
 */
export function configureColor(options: { machineOutput?: boolean } = {}): boolean {
  const env = process.env;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0";
  const enabled = !options.machineOutput && !("NO_COLOR" in env && env.NO_COLOR !== "") &&
    (forced || (Boolean(process.stderr.isTTY) && env.TERM !== "dumb"));
  // chalk detects colour support on stdout; our coloured text goes to stderr.
  chalk.level = enabled ? (chalk.level > 0 ? chalk.level : 1) : 0;
  return enabled;
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
  note(chalk.yellow(`warning: ${message}`));
}

/** Data for programs and pipes. */
export function printData(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  printData(JSON.stringify(value, null, 2));
}

/**
 * Run a command's handler with the shared error policy and return the exit code.
 * Callers set process.exitCode rather than calling process.exit(), which can cut
 * off a large stdout write on Bun and Node.
 */
export async function runCommand(
  spec: CommandSpec,
  argv: string[],
  handler: (args: ParsedArgs) => Promise<number>,
): Promise<number> {
  try {
    const args = parseCommandLine(spec, argv);
    if (args.values.help) {
      printData(renderHelp(spec));
      return EXIT.OK;
    }
    configureColor({ machineOutput: Boolean(args.values.json) });
    return await handler(args);
  } catch (error) {
    if (isCliError(error)) {
      note(`${spec.name}: ${error.message}`);
      return error.exitCode;
    }
    note(`${spec.name}: unexpected error: ${(error as Error)?.stack ?? error}`);
    return EXIT.FAILED;
  }
}

/** Entry-point glue for scripts/<verb>.ts. */
export function runIfMain(meta: ImportMeta, main: (argv: string[]) => Promise<number>): void {
  if (!isMain(meta)) return;
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
