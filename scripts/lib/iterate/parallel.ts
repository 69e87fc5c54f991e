// iterate --loop --parallel N: N agents propose candidates at once, each in its own worker tree
// at the incumbent (workers.ts), and each candidate is measured there, concurrently, against
// the incumbent it was made on; evals share eval.concurrency slots. Decisions are recorded one
// at a time, in the order they finish, through the ordinary step (the journal, the commit or
// the restore, kill-safe as ever). A candidate whose incumbent was replaced meanwhile is never
// judged by runs of another incumbent: a discard stands (it did not beat its own), a keep is
// carried onto the new incumbent and measured again, or discarded when it conflicts.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { replayDecisionState } from "../decision/state.ts";
import { experimentStateDir, findRound, type LoadedExperiment, loadExperiment } from "../experiment/experiment-file.ts";
import { iterationResults, readJournal, type ResultLine } from "../experiment/journal.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { summarizeJournal } from "../experiment/summary.ts";
import { sha256OrDeleted, writeFileAtomic } from "../files/atomic.ts";
import { withExperimentLock } from "../files/lock.ts";
import { displayPath, readOptional, resolveIn, toPosix } from "../files/paths.ts";
import { fileAtCommit, headCommit, shortCommit, workTreePatch } from "../git/git.ts";
import { compareWithSnapshot, scopeIgnores } from "../git/snapshot.ts";
import { sealKey } from "../integrity/seal.ts";
import { checkIntegrity } from "../integrity/frozen-files.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import type { StatusLine } from "../cli/status-line.ts";
import { stopRunningEvals } from "../process/evaluator.ts";
import { clearAgentCall, simplifyRequestedInLog } from "./agent-call.ts";
import { callAgent, describeDiff } from "./agent-command.ts";
import { requireNothingChangedBetweenSteps } from "./agent-call-guards.ts";
import { baselineTestCount, runDecision } from "./decision-runs.ts";
import {
  attributeCandidate,
  type Attribution,
  changeHash,
  earlierSameChange,
  type FileChange,
  sameChangeReason,
} from "./attribution.ts";
import { resolveIncumbent } from "./incumbent.ts";
import {
  loopEnding,
  type LoopOptions,
  type LoopOutcome,
  type Stop,
  stopReason,
  unpricedBudgetNote,
  withPlateau,
} from "./loop.ts";
import { clearApplying, undoUnrecordedApply, writeCandidate } from "./parallel-apply.ts";
import { requireIterableRound, runStep } from "./step.ts";
import type { Outcome, StepResult } from "./step-context.ts";
import { candidatePatch, prepareWorkers, rebaseCandidate, setWorkerTo, type Worker, workerFiles } from "./workers.ts";

export type ParallelOptions = LoopOptions & {
  /** Workers, each with its own agent and tree. */
  parallel: number;
  /** Eval runs at once across workers (eval.concurrency; default: one per worker). */
  evalConcurrency: number;
};

type Forced = { status: "crash" | "discard"; reason: string };

/** A candidate a worker made, with what was measured of it and on which incumbent. */
type Proposal = {
  worker: Worker;
  /** The incumbent the candidate was made on (and, when measured, measured against). */
  base: string;
  /** The sequence number of the agent call (its logs and prompt); the journal numbers decisions. */
  call: number;
  description: string;
  simplify: boolean;
  extra: Record<string, unknown>;
  /** Recorded without measuring: the agent failed, changed nothing or changed files outside its scope, a duplicate. */
  forced: Forced | null;
  /** The verdict against `base`, or null when `base` was replaced before measuring began. */
  outcome: Outcome | null;
  bytes: Map<string, Buffer | null>;
  /** The candidate's change against `base` (constrained files), to carry it onto a newer incumbent. */
  patch: string;
  /** What its diff against `base` changed, worked out while it is measured (the record then need not wait). */
  attribution: Promise<Attribution | null> | null;
  /** eval.runner's retries while it was measured on an earlier incumbent (carried over since). */
  runnerRetries?: number;
};

/** What the workers share while a run lasts: eval slots, the changes being measured, the call counter. */
type Shared = {
  slots: Slots;
  /** Change fingerprints being measured now, by worker: a second worker's identical change is not measured twice. */
  measuring: Map<string, string>;
  options: ParallelOptions;
};

/** A status line nobody sees: workers run side by side, the coordinator speaks for them. */
const SILENT: StatusLine = { update: () => {}, clear: () => {}, active: false };

/** The last agent call's number, kept across runs so a restart never reuses a call's logs or prompt. */
const CALLS_FILE = "parallel-calls";

