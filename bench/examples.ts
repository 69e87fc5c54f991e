// The bundled examples' speed figures, which test/examples.test.ts leaves out because load changes
// them: one eval run of each example (search-ranking in Python, latency in Bun), and for the
// latency example the four speed switches as one candidate (kept? how much faster?) and ten
// tuner iterations (keeps, best score against the baseline). Each figure is printed with its
// target; a miss exits 1. On a loaded machine a miss says more about the machine than the kit.
//   bun bench/examples.ts
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { median } from "../scripts/lib/decision/stats.ts";
import { commitEverything } from "./shell-experiment.ts";

const KIT = resolve(import.meta.dir, "..");
const BUN = join(KIT, "node_modules/.bin/bun");
const ENV = {
  ...process.env,
  NO_COLOR: "1",
  CI: "true",
  PATH: `${join(KIT, "node_modules/.bin")}:${process.env.PATH}`,
};
const EVAL_RUNS = 5;
const TARGETS = {
  pythonEvalMs: 1000, // one search-ranking eval run
  bunEvalMs: 2000, // one latency eval run
  speedUpRatio: 0.8, // the four switches' kept score against the baseline's
  tunerRatio: 0.9, // the tuner's best kept score against the baseline's, within ten iterations
};
const HARNESS = [
  "autoresearch.yaml",
  "autoresearch_eval.ts",
  "autoresearch_eval.py",
  "autoresearch_test_data.json",
  "instructions.md",
  "launch_prompt.md",
];

type Line = Record<string, any>;
const misses: string[] = [];

function run(
  cwd: string,
  command: string,
  args: string[],
): { code: number | null; stdout: string; stderr: string; ms: number } {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: ENV, input: "" });
  return {
    code: result.status,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    ms: performance.now() - started,
  };
}

function must(cwd: string, command: string, args: string[]): string {
  const result = run(cwd, command, args);
  if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return result.stdout;
}

function kit(cwd: string, verb: string, args: string[]) {
  return run(cwd, BUN, [join(KIT, "scripts", `${verb}.ts`), ...args]);
}

/** A committed git repository holding a copy of examples/<name>. */
function exampleRepo(name: string): string {
  const root = mkdtempSync(join(tmpdir(), `ark-bench-${name}-`));
  process.on("exit", () => rmSync(root, { recursive: true, force: true })); // also when a check fails
  const folder = join(KIT, "examples", name);
  for (const file of readdirSync(folder)) writeFileSync(join(root, file), readFileSync(join(folder, file)));
  commitEverything(root);
  return root;
}

function commitHarness(root: string): void {
  const present = HARNESS.filter((file) => readdirSync(root).includes(file));
  must(root, "git", ["add", ...present]);
  must(root, "git", ["commit", "-q", "-m", "autoresearch harness"]);
}

function journal(root: string): Line[] {
  return readFileSync(join(root, "autoresearch.jsonl"), "utf8").split("\n").filter(Boolean).map((line) =>
    JSON.parse(line)
  );
}

function iterations(root: string): Line[] {
  return journal(root).filter((line) => line.type === "result" && line.status !== "baseline");
}

function report(label: string, value: string, pass: boolean, target: string): void {
  console.log(`  ${label.padEnd(34)} ${value.padStart(12)}   (target ${target}) ${pass ? "OK" : "MISSED"}`);
  if (!pass) misses.push(label);
}

function evalMs(root: string, command: string, args: string[]): number {
  const timings: number[] = [];
  for (let index = 0; index < EVAL_RUNS; index++) {
    const result = run(root, command, args);
    if (result.code !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
    timings.push(result.ms);
  }
  return median(timings) as number;
}

function baselinedLatency(): { root: string; score: number } {
  const root = exampleRepo("latency");
  const init = kit(root, "init", [
    "spelling.ts",
    "--entry",
    "correctQuery",
    "--metric",
    "latency_ms",
    "--guard",
    "accuracy>=1",
    "--cases-from",
    "queries.json",
    "--iterations",
    "20",
  ]);
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  commitHarness(root);
  const baseline = kit(root, "baseline", ["--expected-gain", "0.2", "--json"]);
  if (baseline.code !== 0) throw new Error(`baseline failed: ${baseline.stderr}`);
  return { root, score: JSON.parse(baseline.stdout).score };
}

console.log(`one eval run (median of ${EVAL_RUNS}):`);
const ranking = exampleRepo("search-ranking");
const rankingInit = kit(ranking, "init", [
  "ranker.py",
  "--entry",
  "rank",
  "--metric",
  "precision@3",
  "--guard",
  "mrr>=0.7",
  "--cases-from",
  "labelled_queries.json",
]);
if (rankingInit.code !== 0) throw new Error(`init failed: ${rankingInit.stderr}`);
must(ranking, "python3", ["apply_labels.py", "autoresearch_test_data.json"]);
const pythonMs = evalMs(ranking, "python3", ["autoresearch_eval.py"]);
report(
  "search-ranking (python3)",
  `${pythonMs.toFixed(0)} ms`,
  pythonMs <= TARGETS.pythonEvalMs,
  `<= ${TARGETS.pythonEvalMs} ms`,
);

const speedUp = baselinedLatency();
const bunMs = evalMs(speedUp.root, BUN, ["autoresearch_eval.ts"]);
report("latency (bun)", `${bunMs.toFixed(0)} ms`, bunMs <= TARGETS.bunEvalMs, `<= ${TARGETS.bunEvalMs} ms`);

console.log("\nlatency example, the four speed switches as one candidate:");
let source = readFileSync(join(speedUp.root, "spelling.ts"), "utf8");
for (const name of ["SKIP_KNOWN_WORDS", "LENGTH_FILTER", "EARLY_EXIT", "TWO_ROW_TABLE"]) {
  source = source.replace(new RegExp(`^export const ${name} = 0;`, "m"), `export const ${name} = 1;`);
}
writeFileSync(join(speedUp.root, "spelling.ts"), source);
kit(speedUp.root, "iterate", ["-m", "turn on the four speed switches"]);
const [candidate] = iterations(speedUp.root);
const candidateRuns = `${candidate.runs.length} run${candidate.runs.length > 1 ? "s" : ""}`;
console.log(
  `  baseline ${speedUp.score} ms per query; candidate ${candidate.score} ms over ${candidateRuns}: ${candidate.status}`,
);
const speedUpRatio = candidate.score / speedUp.score;
report(
  "kept, score / baseline",
  `${candidate.status === "keep" ? "" : "not kept, "}${speedUpRatio.toFixed(2)}`,
  candidate.status === "keep" && speedUpRatio < TARGETS.speedUpRatio,
  `kept, < ${TARGETS.speedUpRatio}`,
);

console.log("\nlatency example, ten tuner iterations:");
const tuned = baselinedLatency();
const loop = kit(tuned.root, "iterate", [
  "--loop",
  "--agent",
  `${BUN} ${join(KIT, "examples/agents/tune-levers.ts")}`,
  "--iterations",
  "10",
  "--no-report",
]);
const keeps = iterations(tuned.root).filter((line) => line.status === "keep");
const best = keeps.length ? Math.min(...keeps.map((line) => line.score)) : tuned.score;
console.log(`  exit ${loop.code}; ${keeps.length} kept: ${keeps.map((line) => line.description).join("; ") || "none"}`);
report(
  "best kept score / baseline",
  (best / tuned.score).toFixed(2),
  best / tuned.score < TARGETS.tunerRatio,
  `< ${TARGETS.tunerRatio}`,
);

if (misses.length) {
  console.log(`\nmissed: ${misses.join(", ")}`);
  process.exitCode = 1;
}
