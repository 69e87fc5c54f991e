// The experiment file (`autoresearch.yaml`): its schema checked (schema.ts),
// finding it from any folder of the repository (one search every script shares),
// loading with errors that name the field and the fix, and atomic saving that keeps the
// user's comments on untouched sections. yaml and zod load on first use: a load that the
// parsed-experiment cache answers (experiment-cache.ts) never needs them. It does not run
// anything; file names live in artifacts.ts, path helpers in files/paths.ts.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type * as Yaml from "yaml";
import type { z } from "zod";
import { CliError, EXIT } from "../cli/errors.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { displayPath, realpathOrSelf } from "../files/paths.ts";
import { kitCommand } from "../cli/kit.ts";
import { importPackage, requirePackage } from "../cli/packages.ts";
import { EXPERIMENT_FILE, STATE_DIR } from "./artifacts.ts";
import { stripControlCharacters } from "./journal.ts";
import { type Experiment, experimentSchemas, preloadZod, type Round } from "./schema.ts";
import { cachedExperiment, rememberExperiment } from "./experiment-cache.ts";
import { followWorktreePointer } from "./worktree-pointer.ts";

// yaml costs ~22 ms of start-up; it loads on the first parse or save (zod, in schema.ts, likewise).
// `require` keeps loading synchronous (every caller of loadExperiment is).
let yamlModule: typeof Yaml | null = null;

function yaml(): typeof Yaml {
  yamlModule ??= requirePackage("experimentFile", "yaml") as typeof Yaml;
  return yamlModule;
}

/**
 * Load yaml and zod ahead, for a command that parses or saves the experiment file anyway
 * (baseline, init, next-round): imports take ~15 ms less than the `require` fallbacks, which
 * load the packages' CommonJS builds. Under Deno both are fetched on the first run, with one
 * summary line (cli/packages.ts).
 */
export async function preloadExperimentParsers(): Promise<void> {
  const [yamlImported] = await Promise.all([importPackage("experimentFile", "yaml"), preloadZod()]);
  yamlModule ??= yamlImported as typeof Yaml;
}

/** An experiment together with where it lives; every relative path in it is relative to `root`. */
export type LoadedExperiment = { path: string; root: string; experiment: Experiment };

/**
 * The experiment file a script uses when --experiment is not given: the nearest
 * autoresearch.yaml from `cwd` upward, up to and including the repository root (agents change
 * directory, and every script must find the same experiment from anywhere in the repository).
 * Null when there is none. Without `repoRoot` the root is the nearest folder holding `.git`,
 * found without spawning git (the dashboard runs after every iteration); outside a repository
 * only `cwd` itself is looked at.
 */
export function findExperimentFile(cwd: string, repoRoot?: string | null): string | null {
  const start = resolve(cwd);
  const root = repoRoot ?? repositoryRootOf(start);
  if (!root) return fileIn(start);
  const realRoot = realpathOrSelf(root);
  for (let folder = start;;) {
    const found = fileIn(folder);
    if (found) return found;
    if (folder === root || realpathOrSelf(folder) === realRoot) return null;
    const parent = dirname(folder);
    if (parent === folder) break;
    folder = parent;
  }
  // cwd is not below the root as spelled (a symlinked path git resolved): the root's own file.
  return fileIn(root);
}

/** The experiment file of `folder`: the worktree's copy when the experiment moved into its own worktree. */
function fileIn(folder: string): string | null {
  const candidate = join(folder, EXPERIMENT_FILE);
  const followed = followWorktreePointer(candidate); // the same path when no record sends it elsewhere
  if (followed !== candidate) return followed;
  return existsSync(candidate) ? candidate : null;
}

/** The nearest folder holding `.git` (a folder, or a file in worktrees), or null. */
function repositoryRootOf(start: string): string | null {
  for (let folder = start;;) {
    if (existsSync(join(folder, ".git"))) return folder;
    const parent = dirname(folder);
    if (parent === folder) return null;
    folder = parent;
  }
}

/**
 * Where the experiment file is: --experiment wins (resolved against `cwd`), else the nearest
 * one from `cwd` up to the repository root (findExperimentFile), else where init would put it
 * at the root (which does not exist: loading it says how to set one up).
 */
