// What must hold before a script changes anything: no half-done git operation, the
// experiment's branch checked out (not a detached HEAD, not another branch), git's
// index not locked. Each refusal is one line with the command that fixes it. These
// checks only read; recovering an interrupted step is recovery.ts's job.
import { existsSync } from "node:fs";
import { CliError, EXIT } from "../cli/errors.ts";
import type { Experiment } from "../experiment/schema.ts";
import { currentBranch, gitPath, headCommit, indexLockError, operationInProgress } from "./git.ts";

const ABORT_COMMAND: Record<string, string> = {
  "a merge": "git merge --abort",
  "a rebase": "git rebase --abort",
  "a rebase or git am": "git rebase --abort (or git am --abort)",
  "a cherry-pick": "git cherry-pick --abort",
  "a revert": "git revert --abort",
  "a bisect": "git bisect reset",
};

/** Refuse while a merge, rebase, cherry-pick, revert or bisect is half done, or git's index is locked. */
export function requireNoGitOperation(root: string, nextCommand: string): void {
  const operation = operationInProgress(root);
  if (operation) {
    const abort = ABORT_COMMAND[operation] ?? "git status";
    throw new CliError(
      `${
        capitalise(operation)
      } is in progress in this repository; the harness will not touch the work tree or commit until it is finished. Finish it (resolve, then git commit) or abort it (${abort}), then run ${nextCommand}`,
      "E_GIT_BUSY",
      EXIT.FAILED,
    );
  }
  const lock = gitPath(root, "index.lock");
  if (existsSync(lock)) throw indexLockError(lock);
}

/**
 * Keeps land only on the experiment's branch: refuse on a detached HEAD or on another
 * branch (an agent's `git switch -c side`). Without a recorded branch, any branch will do.
 */
export function requireExperimentBranch(root: string, experiment: Experiment): void {
  const branch = currentBranch(root);
  const wanted = experiment.branch;
  if (branch === null) {
    const head = headCommit(root)?.slice(0, 7) ?? "no commit";
    throw new CliError(
      `HEAD is detached (at ${head}), so a keep would be committed off any branch. Switch back: git switch ${
        wanted ?? "<your branch>"
      }`,
      "E_DETACHED",
      EXIT.FAILED,
    );
  }
  if (wanted && branch !== wanted) {
    throw new CliError(
      `The work tree is on branch "${branch}", not the experiment's branch "${wanted}", so a keep would land in the wrong place. Switch back: git switch ${wanted}`,
      "E_WRONG_BRANCH",
      EXIT.FAILED,
    );
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
