// What lever extraction produces, for every language alike: a lever (a tunable value with its
// kind, current value, line and the scope that owns it), a function and its signature, a class
// (bases, constructor, methods), an import, and a file's analysis; and the one table of file
// extensions to languages (levers.ts and entries.ts both read it). Types otherwise: the extractors
// (levers_python.py, typescript.ts, the heuristic in levers.ts) fill in raw levers, kinds.ts
// names their kind from name and value, and entries.ts resolves the entry an eval calls.

/** What a lever is, for a person choosing what to try: decided by kinds.ts from the name and the value. */
export type LeverKind =
  | "weights" // a table of numbers, one lever (`FIELD_WEIGHTS = {"title": 3, "body": 1}`)
  | "weight" // one number that scales a signal (`TITLE_BOOST`, `penalty`)
  | "threshold" // a cut-off a value is compared with (`MIN_SCORE`, `if score > 0.5`)
  | "count" // a whole number of things (`TOP_K`, `MAX_ITER`, `n_estimators`)
  | "size" // a whole-number size (`BATCH_SIZE`, `hidden_dim`, `CHUNK_LENGTH`)
  | "rate" // a fraction that sets a speed or probability (`LEARNING_RATE`, `dropout`, `temperature`)
  | "constant" // any other number (`k1 = 1.5`)
  | "flag" // a boolean
  | "choice" // a short string naming an option (`ACTIVATION = "relu"`)
  | "prompt" // prose sent to a model
  | "list"; // a list, tuple or set of literals (`HIDDEN_LAYERS = (16,)`)

/**
 * A lever as an extractor reports it, before kinds.ts names its kind. `number` is any numeric
 * literal (or constant expression); `string` a literal string that is not prose; `threshold` a
 * literal compared with something inside a function (`if score > 0.5`).
 */
export type RawLeverKind = "number" | "threshold" | "flag" | "string" | "prompt" | "list" | "weights";

type LeverFields = {
  /**
   * How the code names it: `TOP_K`, `CONFIG["min_score"]`, `Ranker.BOOST`, `BM25Okapi.__init__.k1`
   * (a keyword default), `search.threshold` (a destructured option default), `DEFAULTS.fuzzy.distance`,
   * or for a comparison the compared expression.
   */
  name: string;
  line: number; // 1-based, where the value is written (the line to edit)
  endLine?: number; // when the value spans lines
  value: string; // the value as the code writes it, at most 80 characters: `0.75`, `(16,)`, `"relu"`
  numeric?: number;
  keys?: string[]; // weights: their keys (`title`, `tags.exact`)
  detail?: string; // `in rank(): score > 0.5`, `3 items`, `412 chars, 9 lines`, `tuple, 1 item`
  /**
   * Who owns it: `module` for top-level names (and their dict/object entries), a class name for
   * class attributes and fields (`Config`), a qualified function name for parameter defaults and
   * comparisons (`BM25Okapi.__init__`, `search`).
   */
  scope: string;
};
export type RawLever = LeverFields & { kind: RawLeverKind };
export type Lever = LeverFields & { kind: LeverKind };

/** What an entry returns, which decides how the eval reads its output. */
export type ReturnsShape =
  | "ranked_list" // ids (or items with an id) best first
  | "scores" // one number per item, in the items' order (`np.ndarray`, `number[]`): ranked by the eval
  | "label" // a string or boolean
  | "number"
  | "object" // a record whose field holds the answer (`--output-field`)
  | "unknown";

/** How the eval reaches a method: through an instance built once per setup, or on the class itself. */
export type EntryOwner = {
  className: string;
  binding: "instance" | "static" | "class";
  /** The constructor's parameters (without self) and the required ones, which the test data's `setup` fills. */
  constructorParams: string[];
  constructorRequired: string[];
  constructorSignature: string | null;
  /** The class that defines the method when it is inherited (`BM25`), else absent. */
  definedIn?: string;
  /** The file that defines it when that is another file, relative to the experiment root. */
  definedInFile?: string;
};

export type EntryFunction = {
  name: string; // `rank`, or `Class.method`
  line: number;
  signature: string; // shown as FROZEN in instructions.md
  params: string[]; // names in order; variadic ones keep their `*`, `**` or `...`
  /** Parameters without a default (never variadic ones); absent when the extractor could not tell. */
  required?: string[];
  returns?: string; // the declared return type, as written
  returnsShape: ReturnsShape;
  owner?: EntryOwner;
  /** When the entry is in another file than the constrained one: that file, relative to the experiment root. */
  file?: string;
};

export type ClassFacts = {
  name: string;
  line: number;
  bases: string[]; // as written: `BM25`, `base.Scorer`, `Base<T>`
  public: boolean; // not `_Private`; in TS/JS exported when the file exports anything
  abstract: boolean; // `abstract class`, `ABC` base, or an `@abstractmethod`
  /** Methods the class itself defines, by simple name, with how they are bound. */
  methods: { name: string; binding: "instance" | "static" | "class" }[];
  /** Its own constructor (`__init__` / `constructor`), else null (inherited or none). */
  constructor: { signature: string; params: string[]; required: string[] } | null;
};

/** `from .base import BM25 as Base` -> { local: "Base", module: ".base", imported: "BM25" }; `import x` -> imported null. */
export type ImportFacts = { local: string; module: string; imported: string | null; line: number };

export type Language = "python" | "typescript" | "javascript" | "other";

/** The language of a file by its extension (lower case, without the dot). */
const LANGUAGE_OF_EXTENSION: Readonly<Record<string, Language>> = {
  py: "python",
  pyw: "python",
  pyi: "python",
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "javascript",
  jsx: "javascript",
  mjs: "javascript",
  cjs: "javascript",
};

/** `ranker.py` -> python, `search.mts` -> typescript; null for an extension of no known language (or none). */
export function languageOfExtension(path: string): Language | null {
  const extension = path.match(/\.([A-Za-z0-9]+)$/)?.[1]?.toLowerCase();
  return extension !== undefined && Object.hasOwn(LANGUAGE_OF_EXTENSION, extension)
    ? LANGUAGE_OF_EXTENSION[extension]!
    : null;
}
export type FileAnalysis = {
  language: Language;
  levers: Lever[];
  functions: EntryFunction[]; // public top-level functions, in source order
  classes: ClassFacts[];
  imports: ImportFacts[];
  entry: EntryFunction | null;
  warnings: string[];
  method: "python-ast" | "babel" | "heuristic";
};
/** What an extractor reports about a function beyond what init shows; the entry choice uses it. */
export type FunctionFacts = EntryFunction & {
  /** The last line of its body (decorators and signature start at `line`): what an edit's attribution reads. */
  endLine?: number;
  calls: string[];
  public: boolean;
  method: boolean;
  binding?: "instance" | "static" | "class"; // methods only
  /** False when no `return <value>` or `yield` is reachable (a script's `main()`): nothing for an eval to score. */
  returnsValue?: boolean;
};
/** One extractor's output for one file. */
export type Extracted = {
  levers: RawLever[];
  functions: FunctionFacts[];
  classes: ClassFacts[];
  imports: ImportFacts[];
};
