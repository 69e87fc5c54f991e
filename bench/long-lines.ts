// Reading eval output: the same 40 MB as one line without a newline and as 80-character
// lines, each through runEval in a fresh process, so peak RSS is that case's alone.
// Prints time and peak RSS per case and one line / lines as ratios; the target is
// linear reading with bounded memory: both ratios at most TARGET_RATIO.
//   bun bench/long-lines.ts [--mb 40]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { runEval } from "../scripts/lib/process/evaluator.ts";

const BUN = resolve(import.meta.dir, "../node_modules/.bin/bun");
const LINE_CHARS = 80; // characters per line in the "lines" case, newline excluded
const TARGET_RATIO = 1.5;
const CASES = ["one line", "lines"] as const;
type Case = (typeof CASES)[number];
type Figures = { milliseconds: number; peakRssMb: number; score: number | null };

function evalCommand(name: Case, megabytes: number): string {
  const bytes = megabytes * 1_000_000;
  const body = name === "one line"
    ? `sys.stdout.write("x" * ${bytes})`
    : `line = "x" * ${LINE_CHARS} + "\\n"\nfor _ in range(${
      Math.floor(bytes / (LINE_CHARS + 1))
    }): sys.stdout.write(line)`;
  return `python3 -c '${`import sys\n${body}\nsys.stdout.write("\\nSCORE: 0.5\\n")`}'`;
}

async function measureOne(name: Case, megabytes: number): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), "ark-long-lines-"));
  try {
    const started = performance.now();
    const run = await runEval(evalCommand(name, megabytes), {
      cwd: dir,
      timeoutS: 600,
      logPath: join(dir, "run.log"),
      stateDir: null,
    });
    const milliseconds = performance.now() - started;
    return { milliseconds, peakRssMb: process.resourceUsage().maxRSS / 1024, score: run.score };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function measure(name: Case, megabytes: number): Figures {
  const result = spawnSync(BUN, [import.meta.path, "--case", name, "--mb", String(megabytes)], { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`bench/long-lines.ts --case "${name}" failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Figures;
}

const argv = process.argv.slice(2);
const megabytes = Number(argv[argv.indexOf("--mb") + 1]) || 40;
if (argv.includes("--case")) {
  console.log(JSON.stringify(await measureOne(argv[argv.indexOf("--case") + 1] as Case, megabytes)));
} else {
  const figures = Object.fromEntries(CASES.map((name) => [name, measure(name, megabytes)])) as Record<Case, Figures>;
  console.log(`| ${megabytes} MB of output | time (ms) | peak RSS (MB) | SCORE read |`);
  console.log(`|---|---|---|---|`);
  for (const name of CASES) {
    const { milliseconds, peakRssMb, score } = figures[name];
    console.log(`| ${name} | ${milliseconds.toFixed(0)} | ${peakRssMb.toFixed(0)} | ${score ?? "no"} |`);
  }
  const timeRatio = figures["one line"].milliseconds / figures.lines.milliseconds;
  const rssRatio = figures["one line"].peakRssMb / figures.lines.peakRssMb;
  const pass = timeRatio <= TARGET_RATIO && rssRatio <= TARGET_RATIO &&
    CASES.every((name) => figures[name].score === 0.5);
  console.log(
    `\none line / lines: time ${timeRatio.toFixed(2)}×, peak RSS ${rssRatio.toFixed(2)}× — ${
      pass ? "PASS" : "FAIL"
    } (target: both ≤ ${TARGET_RATIO}×, SCORE read in both)`,
  );
  if (!pass) process.exitCode = 1;
}
