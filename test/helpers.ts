// Test utilities: every CLI test builds its own throwaway git repository from a map of files,
// runs the real scripts as subprocesses under Bun or Deno, and reads what they left. Every
// folder made here is removed when the test that made it finishes (test/setup.ts checks that
// none survive the run). Nothing here touches the kit's own repository.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { onTestFinished } from "bun:test";

export const KIT_ROOT = resolve(import.meta.dir, "..");
export const BUN = join(KIT_ROOT, "node_modules/.bin/bun");
export const DENO = join(KIT_ROOT, "node_modules/.bin/deno");
/** PATH with the kit's own bun and deno first, for commands that name the runtime (`bun eval.ts`). */
export const PATH_WITH_KIT_RUNTIMES = `${join(KIT_ROOT, "node_modules/.bin")}:${process.env.PATH}`;
export type Runtime = "bun" | "deno";
export type ScriptName = "init" | "baseline" | "iterate" | "dashboard" | "next-round" | "finalize";
export type Line = Record<string, any>;
/** AUTORESEARCH_KEEP_TEST_FOLDERS=1 keeps every folder a test made, to look inside after a failure. */
export const KEEP_TEST_FOLDERS = process.env.AUTORESEARCH_KEEP_TEST_FOLDERS === "1";

/** Folders a test made and handed to later tests of its file, which remove them in afterAll. */
const sharedFolders = new Set<string>();

/**
 * A new empty folder in the temporary directory, removed when the current test finishes.
 * Call it inside a test: in beforeAll the folder would be gone before the first test runs.
 */
export function temporaryFolder(prefix = "ark-test-"): string {
  return removeAfterTest(mkdtempSync(join(tmpdir(), prefix)));
}

/**
 * Remove `path` when the current test finishes: for what a script the test ran made elsewhere.
 * Outside the test runner (a bench built on these fixtures) it goes when the process exits.
 */
export function removeAfterTest(path: string): string {
  const remove = () => {
    if (!sharedFolders.has(path)) removeFolder(path);
  };
  try {
    onTestFinished(remove);
  } catch {
    process.on("exit", remove);
  }
  return path;
}

/** Keep a folder the current test made for the tests after it; remove it with removeFolder in afterAll. */
export function shareAcrossTests(folder: string): string {
  sharedFolders.add(folder);
  return folder;
}

export function removeFolder(folder: string): void {
  sharedFolders.delete(folder);
  if (!KEEP_TEST_FOLDERS) rmSync(folder, { recursive: true, force: true });
}

/** Create a temporary git repository holding `files`, committed once; removed after the test. */
export function makeRepo(files: Record<string, string>, options: { commit?: boolean } = {}): string {
  const root = temporaryFolder();
  writeFiles(root, files);
  sh(root, "git", ["init", "-q", "-b", "main"]);
  sh(root, "git", ["config", "user.email", "test@example.com"]);
  sh(root, "git", ["config", "user.name", "Test"]);
  sh(root, "git", ["config", "commit.gpgsign", "false"]);
  if (options.commit !== false) {
    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-q", "-m", "initial"]);
  }
  return root;
}

/** Every file of an example in examples/<name>/, by name, to hand to makeRepo. */
export function exampleFiles(name: string): Record<string, string> {
  const folder = join(KIT_ROOT, "examples", name);
  return Object.fromEntries(readdirSync(folder).map((file) => [file, readFileSync(join(folder, file), "utf8")]));
}

/** Commit the harness files init wrote, as a user does before the baseline. */
export function commitHarness(root: string, files: string[]): void {
  sh(root, "git", ["add", ...files]);
  sh(root, "git", ["commit", "-q", "-m", "autoresearch harness"]);
}

/**
 * The keeps the harness committed (subject "autoresearch: ..."), newest first: full hashes, or
 * git's abbreviations. The commits of its own files by baseline and next-round are not keeps.
 */
