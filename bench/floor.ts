// The floor of a keep, and how far the kit sits above it, measured in one run: the floor is
// Bun's start (`bun -e 0`) plus the git work no keep can avoid (`git status`, `git add` and
// `git commit` of one file, in a temporary repository). Reports each verb's `--help` as a
// ratio to `bun -e 0` (target ≤ 4×) and a step's overhead beyond its eval runs (bench/iterate.ts's
// measure, keeps and discards alternating) as a ratio to the floor (target ≤ 2×), plus the
// git processes a keep and a discard start. Everything is interleaved, repetition by
// repetition, so a machine shared with other work slows the floor and the kit alike.
// It times Bun only and says nothing about slow evals.
//   bun bench/floor.ts [--repetitions 21]
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { commitEverything, median, SHELL_EVAL, shellExperiment, timed } from "./shell-experiment.ts";
import { timeStep } from "./iterate.ts";

const KIT = resolve(import.meta.dir, "..");
const BUN = join(KIT, "node_modules/.bin/bun");
const REPETITIONS = Math.max(7, Number(process.argv[process.argv.indexOf("--repetitions") + 1]) || 21);
const VERBS = ["init", "baseline", "iterate", "dashboard", "next-round"];
const HELP_TARGET = 4; // × `bun -e 0`
const STEP_TARGET = 2; // × the floor

/** A committed one-file repository, the smallest place a keep's git work can happen. */
function floorRepository(): string {
  const root = mkdtempSync(join(tmpdir(), "ark-bench-floor-"));
  writeFileSync(join(root, "value.txt"), "0\n");
  commitEverything(root);
  return root;
}

/** `git status`, `git add` and `git commit` of one changed file: the git a keep cannot do without. */
function timeKeepGit(root: string, index: number): number {
  writeFileSync(join(root, "value.txt"), `${index}\n`);
  return timed(root, "git", ["status", "--porcelain"]) + timed(root, "git", ["add", "value.txt"]) +
    timed(root, "git", ["commit", "-qm", `keep ${index}`]);
}

/** Git processes one step starts, counted by a `git` on PATH that logs and hands over to the real one. */
function countGitProcesses(root: string, value: number, label: string): number {
  const bin = mkdtempSync(join(tmpdir(), "ark-bench-git-"));
  const log = join(bin, "calls.log");
  const real = Bun.which("git");
  writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> "${log}"\nexec "${real}" "$@"\n`);
  chmodSync(join(bin, "git"), 0o755);
  writeFileSync(join(root, "value.txt"), `${value.toFixed(4)}\n`);
  const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: "1", CI: "true" };
  const result = Bun.spawnSync([BUN, join(KIT, "scripts/iterate.ts"), "-m", label], { cwd: root, env });
  if (result.exitCode !== 0) {
    throw new Error(`iterate.ts -m ${label} exited ${result.exitCode}: ${result.stderr.toString()}`);
  }
  const calls = readFileSync(log, "utf8").trim().split("\n").filter(Boolean).length;
  rmSync(bin, { recursive: true, force: true });
  return calls;
}

const floorRoot = floorRepository();
const stepRoot = shellExperiment("floor");
process.on("exit", () => { // also when a step fails and throws
  rmSync(floorRoot, { recursive: true, force: true });
  rmSync(stepRoot, { recursive: true, force: true });
});
timed(stepRoot, BUN, [join(KIT, "scripts/baseline.ts"), "--allow-insensitive"]);
for (const verb of VERBS) timed(KIT, BUN, [join(KIT, `scripts/${verb}.ts`), "--help"]); // warm the module cache

const bunStarts: number[] = [];
const keepGits: number[] = [];
const floors: number[] = [];
const evalsAlone: number[] = [];
const helps: Record<string, number[]> = Object.fromEntries(VERBS.map((verb) => [verb, []]));
const steps: { keep: boolean; elapsed: number; evals: number }[] = [];
for (let index = 1; index <= REPETITIONS * 2; index++) {
  // Two steps a repetition (a keep, then a discard); the floor and --help once each.
  if (index % 2) {
    const bunStart = timed(KIT, BUN, ["-e", "0"]);
    const keepGit = timeKeepGit(floorRoot, index);
    bunStarts.push(bunStart);
    keepGits.push(keepGit);
    floors.push(bunStart + keepGit);
    for (const verb of VERBS) helps[verb].push(timed(KIT, BUN, [join(KIT, `scripts/${verb}.ts`), "--help"]));
  }
  evalsAlone.push(timed(stepRoot, "bash", ["-c", SHELL_EVAL]));
  steps.push({ keep: index % 2 === 1, ...timeStep(stepRoot, BUN, [], index) });
}
const evalAlone = median(evalsAlone);
const overheads = steps.map((step) => step.elapsed - step.evals * evalAlone);
const keepOverhead = median(overheads.filter((_overhead, index) => steps[index].keep));
const discardOverhead = median(overheads.filter((_overhead, index) => !steps[index].keep));
const overhead = median(overheads);
const bunStart = median(bunStarts);
const floor = median(floors);
const gitPerKeep = countGitProcesses(stepRoot, 2 + REPETITIONS, "counted keep");
const gitPerDiscard = countGitProcesses(stepRoot, 0.1, "counted discard");

const verdict = (ratio: number, target: number) => {
  if (ratio > target) process.exitCode = 1;
  return ratio <= target ? `PASS (≤ ${target}×)` : `FAIL (> ${target}×)`;
};
console.log(
  `Floor of a keep (medians of ${REPETITIONS}): bun -e 0 ${bunStart.toFixed(1)} ms + git status/add/commit ${
    median(keepGits).toFixed(1)
  } ms = ${floor.toFixed(1)} ms\n`,
);
console.log("| what | median (ms) | ratio | target |");
console.log("|---|---|---|---|");
for (const verb of VERBS) {
  const help = median(helps[verb]);
  console.log(
    `| ${verb}.ts --help | ${help.toFixed(1)} | ${(help / bunStart).toFixed(1)}× bun -e 0 | ${
      verdict(help / bunStart, HELP_TARGET)
    } |`,
  );
}
console.log(
  `| step overhead (keeps and discards; eval alone ${evalAlone.toFixed(1)} ms a run) | ${overhead.toFixed(1)} | ${
    (overhead / floor).toFixed(1)
  }× floor | ${verdict(overhead / floor, STEP_TARGET)} |`,
);
console.log(`| keep overhead | ${keepOverhead.toFixed(1)} | ${(keepOverhead / floor).toFixed(1)}× floor | — |`);
console.log(
  `| discard overhead | ${discardOverhead.toFixed(1)} | ${(discardOverhead / floor).toFixed(1)}× floor | — |`,
);
console.log(`\ngit processes: ${gitPerKeep} per keep, ${gitPerDiscard} per discard`);
