// How big the constrained files are, for a simplification request: lines and tokens, before
// (the incumbent) and after (the candidate). Pure: text in, counts out; reading the files and
// judging whether the change is kept are the callers' (decision-runs.ts, the decision engine).
//
// The count is lexical and the same for every language, so a rename or a reformat does not
// look like a simplification while deleting code does:
// - comments are not counted: `# ...` in hash-comment languages (Python, shell, Ruby, R, YAML,
//   TOML), `// ...` and `/* ... */` in the others; a file of unknown kind drops all three;
// - a string literal is ONE token however long ('...', "...", `...`, Python's """...""" and
//   '''...''', with a prefix like f"..." or rb'...' belonging to the string);
// - an identifier or keyword is one token, a number (1_000, 0x1F, 1.5e-3, 10n) is one token;
// - an operator is one token, the longest one that matches (`===`, `**=`, `=>`, `->`, `:=`),
//   and any other punctuation character is one token each (`(`, `,`, `:`);
// - a line counts when a token lies on it (a multi-line string counts every line it spans), so
//   blank lines and comment-only lines are not counted.
// Example: `x = 1  # one` and `x=1` both measure 1 line and 3 tokens.

/** Lines and tokens of one text, as defined above. */
export type FileSize = { lines: number; tokens: number };

/** Size of the constrained files before (the incumbent) and after (the candidate). */
export interface SizeChange {
  lines: [number, number];
  tokens: [number, number];
}

// Before (incumbent) and after (candidate), summed over the constrained files: the engine's type.

type CommentStyle = { hash: boolean; slash: boolean };

const HASH_COMMENT_EXTENSIONS = new Set([
  "py",
  "pyi",
  "pyw",
  "sh",
  "bash",
  "zsh",
  "rb",
  "r",
  "pl",
  "yaml",
  "yml",
  "toml",
  "cfg",
  "ini",
  "conf",
  "mk",
  "jl",
  "nim",
  "ex",
  "exs",
]);
const SLASH_COMMENT_EXTENSIONS = new Set([
  "ts",
  "tsx",
  "mts",
  "cts",
  "js",
  "jsx",
  "mjs",
  "cjs",
  "java",
  "kt",
  "kts",
  "scala",
  "go",
  "rs",
  "c",
  "h",
  "cc",
  "cpp",
  "cxx",
  "hpp",
  "cs",
  "swift",
  "dart",
  "json",
  "jsonc",
  "json5",
  "php",
]);

/** Which comment syntax a file uses, from its name; a file of unknown kind drops both. */
export function commentStyleFor(fileName: string): CommentStyle {
  const extension = /\.([^./\\]+)$/.exec(fileName)?.[1]?.toLowerCase() ?? "";
  if (HASH_COMMENT_EXTENSIONS.has(extension)) return { hash: true, slash: false };
  if (SLASH_COMMENT_EXTENSIONS.has(extension)) return { hash: false, slash: true };
  return { hash: true, slash: true };
}

// Longest first, so `**=` wins over `**` and `*`.
const OPERATORS = [
  ">>>=",
  "===",
  "!==",
  "**=",
  "//=",
  ">>=",
  "<<=",
  ">>>",
  "...",
  "&&=",
  "||=",
  "??=",
  "==",
  "!=",
  "<=",
  ">=",
  "=>",
  "->",
  "&&",
  "||",
  "??",
  "?.",
  "**",
  "//",
  "+=",
  "-=",
  "*=",
  "/=",
  "%=",
  "&=",
  "|=",
  "^=",
  "@=",
  "++",
  "--",
  "<<",
  ">>",
  "::",
  ":=",
];

const IDENTIFIER = /[\p{L}_$][\p{L}\p{N}_$]*/uy;
const NUMBER = /(?:0[xXoObB][0-9a-fA-F_]+|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d[\d_]*)?)[a-zA-Z]*/y;
/** Python's string prefixes: r, b, u, f and their pairs (rb, br, fr, rf), any case. */
const STRING_PREFIX = /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/;

