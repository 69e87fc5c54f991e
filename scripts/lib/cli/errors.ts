// One coded error type for every script, the exit codes the scripts document, and the
// table of error codes: each code a CliError may carry, its exit code and what it means.
// A CliError's message is the single line a person sees: what went wrong, which file or
// value, and the next command to run; with --json a program also gets the code (command.ts).
// Anything else thrown is a bug (exit 1, code E_UNEXPECTED). It imports nothing, so --help stays fast.

/** Exit codes shared by every script (see README "Exit codes"). */
export const EXIT = {
  OK: 0,
  FAILED: 1, // harness or eval setup problem
  USAGE: 2, // bad usage or bad input; nothing was written
  BUDGET_EXHAUSTED: 3, // iterate --loop: the iteration budget is spent
  PLATEAU: 4, // iterate --loop: too many non-keeps in a row
  CRASH_STREAK: 5, // iterate --loop: consecutive crashes
  TIME_BUDGET: 6, // iterate --loop: budget.max_hours or --max-hours is spent
  COST_BUDGET: 7, // iterate --loop: budget.max_cost_usd is spent
  LOCKED: 75, // another process holds the experiment lock (EX_TEMPFAIL)
  INTERRUPTED: 130, // Ctrl-C / SIGTERM
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

type CodeInfo = { exit: ExitCode; meaning: string };

/**
 * Every error code, with the exit code it always comes with. The README's "Error codes" table
 * lists the same rows, and test/cli.test.ts checks that each code here is thrown somewhere under
 * scripts/ with this exit code and that no other code is.
 */
export const ERROR_CODES = {
  // usage and options (any script)
  E_USAGE: { exit: EXIT.USAGE, meaning: "unknown flag, bad option value, missing or extra argument" },
  E_EMPTY_OPTION: { exit: EXIT.USAGE, meaning: "init: an option was given an empty value" },
  E_BAD_INPUT: { exit: EXIT.USAGE, meaning: "init: an input that fits no other code" },
  E_BAD_METRIC: {
    exit: EXIT.USAGE,
    meaning:
      "init: --metric is empty or not a metric formula; next-round: --metric names a metric round N's eval did not print",
  },
  E_BAD_GUARD: {
    exit: EXIT.USAGE,
    meaning:
      'init or next-round: --guard is not of the form "mrr>=0.9" or "mrr>=baseline-0.02"; next-round: its metric is not one round N\'s eval printed',
  },
  E_BAD_NAME: { exit: EXIT.USAGE, meaning: "init: --name has characters other than letters, digits, . _ -" },
  E_CASES_FROM: { exit: EXIT.USAGE, meaning: "init: --cases-from cannot be read as JSON or JSON lines" },
  E_ENTRY_NOT_FOUND: { exit: EXIT.USAGE, meaning: "init: the --entry function is not in the file" },
  E_ENTRY_AMBIGUOUS: { exit: EXIT.USAGE, meaning: "init: the class of --entry Class#method is in several files" },
  E_NO_ENTRY: {
    exit: EXIT.USAGE,
    meaning: "init: no entry for a generated eval to call; pass --entry, --eval-cmd or --agent",
  },
  E_FILE_UNREADABLE: { exit: EXIT.USAGE, meaning: "init: the constrained file cannot be read" },
  E_BINARY: { exit: EXIT.USAGE, meaning: "init: the constrained file looks binary" },
  E_NOT_WRITABLE: { exit: EXIT.USAGE, meaning: "init: a file to write is in a folder that cannot be written" },
  E_DECISION_OPTION: {
    exit: EXIT.USAGE,
    meaning: "a decision option (direction, alpha, min_delta, ...) is out of range",
  },
  // files and paths
  E_NO_FILE: { exit: EXIT.USAGE, meaning: "a named file does not exist" },
  E_NOT_A_FILE: { exit: EXIT.USAGE, meaning: "a named file is a directory" },
  E_OUTSIDE_REPO: { exit: EXIT.USAGE, meaning: "next-round: a --file or --add-file is outside the repository" },
  E_UNTRACKED: { exit: EXIT.USAGE, meaning: "a constrained file is not committed, so it could not be restored" },
  E_FROZEN_FILE: { exit: EXIT.USAGE, meaning: "next-round: a --file or --add-file is frozen (eval, test data)" },
  E_FROZEN_DIRECTORY: { exit: EXIT.USAGE, meaning: "baseline: a frozen path is a directory" },
  E_EXISTS: { exit: EXIT.USAGE, meaning: "init or next-round: the artifacts exist; --force replaces them" },
  // the experiment file and rounds
  E_NO_EXPERIMENT: { exit: EXIT.USAGE, meaning: "no experiment file at the given or default path" },
  E_EXPERIMENT_UNREADABLE: { exit: EXIT.USAGE, meaning: "the experiment file cannot be read" },
  E_EXPERIMENT_YAML: { exit: EXIT.USAGE, meaning: "the experiment file is not valid YAML" },
  E_EXPERIMENT_INVALID: { exit: EXIT.USAGE, meaning: "the experiment file does not fit the schema" },
  E_NO_ROUND: { exit: EXIT.USAGE, meaning: "--round names a round the experiment does not have" },
  E_ROUND_CLOSED: { exit: EXIT.USAGE, meaning: "baseline or iterate on a round that is not the current one" },
  E_NO_EVAL: { exit: EXIT.USAGE, meaning: "next-round: round N's eval script is missing" },
  // the journal
  E_NO_JOURNAL: { exit: EXIT.USAGE, meaning: "no journal at the given or default path" },
  E_NOT_A_JOURNAL: { exit: EXIT.USAGE, meaning: "dashboard: the file is binary or has no config or result line" },
  E_NO_CONFIG: { exit: EXIT.USAGE, meaning: "next-round: the journal has no config line" },
  E_JOURNAL_NOT_A_FILE: { exit: EXIT.USAGE, meaning: "the journal path is a directory" },
  E_JOURNAL_NOT_WRITABLE: { exit: EXIT.USAGE, meaning: "the journal or its folder is read-only" },
  E_JOURNAL_UNREADABLE: { exit: EXIT.USAGE, meaning: "the journal cannot be read" },
  E_UNREADABLE: { exit: EXIT.USAGE, meaning: "dashboard: the journal or report cannot be read" },
  E_DASHBOARD_NOT_WRITABLE: { exit: EXIT.USAGE, meaning: "dashboard: the dashboard or chart cannot be written" },
  E_PORT_IN_USE: {
    exit: EXIT.USAGE,
    meaning: "dashboard --serve: the port is taken or not allowed; --port 0 picks a free one",
  },
  E_NO_BASELINE: { exit: EXIT.USAGE, meaning: "iterate or next-round: the round has no baseline yet" },
  E_NO_RESULTS: { exit: EXIT.USAGE, meaning: "next-round: round N has no iteration results" },
  E_HAS_RESULTS: { exit: EXIT.USAGE, meaning: "baseline: the round already has results; --force re-baselines" },
  // baseline's checks on the harness
  E_NO_TEST_DATA: { exit: EXIT.USAGE, meaning: "baseline: the test data file is missing" },
  E_TEST_DATA: { exit: EXIT.USAGE, meaning: "baseline: the test data cannot be read as cases" },
  E_PLACEHOLDERS: { exit: EXIT.USAGE, meaning: "baseline: the test data still has the scaffold's placeholders" },
  E_BAD_HOLDOUT: {
    exit: EXIT.USAGE,
    meaning:
      "init: --holdout or --holdout-split cannot make a held-out set (out of range, too few cases, the test data itself)",
  },
  E_HOLDOUT: {
    exit: EXIT.FAILED,
    meaning:
      "baseline: the held-out set is missing, unusable, already split off, or the eval cannot score it or does not read `AUTORESEARCH_TEST_DATA`",
  },
  E_FEW_CASES: { exit: EXIT.USAGE, meaning: "baseline: fewer than 15 test cases; --allow-few accepts them" },
  E_MODIFIED: {
    exit: EXIT.USAGE,
    meaning:
      "baseline: the constrained file has uncommitted changes; next-round: a constrained file holds an uncommitted candidate",
  },
  E_EVAL_FAILED: { exit: EXIT.FAILED, meaning: "baseline: an eval run failed or timed out" },
  E_AGENT_FAILED: {
    exit: EXIT.FAILED,
    meaning: "init --agent: the agent command failed or timed out; nothing of init's was written",
  },
  E_AGENT_EVAL: {
    exit: EXIT.FAILED,
    meaning: "init --agent: the agent's eval or test data is missing, or the eval fails or prints no finite SCORE",
  },
  E_INSENSITIVE: { exit: EXIT.FAILED, meaning: "baseline: the score does not move when the file is broken" },
  E_REVERT: { exit: EXIT.FAILED, meaning: "baseline: git does not restore the constrained file byte for byte" },
  // iterate
  E_NOTHING_TO_EVALUATE: { exit: EXIT.USAGE, meaning: "iterate: the constrained files equal the incumbent" },
  E_BUDGET: { exit: EXIT.BUDGET_EXHAUSTED, meaning: "iterate: the iteration budget is spent" },
  E_BASELINE_LOST: { exit: EXIT.FAILED, meaning: "iterate: the experiment file lost its baseline record" },
  E_NO_INCUMBENT: { exit: EXIT.FAILED, meaning: "iterate: the incumbent commit is not in this repository" },
  E_HEAD_MOVED: { exit: EXIT.FAILED, meaning: "iterate: HEAD does not descend from the incumbent" },
  E_FOREIGN_COMMITS: { exit: EXIT.FAILED, meaning: "iterate: commits past the incumbent made outside the harness" },
  E_NEW_CODE_FILES: {
    exit: EXIT.FAILED,
    meaning: "iterate: new untracked code or configuration files the eval could run appeared since the last step",
  },
  E_NOT_AGENTS_CHANGE: { exit: EXIT.FAILED, meaning: "iterate --loop: the file changed before the agent was called" },
  E_RACE: { exit: EXIT.FAILED, meaning: "the constrained file changed while it was being evaluated" },
  E_PENDING_CORRUPT: { exit: EXIT.FAILED, meaning: "iterate: the interrupted step's record is damaged" },
  E_AGENT_CALL_CORRUPT: {
    exit: EXIT.FAILED,
    meaning: "iterate --loop: the interrupted agent call's record is damaged",
  },
  // the harness's own records
  E_INTEGRITY: { exit: EXIT.FAILED, meaning: "a frozen file or the measurement fields changed since the baseline" },
  E_TAMPERED: { exit: EXIT.FAILED, meaning: "a sealed journal line or harness record was edited" },
  E_BACKUP_DAMAGED: { exit: EXIT.FAILED, meaning: "a kill-safe backup's manifest is damaged; nothing was put back" },
  E_STATE_DIR: { exit: EXIT.FAILED, meaning: "the .autoresearch/ state folder cannot be used" },
  E_LOCKED: { exit: EXIT.LOCKED, meaning: "another harness process holds the experiment lock" },
  E_INTERRUPTED: { exit: EXIT.INTERRUPTED, meaning: "Ctrl-C or SIGTERM; nothing partial was recorded" },
  // git
  E_NO_GIT: { exit: EXIT.FAILED, meaning: "git cannot be run" },
  E_NOT_GIT: { exit: EXIT.USAGE, meaning: "the folder is not inside a git repository" },
  E_GIT: { exit: EXIT.FAILED, meaning: "a git command failed" },
  E_GIT_LOCKED: {
    exit: EXIT.FAILED,
    meaning: "a git lock file (the index's, HEAD's, a ref's) exists and is not the harness's own",
  },
  E_GIT_BUSY: { exit: EXIT.FAILED, meaning: "a merge, rebase, cherry-pick or bisect is in progress" },
  E_BRANCH: { exit: EXIT.FAILED, meaning: "baseline: cannot create or switch to autoresearch/<name>" },
  E_WORKTREE: {
    exit: EXIT.FAILED,
    meaning:
      "baseline --worktree: the experiment's worktree cannot be created (folder in the way, branch checked out elsewhere)",
  },
  E_WORKTREE_MISSING: {
    exit: EXIT.FAILED,
    meaning: "the worktree recorded in .autoresearch/worktree.json is gone; re-create it or remove the record",
  },
  E_NO_BASE: {
    exit: EXIT.USAGE,
    meaning: "finalize: no branch or several equally fit as the base the experiment started from; --base names it",
  },
  E_NO_KEEPS: { exit: EXIT.USAGE, meaning: "finalize: the round kept no change to the constrained files" },
  E_KEEP_MISSING: { exit: EXIT.USAGE, meaning: "finalize: a kept change's commit is not in the repository" },
  E_KEEP_CONFLICT: {
    exit: EXIT.FAILED,
    meaning: "finalize: a kept change no longer applies on the base; nothing was changed",
  },
  E_FINAL_BRANCH: {
    exit: EXIT.USAGE,
    meaning:
      "finalize: the final branch exists with other commits (--force moves it), is checked out, or is the experiment branch or the base",
  },
  E_DETACHED: { exit: EXIT.FAILED, meaning: "HEAD is detached, so a keep would be committed off any branch" },
  E_WRONG_BRANCH: { exit: EXIT.FAILED, meaning: "the work tree is on another branch than the experiment's" },
  // not a CliError
  E_UNEXPECTED: { exit: EXIT.FAILED, meaning: "a bug: anything thrown that is not a CliError (the stack is printed)" },
} as const satisfies Record<string, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class CliError extends Error {
  code: string;
  exitCode: number;
  /** `code` is one of ERROR_CODES; the exit code defaults to the one declared for it. */
  constructor(message: string, code: string, exitCode?: number) {
    super(message);
    this.name = "CliError";
    this.code = code;
    this.exitCode = exitCode ?? (ERROR_CODES as Record<string, CodeInfo>)[code]?.exit ?? EXIT.USAGE;
  }
}

export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}
