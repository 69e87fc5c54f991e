// The kind of a lever, from its name and its value together, for every language alike: the
// extractors report what a value is (a number, a string, a list...), and this module says what
// it means for a person tuning it (a count, a rate, a threshold, a choice...). Pure.
import type { Lever, LeverKind, RawLever } from "./lever.ts";

// Words of the lever's own name (its last segment), matched whole. Order matters: a size word
// beats a count word (`max_length` is a size), a count beats a threshold (`MAX_ITER` is a count),
// and a rate or weight word decides for any value.
const RATE_WORDS = new Set([
  "rate",
  "lr",
  "learning",
  "decay",
  "momentum",
  "dropout",
  "temperature",
  "temp",
  "smoothing",
  "probability",
  "prob",
  "fraction",
  "ratio",
  "percent",
  "percentage",
]);
const SIZE_WORDS = new Set([
  "size",
  "sizes",
  "dim",
  "dims",
  "dimension",
  "dimensions",
  "width",
  "height",
  "hidden",
  "length",
  "len",
  "window",
  "chunk",
  "batch",
  "capacity",
  "buffer",
  "units",
  "vocab",
  "embedding",
  "context",
  "overlap",
]);
const COUNT_WORDS = new Set([
  "iter",
  "iters",
  "iteration",
  "iterations",
  "epoch",
  "epochs",
  "step",
  "steps",
  "round",
  "rounds",
  "trial",
  "trials",
  "retry",
  "retries",
  "attempts",
  "patience",
  "estimator",
  "estimators",
  "n",
  "num",
  "number",
  "count",
  "top",
  "k",
  "topk",
  "depth",
  "layer",
  "layers",
  "neighbor",
  "neighbors",
  "neighbour",
  "neighbours",
  "candidate",
  "candidates",
  "result",
  "results",
  "hits",
  "limit",
  "worker",
  "workers",
  "thread",
  "threads",
  "jobs",
  "samples",
  "tokens",
  "leaves",
  "clusters",
  "heads",
  "features",
  "edits",
  "entries",
]);
const THRESHOLD_WORDS = new Set([
  "thresh",
  "threshold",
  "thresholds",
  "cutoff",
  "cut",
  "min",
  "max",
  "minimum",
  "maximum",
  "tol",
  "tolerance",
  "epsilon",
  "eps",
  "margin",
  "confidence",
  "floor",
  "ceiling",
  "distance",
]);
const WEIGHT_WORDS = new Set([
  "weight",
  "weights",
  "boost",
  "boosts",
  "factor",
  "factors",
  "coef",
  "coeff",
  "coefficient",
  "penalty",
  "bonus",
  "scale",
  "multiplier",
  "importance",
  "gain",
]);
/** `MIN_RATIO`, `max_rate`: a bound on a rate is a threshold. */
const BOUND_WORDS = new Set(["min", "max", "minimum", "maximum"]);
/** Numbers named like these identify the machine (a port, a process), never something to tune. */
const NOT_A_NUMBER_LEVER_WORDS = new Set(["port", "pid", "uid", "gid", "version"]);
/** Strings named like these are settings of the machine or secrets, never options to try. */
const NOT_A_CHOICE_WORDS = new Set([
  "key",
  "secret",
  "password",
  "passwd",
  "token",
  "path",
  "dir",
  "directory",
  "file",
  "filename",
  "url",
  "uri",
  "host",
  "hostname",
  "endpoint",
  "email",
  "version",
  "author",
  "license",
  "user",
  "username",
  "salt",
  "dsn",
]);
/** The longest string that can still name an option (`"bert-base-multilingual-cased"`). */
const CHOICE_MAX_LENGTH = 40;

/**
 * The words of a lever name's last segment: `CONFIG["min_score"]` -> [min, score],
 * `BM25Okapi.__init__.k1` -> [k1], `maxIter` -> [max, iter], `nEstimators` -> [n, estimators].
 */
export function nameWords(name: string): string[] {
  const last = name.match(/\["([^"]*)"\]$/)?.[1] ?? name.split(".").pop() ?? name;
  return last
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/** Whether the number is written as a whole number (`3`, not `3.0` or `1e3`). */
function writtenWhole(lever: RawLever): boolean {
  return lever.numeric !== undefined && Number.isInteger(lever.numeric) && !/[.eE]/.test(lever.value);
}

function numberKind(lever: RawLever): LeverKind | null {
  const words = nameWords(lever.name);
  const has = (set: Set<string>) => words.some((word) => set.has(word));
  const whole = writtenWhole(lever);
  if (has(NOT_A_NUMBER_LEVER_WORDS)) return null;
  if (has(RATE_WORDS)) return has(BOUND_WORDS) ? "threshold" : "rate"; // MIN_RATIO bounds a ratio
  if (has(WEIGHT_WORDS)) return "weight";
  // MIN_LENGTH is the shortest text accepted, a threshold; MAX_LENGTH caps a size.
  if (whole && has(SIZE_WORDS)) return words.includes("min") || words.includes("minimum") ? "threshold" : "size";
  if (whole && has(COUNT_WORDS)) return "count";
  if (has(THRESHOLD_WORDS)) return "threshold";
  // An entry of a table named for weights is a weight: `FIELD_WEIGHTS["title"]`, `boosts.title`.
  const owners = allNameWords(lever.name);
  return owners.some((word) => WEIGHT_WORDS.has(word)) ? "weight" : "constant";
}

/** The words of every segment of a name: `FIELD_WEIGHTS["tags"]["exact"]` -> [field, weights, tags, exact]. */
function allNameWords(name: string): string[] {
  return name.split(/[.[\]"']+/).filter(Boolean).flatMap((segment) => nameWords(segment));
}

/** A short option name (`"relu"`, `"cosine"`, `"gpt-4o-mini"`), not a path, URL, address, secret or prose. */
export function isChoice(name: string, value: string): boolean {
  const text = value.replace(/^["'`]|["'`]$/g, "");
  if (text.trim() === "" || text.length > CHOICE_MAX_LENGTH) return false;
  if (/[\s/\\@$]|:\/\//.test(text)) return false; // `$1`, `${HOME}`: an expansion, not an option
  return !nameWords(name).some((word) => NOT_A_CHOICE_WORDS.has(word));
}

/** The lever's kind, or null when the value is not something to tune (a path, a secret). */
export function leverKind(lever: RawLever): LeverKind | null {
  switch (lever.kind) {
    case "number":
      return numberKind(lever);
    case "string":
      return isChoice(lever.name, lever.value) ? "choice" : null;
    default:
      return lever.kind;
  }
}

/** Name every raw lever's kind; values that are not levers (paths, secrets) are left out. */
export function classifyLevers(raw: RawLever[]): Lever[] {
  const levers: Lever[] = [];
  for (const lever of raw) {
    const kind = leverKind(lever);
    if (kind !== null) levers.push({ ...lever, kind });
  }
  return levers;
}

/** Kinds whose value is one number a tuner can move. */
export const NUMERIC_KINDS: ReadonlySet<LeverKind> = new Set([
  "weight",
  "threshold",
  "count",
  "size",
  "rate",
  "constant",
]);
