// Loop mode: for each iteration write a compact state prompt, run the agent command
// with it (a fresh context every time, so nothing is lost to context windows), take
// its DESCRIPTION line or summarise the diff, and step. Stops on the budget, a
// plateau, a crash streak or the time limit; then asks for the final report. It prints
// nothing: each result goes to the entry's onResult, progress to its notes.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { runProcess } from "../process/evaluator.ts";
import { experimentStateDir, findRound, type LoadedExperiment, loadExperiment } from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import {
  commitSubjectsBetween,
  fileDiffersFromCommit,
  headCommit,
  isAncestor,
  pathsDifferFromCommit,
  workTreePatch,
} from "../git/git.ts";
import { archiveRef, putBranchBack, storeBlobs } from "./pending-step.ts";
import { assertJournalWritable, iterationResults, readJournal, type ResultLine } from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { withExperimentLock } from "../files/lock.ts";
import { createStatusLine, type StatusLine } from "../cli/status-line.ts";
import { requireFrozenFilesIntact } from "../integrity/measurement-guard.ts";
import { refreshDashboard, requireIterableRound, resolveIncumbent, runStep, type StepResult } from "./step.ts";
import {
  type AgentCall,
  clearAgentCall,
  descriptionFromLog,
  readAgentCall,
  undoAgentCall,
  writeAgentCall,
} from "./agent-call.ts";
import { replayDecisionState } from "../decision/state.ts";
import { requireExperimentBranch } from "../git/preconditions.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { compareWithSnapshot, readSnapshot, scopeIgnores, snapshotPath, takeSnapshot } from "../git/snapshot.ts";
import { summarizeJournal, type Summary } from "../experiment/summary.ts";

/** The state prompt stays small: a fresh agent reads it every iteration (bytes). */
export const PROMPT_LIMIT_BYTES = 2048;
const RECENT_RESULTS_SHOWN = 6;
const DEAD_ENDS_SHOWN = 8;

export type LoopOptions = {
  agent: string;
  iterations?: number;
  maxHours?: number;
  agentTimeoutS: number;
  report: boolean;
  round?: number;
  /** Each iteration's journal line as it is recorded: the entry prints it (stdout is data). */
  onResult: (line: ResultLine) => void;
  notes: (message: string) => void;
};

export type LoopOutcome = { exitCode: number; reason: string; lines: ResultLine[] };

export async function runLoop(initial: LoadedExperiment, options: LoopOptions): Promise<LoopOutcome> {
  const stateDir = experimentStateDir(initial);
  const startRound = requireIterableRound(initial, options.round);
  const startJournalPath = resolveIn(initial.root, startRound.artifacts.journal);
  assertJournalWritable(startJournalPath, displayPath(startJournalPath));
  return withExperimentLock({ stateDir, command: "iterate.ts --loop", notes: options.notes }, async () => {
    const status = createStatusLine();
    try {
      return await loopUntilStopped(initial, stateDir, startJournalPath, status, options);
    } finally {
      status.clear();
    }
  });
}

