// Tests of the TypeScript/JavaScript extractor (scripts/lib/levers/typescript.ts) through
// analyzeFile/analyzeSource: on files shaped like real libraries (test/fixtures/corpus/ts/), every
// lever with its kind, value, line and scope, and the file's classes, functions and imports; then
// one snippet per rule. The fuzzy-search fixture also runs, under Bun and Deno.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeFile, analyzeSource } from "../scripts/lib/levers/levers.ts";
import type { FileAnalysis, FunctionFacts, Lever } from "../scripts/lib/levers/lever.ts";
import { extractWithBabel, shapeOfTypeText } from "../scripts/lib/levers/typescript.ts";
import { splitTopLevel } from "../scripts/lib/text/split-top-level.ts";
import Fuzzy from "./fixtures/corpus/ts/fuzzy/src/search.ts";
import { DENO, KIT_ROOT } from "./helpers.ts";

const CORPUS = join(KIT_ROOT, "test/fixtures/corpus/ts");

/** [name, kind, value, line, scope]: what a person reads about a lever. */
type Row = [string, Lever["kind"], string, number, string];
const rowsOf = (analysis: FileAnalysis): Row[] =>
  analysis.levers.map((lever) => [lever.name, lever.kind, lever.value, lever.line, lever.scope]);

/** Every function and method the extractor saw, with what chooses and calls an entry. */
type FunctionRow = Pick<FunctionFacts, "name" | "required" | "returnsShape" | "public" | "method" | "binding">;
function functionsOf(path: string): FunctionRow[] {
  const source = readFileSync(join(CORPUS, path), "utf8");
  const extracted = extractWithBabel(source, /\.[cm]?js$/.test(path) ? "javascript" : "typescript");
  if (!extracted.ok) throw new Error(extracted.message);
  return extracted.functions.map(({ name, required, returnsShape, public: visible, method, binding }) => ({
    name,
    required,
    returnsShape,
    public: visible,
    method,
    ...(binding ? { binding } : {}),
  }));
}

function ts(lines: string[]): FileAnalysis {
  return analyzeSource(lines.join("\n") + "\n", "typescript", { fileName: "snippet.ts" });
}
function js(lines: string[]): FileAnalysis {
  return analyzeSource(lines.join("\n") + "\n", "javascript", { fileName: "snippet.js" });
}

