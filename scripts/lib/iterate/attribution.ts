// What a candidate changed, read from its diff against the incumbent (never from its
// description): the levers whose lines changed, with old -> new value and direction; the
// functions or methods whose bodies changed elsewhere (`Ranker.rank`); else "other lines". And
// the change's fingerprint (its removed and added lines, whitespace-normalised, without line
// numbers or context), by which the same edit submitted again is recognised on any incumbent.
// The line diff, the fingerprint and the matching are pure; reading each version's levers is
// extractVersions's (one python3 run for every Python version). It decides no outcome and runs no git.
import { createHash } from "node:crypto";
import type { SourceVersion } from "../levers/levers.ts";
import type { Extracted, FunctionFacts, Language, RawLever } from "../levers/lever.ts";
import type { ResultLine } from "../experiment/journal.ts";
import { formatScore } from "../text/number-format.ts";

export type Attribution = NonNullable<ResultLine["attribution"]>;
export type LeverMove = Attribution["levers"][number];

/** One constrained file as the incumbent holds it and as the candidate has it (null: absent). */
export type FileChange = { file: string; before: Buffer | null; after: Buffer | null };

/** A run of removed lines (0-based, in `before`) replaced by a run of added lines (in `after`). */
export type Hunk = { beforeStart: number; removed: number; afterStart: number; added: number };

/** Above this many line pairs the changed middle of a file is taken as one hunk (a rewrite, not an edit). */
const MAX_DIFF_CELLS = 4_000_000;

