// The baseline's measuring phase: run the eval on the unchanged code, each run logged, and
// read from the runs the noise (calibration, expected gain, a noisy-eval warning), the guard
// and its own noise, whether a cache the eval wrote warms up (faster later runs with nothing
// written are start-up warm-up), and how long the round's budget will take. It does not probe the
// eval's sensitivity (baseline.ts, sensitivity.ts) nor write the baseline (record.ts).
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { calibrate, type Calibration as EngineCalibration } from "../decision/calibrate.ts";
import type { Run } from "../decision/options.ts";
import { decisionOptionsFor } from "../decision/state.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { evalRunner } from "../process/eval-runner.ts";
import { type EvalRun, runEval } from "../process/evaluator.ts";
import { isTestSummaryMetric } from "../process/test-summary.ts";
import { evalReading } from "../experiment/objective.ts";
import type { Experiment } from "../experiment/schema.ts";
import { displayPath } from "../files/paths.ts";
import { STATE_DIR } from "../experiment/artifacts.ts";
import { kitCommand } from "../cli/kit.ts";
import { mean, median, sampleStandardDeviation } from "../decision/stats.ts";
import { describeGuard, describeThreshold, isRelativeGuard, passesGuard, resolveGuard } from "../experiment/guard.ts";
import type { BaselineReport, Calibration, Context, Measured } from "./report.ts";

/** The seed: an eval should take under 60 s, ideally under 10 s. */
const SLOW_EVAL_S = 60;
/** Later runs this much faster than the first mean a cache is warming up... */
const CACHE_SPEEDUP_RATIO = 0.7;
/** ...if they also save this much: a fast eval's start-up jitter (bytecode, disk cache) is not a cache. */
const CACHE_MIN_SAVING_S = 0.25;
/** Expected eval runs per iteration (bench/decision.ts: scenarios D and A, 2.0-2.1 per candidate). */
const RUNS_PER_ITERATION = { deterministic: 1.1, noisy: 2.1 };

/** Where the score of an eval without a SCORE line comes from: its metric's own line, or its test runner's summary. */
function scoreLineNote(run: EvalRun): string {
  const name = run.scoreLine!;
  if (!isTestSummaryMetric(name)) {
    return `The eval prints no SCORE line: its "${name}" line (the experiment's metric) is the score.`;
  }
  const { tests_passed: passed, tests_failed: failed } = run.metrics;
  return `The eval prints no SCORE line: the score is ${name}, read from its test runner's summary (${passed} passed, ${failed} failed); failing tests are measured, not crashes.`;
}

/** Run the eval on the unchanged code and read its noise, guard and cache from the runs. */
export async function measure(context: Context): Promise<Measured> {
  const { loaded: { experiment }, options, warn } = context;
  const startedMs = Date.now();
  const { evalRuns, logs } = await runBaselineEvals(context);
  const scored = evalRuns.find((run) => run.scoreLine);
  if (scored) options.notes(scoreLineNote(scored));
  const scores = evalRuns.map((run) => run.score!);
  const decisionOptions = decisionOptionsFor(experiment);
  const engineCalibration = calibrate(evalRuns.map(toEngineRun), decisionOptions);
  const calibration = toFigures(engineCalibration, engineCalibration.resolution, scores);
  const expectedGain = options.expectedGain ?? experiment.expected_gain ?? defaultExpectedGain(calibration.mean);
  const noiseWarning = describeNoise(
    calibration,
    expectedGain,
    options.expectedGain ?? experiment.expected_gain ?? null,
  );
  if (noiseWarning) warn(`${noiseWarning}`);
  for (const message of calibration.warnings) warn(message);
  const detectableNote = describeDetectableEffect(calibration);
  if (detectableNote) options.notes(detectableNote);
  for (const wild of calibration.wildRuns) warn(`run ${wild + 1}'s log: ${displayPath(logs[wild])}`);
  const checked = checkGuard(experiment, evalRuns, warn);
  const guard = checked && withoutNote(checked);
  for (const note of checked?.notes ?? []) options.notes(note);
  const cache = checkCache(evalRuns, filesWrittenSince(context.loaded.root, startedMs, context.stateDir));
  options.notes(cache.note);
  return { evalRuns, logs, calibration, expectedGain, noiseWarning, guard, cache };
}

/** The baseline's eval runs, each logged; the first failure stops the baseline. */
async function runBaselineEvals(
  context: Context,
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
      ...evalReading(experiment),
      runner: evalRunner(experiment.name, round, {
        iteration: "baseline",
        run: `run${index}`,
        notes: options.notes,
        status: options.status,
      }),
    });
    options.status.clear();
    if (!run.ok) {
      throw new CliError(
        `Baseline run ${index} of "${round.eval.command}" failed: ${run.crashReason}. Fix the eval, then re-run ${
          kitCommand("baseline")
        }. Log: ${displayPath(logPath)}${options.evalFailureHint ?? ""}\n--- last lines ---\n${run.tail}`,
        "E_EVAL_FAILED",
        EXIT.FAILED,
      );
    }
    evalRuns.push(run);
  }
  return { evalRuns, logs };
}

