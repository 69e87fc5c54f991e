// Runs the eval command once: in its own process group (so a timeout or Ctrl-C
// stops the whole tree), streaming every byte to a per-run log a person can
// `tail -f`, parsing the eval contract line by line as it goes, and recording the
// process in the lock holder's registry so a harness that dies leaves no orphan
// behind (registry.ts). With eval.runner it runs the eval as a scheduler's job instead,
// retrying the runner's own failures (eval-runner.ts tells them from the eval's). It does
// not decide anything. Memory stays bounded whatever the eval prints: only the first
// MAX_LINE_CHARS of a line are parsed. Not zx's $: it keeps all output in memory and
// costs 26-68 ms to import (measured, see the README).
import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { isTestSummaryMetric } from "./test-summary.ts";
import {
  createEvalOutputParser,
  type EvalOutput,
  evaluateFormula,
  findMetric,
  type FormulaTerm,
  NO_SCORE_LINE,
} from "./eval-output.ts";
import {
  createRunnerTracker,
  evalEnd,
  type EvalRunner,
  type LineRole,
  newRunnerMarker,
  RUNNER_RETRY_BACKOFF_S,
  runnerCommand,
  runnerFailure,
  runnerNotFound,
  runnerWrapper,
} from "./eval-runner.ts";
import { forgetProcess, KILL_GRACE_MS, type ProcessKind, processRegistry, recordProcess } from "./registry.ts";

/**
 * How long a command's leftovers may keep its output pipes open after it exits before they are
 * stopped: time for a logging filter (exec > >(tee log)) to write its last lines.
 */
const LEFTOVER_GRACE_MS = 1_000;

/** Lines of output kept for the journal and error messages. */
const TAIL_LINES = 20;
/** Longest line kept in the tail, in characters; the log has the rest. */
const TAIL_LINE_CHARS = 500;
/** Longest part of one line kept for parsing, in characters (64 KiB of ASCII); the log has the rest. */
export const MAX_LINE_CHARS = 64 * 1024;

export type EvalRun = {
  ok: boolean;
  score: number | null;
  guard: number | null;
  metrics: Record<string, number>;
  cases: Record<string, number> | null;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** The named line read as the score because the eval printed no SCORE line (eval-output.ts), or null. */
  scoreLine: string | null;
  /** Why the run counts as a crash, in words, or null. */
  crashReason: string | null;
  /** A failed run's last meaningful error line (quoted in `crashReason`), or null. */
  errorLine: string | null;
  timedOut: boolean;
  interrupted: boolean;
  tail: string;
  logPath: string | null;
  /** Attempts eval.runner made again after its own failures (absent: none, or no runner). */
  runnerRetries?: number;
};

export type EvalOptions = {
  cwd: string;
  timeoutS: number;
  logPath?: string | null;
  guardMetric?: string | null;
  /** The experiment's metric: a run without a SCORE line that printed it is told to read the score from it. */
  metric?: string | null;
  formula?: FormulaTerm[] | null;
  /** How many tests the suite counted at baseline: a run whose score is its pass rate must count as many. */
  testsAtBaseline?: number | null;
  /**
   * Read the score from these named metrics (one name, or a formula's terms) instead of the SCORE
   * line: the objective changed after the eval was written (next-round --metric). CASE lines are
   * then left out, since they split SCORE, not this score.
   */
  scoreFrom?: FormulaTerm[] | null;
  env?: Record<string, string>;
  onLine?: (line: string) => void;
  /** Where the run is recorded while it lasts; default: the lock holder's state dir; null: nowhere. */
  stateDir?: string | null;
  /** Run the eval as a job through this runner (eval.runner); null or absent: run it here. */
  runner?: EvalRunner | null;
};

const running = new Set<ChildProcess>();
const stoppedByRequest = new WeakSet<ChildProcess>();
const records = new Map<ChildProcess, string>();

let killOnExitInstalled = false;

/** Stop every eval still running (used by signal handlers); whole process groups. */
export function stopRunningEvals(signal: NodeJS.Signals = "SIGTERM"): void {
  if (!killOnExitInstalled) {
    killOnExitInstalled = true;
    // Signal handlers exit before the grace period ends: an eval that ignores SIGTERM must not outlive us.
    process.on("exit", () => {
      for (const child of running) {
        killGroup(child, "SIGKILL");
        const record = records.get(child);
        if (record) forgetProcess(record);
      }
    });
  }
  for (const child of running) {
    stoppedByRequest.add(child);
    killGroup(child, signal);
    setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS).unref?.();
  }
}

