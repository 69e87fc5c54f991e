#!/usr/bin/env bun
// An offline agent for the loop: a real, if simple, coordinate-search parameter tuner.
// Each call moves one numeric lever of the constrained file up or down (×1.5 or ÷1.5,
// ±1 for whole numbers), learning from the journal's attribution (what each iteration's
// diff changed, not its description) which moves were discarded so it never retries one,
// and prints `DESCRIPTION: ...`. It is not an LLM: it cannot
// change code structure, prompts or anything non-numeric. Used by the demo and tests.
//
//   bun scripts/iterate.ts --loop --agent "bun examples/agents/tune-levers.ts"
//
// With AUTORESEARCH_TASK=report it prints a short Markdown report instead.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeFile } from "../../scripts/lib/levers/levers.ts";
import type { Lever } from "../../scripts/lib/levers/lever.ts";
import { NUMERIC_KINDS } from "../../scripts/lib/levers/kinds.ts";
import { findRound, loadExperiment } from "../../scripts/lib/experiment/experiment-file.ts";
import { resolveIn } from "../../scripts/lib/files/paths.ts";
import { iterationResults, readJournal, type ResultLine } from "../../scripts/lib/experiment/journal.ts";

/** Multiplicative steps for real-valued levers, coarse to fine: a finer step is tried once the coarser ones were rejected. */
const STEP_FACTORS = [1.5, 1.2, 1.1, 1.05];

type Move = { lever: string; line: number; from: number; to: number; direction: "up" | "down" };
type Target = { name: string; line: number; value: number; whole: boolean };

/** Numeric levers as editable (name, line, value) triples; weight dicts expand per key. */
export function numericTargets(levers: Lever[], source: string): Target[] {
  const lines = source.split("\n");
  const targets: Target[] = [];
  for (const lever of levers) {
    if (NUMERIC_KINDS.has(lever.kind) && lever.numeric !== undefined && editableKey(lever.name) !== null) {
      targets.push({ name: lever.name, line: lever.line, value: lever.numeric, whole: !/[.eE]/.test(lever.value) });
    } else if (lever.kind === "weights" && lever.keys) {
      for (let index = lever.line - 1; index < (lever.endLine ?? lever.line); index++) {
        for (const key of lever.keys) {
          const match = new RegExp(`["']?${key.split(".").pop()}["']?\\s*:\\s*(-?\\d+(?:\\.\\d+)?)`).exec(
            lines[index] ?? "",
          );
          if (match && !targets.some((target) => target.name === `${lever.name}.${key}`)) {
            targets.push({
              name: `${lever.name}.${key}`,
              line: index + 1,
              value: Number(match[1]),
              whole: !match[1].includes("."),
            });
          }
        }
      }
    }
  }
  return targets;
}

/**
 * The key written before the value on the lever's line: `TOP_K`, `k1` of `Okapi.__init__.k1`
 * (a keyword default), `min_score` of `CONFIG["min_score"]`; null for a comparison's expression.
 */
export function editableKey(name: string): string | null {
  const key = name.match(/\["([^"]*)"\]$/)?.[1] ?? name.split(".").pop() ?? "";
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : null;
}

/** The value one step away; whole numbers move by whole steps, zero moves by ±0.5 × factor. */
export function stepValue(value: number, direction: "up" | "down", whole: boolean, factor = STEP_FACTORS[0]): number {
  const sign = direction === "up" ? 1 : -1;
  if (whole) return value + sign * Math.max(1, Math.round(Math.abs(value) * (factor - 1)));
  if (value === 0) return sign * Number((factor - 1).toPrecision(3));
  const next = direction === "up" ? value * factor : value / factor;
  return Number(next.toPrecision(3));
}

/**
 * Moves the journal already rejected, read from each line's attribution (what its diff changed):
 * a lever moved alone and not kept (FROM -> TO), and the undoing of every move a keep made
 * (TO -> FROM), which the keep showed to be worse. Lines without an attribution (written before
 * it existed, or by hand) fall back to the tuner's own "tune NAME: FROM -> TO" descriptions.
 */
export function rejectedMoves(results: ResultLine[]): Set<string> {
  const rejected = new Set<string>();
  const note = (lever: string, from: number, to: number, kept: boolean) => {
    if (Number.isFinite(from) && Number.isFinite(to)) {
      rejected.add(kept ? moveKey(lever, to, from) : moveKey(lever, from, to));
    }
  };
  for (const line of results) {
    const kept = line.status === "keep";
    const attribution = line.attribution;
    if (attribution) {
      const moves = attribution.levers.filter((move) => move.from !== null && move.to !== null);
      // A discard of several changes at once says nothing about each of them alone.
      const alone = attribution.levers.length === 1 && attribution.functions.length === 0 && !attribution.other;
      if (kept || alone) { for (const move of moves) note(move.name, Number(move.from), Number(move.to), kept); }
      continue;
    }
    const match = /^tune (\S+): (\S+) -> (\S+)/.exec(line.description);
    if (match) note(match[1], Number(match[2]), Number(match[3]), kept);
  }
  return rejected;
}