/** Lines of a text, without their line ends; an absent file has none. */
export function linesOf(text: string | null): string[] {
  if (text === null || text === "") return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * The hunks that turn `before` into `after`: the common head and tail skipped, the middle
 * aligned by a longest common subsequence (equal lines kept where they can be), in order.
 */
export function diffLines(before: string[], after: string[]): Hunk[] {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head++;
  let tail = 0;
  while (
    tail < before.length - head && tail < after.length - head &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  ) tail++;
  const oldMiddle = before.slice(head, before.length - tail);
  const newMiddle = after.slice(head, after.length - tail);
  if (oldMiddle.length === 0 && newMiddle.length === 0) return [];
  if (oldMiddle.length === 0 || newMiddle.length === 0 || oldMiddle.length * newMiddle.length > MAX_DIFF_CELLS) {
    return [{ beforeStart: head, removed: oldMiddle.length, afterStart: head, added: newMiddle.length }];
  }
  // common[i][j]: the longest common subsequence of oldMiddle[i..] and newMiddle[j..].
  const width = newMiddle.length + 1;
  const common = new Uint32Array((oldMiddle.length + 1) * width);
  for (let i = oldMiddle.length - 1; i >= 0; i--) {
    for (let j = newMiddle.length - 1; j >= 0; j--) {
      common[i * width + j] = oldMiddle[i] === newMiddle[j]
        ? common[(i + 1) * width + j + 1]! + 1
        : Math.max(common[(i + 1) * width + j]!, common[i * width + j + 1]!);
    }
  }
  const hunks: Hunk[] = [];
  let open: Hunk | null = null;
  const note = (i: number, j: number, removed: number, added: number) => {
    open ??= { beforeStart: head + i, removed: 0, afterStart: head + j, added: 0 };
    open.removed += removed;
    open.added += added;
  };
  let i = 0;
  let j = 0;
  while (i < oldMiddle.length || j < newMiddle.length) {
    if (i < oldMiddle.length && j < newMiddle.length && oldMiddle[i] === newMiddle[j]) {
      if (open) hunks.push(open);
      open = null;
      i++;
      j++;
    } else if (
      j >= newMiddle.length || (i < oldMiddle.length && common[(i + 1) * width + j]! >= common[i * width + j + 1]!)
    ) {
      note(i++, j, 1, 0);
    } else {
      note(i, j++, 0, 1);
    }
  }
  if (open) hunks.push(open);
  return hunks;
}

/** A line as the fingerprint sees it: runs of whitespace made one space, ends trimmed. */
function normalised(line: string): string {
  return line.replace(/\s+/g, " ").trim();
}

function textOf(bytes: Buffer | null): string | null {
  return bytes === null ? null : bytes.toString("utf8").replace(/^\uFEFF/, "");
}

/**
 * The change's fingerprint: per file (by name), the removed and added lines of each hunk,
 * whitespace-normalised, blank ones dropped, without line numbers or context. The same edit
 * made on a later incumbent has the same fingerprint. Null when no file changed.
 */
export function changeHash(files: FileChange[]): string | null {
  const parts: string[] = [];
  for (const change of [...files].sort((a, b) => a.file.localeCompare(b.file))) {
    if (change.before === null && change.after === null) continue;
    if (change.before !== null && change.after !== null && change.before.equals(change.after)) continue;
    const before = linesOf(textOf(change.before));
    const after = linesOf(textOf(change.after));
    const edits: string[] = [`file ${change.file}${change.after === null ? " deleted" : ""}`];
    for (const hunk of diffLines(before, after)) {
      const removed = before.slice(hunk.beforeStart, hunk.beforeStart + hunk.removed).map(normalised);
      const added = after.slice(hunk.afterStart, hunk.afterStart + hunk.added).map(normalised);
      edits.push(
        ...removed.filter(Boolean).map((line) => `-${line}`),
        ...added.filter(Boolean).map((line) => `+${line}`),
      );
    }
    parts.push(edits.join("\n"));
  }
  if (parts.length === 0) return null;
  return createHash("sha256").update(parts.join("\n\0\n")).digest("hex").slice(0, 16);
}

/** One file's two versions with what the lever extractor found in each (null: it could not read that version). */
export type AnalysedChange = {
  file: string;
  language: Language;
  before: { text: string; facts: Extracted | null } | null;
  after: { text: string; facts: Extracted | null } | null;
};

/**
 * The levers, functions and other lines a change touched. A changed line inside a lever's lines
 * whose value differs between the versions is that lever's; any other changed non-blank line is
 * the innermost function's or method's whose lines hold it, else "other". Levers are matched by
 * scope and name (the n-th of a name with the n-th); `file` is named when several files are in play.
 */
export function attributeChanges(changes: AnalysedChange[], options: { nameFiles: boolean }): Attribution {
  const levers: LeverMove[] = [];
  const functions: string[] = [];
  let other = false;
  for (const change of changes) {
    const found = attributeFile(change);
    const file = options.nameFiles ? { file: change.file } : {};
    levers.push(...found.levers.map((move) => ({ ...move, ...file })));
    for (const name of found.functions) {
      const shown = options.nameFiles ? `${change.file}:${name}` : name;
      if (!functions.includes(shown)) functions.push(shown);
    }
    other ||= found.other;
  }
  return { levers, functions, other };
}

type Side = { lines: string[]; changed: number[]; levers: RawLever[]; functions: FunctionFacts[] };

function attributeFile(change: AnalysedChange): Attribution {
  const before = linesOf(change.before?.text ?? null);
  const after = linesOf(change.after?.text ?? null);
  const hunks = diffLines(before, after);
  if (hunks.length === 0) return { levers: [], functions: [], other: false };
  // A version the extractor could not read (a syntax error) leaves its lines to "other".
  const sides: [Side, Side] = [
    sideOf(before, hunks.flatMap((hunk) => range(hunk.beforeStart, hunk.removed)), change.before?.facts ?? null),
    sideOf(after, hunks.flatMap((hunk) => range(hunk.afterStart, hunk.added)), change.after?.facts ?? null),
  ];
  const readable = change.before?.facts !== null && change.after?.facts !== null;
  const moves = readable ? leverMoves(change, sides) : { moves: [], consumed: [new Set<number>(), new Set<number>()] };
  const functions: string[] = [];
  let other = false;
  sides.forEach((side, index) => {
    for (const line of side.changed) {
      if (moves.consumed[index]!.has(line) || side.lines[line - 1]!.trim() === "") continue;
      const owner = innermostFunction(side.functions, line);
      if (owner === null) other = true;
      else if (!functions.includes(owner)) functions.push(owner);
    }
  });
  return { levers: moves.moves, functions, other };
}

function sideOf(lines: string[], changedIndexes: number[], facts: Extracted | null): Side {
  return {
    lines,
    changed: changedIndexes.map((index) => index + 1),
    levers: facts?.levers ?? [],
    functions: facts?.functions ?? [],
  };
}

function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, offset) => start + offset);
}