async function loopUntilStopped(
  initial: LoadedExperiment,
  stateDir: string,
  startJournalPath: string,
  status: StatusLine,
  options: LoopOptions,
): Promise<LoopOutcome> {
  const started = performance.now();
  const lines: ResultLine[] = [];
  // The run's length, fixed at the start so progress reads i/N with a steady N.
  const iterationsDone = iterationResults(readJournal(startJournalPath)).length;
  const planned = Math.max(
    0,
    Math.min(options.iterations ?? Infinity, initial.experiment.budget.iterations - iterationsDone),
  );
  let stop: { exitCode: number; reason: string } | null = null;
  while (!stop) {
    const loaded = loadExperiment(initial.path);
    const round = findRound(loaded.experiment, options.round);
    // Recovery first: a step an earlier run decided is finished before any agent is called.
    const recovery = await recoverInterruptedWork(loaded, stateDir, options.notes);
    if (recovery.finished) refreshDashboard(loaded, round);
    const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
    const summary = summarizeJournal(journal, { experiment: loaded.experiment, round: round.round });
    const iteration = Math.max(0, ...journal.results.map((line) => line.iteration)) + 1;
    const unfinished = await unfinishedAgentCall(loaded, round, stateDir, iteration, options.notes);
    stop = stopReason(
      loaded,
      iterationResults(journal),
      summary.plateau,
      lines.length,
      options,
      (performance.now() - started) / 3_600_000,
    );
    if (stop) break;

    const budgetLeft = planned;
    const progress = (phase: string) =>
      status.update(
        `iteration ${lines.length + 1}/${budgetLeft} · ${phase} · ${elapsedText(started)} elapsed${
          etaText(started, lines.length, budgetLeft)
        } · best ${summary.best.score ?? "n/a"} · last ${lines.slice(-3).map((line) => line.status).join(" ") || "—"}`,
      );
    let agent: AgentOutcome;
    if (unfinished) {
      options.notes(
        `Evaluating iteration ${unfinished.iteration}: an earlier run called the agent (${unfinished.started_at}) but stopped before recording the result.`,
      );
      agent = { call: unfinished, description: descriptionFromLog(unfinished.log), failed: null, extra: {} };
    } else {
      await requireNothingChangedBetweenSteps(loaded, round.round, stateDir, options.notes);
      progress("agent working");
      agent = await callAgent(loaded, round, { stateDir, iteration, summary, options });
      status.clear();
    }
    await keepBranchOnTrack(loaded, round, stateDir, agent.call, options.notes);
    progress("evaluating");
    const result = await stepAgentChange(loaded, round, agent, { status, notes: options.notes });
    clearAgentCall(stateDir);
    lines.push(result.line);
    options.onResult(result.line);
    if (!status.active) {
      options.notes(
        `[${lines.length}/${budgetLeft}] ${result.line.status} (${elapsedText(started)} elapsed${
          etaText(started, lines.length, budgetLeft)
        })`,
      );
    }
  }
  options.notes(`Loop stopped: ${stop.reason}`);
  if (options.report && lines.length > 0) await writeFinalReport(initial.path, options, stop.reason);
  return { ...stop, lines };
}

/** One loop iteration's line for stdout: number, status, score, delta, description, and why it was not kept. */
export function loopResultLine(line: ResultLine): string {
  const reason = line.reason && line.status !== "keep" ? ` — ${line.reason}` : "";
  return `#${line.iteration} ${line.status} ${line.score ?? "—"} ${line.delta ?? ""} ${
    line.description.split("\n")[0]
  }${reason}`;
}

/**
 * The agent call an earlier run started and did not record, if it is this iteration's and
 * changed something; one already in the journal, or killed before it changed anything
 * (nothing to judge: the agent is simply called again), is cleared.
 */
async function unfinishedAgentCall(
  loaded: LoadedExperiment,
  round: Round,
  stateDir: string,
  iteration: number,
  notes: (message: string) => void,
): Promise<AgentCall | null> {
  const call = readAgentCall(stateDir);
  if (!call) return null;
  if (call.round !== round.round || call.iteration < iteration) {
    clearAgentCall(stateDir); // its iteration is already in the journal
    return null;
  }
  if (await changedNothingSince(loaded, round, call)) {
    notes(
      `The agent call for iteration ${call.iteration} was interrupted before it changed the file; calling the agent again.`,
    );
    clearAgentCall(stateDir);
    return null;
  }
  return call;
}

/** What one agent call left to evaluate: its record, its DESCRIPTION line, why it failed (if it did), extra journal fields. */
type AgentOutcome = {
  call: AgentCall;
  description: string | null;
  failed: string | null;
  extra: Record<string, unknown>;
};

