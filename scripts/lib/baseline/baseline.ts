// The seed's "validate before launch" phase as code: refuse unfinished test data,
// measure the eval's noise, check caching, prove the revert works, probe that the
// eval exercises the constrained file, hash the frozen files, and record the
// baseline, in four phases under the experiment lock: preflight, measure, probe, record.
// It never changes the constrained file except inside the guarded probe.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { harnessOrConstrained, saveSnapshot, snapshotPath, takeSnapshot } from "../git/snapshot.ts";
import { calibrate, type Calibration as EngineCalibration } from "../decision/calibrate.ts";
import type { Run } from "../decision/options.ts";
import { decisionOptionsFor } from "../decision/state.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { type EvalRun, runEval } from "../process/evaluator.ts";
import {
  experimentStateDir,
  findRound,
  type LoadedExperiment,
  replaceRound,
  saveExperiment,
} from "../experiment/experiment-file.ts";
import type { Baseline, Experiment, Round } from "../experiment/schema.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { type FormulaTerm, parseMetricFormula } from "../process/eval-output.ts";
import {
  currentBranch,
  fileDiffersFromCommit,
  headCommit,
  isTracked,
  shortCommit,
  switchToBranch,
} from "../git/git.ts";
import { frozenPaths, hashFrozenFiles, measurementFields, saveMeasurementRecord } from "../integrity/frozen-files.ts";
import { requireExperimentBranch } from "../git/preconditions.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { sealed, sealKey } from "../integrity/seal.ts";
import {
  assertJournalWritable,
  type ConfigLine,
  iterationResults,
  type Journal,
  journalHeaderFor,
  readJournal,
  type ResultLine,
  writeJournalHeader,
} from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { withExperimentLock } from "../files/lock.ts";
import { probeSensitivity } from "./sensitivity.ts";
import { median } from "../decision/stats.ts";
import { inspectTestDataFile } from "../harness/test-data.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { passesGuard } from "../experiment/guard.ts";
import type { StatusLine } from "../cli/status-line.ts";
import { fileNameTimestamp, journalTimestamp } from "../text/timestamp.ts";
import { formatDelta } from "../text/number-format.ts";

/** The seed: an eval should take under 60 s, ideally under 10 s. */
const SLOW_EVAL_S = 60;
/** Fewer cases than this make a metric too coarse to steer by (the seed: at least 15). */
export const MIN_TEST_CASES = 15;
/** Later runs this much faster than the first mean a cache is warming up... */
const CACHE_SPEEDUP_RATIO = 0.7;
/** ...if they also save this much: a fast eval's start-up jitter (bytecode, disk cache) is not a cache. */
const CACHE_MIN_SAVING_S = 0.25;
/** Expected eval runs per iteration (bench/decision.ts figures). */
const RUNS_PER_ITERATION = { deterministic: 1.1, noisy: 3.0 };

export type BaselineOptions = {
  runs: number;
  expectedGain: number | null;
  allowFew: boolean;
  allowInsensitive: boolean;
  branch: boolean;
  force: boolean;
  status: StatusLine;
  notes: (message: string) => void;
};

export type BaselineReport = {
  round: number;
  score: number;
  mean: number;
  median: number;
  sd: number;
  spread: number;
  cv: number | null;
  deterministic: boolean;
  min_detectable_effect: number | null;
  min_delta: number;
  wild_runs: number[];
  runs: number[];
  guard: { metric: string; op: string; threshold: number; score: number | null; pass: boolean | null } | null;
  expected_gain: number;
  noise_warning: string | null;
  cache: { first_s: number; later_median_s: number | null; faster: boolean; note: string };
  revert: { ok: boolean; note: string };
  probe: { method: string; sensitive: boolean; score: number | null; crashed: boolean; note: string };
  hashes: Record<string, string>;
  estimate: {
    eval_seconds: number;
    runs_per_iteration: number;
    iterations: number;
    total_minutes: number;
    note: string | null;
  };
  branch: string | null;
  commit: string;
  journal: string;
  backup: string | null;
  logs: string[];
  warnings: string[];
};

