// next-round's second half: write what next-round-plan.ts planned (backing up any round N+1
// artifact --force replaces), then save the experiment file last, so an interrupted run never
// points the scripts at a half-written round; and describe the result for stdout (a file list
// or one JSON object) and for the person (warnings, the next steps). It validates nothing.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { displayPath, saveExperiment } from "../experiment/experiment-file.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import type { NextRoundPlan } from "./plan.ts";

export type NextRoundResult = { plan: NextRoundPlan; written: string[]; backupDir: string | null };

export function applyNextRoundPlan(plan: NextRoundPlan): NextRoundResult {
  let backupDir: string | null = null;
  const displaced = [...plan.replaced, ...plan.stale];
  if (displaced.length > 0) {
    backupDir = join(plan.stateDir, "backups", `next-round-${plan.round}-${new Date().toISOString().replace(/[:.]/g, "-")}`);
    const home = dirname(plan.stateDir);
    for (const path of displaced) {
      const target = join(backupDir, relative(home, path).replace(/\.\.(\/|\\)/g, "_up_$1"));
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(path, target);
    }
    // A report or dashboard left from an earlier attempt at this round would describe the wrong run.
    for (const path of plan.stale) if (existsSync(path)) renameSync(path, join(backupDir, `${basename(path)}.moved`));
  }
  const written: string[] = [];
  for (const file of plan.files) {
    writeFileAtomic(file.path, file.content);
    if (file.mode !== undefined) chmodSync(file.path, file.mode);
    written.push(file.path);
  }
  if (plan.experimentPath && plan.experiment) {
    saveExperiment(plan.experimentPath, plan.experiment);
    written.push(plan.experimentPath);
  }
  return { plan, written, backupDir };
}

/** stdout's file list: one written path per line (relative to `cwd` when shorter), with its role. */
export function describeWrittenFiles(result: NextRoundResult, cwd: string): string {
  const roles = new Map(result.plan.files.map((file) => [file.path, file.role]));
  if (result.plan.experimentPath) roles.set(result.plan.experimentPath, `experiment file (current_round ${result.plan.round}, round ${result.plan.fromRound} closed)`);
  const shown = result.written.map((path) => displayPath(path, cwd));
  const width = Math.max(...shown.map((path) => path.length));
  return shown.map((path, index) => `${path.padEnd(width)}  ${roles.get(result.written[index]) ?? ""}`.trimEnd()).join("\n");
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
    warnings: [...(plan.coOptimization ? [plan.coOptimization] : []), ...plan.warnings, ...plan.cannotDo.map((what) => `without an experiment file: ${what}`)],
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
