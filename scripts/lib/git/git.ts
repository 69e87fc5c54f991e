// Git access through one tiny exec helper and named one-line queries and commands. Only
// non-destructive commands live here: no reset --hard, no clean, no stash drop. Restoring
// a file writes that one path; nothing else in the work tree is touched. Every function is
// synchronous (spawnSync): a step's git calls are sequential. git is executed directly (no
// shell, arguments need no quoting): `git rev-parse HEAD` took 2.1 ms a call here against
// 5.2 ms through zx's $, which also costs 26-68 ms to import (bench figures in the README).
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { realpathOrSelf } from "../files/paths.ts";

export type GitResult = { ok: boolean; stdout: string; stderr: string; exitCode: number | null; bytes: Buffer };

// GIT_OPTIONAL_LOCKS=0: read-only queries (status) never take index.lock, so a kill
// during one cannot leave a lock behind that blocks the user's next git command.
// The user's diff settings never shape a patch the harness applies or parses (diff.noprefix drops
// the a/ b/ prefixes git apply expects, diff.relative the paths outside the current folder).
const NEUTRAL_DIFF = {
  GIT_CONFIG_COUNT: "3",
  GIT_CONFIG_KEY_0: "diff.noprefix",
  GIT_CONFIG_VALUE_0: "false",
  GIT_CONFIG_KEY_1: "diff.relative",
  GIT_CONFIG_VALUE_1: "false",
  GIT_CONFIG_KEY_2: "diff.mnemonicPrefix",
  GIT_CONFIG_VALUE_2: "false",
};
const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0", ...NEUTRAL_DIFF };
/** Big enough for a diff or a blob of a large constrained file (bytes). */
const MAX_GIT_OUTPUT_BYTES = 256 * 1024 * 1024;

export function runGit(
  cwd: string,
  args: string[],
  input?: string | Uint8Array,
  env?: Record<string, string>,
): GitResult {
  const result = spawnSync("git", args, {
    cwd,
    input,
    env: env ? { ...GIT_ENV, ...env } : GIT_ENV,
    maxBuffer: MAX_GIT_OUTPUT_BYTES,
  });
  if (result.error) {
    throw new CliError(`Cannot run git: ${result.error.message}. Install git and re-run.`, "E_NO_GIT", EXIT.FAILED);
  }
  const bytes = result.stdout ?? Buffer.alloc(0);
  return {
    ok: result.status === 0,
    stdout: bytes.toString("utf8"),
    stderr: (result.stderr ?? Buffer.alloc(0)).toString("utf8"),
    exitCode: result.status,
    bytes,
  };
}

/** Run git and return stdout without its last newline, or throw a CliError quoting git's own message. */
export function git(cwd: string, args: string[], input?: string | Uint8Array, env?: Record<string, string>): string {
  const result = runGit(cwd, args, input, env);
  if (!result.ok) {
    const lock = /Unable to create '([^']+\.lock)': File exists/.exec(result.stderr);
    if (lock) throw indexLockError(lock[1]);
    const reason = result.stderr.trim().split("\n").slice(-1)[0] || `exit ${result.exitCode}`;
    throw new CliError(`git ${args.join(" ")} failed in "${cwd}": ${reason}`, "E_GIT", EXIT.FAILED);
  }
  return result.stdout.replace(/\n$/, "");
}

/** A folder's place in its repository never changes: one git call per folder and question. */
const FIXED_ANSWERS = new Map<string, string>();
const TOP_QUESTION = ["rev-parse", "--show-toplevel"];
const PREFIX_QUESTION = ["rev-parse", "--show-prefix"];

function fixedAnswer(cwd: string, args: string[]): string {
  const key = `${cwd}\0${args.join(" ")}`;
  let answer = FIXED_ANSWERS.get(key);
  if (answer === undefined) {
    answer = git(cwd, args).trim();
    FIXED_ANSWERS.set(key, answer);
  }
  return answer;
}

/** The repository's top folder for a folder inside it. */
export function repositoryTop(cwd: string): string {
  return fixedAnswer(cwd, TOP_QUESTION);
}

