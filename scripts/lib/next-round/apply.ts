// next-round's second half: take the experiment lock around planning and writing, write what
// plan.ts planned (backing up any round N+1 artifact --force replaces), then save the
// experiment file last, so an interrupted run never points the scripts at a half-written round;
// and describe the result for stdout (a file list or one JSON object) and for the person
// (warnings, the next steps). It validates nothing and prints nothing.
import { dirname } from "node:path";
import { experimentStateDir, saveExperiment } from "../experiment/experiment-file.ts";
import { displayPath } from "../files/paths.ts";
import { backUpReplaced, describeWritten, writePlanned } from "../files/planned-writes.ts";
import { locateRoundN, type NextRoundOptions, type NextRoundPlan, planFromExperiment } from "./plan.ts";
import { planFromJournal } from "./from-journal.ts";
import { withExperimentLock } from "../files/lock.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";

export type NextRoundResult = { plan: NextRoundPlan; written: string[]; backupDir: string | null };

/**
 * Plan and write round N+1. With an experiment file both happen under the experiment lock,
 * after a step an earlier run decided is finished (round N's journal must be complete before
 * it is summarised); journal-only use has no harness state to lock.
 */
export async function startNextRound(
  options: NextRoundOptions,
  notes: (message: string) => void,
): Promise<NextRoundResult> {
  const source = await locateRoundN(options);
  if (source.mode === "journal") return applyNextRoundPlan(await planFromJournal(source.repoRoot, options));
  const stateDir = experimentStateDir(source.loaded);
  return withExperimentLock({ stateDir, command: "next-round.ts", notes }, async () => {
    await recoverInterruptedWork(source.loaded, stateDir, notes, { requireBranch: false });
    return applyNextRoundPlan(await planFromExperiment(source.loaded, source.repoRoot, options));
  });
}

export function applyNextRoundPlan(plan: NextRoundPlan): NextRoundResult {
  // A report or dashboard left from an earlier attempt at this round would describe the wrong run: it moves into the backup.
  const backupDir = backUpReplaced({
    stateDir: plan.stateDir,
    label: `next-round-${plan.round}`,
    home: dirname(plan.stateDir),
    replaced: plan.replaced,
    stale: plan.stale,
  });
  const written = writePlanned(plan.files);
  if (plan.experimentPath && plan.experiment) {
    saveExperiment(plan.experimentPath, plan.experiment);
    written.push(plan.experimentPath);
  }
  return { plan, written, backupDir };
}

/** stdout's file list: one written path per line (relative to `cwd` when shorter), with its role. */
export function describeWrittenFiles(result: NextRoundResult, cwd: string): string {
  const roles = new Map(result.plan.files.map((file) => [file.path, file.role]));
  if (result.plan.experimentPath) {
    roles.set(
      result.plan.experimentPath,
      `experiment file (current_round ${result.plan.round}, round ${result.plan.fromRound} closed)`,
    );
  }
  return describeWritten(result.written, roles, cwd);
}

/** The --json object: the new round, its files, round N's figures and the warnings. */
export function nextRoundJson(result: NextRoundResult, cwd: string): Record<string, unknown> {
  const { plan } = result;
  const previous = plan.digests[plan.digests.length - 1];
  const summary = previous.summary;
  return {
    round: plan.round,
    previous_round: plan.fromRound,
    mode: plan.mode,
    experiment: plan.experimentPath ? displayPath(plan.experimentPath, cwd) : null,
    files: result.written.map((path) => displayPath(path, cwd)),
    replaced: plan.replaced.map((path) => displayPath(path, cwd)),
    backup: result.backupDir ? displayPath(result.backupDir, cwd) : null,
    constrained_files: plan.constrainedFiles,
    summary: {
      start: summary.start,
      best: summary.best.score,
      best_iteration: summary.best.iteration,
      best_commit: summary.best.commit,
      improvement: summary.improvement.absolute,
      iterations: summary.iterations.done,
      kept: summary.counts.keep,
      discarded: summary.counts.discard,
      crashed: summary.counts.crash,
      guard_failures: summary.counts.guard_fail,
      dead_ends: summary.deadEnds.map((group) => ({ key: group.key, iterations: group.iterations })),
      crashes: summary.crashes,
      plateau: summary.plateau.reached,
      iterations_since_last_keep: summary.plateau.sinceLastKeep,
      levers_never_touched: previous.untouchedLevers,
      report: previous.report?.path ?? null,
    },
    rounds_summarised: plan.digests.map((digest) => digest.round),
    warnings: [
      ...(plan.coOptimization ? [plan.coOptimization] : []),
      ...plan.warnings,
      ...plan.cannotDo.map((what) => `without an experiment file: ${what}`),
    ],
    next: plan.next,
  };
}

/** What the person does next (stderr). */
export function describeNextSteps(plan: NextRoundPlan): string {
  const lines: string[] = [];
  if (plan.cannotDo.length > 0) {
    lines.push("No experiment file, so next-round worked from the journal alone and could not:");
    for (const what of plan.cannotDo) lines.push(`  - ${what}`);
  }
  lines.push("Next:", ...plan.next.map((step, index) => `  ${index + 1}. ${step}`));
  return lines.join("\n");
}
