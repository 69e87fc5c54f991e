// What a round's iterations teach, read from each line's attribution (the levers, functions and
// other lines its diff changed), never from the words of its description: per lever and
// direction the tries in order with old -> new values, status, delta and iteration; per
// rewritten function; "other lines"; and a clearly labelled "unknown" group for lines with no
// recorded diff. From those it names the kept directions, the real dead ends (tried twice or
// more, every loss conclusive), the inconclusive discards worth a retry with more runs, and the
// iterations that were never scored. The dashboard, the loop prompt, next-round's instructions
// and the final report all render the lines this module writes, so they say the same thing.
// Pure: journal lines in, data and text out; it reads no files and prints nothing.
import { LEVER_MOVES, type ResultLine } from "./journal.ts";
import { formatDelta, MEASURE_DECIMALS } from "../text/number-format.ts";

export type LeverMove = (typeof LEVER_MOVES)[number];

/** One scored iteration (or, for a function, a crash) as one group's history shows it. */
export type Try = {
  iteration: number;
  status: "keep" | "discard" | "guard_fail" | "crash";
  /** Old and new value as the code held them (levers only). */
  from: string | null;
  to: string | null;
  /** The line's delta as recorded ("+0.0180"), or null. */
  delta: string | null;
  /** The gain interval of the decision, oriented so positive is better; null when none was recorded. */
  interval: [number, number] | null;
  /** A discard whose interval still holds a gain of the round's minimum effect: more runs could turn it. */
  inconclusive: boolean;
  /** A loss that rules the change out: a guard failure, a crash, a discard whose interval excludes the minimum effect. */
  conclusive: boolean;
  /** The other levers and functions the same diff changed ("`b` ↓"). */
  alongside: string[];
  /** For the unknown group only: the description, since nothing else can name the try. */
  description: string | null;
};

/** What the tries of one lever direction or one function amount to. */
export type Verdict = "kept" | "dead end" | "inconclusive" | "tried";

export type DirectionLesson = { direction: LeverMove; tries: Try[]; verdict: Verdict };

export type LeverLesson = {
  /** The lever's name, prefixed with its file when two files of the round hold the same name. */
  name: string;
  file: string | null;
  directions: DirectionLesson[];
  /** Every try of the lever in journal order, whatever its direction. */
  tries: (Try & { direction: LeverMove })[];
};

export type FunctionLesson = { name: string; tries: Try[]; verdict: Verdict };

export type UnscoredNote = { iteration: number; reason: string; description: string };

/** A lesson that matters on its own: a kept direction, a dead end, an inconclusive discard. */
export type Finding = {
  /** "k1 ↓" or "score_doc (function)": what not to retry, or what paid off (plain text, for JSON). */
  key: string;
  iterations: number[];
  /** The line every renderer shows, names in backticks. */
  text: string;
};

export type Lessons = {
  levers: LeverLesson[];
  functions: FunctionLesson[];
  /** Edits outside any lever or function body. */
  otherLines: Try[];
  /** Lines with no recorded diff (hand-written or older journals): never grouped by their words. */
  unknown: Try[];
  /** Iterations with no eval run that did not crash: restored scope violations, unchanged files, repeats. */
  unscored: UnscoredNote[];
  /** Iterations that crashed: reported apart, never a lever's try. */
  crashed: number[];
  kept: Finding[];
  deadEnds: Finding[];
  inconclusive: Finding[];
};

export type LessonsInput = {
  /** The round's iteration lines in journal order (no baseline). */
  results: ResultLine[];
  /** decision.min_effect of the experiment, used when above 0. */
  minEffect: number | null;
  /** The baseline's minimum detectable effect: the fallback when a line's verdict has none. */
  baselineMinDetectableEffect: number | null;
};

export const UNKNOWN_LABEL = "unknown (no diff recorded)";
export const OTHER_LINES_LABEL = "other lines";
export const SECTION_TITLES = {
  kept: "Kept directions",
  deadEnds: "Dead ends (do not retry)",
  inconclusive: "Inconclusive: worth a retry with more runs",
  tried: "Tried, per lever and function",
  unscored: "Not scored (not counted as tries)",
} as const;

