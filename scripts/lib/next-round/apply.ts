// next-round's second half: take the experiment lock around planning and writing, write what
// plan.ts planned (backing up any round N+1 artifact --force replaces), then save the
// experiment file last, so an interrupted run never points the scripts at a half-written round,
// and commit the round's harness files on the experiment branch (a clean `git status`); and
// describe the result for stdout (a file list or one JSON object) and for the person
// (warnings, the next steps). A dry run plans only. It validates nothing and prints nothing.
import { kitCommand } from "../cli/kit.ts";
import { existsSync } from "node:fs";
import { dirname, relative } from "node:path";
import { experimentStateDir, type LoadedExperiment, saveExperiment } from "../experiment/experiment-file.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { backUpReplaced, describeWritten, writePlanned } from "../files/planned-writes.ts";
import { currentBranch, headCommit, shortCommit } from "../git/git.ts";
import { commitHarnessState, describeHarnessCommit } from "../baseline/record.ts";
import { formatMetric } from "../text/number-format.ts";
import { locateRoundN, type NextRoundOptions, type NextRoundPlan, planFromExperiment } from "./plan.ts";
import { planFromJournal } from "./from-journal.ts";
import { withExperimentLock } from "../files/lock.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";

/** `written`: the files written, or on a dry run the files that would be; nothing else is touched then. */
export type NextRoundResult = { plan: NextRoundPlan; written: string[]; backupDir: string | null; dryRun: boolean };

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
  if (options.dryRun) {
    // No lock and no recovery: both write. A step an earlier run left pending is finished by the real run.
    const plan = source.mode === "journal"
      ? await planFromJournal(source.repoRoot, options)
      : await planFromExperiment(source.loaded, source.repoRoot, options);
    return { plan, written: plannedPaths(plan), backupDir: null, dryRun: true };
  }
  if (source.mode === "journal") return applyNextRoundPlan(await planFromJournal(source.repoRoot, options));
  const { loaded } = source;
  const stateDir = experimentStateDir(loaded);
  return withExperimentLock({ stateDir, command: "next-round.ts", notes }, async () => {
    await recoverInterruptedWork(loaded, stateDir, notes, { requireBranch: false });
    const parent = headCommit(loaded.root);
    const result = applyNextRoundPlan(await planFromExperiment(loaded, source.repoRoot, options));
    if (parent) notes(commitRoundFiles(loaded, stateDir, result.plan, parent));
    return result;
  });
}

/** The files a run would write, in order: what `writePlanned` writes, then the experiment file. */
function plannedPaths(plan: NextRoundPlan): string[] {
  const files = plan.files.filter((file) => !(file.onlyIfMissing && existsSync(file.path))).map((file) => file.path);
  return plan.experimentPath && plan.experiment ? [...files, plan.experimentPath] : files;
}

/**
 * Commit the experiment file and round N+1's instructions, launch prompt and eval copy (the
 * journal and dashboard are excluded from git) on the experiment's branch; on another branch
 * they are left uncommitted. Returns the line for the person.
 */
function commitRoundFiles(loaded: LoadedExperiment, stateDir: string, plan: NextRoundPlan, parent: string): string {
  const round = plan.experiment?.rounds.find((candidate) => candidate.round === plan.round);
  if (!plan.experiment || !round) return "";
  const branch = currentBranch(loaded.root);
  const experimentFile = relative(loaded.root, loaded.path);
  const paths = [
    experimentFile,
    ...[round.artifacts.instructions, round.artifacts.launch_prompt, round.eval.script, ...restoredFiles(plan)]
      .filter((path): path is string => Boolean(path))
      .map((path) => relative(loaded.root, resolveIn(loaded.root, path))),
  ];
  if (plan.experiment.branch && branch !== plan.experiment.branch) {
    return `Left round ${plan.round}'s files uncommitted: HEAD is on ${
      branch ? `branch "${branch}"` : "no branch"
    }, not the experiment's branch "${plan.experiment.branch}". Commit them there to keep the work tree clean.${
      restoredNote(plan)
    }`;
  }
  const best = plan.digests[plan.digests.length - 1]?.summary.best.score ?? null;
  const start = plan.startingPoint;
  const harness = commitHarnessState(loaded.root, stateDir, {
    parent,
    experimentFile,
    paths,
    message: start && start.restored.length > 0
      ? `autoresearch: start round ${plan.round} from #${start.iteration} of round ${plan.fromRound} (best held-out score) | score: ${
        formatMetric(start.score)
      }`
      : `autoresearch: start round ${plan.round} | best of round ${plan.fromRound}: ${formatMetric(best)}`,
  });
  const line = describeHarnessCommit(harness, harness.committed ? shortCommit(loaded.root, harness.commit) : "");
  return harness.committed ? line : `${line}${restoredNote(plan)}`;
}

/**
 * When the files --from-best-holdout wrote back could not be committed: say so, and how to keep
 * them. Setting them aside (git stash) would bring back round N's last keep, the very code the
 * held-out set argued against.
 */
function restoredNote(plan: NextRoundPlan): string {
  const restored = restoredFiles(plan);
  if (restored.length === 0) return "";
  const files = restored.join(" ");
  return ` The files written back from #${plan.startingPoint?.iteration} (${files}) are not committed either: commit them (git add ${files} && git commit -m "start round ${plan.round}") before ${
    kitCommand("baseline")
  }, and do not stash them: that would bring back round ${plan.fromRound}'s last keep.`;
}

/** Round N's constrained files --from-best-holdout wrote back: committed with the round's files, so baseline measures them. */
function restoredFiles(plan: NextRoundPlan): string[] {
  return plan.startingPoint?.restored ?? [];
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
  return { plan, written, backupDir, dryRun: false };
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
    ...(result.dryRun ? { dry_run: true } : {}),
    round: plan.round,
    previous_round: plan.fromRound,
    mode: plan.mode,
    experiment: plan.experimentPath ? displayPath(plan.experimentPath, cwd) : null,
    files: result.written.map((path) => displayPath(path, cwd)),
    replaced: plan.replaced.map((path) => displayPath(path, cwd)),
    backup: result.backupDir ? displayPath(result.backupDir, cwd) : null,
    constrained_files: plan.constrainedFiles,
    ...(plan.objective ? { objective: plan.objective } : {}),
    ...(plan.startingPoint
      ? {
        starting_point: {
          iteration: plan.startingPoint.iteration,
          status: plan.startingPoint.status,
          commit: plan.startingPoint.commit,
          restored: plan.startingPoint.restored,
          why: plan.startingPoint.why,
        },
      }
      : {}),
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
