// One harness process per experiment at a time: an exclusive lock file holding the
// owner's pid. A lock whose pid is dead is stale and is taken over with a note.
// It does not wait or retry: a busy experiment is reported at once (exit 75).
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { CliError, EXIT } from "./errors.ts";

export type LockHandle = { path: string; release: () => void; recoveredFrom: number | null };

type LockOwner = { pid: number; command: string; started_at: string };

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Take the experiment lock in `stateDir`, or throw naming the process that holds it. */
export function acquireLock(stateDir: string, command: string): LockHandle {
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, "lock");
  let recoveredFrom: number | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      const owner: LockOwner = { pid: process.pid, command, started_at: new Date().toISOString() };
      writeSync(fd, JSON.stringify(owner));
      closeSync(fd);
      let released = false;
      return {
        path,
        recoveredFrom,
        release: () => {
          if (released) return;
          released = true;
          try {
            const current = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
            if (current.pid === process.pid) unlinkSync(path);
          } catch { /* already gone */ }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner: LockOwner | null = null;
    try {
      owner = JSON.parse(readFileSync(path, "utf8")) as LockOwner;
    } catch { /* torn or empty lock file: treat as stale */ }
    if (owner && owner.pid === process.pid) {
      // Re-entrant: the loop holds the lock while each of its steps asks for it too.
      return { path, recoveredFrom: null, release: () => {} };
    }
    if (owner && processAlive(owner.pid)) {
      throw new CliError(
        `Another "${owner.command}" (pid ${owner.pid}, since ${owner.started_at}) is working on this experiment. Wait for it, or stop it: kill ${owner.pid}`,
        "E_LOCKED",
        EXIT.LOCKED,
      );
    }
    recoveredFrom = owner?.pid ?? -1;
    try { unlinkSync(path); } catch { /* raced with another recoverer */ }
  }
  throw new CliError(`Cannot take the lock "${path}"; remove it if no harness process is running.`, "E_LOCKED", EXIT.LOCKED);
}
