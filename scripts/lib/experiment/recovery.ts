// Recovery first: before a script evaluates, calls an agent or re-baselines, it finishes
// what a killed run left half done — git locks of its own (index, HEAD, a ref), a temporarily edited
// file, a decided step not yet recorded, a parallel worker's candidate written and not recorded — after checking the repository is in a state
// the harness may write to. Callers hold the experiment lock.
import type { LoadedExperiment } from "./experiment-file.ts";
import { restoreBackup } from "../files/backup.ts";
import { removeStaleTemporaries } from "../files/atomic.ts";
import { kitCommand } from "../cli/kit.ts";
import { clearStaleGitLocks, completePending, readPending } from "../iterate/pending-step.ts";
import { requireExperimentBranch, requireNoGitOperation } from "../git/preconditions.ts";
import { sealKey } from "../integrity/seal.ts";
import { undoUnrecordedApply } from "../iterate/parallel-apply.ts";

export type Recovery = { finished: { iteration: number; status: string } | null };

export async function recoverInterruptedWork(
  loaded: LoadedExperiment,
  stateDir: string,
  notes: (message: string) => void,
  options: { requireBranch?: boolean } = {},
): Promise<Recovery> {
  const { root, experiment } = loaded;
  const cleared = clearStaleGitLocks(root, stateDir);
  if (cleared) notes(cleared);
  await requireNoGitOperation(root, kitCommand("iterate"));
  const pending = readPending(stateDir, await sealKey(root));
  if (pending || options.requireBranch !== false) await requireExperimentBranch(root, experiment);
  const restored = restoreBackup(stateDir);
  if (restored) notes(restored);
  // A kill during an atomic write (the dashboard, the chart, the experiment file) leaves its temporary file beside it.
  removeStaleTemporaries(root);
  if (!pending) {
    undoParallelApply(root, stateDir, notes);
    return { finished: null };
  }
  const completion = await completePending(root, stateDir, pending);
  notes(
    `Finished iteration ${pending.iteration} (${completion.line.status}), which an earlier run had decided but not recorded.`,
  );
  for (const message of completion.notes) notes(message);
  undoParallelApply(root, stateDir, notes); // after the pending step: a recorded keep's files are HEAD's by then
  return { finished: { iteration: pending.iteration, status: completion.line.status } };
}

/** A parallel worker's candidate written into the experiment's files and never recorded goes back out. */
function undoParallelApply(root: string, stateDir: string, notes: (message: string) => void): void {
  const restored = undoUnrecordedApply(root, stateDir);
  if (restored.length) {
    notes(
      `A parallel run stopped before recording a worker's candidate; put back the incumbent's ${
        restored.map((file) => `"${file}"`).join(", ")
      }.`,
    );
  }
}
