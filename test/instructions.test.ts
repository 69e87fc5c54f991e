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
import { defaultArtifacts } from "../scripts/lib/experiment/artifacts.ts";
import { parseGuard, requiredParameters } from "../scripts/lib/init/plan.ts";
import { defaultDirectionFor, describeScore } from "../scripts/lib/harness/metric-catalog.ts";

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
});
