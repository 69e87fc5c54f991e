// What the step's phases hand each other: the caller's options and the step's result, the
// context every phase reads, and the small typed object each phase returns (journal state,
// HEAD, scope, candidate, outcome). Types only: no phase lives here, and nothing runs.
import type { Verdict } from "../decision/decide.ts";
import type { Run } from "../decision/options.ts";
import type { ReplayedState } from "../decision/state.ts";
import type { EvalRun } from "../process/evaluator.ts";
import type { LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import type { ResolvedCommit } from "../git/git.ts";
import type { ResultLine, Status } from "../experiment/journal.ts";
import type { SealKey } from "../integrity/seal.ts";
import type { Snapshot } from "../git/snapshot.ts";
import type { StatusLine } from "../cli/status-line.ts";
import type { HoldoutMeasure } from "../harness/holdout-set.ts";
import type { Attribution } from "./attribution.ts";
import type { SizeChange } from "./file-size.ts";

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
  /** The change asks to be kept as a simplification (iterate --simplify, the loop's SIMPLIFY: line). */
  simplify?: boolean;
  /**
   * Loop mode: the work tree and HEAD right before the agent's call. Only what changed
   * since is the agent's (restored when out of scope, its commits rewritten); step mode
   * judges against the previous step's end and never rewrites commits beyond the file.
   */
  agentScope?: { snapshot: Snapshot; head: string; experimentText: string };
  /**
   * Parallel loop: the outcome was measured in a worker's worktree against this same incumbent
   * (parallel.ts); the step records it instead of running the eval again.
   */
  measured?: Outcome;
  /**
   * Parallel loop: the agent's scope was judged in its worker's tree; here only the constrained
   * files are the candidate, and every other file is the user's, neither judged nor restored.
   */
  constrainedOnly?: boolean;
  /** The candidate's attribution, worked out beside its measurement (a parallel worker), so the record need not wait for it. */
  attribution?: Promise<Attribution | null>;
  /** Waits for a free eval slot (eval.concurrency across parallel workers); resolves to its release. */
  evalSlot?: () => Promise<() => void>;
};

export type StepResult = {
  line: ResultLine;
  verdict: Verdict | null;
  incumbentMean: number | null;
  dashboard: string | null;
  /** A simplification request's size change and how it was judged, for the step line; else null. */
  sizeNote?: string | null;
};

/** A round iterate may write to: open, with a baseline to measure against. */
export type IterableRound = Round & { baseline: NonNullable<Round["baseline"]> };

/** What every phase of a step reads: the experiment, the round it writes to, its state folder, the caller's options. */
export type StepContext = {
  loaded: LoadedExperiment;
  round: IterableRound;
  stateDir: string;
  options: StepOptions;
};

/** The journal as the step found it, once its seal and the measurement fields are checked. */
export type JournalState = {
  journalPath: string;
  seal: SealKey | null;
  /** Measurement fields found changed and put back; any makes the step a discard. */
  measurementChanges: string[];
  replay: ReplayedState;
  /** The round's iteration lines so far (a repeated change is found among them). */
  results: ResultLine[];
  /** How many tests the eval's test suite counted at baseline, or null (decision-runs.ts baselineTestCount). */
  testsAtBaseline: number | null;
};

/** HEAD, and the commits between the incumbent and it (in loop mode, the agent's). */
export type HeadState = { head: string; agentCommits: string[] };

/** What the step judges the work tree against, and what changed outside the constrained files. */
export type ScopeState = {
  ignore: (path: string) => boolean;
  snapshotFile: string;
  snapshot: Snapshot;
  experimentRelative: string;
  /** Edits outside the constrained files, uncommitted or committed: restored, and the step discarded. */
  outOfScope: string[];
};

/** The candidate as read before any eval run. */
export type Candidate = {
  iteration: number;
  /** The constrained files that differ from the incumbent. */
  changedFiles: string[];
  /** What a keep commits, whatever the work tree holds later. */
  bytes: Map<string, Buffer | null>;
  hashes: Record<string, string>;
  patchFile: string;
};

/** Everything the phases found, for the journal line and the pending step. */
export type EvaluatedStep = HeadState & {
  /** performance.now() when the step began (ms). */
  started: number;
  journal: JournalState;
  incumbent: ResolvedCommit;
  scope: ScopeState;
  candidate: Candidate;
  outcome: Outcome;
  /** What the candidate's diff changed (levers, functions, other lines); null when it could not be read. */
  attribution: Attribution | null;
  /** The fingerprint of the candidate's normalised diff; null when no constrained file changed. */
  changeHash: string | null;
};

export type Outcome = {
  status: Status;
  reason: string | null;
  candidate: { run: Run; eval: EvalRun }[];
  incumbentRuns: Run[];
  /** Attempts eval.runner made again after its own failures during the step (absent: none). */
  runnerRetries?: number;
  verdict: Verdict | null;
  crash: EvalRun | null;
  /** The constrained files' size before and after, measured when a simplification was asked for. */
  simplification?: SizeChange | null;
  /** A keep's held-out measurement (recorded on its line; it decides nothing). */
  holdout?: HoldoutMeasure;
};
