// What a newcomer reads in the first hour, end to end on real temporary git repositories under
// Bun: every verb's --json is JSON Lines (one object per line, read here with a line-by-line
// reader, never by parsing stdout whole), and numbers read as numbers: one rounding per quantity
// (the delta in the step line is the delta in the decision's reason), whole-number metrics
// without ".0000", no binary noise such as 0.6999600000000001 in JSON output or the journal,
// and counted nouns in agreement ("fixed 1 case").
import { describe, expect, test } from "bun:test";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { casesJson, PRICE_MODEL_PY, priceCasesJson } from "./experiment-fixture.ts";
import { decideCandidate, initialDecisionState } from "../scripts/lib/decision/decide.ts";
import {
  BUN,
  KIT_ROOT,
  makeRepo,
  read,
  runScript,
  type ScriptResult,
  setLever,
  sh,
  temporaryFolder,
} from "./helpers.ts";

/** stdout read the way a program reads JSON Lines: line by line, each non-empty line one JSON object. */
async function jsonLines(stdout: string): Promise<Record<string, unknown>[]> {
  const reader = createInterface({ input: Readable.from([stdout]), crlfDelay: Infinity });
  const objects: Record<string, unknown>[] = [];
  for await (const line of reader) {
    if (line.trim() === "") continue;
    const value: unknown = JSON.parse(line); // throws on a line that is part of a pretty-printed object
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error(`not an object: ${line}`);
    objects.push(value as Record<string, unknown>);
  }
  return objects;
}

/** Exit 0 or the script's stderr as the failure. */
function ok(result: ScriptResult, what: string): ScriptResult {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}:\n${result.stderr}\n${result.stdout}`);
  return result;
}

/** Every number in a parsed JSON value, with its path. */
function numbersIn(value: unknown, path = "$"): { path: string; value: number }[] {
  if (typeof value === "number") return [{ path, value }];
  if (Array.isArray(value)) return value.flatMap((item, index) => numbersIn(item, `${path}[${index}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => numbersIn(item, `${path}.${key}`));
  }
  return [];
}

/** Numbers carrying binary noise: those that change when written with 12 significant digits. */
function noisyNumbers(value: unknown): { path: string; value: number }[] {
  return numbersIn(value).filter((entry) => Number(entry.value.toPrecision(12)) !== entry.value);
}

/**
 * An experiment whose eval prints exactly the figures a test needs: the score is a lever plus
 * 0.1 + 0.2 - 0.3 (so Python prints 0.6999600000000001 for 0.69996: real binary noise), the
 * guard is a whole number (failures), and CASE lines pass cases c0 .. c(7 + FIXED).
 */
const LEVERS_PY = `# The constrained file: the figures the eval reports.
SCORE = 0.69996
FIXED = 0
`;

const NUMBERS_EVAL_PY = `import os, sys
sys.path.insert(0, os.getcwd())
import levers
for index in range(16):
    print(f"CASE c{index} {1.0 if index < 8 + levers.FIXED else 0.0}")
print(f"SCORE: {0.1 + 0.2 + levers.SCORE - 0.3}")
print(f"FAILURES: {8 - levers.FIXED}")
`;

function numbersExperiment(options: { metric: string; direction: "max" | "min"; eval: string }): string {
  const root = makeRepo({
    "levers.py": LEVERS_PY,
    "eval.py": options.eval,
    "cases.json": casesJson(),
    "autoresearch.yaml": `version: 1
name: numbers
current_round: 1
language: python
project: plain
metric: { name: ${options.metric}, direction: ${options.direction} }
guard: { metric: failures, op: "<=", threshold: 10 }
test_data: cases.json
frozen: []
decision: { baseline_runs: 3 }
budget: { iterations: 30, plateau: 10 }
rounds:
  - round: 1
    status: open
    constrained_files: [levers.py]
    eval: { command: python3 eval.py, script: eval.py, timeout_s: 60 }
    artifacts: { journal: autoresearch.jsonl, dashboard: autoresearch_dashboard.md, instructions: instructions.md, launch_prompt: launch_prompt.md, report: autoresearch_report.md }
`,
  });
  writeFileSync(
    join(root, ".git/info/exclude"),
    ".autoresearch/\nautoresearch*.jsonl\nautoresearch_dashboard*.md\nautoresearch_progress*.svg\n__pycache__/\n",
  );
  ok(runScript("baseline", [], { cwd: root }), "baseline");
  return root;
}

