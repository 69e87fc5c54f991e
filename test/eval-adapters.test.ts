// Output adapters and entry shapes of the generated evals: chooseAdapter and shapeWarnings as
// tables, then real runs of the Python and TypeScript evals against the libraries in
// test/fixtures/adapters/ (a method of an instance built from the test data's "setup", a static
// method, an entry in another file reading the constrained config, a record read through
// --output-field, an async generator, a destructured options parameter), checking the SCORE each
// prints; and init itself on a Class.method entry and on an options-object entry.
import { describe, expect, test } from "bun:test";
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { BUN, DENO, makeRepo, PATH_WITH_KIT_RUNTIMES, read, runScript, temporaryFolder } from "./helpers.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import {
  chooseAdapter,
  defaultMetricFor,
  type OutputRead,
  type ReturnShape,
  shapeWarnings,
} from "../scripts/lib/harness/metric-catalog.ts";
import {
  type EvalLocation,
  planEvalLocation,
  pythonImportForEntry,
  renderEval,
} from "../scripts/lib/harness/eval-script.ts";
import type { Project } from "../scripts/lib/harness/project.ts";
import type { EntryFunction } from "../scripts/lib/levers/lever.ts";
import {
  buildJsonTestData,
  inspectTestData,
  objectPatternKeys,
  TEST_DATA_FORMAT,
} from "../scripts/lib/harness/test-data.ts";
import { parseEvalOutput } from "../scripts/lib/process/eval-output.ts";

const FIXTURES = join(import.meta.dir, "fixtures/adapters");

const PYTHON_PROJECT_BASE: Project = {
  kind: "python",
  language: "python",
  evalFlavor: "python",
  python: { environment: "plain", command: "python3" },
  pythonImport: { path: ".", module: "term_index" },
  django: null,
  script: null,
  caseCommand: null,
  notes: [],
};

// ---- chooseAdapter and shapeWarnings ---------------------------------------------------------------

describe("chooseAdapter", () => {
  const table: [ReturnShape, string, string | null, OutputRead, string | null][] = [
    ["ranked_list", "precision@10", null, "ids", null],
    ["ranked_list", "accuracy", null, "value", null],
    ["scores", "mrr", null, "scores", null],
    ["scores", "0.8*precision@5+0.2*mrr", null, "scores", null],
    ["scores", "accuracy", null, "value", null],
    ["label", "accuracy", null, "value", null],
    ["label", "mrr", null, "ids", null],
    ["number", "abs_error", null, "value", null],
    ["object", "mrr", "hits", "auto", "hits"],
    ["object", "accuracy", "result.label", "value", "result.label"],
    ["object", "accuracy", null, "value", null],
    ["unknown", "hit_rate@3", null, "auto", null],
    ["ranked_list", "latency", null, "value", null],
    ["ranked_list", "mrr", "  ", "ids", null],
  ];
  for (const [shape, metric, field, read, expectedField] of table) {
    test(`${shape} with ${metric}${field ? ` and --output-field "${field}"` : ""} reads ${read}`, () => {
      const choice = chooseAdapter(shape, metric, field);
      expect(choice.adapter).toEqual({ field: expectedField, read });
      expect(choice.description).toMatch(/^The eval [^\n]+\.$/);
      if (expectedField) expect(choice.description).toContain(`field "${expectedField}"`);
    });
  }

  test("the descriptions say what each adapter does", () => {
    expect(chooseAdapter("scores", "mrr", null).description).toContain('position "0", "1"');
    expect(chooseAdapter("scores", "mrr", null).description).toContain('setup "ids"');
    expect(chooseAdapter("ranked_list", "mrr", null).description).toContain('"refIndex"');
    expect(chooseAdapter("label", "accuracy", null).description).toContain("as it is");
  });
});

describe("shapeWarnings", () => {
  const table: [string, ReturnShape, string, string | null, string | null][] = [
    ["a ranking metric over a label", "label", "mrr", null, "scores a ranked list"],
    ["a ranking metric over a number", "number", "precision@5", null, "or abs_error"],
    ["accuracy over a score array", "scores", "accuracy", null, "compares the whole score array"],
    ["a composite with accuracy over scores", "scores", "0.5*mrr+0.5*exact_match", null, "exact_match compares"],
    ["a record without --output-field", "object", "accuracy", null, "pass --output-field FIELD"],
    ["abs_error over a ranked list", "ranked_list", "abs_error", null, "abs_error compares numbers"],
    ["a ranking metric over ranked ids", "ranked_list", "mrr", null, null],
    ["a ranking metric over scores", "scores", "precision@10", null, null],
    ["accuracy over a label", "label", "accuracy", null, null],
    ["a record with --output-field", "object", "mrr", "hits", null],
    ["a label read through a field", "label", "mrr", "hits", null],
  ];
  for (const [description, shape, metric, field, expected] of table) {
    test(`${expected ? "warns about" : "is quiet for"} ${description}`, () => {
      const warnings = shapeWarnings(shape, metric, field, "Index.search");
      if (expected === null) expect(warnings).toEqual([]);
      else {
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(expected);
        expect(warnings[0]).toContain('"Index.search"');
      }
    });
  }

  test("the default metric ranks scores like a ranked list, and compares a record", () => {
    expect(defaultMetricFor("scores", "python")).toBe(defaultMetricFor("ranked_list", "python"));
    expect(defaultMetricFor("scores", "typescript")).toBe("precision@10");
    expect(defaultMetricFor("object", "python")).toBe("accuracy");
    expect(shapeWarnings("object", defaultMetricFor("object", "python"), null, null)[0]).toContain("--output-field");
  });
});

