// iterate --loop --parallel N: N agents propose candidates at once, each in its own worker tree
// at the incumbent (workers.ts), and each candidate is measured there, concurrently, against
// the incumbent it was made on; evals share eval.concurrency slots. Decisions are recorded one
// at a time, in the order they finish, through the ordinary step (the journal, the commit or
// the restore, kill-safe as ever). A candidate whose incumbent was replaced meanwhile is never
// judged by runs of another incumbent: a discard stands (it did not beat its own), a keep is
// carried onto the new incumbent and measured again, or discarded when it conflicts.
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { replayDecisionState } from "../decision/state.ts";
import { experimentStateDir, findRound, type LoadedExperiment, loadExperiment } from "../experiment/experiment-file.ts";
import { iterationResults, readJournal, type ResultLine } from "../experiment/journal.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { summarizeJournal } from "../experiment/summary.ts";
import { sha256OfText, sha256OrDeleted, writeFileAtomic } from "../files/atomic.ts";
import { withExperimentLock } from "../files/lock.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { fileAtCommit, headCommit, shortCommit, workTreePatch } from "../git/git.ts";
import { compareWithSnapshot, scopeIgnores } from "../git/snapshot.ts";
import { sealKey } from "../integrity/seal.ts";
import { checkIntegrity } from "../integrity/frozen-files.ts";
import type { StatusLine } from "../cli/status-line.ts";
import { clearAgentCall, simplifyRequestedInLog } from "./agent-call.ts";
import { callAgent, describeDiff } from "./agent-command.ts";
import { requireNothingChangedBetweenSteps } from "./agent-call-guards.ts";
import { runDecision } from "./decision-runs.ts";
import { attributeCandidate, type Attribution } from "./attribution.ts";
import { resolveIncumbent } from "./incumbent.ts";
import { loopEnding, type LoopOptions, type LoopOutcome, type Stop, stopReason, withPlateau } from "./loop.ts";
import { requireIterableRound, runStep } from "./step.ts";
import type { Outcome, StepResult } from "./step-context.ts";
import { candidatePatch, prepareWorkers, rebaseCandidate, setWorkerTo, type Worker, workerFiles } from "./workers.ts";

export type ParallelOptions = LoopOptions & {
  /** Workers, each with its own agent and tree. */
  parallel: number;
  /** Eval runs at once across workers (eval.concurrency; default: one per worker). */
  evalConcurrency: number;
};

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
  /** Recorded without measuring: the agent failed, changed nothing, or changed files outside its scope. */
  forced: { status: "crash" | "discard"; reason: string } | null;
  /** The verdict against `base`, or null when `base` was replaced before measuring began. */
  outcome: Outcome | null;
  bytes: Map<string, Buffer | null>;
  /** The candidate's change against `base` (constrained files), to carry it onto a newer incumbent. */
  patch: string;
  /** What its diff against `base` changed, worked out while it is measured (the record then need not wait). */
  attribution: Promise<Attribution | null> | null;
};

/** A status line nobody sees: workers run side by side, the coordinator speaks for them. */
const SILENT: StatusLine = { update: () => {}, clear: () => {}, active: false };

/** Where the coordinator notes the candidate bytes it is about to hand to the step (kill-safety). */
const APPLYING_FILE = "parallel-applying.json";

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
  undoUnrecordedApply(initial, stateDir, options.notes);
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
  const slots = createSlots(options.evalConcurrency);
  const lines: ResultLine[] = [];
  const running = new Map<Worker, Promise<Proposal>>();
  let launched = 0;
  let calls = done; // agent calls are numbered on from the journal's iterations: their logs and seeds never repeat
  let stop: Stop | null = initialStop(initial, options, lines, started);
  const launch = (worker: Worker) => {
    launched++;
    calls++;
    running.set(worker, propose(initial, worker, calls, options, slots));
  };
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
      running.set(proposal.worker, measureAgain(initial, next.proposal, options, slots));
      continue;
    }
    lines.push(next.result.line);
    options.onResult(next.result.line);
    options.notes(
      `[${lines.length}/${planned}] ${next.result.line.status} from ${proposal.worker.id} (${
        Math.round((performance.now() - started) / 1000)
      }s elapsed)`,
    );
    stop ??= stopFor(initial, options, lines, started);
    if (!stop && launched >= planned && running.size === 0) break;
  }
  stop ??= stopFor(initial, options, lines, started) ??
    { exitCode: 0, reason: `ran the ${lines.length} iterations asked for`, endsRound: false };
  return await loopEnding(initial, stop, lines, options);
}