const TRIES_SHOWN_PER_FINDING = 4;
const TRIES_SHOWN_PER_HISTORY = 8;
const VALUE_CHARACTERS_SHOWN = 24;
const DESCRIPTION_CHARACTERS_SHOWN = 50;
const REASON_CHARACTERS_SHOWN = 90;
const MOVE_MARKS: Record<LeverMove, string> = {
  up: "↑",
  down: "↓",
  changed: "changed",
  added: "added",
  removed: "removed",
};
const STATUS_WORDS: Record<Try["status"], string> = {
  keep: "kept",
  discard: "discarded",
  guard_fail: "guard failed",
  crash: "crashed",
};

/** Lessons of one round's iteration lines. */
export function buildLessons(input: LessonsInput): Lessons {
  const leverGroups = new Map<
    string,
    { name: string; file: string | null; tries: (Try & { direction: LeverMove })[] }
  >();
  const functionGroups = new Map<string, Try[]>();
  const lessons: Lessons = {
    levers: [],
    functions: [],
    otherLines: [],
    unknown: [],
    unscored: [],
    crashed: [],
    kept: [],
    deadEnds: [],
    inconclusive: [],
  };
  for (const line of input.results) {
    if (line.status === "baseline") continue;
    const unscored = unscoredReason(line);
    if (unscored !== null) {
      lessons.unscored.push({ iteration: line.iteration, reason: unscored, description: line.description });
      continue;
    }
    const attribution = line.attribution ?? null;
    const levers = attribution?.levers ?? [];
    const functions = attribution?.functions ?? [];
    const base = baseTry(line, input);
    if (line.status === "crash") {
      lessons.crashed.push(line.iteration);
      // A function rewrite that crashes twice is a dead end, so its history keeps the crash;
      // a lever's history does not: a crash says nothing about the value.
      for (const name of functions) push(functionGroups, name, { ...base, alongside: others(levers, functions, name) });
      continue;
    }
    if (attribution === null || (levers.length === 0 && functions.length === 0 && !attribution.other)) {
      lessons.unknown.push({ ...base, description: line.description });
      continue;
    }
    for (const lever of levers) {
      const key = `${lever.file ?? ""}\u0000${lever.name}`;
      let group = leverGroups.get(key);
      if (!group) leverGroups.set(key, group = { name: lever.name, file: lever.file ?? null, tries: [] });
      group.tries.push({
        ...base,
        from: lever.from,
        to: lever.to,
        direction: lever.direction,
        alongside: others(levers, functions, lever.name),
      });
    }
    for (const name of functions) push(functionGroups, name, { ...base, alongside: others(levers, functions, name) });
    if (levers.length === 0 && functions.length === 0) lessons.otherLines.push(base);
  }

  const namesInSeveralFiles = severalFileNames([...leverGroups.values()]);
  for (const group of leverGroups.values()) {
    const name = namesInSeveralFiles.has(group.name) && group.file ? `${group.file}:${group.name}` : group.name;
    const directions = LEVER_MOVES.map((direction) => {
      const tries = group.tries.filter((attempt) => attempt.direction === direction);
      return { direction, tries, verdict: leverVerdict(tries) };
    }).filter((lesson) => lesson.tries.length > 0);
    lessons.levers.push({ name, file: group.file, directions, tries: group.tries });
  }
  for (const [name, tries] of functionGroups) lessons.functions.push({ name, tries, verdict: functionVerdict(tries) });

  for (const lever of lessons.levers) {
    for (const direction of lever.directions) {
      const mark = MOVE_MARKS[direction.direction];
      const finding = {
        key: `${plain(lever.name)} ${mark}`,
        iterations: direction.tries.map((attempt) => attempt.iteration),
      };
      addFinding(lessons, direction.verdict, finding, `${code(lever.name)} ${mark}`, direction.tries);
    }
  }
  for (const lesson of lessons.functions) {
    const finding = {
      key: `${plain(lesson.name)} (function)`,
      iterations: lesson.tries.map((attempt) => attempt.iteration),
    };
    addFinding(lessons, lesson.verdict, finding, `${code(lesson.name)} (function)`, lesson.tries);
  }
  return lessons;
}