function covers(lever: { line: number; endLine?: number }, line: number): boolean {
  return lever.line <= line && line <= (lever.endLine ?? lever.line);
}

function leverKey(lever: RawLever): string {
  return `${lever.scope}\u0000${lever.name}`;
}

/**
 * The lever moves of one file, and the changed lines they account for (per side, 1-based). Every
 * lever on a changed line is looked up in the other version by scope and name; a value that
 * differs is a move, one found in a single version is added or removed.
 */
function leverMoves(
  change: AnalysedChange,
  [before, after]: [Side, Side],
): { moves: LeverMove[]; consumed: [Set<number>, Set<number>] } {
  const touched = new Map<string, { before: Set<number>; after: Set<number> }>();
  const touch = (side: Side, which: "before" | "after") => {
    const positions = positionsByKey(side.levers);
    for (const lever of side.levers) {
      if (!side.changed.some((line) => covers(lever, line))) continue;
      const key = leverKey(lever);
      if (!touched.has(key)) touched.set(key, { before: new Set(), after: new Set() });
      touched.get(key)![which].add(positions.get(lever)!);
    }
  };
  touch(before, "before");
  touch(after, "after");
  const moves: LeverMove[] = [];
  const consumed: [Set<number>, Set<number>] = [new Set(), new Set()];
  const claim = (side: Side, lever: RawLever, into: Set<number>) => {
    for (const line of side.changed) if (covers(lever, line)) into.add(line);
  };
  for (const [key, positions] of touched) {
    const olds = before.levers.filter((lever) => leverKey(lever) === key);
    const news = after.levers.filter((lever) => leverKey(lever) === key);
    for (const position of [...new Set([...positions.before, ...positions.after])].sort((a, b) => a - b)) {
      const old = olds[position] ?? null;
      const next = news[position] ?? null;
      // The line changed around an unchanged value (a comment, a neighbour on the same line);
      // a value shown cut short is compared as written.
      const oldVersion = { lever: old, lines: before.lines, changed: before.changed };
      const nextVersion = { lever: next, lines: after.lines, changed: after.changed };
      if (old && next && !valueChanged(oldVersion, nextVersion)) {
        continue;
      }
      moves.push(...moveOf(oldVersion, nextVersion, change.language));
      if (old) claim(before, old, consumed[0]);
      if (next) claim(after, next, consumed[1]);
    }
  }
  return { moves, consumed };
}

/** Each lever's position among the levers of its scope and name, in source order. */
function positionsByKey(levers: RawLever[]): Map<RawLever, number> {
  const counts = new Map<string, number>();
  const positions = new Map<RawLever, number>();
  for (const lever of levers) {
    const key = leverKey(lever);
    const position = counts.get(key) ?? 0;
    positions.set(lever, position);
    counts.set(key, position + 1);
  }
  return positions;
}

/** A lever in one version of the file, with that version's lines and its changed line numbers. */
type Version = { lever: RawLever | null; lines: string[]; changed: number[] };

function valueChanged(old: Version, next: Version): boolean {
  if (old.lever!.value !== next.lever!.value) return true;
  if (!old.lever!.value.endsWith("\u2026")) return false;
  return normalised(writtenText(old)) !== normalised(writtenText(next));
}

