// Scope: what the work tree looked like when the previous step ended, so the next
// step can tell the agent's edits from the user's own uncommitted work. Dirty files'
// contents are stored as git blobs (objects only: no ref, index or work-tree change),
// which lets an out-of-scope edit be undone back to the user's version, not HEAD's.
import { type Dirent, existsSync, readdirSync, readFileSync, rmSync, unlinkSync } from "node:fs";
import { join, normalize, relative } from "node:path";
import { writeFileAtomic } from "../files/atomic.ts";
import type { LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Experiment, Round } from "../experiment/schema.ts";
import { DEFAULT_CHART_NAME, STATE_DIR } from "../experiment/artifacts.ts";
import {
  binaryDiff,
  blobAtCommit,
  hashFileBlobs,
  indexWithEdits,
  pathsRelativeTo,
  readBlob,
  repositoryPrefix,
  type RepositoryStatus,
  repositoryStatus,
  repositoryTop,
  restoreFileFromCommit,
  storeFileBlobs,
} from "./git.ts";

export type Snapshot = {
  head: string;
  /** Tracked paths that differed from HEAD: blob id of their content, or "deleted". */
  dirty: Record<string, string>;
  untracked: string[];
  /**
   * Files git ignores that could change what the eval runs (canChangeWhatRuns): an ignored
   * conftest.py runs with the tests as surely as an untracked one. Absent in snapshots taken
   * before it was recorded: then none is reported new.
   */
  ignored_code?: string[];
  taken_at: string;
};

// Files that can change what an eval runs without being the constrained file: code (a conftest.py
// that marks every test passed, a module that shadows an import, a test file discovery picks up),
// native libraries, and the configuration test runners and build tools read. Data and logs are not.
const CODE_FILE =
  /\.(?:py|pth|pyx|so|dylib|dll|js|mjs|cjs|jsx|ts|mts|cts|tsx|sh|bash|zsh|rb|pl|php|lua|go|rs|c|cc|cpp|cxx|h|hpp|java|kt|swift|r|jl)$/i;
const CONFIG_FILE =
  /(?:^|\/)(?:pytest\.ini|tox\.ini|setup\.cfg|pyproject\.toml|noxfile\.py|package\.json|tsconfig[^/]*\.json|\.babelrc[^/]*|bunfig\.toml|deno\.jsonc?|\.npmrc|\.env[^/]*|[Mm]akefile|GNUmakefile|[Jj]ustfile|Cargo\.toml|go\.mod|CMakeLists\.txt)$/;

/** Whether a new file could change what the eval runs: code, a native library, a runner's configuration. */
export function canChangeWhatRuns(path: string): boolean {
  return CODE_FILE.test(path) || CONFIG_FILE.test(path);
}

// Folders git ignores as a whole are looked into for such files, up to this many entries each;
// caches, and installed packages and build outputs too large to look through each step, are not.
const IGNORED_FOLDER_ENTRIES = 500;
const CACHE_FOLDER =
  /(?:^|\/)(?:__pycache__|\.pytest_cache|\.mypy_cache|\.ruff_cache|\.cache|\.git|node_modules|\.venv|venv|\.tox|\.nox|site-packages|target)\/$/;

/** The ignored files (in ignored folders too, a bounded look) that could change what the eval runs. */
export function ignoredCodeFiles(root: string, status: RepositoryStatus = repositoryStatus(root)): string[] {
  const top = repositoryTop(root);
  const found: string[] = [];
  for (const entry of status.ignoredFromTop) {
    if (!entry.endsWith("/")) {
      if (canChangeWhatRuns(entry)) found.push(entry);
    } else if (!CACHE_FOLDER.test(entry)) {
      found.push(...codeFilesUnder(top, entry));
    }
  }
  return pathsRelativeTo(root, found);
}

function codeFilesUnder(top: string, folder: string): string[] {
  const found: string[] = [];
  let seen = 0;
  const pending = [folder];
  while (pending.length > 0 && seen < IGNORED_FOLDER_ENTRIES) {
    const current = pending.pop()!;
    let entries: Dirent[];
    try {
      entries = readdirSync(join(top, current), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      if (++seen > IGNORED_FOLDER_ENTRIES) break;
      const path = `${current}${entry.name}`;
      if (entry.isDirectory()) {
        if (!CACHE_FOLDER.test(`${path}/`)) pending.push(`${path}/`);
      } else if (canChangeWhatRuns(path)) found.push(path);
    }
  }
  return found;
}

export function snapshotPath(stateDir: string, round: number): string {
  return join(stateDir, `snapshot-round${round}.json`);
}

export function readSnapshot(path: string): Snapshot | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as Snapshot;
  } catch {
    return null;
  }
}

/** Blob ids of the given work-tree files, written to the object store when `store`. */
function hashFiles(root: string, paths: string[], store: boolean): Record<string, string> {
  const present = paths.filter((path) => existsSync(join(root, path)));
  const hashes: Record<string, string> = {};
  for (const path of paths) if (!present.includes(path)) hashes[path] = "deleted";
  const ids = store ? storeFileBlobs(root, present) : hashFileBlobs(root, present);
  present.forEach((path, index) => {
    hashes[path] = ids[index];
  });
  return hashes;
}

