// Step-mode overhead: how long `iterate.ts -m` takes beyond the eval runs it makes,
// with a trivial eval (a shell `echo`), on a real temporary git repository. Prints the
// median overhead per step and the ratio step / eval-alone, for Bun and for Deno.
// bench/floor.ts times steps the same way (timeStep) and sets them against the floor of a keep.
//   bun bench/iterate.ts [--steps 15]
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { median, SHELL_EVAL as EVAL, shellExperiment, timed as run } from "./shell-experiment.ts";

const KIT = resolve(import.meta.dir, "..");
const STEPS = Number(process.argv[process.argv.indexOf("--steps") + 1]) || 15;

/**
 * One step on a baselined shell experiment: odd `index` writes a better value (a keep,
 * 2 eval runs), even a worse one (a discard, 1 run). Returns its wall time and eval runs.
 */
export function timeStep(
  root: string,
  command: string,
  prefix: string[],
  index: number,
): { elapsed: number; evals: number } {
  const value = index % 2 ? 0.5 + index / 1000 : 0.1;
  writeFileSync(join(root, "value.txt"), `${value.toFixed(4)}\n`);
  const elapsed = run(root, command, [...prefix, join(KIT, "scripts/iterate.ts"), "-m", `step ${index}`]);
  const lines = readFileSync(join(root, "autoresearch.jsonl"), "utf8").trim().split("\n");
  const last = JSON.parse(lines.at(-1)!);
  return { elapsed, evals: (last.runs?.length ?? 0) + (last.incumbent_runs?.length ?? 0) };
}

function measure(runtime: "bun" | "deno"): { overhead: number; step: number; evalAlone: number } {
  const root = shellExperiment("iterate");
  const [command, prefix] = runtime === "bun"
    ? [join(KIT, "node_modules/.bin/bun"), []]
    : [join(KIT, "node_modules/.bin/deno"), ["run", "-A", "-q"]];
  run(root, command, [...prefix, join(KIT, "scripts/baseline.ts"), "--allow-insensitive"]);
  const evalTimes = Array.from({ length: 20 }, () => run(root, "bash", ["-c", EVAL]));
  const evalAlone = median(evalTimes);
  const overheads: number[] = [];
  const steps: number[] = [];
  for (let index = 1; index <= STEPS; index++) {
    const { elapsed, evals } = timeStep(root, command, prefix, index);
    steps.push(elapsed);
    overheads.push(elapsed - evals * evalAlone);
  }
  rmSync(root, { recursive: true, force: true });
  return { overhead: median(overheads), step: median(steps), evalAlone };
}

if (import.meta.main) {
  console.log(`| runtime | median step (ms) | eval alone (ms) | median overhead (ms) | ratio step/eval | target |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const runtime of ["bun", "deno"] as const) {
    const figures = measure(runtime);
    const target = runtime === "bun" ? (figures.overhead <= 150 ? "PASS (≤ 150 ms)" : "FAIL (> 150 ms)") : "—";
    if (runtime === "bun" && figures.overhead > 150) process.exitCode = 1;
    console.log(
      `| ${runtime} | ${figures.step.toFixed(0)} | ${figures.evalAlone.toFixed(1)} | ${figures.overhead.toFixed(0)} | ${
        (figures.step / figures.evalAlone).toFixed(1)
      }× | ${target} |`,
    );
  }
}
