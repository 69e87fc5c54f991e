// The sensitivity probe: break the constrained file, run the eval once, restore the file, and
// judge whether anything the eval printed moved beyond its noise — the score, every named metric,
// the guard, each CASE line — or whether it crashed. compareWithBaseline is that judgement, pure
// (runs in, verdict out); probeSensitivity is the edge that runs the probe. Neither decides
// whether an insensitive eval is refused (baseline.ts does), nor how the file is broken (probe.ts).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { evalRunner } from "../process/eval-runner.ts";
import { type EvalRun, runEval } from "../process/evaluator.ts";
import { evalReading } from "../experiment/objective.ts";
import { experimentStateDir, type LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import { resolveIn } from "../files/paths.ts";
import { restoreBackup, restoreBackupReport, saveBackup } from "../files/backup.ts";
import { sha256OfText, writeFileAtomic } from "../files/atomic.ts";
import { restoreFileFromCommit } from "../git/git.ts";
import { kitCommand } from "../cli/kit.ts";
import { breakSource } from "./probe.ts";
import { mean, sampleStandardDeviation, studentTQuantile } from "../decision/stats.ts";
import type { StatusLine } from "../cli/status-line.ts";

/**
 * The chance that an eval the broken file does not reach is still called sensitive because
 * some noisy signal wandered: shared by all the noisy signals compared (Bonferroni), so an
 * eval printing 24 noisy timing cases is held to the same rate as one printing a single score.
 */
const PROBE_FALSE_ALARM = 0.01;
/** Significant digits of a value quoted in the probe note. */
const NOTE_DIGITS = 6;

/** What the comparison reads of one eval run. */
export type ProbeRun = Pick<EvalRun, "score" | "guard" | "metrics" | "cases">;

export type SignalKind = "score" | "metric" | "guard" | "case";

/**
 * One signal that moved. `from` is the baseline mean (null: the baseline never printed it);
 * `to` is the probe's value (null: the probe stopped printing it). `exact`: the baseline runs
 * that printed it printed one value, so any change beyond half the resolution counts.
 */
export type SignalMove = {
  kind: SignalKind;
  name: string;
  from: number | null;
  to: number | null;
  tolerance: number;
  exact: boolean;
};

export type Sensitivity = { compared: number; moved: SignalMove[] };

export type SensitivityProbe = {
  method: string;
  sensitive: boolean;
  score: number | null;
  crashed: boolean;
  note: string;
  moved: SignalMove[];
};

type Signal = { kind: SignalKind; name: string; read: (run: ProbeRun) => number | null };

/**
 * Compare the probe run with the baseline runs, signal by signal. A signal's tolerance is
 * half the resolution when the baseline runs printed one value, else its noise tolerance
 * (a prediction interval corrected for the number of noisy signals, see noiseTolerance). A signal every baseline run printed
 * and the probe did not has moved, and so has one only the probe printed; one that only some
 * baseline runs printed is compared on its values alone. Moves come strongest first: exact
 * signals and ones that appeared or vanished, in signal order (score, guard, metrics, cases),
 * then noisy ones by distance in tolerances.
 * Example (resolution 1e-4): baseline runs { score 1.3, accuracy 1 } and { score 1.5, accuracy 1 },
 * probe { score 1.35, accuracy 0 } -> moved: [accuracy from 1 to 0]; the score stayed within noise.
 */
export function compareWithBaseline(
  baselineRuns: readonly ProbeRun[],
  probe: ProbeRun,
  options: { resolution: number; guardMetric?: string | null },
): Sensitivity {
  const moved: { move: SignalMove; certain: boolean; strength: number; position: number }[] = [];
  const signals = signalsOf([...baselineRuns, probe], options.guardMetric ?? null);
  const printedBy = signals.map((signal) =>
    baselineRuns.map(signal.read).filter((value): value is number => value !== null)
  );
  const isExact = (printed: number[]) =>
    printed.length === 0 || Math.max(...printed) - Math.min(...printed) <= options.resolution / 2;
  const noisyCount = Math.max(1, printedBy.filter((printed) => !isExact(printed)).length);
  signals.forEach((signal, index) => {
    const printed = printedBy[index];
    const from = mean(printed);
    const to = signal.read(probe);
    const exact = isExact(printed);
    const tolerance = Math.max(options.resolution / 2, exact ? 0 : noiseTolerance(printed, noisyCount));
    const move = { kind: signal.kind, name: signal.name, from, to, tolerance, exact };
    const position = moved.length;
    if (to === null || from === null) {
      const presenceChanged = to === null ? printed.length > 0 && printed.length === baselineRuns.length : true;
      if (presenceChanged) moved.push({ move, certain: true, strength: 0, position });
    } else if (Math.abs(to - from) > tolerance) {
      moved.push({ move, certain: exact, strength: Math.abs(to - from) / tolerance, position });
    }
  });
  const ranked = moved.sort((a, b) =>
    Number(b.certain) - Number(a.certain) || (a.certain ? 0 : b.strength - a.strength) || a.position - b.position
  );
  return { compared: signals.length, moved: ranked.map((entry) => entry.move) };
}

/**
 * How far one new run of a noisy signal may land from the baseline mean by chance: the
 * Student-t prediction interval q × sd × sqrt(1 + 1/n) at level PROBE_FALSE_ALARM / noisyCount
 * (two-sided). With 3 baseline runs and one noisy signal q is 9.9: three runs say little
 * about the spread, and a probe that mistakes noise for sensitivity would pass a stale cache.
 */
function noiseTolerance(printed: number[], noisyCount: number): number {
  const sd = sampleStandardDeviation(printed) ?? 0;
  const quantile = studentTQuantile(1 - PROBE_FALSE_ALARM / (2 * noisyCount), printed.length - 1) ??
    Number.POSITIVE_INFINITY;
  return quantile * sd * Math.sqrt(1 + 1 / printed.length);
}

/**
 * Every signal any run printed, in a fixed order: the score, the guard, named metrics, cases.
 * The guard is read from a metric (evaluator.ts), so it is its own signal only when no run
 * printed that metric under its name.
 */
function signalsOf(runs: readonly ProbeRun[], guardMetric: string | null): Signal[] {
  const signals: Signal[] = [{ kind: "score", name: "score", read: (run) => run.score }];
  const metricNames = new Set(runs.flatMap((run) => Object.keys(run.metrics)));
  const guardName = (guardMetric ?? "guard").toLowerCase();
  if (runs.some((run) => run.guard !== null) && !metricNames.has(guardName)) {
    signals.push({ kind: "guard", name: guardName, read: (run) => run.guard });
  }
  // The guard's own metric leads the metrics: a guard that moved is the clearest note.
  const ordered = [...metricNames].sort((a, b) => Number(b === guardName) - Number(a === guardName));
  for (const name of ordered) signals.push({ kind: "metric", name, read: (run) => run.metrics[name] ?? null });
  const caseIds = new Set(runs.flatMap((run) => Object.keys(run.cases ?? {})));
  for (const id of caseIds) signals.push({ kind: "case", name: id, read: (run) => run.cases?.[id] ?? null });
  return signals;
}

/** One move in words: describeMove({ kind: "metric", name: "accuracy", from: 1, to: 0, ... }) -> "accuracy moved from 1 to 0" */
export function describeMove(move: SignalMove): string {
  const label = move.kind === "score" ? "the score" : move.kind === "case" ? `case "${move.name}"` : move.name;
  if (move.to === null) return `${label} was no longer printed (it was ${formatValue(move.from)})`;
  if (move.from === null) return `${label} appeared (${formatValue(move.to)})`;
  return `${label} moved from ${formatValue(move.from)} to ${formatValue(move.to)}`;
}

function formatValue(value: number | null): string {
  return value === null ? "nothing" : String(Number(value.toPrecision(NOTE_DIGITS)));
}

export type ProbeOptions = {
  /** The baseline's runs of the unchanged file, every one successful. */
  baselineRuns: readonly EvalRun[];
  resolution: number;
  status: StatusLine;
  notes: (message: string) => void;
};

/**
 * Break the file, run the eval once, restore it with the same git restore that
 * iterate uses, and check the bytes. A backup written first makes it kill-safe.
 */
export async function probeSensitivity(
  loaded: LoadedExperiment,
  round: Round,
  options: ProbeOptions,
): Promise<SensitivityProbe> {
  const { experiment, root } = loaded;
  const stateDir = experimentStateDir(loaded);
  const file = round.constrained_files[0];
  const absolute = resolveIn(root, file);
  const original = readFileSync(absolute);
  // Only the generated eval is known to call the entry; an eval of the owner's (or one an agent
  // wrote) may reach the file another way, so the whole module is broken instead.
  const entryCalled = round.eval.script !== null && !experiment.entry?.file ? experiment.entry?.name ?? null : null;
  const broken = breakSource(original.toString("utf8"), experiment.language, entryCalled);
  const guardMetric = experiment.guard?.metric ?? null;
  saveBackup(stateDir, [{ file: absolute, content: original, temporary: broken.text }], "sensitivity probe");
  const logPath = join(stateDir, "logs", `baseline-round${round.round}-probe.log`);
  let run: EvalRun;
  try {
    writeFileAtomic(absolute, broken.text);
    options.status.update(`sensitivity probe: ${broken.method}…`);
    run = await runEval(round.eval.command, {
      cwd: root,
      timeoutS: round.eval.timeout_s,
      logPath,
      ...evalReading(experiment),
      runner: evalRunner(experiment.name, round, {
        iteration: "baseline",
        run: "probe",
        notes: options.notes,
        status: options.status,
      }),
    });
    options.status.clear();
  } finally {
    // Someone who edited the file during the probe keeps the edit; the original stays in a backup.
    if (!existsSync(absolute) || sha256OfText(readFileSync(absolute)) !== sha256OfText(broken.text)) {
      const restored = restoreBackupReport(stateDir);
      throw new CliError(
        `"${file}" changed while the sensitivity probe had it broken, so the probe cannot be judged; nothing was recorded. ${
          restored.note ?? ""
        } Re-run ${kitCommand("baseline")} when the file is as you want it.`,
        "E_RACE",
        EXIT.FAILED,
      );
    }
    // A failed or wrong git restore must still leave the original bytes behind.
    let problem: string | null = null;
    try {
      await restoreFileFromCommit(root, "HEAD", file);
      if (!existsSync(absolute)) problem = "deleted it";
      else if (sha256OfText(readFileSync(absolute)) !== sha256OfText(original)) {
        problem = "did not give back the same bytes (line endings or a filter?)";
      }
    } catch (error) {
      problem = `failed (${(error as Error).message.split("\n")[0]})`;
    }
    // The wrong bytes are the harness's own write: put the original back, then clear the backup.
    if (problem) writeFileAtomic(absolute, original);
    restoreBackup(stateDir);
    if (problem) {
      throw new CliError(
        `Restoring "${file}" from git ${problem}; it was restored from a backup instead, but iterate.ts restores discarded changes the same way. Check .gitattributes and where the experiment file sits in the repository before running iterations.`,
        "E_REVERT",
        EXIT.FAILED,
      );
    }
  }
  const moved = run.ok
    ? compareWithBaseline(options.baselineRuns, run, { resolution: options.resolution, guardMetric }).moved
    : [];
  const sensitive = !run.ok || moved.length > 0;
  const prefix = `Sensitivity probe: with the file broken (${broken.method})`;
  const others = moved.length > 1 ? ` (${moved.length - 1} other signal${moved.length > 2 ? "s" : ""} moved too)` : "";
  const note = !run.ok
    ? `${prefix} the eval crashed (${run.crashReason}) — it does exercise the file.`
    : sensitive
    ? `${prefix} ${describeMove(moved[0])}${others} — the eval exercises the file.`
    : `${prefix} the score stayed at ${run.score}: the eval does not exercise "${file}" (a stale cache, or the eval imports another copy).`;
  options.notes(note);
  return { method: broken.method, sensitive, score: run.ok ? run.score : null, crashed: !run.ok, note, moved };
}