/** Write the state prompt, record the call (so a kill is finished by the next run), and run the agent with it. */
async function callAgent(
  loaded: LoadedExperiment,
  round: Round,
  context: { stateDir: string; iteration: number; summary: Summary; options: LoopOptions },
): Promise<AgentOutcome> {
  const { stateDir, iteration, options } = context;
  const prompt = buildStatePrompt(loaded, round.round, iteration, context.summary);
  const promptFile = join(stateDir, "prompts", `round${round.round}-iteration${iteration}.md`);
  mkdirSync(join(stateDir, "prompts"), { recursive: true });
  writeFileSync(promptFile, prompt);
  const ignore = scopeIgnores(loaded, round);
  const call: AgentCall = {
    round: round.round,
    iteration,
    head: headCommit(loaded.root)!,
    snapshot: await takeSnapshot(loaded.root, ignore),
    experiment_text: readFileSync(loaded.path, "utf8"),
    log: join(stateDir, "logs", `round${round.round}`, `iteration${iteration}-agent.log`),
    started_at: new Date().toISOString(),
  };
  writeAgentCall(stateDir, call);
  let description: string | null = null;
  const agentRun = await runProcess(options.agent, {
    kind: "agent",
    cwd: loaded.root,
    timeoutS: options.agentTimeoutS,
    logPath: call.log,
    input: prompt,
    env: agentEnvironment(loaded, promptFile, iteration, "iterate"),
    onLine: (line) => {
      const match = /^\s*DESCRIPTION:\s*(.+)$/.exec(line);
      if (match) description = match[1].trim();
    },
  });
  if (agentRun.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
  const failed = agentRun.timedOut
    ? `the agent timed out after ${options.agentTimeoutS} s`
    : agentRun.exitCode !== 0
    ? `the agent command exited with code ${agentRun.exitCode ?? agentRun.signal}`
    : null;
  return {
    call,
    description,
    failed: failed ? `${failed} (log: ${displayPath(call.log)})` : null,
    extra: { agent_seconds: Math.round(agentRun.durationMs) / 1000, prompt: relative(loaded.root, promptFile) },
  };
}

/** Evaluate what the agent changed with one step; a failed call is a crash, an unchanged file a discard. */
async function stepAgentChange(
  loaded: LoadedExperiment,
  round: Round,
  agent: AgentOutcome,
  context: { status: StatusLine; notes: (message: string) => void },
): Promise<StepResult> {
  const { call } = agent;
  // Against HEAD before the call: an agent that committed its edit still changed the file.
  const diff = workTreePatch(loaded.root, call.head, round.constrained_files);
  const forced = agent.failed
    ? { status: "crash" as const, reason: agent.failed }
    : diff.trim() === ""
    ? { status: "discard" as const, reason: "the agent changed nothing in the constrained file" }
    : undefined;
  return await runStep(loaded, {
    description: agent.description ?? describeDiff(diff) ?? "(no description)",
    round: round.round,
    status: context.status,
    notes: context.notes,
    forced,
    extra: agent.extra,
    agentScope: { snapshot: call.snapshot, head: call.head, experimentText: call.experiment_text },
  });
}

/**
 * An agent that switched branches or detached HEAD stops the loop here, before anything is
 * committed; one that moved the branch off its start (amend, reset, rebase) has it put back.
 */
async function keepBranchOnTrack(
  loaded: LoadedExperiment,
  round: Round,
  stateDir: string,
  call: AgentCall,
  notes: (message: string) => void,
): Promise<void> {
  await requireExperimentBranch(loaded.root, loaded.experiment);
  const agentHead = headCommit(loaded.root)!;
  if (agentHead === call.head || isAncestor(loaded.root, call.head, agentHead)) return;
  const archive = archiveRef(round.round, call.iteration);
  await putBranchBack(loaded.root, stateDir, { to: call.head, from: agentHead, archive });
  notes(
    `The agent moved the branch off ${
      call.head.slice(0, 7)
    } (an amend, reset or rebase); it was put back, and where the agent left it is kept under ${archive}.`,
  );
}

/** True when the work tree, the constrained files and HEAD are all as they were before the call. */
async function changedNothingSince(loaded: LoadedExperiment, round: Round, call: AgentCall): Promise<boolean> {
  const { root } = loaded;
  if (headCommit(root) !== call.head) return false;
  if (pathsDifferFromCommit(root, call.head, round.constrained_files)) return false;
  const scope = await compareWithSnapshot(root, call.snapshot, scopeIgnores(loaded, round));
  return scope.changed.length === 0 && scope.newUntracked.length === 0;
}

/**
 * Between two agent calls only the harness and the user touch the work tree. A user's
 * commit, or edit of the constrained or frozen files, is not the agent's and cannot be
 * judged or reverted as such: stop and say how to go on. Other edits are left alone.
 */
async function requireNothingChangedBetweenSteps(
  loaded: LoadedExperiment,
  roundNumber: number,
  stateDir: string,
  notes: (message: string) => void,
): Promise<void> {
  const { root, experiment } = loaded;
  const round = requireIterableRound(loaded, roundNumber);
  requireFrozenFilesIntact(loaded, round);
  const journal = readJournal(resolveIn(root, round.artifacts.journal));
  const incumbent = await resolveIncumbent(
    root,
    replayDecisionState(journal, experiment).incumbentLine?.commit ?? null,
    round.baseline.commit,
  );
  const head = headCommit(root)!;
  if (head !== incumbent) {
    const subjects = commitSubjectsBetween(root, incumbent, head);
    throw new CliError(
      `HEAD moved past the incumbent ${incumbent.slice(0, 7)} outside an agent call (${
        subjects.length ? subjects.slice(0, 2).join("; ") : `now at ${head.slice(0, 7)}`
      }); the loop does not rewrite commits it did not see the agent make. To build on them, re-baseline: ${
        kitCommand("baseline")
      } --force; or move them off this branch, then restart the loop.`,
      "E_FOREIGN_COMMITS",
      EXIT.FAILED,
    );
  }
  for (const file of round.constrained_files) {
    if (await fileDiffersFromCommit(root, incumbent, file)) {
      throw new CliError(
        `"${file}" differs from the incumbent ${
          incumbent.slice(0, 7)
        } before the agent was called, so the change is not the agent's. Evaluate it yourself (${
          kitCommand("iterate")
        } -m "what changed"), or put it back (git checkout -- "${file}"), then restart the loop.`,
        "E_NOT_AGENTS_CHANGE",
        EXIT.FAILED,
      );
    }
  }
  const previous = readSnapshot(snapshotPath(stateDir, round.round));
  if (!previous) return;
  const scope = await compareWithSnapshot(root, previous, scopeIgnores(loaded, round));
  if (scope.changed.length) {
    notes(
      `note: ${scope.changed.slice(0, 3).join(", ")}${
        scope.changed.length > 3 ? ", …" : ""
      } changed since the last iteration, outside an agent call: left alone and kept out of the candidate.`,
    );
  }
}

function stopReason(
  loaded: LoadedExperiment,
  results: ResultLine[],
  plateau: Summary["plateau"],
  ranNow: number,
  options: LoopOptions,
  hours: number,
): { exitCode: number; reason: string } | null {
  const budget = loaded.experiment.budget;
  if (results.length >= budget.iterations) {
    return { exitCode: EXIT.BUDGET_EXHAUSTED, reason: `the budget of ${budget.iterations} iterations is spent` };
  }
  const maxHours = options.maxHours ?? budget.max_hours;
  if (maxHours !== null && maxHours !== undefined && hours >= maxHours) {
    return { exitCode: EXIT.BUDGET_EXHAUSTED, reason: `the time budget of ${maxHours} h is spent` };
  }
  const trailing = (predicate: (line: ResultLine) => boolean) => {
    let count = 0;
    for (let index = results.length - 1; index >= 0 && predicate(results[index]); index--) count++;
    return count;
  };
  const crashes = trailing((line) => line.status === "crash");
  if (crashes >= budget.crash_streak) {
    return {
      exitCode: EXIT.CRASH_STREAK,
      reason: `${crashes} crashes in a row; read the last logs in .autoresearch/logs/`,
    };
  }
  // The summary's plateau: the dashboard and the agent's prompt count the same iterations against budget.plateau.
  if (plateau.reached) {
    return {
      exitCode: EXIT.PLATEAU,
      reason:
        `plateau: ${plateau.sinceLastKeep} iterations without a keep (budget.plateau: ${plateau.threshold}; the seed: an architectural ceiling is likely); consider ${
          kitCommand("next-round")
        }`,
    };
  }
  if (options.iterations !== undefined && ranNow >= options.iterations) {
    return { exitCode: EXIT.OK, reason: `ran the ${options.iterations} iterations asked for` };
  }
  return null;
}

function agentEnvironment(
  loaded: LoadedExperiment,
  promptFile: string,
  iteration: number,
  task: "iterate" | "report",
): Record<string, string> {
  return {
    AUTORESEARCH_PROMPT_FILE: promptFile,
    AUTORESEARCH_ITERATION: String(iteration),
    AUTORESEARCH_EXPERIMENT: loaded.path,
    AUTORESEARCH_TASK: task,
  };
}

function elapsedText(started: number): string {
  const seconds = Math.round((performance.now() - started) / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, "0")}s`;
}

function etaText(started: number, done: number, total: number): string {
  if (done === 0 || total <= done) return "";
  const perIteration = (performance.now() - started) / done;
  const minutes = (perIteration * (total - done)) / 60_000;
  return `, ~${minutes < 1 ? "<1" : Math.round(minutes)}m left`;
}

/** The compact state a fresh agent gets each iteration (≤ 2 KB). */
export function buildStatePrompt(loaded: LoadedExperiment, round: number, iteration: number, summary: Summary): string {
  const { experiment } = loaded;
  const roundRecord = findRound(experiment, round);
  const files = roundRecord.constrained_files.map((file) => `\`${file}\``).join(", ");
  const goal = experiment.metric.direction === "max" ? "raise" : "lower";
  const parts: string[] = [
    `# Autoresearch iteration ${iteration} (round ${round})`,
    `Goal: ${goal} ${
      experiment.metric.formula ?? experiment.metric.name
    } by editing only ${files}. Rules, levers and strategy: \`${roundRecord.artifacts.instructions}\`.`,
    `Do not edit other files, do not commit, do not run the eval: the harness measures, decides and commits.`,
    `Best: ${summary.best.score ?? "n/a"} (baseline ${summary.start ?? "n/a"})${
      summary.noise.sd !== null ? `, noise sd ${summary.noise.sd}` : ""
    }${
      experiment.guard ? `; guard ${experiment.guard.metric} ${experiment.guard.op} ${experiment.guard.threshold}` : ""
    }.`,
    `Since the last keep: ${summary.plateau.sinceLastKeep} of ${summary.plateau.threshold} iterations; after ${summary.plateau.threshold} without a keep the loop stops (the ceiling is then likely architectural).`,
  ];
  const fixedLines = parts.length;
  const recent = summary.rows.slice(-RECENT_RESULTS_SHOWN);
  if (recent.length) {
    parts.push(
      "Recent:",
      ...recent.map((row) =>
        `- #${row.iteration} ${row.status} ${row.delta ?? ""} ${row.description.split("\n")[0].slice(0, 80)}`
      ),
    );
  }
  const deadEnds = summary.deadEnds.slice(0, DEAD_ENDS_SHOWN);
  if (deadEnds.length) {
    parts.push(
      "Dead ends, do not retry:",
      ...deadEnds.map((group) =>
        `- ${group.descriptions[0].split("\n")[0].slice(0, 80)}${group.count > 1 ? ` (${group.count}×)` : ""}`
      ),
    );
  }
  parts.push("Make one focused change, then print one line: DESCRIPTION: <what you changed>");
  let prompt = parts.join("\n") + "\n";
  while (Buffer.byteLength(prompt) > PROMPT_LIMIT_BYTES && parts.length > fixedLines + 1) {
    parts.splice(fixedLines, 1); // drop the oldest detail line first
    prompt = parts.join("\n") + "\n";
  }
  return prompt;
}

