// One coded error type for every script, and the exit codes the scripts document.
// A CliError's message is the single line a person sees: what went wrong, which
// file or value, and the next command to run. Anything else thrown is a bug (exit 1).

/** Exit codes shared by every script (see README "Exit codes"). */
export const EXIT = {
  OK: 0,
  FAILED: 1, // harness or eval setup problem
  USAGE: 2, // bad usage or bad input; nothing was written
  BUDGET_EXHAUSTED: 3, // iterate --loop: the iteration or time budget is spent
  PLATEAU: 4, // iterate --loop: too many non-keeps in a row
  CRASH_STREAK: 5, // iterate --loop: consecutive crashes
  LOCKED: 75, // another process holds the experiment lock (EX_TEMPFAIL)
  INTERRUPTED: 130, // Ctrl-C / SIGTERM
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  code: string;
  exitCode: number;
  constructor(message: string, code: string, exitCode: number = EXIT.USAGE) {
    super(message);
    this.name = "CliError";
    this.code = code;
    this.exitCode = exitCode;
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}
