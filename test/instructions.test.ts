// instructions.ts and render-template.ts: every section of the seed's instructions, the
// sections next-round adds, and the renderer's refusal of unknown placeholders.
import { describe, expect, test } from "bun:test";
import {
  type InstructionsContext,
  readFileSummary,
  renderInstructions,
  renderLaunchPrompt,
} from "../scripts/lib/harness/instructions.ts";
import { renderTemplate } from "../scripts/lib/text/render-template.ts";
import type { Lever } from "../scripts/lib/levers/lever.ts";
import { defaultArtifacts } from "../scripts/lib/experiment/artifacts.ts";
import { parseGuard, requiredParameters } from "../scripts/lib/init/plan.ts";
import { defaultDirectionFor, describeScore, isDirectionGuessed } from "../scripts/lib/harness/metric-catalog.ts";

function context(overrides: Partial<InstructionsContext> = {}): InstructionsContext {
  return {
    name: "search",
    round: 1,
    constrainedFiles: ["search/ranker.py"],
    projectDescription: "python, plain Python project",
    fileSummary: "Rank articles.",
    entry: {
      name: "rank",
      line: 9,
      signature: "def rank(query, k=10)",
      params: ["query", "k"],
      returnsShape: "ranked_list",
    },
    functions: [{
      name: "rank",
      line: 9,
      signature: "def rank(query, k=10)",
      params: ["query", "k"],
      returnsShape: "ranked_list",
    }, { name: "boost", line: 3, signature: "def boost(x)", params: ["x"], returnsShape: "number" }],
    levers: [{
      scope: "module",
      kind: "weights",
      name: "WEIGHTS",
      line: 2,
      value: "{title: 2.0, body: 1.0}",
      keys: ["title", "body"],
    }, {
      scope: "module",
      kind: "prompt",
      name: "PROMPT",
      line: 4,
      endLine: 8,
      value: "You rank | things",
      detail: "120 chars, 5 lines",
    }],
    metric: { name: "0.8*precision@12+0.2*mrr", direction: "max" },
    guard: { metric: "mrr", op: ">=", threshold: 0.9 },
    evalCommand: "python3 autoresearch_eval.py",
    evalScript: "autoresearch_eval.py",
    testData: "autoresearch_test_data.json",
    frozen: [{ path: "search/tokenizer.py", reason: "shared with indexing." }],
    cacheDir: ".autoresearch_cache",
    iterations: 30,
    plateau: 10,
    artifacts: defaultArtifacts(1),
    commands: {
      iterate: "bun scripts/iterate.ts",
      dashboard: "bun scripts/dashboard.ts",
      baseline: "bun scripts/baseline.ts",
    },
    existingTests: ["tests/test_ranker.py"],
    earlierRounds: null,
    focus: null,
    coOptimizationWarning: false,
    ...overrides,
  };
}