/** Whether the child's process group still has a member (signal 0 reaches the group, sends nothing). */
function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  }
}

export type ProcessRun = {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  timedOut: boolean;
  interrupted: boolean;
  spawnError: Error | null;
  tail: string;
  logPath: string | null;
};

export type ProcessOptions = {
  cwd: string;
  timeoutS: number;
  logPath?: string | null;
  env?: Record<string, string>;
  /** Text for the process's stdin (closed right after); none: stdin is /dev/null. */
  input?: string;
  onLine?: (line: string) => void;
  /** Where the process is recorded while it runs; default: the lock holder's state dir; null: nowhere. */
  stateDir?: string | null;
  /** What the process is, for the note if a later run has to stop it. */
  kind?: ProcessKind;
  /** The log's first line; default: `$ command`. */
  logHeader?: string;
  /** Add to the log instead of replacing it (a new attempt of the same run). */
  appendLog?: boolean;
  /** Whose a line is; only "eval" lines reach the tail and onLine (the log has every line). */
  lineRole?: (stream: "stdout" | "stderr", line: string) => LineRole;
};

export type LineEnd = { frame: boolean; droppedChars: number };

/**
 * Split a byte stream into lines in linear time, keeping at most MAX_LINE_CHARS of a
 * line. `\r` ends a line too (`frame`: a progress bar redrawing itself), `\r\n` ends
 * one plain line. Example: "a\rb\r\nc" gives a (frame), b, then c on finish().
 */
export function createLineSplitter(onLine: (line: string, end: LineEnd) => void) {
  const decoder = new StringDecoder("utf8"); // keeps a character split across chunks whole
  let partial = "";
  let droppedChars = 0;
  let afterReturn = false; // the last chunk ended in \r: the next may start with its \n
  const take = (text: string, from: number, to: number) => {
    const room = MAX_LINE_CHARS - partial.length;
    if (room > 0) partial += text.slice(from, Math.min(to, from + room));
    droppedChars += Math.max(0, to - from - Math.max(room, 0));
  };
  const emit = (frame: boolean) => {
    const line = partial;
    const dropped = droppedChars;
    partial = "";
    droppedChars = 0;
    onLine(line, { frame, droppedChars: dropped });
  };
  const split = (text: string) => {
    if (text === "") return; // half a character: wait for the rest
    let start = 0;
    if (afterReturn) {
      afterReturn = false;
      if (text.startsWith("\n")) start = 1;
      emit(start === 0);
    }
    const lineBreak = /[\r\n]/g;
    lineBreak.lastIndex = start;
    for (let match = lineBreak.exec(text); match; match = lineBreak.exec(text)) {
      const at = match.index;
      take(text, start, at);
      start = at + 1;
      if (text[at] === "\n") emit(false);
      else if (at + 1 === text.length) afterReturn = true;
      else if (text[at + 1] === "\n") {
        start = at + 2;
        emit(false);
      } else emit(true);
      lineBreak.lastIndex = start;
    }
    take(text, start, text.length);
  };
  return {
    write(chunk: Buffer): void {
      split(decoder.write(chunk));
    },
    finish(): void {
      split(decoder.end());
      if (afterReturn) {
        afterReturn = false;
        emit(false);
      }
      if (partial || droppedChars) emit(false);
    },
  };
}

/** A tail line: capped, saying how long the line really was. */
function tailLine(line: string, droppedChars: number): string {
  const length = line.length + droppedChars;
  if (length <= TAIL_LINE_CHARS) return line;
  return `${line.slice(0, TAIL_LINE_CHARS)} … (cut: the line has ${length} characters; the log has it all)`;
}

