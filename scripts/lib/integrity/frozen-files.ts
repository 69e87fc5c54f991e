// The metric-gaming guard: sha256 of every frozen file (eval script, test data,
// files the user froze) recorded at baseline and compared before any scoring.
// The experiment file's measurement fields are fingerprinted the same way (an agent that
// rewrites eval.command games the metric as surely as one that edits the eval).
// It reports mismatches; refusing to score or restoring is the caller's decision.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Experiment, Round } from "../experiment/schema.ts";
import { resolveIn } from "../files/paths.ts";
import { sha256OfFile, sha256OfText, writeFileAtomic } from "../files/atomic.ts";

/** Repository-relative paths that must not change during a round, without duplicates. */
export function frozenPaths(experiment: Experiment, round: Round): string[] {
  const paths = [round.eval.script, experiment.test_data, ...experiment.frozen].filter((path): path is string =>
    Boolean(path)
  );
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
export function checkIntegrity(
  root: string,
  recorded: Record<string, string>,
  expectedPaths: string[],
): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  const current = hashFrozenFiles(root, Object.keys(recorded));
  for (const [path, hash] of Object.entries(recorded)) {
    if (current[path] === hash) continue;
    problems.push({ path, problem: current[path] === "missing" ? "missing" : "changed" });
  }
  for (const path of expectedPaths) if (!(path in recorded)) problems.push({ path, problem: "added" });
  return problems;
}

/**
 * The experiment file's fields that decide what a score means: how it is measured
 * (eval), what counts (metric, guard, decision settings), what may change
 * (constrained files) and what may not (test data, frozen files), and where the round
 * started. Budgets, names and notes are left out: a person may change those mid-round.
 */
export type MeasurementFields = {
  metric: Experiment["metric"];
  guard: Experiment["guard"];
  decision: Experiment["decision"];
  test_data: Experiment["test_data"];
  frozen: Experiment["frozen"];
  constrained_files: Round["constrained_files"];
  eval: Round["eval"];
  baseline_commit: string | null;
};

export function measurementFields(experiment: Experiment, round: Round): MeasurementFields {
  return {
    metric: experiment.metric,
    guard: experiment.guard,
    decision: experiment.decision,
    test_data: experiment.test_data,
    frozen: experiment.frozen,
    constrained_files: round.constrained_files,
    eval: round.eval,
    baseline_commit: round.baseline?.commit ?? null,
  };
}

/** sha256 of the fields in a fixed key order, so the YAML's layout and comments do not matter. */
export function measurementFingerprint(fields: MeasurementFields): string {
  return sha256OfText(canonicalJson(fields));
}

/** Names of the measurement fields that differ, e.g. ["eval", "metric"]. */
export function changedMeasurementFields(recorded: MeasurementFields, current: MeasurementFields): string[] {
  return (Object.keys(recorded) as (keyof MeasurementFields)[])
    .filter((key) => canonicalJson(recorded[key]) !== canonicalJson(current[key]));
}

/** Put the recorded measurement fields back into an experiment, keeping everything else. */
export function withMeasurementFields(experiment: Experiment, round: Round, fields: MeasurementFields): Experiment {
  const restoredRound: Round = { ...round, constrained_files: fields.constrained_files, eval: fields.eval };
  return {
    ...experiment,
    metric: fields.metric,
    guard: fields.guard,
    decision: fields.decision,
    test_data: fields.test_data,
    frozen: fields.frozen,
    rounds: experiment.rounds.map((each) => (each.round === round.round ? restoredRound : each)),
  };
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (
      _key,
      inner,
    ) => (inner && typeof inner === "object" && !Array.isArray(inner)
      ? Object.fromEntries(Object.keys(inner).sort().map((key) => [key, (inner as Record<string, unknown>)[key]]))
      : inner),
  );
}

/** The measurement fields as baseline recorded them (the fingerprint alone cannot restore them). */
export function measurementRecordPath(stateDir: string, round: number): string {
  return join(stateDir, `measurement-round${round}.json`);
}

export function saveMeasurementRecord(stateDir: string, round: number, fields: MeasurementFields): string {
  writeFileAtomic(measurementRecordPath(stateDir, round), JSON.stringify(fields, null, 2) + "\n");
  return measurementFingerprint(fields);
}

/** The recorded fields, or null when the record is missing, unreadable or not the one fingerprinted. */
export function readMeasurementRecord(stateDir: string, round: number, fingerprint: string): MeasurementFields | null {
  try {
    const fields = JSON.parse(readFileSync(measurementRecordPath(stateDir, round), "utf8")) as MeasurementFields;
    return measurementFingerprint(fields) === fingerprint ? fields : null;
  } catch {
    return null;
  }
}
