// decision.noise_model through the real scripts on temporary git repositories: init writes
// proportional for a timing metric and auto otherwise; a throughput eval whose seeded noise is 3%
// of its score, tuned 100 -> 300 -> 900 by two keeps, then judges a no-op with 3% of 900 under
// the proportional model and with the slower versions' pooled sd under the constant one (the
// journal's sigma and reason say which). A bad value is refused with the file unchanged.
import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { experimentYaml, pythonExperiment } from "./experiment-fixture.ts";
import { type Line, makeRepo, results, runScript, setLever } from "./helpers.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import type { NoiseModel } from "../scripts/lib/decision/options.ts";

/** Requests per second: 100 x score(1) (WEIGHT), with seeded noise of 3% of it (one seed per run, the same on every machine). */
const THROUGHPUT_EVAL = `import os, random, sys
sys.path.insert(0, os.getcwd())
_run = int(open(".run-counter").read()) + 1 if os.path.exists(".run-counter") else 1
open(".run-counter", "w").write(str(_run))
random.seed(_run)
import ranker
level = 100 * ranker.score(1.0)
print(f"SCORE: {level * (1 + 0.03 * random.gauss(0, 1)):.2f}")
`;

function throughputExperiment(noiseModel: string): string {
  const yaml = experimentYaml()
    .replace("metric: { name: score, direction: max }", "metric: { name: requests_per_sec, direction: max }")
    .replace(/guard: .*\n/, "guard: null\n")
    .replace("decision: {", `decision: { noise_model: ${noiseModel}, resolution: 0.01,`);
  return pythonExperiment({
    files: { "eval.py": THROUGHPUT_EVAL, "autoresearch.yaml": yaml, ".gitignore": ".run-counter\n" },
  });
}

function step(root: string, message: string): Line {
  const result = runScript("iterate", ["-m", message], { cwd: root });
  expect(result.code).toBe(0);
  return results(root).at(-1) as Line;
}

/** Baseline at 100, keeps at 300 and 900, then a no-op: its journal line. */
function noOpAfterTwoSpeedUps(noiseModel: string): Line {
  const root = throughputExperiment(noiseModel);
  expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
  setLever(root, "WEIGHT", "3.0");
  expect(step(root, "three times faster").status).toBe("keep");
  setLever(root, "WEIGHT", "9.0");
  expect(step(root, "three times faster again").status).toBe("keep");
  appendFileSync(join(root, "ranker.py"), "# a comment\n");
  return step(root, "a comment");
}

describe("decision.noise_model on a throughput eval", () => {
  test("proportional: a no-op at 900 is judged with about 3% of 900, and the reason says so", () => {
    const line = noOpAfterTwoSpeedUps("proportional");
    expect(line.status).not.toBe("keep");
    const sigma = (line.verdict as { sigma: number }).sigma;
    expect(sigma).toBeGreaterThan(0.03 * 900 * 0.6);
    expect(sigma).toBeLessThan(0.03 * 900 * 1.6);
    expect(line.reason).toMatch(/; noise \d\.\d% of the score\)/);
  });

  test("constant: the same no-op is judged with the sd pooled over the slower versions, well below 3% of 900", () => {
    const line = noOpAfterTwoSpeedUps("constant");
    const sigma = (line.verdict as { sigma: number }).sigma;
    expect(sigma).toBeLessThan(0.03 * 900 * 0.75);
    expect(line.reason).not.toMatch(/% of the score/);
  });

  test("a value the schema does not know is refused, naming the setting, and nothing changes", () => {
    const root = throughputExperiment("loud");
    const before = readFileSync(join(root, "autoresearch.yaml"), "utf8");
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/noise_model/);
    expect(result.stderr.trim().split("\n").length).toBeLessThanOrEqual(2);
    expect(readFileSync(join(root, "autoresearch.yaml"), "utf8")).toBe(before);
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
  });
});

describe("the noise model init writes", () => {
  const SERVER_PY = `"""Answer requests: the file the agent tunes."""
WORKERS = 2


def handle(request):
    return request
`;
  const rows: [string, NoiseModel][] = [["latency_ms", "proportional"], ["mrr", "auto"]];
  for (const [metric, model] of rows) {
    test(`--metric ${metric} -> noise_model: ${model}`, () => {
      const root = makeRepo({ "server.py": SERVER_PY });
      const result = runScript("init", ["server.py", "--metric", metric], { cwd: root });
      expect(result.code).toBe(0);
      const text = readFileSync(join(root, "autoresearch.yaml"), "utf8");
      expect(parseExperiment(text, "autoresearch.yaml").decision.noise_model).toBe(model);
    });
  }
});
