// The entry an eval calls, as libraries are shaped (scripts/lib/levers/entries.ts): Class.method
// own, inherited in the same file or from a base imported from the project (Python relative,
// absolute and aliased imports; TypeScript ESM and CommonJS), static and class methods, the
// choice in a file of classes, the project's ready entries for a config file, and init end to
// end: an entry in another file is frozen, and a file with no entry is refused with the commands.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { fileHashes, KIT_ROOT, makeRepo, read, runScript, temporaryFolder, writeFiles } from "./helpers.ts";
import { analyzeFile, extractFileFacts } from "../scripts/lib/levers/levers.ts";
import {
  chooseEntry,
  entryCandidates,
  filesDefiningClass,
  parseEntryRequest,
  resolveModule,
  scanImports,
} from "../scripts/lib/levers/entries.ts";
import type { EntryFunction, Extracted, FunctionFacts } from "../scripts/lib/levers/lever.ts";
import { CliError } from "../scripts/lib/cli/errors.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";

const FIXTURES = join(KIT_ROOT, "test/fixtures/entries");

/** Every file of a fixture project, by repository-relative path. */
function projectFiles(name: string): Record<string, string> {
  const folder = join(FIXTURES, name);
  const files: Record<string, string> = {};
  const walk = (at: string) => {
    for (const entry of readdirSync(at).sort()) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(folder, path)] = readFileSync(path, "utf8");
    }
  };
  walk(folder);
  return files;
}

/** The entry `--entry` reaches in a fixture project's file, the project's bases followed. */
async function entryOf(project: string, file: string, entry?: string) {
  const repoRoot = join(FIXTURES, project);
  return analyzeFile(join(repoRoot, file), { entry, repoRoot, fileName: file });
}

