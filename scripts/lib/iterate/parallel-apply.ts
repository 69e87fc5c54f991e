// The parallel loop hands a worker's candidate to the ordinary step by writing its bytes into the
// experiment's own constrained files. A note of those bytes is written first, so a kill or an
// error before the step records them can be undone: only a file that still holds exactly the
// bytes written is put back to HEAD's version; anything else is left alone.
import { existsSync, readFileSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { sha256OfText, sha256OrDeleted, writeFileAtomic } from "../files/atomic.ts";
import { fileAtCommit, headCommit } from "../git/git.ts";
import { processRunning } from "../process/registry.ts";

const APPLYING_FILE = "parallel-applying.json";

/** Put the candidate's bytes into the constrained files under `root`, noting them first. */
export function writeCandidate(root: string, stateDir: string, bytes: Map<string, Buffer | null>): void {
  const hashes: Record<string, string> = {};
  for (const [file, content] of bytes) hashes[file] = content === null ? "deleted" : sha256OfText(content);
  writeFileAtomic(join(stateDir, APPLYING_FILE), JSON.stringify({ pid: process.pid, head: headCommit(root), hashes }));
  for (const [file, content] of bytes) {
    const path = join(root, file);
    if (content === null) {
      if (existsSync(path)) unlinkSync(path);
    } else writeFileAtomic(path, content);
  }
}

/** The step recorded them: forget the note. */
export function clearApplying(stateDir: string): void {
  const path = join(stateDir, APPLYING_FILE);
  if (existsSync(path)) unlinkSync(path);
}

/**
 * Undo a write the step never recorded (a kill, an error before its pending step): each noted
 * file that still holds exactly the bytes written goes back to HEAD's version. Returns the files
 * put back. Run after any pending step is finished, so a recorded keep's files are HEAD's already.
 * A note whose writer still runs is its step in progress and left alone, unless that writer is
 * this process undoing its own failed step (`ownFailure`).
 */
export function undoUnrecordedApply(root: string, stateDir: string, options: { ownFailure?: boolean } = {}): string[] {
  const path = join(stateDir, APPLYING_FILE);
  if (!existsSync(path)) return [];
  const noted = JSON.parse(readFileSync(path, "utf8")) as { pid?: number; hashes: Record<string, string> };
  const writer = noted.pid ?? 0;
  if (writer === process.pid ? !options.ownFailure : writer > 0 && processRunning(writer)) return [];
  const head = headCommit(root);
  const restored: string[] = [];
  for (const [file, hash] of Object.entries(noted.hashes)) {
    const absolute = join(root, file);
    if (head === null || sha256OrDeleted(absolute) !== hash) continue;
    const original = fileAtCommit(root, head, file);
    if (original === null) {
      if (existsSync(absolute)) unlinkSync(absolute);
    } else if (!readFileSync(absolute).equals(original)) writeFileAtomic(absolute, original);
    else continue;
    restored.push(file);
  }
  unlinkSync(path);
  return restored;
}
