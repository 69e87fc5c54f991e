// Running the incumbent and the candidate as the decision engine asks, until it keeps or
// discards: runs measured before an interruption are resumed, each new run is saved as it
// lands, and the incumbent runs from its own files while the candidate waits in a backup.
// A simplification request (iterate --simplify, the loop's SIMPLIFY: line) has the constrained
// files measured before (the incumbent) and after (the candidate) and handed to the engine.
// It returns the outcome; writing it to the journal and git is the record phase's job.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { decideCandidate, type Verdict } from "../decision/decide.ts";
import { candidateRunCap, type DecisionSetup, type Run } from "../decision/options.ts";
import { decisionOptionsFor, type ReplayedState } from "../decision/state.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { kitCommand } from "../cli/kit.ts";
import { tiebreakValues } from "../process/eval-output.ts";
import { evalRunner } from "../process/eval-runner.ts";
import { type EvalRun, runEval } from "../process/evaluator.ts";
import { evalReading } from "../experiment/objective.ts";
import type { ResultLine } from "../experiment/journal.ts";
import { displayPath } from "../files/paths.ts";
import { restoreBackupReport, saveBackup } from "../files/backup.ts";
import { sha256OrDeleted } from "../files/atomic.ts";
import { fileAtCommit } from "../git/git.ts";
import type { SealKey } from "../integrity/seal.ts";
import { measureFiles, type SizeChange, sizeChange } from "./file-size.ts";
import { type MeasuredRuns, saveMeasuredRuns, takeMeasuredRuns } from "./measured-runs.ts";
import type { Outcome, StepContext } from "./step-context.ts";

/**
 * Safety cap on the engine's requests in one step, whatever it asks: room for a tie route's or an
 * extended candidate's longest run of both versions after the fresh incumbent runs.
 */
function maxRequestsPerStep(options: DecisionSetup): number {
  const longest = Math.max(options.maxTieRuns, candidateRunCap(options), options.maxIncumbentRuns);
  return 2 * longest + options.freshIncumbentRuns + options.maxCandidateRuns;
}
type MeasuredSoFar = Pick<MeasuredRuns, "candidate" | "incumbentRuns" | "runnerRetries">;

/** What the engine decides on: the candidate's identity (which earlier runs must match), the replayed state, the seal. */
type DecisionInput = {
  key: Omit<MeasuredRuns, "candidate" | "incumbentRuns">;
  state: ReplayedState["state"];
  seal: SealKey | null;
  /** How many tests the baseline's test suite counted (baselineTestCount), or null. */
  testsAtBaseline?: number | null;
};

/**
 * How many tests the eval's test suite counted at baseline (the sealed baseline line's
 * tests_total), or null when it is no test suite: a later run that counts another number is a
 * crash, since a test that does not run counts nowhere (evaluator.ts).
 */
export function baselineTestCount(results: readonly ResultLine[]): number | null {
  const total = results.find((line) => line.status === "baseline")?.metrics?.tests_total;
  return typeof total === "number" ? total : null;
}

type Evaluate = (label: "candidate" | "incumbent") => Promise<EvalRun>;

