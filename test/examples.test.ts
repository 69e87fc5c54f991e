// The bundled examples end to end: each is copied into a throwaway git repository and taken
// through init -> test data -> baseline -> iterations with the real scripts, the real evals
// (Python for search-ranking, Bun for latency) and the offline tuner as the agent. It checks
// what the examples' READMEs promise, not the scripts' every detail (their own tests do that).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, KIT_ROOT, makeRepo, runScript, sh } from "./helpers.ts";

type Line = Record<string, any>;

const TUNER = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
/** The generated TypeScript eval runs as `bun autoresearch_eval.ts`: put the kit's Bun on PATH. */
const WITH_BUN = { PATH: `${join(KIT_ROOT, "node_modules/.bin")}:${process.env.PATH}` };

function exampleRepo(name: string): string {
  const folder = join(KIT_ROOT, "examples", name);
  const files = Object.fromEntries(readdirSync(folder).map((file) => [file, readFileSync(join(folder, file), "utf8")]));
  return makeRepo(files);
}

function journal(root: string): Line[] {
  return readFileSync(join(root, "autoresearch.jsonl"), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
}

function iterations(root: string): Line[] {
  return journal(root).filter((line) => line.type === "result" && line.status !== "baseline");
}

function commitHarness(root: string, files: string[]): void {
  sh(root, "git", ["add", ...files]);
  sh(root, "git", ["commit", "-q", "-m", "autoresearch harness"]);
}

function setLever(root: string, file: string, name: string, value: string): void {
  const path = join(root, file);
  const source = readFileSync(path, "utf8");
  const edited = source.replace(new RegExp(`^(export const )?${name} = [^;\\s]+`, "m"), (_match, prefix = "") => `${prefix}${name} = ${value}`);
  if (edited === source) throw new Error(`no lever ${name} in ${file}`);
  writeFileSync(path, edited);
}

describe("the search-ranking example", () => {
  test("init --cases-from bootstraps expected results from the current ranker, which the labels then replace", () => {
    const root = exampleRepo("search-ranking");
    const init = runScript("init", ["ranker.py", "--entry", "rank", "--metric", "precision@3", "--guard", "mrr>=0.7", "--cases-from", "labelled_queries.json", "--json"], { cwd: root });
    expect(init.code).toBe(0);
    expect(JSON.parse(init.stdout)).toMatchObject({ ok: true, language: "python", metric: { name: "precision@3", direction: "max" } });
    const bootstrapped = JSON.parse(readFileSync(join(root, "autoresearch_test_data.json"), "utf8")).cases;
    expect(bootstrapped).toHaveLength(26);
    expect(bootstrapped[0]).toMatchObject({ id: "knife-sharpen", source: "bootstrap" });
    expect(bootstrapped[0].expected[0]).toStartWith("kitchen-digest-"); // today's ranker puts a digest first

    const labelling = Bun.spawnSync(["python3", "apply_labels.py", "autoresearch_test_data.json"], { cwd: root, stderr: "pipe" });
    expect(labelling.exitCode).toBe(0);
    expect(labelling.stderr.toString()).toContain("Labelled 26 cases");
    const labelled = JSON.parse(readFileSync(join(root, "autoresearch_test_data.json"), "utf8")).cases;
    expect(labelled[0]).toMatchObject({ id: "knife-sharpen", expected: ["knife-sharpening-whetstone", "honing-steel-basics"] });
    expect(labelled.some((item: Line) => "source" in item)).toBe(false);
  });

  test("the offline tuner raises precision@3 above the baseline within 15 iterations, with the MRR guard passing", () => {
    const root = exampleRepo("search-ranking");
    expect(runScript("init", ["ranker.py", "--entry", "rank", "--metric", "precision@3", "--guard", "mrr>=0.7", "--cases-from", "labelled_queries.json", "--iterations", "15"], { cwd: root }).code).toBe(0);
    sh(root, "python3", ["apply_labels.py", "autoresearch_test_data.json"]);
    commitHarness(root, ["autoresearch.yaml", "autoresearch_eval.py", "autoresearch_test_data.json", "instructions.md", "launch_prompt.md"]);

    const started = performance.now();
    const evalRun = sh(root, "python3", ["autoresearch_eval.py"]);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(evalRun).toContain("SCORE: 0.724359");

    const baseline = runScript("baseline", ["--json"], { cwd: root });
    expect(baseline.code).toBe(0);
    const [baselineLine] = journal(root).filter((line) => line.status === "baseline");
    expect(baselineLine.score).toBeCloseTo(0.7244, 4);
    expect(new Set(baselineLine.runs).size).toBe(1); // deterministic: three identical runs

    const loop = runScript("iterate", ["--loop", "--agent", TUNER, "--iterations", "15"], { cwd: root });
    expect([0, 3]).toContain(loop.code!);
    const lines = iterations(root);
    expect(lines).toHaveLength(15);
    const keeps = lines.filter((line) => line.status === "keep");
    expect(keeps.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...keeps.map((line) => line.score))).toBeGreaterThan(0.78);
    for (const line of keeps) expect(line.guard_pass).toBe(true);
    expect(readFileSync(join(root, "autoresearch_dashboard.md"), "utf8")).toContain(`**Kept:** ${keeps.length}`);
  });
});

