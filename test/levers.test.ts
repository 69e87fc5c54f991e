// Unit tests for lever and entry-function extraction (scripts/lib/levers/levers.ts): Python through
// python3's ast, TypeScript/JavaScript through babel, and the regex heuristic, on the sample files
// in test/fixtures/levers/ and on one-line snippets. One Deno check runs the module under Deno.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CliError } from "../scripts/lib/cli/errors.ts";
import { analyzeFile, analyzeSource, detectLanguage } from "../scripts/lib/levers/levers.ts";
import { languageOfExtension, type Lever } from "../scripts/lib/levers/lever.ts";
import { DENO, KIT_ROOT, temporaryFolder } from "./helpers.ts";
import { generatedPythonLines } from "./fixtures/generated-python.ts";

const FIXTURES = join(KIT_ROOT, "test/fixtures/levers");
const fixture = (name: string) => join(FIXTURES, name);

/** [name, kind, line, value, more fields] — one row per lever a fixture must yield. */
type LeverRow = [string, Lever["kind"], number, string, Partial<Lever>?];

function expectLevers(levers: Lever[], rows: LeverRow[]): void {
  for (const [name, kind, line, value, more] of rows) {
    const found = levers.find((lever) => lever.name === name && lever.line === line);
    expect(found, `lever ${name} at line ${line}`).toBeDefined();
    expect(found).toMatchObject({ kind, value, ...more });
  }
}

function python(lines: string[], options = {}) {
  return analyzeSource(lines.join("\n") + "\n", "python", { fileName: "snippet.py", ...options });
}

function typescript(lines: string[], options = {}) {
  return analyzeSource(lines.join("\n") + "\n", "typescript", { fileName: "snippet.ts", ...options });
}

