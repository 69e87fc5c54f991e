// Write-ahead record of a decided step: what to do to git and the work tree, and the
// journal line to append once done. Written before any change and removed after the
// line is appended, so a step killed at any point is finished by the next run, with
// journal and git agreeing. Completing is idempotent, and it never touches a file
// whose content is no longer what the decision saw: a decided keep commits the
// candidate's stored blob whatever the work tree holds now, and a decided discard
// leaves a file someone edited since in place (recorded, with a note).
import { existsSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { sha256OrDeleted, writeFileAtomic } from "../files/atomic.ts";
import {
  commitMessageOf,
  commitTree,
  fileDiffersFromCommit,
  gitPath,
  headCommit,
  pathsChangedBetween,
  refLockPaths,
  repositoryPrefix,
  resetIndexToHead,
  resolveCommit,
  restoreFileFromCommit,
  shortCommit,
  storeBlob,
  storeFileBlobs,
  treeWithEdits,
  updateRef,
} from "../git/git.ts";
import { appendResult, readJournal, type ResultLine } from "../experiment/journal.ts";
import { restoreFromSnapshot, type Snapshot } from "../git/snapshot.ts";
import { displayPath } from "../files/paths.ts";
import { hasValidSeal, sealed, type SealKey, sealKey, tampered } from "../integrity/seal.ts";

export type PendingStep = {
  round: number;
  iteration: number;
  action: "commit" | "revert";
  /** Constrained files, relative to the experiment's folder. */
  files: string[];
  incumbent: string;
  headBefore: string;
  /** sha256 of each constrained file's candidate content, as evaluated. */
  candidateHashes: Record<string, string>;
  /** Git blob id of each constrained file's candidate content ("deleted" when absent). */
  candidateBlobs?: Record<string, string>;
  message: string;
  /** Out-of-scope files to put back the way the snapshot saw them... */
  restorePaths: string[];
  /** ...when they still hold what was judged out of scope (sha256, or "deleted"). */
  restoreHashes?: Record<string, string>;
  snapshot: Snapshot | null;
  journal: string;
  line: ResultLine;
};

/** What completing a step did, for the caller to tell the user. */
export type Completion = { line: ResultLine; notes: string[] };

const PENDING_FILE = "pending-step.json";
/**
 * Present while the harness runs a git command that takes git's locks (the index, HEAD, a
 * branch or archive ref), naming those lock files, so a lock left by a kill is provably the
 * harness's. The older marker named the index lock only; a leftover one is still honoured.
 */
const GIT_WRITE_FILE = "git-write.json";
const OLD_INDEX_WRITE_FILE = "git-index-write.json";

export function pendingPath(stateDir: string): string {
  return join(stateDir, PENDING_FILE);
}

export function writePending(stateDir: string, pending: PendingStep, key: SealKey | null): void {
  writeFileAtomic(pendingPath(stateDir), JSON.stringify(sealed(key, pending), null, 2));
}

/** The pending step, or null; one the harness did not write (no valid seal) is refused, never acted on. */
export function readPending(stateDir: string, key: SealKey | null): PendingStep | null {
  const path = pendingPath(stateDir);
  if (!existsSync(path)) return null;
  let pending: PendingStep;
  try {
    pending = JSON.parse(readFileSync(path, "utf8")) as PendingStep;
  } catch {
    throw corruptPending(path);
  }
  if (
    !pending || typeof pending !== "object" || !pending.line || !Array.isArray(pending.files) ||
    typeof pending.incumbent !== "string"
  ) throw corruptPending(path);
  if (key && !hasValidSeal(key, pending)) {
    throw tampered(`the interrupted step record "${displayPath(path)}" was not written by the harness`);
  }
  return pending;
}

function corruptPending(path: string): CliError {
  return new CliError(
    `The interrupted step record "${
      displayPath(path)
    }" is damaged, so the harness cannot tell what the last step decided. Look at git status and git log, then remove it (rm "${
      displayPath(path)
    }") and re-run.`,
    "E_PENDING_CORRUPT",
    EXIT.FAILED,
  );
}

/** Archive ref that keeps an agent's replaced commits reachable. */
export function archiveRef(round: number, iteration: number): string {
  return `refs/autoresearch/archive/round${round}-iteration${iteration}`;
}

/** The harness commit exists when HEAD carries its message directly on top of the incumbent. */
function isCommitDone(root: string, pending: PendingStep, head: string): boolean {
  if (head === pending.incumbent) return false;
  if (resolveCommit(root, "HEAD^") !== pending.incumbent) return false;
  return commitMessageOf(root, "HEAD").trim() === pending.message.trim();
}

/** Git blob ids of the files' current bytes, written to the object store ("deleted" when absent). */
export function storeBlobs(root: string, files: string[]): Record<string, string> {
  const present = files.filter((file) => existsSync(join(root, file)));
  const ids = storeFileBlobs(root, present);
  return Object.fromEntries(
    files.map((file) => [file, present.includes(file) ? ids[present.indexOf(file)] : "deleted"]),
  );
}

/** Git blob ids of the given bytes (null: the file is absent, "deleted"), written to the object store. */
export function storeBytesAsBlobs(root: string, bytes: Map<string, Buffer | null>): Record<string, string> {
  const blobs: Record<string, string> = {};
  for (const [file, content] of bytes) blobs[file] = content === null ? "deleted" : storeBlob(root, content);
  return blobs;
}

/**
 * Commit the candidate's blobs on top of the incumbent without reading the work tree:
 * a temporary index, write-tree, commit-tree, then one update-ref of HEAD's branch.
 * The agent's own commits (if any) stay reachable under the archive ref.
 */
function commitCandidate(root: string, stateDir: string, pending: PendingStep, head: string): void {
  const blobs = pending.candidateBlobs ?? storeBlobs(root, pending.files);
  const prefix = repositoryPrefix(root);
  const temporaryIndex = join(stateDir, `commit-index-${process.pid}`);
  try {
    const edits = pending.files.map((file) => ({
      path: `${prefix}${file}`,
      blob: blobs[file],
      mode: fileMode(join(root, file)),
    }));
    const tree = treeWithEdits(root, pending.incumbent, edits, temporaryIndex);
    const commit = commitTree(root, tree, pending.incumbent, pending.message);
    if (head !== pending.incumbent) moveRef(root, stateDir, archiveRef(pending.round, pending.iteration), head);
    moveRef(root, stateDir, "HEAD", commit, {
      from: head,
      message: `autoresearch: keep iteration ${pending.iteration}`,
    });
  } finally {
    rmSync(temporaryIndex, { force: true });
  }
}

/** The mode git would record for the file: executable or not, as `git add` sees it. */
function fileMode(absolute: string): string {
  return existsSync(absolute) && (statSync(absolute).mode & 0o111) !== 0 ? "100755" : "100644";
}

/**
 * Make the index's entries for `paths` match HEAD (index only; the work tree is not
 * read or written), recording that the harness is writing the index meanwhile.
 */
export function syncIndexWithHead(root: string, stateDir: string, paths: string[]): void {
  if (paths.length === 0) return;
  withGitWriteMarker(stateDir, [gitPath(root, "index.lock")], () => resetIndexToHead(root, paths));
}

/** updateRef, with the marker that lets a restart remove the locks a kill left. */
export function moveRef(
  root: string,
  stateDir: string,
  ref: string,
  to: string,
  options: { from?: string; message?: string } = {},
): void {
  withGitWriteMarker(stateDir, refLockPaths(root, ref), () => updateRef(root, ref, to, options));
}

function withGitWriteMarker<T>(stateDir: string, locks: string[], write: () => T): T {
  const marker = join(stateDir, GIT_WRITE_FILE);
  writeFileAtomic(marker, JSON.stringify({ pid: process.pid, at: new Date().toISOString(), locks }));
  try {
    return write();
  } finally {
    rmSync(marker, { force: true });
  }
}

/**
 * Git lock files (index.lock, HEAD.lock, a ref's lock) left behind: removed when the harness
 * was provably running the git command that took them when it died (its marker is still
 * there, naming them, and the caller holds the experiment lock, so that command is gone);
 * any other lock is left for preconditions.ts or git's own message to report.
 */
export function clearStaleGitLocks(root: string, stateDir: string): string | null {
  const marker = join(stateDir, GIT_WRITE_FILE);
  const oldMarker = join(stateDir, OLD_INDEX_WRITE_FILE);
  const named = new Set<string>();
  if (existsSync(marker)) {
    try {
      const locks = (JSON.parse(readFileSync(marker, "utf8")) as { locks?: unknown }).locks;
      if (Array.isArray(locks)) { for (const lock of locks) if (typeof lock === "string") named.add(lock); }
    } catch {
      // A marker that cannot be read names nothing: every lock stays for a person to judge.
    }
  }
  if (existsSync(oldMarker)) named.add(gitPath(root, "index.lock"));
  const removed = [...named].filter((lock) => existsSync(lock));
  for (const lock of removed) rmSync(lock, { force: true });
  rmSync(marker, { force: true });
  rmSync(oldMarker, { force: true });
  if (removed.length === 0) return null;
  return `Removed ${
    removed.map((lock) => `"${lock}"`).join(", ")
  }, left by the harness's own git command when it was killed.`;
}

/**
 * Carry out a pending step and append its journal line. Safe to call again after a
 * kill at any point: a line already in the journal, a commit already made, a file
 * already restored are recognised and not repeated.
 */
export function completePending(root: string, stateDir: string, pending: PendingStep): Completion {
  const already = readJournal(pending.journal).results.find((line) =>
    line.status !== "baseline" && line.iteration === pending.iteration
  );
  if (already) {
    rmSync(pendingPath(stateDir), { force: true });
    return { line: already, notes: [] };
  }
  const line: ResultLine = { ...pending.line };
  const notes: string[] = [];
  if (pending.action === "commit") {
    const head = headCommit(root)!;
    if (!isCommitDone(root, pending, head)) commitCandidate(root, stateDir, pending, head);
    line.commit = shortCommit(root, "HEAD");
    syncStepPathsWithHead(root, stateDir, pending);
    const edited = pending.files.filter((file) => sha256OrDeleted(join(root, file)) !== pending.candidateHashes[file]);
    if (edited.length) {
      notes.push(
        `${
          quoteList(edited)
        } changed after iteration ${pending.iteration} was evaluated; the evaluated version was committed and the later edit is left in the work tree, uncommitted.`,
      );
    }
  } else {
    const head = headCommit(root)!;
    if (head !== pending.incumbent) {
      // The agent committed: keep its commits reachable, then move the branch back.
      moveRef(root, stateDir, archiveRef(pending.round, pending.iteration), head);
      moveRef(root, stateDir, "HEAD", pending.incumbent, {
        from: head,
        message: `autoresearch: discard iteration ${pending.iteration}`,
      });
    }
    syncStepPathsWithHead(root, stateDir, pending);
    const kept: string[] = [];
    for (const file of pending.files) {
      if (sha256OrDeleted(join(root, file)) === pending.candidateHashes[file]) {
        restoreFileFromCommit(root, pending.incumbent, file);
      } else if (fileDiffersFromCommit(root, pending.incumbent, file)) kept.push(file);
    }
    const outside = pending.restorePaths.filter((path) =>
      !pending.restoreHashes || sha256OrDeleted(join(root, path)) === pending.restoreHashes[path]
    );
    kept.push(...pending.restorePaths.filter((path) => !outside.includes(path)));
    if (pending.snapshot && outside.length) {
      restoreFromSnapshot(root, pending.snapshot, outside);
      // Files that were clean before had the index agree with HEAD: undo a staged rename or delete too.
      const snapshot = pending.snapshot;
      syncIndexWithHead(root, stateDir, outside.filter((path) => !(path in snapshot.dirty)));
    }
    if (kept.length) {
      notes.push(
        `${quoteList(kept)} changed after iteration ${pending.iteration} was evaluated, so ${
          kept.length > 1 ? "they were" : "it was"
        } left as ${kept.length > 1 ? "they are" : "it is"} (the discarded candidate is in the patch).`,
      );
    }
  }
  appendResult(pending.journal, sealed(sealKey(root), line));
  rmSync(pendingPath(stateDir), { force: true });
  return { line, notes };
}

/**
 * Loop mode, after an agent call that moved the branch somewhere not built on where it was
 * (an amend, a reset, a rebase): the move is provably the agent's. The branch goes back,
 * the agent's commit stays reachable under the archive ref, and the index entries of the
 * paths that differ go back to HEAD's; the work tree is left for the step to judge.
 */
export function putBranchBack(
  root: string,
  stateDir: string,
  options: { to: string; from: string; archive: string },
): void {
  const paths = pathsChangedBetween(root, options.to, options.from);
  moveRef(root, stateDir, options.archive, options.from);
  moveRef(root, stateDir, "HEAD", options.to, {
    from: options.from,
    message: "autoresearch: put the branch back where the agent found it",
  });
  syncIndexWithHead(root, stateDir, paths);
}

/**
 * The index entries a step touches go back to HEAD's, again after a kill: the constrained
 * files (an agent's `git mv` or `git add`) and every path the agent committed (its file, and
 * any of the user's work swept in by `commit -a`, which is left uncommitted as it was).
 */
function syncStepPathsWithHead(root: string, stateDir: string, pending: PendingStep): void {
  const agentPaths = pending.headBefore !== pending.incumbent
    ? pathsChangedBetween(root, pending.incumbent, pending.headBefore)
    : [];
  syncIndexWithHead(root, stateDir, [...new Set([...pending.files, ...agentPaths])]);
}

function quoteList(paths: string[]): string {
  return paths.map((path) => `"${path}"`).join(", ");
}