/** A figure as the baseline report prints it: four significant digits, no trailing zeros. */
function shown(value: number): string {
  return Number(value.toPrecision(4)).toString();
}

/**
 * The guard's runs read like the score's: median (the guard's baseline), mean, sd and spread. A
 * guard whose mean (what iterate judges a candidate's guard on) sits within its own spread of the
 * threshold can fail on noise alone, so it is warned about before any iteration is lost to it.
 */
function checkGuard(
  experiment: Experiment,
  evalRuns: EvalRun[],
  warn: (message: string) => void,
): BaselineReport["guard"] & { notes: string[] } | null {
  if (!experiment.guard) return null;
  const { metric, op } = experiment.guard;
  const guardValues = evalRuns.map((run) => run.guard).filter((value): value is number => value !== null);
  const guardScore = median(guardValues);
  const guardMean = mean(guardValues);
  // A relative guard is resolved here, against the mean of these runs (baselineGuardFigure).
  const relative = isRelativeGuard(experiment.guard);
  const description = describeGuard(experiment.guard, guardMean);
  const thresholdText = describeThreshold(experiment.guard, guardMean);
  const threshold = resolveGuard(experiment.guard, guardMean)?.threshold ?? null;
  const spread = guardValues.length ? Math.max(...guardValues) - Math.min(...guardValues) : null;
  const sd = sampleStandardDeviation(guardValues);
  if (guardScore === null) {
    warn(
      `the eval printed no "${metric}" line, so the guard cannot be checked. Print "${metric.toUpperCase()}: <value>" from the eval.`,
    );
  }
  // A relative guard is judged on the mean it was resolved from, as iterate judges a candidate's.
  const judged = relative ? guardMean : guardScore;
  const pass = judged === null || threshold === null ? null : passesGuard(judged, op, threshold);
  if (pass === false) {
    warn(
      `the baseline already fails the guard (${metric} ${
        relative ? shown(judged!) : judged
      } ${op} ${thresholdText} is false); every iteration will be a guard_fail until that changes.`,
    );
  }
  const nearThreshold = guardMean !== null && threshold !== null && spread !== null && spread > 0 &&
    Math.abs(guardMean - threshold) <= spread;
  if (nearThreshold && pass !== false) {
    warn(
      `the guard's baseline is within its noise of the threshold: ${metric} mean ${
        shown(guardMean)
      } over ${guardValues.length} runs (${guardValues.map(shown).join(", ")}) varies by ${
        shown(spread)
      } between runs, and ${op} ${threshold} is only ${
        shown(Math.abs(guardMean - threshold))
      } away. An unchanged version can fail the guard by noise alone: loosen the threshold, or steady the guard (more cases, a warm-up before timing).`,
    );
  }
  const resolvedNote = relative && threshold !== null
    ? `Guard: ${description}, resolved from the mean of the baseline's ${guardValues.length} guard run${
      guardValues.length === 1 ? "" : "s"
    }; iterate judges candidates against it this round.`
    : null;
  const noiseNote = guardValues.length < 2
    ? null
    : `Guard noise: ${metric} ${guardValues.map(shown).join(", ")}: median ${shown(guardScore!)}, mean ${
      shown(guardMean!)
    }, sd ${shown(sd ?? 0)}, spread ${shown(spread!)} (iterate judges a candidate's guard on the mean of its runs).`;
  return {
    metric,
    op,
    threshold,
    description,
    threshold_text: thresholdText,
    score: guardScore,
    pass,
    runs: guardValues,
    mean: guardMean,
    sd,
    spread,
    near_threshold: nearThreshold,
    notes: [resolvedNote, noiseNote].filter((line): line is string => line !== null),
  };
}

/**
 * Later runs faster than the first is a warm cache only when the eval wrote files a later run
 * can read; without any, the speed-up is start-up warm-up (bytecode, the disk cache, a JIT).
 */