export function locateExperiment(explicit: string | undefined, cwd: string, repoRoot?: string): string {
  if (explicit !== undefined && explicit.trim() === "") {
    throw new CliError(
      `--experiment was given an empty path. Name the experiment file (--experiment autoresearch.yaml), or drop the flag to use the nearest ${EXPERIMENT_FILE} from here up to the repository root`,
      "E_USAGE",
    );
  }
  if (explicit) return followWorktreePointer(resolve(cwd, explicit));
  return findExperimentFile(cwd, repoRoot) ?? join(repoRoot ?? resolve(cwd), EXPERIMENT_FILE);
}

/**
 * Locate and load the experiment a script works on (iterate, baseline): --experiment when
 * given, else the nearest autoresearch.yaml from `cwd` up to the repository root. A missing
 * file is reported for what it is: a wrong --experiment path, or no experiment set up yet.
 */
export function loadLocatedExperiment(explicit: string | undefined, cwd: string, repoRoot: string): LoadedExperiment {
  const path = locateExperiment(explicit, cwd, repoRoot);
  if (!existsSync(path)) {
    const message = explicit
      ? `No experiment file at "${
        displayPath(path, cwd)
      }" (from --experiment ${explicit}). Check the path, or drop --experiment to use the nearest ${EXPERIMENT_FILE} from here up to the repository root; to set one up: ${
        kitCommand("init", { cwd })
      } path/to/file`
      : `No experiment file at "${
        displayPath(path, cwd)
      }": no ${EXPERIMENT_FILE} in "${cwd}" or any folder above it up to the repository root "${repoRoot}". Set one up first: ${
        kitCommand("init", { cwd })
      } path/to/file (or pass --experiment PATH)`;
    throw new CliError(message, "E_NO_EXPERIMENT", EXIT.USAGE);
  }
  return loadExperiment(path);
}

/**
 * Parse and validate experiment text; `label` names the file in error messages. With
 * `cacheIn` (a folder in the experiment's repository) a text parsed before is answered from
 * the parsed-experiment cache, and a newly valid one is remembered there.
 */
export function parseExperiment(text: string, label: string, options: { cacheIn?: string } = {}): Experiment {
  // The cache holds only what this parse returned for the same text, under a seal it checks.
  const cached = options.cacheIn === undefined ? null : cachedExperiment(options.cacheIn, text) as Experiment | null;
  if (cached) return cached;
  const experiment = parseExperimentText(text, label);
  if (options.cacheIn !== undefined) rememberExperiment(options.cacheIn, text, experiment);
  return experiment;
}

function parseExperimentText(text: string, label: string): Experiment {
  if (text.includes("\0")) {
    throw new CliError(
      `Cannot use "${label}": it is a binary file, not a YAML experiment file. Pass the autoresearch.yaml that init wrote, or create one: ${
        kitCommand("init")
      } path/to/file`,
      "E_EXPERIMENT_YAML",
    );
  }
  let raw: unknown;
  try {
    raw = yaml().parse(text);
  } catch (error) {
    const firstLine = stripControlCharacters(String((error as Error).message).split("\n")[0]);
    throw new CliError(`Cannot parse "${label}": ${firstLine}. Fix the YAML syntax and re-run.`, "E_EXPERIMENT_YAML");
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    const found = raw === null || raw === undefined ? "nothing" : Array.isArray(raw) ? "a list" : `a ${typeof raw}`;
    throw new CliError(
      `Cannot use "${label}": it holds ${found}, not the experiment's fields (version, name, metric, rounds, ...). Check the path, or create one: ${
        kitCommand("init")
      } path/to/file`,
      "E_EXPERIMENT_INVALID",
    );
  }
  const experiment = validateExperiment(raw, label);
  if (!experiment.rounds.some((round) => round.round === experiment.current_round)) {
    throw new CliError(
      `Cannot use "${label}": current_round is ${experiment.current_round} but rounds has no such round. Set current_round to one of ${
        experiment.rounds.map((r) => r.round).join(", ")
      }.`,
      "E_EXPERIMENT_INVALID",
    );
  }
  return experiment;
}

/** Check a parsed or freshly built experiment against the schema; the first problem names its field. */
export function validateExperiment(value: unknown, label: string): Experiment {
  const result = experimentSchemas().ExperimentSchema.safeParse(value);
  if (!result.success) throw new CliError(describeSchemaError(result.error, label), "E_EXPERIMENT_INVALID");
  return result.data;
}

