// Git access through one tiny exec helper and one-line queries. Only
// non-destructive commands live here: no reset --hard, no clean, no stash drop.
// Restoring a file writes that one path; nothing else in the work tree is touched.
// git is executed directly (no shell): a step makes ~18 calls, and zx's $ cost 3.1-3.8 ms
// a call against 1.4-1.5 ms here, plus 60-100 ms to import; arguments need no quoting.
import { spawnSync } from "node:child_process";
import { existsSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { writeFileAtomic } from "../files/atomic.ts";

export type GitResult = { ok: boolean; stdout: string; stderr: string; exitCode: number | null; bytes: Buffer };

// GIT_OPTIONAL_LOCKS=0: read-only queries (status) never take index.lock, so a kill
// during one cannot leave a lock behind that blocks the user's next git command.
const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", GIT_OPTIONAL_LOCKS: "0" };
/** Big enough for a diff or a blob of a large constrained file (bytes). */
const MAX_GIT_OUTPUT_BYTES = 256 * 1024 * 1024;

export async function runGit(cwd: string, args: string[], input?: string | Uint8Array, env?: Record<string, string>): Promise<GitResult> {
  const result = spawnSync("git", args, { cwd, input, env: env ? { ...GIT_ENV, ...env } : GIT_ENV, maxBuffer: MAX_GIT_OUTPUT_BYTES });
  if (result.error) throw new CliError(`Cannot run git: ${result.error.message}. Install git and re-run.`, "E_NO_GIT", EXIT.FAILED);
  const bytes = result.stdout ?? Buffer.alloc(0);
  return { ok: result.status === 0, stdout: bytes.toString("utf8"), stderr: (result.stderr ?? Buffer.alloc(0)).toString("utf8"), exitCode: result.status, bytes };
}

/** Run git and return trimmed stdout, or throw a CliError quoting git's own message. */
export async function git(cwd: string, args: string[], input?: string | Uint8Array, env?: Record<string, string>): Promise<string> {
  const result = await runGit(cwd, args, input, env);
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

async function fixedAnswer(cwd: string, args: string[]): Promise<string> {
  const key = `${cwd}\0${args.join(" ")}`;
  let answer = FIXED_ANSWERS.get(key);
  if (answer === undefined) {
    answer = (await git(cwd, args)).trim();
    FIXED_ANSWERS.set(key, answer);
  }
  return answer;
}

/** The repository's top folder for a folder inside it. */
export async function repositoryTop(cwd: string): Promise<string> {
  return fixedAnswer(cwd, ["rev-parse", "--show-toplevel"]);
}

export async function repositoryRoot(cwd: string): Promise<string | null> {
  const result = await runGit(cwd, ["rev-parse", "--show-toplevel"]);
  if (result.ok) FIXED_ANSWERS.set(`${cwd}\0rev-parse --show-toplevel`, result.stdout.trim());
  return result.ok ? result.stdout.trim() : null;
}

export async function requireRepositoryRoot(cwd: string, nextStep: string): Promise<string> {
  const root = await repositoryRoot(cwd);
  if (!root) throw new CliError(`"${cwd}" is not inside a git repository. Run: git init && git add -A && git commit -m "initial", then ${nextStep}`, "E_NOT_GIT");
  return root;
}

export async function headCommit(root: string): Promise<string | null> {
  const result = await runGit(root, ["rev-parse", "--verify", "-q", "HEAD"]);
  return result.ok ? result.stdout.trim() : null;
}

export async function currentBranch(root: string): Promise<string | null> {
  const result = await runGit(root, ["symbolic-ref", "--short", "-q", "HEAD"]);
  return result.ok ? result.stdout.trim() : null;
}

export async function isTracked(root: string, path: string): Promise<boolean> {
  return (await runGit(root, ["ls-files", "--error-unmatch", "--", path])).ok;
}


/**
 * Turn repository-root paths (what `git status --porcelain` and `git diff --name-only`
 * print) into paths relative to `cwd`, so an experiment kept in a subdirectory compares
 * like with like: `search/ranker.py` -> `ranker.py`, `README.md` -> `../README.md`.
 */
export async function pathsRelativeTo(cwd: string, repositoryPaths: string[]): Promise<string[]> {
  const prefix = await repositoryPrefix(cwd);
  if (prefix === "") return repositoryPaths;
  const up = "../".repeat(prefix.split("/").filter(Boolean).length);
  return repositoryPaths.map((path) => (path.startsWith(prefix) ? path.slice(prefix.length) : `${up}${path}`));
}

/** Where `cwd` sits in its repository: "" at the top, else "search/" and so on. */
export async function repositoryPrefix(cwd: string): Promise<string> {
  return fixedAnswer(cwd, ["rev-parse", "--show-prefix"]);
}

/** Paths (relative to root) that differ from HEAD in the index or work tree, plus untracked ones. */
export async function changedPaths(root: string): Promise<{ tracked: string[]; untracked: string[] }> {
  const output = await git(root, ["status", "--porcelain=v1", "-z", "--untracked-files=all"]);
  const tracked: string[] = [];
  const untracked: string[] = [];
  const entries = output.split("\0").filter(Boolean);
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index];
    const code = entry.slice(0, 2);
    const path = entry.slice(3);
    if (code === "??") untracked.push(path);
    else tracked.push(path);
    // A rename's source follows it: it changed too (it is gone), a copy's source did not.
    if (code[0] === "R") tracked.push(entries[++index]);
    else if (code[0] === "C") index++;
  }
  return { tracked: await pathsRelativeTo(root, tracked), untracked: await pathsRelativeTo(root, untracked) };
}