/** A one-line description from a zero-context diff: the first changed line, before -> after. */
export function describeDiff(diff: string): string | null {
  const removed = diff.split("\n").filter((line) => line.startsWith("-") && !line.startsWith("---"));
  const added = diff.split("\n").filter((line) => line.startsWith("+") && !line.startsWith("+++"));
  if (removed.length === 0 && added.length === 0) return null;
  const clean = (line: string | undefined) => (line ?? "").slice(1).trim().slice(0, 70);
  const more = Math.max(removed.length, added.length) - 1;
  const first = removed.length && added.length
    ? `${clean(removed[0])} -> ${clean(added[0])}`
    : removed.length
    ? `removed ${clean(removed[0])}`
    : `added ${clean(added[0])}`;
  return `${first}${more > 0 ? ` (+${more} more line${more > 1 ? "s" : ""})` : ""}`;
}

/**
 * Ask the agent for the seed's final report; draft it from the journal when there is
 * no agent or it cannot. Returns the report's path.
 */
export async function writeFinalReport(
  experimentPath: string,
  options: Pick<LoopOptions, "round" | "notes" | "agentTimeoutS"> & { agent: string | null },
  stopReason: string,
): Promise<string> {
  const loaded = loadExperiment(experimentPath);
  const stateDir = experimentStateDir(loaded);
  // Re-entrant inside the loop; on its own (--final-report) the report waits for a decided step.
  return withExperimentLock({ stateDir, command: "iterate.ts --final-report", notes: options.notes }, async () => {
    await recoverInterruptedWork(loaded, stateDir, options.notes, { requireBranch: false });
    return await draftOrAskReport(loaded, options, stopReason);
  });
}

