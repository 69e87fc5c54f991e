// The parsed-experiment cache: the validated experiment of the last few experiment-file texts,
// keyed by the sha256 of the exact text and by the code that parses it, kept as JSON beside the
// seal key in the repository's git directory and sealed with it. A hit spares a step the yaml
// and zod imports and the parse (~130 ms). An entry that is missing, unsealed, sealed under
// another key or made by other parsing code is a miss: the file is parsed as if there were no
// cache. It never decides anything a parse would not; without a seal key (before baseline,
// outside a repository) there is no cache.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../files/atomic.ts";
import { gitPath } from "../git/git.ts";
import { hasValidSeal, KEY_PATH, sealed, type SealKey, sealKey } from "../integrity/seal.ts";
import type { Experiment } from "./experiment-file.ts";
import { SCHEMA_VERSION } from "./defaults.ts";

const CACHE_FILE = "experiment-cache.json";
// Enough for the texts one step reads (the file before and after an agent's call), a few
// experiment files in one repository and the runtimes that parse them (a Node bundle is other
// parsing code than the .ts files Bun and Deno run); older entries are dropped.
const MAX_ENTRIES = 8;
// The modules whose code decides what a text parses to. A bundle (dist/*.js) has none of them
// beside it; it hashes itself, which holds all of them.
const PARSING_MODULES = ["./experiment-file.ts", "./defaults.ts", "../process/eval-output.ts", "./experiment-cache.ts"];

type CacheEntry = { parser: string; text_sha256: string; experiment: Experiment };
type CacheFile = { entries: CacheEntry[]; seal?: string };

let parserId: string | null = null;

/** A hash of the parsing code: a changed schema, default or formula check makes every entry a miss. */
function parsingCodeId(): string {
  if (parserId) return parserId;
  let sources: Buffer[];
  try {
    sources = PARSING_MODULES.map((name) => readFileSync(new URL(name, import.meta.url)));
  } catch {
    sources = [readFileSync(new URL(import.meta.url))];
  }
  const hash = createHash("sha256").update(`schema ${SCHEMA_VERSION}\n`);
  for (const source of sources) hash.update(source).update("\0");
  parserId = hash.digest("hex");
  return parserId;
}

export function textSha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** The cache's path and the seal key for the repository holding `folder`; null without a key. */
function cacheLocation(folder: string): { path: string; key: SealKey } | null {
  try {
    const key = sealKey(folder);
    return key ? { path: join(dirname(gitPath(folder, KEY_PATH)), CACHE_FILE), key } : null;
  } catch {
    return null; // not in a repository, or git cannot answer: parse as if there were no cache
  }
}

function readCache(path: string, key: SealKey): CacheEntry[] {
  try {
    const file = JSON.parse(readFileSync(path, "utf8")) as CacheFile;
    return hasValidSeal(key, file) && Array.isArray(file.entries) ? file.entries : [];
  } catch {
    return [];
  }
}

/** The validated experiment `text` parsed to before, or null (a miss). `folder` is in its repository. */
export function cachedExperiment(folder: string, text: string): Experiment | null {
  const location = cacheLocation(folder);
  if (!location) return null;
  const sha = textSha256(text);
  const parser = parsingCodeId();
  const entry = readCache(location.path, location.key).find((candidate) =>
    candidate.text_sha256 === sha && candidate.parser === parser
  );
  return entry?.experiment ?? null;
}

/** Remember what `text` parsed to. Best effort: a cache that cannot be written is only slower. */
export function rememberExperiment(folder: string, text: string, experiment: Experiment): void {
  const location = cacheLocation(folder);
  if (!location) return;
  const entry: CacheEntry = { parser: parsingCodeId(), text_sha256: textSha256(text), experiment };
  const others = readCache(location.path, location.key).filter((other) =>
    other.text_sha256 !== entry.text_sha256 || other.parser !== entry.parser
  );
  const file: CacheFile = { entries: [entry, ...others].slice(0, MAX_ENTRIES) };
  try {
    writeFileAtomic(location.path, JSON.stringify(sealed(location.key, file)));
  } catch { /* a read-only git directory: every load parses */ }
}