function describeSchemaError(error: z.ZodError, label: string): string {
  const issue = error.issues[0];
  const field = issue.path.map(String).join(".") || "(top level)";
  if (issue.code === "unrecognized_keys") {
    const keys = (issue as { keys: string[] }).keys;
    const where = issue.path.length ? issue.path.join(".") + "." : "";
    return `Cannot use "${label}": unknown field ${
      keys.map((key) => `"${where}${key}"`).join(", ")
    }. Remove it or check its spelling (see README "Experiment file").`;
  }
  const message = issue.code === "invalid_type" && /received undefined/.test(issue.message)
    ? "is required"
    : issue.message.replace(/^Invalid input: /, "");
  return `Cannot use "${label}": ${field} ${message}. Fix that field and re-run (see README "Experiment file").`;
}

/** Load the experiment file, or say which command creates it. */
export function loadExperiment(path: string): LoadedExperiment {
  if (!existsSync(path)) {
    throw new CliError(
      `No experiment file at "${displayPath(path)}". Check the path, or set one up first: ${
        kitCommand("init")
      } path/to/file`,
      "E_NO_EXPERIMENT",
      EXIT.USAGE,
    );
  }
  const label = displayPath(path);
  if (statSync(path).isDirectory()) {
    throw new CliError(
      `"${label}" is a directory, not an experiment file. Pass the file: --experiment ${join(label, EXPERIMENT_FILE)}`,
      "E_NOT_A_FILE",
      EXIT.USAGE,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new CliError(
      `Cannot read the experiment file "${label}": ${
        (error as NodeJS.ErrnoException).code ?? (error as Error).message
      }. Check its permissions (ls -l "${label}") and re-run.`,
      "E_EXPERIMENT_UNREADABLE",
      EXIT.USAGE,
    );
  }
  const root = dirname(path);
  return { path, root, experiment: parseExperiment(text, label, { cacheIn: root }) };
}

/** Write the experiment atomically; comments survive on sections whose value did not change. */
export function saveExperiment(path: string, experiment: Experiment): void {
  const checked = experimentSchemas().ExperimentSchema.parse(experiment);
  const YAML = yaml();
  let document: Yaml.Document;
  if (existsSync(path)) {
    document = YAML.parseDocument(readFileSync(path, "utf8"));
    const previous = (document.toJS() ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(checked)) {
      if (JSON.stringify(previous[key]) !== JSON.stringify(value)) document.set(key, value);
    }
    for (const key of Object.keys(previous)) if (!(key in checked)) document.delete(key);
  } else {
    document = new YAML.Document(checked);
    document.commentBefore =
      ' autoresearch-kit experiment file: shared by init, baseline, iterate, dashboard and next-round.\n Reference: README.md, section "Experiment file".';
  }
  const text = document.toString({ lineWidth: 0 });
  writeFileAtomic(path, text);
  rememberSavedText(path, text);
}

/**
 * The text just written goes into the parsed-experiment cache, parsed as any load would parse
 * it (yaml and zod are loaded by now), so the step after a baseline or a restore is a hit too.
 */
function rememberSavedText(path: string, text: string): void {
  let experiment: Experiment;
  try {
    experiment = parseExperimentText(text, displayPath(path));
  } catch {
    return; // the next load reports what is wrong with it
  }
  rememberExperiment(dirname(path), text, experiment);
}

export function findRound(experiment: Experiment, round?: number): Round {
  const wanted = round ?? experiment.current_round;
  const found = experiment.rounds.find((candidate) => candidate.round === wanted);
  if (!found) {
    throw new CliError(
      `Round ${wanted} does not exist; this experiment has rounds ${
        experiment.rounds.map((r) => r.round).join(", ")
      }. Pass --round with one of them.`,
      "E_NO_ROUND",
    );
  }
  return found;
}

export function replaceRound(experiment: Experiment, updated: Round): Experiment {
  return { ...experiment, rounds: experiment.rounds.map((round) => (round.round === updated.round ? updated : round)) };
}

export function experimentStateDir(loaded: LoadedExperiment): string {
  return join(loaded.root, STATE_DIR);
}
