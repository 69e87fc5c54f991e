// Lever analysis speed: analyzeSource on the 2,000-line Python file test/levers.test.ts reads
// (250 blocks of constants, a prompt, a weight dict and a function), repeated in-process; prints
// each run and the median against init's one-second budget. The test checks what is found; how
// fast lives here, where a loaded machine cannot fail the suite. python3 start-up is included.
//   bun bench/levers.ts [--runs 7]
import { parseArgs } from "node:util";
import { analyzeSource } from "../scripts/lib/levers/levers.ts";
import { median } from "../scripts/lib/decision/stats.ts";
import { generatedPythonLines } from "../test/fixtures/generated-python.ts";

const TARGET_MS = 1000; // init's whole budget for a 2,000-line file
const { values } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const runs = Math.max(3, Number(values.runs));

const source = `${generatedPythonLines(250).join("\n")}\n`;
const timings: number[] = [];
let found = { method: "", functions: 0, levers: 0 };
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  const analysis = analyzeSource(source, "python", { fileName: "snippet.py" });
  timings.push(performance.now() - started);
  found = { method: analysis.method, functions: analysis.functions.length, levers: analysis.levers.length };
}
const middle = median(timings) as number;
console.log(
  `analyzeSource on a 2,000-line Python file (${found.method}: ${found.functions} functions, ${found.levers} levers), ${runs} runs:`,
);
console.log(`  runs (ms):  ${timings.map((value) => value.toFixed(0)).join(", ")}`);
console.log(
  `  median:     ${middle.toFixed(0)} ms (target <= ${TARGET_MS} ms) ${middle <= TARGET_MS ? "OK" : "OVER TARGET"}`,
);
if (found.method !== "python-ast" || middle > TARGET_MS) process.exitCode = 1;
