// The seed's "validate before launch" phase as code, under the experiment lock: preflight
// (preflight.ts), measure the eval's noise, guard and cache (measure.ts), probe that the eval
// exercises the constrained file and refuse one it does not reach (the refusal here, the probe
// in sensitivity.ts), and record the baseline (record.ts). It never changes the constrained
// file except inside the guarded probe.
import { CliError, EXIT } from "../cli/errors.ts";
import { experimentStateDir, findRound, type LoadedExperiment } from "../experiment/experiment-file.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { assertJournalWritable } from "../experiment/journal.ts";
import { withExperimentLock } from "../files/lock.ts";
import { probeSensitivity } from "./sensitivity.ts";
import { preflight } from "./preflight.ts";
import { measure } from "./measure.ts";
import { record } from "./record.ts";
import type { BaselineOptions, BaselineReport, Context, Measured, Probed } from "./report.ts";
import {
  commandReadingHoldout,
  HOLDOUT_ENV,
  holdoutRuns,
  measureHoldout,
  probeHoldoutReach,
} from "../harness/holdout-set.ts";
import { roundMeasure } from "../text/number-format.ts";
import { mean } from "../decision/stats.ts";
import { kitCommand } from "../cli/kit.ts";

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
    const holdout = await measureHeldOut(context, measured);
    return await record(context, ready, { ...measured, holdout }, probed);
  });
}

/** Break the constrained file for one run (kill-safe) and refuse an eval the break does not reach. */
async function probe(context: Context, measured: Measured): Promise<Probed> {
  const { loaded, round, options } = context;
  const result = await probeSensitivity(loaded, round, {
    baselineRuns: measured.evalRuns,
    resolution: measured.calibration.resolution,
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
 * The held-out set on the unchanged code, after the main runs: first one run on a test data file
 * that does not exist, to refuse an eval that never reads AUTORESEARCH_TEST_DATA (it would score
 * its own test data as the held-out set); then as many runs as each later measurement takes (one
 * for a deterministic eval, else the baseline's). A crash stops the baseline: every later
 * held-out figure is compared with this one.
 */
async function measureHeldOut(context: Context, measured: Measured): Promise<Measured["holdout"]> {
  const { loaded, round, stateDir, options } = context;
  const { holdout } = loaded.experiment;
  if (!holdout) return null;
  const { calibration, evalRuns } = measured;
  const scores = evalRuns.map((run) => run.score!);
  const withCases = evalRuns.find((run) => run.cases);
  const reach = await probeHoldoutReach({
    root: loaded.root,
    stateDir,
    experiment: loaded.experiment,
    round,
    testData: {
      scores,
      deterministic: calibration.deterministic && scores.length >= 2,
      resolution: calibration.resolution,
      caseIds: withCases?.cases ? Object.keys(withCases.cases) : null,
    },
    status: options.status,
  });
  if (reach.kind === "ignores") {
    // A command that names its test data can read the variable itself: say exactly how.
    const reading = loaded.experiment.test_data === null
      ? null
      : commandReadingHoldout(round.eval.command, loaded.experiment.test_data);
    const testData = loaded.experiment.test_data;
    const byArgument = testData === null
      ? ""
      : `, or, if it takes its data path as an argument, pass "\${${HOLDOUT_ENV}:-${testData}}" to it in eval.command of "${
        displayPath(loaded.path)
      }"`;
    const fix = reading === null
      ? `Make the eval load the file ${HOLDOUT_ENV} names when it is set (and fail when that file is missing)${byArgument}`
      : `Its command names the test data: make it ${reading} in "${displayPath(loaded.path)}" (eval.command)`;
    throw new CliError(
      `The eval does not read its test data from ${HOLDOUT_ENV}: run with it naming a file that does not exist, it still scored ${reach.score}, ${
        reach.sameCases === null
          ? `as on its own test data (mean ${roundMeasure(mean(scores))})`
          : `on the same ${reach.sameCases} cases as its own test data`
      }, so the held-out set would never be scored. ${fix}, then re-run ${kitCommand("baseline")}`,
      "E_HOLDOUT",
      EXIT.FAILED,
    );
  }
  if (reach.kind === "unclear") {
    context.warn(
      `The eval scored a test data file that does not exist as ${reach.score}, within the noise of its own test data's score: it may not read ${HOLDOUT_ENV} at all, and then every held-out score is its eval-set score again. Make it load the file ${HOLDOUT_ENV} names when set and fail when that file is missing (CASE lines let baseline tell for sure).`,
    );
  }
  if (reach.kind === "scores_missing_file") {
    context.warn(
      `The eval scored a test data file that does not exist as ${reach.score} instead of failing: should the held-out file go missing, its score would look like a collapse. Make the eval fail when the file ${HOLDOUT_ENV} names is missing.`,
    );
  }
  const runsPerMeasure = holdoutRuns(holdout, measured.calibration.deterministic, options.runs);
  const measure = await measureHoldout({
    root: loaded.root,
    stateDir,
    experiment: loaded.experiment,
    round,
    label: "baseline",
    runs: runsPerMeasure,
    status: options.status,
  });
  if (measure.score === null) {
    throw new CliError(
      `The eval could not score the held-out set: ${measure.note}. A generated eval reads it from ${HOLDOUT_ENV}; an eval you brought must too. Fix that, then re-run ${
        kitCommand("baseline")
      }`,
      "E_HOLDOUT",
      EXIT.FAILED,
    );
  }
  options.notes(
    `Held-out set: ${measure.score} over ${runsPerMeasure} run${
      runsPerMeasure === 1 ? "" : "s"
    } (in no instruction or prompt of the agent's).`,
  );
  return { measure, runsPerMeasure };
}
