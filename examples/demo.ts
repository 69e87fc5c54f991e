#!/usr/bin/env bun
// The whole autoresearch pipeline, offline, in under a minute: copies examples/search-ranking
// into a fresh temporary git repository and runs init -> labels -> baseline -> a 15-iteration
// loop with the offline tuner -> dashboard -> next-round, then prints where every file is.
// It keeps the temporary repository for you to explore and never touches this one.
// Needs Bun (npm install provides it), git and python3. Run: npm run demo
import { cpSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { $, ProcessOutput } from "zx";

const KIT_ROOT = resolve(import.meta.dirname, "..");
const EXAMPLE_DIR = join(KIT_ROOT, "examples", "search-ranking");
const BUN = process.execPath; // the runtime running this demo runs every script too
const ITERATIONS = 15;
const LOOP_ENDINGS = new Set([0, 3, 4]); // done, budget spent, plateau: all normal ends of a loop
const HARNESS_FILES = [
  "autoresearch.yaml",
  "autoresearch_eval.py",
  "autoresearch_test_data.json",
  "instructions.md",
  "launch_prompt.md",
];

type DashboardJson = {
  summary: {
    metric: { name: string };
    start: number;
    best: { score: number; iteration: number };
    counts: { keep: number; discard: number; crash: number; guard_fail: number };
    iterations: { done: number };
  };
  files: { dashboard: string; chart: string; journal: string; report: string };
};
type NextRoundJson = { round: number; files: string[] };

function kitScript(verb: string): string {
  return join(KIT_ROOT, "scripts", `${verb}.ts`);
}

/** Run one named step (its stderr streams live); any failing command fails the step by name. */
async function runStep(
  name: string,
  command: () => Promise<ProcessOutput>,
  allowedExitCodes = new Set([0]),
): Promise<ProcessOutput> {
  console.error(`\n== ${name}`);
  try {
    return await command();
  } catch (error) {
    if (!(error instanceof ProcessOutput)) throw new Error(`step "${name}" failed: ${(error as Error).message}`);
    if (allowedExitCodes.has(error.exitCode ?? -1)) return error;
    const stdout = error.stdout.trim();
    throw new Error(
      `step "${name}" failed with exit code ${error.exitCode}${stdout ? `; its stdout:\n${stdout}` : ""}`,
    );
  }
}

async function runPipeline(repository: string): Promise<{ dashboard: DashboardJson; nextRound: NextRoundJson }> {
  // stdin closed, so no script asks anything; stderr streams live. `run` captures stdout as data,
  // `show` sends it to our stderr as well, keeping our stdout for the summary at the end.
  const env = { ...process.env, PATH: `${join(KIT_ROOT, "node_modules", ".bin")}:${process.env.PATH ?? ""}` };
  const run = $({ cwd: repository, env, stdio: ["ignore", "pipe", "inherit"] });
  const show = $({ cwd: repository, env, stdio: ["ignore", 2, "inherit"] });
  const agent = `${quoteForShell(BUN)} ${quoteForShell(join(KIT_ROOT, "examples", "agents", "tune-levers.ts"))}`;

  await runStep("copy the search-ranking example into a new git repository", async () => {
    cpSync(EXAMPLE_DIR, repository, { recursive: true });
    await run`git init -q -b main`;
    await run`git config user.email demo@example.com`;
    await run`git config user.name ${"autoresearch demo"}`;
    await run`git config commit.gpgsign false`;
    await run`git add ${readdirSync(repository).filter((name) => name !== ".git")}`;
    return run`git commit -q -m ${"search ranking for the kitchen knowledge base"}`;
  });
  await runStep(
    "init: read ranker.py, generate the harness, fill expected results from the current code",
    () =>
      run`${BUN} ${
        kitScript("init")
      } ranker.py --entry rank --metric precision@3 --guard ${"mrr>=0.7"} --cases-from labelled_queries.json --yes`,
  );
  await runStep(
    "review the test data: replace the bootstrapped results with the hand-written labels",
    () => show`python3 apply_labels.py autoresearch_test_data.json`,
  );
  await runStep("commit the harness", async () => {
    await run`git add ${HARNESS_FILES}`;
    return run`git commit -q -m ${"autoresearch harness for ranker.py"}`;
  });
  await runStep(
    "baseline: check the harness, measure the noise, record the start",
    () => show`${BUN} ${kitScript("baseline")}`,
  );
  await runStep(
    `iterate --loop: ${ITERATIONS} iterations with the offline tuner`,
    // The demo ends the round here (next-round follows), so it asks for the final report now.
    () => show`${BUN} ${kitScript("iterate")} --loop --agent ${agent} --iterations ${ITERATIONS} --final-report`,
    LOOP_ENDINGS,
  );
  const dashboard = await runStep("dashboard: render the journal", () => run`${BUN} ${kitScript("dashboard")} --json`);
  const nextRound = await runStep(
    "next-round: turn round 1's log into round 2's files",
    () =>
      run`${BUN} ${kitScript("next-round")} --focus ${"structural changes: the numeric levers have plateaued"} --json`,
  );
  return { dashboard: JSON.parse(dashboard.stdout), nextRound: JSON.parse(nextRound.stdout) };
}

function printSummary(
  repository: string,
  { dashboard, nextRound }: { dashboard: DashboardJson; nextRound: NextRoundJson },
  seconds: number,
): void {
  const { summary, files } = dashboard;
  const at = (path: string) => join(repository, path);
  const roundFiles = nextRound.files.filter((path) => path !== "autoresearch.yaml").map(at);
  const lines = [
    "",
    `Demo repository: ${repository}`,
    `  dashboard     ${at(files.dashboard)}`,
    `  chart         ${at(files.chart)}`,
    `  journal       ${at(files.journal)}`,
    `  report        ${at(files.report)}`,
    `  round ${nextRound.round} files ${roundFiles.join(`\n${" ".repeat(16)}`)}`,
    "",
    `${summary.metric.name}: ${summary.start.toFixed(4)} -> ${
      summary.best.score.toFixed(4)
    } (best at iteration ${summary.best.iteration}); ` +
    `${summary.counts.keep} kept, ${summary.counts.discard} discarded, ${summary.counts.guard_fail} guard failures, ` +
    `${summary.counts.crash} crashes in ${summary.iterations.done} iterations`,
    `Wall time: ${seconds.toFixed(1)} s`,
    `Next: cd ${repository}, read the dashboard and git log; round ${nextRound.round} starts with: bun ${
      kitScript("baseline")
    }`,
  ];
  console.log(lines.join("\n"));
}

function quoteForShell(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

async function main(): Promise<number> {
  const started = performance.now();
  const repository = mkdtempSync(join(tmpdir(), "autoresearch-demo-"));
  try {
    printSummary(repository, await runPipeline(repository), (performance.now() - started) / 1000);
    return 0;
  } catch (error) {
    console.error(`\ndemo: ${(error as Error).message}\nThe repository is kept as it was: ${repository}`);
    return 1;
  }
}

process.exitCode = await main();
