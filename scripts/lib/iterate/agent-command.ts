// One run of the --agent command in loop mode: write the state prompt, record the call
// (agent-call.ts) so a kill is finished by the next run, run the command with the prompt on
// stdin and its environment, and read its DESCRIPTION line (or describe its diff). It does
// not judge the change (the step does) nor check what the agent touched (agent-call-guards.ts).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
    },
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