/** Ask the engine, run what it asks, until it keeps or discards. */
export async function runDecision(context: StepContext, input: DecisionInput): Promise<Outcome> {
  const { experiment } = context.loaded;
  const decisionOptions = decisionOptionsFor(experiment);
  const measured = resumeMeasuredRuns(context, input);
  const evaluate = evaluatorFor(context, input.key.iteration, measured, input.testsAtBaseline ?? null);
  const tiebreakMetrics = (experiment.tiebreaks ?? []).map((tiebreak) => tiebreak.metric);
  // Measured once, before any run: the work tree holds the candidate's bytes (checked after every run).
  const simplification = context.options.simplify
    ? measureSimplification(context.loaded.root, context.round.constrained_files, input.key.incumbent)
    : null;
  const request = simplification ? { simplification } : undefined;
  const maxRequests = maxRequestsPerStep(decisionOptions);
  for (let requests = 0; requests < maxRequests; requests++) {
    const verdict = decideCandidate(
      {
        ...input.state,
        incumbentRuns: [...input.state.incumbentRuns, ...measured.incumbentRuns],
        candidateRuns: measured.candidate.map((entry) => entry.run),
      },
      decisionOptions,
      request,
    );
    if (verdict.action === "keep" || verdict.action === "discard" || verdict.action === "guard_fail") {
      return { status: verdict.action, reason: verdict.reason, ...measured, verdict, crash: null, simplification };
    }
    const crash = await runWhatTheEngineAsks(context, { ...input, verdict, measured, evaluate, tiebreakMetrics });
    if (crash) return { ...crash, simplification };
  }
  return {
    status: "discard",
    reason: `no verdict after ${maxRequests} requests for eval runs`,
    ...measured,
    verdict: null,
    crash: null,
    simplification,
  };
}

/** The constrained files' size at the incumbent commit and in the work tree (the candidate). */
export function measureSimplification(root: string, files: string[], incumbent: string): SizeChange {
  const textOf = (bytes: Buffer | null) => (bytes === null ? null : bytes.toString("utf8"));
  const before = measureFiles(files.map((file) => ({ name: file, text: textOf(fileAtCommit(root, incumbent, file)) })));
  const after = measureFiles(files.map((file) => {
    const path = join(root, file);
    return { name: file, text: existsSync(path) ? readFileSync(path, "utf8") : null };
  }));
  return sizeChange(before, after);
}

/** Runs measured for exactly this candidate before an interruption are reused; otherwise none. */
function resumeMeasuredRuns(context: StepContext, input: DecisionInput): MeasuredSoFar {
  const earlier = takeMeasuredRuns(context.stateDir, input.key, input.seal);
  const candidate: Outcome["candidate"] = earlier?.candidate ?? [];
  const incumbentRuns: Run[] = earlier?.incumbentRuns ?? [];
  if (earlier && candidate.length + incumbentRuns.length > 0) {
    context.options.notes(
      `Reusing ${candidate.length} candidate and ${incumbentRuns.length} incumbent run${
        incumbentRuns.length === 1 ? "" : "s"
      } of iteration ${input.key.iteration} measured before an interruption.`,
    );
  }
  return { candidate, incumbentRuns, ...(earlier?.runnerRetries ? { runnerRetries: earlier.runnerRetries } : {}) };
}

