// One iteration: check integrity and scope, evaluate the work tree's candidate with
// the decision engine (running candidate and incumbent as often as it asks), then
// commit the constrained files or restore them and archive the diff, append one
// journal line and re-render the dashboard. The agent only edits the file.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { decideCandidate, type Verdict } from "../decision/decide.ts";
import type { Run } from "../decision/options.ts";
import { decisionOptionsFor, replayDecisionState, type ReplayedState } from "../decision/state.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import { type FormulaTerm, parseMetricFormula } from "../process/eval-output.ts";
import { type EvalRun, runEval } from "../process/evaluator.ts";
import { experimentStateDir, findRound, type LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { restoreBackupReport, saveBackup } from "../files/backup.ts";
import { sha256OfText, sha256OrDeleted } from "../files/atomic.ts";
import {
  binaryDiff,
  commitsBetween,
  fileAtCommit,
  fileDiffersFromCommit,
  isAncestor,
  pathsChangedBetween,
  repositoryPrefix,
  type RepositoryStatus,
  repositoryStatus,
  repositoryTop,
  resolveCommitWithShort,
  type ResolvedCommit,
} from "../git/git.ts";
import { guardMeasurementFields, requireFrozenFilesIntact } from "../integrity/measurement-guard.ts";
import {
  assertJournalWritable,
  iterationResults,
  parseJournal,
  readJournal,
  readJournalText,
  type ResultLine,
  type Status,
} from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { withExperimentLock } from "../files/lock.ts";
import { completePending, type PendingStep, storeBytesAsBlobs, writePending } from "./pending-step.ts";
import { agentFilesFolder, moveAgentFilesAside } from "./agent-call.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { requireSealedJournal, type SealKey, sealKey } from "../integrity/seal.ts";
import { clearMeasuredRuns, type MeasuredRuns, saveMeasuredRuns, takeMeasuredRuns } from "./measured-runs.ts";
import {
  compareWithSnapshot,
  differAtCommit,
  diffSinceSnapshot,
  harnessOrConstrained,
  readSnapshot,
  saveSnapshot,
  type Snapshot,
  snapshotPath,
  takeSnapshot,
} from "../git/snapshot.ts";
import { mean } from "../decision/stats.ts";
import type { StatusLine } from "../cli/status-line.ts";
import { writeDashboard } from "../dashboard/files.ts";
import { journalTimestamp } from "../text/timestamp.ts";
import { formatDelta } from "../text/number-format.ts";

/** Safety cap on eval runs in one step, whatever the engine asks (runs). */
const MAX_EVALS_PER_STEP = 40;

export type StepOptions = {
  description: string;
  round?: number;
  status: StatusLine;
  notes: (message: string) => void;
  /** Extra fields for the journal line (loop mode: agent exit code, duration). */
  extra?: Record<string, unknown>;
  /** Record this outcome without running the eval (loop mode: the agent failed or changed nothing). */
  forced?: { status: "crash" | "discard"; reason: string };
  /** Evaluate even when the round's iteration budget is spent. */
  ignoreBudget?: boolean;
  /**
   * Loop mode: the work tree and HEAD right before the agent's call. Only what changed
   * since is the agent's (restored when out of scope, its commits rewritten); step mode
   * judges against the previous step's end and never rewrites commits beyond the file.
   */
  agentScope?: { snapshot: Snapshot; head: string; experimentText: string };
};

export type StepResult = {
  line: ResultLine;
  verdict: Verdict | null;
  incumbentMean: number | null;
  dashboard: string | null;
};

/** The round iterate may write to: open, with a baseline to measure against. */
export function requireIterableRound(
  loaded: LoadedExperiment,
  roundNumber?: number,
): Round & { baseline: NonNullable<Round["baseline"]> } {
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
  return round as Round & { baseline: NonNullable<Round["baseline"]> };
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

/** What every phase of a step reads: the experiment, the round it writes to, its state folder, the caller's options. */
type StepContext = {
  loaded: LoadedExperiment;
  round: ReturnType<typeof requireIterableRound>;
  stateDir: string;
  options: StepOptions;
};

/** The journal as the step found it, once its seal and the measurement fields are checked. */
type JournalState = {
  journalPath: string;
  seal: SealKey | null;
  /** Measurement fields found changed and put back; any makes the step a discard. */
  measurementChanges: string[];
  replay: ReplayedState;
};

/** HEAD, and the commits between the incumbent and it (in loop mode, the agent's). */
type HeadState = { head: string; agentCommits: string[] };

/** What the step judges the work tree against, and what changed outside the constrained files. */
type ScopeState = {
  ignore: (path: string) => boolean;
  snapshotFile: string;
  snapshot: Snapshot;
  experimentRelative: string;
  /** Edits outside the constrained files, uncommitted or committed: restored, and the step discarded. */
  outOfScope: string[];
};

/** The candidate as read before any eval run. */
type Candidate = {
  iteration: number;
  /** The constrained files that differ from the incumbent. */
  changedFiles: string[];
  /** What a keep commits, whatever the work tree holds later. */
  bytes: Map<string, Buffer | null>;
  hashes: Record<string, string>;
  patchFile: string;
};

/** Everything the phases found, for the journal line and the pending step. */
type EvaluatedStep = HeadState & {
  /** performance.now() when the step began (ms). */
  started: number;
  journal: JournalState;
  incumbent: ResolvedCommit;
  scope: ScopeState;
  candidate: Candidate;
  outcome: Outcome;
};

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
  const outcome = await decideOutcome(context, { journal, incumbent: incumbent.commit, scope, candidate });
  return recordStep(context, { started, journal, incumbent, ...head, scope, candidate, outcome });
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

  // Loop mode: a frozen file the agent changed during its call is out of scope (restored,
  // discarded) like any other file it should not touch; step mode cannot tell, and refuses.
  if (!options.agentScope) requireFrozenFilesIntact(loaded, round);
  const measurementChanges = guardMeasurementFields(
    loaded,
    round,
    journal.config?.measurement,
    stateDir,
    options.agentScope?.experimentText ?? null,
    options.notes,
  );
  return { journalPath, seal, measurementChanges, replay: replayDecisionState(journal, loaded.experiment) };
}

/** The incumbent commit; a constrained file it lacks could never be kept, so the step refuses. */
function resolveIncumbentHoldingFiles(context: StepContext, journal: JournalState): ResolvedCommit {
  const { loaded, round } = context;
  // With measurement fields put back (the list of constrained files among them) the list in hand is stale;
  // the step is discarded.
  const mustExist = journal.measurementChanges.length ? [] : round.constrained_files;
  const resolved = resolveIncumbentWithShort(
    loaded.root,
    journal.replay.incumbentLine?.commit ?? null,
    round.baseline.commit,
    mustExist,
  );
  for (const file of mustExist) {
    if (resolved.blobs[file] === undefined && fileAtCommit(loaded.root, resolved.commit, file) === null) {
      throw new CliError(
        `The constrained file "${file}" is not in the incumbent commit ${
          resolved.commit.slice(0, 7)
        }, so an edit to it could never be kept. Fix constrained_files in "${
          displayPath(loaded.path)
        }", then re-baseline: ${kitCommand("baseline")} --force`,
        "E_NO_FILE",
        EXIT.USAGE,
      );
    }
  }
  return resolved;
}

/** HEAD must descend from the incumbent; the commits in between are the agent's in loop mode. */
function requireHeadOnIncumbent(context: StepContext, incumbent: string, status: RepositoryStatus): HeadState {
  const { root, experiment } = context.loaded;
  const head = status.head!;
  if (head !== incumbent && !isAncestor(root, incumbent, head)) {
    throw new CliError(
      `HEAD (${head.slice(0, 7)}) does not descend from the incumbent ${
        incumbent.slice(0, 7)
      }; the experiment's branch was switched or rewritten. Switch back: git switch ${
        experiment.branch ?? "<experiment branch>"
      }`,
      "E_HEAD_MOVED",
      EXIT.FAILED,
    );
  }
  const agentCommits = head !== incumbent ? commitsBetween(root, incumbent, head) : [];
  return { head, agentCommits };
}

/**
 * Compare the work tree and the commits on the incumbent with the snapshot the step judges
 * against: step mode refuses commits beyond the constrained files; other edits outside them
 * are out of scope, and new untracked files are moved aside (loop mode) or noted.
 */
function checkScope(
  context: StepContext,
  input: HeadState & { incumbent: string; status: RepositoryStatus; iteration: number },
): ScopeState {
  const { loaded, round, stateDir, options } = context;
  const { root, experiment } = loaded;
  const { incumbent, head, agentCommits, status } = input;
  const experimentRelative = relative(root, loaded.path);
  const ignore = harnessOrConstrained(experiment, round, experimentRelative);
  const snapshotFile = snapshotPath(stateDir, round.round);
  const snapshot: Snapshot = options.agentScope?.snapshot ?? readSnapshot(snapshotFile) ??
    takeSnapshot(root, ignore, status);
  const committedPaths = agentCommits.length ? pathsChangedBetween(root, incumbent, head) : [];
  const committedBeyondFile = committedPaths.filter((path) => !round.constrained_files.includes(path));
  if (committedBeyondFile.length && !options.agentScope) {
    // Step mode cannot tell an agent's commit from a person's: it never rewrites commits that reach beyond the file.
    throw new CliError(
      `HEAD moved ${agentCommits.length} commit${agentCommits.length > 1 ? "s" : ""} past the incumbent ${
        incumbent.slice(0, 7)
      }, touching files outside the constrained file (${committedBeyondFile.slice(0, 3).join(", ")}${
        committedBeyondFile.length > 3 ? ", …" : ""
      }); the harness does not rewrite commits it cannot prove the agent made. To build on them, re-baseline: ${
        kitCommand("baseline")
      } --force; otherwise move them off the branch yourself (git switch -c keep-mine, then git switch ${
        experiment.branch ?? "<experiment branch>"
      } && git reset --keep ${incumbent.slice(0, 7)})`,
      "E_FOREIGN_COMMITS",
      EXIT.FAILED,
    );
  }
  // Loop mode: the commits are the agent's. Harness files it swept in are not judged, and
  // an agent's `git commit -a` of the user's uncommitted work as it was before the call is
  // not the agent's change either (it stays uncommitted in the work tree, out of the keep).
  const committedOutOfScope = differAtCommit(root, snapshot, head, committedBeyondFile.filter((path) => !ignore(path)));
  const scope = compareWithSnapshot(root, snapshot, ignore, status);
  const outOfScope = [...new Set([...scope.changed, ...committedOutOfScope])];
  if (options.agentScope) requireFrozenFilesIntact(loaded, round, outOfScope);
  setAsideNewUntracked(context, scope.newUntracked, input.iteration);
  return { ignore, snapshotFile, snapshot, experimentRelative, outOfScope };
}

/** New untracked files are never part of the candidate: moved aside in loop mode, noted in step mode. */
function setAsideNewUntracked(context: StepContext, newUntracked: string[], iteration: number): void {
  const { loaded, round, stateDir, options } = context;
  if (newUntracked.length === 0) return;
  if (options.agentScope) {
    // Files the agent created are not part of the candidate, and a keep must stand on a checkout
    // without them: they are moved aside (kept, never deleted) before anything is evaluated.
    const aside = agentFilesFolder(stateDir, round.round, iteration);
    moveAgentFilesAside(loaded.root, stateDir, aside, newUntracked);
    options.notes(
      `note: files the agent created (${newUntracked.slice(0, 5).join(", ")}${
        newUntracked.length > 5 ? ", …" : ""
      }) are not part of the candidate; they were moved to ${displayPath(aside)}.`,
    );
  } else {
    options.notes(
      `note: new untracked files (left alone, not part of the candidate): ${newUntracked.slice(0, 5).join(", ")}${
        newUntracked.length > 5 ? ", …" : ""
      }`,
    );
  }
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
      } -m "what you changed"`,
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

/** A forced outcome or an out-of-scope discard needs no eval run; anything else goes to the decision engine. */
async function decideOutcome(
  context: StepContext,
  input: { journal: JournalState; incumbent: string; scope: ScopeState; candidate: Candidate },
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
  if (options.agentScope) noteUserChangesTheEvalSees(scope.snapshot, options);
  const key = {
    round: round.round,
    iteration: candidate.iteration,
    incumbent: input.incumbent,
    candidateHashes: candidate.hashes,
  };
  return await runDecision(context, { key, state: journal.replay.state, seal: journal.seal });
}

/** Why the step is discarded unmeasured (edits outside the constrained files or to measurement fields), or null. */
function scopeDiscardReason(
  context: StepContext,
  input: { outOfScope: string[]; measurementChanges: string[]; patchFile: string },
): string | null {
  const { loaded, round } = context;
  const { outOfScope, measurementChanges } = input;
  const reasons = [
    outOfScope.length
      ? `changed files outside the constrained file${round.constrained_files.length > 1 ? "s" : ""}: ${
        outOfScope.join(", ")
      } (restored; to re-apply them: ${reapplyCommand(loaded.root, input.patchFile, outOfScope)})`
      : null,
    measurementChanges.length
      ? `changed the experiment file's measurement fields (${
        measurementChanges.join(", ")
      }), which only baseline and next-round may change (restored)`
      : null,
  ].filter((reason): reason is string => reason !== null);
  return reasons.length ? reasons.join("; ") : null;
}

/**
 * Record the outcome: write the pending step ahead (it carries the journal line and the
 * measured runs, which are cleared only then), complete it (commit or restore, append the
 * line), then save the snapshot the next step judges against and re-render the dashboard.
 */
function recordStep(context: StepContext, step: EvaluatedStep): StepResult {
  const { loaded, round, stateDir, options } = context;
  const { line, incumbentMean } = journalLineFor(context, step);
  const pending = pendingStepFor(context, step, { line, incumbentMean });
  writePending(stateDir, pending, step.journal.seal);
  clearMeasuredRuns(stateDir); // the decision is written ahead; its runs are in the pending line
  const completion = completePending(loaded.root, stateDir, pending);
  for (const message of completion.notes) options.notes(message);
  saveSnapshot(step.scope.snapshotFile, takeSnapshot(loaded.root, step.scope.ignore));
  const dashboard = refreshDashboardQuietly(loaded, round, options);
  return { line: completion.line, verdict: step.outcome.verdict, incumbentMean, dashboard };
}

/** Archive a rejected candidate's patch, then build the step's journal line. */
function journalLineFor(context: StepContext, step: EvaluatedStep): { line: ResultLine; incumbentMean: number | null } {
  const { loaded, round, stateDir, options } = context;
  const { root } = loaded;
  const { journal, scope, candidate, outcome } = step;
  // Only a rejected candidate needs its diff archived; it is still in the work tree here
  // (files are restored by completePending), and a keep's diff is its commit.
  const patch = outcome.status === "keep" ? null : archivePatch(
    root,
    stateDir,
    candidate.patchFile,
    step.incumbent.commit,
    round.constrained_files,
    scope.snapshot,
    scope.outOfScope,
  );
  const incumbentMean = mean([...journal.replay.state.incumbentRuns, ...outcome.incumbentRuns].map((run) => run.score));
  const line = buildLine({
    root,
    experiment: loaded.experiment,
    round,
    iteration: candidate.iteration,
    outcome,
    incumbentMean,
    incumbent: step.incumbent.short,
    description: options.description,
    patch: patch === null ? null : relative(root, patch),
    changedFiles: [
      ...candidate.changedFiles,
      ...scope.outOfScope,
      ...(journal.measurementChanges.length ? [scope.experimentRelative] : []),
    ],
    durationS: (performance.now() - step.started) / 1000,
    extra: options.extra,
    agentCommits: step.agentCommits,
  });
  return { line, incumbentMean };
}

/** The write-ahead record of how to complete the step: commit the candidate's bytes, or restore the files. */
function pendingStepFor(
  context: StepContext,
  step: EvaluatedStep,
  recorded: { line: ResultLine; incumbentMean: number | null },
): PendingStep {
  const { loaded, round, options } = context;
  const { scope, candidate, outcome } = step;
  const restoreHashes: Record<string, string> = {};
  for (const path of scope.outOfScope) restoreHashes[path] = sha256OrDeleted(join(loaded.root, path));
  return {
    round: round.round,
    iteration: candidate.iteration,
    action: outcome.status === "keep" ? "commit" : "revert",
    files: round.constrained_files,
    incumbent: step.incumbent.commit,
    headBefore: step.head,
    candidateHashes: candidate.hashes,
    candidateBlobs: outcome.status === "keep" ? storeBytesAsBlobs(loaded.root, candidate.bytes) : undefined,
    message: commitMessage(
      options.description,
      recorded.incumbentMean,
      outcome,
      loaded.experiment.guard?.metric ?? null,
    ),
    restorePaths: scope.outOfScope,
    restoreHashes,
    snapshot: scope.snapshot,
    journal: step.journal.journalPath,
    line: recorded.line,
  };
}

/** In loop mode a person's uncommitted edits outside the file stay in place; the eval sees them. */
function noteUserChangesTheEvalSees(snapshot: Snapshot, options: StepOptions): void {
  const dirty = Object.keys(snapshot.dirty);
  if (dirty.length === 0) return;
  options.notes(
    `note: uncommitted changes made outside the agent's call (${dirty.slice(0, 3).join(", ")}${
      dirty.length > 3 ? ", …" : ""
    }) are left alone and are not part of the candidate, but the eval runs with them in the work tree.`,
  );
}

type Outcome = {
  status: Status;
  reason: string | null;
  candidate: { run: Run; eval: EvalRun }[];
  incumbentRuns: Run[];
  verdict: Verdict | null;
  crash: EvalRun | null;
};

export function resolveIncumbent(root: string, shortOrFull: string | null, baselineCommit: string): string {
  return resolveIncumbentWithShort(root, shortOrFull, baselineCommit).commit;
}

/**
 * The incumbent's full and short id, in one git call when the journal's commit resolves and
 * holds every one of `files`; a file it lacks is left for the caller to find and name.
 */
function resolveIncumbentWithShort(
  root: string,
  shortOrFull: string | null,
  baselineCommit: string,
  files: string[] = [],
): ResolvedCommit {
  for (const reference of [shortOrFull, baselineCommit]) {
    if (!reference) continue;
    const resolved = resolveCommitWithShort(root, reference, files) ??
      (files.length ? resolveCommitWithShort(root, reference) : null);
    if (resolved) return resolved;
  }
  throw new CliError(
    `Cannot find the incumbent commit ${
      shortOrFull ?? baselineCommit
    } in this repository. Run iterate from the experiment's repository and branch.`,
    "E_NO_INCUMBENT",
    EXIT.FAILED,
  );
}

