// What a fresh git worktree of an experiment lacks and how it gets it: the experiment's own
// files that its commit does not hold as they are here (the experiment file, instructions,
// launch prompts, journals, eval and test data init wrote and nobody committed), copied; and
// the ignored folders an eval needs (node_modules, a virtualenv, data), linked. Used for the
// experiment's own worktree (baseline --worktree) and for parallel workers' trees. It never
// moves or deletes a file of the checkout it copies from.
import { copyFileSync, existsSync, lstatSync, mkdirSync, symlinkSync } from "node:fs";
import { dirname, isAbsolute, join, relative } from "node:path";
import { findRound, type LoadedExperiment } from "../experiment/experiment-file.ts";
import { toPosix } from "../files/paths.ts";
import { fileDiffersFromCommit, isIgnoredPath, isTracked } from "../git/git.ts";
import { lockedPaths } from "../integrity/frozen-files.ts";

/** Ignored folders an eval commonly needs and git worktrees do not carry: linked when present. */
export const DEFAULT_SHARED = ["node_modules", ".venv", "venv"];

/**
 * The experiment's own files a worktree at `commit` would miss, relative to the experiment's
 * folder: the experiment file, each round's instructions, launch prompt and journal, and the
 * locked files (eval, test data, held-out set, frozen files) that exist here untracked or with
 * other content than `commit` has. Files outside the repository are reached as they are.
 */
export function harnessFilesMissingAt(loaded: LoadedExperiment, top: string, commit: string): string[] {
  const { experiment, root } = loaded;
  const named = [
    relative(root, loaded.path),
    ...experiment.rounds.flatMap((round) => [
      round.artifacts.instructions,
      round.artifacts.launch_prompt,
      round.artifacts.journal,
    ]),
    ...lockedPaths(root, experiment, findRound(experiment)),
  ];
  const missing: string[] = [];
  for (const path of new Set(named)) {
    if (isAbsolute(path)) continue;
    const absolute = join(root, path);
    const inTop = relative(top, absolute);
    if (inTop.startsWith("..") || !existsSync(absolute) || !lstatSync(absolute).isFile()) continue;
    if (isTracked(root, path) && !fileDiffersFromCommit(root, commit, path)) continue;
    missing.push(toPosix(path));
  }
  return missing;
}

/** Copy `paths` (relative to `fromFolder`) into `toFolder`, folders created as needed. */
export function copyInto(fromFolder: string, toFolder: string, paths: string[]): void {
  for (const path of paths) {
    const target = join(toFolder, path);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(join(fromFolder, path), target);
  }
}

/** The default folders to link, relative to the repository's top: present and ignored, at the top and beside the experiment. */
export function defaultSharedPaths(top: string, experimentFolder: string): string[] {
  const found: string[] = [];
  for (const folder of new Set(["", toPosix(relative(top, experimentFolder))])) {
    for (const name of DEFAULT_SHARED) {
      const path = folder ? `${folder}/${name}` : name;
      if (existsSync(join(top, path)) && isIgnoredPath(top, path)) found.push(path);
    }
  }
  return found;
}

/** Link each of `paths` (relative to the repository's top) from `top` into `worktree`, where it is not there yet. */
export function linkShared(top: string, worktree: string, paths: string[]): void {
  for (const path of paths) {
    const target = join(worktree, path);
    if (existsSync(target) || isSymlink(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(join(top, path), target);
  }
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
