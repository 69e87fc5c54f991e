// The metric-gaming guard: sha256 of every frozen file (eval script, test data,
// files the user froze, and the repository files the eval command names — a brought eval
// is locked like a generated one) recorded at baseline and compared before any scoring.
// The experiment file's measurement fields are fingerprinted the same way (an agent that
// rewrites eval.command games the metric as surely as one that edits the eval).
// It reports mismatches; refusing to score or restoring is the caller's decision.
import { existsSync, readFileSync, statSync } from "node:fs";
import { isAbsolute, join, posix, relative, resolve } from "node:path";
import type { Experiment, Round } from "../experiment/schema.ts";
import { DEFAULTS, EVAL_RUNNER_DEFAULTS } from "../experiment/defaults.ts";
import { resolveIn, toPosix } from "../files/paths.ts";
import { sha256OfFile, sha256OfText, writeFileAtomic } from "../files/atomic.ts";
import { isTracked, repositoryRoot, repositoryStatus } from "../git/git.ts";
import { filesReadByRunner } from "../harness/task-runners.ts";

/** Repository-relative paths that must not change during a round, without duplicates. */
export function frozenPaths(experiment: Experiment, round: Round): string[] {
  // The held-out set is locked like the test data: the agent must not reshape what it is judged on later.
  const paths = [round.eval.script, experiment.test_data, experiment.holdout?.path, ...experiment.frozen].filter((
    path,
  ): path is string => Boolean(path));
  return [...new Set(paths)].filter((path) => !round.constrained_files.includes(path));
}

/**
 * Everything baseline hashes: the frozen paths and the repository files the eval command
 * names. The command's files are checked when recorded; a file that appears later (an
 * output the eval writes) is not "added to frozen", so they stay out of frozenPaths.
 */
export function lockedPaths(root: string, experiment: Experiment, round: Round): string[] {
  const frozen = frozenPaths(experiment, round);
  const named = evalCommandFiles(root, round.eval.command).filter((path) =>
    !frozen.includes(path) && !round.constrained_files.includes(path)
  );
  return [...frozen, ...named];
}

/**
 * The repository files an eval command names, relative to `root` (where it runs): every
 * word after a command's interpreter that is a tracked file (a folder is not), or an existing file git does
 * not ignore (an ignored one is the eval's output or cache, rewritten by every run). A
 * command word is kept only when tracked (`./eval.sh`), so `.venv/bin/python` is not.
 * evalCommandFiles(root, "python3 eval/x.py --cases data/cases.json") -> ["eval/x.py", "data/cases.json"]
 */
export function evalCommandFiles(root: string, command: string): string[] {
  const top = repositoryRoot(root);
  if (top === null) return [];
  const found: string[] = [];
  let untracked: string[] | null = null; // git's untracked files that it does not ignore, asked once when needed
  for (const word of commandPathWords(command)) {
    const absolute = resolve(root, word.path);
    const inRepository = relative(top, absolute);
    if (inRepository === "" || inRepository.startsWith("..") || isAbsolute(inRepository)) continue;
    const path = toPosix(relative(root, absolute));
    if (found.includes(path)) continue;
    // A folder is no file to hash, tracked files in it or not: `make bench` names a target, not bench/.
    if (!isPlainFile(absolute)) continue;
    if (isTracked(top, inRepository)) found.push(path);
    else if (!word.commandWord) {
      untracked ??= repositoryStatus(root).untracked.map(toPosix);
      if (untracked.includes(path)) found.push(path);
    }
  }
  return found;
}

function isPlainFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export type CommandPathWord = { path: string; commandWord: boolean };

/**
 * The words of a command line that could name files, each joined to the folder a leading
 * `cd DIR &&` moved to; options' values (`--data=x.json`) included, output redirections not; and
 * the files a task runner reads (`make bench` -> Makefile, task-runners.ts).
 * commandPathWords("cd app && python3 x.py > out.txt") -> [{ path: "app/x.py", commandWord: false }, ...]
 */
