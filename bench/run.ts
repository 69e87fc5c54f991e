// `npm run bench`: every benchmark in turn, each printing its own figures and targets —
// decision quality by simulation (and the gain its evals can buy), parallel workers, then init, levers, baseline, iterate, the floor of a keep, dashboard and example
// speed, one huge output line, then the kill -9 soak of the loop (a few minutes). A bench that misses a target or fails
// exits non-zero, and so does this runner.
//   bun bench/run.ts [decision decision-frontier aa-check parallel init levers baseline iterate floor dashboard examples
//                     long-lines kill-soak]
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const BENCH_DIR = resolve(import.meta.dir);
const BUN = resolve(BENCH_DIR, "../node_modules/.bin/bun");
const ALL = [
  "decision",
  "decision-frontier",
  "aa-check",
  "parallel",
  "init",
  "levers",
  "baseline",
  "iterate",
  "floor",
  "dashboard",
  "examples",
  "long-lines",
  "kill-soak",
];

const chosen = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
const failed: string[] = [];
for (const name of chosen) {
  if (!ALL.includes(name)) {
    console.error(`bench/run.ts: unknown bench "${name}"; choose from ${ALL.join(", ")}`);
    process.exitCode = 2;
    break;
  }
  console.log(`\n## bench/${name}.ts\n`);
  const started = performance.now();
  const result = spawnSync(BUN, [join(BENCH_DIR, `${name}.ts`)], { stdio: "inherit" });
  console.log(`\n(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s, exit ${result.status})`);
  if (result.status !== 0) failed.push(name);
}
if (failed.length) {
  console.error(`\nbenches with a failure or a missed target: ${failed.join(", ")}`);
  process.exitCode = 1;
}