/** A lever's move; a table of weights whose keys stayed gives one move per changed weight. */
function moveOf(old: Version, next: Version, language: Language): LeverMove[] {
  const name = (old.lever ?? next.lever)!.name;
  if (old.lever === null) return [{ name, from: null, to: next.lever!.value, direction: "added" }];
  if (next.lever === null) return [{ name, from: old.lever.value, to: null, direction: "removed" }];
  if (old.lever.kind === "weights" && next.lever.kind === "weights") {
    const perKey = weightMoves(name, old, next, language);
    if (perKey) return perKey;
  }
  if (old.lever.value === next.lever.value) {
    // Shown cut short and the same: the first changed line on each side says what moved.
    return [{ name, from: firstChangedLine(old), to: firstChangedLine(next), direction: "changed" }];
  }
  return [{
    name,
    from: old.lever.value,
    to: next.lever.value,
    direction: directionOf(old.lever.numeric, next.lever.numeric),
  }];
}

const CHANGED_LINE_SHOWN = 60; // characters

function firstChangedLine({ lever, lines, changed }: Version): string {
  const line = changed.find((number) => covers(lever!, number) && lines[number - 1]!.trim() !== "");
  if (line === undefined) return lever!.value;
  const text = normalised(lines[line - 1]!);
  return `…${text.length > CHANGED_LINE_SHOWN ? `${text.slice(0, CHANGED_LINE_SHOWN - 1)}…` : text}`;
}

/** The lever's lines as written: a table's every weight, even where its shown value is cut short. */
function writtenText({ lever, lines }: Version): string {
  return lines.slice(lever!.line - 1, lever!.endLine ?? lever!.line).join("\n");
}

function directionOf(from: number | undefined, to: number | undefined): LeverMove["direction"] {
  if (from === undefined || to === undefined || !Number.isFinite(from) || !Number.isFinite(to) || from === to) {
    return "changed";
  }
  return to > from ? "up" : "down";
}

