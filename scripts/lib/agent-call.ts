// The record of an agent call in flight (loop mode): the work tree and HEAD right
// before the call, written before the agent starts and removed once its iteration is
// in the journal. It is what makes "only what changed during the call is the agent's"
// survive a kill: the next run evaluates that call's edits instead of calling again.
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "./errors.ts";
import { displayPath } from "./experiment.ts";
import { writeFileAtomic } from "./fs-atomic.ts";
import type { Snapshot } from "./snapshot.ts";

export type AgentCall = {
  round: number;
  iteration: number;
  /** HEAD right before the call: commits after it are the agent's. */
  head: string;
  /** The work tree right before the call: changes after it are the agent's. */
  snapshot: Snapshot;
  /** The experiment file's text right before the call, to put back if the agent breaks it. */
  experiment_text: string;
  /** The agent's log, where a DESCRIPTION line may be found after a kill. */
  log: string;
  started_at: string;
};

function agentCallPath(stateDir: string): string {
  return join(stateDir, "agent-call.json");
}

export function writeAgentCall(stateDir: string, call: AgentCall): void {
  writeFileAtomic(agentCallPath(stateDir), JSON.stringify(call));
}

export function readAgentCall(stateDir: string): AgentCall | null {
  const path = agentCallPath(stateDir);
  if (!existsSync(path)) return null;
  try {
    const call = JSON.parse(readFileSync(path, "utf8")) as AgentCall;
    if (typeof call.head === "string" && typeof call.iteration === "number" && call.snapshot && typeof call.snapshot.head === "string") return call;
  } catch { /* reported below */ }
  throw new CliError(`The record of an interrupted agent call "${displayPath(path)}" is damaged. Check the work tree (git status, git diff), then remove it (rm "${displayPath(path)}") and re-run.`, "E_AGENT_CALL_CORRUPT", EXIT.FAILED);
}

export function clearAgentCall(stateDir: string): void {
  rmSync(agentCallPath(stateDir), { force: true });
}

/** The last `DESCRIPTION: ...` line an agent printed to its log, if any. */
export function descriptionFromLog(log: string): string | null {
  if (!existsSync(log)) return null;
  const matches = [...readFileSync(log, "utf8").matchAll(/^\s*DESCRIPTION:\s*(.+)$/gm)];
  return matches.length ? matches[matches.length - 1][1].trim() : null;
}
