// Loop mode: for each iteration call the agent with a compact state prompt (a fresh
// context every time, so nothing is lost to context windows), take its DESCRIPTION line or
// summarise the diff, and step. Stops on the budget, a plateau, a crash streak, the time
// or cost limit or the batch's --iterations; asks for the final report only when the round ends
// (budget, plateau, budget.max_hours or max_cost_usd) or --final-report says so, and defers it otherwise. The prompt, the agent call, the checks around it and
// the report live in their own modules. It prints nothing: results go to onResult, progress to notes.
import { experimentStateDir, findRound, type LoadedExperiment, loadExperiment } from "../experiment/experiment-file.ts";
import type { Experiment, Round } from "../experiment/schema.ts";
import { EXIT } from "../cli/errors.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { workTreePatch } from "../git/git.ts";
import { assertJournalWritable, iterationResults, readJournal, type ResultLine } from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { shellQuote } from "../text/shell-quote.ts";
import { withExperimentLock } from "../files/lock.ts";
import { createStatusLine, type StatusLine } from "../cli/status-line.ts";
import { requireIterableRound, runStep } from "./step.ts";
import type { StepResult } from "./step-context.ts";
import { refreshDashboard } from "./dashboard-refresh.ts";
import { clearAgentCall, descriptionFromLog, simplifyRequestedInLog } from "./agent-call.ts";
import { type AgentOutcome, callAgent, describeDiff } from "./agent-command.ts";
import { keepBranchOnTrack, requireNothingChangedBetweenSteps, unfinishedAgentCall } from "./agent-call-guards.ts";
import { writeFinalReport } from "./final-report.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { summarizeJournal, type Summary } from "../experiment/summary.ts";
import { formatScore } from "../text/number-format.ts";
import { sizeChangeText } from "./file-size.ts";
import { costFields, readAgentReport } from "./agent-cost.ts";
import { agentOutputInLog } from "./agent-retry.ts";

export type LoopOptions = {
  agent: string;
  iterations?: number;
  maxHours?: number;
  agentTimeoutS: number;
  /** Ask for the final report when the loop ends the round (--no-report: never). */
  report: boolean;
  /** --final-report with --loop: write the final report when this batch ends, round over or not. */
  finalReport?: boolean;
  /** --plateau: non-keeps in a row that stop this run, instead of budget.plateau. */
  plateau?: number;
  round?: number;
  /** Each iteration's journal line as it is recorded: the entry prints it (stdout is data). */
  onResult: (line: ResultLine) => void;
  notes: (message: string) => void;
};

export type LoopOutcome = { exitCode: number; reason: string; lines: ResultLine[] };

/** Why the loop stopped; `endsRound` when the round's own budget, plateau or time limit did it. */
export type Stop = { exitCode: number; reason: string; endsRound: boolean };

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
  let stop: Stop | null = null;
  while (!stop) {
    const loaded = loadExperiment(initial.path);
    const round = findRound(loaded.experiment, options.round);
    // Recovery first: a step an earlier run decided is finished before any agent is called.
    const recovery = await recoverInterruptedWork(loaded, stateDir, options.notes);
    if (recovery.finished) refreshDashboard(loaded, round);
    const journal = readJournal(resolveIn(loaded.root, round.artifacts.journal));
    // With --plateau the summary counts against it, so the agent's prompt and the stop agree.
    const summary = summarizeJournal(journal, {
      experiment: withPlateau(loaded.experiment, options.plateau),
      round: round.round,
    });
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
      // What it cost, if it got as far as reporting it: its log holds the output.
      const cost = readAgentReport(agentOutputInLog(unfinished.log, options.agent)).cost;
      agent = {
        call: unfinished,
        description: descriptionFromLog(unfinished.log),
        failed: null,
        extra: costFields(cost),
      };
    } else {
      await requireNothingChangedBetweenSteps(loaded, round.round, stateDir, options.notes);
      progress("agent working");
      agent = await callAgent(loaded, round, { stateDir, iteration, summary, options, notes: options.notes });
      status.clear();
    }
    await keepBranchOnTrack(loaded, round, stateDir, agent.call, options.notes);
    progress("evaluating");
    const result = await stepAgentChange(loaded, round, agent, { status, notes: options.notes });
    clearAgentCall(stateDir);
    lines.push(result.line);
    options.onResult(result.line);
    if (lines.length === 1) {
      const unpriced = unpricedBudgetNote(loaded.experiment, result.line);
      if (unpriced) options.notes(unpriced);
    }
    if (!status.active) {
      options.notes(
        `[${lines.length}/${budgetLeft}] ${result.line.status} (${elapsedText(started)} elapsed${
          etaText(started, lines.length, budgetLeft)
        })`,
      );
    }
  }
  return await loopEnding(initial, stop, lines, options);
}

