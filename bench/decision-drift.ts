// The drift scenario of bench/decision.ts (R): a latency eval (minimized, run sd σ) whose machine
// changes speed by 20% halfway through a session of 30 no-op candidates, decided by the real engine.
// Runs measured before the change and after it differ by far more than the noise, so an incumbent
// whose runs were taken before the change looks slower (or faster) than an unchanged candidate
// measured after it. Every keep here is a false keep; the table shows how many each direction costs.
// A second table gives the candidates scenario A's changes (30% better by U(0.5,3)σ, the rest
// half no-ops, half worse): the true gain found after the change, with and without it, shows how
// long a drift the engine has not yet seen costs real keeps.

import { discardCandidate, initialDecisionState, promoteCandidate } from "../scripts/lib/decision/decide.ts";
import type { DecisionState } from "../scripts/lib/decision/decide.ts";
import type { DecisionOptions, Run } from "../scripts/lib/decision/options.ts";
import { createRandom } from "./seeded-random.ts";
import { settleCandidate } from "./engine-driver.ts";

const CANDIDATES = 30;
const BASELINE_RUNS = 3;
const LATENCY_MS = 100;
const SIGMA_MS = 2; // run sd: 2% of the latency, so a 20% change is 10σ
const RESOLUTION = 0.01;

export const DRIFT_VARIANTS = [
  { label: "the machine slows 20% after candidate 15", factor: 1.2 },
  { label: "the machine speeds up 20% after candidate 15", factor: 1 / 1.2 },
  { label: "no drift (reference)", factor: 1 },
];

/** A candidate's true change to the latency in σ units (negative is faster): none, or scenario A's. */
type Change = (random: ReturnType<typeof createRandom>) => number;
const NO_CHANGE: Change = () => 0;
const SCENARIO_A_CHANGES: Change = (random) =>
  random.uniform() < 0.3 ? -(0.5 + 2.5 * random.uniform()) : random.uniform() < 0.5 ? 0 : 0.5 + 2.5 * random.uniform();

function session(
  factor: number,
  seed: number,
  index: number,
  change: Change = NO_CHANGE,
): { keeps: number; evals: number; gainAfter: number } {
  const random = createRandom(seed, index, 91);
  const options: Partial<DecisionOptions> = { direction: "min", resolution: RESOLUTION, falseKeepRate: 0.05 };
  let speed = 1;
  let evals = 0;
  let incumbentLatency = LATENCY_MS;
  const run = (latency: number) => (): Run => {
    evals++;
    return { score: Math.round((latency * speed + SIGMA_MS * random.normal()) / RESOLUTION) * RESOLUTION };
  };
  let state: DecisionState = initialDecisionState(Array.from({ length: BASELINE_RUNS }, run(incumbentLatency)));
  let keeps = 0;
  let gainAfter = 0;
  for (let candidate = 0; candidate < CANDIDATES; candidate++) {
    if (candidate === CANDIDATES / 2) speed = factor;
    const candidateLatency = incumbentLatency + change(random) * SIGMA_MS;
    const settled = settleCandidate(state, options, {
      incumbent: run(incumbentLatency),
      candidate: run(candidateLatency),
    });
    if (settled.verdict.action === "keep") {
      keeps++;
      if (candidate >= CANDIDATES / 2) gainAfter += (incumbentLatency - candidateLatency) / SIGMA_MS;
      incumbentLatency = candidateLatency;
      state = promoteCandidate(settled.state, options, settled.verdict.rule);
    } else {
      state = discardCandidate(settled.state, options);
    }
  }
  return { keeps, evals: evals - BASELINE_RUNS, gainAfter };
}

export interface DriftTarget {
  label: string;
  pass: boolean;
  detail: string;
}

/** Every variant's no-op keep rate: the Markdown table and the targets. */
export function runDriftScenario(sessions: number, seed: number): { table: string; targets: DriftTarget[] } {
  const rows = DRIFT_VARIANTS.map((variant) => {
    let keeps = 0;
    let evals = 0;
    for (let index = 0; index < sessions; index++) {
      const result = session(variant.factor, seed, index);
      keeps += result.keeps;
      evals += result.evals;
    }
    return { variant, rate: keeps / (sessions * CANDIDATES), evalsPerCandidate: evals / (sessions * CANDIDATES) };
  });
  const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
  const table = [
    "\n**R: drift, a latency eval (run sd 2%) whose machine changes speed by 20% mid-session; every candidate a no-op**\n",
    "| session | no-op candidates kept | evals/candidate |",
    "|---|---|---|",
    ...rows.map((row) => `| ${row.variant.label} | ${percent(row.rate)} | ${row.evalsPerCandidate.toFixed(2)} |`),
  ].join("\n");
  const targets = rows.slice(0, 2).map((row) => ({
    label: `R: no-op keeps when ${row.variant.label.replace("the machine ", "")} <= 5%`,
    pass: row.rate <= 0.05,
    detail: percent(row.rate),
  }));
  const gains = DRIFT_VARIANTS.map((variant) => {
    let gainAfter = 0;
    for (let index = 0; index < sessions; index++) {
      gainAfter += session(variant.factor, seed, index, SCENARIO_A_CHANGES).gainAfter;
    }
    return { variant, gainAfter: gainAfter / sessions };
  });
  const gainTable = [
    "\n**R with scenario A's changes (30% better by 0.5-3σ, the rest half no-ops, half worse)**\n",
    "| session | true gain found in candidates 16-30 (σ) |",
    "|---|---|",
    ...gains.map((row) => `| ${row.variant.label} | ${row.gainAfter.toFixed(2)} |`),
  ].join("\n");
  // A slowdown must not leave the loop blind: after it, at least half the gain found without one.
  const slowed = gains[0];
  const steady = gains[2];
  targets.push({
    label: "R: true gain in candidates 16-30 after the 20% slowdown >= half of no drift's",
    pass: slowed.gainAfter >= 0.5 * steady.gainAfter,
    detail: `${slowed.gainAfter.toFixed(2)}σ vs 0.5 x ${steady.gainAfter.toFixed(2)}σ`,
  });
  return { table: `${table}\n${gainTable}`, targets };
}