describe("a fuzzy-search library: option objects spread into a frozen Config, and a class reading it", async () => {
  const config = await analyzeFile(join(CORPUS, "fuzzy/src/core/config.ts"));
  const search = await analyzeFile(join(CORPUS, "fuzzy/src/search.ts"));

  test("each option is a lever of the object that writes it, never of Config as well", () => {
    expect(config.warnings).toEqual([]);
    expect(rowsOf(config)).toEqual([
      ["BasicOptions.isCaseSensitive", "flag", "false", 8, "module"],
      ["BasicOptions.includeScore", "flag", "true", 10, "module"],
      ["BasicOptions.shouldSort", "flag", "true", 14, "module"],
      ["MatchOptions.minMatchCharLength", "threshold", "1", 19, "module"],
      ["MatchOptions.findAllMatches", "flag", "false", 21, "module"],
      ["FuzzyOptions.location", "constant", "0", 26, "module"],
      ["FuzzyOptions.threshold", "threshold", "0.6", 28, "module"],
      ["FuzzyOptions.distance", "threshold", "100", 30, "module"],
      ["FuzzyOptions.ignoreLocation", "flag", "false", 32, "module"],
      ["AdvancedOptions.ignoreDiacritics", "flag", "false", 37, "module"],
    ]);
  });

  test("a spread option says where it goes", () => {
    expect(new Set(config.levers.map((lever) => lever.detail))).toEqual(new Set(["spread into Config"]));
  });

  test("the searcher's levers are its method's option defaults, scoped to the method", () => {
    expect(rowsOf(search)).toEqual([["Fuzzy.search.limit", "count", "-1", 54, "Fuzzy.search"]]);
  });

  test("the default-exported class, its constructor and its method", () => {
    expect(search.classes).toEqual([{
      name: "Fuzzy",
      line: 45,
      bases: [],
      public: true,
      abstract: false,
      methods: [{ name: "search", binding: "instance" }],
      constructor: {
        signature: "constructor(docs: Item[], options: Options = {})",
        params: ["docs", "options"],
        required: ["docs"],
      },
    }]);
    expect(functionsOf("fuzzy/src/search.ts")).toEqual([
      { name: "bestMatch", required: ["pattern", "text"], returnsShape: "object", public: false, method: false },
      { name: "fold", required: ["text", "settings"], returnsShape: "label", public: false, method: false },
      {
        name: "scoreText",
        required: ["pattern", "text", "settings"],
        returnsShape: "number",
        public: false,
        method: false,
      },
      {
        name: "Fuzzy.search",
        required: ["pattern"],
        returnsShape: "ranked_list",
        public: true,
        method: true,
        binding: "instance",
      },
    ]);
  });

  test("a value import is listed; type-only names are not", () => {
    expect(search.imports).toEqual([{ local: "Config", module: "./core/config.ts", imported: "Config", line: 5 }]);
    expect(config.imports).toEqual([]);
  });

  const books = [{ title: "The Old Man and the Sea" }, { title: "Old Mans War" }, { title: "Café Society" }];
  test("the fixture runs: a close match scores near 0 and results come best first", () => {
    const found = new Fuzzy(books, { keys: ["title"] }).search("old man");
    expect(found.map((result) => result.refIndex)).toEqual([1, 0]);
    expect(found[0]!.score).toBe(0);
    expect(new Fuzzy(["apple", "apply", "banana"]).search("appel", { limit: 1 })).toEqual([
      { item: "apple", refIndex: 0, score: 0.2 },
    ]);
    expect(new Fuzzy(books, { keys: ["title"], threshold: 0 }).search("cafe")).toEqual([]);
    expect(new Fuzzy(books, { keys: ["title"], ignoreDiacritics: true, includeScore: false }).search("cafe"))
      .toEqual([{ item: books[2], refIndex: 2 }]);
  });

  test("the fixture runs under Deno as well", () => {
    const script = [
      `import Fuzzy from ${JSON.stringify(join(CORPUS, "fuzzy/src/search.ts"))};`,
      `console.log(JSON.stringify(new Fuzzy(["apple", "apply", "banana"]).search("appel")));`,
    ].join("\n");
    const run = spawnSync(DENO, ["eval", "--ext=ts", script], {
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(run.stderr).toBe("");
    expect(JSON.parse(run.stdout)).toEqual([
      { item: "apple", refIndex: 0, score: 0.2 },
      { item: "apply", refIndex: 1, score: 0.2 },
    ]);
  });
});

describe("a ranker class taking options with defaults in its constructor", async () => {
  const analysis = await analyzeFile(join(CORPUS, "ranker.ts"));

  test("class fields and the constructor's option defaults", () => {
    expect(rowsOf(analysis)).toEqual([
      ["Ranker.STOPWORDS", "list", '["a", "an", "of", "the"]', 8, "Ranker"],
      ["Ranker.normalize", "flag", "true", 9, "Ranker"],
      ["Ranker.constructor.titleBoost", "weight", "2", 14, "Ranker.constructor"],
      ["Ranker.constructor.minScore", "threshold", "0.1", 14, "Ranker.constructor"],
    ]);
    expect(analysis.levers[0]!.detail).toBe("4 items");
  });

  test("static and instance methods are listed, the getter is not", () => {
    expect(analysis.classes).toEqual([{
      name: "Ranker",
      line: 7,
      bases: [],
      public: true,
      abstract: false,
      methods: [
        { name: "fromJson", binding: "static" },
        { name: "score", binding: "instance" },
        { name: "rank", binding: "instance" },
      ],
      constructor: {
        signature: "constructor(docs: Doc[], { titleBoost = 2, minScore = 0.1 } = {})",
        params: ["docs", "{ titleBoost = 2, minScore = 0.1 }"],
        required: ["docs"],
      },
    }]);
    expect(functionsOf("ranker.ts")).toEqual([
      { name: "tokenize", required: ["text"], returnsShape: "ranked_list", public: false, method: false },
      {
        name: "Ranker.fromJson",
        required: ["json"],
        returnsShape: "unknown",
        public: true,
        method: true,
        binding: "static",
      },
      {
        name: "Ranker.score",
        required: ["query", "doc"],
        returnsShape: "number",
        public: true,
        method: true,
        binding: "instance",
      },
      {
        name: "Ranker.rank",
        required: ["query"],
        returnsShape: "ranked_list",
        public: true,
        method: true,
        binding: "instance",
      },
    ]);
  });
});

describe("exported functions with defaulted options", async () => {
  const analysis = await analyzeFile(join(CORPUS, "suggest.ts"));

  test("destructured parameter defaults and destructuring in the body, named by the function", () => {
    expect(rowsOf(analysis)).toEqual([
      ["suggest.maxDistance", "threshold", "2", 18, "suggest"],
      ["suggest.limit", "count", "5", 18, "suggest"],
      ["autocorrect.minLength", "threshold", "4", 33, "autocorrect"],
      ["autocorrect.keepCase", "flag", "true", 33, "autocorrect"],
    ]);
  });

  test("functions say which parameters a caller must pass and what they return", () => {
    expect(functionsOf("suggest.ts")).toEqual([
      { name: "editDistance", required: ["a", "b"], returnsShape: "number", public: true, method: false },
      { name: "suggest", required: ["word", "dictionary"], returnsShape: "ranked_list", public: true, method: false },
      { name: "autocorrect", required: ["text", "dictionary"], returnsShape: "label", public: true, method: false },
    ]);
    expect(analysis.classes).toEqual([]);
    expect(analysis.imports).toEqual([]);
  });
});

describe("a CommonJS module whose exports are its settings", async () => {
  const analysis = await analyzeFile(join(CORPUS, "classify.cjs"));

  test("module.exports entries and module.exports.x assignments are levers", () => {
    expect(analysis.method).toBe("babel");
    expect(rowsOf(analysis)).toEqual([
      ["module.exports.minConfidence", "threshold", "0.35", 8, "module"],
      ["module.exports.fallbackLabel", "choice", '"general"', 9, "module"],
      ["module.exports.labelWeights", "weights", "{billing: 1.5, outage: 2, general: 0.5}", 10, "module"],
      ["module.exports.keywords.billing", "list", '["invoice", "refund", "charge"]', 12, "module"],
      ["module.exports.keywords.outage", "list", '["down", "error", "timeout"]', 13, "module"],
      ["module.exports.maxTokens", "count", "200", 29, "module"],
    ]);
    expect(analysis.levers[2]!.keys).toEqual(["billing", "outage", "general"]);
  });

  test("classify is exported by assignment and is the entry; requires are imports", () => {
    expect(analysis.functions.map((found) => found.name)).toEqual(["classify"]);
    expect(analysis.entry).toMatchObject({ name: "classify", params: ["text"], required: ["text"] });
    expect(analysis.imports).toEqual([
      { local: "tokenize", module: "./tokenize.cjs", imported: "tokenize", line: 4 },
      { local: "stopwords", module: "./stopwords.json", imported: null, line: 5 },
    ]);
  });
});

describe("a config object checked with satisfies", async () => {
  const analysis = await analyzeFile(join(CORPUS, "search-config.ts"));

  test("the nested object is split per key, its table of numbers is one lever, a URL is none", () => {
    expect(rowsOf(analysis)).toEqual([
      ["SEARCH.weights", "weights", "{title: 3, body: 1, tags: 0.5}", 18, "module"],
      ["SEARCH.cutoff", "threshold", "0.4", 19, "module"],
      ["SEARCH.mode", "choice", '"bm25"', 20, "module"],
      ["SEARCH.fuzzy.enabled", "flag", "true", 21, "module"],
      ["SEARCH.fuzzy.maxEdits", "count", "1", 21, "module"],
      ["SEARCH.synonyms", "list", '["laptop", "notebook"]', 22, "module"],
    ]);
  });

  test("a function declared to return an interface of the file returns an object", () => {
    expect(functionsOf("search-config.ts")).toEqual([
      { name: "summarize", required: [], returnsShape: "object", public: true, method: false },
    ]);
  });
});

describe("a ranking function returning one score per document", async () => {
  const analysis = await analyzeFile(join(CORPUS, "score.ts"));

  test("module constants are levers", () => {
    expect(rowsOf(analysis)).toEqual([
      ["K1", "constant", "1.2", 4, "module"],
      ["B", "constant", "0.75", 5, "module"],
    ]);
  });

  test("number[], a numeric map and a Float64Array are scores", () => {
    expect(functionsOf("score.ts")).toEqual([
      { name: "terms", required: ["text"], returnsShape: "ranked_list", public: false, method: false },
      { name: "scoreDocuments", required: ["query", "docs"], returnsShape: "scores", public: true, method: false },
      { name: "normalizedScores", required: ["query", "docs"], returnsShape: "scores", public: true, method: false },
      { name: "packedScores", required: ["query", "docs"], returnsShape: "scores", public: true, method: false },
    ]);
  });
});

describe("config modules: export default defineConfig({...}) and export default {...}", async () => {
  const defined = await analyzeFile(join(CORPUS, "search.config.mjs"));
  const plain = await analyzeFile(join(CORPUS, "llm.config.ts"));

  test("defineConfig's object is read as the default export; a path is no lever", () => {
    expect(rowsOf(defined)).toEqual([
      ["default.index.chunkSize", "size", "512", 6, "module"],
      ["default.index.overlap", "size", "64", 6, "module"],
      ["default.index.language", "choice", '"en"', 6, "module"],
      ["default.query.topK", "count", "8", 8, "module"],
      ["default.query.minScore", "threshold", "0.25", 9, "module"],
      ["default.query.rerank", "flag", "true", 10, "module"],
      ["default.query.boosts", "weights", "{title: 2, heading: 1.5, body: 1}", 11, "module"],
    ]);
    expect(defined.imports).toEqual([
      { local: "defineConfig", module: "docsearch-lite/config", imported: "defineConfig", line: 3 },
    ]);
    expect(defined.entry).toBeNull();
  });

  test("a plain default export: a model name, a rate, a prompt and nested tables", () => {
    expect(rowsOf(plain)).toEqual([
      ["default.model", "choice", '"gpt-4o-mini"', 3, "module"],
      ["default.temperature", "rate", "0.2", 4, "module"],
      ["default.maxTokens", "count", "512", 5, "module"],
      [
        "default.systemPrompt",
        "prompt",
        "You answer questions about the product using only the passag…",
        6,
        "module",
      ],
      ["default.retrieval.topK", "count", "6", 7, "module"],
      ["default.retrieval.hybrid", "weights", "{alpha: 0.5, beta: 0.5}", 7, "module"],
    ]);
  });
});

describe("an abstract base class and a subclass in another file", async () => {
  const base = await analyzeFile(join(CORPUS, "scorers/base.ts"));
  const overlap = await analyzeFile(join(CORPUS, "scorers/overlap.ts"));

  test("the base is abstract and defines rank, whose default is a lever", () => {
    expect(rowsOf(base)).toEqual([["Scorer.rank.k", "count", "10", 7, "Scorer.rank"]]);
    expect(base.classes).toEqual([{
      name: "Scorer",
      line: 4,
      bases: [],
      public: true,
      abstract: true,
      methods: [{ name: "rank", binding: "instance" }],
      constructor: null,
    }]);
  });

  test("the subclass names its base as written, and where it comes from", () => {
    expect(overlap.classes).toEqual([{
      name: "OverlapScorer",
      line: 6,
      bases: ["BaseScorer<Doc>"],
      public: true,
      abstract: false,
      methods: [{ name: "create", binding: "static" }, { name: "score", binding: "instance" }],
      constructor: { signature: "constructor(phraseBonus = 0.5)", params: ["phraseBonus"], required: [] },
    }]);
    expect(overlap.imports).toEqual([
      { local: "BaseScorer", module: "./base.ts", imported: "Scorer", line: 3 },
      { local: "text", module: "../text.ts", imported: null, line: 4 },
    ]);
  });

  test("a constructor default and an option's fallback in a static method", () => {
    expect(rowsOf(overlap)).toEqual([
      ["OverlapScorer.constructor.phraseBonus", "weight", "0.5", 9, "OverlapScorer.constructor"],
      ["OverlapScorer.create.phraseBonus", "weight", "0.5", 15, "OverlapScorer.create"],
    ]);
  });
});

describe("the rules, one snippet each", () => {
  const cases: [string, FileAnalysis, Row[]][] = [
    [
      "a flat table of numbers is one lever; any other object is split per key, recursively",
      ts([
        "export const CONFIG = {",
        "  bm25: { k1: 1.2, b: 0.75 },",
        '  fuzzy: { rules: { maxEdits: 2, mode: "prefix" } },',
        '  "top-k": 10,',
        "};",
      ]),
      [
        ["CONFIG.bm25", "weights", "{k1: 1.2, b: 0.75}", 2, "module"],
        ["CONFIG.fuzzy.rules.maxEdits", "count", "2", 3, "module"],
        ["CONFIG.fuzzy.rules.mode", "choice", '"prefix"', 3, "module"],
        ['CONFIG["top-k"]', "count", "10", 4, "module"],
      ],
    ],
    [
      "own keys of a merged object are its levers; a spread of an unknown source adds none",
      ts([
        'import { Defaults } from "./defaults";',
        "const Basic = { limit: 10, sort: true };",
        'export const Config = Object.freeze({ ...Basic, ...Defaults, extra: 1, mode: "fast" } as const);',
      ]),
      [
        ["Basic.limit", "count", "10", 2, "module"],
        ["Basic.sort", "flag", "true", 2, "module"],
        ["Config.extra", "constant", "1", 3, "module"],
        ["Config.mode", "choice", '"fast"', 3, "module"],
      ],
    ],
    [
      "parameter defaults: plain, destructured, aliased, nested and given as the default object",
      ts([
        "export function search(query: string, limit = 10, { threshold = 0.6, ignoreCase = true } = {}) {}",
        "export const find = (q: string, { limit: max = 5, fuzzy: { distance = 100 } = {} } = {}) => q;",
        "export function pick(q: string, { cutoff } = { cutoff: 0.3 }) {}",
      ]),
      [
        ["search.limit", "count", "10", 1, "search"],
        ["search.threshold", "threshold", "0.6", 1, "search"],
        ["search.ignoreCase", "flag", "true", 1, "search"],
        ["find.limit", "count", "5", 2, "find"],
        ["find.fuzzy.distance", "threshold", "100", 2, "find"],
        ["pick.cutoff", "threshold", "0.3", 3, "pick"],
      ],
    ],
    [
      "destructuring with defaults in a function's body; a nested helper's defaults are not levers",
      ts([
        "export function rank(docs: string[], options: { threshold?: number } = {}) {",
        "  const { threshold = 0.6, mode = 'bm25' } = options;",
        "  const inner = (x: number, scale = 3) => x * scale;",
        "  return docs.map((doc, index = 2) => doc + index + threshold + mode + inner(1));",
        "}",
      ]),
      [
        ["rank.threshold", "threshold", "0.6", 2, "rank"],
        ["rank.mode", "choice", "'bm25'", 2, "rank"],
      ],
    ],
    [
      "a constructor's option fallbacks (?? and ||), TS parameter properties, static defaults",
      ts([
        "export class Searcher {",
        "  static defaults = { fuzzy: true, limit: 20 };",
        "  threshold: number;",
        "  limit: number;",
        "  constructor(private readonly k = 10, options: { threshold?: number; limit?: number } = {}) {",
        "    this.threshold = options.threshold ?? 0.6;",
        "    this.limit = options?.limit || 20;",
        "  }",
        "}",
        "Searcher.DEFAULTS = { window: 5 };",
      ]),
      [
        ["Searcher.defaults.fuzzy", "flag", "true", 2, "Searcher"],
        ["Searcher.defaults.limit", "count", "20", 2, "Searcher"],
        ["Searcher.constructor.k", "count", "10", 5, "Searcher.constructor"],
        ["Searcher.constructor.threshold", "threshold", "0.6", 6, "Searcher.constructor"],
        ["Searcher.constructor.limit", "count", "20", 7, "Searcher.constructor"],
        ["Searcher.DEFAULTS.window", "size", "5", 10, "Searcher"],
      ],
    ],
    [
      "a fallback on something else than an option is no lever",
      ts([
        "export function total(scores: number[], extra?: { bonus?: number }) {",
        "  const first = scores[0] ?? 0.5;",
        "  return first + (extra?.bonus ?? 0.25);",
        "}",
      ]),
      [["total.bonus", "weight", "0.25", 3, "total"]],
    ],
    [
      "export default of an all-number object is one weights lever named default",
      ts(["export default { title: 2, body: 1 } satisfies Record<string, number>;"]),
      [["default", "weights", "{title: 2, body: 1}", 1, "module"]],
    ],
    [
      "CommonJS: exports.x and module.exports.x assignments, and module.exports entries",
      js([
        "exports.limit = 10;",
        "module.exports.threshold = 0.6;",
        "module.exports = { mode: 'fast', rank };",
        "function rank(q) { return [q]; }",
      ]),
      [
        ["exports.limit", "count", "10", 1, "module"],
        ["module.exports.threshold", "threshold", "0.6", 2, "module"],
        ["module.exports.mode", "choice", "'fast'", 3, "module"],
      ],
    ],
    [
      "strings and arrays keep the value as written; paths and secrets are no levers",
      ts([
        'const ACTIVATION = "relu";',
        "const OPTIMIZER = 'adam';",
        "const HIDDEN_LAYERS = [16];",
        "const FIELDS = ['title', 'body'];",
        'const DATA_PATH = "data/train.csv";',
        'const API_KEY = "sk-abc";',
      ]),
      [
        ["ACTIVATION", "choice", '"relu"', 1, "module"],
        ["OPTIMIZER", "choice", "'adam'", 2, "module"],
        ["HIDDEN_LAYERS", "list", "[16]", 3, "module"],
        ["FIELDS", "list", "['title', 'body']", 4, "module"],
      ],
    ],
  ];
  for (const [sentence, analysis, rows] of cases) {
    test(sentence, () => {
      expect(analysis.warnings).toEqual([]);
      expect(rowsOf(analysis)).toEqual(rows);
    });
  }

  test("a list says how many items it has", () => {
    const details = ts(["const A = [16];", "const B = [1, 2, 3];"]).levers.map((lever) => lever.detail);
    expect(details).toEqual(["1 item", "3 items"]);
  });

  test("a spread lever keeps its own detail and adds where it goes", () => {
    const found = ts(["const Lists = { stop: ['a', 'b'] };", "export const Config = { ...Lists, n: 2 };"]).levers;
    expect(found.map((lever) => [lever.name, lever.detail])).toEqual([
      ["Lists.stop", "2 items; spread into Config"],
      ["Config.n", undefined],
    ]);
  });

  test("CommonJS exports decide which functions are public", () => {
    const found = js([
      "function rank(q) { return [q]; }",
      "function helper() {}",
      "function score(q) { return 1; }",
      "module.exports.rank = rank;",
      "exports.score = score;",
    ]);
    expect(found.functions.map((entry) => entry.name)).toEqual(["rank", "score"]);
  });
});

describe("functions and classes", () => {
  function facts(lines: string[]): FunctionFacts[] {
    const extracted = extractWithBabel(lines.join("\n") + "\n", "typescript");
    if (!extracted.ok) throw new Error(extracted.message);
    return extracted.functions;
  }

  test("required leaves out defaults, optional parameters, rest parameters and TS's this", () => {
    const [found] = facts([
      "export function f(this: Window, a: string, b?: number, c = 1, { d }: { d: 1 }, ...e: []) {}",
    ]);
    expect(found).toMatchObject({ params: ["a", "b", "c", "{ d }", "...e"], required: ["a", "{ d }"] });
  });

  test("methods carry their binding; getters, setters and private methods stay out of reach", () => {
    const found = facts([
      "export class A {",
      "  static make(): A { return new A(); }",
      "  run(q: string) { return q; }",
      "  private helper() {}",
      "  _internal() {}",
      "  get size() { return 1; }",
      "  set size(value: number) {}",
      "  #hidden() {}",
      "}",
      "class B { go() {} }",
    ]);
    expect(found.map(({ name, binding, public: visible }) => [name, binding, visible])).toEqual([
      ["A.make", "static", true],
      ["A.run", "instance", true],
      ["A.helper", "instance", false],
      ["A._internal", "instance", false],
      ["B.go", "instance", false], // the file exports A only
    ]);
  });

  const shapes: [string, string, string][] = [
    ["number[]", "function f(q: string): number[] { return g(q); }", "scores"],
    ["readonly number[]", "function f(q: string): readonly number[] { return g(q); }", "scores"],
    ["Array<number>", "function f(q: string): Array<number> { return g(q); }", "scores"],
    ["ReadonlyArray<number>", "function f(q: string): ReadonlyArray<number> { return g(q); }", "scores"],
    ["Float32Array", "function f(q: string): Float32Array { return g(q); }", "scores"],
    ["Promise<number[]>", "async function f(q: string): Promise<number[]> { return g(q); }", "scores"],
    ["a numeric map", "function f(docs: D[]) { return docs.map((d) => d.score * 2); }", "scores"],
    ["a map to ids", "function f(docs: D[]) { return docs.map((d) => d.id); }", "ranked_list"],
    ["a local declared number[]", "function f(q: D[]) { const out: number[] = []; return out; }", "scores"],
    ["a list of records", "function f(q: string): Doc[] { return g(q); }", "ranked_list"],
    ["Record<string, number>", "function f(q: string): Record<string, number> { return g(q); }", "object"],
    ["a type literal", "function f(q: string): { label: string; score: number } { return g(q); }", "object"],
    [
      "an interface of the file",
      "interface Out { label: string }\nfunction f(q: string): Out { return g(q); }",
      "object",
    ],
    [
      "an object type alias",
      "type Out = { label: string };\nfunction f(q: string): Promise<Out> { return g(q); }",
      "object",
    ],
    ["a union type alias", 'type Out = "a" | "b";\nfunction f(q: string): Out { return g(q); }', "unknown"],
    ["an object literal", "function f(q: string) { return { label: q, confidence: 0.5 }; }", "object"],
  ];
  for (const [what, source, shape] of shapes) {
    test(`a function returning ${what} has shape ${shape}`, () => {
      expect(facts([source]).at(-1)!.returnsShape).toBe(shape as FunctionFacts["returnsShape"]);
    });
  }

  test("classes: exported or not, bases as written, abstract, parameter properties", () => {
    const found = ts([
      'import { Base as B } from "./base";',
      "export class Bm25 extends B<Doc> implements Scorer {",
      "  constructor(private readonly k1 = 1.2, public b?: number) { super(); }",
      "}",
      "abstract class Hidden { abstract score(): number; }",
    ]);
    expect(found.classes).toEqual([
      {
        name: "Bm25",
        line: 2,
        bases: ["B<Doc>"],
        public: true,
        abstract: false,
        methods: [],
        constructor: {
          signature: "constructor(private readonly k1 = 1.2, public b?: number)",
          params: ["k1", "b"],
          required: [],
        },
      },
      { name: "Hidden", line: 5, bases: [], public: false, abstract: true, methods: [], constructor: null },
    ]);
    expect(rowsOf(found)).toEqual([["Bm25.constructor.k1", "constant", "1.2", 3, "Bm25.constructor"]]);
  });

  test("imports: named with alias, default, namespace, require forms; type-only imports are left out", () => {
    const found = ts([
      'import { Base as B, type Doc } from "./base";',
      'import Fuse from "./fuse";',
      'import * as config from "./config";',
      'import type { Options } from "./options";',
      'const { tokenize, stem: stemWord } = require("./text");',
      'const yaml = require("yaml");',
      'const parse = require("./parse").parse;',
      'import legacy = require("./legacy");',
    ]);
    expect(found.imports).toEqual([
      { local: "B", module: "./base", imported: "Base", line: 1 },
      { local: "Fuse", module: "./fuse", imported: "default", line: 2 },
      { local: "config", module: "./config", imported: null, line: 3 },
      { local: "tokenize", module: "./text", imported: "tokenize", line: 5 },
      { local: "stemWord", module: "./text", imported: "stem", line: 5 },
      { local: "yaml", module: "yaml", imported: null, line: 6 },
      { local: "parse", module: "./parse", imported: "parse", line: 7 },
      { local: "legacy", module: "./legacy", imported: null, line: 8 },
    ]);
    expect(found.levers).toEqual([]);
  });
});

describe("functions exported where they are written", () => {
  /** [name, signature, public] of each function, and the entry the file offers. */
  function exported(lines: string[], language: "typescript" | "javascript" = "javascript") {
    const analysis = analyzeSource(lines.join("\n") + "\n", language, { fileName: `snippet.${language}` });
    return {
      functions: analysis.functions.map((found) => [found.name, found.signature]),
      entry: analysis.entry?.name ?? null,
    };
  }

  test("an anonymous default export is the function `default`, its defaults levers of `default`", () => {
    expect(exported(["export default (query, docs) => docs.filter((doc) => doc.includes(query));"])).toEqual({
      functions: [["default", "export default (query, docs)"]],
      entry: "default",
    });
    const declared = ts(["export default function (query: string, limit = 5): string[] {", "  return [query];", "}"]);
    expect(declared.entry?.name).toBe("default");
    expect(declared.entry?.returnsShape).toBe("ranked_list");
    expect(rowsOf(declared)).toEqual([["default.limit", "count", "5", 1, "default"]]);
  });

  test("a named default export keeps its own name", () => {
    expect(exported(["export default function rank(query) { return [query]; }"]).entry).toBe("rank");
  });

  test("module.exports = function: by the function's own name, else `default`", () => {
    expect(exported(["module.exports = function rank(query) { return [query]; };"])).toEqual({
      functions: [["rank", "module.exports = function rank(query)"]],
      entry: "rank",
    });
    expect(exported(["module.exports = (query) => [query];"]).entry).toBe("default");
  });

  test("module.exports = { ... } and exports.NAME = ...: functions by their export key, values stay levers", () => {
    const object = exported([
      "module.exports = {",
      "  LIMIT: 10,",
      "  rank: (query, docs) => docs.slice(0, 10),",
      "  score(query) { return 1; },",
      "};",
    ]);
    expect(object.functions).toEqual([["rank", "rank: (query, docs)"], ["score", "score(query)"]]);
    expect(object.entry).toBe("rank");
    const assigned = analyzeSource("exports.LIMIT = 3;\nexports.search = (query, docs) => docs;\n", "javascript", {
      fileName: "snippet.js",
    });
    expect(assigned.functions.map((found) => found.name)).toEqual(["search"]);
    expect(assigned.entry?.name).toBe("search");
    expect(rowsOf(assigned)).toEqual([["exports.LIMIT", "count", "3", 1, "module"]]);
  });
});

describe("union return types", () => {
  test("a union has a shape only when every member agrees (undefined and null aside)", () => {
    const shapes = [
      "number | number[]",
      "string | string[]",
      "number | string[]",
      "Promise<string[] | null>",
      'Promise<"relevant" | "not">',
      "| 'a'\n  | 'b'",
      "string[] | undefined",
      "(string | number)[]",
      "Map<string, number | string>",
    ].map((type) => [type, shapeOfTypeText(type)]);
    expect(shapes).toEqual([
      ["number | number[]", "unknown"],
      ["string | string[]", "unknown"],
      ["number | string[]", "unknown"],
      ["Promise<string[] | null>", "ranked_list"],
      ['Promise<"relevant" | "not">', "label"],
      ["| 'a'\n  | 'b'", "label"],
      ["string[] | undefined", "ranked_list"],
      ["(string | number)[]", "ranked_list"],
      ["Map<string, number | string>", "unknown"],
    ]);
  });

  test("a literal string with a bar or a comma in it is one member", () => {
    expect(shapeOfTypeText('"a|b" | "c,d"')).toBe("label");
    expect(splitTopLevel('sep = ",", pattern = "a|b", k = 2')).toEqual(['sep = ","', 'pattern = "a|b"', "k = 2"]);
  });

  test("a function declared to return number | number[] is not taken for a ranking", () => {
    const found = ts(["export function rank(query: string): number | number[] {", "  return 0;", "}"]);
    expect(found.entry?.returnsShape).toBe("number"); // read from what it returns, not the union's last member
  });
});
