// Kill-safe temporary edits: before the harness changes a file for a moment (the
// sensitivity probe, running the incumbent while a candidate is in the work tree),
// it saves the current bytes here; every script calls restoreBackup() at start, so
// even a kill -9 mid-edit is undone on the next run. One pending backup at a time.
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { displayPath } from "./paths.ts";
import { sha256OfText, writeFileAtomic } from "./atomic.ts";
import { fileNameTimestamp } from "../text/timestamp.ts";

type BackupEntry = {
  file: string;
  sha256: string;
  copy: string;
  /** sha256 of the bytes the harness put there for the moment; anything else is someone's edit. */
  temporary_sha256?: string;
};
type BackupManifest = { purpose: string; started_at: string; files: BackupEntry[] };

function backupDirectory(stateDir: string): string {
  return join(stateDir, "backup");
}

/**
 * Save the given files' current bytes; call before writing the temporary version, and
 * pass that version as `temporary` so a restore can tell it from a person's edit.
 */
export function saveBackup(
  stateDir: string,
  files: { file: string; content: Buffer; temporary?: string | Buffer }[],
  purpose: string,
): void {
  const directory = backupDirectory(stateDir);
  mkdirSync(directory, { recursive: true });
  const manifest: BackupManifest = { purpose, started_at: new Date().toISOString(), files: [] };
  files.forEach(({ file, content, temporary }, index) => {
    const copy = join(directory, `file-${index}`);
    writeFileAtomic(copy, content);
    manifest.files.push({
      file,
      sha256: sha256OfText(content),
      copy,
      ...(temporary === undefined ? {} : { temporary_sha256: sha256OfText(temporary) }),
    });
  });
  writeFileAtomic(join(directory, "manifest.json"), JSON.stringify(manifest, null, 2));
}

/**
 * Put every saved file back if a backup is pending; returns a sentence saying what
 * was restored, or null when nothing was pending or nothing had changed. A file that
 * holds neither the saved bytes nor the temporary ones was edited meanwhile: it is
 * left as it is, and the saved bytes are kept in .autoresearch/backups/ (named).
 */
export function restoreBackup(stateDir: string): string | null {
  return restoreBackupReport(stateDir).note;
}

/** restoreBackup, also listing the files someone edited while they were swapped out (left as they are). */
export function restoreBackupReport(stateDir: string): { note: string | null; editedMeanwhile: string[] } {
  const directory = backupDirectory(stateDir);
  const manifestPath = join(directory, "manifest.json");
  if (!existsSync(manifestPath)) return { note: null, editedMeanwhile: [] };
  const manifest = readManifest(manifestPath, directory);
  const restored: string[] = [];
  const kept: string[] = [];
  const editedMeanwhile: string[] = [];
  for (const entry of manifest.files) {
    const saved = readCopy(entry.copy, manifestPath, directory);
    if (sha256OfText(saved) !== entry.sha256) {
      return {
        note:
          `The backup in "${directory}" is damaged; "${entry.file}" was left as it is. Check it with: git diff -- "${entry.file}"`,
        editedMeanwhile: [],
      };
    }
    const current = existsSync(entry.file) ? readFileSync(entry.file) : null;
    const currentSha = current === null ? null : sha256OfText(current);
    if (currentSha === entry.sha256) continue;
    if (entry.temporary_sha256 && currentSha !== entry.temporary_sha256) {
      const aside = join(stateDir, "backups", `${basename(entry.file)}.${fileNameTimestamp()}.saved`);
      writeFileAtomic(aside, saved);
      editedMeanwhile.push(entry.file);
      kept.push(
        `"${entry.file}" was edited while the harness had swapped it out for the ${manifest.purpose}: the edit is left in place, and the version the harness had saved is in "${
          displayPath(aside)
        }"`,
      );
      continue;
    }
    writeFileAtomic(entry.file, saved);
    restored.push(entry.file);
  }
  rmSync(directory, { recursive: true, force: true });
  const sentences = [
    ...(restored.length
      ? [
        `Restored ${
          restored.map((file) => `"${file}"`).join(", ")
        } from the backup taken for the ${manifest.purpose} at ${manifest.started_at} (that run was interrupted).`,
      ]
      : []),
    ...kept.map((sentence) => `${sentence}.`),
  ];
  return { note: sentences.length ? sentences.join(" ") : null, editedMeanwhile };
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
    const reason = error instanceof SyntaxError
      ? "is not valid JSON"
      : `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
    throw damagedBackup(manifestPath, directory, reason);
  }
  const files = (manifest as Partial<BackupManifest> | null)?.files;
  const valid = Array.isArray(files) &&
    files.every((entry) =>
      typeof entry?.file === "string" && typeof entry.sha256 === "string" && typeof entry.copy === "string"
    );
  if (!valid) throw damagedBackup(manifestPath, directory, "does not list the saved files");
  return manifest as BackupManifest;
}

function readCopy(copy: string, manifestPath: string, directory: string): Buffer {
  try {
    return readFileSync(copy);
  } catch (error) {
    throw damagedBackup(
      manifestPath,
      directory,
      `names a saved copy "${displayPath(copy)}" that cannot be read (${
        (error as NodeJS.ErrnoException).code ?? (error as Error).message
      })`,
    );
  }
}

function damagedBackup(manifestPath: string, directory: string, reason: string): CliError {
  const shown = displayPath(directory);
  return new CliError(
    `The backup manifest "${
      displayPath(manifestPath)
    }" ${reason}, so the files it saved were not put back. Compare the copies in "${shown}" with your files (one may be your candidate), then remove it: rm -r "${shown}"`,
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
