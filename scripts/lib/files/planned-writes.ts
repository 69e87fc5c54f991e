// Planned writes, the apply half of a plan that is data: back up the files a plan replaces
// (and move aside the ones it makes stale), write each planned file atomically with its mode,
// and describe what was written, one path and its role a line. It decides nothing and
// validates nothing: the planner chose the files and refused what could not be written.
import { chmodSync, copyFileSync, existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { writeFileAtomic } from "./atomic.ts";
import { displayPath } from "./paths.ts";
import { fileNameTimestamp } from "../text/timestamp.ts";

export type PlannedWrite = {
  path: string;
  /** What the file is for, shown beside its path ("instructions", "eval script"). */
  role: string;
  content: string;
  /** Permission bits to set after writing (a copied eval keeps its source's). */
  mode?: number;
  /** `chmod +x` after writing: execute for whoever may read. */
  executable?: boolean;
  /** Written only when absent (a package marker the user may already have). */
  onlyIfMissing?: boolean;
};

export type BackupRequest = {
  /** The harness state folder; the backup goes to <stateDir>/backups/<label>-<timestamp>/. */
  stateDir: string;
  label: string;
  /** Backed-up paths keep their place relative to this folder. */
  home: string;
  /** Copied into the backup, then overwritten by the plan. */
  replaced: string[];
  /** Copied into the backup, then moved into it as <name>.moved: they would describe the wrong run. */
  stale?: string[];
};

/** Copy what a plan is about to replace into one backup folder; returns that folder, or null when nothing is replaced. */
export function backUpReplaced(request: BackupRequest): string | null {
  const stale = request.stale ?? [];
  const displaced = [...new Set([...request.replaced, ...stale])].filter((path) => existsSync(path));
  if (displaced.length === 0) return null;
  const stamp = fileNameTimestamp();
  const backupDir = join(request.stateDir, "backups", `${request.label}-${stamp}`);
  for (const path of displaced) {
    const target = join(backupDir, relative(request.home, path).replace(/\.\.(\/|\\)/g, "_up_$1"));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(path, target);
  }
  for (const path of stale) if (existsSync(path)) renameSync(path, join(backupDir, `${basename(path)}.moved`));
  return backupDir;
}

/** Write every planned file atomically, in order; returns the paths written (a present onlyIfMissing file is skipped). */
export function writePlanned(files: PlannedWrite[]): string[] {
  const written: string[] = [];
  for (const file of files) {
    if (file.onlyIfMissing && existsSync(file.path)) continue;
    writeFileAtomic(file.path, file.content);
    if (file.mode !== undefined) chmodSync(file.path, file.mode);
    if (file.executable) chmodExecutable(file.path);
    written.push(file.path);
  }
  return written;
}

function chmodExecutable(path: string): void {
  try {
    const mode = statSync(path).mode;
    chmodSync(path, mode | ((mode & 0o444) >> 2)); // like `chmod +x`: execute for whoever may read
  } catch { /* not fatal: the eval command names its interpreter */ }
}

/**
 * stdout's file list: one written path a line (relative to `cwd` when shorter), padded, then its role.
 * describeWritten(["/r/a.md"], new Map([["/r/a.md", "instructions"]]), "/r") -> "a.md  instructions"
 */
export function describeWritten(written: string[], roles: Map<string, string>, cwd: string): string {
  const shown = written.map((path) => displayPath(path, cwd));
  const width = Math.max(...shown.map((path) => path.length));
  return shown.map((path, index) => `${path.padEnd(width)}  ${roles.get(written[index]) ?? ""}`.trimEnd()).join("\n");
}