describe("--entry Class.method reaches what the class offers", () => {
  const cases: [string, string, string, string, Partial<EntryFunction>][] = [
    [
      "a method inherited from a base imported relatively (from .base import Scorer)",
      "pylib",
      "scoring/okapi.py",
      "OkapiScorer.get_scores",
      {
        name: "OkapiScorer.get_scores",
        signature: "def get_scores(self, query)",
        params: ["query"],
        owner: {
          className: "OkapiScorer",
          binding: "instance",
          constructorParams: ["corpus", "k1", "b"],
          constructorRequired: ["corpus"],
          constructorSignature: "def __init__(self, corpus, k1=1.5, b=0.75)",
          definedIn: "Scorer",
          definedInFile: "scoring/base.py",
        },
      },
    ],
    [
      "a method inherited through an aliased absolute import (import scoring.base as b; b.Scorer), with the subclass's own constructor",
      "pylib",
      "scoring/plus.py",
      "PlusScorer.top_n",
      {
        name: "PlusScorer.top_n",
        params: ["query", "n"],
        owner: {
          className: "PlusScorer",
          binding: "instance",
          constructorParams: ["corpus", "delta"],
          constructorRequired: ["corpus"],
          constructorSignature: "def __init__(self, corpus, delta=DELTA)",
          definedIn: "Scorer",
          definedInFile: "scoring/base.py",
        },
      },
    ],
    [
      "a method inherited from a package under src/ (from textkit.normalise import Normaliser)",
      "pylib",
      "scoring/tokens.py",
      "Tokenizer.clean",
      {
        name: "Tokenizer.clean",
        owner: {
          className: "Tokenizer",
          binding: "instance",
          constructorParams: [],
          constructorRequired: [],
          constructorSignature: null,
          definedIn: "Normaliser",
          definedInFile: "src/textkit/normalise.py",
        },
      },
    ],
    [
      "a method inherited through the package (from . import base; base.Scorer)",
      "pylib",
      "scoring/dice.py",
      "DiceScorer.get_scores",
      { name: "DiceScorer.get_scores", owner: expect.objectContaining({ definedInFile: "scoring/base.py" }) as never },
    ],
    [
      "a static method is called on the class",
      "pylib",
      "scoring/tokens.py",
      "Tokenizer.split_words",
      { name: "Tokenizer.split_words", params: ["text"], signature: "def split_words(text)" },
    ],
    [
      "a class method is bound to the class",
      "pylib",
      "scoring/tokens.py",
      "Tokenizer.from_settings",
      { name: "Tokenizer.from_settings", params: ["settings"] },
    ],
    [
      "a method inherited in the same file, with the base's constructor",
      "pyflat",
      "library.py",
      "Fuzzy.search",
      {
        name: "Fuzzy.search",
        owner: {
          className: "Fuzzy",
          binding: "instance",
          constructorParams: ["documents", "limit"],
          constructorRequired: ["documents"],
          constructorSignature: "def __init__(self, documents, limit=10)",
          definedIn: "BaseIndex",
        },
      },
    ],
    [
      "a TypeScript method inherited from a base imported as ./base.js (the .ts file)",
      "tslib",
      "src/fuzzy.ts",
      "Fuzzy#search",
      {
        name: "Fuzzy.search",
        signature: "search(query: string): string[]",
        owner: {
          className: "Fuzzy",
          binding: "instance",
          constructorParams: ["documents", "limit"],
          constructorRequired: ["documents"],
          constructorSignature: "constructor(documents: string[], private limit = 10)",
          definedIn: "BaseIndex",
          definedInFile: "src/base.ts",
        },
      },
    ],
    [
      "a TypeScript method inherited through a namespace import (indexes.BaseIndex)",
      "tslib",
      "src/trigram.ts",
      "Trigram.search",
      {
        name: "Trigram.search",
        owner: expect.objectContaining({ definedIn: "BaseIndex", definedInFile: "src/base.ts" }) as never,
      },
    ],
    [
      "a TypeScript static method",
      "tslib",
      "src/fuzzy.ts",
      "Fuzzy.version",
      { name: "Fuzzy.version", owner: expect.objectContaining({ className: "Fuzzy", binding: "static" }) as never },
    ],
    [
      "a JavaScript method inherited through require('./base')",
      "tslib",
      "src/legacy.js",
      "Prefix.search",
      {
        name: "Prefix.search",
        owner: expect.objectContaining({ definedIn: "BaseIndex", definedInFile: "src/base.ts" }) as never,
      },
    ],
  ];
  for (const [sentence, project, file, entry, expected] of cases) {
    test(sentence, async () => {
      expect((await entryOf(project, file, entry)).entry).toMatchObject(expected);
    });
  }

  test("static and class bindings come from the method's facts", async () => {
    expect((await entryOf("pylib", "scoring/tokens.py", "Tokenizer.split_words")).entry?.owner?.binding).toBe("static");
    expect((await entryOf("pylib", "scoring/tokens.py", "Tokenizer.from_settings")).entry?.owner?.binding).toBe(
      "class",
    );
  });

  test("a method that is nowhere is refused with the class's methods, inherited ones named by their class", async () => {
    const attempt = entryOf("pylib", "scoring/okapi.py", "OkapiScorer.rank");
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(attempt).rejects.toMatchObject({
      code: "E_ENTRY_NOT_FOUND",
      message:
        'Cannot find method "rank" of class "OkapiScorer" in "scoring/okapi.py"; OkapiScorer has _document_score, get_scores (from Scorer), top_n (from Scorer). Pass one of them with --entry OkapiScorer.NAME.',
    });
  });

  test("without the repository, an imported base is not followed and the refusal says whose methods are unknown", () => {
    const source = readFileSync(join(FIXTURES, "pylib/scoring/okapi.py"), "utf8");
    const extracted = extractFileFacts("okapi.py", source).extracted;
    expect(() =>
      chooseEntry(extracted, "python", { requested: "OkapiScorer.get_scores", fileName: "okapi.py", warnings: [] })
    )
      .toThrow(/OkapiScorer has _document_score; the methods of "Scorer" are not known/);
  });

  test("a method of an abstract class comes with a warning naming the concrete classes that extend it", async () => {
    const found = await entryOf("pylib", "scoring/base.py", "Scorer.get_scores");
    expect(found.entry?.name).toBe("Scorer.get_scores");
    expect(found.warnings).toEqual([
      'Scorer is abstract, so the eval cannot build one from the test data\'s "setup"; pass --entry with a concrete class that extends it',
    ]);
    const inFile = await entryOf("tslib", "src/base.ts", "BaseIndex.search");
    expect(inFile.warnings).toHaveLength(1);
  });

  test("bases that name each other end the walk instead of looping", async () => {
    await expect(entryOf("pylib", "scoring/cycle.py", "Left.nothing")).rejects.toMatchObject({
      message: expect.stringContaining("Left has left, right (from Right)"),
    });
  });

  test("an unknown class is refused with the file's classes", async () => {
    await expect(entryOf("pyflat", "library.py", "Missing.search")).rejects.toMatchObject({
      code: "E_ENTRY_NOT_FOUND",
      message: expect.stringContaining(
        'Cannot find class "Missing" in "library.py"; it defines Matcher, BaseIndex, Fuzzy, Exact.',
      ),
    });
  });
});