describe("pythonImportForEntry", () => {
  const project = (path: string, module: string): Project => ({
    kind: "python",
    language: "python",
    evalFlavor: "python",
    python: null,
    pythonImport: { path, module },
    django: null,
    script: null,
    caseCommand: null,
    notes: [],
  });
  const table: [string, Project, string | null, string[], { paths: string[]; module: string }][] = [
    ["the constrained file itself", project("src", "search.config"), null, [], {
      paths: ["src"],
      module: "search.config",
    }],
    ["a file in the same package", project(".", "lookup.settings"), "lookup/engine.py", ["lookup/__init__.py"], {
      paths: ["."],
      module: "lookup.engine",
    }],
    ["a package under src/", project(".", "config"), "src/search/engine.py", ["src/search/__init__.py"], {
      paths: ["src", "."],
      module: "search.engine",
    }],
    ["a script folder without packages", project(".", "config"), "tools/run.py", [], {
      paths: ["tools", "."],
      module: "run",
    }],
    ["a package's __init__.py", project(".", "config"), "engine/__init__.py", ["engine/__init__.py"], {
      paths: ["."],
      module: "engine",
    }],
  ];
  for (const [description, given, file, packages, expected] of table) {
    test(`imports ${description}`, () => {
      expect(pythonImportForEntry(given, file, (path) => packages.includes(path))).toEqual(expected);
    });
  }
});

describe("a Django eval for an entry in another file", () => {
  test("imports the entry's module as manage.py's folder sees it", () => {
    const project: Project = {
      ...PYTHON_PROJECT_BASE,
      kind: "django",
      evalFlavor: "django",
      pythonImport: null,
      django: { manageDir: "site", appDir: "site/search", module: "search.tuning" },
    };
    const text = renderEval({
      location: planEvalLocation(project, 1),
      project,
      constrainedFile: "site/search/tuning.py",
      testData: "autoresearch_test_data.json",
      entry: {
        name: "Finder.run",
        line: 3,
        signature: "def run(self, query)",
        params: ["query"],
        returnsShape: "ranked_list",
        file: "site/search/finder.py",
        owner: { ...TERM_INDEX_OWNER, className: "Finder", constructorParams: [], constructorRequired: [] },
      },
      metric: "mrr",
      direction: "max",
      guardMetric: null,
    });
    expect(text).toContain('MODULE = "search.finder"');
    expect(text).toContain("Calls Finder.run in site/search/finder.py, which it imports; the constrained file");
  });
});

// ---- the test data scaffold ------------------------------------------------------------------------

const TERM_INDEX_OWNER = {
  className: "TermIndex",
  binding: "instance" as const,
  constructorParams: ["corpus", "k1", "damping"],
  constructorRequired: ["corpus"],
  constructorSignature: "def __init__(self, corpus, k1=K1, damping=LENGTH_DAMPING)",
};

describe("the scaffold for an instance entry", () => {
  test('asks for "setup" with a placeholder per required constructor parameter, which baseline refuses', () => {
    const text = buildJsonTestData({
      signature: "def get_scores(self, query)",
      parameters: ["query"],
      shape: "scores",
      owner: TERM_INDEX_OWNER,
      adapter: chooseAdapter("scores", "mrr", null).adapter,
      language: "python",
    });
    const document = JSON.parse(text);
    expect(document.setup).toEqual({ corpus: "TODO: corpus for TermIndex(...)" });
    expect(document.about).toContain('"setup" is passed to TermIndex(**setup)');
    expect(document.about).toContain('a case\'s own "setup" overrides its keys');
    expect(document.expected_means).toContain('position in the entry\'s score list ("0" for the first item');
    expect(document.expected_means).toContain('"ids" list');
    expect(document.cases[0].expected[0]).toContain("position");
    const report = inspectTestData(text, "autoresearch_test_data.json");
    expect(report.problems).toEqual([]);
    expect(report.placeholders[0]).toEqual({ caseId: "(setup)", field: "setup.corpus" });

    // Filled cases with a placeholder left only in setup are still refused.
    document.cases = [{ id: "a", input: { query: "x" }, expected: ["0"] }];
    expect(inspectTestData(JSON.stringify(document), "t.json").placeholders).toEqual([
      { caseId: "(setup)", field: "setup.corpus" },
    ]);
    document.setup = { corpus: ["x"] };
    document.cases[0].setup = { corpus: "TODO: a corpus of its own" };
    expect(inspectTestData(JSON.stringify(document), "t.json").placeholders).toEqual([
      { caseId: "a", field: "setup.corpus" },
    ]);
    document.setup = ["not", "an", "object"];
    expect(inspectTestData(JSON.stringify(document), "t.json").problems[0]).toContain('"setup" must be an object');
  });

  const patterns: [string, { keys: string[]; required: string[] } | null][] = [
    ["corpus", null],
    ["{ corpus, k1 = 1.2 }", { keys: ["corpus", "k1"], required: ["corpus"] }],
    ["{ fields: f = {}, limit, ...rest }", { keys: ["fields", "limit"], required: ["limit"] }],
    ['{ "min-score": minScore = 0.5, weights = { title: 2, body: 1 } }', {
      keys: ["min-score", "weights"],
      required: [],
    }],
    ["{ compare = (a, b) => a - b, items }", { keys: ["compare", "items"], required: ["items"] }],
    ["{ cache = new Map<string, number>(), limit }", { keys: ["cache", "limit"], required: ["limit"] }],
  ];
  for (const [param, expected] of patterns) {
    test(`setup fills the constructor parameter ${param} from ${expected ? "the keys it names" : "its own key"}`, () => {
      expect(objectPatternKeys(param)).toEqual(expected);
    });
  }

  test("TypeScript passes setup to the constructor by position; no setup without required parameters", () => {
    const owner = {
      ...TERM_INDEX_OWNER,
      constructorParams: ["documents", "options"],
      constructorRequired: ["documents"],
    };
    const document = JSON.parse(
      buildJsonTestData({ signature: null, parameters: ["query"], shape: "scores", owner, language: "typescript" }),
    );
    expect(document.about).toContain("new TermIndex(documents, options), by position");
    const optional = { ...owner, constructorRequired: [] };
    expect(JSON.parse(buildJsonTestData({ signature: null, parameters: ["q"], shape: "scores", owner: optional })))
      .not.toHaveProperty("setup");
  });
});