/**
 * The repository's top folder, or null outside a repository. The same call answers what a
 * script asks next (the folder's prefix, the git directory's paths), so those cost nothing.
 */
export function repositoryRoot(cwd: string): string | null {
  const known = FIXED_ANSWERS.get(`${cwd}\0${TOP_QUESTION.join(" ")}`);
  if (known !== undefined) return known;
  const names = WELL_KNOWN_GIT_PATHS.filter((name) => !GIT_PATHS.has(`${cwd}\0${name}`));
  const result = runGit(cwd, [
    ...TOP_QUESTION,
    "--show-prefix",
    "--path-format=absolute",
    ...names.flatMap((name) => ["--git-path", name]),
  ]);
  if (!result.ok) return null;
  const [top, prefix, ...paths] = result.stdout.split("\n");
  FIXED_ANSWERS.set(`${cwd}\0${TOP_QUESTION.join(" ")}`, top.trim());
  FIXED_ANSWERS.set(`${cwd}\0${PREFIX_QUESTION.join(" ")}`, prefix.trim());
  names.forEach((name, index) => GIT_PATHS.set(`${cwd}\0${name}`, paths[index].trim()));
  return top.trim();
}

export function requireRepositoryRoot(cwd: string, nextStep: string): string {
  const root = repositoryRoot(cwd);
  if (!root) {
    throw new CliError(
      `"${cwd}" is not inside a git repository. Run: git init && git add -A && git commit -m "initial", then ${nextStep}`,
      "E_NOT_GIT",
    );
  }
  return root;
}

export function headCommit(root: string): string | null {
  const result = runGit(root, ["rev-parse", "--verify", "-q", "HEAD"]);
  return result.ok ? result.stdout.trim() : null;
}

/** The checked-out branch, or null on a detached HEAD. */
export function currentBranch(root: string): string | null {
  // The usual HEAD file names its branch: read it instead of starting git. Anything else
  // (a detached HEAD, reftable's placeholder, an unreadable file) is left to git to answer.
  try {
    const symbolic = /^ref: refs\/heads\/(.+)\n?$/.exec(readFileSync(gitPath(root, "HEAD"), "utf8"));
    if (symbolic && symbolic[1] !== ".invalid") return symbolic[1];
  } catch { /* asked of git below */ }
  const result = runGit(root, ["symbolic-ref", "--short", "-q", "HEAD"]);
  return result.ok ? result.stdout.trim() : null;
}

export function isTracked(root: string, path: string): boolean {
  return runGit(root, ["ls-files", "--error-unmatch", "--", path]).ok;
}

/** The full id of `reference` as a commit, or null when it names no commit here. */
export function resolveCommit(root: string, reference: string): string | null {
  const result = runGit(root, ["rev-parse", "-q", "--verify", `${reference}^{commit}`]);
  return result.ok ? result.stdout.trim() : null;
}

export type ResolvedCommit = { commit: string; short: string; blobs: Record<string, string> };

/**
 * The full and the short id of `reference` as a commit, and the blob ids of `paths`
 * (relative to root) in it, in one call; null when it names no commit or lacks one of the paths.
 */
export function resolveCommitWithShort(root: string, reference: string, paths: string[] = []): ResolvedCommit | null {
  const commit = `${reference}^{commit}`;
  // --short verifies a single revision, so it comes last.
  const result = runGit(root, [
    "rev-parse",
    commit,
    ...paths.map((path) => `${commit}:./${path}`),
    "--short=7",
    commit,
  ]);
  if (!result.ok) return null;
  const lines = result.stdout.trim().split("\n");
  return {
    commit: lines[0],
    short: lines[paths.length + 1],
    blobs: Object.fromEntries(paths.map((path, index) => [path, lines[index + 1]])),
  };
}

export function isAncestor(root: string, ancestor: string, descendant: string): boolean {
  return runGit(root, ["merge-base", "--is-ancestor", ancestor, descendant]).ok;
}

