// The held-out set from creation to measurement: init's --holdout / --holdout-split settled
// into the experiment file's `holdout` field (and the split planned when the test data is
// already filled), the split baseline makes once when init could not (a scaffold still had
// placeholders), and a measurement of it — the same eval command with AUTORESEARCH_TEST_DATA
// naming the held-out file, logged under .autoresearch/logs/roundN/holdout-*.log — whose
// figures go on the baseline and keep lines. Nothing here decides a keep, and no text it
// returns for the agent's eyes names the file. What the held-out figures say (overfitting) is
// experiment/holdout.ts's business.
import { randomInt } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { DEFAULTS, HOLDOUT_LIMITS } from "../experiment/defaults.ts";
import type { Experiment, Holdout, Round } from "../experiment/schema.ts";
import { STATE_DIR } from "../experiment/artifacts.ts";
import { evalReading } from "../experiment/objective.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { displayPath, resolveIn, toPosix } from "../files/paths.ts";
import type { PlannedWrite } from "../files/planned-writes.ts";
import { evalRunner } from "../process/eval-runner.ts";
import { type EvalRun, runEval } from "../process/evaluator.ts";
import { mean, sampleStandardDeviation } from "../decision/stats.ts";
import { cleanNumber, roundMeasure } from "../text/number-format.ts";
import { inspectTestData, inspectTestDataFile } from "./test-data.ts";

/** The variable a generated eval reads its test data path from when it is set. */
export const HOLDOUT_ENV = "AUTORESEARCH_TEST_DATA";
/** Where init puts a held-out set it makes: under the harness's state folder, which git and the instructions leave out. */
export const HOLDOUT_DIR = `${STATE_DIR}/holdout`;

/** `.autoresearch/holdout/<name>.<the test data's extension>`, relative to the experiment folder. */
export function defaultHoldoutPath(name: string, testDataPath: string | null): string {
  const extension = testDataPath ? extname(testDataPath) || ".json" : ".json";
  return `${HOLDOUT_DIR}/${name}${extension}`;
}

/** Why `share` cannot be a --holdout-split value, or null when it can. */
export function holdoutSplitProblem(share: number): string | null {
  if (!Number.isFinite(share) || share <= 0 || share > HOLDOUT_LIMITS.max_split) {
    return `--holdout-split must be a share above 0 and at most ${HOLDOUT_LIMITS.max_split} (0.3 holds out 30% of the labelled cases), not ${share}`;
  }
  return null;
}

// ---- the split (pure) ---------------------------------------------------------------------------

/** 0..count-1 in an order fixed by `seed` (mulberry32 drives a Fisher-Yates shuffle). */
export function seededOrder(count: number, seed: number): number[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index--) {
    const other = Math.floor(next() * (index + 1));
    [order[index], order[other]] = [order[other], order[index]];
  }
  return order;
}

export type SplitText = { kept: string; heldOut: string; keptCases: number; heldCases: number };

/**
 * Take `share` of the cases out of test data text into a held-out text of the same format: the
 * first round(share × cases) of the seeded order, each side keeping the file's order, its other
 * fields (a shared "setup") and its comment and header lines. JSON ({"cases": [...]} or an
 * array), JSON lines and TSV/CSV tables. A problem is returned in words, never thrown.
 * splitTestDataText('{"cases":[...20 cases]}', "t.json", 0.3, 7) -> { keptCases: 14, heldCases: 6, ... }
 */
