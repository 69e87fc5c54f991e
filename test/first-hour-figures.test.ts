// What a newcomer reads in the first hour matches what happened: the guard's noise is reported
// like the score's and warned about near its threshold; "cache warm" only when the eval wrote a
// cache; the Node 22.6 note only when the eval runs under Node; the loop prompt and the
// instructions agree on running the eval and say where the dashboard appears; one figure per
// quantity (means against means, with run counts) in the table, top changes, commit and summary.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { experimentYaml, pythonExperiment } from "./experiment-fixture.ts";
import { results, runScript, setLever, sh } from "./helpers.ts";
import { detectProject, type ProjectFacts } from "../scripts/lib/harness/project.ts";
import { type InstructionsContext, renderInstructions } from "../scripts/lib/harness/instructions.ts";
import { defaultArtifacts } from "../scripts/lib/experiment/artifacts.ts";
import { loadExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import { readJournal } from "../scripts/lib/experiment/journal.ts";
import { summarizeJournal } from "../scripts/lib/experiment/summary.ts";
import { buildStatePrompt } from "../scripts/lib/iterate/state-prompt.ts";

/** A deterministic score and a latency guard read from a list, one value per run (as a timing guard jitters). */
function latencyEval(latencies: number[]): string {
  return `import json, os, sys
sys.path.insert(0, os.getcwd())
import ranker
# The run counter lives in .git, outside the work tree: nothing here is a cache a later run reads.
counter = os.path.join(".git", "latency-run")
run = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
open(counter, "w").write(str(run))
latencies = ${JSON.stringify(latencies)}
cases = json.load(open("cases.json"))["cases"]
total = sum(max(0.0, 1 - abs(ranker.score(c["input"]["x"]) - c["expected"]) / 10) for c in cases)
print(f"SCORE: {total / len(cases):.4f}")
print(f"  LATENCY_MS: {latencies[min(run, len(latencies)) - 1]}")
`;
}

function latencyExperiment(threshold: number): string {
  return pythonExperiment({
    files: {
      "eval.py": latencyEval([5.07, 3.35, 3.38, 3.4]),
      "autoresearch.yaml": experimentYaml({ guardOp: "<=", guardThreshold: threshold }).replace(
        "guard: { metric: mrr",
        "guard: { metric: latency_ms",
      ),
    },
  });
}

describe("the guard's noise is reported like the score's", () => {
  test("a latency guard of 5.07 / 3.35 / 3.38 ms against <= 5 is reported with its spread and warned about", () => {
    const root = latencyExperiment(5);
    const result = runScript("baseline", ["--json"], { cwd: root });
    expect(result.code).toBe(0);
    const guard = JSON.parse(result.stdout).guard;
    expect(guard).toMatchObject({
      metric: "latency_ms",
      op: "<=",
      threshold: 5,
      score: 3.38,
      pass: true,
      runs: [5.07, 3.35, 3.38],
      near_threshold: true,
    });
    expect(guard.spread).toBeCloseTo(1.72, 10);
    expect(guard.mean).toBeCloseTo(3.9333333, 6);
    expect(guard.sd).toBeGreaterThan(0.9);
    expect(result.stderr).toContain("Guard noise: latency_ms 5.07, 3.35, 3.38: median 3.38, mean 3.933, sd 0.9845");
    expect(result.stderr).toContain("spread 1.72");
    expect(result.stderr).toContain("warning: the guard's baseline is within its noise of the threshold");
    expect(result.stderr).toContain("can fail the guard by noise alone");
  });

  test("the same guard far from its threshold is reported but not warned about", () => {
    const root = latencyExperiment(20);
    const result = runScript("baseline", ["--json"], { cwd: root });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).guard).toMatchObject({ runs: [5.07, 3.35, 3.38], near_threshold: false });
    expect(result.stderr).toContain("Guard noise: latency_ms 5.07, 3.35, 3.38");
    expect(result.stderr).not.toContain("within its noise of the threshold");
  });
});

/** The first run of a fresh eval is slow for reasons that leave nothing in the work tree (a marker in .git stands in). */
const WARM_UP_PRELUDE = `import time
if not os.path.exists(os.path.join(".git", "warmed-up")):
    time.sleep(0.8)
    open(os.path.join(".git", "warmed-up"), "w").write("1")`;

