// Parallel workers' trees: one detached git worktree per worker under the experiment's
// .autoresearch/workers/, set to the incumbent before each candidate, with the harness files
// and shared folders the eval needs. What an agent left in a tree is archived as a patch before
// the tree is set back, so nothing an agent made is lost unseen; a candidate made on an older
// incumbent is carried onto the new one with git's three-way apply. No tree here is a user's.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { STATE_DIR } from "../experiment/artifacts.ts";
import { experimentStateDir, type LoadedExperiment } from "../experiment/experiment-file.ts";
import {
  addDetachedWorktree,
  applyThreeWay,
  binaryDiff,
  git,
  isWorktreeOf,
  pruneWorktrees,
  repositoryStatus,
  repositoryTop,
  stagedPatch,
} from "../git/git.ts";
import { copyInto, defaultSharedPaths, harnessFilesMissingAt, linkShared } from "../harness/worktree-files.ts";
import { fileNameTimestamp } from "../text/timestamp.ts";

export type Worker = {
  /** "w1", "w2", ...: the journal's `worker` field. */
  id: string;
  /** The worktree's top folder. */
  top: string;
  /** The experiment as the worker's tree holds it: its folder is the worker's, the settings the home's. */
  loaded: LoadedExperiment;
  stateDir: string;
};

/** The workers' trees of an experiment, created or set back to `incumbent`, with what its eval needs. */
export function prepareWorkers(home: LoadedExperiment, count: number, incumbent: string): Worker[] {
  const homeTop = repositoryTop(home.root);
  const folderInTop = relative(homeTop, home.root);
  const workers: Worker[] = [];
  for (let index = 1; index <= count; index++) {
    const id = `w${index}`;
    const top = join(experimentStateDir(home), "workers", id);
    const root = join(top, folderInTop);
    const worker: Worker = {
      id,
      top,
      loaded: { path: join(root, basename(home.path)), root, experiment: home.experiment },
      stateDir: join(root, STATE_DIR),
    };
    if (isWorktreeOf(homeTop, top)) setWorkerTo(home, worker, incumbent);
    else {
      if (existsSync(top) && readdirSync(top).length > 0) pruneWorktrees(homeTop);
      addDetachedWorktree(homeTop, top, incumbent);
      refreshWorkerFiles(home, worker, incumbent);
    }
    workers.push(worker);
  }
  return workers;
}

/**
 * Put the worker's tree at `commit` with nothing else in it: whatever an agent left (tracked
 * edits, new files) is archived first as a patch in the worker's state folder, then the tree is
 * checked out and the new files removed; then the harness files are copied in afresh.
 */
export function setWorkerTo(home: LoadedExperiment, worker: Worker, commit: string): void {
  archiveLeftovers(worker);
  git(worker.top, ["checkout", "--quiet", "--force", "--detach", commit]);
  const status = repositoryStatus(worker.top);
  for (const path of status.untracked) {
    const absolute = join(worker.top, path);
    if (existsSync(absolute)) unlinkSync(absolute);
  }
  refreshWorkerFiles(home, worker, commit);
}

/** The harness files the worker's commit lacks (the journal as it is now among them), and the shared folders. */
function refreshWorkerFiles(home: LoadedExperiment, worker: Worker, commit: string): void {
  const homeTop = repositoryTop(home.root);
  copyInto(home.root, worker.loaded.root, harnessFilesMissingAt(home, homeTop, commit));
  const shared = [...defaultSharedPaths(homeTop, home.root), ...sharedLinksOf(homeTop)];
  linkShared(homeTop, worker.top, [...new Set(shared)]);
}

/** Links at the home's top that point outside it (an experiment worktree's --share links): workers get them too. */
function sharedLinksOf(top: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(top, { withFileTypes: true })) {
    if (entry.isSymbolicLink()) found.push(entry.name);
  }
  return found;
}

/** The tree's changes against its HEAD (new files included), saved as a patch when there are any. */
function archiveLeftovers(worker: Worker): void {
  const status = repositoryStatus(worker.top);
  const untracked = status.untracked;
  const temporaryIndex = join(worker.stateDir, `leftovers-index-${process.pid}`);
  mkdirSync(worker.stateDir, { recursive: true });
  try {
    // A temporary index with the new files added: the patch holds them without touching the tree's own index.
    const env = { GIT_INDEX_FILE: temporaryIndex };
    git(worker.top, ["read-tree", "HEAD"], undefined, env);
    if (untracked.length) git(worker.top, ["add", "--", ...untracked], undefined, env);
    const patch = stagedPatch(worker.top, env);
    if (patch.trim()) {
      const folder = join(worker.stateDir, "leftovers");
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, `${fileNameTimestamp()}.patch`), patch);
    }
  } finally {
    if (existsSync(temporaryIndex)) unlinkSync(temporaryIndex);
  }
}

/** The candidate's change to the constrained files against `base`, as a binary patch. */
export function candidatePatch(worker: Worker, base: string, files: string[]): string {
  return binaryDiff(worker.loaded.root, base, files);
}

/**
 * Carry a candidate onto a newer incumbent: set the tree to `incumbent` and apply the patch with
 * a three-way merge: applied, or not (a conflict; the tree is set back) with git's own line for why.
 */
export function rebaseCandidate(
  home: LoadedExperiment,
  worker: Worker,
  patch: string,
  incumbent: string,
): { applied: boolean; why: string | null } {
  setWorkerTo(home, worker, incumbent);
  const patchFile = join(worker.stateDir, `rebase-${process.pid}.patch`);
  writeFileSync(patchFile, patch.endsWith("\n") ? patch : `${patch}\n`);
  try {
    const why = applyThreeWay(worker.loaded.root, patchFile);
    if (why === null) {
      // --3way stages what it applied; the candidate is judged from the work tree, the index goes back to HEAD.
      git(worker.top, ["reset", "--quiet"]);
      return { applied: true, why: null };
    }
    setWorkerTo(home, worker, incumbent);
    return { applied: false, why };
  } finally {
    if (existsSync(patchFile)) unlinkSync(patchFile);
  }
}

/** The constrained files' bytes in the worker's tree (null for a deleted file). */
export function workerFiles(worker: Worker, files: string[]): Map<string, Buffer | null> {
  return new Map(files.map((file) => {
    const path = join(worker.loaded.root, file);
    return [file, existsSync(path) ? readFileSync(path) : null];
  }));
}
