// Crash-safe file writes: whole-file replacement via temp file + rename, and
// single-write line appends, plus the check that a file can be written before any
// side effect. Does not lock; callers that race use lock.ts.
import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";

/**
 * Replace `path` with `content` so a reader sees the old or the new file, never half.
 * The file's permission bits survive (an executable eval stays executable).
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  let mode: number | null = null;
  try {
    mode = statSync(path).mode & 0o7777;
  } catch { /* new file */ }
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, typeof content === "string" ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    if (mode !== null) chmodSync(temporary, mode);
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch { /* already gone */ }
    throw error;
  }
}

/** The temporary file writeFileAtomic writes beside `path`: `.<name>.<pid>.<ms>.tmp`. */
const TEMPORARY = /^\.(.+)\.(\d+)\.\d+\.tmp$/;

/**
 * Remove the temporary files a killed writer left in `folder` (writeFileAtomic's, of a process
 * that no longer runs); returns their names. A live process's are left alone: it may still rename them.
 */
export function removeStaleTemporaries(folder: string): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return removed;
  }
  for (const name of names) {
    const match = TEMPORARY.exec(name);
    if (!match || processAlive(Number(match[2]))) continue;
    try {
      unlinkSync(join(folder, name));
      removed.push(name);
    } catch { /* gone already */ }
  }
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Append one line with a single write(2) on an O_APPEND descriptor, then fsync. A torn
 * last line (no newline, from a crash mid-write) is closed off first, so the new line
 * never fuses with it.
 */
export function appendLineDurably(path: string, line: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, "a+");
  try {
    const size = fstatSync(fd).size;
    let prefix = "";
    if (size > 0) {
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    writeSync(fd, Buffer.from(`${prefix}${line.endsWith("\n") ? line : `${line}\n`}`));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Why `path` cannot be written (appended to, or replaced with `replace`), in words such as
 * "it is a directory" or "it is read-only", or null when it can. A file that does not exist
 * yet needs a writable folder: the nearest existing one on its way. Nothing is created.
 */
export function whyNotWritable(path: string, options: { replace?: boolean } = {}): string | null {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    return whyFolderNotWritable(dirname(path));
  }
  if (stats.isDirectory()) return "it is a directory";
  if (!stats.isFile()) return "it is not a regular file";
  // access(W_OK) is always true for root, who writes through any permission bits; a file with
  // no write bit for anyone was still made read-only on purpose (chmod 444), so that counts too.
  if (!canAccess(path, constants.W_OK) || (stats.mode & 0o222) === 0) return "it is read-only";
  return options.replace ? whyFolderNotWritable(dirname(path)) : null;
}

function whyFolderNotWritable(folder: string): string | null {
  let existing = folder;
  for (;;) {
    try {
      const stats = statSync(existing);
      if (!stats.isDirectory()) return `"${existing}" on its path is a file, not a folder`;
      break;
    } catch {
      const parent = dirname(existing);
      if (parent === existing) return `its folder "${folder}" cannot be created`;
      existing = parent;
    }
  }
  const mode = statSync(existing).mode;
  if (!canAccess(existing, constants.W_OK | constants.X_OK) || (mode & 0o222) === 0) {
    return `its folder "${existing}" is read-only`;
  }
  return null;
}

function canAccess(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

export function sha256OfFile(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** sha256 of a file's bytes, or "deleted" when there is no such file (how scope records absence). */
export function sha256OrDeleted(path: string): string {
  return existsSync(path) ? sha256OfFile(path) : "deleted";
}

export function sha256OfText(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}