/** Run a shell command in its own process group, logging and tailing its output. */
export function runProcess(command: string, options: ProcessOptions): Promise<ProcessRun> {
  const started = performance.now();
  const tail: string[] = [];
  let logFd: number | null = null;
  if (options.logPath) {
    mkdirSync(dirname(options.logPath), { recursive: true });
    logFd = openSync(options.logPath, options.appendLog ? "a" : "w");
    writeSync(logFd, `${options.logHeader ?? `$ ${command}`}\n`);
  }
  const child = spawn("bash", ["-c", command], {
    cwd: options.cwd,
    detached: true, // own process group: killing -pid reaches grandchildren too
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1", ...options.env },
  });
  running.add(child);
  const registry = options.stateDir === undefined ? processRegistry() : options.stateDir;
  if (registry !== null && child.pid !== undefined) {
    records.set(child, recordProcess(registry, { pid: child.pid, kind: options.kind ?? "command", command }));
  }
  if (options.input !== undefined) {
    child.stdin!.on("error", () => {/* the command may not read its input */});
    child.stdin!.end(options.input);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, "SIGTERM");
    setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS).unref?.();
  }, options.timeoutS * 1000);

  // Each stream's last progress frame in the tail, by its push count, so the next line replaces it.
  const frameAt: Record<string, number | null> = { stdout: null, stderr: null };
  let pushed = 0;
  const acceptLine = (stream: "stdout" | "stderr", line: string, end: LineEnd) => {
    if (line.trim() === "") return;
    if (options.lineRole && options.lineRole(stream, line) !== "eval") return;
    const shown = tailLine(line, end.droppedChars);
    const frame = frameAt[stream];
    let sequence: number;
    if (frame !== null && pushed - frame < tail.length) {
      tail[tail.length - 1 - (pushed - frame)] = shown;
      sequence = frame;
    } else {
      tail.push(shown);
      if (tail.length > TAIL_LINES) tail.shift();
      sequence = ++pushed;
    }
    frameAt[stream] = end.frame ? sequence : null;
    options.onLine?.(line);
  };
  const splitters = {
    stdout: createLineSplitter((line, end) => acceptLine("stdout", line, end)),
    stderr: createLineSplitter((line, end) => acceptLine("stderr", line, end)),
  };
  const consume = (stream: "stdout" | "stderr", chunk: Buffer) => {
    if (logFd !== null) writeSync(logFd, chunk);
    splitters[stream].write(chunk);
  };
  child.stdout!.on("data", (chunk: Buffer) => consume("stdout", chunk));
  child.stderr!.on("data", (chunk: Buffer) => consume("stderr", chunk));

  return new Promise((resolve) => {
    let settled = false;
    const finish = (exitCode: number | null, signal: string | null, spawnError: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      running.delete(child);
      const record = records.get(child);
      if (record) forgetProcess(record);
      records.delete(child);
      splitters.stdout.finish();
      splitters.stderr.finish();
      if (logFd !== null) {
        writeSync(logFd, `\n[exit ${exitCode ?? signal}]\n`);
        closeSync(logFd);
      }
      resolve({
        exitCode,
        signal,
        durationMs: performance.now() - started,
        timedOut,
        interrupted: stoppedByRequest.has(child),
        spawnError,
        tail: tail.join("\n"),
        logPath: options.logPath ?? null,
      });
    };
    child.on("error", (error) => finish(null, null, error));
    // A process the command left in its group that still holds the output pipes (a server started
    // with &, a watcher) would keep the call from ending until it did, or the timeout hit. Given
    // LEFTOVER_GRACE_MS to let go (a `exec > >(tee log)` filter finishing the last lines), it is
    // stopped. One that let go of the pipes (nohup server >/dev/null &) is not the call's business.
    let leftovers: ReturnType<typeof setTimeout> | null = null;
    child.on("exit", () => {
      leftovers = setTimeout(() => {
        if (settled || !groupAlive(child)) return;
        killGroup(child, "SIGTERM");
        setTimeout(() => {
          if (groupAlive(child)) killGroup(child, "SIGKILL");
        }, KILL_GRACE_MS).unref?.();
      }, LEFTOVER_GRACE_MS);
    });
    child.on("close", (code, signal) => {
      if (leftovers) clearTimeout(leftovers);
      finish(code, signal, null);
    });
  });
}

/**
 * What every eval run finds in its environment besides the kit's own variables. No bytecode cache:
 * Python's .pyc check reads a file's mtime in whole seconds and its size, so a constrained file
 * rewritten within the second at the same size (BIAS = 5.0 -> 7.0, an incumbent swapped in and
 * out) would be run as its stale cached code.
 */
const EVAL_ENVIRONMENT = { PYTHONUNBUFFERED: "1", PYTHONDONTWRITEBYTECODE: "1" };

/** Run the eval once and read the eval contract from its output. */
export async function runEval(command: string, options: EvalOptions): Promise<EvalRun> {
  if (options.runner) return await runEvalThroughRunner(command, options.runner, options);
  const parser = createEvalOutputParser(options.metric ?? null, command);
  const run = await runProcess(command, {
    ...options,
    env: { ...EVAL_ENVIRONMENT, ...options.env },
    kind: "eval",
    onLine: (line) => {
      parser.line(line);
      options.onLine?.(line);
    },
  });
  return evalRunOf(parser.finish(), run, run, options);
}

