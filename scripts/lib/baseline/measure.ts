// The baseline's measuring phase: run the eval on the unchanged code, each run logged, and
// read from the runs the noise (calibration, expected gain, a noisy-eval warning), the guard,
// whether a cache warms up, and how long the round's budget will take. It does not probe the
// eval's sensitivity (baseline.ts, sensitivity.ts) nor write the baseline (record.ts).
import { join } from "node:path";
import { calibrate, type Calibration as EngineCalibration } from "../decision/calibrate.ts";
import type { Run } from "../decision/options.ts";
import { decisionOptionsFor } from "../decision/state.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { type EvalRun, runEval } from "../process/evaluator.ts";
import type { Experiment } from "../experiment/schema.ts";
import { displayPath } from "../files/paths.ts";
import { type FormulaTerm, parseMetricFormula } from "../process/eval-output.ts";
import { kitCommand } from "../cli/kit.ts";
import { median } from "../decision/stats.ts";
import { passesGuard } from "../experiment/guard.ts";
import type { BaselineReport, Calibration, Context, Measured } from "./report.ts";

/** The seed: an eval should take under 60 s, ideally under 10 s. */
const SLOW_EVAL_S = 60;
/** Later runs this much faster than the first mean a cache is warming up... */
const CACHE_SPEEDUP_RATIO = 0.7;
/** ...if they also save this much: a fast eval's start-up jitter (bytecode, disk cache) is not a cache. */
const CACHE_MIN_SAVING_S = 0.25;
/** Expected eval runs per iteration (bench/decision.ts figures). */
const RUNS_PER_ITERATION = { deterministic: 1.1, noisy: 3.0 };

/** Run the eval on the unchanged code and read its noise, guard and cache from the runs. */
export async function measure(context: Context): Promise<Measured> {
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
