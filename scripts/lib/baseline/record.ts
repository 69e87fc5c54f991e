// The baseline's last phase: hash the frozen files and write the baseline — the journal's
// header and baseline line, sealed (the old journal backed up), the experiment file, the
// min-delta in the instructions, and the snapshot the first iteration's scope check compares
// against — then return the report. It runs no eval; every figure comes from the phases before.
import { copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { harnessOrConstrained, saveSnapshot, snapshotPath, takeSnapshot } from "../git/snapshot.ts";
import type { EvalRun } from "../process/evaluator.ts";
import { replaceRound, saveExperiment } from "../experiment/experiment-file.ts";
import type { Baseline, Experiment, Round } from "../experiment/schema.ts";
import { resolveIn } from "../files/paths.ts";
import { shortCommit } from "../git/git.ts";
import { hashFrozenFiles, measurementFields, saveMeasurementRecord } from "../integrity/frozen-files.ts";
import { sealed, sealKey } from "../integrity/seal.ts";
import { type ConfigLine, journalHeaderFor, type ResultLine, writeJournalHeader } from "../experiment/journal.ts";
import { median } from "../decision/stats.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { fileNameTimestamp, journalTimestamp } from "../text/timestamp.ts";
import { formatDelta } from "../text/number-format.ts";
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
    deterministic: calibration.deterministic,
    min_detectable_effect: calibration.minDetectableEffect,
    min_delta: calibration.recommendedMinDelta,
    eval_seconds: estimate.eval_seconds,
    commit: ready.commit,
    measured_at: new Date().toISOString(),
  };
  const updatedRound: Round = { ...round, baseline, integrity: hashes };
  const updated: Experiment = {
    ...replaceRound(experiment, updatedRound),
    branch: options.branch ? ready.branch : experiment.branch,
  };

  const backup = ready.done > 0 || ready.journal.results.length > 0 ? backupJournal(stateDir, journalPath) : null;
  const measurement = saveMeasurementRecord(stateDir, round.round, measurementFields(updated, updatedRound));
  const config = { ...buildConfigLine(updated, updatedRound, ready.journal.config, calibration, hashes), measurement };
  const baselineLine = buildBaselineLine(evalRuns, calibration, guard, shortHead, options.runs);
  const key = await sealKey(root, { create: true });
  writeJournalHeader(journalPath, sealed(key, config), [sealed(key, baselineLine)]);
  saveExperiment(loaded.path, updated);
  fillMinDeltaInInstructions(resolveIn(root, round.artifacts.instructions), calibration);
  // The scope check of the first iteration compares against the work tree as it is now.
  const ignore = harnessOrConstrained(updated, updatedRound, relative(root, loaded.path));
  saveSnapshot(snapshotPath(stateDir, round.round), await takeSnapshot(root, ignore));
  return toReport(context, { ready, measured, probed }, { hashes, estimate, shortHead, backup });
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
  return {
    ...(previous ?? {}),
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
    duration_s: round3(runs.reduce((total, run) => total + run.durationMs, 0) / 1000),
  };
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