function evalRunOf(
  output: EvalOutput,
  run: ProcessRun,
  ended: { exitCode: number | null; signal: string | null },
  options: EvalOptions,
): EvalRun {
  return {
    ...summarize(output, {
      exitCode: ended.exitCode,
      signal: ended.signal,
      timedOut: run.timedOut,
      interrupted: run.interrupted,
      spawnError: run.spawnError ?? undefined,
      durationMs: run.durationMs,
      timeoutS: options.timeoutS,
      guardMetric: options.guardMetric ?? null,
      formula: options.formula ?? null,
      scoreFrom: options.scoreFrom ?? null,
      testsAtBaseline: options.testsAtBaseline ?? null,
      tail: run.tail,
      cwd: options.cwd,
    }),
    tail: run.tail,
    logPath: run.logPath,
  };
}

/**
 * The eval as a job: the runner's command runs a wrapper that reports the eval's start and exit
 * status in marker lines. An end marker means the eval ran to its end: its own status decides, as
 * without a runner. No end marker (job cancelled, node lost, queue refused) is the runner's
 * failure: tried again up to `runner.retries` times, each attempt appended to the same log, and a
 * crash that says so only when none is left. A timeout or an interruption ends it as without a runner.
 */
async function runEvalThroughRunner(command: string, runner: EvalRunner, options: EvalOptions): Promise<EvalRun> {
  for (let attempt = 1;; attempt++) {
    const marker = newRunnerMarker();
    const tracker = createRunnerTracker(marker);
    const script = runnerWrapper(command, marker, { ...EVAL_ENVIRONMENT, ...options.env });
    const parser = createEvalOutputParser(options.metric ?? null, command);
    const run = await runProcess(runnerCommand(runner.template, script, runner.job), {
      ...options,
      // The wrapper is the same every time but for its marker: the log shows the eval and the job.
      logHeader: `$ ${command}\n# attempt ${attempt}, through eval.runner: ${
        runnerCommand(runner.template, "<the eval above, wrapped to report its exit status>", runner.job)
      }`,
      kind: "eval",
      appendLog: attempt > 1,
      lineRole: tracker.role,
      onLine: (line) => {
        parser.line(line);
        options.onLine?.(line);
      },
    });
    const report = tracker.finish();
    const retried = attempt > 1 ? { runnerRetries: attempt - 1 } : {};
    if (report.evalStatus !== null || run.timedOut || run.interrupted || run.spawnError) {
      return {
        ...evalRunOf(parser.finish(), run, report.evalStatus === null ? run : evalEnd(report.evalStatus), options),
        ...retried,
      };
    }
    const failure = runnerFailure(report, run.exitCode, run.signal);
    const left = runner.retries - (attempt - 1);
    if (left <= 0 || runnerNotFound(report, run.exitCode)) {
      const reason = runnerNotFound(report, run.exitCode)
        ? `the runner's command was not found: ${failure}`
        : `the runner failed ${attempt === 1 ? "once" : `${attempt} times`} without the eval finishing (${
          attempt === 1 ? "" : "last: "
        }${failure})`;
      appendToLog(run.logPath, `[runner failure: ${failure}; no retry left]\n`);
      return {
        ...evalRunOf(parser.finish(), run, run, options),
        ...retried,
        ok: false,
        score: null,
        crashReason: reason,
        errorLine: report.runnerLines.at(-1) ?? null,
      };
    }
    const waitS = RUNNER_RETRY_BACKOFF_S * attempt;
    appendToLog(run.logPath, `[runner failure: ${failure}; retry ${attempt} of ${runner.retries} in ${waitS} s]\n`);
    const { job } = runner;
    runner.status?.clear();
    runner.notes?.(
      `The runner failed before the eval finished (${
        job.iteration === "baseline" ? "baseline" : `iteration ${job.iteration}`
      } ${job.run}): ${failure}; retry ${attempt} of ${runner.retries} in ${waitS} s, not counted as a crash.`,
    );
    await new Promise((resolve) => setTimeout(resolve, waitS * 1000));
  }
}

function appendToLog(logPath: string | null, text: string): void {
  if (logPath === null) return;
  try {
    appendFileSync(logPath, text);
  } catch { /* the log is for people; a failed note must not fail the run */ }
}

