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
import { writeFileAtomic, sha256OrDeleted } from "../files/atomic.ts";
import { fileDiffersFromCommit, git, gitPath, headCommit, pathsRelativeTo, repositoryPrefix, repositoryTop, restoreFileFromCommit, runGit, shortCommit } from "../git/git.ts";
import { appendResult, readJournal, type ResultLine } from "../experiment/journal.ts";
import { restoreFromSnapshot, type Snapshot } from "../git/snapshot.ts";
import { displayPath } from "../files/paths.ts";
import { hasValidSeal, sealed, sealKey, tampered, type SealKey } from "../integrity/seal.ts";

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
/** Present while the harness writes git's index, so a leftover index.lock is provably the harness's. */
const INDEX_WRITE_FILE = "git-index-write.json";

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
  if (!pending || typeof pending !== "object" || !pending.line || !Array.isArray(pending.files) || typeof pending.incumbent !== "string") throw corruptPending(path);
  if (key && !hasValidSeal(key, pending)) throw tampered(`the interrupted step record "${displayPath(path)}" was not written by the harness`);
  return pending;
}

function corruptPending(path: string): CliError {
  return new CliError(`The interrupted step record "${displayPath(path)}" is damaged, so the harness cannot tell what the last step decided. Look at git status and git log, then remove it (rm "${displayPath(path)}") and re-run.`, "E_PENDING_CORRUPT", EXIT.FAILED);
}

/** Archive ref that keeps an agent's replaced commits reachable. */
export function archiveRef(round: number, iteration: number): string {
  return `refs/autoresearch/archive/round${round}-iteration${iteration}`;
}

/** The harness commit exists when HEAD carries its message directly on top of the incumbent. */
async function isCommitDone(root: string, pending: PendingStep, head: string): Promise<boolean> {
  if (head === pending.incumbent) return false;
  const parent = await runGit(root, ["rev-parse", "-q", "--verify", "HEAD^"]);
  if (!parent.ok || parent.stdout.trim() !== pending.incumbent) return false;
  const message = await git(root, ["log", "-1", "--format=%B", "HEAD"]);
  return message.trim() === pending.message.trim();
}

/** Git blob ids of the files' current bytes, written to the object store ("deleted" when absent). */
export async function storeBlobs(root: string, files: string[]): Promise<Record<string, string>> {
  const blobs: Record<string, string> = {};
  for (const file of files) {
    blobs[file] = existsSync(join(root, file)) ? (await git(root, ["hash-object", "-w", "--", file])).trim() : "deleted";
  }
  return blobs;
}

/** Git blob ids of the given bytes (null: the file is absent, "deleted"), written to the object store. */
export async function storeBytesAsBlobs(root: string, bytes: Map<string, Buffer | null>): Promise<Record<string, string>> {
  const blobs: Record<string, string> = {};
  for (const [file, content] of bytes) {
    blobs[file] = content === null ? "deleted" : (await git(root, ["hash-object", "-w", "--stdin"], content)).trim();
  }
  return blobs;
}

/**
 * Commit the candidate's blobs on top of the incumbent without reading the work tree:
 * a temporary index, write-tree, commit-tree, then one update-ref of HEAD's branch.
 * The agent's own commits (if any) stay reachable under the archive ref.
 */
