// Write-ahead record of a decided step: what to do to git and the work tree, and the
// journal line to append once done. Written before any change and removed after the
// line is appended, so a step killed at any point is finished by the next run, with
// journal and git agreeing. Completing is idempotent.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic, sha256OfFile } from "./fs-atomic.ts";
import { git, headCommit, restoreFileFromCommit, runGit, shortCommit } from "./git.ts";
import { appendResult, readJournal, type ResultLine } from "./journal.ts";
import { restoreFromSnapshot, type Snapshot } from "./snapshot.ts";

export type PendingStep = {
  round: number;
  iteration: number;
  action: "commit" | "revert";
  /** Repository-relative constrained files. */
  files: string[];
  incumbent: string;
  headBefore: string;
  /** sha256 of each constrained file's candidate content (commit only). */
  candidateHashes: Record<string, string>;
  message: string;
  /** Out-of-scope files to put back the way the snapshot saw them. */
  restorePaths: string[];
  snapshot: Snapshot | null;
  journal: string;
  line: ResultLine;
};

export function pendingPath(stateDir: string): string {
  return join(stateDir, "pending-step.json");
}

export function writePending(stateDir: string, pending: PendingStep): void {
  writeFileAtomic(pendingPath(stateDir), JSON.stringify(pending, null, 2));
}

export function readPending(stateDir: string): PendingStep | null {
  const path = pendingPath(stateDir);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, "utf8")) as PendingStep;
}

/** Archive ref that keeps an agent's discarded commits reachable. */
export function archiveRef(round: number, iteration: number): string {
  return `refs/autoresearch/archive/round${round}-iteration${iteration}`;
}

/** The harness commit exists when HEAD carries its message directly on top of the incumbent. */
async function isCommitDone(root: string, pending: PendingStep): Promise<boolean> {
  const head = await headCommit(root);
  if (!head || head === pending.incumbent) return false;
  const parent = await runGit(root, ["rev-parse", "-q", "--verify", "HEAD^"]);
  if (!parent.ok || parent.stdout.trim() !== pending.incumbent) return false;
  const message = await git(root, ["log", "-1", "--format=%B", "HEAD"]);
  return message.trim() === pending.message.trim();
}

/**
 * Carry out a pending step and append its journal line; returns the line as written,
 * or null when the step had to be abandoned (the work tree no longer holds the
 * candidate it decided on — nothing is recorded, and nothing is lost).
 */
export async function completePending(root: string, stateDir: string, pending: PendingStep): Promise<ResultLine | null> {
  const already = readJournal(pending.journal).results.find((line) => line.status !== "baseline" && line.iteration === pending.iteration);
  if (already) {
    rmSync(pendingPath(stateDir), { force: true });
    return already;
  }
  const line: ResultLine = { ...pending.line };
  if (pending.action === "commit") {
    if (!(await isCommitDone(root, pending))) {
      const head = (await headCommit(root))!;
      if (head !== pending.incumbent) {
        // The agent committed: keep its commits reachable under an archive ref, then
        // squash them into one harness commit (--soft moves HEAD only).
        await git(root, ["update-ref", archiveRef(pending.round, pending.iteration), head]);
        await git(root, ["reset", "--soft", "-q", pending.incumbent]);
      }
      for (const file of pending.files) {
        if (sha256OfFile(join(root, file)) !== pending.candidateHashes[file]) {
          rmSync(pendingPath(stateDir), { force: true });
          return null;
        }
      }
      await git(root, ["-c", "commit.gpgsign=false", "commit", "--no-verify", "--only", "-q", "-F", "-", "--", ...pending.files], pending.message);
    }
    line.commit = await shortCommit(root, "HEAD");
  } else {
    const head = (await headCommit(root))!;
    if (head !== pending.incumbent) {
      // The agent committed: keep its commits reachable, then move the branch back.
      // --mixed resets only the index; the work tree is left exactly as it is.
      await git(root, ["update-ref", archiveRef(pending.round, pending.iteration), head]);
      await git(root, ["reset", "--mixed", "-q", pending.incumbent]);
    }
    for (const file of pending.files) await restoreFileFromCommit(root, pending.incumbent, file);
    if (pending.snapshot && pending.restorePaths.length) await restoreFromSnapshot(root, pending.snapshot, pending.restorePaths);
    await runGit(root, ["update-index", "-q", "--refresh"]);
  }
  appendResult(pending.journal, line);
  rmSync(pendingPath(stateDir), { force: true });
  return line;
}
