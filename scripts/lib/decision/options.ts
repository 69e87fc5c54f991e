// The decision engine's vocabulary: its options with their defaults and checks, the run and guard
// shapes every part shares, orienting a score so higher is better, and how figures are printed.
// Pure data and validation: it does not pool noise (noise.ts), decide (decide.ts) or read the
// experiment file (state.ts maps its `decision:` block onto these options); its defaults are
// the experiment file's (experiment/defaults.ts).
// Example: resolveDecisionOptions({ falseKeepRate: 0.1 }).perLookLevel -> 0.072

import { CliError } from "../cli/errors.ts";
import { DEFAULTS, NOISE_MODELS } from "../experiment/defaults.ts";
import type { MeasureStyle } from "../text/number-format.ts";

export type Direction = "max" | "min";
export type GuardOperator = ">=" | "<=" | ">" | "<";

export interface DecisionOptions {
  direction: Direction;
  /** alpha: the false-keep rate the procedure is tuned for (the one user knob). */
  falseKeepRate: number;
  /** One-sided significance level of each sequential look (the first look's: firstLookLevel). */
  perLookLevel: number;
  /** The first look's level: lower than later looks' under shared incumbent runs (see SHARED_LOOK_SHARES). */
  firstLookLevel: number;
  /** Runs a candidate gets; under shared incumbent runs a promising one may go on to three times as many. */
  maxCandidateRuns: number;
  /** Incumbent runs measured while it is incumbent (the runs that selected it not counted). */
  maxIncumbentRuns: number;
  /**
   * 0: a new incumbent starts from the runs that selected it and gets fresh runs beside later
   * candidates' runs (shared incumbent runs, the default). N >= 1: the earlier rule, N fresh runs
   * after every keep and the selecting runs never reused.
   */
  freshIncumbentRuns: number;
  baselineRuns: number;
  /** Smallest gain worth keeping, in metric units (>= 0, whatever the direction). */
  minEffect: number;
  /**
   * Print resolution of the score, in metric units: differences below half of it are ties and its
   * rounding error floors the noise. As a setting, null reads it from the scores the eval printed
   * (printedResolution); resolveDecisionOptions always returns a number.
   */
  resolution: number;
  /**
   * How much worse than the incumbent a simplification may score and still count as "not worse"
   * (metric units); null: the tie test's minimum detectable effect (deterministic eval:
   * resolution / 2, no loss). A tiebreak's tie uses the main test's minimum detectable effect.
   */
  simplifyMargin: number | null;
  /** Run cap of a candidate on a tie route (a simplification or a tiebreak), and of its incumbent. */
  maxTieRuns: number;
  /**
   * The smallest true gain worth finding (metric units), or null. Under shared incumbent runs a
   * candidate then gets the runs it takes to find such a gain with 80% power, and is given up only
   * once its gain is clearly below it: more runs per candidate, more small gains found.
   */
  targetGain: number | null;
  /**
   * How a version's noise relates to its score (noise.ts): "constant" pools one sd for every
   * version; "proportional" also pools the sd as a share of each version's score and takes the
   * larger at the score being judged; "auto" does that once the versions' runs show it.
   */
  noiseModel: NoiseModel;
}

export type NoiseModel = (typeof NOISE_MODELS)[number];

/** Every option set, the resolution perhaps still null: read from the scores once they are known. */
export type DecisionSetup = Omit<DecisionOptions, "resolution"> & { resolution: number | null };

/** The options as callers give them: any may be left out, and the resolution may be null (read from the scores). */
export type DecisionSettings = Partial<DecisionSetup>;

/** One eval run: its SCORE, the guard metric if any, its `CASE <id> <value>` lines, its tiebreak metrics. */
export interface Run {
  score: number;
  guard?: number | null;
  cases?: Record<string, number>;
  /** Values this run printed for the tiebreak metrics, by metric name as configured (a missing one has no key). */
  tiebreaks?: Record<string, number>;
}