// ---- real runs ---------------------------------------------------------------------------------------

const PYTHON_PROJECT = PYTHON_PROJECT_BASE;

const TYPESCRIPT_PROJECT: Project = {
  kind: "bun",
  language: "typescript",
  evalFlavor: "typescript",
  python: null,
  pythonImport: null,
  django: null,
  script: { runtime: "bun", command: BUN, extension: ".ts" },
  caseCommand: null,
  notes: [],
};

type Harness = {
  fixture: "python" | "typescript";
  project: Project;
  constrained: string;
  entry: EntryFunction;
  metric: string;
  outputField?: string;
  testData: Record<string, unknown>;
  /** Files written beside the fixture library (path -> text), e.g. an entry module of the test's own. */
  files?: Record<string, string>;
};

/** The fixture library in a fresh folder, with the rendered eval and its test data; returns the folder and eval. */
function setUpEval(harness: Harness): { root: string; location: EvalLocation } {
  const root = temporaryFolder("ark-adapters-");
  cpSync(join(FIXTURES, harness.fixture), root, { recursive: true });
  for (const [path, text] of Object.entries(harness.files ?? {})) writeFileSync(join(root, path), text);
  const location = planEvalLocation(harness.project, 1);
  const eval_ = renderEval({
    location,
    project: harness.project,
    constrainedFile: harness.constrained,
    testData: "autoresearch_test_data.json",
    entry: harness.entry,
    metric: harness.metric,
    direction: "max",
    guardMetric: null,
    outputField: harness.outputField ?? null,
    fileExists: (path) => {
      try {
        readFileSync(join(root, path));
        return true;
      } catch {
        return false;
      }
    },
  });
  writeFileSync(join(root, location.path), eval_);
  writeTestData(root, harness.testData);
  return { root, location };
}

function writeTestData(root: string, document: Record<string, unknown>): void {
  writeFileSync(
    join(root, "autoresearch_test_data.json"),
    JSON.stringify({ format: TEST_DATA_FORMAT, ...document }, null, 2),
  );
}

