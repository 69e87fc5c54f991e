// The objective as configuration: the --tiebreak parser (table-driven), init writing tiebreaks,
// and next-round changing the objective end to end on real temporary git repositories with a
// deterministic Python eval that prints SCORE (its MRR) beside `METRIC precision@3=` and
// `METRIC mrr=` lines: round 2 re-baselines under precision@3, its journal header names it,
// iterate judges it, a metric the eval never printed is refused with nothing written, and each
// round's dashboard labels its own objective.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { describeObjective, nextObjective, parseTiebreakSpecs } from "../scripts/lib/experiment/objective.ts";
import { parseGuardSpec } from "../scripts/lib/experiment/guard.ts";
import { fileHashes, journal, makeRepo, read, results, runScript, type Runtime, setLever } from "./helpers.ts";

describe("parseTiebreakSpecs", () => {
  test.each([
    [["ndcg@10"], [{ metric: "ndcg@10", direction: "max" }]],
    [["ndcg@10:max"], [{ metric: "ndcg@10", direction: "max" }]],
    [["latency_ms:min"], [{ metric: "latency_ms", direction: "min" }]],
    [[" recall@5 : MIN "], [{ metric: "recall@5", direction: "min" }]],
    [["ndcg@10", "latency_ms:min"], [{ metric: "ndcg@10", direction: "max" }, {
      metric: "latency_ms",
      direction: "min",
    }]],
    [[], []],
  ])("%j reads in order", (specs, expected) => {
    expect(parseTiebreakSpecs(specs, "mrr")).toEqual({ tiebreaks: expected as never });
  });

  test.each([
    [["ndcg@10:up"], 'Cannot read --tiebreak "ndcg@10:up": the direction after ":" must be max or min'],
    [["mrr"], "--tiebreak mrr names the main metric"],
    [["MRR:min"], "--tiebreak MRR names the main metric"],
    [["ndcg@10", "NDCG@10:min"], "--tiebreak NDCG@10 is given twice"],
    [[""], 'Cannot read --tiebreak "": write a metric name the eval prints'],
    [["2x:max"], 'Cannot read --tiebreak "2x:max"'],
  ])("%j is refused in one line", (specs, start) => {
    const read = parseTiebreakSpecs(specs, "mrr");
    expect("problem" in read).toBe(true);
    const problem = "problem" in read ? read.problem : "";
    expect(problem.startsWith(start)).toBe(true);
    expect(problem).not.toContain("\n");
  });
});