const WEIGHT_ENTRY =
  /[{,]\s*["']?([^"':,{}\s]+)["']?\s*:\s*([-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)(?=\s*[,}])/g;

/**
 * `W = {"title": 3.0,\n "body": 1.0}` -> title 3.0, body 1.0: read from the lines as written (the
 * shown value may be cut short), else from the shown value; null unless exactly the table's keys are found.
 */
function weightEntries(version: Version): Map<string, string> | null {
  const expected = new Set(version.lever!.keys ?? []);
  for (const text of [writtenText(version), version.lever!.value]) {
    const entries = new Map<string, string>();
    for (const match of text.matchAll(WEIGHT_ENTRY)) entries.set(match[1]!, match[2]!);
    const complete = entries.size > 0 && (expected.size === 0 ||
      (entries.size === expected.size && [...expected].every((key) => entries.has(key))));
    if (complete) return entries;
  }
  return null;
}

/** One move per weight that changed when both tables have the same keys; null otherwise (the table as a whole moved). */
function weightMoves(name: string, from: Version, to: Version, language: Language): LeverMove[] | null {
  const old = weightEntries(from);
  const next = weightEntries(to);
  if (!old || !next || old.size !== next.size || [...old.keys()].some((key) => !next.has(key))) return null;
  const moves: LeverMove[] = [];
  for (const [key, value] of old) {
    const changed = next.get(key)!;
    if (Number(value.replace(/_/g, "")) === Number(changed.replace(/_/g, ""))) continue;
    moves.push({
      name: entryName(name, key, language),
      from: value,
      to: changed,
      direction: directionOf(Number(value.replace(/_/g, "")), Number(changed.replace(/_/g, ""))),
    });
  }
  return moves.length ? moves : null;
}

/** The project's entry naming: `W["title"]` in Python, `W.title` (or `W["x-y"]`) in TypeScript/JavaScript. */
function entryName(name: string, key: string, language: Language): string {
  if (language !== "python" && /^[A-Za-z_$][\w$]*$/.test(key)) return `${name}.${key}`;
  return `${name}[${JSON.stringify(key)}]`;
}

/** The qualified name of the smallest function or method whose lines hold `line`, else null. */
function innermostFunction(functions: FunctionFacts[], line: number): string | null {
  let best: FunctionFacts | null = null;
  for (const candidate of functions) {
    if (candidate.endLine === undefined || !covers(candidate, line)) continue;
    if (best === null || candidate.endLine! - candidate.line < best.endLine! - best.line) best = candidate;
  }
  return best?.name ?? null;
}

/**
 * The attribution of a candidate's changes, read while its eval runs: both versions of every
 * changed file through the lever extractors (one python3 run for all Python versions). Any
 * failure gives null: attribution is for people and lessons, never a reason for a step to fail.
 */
export async function attributeCandidate(
  files: FileChange[],
  options: { nameFiles: boolean; pythonCommand?: string },
): Promise<Attribution | null> {
  if (files.length === 0) return null; // nothing changed in the constrained files: nothing to attribute
  try {
    // The extractors load after the eval has started (a step's own start-up stays as it was),
    // and their import is paid only when something is attributed.
    await new Promise((resolveTurn) => setImmediate(resolveTurn));
    const { detectLanguage, extractVersions } = await import("../levers/levers.ts");
    const changed = files.filter((change) =>
      !(change.before === null && change.after === null) &&
      !(change.before !== null && change.after !== null && change.before.equals(change.after))
    );
    const binary = changed.filter((change) => isBinary(change.before) || isBinary(change.after));
    const textual = changed.filter((change) => !binary.includes(change));
    const versions: SourceVersion[] = [];
    const slots = textual.map((change) => {
      const text = { before: textOf(change.before), after: textOf(change.after) };
      const language = detectLanguage(change.file, text.after ?? text.before ?? "");
      const slot = (value: string | null) => {
        if (value === null) return null;
        versions.push({ source: value, language, fileName: change.file });
        return versions.length - 1;
      };
      return { change, language, text, before: slot(text.before), after: slot(text.after) };
    });
    const facts = await extractVersions(versions, options.pythonCommand);
    const analysed: AnalysedChange[] = slots.map((slot) => ({
      file: slot.change.file,
      language: slot.language,
      before: slot.text.before === null ? null : { text: slot.text.before, facts: facts[slot.before!] ?? null },
      after: slot.text.after === null ? null : { text: slot.text.after, facts: facts[slot.after!] ?? null },
    }));
    const attribution = attributeChanges(analysed, options);
    return binary.length ? { ...attribution, other: true } : attribution;
  } catch {
    return null;
  }
}

function isBinary(bytes: Buffer | null): boolean {
  return bytes !== null && bytes.subarray(0, 8192).includes(0);
}

/**
 * The first earlier line of the round that measured the same change and did not keep it: a
 * discard or guard failure with eval runs, or a crash of the candidate's own eval. Unscored
 * lines (scope, duplicates) and a crash of the incumbent's re-run say nothing about the change.
 * A keep cannot repeat: the incumbent holds it.
 */
export function earlierSameChange(results: ResultLine[], hash: string | null): ResultLine | null {
  if (hash === null) return null;
  return results.find((line) => line.change_hash === hash && measuredWithoutKeep(line)) ?? null;
}

function measuredWithoutKeep(line: ResultLine): boolean {
  if (line.status === "crash") {
    return (line.log ?? null) !== null && !(line.reason ?? "").startsWith("the incumbent's re-run crashed");
  }
  return (line.status === "discard" || line.status === "guard_fail") && (line.runs ?? []).length > 0;
}

/** `same change as #7 (discarded 0.7756)`: the line a repeated change is not measured again for. */
export function sameChangeReason(earlier: ResultLine): string {
  const outcome = earlier.status === "crash"
    ? "crashed"
    : `${earlier.status === "discard" ? "discarded" : "failed the guard"}${
      earlier.score === null || earlier.score === undefined ? "" : ` ${formatScore(earlier.score)}`
    }`;
  return `same change as #${earlier.iteration} (${outcome})`;
}
