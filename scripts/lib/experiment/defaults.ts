// The experiment file's defaults and fixed vocabulary as plain data: the one home of those
// numbers. The zod schema (experiment-file.ts) fills missing fields from here; the decision
// engine, init's questions and help texts read them here without loading zod. It validates
// nothing and reads no file.

/** The experiment file's format version (its `version:` field). */
export const SCHEMA_VERSION = 1;

export const DIRECTIONS = ["max", "min"] as const;
/**
 * How a version's run-to-run noise relates to its score: the same for every version (constant),
 * a share of the score (proportional: timings, throughput), or whichever the runs show (auto).
 */
export const NOISE_MODELS = ["auto", "constant", "proportional"] as const;
export const GUARD_OPS = [">=", "<=", ">", "<"] as const;

/** Every default of the experiment file, in the schema's field order. */
export const DEFAULTS = Object.freeze({
  decision: Object.freeze({
    false_keep_rate: 0.05,
    max_runs: 5,
    min_effect: 0, // metric units
    baseline_runs: 3,
    fresh_incumbent_runs: 0, // 0: a new incumbent starts from the runs that selected it (shared incumbent runs)
    max_incumbent_runs: 5,
    resolution: null as number | null, // metric units; null: read from the scores the eval prints (at most 0.0001)
    max_tie_runs: 20, // runs a tie route (simplification, tiebreak) may take: see bench/decision.ts scenarios S and T
    simplify_margin: null as number | null, // metric units; null: the tie test's minimum detectable effect
    target_gain: null as number | null, // metric units; null: the regular run caps and futility bounds
    noise_model: "auto" as (typeof NOISE_MODELS)[number], // init writes proportional for a timing metric
  }),
  budget: Object.freeze({
    iterations: 30,
    max_hours: null as number | null,
    plateau: 10, // non-keeps in a row that end a loop
    crash_streak: 3,
  }),
  // How the loop keeps a long run alive: a transient agent failure (exit 75, or its output's last
  // lines matching one of the patterns) is called again after 5, 10, 20 ... s (capped at 5 min),
  // for at most retry_minutes in all. Not measurement fields: they change no score.
  loop: Object.freeze({
    retry_minutes: 30,
    retry_base_seconds: 5,
    rate_limit_patterns: Object.freeze([
      "rate.?limit",
      "(http|status|error|code)\\W{0,3}429\\b|\\b429 too many",
      "too many requests",
      "overloaded",
      "quota (exceeded|exhausted)|exceeded (your|the)? ?(current )?quota|insufficient_quota",
      "usage limit",
    ]) as readonly string[],
  }),
  eval: Object.freeze({
    timeout_s: 900, // seconds
  }),
  holdout: Object.freeze({
    runs: 1, // eval runs per held-out measurement; baseline raises it to decision.baseline_runs for a noisy eval
  }),
});

/**
 * What an experiment file that leaves these decision keys out gets: the rule before shared
 * incumbent runs (2 fresh runs after every keep) and the fixed resolution 0.0001, which such a
 * file was baselined with, so an upgrade changes neither its rule nor its measurement fingerprint.
 * init writes DEFAULTS.decision's values (shared incumbent runs, the resolution read from the
 * scores) into every new file.
 */
export const UNSTATED_DECISION_DEFAULTS = Object.freeze({
  fresh_incumbent_runs: 2,
  max_incumbent_runs: 6,
  resolution: 1e-4 as number | null,
});

/**
 * What a round's eval gets when it leaves eval.runner, eval.runner_retries or eval.cpus out: no
 * runner (the eval runs here, as before runners existed), so those keys stay out of the files init
 * writes and out of the measurement fingerprint of files that do not use them.
 */
export const EVAL_RUNNER_DEFAULTS = Object.freeze({
  runner: null as string | null,
  runner_retries: 2, // new attempts after the runner failed (job cancelled, node lost, queue refused)
  cpus: 1, // the {cpus} a runner template asks the scheduler for
});

/** The bounds of init --holdout-split: the share of cases held out, and the cases each side must keep. */
export const HOLDOUT_LIMITS = Object.freeze({ max_split: 0.9, min_cases: 5 });

/** Seconds one call of the owner's coding agent may take: init --agent writing the eval (iterate has --agent-timeout). */
export const AGENT_TIMEOUT_S = 1800;
