// The baseline's last phase: hash the frozen files and write the baseline — the journal's
// header and baseline line, sealed (the old journal backed up), the experiment file, the
// min-delta in the instructions, the commit of those two files (commitHarnessState, shared with
// next-round) and the snapshot the first iteration's scope check compares against — then
// return the report. It runs no eval; every figure comes from the phases before.
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { harnessOrConstrained, saveSnapshot, snapshotPath, takeSnapshot } from "../git/snapshot.ts";
import type { EvalRun } from "../process/evaluator.ts";
import { tiebreakValues } from "../process/eval-output.ts";
import { replaceRound, saveExperiment } from "../experiment/experiment-file.ts";
import type { Baseline, Experiment, Round } from "../experiment/schema.ts";
import { resolveIn } from "../files/paths.ts";
import { CliError } from "../cli/errors.ts";
import { commitWorkTreeFilesOn, fileDiffersFromCommit, headCommit, isInCommit, shortCommit } from "../git/git.ts";
import { moveRef, syncIndexWithHead } from "../iterate/pending-step.ts";
import { hashFrozenFiles, measurementFields, saveMeasurementRecord } from "../integrity/frozen-files.ts";
import { sealed, sealKey } from "../integrity/seal.ts";
import { type ConfigLine, journalHeaderFor, type ResultLine, writeJournalHeader } from "../experiment/journal.ts";
import { median } from "../decision/stats.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { fileNameTimestamp, journalTimestamp } from "../text/timestamp.ts";
import { formatDelta, formatMetric } from "../text/number-format.ts";
import { isRelativeGuard } from "../experiment/guard.ts";
import { holdoutLineFields, splitRecordPath } from "../harness/holdout-set.ts";
import { estimateRound, round3 } from "./measure.ts";
import {
  type BaselineReport,
  type Calibration,
  type Context,
  type Measured,
  type Preflight,
  type Probed,
  toReport,
} from "./report.ts";

/**
 * Hash the frozen files and write the baseline: the journal's header and baseline line
 * (the old journal backed up), the experiment file, the instructions' min-delta, and the
 * snapshot the first iteration's scope check compares against.
 */
