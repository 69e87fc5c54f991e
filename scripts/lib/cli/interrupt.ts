// Ctrl-C and SIGTERM for long-running scripts: stop the eval's whole process tree,
// run the caller's cleanups (restore a probed file, release the lock), exit 130.
// Nothing partial is written: cleanups only undo, they never record.
import { EXIT } from "./errors.ts";
import { stopRunningEvals } from "../process/evaluator.ts";
import { note } from "./command.ts";

type Cleanup = () => void | Promise<void>;
const cleanups: Cleanup[] = [];
let installed = false;
let stopping = false;

/** Register a cleanup for interruption; returns a function that unregisters it. */
export function onInterrupt(cleanup: Cleanup): () => void {
  cleanups.push(cleanup);
  if (!installed) {
    installed = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void handleSignal(signal));
  }
  return () => {
    const index = cleanups.indexOf(cleanup);
    if (index >= 0) cleanups.splice(index, 1);
  };
}

async function handleSignal(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  note(`\n${signal} received: stopping the eval and cleaning up.`);
  stopRunningEvals("SIGTERM");
  for (const cleanup of [...cleanups].reverse()) {
    try {
      await cleanup();
    } catch (error) {
      note(`cleanup failed: ${(error as Error).message}`);
    }
  }
  process.exit(EXIT.INTERRUPTED);
}