/** Files a lever direction's or function's finding under its verdict; `label` opens its line, names in backticks. */
function addFinding(
  lessons: Lessons,
  verdict: Verdict,
  finding: Omit<Finding, "text">,
  label: string,
  tries: Try[],
): void {
  if (verdict === "kept") {
    const keeps = tries.filter((attempt) => attempt.status === "keep");
    lessons.kept.push({ ...finding, text: `${label}: ${tryList(keeps, TRIES_SHOWN_PER_FINDING)}` });
  } else if (verdict === "dead end") {
    lessons.deadEnds.push({
      ...finding,
      text: `${label}, ${countOf(tries)}: ${tryList(tries, TRIES_SHOWN_PER_FINDING)}`,
    });
  } else if (verdict === "inconclusive") {
    const open = tries.filter((attempt) => attempt.inconclusive);
    lessons.inconclusive.push({ ...finding, text: `${label}: ${tryList(open, TRIES_SHOWN_PER_FINDING)}` });
  }
}

/**
 * Why a line was never scored, or null when it was (or crashed): no eval run stands behind it.
 * A keep is never unscored: a forced keep is still what the round kept.
 */
export function unscoredReason(line: ResultLine): string | null {
  if (line.status === "crash" || line.status === "keep" || line.status === "baseline") return null;
  const hasRun = (line.runs ?? []).some((run) => run !== null) || line.score !== null;
  if (hasRun) return null;
  const reason = oneLine(line.reason ?? "").replace(/ \((restored|to re-apply)[^)]*\)/g, " (restored)");
  return reason === "" ? "no eval run recorded" : clip(reason, REASON_CHARACTERS_SHOWN);
}

/**
 * "kept": any keep; "inconclusive": a loss more runs could turn; "dead end": two or more tries,
 * every one a conclusive loss; else "tried" (one loss, or a discard with no interval recorded).
 */
function leverVerdict(tries: Try[]): Verdict {
  if (tries.some((attempt) => attempt.status === "keep")) return "kept";
  if (tries.some((attempt) => attempt.inconclusive)) return "inconclusive";
  return tries.length >= 2 && tries.every((attempt) => attempt.conclusive) ? "dead end" : "tried";
}

/** A function rewrite is a dead end once it crashed or lost twice without a keep. */
function functionVerdict(tries: Try[]): Verdict {
  return leverVerdict(tries);
}

function baseTry(line: ResultLine, input: LessonsInput): Try {
  const interval = gainInterval(line);
  const ruledOut = line.status === "discard" ? rulesOutMinEffect(line, interval, input) : null;
  return {
    iteration: line.iteration,
    status: line.status === "baseline" ? "keep" : line.status,
    from: null,
    to: null,
    delta: line.delta,
    interval,
    inconclusive: ruledOut === false,
    conclusive: line.status === "guard_fail" || line.status === "crash" || ruledOut === true,
    alongside: [],
    description: null,
  };
}

/**
 * The decision's interval for the true gain, oriented so positive is better whatever the
 * metric's direction (decide.ts orients it before the journal stores it as verdict.ci).
 */
function gainInterval(line: ResultLine): [number, number] | null {
  const ci = line.verdict?.ci;
  if (!Array.isArray(ci) || ci.length !== 2) return null;
  const [low, high] = ci;
  return typeof low === "number" && typeof high === "number" && Number.isFinite(low) && Number.isFinite(high)
    ? [Math.min(low, high), Math.max(low, high)]
    : null;
}

/**
 * Whether a discard rules out a gain of the round's minimum effect: its interval's upper end
 * stays below it. A deterministic eval's single run is exact, so its discard always rules it
 * out. null when no interval was recorded (the noise was never measured): it says neither.
 */
function rulesOutMinEffect(line: ResultLine, interval: [number, number] | null, input: LessonsInput): boolean | null {
  if (line.verdict?.mode === "deterministic") return true;
  if (interval === null) return null;
  const minEffect = roundMinEffect(line, input);
  return minEffect > 0 ? interval[1] < minEffect : interval[1] <= 0;
}

