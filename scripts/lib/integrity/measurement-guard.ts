// The guards on what a score means, as a step applies them: frozen files (and the files the
// eval command names) must hash as at baseline, the experiment file's measurement fields
// must match their fingerprint (a change is put back from the record), and in loop mode
// whatever the agent's call did to the experiment file is undone. They read and restore
// files; deciding is step.ts's job.
import { existsSync, readFileSync } from "node:fs";
import { CliError, EXIT } from "../cli/errors.ts";
import {
  findRound,
  type LoadedExperiment,
  loadExperiment,
  parseExperiment,
  saveExperiment,
} from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import { displayPath } from "../files/paths.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import {
  changedMeasurementFields,
  checkIntegrity,
  frozenPaths,
  type IntegrityProblem,
  measurementFields,
  measurementFingerprint,
  readMeasurementRecord,
  withMeasurementFields,
} from "./frozen-files.ts";
import { kitCommand } from "../cli/kit.ts";

/** The metric-gaming guard: refuse to score while a frozen file differs from its baseline hash. */
export function requireFrozenFilesIntact(loaded: LoadedExperiment, round: Round, beingRestored: string[] = []): void {
  const { root, experiment } = loaded;
  const frozen = frozenPaths(experiment, round);
  const problems = checkIntegrity(root, round.integrity, frozen).filter((problem) =>
    !beingRestored.includes(problem.path)
  );
  if (problems.length === 0) return;
  const first = problems.find((problem) => problem.path === experiment.holdout?.path) ?? problems[0];
  if (first.path === experiment.holdout?.path) throw heldOutChanged(first.problem);
  if (first.problem === "added") {
    throw new CliError(
      `"${first.path}" was added to frozen: after the baseline, so it has no baseline hash to compare with. Take it out of frozen: in "${
        displayPath(loaded.path)
      }", or re-baseline to hash it: ${kitCommand("baseline")} --force`,
      "E_INTEGRITY",
      EXIT.FAILED,
    );
  }
  const what = first.problem === "missing" ? "was deleted" : "changed";
  // A file the eval command names is locked without being listed in frozen:; say why it is locked.
  const which = frozen.includes(first.path) ? "Frozen file" : "The eval command's file";
  throw new CliError(
    `${which} "${first.path}" ${what} since the baseline, so scores would not be comparable (metric gaming guard). Put it back (git checkout -- "${first.path}"), or if the change is intended, re-baseline: ${
      kitCommand("baseline")
    } --force`,
    "E_INTEGRITY",
    EXIT.FAILED,
  );
}

/**
 * Loop mode's check of the held-out set alone: it lies outside what the scope check sees
 * (under .autoresearch/, which git ignores), so a change to it is refused, never restored.
 */
export function requireHeldOutIntact(loaded: LoadedExperiment, round: Round): void {
  const path = loaded.experiment.holdout?.path;
  if (!path) return;
  const recorded = path in round.integrity ? { [path]: round.integrity[path] } : {};
  const problem = checkIntegrity(loaded.root, recorded, [path])[0];
  if (problem) throw heldOutChanged(problem.problem);
}

/** Named only as "the held-out set": the agent reads error messages too. */
function heldOutChanged(problem: IntegrityProblem["problem"]): CliError {
  const what = problem === "added"
    ? "has no baseline hash (it was set after the baseline)"
    : problem === "missing"
    ? "was deleted since the baseline"
    : "changed since the baseline";
  return new CliError(
    `The held-out set ${what}, so its scores would not be comparable (metric gaming guard). Put it back as it was, or if the change is intended, re-baseline: ${
      kitCommand("baseline")
    } --force`,
    "E_INTEGRITY",
    EXIT.FAILED,
  );
}

/**
 * The experiment file's measurement fields must be what baseline recorded. A change is
 * put back from the record (the rest of the file, e.g. a raised budget, is kept) and
 * returned by field name so the step is discarded as out of scope.
 */
export function guardMeasurementFields(
  loaded: LoadedExperiment,
  round: Round,
  recorded: unknown,
  stateDir: string,
  textBeforeAgent: string | null,
  notes: (message: string) => void,
): string[] {
  if (textBeforeAgent !== null) {
    const agentsChanges = putBackAgentsExperimentEdit(loaded, round, textBeforeAgent, notes);
    if (agentsChanges.length) return agentsChanges;
  }
  const onDisk = textBeforeAgent === null ? loaded : loadExperiment(loaded.path);
  if (typeof recorded !== "string") return []; // journals written before the fingerprint existed
  const current = measurementFields(onDisk.experiment, findRound(onDisk.experiment, round.round));
  if (measurementFingerprint(current) === recorded) return [];
  const fields = readMeasurementRecord(stateDir, round.round, recorded);
  if (!fields) {
    throw new CliError(
      `The measurement fields of "${
        displayPath(loaded.path)
      }" (eval, metric, guard, decision, test data, frozen or constrained files) changed since the baseline, and the record to restore them from is missing. Re-baseline: ${
        kitCommand("baseline")
      } --force`,
      "E_INTEGRITY",
      EXIT.FAILED,
    );
  }
  const changed = changedMeasurementFields(fields, current);
  const restoredRound = findRound(onDisk.experiment, round.round);
  saveExperiment(loaded.path, withMeasurementFields(onDisk.experiment, restoredRound, fields));
  return changed;
}

/**
 * Loop mode: anything the agent changed in the experiment file during its call is put back
 * as it was before the call (a reset or stash that wiped baseline's uncommitted record
 * included). Returns the measurement fields it had changed (the step is then discarded).
 */
function putBackAgentsExperimentEdit(
  loaded: LoadedExperiment,
  round: Round,
  textBeforeAgent: string,
  notes: (message: string) => void,
): string[] {
  const now = existsSync(loaded.path) ? readFileSync(loaded.path, "utf8") : null;
  if (now === textBeforeAgent) return [];
  let changed: string[];
  try {
    const before = parseExperiment(textBeforeAgent, displayPath(loaded.path), { cacheIn: loaded.root });
    const after = now === null ? null : parseExperiment(now, displayPath(loaded.path), { cacheIn: loaded.root });
    changed = after === null ? ["the whole file, which was deleted"] : changedMeasurementFields(
      measurementFields(before, findRound(before, round.round)),
      measurementFields(after, findRound(after, round.round)),
    );
  } catch {
    changed = ["the whole file, which no longer parsed"];
  }
  writeFileAtomic(loaded.path, textBeforeAgent);
  if (changed.length === 0) {
    notes(`note: the agent edited "${displayPath(loaded.path)}" during its call; it was put back as it was before.`);
  }
  return changed;
}