export async function runParallelLoop(initial: LoadedExperiment, options: ParallelOptions): Promise<LoopOutcome> {
  const stateDir = experimentStateDir(initial);
  requireIterableRound(initial, options.round);
  return await withExperimentLock(
    { stateDir, command: "iterate.ts --loop --parallel", notes: options.notes },
    () => coordinate(initial, stateDir, options),
  );
}

async function coordinate(initial: LoadedExperiment, stateDir: string, options: ParallelOptions): Promise<LoopOutcome> {
  const started = performance.now();
  await recoverInterruptedWork(initial, stateDir, options.notes);
  const round = findRound(initial.experiment, options.round);
  const journalPath = resolveIn(initial.root, round.artifacts.journal);
  const done = iterationResults(readJournal(journalPath)).length;
  const planned = Math.max(0, Math.min(options.iterations ?? Infinity, initial.experiment.budget.iterations - done));
  const workers = prepareWorkers(initial, options.parallel, currentIncumbent(initial, options.round));
  options.notes(
    `${workers.length} workers, each in its own tree under ${
      displayPath(join(stateDir, "workers"))
    }; evals run ${options.evalConcurrency} at a time.`,
  );
  const shared: Shared = { slots: createSlots(options.evalConcurrency), measuring: new Map(), options };
  const lines: ResultLine[] = [];
  const running = new Map<Worker, Promise<Proposal>>();
  let launched = 0;
  let calls = Math.max(done, Number(readOptional(join(stateDir, CALLS_FILE)) ?? 0) || 0);
  let stop: Stop | null = stopFor(initial, options, lines, started);
  const launch = (worker: Worker) => {
    launched++;
    calls++;
    writeFileAtomic(join(stateDir, CALLS_FILE), String(calls));
    running.set(worker, propose(initial, worker, calls, shared));
  };
  try {
    while (true) {
      if (!stop) {
        for (const worker of workers) {
          if (!running.has(worker) && launched < planned) launch(worker);
        }
      }
      if (running.size === 0) break;
      const proposal = await Promise.race(running.values());
      running.delete(proposal.worker);
      const next = await settle(initial, stateDir, proposal, options);
      if (next.kind === "measure-again") {
        running.set(proposal.worker, measure(initial, next.proposal, shared));
        continue;
      }
      lines.push(next.result.line);
      options.onResult(next.result.line);
      if (lines.length === 1) {
        const unpriced = unpricedBudgetNote(initial.experiment, next.result.line);
        if (unpriced) options.notes(unpriced);
      }
      options.notes(
        `[${lines.length}/${planned}] ${next.result.line.status} from ${proposal.worker.id} (${
          Math.round((performance.now() - started) / 1000)
        }s elapsed)`,
      );
      stop ??= stopFor(initial, options, lines, started);
    }
  } catch (error) {
    // Nothing outlives the lock: the other workers' agents and evals are stopped and awaited first.
    if (running.size) {
      stopRunningEvals("SIGTERM");
      await Promise.allSettled(running.values());
    }
    throw error;
  }
  stop ??= stopFor(initial, options, lines, started) ??
    { exitCode: 0, reason: `ran the ${lines.length} iterations asked for`, endsRound: false };
  return await loopEnding(initial, stop, lines, options);
}

function stopFor(initial: LoadedExperiment, options: ParallelOptions, lines: ResultLine[], started: number) {
  const loaded = loadExperiment(initial.path);
  const round = findRound(loaded.experiment, options.round);
  const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
  const summary = summarizeJournal(journal, {
    experiment: withPlateau(loaded.experiment, options.plateau),
    round: round.round,
  });
  const stop = stopReason(
    loaded,
    iterationResults(journal),
    summary.plateau,
    lines.length,
    options,
    (performance.now() - started) / 3_600_000,
  );
  // "ran the N iterations asked for" is the coordinator's own count: the last ones may still be in flight.
  return stop && stop.exitCode === 0 ? null : stop;
}

/** The incumbent commit the journal names (the baseline's, before any keep). */
function currentIncumbent(loaded: LoadedExperiment, roundNumber: number | undefined): string {
  const round = requireIterableRound(loaded, roundNumber);
  const replay = replayDecisionState(readJournal(resolveIn(loaded.root, round.artifacts.journal)), loaded.experiment);
  return resolveIncumbent(loaded.root, replay.incumbentLine?.commit ?? null, round.baseline.commit);
}

/**
 * A worker's failure is its candidate's crash, not the run's end: the harness's own refusals in
 * its tree (a file changed while it was measured, git failing there) are recorded as that
 * candidate's crash. An interruption, and anything that is not a CliError (a bug), end the run.
 */