/** A move as the rejected set holds it; `W["title"]` (an attribution's name) and `W.title` (a target's) are one lever. */
function moveKey(lever: string, from: number, to: number): string {
  return `${lever.replace(/\["([^"]*)"\]/g, ".$1")} ${from} ${to}`;
}

/** The next move: untried levers and directions first, in a seeded order. */
export function chooseMove(targets: Target[], rejected: Set<string>, seed: number): Move | null {
  for (const factor of STEP_FACTORS) {
    const options: Move[] = [];
    for (const target of targets) {
      for (const direction of ["up", "down"] as const) {
        const to = stepValue(target.value, direction, target.whole, factor);
        if (to === target.value || rejected.has(moveKey(target.name, target.value, to))) continue;
        options.push({ lever: target.name, line: target.line, from: target.value, to, direction });
      }
    }
    if (options.length > 0) return options[(seed * 7919) % options.length];
  }
  return null;
}

/** Replace the number on the lever's line (the last literal after `=` or the key). */
export function applyMove(source: string, move: Move, whole: boolean): string {
  const lines = source.split("\n");
  const key = editableKey(move.lever) ?? move.lever.split(".").pop()!;
  const line = lines[move.line - 1];
  // The key as a whole word: `b=0.75` in a signature must not match the end of `sub=`.
  const pattern = new RegExp(
    `((?<![\\w$])${
      key.replace(/\$/g, "\\$")
    }["']?\\s*(?::\\s*[\\w.\\[\\]]+\\s*)?[:=]\\s*)(-?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)`,
  );
  if (!pattern.test(line)) throw new Error(`cannot find ${move.lever} on line ${move.line}`);
  lines[move.line - 1] = line.replace(pattern, (_, prefix) => `${prefix}${formatNumber(move.to, whole)}`);
  return lines.join("\n");
}

/** Whole levers stay whole; real ones keep a decimal point so Python and TS read them as floats. */
function formatNumber(value: number, whole: boolean): string {
  if (whole) return String(Math.round(value));
  const text = String(value);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

async function main(): Promise<number> {
  const experimentPath = process.env.AUTORESEARCH_EXPERIMENT ?? join(process.cwd(), "autoresearch.yaml");
  const loaded = loadExperiment(experimentPath);
  const round = findRound(loaded.experiment);
  const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
  const results = iterationResults(journal);
  if (process.env.AUTORESEARCH_TASK === "report") {
    const kept = results.filter((line) => line.status === "keep");
    console.log(`## Tuner report, round ${round.round}\n`);
    console.log(`Start ${journal.config?.baseline ?? "n/a"}; ${kept.length} of ${results.length} moves kept.\n`);
    for (const line of kept) console.log(`- kept #${line.iteration}: ${line.description} (${line.delta})`);
    console.log("\nThis tuner only moves numeric levers; structural changes need a real agent.");
    return 0;
  }
  const file = resolveIn(loaded.root, round.constrained_files[0]);
  if (!existsSync(file)) throw new Error(`no constrained file at ${file}`);
  const source = readFileSync(file, "utf8");
  const analysis = await analyzeFile(file);
  const seed = Number(process.env.AUTORESEARCH_ITERATION ?? results.length + 1);
  const rejected = rejectedMoves(results);
  // The entry's own parameter defaults come last: the eval may pass those arguments itself.
  const entry = loaded.experiment.entry?.name;
  const [first, last] = [false, true].map((entryDefaults) =>
    numericTargets(analysis.levers.filter((lever) => (lever.scope === entry) === entryDefaults), source)
  );
  const move = chooseMove(first!, rejected, seed) ?? chooseMove(last!, rejected, seed);
  if (!move) {
    console.log("DESCRIPTION: no untried numeric move left");
    return 0;
  }
  writeFileSync(
    file,
    applyMove(
      source,
      move,
      numericTargets(analysis.levers, source).find((target) => target.name === move.lever)!.whole,
    ),
  );
  console.log(`DESCRIPTION: tune ${move.lever}: ${move.from} -> ${move.to} (${move.direction})`);
  return 0;
}

if ((import.meta as ImportMeta & { main?: boolean }).main) {
  main().then((code) => {
    process.exitCode = code;
  }, (error) => {
    console.error(`tune-levers: ${(error as Error).message}`);
    process.exitCode = 1;
  });
}
