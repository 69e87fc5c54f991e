// The record that an experiment lives in its own git worktree: `.autoresearch/worktree.json`
// beside the experiment file in the user's checkout. Every script that finds the experiment
// from the user's checkout follows it to the worktree's copy, so the user's files, branch and
// index are never the ones a step works on. It only reads and writes that record (fs, no git).
import { existsSync, readFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { displayPath, toPosix } from "../files/paths.ts";
import { STATE_DIR } from "./artifacts.ts";

const POINTER_FILE = "worktree.json";

export type WorktreePointer = {
  /** The worktree's top folder: relative to the experiment's folder when inside it, else absolute. */
  worktree: string;
  /** The experiment file inside the worktree, relative to the worktree's top. */
  experiment: string;
  /** The experiment file in the user's checkout this record stands for (its file name). */
  source: string;
  branch: string;
  /** Ignored folders of the user's checkout linked into the worktree (dependencies, data). */
  shared: string[];
  created_at: string;
};

/** Where the record for the experiment files of `folder` lives. */
export function pointerPath(folder: string): string {
  return join(folder, STATE_DIR, POINTER_FILE);
}

/** The record in `folder`, or null when there is none or it cannot be read as one. */
export function readPointer(folder: string): WorktreePointer | null {
  const path = pointerPath(folder);
  if (!existsSync(path)) return null;
  try {
    const value = JSON.parse(readFileSync(path, "utf8")) as Partial<WorktreePointer>;
    if (typeof value.worktree !== "string" || typeof value.experiment !== "string") return null;
    return {
      worktree: value.worktree,
      experiment: value.experiment,
      source: typeof value.source === "string" ? value.source : "autoresearch.yaml",
      branch: typeof value.branch === "string" ? value.branch : "",
      shared: Array.isArray(value.shared) ? value.shared.filter((item) => typeof item === "string") : [],
      created_at: typeof value.created_at === "string" ? value.created_at : "",
    };
  } catch {
    return null;
  }
}

export function writePointer(folder: string, pointer: Omit<WorktreePointer, "worktree"> & { worktree: string }): void {
  const inside = relative(folder, pointer.worktree);
  const worktree = !inside.startsWith("..") && !isAbsolute(inside) ? toPosix(inside) : pointer.worktree;
  writeFileAtomic(pointerPath(folder), JSON.stringify({ ...pointer, worktree }, null, 2) + "\n");
}

/** The worktree's top folder a record names, absolute. */
export function worktreeFolder(folder: string, pointer: WorktreePointer): string {
  return resolve(folder, pointer.worktree);
}

/** The experiment file inside the worktree a record in `folder` names. */
export function worktreeExperimentPath(folder: string, pointer: WorktreePointer): string {
  return join(worktreeFolder(folder, pointer), pointer.experiment);
}

/**
 * The experiment file a script works on for `path`: the worktree's copy when a record beside
 * `path` says the experiment moved there, else `path`. A record whose worktree is gone stops the
 * script: working on the user's checkout instead would be exactly what the worktree prevents.
 */
export function followWorktreePointer(path: string): string {
  const folder = dirname(path);
  const pointer = readPointer(folder);
  if (!pointer || pointer.source !== basename(path)) return path;
  const target = worktreeExperimentPath(folder, pointer);
  if (existsSync(target)) return target;
  const record = displayPath(pointerPath(folder));
  throw new CliError(
    `The experiment lives in the worktree "${
      displayPath(worktreeFolder(folder, pointer))
    }" (recorded in ${record}), which is gone. Re-create it on branch "${pointer.branch}": git worktree prune && git worktree add "${
      displayPath(worktreeFolder(folder, pointer))
    }" ${pointer.branch}; or delete ${record} to run the experiment in this checkout`,
    "E_WORKTREE_MISSING",
    EXIT.FAILED,
  );
}
