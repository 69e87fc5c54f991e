// Shared incumbent runs through the real scripts (scripts/lib/decision/decide.ts behind iterate.ts):
// a machine that gets faster mid-session is caught by the drift check instead of handing the next
// no-op a keep, each step (a new process replaying the journal) compares with the keep's own runs,
// and decision.target_gain reaches the decision from the experiment file. Real temporary git
// repositories, a real Python eval whose noise is seeded per run.
import { describe, expect, test } from "bun:test";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baselined, pythonExperiment } from "./experiment-fixture.ts";
import { type Line, results, runScript, setLever } from "./helpers.ts";

/**
 * Seeded noise per run (the same runs on every machine), plus FIXTURE_SHIFT added to every score:
 * the machine "getting faster" between the baseline and the next candidate.
 */
const SHIFTABLE_NOISE = `_run = int(open(".run-counter").read()) + 1 if os.path.exists(".run-counter") else 1
open(".run-counter", "w").write(str(_run))
random.seed(_run)
_gauss = random.gauss
random.gauss = lambda mu, sigma: _gauss(mu, sigma) + float(os.environ.get("FIXTURE_SHIFT", "0"))`;

const IGNORED = { ".gitignore": ".run-counter\n" };

function noOpStep(root: string, label: string, env: Record<string, string> = {}): Line {
  appendFileSync(join(root, "ranker.py"), `# ${label}\n`);
  const step = runScript("iterate", ["-m", label], { cwd: root, env });
  expect(step.code).toBe(0);
  return results(root).at(-1) as Line;
}

describe("the drift check", () => {
  test("after the machine gets faster, a no-op is not kept: the incumbent runs beside it and the older runs are set aside", () => {
    const root = baselined({ noise: 0.005, evalPrelude: SHIFTABLE_NOISE, files: IGNORED });
    const faster = { FIXTURE_SHIFT: "0.05" }; // ten times the run sd
    const first = noOpStep(root, "a comment after the speed-up", faster);
    expect(first.status).not.toBe("keep");
    expect((first.incumbent_runs as number[]).length).toBeGreaterThanOrEqual(1);
    expect(first.reason).toMatch(/the measurements drifted, so the earlier runs are set aside/);
    // The next no-op is compared with the runs made since the change: no drift left to report.
    const second = noOpStep(root, "another comment", faster);
    expect(second.status).not.toBe("keep");
    expect(second.reason).not.toMatch(/drifted/);
    expect(second.reason).toMatch(/against the incumbent's [\d.]+ over \d+/);
  });

  test("the earlier rule (fresh_incumbent_runs: 2) keeps that no-op: it has no run beside the candidate to check", () => {
    const root = baselined({ noise: 0.005, evalPrelude: SHIFTABLE_NOISE, files: IGNORED, freshIncumbentRuns: 2 });
    const first = noOpStep(root, "a comment after the speed-up", { FIXTURE_SHIFT: "0.05" });
    expect(first.status).toBe("keep");
  });
});

describe("the runs that selected an incumbent", () => {
  test("after a keep the next step, a new process replaying the journal, compares with the keep's own runs; the dashboard follows", () => {
    const root = baselined({ noise: 0.005, evalPrelude: SHIFTABLE_NOISE, files: IGNORED });
    setLever(root, "WEIGHT", "2.0");
    expect(runScript("iterate", ["-m", "a big gain"], { cwd: root }).code).toBe(0);
    const keep = results(root)[0];
    expect(keep.status).toBe("keep");
    const next = noOpStep(root, "a no-op after the keep");
    const reference = (keep.runs as number[]).length + (next.incumbent_runs as number[]).length;
    expect(next.reason).toContain(` over ${reference} (`);
    // The dashboard's current best is the kept version's mean over those runs.
    const shown = runScript("dashboard", ["--format", "json", "--no-write"], { cwd: root });
    expect(shown.code).toBe(0);
    const scores = [...(keep.runs as number[]), ...(next.incumbent_runs as number[])];
    const mean = scores.reduce((sum, value) => sum + value, 0) / scores.length;
    expect(JSON.parse(shown.stdout).summary.best.score).toBeCloseTo(
      (next.incumbent_runs as number[]).length > 0
        ? (next.incumbent_runs as number[]).reduce((sum, value) => sum + value, 0) /
          (next.incumbent_runs as number[]).length
        : mean,
      4,
    );
  });
});

describe("decision.target_gain", () => {
  test("the experiment file's target reaches the decision: a no-op is judged against it, and baseline records it", () => {
    const root = pythonExperiment({ noise: 0.004, evalPrelude: SHIFTABLE_NOISE, files: IGNORED });
    const yaml = join(root, "autoresearch.yaml");
    writeFileSync(
      yaml,
      readFileSync(yaml, "utf8").replace(
        /^decision: .*$/m,
        "decision: { baseline_runs: 3, fresh_incumbent_runs: 0, max_incumbent_runs: 5, target_gain: 0.004 }",
      ),
    );
    runScriptOk(root, "baseline", []);
    const line = noOpStep(root, "a comment");
    expect(line.status).toBe("discard");
    expect(line.reason).toMatch(/the target (gain )?0\.0040/);
    const header = JSON.parse(readFileSync(join(root, "autoresearch.jsonl"), "utf8").split("\n")[0]);
    expect(header.decision.target_gain).toBe(0.004);
  });

  test("a target of 0 is refused with the file and value named, and nothing changes", () => {
    const root = pythonExperiment({ noise: 0.004 });
    const yaml = join(root, "autoresearch.yaml");
    writeFileSync(yaml, readFileSync(yaml, "utf8").replace(/^decision: .*$/m, "decision: { target_gain: 0 }"));
    const before = readFileSync(yaml, "utf8");
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/target_gain/);
    expect(result.stderr).toMatch(/above 0/);
    expect(readFileSync(yaml, "utf8")).toBe(before);
  });
});

test("a target with the earlier rule in the file is refused, naming the setting to change", () => {
  const root = pythonExperiment({ noise: 0.004, freshIncumbentRuns: 2 });
  const yaml = join(root, "autoresearch.yaml");
  writeFileSync(
    yaml,
    readFileSync(yaml, "utf8").replace(/max_incumbent_runs: 6 }/, "max_incumbent_runs: 6, target_gain: 0.004 }"),
  );
  const before = readFileSync(yaml, "utf8");
  const result = runScript("baseline", [], { cwd: root });
  expect(result.code).not.toBe(0);
  expect(result.stderr).toMatch(/target_gain/);
  expect(result.stderr).toMatch(/fresh_incumbent_runs to 0/);
  expect(readFileSync(yaml, "utf8")).toBe(before);
});

function runScriptOk(root: string, name: "baseline" | "iterate", args: string[]): void {
  const result = runScript(name, args, { cwd: root });
  if (result.code !== 0) throw new Error(`${name} failed: ${result.stderr}`);
}
