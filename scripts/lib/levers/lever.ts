// What lever extraction produces, for every language alike: a lever (a tunable constant,
// weights, threshold, prompt, list or flag with its current value and line), a function and
// its signature, and a file's analysis. Types only: levers.ts and typescript.ts fill them in.
export type LeverKind = "constant" | "weights" | "threshold" | "prompt" | "list" | "flag";
export type Lever = {
  kind: LeverKind;
  name: string; // `TOP_K`, `CONFIG["min_score"]`, `Ranker.BOOST`, or for a comparison the compared expression
  line: number; // 1-based
  endLine?: number; // when the value spans lines
  value: string; // short rendering of the current value, at most 80 characters
  numeric?: number;
  keys?: string[]; // weights: flattened keys (`tags.exact`)
  detail?: string; // `in rank(): score > 0.5`, `3 items`, `412 chars, 9 lines`
};
export type ReturnsShape = "ranked_list" | "label" | "number" | "unknown";
export type EntryFunction = {
  name: string;
  line: number;
  signature: string; // shown as FROZEN in instructions.md
  params: string[]; // names in order; variadic ones keep their `*`, `**` or `...`
  returns?: string; // the declared return type, as written
  returnsShape: ReturnsShape;
};
export type Language = "python" | "typescript" | "javascript" | "other";
export type FileAnalysis = {
  language: Language;
  levers: Lever[];
  functions: EntryFunction[]; // public top-level functions, in source order
  entry: EntryFunction | null;
  warnings: string[];
  method: "python-ast" | "babel" | "heuristic";
};
/** What an extractor reports about a function beyond what init shows; the entry choice uses it. */
export type FunctionFacts = EntryFunction & { calls: string[]; public: boolean; method: boolean };