function checkCache(runs: EvalRun[], written: string[]): BaselineReport["cache"] {
  const first = runs[0].durationMs / 1000;
  const later = runs.length > 1 ? median(runs.slice(1).map((run) => run.durationMs / 1000)) : null;
  const faster = later !== null && later < first * CACHE_SPEEDUP_RATIO && first - later >= CACHE_MIN_SAVING_S;
  const warm = faster && written.length > 0;
  const shownFiles = written.slice(0, WRITTEN_FILES_SHOWN).join(", ") +
    (written.length > WRITTEN_FILES_SHOWN ? `, … (${written.length} files)` : "");
  const note = later === null
    ? "Cache check: one run only, nothing to compare."
    : warm
    ? `Cache check: later runs took ${later.toFixed(2)} s against ${
      first.toFixed(2)
    } s for the first, and the eval wrote ${shownFiles}: a cache is warm. Good for speed — the probe below checks that edits to the file still reach the score.`
    : faster
    ? `Cache check: later runs took ${later.toFixed(2)} s against ${
      first.toFixed(2)
    } s for the first, but the eval wrote no file a later run could read: start-up warm-up, not a cache.`
    : `Cache check: no speed-up after the first run (${first.toFixed(2)} s, then ${
      later.toFixed(2)
    } s): no cache is in play, or it was already warm.`;
  return {
    first_s: round3(first),
    later_median_s: later === null ? null : round3(later),
    faster,
    warm,
    written: written.slice(0, WRITTEN_FILES_SHOWN),
    note,
  };
}

/** Folders no eval cache lives in: version control, installed packages, bytecode. */
const NOT_A_CACHE = new Set([
  ".git",
  STATE_DIR, // the harness's own logs, wherever the experiment sits
  "node_modules",
  "__pycache__",
  ".venv",
  "venv",
  ".mypy_cache",
  ".pytest_cache",
]);
/** The walk looks at this many entries at most: a huge repository is not searched to the end for a cache. */
const WALK_LIMIT = 20_000;
const WRITTEN_FILES_SHOWN = 3;

/**
 * Files under the repository written since `sinceMs`, bytecode and the harness's own state
 * (logs) left out: what the eval left behind for its next run.
 */
function filesWrittenSince(root: string, sinceMs: number, stateDir: string): string[] {
  const written: string[] = [];
  const pending = [root];
  let visited = 0;
  while (pending.length > 0 && visited < WALK_LIMIT) {
    const dir = pending.pop()!;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      visited += 1;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!NOT_A_CACHE.has(entry.name) && path !== stateDir) pending.push(path);
      } else if (entry.isFile() && !entry.name.endsWith(".pyc")) {
        try {
          if (statSync(path).mtimeMs >= sinceMs) written.push(relative(root, path));
        } catch {
          // removed while walking: not a cache a later run reads
        }
      }
    }
  }
  return written.sort();
}

/** How long the round's budget will take at this eval's speed, with a note when one eval is too slow. */
export function estimateRound(
  evalRuns: EvalRun[],
  calibration: Calibration,
  iterations: number,
): BaselineReport["estimate"] {
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

function withoutNote({ notes: _notes, ...guard }: NonNullable<BaselineReport["guard"]> & { notes: string[] }) {
  return guard;
}

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

/** Seconds and minutes in the report and the journal, to three decimals. */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/** The seed's rule of thumb: 0.01 on a 0-1 score; 1% of the level for other units. */
function defaultExpectedGain(mean: number): number {
  return Math.abs(mean) <= 1 ? 0.01 : Math.abs(mean) * 0.01;
}

function describeNoise(calibration: Calibration, expectedGain: number, givenGain: number | null): string | null {
  // One run measures no noise; calibrate() already says to run at least two.
  if (calibration.deterministic || calibration.runs.length < 2) return null;
  const mde = calibration.minDetectableEffect ?? Infinity;
  if (calibration.sd < expectedGain && mde <= expectedGain * 2) return null;
  return `NOISY EVAL: run-to-run sd ${calibration.sd.toPrecision(3)} (minimum detectable effect ${
    Number.isFinite(mde) ? `${mde.toPrecision(3)} at ${calibration.runs.length - 1} degrees of freedom` : "unknown"
  }) against an expected gain of ${shown(expectedGain)}${
    givenGain === null ? " (a guess from the score's size: say yours with --expected-gain or expected_gain)" : ""
  }. ` +
    "Real improvements will be hard to tell from noise: set temperature 0 for model calls, fix random seeds, cache expensive calls keyed on their input, or average more cases.";
}

/**
 * The baseline's minimum detectable effect and the one iterate's verdicts show are one quantity
 * (the same formula), estimated from different numbers of runs: said with its degrees of freedom,
 * so a smaller figure later reads as a better estimate, not a different measure.
 */
function describeDetectableEffect(calibration: Calibration): string | null {
  if (calibration.deterministic || calibration.minDetectableEffect === null || calibration.runs.length < 2) return null;
  const df = calibration.runs.length - 1;
  return `Min detectable effect ${
    shown(calibration.minDetectableEffect)
  } is estimated from ${calibration.runs.length} runs (${df} degree${
    df === 1 ? "" : "s"
  } of freedom); iterate's verdicts re-estimate the same figure from every run they pool, so it shrinks as runs accumulate.`;
}