async function draftOrAskReport(
  loaded: LoadedExperiment,
  options: Pick<LoopOptions, "round" | "notes" | "agentTimeoutS"> & { agent: string | null },
  stopReason: string,
): Promise<string> {
  const round = findRound(loaded.experiment, options.round);
  const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
  const summary = summarizeJournal(journal, { experiment: loaded.experiment, round: round.round });
  const reportPath = resolveIn(loaded.root, round.artifacts.report);
  const fromAgent = options.agent
    ? await askAgentForReport(loaded, round, { ...options, agent: options.agent }, stopReason)
    : null;
  const report = fromAgent ?? draftReport(summary, stopReason);
  writeFileAtomic(reportPath, report.endsWith("\n") ? report : `${report}\n`);
  options.notes(
    `Final report ${fromAgent ? "from the agent" : "drafted from the journal"}: ${displayPath(reportPath)}`,
  );
  refreshDashboard(loaded, round);
  return reportPath;
}

/**
 * The agent's report, read from its stdout; null when it failed or wrote next to nothing. The
 * report is text only: whatever the call changes in the repository is put back.
 */
async function askAgentForReport(
  loaded: LoadedExperiment,
  round: Round,
  options: Pick<LoopOptions, "notes" | "agentTimeoutS"> & { agent: string },
  stopReason: string,
): Promise<string | null> {
  const stateDir = experimentStateDir(loaded);
  const prompt = [
    `# Final report, round ${round.round}`,
    `The loop stopped: ${stopReason}. Read \`${round.artifacts.journal}\` and \`${round.artifacts.dashboard}\`.`,
    "Write the final report in Markdown on stdout: start and final score, the top 3 changes, what did not work,",
    "where it plateaued and why, and recommended changes upstream of the constrained file. Do not edit any file.",
  ].join("\n") + "\n";
  const promptFile = join(stateDir, "prompts", `round${round.round}-report.md`);
  mkdirSync(join(stateDir, "prompts"), { recursive: true });
  writeFileSync(promptFile, prompt);
  const ignore = scopeIgnores(loaded, round);
  const before = {
    call: {
      round: round.round,
      iteration: 0,
      head: headCommit(loaded.root)!,
      snapshot: await takeSnapshot(loaded.root, ignore),
      experiment_text: readFileSync(loaded.path, "utf8"),
      log: "",
      started_at: new Date().toISOString(),
    },
    constrained: await storeBlobs(loaded.root, round.constrained_files),
    experimentPath: loaded.path,
    ignore,
  };
  let body = "";
  const run = await runProcess(options.agent, {
    kind: "agent",
    cwd: loaded.root,
    timeoutS: options.agentTimeoutS,
    input: prompt,
    logPath: join(stateDir, "logs", `round${round.round}`, "report-agent.log"),
    env: agentEnvironment(loaded, promptFile, 0, "report"),
    onLine: (line) => {
      body += `${line}\n`;
    },
  });
  const undone = await undoAgentCall(loaded.root, stateDir, before);
  if (undone.length) {
    options.notes(
      `The report agent changed ${undone.slice(0, 5).join(", ")}${
        undone.length > 5 ? ", …" : ""
      }; put back (the report is text only; files it created are in .autoresearch/agent-files/).`,
    );
  }
  return run.exitCode === 0 && body.trim().length >= 40 ? body : null;
}

