// One iteration, phase by phase: the round and budget checks, then evaluateCandidate's
// phases in order (journal and seal, incumbent, HEAD, scope, something changed, the
// candidate's bytes, its change's fingerprint and attribution, its outcome, its record), every
// refusal before anything is recorded. A change already measured is discarded without a run.
// The larger phases live beside it: incumbent.ts, step-scope.ts, decision-runs.ts (the
// eval runs) and step-record.ts (commit or restore, journal line). The agent only edits the file.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join, relative } from "node:path";
import { replayDecisionState } from "../decision/state.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { experimentStateDir, findRound, type LoadedExperiment } from "../experiment/experiment-file.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { sha256OfText } from "../files/atomic.ts";
import { fileAtCommit, fileDiffersFromCommit, isLinkedWorktree, repositoryStatus } from "../git/git.ts";
import {
  guardMeasurementFields,
  requireFrozenFilesIntact,
  requireHeldOutIntact,
} from "../integrity/measurement-guard.ts";
import {
  assertJournalWritable,
  iterationResults,
  parseJournal,
  readJournal,
  readJournalText,
  type ResultLine,
} from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { withExperimentLock } from "../files/lock.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { requireSealedJournal, sealKey } from "../integrity/seal.ts";
import { refreshDashboardQuietly } from "./dashboard-refresh.ts";
import { requireHeadOnIncumbent, resolveIncumbentHoldingFiles } from "./incumbent.ts";
import { checkScope, noteUserChangesTheEvalSees, scopeDiscardReason } from "./step-scope.ts";
import { baselineTestCount, runDecision } from "./decision-runs.ts";
import { measureHoldout } from "../harness/holdout-set.ts";
import { patchPath, recordStep } from "./step-record.ts";
import {
  attributeCandidate,
  changeHash as changeHashOf,
  earlierSameChange,
  type FileChange,
  sameChangeReason,
} from "./attribution.ts";
import type {
  Candidate,
  IterableRound,
  JournalState,
  Outcome,
  ScopeState,
  StepContext,
  StepOptions,
  StepResult,
} from "./step-context.ts";

/** The round iterate may write to: open, with a baseline to measure against. */
export function requireIterableRound(
  loaded: LoadedExperiment,
  roundNumber?: number,
): IterableRound {
  const { experiment } = loaded;
  const round = findRound(experiment, roundNumber);
  if (round.status === "closed") {
    throw new CliError(
      `Round ${round.round} is closed; iterate writes only to the current round (${experiment.current_round}). Drop --round, or look at it with: ${
        kitCommand("dashboard")
      } --round ${round.round}`,
      "E_ROUND_CLOSED",
    );
  }
  if (!round.baseline) {
    // The baseline lives in the experiment file, uncommitted: a checkout, stash or reset of that file loses it.
    const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
    const done = iterationResults(journal).length;
    if (journal.results.some((line) => line.status === "baseline") && done > 0) {
      throw new CliError(
        `"${
          displayPath(loaded.path)
        }" has lost round ${round.round}'s baseline record, though its journal has ${done} result${
          done === 1 ? "" : "s"
        } (was the file checked out, stashed or reset?). Get the file back (git stash pop, or undo the checkout in your editor), or start the round again: ${
          kitCommand("baseline")
        } --force`,
        "E_BASELINE_LOST",
        EXIT.FAILED,
      );
    }
    throw new CliError(`Round ${round.round} has no baseline yet. Run: ${kitCommand("baseline")}`, "E_NO_BASELINE");
  }
  return round as IterableRound;
}

export async function runStep(loaded: LoadedExperiment, options: StepOptions): Promise<StepResult> {
  const { experiment } = loaded;
  const round = requireIterableRound(loaded, options.round);
  const stateDir = experimentStateDir(loaded);
  const journalPath = resolveIn(loaded.root, round.artifacts.journal);
  assertJournalWritable(journalPath, displayPath(journalPath));
  // On Ctrl-C the lock's backup restore puts the candidate back into the work tree.
  return withExperimentLock({ stateDir, command: "iterate.ts", notes: options.notes }, async () => {
    const recovery = await recoverInterruptedWork(loaded, stateDir, options.notes);
    if (recovery.finished) refreshDashboardQuietly(loaded, round, options);
    const done = iterationResults(readJournal(journalPath)).length;
    if (done >= experiment.budget.iterations && !options.ignoreBudget) {
      throw new CliError(
        `The round's budget of ${experiment.budget.iterations} iterations is spent (${done} done). Raise budget.iterations in "${
          displayPath(loaded.path)
        }", or start the next round: ${kitCommand("next-round")}`,
        "E_BUDGET",
        EXIT.BUDGET_EXHAUSTED,
      );
    }
    return await evaluateCandidate({ loaded, round, stateDir, options });
  });
}
/**
 * The step's phases, in order; every refusal comes before anything is recorded. The record
 * phase writes the outcome ahead as a pending step before it commits or restores anything:
 * a kill before that write leaves the measured runs to reuse, a kill after it a step that
 * recovery finishes.
 */
