// Keeping a long loop alive through an agent's transient failures: which failed calls count as
// transient (exit 75, or the output's last lines matching loop.rate_limit_patterns), the backoff
// between attempts (5, 10, 20 ... s, capped, within loop.retry_minutes), and putting the work
// tree back to the call's start between attempts. It does not run the agent (agent-command.ts).
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Experiment } from "../experiment/schema.ts";
import { DEFAULTS } from "../experiment/defaults.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { headCommit, readBlob } from "../git/git.ts";
import { compareWithSnapshot, restoreFromSnapshot, type Snapshot } from "../git/snapshot.ts";
import { agentFilesFolder, moveAgentFilesAside } from "./agent-call.ts";
import { storeBlobs } from "./pending-step.ts";
import { jsonRecordsAndLines } from "./agent-cost.ts";

/** The exit code an agent wrapper returns to say "try again later" (EX_TEMPFAIL). */
export const TRANSIENT_EXIT = 75;
/** No single wait is longer than this, however many attempts came before. */
export const MAX_DELAY_S = 300;
/** Only the output's last lines are searched: an agent's earlier output may quote code or logs with "429" in them. */
const TAIL_LINES = 20;

export type LoopSettings = { retryMinutes: number; retryBaseSeconds: number; patterns: RegExp[] };

/** The experiment's loop section with the defaults filled in. */
export function loopSettings(experiment: Experiment): LoopSettings {
  const loop = experiment.loop ?? {};
  return {
    retryMinutes: loop.retry_minutes ?? DEFAULTS.loop.retry_minutes,
    retryBaseSeconds: loop.retry_base_seconds ?? DEFAULTS.loop.retry_base_seconds,
    patterns: (loop.rate_limit_patterns ?? DEFAULTS.loop.rate_limit_patterns).map((source) => new RegExp(source, "i")),
  };
}

/**
 * Why a failed call is worth another attempt, or null: exit 75, an API status of 429 or 529 in an
 * agent's JSON result, or a rate-limit pattern in the last lines of its text. JSON output is never
 * searched as text (Claude Code's transcript names a "rate_limit_event" type in every run, and a
 * usage count may be 429): only an error result's own message is. A timeout or any other failure
 * is not transient.
 */
export function transientReason(
  run: { exitCode: number | null; timedOut: boolean },
  output: string,
  settings: LoopSettings,
): string | null {
  if (run.timedOut || run.exitCode === 0 || run.exitCode === null) return null;
  if (run.exitCode === TRANSIENT_EXIT) return `exit ${TRANSIENT_EXIT}`;
  const text: string[] = [];
  for (const item of jsonRecordsAndLines(output)) {
    if (typeof item === "string") {
      if (item.trim() !== "") text.push(item);
      continue;
    }
    if (item.type !== "result" || item.is_error !== true) continue;
    const status = Number(item.api_error_status ?? item.status ?? NaN);
    if (status === 429 || status === 529) return `exit ${run.exitCode}, the agent's result has API status ${status}`;
    if (typeof item.result === "string") text.push(...item.result.split("\n"));
  }
  const tail = text.slice(-TAIL_LINES);
  for (const pattern of settings.patterns) {
    const line = tail.find((entry) => pattern.test(entry));
    if (line) return `exit ${run.exitCode}, output matched /${pattern.source}/: ${line.trim().slice(0, 120)}`;
  }
  return null;
}

/** Seconds to wait before attempt `attempt` (2, 3, ...): base, 2×base, 4×base ..., capped at MAX_DELAY_S. */
export function retryDelaySeconds(attempt: number, settings: LoopSettings): number {
  return Math.min(MAX_DELAY_S, settings.retryBaseSeconds * 2 ** Math.max(0, attempt - 2));
}

/** Whether waiting `delayS` more stays within loop.retry_minutes of the first attempt's start. */
export function withinRetryTime(startedMs: number, delayS: number, settings: LoopSettings): boolean {
  return Date.now() - startedMs + delayS * 1000 <= settings.retryMinutes * 60_000;
}

/** "at 14:32:10" in local time, for the retry note. */
export function clockText(date: Date): string {
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((part) => String(part).padStart(2, "0")).join(":");
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** What the work tree held when the call started: its snapshot and the constrained files' blobs. */
export type CallStart = { snapshot: Snapshot; constrained: Record<string, string> };

export function recordCallStart(root: string, snapshot: Snapshot, constrainedFiles: string[]): CallStart {
  return { snapshot, constrained: storeBlobs(root, constrainedFiles) };
}

/**
 * Put the work tree back to the call's start after a failed attempt, so its half-made edits never
 * reach the next attempt's candidate: the constrained files to their start bytes, other tracked
 * files to the snapshot (the user's uncommitted version included), files it created moved aside
 * under agent-files (kept, never deleted). An attempt that moved HEAD is not undone here: returns
 * false, and the caller records the failure as it would without retries.
 */
export function undoFailedAttempt(
  root: string,
  stateDir: string,
  start: CallStart,
  where: { round: number; iteration: number; attempt: number; ignore: (path: string) => boolean },
): boolean {
  if (headCommit(root) !== start.snapshot.head) return false;
  for (const [file, blob] of Object.entries(start.constrained)) {
    if (storeBlobs(root, [file])[file] === blob) continue;
    if (blob === "deleted") rmSync(join(root, file), { force: true });
    else writeFileAtomic(join(root, file), readBlob(root, blob));
  }
  const scope = compareWithSnapshot(root, start.snapshot, where.ignore);
  restoreFromSnapshot(root, start.snapshot, scope.changed);
  if (scope.newUntracked.length) {
    const folder = join(agentFilesFolder(stateDir, where.round, where.iteration), `attempt${where.attempt}`);
    moveAgentFilesAside(root, stateDir, folder, scope.newUntracked);
  }
  return true;
}

/**
 * What the agent printed, as its log holds it ("" when it left none), without the lines the
 * harness writes there: the `$ command` header (a command named like "rate-limited.sh" must not
 * match a pattern) and the `[exit N]` footer.
 */
export function agentOutputInLog(path: string, command: string): string {
  if (!existsSync(path)) return "";
  const lines = readFileSync(path, "utf8").split("\n");
  // The header is the whole command, which may span lines (a heredoc): all of them go.
  const header = `$ ${command}`.split("\n");
  if (header.every((line, index) => lines[index] === line)) lines.splice(0, header.length);
  return lines.filter((line) => !/^\[exit [^\]]+\]$/.test(line)).join("\n");
}
