// Parallel workers' trees: one detached git worktree per worker under the experiment's
// .autoresearch/workers/, set to the incumbent before each candidate, with the harness files
// and shared folders the eval needs. What an agent left in a tree is archived as a patch before
// the tree is set back, so nothing an agent made is lost unseen; a candidate made on an older
// incumbent is carried onto the new one with git's three-way apply (or a zero-context one where
// the merge's conflict is only a neighbouring change). No tree here is a user's.
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import { STATE_DIR } from "../experiment/artifacts.ts";
import { experimentStateDir, type LoadedExperiment } from "../experiment/experiment-file.ts";
import { readPointer } from "../experiment/worktree-pointer.ts";
import { readOptional, toPosix } from "../files/paths.ts";
import {
  addDetachedWorktree,
  applyThreeWay,
  applyZeroContext,
  binaryDiff,
  git,
  isWorktreeOf,
  mainWorktreeTop,
  pruneWorktrees,
  type RepositoryStatus,
  repositoryStatus,
  repositoryTop,
  resolveCommit,
  stagedPatch,
  zeroContextPatch,
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
  /** What every reset copies and links in, worked out once per run (keeps change only the constrained files). */
  needs: WorkerNeeds;
};

/** The harness files a worker's tree lacks (relative to the experiment's folder) and the folders linked into it. */
type WorkerNeeds = { harness: string[]; links: { from: string; paths: string[] }[] };

/** What a worker tree at `commit` needs from the home: the harness files its commit lacks, the shared folders. */
function workerNeeds(home: LoadedExperiment, commit: string): WorkerNeeds {
  const homeTop = repositoryTop(home.root);
  const links = [{ from: homeTop, paths: defaultSharedPaths(homeTop, home.root) }];
  // An experiment in its own worktree: the folders its record shares from the user's checkout (--share).
  const userTop = mainWorktreeTop(homeTop);
  if (userTop !== homeTop) {
    links.push({ from: userTop, paths: readPointer(join(userTop, relative(homeTop, home.root)))?.shared ?? [] });
  }
  return { harness: harnessFilesMissingAt(home, homeTop, commit), links };
}

/** The workers' trees of an experiment, created or set back to `incumbent`, with what its eval needs. */
export function prepareWorkers(home: LoadedExperiment, count: number, incumbent: string): Worker[] {
  const homeTop = repositoryTop(home.root);
  const folderInTop = relative(homeTop, home.root);
  const needs = workerNeeds(home, incumbent);
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
      needs,
    };
    if (existsSync(top) && isWorktreeOf(homeTop, top)) setWorkerTo(home, worker, incumbent);
    else {
      pruneWorktrees(homeTop); // a worker folder someone deleted is still registered until pruned
      addDetachedWorktree(homeTop, top, incumbent);
      writeFileSync(join(mkdirState(worker), BASE_FILE), incumbent);
      refreshWorkerFiles(home, worker);
    }
    workers.push(worker);
  }
  return workers;
}

/** The commit the worker's tree was last set to: what an agent's leftovers, commits included, are archived against. */
const BASE_FILE = "worker-base";

function mkdirState(worker: Worker): string {
  mkdirSync(worker.stateDir, { recursive: true });
  return worker.stateDir;
}

/**
 * Put the worker's tree at `commit` with nothing else in it: whatever an agent left (tracked
 * edits, new files, its own commits) is archived first as a patch in the worker's state folder
 * (unless `archive` is false: the caller holds it), then the tree is checked out and the new
 * files and folders removed; then the harness files are copied in afresh.
 */
export function setWorkerTo(home: LoadedExperiment, worker: Worker, commit: string, archive = true): void {
  // One status serves the archive and the clean-up: checking out leaves untracked files as they are.
  const status = repositoryStatus(worker.top);
  const harness = new Set(
    worker.needs.harness.map((path) => toPosix(join(relative(worker.top, worker.loaded.root), path))),
  );
  const added = status.untracked.filter((path) => !harness.has(path));
  if (archive) archiveLeftovers(worker, status, added);
  git(worker.top, ["checkout", "--quiet", "--force", "--detach", commit]);
  for (const path of added) rmSync(join(worker.top, path), { recursive: true, force: true });
  writeFileSync(join(mkdirState(worker), BASE_FILE), commit);
  refreshWorkerFiles(home, worker);
}

/** The harness files (the journal as it is now among them) and the shared folders. */
function refreshWorkerFiles(home: LoadedExperiment, worker: Worker): void {
  copyInto(home.root, worker.loaded.root, worker.needs.harness);
  for (const link of worker.needs.links) linkShared(link.from, worker.top, link.paths);
}

/**
 * The tree's changes against the commit it was set to (its own commits, tracked edits and new
 * files), saved as a patch; nothing to do for a tree that holds none.
 */
function archiveLeftovers(worker: Worker, status: RepositoryStatus, added: string[]): void {
  const base = resolveCommit(worker.top, readOptional(join(worker.stateDir, BASE_FILE))?.trim() || "HEAD") ?? "HEAD";
  if (status.head === base && status.tracked.length === 0 && added.length === 0) return;
  const temporaryIndex = join(mkdirState(worker), `leftovers-index-${process.pid}`);
  try {
    let patch: string;
    if (added.length === 0) patch = binaryDiff(worker.top, base, []);
    else {
      // A temporary index with the new files added: the patch holds them without touching the tree's own index.
      const env = { GIT_INDEX_FILE: temporaryIndex };
      git(worker.top, ["read-tree", "HEAD"], undefined, env);
      git(worker.top, ["add", "-A"], undefined, env);
      patch = stagedPatch(worker.top, env, base);
    }
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
 * Carry a candidate (the worker's tree, made on `base`) onto a newer incumbent: set the tree to
 * `incumbent` and apply its patch with a three-way merge, or, where git's merge sees a conflict
 * only because another change sits next to it, with no context lines (the removed lines must
 * still be where they were). Applied, or not (the tree is set back) with git's own line for why.
 */
export function rebaseCandidate(
  home: LoadedExperiment,
  worker: Worker,
  change: { base: string; patch: string; files: string[] },
  incumbent: string,
): { applied: boolean; why: string | null } {
  const zero = zeroContextPatch(worker.loaded.root, change.base, change.files);
  const patchFile = join(mkdirState(worker), `rebase-${process.pid}.patch`);
  const attempt = (text: string, apply: (root: string, file: string) => string | null) => {
    setWorkerTo(home, worker, incumbent, false);
    writeFileSync(patchFile, text.endsWith("\n") ? text : `${text}\n`);
    return apply(worker.loaded.root, patchFile);
  };
  try {
    const why = attempt(change.patch, applyThreeWay);
    if (why === null) {
      // --3way stages what it applied; the candidate is judged from the work tree, the index goes back to HEAD.
      git(worker.top, ["reset", "--quiet"]);
      return { applied: true, why: null };
    }
    if (attempt(zero, applyZeroContext) === null) return { applied: true, why: null };
    setWorkerTo(home, worker, incumbent, false);
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
