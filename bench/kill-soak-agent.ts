#!/usr/bin/env bun
// The kill soak's agent: a deterministic stand-in for an LLM. Each call nudges WEIGHT or
// BIAS of ranker.py (towards the truth 3x + 1 about 60% of the time, away otherwise),
// sometimes commits its own edit, and prints `DESCRIPTION: ...`. Its choices depend only
// on AUTORESEARCH_ITERATION, how often that iteration was tried before, and the file. It records its pid in ../pids while it runs and
// one line per call in ../agent.jsonl. It is no tuner: it never reads the journal.
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Time an agent "thinks" before it writes, so a kill can land mid-agent (milliseconds). */
const THINK_MS = 80;
/** One call in COMMIT_EVERY commits its edit itself, as a careless agent would. */
const COMMIT_EVERY = 4;
const TRUTH = { WEIGHT: 3, BIAS: 1 } as const;
const STEPS = { WEIGHT: [0.05, 0.1, 0.2, 0.3], BIAS: [0.1, 0.25, 0.5, 1.0] } as const;

type Lever = keyof typeof TRUTH;

/** A small integer hash, so every iteration makes its own, repeatable choices. */
function hash(value: number): number {
  let x = (value * 0x9e3779b1) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x45d9f3b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

function leverValue(source: string, lever: Lever): number {
  const match = new RegExp(`^${lever} = (-?[\\d.]+)`, "m").exec(source);
  if (!match) throw new Error(`no "${lever} = <number>" line in ranker.py`);
  return Number(match[1]);
}

function setLever(source: string, lever: Lever, value: number): string {
  return source.replace(new RegExp(`^${lever} = .*$`, "m"), `${lever} = ${value.toFixed(2)}`);
}

function headContent(root: string): string {
  return spawnSync("git", ["show", "HEAD:ranker.py"], { cwd: root, encoding: "utf8" }).stdout;
}

function main(): number {
  const root = process.cwd();
  // The soak's folder: the repository's parent, or (a parallel worker's tree is deeper) as the soak says.
  const soak = process.env.KILL_SOAK_DIR ?? join(root, "..");
  const pidFile = join(soak, "pids", `agent-${process.pid}`);
  writeFileSync(pidFile, String(process.ppid));
  process.on("exit", () => rmSync(pidFile, { force: true }));
  const iteration = Number(process.env.AUTORESEARCH_ITERATION ?? 0);
  // A retried iteration (its first try was killed) makes another choice, as a new agent context would.
  const log = join(soak, "agent.jsonl");
  const tries = existsSync(log)
    ? readFileSync(log, "utf8").split("\n").filter((line) => line.startsWith(`{"iteration":${iteration},`)).length
    : 0;
  const choice = hash(iteration * 1000 + tries);
  const lever: Lever = choice % 2 ? "WEIGHT" : "BIAS";
  const path = join(root, "ranker.py");
  const source = readFileSync(path, "utf8");
  const from = leverValue(source, lever);
  const towards = Math.sign(TRUTH[lever] - from) || 1;
  const direction = (choice >>> 3) % 10 < 6 ? towards : -towards;
  let step: number = STEPS[lever][(choice >>> 7) % STEPS[lever].length];
  let edited = setLever(source, lever, from + direction * step);
  // An edit that lands back on HEAD's file would be a true "changed nothing"; step further.
  if (edited === headContent(root)) {
    step *= 2;
    edited = setLever(source, lever, from + direction * step);
  }
  Bun.sleepSync(THINK_MS);
  writeFileSync(path, edited);
  const description = `nudge ${lever}: ${from.toFixed(2)} -> ${(from + direction * step).toFixed(2)}`;
  const commits = (choice >>> 11) % COMMIT_EVERY === 0;
  if (commits) {
    spawnSync("git", ["-c", "commit.gpgsign=false", "commit", "-qam", `agent: ${description}`], { cwd: root });
  }
  appendFileSync(log, JSON.stringify({ iteration, lever, description, committed: commits }) + "\n");
  console.log(`DESCRIPTION: ${description}`);
  return 0;
}

process.exitCode = main();