/** Commits reachable from `to` but not from `from`, newest first. */
export function commitsBetween(root: string, from: string, to: string): string[] {
  return git(root, ["rev-list", `${from}..${to}`]).split("\n").filter(Boolean);
}

/** Paths (relative to `root`) that differ between two commits. */
export function pathsChangedBetween(root: string, from: string, to: string): string[] {
  return pathsRelativeTo(root, git(root, ["diff", "--name-only", from, to]).split("\n").filter(Boolean));
}

/** "abc1234 subject" of each commit reachable from `to` but not from `from`, newest first. */
export function commitSubjectsBetween(root: string, from: string, to: string): string[] {
  return git(root, ["log", "--format=%h %s", `${from}..${to}`]).split("\n").filter(Boolean);
}

/** The commit's full message. */
export function commitMessageOf(root: string, commit: string): string {
  return git(root, ["log", "-1", "--format=%B", commit]);
}

/**
 * Turn repository-root paths (what `git status --porcelain` and `git diff --name-only`
 * print) into paths relative to `cwd`, so an experiment kept in a subdirectory compares
 * like with like: `search/ranker.py` -> `ranker.py`, `README.md` -> `../README.md`.
 */
export function pathsRelativeTo(cwd: string, repositoryPaths: string[]): string[] {
  const prefix = repositoryPrefix(cwd);
  if (prefix === "") return repositoryPaths;
  const up = "../".repeat(prefix.split("/").filter(Boolean).length);
  return repositoryPaths.map((path) => (path.startsWith(prefix) ? path.slice(prefix.length) : `${up}${path}`));
}

/** Where `cwd` sits in its repository: "" at the top, else "search/" and so on. */
export function repositoryPrefix(cwd: string): string {
  return fixedAnswer(cwd, PREFIX_QUESTION);
}

/**
 * HEAD, the branch, and the paths (relative to root) that differ from HEAD in index or work tree, or are
 * untracked; and what git ignores, from the top of the work tree (an experiment in a subfolder sees the
 * whole tree), a wholly ignored folder as one entry ending in "/".
 */
export type RepositoryStatus = {
  head: string | null;
  branch: string | null;
  tracked: string[];
  untracked: string[];
  ignoredFromTop: string[];
};

/** One `git status` answers what a step asks of the work tree and of HEAD. */
export function repositoryStatus(root: string): RepositoryStatus {
  const output = git(root, [
    "status",
    "--porcelain=v2",
    "--branch",
    "--no-ahead-behind",
    "-z",
    "--untracked-files=all",
    "--ignored=matching",
  ]);
  let head: string | null = null;
  let branch: string | null = null;
  const tracked: string[] = [];
  const untracked: string[] = [];
  const ignoredFromTop: string[] = [];
  const entries = output.split("\0").filter(Boolean);
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    if (entry.startsWith("# branch.oid ")) head = /^[0-9a-f]+$/.test(entry.slice(13)) ? entry.slice(13) : null;
    else if (entry.startsWith("# branch.head ")) branch = entry.slice(14) === "(detached)" ? null : entry.slice(14);
    else if (entry.startsWith("? ")) untracked.push(entry.slice(2));
    else if (entry.startsWith("! ")) ignoredFromTop.push(entry.slice(2));
    else if (entry.startsWith("1 ")) tracked.push(fieldsAfter(entry, 8));
    else if (entry.startsWith("u ")) tracked.push(fieldsAfter(entry, 10));
    else if (entry.startsWith("2 ")) {
      tracked.push(fieldsAfter(entry, 9));
      // A rename's source follows it: it changed too (it is gone), a copy's source did not.
      const source = entries[++index];
      if (entry.split(" ")[8].startsWith("R")) tracked.push(source);
    }
  }
  return {
    head,
    branch,
    tracked: pathsRelativeTo(root, tracked),
    untracked: pathsRelativeTo(root, untracked),
    ignoredFromTop,
  };
}

