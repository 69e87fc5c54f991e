// The held-out scenario of bench/decision.ts (O): sessions decided by the real engine on the eval
// set, with the held-out set measured at the baseline and at every keep as the harness does, and
// the overfitting signal (scripts/lib/experiment/holdout.ts) read from the session's journal lines.
// In honest sessions every gain carries over to unseen cases; in overfitting sessions the kept
// gains are partly fitted to the eval's cases (a share of each reaches the held-out set). The
// warning must fire in most overfitting sessions and almost no honest one.

import { discardCandidate, initialDecisionState, promoteCandidate } from "../scripts/lib/decision/decide.ts";
import type { DecisionState } from "../scripts/lib/decision/decide.ts";
import type { DecisionOptions } from "../scripts/lib/decision/options.ts";
import { overfitting } from "../scripts/lib/experiment/holdout.ts";
import type { ResultLine } from "../scripts/lib/experiment/journal.ts";
import { createRandom, type Random } from "./seeded-random.ts";
import { settleCandidate } from "./engine-driver.ts";

const CANDIDATES = 30;
const BASELINE_RUNS = 3;
const HOLDOUT_RUNS = 3;
const RESOLUTION = 1e-4;
const SIGMA = 0.01; // run sd of the eval-set score
const HOLDOUT_SIGMA = SIGMA * Math.sqrt(0.7 / 0.3); // the held-out set is 30% of the cases: noisier

interface Variant {
  label: string;
  /** Share of a kept gain that reaches the held-out set. */
  carriedOver: number;
  overfitting: boolean;
}

export const HOLDOUT_VARIANTS: Variant[] = [
  { label: "honest: every gain carries over", carriedOver: 1, overfitting: false },
  { label: "overfitting: a quarter of each gain carries over", carriedOver: 0.25, overfitting: true },
  { label: "overfitting: half of each gain carries over", carriedOver: 0.5, overfitting: true },
];

function round(value: number): number {
  return Math.round(value / RESOLUTION) * RESOLUTION;
}

/** One session's journal result lines (baseline first), as iterate writes them, held-out fields included. */
export function holdoutSession(variant: Variant, seed: number, index: number): ResultLine[] {
  const random: Random = createRandom(seed, index, 77);
  const options: Partial<DecisionOptions> = { resolution: RESOLUTION, falseKeepRate: 0.05 };
  let truth = { evalSet: 0.7, holdout: 0.7 };
  const evalRun = (score: number) => ({ score: round(score + SIGMA * random.normal()) });
  const holdoutRuns = (score: number) =>
    Array.from({ length: HOLDOUT_RUNS }, () => round(score + HOLDOUT_SIGMA * random.normal()));
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const baselineRuns = Array.from({ length: BASELINE_RUNS }, () => evalRun(truth.evalSet));
  const baselineHoldout = holdoutRuns(truth.holdout);
  const lines: Record<string, unknown>[] = [{
    status: "baseline",
    iteration: 0,
    commit: null,
    score: mean(baselineRuns.map((run) => run.score)),
    runs: baselineRuns.map((run) => run.score),
    holdout_score: mean(baselineHoldout),
    holdout_runs: baselineHoldout,
  }];
  let state: DecisionState = initialDecisionState(baselineRuns);
  for (let iteration = 1; iteration <= CANDIDATES; iteration++) {
    const good = random.uniform() < 0.3;
    const effect = good
      ? (0.5 + 2.5 * random.uniform()) * SIGMA
      : random.uniform() < 0.5
      ? 0
      : -(0.5 + 2.5 * random.uniform()) * SIGMA;
    const candidate = {
      evalSet: truth.evalSet + effect,
      holdout: truth.holdout + (effect > 0 ? variant.carriedOver * effect : effect),
    };
    const settled = settleCandidate(state, options, {
      incumbent: () => evalRun(truth.evalSet),
      candidate: () => evalRun(candidate.evalSet),
    });
    const runs = settled.state.candidateRuns.map((run) => run.score);
    const kept = settled.verdict.action === "keep";
    const heldOut = kept ? holdoutRuns(candidate.holdout) : null;
    lines.push({
      status: kept ? "keep" : "discard",
      iteration,
      commit: null,
      score: mean(runs),
      runs,
      incumbent_runs: settled.incumbentRuns.map((run) => run.score),
      ...(heldOut ? { holdout_score: mean(heldOut), holdout_runs: heldOut } : {}),
    });
    if (kept) {
      state = promoteCandidate(settled.state, options, settled.verdict.rule);
      truth = candidate;
    } else {
      state = discardCandidate(settled.state, options);
    }
  }
  return lines as ResultLine[];
}

export interface HoldoutTarget {
  label: string;
  pass: boolean;
  detail: string;
}

/** Every variant's warning rate: the Markdown table and the targets. */
export function runHoldoutScenario(sessions: number, seed: number): { table: string; targets: HoldoutTarget[] } {
  const rates = HOLDOUT_VARIANTS.map((variant) => {
    let fired = 0;
    for (let index = 0; index < sessions; index++) {
      const lines = holdoutSession(variant, seed, index);
      if (overfitting(lines, "max", { resolution: RESOLUTION }).behind) fired++;
    }
    return fired / sessions;
  });
  const lines = [
    "\n**O: overfitting to the eval set, held-out set (30% of the cases) measured at the baseline and every keep**\n",
    "| sessions | held-out warning fired |",
    "|---|---|",
    ...HOLDOUT_VARIANTS.map((variant, index) => `| ${variant.label} | ${(rates[index] * 100).toFixed(1)}% |`),
  ];
  const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
  const targets: HoldoutTarget[] = [
    { label: "O: warning in honest sessions <= 5%", pass: rates[0] <= 0.05, detail: percent(rates[0]) },
    {
      label: "O: warning in overfitting sessions (a quarter carried over) >= 80%",
      pass: rates[1] >= 0.8,
      detail: percent(rates[1]),
    },
  ];
  return { table: lines.join("\n"), targets };
}