/** Say why the loop stopped, write the final report when the round ended (or --final-report), and return the outcome. */
export async function loopEnding(
  initial: LoadedExperiment,
  stop: Stop,
  lines: ResultLine[],
  options: LoopOptions,
): Promise<LoopOutcome> {
  options.notes(`Loop stopped: ${stop.reason}`);
  if (options.finalReport || (options.report && stop.endsRound && lines.length > 0)) {
    await writeFinalReport(initial.path, options, stop.reason);
  } else if (options.report && lines.length > 0) {
    options.notes(deferredReportNote(initial, stop, options.round));
  }
  return { exitCode: stop.exitCode, reason: stop.reason, lines };
}

/** The experiment as this run sees it: --plateau replaces budget.plateau. */
export function withPlateau(experiment: Experiment, plateau: number | undefined): Experiment {
  return plateau === undefined ? experiment : { ...experiment, budget: { ...experiment.budget, plateau } };
}

/** A batch that did not end the round leaves the final report for the round's end. */
function deferredReportNote(initial: LoadedExperiment, stop: Stop, roundNumber: number | undefined): string {
  const loaded = loadExperiment(initial.path);
  const round = findRound(loaded.experiment, roundNumber);
  const done = iterationResults(readJournal(resolveIn(loaded.root, round.artifacts.journal))).length;
  const left = Math.max(0, loaded.experiment.budget.iterations - done);
  return `Final report deferred: the round goes on (${left} of ${loaded.experiment.budget.iterations} iterations left${
    stop.exitCode === EXIT.CRASH_STREAK ? "; fix the crashes first" : ""
  }). It is written when the round ends (its budget, plateau or time limit), or now: ${
    kitCommand("iterate")
  } --final-report`;
}

/** One loop iteration's line for stdout: number, status, score, delta, description, size change, and why it was not kept. */
export function loopResultLine(line: ResultLine): string {
  const reason = line.reason && line.status !== "keep" ? ` — ${line.reason}` : "";
  const judged = line.verdict?.rule === "simplification" ? "kept as a simplification" : "simplification asked";
  const size = line.simplification ? ` (${sizeChangeText(line.simplification)}; ${judged})` : "";
  return `#${line.iteration} ${line.status} ${formatScore(line.score)} ${line.delta ?? ""} ${
    line.description.split("\n")[0]
  }${size}${reason}`;
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
    simplify: simplifyRequestedInLog(call.log), // the agent's SIMPLIFY: line
    extra: agent.extra,
    agentScope: { snapshot: call.snapshot, head: call.head, experimentText: call.experiment_text },
  });
}

export function stopReason(
  loaded: LoadedExperiment,
  results: ResultLine[],
  plateau: Summary["plateau"],
  ranNow: number,
  options: LoopOptions,
  hours: number,
): Stop | null {
  const budget = loaded.experiment.budget;
  if (results.length >= budget.iterations) {
    return {
      exitCode: EXIT.BUDGET_EXHAUSTED,
      reason: `the budget of ${budget.iterations} iterations is spent`,
      endsRound: true,
    };
  }
  // --max-hours bounds this batch; budget.max_hours is the round's own limit.
  const maxHours = options.maxHours ?? budget.max_hours;
  if (maxHours !== null && maxHours !== undefined && hours >= maxHours) {
    return {
      exitCode: EXIT.TIME_BUDGET,
      reason: `the time budget of ${maxHours} h is spent${
        options.maxHours !== undefined ? " (--max-hours)" : ""
      }: ran ${hoursText(hours)}${spentText(results)}`,
      endsRound: options.maxHours === undefined,
    };
  }
  // The round's spend, over every line of its journal (earlier batches too): checked before each agent call.
  const maxCost = budget.max_cost_usd;
  const spent = costOf(results).usd;
  if (maxCost !== null && maxCost !== undefined && spent >= maxCost) {
    return {
      exitCode: EXIT.COST_BUDGET,
      reason: `the cost budget of $${maxCost} (budget.max_cost_usd) is spent: $${
        spent.toFixed(4)
      } over ${results.length} iteration${results.length === 1 ? "" : "s"}${spentText(results)}`,
      endsRound: true,
    };
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
      endsRound: false,
    };
  }
  // The summary's plateau: the dashboard and the agent's prompt count the same iterations against budget.plateau.
  if (plateau.reached) {
    return {
      exitCode: EXIT.PLATEAU,
      reason: plateauReason(results, plateau, ranNow, options),
      endsRound: true,
    };
  }
  if (options.iterations !== undefined && ranNow >= options.iterations) {
    return { exitCode: EXIT.OK, reason: `ran the ${options.iterations} iterations asked for`, endsRound: false };
  }
  return null;
}

