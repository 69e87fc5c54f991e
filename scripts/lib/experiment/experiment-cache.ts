// The parsed-experiment cache: what the last few experiment-file texts parsed to, keyed by the
// text's sha256 and the parsing code's, as JSON beside the seal key in the git directory, sealed
// with it. A hit spares a step the yaml and zod imports and the parse. A missing, unsealed or
// foreign entry is a miss: the text is parsed as if there were no cache. No seal key (before
// baseline, outside a repository): no cache. It parses nothing itself (experiment-file.ts does).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../files/atomic.ts";
import { gitPath } from "../git/git.ts";
import { hasValidSeal, KEY_PATH, sealed, type SealKey, sealKey } from "../integrity/seal.ts";
import { SCHEMA_VERSION } from "./defaults.ts";

const CACHE_FILE = "experiment-cache.json";
// Enough for the texts one step reads (the file before and after an agent's call), a few
// experiment files in one repository and the runtimes that parse them (a Node bundle is other
// parsing code than the .ts files Bun and Deno run); older entries are dropped.
const MAX_ENTRIES = 8;
// The modules whose code decides what a text parses to. A bundle (dist/*.js) has none of them
// beside it; it hashes itself, which holds all of them. The packages count by their version.
export const PARSING_MODULES = [
  "./experiment-file.ts",
  "./schema.ts",
  "./defaults.ts",
  "../process/eval-output.ts",
  "../process/eval-runner.ts", // eval.runner templates are checked on load
  "./experiment-cache.ts",
  "../cli/packages.ts", // how yaml and zod are loaded
];
const PARSING_PACKAGES = ["yaml", "zod"];
const requireModule = createRequire(import.meta.url);

// `experiment`: what experiment-file.ts's parse returned for the text, as JSON.
type CacheEntry = { parser: string; text_sha256: string; experiment: unknown };
type CacheFile = { entries: CacheEntry[]; seal?: string };

let parserId: string | null = null;

/** A hash of the parsing code: a changed schema, default, formula check or package version makes every entry a miss. */
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
  for (const name of PARSING_PACKAGES) {
    let version: string;
    try {
      // Read, not required: the package's code stays unloaded.
      version = JSON.parse(readFileSync(requireModule.resolve(`${name}/package.json`), "utf8")).version;
    } catch {
      version = "unknown";
    }
    hash.update(`${name} ${version}\n`);
  }
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

/** What `text` parsed to before, or null (a miss). `folder` is in the experiment's repository. */
export function cachedExperiment(folder: string, text: string): unknown {
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
export function rememberExperiment(folder: string, text: string, experiment: unknown): void {
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