/** The path in a status v2 entry: everything after its first `count` space-separated fields. */
function fieldsAfter(entry: string, count: number): string {
  let at = 0;
  for (let field = 0; field < count; field++) at = entry.indexOf(" ", at) + 1;
  return entry.slice(at);
}

export function fileDiffersFromCommit(root: string, commit: string, path: string): boolean {
  return runGit(root, ["diff", "--quiet", commit, "--", path]).exitCode === 1;
}

/** False only when git proves the paths equal `commit` in the work tree (an error counts as a difference). */
export function pathsDifferFromCommit(root: string, commit: string, paths: string[]): boolean {
  return runGit(root, ["diff", "--quiet", commit, "--", ...paths]).exitCode !== 0;
}

/** The repository's tracked files (posix, from its top), or none when git cannot list them. */
export function trackedFiles(root: string): string[] {
  const listed = runGit(root, ["ls-files", "-z"]);
  return listed.ok ? listed.stdout.split("\0").filter(Boolean) : [];
}

/** The work tree's changes to `paths` since `commit`, as a zero-context patch ("" when none). */
export function workTreePatch(root: string, commit: string, paths: string[]): string {
  return git(root, ["diff", "-U0", commit, "--", ...paths]);
}

/** What a commit changed in `paths`, as a zero-context patch; null when the commit is not here. */
export function commitPatch(root: string, commit: string, paths: string[]): string | null {
  const shown = runGit(root, ["show", "--format=", "--no-color", "--no-ext-diff", "-U0", commit, "--", ...paths]);
  return shown.ok ? shown.stdout : null;
}

/** `git diff --binary` of `paths` from `commit` (or, without one, from the index) to the work tree. */
export function binaryDiff(root: string, commit: string | null, paths: string[], env?: Record<string, string>): string {
  return git(root, ["diff", "--binary", ...(commit ? [commit] : []), "--", ...paths], undefined, env);
}

/** A commit's files never change: bytes read at a full commit id are kept, the latest few (a loop runs for hours). */
const FILES_AT_COMMIT = new Map<string, Buffer | null>();
const FILES_AT_COMMIT_KEPT = 8; // entries

/** The file's bytes at a commit, or null when it does not exist there. */
export function fileAtCommit(root: string, commit: string, path: string): Buffer | null {
  const key = `${root}\0${commit}\0${path}`;
  if (FILES_AT_COMMIT.has(key)) return FILES_AT_COMMIT.get(key)!;
  // `./` makes the path relative to `root`, which may be a subdirectory of the repository.
  const result = runGit(root, ["show", `${commit}:./${path}`]);
  const bytes = result.ok ? result.bytes : null;
  if (
    /^[0-9a-f]{40}([0-9a-f]{24})?$/.test(commit) &&
    (result.ok || /does not exist in|exists on disk, but not in/.test(result.stderr))
  ) {
    FILES_AT_COMMIT.set(key, bytes);
    if (FILES_AT_COMMIT.size > FILES_AT_COMMIT_KEPT) FILES_AT_COMMIT.delete(FILES_AT_COMMIT.keys().next().value!);
  }
  return bytes;
}

/** The blob id of the file at a commit, or "deleted" when it does not exist there. */
export function blobAtCommit(root: string, commit: string, path: string): string {
  const result = runGit(root, ["rev-parse", "-q", "--verify", `${commit}:./${path}`]);
  return result.ok ? result.stdout.trim() : "deleted";
}

/** A blob's bytes. */
export function readBlob(root: string, blob: string): Buffer {
  return runGit(root, ["cat-file", "blob", blob]).bytes;
}

/** Write bytes to the object store; returns their blob id. Nothing else changes. */
export function storeBlob(root: string, content: string | Uint8Array): string {
  return git(root, ["hash-object", "-w", "--stdin"], content).trim();
}

/** Write work-tree files (relative to root) to the object store; returns their blob ids in order. */
export function storeFileBlobs(root: string, paths: string[]): string[] {
  if (paths.length === 0) return [];
  // Absolute paths: git reads --stdin-paths from the repository root, not from `root`.
  return git(root, ["hash-object", "-w", "--stdin-paths"], paths.map((path) => join(root, path)).join("\n") + "\n")
    .split("\n").map((id) => id.trim());
}

