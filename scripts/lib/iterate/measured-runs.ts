// Eval runs of a step still being decided, kept so a step that is killed or interrupted
// resumes with the runs it had paid for instead of starting again from none (a slow eval
// killed now and then would otherwise never finish a close call). Only reused for the
// same round, iteration, incumbent and candidate bytes; the journal stays the record.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Run } from "../decision/options.ts";
import type { EvalRun } from "../process/evaluator.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { hasValidSeal, sealed, type SealKey } from "../integrity/seal.ts";

export type MeasuredRuns = {
  round: number;
  iteration: number;
  incumbent: string;
  /** sha256 of each constrained file's candidate content. */
  candidateHashes: Record<string, string>;
  candidate: { run: Run; eval: EvalRun }[];
  incumbentRuns: Run[];
  /** Attempts eval.runner made again for this candidate's and its incumbent's runs (absent: none). */
  runnerRetries?: number;
};

function measuredRunsPath(stateDir: string): string {
  return join(stateDir, "step-runs.json");
}

export function saveMeasuredRuns(stateDir: string, measured: MeasuredRuns, key: SealKey | null): void {
  writeFileAtomic(measuredRunsPath(stateDir), JSON.stringify(sealed(key, measured)));
}

/** The runs measured earlier for exactly this candidate, or null (a mismatch or damage discards them). */
export function takeMeasuredRuns(
  stateDir: string,
  key: Omit<MeasuredRuns, "candidate" | "incumbentRuns">,
  sealKey: SealKey | null,
): MeasuredRuns | null {
  const path = measuredRunsPath(stateDir);
  if (!existsSync(path)) return null;
  try {
    const measured = JSON.parse(readFileSync(path, "utf8")) as MeasuredRuns;
    // Runs the harness did not measure (no valid seal) are never reused.
    const same = (!sealKey || hasValidSeal(sealKey, measured)) && measured.round === key.round &&
      measured.iteration === key.iteration && measured.incumbent === key.incumbent &&
      JSON.stringify(measured.candidateHashes) === JSON.stringify(key.candidateHashes) &&
      Array.isArray(measured.candidate) && Array.isArray(measured.incumbentRuns);
    if (same) return measured;
  } catch { /* a torn or foreign file is only a lost cache */ }
  clearMeasuredRuns(stateDir);
  return null;
}

export function clearMeasuredRuns(stateDir: string): void {
  rmSync(measuredRunsPath(stateDir), { force: true });
}
