// What a newcomer meets in the first hour, end to end on real temporary git repositories with a
// real Python eval: every script finds the experiment from a subfolder (agents change directory);
// a loop that stops at once on a plateau made by earlier steps says so and how to go on, and
// --plateau overrides budget.plateau for one run; the final report is asked for only when the
// round really ends (or on --final-report), and a later report never overwrites an earlier one.
import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baselined, pythonExperiment, RANKER } from "./experiment-fixture.ts";
import {
  exists,
  KIT_ROOT,
  makeRepo,
  read,
  results,
  runScript,
  type Runtime,
  setLever,
  sh,
  temporaryFolder,
} from "./helpers.ts";
import { findExperimentFile, locateExperiment } from "../scripts/lib/experiment/experiment-file.ts";

/** An agent that changes nothing (every call a discard) and, asked for the report, prints `report`. */
function idleAgent(report = "## Idle report\n\nNothing was kept; the levers tried did not move the score.") {
  const printed = report.replace(/\n/g, "\\n");
  return `if [ "$AUTORESEARCH_TASK" = report ]; then printf '${printed}\\n'; else echo 'DESCRIPTION: nothing useful'; fi`;
}

function inSubfolder(root: string, folder = "src/deep"): string {
  const path = join(root, folder);
  mkdirSync(path, { recursive: true });
  return path;
}