async function evaluateCandidate(context: StepContext): Promise<StepResult> {
  const started = performance.now();
  const journal = readJournalAndGuard(context);
  const incumbent = resolveIncumbentHoldingFiles(context, journal);
  // One status answers HEAD here and the scope check below: nothing in between changes the work tree.
  const status = repositoryStatus(context.loaded.root);
  const head = requireHeadOnIncumbent(context, incumbent.commit, status);
  const iteration = journal.replay.nextIteration;
  const scope = checkScope(context, { incumbent: incumbent.commit, status, iteration, ...head });
  const changedFiles = requireSomethingToEvaluate(context, { incumbent: incumbent.commit, scope, journal });
  const candidate = readCandidate(context, iteration, changedFiles);
  const change = candidateChange(context, incumbent.commit, candidate);
  const changeHash = changeHashOf(change);
  const repeated = earlierSameChange(journal.results, changeHash);
  // Read while the eval runs (its python3 or Babel work overlaps the runs); a repeat reuses the
  // attribution of the line it repeats, and a failure gives null, never a failed step.
  const attribution = repeated ? Promise.resolve(repeated.attribution ?? null) : context.options.attribution ??
    attributeCandidate(change, { nameFiles: context.round.constrained_files.length > 1 });
  const outcome = await decideOutcome(context, {
    journal,
    incumbent: incumbent.commit,
    scope,
    candidate,
    repeated,
  });
  const measured = await withHeldOutMeasure(context, candidate.iteration, outcome);
  const attributed = { attribution: await attribution, changeHash };
  return recordStep(context, {
    started,
    journal,
    incumbent,
    ...head,
    scope,
    candidate,
    outcome: measured,
    ...attributed,
  });
}

/**
 * A keep's held-out measurement: the same eval on the candidate's files as they are in the work
 * tree, with the held-out set as its test data, before anything is committed. Its figures go on
 * the keep line; a crash there leaves a null and a note, and the keep stands.
 */
async function withHeldOutMeasure(context: StepContext, iteration: number, outcome: Outcome): Promise<Outcome> {
  const { loaded, round, stateDir, options } = context;
  const { holdout } = loaded.experiment;
  if (!holdout || outcome.status !== "keep") return outcome;
  const measure = await measureHoldout({
    root: loaded.root,
    stateDir,
    experiment: loaded.experiment,
    round,
    label: `iteration${iteration}`,
    runs: holdout.runs,
    status: options.status,
  });
  return { ...outcome, holdout: measure };
}

/** The changed constrained files as the incumbent holds them and as the candidate has them. */
function candidateChange(context: StepContext, incumbent: string, candidate: Candidate): FileChange[] {
  return candidate.changedFiles.map((file) => ({
    file,
    before: fileAtCommit(context.loaded.root, incumbent, file),
    after: candidate.bytes.get(file) ?? null,
  }));
}

/** Read the journal (checking its seal), refuse edited frozen files in step mode, put back changed measurement fields. */
function readJournalAndGuard(context: StepContext): JournalState {
  const { loaded, round, stateDir, options } = context;
  const journalPath = resolveIn(loaded.root, round.artifacts.journal);
  const journalText = existsSync(journalPath) ? readJournalText(journalPath, displayPath(journalPath)) : "";
  const journal = parseJournal(journalText, displayPath(journalPath));
  for (const warning of journal.warnings) options.notes(`warning: ${warning}`);
  const seal = sealKey(loaded.root);
  if (seal) requireSealedJournal(seal, journalText, displayPath(journalPath));
  const results = iterationResults(journal);

  // Loop mode: a frozen file the agent changed during its call is out of scope (restored,
  // discarded) like any other file it should not touch; step mode cannot tell, and refuses.
  if (!options.agentScope) requireFrozenFilesIntact(loaded, round);
  else requireHeldOutIntact(loaded, round);
  const measurementChanges = guardMeasurementFields(
    loaded,
    round,
    journal.config?.measurement,
    stateDir,
    options.agentScope?.experimentText ?? null,
    options.notes,
  );
  return {
    journalPath,
    seal,
    measurementChanges,
    replay: replayDecisionState(journal, loaded.experiment),
    results,
    testsAtBaseline: baselineTestCount(journal.results),
  };
}
/**
 * The constrained files that differ from the incumbent. With none of them, nothing out of
 * scope and no measurement field changed, there is nothing to evaluate unless the outcome is forced.
 */
