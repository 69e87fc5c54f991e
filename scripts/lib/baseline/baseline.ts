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
