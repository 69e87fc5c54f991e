// Dashboard speed bench: generates a seeded 10,000-iteration journal (lines as rich as
// iterate.ts writes: runs, incumbent re-runs, guard scores, patches) and prints the median
// of several runs for read + parse + summary + markdown + SVG (target <= 300 ms on Bun),
// the same with the two atomic writes, and dashboard.ts end to end as a subprocess.
// Run: bun bench/dashboard.ts [--iterations 10000] [--runs 7] [--seed 7] [--deno]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildDashboard, writeDashboard } from "../scripts/lib/dashboard/files.ts";
import { artifactsBesideJournal } from "../scripts/lib/experiment/artifacts.ts";
import { seededRandom } from "./seeded-random.ts";
import { journalTimestamp } from "../scripts/lib/text/timestamp.ts";

const KIT_ROOT = resolve(import.meta.dirname ?? ".", "..");
const TARGET_MS = 300; // parse + summary + md + svg for 10,000 iterations, on Bun

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "10000" },
    runs: { type: "string", default: "7" },
    seed: { type: "string", default: "7" },
    deno: { type: "boolean", default: false },
  },
});
const iterations = Number(values.iterations);
const runs = Math.max(5, Number(values.runs));

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

const LEVERS = [
  "LOCATION_WEIGHT",
  "title boost",
  "recency decay",
  "bm25 k1",
  "synonym expansion",
  "stopword filter",
  "query normalization",
  "RERANK_DEPTH",
];

function generateJournal(count: number, seed: number): string {
  const random = seededRandom(seed);
  const noise = 0.004;
  const lines: string[] = [JSON.stringify({
    type: "config",
    constrained_file: "search/ranking.py",
    eval_command: "python eval.py",
    metric: "precision@12",
    guard_metric: "mrr",
    guard_threshold: 0.9,
    baseline: 0.693,
    min_delta: 0.002,
    direction: "max",
    guard_op: ">=",
    round: 1,
    iterations: count,
    noise: { sd: noise, mean: 0.693, runs: [0.689, 0.693, 0.697], deterministic: false, min_detectable_effect: 0.011 },
  })];
  let truth = 0.693;
  let incumbentCommit = "base000";
  const start = Date.UTC(2025, 2, 15, 2, 0, 0);
  for (let iteration = 1; iteration <= count; iteration++) {
    const roll = random();
    const lever = LEVERS[Math.floor(random() * LEVERS.length)];
    const commit = Math.floor(random() * 0xfffffff).toString(16).padStart(7, "0");
    const timestamp = journalTimestamp(new Date(start + iteration * 95_000));
    const base = {
      type: "result",
      iteration,
      commit,
      timestamp,
      duration_s: Math.round(random() * 900) / 10,
      changed_files: ["search/ranking.py"],
    };
    if (roll < 0.07) {
      lines.push(
        JSON.stringify({
          ...base,
          score: null,
          delta: null,
          guard_score: null,
          guard_pass: null,
          status: "crash",
          description: `Rewrote ${lever} handling`,
          reason: "eval exited with code 1",
          output_tail: "Traceback (most recent call last):\nValueError: bad input\n",
        }),
      );
      continue;
    }
    const effect = roll < 0.12 ? 0.002 + random() * 0.004 : -random() * 0.01;
    const candidateRuns = Array.from(
      { length: 2 + Math.floor(random() * 2) },
      () => Math.round((truth + effect + gaussian(random) * noise) * 1e4) / 1e4,
    );
    const incumbentRuns = [0, 1].map(() => Math.round((truth + gaussian(random) * noise) * 1e4) / 1e4);
    const score = Math.round((candidateRuns.reduce((a, b) => a + b, 0) / candidateRuns.length) * 1e4) / 1e4;
    const guardScore = Math.round((0.93 + gaussian(random) * 0.02) * 100) / 100;
    const status = roll < 0.12 ? (guardScore < 0.9 ? "guard_fail" : "keep") : "discard";
    const delta = score - truth;
    lines.push(JSON.stringify({
      ...base,
      score,
      delta: `${delta >= 0 ? "+" : "-"}${Math.abs(delta).toFixed(4)}`,
      guard_score: guardScore,
      guard_pass: guardScore >= 0.9,
      status,
      description: `${roll < 0.5 ? "Increased" : "Decreased"} ${lever} to ${Math.round(random() * 100) / 10}`,
      runs: candidateRuns,
      guard_runs: candidateRuns.map(() => guardScore),
      incumbent_runs: incumbentRuns,
      incumbent_commit: incumbentCommit,
      patch: status === "keep" ? null : `.autoresearch/patches/${String(iteration).padStart(5, "0")}-${commit}.patch`,
    }));
    if (status === "keep") {
      truth += effect;
      incumbentCommit = commit;
    }
  }
  return lines.join("\n") + "\n";
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function timeMs(action: () => void): number {
  const started = performance.now();
  action();
  return performance.now() - started;
}

const folder = mkdtempSync(join(tmpdir(), "ark-bench-dashboard-"));
try {
  const journalPath = join(folder, "autoresearch.jsonl");
  writeFileSync(journalPath, generateJournal(iterations, Number(values.seed)));
  const { dashboardPath } = artifactsBesideJournal(journalPath);
  const runtime = (globalThis as { Bun?: unknown }).Bun
    ? "bun"
    : (globalThis as { Deno?: unknown }).Deno
    ? "deno"
    : "node";
  console.log(
    `journal: ${iterations} iterations, ${
      (statSync(journalPath).size / 1e6).toFixed(1)
    } MB; runtime: ${runtime}; median of ${runs} runs`,
  );

  buildDashboard({ journalPath, dashboardPath }); // warm-up: JIT and module initialisation
  const render = median(
    Array.from({ length: runs }, () => timeMs(() => buildDashboard({ journalPath, dashboardPath }))),
  );
  const renderAndWrite = median(
    Array.from({ length: runs }, () => timeMs(() => writeDashboard({ journalPath, dashboardPath }))),
  );
  const sizes = `md ${(statSync(dashboardPath).size / 1e6).toFixed(2)} MB, svg ${
    (statSync(join(folder, "autoresearch_progress.svg")).size / 1e6).toFixed(2)
  } MB`;
  console.log(
    `read + parse + summary + md + svg:    ${render.toFixed(1)} ms (target <= ${TARGET_MS} ms: ${
      render <= TARGET_MS ? "met" : "MISSED"
    })`,
  );
  console.log(`... + atomic writes (writeDashboard): ${renderAndWrite.toFixed(1)} ms (${sizes})`);

  const cli = join(KIT_ROOT, "scripts/dashboard.ts");
  const commands: [string, string[]][] = [[join(KIT_ROOT, "node_modules/.bin/bun"), [cli]]];
  if (values.deno) commands.push([join(KIT_ROOT, "node_modules/.bin/deno"), ["run", "-A", "-q", cli]]);
  for (const [command, prefix] of commands) {
    const args = [...prefix, "--journal", journalPath, "--format", "md"];
    const endToEnd = median(Array.from({ length: runs }, () =>
      timeMs(() => {
        const result = spawnSync(command, args, {
          cwd: folder,
          stdio: ["ignore", "ignore", "ignore"],
          env: { ...process.env, NO_COLOR: "1" },
        });
        if (result.status !== 0) throw new Error(`dashboard.ts exited with ${result.status}`);
      })));
    console.log(
      `dashboard.ts end to end (${command.endsWith("deno") ? "deno" : "bun"}, md to stdout, files written): ${
        endToEnd.toFixed(0)
      } ms`,
    );
  }
} finally {
  rmSync(folder, { recursive: true, force: true });
}