export async function record(
  context: Context,
  ready: Preflight,
  measured: Measured,
  probed: Probed,
): Promise<BaselineReport> {
  const { loaded, round, stateDir, journalPath, options, warn } = context;
  const { experiment, root } = loaded;
  const { calibration, evalRuns, guard } = measured;
  const hashes = hashFrozenFiles(root, ready.frozen);
  for (const [path, hash] of Object.entries(hashes)) {
    if (hash === "missing") warn(`frozen file "${path}" does not exist; it is recorded as missing.`);
  }
  const estimate = estimateRound(evalRuns, calibration, experiment.budget.iterations);
  if (estimate.note) warn(estimate.note);

  const shortHead = await shortCommit(root, ready.commit);
  const baseline: Baseline = {
    score: calibration.median,
    mean: calibration.mean,
    sd: calibration.sd,
    runs: calibration.runs,
    guard_score: guard?.score ?? null,
    ...(guard ? { guard_mean: guard.mean } : {}), // a relative guard resolves against it (baselineGuardFigure)
    deterministic: calibration.deterministic,
    min_detectable_effect: calibration.minDetectableEffect,
    min_delta: calibration.recommendedMinDelta,
    eval_seconds: estimate.eval_seconds,
    commit: ready.commit,
    measured_at: new Date().toISOString(),
    ...(measured.holdout
      ? { holdout_score: measured.holdout.measure.score, holdout_runs: measured.holdout.measure.runs }
      : {}),
  };
  const updatedRound: Round = { ...round, baseline, integrity: hashes };
  const updated: Experiment = {
    ...replaceRound(experiment, updatedRound),
    branch: options.branch ? ready.branch : experiment.branch,
    holdout: experiment.holdout && measured.holdout
      ? { ...experiment.holdout, runs: measured.holdout.runsPerMeasure }
      : experiment.holdout,
  };

  const backup = ready.done > 0 || ready.journal.results.length > 0 ? backupJournal(stateDir, journalPath) : null;
  const measurement = saveMeasurementRecord(stateDir, round.round, measurementFields(updated, updatedRound));
  // The journal is the agent's to read: the held-out file's hash stays in the experiment file, its path out of the journal.
  const journalHashes = Object.fromEntries(
    Object.entries(hashes).filter(([path]) => path !== experiment.holdout?.path),
  );
  const config = {
    ...buildConfigLine(updated, updatedRound, ready.journal.config, calibration, journalHashes),
    measurement,
  };
  const tiebreakMetrics = experiment.tiebreaks.map((tiebreak) => tiebreak.metric);
  const baselineLine = {
    ...buildBaselineLine(evalRuns, calibration, guard, shortHead, options.runs, tiebreakMetrics),
    ...(measured.holdout ? holdoutLineFields(measured.holdout.measure) : {}),
  };
  const key = await sealKey(root, { create: true });
  writeJournalHeader(journalPath, sealed(key, config), [sealed(key, baselineLine)]);
  saveExperiment(loaded.path, updated);
  const instructionsPath = resolveIn(root, round.artifacts.instructions);
  fillMinDeltaInInstructions(instructionsPath, calibration);
  if (guard && experiment.guard && isRelativeGuard(experiment.guard)) fillGuardInInstructions(instructionsPath, guard);
  // The harness's files, committed on the branch so `git status` stays clean and a checkout
  // cannot lose the baseline. The baseline line names that commit: it is the incumbent the
  // first iteration builds on (its code is the measured commit's, byte for byte).
  const harness = commitHarnessState(root, stateDir, {
    parent: ready.commit,
    experimentFile: relative(root, loaded.path),
    paths: [
      relative(root, loaded.path),
      relative(root, instructionsPath),
      // Test data a baseline split the held-out cases off (this one, or an earlier one that stopped
      // before its commit): committed with the baseline it was measured for.
      ...(experiment.holdout?.split != null && existsSync(splitRecordPath(stateDir)) && experiment.test_data &&
          isInCommit(root, ready.commit, relative(root, resolveIn(root, experiment.test_data)))
        ? [relative(root, resolveIn(root, experiment.test_data))]
        : []),
    ],
    message: `autoresearch: baseline of round ${round.round} | score: ${formatMetric(calibration.median)}`,
  });
  const recordedHead = harness.commit === ready.commit ? shortHead : shortCommit(root, harness.commit);
  if (recordedHead !== shortHead) {
    writeJournalHeader(journalPath, sealed(key, config), [sealed(key, { ...baselineLine, commit: recordedHead })]);
  }
  options.notes(describeHarnessCommit(harness, recordedHead));
  // The scope check of the first iteration compares against the work tree as it is now.
  const ignore = harnessOrConstrained(updated, updatedRound, relative(root, loaded.path));
  saveSnapshot(snapshotPath(stateDir, round.round), await takeSnapshot(root, ignore));
  return toReport(context, { ready, measured, probed }, { hashes, estimate, shortHead: recordedHead, backup });
}

/** What committing the harness's files did: a commit, nothing to commit, or why they stay uncommitted. */
export type HarnessCommit =
  | { committed: true; commit: string; paths: string[]; indexNote?: string }
  | { committed: false; commit: string; paths: string[]; reason: string | null };

/**
 * Commit the harness's own files (relative to root) on HEAD's branch as one commit, built
 * from their work-tree bytes in a temporary index; the branch moves only if still at
 * `parent`, then those files' index entries match it. The user's other files, staged or not,
 * are never read or committed. Nothing is committed when the experiment file is not in
 * `parent` (the harness is kept out of git), HEAD moved meanwhile, or git cannot commit.
 * Killed before the branch moves, the files are merely left uncommitted (the new commit
 * unreferenced). Killed after it moves but before baseline's journal names the commit, iterate
 * refuses the commit as foreign and says to re-baseline, which starts over cleanly.
 */
