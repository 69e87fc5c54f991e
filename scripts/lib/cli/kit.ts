// Where the kit lives and how to spell its commands for the person or agent
// reading a message: `bun scripts/iterate.ts` from the kit's own checkout,
// `bun tools/autoresearch-kit/scripts/iterate.ts` when vendored into a repo, or an
// absolute path otherwise — under the runtime that is running now.
import { fileURLToPath } from "node:url";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { EXPERIMENT_FILE } from "../experiment/artifacts.ts";
import { realpathOrSelf, toPosix } from "../files/paths.ts";
import { shellQuote } from "../text/shell-quote.ts";

export type Verb = "init" | "baseline" | "iterate" | "dashboard" | "next-round" | "finalize";

// This module is scripts/lib/cli/kit.ts, two folders below the kit's root, or inlined into a
// Node bundle dist/<verb>.js, one folder below it (build/node.ts).
const MODULE_DIR = dirname(fileURLToPath(import.meta.url));

/** The kit's root folder (the one holding scripts/ and templates/). */
export const KIT_ROOT = resolve(MODULE_DIR, basename(MODULE_DIR) === "dist" ? ".." : "../../..");

export type RuntimeName = "bun" | "deno" | "node";

export function currentRuntime(): RuntimeName {
  const globals = globalThis as Record<string, unknown>;
  if (globals.Bun) return "bun";
  if (globals.Deno) return "deno";
  return "node";
}

function runtimePrefix(runtime: RuntimeName): string {
  if (runtime === "deno") return "deno run -A";
  return runtime; // node runs the bundled dist/ build, see README "Runtimes"
}

/** The command line that runs a kit script from `cwd`, e.g. `bun scripts/iterate.ts`. */
export function kitCommand(verb: Verb, options: { cwd?: string; runtime?: RuntimeName } = {}): string {
  const cwd = options.cwd ?? process.cwd();
  const runtime = options.runtime ?? currentRuntime();
  const script = runtime === "node"
    ? resolve(KIT_ROOT, "dist", `${verb}.js`)
    : resolve(KIT_ROOT, "scripts", `${verb}.ts`);
  const fromCwd = relative(cwd, script);
  const shown = !fromCwd.startsWith("..") && !isAbsolute(fromCwd) ? fromCwd : script;
  return `${runtimePrefix(runtime)} ${shown}`;
}

/**
 * A command for `cwd` that reaches the experiment: scripts find the nearest autoresearch.yaml
 * from their folder up to the repository root by themselves (experiment-file.ts), so one in
 * `cwd` or at the root goes unnamed; any other experiment file is named with --experiment.
 */
export function withExperimentFlag(command: string, experimentPath: string, cwd: string, repoRoot: string): string {
  const folder = dirname(experimentPath);
  const found = basename(experimentPath) === EXPERIMENT_FILE && (folder === realpathOrSelf(cwd) || folder === repoRoot);
  return found ? command : `${command} --experiment ${shellQuote(toPosix(relative(cwd, experimentPath)))}`;
}