/** The journal's result lines of iterations 1 and later, as written (the baseline line is baseline.ts's). */
function iterationLines(root: string): Record<string, unknown>[] {
  return read(root, "autoresearch.jsonl").split("\n").filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.type === "result" && typeof line.iteration === "number" && line.iteration >= 1);
}

describe("--json is JSON Lines for every verb", () => {
  test("init, baseline, iterate (step and --loop), dashboard, next-round and an error each print one object per line", async () => {
    const root = makeRepo({ "src/predict.py": PRICE_MODEL_PY, "data/cases.json": priceCasesJson() });
    const run = (name: Parameters<typeof runScript>[0], args: string[]) =>
      ok(runScript(name, args, { cwd: root }), `${name} ${args.join(" ")}`);

    const init = await jsonLines(
      run("init", ["src/predict.py", "--test-data", "data/cases.json", "--metric", "mae", "--yes", "--json"]).stdout,
    );
    expect(init).toHaveLength(1);
    expect(init[0].ok).toBe(true);
    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-q", "-m", "set up the experiment"]);

    const baseline = await jsonLines(run("baseline", ["--json"]).stdout);
    expect(baseline).toHaveLength(1);
    expect(typeof baseline[0].score).toBe("number");

    setLever(root, "WEIGHT", "2.0", { file: "src/predict.py" });
    const step = await jsonLines(run("iterate", ["-m", "raise WEIGHT to 2", "--json"]).stdout);
    expect(step).toHaveLength(1);
    expect(step[0]).toMatchObject({ type: "result", iteration: 1, status: "keep" });

    const agent = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
    const loop = run("iterate", ["--loop", "--agent", agent, "--iterations", "3", "--no-report", "--json"]);
    expect(loop.stdout.trimEnd().split("\n")).toHaveLength(3); // not 3 pretty-printed objects over many lines
    const iterations = await jsonLines(loop.stdout);
    expect(iterations.map((line) => [line.type, line.iteration])).toEqual([["result", 2], ["result", 3], [
      "result",
      4,
    ]]);

    const nextRound = await jsonLines(run("next-round", ["--json"]).stdout);
    expect(nextRound).toHaveLength(1);

    const outside = temporaryFolder();
    const refused = runScript("baseline", ["--json"], { cwd: outside });
    expect(refused.code).not.toBe(0);
    const errors = await jsonLines(refused.stdout);
    expect(errors).toHaveLength(1);
    expect(errors[0].error).toMatchObject({ code: "E_NOT_GIT" });

    // No verb's JSON carries binary noise.
    for (const objects of [init, baseline, step, iterations, nextRound]) expect(noisyNumbers(objects)).toEqual([]);

    const dashboard = await jsonLines(run("dashboard", ["--round", "1", "--json"]).stdout);
    expect(dashboard).toHaveLength(1);
    expect(dashboard[0].summary).toBeDefined();
    expect(noisyNumbers(dashboard)).toEqual([]);
  });
});

/** Errors per case, lower is better: a case is fixed when its error drops from 1 to 0; the score is a count (12 - FIXED). */
const COUNTING_EVAL_PY = NUMBERS_EVAL_PY.replace(
  'print(f"SCORE: {0.1 + 0.2 + levers.SCORE - 0.3}")',
  'print(f"SCORE: {12 - levers.FIXED}")',
).replace("{1.0 if index < 8 + levers.FIXED else 0.0}", "{0.0 if index < 8 + levers.FIXED else 1.0}");

