// The round's final report in loop mode (or on its own with --final-report): ask the agent
// for the seed's report on stdout, or draft it from the journal when there is no agent or its
// answer is unusable; write it and refresh the dashboard. A report already written (an earlier
// --final-report, or a round that ended before and went on) is never overwritten: the new one is
// appended below it. The report is text only: whatever the report agent changes in the
// repository is put back. When to ask for it is the loop's decision (loop.ts).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "../process/evaluator.ts";
import { readAgentReport } from "./agent-cost.ts";
import { experimentStateDir, findRound, type LoadedExperiment, loadExperiment } from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import { displayPath, readOptional, resolveIn } from "../files/paths.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { headCommit } from "../git/git.ts";
import { storeBlobs } from "./pending-step.ts";
import { readJournal } from "../experiment/journal.ts";
import { formatScore } from "../text/number-format.ts";
import { withExperimentLock } from "../files/lock.ts";
import { refreshDashboard } from "./dashboard-refresh.ts";
import { undoAgentCall } from "./agent-call.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { scopeIgnores, takeSnapshot } from "../git/snapshot.ts";
import { summarizeJournal, type Summary } from "../experiment/summary.ts";
import { agentEnvironment } from "./agent-command.ts";
import { dashboardLessons, gainText, numberStyles, singleLine } from "../dashboard/prose.ts";

/** Who writes the report (null: drafted from the journal), for which round, with the loop's agent time limit. */
type ReportOptions = {
  agent: string | null;
  round?: number;
  agentTimeoutS: number;
  notes: (message: string) => void;
};

/**
 * Ask the agent for the seed's final report; draft it from the journal when there is
 * no agent or it cannot. Returns the report's path.
 */
export async function writeFinalReport(
  experimentPath: string,
  options: ReportOptions,
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
  options: ReportOptions,
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
  const earlier = readOptional(reportPath);
  const appended = earlier !== null && earlier.trim() !== "";
  writeFileAtomic(
    reportPath,
    appended ? appendReport(earlier, report, summary.iterations.done, stopReason) : withNewline(report),
  );
  options.notes(
    `Final report ${fromAgent ? "from the agent" : "drafted from the journal"}: ${displayPath(reportPath)}${
      appended ? " (appended; the earlier report above it is kept)" : ""
    }`,
  );
  refreshDashboard(loaded, round);
  return reportPath;
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** An earlier report, then a rule and the new one, saying when it was written and why. */
export function appendReport(earlier: string, report: string, iterationsDone: number, stopReason: string): string {
  return `${earlier.trimEnd()}\n\n---\n\n_Report after iteration ${iterationsDone} (${singleLine(stopReason)}):_\n\n${
    withNewline(report.trimStart())
  }`;
}

/**
 * The agent's report, read from its stdout; null when it failed or wrote next to nothing. The
 * report is text only: whatever the call changes in the repository is put back.
 */
async function askAgentForReport(
  loaded: LoadedExperiment,
  round: Round,
  options: Pick<ReportOptions, "notes" | "agentTimeoutS"> & { agent: string },
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
  // An agent that answers in JSON (Claude Code's --output-format json, Codex's --json) has its report in the final text.
  const report = readAgentReport(body).text ?? body;
  return run.exitCode === 0 && report.trim().length >= 40 ? report : null;
}

/** The dashboard's lesson sections, as markdown lists under bold titles. */
function lessonLines(summary: Summary): string[] {
  return dashboardLessons(summary).flatMap((section) => [
    `**${section.title}:**`,
    ...(section.lines.length > 0 ? section.lines.map((line) => `- ${singleLine(line)}`) : ["- none"]),
  ]);
}

/** The seed's report sections, filled from the journal alone. */
export function draftReport(summary: Summary, stopReason: string): string {
  const style = numberStyles(summary).score;
  const lines = [
    `## Round ${summary.round ?? 1} report (drafted from the journal)`,
    "",
    `- Start: ${formatScore(summary.start, style)}; final: ${formatScore(summary.best.score, style)}${
      summary.improvement.text ? ` (${summary.improvement.text})` : ""
    }.`,
    `- Iterations: ${summary.iterations.done}; kept ${summary.counts.keep}, discarded ${summary.counts.discard}, crashed ${summary.counts.crash}, guard failures ${summary.counts.guard_fail}.`,
    `- Stopped: ${stopReason}.`,
    "",
    "### Top changes",
    ...(summary.topChanges.length
      ? summary.topChanges.slice(0, 3).map((change) =>
        `- #${change.iteration} ${change.description.split("\n")[0]} (gain ${gainText(change.gain, style)}${
          change.commit ? `, ${change.commit}` : ""
        })`
      )
      : ["- none kept"]),
    "",
    "### What did not work, and what did (from the recorded diffs)",
    ...lessonLines(summary),
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
