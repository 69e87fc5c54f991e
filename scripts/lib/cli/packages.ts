// The kit's npm packages that load on first use (yaml and zod, @babel/parser, the @stdlib
// statistics, cli-table3 and chalk), under Bun, Node and Deno alike. Under Deno without a
// node_modules folder (deno.json uses Deno's own cache) a package a run needs is fetched by a
// child Deno whose "Download" lines are counted, not shown, and one summary line goes to the
// listener the command registered.
// It never prints and decides nothing about which package a run needs: its callers do.

import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

// No import anywhere in the kit may name these packages literally: Deno fetches every package a
// literal import names before the script starts, needed or not, and prints a line per file.
// Each group is fetched together: its packages are always used together.
export const PACKAGE_GROUPS = {
  experimentFile: { purpose: "the experiment file's parsers", names: ["yaml", "zod"] },
  typescriptParser: { purpose: "the TypeScript parser", names: ["@babel/parser"] },
  statistics: {
    purpose: "the statistics packages",
    names: ["@stdlib/stats-base-dists-t-quantile", "@stdlib/stats-base-dists-f-cdf"],
  },
  // Only the dashboard's text format draws a table in colour; md, json and html need neither.
  terminalTable: { purpose: "the terminal table and colours", names: ["cli-table3", "chalk"] },
} as const;

export type PackageGroup = keyof typeof PACKAGE_GROUPS;

const nodeRequire = createRequire(import.meta.url);
let fetchListener: (summary: string) => void = () => {};
const fetchedGroups = new Set<PackageGroup>();

/**
 * Receive the one-line summary of what Deno fetched into its cache (only under Deno, only on the
 * run that fetches); the caller decides whether to show it.
 */
export function onPackagesFetched(listener: (summary: string) => void): void {
  fetchListener = listener;
}

/**
 * `require` of a package of `group`, synchronously (every caller of the experiment file, the
 * parser, the statistics and the text dashboard is synchronous). Under Deno a package missing from
 * its cache is fetched quietly first, with the rest of its group.
 */
export function requirePackage(group: PackageGroup, name: string): unknown {
  try {
    return nodeRequire(name);
  } catch (error) {
    if (!("Deno" in globalThis)) throw error;
  }
  // Deno's `require` finds a package of its own cache only once an `import` has put it in the
  // process's module graph: fetch quietly if needed, then import the group in a worker (same
  // process, same graph) while this thread waits.
  fetchForDenoOnce(group);
  importInWorker(PACKAGE_GROUPS[group].names);
  return nodeRequire(name);
}

/**
 * `import` of a package of `group`, for a command that will use it anyway: an import is ~15 ms
 * faster than `require` where a package ships an ES module build. Under Deno a package missing
 * from its cache is fetched quietly first, with the rest of its group.
 */
export async function importPackage(group: PackageGroup, name: string): Promise<unknown> {
  if ("Deno" in globalThis && !resolvable(name)) fetchForDenoOnce(group);
  return await import(name);
}

function resolvable(name: string): boolean {
  try {
    nodeRequire.resolve(name);
    return true;
  } catch {
    return false;
  }
}

/** Deno's npm cache folder for a package (DENO_DIR, else the platform's cache folder). */
function denoCacheFolder(name: string): string {
  const home = homedir();
  const root = process.env.DENO_DIR ??
    (process.platform === "darwin"
      ? join(home, "Library/Caches/deno")
      : process.platform === "win32"
      ? join(process.env.LOCALAPPDATA ?? home, "deno")
      : join(process.env.XDG_CACHE_HOME ?? join(home, ".cache"), "deno"));
  return join(root, "npm", "registry.npmjs.org", name);
}

/**
 * Fetch a group into Deno's cache in a child Deno whose download lines are counted, not shown,
 * and hand one summary line to the listener. Skipped when the cache holds the whole group.
 */
function fetchForDenoOnce(group: PackageGroup): void {
  const { purpose, names } = PACKAGE_GROUPS[group];
  if (fetchedGroups.has(group) || names.every((name) => existsSync(denoCacheFolder(name)))) return;
  fetchedGroups.add(group);
  const started = performance.now();
  const kitConfig = join(dirname(fileURLToPath(import.meta.url)), "../../../deno.json");
  const code = names.map((name) => `await import(${JSON.stringify(name)});`).join("");
  const deno = (globalThis as { Deno?: { execPath(): string } }).Deno!.execPath();
  const fetched = spawnSync(deno, ["eval", ...(existsSync(kitConfig) ? ["--config", kitConfig] : []), code], {
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, NO_COLOR: "1" }, // plain "Download <url>" lines, to count
  });
  const downloads = (fetched.stderr ?? "").split("\n").filter((line) => /Download\s+\S+\.tgz\b/.test(line));
  if (fetched.status !== 0) return; // the import then fails, or downloads, and says why
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const count = `${downloads.length} package${downloads.length === 1 ? "" : "s"}`;
  const dependencies = names.length === 1 ? "its dependencies" : "their dependencies";
  fetchListener(
    `Deno fetched ${purpose} into its cache, once: ${names.join(", ")} with ${dependencies} (${count}, ${seconds} s).`,
  );
}

/** Import `names` in a module worker and block until it is done (a minute at most). */
function importInWorker(names: readonly string[]): void {
  const signal = new SharedArrayBuffer(4);
  const flag = new Int32Array(signal);
  const code = `self.onmessage = async (event) => {
  const flag = new Int32Array(event.data.signal);
  try { for (const name of event.data.names) await import(name); Atomics.store(flag, 0, 1); }
  catch { Atomics.store(flag, 0, 2); }
  Atomics.notify(flag, 0);
};`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    worker.postMessage({ names, signal });
    Atomics.wait(flag, 0, 0, 60_000);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
}