describe("python", async () => {
  const analysis = await analyzeFile(fixture("ranker.py"));

  test("a parsable Python file is read with python's own ast", () => {
    expect(analysis).toMatchObject({ language: "python", method: "python-ast", warnings: [] });
  });

  const rows: LeverRow[] = [
    ["TOP_K", "count", 5, "10", { numeric: 10, scope: "module" }],
    ["BOOST", "weight", 6, "2.5", { numeric: 2.5 }], // annotated
    ["DECAY", "rate", 7, "-0.5", { numeric: -0.5 }], // Final[...] and a negative number
    ["RATIO", "rate", 8, "1 / 3", { numeric: 1 / 3 }],
    ["MAX_TOKENS", "count", 9, "2 ** 10", { numeric: 1024 }],
    ["MIN_SCORE", "threshold", 10, "0.15"],
    ["USE_STEMMING", "flag", 11, "True"],
    // A dict with a nested table is split per key; the all-number table inside is one weights lever.
    ['FIELD_WEIGHTS["title"]', "weight", 14, "3.0", { scope: "module" }],
    ['FIELD_WEIGHTS["body"]', "weight", 15, "1.0"],
    ['FIELD_WEIGHTS["tags"]', "weights", 16, "{exact: 2, partial: 0.5}", { keys: ["exact", "partial"] }],
    ['CONFIG["top_k"]', "count", 18, "5"],
    ['CONFIG["model"]', "choice", 18, '"small"'],
    ['CONFIG["min_similarity"]', "threshold", 18, "0.42"],
    ['CONFIG["rerank"]', "flag", 18, "False"],
    ["STOPWORDS", "list", 19, '["a", "an", "the"]', { detail: "list, 3 items" }],
    ["BANDS", "list", 20, "(0.1, 0.5, 0.9)", { detail: "tuple, 3 items" }],
    ["SYSTEM_PROMPT", "prompt", 22, "You are a careful search assistant."],
    ["RERANK_TEMPLATE", "prompt", 23, "Rank these documents for the query {query}. Return the ids,…", {
      endLine: 26,
      detail: "81 chars, 4 lines",
    }],
    ["ALPHA", "constant", 27, "0.7"],
    ["BETA", "constant", 27, "0.3"],
    ["Settings.cutoff", "threshold", 31, "0.8", { scope: "Settings" }],
    ["Settings.RETRIES", "count", 32, "3", { scope: "Settings" }],
    ["hits", "threshold", 42, "3", { detail: "in score(): hits > 3", scope: "score" }],
    ["pair[0]", "threshold", 49, "0.25", { detail: "in rank(): pair[0] >= 0.25", scope: "rank" }],
  ];
  test("ranker.py yields each lever with its kind, exact line and current value", () => {
    expectLevers(analysis.levers, rows);
  });

  test("ranker.py yields nothing else: no dunders, paths, non-literal defaults or 0/1 comparisons", () => {
    expect(analysis.levers.map((lever) => lever.name).sort()).toEqual(rows.map(([name]) => name).sort());
  });

  test("levers come in source order", () => {
    const lines = analysis.levers.map((lever) => lever.line);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  test("the entry function is rank, with its signature as written and a ranked-list shape", () => {
    expect(analysis.entry).toEqual({
      name: "rank",
      line: 47,
      signature: "def rank(query: str, docs: list[dict], k: int = TOP_K) -> list[str]",
      params: ["query", "docs", "k"],
      required: ["query", "docs"],
      returns: "list[str]",
      returnsShape: "ranked_list",
    });
  });

  test("public functions exclude underscore helpers", () => {
    expect(analysis.functions.map((found) => found.name)).toEqual(["score", "rank"]);
  });

  test("an explicit entry wins over the heuristic", async () => {
    const explicit = await analyzeFile(fixture("ranker.py"), { entry: "score" });
    expect(explicit.entry).toMatchObject({
      name: "score",
      returnsShape: "number",
      signature: "def score(query: str, doc: dict) -> float",
    });
  });

  test("an explicit entry may name a private function", async () => {
    expect((await analyzeFile(fixture("ranker.py"), { entry: "_tokenize" })).entry?.name).toBe("_tokenize");
  });

  test("an entry that does not exist is an error that lists the available functions", async () => {
    const attempt = analyzeFile(fixture("ranker.py"), { entry: "search" });
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(attempt).rejects.toMatchObject({
      code: "E_ENTRY_NOT_FOUND",
      message: `Cannot find function "search" in "${
        fixture("ranker.py")
      }"; it defines score, rank. Pass one of them with --entry NAME.`,
    });
  });

  test("an explicit entry may name a method as Class.method, without self in its params", () => {
    const found = python(["class Ranker:", "    def rank(self, query: str) -> list:", "        return []"], {
      entry: "Ranker.rank",
    });
    expect(found.entry).toMatchObject({
      name: "Ranker.rank",
      params: ["query"],
      signature: "def rank(self, query: str) -> list",
    });
    expect(found.functions).toEqual([]);
  });

  test("a file with a syntax error falls back to the heuristic with a warning naming the line", async () => {
    const broken = await analyzeFile(fixture("broken.py"));
    expect(broken.method).toBe("heuristic");
    expect(broken.warnings).toEqual([
      `Cannot parse "${fixture("broken.py")}" at line 13: '[' was never closed; levers were found with the heuristic`,
    ]);
    expectLevers(broken.levers, [
      ["TOP_K", "count", 2, "10"],
      ["BOOST", "weight", 3, "2.5"],
      ["title", "constant", 5, "3.0"],
      ["SYSTEM_PROMPT", "prompt", 8, "You are a careful search assistant. Answer with document ids…", { endLine: 9 }],
      ["scored[0]", "threshold", 14, "0.5", { detail: "in rank(): scored[0] > 0.5" }],
    ]);
    expect(broken.entry).toMatchObject({
      name: "rank",
      signature: "def rank(query, docs, k=TOP_K)",
      params: ["query", "docs", "k"],
    });
  });

  test("a missing python3 falls back to the heuristic with a warning", () => {
    const found = python(["TOP_K = 10", "def rank(q):", "    return []"], {
      pythonCommand: "python3-that-does-not-exist",
    });
    expect(found.method).toBe("heuristic");
    expect(found.levers).toMatchObject([{ name: "TOP_K", line: 1, value: "10" }]);
    expect(found.warnings[0]).toStartWith(
      'python3-that-does-not-exist was not found, so "snippet.py" was read without Python\'s parser',
    );
  });

  const snippets: [string, string[], Partial<Lever>[]][] = [
    ["a chained assignment gives both names", ["LOW = HIGH = 0.5"], [{ name: "LOW" }, { name: "HIGH" }]],
    ["dict(...) of numbers is weights", ["W = dict(a=1, b=2.5)"], [{
      kind: "weights",
      value: "{a: 1, b: 2.5}",
      keys: ["a", "b"],
    }]],
    ["an f-string prompt keeps its placeholders", ['PROMPT = f"Summarise {doc} for {user.name}"'], [{
      kind: "prompt",
      value: "Summarise {doc} for {user.name}",
    }]],
    ["a long prose string is a prompt without a prompt-like name", [
      'INTRO = "Read the query and return the five most relevant products"',
    ], [{ kind: "prompt" }]],
    ["a dataclass field default is a lever", ["@dataclass", "class Params:", "    top_k: int = 10"], [{
      name: "Params.top_k",
      line: 3,
    }]],
    ["Enum members are not levers", ["class Color(Enum):", "    RED = 1"], []],
    ["assignments under if/try are not levers", ["try:", "    LIMIT = 5", "except Exception:", "    LIMIT = 3"], []],
    ["a comparison with a negative literal is a threshold", ["def keep(x):", "    return x > -0.25"], [{
      kind: "threshold",
      name: "x",
      value: "-0.25",
      numeric: -0.25,
      line: 2,
    }]],
    ["a literal on the left of a comparison is a threshold too", ["def keep(x):", "    return 0.9 < x.score"], [{
      name: "x.score",
      value: "0.9",
    }]],
    ["a comparison in a lambda belongs to the enclosing function", [
      "def keep(xs):",
      "    return filter(lambda x: x > 0.5, xs)",
    ], [{ detail: "in keep(): x > 0.5" }]],
    ["non-ASCII keys before a value keep its columns right", ['WEIGHTS = {"café": 1.5, "thé": 2.0}'], [{
      value: "{café: 1.5, thé: 2.0}",
      keys: ["café", "thé"],
    }]],
    ["a value on a continuation line keeps the name's line", ["BOOST = (", "    2.5", ")"], [{
      name: "BOOST",
      line: 1,
      endLine: 2,
      value: "2.5",
    }]],
  ];
  for (const [sentence, lines, expected] of snippets) {
    test(sentence, () => {
      expect(python(lines).levers).toMatchObject(expected);
    });
  }

  const shapes: [string, string[], string][] = [
    ["list[str] annotation", ["def f(q) -> list[str]:", "    return g(q)"], "ranked_list"],
    ["Optional[List[str]] annotation", ["def f(q) -> Optional[List[str]]:", "    return g(q)"], "ranked_list"],
    ["sorted(...) return", ["def f(q):", "    return sorted(q)"], "ranked_list"],
    ["slice of a list built earlier", ["def f(q):", "    hits = [d for d in q]", "    return hits[:5]"], "ranked_list"],
    ["a local assigned a list", ["def f(q):", "    out = []", "    return out"], "ranked_list"],
    ["generator", ["def f(q):", "    yield q"], "ranked_list"],
    ["str annotation", ["def f(q) -> str:", "    return g(q)"], "label"],
    ["string literals in an if-expression", ["def f(q):", '    return "spam" if q else "ham"'], "label"],
    ["a comparison", ["def f(q):", "    return q > 0.5"], "label"],
    ["float annotation", ["def f(q) -> float:", "    return g(q)"], "number"],
    ["round(...)", ["def f(q):", "    return round(q, 2)"], "number"],
    ["an unknown call", ["def f(q):", "    return g(q)"], "unknown"],
  ];
  for (const [what, lines, shape] of shapes) {
    test(`a function returning ${what} has shape ${shape}`, () => {
      expect(python(lines).entry?.returnsShape).toBe(shape as never);
    });
  }

  test("signatures keep positional-only, keyword-only, variadic and async parts", () => {
    const found = python(["async def run(a, /, b: int = 2, *args, c=3, **kwargs) -> list:", "    return []"]);
    expect(found.entry).toMatchObject({
      signature: "async def run(a, /, b: int = 2, *args, c=3, **kwargs) -> list",
      params: ["a", "b", "*args", "c", "**kwargs"],
      required: ["a"],
    });
  });
});

describe("choosing the entry function", () => {
  const cases: [string, string[], string | null][] = [
    [
      "a function named rank wins over other names",
      ["def load(p):", "    pass", "def rank(q):", "    return load(q)"],
      "rank",
    ],
    ["an earlier name in the list wins (rank before score)", [
      "def score(d):",
      "    return 1",
      "def rank(q):",
      "    return [score(q)]",
    ], "rank"],
    ["a name containing an entry word wins (rank_documents)", [
      "def load(p):",
      "    pass",
      "def rank_documents(q):",
      "    return []",
    ], "rank_documents"],
    ["camelCase names are split into words (hybridSearch)", [
      "def load(p):",
      "    pass",
      "def hybridSearch(q):",
      "    return load(q)",
    ], "hybridSearch"],
    [
      "main loses to rank even though main calls it",
      ["def rank(q):", "    return []", "def main():", "    rank('x')"],
      "rank",
    ],
    ["without names, the function no one calls that reaches the most wins", [
      "def a(q):",
      "    return b(q)",
      "def b(q):",
      "    return c(q)",
      "def c(q):",
      "    return q",
      "def d(q):",
      "    return q",
    ], "a"],
    ["a single public function is the entry", [
      "def _helper(q):",
      "    pass",
      "def answer(q):",
      "    return _helper(q)",
    ], "answer"],
    ["a file of private functions has no entry", ["def _helper(q):", "    pass"], null],
  ];
  for (const [sentence, lines, expected] of cases) {
    test(sentence, () => {
      expect(python(lines).entry?.name ?? null).toBe(expected);
    });
  }

  test("a guess from the call graph alone comes with a warning", () => {
    const found = python(["def a(q):", "    return b(q)", "def b(q):", "    return q"]);
    expect(found.warnings).toEqual([
      'Guessed "a" as the entry function of "snippet.py" from what it returns and its calls; pass --entry NAME to choose another (b)',
    ]);
  });

  test("an entry chosen by a name word that others carry too says which others fit", () => {
    const found = python(["def packed_scores(q):", "    return 1.0", "def score_documents(q):", "    return 2.0"]);
    expect(found.entry?.name).toBe("score_documents");
    expect(found.warnings).toEqual([
      'Chose "score_documents" as the entry function of "snippet.py" by its name; packed_scores fits as well: pass --entry NAME to choose another',
    ]);
  });

  test("a script's main() as the entry comes with the way out when it only prints its result", () => {
    const found = python(["def main(argv=None):", "    accuracy = 0.5", "    print(accuracy)", "    return 0"]);
    expect(found.entry?.name).toBe("main");
    expect(found.warnings.join("\n")).toContain("(--agent CMD) or bring your own (--eval-cmd CMD)");
  });

  test("a named entry that another public function calls comes with a warning naming the caller", () => {
    const found = python(["def score(d):", "    return 1.0", "def find_products(q):", "    return [score(q)]"]);
    expect(found.entry?.name).toBe("score");
    expect(found.warnings).toEqual([
      'Chose "score" as the entry function of "snippet.py" by its name, but find_products calls it; pass --entry find_products if the eval should call that instead',
    ]);
  });

  test("asking for a function in a file without public functions says so", () => {
    expect(() => python(["X = 1"], { entry: "rank" })).toThrow(
      'Cannot find function "rank" in "snippet.py", which defines no public top-level function.',
    );
  });
});

describe("typescript", async () => {
  const analysis = await analyzeFile(fixture("ranker.ts"));

  test("a parsable TypeScript file is read with babel; the class method the function was chosen over is named", () => {
    expect(analysis).toMatchObject({
      language: "typescript",
      method: "babel",
      warnings: [
        expect.stringMatching(
          /^Chose the function "rank" as the entry of ".*ranker\.ts" over the class method Settings\.rank: pass --entry Settings\.rank if the eval should call that instead$/,
        ),
      ],
    });
  });

  const rows: LeverRow[] = [
    ["TOP_K", "count", 3, "10", { scope: "module" }], // export const
    ["BOOST", "weight", 4, "2.5"], // export let with a type
    ["DECAY", "rate", 5, "-0.5", { numeric: -0.5 }],
    ["MAX_CANDIDATES", "count", 6, "1_000", { numeric: 1000 }],
    ["RATIO", "rate", 7, "1 / 3"],
    ["minScore", "threshold", 8, "0.15"],
    ["USE_STEMMING", "flag", 9, "false"],
    // An object with a nested table is split per key; the all-number table inside is one weights lever.
    ["FIELD_WEIGHTS.title", "weight", 11, "3.0", { scope: "module" }],
    ["FIELD_WEIGHTS.body", "weight", 12, "1"],
    ["FIELD_WEIGHTS.tags", "weights", 13, "{exact: 2, partial: 0.5}", { keys: ["exact", "partial"] }],
    ["CONFIG.topK", "count", 15, "5"],
    ["CONFIG.model", "choice", 15, '"small"'],
    ['CONFIG["min-similarity"]', "threshold", 15, "0.42"],
    ["CONFIG.rerank", "flag", 15, "true"],
    ["STOPWORDS", "list", 16, '["a", "an", "the"]', { detail: "3 items" }], // as const
    ["BANDS", "list", 17, "[0.1, 0.5, 0.9]"],
    ["SYSTEM_PROMPT", "prompt", 18, "You are a careful search assistant."],
    ["RERANK_TEMPLATE", "prompt", 19, 'Rank these documents for the query ${"query"}. Return the id…', { endLine: 22 }],
    ["Settings.cutoff", "threshold", 25, "0.8", { scope: "Settings" }], // static field
    ["Settings.RETRIES", "count", 26, "3", { scope: "Settings" }], // static readonly
    ["hits", "threshold", 40, "3", { detail: "in score(): hits > 3", scope: "score" }],
    ["pair.value", "threshold", 50, "0.25", { detail: "in rank(): pair.value >= 0.25", scope: "rank" }],
    ['score(query, { id: "", body: query })', "threshold", 55, "2.5", {
      detail: 'in label(): score(query, { id: "", body: query }) > 2.5',
    }],
  ];
  test("ranker.ts yields each lever with its kind, exact line and current value", () => {
    expectLevers(analysis.levers, rows);
    expect(analysis.levers.length).toBe(rows.length);
  });

  test("the entry function is rank, with a one-line signature without comments", () => {
    expect(analysis.entry).toEqual({
      name: "rank",
      line: 44,
      signature: "export async function rank(query: string, docs: Doc[], k = TOP_K): Promise<string[]>",
      params: ["query", "docs", "k"],
      required: ["query", "docs"],
      returns: "Promise<string[]>",
      returnsShape: "ranked_list",
    });
  });

  test("an exported arrow function is listed with its signature up to the arrow", () => {
    expect(analysis.functions.find((found) => found.name === "label")).toEqual({
      name: "label",
      line: 55,
      signature: "export const label = (query: string)",
      params: ["query"],
      required: ["query"],
      returnsShape: "label",
    });
  });

  test("only exported functions are public when the file exports anything", () => {
    expect(analysis.functions.map((found) => found.name)).toEqual(["score", "rank", "label"]);
  });

  test("an export list makes the functions it names public", () => {
    const found = typescript(["function rank(q: string) { return [q]; }", "function helper() {}", "export { rank };"]);
    expect(found.functions.map((entry) => entry.name)).toEqual(["rank"]);
  });

  test("a syntax error falls back to the heuristic with a warning naming the line", () => {
    const found = typescript(["export const TOP_K = 10;", "export function rank(q: string {", "  return [];", "}"]);
    expect(found.method).toBe("heuristic");
    expect(found.warnings).toEqual([
      'Cannot parse "snippet.ts" at line 2: Unexpected token, expected ","; levers were found with the heuristic',
    ]);
    expect(found.levers).toMatchObject([{ name: "TOP_K", line: 1, value: "10" }]);
  });

  const snippets: [string, string[], Partial<Lever>[]][] = [
    ["Object.freeze and satisfies are looked through", [
      "const W = Object.freeze({ a: 1, b: 2 } satisfies Record<string, number>);",
    ], [{ kind: "weights", keys: ["a", "b"] }]],
    ["a comparison in a callback belongs to the enclosing function", [
      "export function keep(xs: number[]) {",
      "  return xs.filter((x) => x > 0.5);",
      "}",
    ], [{ detail: "in keep(): x > 0.5", line: 2 }]],
    ["comparisons with 0 and 1 are not thresholds", [
      "function f(xs: number[]) {",
      "  if (xs.length > 0 && xs.length <= 1) return xs;",
      "}",
    ], []],
    [
      "declare const and destructuring are not levers",
      ["declare const X: number;", "const { a, b } = { a: 1, b: 2 };"],
      [],
    ],
    ["an object holding a table is split per key, and the table is one weights lever", [
      'const W = { "a b": { c: 1, d: 2 }, e: { f: 3 } };',
    ], [{ name: 'W["a b"]', kind: "weights", keys: ["c", "d"] }, { name: "W.e.f", kind: "constant" }]], // one entry: a setting
  ];
  for (const [sentence, lines, expected] of snippets) {
    test(sentence, () => {
      expect(typescript(lines).levers).toEqual(expected.map((partial) => expect.objectContaining(partial)));
    });
  }

  const shapes: [string, string, string][] = [
    ["a string[] type", "function rank(q: string): string[] { return g(q); }", "ranked_list"],
    [
      "a Promise<Array<Doc>> type",
      "async function rank(q: string): Promise<Array<Doc>> { return g(q); }",
      "ranked_list",
    ],
    ["a .slice() of a sorted array", "function rank(q: Doc[]) { return q.sort(cmp).slice(0, 5); }", "ranked_list"],
    ["a union of string literals", 'function classify(q: string): "spam" | "ham" { return g(q); }', "label"],
    ["a ternary of strings", 'function classify(q: string) { return q ? "spam" : "ham"; }', "label"],
    ["a number type", "function score(q: string): number { return g(q); }", "number"],
    ["Math.round", "function score(q: number) { return Math.round(q); }", "number"],
    ["an unknown call", "function run(q: string) { return g(q); }", "unknown"],
  ];
  for (const [what, line, shape] of shapes) {
    test(`a function returning ${what} has shape ${shape}`, () => {
      expect(typescript([line]).entry?.returnsShape).toBe(shape as never);
    });
  }
});

describe("javascript", async () => {
  const analysis = await analyzeFile(fixture("classifier.js"));

  test("classifier.js yields weights, a threshold, a list, a flag and a template-literal prompt", () => {
    expect(analysis.method).toBe("babel");
    expectLevers(analysis.levers, [
      ["LABEL_WEIGHTS", "weights", 4, "{bug: 2, billing: 1.5, other: 0.25}", { keys: ["bug", "billing", "other"] }],
      ["CONFIDENCE_THRESHOLD", "threshold", 5, "0.6"],
      ["KEYWORDS", "list", 6, '["refund", "invoice", "crash", "error"]'],
      ["debug", "flag", 7, "false"],
      ["INSTRUCTIONS", "prompt", 8, "Classify the ticket into exactly one of: bug, billing, other…", {
        endLine: 9,
        detail: "89 chars, 2 lines",
      }],
      ["hits", "threshold", 18, "2", { detail: "in classify(): hits <= 2" }],
    ]);
  });

  test("module.exports decides which functions are public, and classify is the entry", () => {
    expect(analysis.functions.map((found) => found.name)).toEqual(["classify", "explain"]);
    expect(analysis.entry).toMatchObject({
      name: "classify",
      signature: "function classify(text)",
      params: ["text"],
      returnsShape: "label",
    });
    expect(analysis.warnings).toEqual([
      `Chose "classify" as the entry function of "${
        fixture("classifier.js")
      }" by its name, but explain calls it; pass --entry explain if the eval should call that instead`,
    ]);
  });
});

describe("other languages", async () => {
  const analysis = await analyzeFile(fixture("tune.sh"));

  test("a shell script is read with the heuristic without warnings", () => {
    expect(analysis).toMatchObject({ language: "other", method: "heuristic", warnings: [] });
  });

  test("tune.sh yields its assignments, a prompt-like banner and a shell comparison", () => {
    expectLevers(analysis.levers, [
      ["THREADS", "count", 5, "8"],
      ["LEVEL", "constant", 6, "19"],
      ["WINDOW_LOG", "size", 7, "27"],
      ["VERBOSE", "flag", 8, "false"],
      ["BANNER", "prompt", 9, "Compressing the corpus with the settings chosen by the curre…"],
      ["MIN_RATIO", "threshold", 10, "2.5"],
      ["size", "threshold", 15, "4096", { detail: "in compress(): size > 4096", scope: "compress" }],
    ]);
    expect(analysis.levers.map((lever) => lever.name).filter((name) => /input|size/.test(name))).toEqual(["size"]);
  });

  test("tune.sh's entry is main, and compress is listed", () => {
    expect(analysis.functions.map((found) => found.name)).toEqual(["compress", "main"]);
    expect(analysis.entry).toMatchObject({ name: "main", line: 20, signature: "main()", params: [] });
  });

  const lines: [string, string, Partial<Lever> | null][] = [
    ["C #define", "#define TOP_K 10", { name: "TOP_K", value: "10", numeric: 10 }],
    ["a C typed constant", "static const double BOOST = 2.5;", { name: "BOOST", value: "2.5" }],
    ["a Java static final field", "    private static final float MIN_SCORE = 0.3f;", {
      name: "MIN_SCORE",
      kind: "threshold",
      numeric: 0.3,
    }],
    ["a Rust const", "pub const DECAY: f64 = -0.5;", { name: "DECAY", numeric: -0.5 }],
    ["a Go short declaration", "k := 3", { name: "k", value: "3" }],
    ["a YAML entry", "learning_rate: 0.001  # per step", { name: "learning_rate", value: "0.001" }],
    ["a TOML entry", "max_depth = 6", { name: "max_depth", kind: "count" }],
    ["an indented local in lower case (ignored)", "    count = 3", null],
    ["a comparison written as code (ignored outside if)", "x = y > 3", null],
  ];
  for (const [what, line, expected] of lines) {
    test(`the heuristic reads ${what}`, () => {
      const found = analyzeSource(`${line}\n`, "other").levers;
      expect(found).toEqual(expected ? [expect.objectContaining({ line: 1, ...expected })] : []);
    });
  }
});

describe("language detection", () => {
  const cases: [string, string | undefined, string][] = [
    ["ranker.py", undefined, "python"],
    ["app/rank.tsx", undefined, "typescript"],
    ["rank.mjs", undefined, "javascript"],
    ["Rank.PY", undefined, "python"],
    ["bin/rank", "#!/usr/bin/env python3\nprint(1)\n", "python"],
    ["bin/rank", "#!/usr/bin/env -S deno run -A\n", "typescript"],
    ["bin/rank", "#!/usr/bin/env node\n", "javascript"],
    ["tune.sh", "#!/bin/bash\n", "other"],
  ];
  for (const [path, source, language] of cases) {
    test(`${path}${source ? ` starting ${JSON.stringify(source.split("\n")[0])}` : ""} is ${language}`, () => {
      expect(detectLanguage(path, source)).toBe(language as never);
    });
  }
});

describe("one table of extensions", () => {
  test("detectLanguage and the entry search (languageOfExtension) read the same table", () => {
    const extensions = ["py", "pyw", "pyi", "ts", "tsx", "mts", "cts", "js", "jsx", "mjs", "cjs", "PY", "sh", "rb"];
    expect(extensions.map((extension) => [extension, languageOfExtension(`x.${extension}`)])).toEqual(
      extensions.map((
        extension,
      ) => [extension, detectLanguage(`x.${extension}`) === "other" ? null : detectLanguage(`x.${extension}`)]),
    );
    expect(languageOfExtension("Makefile")).toBeNull();
  });
});

describe("the Python command", () => {
  test("the files a class's bases come from are read with the caller's pythonCommand, not python3", async () => {
    const repo = temporaryFolder();
    const log = join(repo, "python-runs.log");
    const wrapper = join(repo, "logged-python");
    writeFileSync(wrapper, `#!/bin/sh\necho run >> "${log}"\nexec python3 "$@"\n`);
    chmodSync(wrapper, 0o755);
    writeFileSync(join(repo, "base.py"), "class Base:\n    def search(self, query):\n        return [query]\n");
    writeFileSync(join(repo, "ranker.py"), "from base import Base\n\nclass Ranker(Base):\n    BOOST = 2.0\n");
    const analysis = await analyzeFile(join(repo, "ranker.py"), { repoRoot: repo, pythonCommand: wrapper });
    expect(analysis.entry?.name).toBe("Ranker.search");
    expect(analysis.entry?.owner?.definedIn).toBe("Base");
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["run", "run"]); // ranker.py, then base.py
  });
});

describe("speed and runtimes", () => {
  test("a 2,000-line Python file is analysed whole with python's ast (its speed: bench/levers.ts)", () => {
    const lines = generatedPythonLines(250);
    expect(lines.length).toBe(2000);
    const found = python(lines);
    expect(found.method).toBe("python-ast");
    expect(found.functions.length).toBe(250);
    expect(found.functions.at(-1)).toMatchObject({ name: "helper_250", line: 1997 });
  });

  test("the module loads and analyses files under Deno", async () => {
    const script = [
      `import { analyzeFile } from ${JSON.stringify(join(KIT_ROOT, "scripts/lib/levers/levers.ts"))};`,
      `for (const name of ["ranker.py", "ranker.ts"]) {`,
      `  const found = await analyzeFile(${JSON.stringify(FIXTURES)} + "/" + name);`,
      "  console.log(found.method, found.entry?.name, found.levers.length);",
      "}",
    ].join("\n");
    const run = spawnSync(DENO, ["eval", "--ext=ts", script], {
      cwd: KIT_ROOT,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    // A first run fetches the npm packages into Deno's cache and says so; anything else on stderr is a problem.
    const fetches = /^Download https:\/\/registry\.npmjs\.org\/\S+$/;
    expect(run.stderr.split("\n").filter((line) => line !== "" && !fetches.test(line))).toEqual([]);
    // The same analysis as under Bun, whatever the fixtures' lever counts are.
    const expected = await Promise.all(["ranker.py", "ranker.ts"].map((name) => analyzeFile(fixture(name))));
    expect(run.stdout).toBe(
      expected.map((found) => `${found.method} ${found.entry?.name} ${found.levers.length}\n`).join(""),
    );
  });
});

test("the fixtures are the files these tests describe", () => {
  // Line numbers above are exact; a fixture edit must come with a test edit.
  expect(readFileSync(fixture("ranker.py"), "utf8").split("\n")[46]).toStartWith("def rank(");
  expect(readFileSync(fixture("ranker.ts"), "utf8").split("\n")[43]).toStartWith("export async function rank(");
});