export function splitTestDataText(text: string, path: string, share: number, seed: number): SplitText | {
  problem: string;
} {
  const extension = extname(path).toLowerCase();
  const lines = extension === ".jsonl" || extension === ".ndjson" || extension === ".tsv" || extension === ".csv";
  if (lines) {
    const all = text.split("\n");
    const isTable = extension === ".tsv" || extension === ".csv";
    const caseLines: number[] = [];
    let headerSeen = !isTable;
    all.forEach((line, index) => {
      if (line.trim() === "" || line.startsWith("#")) return;
      if (!headerSeen) headerSeen = true; // a table's first row names its columns: it goes to both sides
      else caseLines.push(index);
    });
    const chosen = chooseHeldOut(caseLines.length, share, seed);
    if ("problem" in chosen) return chosen;
    const heldLines = new Set(chosen.held.map((position) => caseLines[position]));
    const isCase = new Set(caseLines);
    const side = (held: boolean) =>
      all.filter((line, index) => !isCase.has(index) || heldLines.has(index) === held).join("\n");
    return {
      kept: side(false),
      heldOut: side(true),
      keptCases: caseLines.length - heldLines.size,
      heldCases: heldLines.size,
    };
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    return { problem: `it is not valid JSON (${(error as Error).message})` };
  }
  const key = Array.isArray(document) ? null : caseArrayKey(document);
  const cases = Array.isArray(document) ? document : key === null ? null : (document as Record<string, unknown[]>)[key];
  if (!cases) return { problem: 'it has no list of cases (a "cases" array, or an array at the top)' };
  const chosen = chooseHeldOut(cases.length, share, seed);
  if ("problem" in chosen) return chosen;
  const held = new Set(chosen.held);
  const pick = (wantHeld: boolean) => cases.filter((_, index) => held.has(index) === wantHeld);
  const rebuilt = (picked: unknown[]) =>
    JSON.stringify(key === null ? picked : { ...(document as object), [key]: picked }, null, 2) + "\n";
  return {
    kept: rebuilt(pick(false)),
    heldOut: rebuilt(pick(true)),
    keptCases: cases.length - held.size,
    heldCases: held.size,
  };
}

function caseArrayKey(document: unknown): string | null {
  if (!document || typeof document !== "object") return null;
  for (const key of ["cases", "queries", "examples", "tests", "data", "items"]) {
    if (Array.isArray((document as Record<string, unknown>)[key])) return key;
  }
  return null;
}

/** The positions held out, or why a split of `count` cases leaves too few on a side. */
function chooseHeldOut(count: number, share: number, seed: number): { held: number[] } | { problem: string } {
  const heldCount = Math.round(count * share);
  const minimum = HOLDOUT_LIMITS.min_cases;
  if (heldCount < minimum || count - heldCount < minimum) {
    return {
      problem: `holding out ${share} of its ${count} cases leaves ${heldCount} held out and ${
        count - heldCount
      } to tune on; each side needs at least ${minimum} (add cases, or change the share)`,
    };
  }
  return { held: seededOrder(count, seed).slice(0, heldCount) };
}

// ---- a brought eval's command -------------------------------------------------------------------

// A path the rewrite can put inside double quotes as it is: no quote, $, backquote, backslash, brace or space.
const PLAIN_PATH = /^[\w@%+,.:\/-]+$/;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

type ShellToken = { kind: "word" | "separator" | "input" | "output"; start: number; end: number };

/**
 * A bash command line's top-level tokens with their places in it: words (quotes kept in them),
 * control operators, and < / > redirections. Null for what it does not read safely: an unclosed
 * quote, a heredoc or here-string, a backquote.
 */
function shellTokens(command: string): ShellToken[] | null {
  const tokens: ShellToken[] = [];
  let start = -1;
  const endWord = (at: number) => {
    if (start >= 0) tokens.push({ kind: "word", start, end: at });
    start = -1;
  };
  for (let index = 0; index < command.length; index++) {
    const char = command[index];
    if (char === "'" || char === '"') {
      if (start < 0) start = index;
      let close = index + 1;
      while (close < command.length && command[close] !== char) {
        close += char === '"' && command[close] === "\\" ? 2 : 1;
      }
      if (close >= command.length) return null;
      index = close;
    } else if (char === "`") return null;
    else if (char === "\\") {
      if (start < 0) start = index;
      index++;
    } else if (/\s/.test(char)) endWord(index);
    else if (";&|()".includes(char)) {
      endWord(index);
      tokens.push({ kind: "separator", start: index, end: index + 1 });
    } else if (char === ">" || char === "<") {
      if (char === "<" && command[index + 1] === "<") return null;
      // A descriptor written against it (2>) is part of the redirection, not a word.
      if (start >= 0 && /^\d+$/.test(command.slice(start, index))) start = -1;
      endWord(index);
      const from = index;
      if (command[index + 1] === ">" || command[index + 1] === "&" || command[index + 1] === "|") index++;
      tokens.push({ kind: char === ">" ? "output" : "input", start: from, end: index + 1 });
    } else if (start < 0) start = index;
  }
  endWord(command.length);
  return tokens;
}

