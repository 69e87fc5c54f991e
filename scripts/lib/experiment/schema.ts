// The experiment file's zod schemas, built on first use, and the types they define (Experiment,
// Round, Baseline, Guard). Defaults come from defaults.ts. zod (~43 ms of start-up) loads only
// when a schema is first asked for (or is preloaded by a command that will need it): a load the
// parsed-experiment cache answers never needs it.
// It reads and writes no file; experiment-file.ts does.
import type { z } from "zod";
import { importPackage, requirePackage } from "../cli/packages.ts";
import { metricFormulaProblem } from "../process/eval-output.ts";
import { runnerTemplateProblem } from "../process/eval-runner.ts";
import {
  DEFAULTS,
  DIRECTIONS,
  GUARD_OPS,
  HOLDOUT_LIMITS,
  NOISE_MODELS,
  SCHEMA_VERSION,
  UNSTATED_DECISION_DEFAULTS,
} from "./defaults.ts";

type ZodNamespace = typeof z;
let zodModule: ZodNamespace | null = null;
let schemas: Schemas | null = null;

/** The experiment file's zod schemas, built on first use. */
export function experimentSchemas(): Schemas {
  zodModule ??= (requirePackage("experimentFile", "zod") as { z: ZodNamespace }).z;
  schemas ??= buildSchemas(zodModule);
  return schemas;
}

/**
 * Load zod ahead, for a command that will validate anyway (baseline, init, next-round): an
 * import takes ~15 ms less than the `require` experimentSchemas falls back to, which loads
 * zod's CommonJS build.
 */
export async function preloadZod(): Promise<void> {
  zodModule ??= ((await importPackage("experimentFile", "zod")) as { z: ZodNamespace }).z;
}

type Schemas = ReturnType<typeof buildSchemas>;