/** Measure one text; `fileName` picks the comment syntax (see commentStyleFor). */
export function measureText(text: string, fileName: string): FileSize {
  const style = commentStyleFor(fileName);
  const linesWithTokens = new Set<number>();
  let tokens = 0;
  let line = 1;
  let at = 0;
  const count = (from: number, to: number) => {
    tokens++;
    linesWithTokens.add(line);
    for (let index = from; index < to; index++) {
      if (text[index] === "\n") linesWithTokens.add(++line);
    }
  };
  while (at < text.length) {
    const char = text[at];
    if (char === "\n") {
      line++;
      at++;
      continue;
    }
    if (/\s/.test(char)) {
      at++;
      continue;
    }
    if ((style.hash && char === "#") || (style.slash && text.startsWith("//", at))) {
      const end = text.indexOf("\n", at);
      at = end === -1 ? text.length : end;
      continue;
    }
    if (style.slash && text.startsWith("/*", at)) {
      const close = text.indexOf("*/", at + 2);
      const end = close === -1 ? text.length : close + 2;
      for (let index = at; index < end; index++) if (text[index] === "\n") line++;
      at = end;
      continue;
    }
    if (char === '"' || char === "'" || char === "`") {
      const end = stringEnd(text, at);
      count(at, end);
      at = end;
      continue;
    }
    IDENTIFIER.lastIndex = at;
    const identifier = IDENTIFIER.exec(text);
    if (identifier) {
      const end = at + identifier[0].length;
      // f"..." is one string literal, not a name and a string.
      if (STRING_PREFIX.test(identifier[0]) && (text[end] === '"' || text[end] === "'")) {
        const stringFinish = stringEnd(text, end);
        count(at, stringFinish);
        at = stringFinish;
      } else {
        count(at, end);
        at = end;
      }
      continue;
    }
    NUMBER.lastIndex = at;
    const number = /[\d.]/.test(char) ? NUMBER.exec(text) : null;
    if (number && number[0] !== ".") {
      count(at, at + number[0].length);
      at += number[0].length;
      continue;
    }
    const operator = OPERATORS.find((candidate) => text.startsWith(candidate, at)) ?? char;
    count(at, at + operator.length);
    at += operator.length;
  }
  return { lines: linesWithTokens.size, tokens };
}

/** Where the string literal opening at `start` ends (one past its closing quote, or the end of the text). */
function stringEnd(text: string, start: number): number {
  const quote = text[start];
  const triple = quote !== "`" && text.startsWith(quote.repeat(3), start);
  const closing = triple ? quote.repeat(3) : quote;
  let at = start + closing.length;
  while (at < text.length) {
    const char = text[at];
    if (char === "\\") {
      at += 2;
      continue;
    }
    // A one-quote string ends at the end of its line whatever follows (an unclosed quote).
    if (!triple && quote !== "`" && char === "\n") return at;
    if (text.startsWith(closing, at)) return at + closing.length;
    at++;
  }
  return text.length;
}

/** The sum of the files' sizes; a missing file (deleted) measures 0. */
export function measureFiles(files: { name: string; text: string | null }[]): FileSize {
  let lines = 0;
  let tokens = 0;
  for (const file of files) {
    if (file.text === null) continue;
    const size = measureText(file.text, file.name);
    lines += size.lines;
    tokens += size.tokens;
  }
  return { lines, tokens };
}

/** The change from `before` to `after`. */
export function sizeChange(before: FileSize, after: FileSize): SizeChange {
  return { lines: [before.lines, after.lines], tokens: [before.tokens, after.tokens] };
}

/**
 * The file got smaller: fewer tokens and no more lines. Fewer lines alone is a reformat (a dict
 * joined onto one line), not less code, so it does not count.
 */
export function isSmaller(change: SizeChange): boolean {
  const [linesBefore, linesAfter] = change.lines;
  const [tokensBefore, tokensAfter] = change.tokens;
  return tokensAfter < tokensBefore && linesAfter <= linesBefore;
}

/** "-12 lines, -40 tokens" (a signed difference each, "±0" when unchanged). */
export function sizeChangeText(change: SizeChange): string {
  const signed = (pair: [number, number], unit: string) => {
    const difference = pair[1] - pair[0];
    const sign = difference > 0 ? "+" : difference < 0 ? "-" : "±";
    return `${sign}${Math.abs(difference)} ${unit}${Math.abs(difference) === 1 ? "" : "s"}`;
  };
  return `${signed(change.lines, "line")}, ${signed(change.tokens, "token")}`;
}

/**
 * A simplification request's size change and how it was judged, for the step line:
 * "-12 lines, -40 tokens (kept as a simplification)"; a file that did not get smaller says
 * that the usual gain rule judged it.
 */
export function simplificationNote(change: SizeChange, rule: string | null): string {
  const judged = rule === "simplification"
    ? "kept as a simplification"
    : isSmaller(change)
    ? "simplification asked"
    : "simplification asked, but the file is not smaller: judged by the gain rule";
  return `${sizeChangeText(change)} (${judged})`;
}

/** A journal's `simplification` field read back, or null when it is missing or malformed. */
export function sizeChangeFrom(value: unknown): SizeChange | null {
  if (typeof value !== "object" || value === null) return null;
  const pair = (entry: unknown): [number, number] | null =>
    Array.isArray(entry) && entry.length === 2 && entry.every((item) => Number.isInteger(item) && item >= 0)
      ? [entry[0], entry[1]]
      : null;
  const record = value as Record<string, unknown>;
  const lines = pair(record.lines);
  const tokens = pair(record.tokens);
  return lines && tokens ? { lines, tokens } : null;
}
