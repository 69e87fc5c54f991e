// What a baseline run carries and returns: the options it runs with, the context every phase
// reads, what each phase hands the next (Preflight, Measured, Probed, the Calibration figures),
// and the report assembled from them. Types and one pure function; nothing here runs an eval
// or writes a file (the phases are preflight.ts, measure.ts, baseline.ts and record.ts).
import type { StatusLine } from "../cli/status-line.ts";
import type { LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Journal } from "../experiment/journal.ts";
import type { Round } from "../experiment/schema.ts";
import { displayPath } from "../files/paths.ts";
import type { EvalRun } from "../process/evaluator.ts";
import type { HoldoutMeasure, HoldoutReady } from "../harness/holdout-set.ts";

export type BaselineOptions = {
  runs: number;
  expectedGain: number | null;
  allowFew: boolean;
  allowInsensitive: boolean;
  branch: boolean;
  force: boolean;
  status: StatusLine;
  notes: (message: string) => void;
  /** Said after a failed baseline run's first line (an experiment in its own worktree: how to link ignored files). */
  evalFailureHint?: string;
};

export type BaselineReport = {
  round: number;
  score: number;
  mean: number;
  median: number;
  sd: number;
  spread: number;
  cv: number | null;
  deterministic: boolean;
  min_detectable_effect: number | null;
  /** Degrees of freedom behind min_detectable_effect (runs - 1); iterate's verdicts record theirs as verdict.df. */
  min_detectable_effect_df: number | null;
  min_delta: number;
  wild_runs: number[];
  runs: number[];
  /** score is the median of the guard's runs (as the score's); mean, sd and spread read its noise. */
  guard: {
    metric: string;
    op: string;
    /** Absolute: a relative guard resolved against the runs' mean; null when it printed no guard to resolve against. */
    threshold: number | null;
    /** The guard as shown, resolved: "latency_ms<=8.80 (baseline 8.00 ×1.10)", or "mrr>=0.9". */
    description: string;
    /** Its part after the operator: "0.9", "8.80 (baseline 8.00 ×1.10)". */
    threshold_text: string;
    score: number | null;
    pass: boolean | null;
    runs: number[];
    mean: number | null;
    sd: number | null;
    spread: number | null;
    /** The guard's mean is within its spread of the threshold: it can fail on noise alone. */
    near_threshold: boolean;
  } | null;
  expected_gain: number;
  noise_warning: string | null;
  /** faster: later runs were faster; warm: and the eval wrote files (a cache), so it is not start-up warm-up. */
  cache: {
    first_s: number;
    later_median_s: number | null;
    faster: boolean;
    warm: boolean;
    written: string[];
    note: string;
  };
  revert: { ok: boolean; note: string };
  probe: { method: string; sensitive: boolean; score: number | null; crashed: boolean; note: string };
  hashes: Record<string, string>;
  estimate: {
    eval_seconds: number;
    runs_per_iteration: number;
    iterations: number;
    total_minutes: number;
    note: string | null;
  };
  branch: string | null;
  commit: string;
  journal: string;
  backup: string | null;
  logs: string[];
  warnings: string[];
  /** The held-out set's score on the unchanged code (the person's figure; the agent's outputs never carry it). */
  holdout?: { score: number | null; runs: number[]; runs_per_measure: number; split: HoldoutReady["split"] } | null;
};

/** What every phase of one baseline run shares. */
export type Context = {
  loaded: LoadedExperiment;
  round: Round;
  stateDir: string;
  journalPath: string;
  options: BaselineOptions;
  warnings: string[];
  warn: (message: string) => void;
};

export type Preflight = {
  frozen: string[];
  journal: Journal;
  done: number;
  branch: string | null;
  commit: string;
  /** The held-out set checked (and split off the test data, when this baseline made the split); null without one. */
  heldOut?: HoldoutReady | null;
};

export type Measured = {
  evalRuns: EvalRun[];
  logs: string[];
  calibration: Calibration;
  expectedGain: number;
  noiseWarning: string | null;
  guard: BaselineReport["guard"];
  cache: BaselineReport["cache"];
  /** The held-out set's runs on the unchanged code, and how many each later measurement takes; null without one. */
  holdout?: { measure: HoldoutMeasure; runsPerMeasure: number } | null;
};

export type Probed = { probe: BaselineReport["probe"]; revert: BaselineReport["revert"] };

/** Calibration with the figures a finished baseline always has (every run succeeded). */
export type Calibration = {
  runs: number[];
  mean: number;
  median: number;
  sd: number;
  spread: number;
  cv: number | null;
  deterministic: boolean;
  wildRuns: number[];
  minDetectableEffect: number | null;
  recommendedMinDelta: number;
  resolution: number;
  warnings: string[];
};

/** The report baseline.ts prints (or --json): every figure measured, with paths shown for the person. */
export function toReport(
  context: Context,
  phases: { ready: Preflight; measured: Measured; probed: Probed },
  recorded: {
    hashes: Record<string, string>;
    estimate: BaselineReport["estimate"];
    shortHead: string;
    backup: string | null;
  },
): BaselineReport {
  const { calibration, guard } = phases.measured;
  return {
    round: context.round.round,
    score: calibration.median,
    mean: calibration.mean,
    median: calibration.median,
    sd: calibration.sd,
    spread: calibration.spread,
    cv: calibration.cv,
    deterministic: calibration.deterministic,
    min_detectable_effect: calibration.minDetectableEffect,
    min_detectable_effect_df: calibration.minDetectableEffect === null || calibration.deterministic
      ? null
      : calibration.runs.length - 1,
    min_delta: calibration.recommendedMinDelta,
    wild_runs: calibration.wildRuns ?? [],
    runs: calibration.runs,
    guard,
    expected_gain: phases.measured.expectedGain,
    noise_warning: phases.measured.noiseWarning,
    cache: phases.measured.cache,
    ...phases.probed,
    hashes: recorded.hashes,
    estimate: recorded.estimate,
    branch: phases.ready.branch,
    commit: recorded.shortHead,
    journal: displayPath(context.journalPath),
    backup: recorded.backup ? displayPath(recorded.backup) : null,
    logs: phases.measured.logs.map((log) => displayPath(log)),
    warnings: context.warnings,
    ...(phases.measured.holdout
      ? {
        holdout: {
          score: phases.measured.holdout.measure.score,
          runs: phases.measured.holdout.measure.runs,
          runs_per_measure: phases.measured.holdout.runsPerMeasure,
          split: phases.ready.heldOut?.split ?? null,
        },
      }
      : {}),
  };
}
