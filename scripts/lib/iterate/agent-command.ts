// One run of the --agent command in loop mode: write the state prompt, record the call
// (agent-call.ts) so a kill is finished by the next run, run the command with the prompt on
// stdin and its environment (again after a transient failure: agent-retry.ts), and read its
// DESCRIPTION line and what it cost (agent-cost.ts). It does not judge the change (the step
// does) nor check what the agent touched (agent-call-guards.ts).
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { runProcess } from "../process/evaluator.ts";
import type { LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import type { Summary } from "../experiment/summary.ts";
import { displayPath } from "../files/paths.ts";
import { headCommit } from "../git/git.ts";
import { scopeIgnores, takeSnapshot } from "../git/snapshot.ts";
import { type AgentCall, writeAgentCall } from "./agent-call.ts";
import { buildStatePrompt } from "./state-prompt.ts";
import { addCosts, costFields, NO_COST, readAgentReport } from "./agent-cost.ts";
import {
  agentOutputInLog,
  clockText,
  loopSettings,
  recordCallStart,
  retryDelaySeconds,
  sleep,
  transientReason,
  undoFailedAttempt,
  withinRetryTime,
} from "./agent-retry.ts";

/** What one agent call left to evaluate: its record, its DESCRIPTION line, why it failed (if it did), extra journal fields. */
export type AgentOutcome = {
  call: AgentCall;
  description: string | null;
  failed: string | null;
  extra: Record<string, unknown>;
};

/** Write the state prompt, record the call (so a kill is finished by the next run), and run the agent with it. */
export async function callAgent(
  loaded: LoadedExperiment,
  round: Round,
  context: {
    stateDir: string;
    iteration: number;
    summary: Summary;
    options: { agent: string; agentTimeoutS: number };
    /** Where the retry notes go ("agent rate-limited (exit 1): retry 2 in 10 s, at 14:32:10"). */
    notes?: (message: string) => void;
    /** A parallel worker's id ("w2"), in $AUTORESEARCH_WORKER: agents may split the search by it. */
    worker?: string;
  },
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
  const start = recordCallStart(loaded.root, call.snapshot, round.constrained_files);
  const settings = loopSettings(loaded.experiment);
  const firstStart = Date.now();
  const retries: string[] = [];
  let cost = NO_COST;
  let agentMs = 0;
  for (let attempt = 1;; attempt++) {
    let description: string | null = null;
    const agentRun = await runProcess(options.agent, {
      kind: "agent",
      cwd: loaded.root,
      timeoutS: options.agentTimeoutS,
      logPath: call.log,
      input: prompt,
      env: {
        ...agentEnvironment(loaded, promptFile, iteration, "iterate"),
        ...(context.worker ? { AUTORESEARCH_WORKER: context.worker } : {}),
        ...(attempt > 1 ? { AUTORESEARCH_ATTEMPT: String(attempt) } : {}),
      },
      onLine: (line) => {
        const match = /^\s*DESCRIPTION:\s*(.+)$/.exec(line);
        if (match) description = match[1].trim();
      },
    });
    if (agentRun.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
    agentMs += agentRun.durationMs;
    const output = agentOutputInLog(call.log, options.agent);
    const report = readAgentReport(output);
    cost = addCosts(cost, report.cost);
    if (report.text !== null) {
      // The agent's final text was JSON-escaped: written out plainly so its DESCRIPTION and SIMPLIFY
      // lines are read from the log like any agent's (after a kill too).
      appendFileSync(call.log, `\n[the agent's final text, from its JSON output]\n${report.text}\n`);
      description = lastDescription(report.text) ?? description;
    }
    const failed = agentRun.timedOut
      ? `the agent timed out after ${options.agentTimeoutS} s`
      : agentRun.exitCode !== 0
      ? `the agent command exited with code ${agentRun.exitCode ?? agentRun.signal}`
      : null;
    const transient = failed ? transientReason(agentRun, output, settings) : null;
    const delayS = retryDelaySeconds(attempt + 1, settings);
    let noRetry = `no retry left within loop.retry_minutes ${settings.retryMinutes}`;
    if (transient && withinRetryTime(firstStart, delayS, settings)) {
      const attemptLog = call.log.replace(/\.log$/, `-attempt${attempt}.log`);
      renameSync(call.log, attemptLog);
      if (
        undoFailedAttempt(loaded.root, stateDir, start, {
          round: round.round,
          iteration,
          attempt,
          ignore,
        })
      ) {
        retries.push(`attempt ${attempt}: ${transient} (log: ${relative(loaded.root, attemptLog)})`);
        const at = new Date(Date.now() + delayS * 1000);
        context.notes?.(
          `${context.worker ? `${context.worker}: ` : ""}agent ${
            /^exit \d+$/.test(transient) ? "failed transiently" : "rate-limited"
          } (${transient.split(",")[0]}): retry ${attempt} in ${formatSeconds(delayS)}, at ${clockText(at)}`,
        );
        await sleep(delayS * 1000);
        continue;
      }
      renameSync(attemptLog, call.log);
      noRetry = "not retried: the agent moved HEAD, which only the step puts back";
    }
    const spent = retries.length ? { agent_attempts: attempt, agent_retries: retries } : {};
    return {
      call,
      description,
      failed: failed
        ? `${failed}${transient ? ` (transient: ${transient}; ${noRetry})` : ""} (log: ${displayPath(call.log)})`
        : null,
      extra: {
        agent_seconds: Math.round(agentMs) / 1000,
        ...costFields(cost),
        ...spent,
        prompt: relative(loaded.root, promptFile),
      },
    };
  }
}

/** The last DESCRIPTION line of a text, if any. */
function lastDescription(text: string): string | null {
  const matches = [...text.matchAll(/^\s*DESCRIPTION:\s*(.+)$/gm)];
  return matches.length ? matches[matches.length - 1][1].trim() : null;
}

function formatSeconds(seconds: number): string {
  return seconds >= 1 ? `${Math.round(seconds)} s` : `${Math.round(seconds * 1000)} ms`;
}

/** What the agent command finds in its environment besides the prompt on stdin. */
export function agentEnvironment(
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