/** A secondary objective, judged only when the main metric is tied. */
export interface TiebreakConfig {
  metric: string;
  direction: Direction;
}

/** A guard as the engine judges it: its threshold is absolute (a relative guard is resolved before). */
export interface GuardConfig {
  metric: string;
  op: GuardOperator;
  threshold: number;
}

// The earlier rule (freshIncumbentRuns >= 1). DECISION.md proposes 0.02 per look for alpha 0.05. Measured with bench/decision.ts over
// seeds 1-8 (1000 sessions each), 0.02 keeps 3.65-4.21% of no-op candidates in the
// "noise ~ effect" scenario (2 of 8 seeds over the 4% target): looks right after a keep,
// when the new incumbent has only its 2 fresh runs, keep more no-ops. 0.017 (0.34 alpha)
// keeps 3.18-3.56% on every seed with the true gain still above keep-if-beats-best's and
// evals at 90 of the 93 allowed. The same share scales the level for other alphas.
const PER_LOOK_SHARE_OF_ALPHA = 0.34;

// Shared incumbent runs (freshIncumbentRuns 0): a new incumbent's reference starts from the runs
// that selected it, which overstate it (winner's curse) and so only make later keeps harder, and
// has at least two runs before a look; a keep with a gain as large as a drift waits for an
// incumbent run beside the candidate (the drift check); futility bounds rise with the looks
// (decide.ts). Tuned with bench/decision.ts over seeds 1-8 (scenario A: evals, true gain against
// keep-if-beats-best, no-op keeps <= 4%, with and without case lines; Z; R): the first look, taken
// against the fewest runs, gets 0.2 alpha; later looks 0.8 alpha. Once the incumbent no longer ran
// beside every look (decide.ts INCUMBENT_LEAD), moving level from the first look to later ones
// (from 0.4 and 0.72) kept the true gain with 0.5 evals a session fewer: a gain kept on one run
// against a two-run reference is the likeliest no-op keep, and a real one is found a look later.
const SHARED_LOOK_SHARES = { first: 0.2, later: 0.8 };

// The experiment file's `decision:` defaults (their one home), in the engine's names.
const SCHEMA_DEFAULTS = DEFAULTS.decision;

export const DEFAULT_DECISION_OPTIONS: Readonly<DecisionSetup> = Object.freeze({
  direction: "max",
  falseKeepRate: SCHEMA_DEFAULTS.false_keep_rate,
  perLookLevel: lookLevelsFor(SCHEMA_DEFAULTS.false_keep_rate, SCHEMA_DEFAULTS.fresh_incumbent_runs).later,
  firstLookLevel: lookLevelsFor(SCHEMA_DEFAULTS.false_keep_rate, SCHEMA_DEFAULTS.fresh_incumbent_runs).first,
  maxCandidateRuns: SCHEMA_DEFAULTS.max_runs,
  maxIncumbentRuns: SCHEMA_DEFAULTS.max_incumbent_runs,
  freshIncumbentRuns: SCHEMA_DEFAULTS.fresh_incumbent_runs,
  baselineRuns: SCHEMA_DEFAULTS.baseline_runs,
  minEffect: SCHEMA_DEFAULTS.min_effect,
  resolution: SCHEMA_DEFAULTS.resolution,
  simplifyMargin: null,
  maxTieRuns: SCHEMA_DEFAULTS.max_tie_runs,
  targetGain: SCHEMA_DEFAULTS.target_gain,
  noiseModel: SCHEMA_DEFAULTS.noise_model,
});