export async function runBaseline(loaded: LoadedExperiment, options: BaselineOptions): Promise<BaselineReport> {
  const round = findRound(loaded.experiment);
  const stateDir = experimentStateDir(loaded);
  const journalPath = resolveIn(loaded.root, round.artifacts.journal);
  assertJournalWritable(journalPath, displayPath(journalPath), { replace: true });
  return withExperimentLock({ stateDir, command: "baseline.ts", notes: options.notes }, async () => {
    // A branch switch comes later; until then any branch will do, unless a step is pending.
    await recoverInterruptedWork(loaded, stateDir, options.notes, { requireBranch: false });
    const warnings: string[] = [];
    const context: Context = {
      loaded,
      round,
      stateDir,
      journalPath,
      options,
      warnings,
      warn: (message) => {
        warnings.push(message);
        options.notes(`warning: ${message}`);
      },
    };
    const ready = await preflight(context);
    const measured = await measure(context);
    const probed = await probe(context, measured);
    return await record(context, ready, measured, probed);
  });
}

/** What every phase of one baseline run shares. */
type Context = {
  loaded: LoadedExperiment;
  round: Round;
  stateDir: string;
  journalPath: string;
  options: BaselineOptions;
  warnings: string[];
  warn: (message: string) => void;
};

type Preflight = { frozen: string[]; journal: Journal; done: number; branch: string | null; commit: string };

/** Everything that can refuse before an eval runs: the round, the test data, the files, the journal, the branch. */
async function preflight(context: Context): Promise<Preflight> {
  const { loaded: { experiment, root, path }, round, journalPath, options } = context;
  if (round.status === "closed") {
    throw new CliError(
      `Round ${round.round} is closed; baseline the current round instead: ${kitCommand("baseline")}`,
      "E_ROUND_CLOSED",
    );
  }
  checkTestData(experiment, root, options, context.warn);
  const frozen = frozenPaths(experiment, round);
  checkFrozenPaths(root, frozen, path);
  await checkConstrainedFiles(root, round);
  const journal = readJournal(journalPath);
  const done = iterationResults(journal).length;
  if (done > 0 && !options.force) {
    throw new CliError(
      `Round ${round.round} already has ${done} iteration results in "${
        displayPath(journalPath)
      }". Re-baselining restarts the round: ${kitCommand("baseline")} --force (the old journal is kept as a backup)`,
      "E_HAS_RESULTS",
    );
  }

  let branch: string | null = currentBranch(root);
  if (!options.branch) await requireExperimentBranch(root, experiment);
  if (options.branch) {
    const wanted = experiment.branch ?? `autoresearch/${experiment.name}`;
    const outcome = switchToBranch(root, wanted);
    if (outcome !== "already") {
      options.notes(
        `${
          outcome === "created" ? "Created and switched to" : "Switched to"
        } branch "${wanted}" so keeps never land on your main branch.`,
      );
    }
    branch = wanted;
  }
  return { frozen, journal, done, branch, commit: headCommit(root)! };
}

type Measured = {
  evalRuns: EvalRun[];
  logs: string[];
  formula: FormulaTerm[] | null;
  calibration: Calibration;
  expectedGain: number;
  noiseWarning: string | null;
  guard: BaselineReport["guard"];
  cache: BaselineReport["cache"];
};

/** Run the eval on the unchanged code and read its noise, guard and cache from the runs. */
async function measure(context: Context): Promise<Measured> {
  const { loaded: { experiment }, options, warn } = context;
  const formula = experiment.metric.formula ? parseMetricFormula(experiment.metric.formula) : null;
  const { evalRuns, logs } = await runBaselineEvals(context, formula);
  const scores = evalRuns.map((run) => run.score!);
  const decisionOptions = decisionOptionsFor(experiment);
  const calibration = toFigures(
    calibrate(evalRuns.map(toEngineRun), decisionOptions),
    decisionOptions.resolution,
    scores,
  );
  const expectedGain = options.expectedGain ?? experiment.expected_gain ?? defaultExpectedGain(calibration.mean);
  const noiseWarning = describeNoise(calibration, expectedGain);
  if (noiseWarning) warn(`${noiseWarning}`);
  for (const message of calibration.warnings) warn(message);
  for (const wild of calibration.wildRuns) warn(`run ${wild + 1}'s log: ${displayPath(logs[wild])}`);
  const guard = checkGuard(experiment, evalRuns, warn);
  const cache = checkCache(evalRuns);
  options.notes(cache.note);
  return { evalRuns, logs, formula, calibration, expectedGain, noiseWarning, guard, cache };
}