/** Blob ids of work-tree files without writing them; returns them in order. */
export function hashFileBlobs(root: string, paths: string[]): string[] {
  if (paths.length === 0) return [];
  return git(root, ["hash-object", "--stdin-paths"], paths.map((path) => join(root, path)).join("\n") + "\n").split(
    "\n",
  ).map((id) => id.trim());
}

export function shortCommit(root: string, commit: string): string {
  return git(root, ["rev-parse", "--short=7", commit]);
}

/** Point `ref` at `to`, only if it still points at `from` (when given). */
export function updateRef(
  root: string,
  ref: string,
  to: string,
  options: { from?: string; message?: string } = {},
): void {
  git(root, [
    "update-ref",
    ...(options.message ? ["-m", options.message] : []),
    ref,
    to,
    ...(options.from ? [options.from] : []),
  ]);
}

/** Make the index's entries for `paths` match HEAD; the work tree is not read or written. */
export function resetIndexToHead(root: string, paths: string[]): void {
  git(root, ["reset", "-q", "HEAD", "--", ...paths]);
}

export type TreeEdit = { path: string; blob: string | "deleted"; mode: string };

/**
 * Fill the temporary index file `indexFile` with `commit`'s tree and `edits` applied
 * (repository paths): git's own index and the work tree are not touched.
 */
export function indexWithEdits(root: string, commit: string, edits: TreeEdit[], indexFile: string): void {
  const env = { GIT_INDEX_FILE: indexFile };
  // Index commands take repository paths; --index-info ignores the current folder.
  const top = repositoryTop(root);
  git(top, ["read-tree", commit], undefined, env);
  const removed = edits.filter((edit) => edit.blob === "deleted").map((edit) => edit.path);
  if (removed.length) git(top, ["update-index", "--force-remove", "--", ...removed], undefined, env);
  const added = edits.filter((edit) => edit.blob !== "deleted");
  if (added.length) {
    git(
      top,
      ["update-index", "-z", "--index-info"],
      added.map((edit) => `${edit.mode} ${edit.blob}\t${edit.path}\0`).join(""),
      env,
    );
  }
}

/** `commit`'s tree with `edits` applied, written through the temporary index `indexFile`; returns the tree id. */
export function treeWithEdits(root: string, commit: string, edits: TreeEdit[], indexFile: string): string {
  indexWithEdits(root, commit, edits, indexFile);
  return git(repositoryTop(root), ["write-tree"], undefined, { GIT_INDEX_FILE: indexFile }).trim();
}

/** A new commit of `tree` on `parent` (no ref moves); returns its id. */
export function commitTree(root: string, tree: string, parent: string, message: string): string {
  return git(root, ["-c", "commit.gpgsign=false", "commit-tree", tree, "-p", parent, "-F", "-"], message).trim();
}

/**
 * A commit on `parent` of the work-tree files `paths` (relative to root) as they are now (a
 * missing one is removed), built through the temporary index `indexFile`: no ref moves, and
 * git's own index and the rest of the work tree are neither read nor written. Returns its id.
 */
export function commitWorkTreeFilesOn(
  root: string,
  parent: string,
  paths: string[],
  message: string,
  indexFile: string,
): string {
  const present = paths.filter((path) => existsSync(join(root, path)));
  const blobs = storeFileBlobs(root, present);
  const prefix = repositoryPrefix(root);
  const edits: TreeEdit[] = paths.map((path) => {
    const at = present.indexOf(path);
    const executable = at >= 0 && (statSync(join(root, path)).mode & 0o111) !== 0;
    return { path: `${prefix}${path}`, blob: at >= 0 ? blobs[at] : "deleted", mode: executable ? "100755" : "100644" };
  });
  return commitTree(root, treeWithEdits(root, parent, edits, indexFile), parent, message);
}