describe("numbers read as numbers", () => {
  test("one rounding per quantity, a whole-number guard without decimals, no noise, and 'fixed 1 case'", async () => {
    const root = numbersExperiment({ metric: "score", direction: "max", eval: NUMBERS_EVAL_PY });
    // The eval really prints noise, so the checks below can fail.
    expect(sh(root, "python3", ["eval.py"])).toContain("SCORE: 0.6999600000000001");

    // 0.65234 - 0.69996 = -0.04762: rounding the score first (0.6523) would make it -0.0477.
    setLever(root, "SCORE", "0.65234", { file: "levers.py" });
    const discard = ok(runScript("iterate", ["-m", "lower the score"], { cwd: root }), "iterate discard");
    expect(discard.stdout).toStartWith("#1 discard | score 0.6523 (-0.0476) over 1 run |");
    expect(discard.stdout).not.toContain("0.0477");
    expect(discard.stdout).toContain("| guard 8 PASS |"); // a count, not 8.0000

    setLever(root, "SCORE", "0.75", { file: "levers.py" });
    setLever(root, "FIXED", "1", { file: "levers.py" });
    const keep = ok(runScript("iterate", ["-m", "fix c8", "--json"], { cwd: root }), "iterate keep");
    const [line] = await jsonLines(keep.stdout);
    expect(line).toMatchObject({ status: "keep", score: 0.75, delta: "+0.0500", guard_score: 7, incumbent_mean: 0.7 });
    expect(line.cases).toEqual({ fixed: ["c8"], broken: [] });
    expect(noisyNumbers(line)).toEqual([]);
    expect(sh(root, "git", ["log", "-1", "--format=%s"]).trim()).toBe(
      "autoresearch: fix c8 | score: 0.7000 -> 0.7500 | failures: 7",
    );

    setLever(root, "SCORE", "0.8", { file: "levers.py" });
    setLever(root, "FIXED", "2", { file: "levers.py" });
    const text = ok(runScript("iterate", ["-m", "fix c9"], { cwd: root }), "iterate keep text");
    expect(text.stdout).toContain("| score 0.8000 (+0.0500) over 2 runs |");
    expect(text.stdout).toContain("| guard 6 PASS | fixed 1 case (c9) |");

    const journal = iterationLines(root);
    expect(journal.map((entry) => entry.status)).toEqual(["discard", "keep", "keep"]);
    expect(journal[0].delta).toBe("-0.0476");
    for (const entry of journal) expect(noisyNumbers(entry)).toEqual([]);
  });

  test("a whole-number score is written without decimals in the step line, its delta and the commit message", () => {
    const root = numbersExperiment({ metric: "errors", direction: "min", eval: COUNTING_EVAL_PY });
    setLever(root, "FIXED", "2", { file: "levers.py" });
    const keep = ok(runScript("iterate", ["-m", "fix two cases"], { cwd: root }), "iterate keep");
    expect(keep.stdout).toStartWith("#1 keep | score 10 (-2) over 2 runs |");
    expect(keep.stdout).toContain("| guard 6 PASS | fixed 2 cases (c8, c9) |");
    expect(sh(root, "git", ["log", "-1", "--format=%s"]).trim()).toBe(
      "autoresearch: fix two cases | score: 12 -> 10 | failures: 6",
    );
  });

  test("a count: the decision's reason, the step line, and the dashboard's header and table all write 10 and -2", () => {
    const root = numbersExperiment({ metric: "errors", direction: "min", eval: COUNTING_EVAL_PY });
    setLever(root, "FIXED", "2", { file: "levers.py" });
    const keep = ok(runScript("iterate", ["-m", "fix two cases"], { cwd: root }), "iterate keep");
    expect(keep.stdout).toStartWith("#1 keep | score 10 (-2) over 2 runs |");
    // A worse try: the discard's reason compares counts as counts too.
    setLever(root, "FIXED", "1", { file: "levers.py" });
    const discard = ok(runScript("iterate", ["-m", "undo one fix"], { cwd: root }), "iterate discard");
    expect(discard.stdout).toStartWith("#2 discard | score 11 (+1) over 1 run |");

    const [kept, discarded] = iterationLines(root);
    expect(kept.delta).toBe("-2");
    expect(kept.reason).toBe("Kept: the candidate scored 10 twice against 12 (-2; deterministic eval).");
    expect(discarded.reason).toStartWith(
      "Discarded: the candidate scored 11 against 10 (+1), not better by more than ",
    );
    for (const entry of [kept, discarded]) expect(String(entry.reason)).not.toMatch(/\d\.0000/);

    // The dashboard file (markdown): header, table, progress and top changes.
    ok(runScript("dashboard", ["--round", "1", "--format", "md"], { cwd: root }), "dashboard");
    const markdown = read(root, "autoresearch_dashboard.md");
    expect(markdown).toContain("**Baseline:** 12 | **Current best:** 10 | **Iterations:** 2/30");
    expect(markdown).toContain("**Guard:** failures <= 10 (current: 6)");
    expect(markdown).toContain("| 1 | 10 | -2 | 6 PASS | keep | fix two cases |");
    expect(markdown).toContain("| 2 | 11 | +1 | 7 PASS | discard | undo one fix |");
    expect(markdown).toContain("**Progress:** 12 → 10 (-2, -16.7%) in 1 kept change; errors, lower is better.");
    expect(markdown).toMatch(/\| 1 \| 1 \| \+2 \| 10 \| `[0-9a-f]{7}` \| fix two cases \|/);
    expect(markdown).not.toMatch(/\b(10|11|12|2|1)\.0000/);

    // The terminal and HTML renderings agree with the file.
    const text = ok(runScript("dashboard", ["--round", "1", "--format", "text", "--no-write"], { cwd: root }), "text")
      .stdout;
    expect(text).toContain("Baseline 12 | Current best 10 | Iterations 2/30");
    expect(text).toMatch(/│\s+1 │\s+10 │\s+-2 │\s+6 PASS │ keep/);
    expect(text).not.toContain(".0000");
    const html = ok(runScript("dashboard", ["--round", "1", "--format", "html", "--no-write"], { cwd: root }), "html")
      .stdout;
    expect(html).toContain('<div class="figure">Baseline<b>12</b></div>');
    expect(html).toContain('<div class="figure">Current best<b>10</b></div>');
    expect(html).toContain(
      '<td class="num">1</td><td class="num">10</td><td class="num">-2</td><td class="num">6 PASS</td>',
    );
    // The page around the chart, and the chart's own labels, alike.
    expect(html.replace(/<div class="chart">[\s\S]*?<\/svg>/, "")).not.toContain(".0000");
    const chart = html.match(/<div class="chart">[\s\S]*?<\/svg>/)?.[0] ?? "";
    expect(chart).toContain("#1 keep 10");
    expect(chart).toContain("failures &lt;= 10");
    expect(chart).not.toContain("10.0000");
  });

  test("a guard failure's reason rounds the guard mean like the guard column: 0.3812, a count as 11", () => {
    const guard = { metric: "recall", op: ">=" as const, threshold: 0.4 };
    const lowRecall = { score: 0.8, guard: 0.3812 };
    const state = {
      ...initialDecisionState([{ score: 0.7 }, { score: 0.7 }], guard),
      candidateRuns: [lowRecall, lowRecall],
    };
    const verdict = decideCandidate(state, { direction: "max" });
    expect(verdict.action).toBe("guard_fail");
    expect(verdict.reason).toBe(
      "Guard failed: the candidate improved the score but its mean recall 0.3812 is not >= 0.40.",
    );

    const failures = { metric: "failures", op: "<=" as const, threshold: 10 };
    const counted = {
      ...initialDecisionState([{ score: 12, guard: 8 }, { score: 12, guard: 8 }], failures),
      candidateRuns: [{ score: 10, guard: 11 }, { score: 10, guard: 11 }],
    };
    const countVerdict = decideCandidate(counted, { direction: "min" });
    expect(countVerdict.reason).toBe(
      "Guard failed: the candidate improved the score but its mean failures 11 is not <= 10.",
    );
  });
});