/** The baseline's eval runs, each logged; the first failure stops the baseline. */
async function runBaselineEvals(
  context: Context,
  formula: FormulaTerm[] | null,
): Promise<{ evalRuns: EvalRun[]; logs: string[] }> {
  const { loaded: { experiment, root }, round, stateDir, options } = context;
  const evalRuns: EvalRun[] = [];
  const logs: string[] = [];
  for (let index = 1; index <= options.runs; index++) {
    const logPath = join(stateDir, "logs", `baseline-round${round.round}-run${index}.log`);
    logs.push(logPath);
    options.status.update(`baseline run ${index}/${options.runs}… (tail -f ${displayPath(logPath)})`);
    const run = await runEval(round.eval.command, {
      cwd: root,
      timeoutS: round.eval.timeout_s,
      logPath,
      guardMetric: experiment.guard?.metric ?? null,
      formula,
    });
    options.status.clear();
    if (!run.ok) {
      throw new CliError(
        `Baseline run ${index} of "${round.eval.command}" failed: ${run.crashReason}. Fix the eval, then re-run ${
          kitCommand("baseline")
        }. Log: ${displayPath(logPath)}\n--- last lines ---\n${run.tail}`,
        "E_EVAL_FAILED",
        EXIT.FAILED,
      );
    }
    evalRuns.push(run);
  }
  return { evalRuns, logs };
}

function checkGuard(
  experiment: Experiment,
  evalRuns: EvalRun[],
  warn: (message: string) => void,
): BaselineReport["guard"] {
  if (!experiment.guard) return null;
  const guardValues = evalRuns.map((run) => run.guard).filter((value): value is number => value !== null);
  const guardScore = guardValues.length ? median(guardValues) : null;
  if (guardScore === null) {
    warn(
      `the eval printed no "${experiment.guard.metric}" line, so the guard cannot be checked. Print "${experiment.guard.metric.toUpperCase()}: <value>" from the eval.`,
    );
  }
  const pass = guardScore === null ? null : passesGuard(guardScore, experiment.guard.op, experiment.guard.threshold);
  if (pass === false) {
    warn(
      `the baseline already fails the guard (${experiment.guard.metric} ${guardScore} ${experiment.guard.op} ${experiment.guard.threshold} is false); every iteration will be a guard_fail until that changes.`,
    );
  }
  return { ...experiment.guard, score: guardScore, pass };
}

type Probed = { probe: BaselineReport["probe"]; revert: BaselineReport["revert"] };

/** Break the constrained file for one run (kill-safe) and refuse an eval the break does not reach. */
async function probe(context: Context, measured: Measured): Promise<Probed> {
  const { loaded, round, options } = context;
  const result = await probeSensitivity(loaded, round, {
    baselineRuns: measured.evalRuns,
    resolution: measured.calibration.resolution,
    formula: measured.formula,
    status: options.status,
    notes: options.notes,
  });
  if (!result.sensitive && !options.allowInsensitive) {
    throw new CliError(
      `${result.note} Fix the eval (clear or key the cache on the code), or pass --allow-insensitive to accept it.`,
      "E_INSENSITIVE",
      EXIT.FAILED,
    );
  }
  if (!result.sensitive) context.warn(result.note);
  const revert = {
    ok: true,
    note: `restoring ${round.constrained_files.join(", ")} from git left ${
      round.constrained_files.length > 1 ? "them" : "it"
    } byte-identical`,
  };
  return { probe: result, revert };
}

/**
 * Hash the frozen files and write the baseline: the journal's header and baseline line
 * (the old journal backed up), the experiment file, the instructions' min-delta, and the
 * snapshot the first iteration's scope check compares against.
 */