/** True when `path` (relative to root) is in `commit`'s tree. */
export function isInCommit(root: string, commit: string, path: string): boolean {
  return runGit(root, ["cat-file", "-e", `${commit}:./${path}`]).ok;
}

/**
 * Put one file back to its content at `commit` (deleting it if it did not exist
 * there). Only that path is written; the index and every other file are untouched.
 */
export function restoreFileFromCommit(root: string, commit: string, path: string): void {
  const content = fileAtCommit(root, commit, path);
  const absolute = join(root, path);
  if (content === null) {
    if (existsSync(absolute)) unlinkSync(absolute);
    return;
  }
  writeFileAtomic(absolute, content);
}

/** Switch to `branch`, creating it at HEAD when missing; uncommitted work is carried over, never discarded. */
export function switchToBranch(root: string, branch: string): "created" | "switched" | "already" {
  if (currentBranch(root) === branch) return "already";
  const exists = runGit(root, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`]).ok;
  const result = runGit(root, exists ? ["switch", branch] : ["switch", "-c", branch]);
  if (!result.ok) {
    throw new CliError(
      `Cannot switch to branch "${branch}": ${
        result.stderr.trim().split("\n")[0]
      }. Commit or stash your changes, or pass --no-branch.`,
      "E_BRANCH",
      EXIT.FAILED,
    );
  }
  return exists ? "switched" : "created";
}

const GIT_PATHS = new Map<string, string>(); // "<root>\0<name>" -> absolute path; fixed for a repository

/** Paths inside the repository's git directory (worktree-aware), absolute, in at most one git call. */
export function gitPaths(root: string, names: string[]): string[] {
  const missing = [...new Set([...names, ...WELL_KNOWN_GIT_PATHS])].filter((name) =>
    !GIT_PATHS.has(`${root}\0${name}`)
  );
  if (missing.length) {
    const output = git(root, [
      "rev-parse",
      "--path-format=absolute",
      ...missing.flatMap((name) => ["--git-path", name]),
    ]);
    output.split("\n").forEach((line, index) => GIT_PATHS.set(`${root}\0${missing[index]}`, line.trim()));
  }
  return names.map((name) => GIT_PATHS.get(`${root}\0${name}`)!);
}

export function gitPath(root: string, name: string): string {
  return gitPaths(root, [name])[0];
}

export function indexLockError(path: string): CliError {
  return new CliError(
    `Git's lock "${path}" exists: another git command is running here, or one was killed. If none is running, remove it (rm -f "${path}") and re-run.`,
    "E_GIT_LOCKED",
    EXIT.FAILED,
  );
}

const OPERATION_MARKERS: [string, string][] = [
  ["MERGE_HEAD", "a merge"],
  ["rebase-merge", "a rebase"],
  ["rebase-apply", "a rebase or git am"],
  ["CHERRY_PICK_HEAD", "a cherry-pick"],
  ["REVERT_HEAD", "a revert"],
  ["BISECT_LOG", "a bisect"],
];

/** What a script asks the git directory about, fetched together on the first question. */
const WELL_KNOWN_GIT_PATHS = [
  ...OPERATION_MARKERS.map(([name]) => name),
  "index.lock",
  "HEAD",
  "HEAD.lock",
  "refs",
  "autoresearch/seal.key",
];

/**
 * The lock files git takes to move `ref` (absolute): HEAD also locks the branch it names, a
 * ref under refs/ its own `.lock` in the common git directory (worktree-aware).
 */
export function refLockPaths(root: string, ref: string): string[] {
  const refs = gitPath(root, "refs");
  if (ref.startsWith("refs/")) return [join(refs, `${ref.slice("refs/".length)}.lock`)];
  const branch = ref === "HEAD" ? currentBranch(root) : null;
  return [gitPath(root, `${ref}.lock`), ...(branch ? [join(refs, "heads", `${branch}.lock`)] : [])];
}

