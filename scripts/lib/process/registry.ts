// Which eval and agent processes a harness started, on disk: one small JSON file per
// running process in `<stateDir>/processes/`, removed when it ends. When a harness dies
// (kill -9, a crash), its evals keep running in their own process groups; the next
// harness to take the lock stops them. A process is identified by pid + start time
// (/proc/<pid>/stat field 22), so a reused pid is never signalled. Off Linux the start
// time is unknown and the recorded command, read back with `ps`, stands in for it.
// It does not start or time processes (evaluator.ts does) and keeps no history.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmdirSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../files/atomic.ts";

/** Grace period between SIGTERM and SIGKILL when stopping a process group, in milliseconds. */
export const KILL_GRACE_MS = 2000;
/** How often a stopped group is checked for having exited, in milliseconds. */
const EXIT_POLL_MS = 50;
const REGISTRY_DIR = "processes";

export type ProcessKind = "eval" | "agent" | "command";

export type ProcessRecord = {
  pid: number;
  /** The process group, led by `pid` (processes are started detached). */
  pgid: number;
  kind: ProcessKind;
  command: string;
  /** Clock ticks after boot (/proc/<pid>/stat field 22); null where /proc is missing. */
  start_time: string | null;
  boot_id: string | null;
  harness_pid: number;
  harness_start_time: string | null;
  started_at: string;
};

type ProcStat = { state: string; pgrp: number; session: number; startTime: string };

/** Parse /proc/<pid>/stat: fields after the parenthesised name, which may hold spaces. */
export function parseProcStat(text: string): ProcStat | null {
  const fields = text.slice(text.lastIndexOf(")") + 2).trim().split(" ");
  if (fields.length < 20) return null;
  // fields[0] is field 3 of proc(5): state; 5 pgrp, 6 session, 22 starttime.
  return { state: fields[0], pgrp: Number(fields[2]), session: Number(fields[3]), startTime: fields[19] };
}

function readProcStat(pid: number | "self"): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null;
  }
}

const HAS_PROC = readProcStat("self") !== null;

/** The process's start time in clock ticks after boot, or null (no such process, or no /proc). */
export function processStartTime(pid: number): string | null {
  return readProcStat(pid)?.startTime ?? null;
}

let ownStartTime: string | null | undefined;
/** This process's start time, read once. */
export function ownProcessStartTime(): string | null {
  if (ownStartTime === undefined) ownStartTime = readProcStat("self")?.startTime ?? null;
  return ownStartTime;
}

/** The kernel's id for this boot: start times from another boot mean nothing now. */
export function bootId(): string | null {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
  } catch {
    return null;
  }
}

