// examples/Makefile in use: copied into a temporary repository holding the search-ranking
// example and run with real `make`, which runs the real scripts under Bun (the full pipeline)
// and under Deno (RUNTIME=deno, for a step and the dashboard). Checks that make's exit status
// follows the scripts' codes: a spent budget ends a loop cleanly, a crash streak fails it.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commitHarness, exampleFiles, KIT_ROOT, makeRepo, PATH_WITH_KIT_RUNTIMES, results, sh } from "./helpers.ts";

const HARNESS_FILES = [
  "autoresearch.yaml",
  "autoresearch_eval.py",
  "autoresearch_test_data.json",
  "instructions.md",
  "launch_prompt.md",
];
const INIT_ARGS =
  '--entry rank --metric precision@3 --guard "mrr>=0.7" --cases-from labelled_queries.json --iterations 8 --yes';
const hasMake = spawnSync("make", ["--version"]).status === 0;

function rankingRepoWithMakefile(): string {
  return makeRepo({
    ...exampleFiles("search-ranking"),
    Makefile: readFileSync(join(KIT_ROOT, "examples", "Makefile"), "utf8"),
  });
}

function make(root: string, target: string, variables: Record<string, string> = {}, env: Record<string, string> = {}) {
  const assignments = Object.entries({ KIT: KIT_ROOT, ...variables }).map(([name, value]) => `${name}=${value}`);
  const result = spawnSync("make", ["--no-print-directory", target, ...assignments], {
    cwd: root,
    encoding: "utf8",
    timeout: 110_000,
    input: "",
    env: { ...process.env, PATH: PATH_WITH_KIT_RUNTIMES, NO_COLOR: "1", CI: "true", ...env },
  });
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

function initialised(): string {
  const root = rankingRepoWithMakefile();
  const init = make(root, "autoresearch-init", { FILE: "ranker.py", INIT_ARGS });
  if (init.code !== 0) throw new Error(`make autoresearch-init failed: ${init.stderr}`);
  sh(root, "python3", ["apply_labels.py", "autoresearch_test_data.json"]);
  commitHarness(root, HARNESS_FILES);
  return root;
}

describe.skipIf(!hasMake)("examples/Makefile", () => {
  beforeAll(() => {
    if (!hasMake) console.warn("make is not installed: skipping the Makefile tests");
  });

  test("the full pipeline runs through make under Bun: init, baseline, iterate, loop, batches, dashboard, next-round", () => {
    const root = initialised();
    expect(make(root, "autoresearch-baseline").code).toBe(0);

    writeFileSync(
      join(root, "ranker.py"),
      readFileSync(join(root, "ranker.py"), "utf8").replace("RECENCY_WEIGHT = 4.0", "RECENCY_WEIGHT = 2.0"),
    );
    const step = make(root, "autoresearch-iterate", {}, { MSG: 'halve the "recency" weight `id` $(whoami)' });
    expect(step.code).toBe(0);
    expect(results(root)[0]).toMatchObject({
      status: "keep",
      description: 'halve the "recency" weight `id` $(whoami)',
    });

    expect(make(root, "autoresearch-loop", { ITERATIONS: "2" }).code).toBe(0);
    expect(results(root)).toHaveLength(3);

    // Batches of 2 until the budget of 8 is spent: iterate exits 3, which ends the make loop cleanly.
    const batches = make(root, "autoresearch-batches", { BATCH: "2" });
    expect(batches.code).toBe(0);
    expect(batches.stderr).toContain("autoresearch: round over (exit 3)");
    expect(results(root)).toHaveLength(8);
    expect(readFileSync(join(root, "autoresearch_dashboard.md"), "utf8")).toContain("**Iterations:** 8/8");

    const spent = make(root, "autoresearch-loop");
    expect(spent.code).toBe(0);
    expect(spent.stderr).toContain("autoresearch: the budget is spent");

    expect(make(root, "autoresearch-dashboard").code).toBe(0);
    const nextRound = make(root, "autoresearch-next-round");
    expect(nextRound.code).toBe(0);
    expect(readdirSync(root)).toContain("instructions_2.md");
    expect(readFileSync(join(root, "autoresearch.yaml"), "utf8")).toContain("current_round: 2");
  });

  test("RUNTIME=deno runs the scripts, and the default offline agent, with deno run -A", () => {
    const root = initialised();
    expect(make(root, "autoresearch-baseline", { RUNTIME: "deno" }).code).toBe(0);
    writeFileSync(
      join(root, "ranker.py"),
      readFileSync(join(root, "ranker.py"), "utf8").replace("BM25_K1 = 0.8", "BM25_K1 = 0.4"),
    );
    const step = make(root, "autoresearch-iterate", { RUNTIME: "deno", MSG: "lower k1" });
    expect(step.code).toBe(0);
    expect(step.stdout).toContain("deno run -A");
    expect(results(root)).toHaveLength(1);
    expect(make(root, "autoresearch-loop", { RUNTIME: "deno", ITERATIONS: "1" }).code).toBe(0);
    expect(results(root)[1].description).toStartWith("tune ");
    const dashboard = make(root, "autoresearch-dashboard", { RUNTIME: "deno" });
    expect(dashboard.code).toBe(0);
    expect(dashboard.stdout).toContain(`deno run -A ${KIT_ROOT}/scripts/dashboard.ts`);
    expect(readFileSync(join(root, "autoresearch_dashboard.md"), "utf8")).toContain("lower k1");
  });

  test("a crash streak fails the loop target, and missing variables are refused with the command to run", () => {
    const root = initialised();
    expect(make(root, "autoresearch-baseline").code).toBe(0);
    const crashes = make(root, "autoresearch-loop", { AGENT: "exit 7" });
    expect(crashes.code).not.toBe(0);
    expect(crashes.stderr).toContain("crashed repeatedly");
    expect(results(root)).toHaveLength(3);

    const noFile = make(root, "autoresearch-init");
    expect(noFile.code).not.toBe(0);
    expect(noFile.stderr).toContain("make autoresearch-init FILE=path/to/file");
    const noMessage = make(root, "autoresearch-iterate");
    expect(noMessage.stderr).toContain('make autoresearch-iterate MSG="raise the title weight"');
    const noKit = make(root, "autoresearch-baseline", { KIT: "/nonexistent/kit" });
    expect(noKit.code).not.toBe(0);
    expect(noKit.stderr).toContain("No autoresearch-kit at KIT=/nonexistent/kit");
    const badRuntime = make(root, "autoresearch-baseline", { RUNTIME: "node" });
    expect(badRuntime.stderr).toContain('RUNTIME must be bun or deno, not "node"');
  });
});