type Outcome = {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  interrupted: boolean;
  spawnError?: Error;
  durationMs: number;
  timeoutS: number;
  guardMetric: string | null;
  formula: FormulaTerm[] | null;
  scoreFrom: FormulaTerm[] | null;
  testsAtBaseline: number | null;
  tail: string;
  cwd: string;
};

function summarize(output: EvalOutput, outcome: Outcome): Omit<EvalRun, "tail" | "logPath"> {
  let score = output.score;
  let scoreProblem = output.scoreProblem;
  let cases = output.cases;
  let scoreLine = output.scoreLine;
  if (outcome.scoreFrom) {
    scoreLine = null;
    score = evaluateFormula(outcome.scoreFrom, output.metrics);
    const missing = outcome.scoreFrom.filter((term) => !(term.metric.toLowerCase() in output.metrics));
    scoreProblem = score === null
      ? `the eval printed no ${missing.map((term) => term.metric).join(", ")} line, which is the score this round`
      : null;
    cases = null;
  } else if (score === null && outcome.formula) score = evaluateFormula(outcome.formula, output.metrics);
  const source = outcome.scoreFrom ?? (output.score === null ? outcome.formula : null) ??
    (scoreLine ? [{ weight: 1, metric: scoreLine }] : null);
  let crashReason: string | null = null;
  let errorLine: string | null = null;
  if (outcome.spawnError) crashReason = `could not start the eval: ${outcome.spawnError.message}`;
  else if (outcome.timedOut) crashReason = `timeout after ${outcome.timeoutS} s`;
  else if (outcome.signal) crashReason = `the eval was stopped by ${outcome.signal}`;
  else if (outcome.exitCode === 127) crashReason = "the eval command was not found (exit 127)";
  else if (outcome.exitCode !== 0 && !failingTestsExplainExit(output, source)) {
    // The exit code alone says nothing a person can act on; the error the eval printed does.
    errorLine = lastErrorLine(outcome.tail, outcome.cwd);
    crashReason = `the eval exited with code ${outcome.exitCode}${errorLine === null ? "" : ` ("${errorLine}")`}`;
  } else if (score === null) crashReason = scoreProblem ?? NO_SCORE_LINE;
  else crashReason = testCountProblem(output, source, outcome.testsAtBaseline);
  return {
    ok: crashReason === null,
    score: crashReason === null ? score : null,
    scoreLine,
    guard: findMetric(output, outcome.guardMetric),
    metrics: output.metrics,
    cases,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    durationMs: outcome.durationMs,
    crashReason,
    errorLine,
    timedOut: outcome.timedOut,
    interrupted: outcome.interrupted,
  };
}

/**
 * A test suite exits non-zero because some of its tests failed: when the eval command runs a test
 * runner and the score is read from its summary (pass_rate, tests_failed ...), those failures are
 * the measurement, not a crash. A runner that could not run the suite (a collection error) still crashes.
 */
function failingTestsExplainExit(output: EvalOutput, source: FormulaTerm[] | null): boolean {
  const tests = output.tests;
  if (!tests || output.testRunner === null || tests.interrupted || tests.failed === 0) return false;
  return readsTestCounts(source);
}

/**
 * Why a score read from a test summary does not compare with the baseline's: the suite counted
 * another number of tests. Tests that stop running (an import a test file needs, a runner that
 * stops at a failing binary) would otherwise raise the pass rate, and tests the code generates
 * would add easy passes.
 */
function testCountProblem(output: EvalOutput, source: FormulaTerm[] | null, atBaseline: number | null): string | null {
  if (atBaseline === null || !output.tests || !readsTestCounts(source)) return null;
  const total = output.tests.passed + output.tests.failed + output.tests.skipped;
  if (total === atBaseline) return null;
  return `the test suite counted ${total} tests against ${atBaseline} at baseline (${output.tests.passed} passed, ${output.tests.failed} failed, ${output.tests.skipped} skipped): a pass rate compares only the same tests`;
}

function readsTestCounts(source: FormulaTerm[] | null): boolean {
  return Boolean(source?.length) &&
    source!.every((term) => isTestSummaryMetric(term.metric));
}

