// Kill-safe temporary edits: before the harness changes a file for a moment (the
// sensitivity probe, running the incumbent while a candidate is in the work tree),
// it saves the current bytes here; every script calls restoreBackup() at start, so
// even a kill -9 mid-edit is undone on the next run. One pending backup at a time.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "./errors.ts";
import { displayPath } from "./experiment.ts";
import { sha256OfText, writeFileAtomic } from "./fs-atomic.ts";

type BackupManifest = { purpose: string; started_at: string; files: { file: string; sha256: string; copy: string }[] };

function backupDirectory(stateDir: string): string {
  return join(stateDir, "backup");
}

/** Save the given files' current bytes; call before writing the temporary version. */
export function saveBackup(stateDir: string, files: { file: string; content: Buffer }[], purpose: string): void {
  const directory = backupDirectory(stateDir);
  mkdirSync(directory, { recursive: true });
  const manifest: BackupManifest = { purpose, started_at: new Date().toISOString(), files: [] };
  files.forEach(({ file, content }, index) => {
    const copy = join(directory, `file-${index}`);
    writeFileAtomic(copy, content);
    manifest.files.push({ file, sha256: sha256OfText(content), copy });
  });
  writeFileAtomic(join(directory, "manifest.json"), JSON.stringify(manifest, null, 2));
}

/**
 * Put every saved file back if a backup is pending; returns a sentence saying what
 * was restored, or null when nothing was pending or nothing had changed.
 */
export function restoreBackup(stateDir: string): string | null {
  const directory = backupDirectory(stateDir);
  const manifestPath = join(directory, "manifest.json");
  if (!existsSync(manifestPath)) return null;
  const manifest = readManifest(manifestPath, directory);
  const restored: string[] = [];
  for (const entry of manifest.files) {
    const saved = readCopy(entry.copy, manifestPath, directory);
    if (sha256OfText(saved) !== entry.sha256) {
      return `The backup in "${directory}" is damaged; "${entry.file}" was left as it is. Check it with: git diff -- "${entry.file}"`;
    }
    const current = existsSync(entry.file) ? readFileSync(entry.file) : null;
    if (current === null || sha256OfText(current) !== entry.sha256) {
      writeFileAtomic(entry.file, saved);
      restored.push(entry.file);
    }
  }
  rmSync(directory, { recursive: true, force: true });
  if (restored.length === 0) return null;
  return `Restored ${restored.map((file) => `"${file}"`).join(", ")} from the backup taken for the ${manifest.purpose} at ${manifest.started_at} (that run was interrupted).`;
}

/**
 * The manifest of a pending backup. One that cannot be read is never deleted here: its
 * copies may hold the only version of a candidate. The person checks, then removes it.
 */
function readManifest(manifestPath: string, directory: string): BackupManifest {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  } catch (error) {
    const reason = error instanceof SyntaxError ? "is not valid JSON" : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw damagedBackup(manifestPath, directory, reason);
  }
  const files = (manifest as Partial<BackupManifest> | null)?.files;
  const valid = Array.isArray(files) && files.every((entry) => typeof entry?.file === "string" && typeof entry.sha256 === "string" && typeof entry.copy === "string");
  if (!valid) throw damagedBackup(manifestPath, directory, "does not list the saved files");
  return manifest as BackupManifest;
}

function readCopy(copy: string, manifestPath: string, directory: string): Buffer {
  try {
    return readFileSync(copy);
  } catch (error) {
    throw damagedBackup(manifestPath, directory, `names a saved copy "${displayPath(copy)}" that cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function damagedBackup(manifestPath: string, directory: string, reason: string): CliError {
  const shown = displayPath(directory);
  return new CliError(
    `The backup manifest "${displayPath(manifestPath)}" ${reason}, so the files it saved were not put back. Compare the copies in "${shown}" with your files (one may be your candidate), then remove it: rm -r "${shown}"`,
    "E_BACKUP_DAMAGED",
    EXIT.FAILED,
  );
}

/** restoreBackup for signal handlers: any outcome, a damaged backup included, becomes a note. */
export function restoreBackupQuietly(stateDir: string, notes: (message: string) => void): void {
  try {
    const restored = restoreBackup(stateDir);
    if (restored) notes(restored);
  } catch (error) {
    notes((error as Error).message);
  }
}