async function commitCandidate(root: string, stateDir: string, pending: PendingStep, head: string): Promise<void> {
  const blobs = pending.candidateBlobs ?? (await storeBlobs(root, pending.files));
  const prefix = await repositoryPrefix(root);
  // Index commands take repository paths; --cacheinfo ignores the current folder.
  const top = await repositoryTop(root);
  const temporaryIndex = join(stateDir, `commit-index-${process.pid}`);
  const env = { GIT_INDEX_FILE: temporaryIndex };
  try {
    await git(top, ["read-tree", pending.incumbent], undefined, env);
    for (const file of pending.files) {
      const path = `${prefix}${file}`;
      if (blobs[file] === "deleted") await git(top, ["update-index", "--force-remove", "--", path], undefined, env);
      else await git(top, ["update-index", "--add", "--cacheinfo", `${fileMode(join(root, file))},${blobs[file]},${path}`], undefined, env);
    }
    const tree = (await git(top, ["write-tree"], undefined, env)).trim();
    const commit = (await git(top, ["-c", "commit.gpgsign=false", "commit-tree", tree, "-p", pending.incumbent, "-F", "-"], pending.message)).trim();
    if (head !== pending.incumbent) await git(root, ["update-ref", archiveRef(pending.round, pending.iteration), head]);
    await git(root, ["update-ref", "-m", `autoresearch: keep iteration ${pending.iteration}`, "HEAD", commit, head]);
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
export async function syncIndexWithHead(root: string, stateDir: string, paths: string[]): Promise<void> {
  if (paths.length === 0) return;
  const marker = join(stateDir, INDEX_WRITE_FILE);
  writeFileAtomic(marker, JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
  try {
    await git(root, ["reset", "-q", "HEAD", "--", ...paths]);
  } finally {
    rmSync(marker, { force: true });
  }
}

/**
 * A `.git/index.lock` left behind: removed when the harness was provably writing the
 * index when it died (its marker is still there, and the caller holds the experiment
 * lock, so that writer is gone); any other is left for preconditions.ts to report.
 */
export async function clearStaleIndexLock(root: string, stateDir: string): Promise<string | null> {
  const lock = await gitPath(root, "index.lock");
  const marker = join(stateDir, INDEX_WRITE_FILE);
  const ours = existsSync(marker);
  if (!existsSync(lock)) {
    if (ours) rmSync(marker, { force: true });
    return null;
  }
  if (!ours) return null; // not provably ours: preconditions name it with the command that clears it
  rmSync(lock, { force: true });
  rmSync(marker, { force: true });
  return `Removed "${lock}", left by the harness's own git command when it was killed.`;
}

/**
 * Carry out a pending step and append its journal line. Safe to call again after a
 * kill at any point: a line already in the journal, a commit already made, a file
 * already restored are recognised and not repeated.
 */
export async function completePending(root: string, stateDir: string, pending: PendingStep): Promise<Completion> {
  const already = readJournal(pending.journal).results.find((line) => line.status !== "baseline" && line.iteration === pending.iteration);
  if (already) {
    rmSync(pendingPath(stateDir), { force: true });
    return { line: already, notes: [] };
  }
  const line: ResultLine = { ...pending.line };
  const notes: string[] = [];
  if (pending.action === "commit") {
    const head = (await headCommit(root))!;
    if (!(await isCommitDone(root, pending, head))) await commitCandidate(root, stateDir, pending, head);
    line.commit = await shortCommit(root, "HEAD");
    await syncStepPathsWithHead(root, stateDir, pending);
    const edited = pending.files.filter((file) => sha256OrDeleted(join(root, file)) !== pending.candidateHashes[file]);
    if (edited.length) notes.push(`${quoteList(edited)} changed after iteration ${pending.iteration} was evaluated; the evaluated version was committed and the later edit is left in the work tree, uncommitted.`);
  } else {
    const head = (await headCommit(root))!;
    if (head !== pending.incumbent) {
      // The agent committed: keep its commits reachable, then move the branch back.
      await git(root, ["update-ref", archiveRef(pending.round, pending.iteration), head]);
      await git(root, ["update-ref", "-m", `autoresearch: discard iteration ${pending.iteration}`, "HEAD", pending.incumbent, head]);
    }
    await syncStepPathsWithHead(root, stateDir, pending);
    const kept: string[] = [];
    for (const file of pending.files) {
      if (sha256OrDeleted(join(root, file)) === pending.candidateHashes[file]) await restoreFileFromCommit(root, pending.incumbent, file);
      else if (await fileDiffersFromCommit(root, pending.incumbent, file)) kept.push(file);
    }
    const outside = pending.restorePaths.filter((path) => !pending.restoreHashes || sha256OrDeleted(join(root, path)) === pending.restoreHashes[path]);
    kept.push(...pending.restorePaths.filter((path) => !outside.includes(path)));
    if (pending.snapshot && outside.length) {
      await restoreFromSnapshot(root, pending.snapshot, outside);
      // Files that were clean before had the index agree with HEAD: undo a staged rename or delete too.
      const snapshot = pending.snapshot;
      await syncIndexWithHead(root, stateDir, outside.filter((path) => !(path in snapshot.dirty)));
    }
    if (kept.length) notes.push(`${quoteList(kept)} changed after iteration ${pending.iteration} was evaluated, so ${kept.length > 1 ? "they were" : "it was"} left as ${kept.length > 1 ? "they are" : "it is"} (the discarded candidate is in the patch).`);
  }
  appendResult(pending.journal, sealed(await sealKey(root), line));
  rmSync(pendingPath(stateDir), { force: true });
  return { line, notes };
}

/**
 * Loop mode, after an agent call that moved the branch somewhere not built on where it was
 * (an amend, a reset, a rebase): the move is provably the agent's. The branch goes back,
 * the agent's commit stays reachable under the archive ref, and the index entries of the
 * paths that differ go back to HEAD's; the work tree is left for the step to judge.
 */
export async function putBranchBack(root: string, stateDir: string, options: { to: string; from: string; archive: string }): Promise<void> {
  const paths = await changedBetween(root, options.to, options.from);
  await git(root, ["update-ref", options.archive, options.from]);
  await git(root, ["update-ref", "-m", "autoresearch: put the branch back where the agent found it", "HEAD", options.to, options.from]);
  await syncIndexWithHead(root, stateDir, paths);
}

/**
 * The index entries a step touches go back to HEAD's, again after a kill: the constrained
 * files (an agent's `git mv` or `git add`) and every path the agent committed (its file, and
 * any of the user's work swept in by `commit -a`, which is left uncommitted as it was).
 */
async function syncStepPathsWithHead(root: string, stateDir: string, pending: PendingStep): Promise<void> {
  const agentPaths = pending.headBefore !== pending.incumbent ? await changedBetween(root, pending.incumbent, pending.headBefore) : [];
  await syncIndexWithHead(root, stateDir, [...new Set([...pending.files, ...agentPaths])]);
}

/** Paths (relative to `root`) that differ between two commits. */
async function changedBetween(root: string, from: string, to: string): Promise<string[]> {
  return pathsRelativeTo(root, (await git(root, ["diff", "--name-only", from, to])).split("\n").filter(Boolean));
}

function quoteList(paths: string[]): string {
  return paths.map((path) => `"${path}"`).join(", ");
}