export function commitHarnessState(
  root: string,
  stateDir: string,
  request: { parent: string; experimentFile: string; paths: string[]; message: string },
): HarnessCommit {
  const { parent, experimentFile, message } = request;
  const paths = [...new Set(request.paths)];
  const changed = paths.filter((path) =>
    isInCommit(root, parent, path) ? fileDiffersFromCommit(root, parent, path) : existsSync(join(root, path))
  );
  if (changed.length === 0) return { committed: false, commit: parent, paths: [], reason: null };
  if (!isInCommit(root, parent, experimentFile)) {
    return {
      committed: false,
      commit: parent,
      paths: changed,
      reason: `"${experimentFile}" is not committed, so the harness does not commit its files either`,
    };
  }
  if (headCommit(root) !== parent) {
    return { committed: false, commit: parent, paths: changed, reason: "HEAD moved while the harness was writing" };
  }
  mkdirSync(stateDir, { recursive: true });
  const temporaryIndex = join(stateDir, `harness-index-${process.pid}`);
  let commit: string;
  try {
    // A git that cannot commit here (no user.name, a lock, HEAD moved) leaves the files
    // uncommitted, as before: what the script recorded stands, the person is told.
    commit = commitWorkTreeFilesOn(root, parent, changed, message, temporaryIndex);
    moveRef(root, stateDir, "HEAD", commit, { from: parent, message: message.split(" | ")[0] });
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { committed: false, commit: parent, paths: changed, reason: `git could not commit them (${error.message})` };
  } finally {
    rmSync(temporaryIndex, { force: true });
  }
  try {
    syncIndexWithHead(root, stateDir, changed);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    // The commit stands; only git's index still holds the old entries of these files.
    return { committed: true, commit, paths: changed, indexNote: `git reset -q -- ${changed.join(" ")}` };
  }
  return { committed: true, commit, paths: changed };
}

/** One line for the person: which files were committed, or why they were not. */
export function describeHarnessCommit(harness: HarnessCommit, short: string): string {
  const names = harness.paths.map((path) => `"${path}"`).join(", ");
  if (harness.committed && harness.indexNote) {
    return `Committed ${names} as ${short}; git's index could not be updated for them, so run: ${harness.indexNote}`;
  }
  if (harness.committed) return `Committed ${names} as ${short}, so the work tree stays clean.`;
  if (harness.reason === null) return `The harness's files were already committed; nothing to commit.`;
  return `Left ${names} uncommitted: ${harness.reason}. Commit them yourself to keep the work tree clean.`;
}

function backupJournal(stateDir: string, journalPath: string): string {
  const directory = join(stateDir, "backups");
  mkdirSync(directory, { recursive: true });
  const target = join(directory, `${journalPath.split("/").pop()}.${fileNameTimestamp()}`);
  copyFileSync(journalPath, target);
  return target;
}

function buildConfigLine(
  experiment: Experiment,
  round: Round,
  previous: ConfigLine | null,
  calibration: Calibration,
  hashes: Record<string, string>,
): ConfigLine {
  const header = journalHeaderFor(experiment, round);
  // Fields the header writes only when they apply: an earlier header's are dropped, not kept
  // (a relative guard made absolute, tiebreaks removed since).
  const { guard_spec: _spec, tiebreaks: _tiebreaks, holdout: _holdout, ...earlier } = previous ?? {};
  return {
    ...earlier,
    ...header,
    baseline: calibration.median,
    min_delta: calibration.recommendedMinDelta,
    noise: {
      sd: calibration.sd,
      mean: calibration.mean,
      runs: calibration.runs,
      deterministic: calibration.deterministic,
      min_detectable_effect: calibration.minDetectableEffect,
    },
    hashes,
    decision: { ...experiment.decision },
    created_at: previous?.created_at ?? header.created_at,
    baselined_at: new Date().toISOString(),
  };
}

