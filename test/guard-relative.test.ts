// Relative guards (`mrr>=baseline-0.02`, `latency_ms<=baseline*1.10`): the spec parsed, resolved
// against the round's baseline and described (guard.ts, table-driven), then end to end on a real
// git repository with a deterministic Python eval: init takes the relative --guard, baseline
// resolves it and records the threshold, iterate judges candidates against that threshold,
// next-round re-resolves it against the new round's baseline, the dashboard shows it resolved.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  baselineGuardFigure,
  describeGuard,
  guardSpecProblem,
  guardSpecText,
  parseGuardSpec,
  resolveGuard,
} from "../scripts/lib/experiment/guard.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import { experimentYaml } from "./experiment-fixture.ts";
import { journal, makeRepo, read, results, runScript, type Runtime, setLever, sh } from "./helpers.ts";

describe("guard specs", () => {
  const specs: [string, object][] = [
    ["mrr>=0.9", { metric: "mrr", op: ">=", threshold: 0.9 }],
    ["mrr >= 0.9", { metric: "mrr", op: ">=", threshold: 0.9 }],
    ["mrr>=baseline-0.02", { metric: "mrr", op: ">=", baseline_offset: -0.02 }],
    ["mrr>=baseline", { metric: "mrr", op: ">=", baseline_offset: 0 }],
    ["failures<=baseline+2", { metric: "failures", op: "<=", baseline_offset: 2 }],
    ["latency_ms<=baseline*1.10", { metric: "latency_ms", op: "<=", baseline_factor: 1.1 }],
    ["latency_ms <= baseline × 1.1", { metric: "latency_ms", op: "<=", baseline_factor: 1.1 }],
    ["latency_ms<=baseline+10%", { metric: "latency_ms", op: "<=", baseline_factor: 1.1 }],
    ["precision@3>Baseline-5%", { metric: "precision@3", op: ">", baseline_factor: 0.95 }],
  ];
  for (const [text, guard] of specs) {
    test(`"${text}" parses`, () => {
      expect(parseGuardSpec(text)).toEqual(guard as never);
      expect(guardSpecProblem(text)).toBeNull();
    });
  }

  const bad: [string, string][] = [
    ["mrr>=baselin-0.02", '"baselin" is neither a number nor "baseline"'],
    ["latency<=baseline*0", "the factor must be above 0"],
    ["latency<=baseline*-1", "the factor must be above 0"],
    ["latency<=baseline-100%", "the percentage must be under 100"],
    ["latency<=baseline*10%", "cannot scale the baseline by a percentage"],
    ["mrr=>0.9", "is not METRIC OP VALUE"],
    ["mrr>=", "is not METRIC OP VALUE"],
    ["mrr>=baseline-", "neither a number nor baseline followed by"],
  ];
  for (const [text, problem] of bad) {
    test(`"${text}" is refused: ${problem}`, () => {
      expect(parseGuardSpec(text)).toBeNull();
      expect(guardSpecProblem(text)).toContain(problem);
    });
  }

  test("the spec text reads back as the same guard", () => {
    for (const [text] of specs) {
      const guard = parseGuardSpec(text)!;
      expect(parseGuardSpec(guardSpecText(guard))).toEqual(guard);
    }
    expect(guardSpecText(parseGuardSpec("latency_ms<=baseline+10%")!)).toBe("latency_ms<=baseline*1.10");
  });

  const resolutions: [string, number | null, number | null, string][] = [
    ["mrr>=0.9", null, 0.9, "mrr>=0.9"],
    ["mrr>=0.9", 0.5, 0.9, "mrr>=0.9"],
    ["mrr>=baseline-0.02", null, null, "mrr>=baseline-0.02"],
    ["mrr>=baseline-0.02", 0.8, 0.78, "mrr>=0.78 (baseline 0.80 -0.02)"],
    ["mrr>=baseline", 0.8123, 0.8123, "mrr>=0.8123 (baseline 0.8123)"],
    ["latency_ms<=baseline*1.10", 8, 8.8, "latency_ms<=8.80 (baseline 8.00 ×1.10)"],
    ["latency_ms<=baseline*1.10", null, null, "latency_ms<=baseline×1.10"],
    ["latency_ms<=baseline+10%", 7.1, 7.81, "latency_ms<=7.81 (baseline 7.10 ×1.10)"],
    ["errors<=baseline+3", 12, 15, "errors<=15.00 (baseline 12.00 +3)"],
  ];
  for (const [text, figure, threshold, shown] of resolutions) {
    test(`"${text}" against a baseline of ${figure}: ${threshold}, shown "${shown}"`, () => {
      const guard = parseGuardSpec(text)!;
      const resolved = resolveGuard(guard, figure);
      expect(resolved === null ? null : resolved.threshold).toBe(threshold);
      if (resolved) expect(resolved).toMatchObject({ metric: guard.metric, op: guard.op });
      expect(describeGuard(guard, figure)).toBe(shown);
    });
  }

  test("no guard resolves to none", () => {
    expect(resolveGuard(null, 0.5)).toBeNull();
  });

  test("a relative guard resolves against the mean of the baseline's guard runs, else its median", () => {
    const baseline = {
      score: 0.5,
      mean: 0.5,
      sd: 0,
      runs: [0.5],
      guard_score: 10,
      guard_mean: 11,
      deterministic: false,
      min_detectable_effect: null,
      min_delta: 0,
      eval_seconds: 1,
      commit: "abc",
      measured_at: "now",
    };
    expect(baselineGuardFigure(baseline)).toBe(11);
    expect(baselineGuardFigure({ ...baseline, guard_mean: undefined })).toBe(10);
    expect(baselineGuardFigure(null)).toBeNull();
  });
});

