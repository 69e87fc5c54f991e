// init speed bench: generates a 2,000-line Python file (constants, weight dicts, thresholds,
// prompts, functions) in a temporary git repository and runs init.ts on it as a subprocess,
// as a user would, printing each run and the median (target <= 1 s). Also times the planning
// step in-process, to separate runtime start-up from init's own work.
//   bun bench/init.ts [--runs 7] [--lines 2000] [--deno]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { inspectInit } from "../scripts/lib/init/inspect.ts";
import { planInit } from "../scripts/lib/init/plan.ts";

const KIT_ROOT = resolve(import.meta.dir, "..");
const TARGET_MS = 1000; // one init on a 2,000-line file, end to end

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "7" },
    lines: { type: "string", default: "2000" },
    deno: { type: "boolean", default: false },
  },
});
const runs = Math.max(5, Number(values.runs));
const targetLines = Number(values.lines);

/** A plausible search module: module-level levers first, then many small functions. */
function generatePython(lines: number): string {
  const out = ['"""Search ranking for the help centre (generated for the init bench)."""', "import math", "", ""];
  let block = 0;
  while (out.length < lines - 12) {
    block++;
    out.push(`TITLE_WEIGHT_${block} = ${(block % 7) + 0.5}`);
    out.push(`MIN_SCORE_${block} = 0.${block % 9 + 1}`);
    out.push(
      `FIELD_WEIGHTS_${block} = {"title": ${block % 5 + 1}.0, "body": 1.0, "tags": {"exact": 2.0, "partial": 0.5}}`,
    );
    out.push(
      `SYSTEM_PROMPT_${block} = "You rank help-centre articles for a customer question, best match first, block ${block}."`,
    );
    out.push("");
    out.push(`def score_${block}(query: str, document: dict) -> float:`);
    out.push(`    words = query.lower().split()`);
    out.push(`    hits = sum(1 for word in words if word in document.get("body", ""))`);
    out.push(`    title = TITLE_WEIGHT_${block} * sum(1 for word in words if word in document.get("title", ""))`);
    out.push(`    total = hits * FIELD_WEIGHTS_${block}["body"] + title`);
    out.push(`    return total if total >= MIN_SCORE_${block} else 0.0`);
    out.push("");
    out.push("");
  }
  out.push("def rank(query: str, documents: list[dict], limit: int = 10) -> list[str]:");
  out.push('    scored = [(document["id"], score_1(query, document)) for document in documents]');
  out.push("    scored.sort(key=lambda pair: -pair[1])");
  out.push("    return [identifier for identifier, score in scored[:limit] if score > 0]");
  return `${out.join("\n")}\n`;
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function git(cwd: string, args: string[]): void {
  const result = spawnSync("git", args, { cwd, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
}

const root = mkdtempSync(join(tmpdir(), "ark-bench-init-"));
process.on("exit", () => rmSync(root, { recursive: true, force: true })); // also when a run fails
const source = generatePython(targetLines);
writeFileSync(join(root, "ranker.py"), source);
git(root, ["init", "-q", "-b", "main"]);
git(root, ["-c", "user.email=bench@example.com", "-c", "user.name=bench", "add", "-A"]);
git(root, [
  "-c",
  "user.email=bench@example.com",
  "-c",
  "user.name=bench",
  "-c",
  "commit.gpgsign=false",
  "commit",
  "-q",
  "-m",
  "bench",
]);

const runtime = values.deno ? join(KIT_ROOT, "node_modules/.bin/deno") : join(KIT_ROOT, "node_modules/.bin/bun");
const prefix = values.deno ? ["run", "-A", "-q"] : [];
const script = join(KIT_ROOT, "scripts/init.ts");
const timings: number[] = [];
let levers = 0;
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  const result = spawnSync(runtime, [
    ...prefix,
    script,
    "ranker.py",
    "--metric",
    "precision@10",
    "--force",
    "--yes",
    "--json",
  ], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
  });
  timings.push(performance.now() - started);
  if (result.status !== 0) throw new Error(`init failed: ${result.stderr}`);
  levers = JSON.parse(result.stdout).levers.length;
}

const planTimings: number[] = [];
for (let run = 0; run < runs; run++) {
  const started = performance.now();
  planInit(await inspectInit({ cwd: root, file: "ranker.py", metric: "precision@10", force: true }));
  planTimings.push(performance.now() - started);
}

const lineCount = source.split("\n").length - 1;
const end = median(timings);
console.log(
  `init.ts on a ${lineCount}-line Python file (${levers} levers), ${runs} runs under ${values.deno ? "Deno" : "Bun"}:`,
);
console.log(`  runs (ms):   ${timings.map((value) => value.toFixed(0)).join(", ")}`);
console.log(
  `  median:      ${end.toFixed(0)} ms end to end (target <= ${TARGET_MS} ms) ${
    end <= TARGET_MS ? "OK" : "OVER TARGET"
  }`,
);
console.log(
  `  in-process:  ${
    median(planTimings).toFixed(0)
  } ms median to validate, analyse and render (no runtime start-up, no writes)`,
);
