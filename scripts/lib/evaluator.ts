// Runs the eval command once: in its own process group (so a timeout or Ctrl-C
// stops the whole tree), streaming every line to a per-run log a person can
// `tail -f`, parsing the eval contract as it goes. It does not decide anything.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { StringDecoder } from "node:string_decoder";
import { createEvalOutputParser, evaluateFormula, findMetric, type EvalOutput, type FormulaTerm } from "./eval-output.ts";

/** Lines of output kept for the journal and error messages. */
const TAIL_LINES = 20;
/** Grace period between SIGTERM and SIGKILL when stopping an eval, in milliseconds. */
const KILL_GRACE_MS = 2000;

export type EvalRun = {
  ok: boolean;
  score: number | null;
  guard: number | null;
  metrics: Record<string, number>;
  cases: Record<string, number> | null;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  /** Why the run counts as a crash, in words, or null. */
  crashReason: string | null;
  timedOut: boolean;
  interrupted: boolean;
  tail: string;
  logPath: string | null;
};

export type EvalOptions = {
  cwd: string;
  timeoutS: number;
  logPath?: string | null;
  guardMetric?: string | null;
  formula?: FormulaTerm[] | null;
  env?: Record<string, string>;
  onLine?: (line: string) => void;
};

const running = new Set<ChildProcess>();
const stoppedByRequest = new WeakSet<ChildProcess>();

let killOnExitInstalled = false;

/** Stop every eval still running (used by signal handlers); whole process groups. */
export function stopRunningEvals(signal: NodeJS.Signals = "SIGTERM"): void {
  if (!killOnExitInstalled) {
    killOnExitInstalled = true;
    // Signal handlers exit before the grace period ends: an eval that ignores SIGTERM must not outlive us.
    process.on("exit", () => {
      for (const child of running) killGroup(child, "SIGKILL");
    });
  }
  for (const child of running) {
    stoppedByRequest.add(child);
    killGroup(child, signal);
    setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS).unref?.();
  }
}

export function hasRunningEvals(): boolean {
  return running.size > 0;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try { child.kill(signal); } catch { /* already gone */ }
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
};

/** Run a shell command in its own process group, logging and tailing its output. */
export function runProcess(command: string, options: ProcessOptions): Promise<ProcessRun> {
  const started = performance.now();
  const tail: string[] = [];
  let logFd: number | null = null;
  if (options.logPath) {
    mkdirSync(dirname(options.logPath), { recursive: true });
    logFd = openSync(options.logPath, "w");
    writeSync(logFd, `$ ${command}\n`);
  }
  const child = spawn("bash", ["-c", command], {
    cwd: options.cwd,
    detached: true, // own process group: killing -pid reaches grandchildren too
    stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    env: { ...process.env, PYTHONUNBUFFERED: "1", ...options.env },
  });
  running.add(child);
  if (options.input !== undefined) {
    child.stdin!.on("error", () => { /* the command may not read its input */ });
    child.stdin!.end(options.input);
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(child, "SIGTERM");
    setTimeout(() => killGroup(child, "SIGKILL"), KILL_GRACE_MS).unref?.();
  }, options.timeoutS * 1000);

  const pending: Record<string, string> = { stdout: "", stderr: "" };
  // A multi-byte character can be split across chunks; a decoder per stream keeps it whole.
  const decoders = { stdout: new StringDecoder("utf8"), stderr: new StringDecoder("utf8") };
  const acceptLine = (line: string) => {
    const clean = line.replace(/\r$/, "");
    if (clean.trim() === "") return;
    tail.push(clean);
    if (tail.length > TAIL_LINES) tail.shift();
    options.onLine?.(clean);
  };
  const consume = (stream: "stdout" | "stderr", chunk: Buffer) => {
    if (logFd !== null) writeSync(logFd, chunk);
    const lines = (pending[stream] + decoders[stream].write(chunk)).split("\n");
    pending[stream] = lines.pop() ?? "";
    for (const line of lines) acceptLine(line);
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
      for (const stream of ["stdout", "stderr"]) if (pending[stream]) acceptLine(pending[stream]);
      if (logFd !== null) {
        writeSync(logFd, `\n[exit ${exitCode ?? signal}]\n`);
        closeSync(logFd);
      }
      resolve({
        exitCode, signal, durationMs: performance.now() - started, timedOut,
        interrupted: stoppedByRequest.has(child), spawnError, tail: tail.join("\n"), logPath: options.logPath ?? null,
      });
    };
    child.on("error", (error) => finish(null, null, error));
    child.on("close", (code, signal) => finish(code, signal, null));
  });
}

/** Run the eval once and read the eval contract from its output. */
export async function runEval(command: string, options: EvalOptions): Promise<EvalRun> {
  const parser = createEvalOutputParser();
  const run = await runProcess(command, {
    ...options,
    onLine: (line) => {
      parser.line(line);
      options.onLine?.(line);
    },
  });
  return {
    ...summarize(parser.finish(), {
      exitCode: run.exitCode, signal: run.signal, timedOut: run.timedOut, interrupted: run.interrupted,
      spawnError: run.spawnError ?? undefined, durationMs: run.durationMs, timeoutS: options.timeoutS,
      guardMetric: options.guardMetric ?? null, formula: options.formula ?? null,
    }),
    tail: run.tail,
    logPath: run.logPath,
  };
}

type Outcome = {
  exitCode: number | null; signal: string | null; timedOut: boolean; interrupted: boolean; spawnError?: Error;
  durationMs: number; timeoutS: number; guardMetric: string | null; formula: FormulaTerm[] | null;
};

function summarize(output: EvalOutput, outcome: Outcome): Omit<EvalRun, "tail" | "logPath"> {
  let score = output.score;
  if (score === null && outcome.formula) score = evaluateFormula(outcome.formula, output.metrics);
  let crashReason: string | null = null;
  if (outcome.spawnError) crashReason = `could not start the eval: ${outcome.spawnError.message}`;
  else if (outcome.timedOut) crashReason = `timeout after ${outcome.timeoutS} s`;
  else if (outcome.signal) crashReason = `the eval was stopped by ${outcome.signal}`;
  else if (outcome.exitCode === 127) crashReason = "the eval command was not found (exit 127)";
  else if (outcome.exitCode !== 0) crashReason = `the eval exited with code ${outcome.exitCode}`;
  else if (score === null) crashReason = output.scoreProblem ?? "the eval printed no SCORE line";
  return {
    ok: crashReason === null,
    score: crashReason === null ? score : null,
    guard: findMetric(output, outcome.guardMetric),
    metrics: output.metrics,
    cases: output.cases,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    durationMs: outcome.durationMs,
    crashReason,
    timedOut: outcome.timedOut,
    interrupted: outcome.interrupted,
  };
}