function asCrash(proposal: Proposal, error: unknown): Proposal {
  if (!(error instanceof CliError) || error.exitCode === EXIT.INTERRUPTED) throw error;
  return { ...proposal, forced: { status: "crash", reason: `in ${proposal.worker.id}'s tree: ${error.message}` } };
}

/** One worker's candidate: its tree set to the incumbent, the agent called there, the change measured there. */
async function propose(home: LoadedExperiment, worker: Worker, call: number, shared: Shared): Promise<Proposal> {
  const { options } = shared;
  const loaded = loadExperiment(home.path);
  const round = requireIterableRound(loaded, options.round);
  const base = currentIncumbent(loaded, options.round);
  const blank: Proposal = {
    worker,
    base,
    call,
    description: "(no description)",
    simplify: false,
    extra: { worker: worker.id },
    forced: null,
    outcome: null,
    bytes: new Map(),
    patch: "",
    attribution: null,
  };
  try {
    setWorkerTo(loaded, worker, base);
    const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
    const summary = summarizeJournal(journal, {
      experiment: withPlateau(loaded.experiment, options.plateau),
      round: round.round,
    });
    const workerLoaded = { ...worker.loaded, experiment: loaded.experiment };
    const agent = await callAgent(workerLoaded, round, {
      stateDir: worker.stateDir,
      iteration: call,
      summary,
      options,
      notes: options.notes,
      worker: worker.id,
    });
    clearAgentCall(worker.stateDir);
    const files = round.constrained_files;
    const diff = workTreePatch(worker.loaded.root, base, files);
    const outside = outsideTheFiles(workerLoaded, round, agent.call.snapshot);
    const forced: Forced | null = agent.failed
      ? { status: "crash", reason: agent.failed }
      : headCommit(worker.top) !== base
      ? {
        status: "discard",
        reason:
          "the agent committed in its worker tree; only the constrained files' content counts there, commits are not allowed",
      }
      : outside.length
      ? {
        status: "discard",
        reason: `the agent changed files outside the constrained file${files.length > 1 ? "s" : ""}: ${
          outside.slice(0, 5).map((path) => `"${path}"`).join(", ")
        }${outside.length > 5 ? ` and ${outside.length - 5} more` : ""} (archived in its worker tree's leftovers)`,
      }
      : diff.trim() === ""
      ? { status: "discard", reason: "the agent changed nothing in the constrained file" }
      : null;
    const prompt = typeof agent.extra.prompt === "string"
      ? { prompt: toPosix(relative(home.root, join(worker.loaded.root, agent.extra.prompt))) }
      : {};
    const proposal: Proposal = {
      ...blank,
      description: agent.description ?? describeDiff(diff) ?? "(no description)",
      simplify: simplifyRequestedInLog(agent.call.log),
      extra: { ...agent.extra, ...prompt, worker: worker.id },
      forced,
      bytes: workerFiles(worker, files),
      patch: forced ? "" : candidatePatch(worker, base, files),
      attribution: forced ? null : attributionAgainst(worker, base, files),
    };
    return forced ? proposal : await measure(home, proposal, shared);
  } catch (error) {
    return asCrash(blank, error);
  }
}

/**
 * Files the agent changed besides the constrained ones: the scope check against the snapshot
 * taken before its call, and the locked files (eval, test data, frozen, held-out) by hash, since
 * in a worker's tree they may be untracked copies, which the scope check sees only by name.
 */
function outsideTheFiles(
  loaded: LoadedExperiment,
  round: ReturnType<typeof requireIterableRound>,
  snapshot: Parameters<typeof compareWithSnapshot>[1],
): string[] {
  const scope = compareWithSnapshot(loaded.root, snapshot, scopeIgnores(loaded, round));
  return [...new Set([...scope.changed, ...scope.newUntracked, ...lockedFilesChanged(loaded, round)])];
}

function lockedFilesChanged(loaded: LoadedExperiment, round: ReturnType<typeof requireIterableRound>): string[] {
  return checkIntegrity(loaded.root, round.integrity, Object.keys(round.integrity)).map((problem) => problem.path);
}

/**
 * Measure the candidate in its worker's tree against `proposal.base`, with the decision state the
 * journal holds now. Not measured: when the incumbent has already moved on (settle carries the
 * candidate over), when the journal already measured the same change, or when another worker is
 * measuring it now. After the runs the locked files are checked again: another agent may have
 * reached into this tree while the eval ran.
 */
