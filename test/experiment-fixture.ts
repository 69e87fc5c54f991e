// A small but real Python experiment for baseline/iterate tests, built without
// init.ts: a constrained module with numeric levers, an eval printing the contract
// (SCORE, MRR, CASE lines), 16 labelled cases and a hand-written autoresearch.yaml.
// Knobs change the eval's behaviour (noise, timeout, direction, guard threshold).
// Also the price model the pipeline tests hand to init.ts (a file and its test data, no harness).
import { writeFileSync } from "node:fs";
import { makeRepo, runScript } from "./helpers.ts";

export type FixtureOptions = {
  /** sd of Gaussian noise added to SCORE per run (0: deterministic). */
  noise?: number;
  direction?: "max" | "min";
  guardThreshold?: number;
  guardOp?: ">=" | "<=" | ">" | "<";
  timeoutS?: number;
  /** Extra Python run by the eval before scoring (e.g. a sleep or a crash). */
  evalPrelude?: string;
  /** Extra or replacement files. */
  files?: Record<string, string>;
  baselineRuns?: number;
  /** Fresh incumbent runs after a keep: 0 (default, as init writes) shares incumbent runs; 2 is the earlier rule. */
  freshIncumbentRuns?: number;
  budget?: number;
  plateau?: number;
  /** Commit everything (default) — baseline needs the constrained file committed. */
  commit?: boolean;
};

export const RANKER = `# A toy scoring module: the constrained file.
WEIGHT = 1.0
BIAS = 0.0


def score(x):
    return WEIGHT * x + BIAS
`;

/** Each case scores 1 - |prediction - expected| / 10, floored at 0; the truth is 3x + 1. */
export function evalScript(options: FixtureOptions = {}): string {
  const direction = options.direction ?? "max";
  return `import json, os, random, sys
sys.path.insert(0, os.getcwd())
${options.evalPrelude ?? ""}
import ranker
cases = json.load(open("cases.json"))["cases"]
total = 0.0
for case in cases:
    error = abs(ranker.score(case["input"]["x"]) - case["expected"])
    value = max(0.0, 1 - error / 10)
    total += value
    print(f"CASE {case['id']} {value:.4f}")
quality = total / len(cases) + random.gauss(0, ${options.noise ?? 0})
score = quality if "${direction}" == "max" else 1 - quality
print(f"SCORE: {score:.4f}")
print(f"  MRR: {min(1.0, quality + 0.1):.4f}")
`;
}

export function casesJson(count = 16): string {
  const cases = Array.from(
    { length: count },
    (_, index) => ({ id: `c${index}`, input: { x: index }, expected: 3 * index + 1 }),
  );
  return JSON.stringify({ cases }, null, 1);
}

export function experimentYaml(options: FixtureOptions = {}): string {
  return `version: 1
name: fixture
current_round: 1
language: python
project: plain
entry: { name: score, signature: "def score(x)", line: 6 }
metric: { name: score, direction: ${options.direction ?? "max"} }
guard: { metric: mrr, op: "${options.guardOp ?? ">="}", threshold: ${options.guardThreshold ?? 0.1} }
test_data: cases.json
frozen: []
decision: { baseline_runs: ${options.baselineRuns ?? 3}, fresh_incumbent_runs: ${
    options.freshIncumbentRuns ?? 0
  }, max_incumbent_runs: ${(options.freshIncumbentRuns ?? 0) === 0 ? 5 : 6} }
budget: { iterations: ${options.budget ?? 30}, plateau: ${options.plateau ?? 10} }
rounds:
  - round: 1
    status: open
    constrained_files: [ranker.py]
    eval: { command: python3 eval.py, script: eval.py, timeout_s: ${options.timeoutS ?? 60} }
    artifacts: { journal: autoresearch.jsonl, dashboard: autoresearch_dashboard.md, instructions: instructions.md, launch_prompt: launch_prompt.md, report: autoresearch_report.md }
`;
}

/** A committed git repo holding the experiment; harness files are excluded from git like init does. */
export function pythonExperiment(options: FixtureOptions = {}): string {
  const root = makeRepo({
    "ranker.py": RANKER,
    "eval.py": evalScript(options),
    "cases.json": casesJson(),
    "autoresearch.yaml": experimentYaml(options),
    "notes.txt": "the user's own file\n",
    ...options.files,
  }, { commit: options.commit });
  writeFileSync(
    `${root}/.git/info/exclude`,
    ".autoresearch/\nautoresearch*.jsonl\nautoresearch_dashboard*.md\nautoresearch_progress*.svg\n__pycache__/\n",
  );
  return root;
}

/** The experiment with its baseline recorded (baseline.ts run once), ready for iterate. */
export function baselined(options: FixtureOptions = {}): string {
  const root = pythonExperiment(options);
  const result = runScript("baseline", [], { cwd: root });
  if (result.code !== 0) throw new Error(`baseline failed: ${result.stderr}`);
  return root;
}

/** A toy price model for init.ts: the truth is 3 * size + 1; WEIGHT = 1 starts far off. */
export const PRICE_MODEL_PY = `"""Predict a price from a size: the file the agent tunes."""
WEIGHT = 1.0
BIAS = 0.0


def predict(size: float) -> float:
    return WEIGHT * size + BIAS
`;

/**
 * The price model with a little noise on every prediction, so the keep rule needs its Student-t
 * quantiles: the lazily loaded @stdlib packages must load under every runtime.
 */
export const NOISY_PRICE_MODEL_PY = `"""Predict a price from a size: the file the agent tunes."""
import random

WEIGHT = 1.0
BIAS = 0.0


def predict(size: float) -> float:
    return WEIGHT * size + BIAS + random.gauss(0, 0.02)
`;

/** 16 filled cases for the price model in the kit's test-data format: case-1 .. case-16 (case-01 when padded). */
export function priceCasesJson(options: { padIds?: boolean } = {}): string {
  const id = (number: number) => `case-${options.padIds ? String(number).padStart(2, "0") : number}`;
  const cases = Array.from(
    { length: 16 },
    (_, index) => ({ id: id(index + 1), input: { size: index + 1 }, expected: 3 * (index + 1) + 1 }),
  );
  return JSON.stringify(
    { format: "autoresearch-kit/test-data@1", entry: "def predict(size: float) -> float", shape: "number", cases },
    null,
    1,
  ) + "\n";
}