describe("renderInstructions", () => {
  test("covers the seed's sections with the file's own facts", () => {
    const text = renderInstructions(context());
    expect(text.startsWith("# Autoresearch: search — Round 1\n")).toBe(true);
    expect(text).toContain("| `WEIGHTS` | weights | `{title: 2.0, body: 1.0}` | 2 |");
    expect(text).toContain("| `PROMPT` | prompt | `You rank \\| things (120 chars, 5 lines)` | 4-8 |");
    expect(text).toContain("`search/tokenizer.py`: shared with indexing.");
    expect(text).toContain("`mrr >= 0.9`");
    expect(text).toContain("SCORE = 0.8 × precision@12 + 0.2 × mrr");
    expect(text).toContain("`tests/test_ranker.py`");
    expect(text).toContain("Other functions in the file: `boost` (line 3)");
    expect(text).toContain("Start with `WEIGHTS`, `PROMPT`.");
    expect(text).toContain("<!-- min-delta:start -->");
    expect(text).not.toContain("Summary of earlier rounds");
    expect(text).not.toMatch(/\n{3,}/);
    expect(text).not.toContain("{{");
  });

  test("round N+1 adds the earlier rounds, the focus and the co-optimisation warning", () => {
    const text = renderInstructions(
      context({
        round: 2,
        artifacts: defaultArtifacts(2),
        earlierRounds: "Round 1: 0.69 -> 0.74.",
        focus: "Tune the prompt.",
        coOptimizationWarning: true,
      }),
    );
    expect(text).toContain("# Autoresearch: search — Round 2");
    expect(text).toContain("## Summary of earlier rounds\n\nRound 1: 0.69 -> 0.74.");
    expect(text).toContain("## Focus of this round\n\nTune the prompt.");
    expect(text).toContain("## Co-optimisation warning");
    expect(text).toContain("autoresearch_2.jsonl");
    expect(text).toContain("autoresearch_report_2.md");
  });

  test("a user's own eval is named as frozen, with no generated script", () => {
    const text = renderInstructions(context({ evalScript: null, evalCommand: "make eval", testData: null }));
    expect(text).toContain("The eval (`make eval`) and every file it reads");
    expect(text).not.toContain("--verbose`: it prints");
  });

  test("an eval of the owner's is described as it is: its command, what it prints, frozen; nothing of a generated one", () => {
    const text = renderInstructions(
      context({ evalScript: null, evalCommand: "make eval", metric: { name: "accuracy", direction: "max" } }),
    );
    expect(text).toContain(
      "Command (run by iterate from the experiment folder): `make eval`. It is the experiment owner's eval, frozen",
    );
    expect(text).toContain("**SCORE** — **accuracy** as `make eval` computes it (higher is better)");
    expect(text).toContain("the harness runs it again and decides keep or discard with statistics");
    expect(text).toContain("the eval `make eval` is the owner's, and how it uses this function is up to that eval");
    expect(text).toContain("3. The eval `make eval` runs and prints SCORE — FROZEN");
    // What init cannot know about an eval it did not write, and used to claim anyway.
    for (
      const wrong of [
        "called once per test case",
        "equals the expected output",
        "## Caching",
        ".autoresearch_cache",
        "An exception in any test case crashes the run",
        "and deterministic.",
        "--verbose",
        "runs the file as a program",
      ]
    ) expect(text).not.toContain(wrong);
  });

  test("with no entry, an owner's eval is named by its command; only the generated shell eval runs the file", () => {
    const own = renderInstructions(
      context({ entry: null, functions: [], evalScript: null, evalCommand: "python3 autoresearch_eval.py" }),
    );
    expect(own).toContain(
      "- No entry function was identified; the eval is the command `python3 autoresearch_eval.py`, which uses `search/ranker.py` the way its owner wrote it",
    );
    expect(own).toContain("- change how the file is used: its format, the names other code reads from it");
    expect(own).not.toContain("as a program");
    const shell = renderInstructions(
      context({
        entry: null,
        functions: [],
        evalScript: "autoresearch_eval.sh",
        evalCommand: "bash autoresearch_eval.sh",
      }),
    );
    expect(shell).toContain(
      "the eval (`autoresearch_eval.sh`) runs `search/ranker.py` as a program once per test case",
    );
    expect(shell).toContain("- change how the program is invoked");
  });

  test("an owner's eval drops the generated eval's clause from the project description", () => {
    const description = "python, Django project; the eval is a management command";
    expect(renderInstructions(context({ projectDescription: description, evalScript: null, evalCommand: "make eval" })))
      .toContain("- Constrained file: `search/ranker.py` (python, Django project).");
    expect(renderInstructions(context({ projectDescription: description }))).toContain(description);
  });

  test("a generated eval for a method builds the instance once from setup and calls the method per case", () => {
    const method = {
      name: "BM25Okapi.get_scores",
      line: 30,
      signature: "def get_scores(self, query)",
      params: ["query"],
      returnsShape: "scores" as const,
      owner: {
        className: "BM25Okapi",
        binding: "instance" as const,
        constructorParams: ["corpus", "k1", "b"],
        constructorRequired: ["corpus"],
        constructorSignature: "def __init__(self, corpus, k1=1.5, b=0.75)",
        definedIn: "BM25",
        definedInFile: "rank_bm25/base.py",
      },
    };
    const text = renderInstructions(context({ entry: method }));
    expect(text).toContain(
      "- Entry method `BM25Okapi.get_scores` (inherited from `BM25` in `rank_bm25/base.py`) (line 30): the eval builds one `BM25Okapi` instance from the test data's `setup` (its constructor parameters: `corpus`, `k1`, `b`), then calls `get_scores` on it once per test case; it returns a score per item",
    );
    const staticText = renderInstructions(
      context({ entry: { ...method, owner: { ...method.owner, binding: "static" } } }),
    );
    expect(staticText).toContain("a static method the eval calls on `BM25Okapi` itself once per test case");
    expect(staticText).not.toContain("`setup`");
  });

  test("an entry in another file: the constrained file is a config it reads, and that file is frozen", () => {
    const entry = {
      name: "search",
      line: 12,
      signature: "export function search(query: string): string[]",
      params: ["query"],
      returnsShape: "ranked_list" as const,
      file: "src/search.ts",
    };
    const text = renderInstructions(
      context({ constrainedFiles: ["src/config.ts"], entry, evalScript: "autoresearch_eval.ts", frozen: [] }),
    );
    expect(text).toContain(
      "- Entry function `search` in `src/search.ts` (line 12), FROZEN: `src/config.ts` is a config that file reads.",
    );
    expect(text).toContain("- `src/search.ts`: it holds the entry the eval calls, which reads `src/config.ts`");
    expect(text).toContain("Only `src/config.ts`: the values `src/search.ts` reads from it");
    expect(text).toContain("`search(…)` in `src/search.ts` — FROZEN; it reads `src/config.ts` — TUNABLE");
    expect(text).not.toContain("as long as the entry function keeps its signature");
    expect(text).not.toContain("The entry function's signature (name, parameters, return type)");
  });

  test("the lever table shows the new kinds, and the scope only where the name does not say it", () => {
    const levers: Lever[] = [
      { scope: "BM25Okapi.__init__", kind: "constant", name: "BM25Okapi.__init__.k1", line: 5, value: "1.5" },
      { scope: "module", kind: "count", name: "MAX_ITER", line: 2, value: "200" },
      { scope: "module", kind: "size", name: "HIDDEN_LAYERS", line: 3, value: "(16,)", detail: "tuple, 1 item" },
      { scope: "module", kind: "choice", name: "ACTIVATION", line: 4, value: '"relu"' },
      { scope: "module", kind: "rate", name: "LEARNING_RATE", line: 6, value: "0.001" },
      { scope: "rank", kind: "threshold", name: "score", line: 9, value: "0.5" },
      { scope: "Config", kind: "weight", name: "boost", line: 11, value: "2.0" },
    ];
    const text = renderInstructions(context({ levers }));
    expect(text).toContain("| Lever | Kind | Current value | Where | Line |");
    expect(text).toContain("| `BM25Okapi.__init__.k1` | constant | `1.5` |  | 5 |");
    expect(text).toContain("| `MAX_ITER` | count | `200` |  | 2 |");
    expect(text).toContain("| `HIDDEN_LAYERS` | size | `(16,) (tuple, 1 item)` |  | 3 |");
    expect(text).toContain('| `ACTIVATION` | choice | `"relu"` |  | 4 |');
    expect(text).toContain("| `score` | threshold | `0.5` | `rank` | 9 |");
    expect(text).toContain("| `boost` | weight | `2.0` | `Config` | 11 |");
    // Without a scope worth showing, the table keeps four columns.
    expect(renderInstructions(context({ levers: levers.slice(0, 2) }))).toContain(
      "| Lever | Kind | Current value | Line |",
    );
    for (
      const step of [
        "- a weight: halve or double it.",
        "- a threshold: move it by a clear amount",
        "- a rate: halve or double it",
        "- a count: step it up or down",
        "- a size: halve or double it",
        "- a choice: try the other options",
      ]
    ) expect(text).toContain(step);
    expect(text).not.toContain("- a flag:");
  });

  test("the launch prompt is short and points at the instructions, iterate and recovery", () => {
    const text = renderLaunchPrompt({
      name: "search",
      round: 1,
      constrainedFiles: ["a.py"],
      metric: { name: "mrr", direction: "max" },
      iterations: 30,
      artifacts: defaultArtifacts(1),
      commands: { iterate: "bun scripts/iterate.ts", dashboard: "bun scripts/dashboard.ts" },
    });
    expect(text.split("\n").length).toBeLessThan(25);
    for (
      const part of [
        "instructions.md",
        'bun scripts/iterate.ts -m "',
        "autoresearch.jsonl",
        "autoresearch_dashboard.md",
        "autoresearch_report.md",
      ]
    ) expect(text).toContain(part);
  });
});