describe("the experiment file's guard", () => {
  const withGuard = (guard: string) => experimentYaml().replace(/^guard: .*$/m, `guard: ${guard}`);

  test("an absolute threshold and each relative form are valid", () => {
    for (
      const guard of [
        '{ metric: mrr, op: ">=", threshold: 0.1 }',
        '{ metric: mrr, op: ">=", baseline_offset: -0.02 }',
        '{ metric: latency_ms, op: "<=", baseline_factor: 1.1 }',
      ]
    ) {
      expect(() => parseExperiment(withGuard(guard), "autoresearch.yaml")).not.toThrow();
    }
  });

  test("none or two of threshold / baseline_offset / baseline_factor is refused with what to write", () => {
    for (
      const guard of ['{ metric: mrr, op: ">=" }', '{ metric: mrr, op: ">=", threshold: 0.5, baseline_offset: -0.02 }']
    ) {
      expect(() => parseExperiment(withGuard(guard), "autoresearch.yaml")).toThrow(/exactly one of threshold/);
    }
    expect(() =>
      parseExperiment(withGuard('{ metric: latency_ms, op: "<=", baseline_factor: 0 }'), "autoresearch.yaml")
    ).toThrow(/must be above 0/);
  });
});

// The constrained module: WEIGHT moves SCORE, DRIFT lowers the guard metric (mrr = 0.5 - DRIFT), all deterministic.
const RANKER = `# A toy scoring module: the constrained file.
WEIGHT = 1.0
BIAS = 0.0
DRIFT = 0.0


def score(x):
    return WEIGHT * x + BIAS
`;

const EVAL = `import json, os, sys
sys.path.insert(0, os.getcwd())
import ranker
cases = json.load(open("cases.json"))["cases"]
total = 0.0
for case in cases:
    error = abs(ranker.score(case["input"]["x"]) - case["expected"])
    total += max(0.0, 1 - error / 10)
print(f"SCORE: {total / len(cases):.4f}")
print(f"  MRR: {0.5 - ranker.DRIFT:.4f}")
`;

function cases(): string {
  const list = Array.from(
    { length: 16 },
    (_, index) => ({ id: `c${index}`, input: { x: index }, expected: 3 * index + 1 }),
  );
  return JSON.stringify({ cases: list });
}

