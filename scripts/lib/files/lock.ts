// One harness process per experiment at a time: an exclusive lock file holding the
// owner's pid, its start time and the boot id. A lock is stale when its pid is dead or
// now belongs to another process (another start time or boot); a stale lock is taken
// over with a note. Taking the lock first stops evals a dead harness left running, and
// points process-registry.ts at the state dir so new evals are recorded there.
// withExperimentLock is the one way a command holds it: lock, interrupt handling, and the
// restore of a kill-safe backup on Ctrl-C. It does not wait or retry: a busy experiment
// is reported at once (exit 75).
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { onInterrupt } from "../cli/interrupt.ts";
import { restoreBackupQuietly } from "./backup.ts";
import {
  bootId,
  endLeftoverProcesses,
  ownProcessStartTime,
  processRegistry,
  processRunning,
  processStartTime,
  setProcessRegistry,
} from "../process/registry.ts";

export type LockHandle = {
  path: string;
  release: () => void;
  recoveredFrom: number | null;
  /** One sentence per process group a dead harness left running, stopped (or left alone) on the way in. */
  leftovers: string[];
};

export type LockOptions = {
  /** Where the leftover sentences go as well as `leftovers`; default: only `leftovers`. */
  notes?: (message: string) => void;
};

/** Lock files written before start times were recorded lack `start_time` and `boot_id`. */
type LockOwner = {
  pid: number;
  command: string;
  started_at: string;
  start_time?: string | null;
  boot_id?: string | null;
};

/** Whether the lock's owner still runs: its pid is alive and, where recorded, it is the same process. */
function lockOwnerRunning(owner: LockOwner): boolean {
  if (!processRunning(owner.pid)) return false;
  const boot = bootId();
  if (owner.boot_id && boot && owner.boot_id !== boot) return false;
  const startTime = processStartTime(owner.pid);
  return !(owner.start_time && startTime && owner.start_time !== startTime);
}

function ownedByThisProcess(owner: LockOwner): boolean {
  return owner.pid === process.pid && (!owner.start_time || owner.start_time === ownProcessStartTime());
}

/** Take the experiment lock in `stateDir`, or throw naming the process that holds it. */
export function acquireLock(stateDir: string, command: string, options: LockOptions = {}): LockHandle {
  const createdStateDir = prepareStateDir(stateDir);
  const path = join(stateDir, "lock");
  let recoveredFrom: number | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      const owner: LockOwner = {
        pid: process.pid,
        command,
        started_at: new Date().toISOString(),
        start_time: ownProcessStartTime(),
        boot_id: bootId(),
      };
      writeSync(fd, JSON.stringify(owner));
      closeSync(fd);
      return holdLock(stateDir, { path, createdStateDir, recoveredFrom }, options);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner: LockOwner | null = null;
    try {
      owner = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    } catch { /* torn or empty lock file: treat as stale */ }
    if (owner && ownedByThisProcess(owner)) {
      // Re-entrant: the loop holds the lock while each of its steps asks for it too.
      return { path, recoveredFrom: null, leftovers: [], release: () => {} };
    }
    if (owner && owner.pid !== process.pid && lockOwnerRunning(owner)) {
      throw new CliError(
        `Another "${owner.command}" (pid ${owner.pid}, since ${owner.started_at}) is working on this experiment. Wait for it, or stop it: kill ${owner.pid}`,
        "E_LOCKED",
        EXIT.LOCKED,
      );
    }
    recoveredFrom = owner?.pid ?? -1;
    try {
      unlinkSync(path);
    } catch { /* raced with another recoverer */ }
  }
  throw new CliError(
    `Cannot take the lock "${path}"; remove it if no harness process is running.`,
    "E_LOCKED",
    EXIT.LOCKED,
  );
}

/** Create the state folder if needed and check it can be written; returns whether it was created. */
function prepareStateDir(stateDir: string): boolean {
  const created = !existsSync(stateDir);
  try {
    mkdirSync(stateDir, { recursive: true });
    accessSync(stateDir, constants.W_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === "EEXIST" || code === "ENOTDIR"
      ? "a file is in the way of that folder"
      : `it cannot be written (${code})`;
    throw new CliError(
      `Cannot use the harness's state folder "${stateDir}": ${what}. Move it aside (mv "${stateDir}" "${stateDir}.old") or make it writable, then re-run.`,
      "E_STATE_DIR",
      EXIT.FAILED,
    );
  }
  return created;
}

/**
 * The handle of a lock file just written: new evals are recorded in `stateDir`, and evals a
 * dead harness left running are stopped before anything else happens.
 */
function holdLock(
  stateDir: string,
  taken: { path: string; createdStateDir: boolean; recoveredFrom: number | null },
  options: LockOptions,
): LockHandle {
  const { path, createdStateDir, recoveredFrom } = taken;
  setProcessRegistry(stateDir);
  let released = false;
  const handle: LockHandle = {
    path,
    recoveredFrom,
    leftovers: [],
    release: () => {
      if (released) return;
      released = true;
      if (processRegistry() === stateDir) setProcessRegistry(null);
      try {
        const current = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
        if (ownedByThisProcess(current)) unlinkSync(path);
      } catch { /* already gone */ }
      // A run refused before writing anything leaves no trace; rmdir removes only an empty directory.
      if (createdStateDir) {
        try {
          rmdirSync(stateDir);
        } catch { /* holds other files */ }
      }
    },
  };
  try {
    handle.leftovers = endLeftoverProcesses(stateDir);
  } catch (error) {
    handle.release();
    throw error;
  }
  for (const message of handle.leftovers) options.notes?.(message);
  return handle;
}

export type ExperimentLockOptions = {
  stateDir: string;
  /** Named in the lock file, so a second process says who holds the experiment. */
  command: string;
  notes: (message: string) => void;
};

/**
 * Run `work` holding the experiment lock. A stale lock taken over is noted; on Ctrl-C or
 * SIGTERM a file the harness swapped out for a moment (a kill-safe backup) is put back and
 * the lock released before exit 130; the lock is released however `work` ends. Inside a
 * process that already holds the lock (a loop's steps) it is re-entrant: the outer holder
 * releases it.
 */
export async function withExperimentLock<T>(
  options: ExperimentLockOptions,
  work: (lock: LockHandle) => Promise<T>,
): Promise<T> {
  const { stateDir, notes } = options;
  const lock = acquireLock(stateDir, options.command, { notes });
  const unregister = onInterrupt(() => {
    restoreBackupQuietly(stateDir, notes);
    lock.release();
  });
  try {
    if (lock.recoveredFrom !== null) {
      notes(
        `Recovered a stale lock left by pid ${lock.recoveredFrom}. That process is gone, or its pid now belongs to another process.`,
      );
    }
    return await work(lock);
  } finally {
    unregister();
    lock.release();
  }
}
