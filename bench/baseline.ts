// Baseline overhead: how long `baseline.ts` takes beyond its eval runs (3 baseline runs + the
// sensitivity probe = 4 evals), with a trivial shell eval, each repetition on a fresh temporary
// git repository. Prints the median overhead, the ratio baseline / evals alone, and the start-up
// share (`--help`: runtime plus imports), for Bun and for Deno; the best repetition shows the
// cost on an idle machine when others share the CPU. It does not measure slow evals.
//   bun bench/baseline.ts [--repetitions 7]
import { rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { median, SHELL_EVAL as EVAL, shellExperiment, timed } from "./shell-experiment.ts";

const KIT = resolve(import.meta.dir, "..");
const REPETITIONS = Math.max(5, Number(process.argv[process.argv.indexOf("--repetitions") + 1]) || 7);
const EVALS_PER_BASELINE = 4; // 3 runs + 1 probe
const TARGET_OVERHEAD_MS = 200;

type Figures = { baseline: number; evals: number; overhead: number; bestOverhead: number; startup: number };

function measure(runtime: "bun" | "deno"): Figures {
  const [command, prefix] = runtime === "bun"
    ? [join(KIT, "node_modules/.bin/bun"), []]
    : [join(KIT, "node_modules/.bin/deno"), ["run", "-A", "-q"]];
  const script = join(KIT, "scripts/baseline.ts");
  timed(KIT, command, [...prefix, script, "--help"]); // warm the runtime's module cache once
  const baselines: number[] = [];
  const evalSums: number[] = [];
  const overheads: number[] = [];
  const startups: number[] = [];
  for (let repetition = 0; repetition < REPETITIONS; repetition++) {
    const root = shellExperiment("baseline");
    try {
      const elapsed = timed(root, command, [...prefix, script]);
      let evals = 0;
      for (let run = 0; run < EVALS_PER_BASELINE; run++) evals += timed(root, "bash", ["-c", EVAL]);
      baselines.push(elapsed);
      evalSums.push(evals);
      overheads.push(elapsed - evals);
      startups.push(timed(root, command, [...prefix, script, "--help"]));
    } finally {
      rmSync(root, { recursive: true, force: true }); // each repetition's repository is its own
    }
  }
  return {
    baseline: median(baselines),
    evals: median(evalSums),
    overhead: median(overheads),
    bestOverhead: Math.min(...overheads),
    startup: median(startups),
  };
}

console.log(
  `baseline.ts overhead beyond ${EVALS_PER_BASELINE} evals of \`${EVAL}\`, median of ${REPETITIONS} fresh repositories`,
);
console.log(
  "| runtime | baseline (ms) | 4 evals alone (ms) | median overhead (ms) | best overhead (ms) | of which start-up (ms) | ratio baseline/evals | target (median) |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const runtime of ["bun", "deno"] as const) {
  const figures = measure(runtime);
  const verdict = figures.overhead <= TARGET_OVERHEAD_MS
    ? `PASS (≤ ${TARGET_OVERHEAD_MS} ms)`
    : `over (> ${TARGET_OVERHEAD_MS} ms)`;
  console.log(
    `| ${runtime} | ${figures.baseline.toFixed(0)} | ${figures.evals.toFixed(1)} | ${figures.overhead.toFixed(0)} | ${
      figures.bestOverhead.toFixed(0)
    } | ${figures.startup.toFixed(0)} | ${(figures.baseline / figures.evals).toFixed(1)}× | ${verdict} |`,
  );
}
