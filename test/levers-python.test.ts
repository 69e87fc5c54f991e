// Python lever extraction on library-shaped code (test/fixtures/corpus/python/): keyword defaults of
// functions and methods, dataclass / pydantic / attrs / NamedTuple fields, config dicts split by the
// one dict rule, values as the code writes them, and the functions, classes and imports an entry is
// resolved from. Levers go through analyzeFile (kinds named by kinds.ts); method facts (binding,
// required) are read from levers_python.py's own output, which analyzeFile does not list.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { analyzeFile, analyzeSource } from "../scripts/lib/levers/levers.ts";
import type { Extracted, FileAnalysis, FunctionFacts, Lever } from "../scripts/lib/levers/lever.ts";
import { KIT_ROOT } from "./helpers.ts";

const CORPUS = join(KIT_ROOT, "test/fixtures/corpus/python");
const EXTRACTOR = join(KIT_ROOT, "scripts/lib/levers/levers_python.py");

/** [name, kind, value, line, scope]: the whole of a file's levers, in order. */
type LeverRow = [string, Lever["kind"], string, number, string];
const rowsOf = (levers: Lever[]): LeverRow[] =>
  levers.map((lever) => [lever.name, lever.kind, lever.value, lever.line, lever.scope]);

function python(lines: string[]): FileAnalysis {
  return analyzeSource(lines.join("\n") + "\n", "python", { fileName: "snippet.py" });
}

/** levers_python.py's raw output, methods included (analyzeSource lists public top-level functions only). */
function extract(source: string): Extracted {
  const run = spawnSync("python3", ["-I", "-S", EXTRACTOR], { input: source, encoding: "utf8" });
  expect(run.stderr).toBe("");
  return JSON.parse(run.stdout);
}
const extractLines = (lines: string[]) => extract(lines.join("\n") + "\n");
const extractFile = async (path: string) => extract(await Bun.file(join(CORPUS, path)).text());

function method(found: Extracted, name: string): FunctionFacts {
  const match = found.functions.find((candidate) => candidate.name === name);
  expect(match, `function ${name}`).toBeDefined();
  return match!;
}

const numpyInstalled = spawnSync("python3", ["-c", "import numpy"]).status === 0;