async function measure(home: LoadedExperiment, proposal: Proposal, shared: Shared): Promise<Proposal> {
  const { options, measuring } = shared;
  const loaded = loadExperiment(home.path);
  const round = requireIterableRound(loaded, options.round);
  const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
  const replay = replayDecisionState(journal, loaded.experiment);
  const incumbent = resolveIncumbent(loaded.root, replay.incumbentLine?.commit ?? null, round.baseline.commit);
  if (incumbent !== proposal.base) return { ...proposal, outcome: null };
  const { worker } = proposal;
  const fingerprint = changeHash(fileChanges(worker, proposal.base, round.constrained_files));
  const repeated = fingerprint === null ? null : earlierSameChange(iterationResults(journal), fingerprint);
  if (repeated) return { ...proposal, forced: { status: "discard", reason: sameChangeReason(repeated) } };
  const other = fingerprint === null ? undefined : measuring.get(fingerprint);
  if (other !== undefined) {
    return {
      ...proposal,
      forced: { status: "discard", reason: `the same change as the one ${other} is measuring now; measured once` },
    };
  }
  if (fingerprint !== null) measuring.set(fingerprint, worker.id);
  try {
    const hashes: Record<string, string> = {};
    for (const file of round.constrained_files) hashes[file] = sha256OrDeleted(join(worker.loaded.root, file));
    const outcome = await runDecision(
      {
        loaded: { ...worker.loaded, experiment: loaded.experiment },
        round,
        stateDir: worker.stateDir,
        options: {
          description: proposal.description,
          round: round.round,
          status: SILENT,
          notes: options.notes,
          simplify: proposal.simplify,
          evalSlot: shared.slots.acquire,
        },
      },
      {
        key: { round: round.round, iteration: proposal.call, incumbent: proposal.base, candidateHashes: hashes },
        state: replay.state,
        seal: sealKey(loaded.root),
        testsAtBaseline: baselineTestCount(journal.results),
      },
    );
    const tampered = lockedFilesChanged({ ...worker.loaded, experiment: loaded.experiment }, round);
    if (tampered.length) {
      return {
        ...proposal,
        forced: {
          status: "discard",
          reason: `${
            tampered.map((path) => `"${path}"`).join(", ")
          } changed in ${worker.id}'s tree while the candidate was measured (another agent?); its runs are not trusted`,
        },
      };
    }
    return { ...proposal, outcome };
  } catch (error) {
    return asCrash(proposal, error);
  } finally {
    if (fingerprint !== null && measuring.get(fingerprint) === worker.id) measuring.delete(fingerprint);
  }
}

type Settled = { kind: "recorded"; result: StepResult } | { kind: "measure-again"; proposal: Proposal };

/**
 * Record a finished proposal, or send it back to be measured on the new incumbent. Only a
 * candidate measured against the incumbent that is still current reaches the step with its
 * bytes; a stale discard or crash is recorded as it was measured, a stale keep is carried over.
 */
async function settle(
  home: LoadedExperiment,
  stateDir: string,
  proposal: Proposal,
  options: ParallelOptions,
): Promise<Settled> {
  const loaded = loadExperiment(home.path);
  const incumbent = currentIncumbent(loaded, options.round);
  const short = (commit: string) => shortCommit(loaded.root, commit);
  // The runner's retries belong on the line whatever it records: every measurement of the candidate.
  const retries = (proposal.runnerRetries ?? 0) + (proposal.outcome?.runnerRetries ?? 0);
  const extra = { ...proposal.extra, base_commit: short(proposal.base) };
  const record = (forced: Forced | null, outcome?: Outcome) =>
    recordProposal(loaded, stateDir, proposal, {
      forced,
      outcome: outcome && retries ? { ...outcome, runnerRetries: retries } : outcome,
      extra: forced && retries ? { ...extra, runner_retries: retries } : extra,
    }, options);
  if (proposal.forced) return { kind: "recorded", result: await record(proposal.forced) };
  const { outcome } = proposal;
  if (outcome && proposal.base === incumbent) return { kind: "recorded", result: await record(null, outcome) };
  if (outcome && outcome.status !== "keep") {
    const reason = `${outcome.reason ?? outcome.status} (measured against its own incumbent ${
      short(proposal.base)
    }; the incumbent has since moved to ${short(incumbent)})`;
    return {
      kind: "recorded",
      result: await record({ status: outcome.status === "crash" ? "crash" : "discard", reason }),
    };
  }
  // A keep on an older incumbent, or a candidate whose incumbent moved before it was measured: carry it over.
  const round = requireIterableRound(loaded, options.round);
  let rebased: ReturnType<typeof rebaseCandidate>;
  try {
    rebased = rebaseCandidate(
      loaded,
      proposal.worker,
      { base: proposal.base, patch: proposal.patch, files: round.constrained_files },
      incumbent,
    );
  } catch (error) {
    return { kind: "recorded", result: await record(asCrash(proposal, error).forced) };
  }
  if (!rebased.applied) {
    const reason = `made on ${short(proposal.base)}, its change conflicts with the keeps since (the incumbent is now ${
      short(incumbent)
    }${rebased.why ? `; git: ${rebased.why}` : ""}); not measured again`;
    return { kind: "recorded", result: await record({ status: "discard", reason }) };
  }
  if (workTreePatch(proposal.worker.loaded.root, incumbent, round.constrained_files).trim() === "") {
    const reason = `made on ${short(proposal.base)}; the incumbent ${short(incumbent)} already holds its change`;
    return { kind: "recorded", result: await record({ status: "discard", reason }) };
  }
  options.notes(
    `${proposal.worker.id}'s candidate (made on ${short(proposal.base)}) is carried onto the new incumbent ${
      short(incumbent)
    } and measured again there.`,
  );
  return {
    kind: "measure-again",
    proposal: {
      ...proposal,
      base: incumbent,
      outcome: null,
      bytes: workerFiles(proposal.worker, round.constrained_files),
      patch: candidatePatch(proposal.worker, incumbent, round.constrained_files),
      attribution: attributionAgainst(proposal.worker, incumbent, round.constrained_files),
      extra: { ...proposal.extra, rebased_from: short(proposal.base) },
      ...(retries ? { runnerRetries: retries } : {}),
    },
  };
}