function requireSomethingToEvaluate(
  context: StepContext,
  input: { incumbent: string; scope: ScopeState; journal: JournalState },
): string[] {
  const { loaded, round, options } = context;
  const changedConstrained: string[] = [];
  for (const file of round.constrained_files) {
    if (fileDiffersFromCommit(loaded.root, input.incumbent, file)) changedConstrained.push(file);
  }
  const nothingChanged = changedConstrained.length === 0 && input.scope.outOfScope.length === 0 &&
    input.journal.measurementChanges.length === 0;
  if (nothingChanged && !options.forced) {
    throw new CliError(
      `Nothing to evaluate: ${round.constrained_files.map((file) => `"${file}"`).join(", ")} ${
        round.constrained_files.length > 1 ? "are" : "is"
      } the same as the incumbent ${input.incumbent.slice(0, 7)}. Edit the file first, then run: ${
        kitCommand("iterate")
      } -m "what you changed"${elsewhereHint(loaded.root)}`,
      "E_NOTHING_TO_EVALUATE",
    );
  }
  return changedConstrained;
}

/** The bytes a keep will commit, read before any eval run: whatever the work tree holds later. */
function readCandidate(context: StepContext, iteration: number, changedFiles: string[]): Candidate {
  const { loaded, round, stateDir } = context;
  const { root } = loaded;
  const bytes = new Map(
    round.constrained_files.map((file) => [file, existsSync(join(root, file)) ? readFileSync(join(root, file)) : null]),
  );
  const hashes: Record<string, string> = {};
  for (const [file, content] of bytes) hashes[file] = content === null ? "deleted" : sha256OfText(content);
  return { iteration, changedFiles, bytes, hashes, patchFile: patchPath(stateDir, round.round, iteration) };
}

/**
 * A forced outcome, an out-of-scope discard or a change already measured needs no eval run;
 * anything else goes to the decision engine.
 */
async function decideOutcome(
  context: StepContext,
  input: {
    journal: JournalState;
    incumbent: string;
    scope: ScopeState;
    candidate: Candidate;
    repeated: ResultLine | null;
  },
): Promise<Outcome> {
  const { round, options } = context;
  const { journal, scope, candidate } = input;
  const scopeReason = scopeDiscardReason(context, {
    outOfScope: scope.outOfScope,
    measurementChanges: journal.measurementChanges,
    patchFile: candidate.patchFile,
  });
  if (options.forced) {
    const reason = [options.forced.reason, scopeReason].filter(Boolean).join("; ");
    return { status: options.forced.status, reason, candidate: [], incumbentRuns: [], verdict: null, crash: null };
  }
  if (scopeReason) {
    return { status: "discard", reason: scopeReason, candidate: [], incumbentRuns: [], verdict: null, crash: null };
  }
  if (input.repeated) {
    const reason = sameChangeReason(input.repeated);
    return { status: "discard", reason, candidate: [], incumbentRuns: [], verdict: null, crash: null };
  }
  if (options.measured) return options.measured;
  if (options.agentScope) noteUserChangesTheEvalSees(scope.snapshot, options);
  const key = {
    round: round.round,
    iteration: candidate.iteration,
    incumbent: input.incumbent,
    candidateHashes: candidate.hashes,
  };
  return await runDecision(context, {
    key,
    state: journal.replay.state,
    seal: journal.seal,
    testsAtBaseline: journal.testsAtBaseline,
  });
}

/**
 * When the experiment runs in its own worktree and iterate was started outside it, an edit made
 * here is not the experiment's: say where the file to edit is.
 */
function elsewhereHint(experimentFolder: string): string {
  const here = relative(experimentFolder, process.cwd());
  if (here === "" || (!here.startsWith("..") && !isAbsolute(here))) return "";
  if (!isLinkedWorktree(experimentFolder)) return "";
  return ` (the experiment runs in its own worktree "${displayPath(experimentFolder)}": edit the file there, e.g. cd "${
    displayPath(experimentFolder)
  }")`;
}