function buildSchemas(z: ZodNamespace) {
  const { decision, budget } = DEFAULTS;
  // Absolute (`threshold`) or relative to the round's baseline (`baseline_offset`, `baseline_factor`,
  // resolved by guard.ts's resolveGuard): exactly one of the three.
  const GuardSchema = z.strictObject({
    metric: z.string().min(1),
    op: z.enum(GUARD_OPS, { message: `must be one of ${GUARD_OPS.join(" ")}` }),
    threshold: z.number({ message: "must be a number" }).optional(),
    baseline_offset: z.number({ message: "must be a number (metric units added to the baseline)" }).optional(),
    baseline_factor: z.number({ message: "must be a number" }).gt(0, "must be above 0 (1.10 is 10% above the baseline)")
      .optional(),
  }).superRefine((guard, context) => {
    const given = [guard.threshold, guard.baseline_offset, guard.baseline_factor].filter((value) =>
      value !== undefined
    );
    if (given.length !== 1) {
      context.addIssue({
        code: "custom",
        message:
          `needs exactly one of threshold (mrr>=0.9), baseline_offset (mrr>=baseline-0.02) or baseline_factor (latency_ms<=baseline*1.10), not ${
            given.length === 0 ? "none" : given.length
          }`,
      });
    }
  });

  const DecisionSchema = z.strictObject({
    false_keep_rate: z.number().gt(0, "must be above 0").lt(0.5, "must be below 0.5").default(decision.false_keep_rate),
    max_runs: z.number().int("must be a whole number").min(1, "must be at least 1").max(50, "must be at most 50")
      .default(
        decision.max_runs,
      ),
    min_effect: z.number().min(0, "must be 0 or more (metric units)").default(decision.min_effect),
    baseline_runs: z.number().int().min(1).max(100).default(decision.baseline_runs),
    // A file that leaves these out keeps the rule it was baselined with (UNSTATED_DECISION_DEFAULTS).
    fresh_incumbent_runs: z.number().int().min(0).max(20).default(UNSTATED_DECISION_DEFAULTS.fresh_incumbent_runs),
    max_incumbent_runs: z.number().int().min(1).max(100).default(UNSTATED_DECISION_DEFAULTS.max_incumbent_runs),
    // The score's print resolution (metric units); null: read from the scores the eval prints.
    resolution: z.number().positive("must be above 0, or null to read it from the scores").nullable()
      .default(UNSTATED_DECISION_DEFAULTS.resolution),
    // Runs a candidate on a tie route (a simplification, a tiebreak) and its incumbent may take.
    max_tie_runs: z.number().int().min(1).max(100).default(decision.max_tie_runs),
    // A simplification's non-inferiority margin (metric units); null: the engine's default, the MDE.
    simplify_margin: z.number().min(0, "must be 0 or more (metric units), or null for the default").nullable()
      .default(decision.simplify_margin),
    // The smallest true gain worth finding (metric units): candidates get the runs it takes.
    target_gain: z.number().gt(0, "must be above 0 (metric units), or null").nullable().default(decision.target_gain),
    // How the noise relates to the score (decision/noise.ts): auto, constant or proportional.
    noise_model: z.enum(NOISE_MODELS).default(decision.noise_model),
  }).superRefine((value, context) => {
    if (value.target_gain !== null && value.fresh_incumbent_runs >= 1) {
      context.addIssue({
        code: "custom",
        path: ["target_gain"],
        message:
          `needs shared incumbent runs: set decision.fresh_incumbent_runs to 0 (and max_incumbent_runs to ${decision.max_incumbent_runs})`,
      });
    }
  });

  const BudgetSchema = z.strictObject({
    iterations: z.number().int().min(1, "must be at least 1").default(budget.iterations),
    max_hours: z.number().positive().nullable().default(budget.max_hours),
    plateau: z.number().int().min(1).default(budget.plateau), // non-keeps in a row that end a loop
    crash_streak: z.number().int().min(1).default(budget.crash_streak),
    // The round's agent spend (cost_usd on its lines) that stops the loop. Optional, no default:
    // files without it load as they did.
    max_cost_usd: z.number().positive().nullable().optional(),
  });

  // Optional, no default (loopSettings fills it in): an older file's loaded form is unchanged.
  const LoopSchema = z.strictObject({
    retry_minutes: z.number().min(0).optional(),
    retry_base_seconds: z.number().positive().optional(),
    rate_limit_patterns: z.array(
      z.string().min(1, "must not be empty").refine((source) => {
        try {
          new RegExp(source, "i");
          return true;
        } catch {
          return false;
        }
      }, "must be a valid regular expression"),
    ).optional(),
  });

  const BaselineSchema = z.strictObject({
    score: z.number(), // the median of the runs, as the seed's config header records it
    mean: z.number(),
    sd: z.number(),
    runs: z.array(z.number()),
    guard_score: z.number().nullable(), // the median of the guard's runs
    guard_mean: z.number().nullable().optional(), // their mean: what a relative guard is resolved against
    deterministic: z.boolean(),
    min_detectable_effect: z.number().nullable(),
    min_delta: z.number(),
    eval_seconds: z.number(),
    commit: z.string(),
    measured_at: z.string(),
    holdout_score: z.number().nullable().optional(), // the held-out set's mean on the unchanged code
    holdout_runs: z.array(z.number()).optional(),
  });

  const EvalSchema = z.strictObject({
    command: z.string().min(1, "must not be empty"),
    script: z.string().nullable().default(null), // generated eval, frozen; null when the user brought one
    timeout_s: z.number().positive("must be above 0 seconds").default(DEFAULTS.eval.timeout_s),
    // Left out when unused (EVAL_RUNNER_DEFAULTS), so files without them keep their measurement fingerprint.
    // A template wrapping the eval, e.g. `srun --ntasks=1 --cpus-per-task={cpus} {command}`; null: run it here.
    runner: z.string().min(1, "must not be empty (null runs the eval here)").nullable().optional().superRefine(
      (template, context) => {
        const problem = typeof template === "string" ? runnerTemplateProblem(template) : null;
        if (problem) context.addIssue({ code: "custom", message: `"${template}" ${problem}` });
      },
    ),
    runner_retries: z.number().int("must be a whole number").min(0, "must be 0 or more").max(
      20,
      "must be at most 20",
    ).optional(),
    cpus: z.number().int("must be a whole number").min(1, "must be at least 1").optional(),
    // iterate --parallel: eval runs at once across workers (default: one per worker); left out when unused.
    concurrency: z.number().int("must be a whole number").min(1, "must be at least 1").optional(),
  });

  const RoundSchema = z.strictObject({
    round: z.number().int().min(1),
    status: z.enum(["open", "closed"]),
    constrained_files: z.array(z.string().min(1)).min(1, "must list at least one file"),
    eval: EvalSchema,
    artifacts: z.strictObject({
      journal: z.string(),
      dashboard: z.string(),
      instructions: z.string(),
      launch_prompt: z.string(),
      report: z.string(),
    }),
    focus: z.string().nullable().default(null),
    baseline: BaselineSchema.nullable().default(null),
    integrity: z.record(z.string(), z.string()).default({}), // path -> sha256 of frozen files
  });

  const ExperimentSchema = z.strictObject({
    version: z.literal(SCHEMA_VERSION, { message: `must be ${SCHEMA_VERSION}` }),
    name: z.string().regex(/^[A-Za-z0-9._-]+$/, "must use letters, digits, '.', '_' or '-' only"),
    current_round: z.number().int().min(1),
    language: z.string(),
    project: z.string(),
    entry: z.strictObject({
      name: z.string(),
      signature: z.string(),
      line: z.number().int(),
      file: z.string().optional(), // when the entry is in another file than the constrained one
    }).nullable().default(null),
    metric: z.strictObject({
      name: z.string().min(1),
      direction: z.enum(DIRECTIONS, { message: 'must be "max" or "min"' }),
      // Checked on load, so a bad formula stops every script before it branches, locks or runs the eval.
      formula: z.string().nullable().default(null).superRefine((formula, context) => {
        const problem = formula === null ? null : metricFormulaProblem(formula);
        if (problem) context.addIssue({ code: "custom", message: `"${formula}" ${problem}` });
      }),
      // null: the eval's SCORE line is the score. A name (or formula): the score is read from the
      // eval's named metric lines instead; next-round --metric sets it when SCORE still means an
      // earlier round's metric.
      score_from: z.string().nullable().optional().superRefine((source, context) => {
        const problem = source === null || source === undefined ? null : metricFormulaProblem(source);
        if (problem) context.addIssue({ code: "custom", message: `"${source}" ${problem}` });
      }),
    }),
    guard: GuardSchema.nullable().default(null),
    // Secondary objectives in order: a change tied on the main metric that improves one is kept.
    tiebreaks: z.array(z.strictObject({
      metric: z.string().min(1),
      direction: z.enum(DIRECTIONS, { message: 'must be "max" or "min"' }),
    })).default(() => []),
    expected_gain: z.number().positive().nullable().default(null),
    test_data: z.string().nullable().default(null),
    // Labelled cases the agent is never pointed at, scored with the same eval at baseline and at each keep.
    holdout: z.strictObject({
      path: z.string().min(1, "must not be empty"), // relative to the experiment folder
      split: z.number().gt(0, "must be above 0").max(
        HOLDOUT_LIMITS.max_split,
        `must be at most ${HOLDOUT_LIMITS.max_split}`,
      )
        .nullable().default(null), // the share --holdout-split took out of the test data, or null
      seed: z.number().int("must be a whole number").nullable().default(null), // the split's shuffle seed
      runs: z.number().int("must be a whole number").min(1, "must be at least 1").max(100).default(
        DEFAULTS.holdout.runs,
      ),
    }).nullable().default(null),
    frozen: z.array(z.string()).default([]),
    branch: z.string().nullable().default(null),
    decision: DecisionSchema.default(() => ({ ...decision, ...UNSTATED_DECISION_DEFAULTS })),
    budget: BudgetSchema.default(() => ({ ...budget })),
    loop: LoopSchema.optional(),
    rounds: z.array(RoundSchema).min(1),
  });
  return { GuardSchema, DecisionSchema, BudgetSchema, BaselineSchema, EvalSchema, RoundSchema, ExperimentSchema };
}

export type Experiment = z.infer<Schemas["ExperimentSchema"]>;
export type Round = z.infer<Schemas["RoundSchema"]>;
export type Baseline = z.infer<Schemas["BaselineSchema"]>;
export type Guard = z.infer<Schemas["GuardSchema"]>;
export type Tiebreak = Experiment["tiebreaks"][number];
export type Holdout = NonNullable<Experiment["holdout"]>;
