// Seals on the harness's own records: an HMAC-SHA256 under a key kept in the repository's
// git directory (never in the work tree an agent is pointed at), added as a `seal` field
// to the journal's lines, the write-ahead step record and the cached eval runs. A record
// without a valid seal was written or edited by someone else, so no decision rests on it:
// a forged keep line, a rewritten measurement fingerprint, a forged pending step. The key
// is made at baseline; experiments baselined before it existed are not checked. This stops
// an agent from gaming the score through the harness's files; it is not a defence against
// someone who reads the key.
import { createHmac, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { CliError, EXIT } from "../cli/errors.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { gitPath } from "../git/git.ts";
import { journalLines } from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";

/** The key's path in the git directory; the harness's other private files sit beside it. */
export const KEY_PATH = "autoresearch/seal.key";
const KEY_BYTES = 32;

export type SealKey = Buffer;

/** The repository's seal key, made when `create` and missing; null when there is none. */
export function sealKey(root: string, options: { create?: boolean } = {}): SealKey | null {
  const path = gitPath(root, KEY_PATH);
  if (existsSync(path)) return readFileSync(path);
  if (!options.create) return null;
  const key = randomBytes(KEY_BYTES);
  writeFileAtomic(path, key);
  return key;
}

function mac(key: SealKey, record: object): string {
  return createHmac("sha256", key).update(JSON.stringify(record)).digest("hex");
}

/** The record with its seal as the last field (over the record's JSON in its own key order). */
export function sealed<T extends object>(key: SealKey | null, record: T): T {
  if (!key) return record;
  const { seal: _old, ...rest } = record as T & { seal?: string };
  return { ...rest, seal: mac(key, rest) } as T;
}

/** True when the record (as parsed from its JSON) carries the seal this key gives it. */
export function hasValidSeal(key: SealKey, record: unknown): boolean {
  if (!record || typeof record !== "object" || typeof (record as { seal?: unknown }).seal !== "string") return false;
  const { seal, ...rest } = record as { seal: string };
  return seal === mac(key, rest);
}

/**
 * Every line of a journal the harness wrote carries its seal. Checks the raw text (the
 * parsed journal may be normalised); a torn last line is the reader's business.
 */
export function requireSealedJournal(key: SealKey, text: string, label: string): void {
  let sawConfig = false;
  for (const { lineNumber, value } of journalLines(text)) {
    if (value === undefined) continue; // a torn line: skipped with a warning by the reader
    if ((value as { type?: string } | null)?.type === "config") sawConfig = true;
    if (!hasValidSeal(key, value)) {
      throw tampered(
        `line ${lineNumber} of "${label}" was not written by the harness (edited, added or moved by hand?)`,
      );
    }
  }
  if (!sawConfig) throw tampered(`"${label}" has no config line the harness wrote (deleted or replaced?)`);
}

export function tampered(what: string): CliError {
  return new CliError(
    `The harness's records cannot be trusted: ${what}. Put the file back as the harness wrote it (see .autoresearch/backups/ and git), or start the round again: ${
      kitCommand("baseline")
    } --force`,
    "E_TAMPERED",
    EXIT.FAILED,
  );
}