function buildBaselineLine(
  runs: EvalRun[],
  calibration: Calibration,
  guard: BaselineReport["guard"],
  commit: string,
  count: number,
  tiebreakMetrics: string[],
): ResultLine {
  const metricNames = new Set(runs.flatMap((run) => Object.keys(run.metrics)));
  const metrics: Record<string, number> = {};
  for (const name of metricNames) {
    const value = median(runs.map((run) => run.metrics[name]).filter((v): v is number => v !== undefined));
    if (value !== null) metrics[name] = value;
  }
  return {
    type: "result",
    iteration: 0,
    commit,
    score: calibration.median,
    delta: formatDelta(0),
    guard_score: guard?.score ?? null,
    guard_pass: guard?.pass ?? null,
    status: "baseline",
    description: `baseline (median of ${count} run${count > 1 ? "s" : ""})`,
    timestamp: journalTimestamp(),
    runs: calibration.runs,
    guard_runs: runs.map((run) => run.guard),
    metrics,
    case_runs: runs.some((run) => run.cases) ? runs.map((run) => run.cases) : undefined,
    // Each run's tiebreak values, so the engine pools their noise from the start.
    ...(tiebreakMetrics.length
      ? { tiebreak_runs: runs.map((run) => tiebreakValues(run.metrics, tiebreakMetrics)) }
      : {}),
    duration_s: round3(runs.reduce((total, run) => total + run.durationMs, 0) / 1000),
    ...runnerRetriesField(runs),
  };
}

/** `runner_retries`: the attempts eval.runner made again over these runs; left out when none. */
function runnerRetriesField(runs: EvalRun[]): { runner_retries?: number } {
  const retries = runs.reduce((total, run) => total + (run.runnerRetries ?? 0), 0);
  return retries > 0 ? { runner_retries: retries } : {};
}

/** Replace the relative guard's placeholder block init wrote into instructions.md with the resolved threshold. */
function fillGuardInInstructions(path: string, guard: NonNullable<BaselineReport["guard"]>): void {
  if (!existsSync(path)) return;
  const text = readFileSync(path, "utf8");
  const pattern = /(<!-- guard:start -->)[\s\S]*?(<!-- guard:end -->)/;
  if (!pattern.test(text)) return;
  const body = guard.threshold === null
    ? `Not resolved: the baseline's eval runs printed no ${guard.metric}, so the guard cannot be checked this round.`
    : `Resolved against this round's baseline: \`${guard.description}\`. iterate judges every candidate of this round against that threshold.`;
  writeFileAtomic(path, text.replace(pattern, `$1\n${body}\n$2`));
}

/** Replace the min-delta placeholder block init wrote into instructions.md. */
function fillMinDeltaInInstructions(path: string, calibration: Calibration): void {
  if (!existsSync(path)) return;
  const text = readFileSync(path, "utf8");
  const pattern = /(<!-- min-delta:start -->)[\s\S]*?(<!-- min-delta:end -->)/;
  if (!pattern.test(text)) return;
  const body = calibration.deterministic
    ? `The eval is deterministic (${calibration.runs.length} identical runs): any change of more than ${calibration.recommendedMinDelta} counts, confirmed by one re-run. iterate.ts applies this; you do not.`
    : `Run-to-run noise: sd ${
      calibration.sd.toPrecision(3)
    }; the smallest change the harness can reliably detect is about ${
      calibration.minDetectableEffect?.toPrecision(3) ?? "unknown"
    }; min-delta ${
      calibration.recommendedMinDelta.toPrecision(3)
    }. iterate.ts re-runs candidates and the incumbent as the statistics require; you do not.`;
  writeFileAtomic(path, text.replace(pattern, `$1\n${body}\n$2`));
}