describe("the choice in a file of classes", () => {
  test("a concrete leaf's method named like an entry wins, inherited or not, with a warning naming the others", async () => {
    const found = await entryOf("pyflat", "library.py");
    expect(found.entry?.name).toBe("Fuzzy.search");
    expect(found.warnings).toHaveLength(1);
    expect(found.warnings[0]).toMatch(
      /^"library\.py" has no public top-level function, so the eval calls the method Fuzzy\.search on an instance built from the test data's "setup"; the others are Exact\.search, .*Pass --entry Class\.method to choose another\.$/,
    );
    expect(found.warnings[0]).not.toContain("BaseIndex.");
    expect(found.warnings[0]).not.toContain("Matcher.");
  });

  test("get_scores carries the word score: a subclass's inherited get_scores is chosen", async () => {
    expect((await entryOf("pylib", "scoring/okapi.py")).entry?.name).toBe("OkapiScorer.get_scores");
  });

  test("a TypeScript subclass of an imported abstract base offers the base's search", async () => {
    expect((await entryOf("tslib", "src/fuzzy.ts")).entry).toMatchObject({
      name: "Fuzzy.search",
      owner: { definedInFile: "src/base.ts" },
    });
  });

  test("a file of private classes only has no entry", () => {
    const extracted =
      extractFileFacts("x.py", "class _Hidden:\n    def search(self, q):\n        return [q]\n").extracted;
    expect(chooseEntry(extracted, "python", { fileName: "x.py", warnings: [] })).toBeNull();
  });
});

/** A function's facts as an extractor reports them, for the choice's rules alone. */
function facts(name: string, extra: Partial<FunctionFacts> = {}): FunctionFacts {
  return {
    name,
    line: 1,
    signature: `def ${name}(q)`,
    params: ["q"],
    returnsShape: "unknown",
    calls: [],
    public: true,
    method: false,
    ...extra,
  };
}

describe("functions that return nothing are not entries", () => {
  const cases: [string, FunctionFacts[], string | null][] = [
    ["a main() that only prints", [facts("main", { returnsValue: false })], null],
    ["a main() that prints loses to a helper that returns", [
      facts("main", { returnsValue: false }),
      facts("encode", { returnsValue: true }),
    ], "encode"],
    ["a function declared -> None", [facts("train", { returns: "None" }), facts("evaluate")], "evaluate"],
    ["a function declared : void", [facts("printAll", { returns: "void" })], null],
  ];
  for (const [sentence, functions, expected] of cases) {
    test(sentence, () => {
      const extracted: Extracted = { levers: [], functions, classes: [], imports: [] };
      expect(chooseEntry(extracted, "python", { fileName: "x.py", warnings: [] })?.name ?? null).toBe(expected);
    });
  }

  test("--entry still reaches a function that returns nothing when asked for by name", () => {
    const extracted: Extracted = {
      levers: [],
      functions: [facts("main", { returnsValue: false })],
      classes: [],
      imports: [],
    };
    expect(chooseEntry(extracted, "python", { requested: "main", fileName: "x.py", warnings: [] })?.name).toBe("main");
  });
});