/** An expensive per-input lookup stored in the work tree, read back by later runs: a real cache. */
const LOOKUP_CACHE_PRELUDE = `import time
_store = ".lookup-cache.json"
_known = json.load(open(_store)) if os.path.exists(_store) else {}
for _case in json.load(open("cases.json"))["cases"]:
    if _case["id"] not in _known:
        time.sleep(0.05)
        _known[_case["id"]] = _case["input"]["x"]
json.dump(_known, open(_store, "w"))`;

describe("a cache is called warm only when the eval wrote one", () => {
  test("later runs faster with nothing written is start-up warm-up, not a cache", () => {
    const root = pythonExperiment({ evalPrelude: WARM_UP_PRELUDE });
    const result = runScript("baseline", ["--json"], { cwd: root });
    expect(result.code).toBe(0);
    const cache = JSON.parse(result.stdout).cache;
    expect(cache).toMatchObject({ faster: true, warm: false, written: [] });
    expect(cache.note).toContain("start-up warm-up, not a cache");
    expect(cache.note).not.toContain("a cache is warm");
  });

  test("later runs faster after the eval wrote a file is a warm cache, and the file is named", () => {
    const root = pythonExperiment({ evalPrelude: LOOKUP_CACHE_PRELUDE });
    const result = runScript("baseline", ["--json"], { cwd: root });
    expect(result.code).toBe(0);
    const cache = JSON.parse(result.stdout).cache;
    expect(cache).toMatchObject({ faster: true, warm: true, written: [".lookup-cache.json"] });
    expect(cache.note).toContain("the eval wrote .lookup-cache.json: a cache is warm");
  });
});

describe("the Node 22.6 note only when the eval runs under Node", () => {
  const nodeProject = (others: { runtime: "bun" | "deno"; command: string }[]): ProjectFacts => {
    const files: Record<string, string> = { "package-lock.json": "{}", "package.json": "{}", "src/rank.ts": "" };
    return {
      file: "src/rank.ts",
      exists: (path) => path in files,
      read: (path) => files[path] ?? null,
      currentRuntime: "bun",
      typescriptRunners: () => ({ nodeStripsTypes: false, nodeVersion: "v20.20.2", others }),
    };
  };

  test("an eval under Bun names Bun, not Node's version requirement", () => {
    const project = detectProject(nodeProject([{ runtime: "bun", command: "bun" }]));
    expect(project.script?.command).toBe("bun");
    expect(project.notes.join("\n")).toContain("The eval runs under Bun, which is installed here");
    expect(project.notes.join("\n")).not.toContain("22.6");
  });

  test("an eval under Node (npx tsx) says what Node needs", () => {
    const project = detectProject(nodeProject([]));
    expect(project.script?.command).toBe("npx tsx");
    expect(project.notes.join("\n")).toContain("that needs Node 22.6");
  });
});

function instructionsContext(): InstructionsContext {
  return {
    name: "fixture",
    round: 1,
    constrainedFiles: ["ranker.py"],
    projectDescription: "python, plain Python project",
    fileSummary: null,
    entry: null,
    functions: [],
    levers: [],
    metric: { name: "score", direction: "max" },
    guard: null,
    evalCommand: "python3 eval.py",
    evalScript: "eval.py",
    testData: "cases.json",
    frozen: [],
    cacheDir: ".autoresearch_cache",
    iterations: 30,
    plateau: 10,
    artifacts: defaultArtifacts(1),
    commands: {
      iterate: "bun scripts/iterate.ts",
      dashboard: "bun scripts/dashboard.ts",
      baseline: "bun scripts/baseline.ts",
    },
    existingTests: [],
    earlierRounds: null,
    focus: null,
    coOptimizationWarning: false,
  };
}