/**
 * The plateau explained: which iterations count, how many of them were recorded before this run
 * (hand-made `iterate -m` steps or an earlier batch count too), and, when the loop stops before
 * calling the agent at all, how to go on.
 */
export function plateauReason(
  results: ResultLine[],
  plateau: Summary["plateau"],
  ranNow: number,
  options: Pick<LoopOptions, "agent" | "plateau">,
): string {
  const count = plateau.sinceLastKeep;
  const counted = results.slice(results.length - count);
  const span = counted.length === 0
    ? ""
    : counted.length === 1
    ? `#${counted[0].iteration}`
    : `#${counted[0].iteration}-#${counted[counted.length - 1].iteration}`;
  const inRun = Math.min(count, ranNow);
  const before = count - inRun;
  const since = plateau.lastKeepIteration === null ? "the baseline" : `keep #${plateau.lastKeepIteration}`;
  const limit = options.plateau !== undefined
    ? `--plateau ${plateau.threshold}`
    : `budget.plateau ${plateau.threshold}`;
  const origin = before === 0
    ? "all in this run"
    : inRun === 0
    ? "all recorded before this run"
    : `${before} recorded before this run, ${inRun} in it`;
  const head = `plateau: ${count} iteration${
    count === 1 ? "" : "s"
  } without a keep since ${since} (${span}; ${origin}), ${limit}`;
  const nextRound = kitCommand("next-round");
  if (ranNow > 0) return `${head}; an architectural ceiling is likely: consider ${nextRound}`;
  const more = `${kitCommand("iterate")} --loop --agent ${shellQuote(options.agent)} --plateau ${
    count + plateau.threshold
  }`;
  return `${head}. The loop stopped before calling the agent: earlier steps already made the plateau. ` +
    `To go on: ${more} (allows ${plateau.threshold} more non-keeps this run), or raise budget.plateau in the experiment file, or start the next round: ${nextRound}`;
}

/** The agent's reported spend over these lines: dollars (0 when none reported) and tokens. */
/**
 * A cost budget the agent's lines cannot be held to: said once, after a run's first line, when
 * budget.max_cost_usd is set and that line's agent call reported no dollars (a plain agent, Codex).
 */
export function unpricedBudgetNote(experiment: Experiment, line: ResultLine): string | null {
  const maxCost = experiment.budget.max_cost_usd;
  if (maxCost === null || maxCost === undefined || (line as { cost_usd?: unknown }).cost_usd !== undefined) return null;
  return `warning: budget.max_cost_usd ($${maxCost}) cannot stop this loop: the agent reported no cost for #${line.iteration}. Have it print its cost (Claude Code: --output-format json; any agent: a line "COST: usd=0.12"), or use budget.max_hours.`;
}

function costOf(results: ResultLine[]): { usd: number; tokens: number } {
  let usd = 0;
  let tokens = 0;
  for (const line of results) {
    usd += line.cost_usd ?? 0;
    tokens += (line.tokens_in ?? 0) + (line.tokens_out ?? 0);
  }
  return { usd, tokens };
}

/** "; agent 1.2 h, eval 0.4 h, 1,234,000 tokens" for a stop line: what the round's lines spent. */
function spentText(results: ResultLine[]): string {
  const sum = (key: "agent_seconds" | "eval_seconds") => results.reduce((total, line) => total + (line[key] ?? 0), 0);
  const parts = [`agent ${hoursText(sum("agent_seconds") / 3600)}`, `eval ${hoursText(sum("eval_seconds") / 3600)}`];
  const { tokens } = costOf(results);
  if (tokens > 0) parts.push(`${tokens.toLocaleString("en-US")} tokens`);
  return ` (round so far: ${parts.join(", ")})`;
}

function hoursText(hours: number): string {
  if (hours >= 1) return `${hours.toFixed(2)} h`;
  return hours * 60 >= 1 ? `${Math.round(hours * 60)} min` : `${Math.round(hours * 3600)} s`;
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