// A tie route (a simplification's "not worse", a tiebreak's "better") runs longer than the main
// test (up to maxTieRuns looks) and adds its own false keeps to the main test's, so each of its
// looks gets a smaller share. Tuned with bench/decision.ts scenarios S and T (see README): the
// tiebreak's "better" adds to the main test's false keeps on a no-op, so it gets the smaller share.
// The earlier rule: the tie test 0.2, the tiebreak 0.135 (at 0.2 it kept 6% of no-ops, at 0.12 it
// found under 73% of +1σ tiebreaks). Under shared incumbent runs the main test keeps a few more
// no-ops, so the tiebreak's share is 0.11 (T: no-op keeps 4.1-4.4%, +1σ tiebreaks found 71.2-72.0%,
// with the main test at 0.8 of its level beside tiebreaks) and the tie test's 0.3 (S: no-change
// simplifications kept 84.7-85.6%).
const TIE_SHARES = { shared: { tie: 0.3, tiebreak: 0.11 }, earlier: { tie: 0.2, tiebreak: 0.135 } };

function tieShares(options: Pick<DecisionOptions, "freshIncumbentRuns">) {
  return sharesIncumbentRuns(options) ? TIE_SHARES.shared : TIE_SHARES.earlier;
}

/** Per-look level of the main metric's tie test: 0.015 at alpha 0.05 (0.01 under the earlier rule). */
export function tieLevelFor(options: Pick<DecisionOptions, "falseKeepRate" | "freshIncumbentRuns">): number {
  return options.falseKeepRate * tieShares(options).tie;
}

/**
 * The level a simplification's default margin is sized at: the loss a tie test at the earlier
 * rule's 0.2 alpha could see. Sized at the shared rule's 0.3 alpha the margin shrank and a no-change
 * simplification was kept 80.0-80.9% of the time; at 0.2 alpha 84.7-84.8%, a true -1σ regression
 * 3.9-4.2% (bench/decision.ts scenario S, seeds 3 and 8).
 */
export function simplifyMarginLevelFor(options: Pick<DecisionOptions, "falseKeepRate">): number {
  return options.falseKeepRate * TIE_SHARES.earlier.tie;
}

/** Per-look level of a tiebreak's "better" test: 0.0055 at alpha 0.05 (0.00675 under the earlier rule). */
export function tiebreakLevelFor(options: Pick<DecisionOptions, "falseKeepRate" | "freshIncumbentRuns">): number {
  return options.falseKeepRate * tieShares(options).tiebreak;
}

/**
 * Per-look levels for a false-keep rate: lookLevelsFor(0.05, 0) -> { first: 0.01, later: 0.04 }
 * (shared incumbent runs); lookLevelsFor(0.05, 2) -> 0.017 for every look (the earlier rule).
 */
export function lookLevelsFor(falseKeepRate: number, freshIncumbentRuns: number): { first: number; later: number } {
  if (sharesIncumbentRuns({ freshIncumbentRuns })) {
    return { first: falseKeepRate * SHARED_LOOK_SHARES.first, later: falseKeepRate * SHARED_LOOK_SHARES.later };
  }
  const level = falseKeepRate * PER_LOOK_SHARE_OF_ALPHA;
  return { first: level, later: level };
}

/** Whether a new incumbent keeps the runs that selected it (freshIncumbentRuns 0). */
export function sharesIncumbentRuns(options: Pick<DecisionOptions, "freshIncumbentRuns">): boolean {
  return options.freshIncumbentRuns === 0;
}

// Under shared incumbent runs a promising candidate may go on to 3x maxCandidateRuns; with a target
// gain, to the runs that find it (noise.ts plannedRuns), at most 6x.
const EXTENDED_RUN_FACTOR = 3;
const TARGET_RUN_FACTOR = 6;

/**
 * Runs a candidate may get at most: maxCandidateRuns under the earlier rule; under shared incumbent
 * runs three times as many for a promising one, six times with a target gain.
 */
export function candidateRunCap(
  options: Pick<DecisionOptions, "freshIncumbentRuns" | "maxCandidateRuns" | "targetGain">,
): number {
  if (!sharesIncumbentRuns(options)) return options.maxCandidateRuns;
  return (options.targetGain === null ? EXTENDED_RUN_FACTOR : TARGET_RUN_FACTOR) * options.maxCandidateRuns;
}