describe("the loop prompt, the instructions and the dashboard tell one story", () => {
  test("both let the agent run the eval, neither lets it run iterate in the loop; the dashboard appears from iteration 1", () => {
    const root = pythonExperiment();
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const loaded = loadExperiment(join(root, "autoresearch.yaml"));
    const summary = summarizeJournal(readJournal(join(root, "autoresearch.jsonl")), { experiment: loaded.experiment });
    const prompt = buildStatePrompt(loaded, 1, 1, summary);
    const instructions = renderInstructions(instructionsContext());

    expect(prompt).not.toContain("do not run the eval");
    expect(prompt).toContain("You may run the eval to understand a result; it records nothing.");
    expect(prompt).toContain("do not run iterate");
    expect(prompt).toContain("Best: 0.1563 (baseline 0.1563; the baseline's mean of 3 runs)");
    expect(instructions).toContain("Running the eval yourself never records anything; only iterate does.");
    expect(instructions).toContain("the loop runs\n   this step after you stop");

    // What the instructions say about the dashboard is what happens: absent after baseline, printable at once.
    expect(instructions).toContain("so it does not exist before iteration 1");
    expect(instructions).toContain("`bun scripts/dashboard.ts` prints the same at any time, the baseline included");
    expect(existsSync(join(root, "autoresearch_dashboard.md"))).toBe(false);
    const printed = runScript("dashboard", ["--format", "text", "--no-write"], { cwd: root });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain("Baseline 0.1563");
    setLever(root, "BIAS", "1.0");
    expect(runScript("iterate", ["-m", "bias 1"], { cwd: root }).code).toBe(0);
    expect(existsSync(join(root, "autoresearch_dashboard.md"))).toBe(true);
  });
});

/** Seeded noise per run: the same runs on every machine. */
const SEEDED_NOISE_PRELUDE = `_run = int(open(".run-counter").read()) + 1 if os.path.exists(".run-counter") else 1
open(".run-counter", "w").write(str(_run))
random.seed(_run)`;

describe("one figure per quantity", () => {
  test("a keep's gain is one figure in the table, top changes, commit message and progress; a re-measure is named", () => {
    // The earlier rule re-measures the kept version with fresh runs at the next candidate, whatever it is.
    const root = pythonExperiment({
      noise: 0.02,
      freshIncumbentRuns: 2,
      evalPrelude: SEEDED_NOISE_PRELUDE,
      files: { ".gitignore": ".run-counter\n" },
    });
    const base = runScript("baseline", ["--json"], { cwd: root });
    expect(base.code).toBe(0);
    const report = JSON.parse(base.stdout);
    // The baseline's score is its median; iterate compares means: they differ here.
    expect(report.median).not.toBe(report.mean);
    expect(report.min_detectable_effect_df).toBe(2);
    expect(base.stderr).toContain("is estimated from 3 runs (2 degrees of freedom)");

    setLever(root, "WEIGHT", "3.0");
    const kept = runScript("iterate", ["-m", "weight 3", "--json"], { cwd: root });
    expect(kept.code).toBe(0);
    const keep = results(root).find((line) => line.status === "keep")!;
    expect(keep).toBeDefined();
    const delta = Number(keep.delta);

    const dashboard = () => {
      const shown = runScript("dashboard", ["--format", "json", "--no-write"], { cwd: root });
      expect(shown.code).toBe(0);
      return JSON.parse(shown.stdout);
    };
    const afterKeep = dashboard();
    const summary = afterKeep.summary;
    // Means against means: the baseline side is the mean of every baseline run iterate compared with.
    expect(summary.start).toBeCloseTo(report.mean, 10);
    expect(summary.startRuns).toBeGreaterThanOrEqual(3);
    expect(summary.improvement.text).toBe(keep.delta);
    expect(summary.topChanges[0].gain).toBeCloseTo(delta, 10);
    expect(afterKeep.rows.find((row: { status: string }) => row.status === "keep").delta).toBe(keep.delta);
    expect(summary.improvement.basis).toMatch(/^mean of #1's \d+ runs? vs the baseline's mean of \d+ runs$/);
    const message = sh(root, "git", ["log", "-1", "--format=%s"]);
    const [from, to] = /score: ([\d.]+) -> ([\d.]+)/.exec(message)!.slice(1).map(Number);
    expect(to - from).toBeCloseTo(delta, 3);

    // A later candidate re-measures the incumbent: progress is then a different, named figure,
    // and the keep's own gain stays the one its commit recorded.
    setLever(root, "BIAS", "-3.0");
    expect(runScript("iterate", ["-m", "bias -3"], { cwd: root }).code).toBe(0);
    const later = dashboard();
    const laterSummary = later.summary;
    expect(laterSummary.topChanges[0].gain).toBeCloseTo(delta, 10);
    expect(laterSummary.best.remeasured).toBe(true);
    expect(laterSummary.improvement.basis).toMatch(
      /^mean of \d+ runs re-measured after #1 was kept vs the baseline's mean of \d+ runs$/,
    );
    expect(laterSummary.improvement.absolute).toBeCloseTo(laterSummary.best.score - laterSummary.start, 10);
    expect(readFileSync(join(root, "ranker.py"), "utf8")).toContain("WEIGHT = 3.0");
  });
});
