// Test utilities: every CLI test builds its own throwaway git repository from a
// map of files and runs the real scripts as subprocesses under Bun or Deno.
// Nothing here touches the kit's own repository.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

export const KIT_ROOT = resolve(import.meta.dir, "..");
export const BUN = join(KIT_ROOT, "node_modules/.bin/bun");
export const DENO = join(KIT_ROOT, "node_modules/.bin/deno");
export type Runtime = "bun" | "deno";
export type ScriptName = "init" | "baseline" | "iterate" | "dashboard" | "next-round";

/** Create a temporary git repository holding `files`, committed once. */
export function makeRepo(files: Record<string, string>, options: { commit?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), "ark-test-"));
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

export function writeFiles(root: string, files: Record<string, string>): void {
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