/**
 * A brought eval command that names its test data, rewritten to take AUTORESEARCH_TEST_DATA first
 * (`python3 eval.py --data data/dev.jsonl` -> `python3 eval.py --data "${AUTORESEARCH_TEST_DATA:-data/dev.jsonl}"`):
 * the same run as before wherever the variable is unset, the held-out file where the harness sets it.
 * Only a whole top-level word is rewritten: the path (or ./path), quoted or not, or an option's or
 * assignment's value (--data=path); never text inside a quoted string (a `python3 -c "..."`), a
 * file written to (> path), a heredoc. Null when the command does not name it that way, already
 * reads the variable, or the path needs quoting of its own.
 */
export function commandReadingHoldout(command: string, testDataPath: string): string | null {
  const path = toPosix(testDataPath).replace(/^\.\//, "");
  if (command.includes(HOLDOUT_ENV) || !PLAIN_PATH.test(path)) return null;
  const tokens = shellTokens(command);
  if (tokens === null) return null;
  const written = `(?:\\./)?${escapeRegExp(path)}`;
  const word = new RegExp(`^((?:--?|[A-Za-z_])[\\w-]*=)?(?:"(${written})"|'(${written})'|(${written}))$`);
  let rewritten = command;
  // From the last word back, so that earlier places stay where they were.
  for (let index = tokens.length - 1; index >= 0; index--) {
    const token = tokens[index];
    if (token.kind !== "word" || tokens[index - 1]?.kind === "output") continue;
    const match = word.exec(command.slice(token.start, token.end));
    if (!match) continue;
    const named = match[2] ?? match[3] ?? match[4];
    rewritten = `${rewritten.slice(0, token.start)}${match[1] ?? ""}"\${${HOLDOUT_ENV}:-${named}}"${
      rewritten.slice(token.end)
    }`;
  }
  return rewritten === command ? null : rewritten;
}

// ---- init ---------------------------------------------------------------------------------------

export type HoldoutRequest = {
  /** --holdout PATH as given (relative to cwd). */
  path?: string;
  /** --holdout-split F. */
  split?: number;
  /** --holdout-seed N: the split's shuffle seed (default: a random one, recorded). */
  seed?: number;
};

export type HoldoutPlan = {
  holdout: Holdout | null;
  /** The split made now: the held-out file and the test data without its cases (replacing the user's file). */
  writes: PlannedWrite[];
  /** Files those writes replace: backed up first, like --force's. */
  replaced: string[];
  notes: string[];
  warnings: string[];
  /** The brought eval's command rewritten to read AUTORESEARCH_TEST_DATA (commandReadingHoldout), or null. */
  evalCommand: string | null;
};

/**
 * What init records for --holdout PATH or --holdout-split F, and the split when the test data is
 * already filled (given with --test-data); a scaffold still to fill is split by baseline, once.
 * Refuses bad values with one line (E_BAD_HOLDOUT or E_NO_FILE, exit 2) before anything is written.
 */
export function planHoldout(request: HoldoutRequest, context: {
  cwd: string;
  root: string;
  repoRoot: string;
  tracked: string[];
  name: string;
  testData: string | null;
  scaffoldTestData: boolean;
  /** The eval command the user brought (--eval-cmd), or null for a generated eval. */
  ownEvalCommand: string | null;
}): HoldoutPlan {
  const none: HoldoutPlan = { holdout: null, writes: [], replaced: [], notes: [], warnings: [], evalCommand: null };
  const { cwd, root } = context;
  if (request.path === undefined && request.split === undefined) {
    if (request.seed !== undefined) throw refusal("--holdout-seed goes with --holdout-split F");
    return none;
  }
  if (request.path !== undefined && request.split !== undefined) {
    throw refusal(
      "pass --holdout PATH (a file of held-out cases you have) or --holdout-split F (init makes one), not both",
    );
  }
  // A brought eval must read the held-out file from the variable; when its command names the test
  // data, the command itself can.
  const { ownEvalCommand } = context;
  const evalCommand = ownEvalCommand !== null && context.testData !== null
    ? commandReadingHoldout(ownEvalCommand, context.testData)
    : null;
  const ownEvalNote = ownEvalCommand === null ? [] : evalCommand !== null
    ? [
      `The eval command names the test data "${context.testData}": it is recorded as ${evalCommand}, so the harness's held-out runs (${HOLDOUT_ENV}=<the held-out file>) score the held-out set and every other run the test data as before.`,
    ]
    : [
      `Your eval must read its test data from the ${HOLDOUT_ENV} variable when it is set: the harness scores the held-out set by running it with ${HOLDOUT_ENV}=<the held-out file>, and baseline refuses an eval that still scores when that names a file that does not exist.`,
    ];
  if (request.path !== undefined) {
    const absolute = resolve(cwd, request.path);
    const inspected = inspectTestDataFile(absolute);
    if (!existsSync(absolute)) {
      throw refusal(
        `the held-out set "${request.path}" does not exist; pass a file of labelled cases in the test data's format`,
        "E_NO_FILE",
      );
    }
    if (inspected.problems.length) {
      throw refusal(`the held-out set "${request.path}" cannot be used: ${inspected.problems[0]}`);
    }
    const path = toPosix(relative(root, absolute));
    if (context.testData !== null && resolve(root, context.testData) === absolute) {
      throw refusal(
        `the held-out set "${request.path}" is the test data itself; pass a separate file of cases the agent never sees, or --holdout-split 0.3`,
      );
    }
    const warnings = [];
    const inRepository = toPosix(relative(context.repoRoot, absolute));
    const inWorkTree = !inRepository.startsWith("..") && !isAbsolute(inRepository);
    if (context.tracked.includes(inRepository) || (inWorkTree && !path.startsWith(`${STATE_DIR}/`))) {
      const where = context.tracked.includes(inRepository) ? "a tracked file of the repository" : "in the work tree";
      warnings.push(
        `The held-out set "${
          displayPath(absolute, cwd)
        }" is ${where}, where the agent can read it. Move it into ${HOLDOUT_DIR}/ (out of git: git rm --cached first if git tracks it), which init keeps out of git and out of the instructions, and re-run init with --holdout there.`,
      );
    }
    if (inspected.cases < HOLDOUT_LIMITS.min_cases) {
      throw refusal(
        `the held-out set "${request.path}" has ${inspected.cases} cases; at least ${HOLDOUT_LIMITS.min_cases} are needed for a held-out score worth reading`,
      );
    }
    const holdout: Holdout = { path, split: null, seed: null, runs: DEFAULTS.holdout.runs };
    return { ...none, holdout, warnings, notes: [...ownEvalNote, heldOutNote(holdout)], evalCommand };
  }
  const share = request.split!;
  const problem = holdoutSplitProblem(share);
  if (problem) throw refusal(problem);
  if (context.testData === null) {
    throw refusal(
      "--holdout-split needs test data to split: pass --test-data PATH with --eval-cmd, or let init write the eval",
    );
  }
  const seed = request.seed ?? randomInt(1, 2 ** 31 - 1);
  const holdout: Holdout = {
    path: defaultHoldoutPath(context.name, context.testData),
    split: share,
    seed,
    runs: DEFAULTS.holdout.runs,
  };
  const heldOutFile = resolve(root, holdout.path);
  if (existsSync(heldOutFile)) {
    throw refusal(
      `the held-out set "${holdout.path}" exists already: its cases were split off before, and a second split would take more. Use it as it is (--holdout ${holdout.path}), or delete it first`,
    );
  }
  // A split made here before (under another --name, or its held-out file since deleted) left the
  // test data without those cases: splitting it again would hold out a share of what remains.
  if (existsSync(splitRecordPath(join(root, STATE_DIR)))) {
    throw refusal(
      `a held-out set was split off this folder's test data before (${STATE_DIR}/holdout-split.json records it), so it already lacks those cases. Use that set (--holdout PATH), or put the test data back from ${STATE_DIR}/backups/ and delete the record first`,
    );
  }
  const testDataFile = resolve(root, context.testData);
  const text = context.scaffoldTestData || !existsSync(testDataFile) ? null : readFileSync(testDataFile, "utf8");
  const finished = text !== null && (() => {
    const report = inspectTestData(text, testDataFile);
    return report.problems.length === 0 && report.placeholders.length === 0;
  })();
  if (!finished) {
    return {
      ...none,
      holdout,
      evalCommand,
      notes: [
        ...ownEvalNote,
        `${share} of the labelled cases will be held out (seed ${seed}) when baseline first runs on the filled-in test data: the agent never sees them, and the harness scores them at baseline and at each keep.`,
      ],
    };
  }
  const split = splitTestDataText(text!, testDataFile, share, seed);
  if ("problem" in split) throw refusal(`cannot split "${context.testData}": ${split.problem}`);
  return {
    holdout,
    evalCommand,
    writes: [
      { path: heldOutFile, role: "held-out set", content: split.heldOut },
      { path: testDataFile, role: "test data (held-out cases taken out)", content: split.kept },
      {
        path: splitRecordPath(join(root, STATE_DIR)),
        role: "record of the split (never made twice)",
        content: splitRecord(holdout, split),
      },
    ],
    replaced: [testDataFile],
    notes: [
      ...ownEvalNote,
      `Held out ${split.heldCases} of ${
        split.heldCases + split.keptCases
      } cases (seed ${seed}) into ${holdout.path}; ${split.keptCases} stay in ${context.testData}. The agent never sees them; the harness scores them at baseline and at each keep.`,
    ],
    warnings: context.tracked.includes(toPosix(relative(context.repoRoot, testDataFile)))
      ? [heldOutInHistoryWarning(context.testData)]
      : [],
  };
}

function heldOutNote(holdout: Holdout): string {
  return `The held-out set ${holdout.path} is scored with the same eval at baseline and at each keep; the agent's instructions and prompts never name it.`;
}

function refusal(message: string, code = "E_BAD_HOLDOUT"): CliError {
  return new CliError(`${message[0].toUpperCase()}${message.slice(1)}.`, code, EXIT.USAGE);
}

// ---- baseline: the split init could not make ----------------------------------------------------

/** The record of a split made, in the harness's state folder: baseline never splits twice. */
export function splitRecordPath(stateDir: string): string {
  return join(stateDir, "holdout-split.json");
}

export type HoldoutReady = { split: { heldCases: number; keptCases: number } | null; cases: number };

/**
 * Before baseline measures: make the split init deferred (once: the record beside it refuses a
 * second), then check the held-out file is there and usable. Returns what was done; throws one
 * line when the held-out set cannot be used. Called only once the test data has no placeholders.
 */
/** Test data that git tracked with every case keeps the held-out ones in its history. */
export function heldOutInHistoryWarning(testData: string): string {
  return `git tracks "${testData}": its committed versions still hold the held-out cases, where an agent with git can read them. Commit the shortened file (the experiment branch does at baseline); for a strict held-out set, use --holdout with cases that were never committed.`;
}

export function prepareHoldout(
  root: string,
  stateDir: string,
  experiment: Experiment,
  options: { minKeptCases: number } = { minKeptCases: 0 },
): HoldoutReady | null {
  const { holdout } = experiment;
  if (!holdout) return null;
  const file = resolveIn(root, holdout.path);
  const record = splitRecordPath(stateDir);
  let split: HoldoutReady["split"] = null;
  if (!existsSync(file)) {
    if (holdout.split === null) {
      throw new CliError(
        `The held-out set "${holdout.path}" does not exist. Put the file back, or set holdout: null in the experiment file to run without one.`,
        "E_HOLDOUT",
        EXIT.FAILED,
      );
    }
    if (existsSync(record)) {
      throw new CliError(
        `The held-out set "${holdout.path}" was split off the test data already and is now missing; splitting again would take more cases. Put it back (see ${STATE_DIR}/backups/), or set holdout: null in the experiment file.`,
        "E_HOLDOUT",
        EXIT.FAILED,
      );
    }
    if (!experiment.test_data) throw new CliError("holdout.split needs test_data to split.", "E_HOLDOUT", EXIT.FAILED);
    const testDataFile = resolveIn(root, experiment.test_data);
    const text = readFileSync(testDataFile, "utf8");
    const made = splitTestDataText(text, testDataFile, holdout.split, holdout.seed ?? 1);
    if ("problem" in made) {
      throw new CliError(
        `Cannot hold out cases of "${experiment.test_data}": ${made.problem}.`,
        "E_HOLDOUT",
        EXIT.FAILED,
      );
    }
    // Checked before anything is written: a split is made once, so one that would leave too few
    // cases to steer by must be refused while the share can still be changed.
    if (made.keptCases < options.minKeptCases) {
      throw new CliError(
        `Holding out ${made.heldCases} of ${
          made.heldCases + made.keptCases
        } cases (holdout.split ${holdout.split}) would leave ${made.keptCases} in "${experiment.test_data}"; at least ${options.minKeptCases} are needed. Add cases, lower holdout.split in the experiment file, or pass --allow-few; nothing was split.`,
        "E_FEW_CASES",
      );
    }
    // In this order, a kill at any point never leaves held-out cases in the test data the agent
    // is pointed at: the original first (to put back by hand), the record that forbids a second
    // split, the test data without the held-out cases, and only then the held-out file.
    mkdirSync(join(stateDir, "backups"), { recursive: true });
    writeFileAtomic(join(stateDir, "backups", `test-data-before-split${extname(testDataFile)}`), text);
    writeFileAtomic(record, splitRecord(holdout, made));
    writeFileAtomic(testDataFile, made.kept);
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, made.heldOut);
    split = { heldCases: made.heldCases, keptCases: made.keptCases };
  }
  const report = inspectTestDataFile(file);
  const problem = report.problems[0] ??
    (report.placeholders.length ? `it still has placeholders (first: case "${report.placeholders[0].caseId}")` : null);
  if (problem) {
    throw new CliError(`The held-out set "${holdout.path}" cannot be used: ${problem}.`, "E_HOLDOUT", EXIT.FAILED);
  }
  return { split, cases: report.cases };
}

