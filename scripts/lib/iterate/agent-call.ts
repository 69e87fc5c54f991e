// The record of an agent call in flight (loop mode): the work tree and HEAD right
// before the call, written before the agent starts and removed once its iteration is
// in the journal. It is what makes "only what changed during the call is the agent's"
// survive a kill: the next run evaluates that call's edits instead of calling again.
// Also what the agent's log says besides its edits: its DESCRIPTION and SIMPLIFY lines.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { displayPath } from "../files/paths.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { headCommit, readBlob } from "../git/git.ts";
import { archiveRef, putBranchBack, storeBlobs, syncIndexWithHead } from "./pending-step.ts";
import { compareWithSnapshot, restoreFromSnapshot, type Snapshot } from "../git/snapshot.ts";

export type AgentCall = {
  round: number;
  iteration: number;
  /** HEAD right before the call: commits after it are the agent's. */
  head: string;
  /** The work tree right before the call: changes after it are the agent's. */
  snapshot: Snapshot;
  /** The experiment file's text right before the call, to put back if the agent breaks it. */
  experiment_text: string;
  /** The agent's log, where its DESCRIPTION and SIMPLIFY lines may be found after a kill. */
  log: string;
  started_at: string;
};

/** Where files an agent created are moved: `.autoresearch/agent-files/roundN/iterationK` (or `report`). */
export function agentFilesFolder(stateDir: string, round: number, call: number | "report"): string {
  return join(stateDir, "agent-files", `round${round}`, call === "report" ? "report" : `iteration${call}`);
}

/**
 * Move files an agent created out of the work tree into `folder` (kept, never deleted), and
 * drop index entries it staged for them, so nothing evaluated or committed rests on them.
 */
export function moveAgentFilesAside(root: string, stateDir: string, folder: string, paths: string[]): void {
  for (const path of paths) {
    mkdirSync(dirname(join(folder, path)), { recursive: true });
    renameSync(join(root, path), join(folder, path));
  }
  syncIndexWithHead(root, stateDir, paths);
}

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
    if (
      typeof call.head === "string" && typeof call.iteration === "number" && call.snapshot &&
      typeof call.snapshot.head === "string"
    ) return call;
  } catch { /* reported below */ }
  throw new CliError(
    `The record of an interrupted agent call "${
      displayPath(path)
    }" is damaged. Check the work tree (git status, git diff), then remove it (rm "${displayPath(path)}") and re-run.`,
    "E_AGENT_CALL_CORRUPT",
    EXIT.FAILED,
  );
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

/**
 * Whether the agent asked for its change to be judged as a simplification: its last
 * `SIMPLIFY: ...` line (`SIMPLIFY: inline the helper`, `SIMPLIFY: yes`, or a bare `SIMPLIFY:`)
 * asks, unless it says no (`SIMPLIFY: no`, `false`, `0`, `off`, `none`). No such line: no.
 */
export function simplifyRequested(output: string): boolean {
  const matches = [...output.matchAll(/^\s*SIMPLIFY:[ \t]*(.*)$/gm)];
  if (matches.length === 0) return false;
  const said = matches[matches.length - 1][1].trim().toLowerCase().replace(/[.!]+$/, "");
  return !["no", "false", "0", "off", "none"].includes(said);
}

/** simplifyRequested for the agent's log (an interrupted call's too); a missing log asks for nothing. */
export function simplifyRequestedInLog(log: string): boolean {
  return existsSync(log) ? simplifyRequested(readFileSync(log, "utf8")) : false;
}

/**
 * Put back everything an agent call that may not edit anything changed (the final report's
 * call): the branch, the constrained files, tracked files elsewhere (to the version before the
 * call, the user's uncommitted one included) and the experiment file; files it created are
 * moved aside. Returns the paths it put back or moved, for a note.
 */
export function undoAgentCall(
  root: string,
  stateDir: string,
  before: {
    call: AgentCall;
    constrained: Record<string, string>;
    experimentPath: string;
    ignore: (path: string) => boolean;
  },
): string[] {
  const touched: string[] = [];
  const head = headCommit(root)!;
  if (head !== before.call.head) {
    putBranchBack(root, stateDir, {
      to: before.call.head,
      from: head,
      archive: archiveRef(before.call.round, before.call.iteration),
    });
    touched.push("the branch");
  }
  for (const [file, blob] of Object.entries(before.constrained)) {
    const now = storeBlobs(root, [file])[file];
    if (now === blob) continue;
    if (blob === "deleted") rmSync(join(root, file), { force: true });
    else writeFileAtomic(join(root, file), readBlob(root, blob));
    touched.push(file);
  }
  const scope = compareWithSnapshot(root, before.call.snapshot, before.ignore);
  restoreFromSnapshot(root, before.call.snapshot, scope.changed);
  touched.push(...scope.changed);
  moveAgentFilesAside(root, stateDir, agentFilesFolder(stateDir, before.call.round, "report"), scope.newUntracked);
  touched.push(...scope.newUntracked);
  if (
    (existsSync(before.experimentPath) ? readFileSync(before.experimentPath, "utf8") : null) !==
      before.call.experiment_text
  ) {
    writeFileAtomic(before.experimentPath, before.call.experiment_text);
    touched.push(displayPath(before.experimentPath));
  }
  return touched;
}