describe("reading --entry and imports", () => {
  const requests: [string, ReturnType<typeof parseEntryRequest>][] = [
    ["rank", { file: null, className: null, member: "rank", text: "rank" }],
    ["Ranker.rank", { file: null, className: "Ranker", member: "rank", text: "Ranker.rank" }],
    ["Fuzzy#search", { file: null, className: "Fuzzy", member: "search", text: "Fuzzy#search" }],
    ["src/search.ts:search", {
      file: "src/search.ts",
      className: null,
      member: "search",
      text: "src/search.ts:search",
    }],
    ["lib/okapi.py:OkapiScorer.get_scores", {
      file: "lib/okapi.py",
      className: "OkapiScorer",
      member: "get_scores",
      text: "lib/okapi.py:OkapiScorer.get_scores",
    }],
    ["src/search.ts:Fuzzy#search", {
      file: "src/search.ts",
      className: "Fuzzy",
      member: "search",
      text: "src/search.ts:Fuzzy#search",
    }],
  ];
  for (const [text, expected] of requests) {
    test(`--entry ${text}`, () => expect(parseEntryRequest(text)).toEqual(expected));
  }

  const modules: [string, string, string, string, string[]][] = [
    ["a relative Python module", "pylib", "scoring/okapi.py", ".base", ["scoring/base.py"]],
    ["an absolute Python module from the root", "pylib", "scoring/plus.py", "scoring.base", ["scoring/base.py"]],
    ["an absolute Python module from src/", "pylib", "scoring/tokens.py", "textkit.normalise", [
      "src/textkit/normalise.py",
    ]],
    ["a Python package", "pylib", "scoring/okapi.py", ".", ["scoring/__init__.py"]],
    ["a TypeScript module imported with .js", "tslib", "src/fuzzy.ts", "./base.js", ["src/base.ts"]],
    ["a module without extension", "tslib", "src/legacy.js", "./base", ["src/base.ts"]],
    ["a package name, outside the project", "tslib", "src/fuzzy.ts", "react", []],
    ["a Python module of the standard library", "pylib", "scoring/base.py", "abc", []],
  ];
  for (const [sentence, project, from, specifier, expected] of modules) {
    test(`resolves ${sentence}`, () => {
      const repoRoot = join(FIXTURES, project);
      const language = from.endsWith(".py") ? "python" : from.endsWith(".js") ? "javascript" : "typescript";
      const found = resolveModule(join(repoRoot, from), specifier, language, repoRoot).map((path) =>
        relative(repoRoot, path)
      );
      expect(found).toEqual(expected);
    });
  }

  test("imports read from text, for an extractor that gives none", () => {
    expect(scanImports("from .base import Scorer as S, Other\nimport pkg.base as b\n", "python")).toEqual([
      { local: "S", module: ".base", imported: "Scorer", line: 1 },
      { local: "Other", module: ".base", imported: "Other", line: 1 },
      { local: "b", module: "pkg.base", imported: null, line: 2 },
    ]);
    expect(
      scanImports(
        'import Def, { A as B, C } from "./x";\nimport * as ns from "./y";\nconst { D } = require("./z");\n',
        "typescript",
      ),
    ).toEqual([
      { local: "Def", module: "./x", imported: "default", line: 1 },
      { local: "B", module: "./x", imported: "A", line: 1 },
      { local: "C", module: "./x", imported: "C", line: 1 },
      { local: "ns", module: "./y", imported: null, line: 2 },
      { local: "D", module: "./z", imported: "D", line: 3 },
    ]);
  });
});

describe("entries in other files of the project", () => {
  test("a config file's candidates are the methods and functions of the files that import it, returning ones only", () => {
    const repoRoot = join(FIXTURES, "config-ts");
    const tracked = Object.keys(projectFiles("config-ts"));
    expect(entryCandidates(repoRoot, "src/core/config.ts", { extract: extractFileFacts, tracked })).toEqual([{
      file: "src/search.ts",
      name: "Fuzzy.search",
      signature: "search(query: string): string[]",
      line: 7,
      entry: "src/search.ts:Fuzzy#search",
      reason: "imports",
    }]);
  });

  test("a Python module of constants offers the function of the module that imports it", () => {
    const repoRoot = join(FIXTURES, "config-py");
    const found = entryCandidates(repoRoot, "weights.py", {
      extract: extractFileFacts,
      tracked: ["search.py", "weights.py"],
    });
    expect(found.map((candidate) => candidate.entry)).toEqual(["search.py:rank_documents"]);
  });

  test("a class declared in two files is found in both; in one, in that one", () => {
    const repoRoot = join(FIXTURES, "ambiguous");
    const tracked = Object.keys(projectFiles("ambiguous"));
    expect(filesDefiningClass(repoRoot, "Fuzzy", "typescript", tracked)).toEqual(["src/a/fuzzy.ts", "src/b/fuzzy.ts"]);
    expect(filesDefiningClass(join(FIXTURES, "tslib"), "Fuzzy", "typescript", Object.keys(projectFiles("tslib"))))
      .toEqual(["src/fuzzy.ts"]);
    expect(filesDefiningClass(repoRoot, "Fuzzy", "python", tracked)).toEqual([]);
  });
});

