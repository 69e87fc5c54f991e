// What a project's task runners (make, npm and its kin, just) read and which of their tasks
// measure something: the files an eval like `make bench` depends on without naming them (locked
// by integrity like the files it names), and the project's own benchmark, eval or test tasks, which
// init offers as the eval when it cannot run a file on one input (a C++ kernel with `make bench`).
// Pure: file contents come in through `read`.
// Example: projectEvalCommands("", (path) => path === "Makefile" ? "bench:\n\t./run\n" : null) -> ["make -s bench"]

import { posix } from "node:path";
import { shellQuote } from "../text/shell-quote.ts";

/** The names GNU make looks for, in its order. */
const MAKEFILES = ["GNUmakefile", "makefile", "Makefile"];
const JUSTFILES = ["justfile", "Justfile", ".justfile"];

/**
 * The files a task runner reads in the folder it runs in, by command name, given its arguments:
 * `make -C bench run` reads bench/Makefile. A runner not listed reads nothing we know of.
 */
const RUNNER_FILES: Record<string, (args: readonly string[]) => string[]> = {
  make: (args) => inFolder(optionValue(args, "-C", "--directory"), MAKEFILES),
  gmake: (args) => inFolder(optionValue(args, "-C", "--directory"), MAKEFILES),
  npm: (args) => inFolder(optionValue(args, "--prefix"), ["package.json"]),
  pnpm: (args) => inFolder(optionValue(args, "-C", "--dir"), ["package.json"]),
  yarn: (args) => inFolder(optionValue(args, "--cwd"), ["package.json"]),
  bun: (args) => (args[0] === "run" || args[0] === "test" ? ["package.json"] : []),
  just: (args) => inFolder(optionValue(args, "-d", "--working-directory"), JUSTFILES),
};

/**
 * The files a command word reads as a task runner, relative to where it runs.
 * filesReadByRunner("make", ["-s", "-C", "bench", "run"]) -> ["bench/GNUmakefile", "bench/makefile", "bench/Makefile"]
 */
export function filesReadByRunner(command: string, args: readonly string[]): string[] {
  return RUNNER_FILES[posix.basename(command)]?.(args) ?? [];
}

function inFolder(folder: string | null, names: readonly string[]): string[] {
  return names.map((name) => (folder ? posix.join(folder, name) : name));
}

/** The value of an option given as `-C dir`, `-Cdir` or `--directory=dir`, or null. */
function optionValue(args: readonly string[], ...names: string[]): string | null {
  for (let index = 0; index < args.length; index++) {
    const arg = args[index];
    for (const name of names) {
      if (arg === name) return args[index + 1] ?? null;
      if (name.startsWith("--") && arg.startsWith(`${name}=`)) return arg.slice(name.length + 1);
      if (!name.startsWith("--") && arg.startsWith(name) && !arg.startsWith("--")) return arg.slice(name.length);
    }
  }
  return null;
}

// A task whose name says it measures: bench, benchmark(s), eval, evaluate, evaluation, perf, score,
// alone or as the first word of a longer name (bench-matmul, eval:quick).
const MEASURING_TASK = /^(?:bench(?:mark)?s?|eval(?:uate|uation)?|perf|score)(?:[-_:.].*)?$/i;
// A task that runs the test suite, offered after the measuring ones: its pass rate is a metric too.
const TEST_TASK = /^(?:test|tests|check)$/i;
// A makefile rule's targets: `name other: prerequisites`, not a variable (`NAME := x`, `NAME ?= x`).
const MAKE_RULE = /^([A-Za-z0-9][\w.\- ]*?)\s*::?(?![=])/;

/**
 * The project's own measuring tasks, then its test tasks, as commands run from `dir` (relative to
 * the root, "" for it): the nearest makefile's and package.json's, each folder from `dir` up to the
 * root. `read` answers a root-relative path with the file's text or null.
 */
export function projectEvalCommands(dir: string, read: (path: string) => string | null): string[] {
  const measuring = projectTasks(dir, read, MEASURING_TASK);
  return [...measuring, ...projectTasks(dir, read, TEST_TASK)];
}

function projectTasks(dir: string, read: (path: string) => string | null, pattern: RegExp): string[] {
  const commands: string[] = [];
  let makefileFound = false;
  let packageFound = false;
  for (const folder of foldersUp(dir)) {
    const relativeFolder = posix.relative(dir, folder);
    if (!makefileFound) {
      const name = MAKEFILES.find((each) => read(posix.join(folder, each)) !== null);
      if (name) {
        makefileFound = true;
        const where = relativeFolder ? `-C ${shellQuote(relativeFolder)} ` : "";
        for (const target of makeTargets(read(posix.join(folder, name)) ?? "", pattern)) {
          commands.push(`make -s ${where}${shellQuote(target)}`);
        }
      }
    }
    if (!packageFound) {
      const text = read(posix.join(folder, "package.json"));
      if (text !== null) {
        packageFound = true;
        const where = relativeFolder ? ` --prefix ${shellQuote(relativeFolder)}` : "";
        for (const script of packageScripts(text, pattern)) commands.push(`npm run -s${where} ${shellQuote(script)}`);
      }
    }
  }
  return commands;
}

/** `dir` and every folder above it up to the root (""). */
function foldersUp(dir: string): string[] {
  const folders: string[] = [];
  let folder = dir === "." ? "" : dir;
  for (;;) {
    folders.push(folder);
    if (folder === "") return folders;
    const parent = posix.dirname(folder);
    folder = parent === "." || parent === "/" ? "" : parent;
  }
}

/** A makefile's targets whose name fits `pattern`, in the order written. */
function makeTargets(text: string, pattern: RegExp): string[] {
  const targets: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const rule = MAKE_RULE.exec(line);
    if (!rule) continue;
    for (const target of rule[1].split(/\s+/)) {
      if (pattern.test(target) && !targets.includes(target)) targets.push(target);
    }
  }
  return targets;
}

/** A package.json's scripts whose name fits `pattern`, in the order written; none when it does not parse. */
function packageScripts(text: string, pattern: RegExp): string[] {
  try {
    const scripts = (JSON.parse(text) as { scripts?: unknown }).scripts;
    if (!scripts || typeof scripts !== "object") return [];
    return Object.keys(scripts).filter((name) => pattern.test(name));
  } catch {
    return [];
  }
}