/** The runs measured for this candidate so far; the decision loop appends to them as they land. */
type MeasuredSoFar = Pick<MeasuredRuns, "candidate" | "incumbentRuns">;

/** What the engine decides on: the candidate's identity (which earlier runs must match), the replayed state, the seal. */
type DecisionInput = {
  key: Omit<MeasuredRuns, "candidate" | "incumbentRuns">;
  state: ReplayedState["state"];
  seal: SealKey | null;
};

type Evaluate = (label: "candidate" | "incumbent") => Promise<EvalRun>;

/** Ask the engine, run what it asks, until it keeps or discards. */
async function runDecision(context: StepContext, input: DecisionInput): Promise<Outcome> {
  const { experiment } = context.loaded;
  const decisionOptions = decisionOptionsFor(experiment);
  const formula = experiment.metric.formula ? parseMetricFormula(experiment.metric.formula) : null;
  const measured = resumeMeasuredRuns(context, input);
  const evaluate = evaluatorFor(context, input.key.iteration, formula, measured);
  for (let evals = 0; evals < MAX_EVALS_PER_STEP; evals++) {
    const verdict = decideCandidate({
      ...input.state,
      incumbentRuns: [...input.state.incumbentRuns, ...measured.incumbentRuns],
      candidateRuns: measured.candidate.map((entry) => entry.run),
    }, decisionOptions);
    if (verdict.action === "keep" || verdict.action === "discard" || verdict.action === "guard_fail") {
      return { status: verdict.action, reason: verdict.reason, ...measured, verdict, crash: null };
    }
    const crash = await runWhatTheEngineAsks(context, { ...input, verdict, measured, evaluate });
    if (crash) return crash;
  }
  return {
    status: "discard",
    reason: `no verdict after ${MAX_EVALS_PER_STEP} eval runs`,
    ...measured,
    verdict: null,
    crash: null,
  };
}