/** The git operation a person left half-done (merge, rebase, cherry-pick, revert, bisect), or null. */
export function operationInProgress(root: string): string | null {
  const paths = gitPaths(root, OPERATION_MARKERS.map(([name]) => name));
  const found = OPERATION_MARKERS.find((_marker, index) => existsSync(paths[index]));
  if (found) return found[1];
  const unmerged = git(root, ["ls-files", "--unmerged"]);
  return unmerged.trim() ? "a conflict resolution (unmerged files in the index)" : null;
}

// Worktrees: an experiment (baseline --worktree) and each parallel worker run in their own, so the
// user's checkout, branch and index are never touched. Removal never forces: git refuses a
// worktree with changes, so nothing is lost.

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
  const wanted = realpathOrSelf(path);
  return listWorktrees(root).some((worktree) => realpathOrSelf(worktree.path) === wanted);
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

/** The repository's own git folder and its common one, absolute: they differ in a linked worktree. */
export function isLinkedWorktree(root: string): boolean {
  const [own, common] = git(root, ["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"]).split("\n");
  return own.trim() !== common.trim();
}

/** The repository's main worktree (the first git lists): the user's own checkout. */
export function mainWorktreeTop(root: string): string {
  return listWorktrees(root)[0]?.path ?? repositoryTop(root);
}

/** Forget worktrees whose folders are gone. */
export function pruneWorktrees(root: string): void {
  runGit(root, ["worktree", "prune"]);
}

/** Whether git ignores `path` (relative to `root`). */
export function isIgnoredPath(root: string, path: string): boolean {
  return runGit(root, ["check-ignore", "-q", path]).ok;
}

/** Whether any tracked file lies at or below `path`. */
export function hasTrackedFilesUnder(root: string, path: string): boolean {
  return runGit(root, ["ls-files", "--", path]).stdout.trim() !== "";
}

/** How many tracked files differ from HEAD (staged or not). */
export function uncommittedTrackedCount(root: string): number {
  return runGit(root, ["status", "--porcelain", "--untracked-files=no"]).stdout.split("\n").filter(Boolean).length;
}

/** Staged changes against HEAD under a given index (GIT_INDEX_FILE in `env`), as a binary patch. */
export function stagedPatch(root: string, env: Record<string, string>, against = "HEAD"): string {
  return runGit(root, ["diff", "--cached", "--binary", against], undefined, env).stdout;
}

/** The work tree's change to `paths` against `commit` with no context lines (for applyZeroContext). */
export function zeroContextPatch(root: string, commit: string, paths: string[]): string {
  return runGit(root, ["diff", "--binary", "-U0", commit, "--", ...paths]).stdout;
}

/**
 * Apply a zero-context patch: each hunk still needs its removed lines where it expects them, but
 * not the lines around them, so a change next to another change applies. Null when it applied,
 * else git's line for why not.
 */
export function applyZeroContext(root: string, patchFile: string): string | null {
  const applied = runGit(root, ["apply", "--unidiff-zero", "--whitespace=nowarn", patchFile]);
  if (applied.ok) return null;
  const lines = applied.stderr.trim().split("\n");
  return lines.find((line) => /error/i.test(line)) ?? lines[lines.length - 1] ?? `exit ${applied.exitCode}`;
}

/** Apply a patch file with a three-way merge: null when it applied, else git's line for why not. */
export function applyThreeWay(root: string, patchFile: string): string | null {
  const applied = runGit(root, ["apply", "--3way", "--whitespace=nowarn", patchFile]);
  if (applied.ok) return null;
  const lines = applied.stderr.trim().split("\n");
  return lines.find((line) => /error|conflict/i.test(line)) ?? lines[lines.length - 1] ?? `exit ${applied.exitCode}`;
}

/** Local branches with the commit each points at. */
export function localBranches(root: string): { name: string; commit: string }[] {
  return git(root, ["for-each-ref", "--format=%(objectname) %(refname:short)", "refs/heads"]).split("\n")
    .filter(Boolean).map((line) => ({
      commit: line.slice(0, line.indexOf(" ")),
      name: line.slice(line.indexOf(" ") + 1),
    }));
}