function splitRecord(holdout: Holdout, split: SplitText): string {
  const { path, seed } = holdout;
  const summary = {
    held_out: path,
    seed,
    split: holdout.split,
    held_cases: split.heldCases,
    kept_cases: split.keptCases,
  };
  return JSON.stringify(summary, null, 2) + "\n";
}

// ---- measuring ----------------------------------------------------------------------------------

export type HoldoutMeasure = {
  /** The mean of the runs, rounded like a score; null when a run crashed. */
  score: number | null;
  runs: number[];
  /** Why there is no score (the crash, in words, and its log), or null. */
  note: string | null;
};

/** One run of the eval with AUTORESEARCH_TEST_DATA set to `dataPath`, logged at `logPath`. */
async function runWithTestData(input: {
  root: string;
  experiment: Experiment;
  round: Round;
  dataPath: string;
  logPath: string;
  iteration: "baseline" | number;
  run: string;
}): Promise<EvalRun> {
  const { root, experiment, round } = input;
  const run = await runEval(round.eval.command, {
    cwd: root,
    timeoutS: round.eval.timeout_s,
    logPath: input.logPath,
    ...evalReading(experiment),
    env: { [HOLDOUT_ENV]: input.dataPath },
    runner: evalRunner(experiment.name, round, { iteration: input.iteration, run: input.run }),
  });
  if (run.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
  return run;
}

/** <stateDir>/holdout/logs/round<N>/<label>.log: apart from the iteration logs the loop points at. */
function holdoutLogPath(stateDir: string, round: Round, label: string): string {
  return join(stateDir, "holdout", "logs", `round${round.round}`, `${label}.log`);
}

/**
 * Run the eval `runs` times on the work tree as it is, with the held-out file as its test data.
 * A crash stops the runs and comes back as a note: the held-out set never decides anything.
 * Logs: <stateDir>/holdout/logs/round<N>/<label>-run<i>.log (they hold the held-out cases' ids and errors).
 */
export async function measureHoldout(input: {
  root: string;
  stateDir: string;
  experiment: Experiment;
  round: Round;
  label: string;
  runs: number;
  status?: { update(text: string): void; clear(): void };
}): Promise<HoldoutMeasure> {
  const { root, stateDir, experiment, round } = input;
  const holdout = experiment.holdout!;
  const scores: number[] = [];
  for (let index = 1; index <= input.runs; index++) {
    input.status?.update(`held-out run ${index}/${input.runs}`);
    let run: EvalRun;
    try {
      run = await runWithTestData({
        root,
        experiment,
        round,
        dataPath: resolveIn(root, holdout.path),
        logPath: holdoutLogPath(stateDir, round, `${input.label}-run${index}`),
        // Its label is "baseline" or "iteration<N>"; the job is named after the same iteration.
        iteration: input.label === "baseline" ? "baseline" : Number(input.label.replace(/^iteration/, "")),
        run: `holdout${index}`,
      });
    } finally {
      input.status?.clear();
    }
    if (!run.ok || run.score === null) {
      return {
        score: null,
        runs: scores,
        // The journal is the agent's to read: the note says what happened, not the eval's error
        // text (it may quote a held-out case) nor where the log is.
        note: `held-out run ${index} crashed; the held-out set's logs are for the person running the experiment`,
      };
    }
    scores.push(cleanNumber(run.score) ?? run.score);
  }
  return { score: roundMeasure(mean(scores)), runs: scores, note: null };
}

/** What the eval did with AUTORESEARCH_TEST_DATA naming a file that does not exist. */
export type HoldoutReach =
  /** It failed or printed no score: it reads the variable. */
  | { kind: "reads" }
  /** It scored its own test data: the same cases, or (deterministic) the same score. */
  | { kind: "ignores"; score: number; sameCases: number | null }
  /** A score within the noise of the test data's: it may ignore the variable, or score a missing file as that. */
  | { kind: "unclear"; score: number }
  /** A score its own test data would not give: it reads the variable but scores a missing file. */
  | { kind: "scores_missing_file"; score: number };

/** The test data's runs at baseline, as the probe compares with them. */
export type TestDataRuns = {
  scores: number[];
  /** The eval gave the same score every time (and ran at least twice). */
  deterministic: boolean;
  resolution: number;
  /** The CASE ids its runs printed, or null without CASE lines. */
  caseIds: string[] | null;
};

// A noisy eval's run on a missing file within this many run sd of the test data's mean cannot be
// told from another run on the test data (so the probe says "unclear", a warning, not a refusal).
const SAME_SCORE_SDS = 4;

/**
 * Classify the run on a missing test data file (pure). A failed run read the variable and found
 * nothing. With CASE lines the ids decide: the test data's own ids mean it scored the test data.
 * Without them a deterministic eval's same score does; a noisy eval's score within SAME_SCORE_SDS
 * run sd of the mean (or a lone baseline run's score) could be either, and is unclear.
 * classifyHoldoutReach({ ok: true, score: 0.875, caseIds: null }, { scores: [0.875, 0.875], deterministic: true, ... }) -> ignores
 */
export function classifyHoldoutReach(
  run: { ok: boolean; score: number | null; caseIds: string[] | null },
  testData: TestDataRuns,
): HoldoutReach {
  if (!run.ok || run.score === null) return { kind: "reads" };
  const { score } = run;
  if (testData.caseIds !== null) {
    const own = new Set(testData.caseIds);
    const same = run.caseIds !== null && run.caseIds.length === own.size && run.caseIds.every((id) => own.has(id));
    return same ? { kind: "ignores", score, sameCases: own.size } : { kind: "scores_missing_file", score };
  }
  const { scores, resolution } = testData;
  const average = mean(scores);
  if (average === null) return { kind: "unclear", score };
  const sameScore = Math.abs(score - average) <= resolution / 2;
  if (testData.deterministic) {
    return sameScore ? { kind: "ignores", score, sameCases: null } : { kind: "scores_missing_file", score };
  }
  const sd = sampleStandardDeviation(scores);
  if (sd === null) return { kind: "unclear", score };
  return Math.abs(score - average) <= Math.max(resolution / 2, SAME_SCORE_SDS * sd)
    ? { kind: "unclear", score }
    : { kind: "scores_missing_file", score };
}

/**
 * Run the eval once with AUTORESEARCH_TEST_DATA naming a file that does not exist, to learn whether
 * it reads the variable at all: an eval that does not would score its own test data as the
 * held-out set, and no held-out figure would ever mean anything. Log: baseline-reach.log. The
 * made-up file is removed should the eval have created it.
 */
export async function probeHoldoutReach(input: {
  root: string;
  stateDir: string;
  experiment: Experiment;
  round: Round;
  testData: TestDataRuns;
  status?: { update(text: string): void; clear(): void };
}): Promise<HoldoutReach> {
  const { root, stateDir, experiment, round } = input;
  const holdout = experiment.holdout!;
  // Beside the held-out file's name, in the harness's own folder, so that an eval which maps the
  // variable to a format by its extension still meets a plain "no such file".
  const missing = unusedPath(join(stateDir, "holdout"), `absent-${process.pid}`, extname(holdout.path));
  input.status?.update("held-out check: the eval on a missing test data file");
  try {
    const run = await runWithTestData({
      root,
      experiment,
      round,
      dataPath: missing,
      logPath: holdoutLogPath(stateDir, round, "baseline-reach"),
      iteration: "baseline",
      run: "holdout-reach",
    });
    return classifyHoldoutReach({ ...run, caseIds: run.cases ? Object.keys(run.cases) : null }, input.testData);
  } finally {
    rmSync(missing, { force: true, recursive: true });
    input.status?.clear();
  }
}

/** `<folder>/<stem><extension>`, or `<stem>-2<extension>`, ... : a path nothing is at yet. */
export function unusedPath(folder: string, stem: string, extension: string): string {
  for (let attempt = 1;; attempt++) {
    const path = join(folder, `${stem}${attempt === 1 ? "" : `-${attempt}`}${extension}`);
    if (!existsSync(path)) return path;
  }
}

/** The line fields a measurement gives: holdout_score and holdout_runs, and holdout_note when it failed. */
export function holdoutLineFields(measure: HoldoutMeasure): {
  holdout_score: number | null;
  holdout_runs: number[];
  holdout_note?: string;
} {
  return {
    holdout_score: measure.score,
    holdout_runs: measure.runs,
    ...(measure.note ? { holdout_note: measure.note } : {}),
  };
}

/** Held-out runs per measurement: the recorded count, raised to the baseline's runs when the eval is noisy. */
export function holdoutRuns(holdout: Holdout, deterministic: boolean, baselineRuns: number): number {
  if (holdout.runs > DEFAULTS.holdout.runs || deterministic) return holdout.runs;
  return Math.max(holdout.runs, baselineRuns);
}