/** The stop that holds before anything runs (budget spent, a plateau reached earlier), or null. */
function initialStop(initial: LoadedExperiment, options: ParallelOptions, lines: ResultLine[], started: number) {
  return stopFor(initial, options, lines, started);
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

/** One worker's candidate: its tree set to the incumbent, the agent called there, the change measured there. */
async function propose(
  home: LoadedExperiment,
  worker: Worker,
  call: number,
  options: ParallelOptions,
  slots: Slots,
): Promise<Proposal> {
  const loaded = loadExperiment(home.path);
  const round = requireIterableRound(loaded, options.round);
  const base = currentIncumbent(loaded, options.round);
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
    worker: worker.id,
  });
  clearAgentCall(worker.stateDir);
  const files = round.constrained_files;
  const diff = workTreePatch(worker.loaded.root, base, files);
  const scope = compareWithSnapshot(worker.loaded.root, agent.call.snapshot, scopeIgnores(workerLoaded, round));
  // The locked files (eval, test data, frozen, held-out) checked by hash too: in a worker's tree
  // they may be untracked copies, which the scope check sees only by name.
  const locked = checkIntegrity(worker.loaded.root, round.integrity, Object.keys(round.integrity))
    .map((problem) => problem.path);
  const outside = [...new Set([...scope.changed, ...scope.newUntracked, ...locked])];
  const forced = agent.failed ? { status: "crash" as const, reason: agent.failed } : headCommit(worker.top) !== base
    ? {
      status: "discard" as const,
      reason:
        "the agent committed in its worker tree; only the constrained files' content counts there, commits are not allowed",
    }
    : outside.length
    ? {
      status: "discard" as const,
      reason: `the agent changed files outside the constrained file${files.length > 1 ? "s" : ""}: ${
        outside.slice(0, 5).map((path) => `"${path}"`).join(", ")
      }${
        outside.length > 5 ? ` and ${outside.length - 5} more` : ""
      } (left in its worker tree, archived when it is reused)`,
    }
    : diff.trim() === ""
    ? { status: "discard" as const, reason: "the agent changed nothing in the constrained file" }
    : null;
  const proposal: Proposal = {
    worker,
    base,
    call,
    description: agent.description ?? describeDiff(diff) ?? "(no description)",
    simplify: simplifyRequestedInLog(agent.call.log),
    extra: { ...agent.extra, worker: worker.id },
    forced,
    outcome: null,
    bytes: workerFiles(worker, files),
    patch: forced ? "" : candidatePatch(worker, base, files),
    attribution: forced ? null : attributionAgainst(worker, base, files),
  };
  return forced ? proposal : await measure(home, proposal, options, slots);
}

/**
 * Measure the candidate in its worker's tree against `proposal.base`, with the decision state the
 * journal holds now; when the incumbent has already moved on, nothing is measured (settle carries
 * the candidate over).
 */
async function measure(home: LoadedExperiment, proposal: Proposal, options: ParallelOptions, slots: Slots) {
  const loaded = loadExperiment(home.path);
  const round = requireIterableRound(loaded, options.round);
  const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
  const replay = replayDecisionState(journal, loaded.experiment);
  const incumbent = resolveIncumbent(loaded.root, replay.incumbentLine?.commit ?? null, round.baseline.commit);
  if (incumbent !== proposal.base) return { ...proposal, outcome: null };
  const { worker } = proposal;
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
        evalSlot: slots.acquire,
      },
    },
    {
      key: { round: round.round, iteration: proposal.call, incumbent: proposal.base, candidateHashes: hashes },
      state: replay.state,
      seal: sealKey(loaded.root),
    },
  );
  return { ...proposal, outcome };
}

async function measureAgain(home: LoadedExperiment, proposal: Proposal, options: ParallelOptions, slots: Slots) {
  return await measure(home, proposal, options, slots);
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
  const extra = { ...proposal.extra, base_commit: short(proposal.base) };
  const record = (forced: { status: "crash" | "discard"; reason: string } | null, outcome?: Outcome) =>
    recordProposal(loaded, stateDir, proposal, { forced, outcome, extra }, options);
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
  const rebased = rebaseCandidate(loaded, proposal.worker, proposal.patch, incumbent);
  if (!rebased.applied) {
    const reason = `made on ${short(proposal.base)}, its change conflicts with the keeps since (the incumbent is now ${
      short(incumbent)
    }${rebased.why ? `; git: ${rebased.why}` : ""}); not measured again`;
    return { kind: "recorded", result: await record({ status: "discard", reason }) };
  }
  const round = requireIterableRound(loaded, options.round);
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
    },
  };
}