describe("every script finds the experiment from a subfolder", () => {
  for (const runtime of ["bun", "deno"] as const satisfies Runtime[]) {
    test(`${runtime}: baseline, iterate, dashboard and next-round run from src/deep on the root's autoresearch.yaml`, () => {
      const root = pythonExperiment();
      const sub = inSubfolder(root);
      const baseline = runScript("baseline", ["--json"], { cwd: sub, runtime });
      expect(baseline.stderr).not.toContain("No experiment file");
      expect(baseline.code).toBe(0);
      expect(JSON.parse(baseline.stdout).score).toBe(0.1563);
      expect(exists(root, "autoresearch.jsonl")).toBe(true); // the round's files stay at the root
      expect(exists(sub, "autoresearch.jsonl")).toBe(false);
      // The review advice names the round's files where they are, not as if the subfolder held them.
      expect(baseline.stderr).toContain(`Stop and review before launching: ${join(root, "instructions.md")}`);

      setLever(root, "WEIGHT", "2.0");
      const step = runScript("iterate", ["-m", "raise weight to 2", "--json"], { cwd: sub, runtime });
      expect(step.code).toBe(0);
      expect(JSON.parse(step.stdout)).toMatchObject({ status: "keep", score: 0.2812 });
      expect(results(root).map((line) => line.status)).toEqual(["keep"]);

      const dashboard = runScript("dashboard", ["--format", "json", "--no-write"], { cwd: sub, runtime });
      expect(dashboard.code).toBe(0);
      expect(JSON.parse(dashboard.stdout).summary.best.score).toBe(0.2812);
      const nextRound = runScript("next-round", ["--json"], { cwd: sub, runtime });
      expect(nextRound.code).toBe(0);
      expect(read(root, "autoresearch.yaml")).toContain("current_round: 2");
    });
  }

  test("with no experiment anywhere up to the root, iterate and baseline say so and give the full init command", () => {
    const root = makeRepo({ "src/ranker.py": RANKER });
    const sub = inSubfolder(root, "src");
    for (const script of ["iterate", "baseline"] as const) {
      const args = script === "iterate" ? ["-m", "x", "--json"] : ["--json"];
      const result = runScript(script, args, { cwd: sub });
      expect(result.code).toBe(2);
      const error = JSON.parse(result.stdout).error;
      expect(error.code).toBe("E_NO_EXPERIMENT");
      expect(error.message).toContain(
        `no autoresearch.yaml in "${sub}" or any folder above it up to the repository root`,
      );
      expect(error.message).toContain(`bun ${KIT_ROOT}/scripts/init.ts path/to/file`);
      expect(error.message).not.toContain("bun scripts/init.ts");
    }
  });

  test("a wrong --experiment path is reported as such, with the way back to the search", () => {
    const root = baselined();
    const result = runScript("iterate", ["-m", "x", "--experiment", "elsewhere.yaml"], { cwd: inSubfolder(root) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('No experiment file at "elsewhere.yaml" (from --experiment elsewhere.yaml)');
    expect(result.stderr).toContain("drop --experiment to use the nearest autoresearch.yaml");
  });

  test("the search takes the nearest file on the way up and stops at the repository root", () => {
    const root = makeRepo({ "a.txt": "a\n" });
    const packageFolder = inSubfolder(root, "packages/search");
    const deep = inSubfolder(root, "packages/search/src/lib");
    expect(findExperimentFile(deep, root)).toBeNull();
    writeFileSync(join(root, "autoresearch.yaml"), "version: 1\n");
    expect(findExperimentFile(deep, root)).toBe(join(root, "autoresearch.yaml"));
    expect(findExperimentFile(deep)).toBe(join(root, "autoresearch.yaml")); // the root found from .git
    writeFileSync(join(packageFolder, "autoresearch.yaml"), "version: 1\n");
    expect(findExperimentFile(deep, root)).toBe(join(packageFolder, "autoresearch.yaml"));
    expect(locateExperiment(undefined, deep, root)).toBe(join(packageFolder, "autoresearch.yaml"));
    expect(locateExperiment("other.yaml", deep, root)).toBe(join(deep, "other.yaml"));
    // Above the repository nothing is searched: a file there belongs to no experiment of this repository.
    const outer = temporaryFolder("ark-outer-");
    writeFileSync(join(outer, "autoresearch.yaml"), "version: 1\n");
    const nested = join(outer, "repository");
    mkdirSync(nested);
    sh(nested, "git", ["init", "-q"]);
    expect(findExperimentFile(inSubfolder(nested, "x"), nested)).toBeNull();
  });
});

describe("plateau counts are explained", () => {
  test("a loop that stops at once on a plateau made by hand-made steps says so; --plateau N lets it go on", () => {
    const root = baselined({ plateau: 2 });
    setLever(root, "BIAS", "-5.0");
    expect(runScript("iterate", ["-m", "bias -5"], { cwd: root }).code).toBe(0);
    setLever(root, "BIAS", "-6.0");
    expect(runScript("iterate", ["-m", "bias -6"], { cwd: root }).code).toBe(0);
    expect(results(root).map((line) => line.status)).toEqual(["discard", "discard"]);

    const stopped = runScript("iterate", ["--loop", "--agent", idleAgent()], { cwd: root });
    expect(stopped.code).toBe(4);
    expect(results(root)).toHaveLength(2); // the agent was never called
    expect(stopped.stderr).toContain(
      "plateau: 2 iterations without a keep since the baseline (#1-#2; all recorded before this run), budget.plateau 2",
    );
    expect(stopped.stderr).toContain(
      "The loop stopped before calling the agent: earlier steps already made the plateau",
    );
    expect(stopped.stderr).toMatch(/--loop --agent '.*' --plateau 4 \(allows 2 more non-keeps this run\)/);
    expect(stopped.stderr).toContain("raise budget.plateau in the experiment file");
    expect(stopped.stderr).toContain(`${KIT_ROOT}/scripts/next-round.ts`);
    expect(exists(root, "autoresearch_report.md")).toBe(false);

    // --plateau 4: two more non-keeps, then the plateau, counted and explained as before and in this run.
    const prompts = temporaryFolder("ark-prompts-"); // outside the repository: the agent's own files there are moved aside
    const copying = `cp "$AUTORESEARCH_PROMPT_FILE" ${prompts}/prompt.md; ${idleAgent()}`;
    const more = runScript("iterate", ["--loop", "--agent", copying, "--plateau", "4", "--no-report"], { cwd: root });
    expect(more.code).toBe(4);
    expect(results(root)).toHaveLength(4);
    expect(more.stderr).toContain(
      "plateau: 4 iterations without a keep since the baseline (#1-#4; 2 recorded before this run, 2 in it), --plateau 4",
    );
    expect(more.stderr).not.toContain("stopped before calling the agent");
    expect(read(prompts, "prompt.md")).toContain("Since the last keep: 3 of 4 iterations");
    // The experiment file is untouched: --plateau is for that run only.
    expect(read(root, "autoresearch.yaml")).toContain("plateau: 2");
  });

  test("--plateau outside the loop is refused with the loop command", () => {
    const root = baselined();
    const result = runScript("iterate", ["-m", "x", "--plateau", "5"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--plateau applies to the loop: bun ");
    expect(result.stderr).toContain('--loop --agent "CMD" --plateau 5');
  });
});

describe("the final report only at the real end", () => {
  test("a batch with budget left defers the report; the batch that spends the budget writes it; nothing is overwritten", () => {
    const root = baselined({ budget: 5 });
    const batch = runScript("iterate", ["--loop", "--agent", idleAgent(), "--iterations", "2"], { cwd: root });
    expect(batch.code).toBe(0);
    expect(results(root)).toHaveLength(2);
    expect(exists(root, "autoresearch_report.md")).toBe(false);
    expect(batch.stderr).toContain("Loop stopped: ran the 2 iterations asked for");
    expect(batch.stderr).toContain("Final report deferred: the round goes on (3 of 5 iterations left)");
    expect(batch.stderr).toContain(`bun ${KIT_ROOT}/scripts/iterate.ts --final-report`);

    // A report asked for mid-round is written now...
    const early = runScript(
      "iterate",
      [
        "--final-report",
        "--agent",
        idleAgent("## Early report\n\nTwo idle tries so far; the weights were not touched."),
      ],
      { cwd: root },
    );
    expect(early.code).toBe(0);
    expect(read(root, "autoresearch_report.md")).toContain("## Early report");

    // ...and the batch that spends the budget (8 asked for, 3 left) appends the final one below it.
    const last = runScript(
      "iterate",
      [
        "--loop",
        "--agent",
        idleAgent("## Final report\n\nFive idle tries; the ceiling is the agent, not the levers."),
        "--iterations",
        "8",
      ],
      { cwd: root },
    );
    expect(last.code).toBe(3);
    expect(results(root)).toHaveLength(5);
    expect(last.stderr).toContain("Loop stopped: the budget of 5 iterations is spent");
    expect(last.stderr).toContain("(appended; the earlier report above it is kept)");
    const report = read(root, "autoresearch_report.md");
    expect(report.indexOf("## Early report")).toBe(0);
    expect(report.indexOf("## Final report")).toBeGreaterThan(report.indexOf("## Early report"));
    expect(report).toContain("_Report after iteration 5 (the budget of 5 iterations is spent):_");
    expect(read(root, "autoresearch_dashboard.md")).toContain("Final report");
  });

  test("--final-report with --loop writes the report when the batch ends, budget left or not", () => {
    const root = baselined();
    const result = runScript("iterate", ["--loop", "--agent", idleAgent(), "--iterations", "1", "--final-report"], {
      cwd: root,
    });
    expect(result.code).toBe(0);
    expect(results(root)).toHaveLength(1);
    expect(read(root, "autoresearch_report.md")).toContain("## Idle report");
    expect(result.stderr).not.toContain("deferred");
  });

  test("a plateau ends the round and brings the report; a crash streak defers it", () => {
    const plateaued = baselined({ plateau: 2 });
    const plateau = runScript("iterate", ["--loop", "--agent", idleAgent(), "--iterations", "10"], { cwd: plateaued });
    expect(plateau.code).toBe(4);
    expect(read(plateaued, "autoresearch_report.md")).toContain("## Idle report");

    const crashing = baselined();
    const crashes = runScript("iterate", ["--loop", "--agent", "exit 7"], { cwd: crashing });
    expect(crashes.code).toBe(5);
    expect(exists(crashing, "autoresearch_report.md")).toBe(false);
    expect(crashes.stderr).toContain(
      "Final report deferred: the round goes on (27 of 30 iterations left; fix the crashes first)",
    );
    expect(sh(crashing, "git", ["status", "--porcelain", "ranker.py"]).trim()).toBe("");
  });
});