/** Whether `pid` runs (a zombie, dead but not yet reaped, does not). */
export function processRunning(pid: number): boolean {
  const stat = readProcStat(pid);
  if (stat) return stat.state !== "Z";
  try { // no /proc, or it hides other users' processes
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Whether any process of the group still runs. On Linux only members of the recorded
 * session started no earlier than the leader count, so a later group reusing the
 * number is not mistaken for it.
 */
function groupRunning(record: ProcessRecord): boolean {
  if (!HAS_PROC) {
    try {
      process.kill(-record.pgid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "EPERM";
    }
  }
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readProcStat(Number(name));
    if (!stat || stat.state === "Z" || stat.pgrp !== record.pgid || stat.session !== record.pgid) continue;
    if (record.start_time === null || Number(stat.startTime) >= Number(record.start_time)) return true;
  }
  return false;
}

let currentStateDir: string | null = null;

/** Set where processes started from now on are recorded (the lock holder's state dir), or null. */
export function setProcessRegistry(stateDir: string | null): void {
  currentStateDir = stateDir;
}

export function processRegistry(): string | null {
  return currentStateDir;
}

/** Record a just-started process (leader of its own group); returns the record's path. */
export function recordProcess(stateDir: string, started: { pid: number; kind: ProcessKind; command: string }): string {
  const record: ProcessRecord = {
    pid: started.pid,
    pgid: started.pid,
    kind: started.kind,
    command: started.command,
    start_time: processStartTime(started.pid),
    boot_id: bootId(),
    harness_pid: process.pid,
    harness_start_time: ownProcessStartTime(),
    started_at: new Date().toISOString(),
  };
  const path = join(stateDir, REGISTRY_DIR, `${started.pid}.json`);
  writeFileAtomic(path, `${JSON.stringify(record)}\n`);
  return path;
}

/** Drop a record; the registry directory goes too once it is empty. */
export function forgetProcess(path: string): void {
  try {
    unlinkSync(path);
  } catch { /* already gone */ }
  try {
    rmdirSync(join(path, ".."));
  } catch { /* other records remain, or gone */ }
}

export type Sighting = {
  bootId: string | null;
  harness: { running: boolean; startTime: string | null };
  leader: { running: boolean; startTime: string | null; command: string | null };
  groupRunning: boolean;
};

/**
 * What to do with one record: `keep` it (its harness still runs), `forget` it (nothing
 * of it runs any more, or the pid now belongs to another process), `stop` its group,
 * or `unverified` (a group runs but cannot be proven to be the recorded one). Pure.
 */
export function leftoverVerdict(record: ProcessRecord, seen: Sighting): "keep" | "forget" | "stop" | "unverified" {
  if (record.boot_id !== null && seen.bootId !== null && record.boot_id !== seen.bootId) return "forget";
  const sameHarness = record.harness_start_time === null || seen.harness.startTime === null ||
    record.harness_start_time === seen.harness.startTime;
  if (seen.harness.running && sameHarness) return "keep";
  if (!seen.groupRunning) return "forget";
  if (record.start_time !== null) {
    // A running leader with another start time means the pid was reused, so the group is gone.
    if (seen.leader.running) return seen.leader.startTime === record.start_time ? "stop" : "forget";
    return "stop"; // the leader exited, but members of its group (started after it) remain
  }
  if (!seen.leader.running) return "unverified";
  return seen.leader.command !== null && seen.leader.command.includes(record.command) ? "stop" : "forget";
}

function commandOf(pid: number): string | null {
  const result = spawnSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : null;
}

function readRecords(stateDir: string): { path: string; record: ProcessRecord | null }[] {
  const directory = join(stateDir, REGISTRY_DIR);
  if (!existsSync(directory)) return [];
  return readdirSync(directory).filter((name) => name.endsWith(".json")).map((name) => {
    const path = join(directory, name);
    try {
      return { path, record: JSON.parse(readFileSync(path, "utf8")) as ProcessRecord };
    } catch {
      return { path, record: null }; // torn by a crash mid-write: nothing to verify it by
    }
  });
}

function sleepSync(milliseconds: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, milliseconds);
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch { /* exited meanwhile */ }
}

function describe(record: ProcessRecord): string {
  return record.kind === "eval" ? "an eval" : record.kind === "agent" ? "an agent" : "a command";
}

/**
 * Stop the process groups recorded in `stateDir` by harnesses that have died: SIGTERM,
 * then SIGKILL after KILL_GRACE_MS. Returns one sentence per group stopped or left alone.
 * Records whose harness still runs are kept; records of processes gone are dropped.
 */
export function endLeftoverProcesses(stateDir: string): string[] {
  const notes: string[] = [];
  const stopping: ProcessRecord[] = [];
  const currentBoot = bootId();
  for (const { path, record } of readRecords(stateDir)) {
    if (record === null) {
      forgetProcess(path);
      continue;
    }
    const leaderRunning = processRunning(record.pid);
    const verdict = leftoverVerdict(record, {
      bootId: currentBoot,
      harness: { running: processRunning(record.harness_pid), startTime: processStartTime(record.harness_pid) },
      leader: {
        running: leaderRunning,
        startTime: processStartTime(record.pid),
        command: leaderRunning && record.start_time === null ? commandOf(record.pid) : null,
      },
      groupRunning: groupRunning(record),
    });
    if (verdict === "keep") continue;
    forgetProcess(path);
    if (verdict === "stop") {
      signalGroup(record.pgid, "SIGTERM");
      stopping.push(record);
      notes.push(
        `Stopped ${describe(record)} left running by a harness that died (pid ${record.pid}, \`${record.command}\`).`,
      );
    } else if (verdict === "unverified") {
      notes.push(
        `A process group left by a harness that died may still run (\`${record.command}\`); it could not be ` +
          `verified, so it was left alone. Stop it yourself if it is yours: kill -TERM -${record.pgid}`,
      );
    }
  }
  const deadline = performance.now() + KILL_GRACE_MS;
  let remaining = stopping;
  while (remaining.length && performance.now() < deadline) {
    sleepSync(EXIT_POLL_MS);
    remaining = remaining.filter(groupRunning);
  }
  for (const record of remaining) signalGroup(record.pgid, "SIGKILL");
  return notes;
}
