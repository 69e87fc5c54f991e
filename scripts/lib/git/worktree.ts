// Git worktrees, as the harness needs them: list them, find where a branch is checked out,
// add one on a new or existing branch. An experiment (and each parallel worker) runs in its
// own worktree so the user's checkout, branch and index are never touched. Nothing here
// removes a worktree that holds work: removal is `git worktree remove` without --force, so git
// itself refuses when the worktree has changes.
import { realpathSync } from "node:fs";
import { CliError, EXIT } from "../cli/errors.ts";
import { runGit } from "./git.ts";

export type Worktree = { path: string; head: string | null; branch: string | null };

/** Every worktree of the repository (the main one first), from `git worktree list --porcelain`. */
export function listWorktrees(root: string): Worktree[] {
  const result = runGit(root, ["worktree", "list", "--porcelain"]);
  if (!result.ok) return [];
  const worktrees: Worktree[] = [];
  let current: Worktree | null = null;
  for (const line of result.stdout.split("\n")) {
    if (line.startsWith("worktree ")) {
      current = { path: line.slice("worktree ".length), head: null, branch: null };
      worktrees.push(current);
    } else if (current && line.startsWith("HEAD ")) current.head = line.slice("HEAD ".length);
    else if (current && line.startsWith("branch ")) current.branch = line.slice("branch refs/heads/".length);
  }
  return worktrees;
}

/** Where `branch` is checked out (a worktree's path), or null. */
export function worktreeOfBranch(root: string, branch: string): string | null {
  return listWorktrees(root).find((worktree) => worktree.branch === branch)?.path ?? null;
}

/** Whether `path` is one of the repository's worktrees (paths compared after resolving links). */
export function isWorktreeOf(root: string, path: string): boolean {
  const wanted = realOrSelf(path);
  return listWorktrees(root).some((worktree) => realOrSelf(worktree.path) === wanted);
}

/**
 * Add a worktree at `path` on `branch`: created at `start` when the branch does not exist yet,
 * else checked out as it is. Git refuses a branch checked out elsewhere and a non-empty folder;
 * both come back as one line saying what to do.
 */
export function addWorktree(root: string, path: string, branch: string, start: string): "created" | "existing" {
  const exists = runGit(root, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`]).ok;
  const args = exists
    ? ["worktree", "add", "--quiet", path, branch]
    : ["worktree", "add", "--quiet", "-b", branch, path, start];
  const result = runGit(root, args);
  if (!result.ok) {
    const reason = result.stderr.trim().split("\n").filter((line) => !line.startsWith("Preparing")).slice(-1)[0] ??
      `exit ${result.exitCode}`;
    throw new CliError(
      `Cannot create the worktree "${path}" on branch "${branch}": ${reason}. If the folder is left from an earlier run, run git worktree prune and remove it; if the branch is checked out elsewhere, switch that checkout to another branch.`,
      "E_WORKTREE",
      EXIT.FAILED,
    );
  }
  return exists ? "existing" : "created";
}

/** Add a worktree at `path` with a detached HEAD at `commit` (a parallel worker's tree: no branch of its own). */
export function addDetachedWorktree(root: string, path: string, commit: string): void {
  const result = runGit(root, ["worktree", "add", "--quiet", "--detach", path, commit]);
  if (!result.ok) {
    throw new CliError(
      `Cannot create the worker tree "${path}": ${
        result.stderr.trim().split("\n").slice(-1)[0]
      }. Run git worktree prune, remove the folder, and re-run.`,
      "E_WORKTREE",
      EXIT.FAILED,
    );
  }
}

/** Remove a clean worktree (git refuses one with changes: nothing is lost); false when git refused. */
export function removeWorktree(root: string, path: string): boolean {
  return runGit(root, ["worktree", "remove", path]).ok;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