// ---- init end to end ---------------------------------------------------------------------------

function init(root: string, args: string[]) {
  const result = runScript("init", [...args, "--yes", "--json"], { cwd: root });
  return { ...result, json: result.code === 0 ? JSON.parse(result.stdout) : null };
}

describe("init with entries as libraries are shaped", () => {
  test("--entry path:Class#method calls a class in another file; that file is frozen and the levers are the config's", () => {
    const root = makeRepo(projectFiles("config-ts"));
    const result = init(root, ["src/core/config.ts", "--entry", "src/search.ts:Fuzzy#search"]);
    expect(result.stderr).not.toContain("E_");
    expect(result.code).toBe(0);
    expect(result.json.entry).toMatchObject({
      name: "Fuzzy.search",
      file: "src/search.ts",
      owner: { className: "Fuzzy", binding: "instance", constructorParams: ["titles"] },
    });
    expect(result.json.levers.map((lever: { name: string }) => lever.name)).toContain("CONFIG.threshold");
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.frozen).toEqual(["src/search.ts"]);
    expect(experiment.rounds[0].constrained_files).toEqual(["src/core/config.ts"]);
  });

  test("--entry Class#method finds the class among the project's files", () => {
    const root = makeRepo(projectFiles("config-ts"));
    const found = init(root, ["src/core/config.ts", "--entry", "Fuzzy#search"]);
    expect(found.json.entry).toMatchObject({ name: "Fuzzy.search", file: "src/search.ts" });
    expect(parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml").frozen).toEqual(["src/search.ts"]);
  });

  test("--cases-from fills the inputs of a class entry's required parameters", () => {
    const root = makeRepo({ ...projectFiles("pyflat"), "inputs.json": '["alpha", "beta"]\n' });
    const result = init(root, ["library.py", "--entry", "Fuzzy.search", "--cases-from", "inputs.json"]);
    expect(result.json?.entry ?? result.stderr).toMatchObject({ name: "Fuzzy.search", required: ["query"] });
    const data = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(data.cases.map((item: { input: unknown }) => item.input)).toEqual([{ query: "alpha" }, { query: "beta" }]);
  });

  test("--entry module.path:Class.method, as a Python entry point is spelled, names the module's file", () => {
    const root = makeRepo({ ...projectFiles("pylib"), "settings.py": "TOP_N = 5\n" });
    const result = init(root, ["settings.py", "--entry", "scoring.okapi:OkapiScorer.get_scores"]);
    expect(result.json?.entry ?? result.stderr).toMatchObject({
      name: "OkapiScorer.get_scores",
      file: "scoring/okapi.py",
      owner: { definedInFile: "scoring/base.py" },
    });
  });

  test("--cases-from fills the parameters of an entry in another file", () => {
    const inputs = '[{"query": "cat", "documents": [{"title": "cat", "body": ""}]}]\n';
    const root = makeRepo({ ...projectFiles("config-py"), "inputs.json": inputs });
    const result = init(root, ["weights.py", "--entry", "search.py:rank_documents", "--cases-from", "inputs.json"]);
    expect(result.json?.entry ?? result.stderr).toMatchObject({ name: "rank_documents", file: "search.py" });
    const data = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(data.cases[0].input).toEqual({ query: "cat", documents: [{ title: "cat", body: "" }] });
  });

  test("an inherited method from an imported base is the entry of a Python subclass, with its owner", () => {
    const root = makeRepo(projectFiles("pylib"));
    const result = init(root, ["scoring/okapi.py", "--entry", "OkapiScorer.get_scores"]);
    expect(result.code).toBe(0);
    expect(result.json.entry).toMatchObject({
      name: "OkapiScorer.get_scores",
      owner: { className: "OkapiScorer", definedIn: "Scorer", definedInFile: "scoring/base.py" },
    });
  });

  test("a file no eval could call is refused before anything is written, with the ready commands", () => {
    const root = makeRepo(projectFiles("config-ts"));
    const before = fileHashes(root, { git: true });
    const result = runScript("init", ["src/core/config.ts", "--yes"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('No entry function in "src/core/config.ts" for a generated eval to call');
    expect(lines[0]).toMatch(/init\.ts src\/core\/config\.ts --entry 'src\/search\.ts:Fuzzy#search'/);
    expect(lines[0]).toContain('--eval-cmd "CMD that prints SCORE: x" --test-data PATH');
    expect(lines[0]).toContain("--agent CMD");
    expect(fileHashes(root, { git: true })).toEqual(before);
    const json = runScript("init", ["src/core/config.ts", "--yes", "--json"], { cwd: root });
    expect(json.code).toBe(2);
    expect(json.stdout + json.stderr).toContain("E_NO_ENTRY");
  });

  test("a JSON config read by Python code: the shell eval's warning names the reader, and --entry gives a Python eval", () => {
    const root = makeRepo(projectFiles("config-json"));
    const shell = init(root, ["weights.json"]);
    expect(shell.json.eval_command).toBe("bash autoresearch_eval.sh");
    expect(shell.json.warnings).toContainEqual(
      expect.stringMatching(
        /^search\.py reads "weights\.json"; to have the eval call its entry instead of running the file: .*init\.ts weights\.json --entry search\.py:rank --force$/,
      ),
    );
    const python = init(root, ["weights.json", "--entry", "search.py:rank", "--force"]);
    expect(python.json.entry).toMatchObject({ name: "rank", file: "search.py", required: ["query", "documents"] });
    expect(python.json.eval_command).toBe("python3 autoresearch_eval.py");
    expect(read(root, "autoresearch_eval.py")).toContain('MODULE = "search"');
    expect(parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml").frozen).toEqual(["search.py"]);
  });

  test("with --eval-cmd, a file without an entry is fine", () => {
    const root = makeRepo(projectFiles("config-ts"));
    const result = init(root, ["src/core/config.ts", "--eval-cmd", "node eval.js"]);
    expect(result.code).toBe(0);
    expect(result.json.entry).toBeNull();
  });

  const refusals: [string, string[], RegExp, string][] = [
    [
      "a missing entry file",
      ["src/core/config.ts", "--entry", "src/nope.ts:search"],
      /--entry "src\/nope\.ts:search": "src\/nope\.ts" does not exist; pass a file of this repository, e.g. .*--entry 'src\/search\.ts:Fuzzy#search'/,
      "config-ts",
    ],
    [
      "a class declared in two files",
      ["src/settings.ts", "--entry", "Fuzzy#search"],
      /class Fuzzy is declared in 2 files \(src\/a\/fuzzy\.ts, src\/b\/fuzzy\.ts\); name the file, e.g\. .*--entry 'src\/a\/fuzzy\.ts:Fuzzy#search'/,
      "ambiguous",
    ],
    [
      "a class declared nowhere",
      ["src/settings.ts", "--entry", "Nowhere#search"],
      /no tracked TypeScript\/JavaScript file of the repository declares class Nowhere/,
      "ambiguous",
    ],
  ];
  for (const [sentence, args, message, project] of refusals) {
    test(`init refuses ${sentence} in one line, exit code 2, nothing written`, () => {
      const root = makeRepo(projectFiles(project));
      const before = fileHashes(root, { git: true });
      const result = runScript("init", [...args, "--yes"], { cwd: root });
      expect(result.stderr).toMatch(message);
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(fileHashes(root, { git: true })).toEqual(before);
    });
  }

  test("init refuses an entry file outside the repository (a link leading out) in one line", () => {
    const outside = temporaryFolder();
    writeFiles(outside, { "search.ts": "export function search(q: string): string[] {\n  return [q];\n}\n" });
    const root = makeRepo(projectFiles("config-ts"));
    symlinkSync(join(outside, "search.ts"), join(root, "linked.ts"));
    const before = fileHashes(root, { git: true });
    const result = runScript("init", ["src/core/config.ts", "--entry", "linked.ts:search", "--yes"], { cwd: root });
    expect(result.stderr).toMatch(
      /^init\.ts: --entry "linked\.ts:search": "linked\.ts" is outside the git repository at ".*"; pass a file of this repository, e\.g\. .*--entry 'src\/search\.ts:Fuzzy#search'\n$/,
    );
    expect(result.code).toBe(2);
    expect(fileHashes(root, { git: true })).toEqual(before);
  });

  test("--entry naming the constrained file itself is the ordinary entry: nothing extra is frozen", () => {
    const root = makeRepo(projectFiles("config-ts"));
    const result = init(root, ["src/search.ts", "--entry", "src/search.ts:Fuzzy#search"]);
    expect(result.code).toBe(0);
    expect(result.json.entry.name).toBe("Fuzzy.search");
    expect(result.json.entry.file).toBeUndefined();
    expect(parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml").frozen).toEqual([]);
  });
});

describe("functions and class methods ranked together", () => {
  function choose(source: string, fileName = "ranker.py") {
    const language = fileName.endsWith(".py") ? "python" : "typescript";
    const { extracted } = extractFileFacts(fileName, source);
    const warnings: string[] = [];
    const entry = chooseEntry(extracted, language, { fileName, warnings, source });
    return { entry: entry?.name ?? null, warnings };
  }

  test("an exact search method beats a top-level helper, and the helper is named", () => {
    const found = choose(
      [
        "def tokenize(text) -> list[str]:",
        "    return text.lower().split()",
        "",
        "class BM25:",
        "    def __init__(self, corpus, k1=1.5):",
        "        self.corpus = corpus",
        "",
        "    def search(self, query):",
        "        return sorted(self.corpus, key=lambda doc: -len(set(tokenize(doc)) & set(tokenize(query))))",
        "",
      ].join("\n"),
      "bm25.py",
    );
    expect(found).toEqual({
      entry: "BM25.search",
      warnings: [
        `Chose the method BM25.search as the entry of "bm25.py" by its name on an instance built from the test data's "setup", over the top-level function tokenize: pass --entry tokenize if the eval should call that instead`,
      ],
    });
  });

  test("a name-word method beats a function with no entry word; a function named as well as the method wins", () => {
    const word = choose(
      "def load(path):\n    return open(path).read()\n\nclass Index:\n    def rank_all(self, q):\n        return [q]\n",
    );
    expect(word.entry).toBe("Index.rank_all");
    expect(word.warnings[0]).toContain("over the top-level function load");
    const tie = choose("def rank(q):\n    return [q]\n\nclass Ranker:\n    def search(self, q):\n        return [q]\n");
    expect(tie).toEqual({
      entry: "rank",
      warnings: [
        `Chose the function "rank" as the entry of "ranker.py" over the class method Ranker.search: pass --entry Ranker.search if the eval should call that instead`,
      ],
    });
  });

  test("a function that builds the class (itself or through what it calls) stays the entry over the class's method", () => {
    const found = choose(
      [
        "class Model:",
        "    def __init__(self, width):",
        "        self.width = width",
        "",
        "    def predict(self, features) -> int:",
        "        return int(sum(features) > self.width)",
        "",
        "def fit(rows):",
        "    return Model(len(rows))",
        "",
        "def main(argv=None):",
        "    model = fit([[1], [2]])",
        "    return model.predict([1, 2])",
        "",
      ].join("\n"),
      "train.py",
    );
    expect(found.entry).toBe("main");
    expect(found.warnings.at(-1)).toBe(
      `Chose the function "main" as the entry of "train.py" over the class method Model.predict: pass --entry Model.predict if the eval should call that instead`,
    );
  });

  test("a decorator is passed over for a class's method, and the warning says why", () => {
    const found = choose(
      [
        "import functools",
        "",
        "def cached(fn):",
        "    @functools.wraps(fn)",
        "    def wrapper(*args):",
        "        return fn(*args)",
        "    return wrapper",
        "",
        "class Ranker:",
        "    @cached",
        "    def rank(self, q):",
        "        return [q]",
        "",
      ].join("\n"),
    );
    expect(found.entry).toBe("Ranker.rank");
    expect(found.warnings).toEqual([
      `"ranker.py"'s top-level function cached looks like a decorator, so the eval calls the method Ranker.rank on an instance built from the test data's "setup". Pass --entry Class.method to choose another.`,
    ]);
  });

  test("decorators by parameter type, by return type and by returning an inner function; a helper inside is no decorator", () => {
    const python = [
      "from typing import Callable",
      "",
      "def timed(target: Callable[..., list]) -> list:",
      "    return target",
      "",
      "def retry(times=3):",
      "    def wrap(fn):",
      "        return fn",
      "    return wrap",
      "",
      "def memo(size) -> Callable[[str], list]:",
      "    return lambda q: [q]",
      "",
      "def ranked(docs):",
      "    def key(doc):",
      "        return len(doc)",
      "    return sorted(docs, key=key)",
      "",
    ].join("\n");
    expect(choose(python)).toEqual({ entry: "ranked", warnings: [] });
    const typescript = [
      "export function memoize<T>(compute: (query: string) => T) {",
      "  const seen = new Map<string, T>();",
      "  return (query: string) => seen.get(query) ?? compute(query);",
      "}",
      "export function withLogging(label: string) {",
      "  function wrapped(query: string) { return [label, query]; }",
      "  return wrapped;",
      "}",
      "export class Finder {",
      "  find(query: string): string[] { return [query]; }",
      "}",
      "",
    ].join("\n");
    const found = choose(typescript, "finder.ts");
    expect(found.entry).toBe("Finder.find");
    expect(found.warnings[0]).toContain("top-level functions memoize, withLogging look like decorators");
  });

  test("a file whose only function looks like a decorator still offers it, with a warning", () => {
    const found = choose("def cached(fn):\n    def wrapper(*args):\n        return fn(*args)\n    return wrapper\n");
    expect(found.entry).toBe("cached");
    expect(found.warnings[0]).toMatch(/^"cached" in "ranker\.py" looks like a decorator/);
  });
});

describe("importers written from . import NAME and from pkg import NAME", () => {
  test("both find the constrained module, and their functions are offered", () => {
    const repoRoot = temporaryFolder();
    const files: Record<string, string> = {
      "pkg/__init__.py": "",
      "pkg/weights.py": "TITLE = 2.0\nBODY = 1.0\n",
      "pkg/search.py":
        "from . import weights\n\ndef rank_documents(query, docs):\n    return sorted(docs, key=lambda d: weights.TITLE)\n",
      "app.py": "from pkg import weights as w\n\ndef score(query, doc):\n    return w.BODY\n",
      "other.py": "from pkg import search\n\ndef classify(text):\n    return 'weights'\n",
    };
    writeFiles(repoRoot, files);
    const found = entryCandidates(repoRoot, "pkg/weights.py", {
      extract: extractFileFacts,
      tracked: Object.keys(files),
    });
    expect(found.map((candidate) => candidate.entry)).toEqual(["app.py:score", "pkg/search.py:rank_documents"]);
  });
});

describe("--entry naming a class nested in a class of the file", () => {
  test("the refusal says nested classes' methods are not reachable and names the top-level classes' methods", () => {
    const source = [
      "class Ranker:",
      "    class Config:",
      "        def search(self, q):",
      "            return [q]",
      "",
      "    def rank(self, q):",
      "        return [q]",
      "",
    ].join("\n");
    const { extracted } = extractFileFacts("ranker.py", source);
    let message = "";
    try {
      chooseEntry(extracted, "python", {
        requested: "Ranker.Config.search",
        fileName: "ranker.py",
        warnings: [],
        source,
      });
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      message = (error as CliError).message;
    }
    expect(message).toBe(
      `Cannot find "Ranker.Config.search" in "ranker.py": "Ranker.Config" is inside the class Ranker of this file, and the methods of classes nested in a class are not reachable as an entry; the file's classes offer Ranker.rank. Pass one of them with --entry Class.method.`,
    );
    expect(message).not.toContain("path/to/module");
  });
});
