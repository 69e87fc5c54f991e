// finalize: from a round's journal (and the experiment file when there is one) to a reviewable
// branch off the base and a pull request body beside the journal. It reads the journal and git,
// builds the branch with build.ts and writes one file, the body; it never measures anything and
// never touches the work tree, git's index, HEAD or the experiment branch.
import { existsSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { CliError } from "../cli/errors.ts";
import { kitCommand } from "../cli/kit.ts";
import { resolveDashboardTarget } from "../dashboard/target.ts";
import { iterationResults, readJournal, type ResultLine } from "../experiment/journal.ts";
import { summarizeJournal } from "../experiment/summary.ts";
import { findRound } from "../experiment/experiment-file.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { displayPath } from "../files/paths.ts";
import { commitsDifferIn, requireRepositoryRoot, resolveCommit } from "../git/git.ts";
import { type Base, findBase } from "./base.ts";
import { buildFinalBranch, type BuiltBranch, type KeepToApply } from "./build.ts";
import { keepCommitMessage, keepFigures, renderPullRequestBody, squashCommitMessage } from "./pr-body.ts";

export type FinalizeOptions = {
  cwd: string;
  experiment?: string;
  journal?: string;
  round?: number;
  base?: string;
  branch?: string;
  body?: string;
  squash: boolean;
  force: boolean;
};

export type FinalizeResult = {
  built: BuiltBranch;
  base: Base;
  experimentBranch: string | null;
  bodyPath: string;
  body: string;
  round: number | null;
  /** The base's constrained files differ from the round's starting point: the keeps were carried onto other code. */
  baseDiffers: { files: string[]; anchor: string } | null;
};

export function finalizeRound(options: FinalizeOptions): FinalizeResult {
  const { cwd } = options;
  requireRepositoryRoot(cwd, kitCommand("finalize", { cwd }));
  const target = resolveDashboardTarget({
    cwd,
    experiment: options.experiment,
    journal: options.journal,
    round: options.round,
  });
  const journal = readJournal(target.journalPath, displayPath(target.journalPath, cwd));
  const summary = summarizeJournal(journal, { experiment: target.experiment, round: target.round });
  // Git paths are relative to the experiment's folder, where the constrained files are named from.
  const root = dirname(target.experimentPath ?? target.journalPath);
  const name = target.experiment?.name ?? journal.config?.name ?? basename(root);
  const experimentBranch = target.experiment ? target.experiment.branch ?? `autoresearch/${name}` : null;
  const kept = summary.kept.filter((keep) => keep.commit !== null);
  if (kept.length === 0) {
    throw new CliError(
      `${displayPath(target.journalPath, cwd)} records no kept change with a commit: nothing to finalize. ` +
        `Run: ${kitCommand("iterate", { cwd })} --loop`,
      "E_NO_KEEPS",
    );
  }
  const lines = new Map<number, ResultLine>(iterationResults(journal).map((line) => [line.iteration, line]));
  const keeps = kept.map((keep) => ({ keep, figures: keepFigures(keep, lines.get(keep.iteration)) }));

  const roundNumber = summary.round;
  const branch = options.branch ??
    `${experimentBranch ?? `autoresearch/${name}`}-final${
      roundNumber && roundNumber > 1 ? `-round${roundNumber}` : ""
    }`;
  const anchor = baselineAnchor(root, target, lines, kept[0].commit!);
  const base = findBase(root, anchor, {
    reference: options.base,
    experimentBranch,
    exclude: [branch, ...(experimentBranch ? [experimentBranch] : [])],
  });
  const toApply: KeepToApply[] = keeps.map(({ keep, figures }) => ({
    iteration: keep.iteration,
    description: keep.description,
    commit: keep.commit!,
    message: keepCommitMessage(summary, keep, figures, experimentBranch),
  }));
  const built = buildFinalBranch({
    root,
    base: base.commit,
    files: summary.constrainedFiles,
    keeps: toApply,
    branch,
    squash: options.squash ? { message: squashCommitMessage(summary, keeps, name) } : null,
    force: options.force,
    protectedBranches: [...(experimentBranch ? [experimentBranch] : []), base.ref],
  });

  const bodyPath = options.body
    ? resolve(cwd, options.body)
    : join(dirname(target.journalPath), `autoresearch_pr_round${roundNumber ?? 1}.md`);
  const finalCommits = new Map(built.commits.map((commit) => [commit.iteration, commit.commit]));
  const baseDiffers = commitsDifferIn(root, anchor, base.commit, summary.constrainedFiles)
    ? { files: summary.constrainedFiles, anchor }
    : null;
  const body = renderPullRequestBody({
    summary,
    name,
    keeps: keeps.filter(({ keep }) => !built.empty.some((empty) => empty.iteration === keep.iteration))
      .map(({ keep, figures }) => ({ keep, figures, finalCommit: finalCommits.get(keep.iteration) ?? null })),
    branch,
    base: { ref: base.ref, commit: base.commit },
    experimentBranch,
    chart: existsSync(target.chartPath) ? relative(dirname(bodyPath), target.chartPath) : null,
    journal: relative(root, target.journalPath) || basename(target.journalPath),
    baseDiffers,
  });
  writeFileAtomic(bodyPath, body);
  return { built, base, experimentBranch, bodyPath, body, round: roundNumber, baseDiffers };
}

/**
 * The commit the round started from: the experiment file's baseline record, else the journal's
 * baseline line, else the first keep's parent. The base is the branch that forked nearest to it.
 */
function baselineAnchor(
  root: string,
  target: ReturnType<typeof resolveDashboardTarget>,
  lines: Map<number, ResultLine>,
  firstKeep: string,
): string {
  const recorded = target.experiment ? findRound(target.experiment, target.round ?? undefined).baseline?.commit : null;
  for (const reference of [recorded, lines.get(0)?.commit, `${firstKeep}^`]) {
    const commit = reference ? resolveCommit(root, reference) : null;
    if (commit) return commit;
  }
  throw new CliError(
    `The round's baseline commit and first keep ${firstKeep} are not in this repository. Run: finalize.ts --base BRANCH`,
    "E_NO_BASE",
  );
}

/** The --json object: branch, base, commits, body path and text. */
export function finalizeJson(result: FinalizeResult, cwd: string): Record<string, unknown> {
  const { built, base } = result;
  return {
    branch: built.branch,
    outcome: built.outcome,
    tip: built.tip,
    previous_tip: built.previousTip,
    base: {
      ref: base.ref,
      commit: base.commit,
      fork_point: base.forkPoint,
      how: base.how,
      differs_from_start: result.baseDiffers !== null,
    },
    experiment_branch: result.experimentBranch,
    round: result.round,
    commits: built.commits.map((commit) => ({
      iteration: commit.iteration,
      commit: commit.commit,
      experiment_commit: commit.experimentCommit,
      subject: commit.subject,
    })),
    skipped: built.empty.map((keep) => ({
      iteration: keep.iteration,
      commit: keep.commit,
      reason: "no constrained-file change",
    })),
    body_path: displayPath(result.bodyPath, cwd),
    body: result.body,
  };
}

/** The lines a person reads: the branch, its commits, the base, the body, and how to recover a moved branch. */
export function describeFinalBranch(result: FinalizeResult, cwd: string): string {
  const { built, base } = result;
  const verb = built.outcome === "unchanged"
    ? "is already up to date"
    : built.outcome === "moved"
    ? `moved (was ${built.previousTip!.slice(0, 7)})`
    : "created";
  const lines = [
    `${built.branch} ${verb}: ${built.commits.length} commit${built.commits.length === 1 ? "" : "s"} on ${base.ref} (${
      base.commit.slice(0, 7)
    }, ${base.how})`,
    ...built.commits.map((commit) =>
      `  ${commit.commit.slice(0, 7)} ${commit.iteration !== null ? `#${commit.iteration} ` : ""}${commit.subject}`
    ),
    `PR body: ${displayPath(result.bodyPath, cwd)}`,
  ];
  return lines.join("\n");
}

export function finalizeNotes(result: FinalizeResult): string[] {
  const { built } = result;
  const notes = built.empty.map((keep) =>
    `#${keep.iteration} ("${keep.description}") changed no constrained file; it has no commit on ${built.branch}.`
  );
  if (built.previousTip) {
    notes.push(
      `The old tip of ${built.branch} is ${built.previousTip}; to get it back: git branch ${built.branch}-previous ${built.previousTip}`,
    );
  }
  if (result.baseDiffers) {
    notes.push(
      `${result.baseDiffers.files.join(", ")} on ${result.base.ref} differ from the round's starting point ` +
        `(${
          result.baseDiffers.anchor.slice(0, 7)
        }): the kept changes applied, but on other code than they were measured ` +
        `on (the base moved, or an earlier round is not merged); review them there.`,
    );
  }
  notes.push(`Review: git log -p ${result.base.ref}..${built.branch}`);
  return notes;
}
