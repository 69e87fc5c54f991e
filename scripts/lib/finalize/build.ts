// Builds the final branch: each kept change's diff of the constrained files (the keep commit
// against its parent), applied in order on the base through a temporary index and committed with
// `git commit-tree`, then one ref move. The work tree, git's own index, HEAD and the experiment
// branch are never read or written; nothing moves when a change does not apply. Commits reuse
// the keep's author and dates, so the same journal and base give the same commit ids.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { FINALIZE_REFLOG } from "./base.ts";
import {
  applyToIndex,
  commitIdentity,
  commitsDiff,
  commitTreeWith,
  firstParent,
  indexWithEdits,
  resolveCommit,
  shortCommit,
  updateRef,
  worktreeOfBranch,
  writeIndexTree,
} from "../git/git.ts";

/** One kept change as the journal records it, with the commit message the final branch gives it. */
export type KeepToApply = { iteration: number; description: string; commit: string; message: string };

export type BuiltCommit = {
  iteration: number | null;
  commit: string;
  experimentCommit: string | null;
  subject: string;
};

export type BranchOutcome = "created" | "unchanged" | "moved";

export type BuiltBranch = {
  branch: string;
  tip: string;
  commits: BuiltCommit[];
  outcome: BranchOutcome;
  /** The branch's tip before --force moved it; null unless moved. */
  previousTip: string | null;
  /** Keeps whose commit changed none of the constrained files (nothing to carry over). */
  empty: KeepToApply[];
};

const NO_COMMIT = "0".repeat(40); // update-ref's "must not exist yet"

export type BuildOptions = {
  root: string;
  base: string;
  files: string[];
  keeps: KeepToApply[];
  branch: string;
  squash: { message: string } | null;
  force: boolean;
  /** Branches the final branch must never be: the experiment branch, the base. */
  protectedBranches: string[];
};

export function buildFinalBranch(options: BuildOptions): BuiltBranch {
  const { root, base, files, branch } = options;
  if (options.protectedBranches.includes(branch)) {
    throw new CliError(
      `--branch "${branch}" is the experiment branch or the base; finalize never rewrites it. Run: finalize.ts --branch ${branch}-final`,
      "E_FINAL_BRANCH",
    );
  }
  const staging = mkdtempSync(join(tmpdir(), "autoresearch-finalize-"));
  try {
    const indexFile = join(staging, "index");
    indexWithEdits(root, base, [], indexFile);
    let tip = base;
    const commits: BuiltCommit[] = [];
    const empty: KeepToApply[] = [];
    for (const keep of options.keeps) {
      const commit = resolveCommit(root, keep.commit);
      const parent = commit ? firstParent(root, commit) : null;
      if (!commit || !parent) {
        throw new CliError(
          `Kept change #${keep.iteration} ("${keep.description}") names commit ${keep.commit}, which is not in this repository` +
            `. Fetch the experiment branch, then re-run finalize.ts`,
          "E_KEEP_MISSING",
        );
      }
      const patch = commitsDiff(root, parent, commit, files);
      if (patch.trim() === "") {
        empty.push(keep);
        continue;
      }
      const patchFile = join(staging, `keep-${keep.iteration}.patch`);
      writeFileSync(patchFile, patch);
      const why = applyToIndex(root, patchFile, indexFile);
      if (why !== null) {
        throw new CliError(
          `Kept change #${keep.iteration} ("${keep.description}", commit ${
            shortCommit(root, commit)
          }) no longer applies on ` +
            `the base: ${
              why.replace(/^error: /, "")
            }. Nothing was changed. Rebase the base's conflicting change or pick an ` +
            `older base: finalize.ts --base REF`,
          "E_KEEP_CONFLICT",
          EXIT.FAILED,
        );
      }
      if (options.squash) continue;
      tip = commitTreeWith(root, writeIndexTree(root, indexFile), tip, keep.message, commitIdentity(root, commit));
      commits.push({ iteration: keep.iteration, commit: tip, experimentCommit: commit, subject: keep.description });
    }
    const applied = options.keeps.filter((keep) => !empty.includes(keep));
    if (applied.length === 0) {
      throw new CliError(
        `No kept change touched ${files.join(", ")}: there is nothing to put on a final branch. Run: dashboard.ts`,
        "E_NO_KEEPS",
      );
    }
    if (options.squash) {
      const last = resolveCommit(root, applied[applied.length - 1].commit)!;
      tip = commitTreeWith(
        root,
        writeIndexTree(root, indexFile),
        base,
        options.squash.message,
        commitIdentity(root, last),
      );
      commits.push({
        iteration: null,
        commit: tip,
        experimentCommit: null,
        subject: options.squash.message.split("\n")[0],
      });
    }
    const moved = moveBranch(root, branch, tip, options.force);
    return { branch, tip, commits, empty, ...moved };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** Point refs/heads/`branch` at `tip`: create it, leave it when it is there already, move it only with --force. */
function moveBranch(
  root: string,
  branch: string,
  tip: string,
  force: boolean,
): { outcome: BranchOutcome; previousTip: string | null } {
  const ref = `refs/heads/${branch}`;
  const existing = resolveCommit(root, ref);
  if (existing === tip) return { outcome: "unchanged", previousTip: null };
  if (existing) {
    const checkedOut = worktreeOfBranch(root, branch);
    if (checkedOut) {
      throw new CliError(
        `Branch "${branch}" exists with other commits and is checked out in "${checkedOut}", so finalize will not move it` +
          `. Switch that work tree to another branch, or run: finalize.ts --branch ${branch}-2`,
        "E_FINAL_BRANCH",
      );
    }
    if (!force) {
      throw new CliError(
        `Branch "${branch}" exists and differs from what this round gives (its tip ${existing.slice(0, 7)}, ` +
          `new ${tip.slice(0, 7)}). Run: finalize.ts --force (the old tip stays recoverable), or --branch ${branch}-2`,
        "E_FINAL_BRANCH",
      );
    }
    updateRef(root, ref, tip, { from: existing, message: `finalize: moved from ${existing}` });
    return { outcome: "moved", previousTip: existing };
  }
  updateRef(root, ref, tip, { from: NO_COMMIT, message: FINALIZE_REFLOG });
  return { outcome: "created", previousTip: null };
}