export function commandPathWords(command: string): CommandPathWord[] {
  const words: CommandPathWord[] = [];
  let folder = "";
  for (const simple of splitCommandLine(command)) {
    const assignments = simple.findIndex((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
    const rest = assignments < 0 ? [] : simple.slice(assignments);
    if (rest.length === 0) continue;
    if (rest[0] === "cd") {
      folder = rest[1] ? (isAbsolute(rest[1]) ? rest[1] : posix.join(folder, rest[1])) : "";
      continue;
    }
    const at = (word: string) => (isAbsolute(word) || folder === "" ? word : posix.join(folder, word));
    words.push({ path: at(rest[0]), commandWord: true });
    // `make bench` runs what the Makefile says: locked like the files the command names.
    for (const file of filesReadByRunner(rest[0], rest.slice(1))) words.push({ path: at(file), commandWord: false });
    for (let index = 1; index < rest.length; index++) {
      const word = rest[index];
      if (/^\d*>>?$/.test(word) || word === "&>") {
        index++; // what follows is written, not read
        continue;
      }
      if (word === "<") continue;
      const value = word.startsWith("-") ? word.slice(word.indexOf("=") + 1) : word;
      if (value === "" || value.startsWith("-") || word.startsWith("-") && !word.includes("=")) continue;
      words.push({ path: at(value), commandWord: false });
    }
  }
  return words;
}

/** Split a bash command line into simple commands of unquoted words: quotes and backslashes as bash reads them. */
function splitCommandLine(command: string): string[][] {
  const commands: string[][] = [[]];
  let word: string | null = null;
  const endWord = () => {
    if (word !== null) commands[commands.length - 1].push(word);
    word = null;
  };
  for (let index = 0; index < command.length; index++) {
    const char = command[index];
    if (char === "'" || char === '"') {
      const close = command.indexOf(char, index + 1);
      const end = close < 0 ? command.length : close;
      const quoted = command.slice(index + 1, end);
      word = (word ?? "") + (char === '"' ? quoted.replace(/\\(["\\$`])/g, "$1") : quoted);
      index = end;
    } else if (char === "\\" && index + 1 < command.length) {
      word = (word ?? "") + command[++index];
    } else if (/\s/.test(char)) {
      endWord();
    } else if (";&|()".includes(char) && !(char === "&" && command[index - 1] === ">")) {
      endWord();
      if (commands[commands.length - 1].length) commands.push([]);
    } else if (char === ">" || char === "<") {
      const descriptor: string = word !== null && /^\d$/.test(word) ? word : "";
      if (descriptor) word = null;
      endWord();
      const doubled = char === ">" && command[index + 1] === ">";
      if (doubled) index++;
      commands[commands.length - 1].push(`${descriptor}${char}${doubled ? ">" : ""}`);
    } else {
      word = (word ?? "") + char;
    }
  }
  endWord();
  return commands.filter((words) => words.length > 0);
}

export function hashFrozenFiles(root: string, paths: string[]): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const path of paths) {
    const absolute = resolveIn(root, path);
    hashes[path] = existsSync(absolute) ? sha256OfFile(absolute) : "missing";
  }
  return hashes;
}

export type IntegrityProblem = { path: string; problem: "changed" | "missing" | "added" };

/** Compare the recorded hashes with the files now; an empty list means untouched. */
export function checkIntegrity(
  root: string,
  recorded: Record<string, string>,
  expectedPaths: string[],
): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  const current = hashFrozenFiles(root, Object.keys(recorded));
  for (const [path, hash] of Object.entries(recorded)) {
    if (current[path] === hash) continue;
    problems.push({ path, problem: current[path] === "missing" ? "missing" : "changed" });
  }
  for (const path of expectedPaths) if (!(path in recorded)) problems.push({ path, problem: "added" });
  return problems;
}

/**
 * The experiment file's fields that decide what a score means: how it is measured
 * (eval), what counts (metric, guard, decision settings), what may change
 * (constrained files) and what may not (test data, frozen files), and where the round
 * started. Budgets, names and notes are left out: a person may change those mid-round.
 */
export type MeasurementFields = {
  metric: Experiment["metric"];
  guard: Experiment["guard"];
  decision: Experiment["decision"];
  test_data: Experiment["test_data"];
  frozen: Experiment["frozen"];
  constrained_files: Round["constrained_files"];
  eval: Round["eval"];
  baseline_commit: string | null;
  /** Only when there are any, so experiments baselined before tiebreaks existed keep their fingerprint. */
  tiebreaks?: Experiment["tiebreaks"];
  /** Only with a held-out set, for the same reason. */
  holdout?: Experiment["holdout"];
};

/**
 * Settings added after experiments were baselined, with the value that means "not used": left out
 * of the record while they hold it, so an upgrade of the kit does not read as a changed measurement.
 */
const LATER_DEFAULTS = {
  metric: { score_from: null },
  eval: { runner: EVAL_RUNNER_DEFAULTS.runner, cpus: EVAL_RUNNER_DEFAULTS.cpus },
  decision: {
    simplify_margin: null,
    max_tie_runs: DEFAULTS.decision.max_tie_runs,
    target_gain: null,
    noise_model: DEFAULTS.decision.noise_model,
  },
} as const;

function withoutLaterDefaults<T extends object>(value: T, defaults: Record<string, unknown>): T {
  return Object.fromEntries(
    Object.entries(value).filter(([key, inner]) => !(key in defaults && defaults[key] === inner)),
  ) as T; // a key left out reads back as its default
}

export function measurementFields(experiment: Experiment, round: Round): MeasurementFields {
  return {
    metric: withoutLaterDefaults(experiment.metric, LATER_DEFAULTS.metric),
    guard: experiment.guard,
    decision: withoutLaterDefaults(experiment.decision, LATER_DEFAULTS.decision),
    test_data: experiment.test_data,
    frozen: experiment.frozen,
    constrained_files: round.constrained_files,
    eval: withoutLaterDefaults(measuringEval(round.eval), LATER_DEFAULTS.eval),
    baseline_commit: round.baseline?.commit ?? null,
    ...(experiment.tiebreaks.length ? { tiebreaks: experiment.tiebreaks } : {}),
    ...(experiment.holdout ? { holdout: experiment.holdout } : {}),
  };
}

/** A round's eval without eval.runner_retries and eval.concurrency: how often a failed job is retried, or how many run at once, defines no score. */
function measuringEval(roundEval: Round["eval"]): Round["eval"] {
  const { runner_retries: _retries, concurrency: _concurrency, ...measuring } = roundEval;
  return measuring;
}

/** sha256 of the fields in a fixed key order, so the YAML's layout and comments do not matter. */
export function measurementFingerprint(fields: MeasurementFields): string {
  return sha256OfText(canonicalJson(fields));
}

/** Names of the measurement fields that differ, e.g. ["eval", "metric"]. */
export function changedMeasurementFields(recorded: MeasurementFields, current: MeasurementFields): string[] {
  const keys = new Set([...Object.keys(recorded), ...Object.keys(current)] as (keyof MeasurementFields)[]);
  return [...keys].filter((key) => canonicalJson(recorded[key]) !== canonicalJson(current[key]));
}

/** Put the recorded measurement fields back into an experiment, keeping everything else. */
export function withMeasurementFields(experiment: Experiment, round: Round, fields: MeasurementFields): Experiment {
  const retries = {
    ...(round.eval.runner_retries === undefined ? {} : { runner_retries: round.eval.runner_retries }),
    ...(round.eval.concurrency === undefined ? {} : { concurrency: round.eval.concurrency }),
  };
  const restoredRound: Round = {
    ...round,
    constrained_files: fields.constrained_files,
    eval: { ...fields.eval, ...retries },
  };
  return {
    ...experiment,
    metric: { ...LATER_DEFAULTS.metric, ...fields.metric },
    guard: fields.guard,
    decision: { ...LATER_DEFAULTS.decision, ...fields.decision },
    test_data: fields.test_data,
    frozen: fields.frozen,
    tiebreaks: fields.tiebreaks ?? [],
    holdout: fields.holdout ?? null,
    rounds: experiment.rounds.map((each) => (each.round === round.round ? restoredRound : each)),
  };
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (
      _key,
      inner,
    ) => (inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.keys(inner).sort().map((key) => [key, (inner as Record<string, unknown>)[key]]))
      : inner),
  );
}

/** The measurement fields as baseline recorded them (the fingerprint alone cannot restore them). */
export function measurementRecordPath(stateDir: string, round: number): string {
  return join(stateDir, `measurement-round${round}.json`);
}

export function saveMeasurementRecord(stateDir: string, round: number, fields: MeasurementFields): string {
  writeFileAtomic(measurementRecordPath(stateDir, round), JSON.stringify(fields, null, 2) + "\n");
  return measurementFingerprint(fields);
}

/** The recorded fields, or null when the record is missing, unreadable or not the one fingerprinted. */
export function readMeasurementRecord(stateDir: string, round: number, fingerprint: string): MeasurementFields | null {
  try {
    const fields = JSON.parse(readFileSync(measurementRecordPath(stateDir, round), "utf8")) as MeasurementFields;
    return measurementFingerprint(fields) === fingerprint ? fields : null;
  } catch {
    return null;
  }
}
