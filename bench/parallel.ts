// Parallel candidates, measured on the real iterate.ts: wall time of 24 candidates with 1, 2
// and 4 workers (iterate --loop --parallel N) for an eval bound by waiting (a 1 s sleep, like an
// API call or a remote job) and one bound by the CPU, as ratios to one worker in the same run;
// and the A/A check under --parallel 3: no-op candidates (a new comment line each) must be kept
// no more often than the decision rule allows (target <= 4%). The agent is a one-line shell edit,
// so the figures are the harness's and the eval's, not a model's. The timed evals print the same
// score every run: each candidate then takes the same eval runs whatever N is, so a ratio measures
// the parallelism and not the sequential test's luck (a noisy eval's runs per candidate vary by ±30%).
//   bun bench/parallel.ts [--candidates 24] [--aa 150] [--skip-cpu]
import { cpus } from "node:os";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pythonExperiment } from "../test/experiment-fixture.ts";
import { runScript } from "../test/helpers.ts";
import { shellExperiment } from "./shell-experiment.ts";

const { values } = parseArgs({
  options: {
    candidates: { type: "string", default: "24" },
    aa: { type: "string", default: "150" },
    "skip-cpu": { type: "boolean", default: false },
  },
});
const CANDIDATES = Number(values.candidates);
const AA_CANDIDATES = Number(values.aa);
const TARGETS: Record<number, number> = { 2: 0.55, 4: 0.32 }; // wall time ratio to one worker, sleep-bound eval
const AA_TARGET = 0.04;
const CORES = cpus().length;

/** A no-op candidate: one new comment line in `file`, named by worker and call so no two are the same change. */
function noOpAgent(file: string): string {
  return `echo "# candidate $AUTORESEARCH_WORKER-$AUTORESEARCH_ITERATION" >> ${file}; ` +
    `echo "DESCRIPTION: comment $AUTORESEARCH_WORKER-$AUTORESEARCH_ITERATION"`;
}
/** An eval that only waits: 1 s, then the first line of the constrained file as its score (no interpreter to start). */
const WAITING_EVAL = "sleep 1; echo SCORE: $(head -1 value.txt)";

type Run = { workers: number; seconds: number; evalsPerCandidate: number; keeps: number; candidates: number };

/** A Python experiment whose eval runs `prelude` first. */
function pythonLoop(prelude: string, noise: number, candidates: number): { root: string; file: string } {
  return {
    root: pythonExperiment({ noise, evalPrelude: prelude, budget: candidates + 5, plateau: candidates + 5 }),
    file: "ranker.py",
  };
}

/** Baseline `experiment`, then time a parallel loop of `candidates` no-op candidates. */
function timeLoop(workers: number, candidates: number, experiment: { root: string; file: string }): Run {
  const { root, file } = experiment;
  const baseline = runScript("baseline", ["--allow-insensitive"], { cwd: root, timeoutMs: 600_000 });
  if (baseline.code !== 0) throw new Error(`baseline failed: ${baseline.stderr}`);
  const started = performance.now();
  const loop = runScript(
    "iterate",
    ["--loop", "--agent", noOpAgent(file), "--parallel", String(workers), "--iterations", String(candidates)],
    { cwd: root, timeoutMs: 1_800_000 },
  );
  const seconds = (performance.now() - started) / 1000;
  if (loop.code !== 0) throw new Error(`the loop with ${workers} workers exited ${loop.code}: ${loop.stderr}`);
  const lines = results(root);
  if (!root.includes("ark-test-")) rmSync(root, { recursive: true, force: true }); // the shell experiment's folder
  const evals = lines.reduce((sum, line) => sum + (line.runs?.length ?? 0) + (line.incumbent_runs?.length ?? 0), 0);
  return {
    workers,
    seconds,
    evalsPerCandidate: evals / lines.length,
    keeps: lines.filter((line) => line.status === "keep").length,
    candidates: lines.length,
  };
}

/** The journal's iteration lines. */
function results(root: string): Record<string, any>[] {
  return readFileSync(join(root, "autoresearch.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line))
    .filter((line) => line.type === "result" && line.status !== "baseline");
}

function table(title: string, runs: Run[], targets: Record<number, number>): boolean {
  console.log(`\n### ${title}\n`);
  console.log("| workers | wall time (s) | ratio to 1 worker | target | eval runs per candidate |");
  console.log("|---|---|---|---|---|");
  let ok = true;
  for (const run of runs) {
    const ratio = run.seconds / runs[0].seconds;
    const target = targets[run.workers];
    const met = target === undefined || ratio <= target;
    ok &&= met;
    console.log(
      `| ${run.workers} | ${run.seconds.toFixed(1)} | ${ratio.toFixed(2)} | ${
        target === undefined ? "—" : `≤ ${target}${met ? "" : " MISSED"}`
      } | ${run.evalsPerCandidate.toFixed(2)} |`,
    );
  }
  return ok;
}

let passed = true;
console.log(`${CANDIDATES} no-op candidates per loop; ${CORES} cores.`);
const sleepRuns = [1, 2, 4].map((workers) =>
  timeLoop(workers, CANDIDATES, { root: shellExperiment("parallel", CANDIDATES + 5, WAITING_EVAL), file: "value.txt" })
);
passed = table("An eval that waits (1 s sleep in the shell)", sleepRuns, TARGETS) && passed;

if (!values["skip-cpu"]) {
  // About 0.5 s of pure Python arithmetic per run on this kind of machine.
  const burn = "sum(i * i for i in range(6_000_000))";
  const cpuRuns = [1, 2, 4].map((workers) =>
    timeLoop(workers, Math.min(CANDIDATES, 16), pythonLoop(burn, 0, Math.min(CANDIDATES, 16)))
  );
  const ideal = 1 / CORES;
  const atCores = cpuRuns.find((run) => run.workers === Math.min(CORES, 4)) ?? cpuRuns[cpuRuns.length - 1];
  const scales = atCores.seconds / cpuRuns[0].seconds <= ideal * 1.35;
  table(`An eval that computes (CPU-bound; ${CORES} cores: the best ratio is about 1/${CORES})`, cpuRuns, {});
  console.log(
    `\n${scales ? "PASS" : "FAIL"} CPU-bound: ${atCores.workers} workers take ${
      (atCores.seconds / cpuRuns[0].seconds).toFixed(2)
    } of one worker's time (target ≤ ${
      (ideal * 1.35).toFixed(2)
    }: 1/${CORES} cores plus 35% for the harness's serial part)`,
  );
  passed &&= scales;
}

const aa = timeLoop(3, AA_CANDIDATES, pythonLoop("", 0.01, AA_CANDIDATES));
const rate = aa.keeps / aa.candidates;
console.log(`\n### A/A under --parallel 3\n`);
console.log("| no-op candidates | keeps | keep rate | target | eval runs per candidate | wall time (s) |");
console.log("|---|---|---|---|---|---|");
console.log(
  `| ${aa.candidates} | ${aa.keeps} | ${(rate * 100).toFixed(1)}% | ≤ ${AA_TARGET * 100}% | ${
    aa.evalsPerCandidate.toFixed(2)
  } | ${aa.seconds.toFixed(0)} |`,
);
passed = rate <= AA_TARGET && passed;
console.log(passed ? "\nPASS every target" : "\nFAIL: a target was missed");
if (!passed) process.exitCode = 1;