export function harnessCommits(root: string, options: { abbreviated?: boolean } = {}): string[] {
  const log = sh(root, "git", ["log", `--format=${options.abbreviated ? "%h" : "%H"} %s`]);
  return log.split("\n").filter((line) => line.includes(" autoresearch: "))
    .filter((line) => !/ autoresearch: (baseline of round|start round) \d+ \| /.test(line))
    .map((line) => line.split(" ")[0]);
}

/** HEAD's full hash; the journal keeps abbreviations of it. */
export function head(root: string): string {
  return sh(root, "git", ["rev-parse", "HEAD"]).trim();
}

export function writeFiles(root: string, files: Record<string, string | Buffer>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

export function read(root: string, path: string): string {
  return readFileSync(join(root, path), "utf8");
}

export function exists(root: string, path: string): boolean {
  return existsSync(join(root, path));
}

export function sha256(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * sha256 of every file under `root` whose relative path `keep` accepts, keyed by that path and
 * in name order. The .git folder is left out unless `git` is true.
 */
export function fileHashes(
  root: string,
  options: { git?: boolean; keep?: (path: string) => boolean } = {},
): Record<string, string> {
  const hashes: Record<string, string> = {};
  const walk = (folder: string, prefix: string) => {
    for (const name of readdirSync(folder).sort()) {
      const path = `${prefix}${name}`;
      if (name === ".git" && !options.git) continue;
      if (statSync(join(folder, name)).isDirectory()) walk(join(folder, name), `${path}/`);
      else if (options.keep?.(path) ?? true) hashes[path] = sha256(readFileSync(join(folder, name)));
    }
  };
  walk(root, "");
  return hashes;
}

/** Every line of a journal (autoresearch.jsonl unless named), parsed. */
export function journal(root: string, file = "autoresearch.jsonl"): Line[] {
  return read(root, file).split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

/** The journal's iteration results: every result line but the baseline's. */
export function results(root: string, file = "autoresearch.jsonl"): Line[] {
  return journal(root, file).filter((line) => line.type === "result" && line.status !== "baseline");
}

/**
 * Set a lever the way an agent edits it: `NAME = value` (or `export const NAME = value`) in `file`
 * (ranker.py unless named). Throws when the file has no such lever, so a test cannot edit nothing.
 */
export function setLever(root: string, name: string, value: string, options: { file?: string } = {}): void {
  const path = join(root, options.file ?? "ranker.py");
  const source = readFileSync(path, "utf8");
  const lever = new RegExp(`^(export const )?${name} = [^;\\s]+`, "m");
  if (!lever.test(source)) throw new Error(`no lever ${name} in ${path}`);
  writeFileSync(path, source.replace(lever, (_match, prefix = "") => `${prefix}${name} = ${value}`));
}

/** Poll until `condition` holds, letting the event loop run; the deadline only guards against a hang. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** Poll until `condition` holds without yielding: for a test that must not let a child's events run. */
export function waitForSync(what: string, condition: () => boolean, timeoutMs = 30_000): void {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    Bun.sleepSync(20);
  }
}

/** Run a command synchronously; throws with its output when it fails. */
export function sh(cwd: string, command: string, args: string[]): string {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

export type ScriptResult = { code: number | null; stdout: string; stderr: string };

/** Run scripts/<name>.ts with the given runtime in `cwd`, like a user would. */
export function runScript(
  name: ScriptName,
  args: string[],
  options: { cwd: string; runtime?: Runtime; env?: Record<string, string>; input?: string; timeoutMs?: number },
): ScriptResult {
  const script = join(KIT_ROOT, "scripts", `${name}.ts`);
  const runtime = options.runtime ?? "bun";
  const [command, prefix] = runtime === "bun" ? [BUN, [] as string[]] : [DENO, ["run", "-A", "-q"]];
  const result = spawnSync(command, [...prefix, script, ...args], {
    cwd: options.cwd,
    encoding: "utf8",
    input: options.input ?? "",
    timeout: options.timeoutMs ?? 110_000,
    env: { ...process.env, NO_COLOR: "1", CI: "true", ...options.env },
  });
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}