/** decision.min_effect when above 0, else the line's minimum detectable effect, else the baseline's, else 0. */
function roundMinEffect(line: ResultLine, input: LessonsInput): number {
  if (input.minEffect !== null && input.minEffect > 0) return input.minEffect;
  const lineEffect = line.verdict?.min_detectable_effect;
  if (typeof lineEffect === "number" && Number.isFinite(lineEffect) && lineEffect > 0) return lineEffect;
  return input.baselineMinDetectableEffect ?? 0;
}

// ---- text: every renderer shows these lines, with names in backticks ----

/** One section of lessons: a title and its lines (each a finished sentence with names in backticks). */
export type LessonSection = { key: keyof typeof SECTION_TITLES; title: string; lines: string[] };

/** The sections in the order every renderer shows them; empty ones are left out. */
export function lessonSections(lessons: Lessons): LessonSection[] {
  const sections: LessonSection[] = [
    { key: "kept", title: SECTION_TITLES.kept, lines: lessons.kept.map((finding) => finding.text) },
    { key: "deadEnds", title: SECTION_TITLES.deadEnds, lines: lessons.deadEnds.map((finding) => finding.text) },
    {
      key: "inconclusive",
      title: SECTION_TITLES.inconclusive,
      lines: lessons.inconclusive.map((finding) => finding.text),
    },
    { key: "tried", title: SECTION_TITLES.tried, lines: historyLines(lessons) },
    { key: "unscored", title: SECTION_TITLES.unscored, lines: lessons.unscored.map(unscoredLine) },
  ];
  return sections.filter((section) => section.lines.length > 0);
}

/** "`k1` (kept ↑ / dead end ↓): 1.5 → 0.75 kept (+0.0180, #9); 0.75 → 0.5 discarded (-0.0040, #12)" */
export function historyLines(lessons: Lessons): string[] {
  const lines = lessons.levers.map((lever) =>
    `${code(lever.name)} (${
      lever.directions.map((direction) => `${direction.verdict} ${MOVE_MARKS[direction.direction]}`).join(" / ")
    }): ${tryList(lever.tries, TRIES_SHOWN_PER_HISTORY)}`
  );
  for (const lesson of lessons.functions) {
    lines.push(`${code(lesson.name)} (function, ${lesson.verdict}): ${tryList(lesson.tries, TRIES_SHOWN_PER_HISTORY)}`);
  }
  if (lessons.otherLines.length > 0) {
    lines.push(`${OTHER_LINES_LABEL}: ${tryList(lessons.otherLines, TRIES_SHOWN_PER_HISTORY)}`);
  }
  if (lessons.unknown.length > 0) {
    lines.push(`${UNKNOWN_LABEL}: ${tryList(lessons.unknown, TRIES_SHOWN_PER_HISTORY)}`);
  }
  return lines;
}

/** "#7 not scored: changed files outside the constrained file: eval.py (restored)" */
export function unscoredLine(note: UnscoredNote): string {
  return `#${note.iteration} not scored: ${note.reason}`;
}

/**
 * One iteration as the loop prompt's "recently tried" list shows it, from its attribution:
 * "#7 `TITLE_WEIGHT` 3 → 2 discarded (-0.0040)"; a line with no recorded diff shows its description.
 */
export function triedChangeLine(line: ResultLine): string {
  const unscored = unscoredReason(line);
  if (unscored !== null) return `#${line.iteration} not scored: ${unscored}`;
  const attribution = line.attribution ?? null;
  const changed = [
    ...(attribution?.levers ?? []).map((lever) => `${code(lever.name)} ${valueMove(lever.from, lever.to)}`),
    ...(attribution?.functions ?? []).map((name) => `${code(name)} rewritten`),
    ...(attribution?.other ? [OTHER_LINES_LABEL] : []),
  ];
  const status = line.status === "baseline" ? "baseline" : STATUS_WORDS[line.status];
  const delta = line.status !== "crash" && line.delta ? ` (${line.delta})` : "";
  const what = changed.length > 0
    ? changed.join(", ")
    : `${UNKNOWN_LABEL} "${clip(plain(oneLine(line.description)), DESCRIPTION_CHARACTERS_SHOWN)}"`;
  return `#${line.iteration} ${what} ${status}${delta}`;
}