// The finest print resolution read from scores: a score printed with Python's repr (0.7133333333333334)
// carries rounding noise in its last digits, which a change that only reorders a sum can move; a
// float32 computation (numpy, a GPU) keeps about seven significant digits, so six are read.
const MAX_PRINTED_DECIMALS = 12;
const PRINTED_SIGNIFICANT_DIGITS = 6;
// The coarsest: a score printed with fewer decimals (0.75, 12) is still compared to 4 decimals, as
// the resolution 0.0001 every experiment file had before it could be read from the scores.
const COARSEST_PRINTED_RESOLUTION = 1e-4;

/**
 * The decimals of a number as JavaScript prints it: 0.8917 -> 4, 12 -> 0, 1.5e-7 -> 8. Parsed
 * scores lose trailing zeros ("0.7120" -> 0.712), so over several values the most decimals count.
 */
function decimalsOf(value: number): number {
  const text = String(Math.abs(value));
  const exponent = text.indexOf("e");
  const mantissa = exponent === -1 ? text : text.slice(0, exponent);
  const dot = mantissa.indexOf(".");
  const fraction = dot === -1 ? 0 : mantissa.length - dot - 1;
  return Math.max(0, fraction - (exponent === -1 ? 0 : Number(text.slice(exponent + 1))));
}

/**
 * A side metric's print resolution, read from the decimals its values were printed with
 * (0.8917 -> 1e-4, 12 -> 1, at most 12 decimals): the main score's resolution says nothing about
 * a guard in ms or a tiebreak printed with six decimals.
 */
export function printResolution(values: readonly number[]): number {
  let decimals = 0;
  for (const value of values) if (Number.isFinite(value)) decimals = Math.max(decimals, decimalsOf(value));
  return 10 ** -Math.min(decimals, MAX_PRINTED_DECIMALS);
}

/**
 * The score's resolution when decision.resolution is null: what the eval printed (printResolution),
 * no finer than 6 significant digits of the largest score, no coarser than 0.0001. An MSE printed
 * as 0.00001019 -> 1e-8; an accuracy printed as 0.7120 or 0.75 -> 1e-4; no scores -> 1e-4.
 */
export function printedResolution(scores: readonly number[]): number {
  const finite = scores.filter(Number.isFinite);
  if (finite.length === 0) return COARSEST_PRINTED_RESOLUTION;
  const largest = Math.max(...finite.map(Math.abs));
  const significant = largest > 0 ? 10 ** (Math.floor(Math.log10(largest)) - (PRINTED_SIGNIFICANT_DIGITS - 1)) : 0;
  return Math.min(COARSEST_PRINTED_RESOLUTION, Math.max(printResolution(finite), significant));
}

/**
 * Defaults < overrides. When only falseKeepRate is given, perLookLevel follows it. A null
 * resolution is read from `scores`, the scores being compared (printedResolution).
 * Throws on values the procedure cannot work with, naming the option and value.
 */
