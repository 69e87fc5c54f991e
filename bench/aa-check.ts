// A/A check on a real eval (DECISION.md): submit no-op candidates — the incumbent plus a
// comment line — to the real iterate.ts on a noisy Python eval, many times, and count
// keeps. The keep rate must stay near the false-keep rate alpha (0.05).
//   bun bench/aa-check.ts [--candidates 100] [--noise 0.01]
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pythonExperiment } from "../test/experiment-fixture.ts";
import { runScript } from "../test/helpers.ts";

const { values } = parseArgs({
  options: { candidates: { type: "string", default: "100" }, noise: { type: "string", default: "0.01" } },
});
const CANDIDATES = Number(values.candidates);
const ALPHA = 0.05;

const root = pythonExperiment({ noise: Number(values.noise), budget: CANDIDATES + 5, plateau: CANDIDATES + 5 });
const baseline = runScript("baseline", [], { cwd: root });
if (baseline.code !== 0) throw new Error(`baseline failed: ${baseline.stderr}`);
const started = performance.now();
for (let index = 1; index <= CANDIDATES; index++) {
  appendFileSync(join(root, "ranker.py"), `# no-op candidate ${index}\n`);
  const step = runScript("iterate", ["-m", `no-op ${index}`], { cwd: root });
  if (step.code !== 0) throw new Error(`iterate failed: ${step.stderr}`);
}
const lines = readFileSync(join(root, "autoresearch.jsonl"), "utf8").trim().split("\n").map((line) => JSON.parse(line));
const results = lines.filter((line) => line.type === "result" && line.status !== "baseline");
const keeps = results.filter((line) => line.status === "keep").length;
const evals = results.reduce((total, line) => total + (line.runs?.length ?? 0) + (line.incumbent_runs?.length ?? 0), 0);
const rate = keeps / results.length;
console.log(`| no-op candidates | keeps | keep rate | alpha | eval runs per candidate | seconds |`);
console.log(`|---|---|---|---|---|---|`);
console.log(
  `| ${results.length} | ${keeps} | ${(rate * 100).toFixed(1)}% | ${ALPHA * 100}% | ${
    (evals / results.length).toFixed(2)
  } | ${((performance.now() - started) / 1000).toFixed(0)} |`,
);
// With few candidates the rate is itself noisy: flag only a clear excess (binomial, ~2.5 sd).
const limit = ALPHA + 2.5 * Math.sqrt((ALPHA * (1 - ALPHA)) / results.length);
console.log(
  rate <= limit
    ? `PASS keep rate ${(rate * 100).toFixed(1)}% <= ${(limit * 100).toFixed(1)}% (alpha + 2.5 binomial sd)`
    : `FAIL keep rate ${(rate * 100).toFixed(1)}% > ${(limit * 100).toFixed(1)}%`,
);
if (rate > limit) process.exitCode = 1;