async function record(context: Context, ready: Preflight, measured: Measured, probed: Probed): Promise<BaselineReport> {
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

/** The report baseline.ts prints (or --json): every figure measured, with paths shown for the person. */
function toReport(
  context: Context,
  phases: { ready: Preflight; measured: Measured; probed: Probed },
  recorded: {
    hashes: Record<string, string>;
    estimate: BaselineReport["estimate"];
    shortHead: string;
    backup: string | null;
  },
): BaselineReport {
  const { calibration, guard } = phases.measured;
  return {
    round: context.round.round,
    score: calibration.median,
    mean: calibration.mean,
    median: calibration.median,
    sd: calibration.sd,
    spread: calibration.spread,
    cv: calibration.cv,
    deterministic: calibration.deterministic,
    min_detectable_effect: calibration.minDetectableEffect,
    min_delta: calibration.recommendedMinDelta,
    wild_runs: calibration.wildRuns ?? [],
    runs: calibration.runs,
    guard,
    expected_gain: phases.measured.expectedGain,
    noise_warning: phases.measured.noiseWarning,
    cache: phases.measured.cache,
    ...phases.probed,
    hashes: recorded.hashes,
    estimate: recorded.estimate,
    branch: phases.ready.branch,
    commit: recorded.shortHead,
    journal: displayPath(context.journalPath),
    backup: recorded.backup ? displayPath(recorded.backup) : null,
    logs: phases.measured.logs.map((log) => displayPath(log)),
    warnings: context.warnings,
  };
}

/** How long the round's budget will take at this eval's speed, with a note when one eval is too slow. */
function estimateRound(evalRuns: EvalRun[], calibration: Calibration, iterations: number): BaselineReport["estimate"] {
  const evalSeconds = median(evalRuns.map((run) => run.durationMs / 1000))!;
  const runsPerIteration = calibration.deterministic ? RUNS_PER_ITERATION.deterministic : RUNS_PER_ITERATION.noisy;
  const totalMinutes = (evalSeconds * runsPerIteration * iterations) / 60;
  const note = evalSeconds > SLOW_EVAL_S
    ? `one eval takes ${
      evalSeconds.toFixed(0)
    } s; the loop wants under ${SLOW_EVAL_S} s (ideally under 10 s): cache expensive calls or use fewer cases.`
    : null;
  return {
    eval_seconds: round3(evalSeconds),
    runs_per_iteration: runsPerIteration,
    iterations,
    total_minutes: round3(totalMinutes),
    note,
  };
}

/** Calibration with the figures a finished baseline always has (every run succeeded). */
type Calibration = {
  runs: number[];
  mean: number;
  median: number;
  sd: number;
  spread: number;
  cv: number | null;
  deterministic: boolean;
  wildRuns: number[];
  minDetectableEffect: number | null;
  recommendedMinDelta: number;
  resolution: number;
  warnings: string[];
};

function toEngineRun(run: EvalRun): Run {
  return { score: run.score!, guard: run.guard, ...(run.cases ? { cases: run.cases } : {}) };
}

function toFigures(engine: EngineCalibration, resolution: number, scores?: number[]): Calibration {
  return {
    runs: scores ?? [],
    mean: engine.mean ?? 0,
    median: engine.median ?? 0,
    sd: engine.sd ?? 0,
    spread: engine.spread ?? 0,
    cv: engine.cv,
    deterministic: engine.deterministic,
    wildRuns: engine.wildRuns,
    minDetectableEffect: engine.minDetectableEffect,
    recommendedMinDelta: engine.recommendedMinDelta ?? resolution,
    resolution,
    warnings: engine.warnings,
  };
}

function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The seed's rule of thumb: 0.01 on a 0-1 score; 1% of the level for other units. */
export function defaultExpectedGain(mean: number): number {
  return Math.abs(mean) <= 1 ? 0.01 : Math.abs(mean) * 0.01;
}

function describeNoise(calibration: Calibration, expectedGain: number): string | null {
  // One run measures no noise; calibrate() already says to run at least two.
  if (calibration.deterministic || calibration.runs.length < 2) return null;
  const mde = calibration.minDetectableEffect ?? Infinity;
  if (calibration.sd < expectedGain && mde <= expectedGain * 2) return null;
  return `NOISY EVAL: run-to-run sd ${calibration.sd.toPrecision(3)} (minimum detectable effect ${
    Number.isFinite(mde) ? mde.toPrecision(3) : "unknown"
  }) against an expected gain of ${expectedGain}. ` +
    "Real improvements will be hard to tell from noise: set temperature 0 for model calls, fix random seeds, cache expensive calls keyed on their input, or average more cases.";
}

function checkTestData(
  experiment: Experiment,
  root: string,
  options: BaselineOptions,
  warn: (message: string) => void,
): void {
  if (!experiment.test_data) return;
  const path = resolveIn(root, experiment.test_data);
  if (!existsSync(path)) {
    throw new CliError(
      `The test data "${displayPath(path)}" does not exist. Create it, or fix test_data in the experiment file.`,
      "E_NO_TEST_DATA",
    );
  }
  const report = inspectTestDataFile(path);
  if (report.problems.length > 0) {
    throw new CliError(`The test data "${displayPath(path)}" cannot be used: ${report.problems[0]}`, "E_TEST_DATA");
  }
  if (report.placeholders.length > 0) {
    const first = report.placeholders[0];
    throw new CliError(
      `The test data "${displayPath(path)}" still has ${report.placeholders.length} placeholder${
        report.placeholders.length > 1 ? "s" : ""
      } (first: case "${first.caseId}", field "${first.field}"). Fill in real inputs and expected outputs, then re-run ${
        kitCommand("baseline")
      }`,
      "E_PLACEHOLDERS",
    );
  }
  if (report.cases < MIN_TEST_CASES) {
    const message = `The test data "${
      displayPath(path)
    }" has ${report.cases} cases; at least ${MIN_TEST_CASES} are needed for a metric worth steering by.`;
    if (!options.allowFew) throw new CliError(`${message} Add cases, or pass --allow-few.`, "E_FEW_CASES");
    warn(message);
  }
}

/** Integrity hashes are per file; say so before the evals run rather than fail after them. */
function checkFrozenPaths(root: string, paths: string[], experimentPath: string): void {
  for (const path of paths) {
    const absolute = resolveIn(root, path);
    if (existsSync(absolute) && statSync(absolute).isDirectory()) {
      throw new CliError(
        `The frozen path "${path}" is a directory; list the files in it instead (frozen: in "${
          displayPath(experimentPath)
        }"), then re-run ${kitCommand("baseline")}`,
        "E_FROZEN_DIRECTORY",
      );
    }
  }
}

async function checkConstrainedFiles(root: string, round: Round): Promise<void> {
  const committed = headCommit(root) !== null;
  for (const file of round.constrained_files) {
    const absolute = resolveIn(root, file);
    if (!existsSync(absolute)) {
      throw new CliError(
        `The constrained file "${file}" does not exist. Restore it (git checkout -- "${file}") or fix constrained_files in the experiment file.`,
        "E_NO_FILE",
      );
    }
    if (!committed || !isTracked(root, file)) {
      throw new CliError(
        `The constrained file "${file}" is not committed, so it cannot be reverted. Commit it first: git add "${file}" && git commit -m "add ${file}"`,
        "E_UNTRACKED",
      );
    }
    if (await fileDiffersFromCommit(root, "HEAD", file)) {
      throw new CliError(
        `The constrained file "${file}" has uncommitted changes; the baseline must measure a commit. Commit them (git commit -am "...") or set them aside (git stash), then re-run.`,
        "E_MODIFIED",
      );
    }
  }
}

function checkCache(runs: EvalRun[]): BaselineReport["cache"] {
  const first = runs[0].durationMs / 1000;
  const later = runs.length > 1 ? median(runs.slice(1).map((run) => run.durationMs / 1000)) : null;
  const faster = later !== null && later < first * CACHE_SPEEDUP_RATIO && first - later >= CACHE_MIN_SAVING_S;
  const note = later === null
    ? "Cache check: one run only, nothing to compare."
    : faster
    ? `Cache check: later runs took ${later.toFixed(2)} s against ${
      first.toFixed(2)
    } s for the first: a cache is warm. Good for speed — the probe below checks that edits to the file still reach the score.`
    : `Cache check: no speed-up after the first run (${first.toFixed(2)} s, then ${
      later.toFixed(2)
    } s): no cache is in play, or it was already warm.`;
  return { first_s: round3(first), later_median_s: later === null ? null : round3(later), faster, note };
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
export function fillMinDeltaInInstructions(path: string, calibration: Calibration): void {
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