function run(root: string, script: Parameters<typeof runScript>[0], args: string[], runtime: Runtime = "bun") {
  const result = runScript(script, args, { cwd: root, runtime });
  if (result.code !== 0) throw new Error(`${script} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result;
}

/** A repository initialised with `--guard <spec>` and its harness committed, ready for baseline. */
function initialised(guard: string): string {
  const root = makeRepo({ "ranker.py": RANKER, "eval.py": EVAL, "cases.json": cases() });
  run(root, "init", [
    "ranker.py",
    "--eval-cmd",
    "python3 eval.py",
    "--metric",
    "score",
    "--direction",
    "max",
    "--guard",
    guard,
    "--yes",
  ]);
  sh(root, "git", ["add", "-A"]);
  sh(root, "git", ["commit", "-qm", "harness"]);
  return root;
}

function experimentOf(root: string) {
  return parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
}

describe("a relative guard end to end", () => {
  test("init keeps the relative form; baseline resolves it, iterate judges against it, the dashboard shows it", () => {
    const root = initialised("mrr>=baseline-0.02");
    expect(experimentOf(root).guard).toEqual({ metric: "mrr", op: ">=", baseline_offset: -0.02 });
    expect(journal(root)[0]).toMatchObject({ guard_threshold: null, guard_spec: "mrr>=baseline-0.02" });
    expect(read(root, "instructions.md")).toContain("`mrr>=baseline-0.02`");

    const baseline = run(root, "baseline", []);
    expect(baseline.stderr).toContain("Guard: mrr>=0.48 (baseline 0.50 -0.02)");
    expect(baseline.stdout).toContain("guard    mrr 0.5 >= 0.48 (baseline 0.50 -0.02): PASS");
    expect(journal(root)[0]).toMatchObject({ guard_threshold: 0.48, guard_spec: "mrr>=baseline-0.02", guard_op: ">=" });
    expect(experimentOf(root).rounds[0].baseline).toMatchObject({ guard_score: 0.5, guard_mean: 0.5 });
    expect(read(root, "instructions.md")).toContain(
      "Resolved against this round's baseline: `mrr>=0.48 (baseline 0.50 -0.02)`",
    );

    // Both raise SCORE; one takes mrr to 0.47, under the resolved 0.48 (an absolute reading would see no threshold).
    setLever(root, "WEIGHT", "2.0");
    setLever(root, "DRIFT", "0.03");
    expect(JSON.parse(run(root, "iterate", ["-m", "weight up, mrr -0.03", "--json"]).stdout).status).toBe("guard_fail");
    setLever(root, "WEIGHT", "2.0");
    setLever(root, "DRIFT", "0.01");
    expect(JSON.parse(run(root, "iterate", ["-m", "weight up, mrr -0.01", "--json"]).stdout).status).toBe("keep");
    const [failed, kept] = results(root);
    expect(failed).toMatchObject({ status: "guard_fail", guard_score: 0.47, guard_pass: false });
    expect(kept).toMatchObject({ status: "keep", guard_score: 0.49, guard_pass: true });

    run(root, "dashboard", []);
    const dashboard = read(root, "autoresearch_dashboard.md");
    expect(dashboard).toContain("**Guard:** mrr >= 0.48 (baseline 0.50 -0.02; current: 0.49)");
    expect(read(root, "autoresearch_progress.svg")).toContain("mrr &gt;= 0.48");
  });

  test("next-round carries the relative guard and re-resolves it against the new round's baseline", () => {
    const root = initialised("mrr>=baseline-0.02");
    run(root, "baseline", []);
    setLever(root, "WEIGHT", "2.0");
    setLever(root, "DRIFT", "0.01");
    run(root, "iterate", ["-m", "weight up, mrr -0.01"]);

    run(root, "next-round", []);
    expect(experimentOf(root).guard).toEqual({ metric: "mrr", op: ">=", baseline_offset: -0.02 });
    expect(journal(root, "autoresearch_2.jsonl")[0]).toMatchObject({
      guard_threshold: null,
      guard_spec: "mrr>=baseline-0.02",
    });
    const baseline = run(root, "baseline", []);
    expect(baseline.stderr).toContain("Guard: mrr>=0.47 (baseline 0.49 -0.02)");
    expect(journal(root, "autoresearch_2.jsonl")[0]).toMatchObject({ guard_threshold: 0.47 });

    // mrr 0.475 would fail round 1's 0.48; against round 2's 0.47 it passes.
    setLever(root, "WEIGHT", "3.0");
    setLever(root, "DRIFT", "0.025");
    expect(JSON.parse(run(root, "iterate", ["-m", "weight 3, mrr -0.025", "--json"]).stdout).status).toBe("keep");
    run(root, "dashboard", []);
    expect(read(root, "autoresearch_dashboard_2.md")).toContain("**Guard:** mrr >= 0.47 (baseline 0.49 -0.02;");
  });

  test("a ratio guard on a lower-is-better metric resolves under Deno too", () => {
    const root = initialised("mrr<=baseline*1.10");
    expect(experimentOf(root).guard).toEqual({ metric: "mrr", op: "<=", baseline_factor: 1.1 });
    const baseline = run(root, "baseline", [], "deno");
    expect(baseline.stderr).toContain("Guard: mrr<=0.55 (baseline 0.50 ×1.10)");
    expect(journal(root)[0]).toMatchObject({ guard_threshold: 0.55, guard_spec: "mrr<=baseline*1.10" });
    // DRIFT -0.06 takes mrr to 0.56, over 0.55.
    setLever(root, "WEIGHT", "2.0");
    setLever(root, "DRIFT", "-0.06");
    expect(JSON.parse(run(root, "iterate", ["-m", "weight up, mrr +0.06", "--json"], "deno").stdout).status).toBe(
      "guard_fail",
    );
  });

  const badSpecs = ["mrr>=baselin-0.02", "latency<=baseline*0", "latency<=baseline*-1"];
  for (const spec of badSpecs) {
    test(`init --guard "${spec}" is one actionable line and writes nothing`, () => {
      const root = makeRepo({ "ranker.py": RANKER, "eval.py": EVAL, "cases.json": cases() });
      const result = runScript(
        "init",
        ["ranker.py", "--eval-cmd", "python3 eval.py", "--metric", "score", "--guard", spec, "--yes", "--json"],
        { cwd: root },
      );
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(`Cannot read --guard "${spec}"`);
      expect(result.stdout).toContain("E_BAD_GUARD");
      expect(sh(root, "git", ["status", "--porcelain", "--untracked-files=all"]).trim()).toBe("");
    });
  }
});

describe("a journal read without its experiment file", () => {
  test("the dashboard shows the threshold baseline resolved, and where it came from", () => {
    const root = initialised("mrr>=baseline-0.02");
    run(root, "baseline", []);
    const copy = makeRepo({ "autoresearch.jsonl": readFileSync(join(root, "autoresearch.jsonl"), "utf8") });
    const result = run(copy, "dashboard", ["--journal", "autoresearch.jsonl", "--format", "md", "--no-write"]);
    expect(result.stdout).toContain("mrr >= 0.48 (baseline-0.02; current: 0.50)");
  });
});