/** The seed's report sections, filled from the journal alone. */
export function draftReport(summary: Summary, stopReason: string): string {
  const lines = [
    `## Round ${summary.round ?? 1} report (drafted from the journal)`,
    "",
    `- Start: ${summary.start ?? "n/a"}; final: ${summary.best.score ?? "n/a"}${
      summary.improvement.text ? ` (${summary.improvement.text})` : ""
    }.`,
    `- Iterations: ${summary.iterations.done}; kept ${summary.counts.keep}, discarded ${summary.counts.discard}, crashed ${summary.counts.crash}, guard failures ${summary.counts.guard_fail}.`,
    `- Stopped: ${stopReason}.`,
    "",
    "### Top changes",
    ...(summary.topChanges.length
      ? summary.topChanges.slice(0, 3).map((change) =>
        `- #${change.iteration} ${change.description.split("\n")[0]} (gain ${change.gain ?? "n/a"}${
          change.commit ? `, ${change.commit}` : ""
        })`
      )
      : ["- none kept"]),
    "",
    "### What did not work",
    ...(summary.deadEnds.length
      ? summary.deadEnds.slice(0, 8).map((group) =>
        `- ${group.descriptions[0].split("\n")[0]}${group.count > 1 ? ` (${group.count} tries)` : ""}`
      )
      : ["- nothing discarded"]),
    "",
    "### Plateau",
    summary.plateau.reached
      ? `- No keep in the last ${summary.plateau.sinceLastKeep} iterations: the ceiling is likely architectural, not parametric.`
      : `- ${summary.plateau.sinceLastKeep} iterations since the last keep; no plateau yet.`,
    "",
    "### Recommended changes upstream",
    ...(summary.crashes.length ? [`- ${summary.crashes.length} crash(es); first: ${summary.crashes[0].reason}`] : []),
    "- The journal alone cannot say; a person (or the agent) should add what lies outside the constrained file.",
  ];
  return lines.join("\n") + "\n";
}