describe("nextObjective", () => {
  const current = {
    metric: { name: "mrr", direction: "max" as const, formula: null },
    guard: null,
    tiebreaks: [{ metric: "precision@3", direction: "max" as const }],
  };
  const evidence = { printed: new Set(["mrr", "precision@3", "latency_ms"]), scoreMeans: "mrr", round: 1 };
  const readGuard = (spec: string) => {
    const guard = parseGuardSpec(spec);
    return guard ? { guard } : { problem: "is not a guard" };
  };

  test("a printed metric becomes the score, read from its named line; a tiebreak it replaces is dropped", () => {
    const next = nextObjective(current, { metric: "precision@3" }, evidence, readGuard);
    if ("problem" in next) throw new Error(next.problem);
    expect(next.objective.metric).toEqual({
      name: "precision@3",
      direction: "max",
      formula: null,
      score_from: "precision@3",
    });
    expect(next.objective.tiebreaks).toEqual([]);
    expect(next.changed).toBe(true);
    expect(next.notes.join(" ")).toContain("precision@3 is the main metric now");
  });

  test("back to what SCORE means: the SCORE line is the score again", () => {
    const switched = { ...current, metric: { ...current.metric, name: "precision@3", score_from: "precision@3" } };
    const next = nextObjective(switched, { metric: "mrr" }, evidence, readGuard);
    if ("problem" in next) throw new Error(next.problem);
    expect(next.objective.metric).toEqual({ name: "mrr", direction: "max", formula: null });
  });

  test("a timing metric defaults to min; --direction overrides", () => {
    const next = nextObjective(current, { metric: "latency_ms" }, evidence, readGuard);
    if ("problem" in next) throw new Error(next.problem);
    expect(next.objective.metric.direction).toBe("min");
    const overridden = nextObjective(current, { metric: "latency_ms", direction: "max" }, evidence, readGuard);
    if ("problem" in overridden) throw new Error(overridden.problem);
    expect(overridden.objective.metric.direction).toBe("max");
  });

  test.each([
    [{ metric: "nonexistent" }, "--metric", "--metric nonexistent: the eval printed latency_ms, mrr, precision@3"],
    [{ guard: "recall@9>=0.5" }, "--guard", "--guard recall@9: the eval printed"],
    [{ guard: "mrr>=" }, "--guard", 'Cannot read --guard "mrr>="'],
    [{ tiebreaks: ["ndcg@10"] }, "--tiebreak", "--tiebreak ndcg@10: the eval printed"],
    [{ guard: "mrr>=0.5", noGuard: true }, "--guard", "--guard and --no-guard contradict"],
    [{ tiebreaks: ["mrr"] }, "--tiebreak", "--tiebreak mrr names the main metric"],
  ])("%j is refused by %s", (flags, flag, start) => {
    const next = nextObjective(current, flags, evidence, readGuard);
    expect(next).toMatchObject({ flag });
    expect("problem" in next && next.problem.startsWith(start)).toBe(true);
  });

  test("no flags: unchanged", () => {
    const next = nextObjective(current, {}, evidence, readGuard);
    expect(next).toMatchObject({ changed: false, objective: current });
  });

  test("describeObjective writes one line", () => {
    expect(
      describeObjective({
        metric: "precision@3",
        direction: "max",
        guard: "mrr>=0.8",
        tiebreaks: [{ metric: "ndcg@10", direction: "max" }],
      }),
    ).toBe("precision@3 (max), guard mrr>=0.8, tiebreak ndcg@10 (max)");
  });
});

/**
 * Two levers the eval reads: WEIGHT moves MRR (and SCORE, which is MRR), BOOST moves only
 * precision@3, so a change of BOOST ties on MRR. Deterministic: every run prints the same.
 */
const RANKER = `# A toy ranker: the constrained file.
WEIGHT = 1.0
BOOST = 0.0


def mrr():
    return min(1.0, 0.5 + 0.1 * WEIGHT)


def precision_at_3():
    return min(1.0, 0.4 + 0.1 * BOOST)
`;

const EVAL = `import os, sys
sys.path.insert(0, os.getcwd())
import ranker
mrr = ranker.mrr()
precision = ranker.precision_at_3()
print("SCORE: %.4f" % mrr)
print("METRIC mrr=%.4f" % mrr)
print("METRIC precision@3=%.4f" % precision)
`;

const EXPERIMENT = `version: 1
name: objective
current_round: 1
language: python
project: plain
metric: { name: mrr, direction: max }
guard: { metric: mrr, op: ">=", threshold: 0.5 }
frozen: []
decision: { baseline_runs: 2 }
budget: { iterations: 10, plateau: 5 }
rounds:
  - round: 1
    status: open
    constrained_files: [ranker.py]
    eval: { command: python3 eval.py, script: eval.py, timeout_s: 60 }
    artifacts: { journal: autoresearch.jsonl, dashboard: autoresearch_dashboard.md, instructions: instructions.md, launch_prompt: launch_prompt.md, report: autoresearch_report.md }
`;

function repository(): string {
  const root = makeRepo({
    "ranker.py": RANKER,
    "eval.py": EVAL,
    "autoresearch.yaml": EXPERIMENT,
    "instructions.md": "# Round 1\n",
    "launch_prompt.md": "# Round 1\n",
  });
  writeFileSync(
    join(root, ".git/info/exclude"),
    ".autoresearch/\nautoresearch*.jsonl\nautoresearch_dashboard*.md\nautoresearch_progress*.svg\n__pycache__/\n",
  );
  return root;
}