/** One eval run of the work tree as it is, logged and shown on the status line; Ctrl-C ends the step. */
function evaluatorFor(
  context: StepContext,
  iteration: number,
  measured: MeasuredSoFar,
  testsAtBaseline: number | null,
): Evaluate {
  const { loaded, round, stateDir, options } = context;
  const logDir = join(stateDir, "logs", `round${round.round}`);
  return async (label) => {
    const index = label === "candidate" ? measured.candidate.length + 1 : measured.incumbentRuns.length + 1;
    const logPath = join(logDir, `iteration${iteration}-${label}${index}.log`);
    options.status.update(`iteration ${iteration}: ${label} run ${index} (tail -f ${displayPath(logPath)})`);
    const release = await options.evalSlot?.();
    let run: EvalRun;
    try {
      run = await runEval(round.eval.command, {
        cwd: loaded.root,
        timeoutS: round.eval.timeout_s,
        logPath,
        ...evalReading(loaded.experiment),
        testsAtBaseline,
        runner: evalRunner(loaded.experiment.name, round, {
          iteration,
          run: `${label}${index}`,
          notes: options.notes,
          status: options.status,
        }),
      });
    } finally {
      release?.();
    }
    // Counted as they happen (a crashed run's too) and saved with the runs, so a resumed step keeps them.
    if (run.runnerRetries) measured.runnerRetries = (measured.runnerRetries ?? 0) + run.runnerRetries;
    options.status.clear();
    if (run.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
    return run;
  };
}

/**
 * Run the incumbent, the candidate or both, as the verdict asks. Each run must have measured
 * the candidate's bytes and is saved as it lands; a crash ends the step (returned), else null.
 */
async function runWhatTheEngineAsks(
  context: StepContext,
  input: DecisionInput & { verdict: Verdict; measured: MeasuredSoFar; evaluate: Evaluate; tiebreakMetrics: string[] },
): Promise<Outcome | null> {
  const { loaded, round, stateDir } = context;
  const { key, seal, verdict, measured, evaluate, tiebreakMetrics } = input;
  const remember = () => saveMeasuredRuns(stateDir, { ...key, ...measured }, seal);
  if (verdict.action === "run_incumbent" || verdict.action === "run_both") {
    const run = await runIncumbent(
      loaded.root,
      stateDir,
      round.constrained_files,
      key.incumbent,
      () => evaluate("incumbent"),
    );
    if (!run.ok) return crashedOutcome(run, "the incumbent's re-run crashed (a flaky eval?): ", verdict, measured);
    requireCandidateUnchanged(loaded.root, key.candidateHashes);
    measured.incumbentRuns.push(toRun(run, tiebreakMetrics));
    remember();
  }
  if (verdict.action === "run_candidate" || verdict.action === "run_both") {
    const run = await evaluate("candidate");
    if (!run.ok) return crashedOutcome(run, "", verdict, measured);
    requireCandidateUnchanged(loaded.root, key.candidateHashes);
    measured.candidate.push({ run: toRun(run, tiebreakMetrics), eval: run });
    remember();
  }
  return null;
}

/** A crashed eval run ends the step as a crash, keeping the runs measured before it. */
function crashedOutcome(run: EvalRun, who: string, verdict: Verdict | null, measured: MeasuredSoFar): Outcome {
  return { status: "crash", reason: `${who}${run.crashReason}`, ...measured, verdict, crash: run };
}

/** An eval run as the engine reads it; `tiebreaks` only when the experiment names tiebreak metrics. */
export function toRun(run: EvalRun, tiebreakMetrics: string[] = []): Run {
  return {
    score: run.score!,
    guard: run.guard,
    ...(run.cases ? { cases: run.cases } : {}),
    ...(tiebreakMetrics.length ? { tiebreaks: tiebreakValues(run.metrics, tiebreakMetrics) } : {}),
  };
}

/**
 * Run the eval on the incumbent's files while the candidate waits in a kill-safe backup.
 * A file someone edits meanwhile is not overwritten when the candidate comes back.
 */
async function runIncumbent(
  root: string,
  stateDir: string,
  files: string[],
  incumbent: string,
  evaluate: () => Promise<EvalRun>,
): Promise<EvalRun> {
  const saved: { file: string; content: Buffer; temporary: Buffer }[] = [];
  for (const file of files) {
    const absolute = join(root, file);
    const content = existsSync(absolute) ? readFileSync(absolute) : Buffer.alloc(0);
    saved.push({ file: absolute, content, temporary: fileAtCommit(root, incumbent, file) ?? content });
  }
  saveBackup(stateDir, saved, "incumbent re-run");
  try {
    for (const entry of saved) writeFileSync(entry.file, entry.temporary);
    return await evaluate();
  } finally {
    const restored = restoreBackupReport(stateDir);
    if (restored.editedMeanwhile.length) throw changedDuringEvaluation(restored.note!);
  }
}

function changedDuringEvaluation(detail: string): CliError {
  return new CliError(
    `The constrained file changed while it was being evaluated, so no verdict holds for it; nothing was recorded. ${detail} Run ${
      kitCommand("iterate")
    } again.`,
    "E_RACE",
    EXIT.FAILED,
  );
}

/** Every eval run must have measured the same candidate bytes. */
function requireCandidateUnchanged(root: string, candidateHashes: Record<string, string>): void {
  for (const [file, hash] of Object.entries(candidateHashes)) {
    if (sha256OrDeleted(join(root, file)) !== hash) throw changedDuringEvaluation(`"${file}" is left as it is now.`);
  }
}