/** The work tree as it is now; `status`, when the caller has just read it, saves asking git again. */
export function takeSnapshot(
  root: string,
  ignored: (path: string) => boolean,
  status: RepositoryStatus = repositoryStatus(root),
): Snapshot {
  const tracked = status.tracked.filter((path) => !ignored(path));
  return {
    head: status.head!,
    dirty: hashFiles(root, tracked, true),
    untracked: status.untracked.filter((path) => !ignored(path)),
    ignored_code: ignoredCodeFiles(root, status).filter((path) => !ignored(path)),
    taken_at: new Date().toISOString(),
  };
}

export function saveSnapshot(path: string, snapshot: Snapshot): void {
  writeFileAtomic(path, JSON.stringify(snapshot));
}

export type ScopeReport = { changed: string[]; newUntracked: string[] };

/**
 * Tracked files (outside `ignored`) whose content differs from the snapshot, and new untracked
 * files, with the new files git ignores that could change what the eval runs.
 */
export function compareWithSnapshot(
  root: string,
  snapshot: Snapshot,
  ignored: (path: string) => boolean,
  status: RepositoryStatus = repositoryStatus(root),
): ScopeReport {
  const candidates = [...new Set([...status.tracked, ...Object.keys(snapshot.dirty)])].filter((path) => !ignored(path));
  const now = hashFiles(root, candidates, false);
  const changed: string[] = [];
  const added: string[] = [];
  const known = new Set(snapshot.untracked);
  for (const path of candidates) {
    if (known.has(path)) continue; // a user's untracked file that got staged: content is not ours to judge
    const before = snapshot.dirty[path] ?? blobAtCommit(root, snapshot.head, path);
    if (now[path] === before) continue;
    // A file that did not exist is new, not changed: reported and left alone like untracked ones.
    if (before === "deleted") added.push(path);
    else changed.push(path);
  }
  const knownIgnored = new Set(snapshot.ignored_code ?? []);
  const newIgnored = snapshot.ignored_code === undefined
    ? []
    : ignoredCodeFiles(root, status).filter((path) => !ignored(path) && !knownIgnored.has(path));
  return {
    changed,
    newUntracked: [...added, ...status.untracked.filter((path) => !ignored(path) && !known.has(path)), ...newIgnored],
  };
}

/** Those of `paths` whose content at `commit` is not what the snapshot saw in the work tree. */
export function differAtCommit(root: string, snapshot: Snapshot, commit: string, paths: string[]): string[] {
  const differing: string[] = [];
  for (const path of paths) {
    const before = snapshot.dirty[path] ?? blobAtCommit(root, snapshot.head, path);
    if (blobAtCommit(root, commit, path) !== before) differing.push(path);
  }
  return differing;
}

/** Put out-of-scope edits back the way the snapshot saw them (the user's version if it was dirty). */
export function restoreFromSnapshot(root: string, snapshot: Snapshot, paths: string[]): void {
  for (const path of paths) {
    const blob = snapshot.dirty[path];
    if (blob === undefined) {
      restoreFileFromCommit(root, snapshot.head, path);
    } else if (blob === "deleted") {
      if (existsSync(join(root, path))) unlinkSync(join(root, path));
    } else {
      writeFileAtomic(join(root, path), readBlob(root, blob));
    }
  }
}

/**
 * Paths the scope check leaves alone: the constrained files (judged separately),
 * the experiment file, every round's harness artifacts, the chart and .autoresearch/.
 */
/** harnessOrConstrained for a loaded experiment: its file's path taken relative to its folder. */
export function scopeIgnores(loaded: LoadedExperiment, round: Round): (path: string) => boolean {
  return harnessOrConstrained(loaded.experiment, round, relative(loaded.root, loaded.path));
}

export function harnessOrConstrained(
  experiment: Experiment,
  round: Round,
  experimentPath: string,
): (path: string) => boolean {
  const fixed = new Set<string>([experimentPath, ...round.constrained_files]);
  for (const each of experiment.rounds) for (const artifact of Object.values(each.artifacts)) fixed.add(artifact);
  return (path: string) => fixed.has(path) || path.startsWith(`${STATE_DIR}/`) || DEFAULT_CHART_NAME.test(path);
}

/**
 * The diff from the snapshot's version of `paths` to the work tree (`git apply`-able at
 * the repository's top), built in a temporary index so git's real index is not touched.
 */
export function diffSinceSnapshot(root: string, snapshot: Snapshot, paths: string[], temporaryIndex: string): string {
  if (paths.length === 0) return "";
  const prefix = repositoryPrefix(root);
  const edits = paths.filter((path) => snapshot.dirty[path] !== undefined)
    .map((path) => ({ path: normalize(`${prefix}${path}`), blob: snapshot.dirty[path], mode: "100644" }));
  try {
    indexWithEdits(root, snapshot.head, edits, temporaryIndex);
    return binaryDiff(root, null, paths, { GIT_INDEX_FILE: temporaryIndex });
  } finally {
    rmSync(temporaryIndex, { force: true });
  }
}