export function resolveDecisionOptions(
  overrides: DecisionSettings = {},
  scores: readonly number[] = [],
): DecisionOptions {
  const defined = Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined));
  const merged = { ...DEFAULT_DECISION_OPTIONS, ...defined };
  const options: DecisionOptions = { ...merged, resolution: merged.resolution ?? printedResolution(scores) };
  // Look levels follow the false-keep rate and the rule unless given.
  const levels = lookLevelsFor(options.falseKeepRate, options.freshIncumbentRuns);
  if (overrides.perLookLevel === undefined) options.perLookLevel = levels.later;
  if (overrides.firstLookLevel === undefined) {
    options.firstLookLevel = overrides.perLookLevel === undefined ? levels.first : options.perLookLevel;
  }
  if (options.direction !== "max" && options.direction !== "min") {
    throw new CliError(
      `Cannot use decision option direction "${options.direction}": it must be "max" or "min"`,
      "E_DECISION_OPTION",
    );
  }
  for (const name of ["falseKeepRate", "perLookLevel", "firstLookLevel"] as const) {
    if (!(options[name] > 0 && options[name] < 0.5)) {
      throw new CliError(
        `Cannot use decision option ${name} "${options[name]}": it must be between 0 and 0.5`,
        "E_DECISION_OPTION",
      );
    }
  }
  if (!(Number.isInteger(options.freshIncumbentRuns) && options.freshIncumbentRuns >= 0)) {
    throw new CliError(
      `Cannot use decision option freshIncumbentRuns "${options.freshIncumbentRuns}": it must be a whole number >= 0`,
      "E_DECISION_OPTION",
    );
  }
  for (const name of ["maxCandidateRuns", "maxIncumbentRuns", "baselineRuns", "maxTieRuns"] as const) {
    if (!(Number.isInteger(options[name]) && options[name] >= 1)) {
      throw new CliError(
        `Cannot use decision option ${name} "${options[name]}": it must be a whole number >= 1`,
        "E_DECISION_OPTION",
      );
    }
  }
  if (!(options.minEffect >= 0)) {
    throw new CliError(
      `Cannot use decision option minEffect "${options.minEffect}": it must be >= 0 (metric units)`,
      "E_DECISION_OPTION",
    );
  }
  if (options.simplifyMargin !== null && !(options.simplifyMargin >= 0)) {
    throw new CliError(
      `Cannot use decision option simplifyMargin "${options.simplifyMargin}": it must be >= 0 (metric units)`,
      "E_DECISION_OPTION",
    );
  }
  if (options.targetGain !== null && !(options.targetGain > 0)) {
    throw new CliError(
      `Cannot use decision option targetGain "${options.targetGain}": it must be above 0 (metric units), or null`,
      "E_DECISION_OPTION",
    );
  }
  if (options.targetGain !== null && !sharesIncumbentRuns(options)) {
    throw new CliError(
      `Cannot use decision option targetGain "${options.targetGain}" with freshIncumbentRuns ${options.freshIncumbentRuns}: a target gain needs shared incumbent runs (freshIncumbentRuns 0)`,
      "E_DECISION_OPTION",
    );
  }
  if (!(NOISE_MODELS as readonly string[]).includes(options.noiseModel)) {
    throw new CliError(
      `Cannot use decision option noiseModel "${options.noiseModel}": it must be one of ${NOISE_MODELS.join(", ")}`,
      "E_DECISION_OPTION",
    );
  }
  if (!(options.resolution > 0)) {
    throw new CliError(
      `Cannot use decision option resolution "${options.resolution}": it must be > 0`,
      "E_DECISION_OPTION",
    );
  }
  return options;
}

/** Higher is better after orienting: y = score when maximizing, -score when minimizing. */
export function orient(score: number, direction: Direction): number {
  return direction === "max" ? score : -score;
}

/** Null for a figure that is missing or not finite, so verdicts and calibrations never carry NaN. */
export function finiteOrNull(value: number | null | undefined): number | null {
  return value !== null && value !== undefined && Number.isFinite(value) ? value : null;
}

function decimalsFor(resolution: number): number {
  return Math.min(Math.max(Math.ceil(-Math.log10(resolution) - 1e-9), 0), 12);
}

/**
 * Prints scores to the resolution's decimals, signed deltas, and t statistics to two decimals.
 * With `whole` (a whole-number metric, see isWholeNumberMetric) a score or delta that rounds to
 * an integer is written without decimals, like the step line beside it: "10 against 12 (-2)".
 */
export function formatter(options: DecisionOptions, style: MeasureStyle = {}) {
  const decimals = decimalsFor(options.resolution);
  const score = (value: number) => {
    const fixed = value.toFixed(decimals);
    const rounded = Number(fixed);
    if (!style.whole || !Number.isInteger(rounded)) return fixed;
    return String(Object.is(rounded, -0) ? 0 : rounded);
  };
  return {
    score,
    signed: (value: number) => (value >= 0 ? "+" : "") + score(value),
    t: (value: number) => value.toFixed(2),
  };
}