function runEval(root: string, location: EvalLocation, args: string[] = [], env: Record<string, string> = {}) {
  const run = spawnSync("bash", ["-c", [location.command, ...args].join(" ")], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PATH: PATH_WITH_KIT_RUNTIMES, ...env },
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function scoreOf(run: { code: number | null; stdout: string; stderr: string }): number | null {
  if (run.code !== 0) throw new Error(`the eval exited ${run.code}: ${run.stderr}`);
  return parseEvalOutput(run.stdout).score;
}

const CORPUS = ["reset your password", "password rules for new accounts", "billing and invoices"];
/** By hand: "password" ranks 0,1,2; "billing" 2,0,1; "rules password" 1,0,2 -> reciprocal ranks 1, 1, 1/2. */
const SCORE_CASES = [
  { id: "password", input: { query: "password" }, expected: ["0"] },
  { id: "billing", input: { query: "billing" }, expected: ["2"] },
  { id: "two-words", input: { query: "rules password" }, expected: ["0"] },
];

const PYTHON_SCORES_ENTRY: EntryFunction = {
  name: "TermIndex.get_scores",
  line: 20,
  signature: "def get_scores(self, query)",
  params: ["query"],
  required: ["query"],
  returnsShape: "scores",
  owner: TERM_INDEX_OWNER,
};

describe("the Python eval", () => {
  test("builds the instance from setup, ranks item positions by score and prints mrr", () => {
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: PYTHON_SCORES_ENTRY,
      metric: "mrr",
      testData: { setup: { corpus: CORPUS }, cases: SCORE_CASES },
    });
    const eval_ = read(root, location.path);
    expect(eval_).toContain('TermIndex is built once per distinct "setup"');
    expect(eval_).toContain("Output (scores): The eval ranks item positions");
    const run = runEval(root, location);
    expect(scoreOf(run)).toBeCloseTo(2.5 / 3, 6);
    expect(run.stdout).toContain("CASE two-words 0.500000");
  });

  test("names items by setup ids, lets a case override setup, and builds one instance per distinct setup", () => {
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: PYTHON_SCORES_ENTRY,
      metric: "mrr",
      testData: {
        setup: { corpus: CORPUS, ids: ["reset", "rules", "billing"] },
        cases: [
          { id: "password", input: { query: "password" }, expected: ["reset"] },
          { id: "billing", input: { query: "billing" }, expected: ["billing"] },
          { id: "two-words", input: { query: "rules password" }, expected: ["reset"] },
          {
            id: "own-corpus",
            setup: { corpus: ["apples", "reset password now"], ids: ["fruit", "reset-now"] },
            input: { query: "password" },
            expected: ["reset-now"],
          },
        ],
      },
    });
    const log = join(root, "builds.log");
    const run = runEval(root, location, [], { TERM_INDEX_BUILD_LOG: log });
    expect(scoreOf(run)).toBeCloseTo(3.5 / 4, 6);
    expect(readFileSync(log, "utf8").trim().split("\n")).toEqual(["3", "2"]);
  });

  test("refuses a setup placeholder or a missing required constructor argument, naming it", () => {
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: PYTHON_SCORES_ENTRY,
      metric: "mrr",
      testData: { setup: { corpus: "TODO: the documents" }, cases: SCORE_CASES },
    });
    const placeholder = runEval(root, location);
    expect(placeholder.code).toBe(2);
    expect(placeholder.stderr).toContain('placeholders (first: "setup")');
    writeTestData(root, { cases: SCORE_CASES });
    const missing = runEval(root, location);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('TermIndex(...) needs "corpus"');
  });

  test("--bootstrap fills expected with the top item positions by score, leaving out those at the lowest score", () => {
    const cases = SCORE_CASES.map(({ id, input }) => ({ id, input, expected: "TODO: fill" }));
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: PYTHON_SCORES_ENTRY,
      metric: "precision@3",
      testData: { setup: { corpus: CORPUS }, cases },
    });
    const run = runEval(root, location, ["--bootstrap"]);
    expect(run.code).toBe(0);
    const filled = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(filled.cases.map((item: { expected: string[] }) => item.expected)).toEqual([
      ["0", "1"],
      ["2"],
      ["1", "0"],
    ]);
    expect(filled.cases[0].source).toBe("bootstrap");
  });

  test("calls a static method on the class, with no instance", () => {
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: {
        name: "Labels.of",
        line: 30,
        signature: "def of(text)",
        params: ["text"],
        returnsShape: "label",
        owner: { ...TERM_INDEX_OWNER, className: "Labels", binding: "static", constructorRequired: [] },
      },
      metric: "accuracy",
      testData: {
        cases: [
          { id: "q", input: { text: "where is my parcel?" }, expected: "question" },
          { id: "s", input: { text: "my parcel arrived" }, expected: "statement" },
          { id: "wrong", input: { text: "is it late?" }, expected: "statement" },
        ],
      },
    });
    expect(read(root, location.path)).toContain("is called on the class Labels, without an instance");
    expect(scoreOf(runEval(root, location))).toBeCloseTo(2 / 3, 6);
  });

  test("reads a record's field with --output-field result.label", () => {
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: { name: "classify", line: 36, signature: "def classify(text)", params: ["text"], returnsShape: "object" },
      metric: "accuracy",
      outputField: "result.label",
      testData: {
        cases: [
          { id: "q", input: { text: "why?" }, expected: "question" },
          { id: "s", input: { text: "fine" }, expected: "statement" },
        ],
      },
    });
    expect(scoreOf(runEval(root, location))).toBe(1);
  });

  test("imports an entry in another file, which reads the constrained config, and ranks the record's hits", () => {
    const project = { ...PYTHON_PROJECT, pythonImport: { path: ".", module: "lookup.settings" } };
    const { root, location } = setUpEval({
      fixture: "python",
      project,
      constrained: "lookup/settings.py",
      entry: {
        name: "search",
        line: 11,
        signature: "def search(query)",
        params: ["query"],
        returnsShape: "object",
        file: "lookup/engine.py",
      },
      metric: "mrr",
      outputField: "hits",
      // By hand: "payment" -> billing, refund (1/2); "forgot password" -> reset (1); "refund payment" -> refund (1).
      testData: {
        cases: [
          { id: "payment", input: { query: "payment" }, expected: ["refund"] },
          { id: "forgot", input: { query: "forgot password" }, expected: ["reset"] },
          { id: "refund", input: { query: "refund payment" }, expected: ["refund"] },
        ],
      },
    });
    const eval_ = read(root, location.path);
    expect(eval_).toContain('MODULE = "lookup.engine"');
    expect(eval_).toContain(
      "Calls search in lookup/engine.py, which it imports; the constrained file lookup/settings.py",
    );
    expect(scoreOf(runEval(root, location))).toBeCloseTo(2.5 / 3, 6);
    // The constrained file reaches the score: without the title boost "refund payment" ties and billing comes first.
    const settings = join(root, "lookup/settings.py");
    writeFileSync(settings, readFileSync(settings, "utf8").replace("TITLE_BOOST = 2.0", "TITLE_BOOST = 0.0"));
    expect(scoreOf(runEval(root, location))).toBeCloseTo(2 / 3, 6);
  });

  test("a missing output field is a crash of the code under test, named in the message", () => {
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: { name: "classify", line: 36, signature: "def classify(text)", params: ["text"], returnsShape: "object" },
      metric: "accuracy",
      outputField: "result.verdict",
      testData: { cases: [{ id: "q", input: { text: "why?" }, expected: "question" }] },
    });
    const run = runEval(root, location);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('the output has no field "verdict"');
  });

  test("collects an async generator entry's items: --bootstrap proposes them and the eval ranks them", () => {
    const { root, location } = setUpEval({
      fixture: "python",
      project: PYTHON_PROJECT,
      constrained: "term_index.py",
      entry: {
        name: "search",
        line: 8,
        signature: "async def search(query)",
        params: ["query"],
        returnsShape: "ranked_list",
        file: "streaming.py",
      },
      metric: "mrr",
      files: { "streaming.py": PYTHON_ASYNC_GENERATOR },
      testData: { cases: STREAM_CASES.map(({ id, input }) => ({ id, input, expected: null })) },
    });
    expect(runEval(root, location, ["--bootstrap"]).code).toBe(0);
    const filled = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(filled.cases.map((item: { expected: string[] }) => item.expected)).toEqual([["reset", "rules"], [
      "billing",
    ]]);
    writeTestData(root, { cases: STREAM_CASES });
    expect(scoreOf(runEval(root, location))).toBeCloseTo(0.75, 6);
  });
});