/** A finished lesson line without its backticks, for a terminal. */
export function withoutBackticks(text: string): string {
  return text.replace(/`([^`]*)`/g, "$1");
}

function tryList(tries: Try[], shown: number): string {
  const visible = tries.slice(0, shown).map(tryText).join("; ");
  return tries.length > shown ? `${visible}; +${tries.length - shown} more` : visible;
}

/** "1.5 → 0.75 kept (+0.0180, #9)", "rewritten, crashed (#4)", "discarded, inconclusive (-0.0010, #11)". */
function tryText(attempt: Try & { direction?: LeverMove }): string {
  const move = attempt.direction ? `${valueMove(attempt.from, attempt.to)} ` : "";
  const inconclusive = attempt.inconclusive ? ", inconclusive" : "";
  const figures = [attempt.status === "crash" ? null : attempt.delta, `#${attempt.iteration}`].filter(Boolean);
  // The interval is written to the decimals of the line's delta (four, more for a score below 0.001).
  const scale = { decimals: attempt.delta?.split(".")[1]?.length ?? MEASURE_DECIMALS };
  const interval = attempt.inconclusive && attempt.interval
    ? `, gain interval ${formatDelta(attempt.interval[0], scale)} … ${formatDelta(attempt.interval[1], scale)}`
    : "";
  const alongside = attempt.alongside.length > 0 ? ` with ${attempt.alongside.join(", ")}` : "";
  const description = attempt.description === null || attempt.description.trim() === ""
    ? ""
    : ` "${clip(plain(oneLine(attempt.description)), DESCRIPTION_CHARACTERS_SHOWN)}"`;
  return `${move}${STATUS_WORDS[attempt.status]}${inconclusive} (${
    figures.join(", ")
  }${interval})${alongside}${description}`;
}

/** "1.5 → 0.75"; "added 3"; "removed (was 3)". */
function valueMove(from: string | null, to: string | null): string {
  if (from === null && to !== null) return `added ${value(to)}`;
  if (to === null && from !== null) return `removed (was ${value(from)})`;
  return `${value(from ?? "?")} → ${value(to ?? "?")}`;
}

function value(text: string): string {
  return clip(plain(oneLine(text)), VALUE_CHARACTERS_SHOWN);
}

function countOf(tries: Try[]): string {
  const crashes = tries.filter((attempt) => attempt.status === "crash").length;
  const losses = tries.length - crashes;
  const parts = [losses > 0 ? `${losses} lost` : null, crashes > 0 ? `${crashes} crashed` : null].filter(Boolean);
  return `${parts.join(", ")}, none kept`;
}

function others(
  levers: { name: string; direction: LeverMove }[],
  functions: string[],
  self: string,
): string[] {
  return [
    ...levers.filter((lever) => lever.name !== self).map((lever) =>
      `${code(lever.name)} ${MOVE_MARKS[lever.direction]}`
    ),
    ...functions.filter((name) => name !== self).map((name) => `${code(name)} (function)`),
  ];
}

function severalFileNames(groups: { name: string; file: string | null }[]): Set<string> {
  const filesByName = new Map<string, Set<string>>();
  for (const group of groups) {
    const files = filesByName.get(group.name) ?? new Set<string>();
    files.add(group.file ?? "");
    filesByName.set(group.name, files);
  }
  return new Set([...filesByName].filter(([, files]) => files.size > 1).map(([name]) => name));
}

function push<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const list = groups.get(key);
  if (list) list.push(item);
  else groups.set(key, [item]);
}

/** A name in backticks; a backtick inside it would end the span early, so it becomes a quote. */
function code(name: string): string {
  return `\`${plain(name)}\``;
}

function plain(text: string): string {
  return text.replace(/`/g, "'");
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function clip(text: string, characters: number): string {
  return text.length > characters ? `${text.slice(0, characters - 1)}…` : text;
}