function ok(result: ReturnType<typeof runScript>, label: string) {
  if (result.code !== 0) throw new Error(`${label} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

function experimentFile(root: string): any {
  return YAML.parse(read(root, "autoresearch.yaml"));
}

/** Round 1 under MRR: baseline, a keep (WEIGHT), and a BOOST change that ties on MRR (discarded). */
function roundOne(runtime: Runtime): string {
  const root = repository();
  const run = (script: "baseline" | "iterate", args: string[] = []) => runScript(script, args, { cwd: root, runtime });
  ok(run("baseline"), "baseline");
  setLever(root, "WEIGHT", "2.0");
  ok(run("iterate", ["-m", "raise WEIGHT to 2"]), "iterate keep");
  setLever(root, "BOOST", "1.0");
  ok(run("iterate", ["-m", "raise BOOST to 1"]), "iterate tie");
  return root;
}

describe("init --tiebreak", () => {
  const file = `"""Rank documents for a query."""
K1 = 1.2


def search(query, documents):
    return sorted(documents, key=lambda document: -len(set(query.split()) & set(document.split())) * K1)
`;

  test("writes the tiebreaks in order to the experiment file, the journal header and the instructions", () => {
    const root = makeRepo({ "search.py": file, "eval.py": EVAL });
    const result = ok(
      runScript("init", [
        "search.py",
        "--metric",
        "mrr",
        "--tiebreak",
        "precision@3",
        "--tiebreak",
        "latency_ms:min",
        "--eval-cmd",
        "python3 eval.py",
        "--yes",
      ], { cwd: root }),
      "init",
    );
    expect(experimentFile(root).tiebreaks).toEqual([
      { metric: "precision@3", direction: "max" },
      { metric: "latency_ms", direction: "min" },
    ]);
    expect(journal(root)[0].tiebreaks).toEqual([
      { metric: "precision@3", direction: "max" },
      { metric: "latency_ms", direction: "min" },
    ]);
    expect(read(root, "instructions.md")).toContain(
      "A change that ties on mrr and improves precision@3 (higher is better), then latency_ms (lower is better) is kept.",
    );
    expect(result.stderr).toContain("Objective: mrr (max), tiebreaks precision@3 (max) then latency_ms (min).");
  });

  test("a generated eval prints the tiebreak metric", () => {
    const root = makeRepo({ "search.py": file });
    ok(
      runScript("init", ["search.py", "--metric", "mrr", "--tiebreak", "precision@3", "--yes"], { cwd: root }),
      "init",
    );
    const evalScript = experimentFile(root).rounds[0].eval.script;
    expect(read(root, evalScript)).toMatch(/EXTRA_METRICS = \[[^\]]*"precision@3"/);
  });

  test.each([
    [["--tiebreak", "precision@3:up"], 'Cannot read --tiebreak "precision@3:up"'],
    [["--tiebreak", "mrr"], "--tiebreak mrr names the main metric"],
    [["--tiebreak", "precision@3", "--tiebreak", "precision@3"], "--tiebreak precision@3 is given twice"],
  ])("%j is refused in one line and writes nothing", (flags, message) => {
    const root = makeRepo({ "search.py": file, "eval.py": EVAL });
    const before = fileHashes(root);
    const result = runScript(
      "init",
      ["search.py", "--metric", "mrr", "--eval-cmd", "python3 eval.py", "--yes", ...flags],
      { cwd: root },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(fileHashes(root)).toEqual(before);
  });
});

describe("next-round changes the objective", () => {
  test("round 2 re-baselines under precision@3, its header names it, and iterate judges it (Bun)", () => {
    const root = roundOne("bun");
    const run = (script: "baseline" | "iterate" | "next-round" | "dashboard", args: string[] = []) =>
      runScript(script, args, { cwd: root });

    // A metric the eval never printed: one line naming what it prints, nothing written.
    const before = fileHashes(root);
    const refused = run("next-round", ["--metric", "nonexistent"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      "--metric nonexistent: the eval printed mrr, precision@3 in round 1's runs, and SCORE (mrr), not nonexistent",
    );
    expect(fileHashes(root)).toEqual(before);

    const dry = ok(run("next-round", ["--metric", "precision@3", "--tiebreak", "mrr", "--dry-run"]), "dry run");
    expect(dry.stderr).toContain(
      "Objective: round 1 mrr (max), guard mrr>=0.5 -> round 2 precision@3 (max), guard mrr>=0.5, tiebreak mrr (max)",
    );
    expect(fileHashes(root)).toEqual(before);

    ok(run("next-round", ["--metric", "precision@3", "--tiebreak", "mrr"]), "next-round");
    const experiment = experimentFile(root);
    expect(experiment.metric).toMatchObject({ name: "precision@3", direction: "max", score_from: "precision@3" });
    expect(experiment.tiebreaks).toEqual([{ metric: "mrr", direction: "max" }]);
    const header = journal(root, "autoresearch_2.jsonl")[0];
    expect(header).toMatchObject({ metric: "precision@3", direction: "max", round: 2 });
    expect(header.tiebreaks).toEqual([{ metric: "mrr", direction: "max" }]);
    expect(read(root, "instructions_2.md")).toContain("Maximise **precision@3**");

    // Round 1 discarded its BOOST change (a tie on MRR), so round 2 starts at precision@3 = 0.4.
    ok(run("baseline"), "baseline round 2");
    const baseline = journal(root, "autoresearch_2.jsonl").find((line) => line.status === "baseline")!;
    expect(baseline.runs).toEqual([0.4, 0.4]);
    expect(experimentFile(root).rounds[1].baseline.score).toBe(0.4);

    // BOOST raises precision@3 and leaves MRR (and SCORE) as they were: kept under precision@3.
    setLever(root, "BOOST", "2.0");
    ok(run("iterate", ["-m", "raise BOOST to 2"]), "iterate round 2");
    const kept = results(root, "autoresearch_2.jsonl").at(-1)!;
    expect(kept).toMatchObject({ status: "keep", score: 0.6 });

    // Each round's dashboard labels its own objective.
    const roundTwo = ok(run("dashboard", ["--format", "md"]), "dashboard round 2").stdout;
    expect(roundTwo).toContain("**Round 2 objective:** precision@3 (max), guard mrr>=0.50, tiebreak mrr (max)");
    const roundOneBoard = ok(run("dashboard", ["--format", "md", "--round", "1"]), "dashboard round 1").stdout;
    expect(roundOneBoard).toContain("**Round 1 objective:** mrr (max), guard mrr>=0.50");
    expect(roundOneBoard).not.toContain("precision@3 (max)");
    expect(read(root, "autoresearch_dashboard_2.md")).toContain("**Round 2 objective:** precision@3 (max)");
  });

  test("journal-only use (no experiment file) refuses an objective change and writes nothing", () => {
    const root = makeRepo({ "ranker.py": RANKER });
    writeFileSync(
      join(root, "autoresearch.jsonl"),
      [
        {
          type: "config",
          constrained_file: "ranker.py",
          eval_command: "python3 eval.py",
          metric: "mrr",
          baseline: 0.6,
        },
        { type: "result", iteration: 1, score: 0.7, status: "keep", description: "raise WEIGHT" },
      ].map((line) => JSON.stringify(line)).join("\n") + "\n",
    );
    const before = fileHashes(root);
    const result = runScript("next-round", ["--metric", "precision@3"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("change the objective recorded in the experiment file, and there is none here");
    expect(fileHashes(root)).toEqual(before);
  });

  test("under Deno: --metric re-baselines and --no-guard drops the guard", () => {
    const root = roundOne("deno");
    const run = (script: "baseline" | "next-round", args: string[] = []) =>
      runScript(script, args, { cwd: root, runtime: "deno" });
    ok(run("next-round", ["--metric", "precision@3", "--no-guard"]), "next-round");
    const experiment = experimentFile(root);
    expect(experiment.metric.name).toBe("precision@3");
    expect(experiment.guard).toBeNull();
    ok(run("baseline"), "baseline round 2");
    const baseline = journal(root, "autoresearch_2.jsonl").find((line) => line.status === "baseline")!;
    expect(baseline.runs).toEqual([0.4, 0.4]);
    expect(journal(root, "autoresearch_2.jsonl")[0]).toMatchObject({ metric: "precision@3", guard_metric: null });
  });
});