/**
 * Record through the ordinary step in the home tree. The agent's scope was judged in its worker's
 * tree, so the step judges only the constrained files here (whatever else changes in this tree is
 * the user's and left alone). The bytes are noted first (parallel-apply.ts), so a kill or an error before the
 * step records them is undone. A forced outcome leaves the files as they are and points at the
 * worker's patch.
 */
async function recordProposal(
  loaded: LoadedExperiment,
  stateDir: string,
  proposal: Proposal,
  input: { forced: Forced | null; outcome?: Outcome; extra: Record<string, unknown> },
  options: ParallelOptions,
): Promise<StepResult> {
  const round = requireIterableRound(loaded, options.round);
  await requireNothingChangedBetweenSteps(loaded, round.round, stateDir, options.notes);
  const extra = { ...input.extra };
  if (input.forced && proposal.patch.trim()) {
    const folder = join(stateDir, "patches", `round${round.round}`);
    mkdirSync(folder, { recursive: true });
    const file = join(folder, `${proposal.worker.id}-call${proposal.call}.patch`);
    writeFileSync(file, proposal.patch);
    extra.worker_patch = toPosix(relative(loaded.root, file));
  }
  if (input.outcome) writeCandidate(loaded.root, stateDir, proposal.bytes);
  try {
    const result = await runStep(loaded, {
      description: proposal.description,
      round: round.round,
      status: SILENT,
      notes: options.notes,
      simplify: proposal.simplify,
      extra,
      constrainedOnly: true,
      ...(input.forced
        ? { forced: input.forced }
        : { measured: input.outcome, attribution: proposal.attribution ?? undefined }),
    });
    clearApplying(stateDir);
    return result;
  } catch (error) {
    // Recovery finishes a pending step the failed step left; then the unrecorded bytes come back
    // out. If even that fails, the note stays for the next run's recovery.
    await recoverInterruptedWork(loaded, stateDir, options.notes).catch(() => undefined);
    undoUnrecordedApply(loaded.root, stateDir, { ownFailure: true });
    throw error;
  }
}

/** The changed constrained files of the worker's candidate against `base`. */
function fileChanges(worker: Worker, base: string, files: string[]): FileChange[] {
  const bytes = workerFiles(worker, files);
  return files.flatMap((file) => {
    const before = fileAtCommit(worker.loaded.root, base, file);
    const after = bytes.get(file) ?? null;
    const same = before === null || after === null ? before === after : before.equals(after);
    return same ? [] : [{ file, before, after }];
  });
}

/** The attribution of the worker's candidate against `base` (never rejects: a failure is null). */
function attributionAgainst(worker: Worker, base: string, files: string[]): Promise<Attribution | null> {
  return attributeCandidate(fileChanges(worker, base, files), { nameFiles: files.length > 1 });
}

type Slots = { acquire: () => Promise<() => void> };

/** At most `count` holders at once; the rest wait in order. */
function createSlots(count: number): Slots {
  let free = count;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  return {
    acquire: () => {
      if (free > 0) {
        free--;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => waiting.push(() => resolve(release)));
    },
  };
}