/** Yields matching ids one by one, awaiting between them, as an async client pages results. */
const PYTHON_ASYNC_GENERATOR = `import asyncio

DOCUMENTS = {"reset": "reset your password", "rules": "password rules", "billing": "billing and invoices"}


async def search(query):
    words = query.lower().split()
    for doc_id, text in DOCUMENTS.items():
        await asyncio.sleep(0)
        if any(word in text.split() for word in words):
            yield doc_id
`;
const TYPESCRIPT_ASYNC_GENERATOR = `const DOCUMENTS: [string, string][] = [
  ["reset", "reset your password"],
  ["rules", "password rules"],
  ["billing", "billing and invoices"],
];

export async function* search(query: string): AsyncGenerator<string> {
  const words = query.toLowerCase().split(/\\s+/);
  for (const [id, text] of DOCUMENTS) {
    await Promise.resolve();
    if (words.some((word) => text.split(" ").includes(word))) yield id;
  }
}
`;
/** "password" yields reset, rules (rules is relevant: 1/2); "billing" yields billing (1). */
const STREAM_CASES = [
  { id: "password", input: { query: "password" }, expected: ["rules"] },
  { id: "billing", input: { query: "billing" }, expected: ["billing"] },
];

/** Takes its query and limit in one destructured options object, and the documents after it. */
const TYPESCRIPT_OPTIONS_SEARCH = `export const LIMIT = 2;

export function search({ query, limit = LIMIT }: { query: string; limit?: number }, docs: string[]): string[] {
  const words = query.toLowerCase().split(/\\s+/);
  return docs
    .map((doc, index) => ({ id: String(index), hits: words.filter((word) => doc.split(" ").includes(word)).length }))
    .filter((scored) => scored.hits > 0)
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map((scored) => scored.id);
}
`;

const TS_SCORES_ENTRY: EntryFunction = {
  name: "TermIndex.scores",
  line: 14,
  signature: "scores(query: string): number[]",
  params: ["query"],
  required: ["query"],
  returnsShape: "scores",
  owner: {
    className: "TermIndex",
    binding: "instance",
    constructorParams: ["documents", "options"],
    constructorRequired: ["documents"],
    constructorSignature: "constructor(documents: string[], options: { k1?: number } = {})",
  },
};

