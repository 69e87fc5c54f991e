// The metric-gaming guard: sha256 of every frozen file (eval script, test data,
// files the user froze) recorded at baseline and compared before any scoring.
// It reports mismatches; refusing to score is the caller's decision.
import { existsSync } from "node:fs";
import type { Experiment, Round } from "./experiment.ts";
import { resolveIn } from "./experiment.ts";
import { sha256OfFile } from "./fs-atomic.ts";

/** Repository-relative paths that must not change during a round, without duplicates. */
export function frozenPaths(experiment: Experiment, round: Round): string[] {
  const paths = [round.eval.script, experiment.test_data, ...experiment.frozen].filter((path): path is string => Boolean(path));
  return [...new Set(paths)].filter((path) => !round.constrained_files.includes(path));
}

export function hashFrozenFiles(root: string, paths: string[]): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const path of paths) {
    const absolute = resolveIn(root, path);
    hashes[path] = existsSync(absolute) ? sha256OfFile(absolute) : "missing";
  }
  return hashes;
}

export type IntegrityProblem = { path: string; problem: "changed" | "missing" | "added" };

/** Compare the recorded hashes with the files now; an empty list means untouched. */
export function checkIntegrity(root: string, recorded: Record<string, string>, expectedPaths: string[]): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  const current = hashFrozenFiles(root, Object.keys(recorded));
  for (const [path, hash] of Object.entries(recorded)) {
    if (current[path] === hash) continue;
    problems.push({ path, problem: current[path] === "missing" ? "missing" : "changed" });
  }
  for (const path of expectedPaths) if (!(path in recorded)) problems.push({ path, problem: "added" });
  return problems;
}