// What the last meaningful error line is, read from a run's output tail. Python prints
// `  File "x.py", line 3` frames, the source line, caret markers, then `KeyError: 'k'`; Node
// prints `TypeError [CODE]: message` then `    at f (/x.js:2:7)` frames; Bun prints `2 | source`,
// a caret, `error: message`, frames, and a `Bun v1.x` banner; Deno prints
// `error: Uncaught (in promise) Error: message`.
const TERMINAL_ESCAPE = /\x1b\[[0-9;?]*[A-Za-z]/g;
const PYTHON_FRAME = /^File "([^"]+)", line (\d+)/;
const JS_FRAME = /^at (?:.*? \()?((?:file:\/\/)?[^\s()]+?):(\d+)(?::\d+)?\)?$/;
const BUN_SOURCE = /^(\d+) \| (.*)$/;
const ERROR_LINE =
  /^(?:error: |Uncaught (?:\(in promise\) )?)*(?:(?:[A-Za-z_$][\w$.]*)?(?:Error|Exception|Exit|Interrupt)(?: \[[\w-]+\])?(?::|$)|error:)/;
const NOT_A_MESSAGE = [
  /^Traceback \(most recent call last\):$/,
  /^(?:During handling of the above exception|The above exception was the direct cause)/,
  /^[\s\-=_*~^.#|+<>]*$/, // separators and caret markers
  /^(?:Bun|Node\.js) v\d/, // runtime banners
  /^(?:SCORE|GUARD):|^CASE\s|^[\w@.\-/ ]+:\s*[-+\d.eE]+$/, // the eval contract's own lines
  PYTHON_FRAME,
  JS_FRAME,
  BUN_SOURCE,
];
const ERROR_LINE_CHARS = 240;

/**
 * The last meaningful error line of an eval's output, with where it happened when a frame
 * says so: a Python `XxxError: message` or a JS `Error: ...` line (the last one wins: a chained
 * exception ends with its cause's consequence), else the last line that is not a traceback
 * frame, separator or contract line. Paths are shown relative to `cwd`.
 * `  File "/r/ranker.py", line 3` / `    W = = 1` / `SyntaxError: invalid syntax` ->
 * "SyntaxError: invalid syntax (ranker.py line 3: W = = 1)". Null when nothing is left.
 */
export function lastErrorLine(tail: string, cwd: string | null = null): string | null {
  const lines = tail.split("\n").map((line) => line.replace(TERMINAL_ESCAPE, "").trim());
  const meaningful = (line: string) => !NOT_A_MESSAGE.some((pattern) => pattern.test(line));
  let at = lines.findLastIndex((line) => ERROR_LINE.test(line));
  if (at === -1) at = lines.findLastIndex(meaningful);
  if (at === -1) return null;
  const message = lines[at].replace(/^(?:error: )?Uncaught (?:\(in promise\) )?/, "");
  const where = pythonLocation(lines, at, cwd) ?? javascriptLocation(lines, at, cwd);
  const text = where === null ? message : `${message} (${where})`;
  return text.length > ERROR_LINE_CHARS ? `${text.slice(0, ERROR_LINE_CHARS - 1)}…` : text;
}

/** The innermost Python frame above the error line, with its source line when the traceback shows it. */
function pythonLocation(lines: string[], errorAt: number, cwd: string | null): string | null {
  for (let index = errorAt - 1; index >= 0; index--) {
    const frame = PYTHON_FRAME.exec(lines[index]);
    if (!frame) continue;
    const source = lines[index + 1] ?? "";
    const shown = index + 1 < errorAt && /\w/.test(source) && !PYTHON_FRAME.test(source) ? `: ${source}` : "";
    return `${shownPath(frame[1], cwd)} line ${frame[2]}${shown}`;
  }
  return null;
}

/** The first JS stack frame under the error line, with Bun's `N | source` line above it when it is that line. */
function javascriptLocation(lines: string[], errorAt: number, cwd: string | null): string | null {
  for (let index = errorAt + 1; index < lines.length; index++) {
    const frame = JS_FRAME.exec(lines[index]);
    if (!frame) continue;
    let shown = "";
    for (let above = errorAt - 1; above >= 0 && shown === ""; above--) {
      const source = BUN_SOURCE.exec(lines[above]);
      if (!source) continue;
      if (source[1] === frame[2] && /\w/.test(source[2])) shown = `: ${source[2].trim()}`;
      break; // only the source line nearest the error can be the one that failed
    }
    return `${shownPath(frame[1], cwd)} line ${frame[2]}${shown}`;
  }
  return null;
}

function shownPath(path: string, cwd: string | null): string {
  const plain = path.replace(/^file:\/\//, "");
  if (cwd !== null) {
    const prefix = cwd.endsWith("/") ? cwd : `${cwd}/`;
    if (plain.startsWith(prefix)) return plain.slice(prefix.length);
  }
  return plain;
}