describe("the TypeScript eval under Bun", () => {
  test("builds the instance from setup by constructor order and ranks positions by score", () => {
    const { root, location } = setUpEval({
      fixture: "typescript",
      project: TYPESCRIPT_PROJECT,
      constrained: "term-index.ts",
      entry: TS_SCORES_ENTRY,
      metric: "mrr",
      testData: { setup: { documents: CORPUS }, cases: SCORE_CASES },
    });
    expect(read(root, location.path)).toContain("as new TermIndex(setup.documents, setup.options)");
    expect(scoreOf(runEval(root, location))).toBeCloseTo(2.5 / 3, 6);
    // A case's own setup overrides the shared one: option k1 scales every score and keeps the order.
    writeTestData(root, {
      setup: { documents: CORPUS },
      cases: [...SCORE_CASES, {
        id: "own",
        setup: { documents: ["apples", "reset password now"], options: { k1: 3 } },
        input: { query: "password" },
        expected: ["1"],
      }],
    });
    expect(scoreOf(runEval(root, location))).toBeCloseTo(3.5 / 4, 6);
  });

  test("the same eval runs under Deno", () => {
    const { root, location } = setUpEval({
      fixture: "typescript",
      project: {
        ...TYPESCRIPT_PROJECT,
        kind: "deno",
        script: { runtime: "deno", command: `${DENO} run -A -q`, extension: ".ts" },
      },
      constrained: "term-index.ts",
      entry: TS_SCORES_ENTRY,
      metric: "mrr",
      testData: { setup: { documents: CORPUS }, cases: SCORE_CASES },
    });
    expect(location.command).toContain("deno");
    expect(scoreOf(runEval(root, location))).toBeCloseTo(2.5 / 3, 6);
  });

  test("--bootstrap fills top positions, and a setup placeholder is refused", () => {
    const cases = SCORE_CASES.map(({ id, input }) => ({ id, input, expected: null }));
    const { root, location } = setUpEval({
      fixture: "typescript",
      project: TYPESCRIPT_PROJECT,
      constrained: "term-index.ts",
      entry: TS_SCORES_ENTRY,
      metric: "precision@2",
      testData: { setup: { documents: "TODO: documents" }, cases },
    });
    const refused = runEval(root, location, ["--bootstrap"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Fill "setup"');
    writeTestData(root, { setup: { documents: CORPUS }, cases });
    expect(runEval(root, location, ["--bootstrap"]).code).toBe(0);
    const filled = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(filled.cases.map((item: { expected: string[] }) => item.expected)).toEqual([
      ["0", "1"],
      ["2"],
      ["1", "0"],
    ]);
  });

  test("calls a static method on the class", () => {
    const { root, location } = setUpEval({
      fixture: "typescript",
      project: TYPESCRIPT_PROJECT,
      constrained: "term-index.ts",
      entry: {
        name: "Labels.of",
        line: 25,
        signature: "static of(text: string): string",
        params: ["text"],
        returnsShape: "label",
        owner: { ...TS_SCORES_ENTRY.owner!, className: "Labels", binding: "static", constructorRequired: [] },
      },
      metric: "accuracy",
      testData: {
        cases: [
          { id: "q", input: { text: "late?" }, expected: "question" },
          { id: "wrong", input: { text: "late" }, expected: "question" },
        ],
      },
    });
    expect(scoreOf(runEval(root, location))).toBeCloseTo(0.5, 6);
  });

  test("imports an entry in another file and ranks its record's hits by nested item id", () => {
    const { root, location } = setUpEval({
      fixture: "typescript",
      project: TYPESCRIPT_PROJECT,
      constrained: "config.ts",
      entry: {
        name: "find",
        line: 10,
        signature: "find(query: string)",
        params: ["query"],
        returnsShape: "object",
        file: "finder.ts",
      },
      metric: "mrr",
      outputField: "hits",
      testData: {
        cases: [
          { id: "payment", input: { query: "payment" }, expected: ["refund"] },
          { id: "forgot", input: { query: "forgot password" }, expected: ["reset"] },
          { id: "refund", input: { query: "refund payment" }, expected: ["refund"] },
        ],
      },
    });
    expect(read(root, location.path)).toContain('const MODULE_PATH = join(ROOT, "finder.ts")');
    expect(scoreOf(runEval(root, location))).toBeCloseTo(2.5 / 3, 6);
    const config = join(root, "config.ts");
    writeFileSync(config, readFileSync(config, "utf8").replace("TITLE_BOOST = 2", "TITLE_BOOST = 0"));
    expect(scoreOf(runEval(root, location))).toBeCloseTo(2 / 3, 6);
  });

  test("collects an async generator entry's items: --bootstrap proposes them and the eval ranks them", () => {
    const { root, location } = setUpEval({
      fixture: "typescript",
      project: TYPESCRIPT_PROJECT,
      constrained: "term-index.ts",
      entry: {
        name: "search",
        line: 7,
        signature: "export async function* search(query: string): AsyncGenerator<string>",
        params: ["query"],
        returnsShape: "ranked_list",
        file: "streaming.ts",
      },
      metric: "mrr",
      files: { "streaming.ts": TYPESCRIPT_ASYNC_GENERATOR },
      testData: { cases: STREAM_CASES.map(({ id, input }) => ({ id, input, expected: null })) },
    });
    const bootstrap = runEval(root, location, ["--bootstrap"]);
    expect(bootstrap.code).toBe(0);
    const filled = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(filled.cases.map((item: { expected: string[] }) => item.expected)).toEqual([["reset", "rules"], [
      "billing",
    ]]);
    writeTestData(root, { cases: STREAM_CASES });
    expect(scoreOf(runEval(root, location))).toBeCloseTo(0.75, 6);
  });

  test("passes a destructured options parameter an object of the case input's keys it names", () => {
    const docs = ["reset your password", "password rules", "billing and invoices"];
    const { root, location } = setUpEval({
      fixture: "typescript",
      project: TYPESCRIPT_PROJECT,
      constrained: "options-search.ts",
      entry: {
        name: "search",
        line: 3,
        signature:
          "export function search({ query, limit = LIMIT }: { query: string; limit?: number }, docs: string[])",
        params: ["{ query, limit = LIMIT }", "docs"],
        required: ["{ query, limit = LIMIT }", "docs"],
        returnsShape: "ranked_list",
      },
      metric: "recall",
      files: { "options-search.ts": TYPESCRIPT_OPTIONS_SEARCH },
      testData: {
        cases: [
          // limit defaults to LIMIT (2) here, and is 1 from the input in the second case: recall 1 and 1/2.
          { id: "default-limit", input: { query: "password", docs }, expected: ["0", "1"] },
          { id: "own-limit", input: { query: "password", limit: 1, docs }, expected: ["0", "1"] },
        ],
      },
    });
    expect(scoreOf(runEval(root, location))).toBeCloseTo(0.75, 6);
    expect(read(root, location.path)).toContain('const PARAMETERS = [{"keys":["query","limit"]},"docs"];');
  });
});

// ---- through init ----------------------------------------------------------------------------------

/** A fixture folder's files, for makeRepo. */
function fixtureFiles(fixture: "python" | "typescript", extra: Record<string, string> = {}): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (dir: string, prefix: string) => {
    for (const entry of readdirSync(join(FIXTURES, dir), { withFileTypes: true })) {
      const path = `${prefix}${entry.name}`;
      if (entry.isDirectory()) walk(join(dir, entry.name), `${path}/`);
      else files[path] = readFileSync(join(FIXTURES, dir, entry.name), "utf8");
    }
  };
  walk(fixture, "");
  return { ...files, ...extra };
}

/** The scaffold with its placeholders replaced: setup and cases as given, the rest as init wrote it. */
function fillScaffold(root: string, fill: { setup?: Record<string, unknown>; cases: unknown[] }): void {
  const document = JSON.parse(read(root, "autoresearch_test_data.json"));
  writeFileSync(
    join(root, "autoresearch_test_data.json"),
    JSON.stringify({ ...document, ...fill }, null, 2),
  );
}

describe("init on a Class.method entry", () => {
  test("Python: says the shape and adapter, scaffolds setup, and the eval scores once it is filled", () => {
    const root = makeRepo(fixtureFiles("python"));
    const result = runScript("init", ["term_index.py", "--entry", "TermIndex.get_scores", "--metric", "mrr", "--yes"], {
      cwd: root,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"TermIndex.get_scores" returns one score per item');
    expect(result.stderr).toContain("The eval ranks item positions by the returned value");
    expect(result.stderr).toContain('"TermIndex" is built from "setup" in "autoresearch_test_data.json" (corpus)');
    const scaffold = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(scaffold.setup).toEqual({ corpus: "TODO: corpus for TermIndex(...)" });
    expect(scaffold.expected_means).toContain("position");
    const refused = spawnSync("bash", ["-c", "python3 autoresearch_eval.py"], { cwd: root, encoding: "utf8" });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain('"setup"');
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).not.toBe(0);
    expect(baseline.stderr).toContain('case "(setup)", field "setup.corpus"');
    fillScaffold(root, { setup: { corpus: CORPUS }, cases: SCORE_CASES });
    const run = spawnSync("bash", ["-c", "python3 autoresearch_eval.py"], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(parseEvalOutput(run.stdout).score).toBeCloseTo(2.5 / 3, 6);
  });

  test("Python: a record without --output-field is warned about; a scores entry defaults to a ranking metric", () => {
    const root = makeRepo(fixtureFiles("python"));
    const record = runScript("init", ["term_index.py", "--entry", "classify", "--yes", "--json"], { cwd: root });
    expect(record.code).toBe(0);
    const json = JSON.parse(record.stdout);
    expect(json.metric.name).toBe("accuracy");
    expect(json.warnings.join("\n")).toContain("pass --output-field FIELD");
    const scores = runScript("init", ["term_index.py", "--entry", "TermIndex.get_scores", "--yes", "--force"], {
      cwd: root,
    });
    expect(scores.code).toBe(0);
    expect(parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml").metric.name).toBe("precision@10");
  });

  test("TypeScript under Bun: setup fills the constructor by position and the eval ranks the scores", () => {
    const root = makeRepo(fixtureFiles("typescript", { "package.json": "{}\n", "bun.lock": "" }));
    const result = runScript("init", ["term-index.ts", "--entry", "TermIndex.scores", "--metric", "mrr", "--yes"], {
      cwd: root,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"TermIndex.scores" returns one score per item');
    const scaffold = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(Object.keys(scaffold.setup)).toEqual(["documents"]);
    expect(scaffold.about).toContain("new TermIndex(documents, options)");
    fillScaffold(root, { setup: { documents: CORPUS }, cases: SCORE_CASES });
    const run = spawnSync(BUN, ["autoresearch_eval.ts"], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(parseEvalOutput(run.stdout).score).toBeCloseTo(2.5 / 3, 6);
  });

  test("TypeScript: a constructor taking one options object gets the setup keys it names", () => {
    const root = makeRepo(fixtureFiles("typescript", { "package.json": "{}\n", "bun.lock": "" }));
    const result = runScript("init", ["term-index.ts", "--entry", "OptionsIndex.scores", "--metric", "mrr", "--yes"], {
      cwd: root,
    });
    expect(result.code).toBe(0);
    const scaffold = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(scaffold.setup).toEqual({ documents: "TODO: documents for OptionsIndex(...)" });
    expect(scaffold.about).toContain("new OptionsIndex({ documents, k1 })");
    fillScaffold(root, { setup: { documents: CORPUS, k1: 2 }, cases: SCORE_CASES });
    const run = spawnSync(BUN, ["autoresearch_eval.ts"], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(parseEvalOutput(run.stdout).score).toBeCloseTo(2.5 / 3, 6);
  });

  test("TypeScript: an entry in another file returning a record, read through --output-field hits", () => {
    const root = makeRepo(fixtureFiles("typescript", { "package.json": "{}\n", "bun.lock": "" }));
    const result = runScript(
      "init",
      ["config.ts", "--entry", "finder.ts:find", "--output-field", "hits", "--metric", "mrr", "--yes"],
      { cwd: root },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('"find" returns a record');
    expect(result.stderr).toContain('The eval imports "finder.ts" for "find"');
    expect(result.stderr).not.toContain("--output-field FIELD");
    expect(read(root, "autoresearch_eval.ts")).toContain('const MODULE_PATH = join(ROOT, "finder.ts")');
    fillScaffold(root, {
      cases: [
        { id: "payment", input: { query: "payment" }, expected: ["refund"] },
        { id: "forgot", input: { query: "forgot password" }, expected: ["reset"] },
      ],
    });
    const run = spawnSync(BUN, ["autoresearch_eval.ts"], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(parseEvalOutput(run.stdout).score).toBeCloseTo(0.75, 6);
  });

  test("TypeScript: an entry's destructured options object is filled from the case input's keys, with --cases-from too", () => {
    const docs = ["reset your password", "password rules", "billing and invoices"];
    const root = makeRepo({
      "options-search.ts": TYPESCRIPT_OPTIONS_SEARCH,
      "package.json": "{}\n",
      "bun.lock": "",
      "inputs.json": JSON.stringify([{ query: "password", docs }, { id: "one", query: "billing", limit: 1, docs }]),
    });
    const scaffolded = runScript("init", ["options-search.ts", "--entry", "search", "--metric", "mrr", "--yes"], {
      cwd: root,
    });
    expect(scaffolded.code).toBe(0);
    const scaffold = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(Object.keys(scaffold.cases[0].input)).toEqual(["query", "docs"]);
    const result = runScript(
      "init",
      ["options-search.ts", "--entry", "search", "--cases-from", "inputs.json", "--metric", "mrr", "--yes", "--force"],
      { cwd: root },
    );
    expect(result.code).toBe(0);
    const document = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(document.cases.map((item: { input: object; expected: string[] }) => [item.input, item.expected])).toEqual([
      [{ query: "password", docs }, ["0", "1"]],
      [{ query: "billing", limit: 1, docs }, ["2"]],
    ]);
    const run = spawnSync(BUN, ["autoresearch_eval.ts"], { cwd: root, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(parseEvalOutput(run.stdout).score).toBe(1);
  });

  test("an entry in another file with --output-field hits: the eval imports that file and reads the field", () => {
    const root = makeRepo(fixtureFiles("python"));
    const result = runScript(
      "init",
      [
        "lookup/settings.py",
        "--entry",
        "lookup/engine.py:search",
        "--output-field",
        "hits",
        "--metric",
        "mrr",
        "--yes",
      ],
      { cwd: root },
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('The eval imports "lookup/engine.py" for "search"');
    expect(read(root, "autoresearch_eval.py")).toContain('MODULE = "lookup.engine"');
    fillScaffold(root, {
      cases: [
        { id: "payment", input: { query: "payment" }, expected: ["refund"] },
        { id: "forgot", input: { query: "forgot password" }, expected: ["reset"] },
      ],
    });
    const run = spawnSync("bash", ["-c", "python3 autoresearch_eval.py"], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(0);
    expect(parseEvalOutput(run.stdout).score).toBeCloseTo(0.75, 6);
  });
});

describe("an eval that prints its metric under its own name and no SCORE line", () => {
  test.each([
    [
      "val_bpb: 0.997912\nepochs: 14\n",
      "the eval printed no SCORE line (it printed val_bpb: 0.997912, epochs: 14): print SCORE: <value> too, or set metric.score_from: val_bpb in the experiment file to read the score from that line",
    ],
    [
      "val_mse: 0.000000993\n",
      "the eval printed no SCORE line (it printed val_mse: 0.0000009930): print SCORE: <value> too, or set metric.score_from: val_mse in the experiment file to read the score from that line",
    ],
    ["a: 1\nb: 2\nc: 3\nd: 4\n", "(it printed a: 1, b: 2, c: 3 and 1 more)"],
    ["training done\n", "the eval printed no SCORE line"],
  ])("%p: the message names the lines and the fix", (stdout, expected) => {
    const output = parseEvalOutput(stdout);
    expect(output.score).toBeNull();
    expect(output.scoreProblem as string).toContain(expected);
  });
});

test("without a SCORE line, the line named as the experiment's metric is the score (val_loss after epoch and train_loss)", () => {
  const output = "epoch: 10\ntrain_loss: 0.52\nval_loss: 0.7\nval_loss: 0.61\n";
  const read = parseEvalOutput(output, "VAL_LOSS");
  expect([read.score, read.scoreProblem, read.scoreLine]).toEqual([0.61, null, "val_loss"]);
  // A SCORE line stays the score, wherever it is printed.
  expect(parseEvalOutput(`SCORE: 0.5\n${output}`, "val_loss")).toMatchObject({ score: 0.5, scoreLine: null });
  // Another metric: no score, and the message names the printed lines and both fixes.
  const other = parseEvalOutput(output, "accuracy");
  expect([other.score, other.scoreLine]).toEqual([null, null]);
  expect(other.scoreProblem).toBe(
    "the eval printed no SCORE line (it printed epoch: 10, train_loss: 0.52, val_loss: 0.61): print SCORE: <value> too, or set metric.score_from: epoch in the experiment file to read the score from that line",
  );
  expect(parseEvalOutput("done\n", "val_loss").scoreProblem).toBe("the eval printed no SCORE line nor a val_loss line");
  // A formula names no line: its terms are read by the evaluator.
  expect(parseEvalOutput("mrr: 0.5\n", "0.8*precision@12+0.2*mrr").score).toBeNull();
});

describe("a one-line JSON object's numbers are named metrics", () => {
  test.each([
    ['{"eval_accuracy": 0.9132, "eval_f1": 0.88}', { eval_accuracy: 0.9132, eval_f1: 0.88 }],
    ['  {"Accuracy": 1, "ok": true, "name": "run-3", "config": {"lr": 0.1}, "exact match": 3}  ', { accuracy: 1 }],
    ["[0.5, 0.7]", {}],
    ['{"accuracy": 0.9', {}],
    ['{"accuracy": NaN}', {}],
  ])("%p -> %p", (line, expected) => {
    expect(parseEvalOutput(`${line}\n`).metrics).toEqual(expected);
  });

  test("a JSON line longer than 64 KB is a log and is not parsed; SCORE still wins", () => {
    const long = `{"accuracy": 0.5, "log": "${"x".repeat(70_000)}"}`;
    expect(parseEvalOutput(`${long}\nSCORE: 0.7\n`)).toMatchObject({ score: 0.7, metrics: {} });
  });
});
