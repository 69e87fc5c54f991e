// A hand-made overfitting run, end to end on a real repository: init --holdout-split, baseline,
// an honest keep (a better bias, better by as much on unseen cases), then a keep that special-cases the
// eval set's inputs (perfect on them, nothing on the held-out cases). The held-out scores are
// measured by the harness, the dashboard warns, the loop's prompt carries the figure-free warning,
// and next-round --from-best-holdout starts round 2 from the honest keep.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeRepo, read, results, runScript, sh } from "./helpers.ts";
import { PRICE_MODEL_PY } from "./experiment-fixture.ts";

/** 24 filled price cases: the truth is 3 * size + 1. */
function priceCases(): string {
  const cases = Array.from(
    { length: 24 },
    (_, index) => ({ id: `case-${index + 1}`, input: { size: index + 1 }, expected: 3 * (index + 1) + 1 }),
  );
  return JSON.stringify({ format: "autoresearch-kit/test-data@1", shape: "number", cases }, null, 1) + "\n";
}

function step(root: string, message: string) {
  const result = runScript("iterate", ["-m", message], { cwd: root });
  expect(result.code).toBe(0);
  return results(root).at(-1)!;
}

describe("a change fitted to the eval set's cases", () => {
  test("is kept on the eval set, caught by the held-out set, and left out by --from-best-holdout", () => {
    // Off by exactly 1 on every case (3x against the truth 3x + 1): every change's per-case gains are even.
    const start = PRICE_MODEL_PY.replace("WEIGHT = 1.0", "WEIGHT = 3.0");
    const root = makeRepo({ "src/predict.py": start, "data/cases.json": priceCases() });
    const init = runScript("init", [
      "src/predict.py",
      "--test-data",
      "data/cases.json",
      "--metric",
      "mae",
      "--holdout-split",
      "0.3",
      "--holdout-seed",
      "7",
      "--yes",
    ], { cwd: root });
    expect(init.code).toBe(0);
    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-qm", "experiment"]);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);

    // An honest change: a better bias helps every case by the same amount, seen or not.
    const honest = start.replace("BIAS = 0.0", "BIAS = 0.5");
    writeFileSync(join(root, "src/predict.py"), honest);
    const first = step(root, "bias 0.5");
    expect(first.status).toBe("keep");
    expect(first.holdout_score).toBe(0.5);
    expect(read(root, "autoresearch_dashboard.md")).not.toContain("**Overfitting?**");

    // A fitted change: exact answers for the sizes the eval set holds, nothing else changes.
    const evalSizes = (JSON.parse(read(root, "data/cases.json")).cases as { input: { size: number } }[])
      .map((item) => item.input.size);
    const fitted = honest.replace(
      "def predict(size: float) -> float:\n",
      `def predict(size: float) -> float:\n    if size in ${JSON.stringify(evalSizes)}:\n        return 3 * size + 1\n`,
    );
    writeFileSync(join(root, "src/predict.py"), fitted);
    const second = step(root, "exact answers for the known sizes");
    expect(second.status).toBe("keep");
    expect(second.score).toBe(0); // perfect on the eval set
    expect(second.holdout_score).toBe(first.holdout_score); // and no better on unseen cases

    const dashboard = read(root, "autoresearch_dashboard.md");
    expect(dashboard).toContain("**Overfitting?**");
    expect(dashboard).toContain("--from-best-holdout` starts the next round from #1");

    const dryRun = runScript("next-round", ["--from-best-holdout", "--dry-run"], { cwd: root });
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout + dryRun.stderr).toContain("Round 2 starts from #1");

    const nextRound = runScript("next-round", ["--from-best-holdout"], { cwd: root });
    expect(nextRound.code).toBe(0);
    expect(read(root, "src/predict.py")).toBe(honest);
    expect(sh(root, "git", ["status", "--porcelain"]).trim()).toBe("");
    // The agent's next instructions warn without figures and never name the held-out file.
    const instructions = read(root, "instructions_2.md");
    expect(instructions).toContain("not carrying over to unseen cases");
    expect(instructions).not.toContain(".autoresearch/holdout");
  });
});