/**
 * Record through the ordinary step in the home tree. A measured candidate's bytes are put into
 * the home's constrained files first (noted in APPLYING_FILE, so a kill before the step records
 * it is undone by the next run); a forced outcome leaves the home's files as they are and
 * points at the worker's patch.
 */
async function recordProposal(
  loaded: LoadedExperiment,
  stateDir: string,
  proposal: Proposal,
  input: {
    forced: { status: "crash" | "discard"; reason: string } | null;
    outcome?: Outcome;
    extra: Record<string, unknown>;
  },
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
    extra.worker_patch = displayPath(file, loaded.root);
  }
  if (input.outcome) writeCandidate(loaded, stateDir, proposal.bytes);
  const result = await runStep(loaded, {
    description: proposal.description,
    round: round.round,
    status: SILENT,
    notes: options.notes,
    simplify: proposal.simplify,
    extra,
    ...(input.forced
      ? { forced: input.forced }
      : { measured: input.outcome, attribution: proposal.attribution ?? undefined }),
  });
  clearApplying(stateDir);
  return result;
}

/** The attribution of the worker's candidate against `base` (never rejects: a failure is null). */
function attributionAgainst(worker: Worker, base: string, files: string[]): Promise<Attribution | null> {
  const bytes = workerFiles(worker, files);
  const change = files.filter((file) => {
    const before = fileAtCommit(worker.loaded.root, base, file);
    const after = bytes.get(file) ?? null;
    return before === null || after === null ? before !== after : !before.equals(after);
  }).map((file) => ({ file, before: fileAtCommit(worker.loaded.root, base, file), after: bytes.get(file) ?? null }));
  return attributeCandidate(change, { nameFiles: files.length > 1 });
}

/** Put the candidate's bytes into the home's constrained files, noting them first. */
function writeCandidate(loaded: LoadedExperiment, stateDir: string, bytes: Map<string, Buffer | null>): void {
  const hashes: Record<string, string> = {};
  for (const [file, content] of bytes) {
    hashes[file] = content === null ? "deleted" : sha256OfText(content);
  }
  writeFileAtomic(join(stateDir, APPLYING_FILE), JSON.stringify({ head: headCommit(loaded.root), hashes }));
  for (const [file, content] of bytes) {
    const path = join(loaded.root, file);
    if (content === null) {
      if (existsSync(path)) unlinkSync(path);
    } else writeFileAtomic(path, content);
  }
}

function clearApplying(stateDir: string): void {
  const path = join(stateDir, APPLYING_FILE);
  if (existsSync(path)) unlinkSync(path);
}

/**
 * A kill between putting a candidate's bytes into the home's files and the step's record leaves
 * them there unrecorded: put back the incumbent's version of each file that still holds exactly
 * the bytes written (anything else is left alone), then forget the note.
 */
function undoUnrecordedApply(loaded: LoadedExperiment, stateDir: string, notes: (message: string) => void): void {
  const path = join(stateDir, APPLYING_FILE);
  if (!existsSync(path)) return;
  const noted = JSON.parse(readFileSync(path, "utf8")) as { head: string | null; hashes: Record<string, string> };
  const head = headCommit(loaded.root);
  const restored: string[] = [];
  for (const [file, hash] of Object.entries(noted.hashes)) {
    const absolute = join(loaded.root, file);
    if (sha256OrDeleted(absolute) !== hash || head === null) continue;
    const original = fileAtCommit(loaded.root, head, file);
    if (original === null) {
      if (existsSync(absolute)) unlinkSync(absolute);
    } else if (!readFileSync(absolute).equals(original)) writeFileAtomic(absolute, original);
    else continue;
    restored.push(file);
  }
  if (restored.length) {
    notes(
      `A parallel run was stopped before recording a candidate; put back the incumbent's ${
        restored.map((file) => `"${file}"`).join(", ")
      }.`,
    );
  }
  unlinkSync(path);
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
