// Crash-safe file writes: whole-file replacement via temp file + rename, and
// single-write line appends. Does not lock; callers that race use lock.ts.
import { chmodSync, closeSync, fstatSync, fsyncSync, readSync, openSync, renameSync, statSync, writeSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname, basename, join } from "node:path";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * Replace `path` with `content` so a reader sees the old or the new file, never half.
 * The file's permission bits survive (an executable eval stays executable).
 */
export function writeFileAtomic(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  let mode: number | null = null;
  try { mode = statSync(path).mode & 0o7777; } catch { /* new file */ }
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
    try { unlinkSync(temporary); } catch { /* already gone */ }
    throw error;
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

export function sha256OfFile(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

export function sha256OfText(text: string | Uint8Array): string {
  return createHash("sha256").update(text).digest("hex");
}