describe("helpers", () => {
  test("renderTemplate refuses a placeholder without a value", () => {
    expect(renderTemplate("a {{x}} b", { x: "1" })).toBe("a 1 b");
    expect(() => renderTemplate("a {{y}}", {}, { label: "t.md" })).toThrow(
      'The t.md uses "{{y}}" but no value was given',
    );
  });

  const summaries: [string, string, string | null][] = [
    ['"""Rank documents.\n\nMore detail."""\nX = 1\n', "python", "Rank documents."],
    ["#!/usr/bin/env python3\n# Score tickets by urgency.\nX = 1\n", "python", "Score tickets by urgency."],
    ["/**\n * Ranks products.\n */\nexport const X = 1;\n", "typescript", "Ranks products."],
    ["// eslint-disable-next-line\nexport const X = 1;\n", "typescript", null],
    ["X = 1\n", "python", null],
  ];
  for (const [source, language, expected] of summaries) {
    test(`readFileSummary(${JSON.stringify(source.slice(0, 24))}) -> ${JSON.stringify(expected)}`, () => {
      expect(readFileSummary(source, language)).toBe(expected);
    });
  }

  test("parseGuard reads METRIC OP NUMBER and refuses anything else", () => {
    expect(parseGuard("mrr>=0.9")).toEqual({ metric: "mrr", op: ">=", threshold: 0.9 });
    expect(parseGuard(" latency_ms < 250 ")).toEqual({ metric: "latency_ms", op: "<", threshold: 250 });
    for (const bad of ["mrr=0.9", "mrr>=", ">=0.9", "mrr >= high"]) {
      expect(() => parseGuard(bad)).toThrow(/Cannot read --guard/);
    }
  });

  test("requiredParameters skips defaults, optionals and variadics", () => {
    const entry = (signature: string, params: string[]) => ({
      name: "f",
      line: 1,
      signature,
      params,
      returnsShape: "unknown" as const,
    });
    expect(
      requiredParameters(entry("def rank(query: str, k: int = 10, *, docs=None) -> list[str]", ["query", "k", "docs"])),
    ).toEqual(["query"]);
    expect(
      requiredParameters(
        entry("export function rank(query: string, k = 10, opts?: {x: number}): string[]", ["query", "k", "opts"]),
      ),
    ).toEqual(["query"]);
    expect(requiredParameters(entry("def f(a, b: dict[str, int], *args, **kwargs)", ["a", "b", "*args", "**kwargs"])))
      .toEqual(["a", "b"]);
    expect(requiredParameters(entry("const f = (items: Array<{id: string}>, cmp = (a, b) => a - b)", ["items", "cmp"])))
      .toEqual(["items"]);
  });

  test("metric names pick their direction and description", () => {
    expect(defaultDirectionFor("latency_ms")).toBe("min");
    expect(defaultDirectionFor("mean_abs_error")).toBe("min");
    expect(defaultDirectionFor("precision@12")).toBe("max");
    expect(defaultDirectionFor("0.8*precision@12+0.2*mrr")).toBe("max");
    expect(describeScore("mrr", "max", "rank")).toContain("mean reciprocal rank");
  });

  test.each([
    ["val_bpb", "min", false],
    ["val_loss", "min", false],
    ["perplexity", "min", false],
    ["wer", "min", false],
    ["test_nll", "min", false],
    ["kl_divergence", "min", false],
    ["val_mse", "min", false],
    ["cross_entropy", "min", false],
    ["neg_log_likelihood", "min", false],
    ["bits_per_byte", "min", false],
    ["brier_score", "min", false],
    ["num_incorrect", "min", false],
    ["false_positives", "min", false],
    ["drops", "min", false],
    ["bpd", "min", false],
    ["errors_per_hour", "min", false],
    ["bits_per_second", "max", false], // a rate, not bits per byte
    ["tokens_per_sec", "max", false],
    ["requests_per_sec", "max", false],
    ["log_likelihood", "max", false],
    ["relevant_items", "max", true], // "items" ends in "ms" but is not milliseconds
    ["p99_ms", "min", false],
    ["margin_distance", "max", true],
    ["power", "max", true], // "wer" is a word, not a substring
    ["answers", "max", true],
    ["hits@10", "max", false],
    ["f1", "max", false],
    ["accuracy", "max", false],
    ["objective", "max", true],
    ["mean_abs_error", "min", false],
  ])("%p: %p is better (a guess: %p)", (name, direction, guessed) => {
    expect(defaultDirectionFor(name)).toBe(direction as "max" | "min");
    expect(isDirectionGuessed(name)).toBe(guessed);
  });
});