describe("a BM25 ranking package (bm25lite/: base.py, okapi.py, __init__.py)", async () => {
  const okapi = await analyzeFile(join(CORPUS, "bm25lite/okapi.py"));
  const base = await analyzeFile(join(CORPUS, "bm25lite/base.py"));
  const okapiRaw = await extractFile("bm25lite/okapi.py");
  const baseRaw = await extractFile("bm25lite/base.py");

  test("the constructor's keyword defaults are the levers, owned by OkapiScorer.__init__", () => {
    expect(rowsOf(okapi.levers)).toEqual([
      ["OkapiScorer.__init__.k1", "constant", "1.5", 10, "OkapiScorer.__init__"],
      ["OkapiScorer.__init__.b", "constant", "0.75", 10, "OkapiScorer.__init__"],
      ["OkapiScorer.__init__.epsilon", "threshold", "0.25", 10, "OkapiScorer.__init__"],
    ]);
    expect(okapi.levers[0]).toMatchObject({ numeric: 1.5 });
  });

  test("the base class's method default is a lever; its private method and None defaults are not", () => {
    expect(rowsOf(base.levers)).toEqual([["Scorer.get_top_n.n", "count", "5", 39, "Scorer.get_top_n"]]);
  });

  test("OkapiScorer extends Scorer, has its own constructor, and is concrete", () => {
    expect(okapi.classes).toEqual([{
      name: "OkapiScorer",
      line: 9,
      bases: ["Scorer"],
      public: true,
      abstract: false,
      methods: [
        { name: "from_texts", binding: "class" },
        { name: "_compute_idf", binding: "instance" },
        { name: "get_scores", binding: "instance" },
        { name: "get_batch_scores", binding: "instance" },
      ],
      constructor: {
        signature: "def __init__(self, corpus, tokenizer=None, k1=1.5, b=0.75, epsilon=0.25)",
        params: ["corpus", "tokenizer", "k1", "b", "epsilon"],
        required: ["corpus"],
      },
    }]);
  });

  test("Scorer is abstract because its get_scores only raises NotImplementedError", () => {
    expect(base.classes).toEqual([{
      name: "Scorer",
      line: 7,
      bases: [],
      public: true,
      abstract: true,
      methods: [
        { name: "_compute_idf", binding: "instance" },
        { name: "tokenize", binding: "static" },
        { name: "get_scores", binding: "instance" },
        { name: "get_top_n", binding: "instance" },
        { name: "idf_of", binding: "instance" },
      ],
      constructor: {
        signature: "def __init__(self, corpus, tokenizer=None)",
        params: ["corpus", "tokenizer"],
        required: ["corpus"],
      },
    }]);
  });

  test("get_scores returns a score per document (an np.zeros array), get_top_n a ranking", () => {
    expect(method(okapiRaw, "OkapiScorer.get_scores")).toMatchObject({
      params: ["query"],
      required: ["query"],
      returnsShape: "scores",
      method: true,
      binding: "instance",
    });
    expect(method(baseRaw, "Scorer.get_top_n")).toMatchObject({
      params: ["query", "documents", "n"],
      required: ["query", "documents"],
      returnsShape: "ranked_list",
      binding: "instance",
    });
  });

  test("a list comprehension of float(...) is a score per item too", () => {
    expect(method(okapiRaw, "OkapiScorer.get_batch_scores").returnsShape).toBe("scores");
  });

  test("a classmethod leaves cls out of its parameters; a staticmethod has none to leave out", () => {
    expect(method(okapiRaw, "OkapiScorer.from_texts")).toMatchObject({
      params: ["texts", "**options"],
      required: ["texts"],
      binding: "class",
    });
    expect(method(baseRaw, "Scorer.tokenize")).toMatchObject({
      params: ["text"],
      required: ["text"],
      binding: "static",
    });
  });

  test("imports keep the dots of a relative module", async () => {
    expect(okapi.imports).toEqual([
      { local: "math", module: "math", imported: null, line: 2 },
      { local: "np", module: "numpy", imported: null, line: 4 },
      { local: "Scorer", module: ".base", imported: "Scorer", line: 6 },
    ]);
    const init = await analyzeFile(join(CORPUS, "bm25lite/__init__.py"));
    expect(init.imports).toEqual([
      { local: "Scorer", module: ".base", imported: "Scorer", line: 2 },
      { local: "OkapiScorer", module: ".okapi", imported: "OkapiScorer", line: 3 },
    ]);
    expect(init.levers).toEqual([]); // __all__ and __version__ are dunders
  });

  test.skipIf(!numpyInstalled)("the package runs: scores in corpus order, the top n by score", () => {
    const script = [
      "from bm25lite import OkapiScorer",
      "corpus = [t.split() for t in ['the cat sat', 'a dog barked', 'the cat and the dog', 'birds fly south', 'fish swim']]",
      "scorer = OkapiScorer(corpus, k1=1.2)",
      "print(len(scorer.get_scores(['birds'])), scorer.get_top_n(['birds'], corpus, n=1))",
    ].join("\n");
    const run = spawnSync("python3", ["-c", script], { cwd: CORPUS, encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("5 [['birds', 'fly', 'south']]\n");
  });
});

describe("a dataclass config module (retrieval_config.py)", async () => {
  const analysis = await analyzeFile(join(CORPUS, "retrieval_config.py"));

  test("module constants, the split PIPELINE dict, dataclass fields and keyword defaults, in order", () => {
    expect(rowsOf(analysis.levers)).toEqual([
      ["DEFAULT_FIELDS", "list", '("title", "body")', 6, "module"],
      ['PIPELINE["lexical"]', "weights", "{title: 2.0, body: 1.0, anchors: 0.5}", 10, "module"],
      ['PIPELINE["dense"]["model"]', "choice", '"all-MiniLM-L6-v2"', 11, "module"],
      ['PIPELINE["dense"]["normalize"]', "flag", "True", 11, "module"],
      ['PIPELINE["dense"]["top_k"]', "count", "100", 11, "module"],
      ['PIPELINE["fusion"]["method"]', "choice", '"rrf"', 12, "module"],
      ['PIPELINE["fusion"]["rrf_k"]', "count", "60", 12, "module"],
      ["RetrievalConfig.top_k", "count", "10", 18, "RetrievalConfig"],
      ["RetrievalConfig.candidate_pool", "count", "200", 19, "RetrievalConfig"], // field(default=200)
      ["RetrievalConfig.min_score", "threshold", "0.05", 20, "RetrievalConfig"], // field(default=..., metadata=...)
      ["RetrievalConfig.dense_weight", "weight", "0.6", 21, "RetrievalConfig"],
      ["RetrievalConfig.use_reranker", "flag", "True", 22, "RetrievalConfig"],
      ["RetrievalConfig.language", "choice", '"en"', 25, "RetrievalConfig"],
      ["RetrievalConfig.__post_init__.clamp", "constant", "1.0", 27, "RetrievalConfig.__post_init__"],
      ["fuse.weight", "weight", "0.6", 31, "fuse"],
      ["fuse.rrf_k", "count", "60", 31, "fuse"],
    ]);
  });

  test("the all-number table inside PIPELINE is one weights lever with its keys", () => {
    expect(analysis.levers[1]).toMatchObject({ keys: ["title", "body", "anchors"] });
  });

  test("a tuple of strings keeps its quotes and says it is a tuple", () => {
    expect(analysis.levers[0]).toMatchObject({ detail: "tuple, 2 items" });
  });

  test("the dataclass has no constructor of its own", () => {
    expect(analysis.classes).toEqual([{
      name: "RetrievalConfig",
      line: 17,
      bases: [],
      public: true,
      abstract: false,
      methods: [],
      constructor: null,
    }]);
  });

  test("fuse returns a ranking; required parameters leave out those with defaults", () => {
    expect(analysis.functions.find((found) => found.name === "fuse")).toMatchObject({
      required: ["lexical", "dense"],
      returnsShape: "ranked_list",
    });
  });
});

describe("a scikit-learn-style training script (train_mlp.py)", async () => {
  const analysis = await analyzeFile(join(CORPUS, "train_mlp.py"));

  test("hyperparameters are named by what they are; the data path is not a lever", () => {
    expect(rowsOf(analysis.levers)).toEqual([
      ["HIDDEN_LAYERS", "list", "(16,)", 12, "module"],
      ["ACTIVATION", "choice", '"relu"', 13, "module"],
      ["MAX_ITER", "count", "200", 14, "module"],
      ["LEARNING_RATE", "rate", "0.001", 15, "module"],
      ["BATCH_SIZE", "size", "32", 16, "module"],
      ["ALPHA", "constant", "1e-4", 17, "module"],
      ["EARLY_STOPPING", "flag", "True", 18, "module"],
      ["VALIDATION_FRACTION", "rate", "0.1", 19, "module"],
      ["N_ITER_NO_CHANGE", "count", "10", 20, "module"],
      ["RANDOM_STATE", "constant", "42", 21, "module"],
      ["synthetic_rows.count", "count", "400", 38, "synthetic_rows"],
      ["self.forward(features)[-1][0]", "threshold", "0.5", 65, "Network.predict"],
    ]);
  });

  test("a one-item tuple is written (16,) and counted as 1 item", () => {
    expect(analysis.levers[0]).toMatchObject({ value: "(16,)", detail: "tuple, 1 item" });
  });

  test("Network's constructor requires only inputs; main is the entry", () => {
    expect(analysis.classes[0]).toMatchObject({
      name: "Network",
      constructor: { params: ["inputs", "hidden", "seed"], required: ["inputs"] },
      methods: [
        { name: "forward", binding: "instance" },
        { name: "predict", binding: "instance" },
        { name: "step", binding: "instance" },
      ],
    });
    expect(analysis.entry).toMatchObject({ name: "main", required: [] });
  });

  test("the script runs with python3 alone and prints its accuracy", () => {
    const run = spawnSync("python3", [join(CORPUS, "train_mlp.py")], { encoding: "utf8" });
    expect(run.stderr).toBe("");
    expect(run.stdout).toMatch(/^validation accuracy: \d\.\d{3}\n$/);
  });
});

describe("a prompt module (classify_intent.py)", async () => {
  const analysis = await analyzeFile(join(CORPUS, "classify_intent.py"));

  test("model settings, the prompt, labels and keyword lists; few-shot dicts are not literals it reads", () => {
    expect(rowsOf(analysis.levers)).toEqual([
      ["MODEL_NAME", "choice", '"gpt-4o-mini"', 5, "module"],
      ["TEMPERATURE", "rate", "0.2", 6, "module"],
      ["MAX_TOKENS", "count", "16", 7, "module"],
      ["LABELS", "list", '["billing", "shipping", "returns", "other"]', 8, "module"],
      ["SYSTEM_PROMPT", "prompt", "You sort customer support messages into exactly one intent.…", 10, "module"],
      ['KEYWORDS["billing"]', "list", '("charge", "charged", "invoice", "refund", "card", "payment")', 21, "module"],
      ['KEYWORDS["shipping"]', "list", '("parcel", "delivery", "shipping", "tracking", "arrive")', 22, "module"],
      ['KEYWORDS["returns"]', "list", '("return", "send them back", "exchange", "too small", "too big")', 23, "module"],
      ["MIN_KEYWORD_HITS", "count", "1", 25, "module"],
    ]);
    expect(analysis.levers[4]).toMatchObject({ endLine: 12, detail: "199 chars, 3 lines" });
  });

  test("classify is the entry and returns a label", () => {
    expect(analysis.entry).toMatchObject({ name: "classify", required: ["text"], returnsShape: "label" });
  });

  test("classify works offline", () => {
    const script = "from classify_intent import classify; print(classify('I was charged twice'))";
    const run = spawnSync("python3", ["-c", script], { cwd: CORPUS, encoding: "utf8" });
    expect(run.stdout).toBe("billing\n");
  });
});

describe("a Django-style settings module (settings.py)", async () => {
  const analysis = await analyzeFile(join(CORPUS, "settings.py"));

  test("nested settings dicts are split per key; all-number tables inside are weights", () => {
    expect(rowsOf(analysis.levers)).toEqual([
      ["DEBUG", "flag", "False", 6, "module"],
      ["ALLOWED_HOSTS", "list", '["catalogue.example.com", "localhost"]', 8, "module"],
      [
        "INSTALLED_APPS",
        "list",
        '["django.contrib.contenttypes", "django.contrib.staticfiles", "catalogue", "sea…',
        10,
        "module",
      ],
      ['DATABASES["default"]["ENGINE"]', "choice", '"django.db.backends.postgresql"', 19, "module"],
      ['DATABASES["default"]["NAME"]', "choice", '"catalogue"', 20, "module"],
      ['DATABASES["default"]["CONN_MAX_AGE"]', "threshold", "60", 23, "module"],
      ['CACHES["default"]["TIMEOUT"]', "constant", "300", 30, "module"],
      ['CACHES["default"]["OPTIONS"]["MAX_ENTRIES"]', "count", "1000", 31, "module"],
      ["PAGINATE_BY", "constant", "24", 35, "module"],
      ["LANGUAGE_CODE", "choice", '"en-us"', 36, "module"],
      ["USE_TZ", "flag", "True", 37, "module"],
      ['SEARCH["BOOSTS"]', "weights", "{name: 4.0, brand: 2.0, description: 1.0, sku: 8.0}", 41, "module"],
      ['SEARCH["FUZZINESS"]', "constant", "1", 42, "module"],
      ['SEARCH["MIN_SHOULD_MATCH"]', "choice", '"75%"', 43, "module"],
      ['SEARCH["SUGGESTIONS"]', "constant", "5", 44, "module"],
      ['SEARCH["HIGHLIGHT"]', "flag", "True", 45, "module"],
    ]);
  });

  test("SECRET_KEY and the host are dropped; a list spanning lines keeps its end line", () => {
    const names = analysis.levers.map((lever) => lever.name);
    expect(names.filter((name) => /SECRET|HOST"|BASE_DIR/.test(name))).toEqual([]);
    expect(analysis.levers[2]).toMatchObject({ endLine: 15, detail: "list, 4 items" });
  });
});

// Parse-only: service_settings.py imports pydantic and attrs, which need not be installed.
describe("pydantic, attrs, NamedTuple and TypedDict declarations (service_settings.py, parse-only)", async () => {
  const analysis = await analyzeFile(join(CORPUS, "service_settings.py"));
  const raw = await extractFile("service_settings.py");

  test("field defaults in every declaration style; required fields and factories are not levers", () => {
    expect(rowsOf(analysis.levers)).toEqual([
      ["EmbeddingSettings.model", "choice", '"bge-small-en"', 14, "EmbeddingSettings"],
      ["EmbeddingSettings.dimensions", "size", "384", 15, "EmbeddingSettings"], // Field(384, ge=1)
      ["EmbeddingSettings.normalize", "flag", "True", 16, "EmbeddingSettings"], // Field(default=True)
      ["EmbeddingSettings.batch_size", "size", "64", 17, "EmbeddingSettings"],
      ["IndexSettings.Config.frozen", "flag", "True", 24, "IndexSettings.Config"],
      ["IndexSettings.ef_search", "constant", "128", 26, "IndexSettings"],
      ["IndexSettings.similarity_cutoff", "threshold", "0.35", 28, "IndexSettings"], // the literal's own line
      ["RerankSettings.depth", "count", "50", 36, "RerankSettings"], // attr.ib(default=50)
      ["RerankSettings.temperature", "rate", "0.7", 37, "RerankSettings"],
      ["RerankSettings.enabled", "flag", "False", 38, "RerankSettings"],
      ["ChunkSettings.chunk_size", "size", "512", 44, "ChunkSettings"], // attrs.field(default=512)
      ["ChunkSettings.overlap", "size", "64", 45, "ChunkSettings"],
      ["Hit.score", "constant", "0.0", 50, "Hit"], // NamedTuple defaults
      ["Hit.source", "choice", '"bm25"', 51, "Hit"],
      ["Retriever.retrieve.limit", "count", "10", 61, "Retriever.retrieve"], // keyword-only
      ["Retriever.answer.min_confidence", "threshold", "0.5", 64, "Retriever.answer"],
    ]);
  });

  test("an ABC with an @abstractmethod is abstract; a NamedTuple and a TypedDict are plain classes", () => {
    expect(analysis.classes.map(({ name, bases, abstract }) => ({ name, bases, abstract }))).toEqual([
      { name: "EmbeddingSettings", bases: ["BaseModel"], abstract: false },
      { name: "IndexSettings", bases: ["BaseModel"], abstract: false },
      { name: "RerankSettings", bases: [], abstract: false },
      { name: "ChunkSettings", bases: [], abstract: false },
      { name: "Hit", bases: ["NamedTuple"], abstract: false },
      { name: "Answer", bases: ["TypedDict"], abstract: false },
      { name: "Retriever", bases: ["ABC"], abstract: true },
    ]);
  });

  test("a TypedDict return and a returned dict are records; list[Hit] is a ranking", () => {
    expect(method(raw, "Retriever.answer")).toMatchObject({ returnsShape: "object", required: ["query"] });
    expect(method(raw, "Retriever.explain").returnsShape).toBe("object");
    expect(method(raw, "Retriever.retrieve")).toMatchObject({
      returnsShape: "ranked_list",
      params: ["query", "limit"],
      required: ["query"],
    });
  });

  test("import x binds x with no imported name", () => {
    expect(analysis.imports.filter((found) => found.imported === null)).toEqual([
      { local: "attr", module: "attr", imported: null, line: 8 },
      { local: "attrs", module: "attrs", imported: null, line: 9 },
    ]);
  });
});

describe("keyword defaults", () => {
  test("keyword-only defaults of a function, named function.parameter and owned by the function", () => {
    const found = python([
      "def search(query, *, top_k=10, fuzzy=False, mode='bm25', boost=None, k=TOP_K):",
      "    pass",
    ]);
    expect(found.levers).toEqual([
      { kind: "count", name: "search.top_k", line: 1, scope: "search", numeric: 10, value: "10" },
      { kind: "flag", name: "search.fuzzy", line: 1, scope: "search", value: "False" },
      { kind: "choice", name: "search.mode", line: 1, scope: "search", value: "'bm25'" },
    ]);
  });

  test("a default on its own line is reported where the literal is", () => {
    const found = python(["def rank(", "    query,", "    alpha=0.5,", "):", "    pass"]);
    expect(rowsOf(found.levers)).toEqual([["rank.alpha", "constant", "0.5", 3, "rank"]]);
  });

  test("private functions and methods and nested functions keep none; __init__, __call__, __post_init__ do", () => {
    const found = python([
      "def _helper(x, k=3):",
      "    def inner(y, depth=4):",
      "        return y",
      "    return inner(x)",
      "class Model:",
      "    def __init__(self, scale=2.0):",
      "        self.scale = scale",
      "    def __call__(self, x, bias=0.1):",
      "        return x",
      "    def _private(self, n=5):",
      "        return n",
      "    def __repr__(self, width=80):",
      "        return ''",
    ]);
    expect(found.levers.map((lever) => lever.name)).toEqual(["Model.__init__.scale", "Model.__call__.bias"]);
  });

  test("a tuple default and a dict default follow the same rules as constants", () => {
    const found = python(["def build(layers=(64, 32), weights={'a': 1, 'b': 2}):", "    pass"]);
    expect(found.levers).toMatchObject([
      { name: "build.layers", kind: "list", value: "(64, 32)", detail: "tuple, 2 items" },
      { name: "build.weights", kind: "weights", value: "{a: 1, b: 2}", keys: ["a", "b"] },
    ]);
  });
});

describe("fields and dicts", () => {
  test("field(default_factory=...), Field(...) and a field without a default are not levers", () => {
    const found = python([
      "@dataclass",
      "class Options:",
      "    names: list = field(default_factory=list)",
      "    key: str = Field(...)",
      "    size: int = attr.ib()",
      "    ratio: float = dataclasses.field(default=0.5)",
      "    window: int = attr.attrib(7)",
    ]);
    expect(rowsOf(found.levers)).toEqual([
      ["Options.ratio", "rate", "0.5", 6, "Options"],
      ["Options.window", "size", "7", 7, "Options"],
    ]);
  });

  test("a call that is not a field declaration is not a lever, in a class or at module level", () => {
    expect(python(["LIMIT = field(default=3)", "class A:", "    x = compute(default=3)"]).levers).toEqual([]);
  });

  test("a flat all-number dict is one weights lever; a mixed one is split per key", () => {
    const found = python([
      'BOOSTS = {"title": 3, "body": 1.5}',
      'RANKER = {"k": 5, "model": "small", "fields": {"title": 2, "body": 1}, "extra": {"on": True, "n": 2}}',
    ]);
    expect(found.levers).toMatchObject([
      { name: "BOOSTS", kind: "weights", value: "{title: 3, body: 1.5}", keys: ["title", "body"], scope: "module" },
      { name: 'RANKER["k"]', kind: "count", value: "5" },
      { name: 'RANKER["model"]', kind: "choice", value: '"small"' },
      { name: 'RANKER["fields"]', kind: "weights", value: "{title: 2, body: 1}", keys: ["title", "body"] },
      { name: 'RANKER["extra"]["on"]', kind: "flag", value: "True" },
      { name: 'RANKER["extra"]["n"]', kind: "count", value: "2" },
    ]);
    expect(found.levers).toHaveLength(6);
  });

  test("a dict with number keys names its entries by the key as written", () => {
    const found = python(['BANDS = {1: "low", 2: {"cut": 0.5, "on": False}}']);
    expect(found.levers.map((lever) => lever.name)).toEqual(["BANDS[1]", 'BANDS[2]["cut"]', 'BANDS[2]["on"]']);
  });

  test("a class attribute dict is owned by the class", () => {
    expect(python(["class Ranker:", '    WEIGHTS = {"a": 1.0, "b": 2.0}']).levers).toMatchObject([
      { name: "Ranker.WEIGHTS", kind: "weights", scope: "Ranker" },
    ]);
  });
});

describe("values as the code writes them", () => {
  const cases: [string, string, string][] = [
    ["LAYERS = (16,)", "(16,)", "tuple, 1 item"],
    ["LAYERS = 64, 32", "(64, 32)", "tuple, 2 items"],
    ["NAMES = ['a', 'b', 'c']", "['a', 'b', 'c']", "list, 3 items"],
    ["IDS = [7]", "[7]", "list, 1 item"],
    ["TAGS = {'x', 'y'}", "{'x', 'y'}", "set, 2 items"],
  ];
  for (const [line, value, detail] of cases) {
    test(`${line} is shown as ${value} (${detail})`, () => {
      expect(python([line]).levers).toMatchObject([{ kind: "list", value, detail }]);
    });
  }

  test("a list of anything else than numbers and strings is not a lever", () => {
    expect(python(["PAIRS = [(1, 2), (3, 4)]", "MIXED = [1, None]"]).levers).toEqual([]);
  });
});

describe("what functions return", () => {
  const shapes: [string, string[], string][] = [
    ["list[float]", ["def f(q) -> list[float]:", "    return g(q)"], "scores"],
    ["List[float]", ["def f(q) -> List[float]:", "    return g(q)"], "scores"],
    ["Sequence[float]", ["def f(q) -> Sequence[float]:", "    return g(q)"], "scores"],
    ["np.ndarray", ["def f(q) -> np.ndarray:", "    return g(q)"], "scores"],
    ["numpy.ndarray", ["def f(q) -> numpy.ndarray:", "    return g(q)"], "scores"],
    ["NDArray[np.float64]", ["def f(q) -> NDArray[np.float64]:", "    return g(q)"], "scores"],
    ["Optional[np.ndarray]", ["def f(q) -> Optional[np.ndarray]:", "    return g(q)"], "scores"],
    ["np.asarray(...)", ["def f(q):", "    return np.asarray(g(q))"], "scores"],
    ["a local built by np.zeros", ["def f(q):", "    s = np.zeros(len(q))", "    s += 1", "    return s"], "scores"],
    ["[0.0] * n", ["def f(q):", "    s = [0.0] * len(q)", "    return s"], "scores"],
    ["a comprehension of sum(...)", ["def f(q, docs):", "    return [sum(w for w in d) for d in docs]"], "scores"],
    ["a comprehension of math.log(...)", ["def f(docs):", "    return [math.log(d) for d in docs]"], "scores"],
    [
      "a comprehension of an unknown call",
      ["def f(q, docs):", "    return [self_score(q, d) for d in docs]"],
      "ranked_list",
    ],
    ["list[str]", ["def f(q) -> list[str]:", "    return g(q)"], "ranked_list"],
    ["List[Tuple[str, float]]", ["def f(q) -> List[Tuple[str, float]]:", "    return g(q)"], "ranked_list"],
    ["list[int] (ids)", ["def f(q) -> list[int]:", "    return g(q)"], "ranked_list"],
    ["sorted(...)", ["def f(q):", "    return sorted(q)"], "ranked_list"],
    ["np.argsort(...)[::-1]", ["def f(q):", "    return np.argsort(q)[::-1]"], "ranked_list"],
    ["dict[str, float]", ["def f(q) -> dict[str, float]:", "    return g(q)"], "object"],
    ["Mapping[str, Any]", ["def f(q) -> Mapping[str, Any]:", "    return g(q)"], "object"],
    ["a dict display", ["def f(q):", '    return {"label": q, "score": 1.0}'], "object"],
    [
      "a TypedDict of the file",
      ["class Out(TypedDict):", "    label: str", "def f(q) -> Out:", "    return g(q)"],
      "object",
    ],
    ["str", ["def f(q) -> str:", "    return g(q)"], "label"],
    ["float", ["def f(q) -> float:", "    return g(q)"], "number"],
  ];
  for (const [what, lines, shape] of shapes) {
    test(`a function returning ${what} has shape ${shape}`, () => {
      expect(python(lines).entry?.returnsShape).toBe(shape as never);
    });
  }
});

describe("functions, methods and classes", () => {
  test("required parameters leave out self, cls, variadics and those with defaults; keyword-only ones count", () => {
    const found = extractLines([
      "def run(a, /, b, c=1, *args, d, e=2, **kwargs):",
      "    pass",
      "class Index:",
      "    def add(self, doc, weight=1.0):",
      "        pass",
      "    @classmethod",
      "    def load(cls, path):",
      "        pass",
      "    @staticmethod",
      "    def normalise(text, lower=True):",
      "        pass",
      "    @functools.cache",
      "    def size(self):",
      "        return 0",
    ]);
    expect(found.functions.map(({ name, params, required, binding, method }) => ({
      name,
      params,
      required,
      binding,
      method,
    }))).toEqual([
      {
        name: "run",
        params: ["a", "b", "c", "*args", "d", "e", "**kwargs"],
        required: ["a", "b", "d"],
        binding: undefined,
        method: false,
      },
      { name: "Index.add", params: ["doc", "weight"], required: ["doc"], binding: "instance", method: true },
      { name: "Index.load", params: ["path"], required: ["path"], binding: "class", method: true },
      { name: "Index.normalise", params: ["text", "lower"], required: ["text"], binding: "static", method: true },
      { name: "Index.size", params: [], required: [], binding: "instance", method: true },
    ]);
  });

  test("a class lists its own methods without dunders other than __call__, and its constructor", () => {
    const found = python([
      "class _Cache(dict):",
      "    pass",
      "class Reranker(base.Scorer, metaclass=Registry):",
      "    def __init__(self, model, *, depth=20):",
      "        pass",
      "    def __call__(self, query):",
      "        return []",
      "    def __len__(self):",
      "        return 0",
      "    def score(self, query, doc):",
      "        return 0.0",
    ]);
    expect(found.classes).toEqual([
      { name: "_Cache", line: 1, bases: ["dict"], public: false, abstract: false, methods: [], constructor: null },
      {
        name: "Reranker",
        line: 3,
        bases: ["base.Scorer"],
        public: true,
        abstract: false,
        methods: [{ name: "__call__", binding: "instance" }, { name: "score", binding: "instance" }],
        constructor: {
          signature: "def __init__(self, model, *, depth=20)",
          params: ["model", "depth"],
          required: ["model"],
        },
      },
    ]);
  });

  const abstractCases: [string, string[], boolean][] = [
    ["an ABC base", ["class A(abc.ABC):", "    pass"], true],
    ["an ABCMeta metaclass", ["class A(metaclass=ABCMeta):", "    pass"], true],
    ["a Protocol", ["class A(Protocol[T]):", "    def f(self) -> int: ..."], true],
    ["an @abc.abstractmethod", ["class A:", "    @abc.abstractmethod", "    def f(self):", "        pass"], true],
    [
      "a method raising NotImplementedError after its docstring",
      ["class A:", "    def f(self):", '        """Score."""', "        raise NotImplementedError"],
      true,
    ],
    ["a method raising another error", ["class A:", "    def f(self):", "        raise ValueError()"], false],
    [
      "a method that raises NotImplementedError only sometimes",
      ["class A:", "    def f(self, x):", "        if x:", "            raise NotImplementedError", "        return x"],
      false,
    ],
  ];
  for (const [what, lines, abstract] of abstractCases) {
    test(`a class with ${what} is ${abstract ? "" : "not "}abstract`, () => {
      expect(python(lines).classes[0]?.abstract).toBe(abstract);
    });
  }

  test("imports: aliases, dotted modules, relative levels, from-dot imports, and imports under try", () => {
    const found = python([
      "import numpy as np, json",
      "import pkg.mod",
      "import pkg.mod as m",
      "from .base import BM25 as Base",
      "from .. import utils",
      "from ...core.rank import rank, score as base_score",
      "try:",
      "    import orjson",
      "except ImportError:",
      "    orjson = None",
      "def f():",
      "    import re",
    ]);
    expect(found.imports).toEqual([
      { local: "np", module: "numpy", imported: null, line: 1 },
      { local: "json", module: "json", imported: null, line: 1 },
      { local: "pkg.mod", module: "pkg.mod", imported: null, line: 2 },
      { local: "m", module: "pkg.mod", imported: null, line: 3 },
      { local: "Base", module: ".base", imported: "BM25", line: 4 },
      { local: "utils", module: "..", imported: "utils", line: 5 },
      { local: "rank", module: "...core.rank", imported: "rank", line: 6 },
      { local: "base_score", module: "...core.rank", imported: "score", line: 6 },
      { local: "orjson", module: "orjson", imported: null, line: 8 },
    ]);
  });
});