export async function fileDiffersFromCommit(root: string, commit: string, path: string): Promise<boolean> {
  const result = await runGit(root, ["diff", "--quiet", commit, "--", path]);
  return result.exitCode === 1;
}

/** The file's bytes at a commit, or null when it does not exist there. */
export async function fileAtCommit(root: string, commit: string, path: string): Promise<Buffer | null> {
  // `./` makes the path relative to `root`, which may be a subdirectory of the repository.
  const result = await runGit(root, ["show", `${commit}:./${path}`]);
  return result.ok ? result.bytes : null;
}

export async function shortCommit(root: string, commit: string): Promise<string> {
  return git(root, ["rev-parse", "--short=7", commit]);
}

/**
 * Put one file back to its content at `commit` (deleting it if it did not exist
 * there). Only that path is written; the index and every other file are untouched.
 */
export async function restoreFileFromCommit(root: string, commit: string, path: string): Promise<void> {
  const content = await fileAtCommit(root, commit, path);
  const absolute = join(root, path);
  if (content === null) {
    if (existsSync(absolute)) unlinkSync(absolute);
    return;
  }
  writeFileAtomic(absolute, content);
}

/** Switch to `branch`, creating it at HEAD when missing; uncommitted work is carried over, never discarded. */
export async function switchToBranch(root: string, branch: string): Promise<"created" | "switched" | "already"> {
  if ((await currentBranch(root)) === branch) return "already";
  const exists = (await runGit(root, ["rev-parse", "--verify", "-q", `refs/heads/${branch}`])).ok;
  const result = await runGit(root, exists ? ["switch", branch] : ["switch", "-c", branch]);
  if (!result.ok) {
    throw new CliError(`Cannot switch to branch "${branch}": ${result.stderr.trim().split("\n")[0]}. Commit or stash your changes, or pass --no-branch.`, "E_BRANCH", EXIT.FAILED);
  }
  return exists ? "switched" : "created";
}

const GIT_PATHS = new Map<string, string>(); // "<root>\0<name>" -> absolute path; fixed for a repository

/** Paths inside the repository's git directory (worktree-aware), absolute, in at most one git call. */
export async function gitPaths(root: string, names: string[]): Promise<string[]> {
  const missing = [...new Set([...names, ...WELL_KNOWN_GIT_PATHS])].filter((name) => !GIT_PATHS.has(`${root}\0${name}`));
  if (missing.length) {
    const output = await git(root, ["rev-parse", "--path-format=absolute", ...missing.flatMap((name) => ["--git-path", name])]);
    output.split("\n").forEach((line, index) => GIT_PATHS.set(`${root}\0${missing[index]}`, line.trim()));
  }
  return names.map((name) => GIT_PATHS.get(`${root}\0${name}`)!);
}

export async function gitPath(root: string, name: string): Promise<string> {
  return (await gitPaths(root, [name]))[0];
}

export function indexLockError(path: string): CliError {
  return new CliError(`Git's lock "${path}" exists: another git command is running here, or one was killed. If none is running, remove it (rm -f "${path}") and re-run.`, "E_GIT_LOCKED", EXIT.FAILED);
}

const OPERATION_MARKERS: [string, string][] = [
  ["MERGE_HEAD", "a merge"], ["rebase-merge", "a rebase"], ["rebase-apply", "a rebase or git am"],
  ["CHERRY_PICK_HEAD", "a cherry-pick"], ["REVERT_HEAD", "a revert"], ["BISECT_LOG", "a bisect"],
];

/** What a script asks the git directory about, fetched together on the first question. */
const WELL_KNOWN_GIT_PATHS = [...OPERATION_MARKERS.map(([name]) => name), "index.lock", "autoresearch/seal.key"];

/** The git operation a person left half-done (merge, rebase, cherry-pick, revert, bisect), or null. */
export async function operationInProgress(root: string): Promise<string | null> {
  const paths = await gitPaths(root, OPERATION_MARKERS.map(([name]) => name));
  const found = OPERATION_MARKERS.find((_marker, index) => existsSync(paths[index]));
  if (found) return found[1];
  const unmerged = await git(root, ["ls-files", "--unmerged"]);
  return unmerged.trim() ? "a conflict resolution (unmerged files in the index)" : null;
}