/** Runs measured for exactly this candidate before an interruption are reused; otherwise none. */
function resumeMeasuredRuns(context: StepContext, input: DecisionInput): MeasuredSoFar {
  const earlier = takeMeasuredRuns(context.stateDir, input.key, input.seal);
  const candidate: Outcome["candidate"] = earlier?.candidate ?? [];
  const incumbentRuns: Run[] = earlier?.incumbentRuns ?? [];
  if (earlier && candidate.length + incumbentRuns.length > 0) {
    context.options.notes(
      `Reusing ${candidate.length} candidate and ${incumbentRuns.length} incumbent run${
        incumbentRuns.length === 1 ? "" : "s"
      } of iteration ${input.key.iteration} measured before an interruption.`,
    );
  }
  return { candidate, incumbentRuns };
}

/** One eval run of the work tree as it is, logged and shown on the status line; Ctrl-C ends the step. */
function evaluatorFor(
  context: StepContext,
  iteration: number,
  formula: FormulaTerm[] | null,
  measured: MeasuredSoFar,
): Evaluate {
  const { loaded, round, stateDir, options } = context;
  const logDir = join(stateDir, "logs", `round${round.round}`);
  return async (label) => {
    const index = label === "candidate" ? measured.candidate.length + 1 : measured.incumbentRuns.length + 1;
    const logPath = join(logDir, `iteration${iteration}-${label}${index}.log`);
    options.status.update(`iteration ${iteration}: ${label} run ${index} (tail -f ${displayPath(logPath)})`);
    const run = await runEval(round.eval.command, {
      cwd: loaded.root,
      timeoutS: round.eval.timeout_s,
      logPath,
      guardMetric: loaded.experiment.guard?.metric ?? null,
      formula,
    });
    options.status.clear();
    if (run.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
    return run;
  };
}

/**
 * Run the incumbent, the candidate or both, as the verdict asks. Each run must have measured
 * the candidate's bytes and is saved as it lands; a crash ends the step (returned), else null.
 */
async function runWhatTheEngineAsks(
  context: StepContext,
  input: DecisionInput & { verdict: Verdict; measured: MeasuredSoFar; evaluate: Evaluate },
): Promise<Outcome | null> {
  const { loaded, round, stateDir } = context;
  const { key, seal, verdict, measured, evaluate } = input;
  const remember = () => saveMeasuredRuns(stateDir, { ...key, ...measured }, seal);
  if (verdict.action === "run_incumbent" || verdict.action === "run_both") {
    const run = await runIncumbent(
      loaded.root,
      stateDir,
      round.constrained_files,
      key.incumbent,
      () => evaluate("incumbent"),
    );
    if (!run.ok) return crashedOutcome(run, "the incumbent's re-run crashed (a flaky eval?): ", verdict, measured);
    requireCandidateUnchanged(loaded.root, key.candidateHashes);
    measured.incumbentRuns.push(toRun(run));
    remember();
  }
  if (verdict.action === "run_candidate" || verdict.action === "run_both") {
    const run = await evaluate("candidate");
    if (!run.ok) return crashedOutcome(run, "", verdict, measured);
    requireCandidateUnchanged(loaded.root, key.candidateHashes);
    measured.candidate.push({ run: toRun(run), eval: run });
    remember();
  }
  return null;
}

/** A crashed eval run ends the step as a crash, keeping the runs measured before it. */
function crashedOutcome(run: EvalRun, who: string, verdict: Verdict | null, measured: MeasuredSoFar): Outcome {
  return { status: "crash", reason: `${who}${run.crashReason}`, ...measured, verdict, crash: run };
}

function toRun(run: EvalRun): Run {
  return { score: run.score!, guard: run.guard, ...(run.cases ? { cases: run.cases } : {}) };
}

/**
 * Run the eval on the incumbent's files while the candidate waits in a kill-safe backup.
 * A file someone edits meanwhile is not overwritten when the candidate comes back.
 */
async function runIncumbent(
  root: string,
  stateDir: string,
  files: string[],
  incumbent: string,
  evaluate: () => Promise<EvalRun>,
): Promise<EvalRun> {
  const saved: { file: string; content: Buffer; temporary: Buffer }[] = [];
  for (const file of files) {
    const absolute = join(root, file);
    const content = existsSync(absolute) ? readFileSync(absolute) : Buffer.alloc(0);
    saved.push({ file: absolute, content, temporary: fileAtCommit(root, incumbent, file) ?? content });
  }
  saveBackup(stateDir, saved, "incumbent re-run");
  try {
    for (const entry of saved) writeFileSync(entry.file, entry.temporary);
    return await evaluate();
  } finally {
    const restored = restoreBackupReport(stateDir);
    if (restored.editedMeanwhile.length) throw changedDuringEvaluation(restored.note!);
  }
}

function changedDuringEvaluation(detail: string): CliError {
  return new CliError(
    `The constrained file changed while it was being evaluated, so no verdict holds for it; nothing was recorded. ${detail} Run ${
      kitCommand("iterate")
    } again.`,
    "E_RACE",
    EXIT.FAILED,
  );
}

/** Every eval run must have measured the same candidate bytes. */
function requireCandidateUnchanged(root: string, candidateHashes: Record<string, string>): void {
  for (const [file, hash] of Object.entries(candidateHashes)) {
    if (sha256OrDeleted(join(root, file)) !== hash) throw changedDuringEvaluation(`"${file}" is left as it is now.`);
  }
}

export function patchPath(stateDir: string, round: number, iteration: number): string {
  return join(stateDir, "patches", `round${round}`, `iteration${iteration}.patch`);
}

/**
 * The rejected candidate as one patch: the constrained files against the incumbent, then
 * any out-of-scope edits against the version they are restored to (so `git apply
 * --include=PATH` puts exactly those back).
 */
function archivePatch(
  root: string,
  stateDir: string,
  path: string,
  incumbent: string,
  files: string[],
  snapshot: Snapshot,
  outOfScope: string[],
): string {
  mkdirSync(dirname(path), { recursive: true });
  const constrained = binaryDiff(root, incumbent, files);
  const outside = diffSinceSnapshot(root, snapshot, outOfScope, join(stateDir, `patch-index-${process.pid}`));
  writeFileSync(path, [constrained, outside].filter(Boolean).join("\n") + "\n");
  return path;
}

/** The command that re-applies only `paths` from an archived patch (git apply works from the repository's top). */
function reapplyCommand(root: string, patchFile: string, paths: string[]): string {
  const prefix = repositoryPrefix(root);
  const includes = paths.map((path) => `--include='${normalize(`${prefix}${path}`).replace(/'/g, "'\\''")}'`).join(" ");
  if (prefix === "") return `git apply ${includes} ${relative(root, patchFile)}`;
  return `git -C "${repositoryTop(root)}" apply ${includes} "${patchFile}"`;
}

function round4(value: number | null): number | null {
  return value === null || !Number.isFinite(value) ? null : Math.round(value * 1e4) / 1e4;
}

function averageMetrics(runs: EvalRun[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  const names = new Set(runs.flatMap((run) => Object.keys(run.metrics)));
  for (const name of names) {
    const value = mean(runs.map((run) => run.metrics[name]).filter((v): v is number => v !== undefined));
    if (value !== null) metrics[name] = round4(value)!;
  }
  return metrics;
}

type LineInput = {
  root: string;
  experiment: LoadedExperiment["experiment"];
  round: Round;
  iteration: number;
  outcome: Outcome;
  incumbentMean: number | null;
  incumbent: string;
  description: string;
  patch: string | null;
  changedFiles: string[];
  durationS: number;
  extra?: Record<string, unknown>;
  agentCommits: string[];
};

function buildLine(input: LineInput): ResultLine {
  const { outcome } = input;
  const scores = outcome.candidate.map((entry) => entry.run.score);
  const score = outcome.status === "crash" ? null : round4(mean(scores));
  const guardValues = outcome.candidate.map((entry) => entry.run.guard ?? null);
  const guardKnown = guardValues.filter((value): value is number => value !== null);
  const verdict = outcome.verdict;
  const hasCases = outcome.candidate.some((entry) => entry.run.cases);
  return {
    type: "result",
    iteration: input.iteration,
    commit: null,
    score,
    delta: score !== null && input.incumbentMean !== null ? formatDelta(score - input.incumbentMean) : null,
    guard_score: input.experiment.guard && guardKnown.length ? round4(mean(guardKnown)) : null,
    guard_pass: input.experiment.guard && outcome.status !== "crash" && guardKnown.length
      ? (verdict?.guardPass ?? null)
      : null,
    status: outcome.status,
    description: input.description,
    timestamp: journalTimestamp(),
    reason: outcome.reason,
    runs: scores,
    guard_runs: guardValues,
    ...(hasCases ? { case_runs: outcome.candidate.map((entry) => entry.run.cases ?? null) } : {}),
    incumbent_runs: outcome.incumbentRuns.map((run) => run.score),
    incumbent_guard_runs: outcome.incumbentRuns.map((run) => run.guard ?? null),
    ...(outcome.incumbentRuns.some((run) => run.cases)
      ? { incumbent_case_runs: outcome.incumbentRuns.map((run) => run.cases ?? null) }
      : {}),
    incumbent_commit: input.incumbent,
    metrics: averageMetrics(outcome.candidate.map((entry) => entry.eval)),
    verdict: verdict
      ? {
        mode: verdict.mode,
        statistic: verdict.statistic,
        threshold: verdict.threshold,
        df: verdict.df,
        sigma: verdict.sigma,
        gain: verdict.estimatedGain,
        ci: verdict.confidenceInterval,
        min_detectable_effect: verdict.minDetectableEffect,
      }
      : null,
    cases: verdict && (verdict.casesFixed || verdict.casesBroken)
      ? { fixed: verdict.casesFixed ?? [], broken: verdict.casesBroken ?? [] }
      : null,
    duration_s: Math.round(input.durationS * 1000) / 1000,
    patch: input.patch,
    changed_files: input.changedFiles,
    log: outcome.crash?.logPath ? relative(input.root, outcome.crash.logPath) : null,
    output_tail: outcome.crash ? outcome.crash.tail.split("\n").slice(-10).join("\n") : null,
    ...(input.agentCommits.length ? { agent_commits: input.agentCommits.map((commit) => commit.slice(0, 7)) } : {}),
    ...input.extra,
  };
}

/** The seed's message: `autoresearch: <description> | score: 0.6930 -> 0.7050 | mrr: 0.9500`. */
export function commitMessage(
  description: string,
  incumbentMean: number | null,
  outcome: Outcome,
  guardMetric: string | null,
): string {
  const from = incumbentMean === null ? "?" : incumbentMean.toFixed(4);
  const candidateMean = mean(outcome.candidate.map((entry) => entry.run.score));
  const to = candidateMean === null ? "?" : candidateMean.toFixed(4);
  const parts = [`autoresearch: ${description}`, `score: ${from} -> ${to}`];
  const metrics = averageMetrics(outcome.candidate.map((entry) => entry.eval));
  const keyMetrics = guardMetric && guardMetric.toLowerCase() in metrics
    ? [guardMetric.toLowerCase()]
    : Object.keys(metrics).filter((name) => name !== "score").slice(0, 2);
  for (const name of keyMetrics) parts.push(`${name}: ${metrics[name].toFixed(4)}`);
  return parts.join(" | ");
}

/** Re-render the round's dashboard and chart; returns the dashboard's path. */
export function refreshDashboard(loaded: LoadedExperiment, round: Round): string {
  const rendered = writeDashboard({
    journalPath: resolveIn(loaded.root, round.artifacts.journal),
    dashboardPath: resolveIn(loaded.root, round.artifacts.dashboard),
    reportPath: resolveIn(loaded.root, round.artifacts.report),
    experiment: loaded.experiment,
    round: round.round,
  });
  return rendered.dashboardPath;
}

function refreshDashboardQuietly(loaded: LoadedExperiment, round: Round, options: StepOptions): string | null {
  try {
    return refreshDashboard(loaded, round);
  } catch (error) {
    options.notes(`warning: the dashboard could not be rendered: ${(error as Error).message}`);
    return null;
  }
}