describe("the latency example", () => {
  function baselinedLatency(): string {
    const root = exampleRepo("latency");
    const init = runScript("init", ["spelling.ts", "--entry", "correctQuery", "--metric", "latency_ms", "--guard", "accuracy>=1", "--cases-from", "queries.json", "--iterations", "20"], { cwd: root, env: WITH_BUN });
    if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
    commitHarness(root, ["autoresearch.yaml", "autoresearch_eval.ts", "autoresearch_test_data.json", "instructions.md", "launch_prompt.md"]);
    const baseline = runScript("baseline", ["--expected-gain", "0.2"], { cwd: root, env: WITH_BUN });
    if (baseline.code !== 0) throw new Error(`baseline failed: ${baseline.stderr}`);
    return root;
  }

  test("init generates a Bun eval that times correctQuery and guards its answers with accuracy", () => {
    const root = baselinedLatency();
    const experiment = readFileSync(join(root, "autoresearch.yaml"), "utf8");
    expect(experiment).toContain("command: bun autoresearch_eval.ts");
    expect(experiment).toMatch(/direction: min/);
    const [baselineLine] = journal(root).filter((line) => line.status === "baseline");
    expect(baselineLine.score).toBeGreaterThan(0);
    expect(baselineLine.guard_score).toBe(1);
    const started = performance.now();
    sh(root, BUN, ["autoresearch_eval.ts"]);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  test("a real speed-up is kept, the next candidate meets a freshly re-measured incumbent, and changed answers fail the guard", () => {
    const root = baselinedLatency();
    const [baselineLine] = journal(root).filter((line) => line.status === "baseline");

    setLever(root, "spelling.ts", "SKIP_KNOWN_WORDS", "1");
    expect(runScript("iterate", ["-m", "return known words without searching"], { cwd: root, env: WITH_BUN }).code).toBe(0);
    const [speedUp] = iterations(root);
    expect(speedUp).toMatchObject({ status: "keep", guard_pass: true });
    expect(speedUp.score).toBeLessThan(baselineLine.score * 0.8);
    expect(speedUp.verdict.mode).toBe("sequential");

    setLever(root, "spelling.ts", "MAX_EDITS", "0");
    runScript("iterate", ["-m", "correct nothing"], { cwd: root, env: WITH_BUN });
    const changedAnswers = iterations(root)[1];
    // The kept candidate ran once; the sequential test wants fresh runs of the new incumbent first.
    expect(changedAnswers.incumbent_runs.length).toBeGreaterThanOrEqual(1);
    expect(changedAnswers.guard_pass).toBe(false);
    expect(changedAnswers.status).not.toBe("keep");
    expect(readFileSync(join(root, "spelling.ts"), "utf8")).toContain("export const MAX_EDITS = 2;");
  });

  test("ten tuner iterations make the corrector faster without changing an answer", () => {
    const root = baselinedLatency();
    const [baselineLine] = journal(root).filter((line) => line.status === "baseline");
    const loop = runScript("iterate", ["--loop", "--agent", TUNER, "--iterations", "10", "--no-report"], { cwd: root, env: WITH_BUN });
    expect(loop.code).toBe(0);
    const lines = iterations(root);
    expect(lines).toHaveLength(10);
    const keeps = lines.filter((line) => line.status === "keep");
    expect(keeps.length).toBeGreaterThanOrEqual(1);
    for (const line of keeps) expect(line.guard_score).toBe(1);
    expect(Math.min(...keeps.map((line) => line.score))).toBeLessThan(baselineLine.score * 0.9);
    expect(lines.every((line) => line.verdict?.mode === "sequential")).toBe(true);
  });
});
