// A small but real Python experiment for baseline/iterate tests, built without
// init.ts: a constrained module with numeric levers, an eval printing the contract
// (SCORE, MRR, CASE lines), 16 labelled cases and a hand-written autoresearch.yaml.
// Knobs change the eval's behaviour (noise, timeout, direction, guard threshold).
import { writeFileSync } from "node:fs";
import { makeRepo } from "./helpers.ts";

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
  const cases = Array.from({ length: count }, (_, index) => ({ id: `c${index}`, input: { x: index }, expected: 3 * index + 1 }));
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
decision: { baseline_runs: ${options.baselineRuns ?? 3} }
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
  writeFileSync(`${root}/.git/info/exclude`, ".autoresearch/\nautoresearch*.jsonl\nautoresearch_dashboard*.md\nautoresearch_progress*.svg\n__pycache__/\n");
  return root;
}