/** The best common ancestor of two commits, or null when they share none. */
export function mergeBase(root: string, first: string, second: string): string | null {
  const result = runGit(root, ["merge-base", first, second]);
  return result.ok ? result.stdout.trim() : null;
}

/** The branches HEAD's reflog says were left for `branch` ("checkout: moving from main to ..."), newest first. */
export function branchesLeftFor(root: string, branch: string): string[] {
  const result = runGit(root, ["reflog", "show", "--format=%gs", "HEAD"]);
  if (!result.ok) return [];
  const suffix = ` to ${branch}`;
  return result.stdout.split("\n").filter((line) => line.startsWith("checkout: moving from ") && line.endsWith(suffix))
    .map((line) => line.slice("checkout: moving from ".length, -suffix.length));
}

/** A commit's first parent, or null for a root commit. */
export function firstParent(root: string, commit: string): string | null {
  const result = runGit(root, ["rev-parse", "--verify", "-q", `${commit}^1`]);
  return result.ok ? result.stdout.trim() : null;
}

/** Who wrote a commit and when (ISO dates), to build another commit with the same identity and dates. */
export function commitIdentity(root: string, commit: string): Record<string, string> {
  const [name, email, authored, committed] = git(root, ["log", "-1", "--format=%an%x00%ae%x00%aI%x00%cI", commit])
    .split("\0");
  return { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_AUTHOR_DATE: authored, GIT_COMMITTER_DATE: committed };
}

/** `git diff --binary` of `paths` (relative to root) between two commits, with repository paths in the headers. */
export function commitsDiff(root: string, from: string, to: string, paths: string[]): string {
  // Not git(): a patch file keeps its last newline, and a failure must not pass for "no change".
  const result = runGit(root, ["diff", "--binary", "--no-color", "--no-ext-diff", from, to, "--", ...paths]);
  if (!result.ok) {
    const reason = result.stderr.trim().split("\n").slice(-1)[0] || `exit ${result.exitCode}`;
    throw new CliError(`git diff ${from} ${to} failed in "${root}": ${reason}`, "E_GIT", EXIT.FAILED);
  }
  return result.stdout;
}

/**
 * Apply a patch file to the temporary index `indexFile` only (`git apply --cached`): the work
 * tree and git's own index are not touched. Null when it applied, else git's line for why not.
 */
export function applyToIndex(root: string, patchFile: string, indexFile: string): string | null {
  const applied = runGit(repositoryTop(root), ["apply", "--cached", "--whitespace=nowarn", patchFile], undefined, {
    GIT_INDEX_FILE: indexFile,
  });
  if (applied.ok) return null;
  const lines = applied.stderr.trim().split("\n");
  return lines.find((line) => /error/i.test(line)) ?? lines[lines.length - 1] ?? `exit ${applied.exitCode}`;
}

/** Write the temporary index `indexFile` as a tree; returns its id. */
export function writeIndexTree(root: string, indexFile: string): string {
  return git(repositoryTop(root), ["write-tree"], undefined, { GIT_INDEX_FILE: indexFile }).trim();
}

/** A commit of `tree` on `parent` with the identity and dates in `env` (commitIdentity): the same input, the same id. */
export function commitTreeWith(
  root: string,
  tree: string,
  parent: string,
  message: string,
  env: Record<string, string>,
): string {
  return git(root, ["-c", "commit.gpgsign=false", "commit-tree", tree, "-p", parent, "-F", "-"], message, env).trim();
}

/** The messages of a branch's reflog, oldest first (empty when it has none). */
export function branchReflogMessages(root: string, branch: string): string[] {
  const result = runGit(root, ["reflog", "show", "--format=%gs", `refs/heads/${branch}`]);
  return result.ok ? result.stdout.split("\n").filter(Boolean).reverse() : [];
}

/** Whether `paths` (relative to root) differ between two commits. */
export function commitsDifferIn(root: string, first: string, second: string, paths: string[]): boolean {
  return runGit(root, ["diff", "--quiet", first, second, "--", ...paths]).exitCode === 1;
}
