// The objective scenarios of bench/decision.ts: a guard near its threshold (G), simplifications (S)
// and tiebreaks (T), each simulated with known true effects and judged by the real decision engine
// (scripts/lib/decision/decide.ts) beside the naive one-run rule it replaces. Sessions of 30
// candidates as in the other scenarios; every figure is a share of candidates. It measures decision
// quality, not speed; bench/decision.ts prints the tables and exits 1 when a target fails.

import {
  type CandidateRequest,
  discardCandidate,
  initialDecisionState,
  promoteCandidate,
} from "../scripts/lib/decision/decide.ts";
import type { DecisionState } from "../scripts/lib/decision/decide.ts";
import type { DecisionOptions, GuardConfig, Run, TiebreakConfig } from "../scripts/lib/decision/options.ts";
import { createRandom, type Random } from "./seeded-random.ts";
import { settleCandidate } from "./engine-driver.ts";

const CANDIDATES = 30;
const BASELINE_RUNS = 3;
const RESOLUTION = 1e-4;
const SIGMA = 0.01; // run sd of the main score and of the tiebreak (metric units)
const GUARD_SIGMA = 1; // run sd of the guard, a latency in ms
const GUARD_THRESHOLD = 10; // latency_ms <= 10
const TIEBREAK = "precision@3";
const SMALLER = { lines: [120, 104] as [number, number], tokens: [900, 820] as [number, number] };

/** One simulated variant: what every candidate truly does, and which request or objective it comes with. */
interface Variant {
  label: string;
  /** True effect of candidate `index` on the main score (metric units, higher is better). */
  mainEffect: (random: Random) => number;
  /** The candidate's true guard value (ms), or null without a guard. */
  guardValue: ((incumbentGuard: number) => number) | null;
  tiebreakEffect: number | null;
  simplification: boolean;
}

interface ObjectiveScenario {
  key: string;
  title: string;
  variants: Variant[];
}

const goodMainEffect = (random: Random) => (1 + 2 * random.uniform()) * SIGMA; // U(1, 3)σ: the main test keeps most

export const OBJECTIVE_SCENARIOS: Record<string, ObjectiveScenario> = {
  G: {
    key: "G",
    title: "G: a noisy guard (latency_ms<=10, run sd 1 ms) whose incumbent sits 1σ inside it; main gains U(1,3)σ",
    variants: [
      {
        label: "no guard effect (the candidate's latency is the incumbent's)",
        mainEffect: goodMainEffect,
        guardValue: (incumbentGuard) => incumbentGuard,
        tiebreakEffect: null,
        simplification: false,
      },
      {
        label: "a true guard break (latency 1σ beyond the threshold)",
        mainEffect: goodMainEffect,
        guardValue: () => GUARD_THRESHOLD + GUARD_SIGMA,
        tiebreakEffect: null,
        simplification: false,
      },
      {
        label: "closer: the incumbent 0.5σ inside, no guard effect (no target)",
        mainEffect: goodMainEffect,
        guardValue: () => GUARD_THRESHOLD - 0.5 * GUARD_SIGMA,
        tiebreakEffect: null,
        simplification: false,
      },
    ],
  },
  S: {
    key: "S",
    title: "S: simplifications (the file got smaller), noisy eval (run sd σ)",
    variants: [
      {
        label: "no true score change",
        mainEffect: () => 0,
        guardValue: null,
        tiebreakEffect: null,
        simplification: true,
      },
      {
        label: "a true −1σ regression",
        mainEffect: () => -SIGMA,
        guardValue: null,
        tiebreakEffect: null,
        simplification: true,
      },
    ],
  },
  T: {
    key: "T",
    title: "T: a tiebreak (precision@3, run sd σ) behind a noisy main metric (run sd σ)",
    variants: [
      {
        label: "main tied, tiebreak +1σ",
        mainEffect: () => 0,
        guardValue: null,
        tiebreakEffect: SIGMA,
        simplification: false,
      },
      {
        label: "no-op (main and tiebreak unchanged)",
        mainEffect: () => 0,
        guardValue: null,
        tiebreakEffect: 0,
        simplification: false,
      },
    ],
  },
};

/** The code under optimization: its true main score, guard and tiebreak. */
interface Truth {
  score: number;
  guard: number;
  tiebreak: number;
}

function run(truth: Truth, random: Random, evals: { count: number }): Run {
  evals.count++;
  const round = (value: number) => Math.round(value / RESOLUTION) * RESOLUTION;
  return {
    score: round(truth.score + SIGMA * random.normal()),
    guard: Math.round((truth.guard + GUARD_SIGMA * random.normal()) * 100) / 100,
    tiebreaks: { [TIEBREAK]: round(truth.tiebreak + SIGMA * random.normal()) },
  };
}

interface Tally {
  candidates: number;
  kept: number;
  guardFailed: number;
  /** Candidates that reached the guard (kept or failed by it), and the naive rule's failures among them. */
  guardJudged: number;
  naiveGuardFailed: number;
  naiveKept: number;
  /** Keeps by the rule that made them: a real gain, a tiebreak, a simplification. */
  keptBy: Record<string, number>;
  evals: number;
}

/**
 * One session: a baseline, then 30 candidates decided by the engine. The naive rule sees the same
 * candidate's first run: guard compared once, a simplification kept when that run is not below
 * the incumbent's mean, a tiebreak when the main run is not lower and the tiebreak run higher.
 */
function session(variant: Variant, seed: number, index: number, tally: Tally): void {
  const random = createRandom(seed, index, variant.label.length);
  const guard: GuardConfig | null = variant.guardValue
    ? { metric: "latency_ms", op: "<=", threshold: GUARD_THRESHOLD }
    : null;
  const tiebreaks: TiebreakConfig[] = variant.tiebreakEffect !== null ? [{ metric: TIEBREAK, direction: "max" }] : [];
  const options: Partial<DecisionOptions> = { resolution: RESOLUTION, falseKeepRate: 0.05 };
  let incumbent: Truth = { score: 0.7, guard: GUARD_THRESHOLD - GUARD_SIGMA, tiebreak: 0.6 };
  if (variant.label.startsWith("closer")) incumbent = { ...incumbent, guard: GUARD_THRESHOLD - 0.5 * GUARD_SIGMA };
  const evals = { count: 0 };
  const baseline = Array.from({ length: BASELINE_RUNS }, () => run(incumbent, random, evals));
  let state: DecisionState = initialDecisionState(baseline, guard, tiebreaks);
  const request: CandidateRequest = variant.simplification ? { simplification: SMALLER } : {};
  for (let t = 0; t < CANDIDATES; t++) {
    const candidate: Truth = {
      score: incumbent.score + variant.mainEffect(random),
      guard: variant.guardValue ? variant.guardValue(incumbent.guard) : incumbent.guard,
      tiebreak: incumbent.tiebreak + (variant.tiebreakEffect ?? 0),
    };
    const settled = settleCandidate(state, options, {
      incumbent: () => run(incumbent, random, evals),
      candidate: () => run(candidate, random, evals),
    }, request);
    const verdict = settled.verdict;
    state = settled.state;
    tally.candidates++;
    const first = state.candidateRuns[0];
    const incumbentMean = state.incumbentRuns.reduce((sum, one) => sum + one.score, 0) /
      Math.max(state.incumbentRuns.length, 1);
    const incumbentTiebreak = state.incumbentRuns.reduce((sum, one) => sum + (one.tiebreaks?.[TIEBREAK] ?? 0), 0) /
      Math.max(state.incumbentRuns.length, 1);
    if (variant.simplification && first && first.score >= incumbentMean) tally.naiveKept++;
    if (variant.tiebreakEffect !== null && first && first.score >= incumbentMean) {
      if ((first.tiebreaks?.[TIEBREAK] ?? 0) > incumbentTiebreak) tally.naiveKept++;
    }
    if (guard && (verdict.action === "keep" || verdict.action === "guard_fail")) {
      tally.guardJudged++;
      if (first && typeof first.guard === "number" && first.guard > guard.threshold) tally.naiveGuardFailed++;
    }
    if (verdict.action === "keep") {
      tally.kept++;
      const rule = verdict.rule ?? "gain";
      tally.keptBy[rule] = (tally.keptBy[rule] ?? 0) + 1;
      state = promoteCandidate(state, options, rule);
      incumbent = candidate;
    } else {
      if (verdict.action === "guard_fail") tally.guardFailed++;
      state = discardCandidate(state, options);
    }
  }
  tally.evals += evals.count - BASELINE_RUNS;
}

export interface ObjectiveTarget {
  label: string;
  pass: boolean;
  detail: string;
}

function percent(part: number, whole: number): string {
  return `${((100 * part) / Math.max(whole, 1)).toFixed(1)}%`;
}

/** Simulate every variant of a scenario: its Markdown table and its targets. */
export function runObjectiveScenario(
  key: string,
  sessions: number,
  seed: number,
): { table: string; targets: ObjectiveTarget[] } {
  const scenario = OBJECTIVE_SCENARIOS[key];
  const tallies = scenario.variants.map((variant) => {
    const tally: Tally = {
      candidates: 0,
      kept: 0,
      guardFailed: 0,
      guardJudged: 0,
      naiveGuardFailed: 0,
      naiveKept: 0,
      keptBy: {},
      evals: 0,
    };
    for (let index = 0; index < sessions; index++) session(variant, seed, index, tally);
    return tally;
  });
  const lines = [`\n**${scenario.title}**\n`];
  const targets: ObjectiveTarget[] = [];
  if (key === "G") {
    lines.push(
      "| candidates | judged on the guard | ours: guard_fail | naive 1-run comparison: guard_fail | ours: evals/candidate |",
      "|---|---|---|---|---|",
    );
    scenario.variants.forEach((variant, index) => {
      const tally = tallies[index];
      lines.push(
        `| ${variant.label} | ${tally.guardJudged} | ${percent(tally.guardFailed, tally.guardJudged)} | ${
          percent(tally.naiveGuardFailed, tally.guardJudged)
        } | ${(tally.evals / tally.candidates).toFixed(2)} |`,
      );
    });
    const [clean, broken] = tallies;
    targets.push(
      {
        label: "G: false guard_fail (no guard effect, 1σ inside) <= 5%",
        pass: clean.guardFailed / clean.guardJudged <= 0.05,
        detail: `${percent(clean.guardFailed, clean.guardJudged)} (naive ${
          percent(clean.naiveGuardFailed, clean.guardJudged)
        })`,
      },
      {
        label: "G: true guard breaks (1σ beyond) caught >= 80%",
        pass: broken.guardFailed / broken.guardJudged >= 0.8,
        detail: `${percent(broken.guardFailed, broken.guardJudged)} (naive ${
          percent(broken.naiveGuardFailed, broken.guardJudged)
        })`,
      },
    );
  } else {
    lines.push(
      "| candidates | ours: kept | kept by rule | naive one run: kept | ours: evals/candidate |",
      "|---|---|---|---|---|",
    );
    scenario.variants.forEach((variant, index) => {
      const tally = tallies[index];
      lines.push(
        `| ${variant.label} | ${percent(tally.kept, tally.candidates)} | ${
          Object.entries(tally.keptBy).map(([rule, count]) => `${rule} ${percent(count, tally.candidates)}`).join(
            ", ",
          ) ||
          "—"
        } | ${percent(tally.naiveKept, tally.candidates)} | ${(tally.evals / tally.candidates).toFixed(2)} |`,
      );
    });
    const [wanted, unwanted] = tallies;
    // Each scenario's bounds: the share of wanted candidates kept (at least), of unwanted ones (at most).
    type Bound = { label: string; share: number; atLeast: boolean };
    const [wantedBound, unwantedBound]: Bound[] = key === "S"
      ? [
        { label: "S: simplifications with no true score change kept >= 80%", share: 0.8, atLeast: true },
        { label: "S: simplifications with a true −1σ regression kept <= 5%", share: 0.05, atLeast: false },
      ]
      : [
        { label: "T: main tied, tiebreak +1σ kept >= 70%", share: 0.7, atLeast: true },
        { label: "T: no-op (main and tiebreak unchanged) kept <= 5%", share: 0.05, atLeast: false },
      ];
    const target = (tally: Tally, bound: Bound): ObjectiveTarget => {
      const share = tally.kept / tally.candidates;
      return {
        label: bound.label,
        pass: bound.atLeast ? share >= bound.share : share <= bound.share,
        detail: `${percent(tally.kept, tally.candidates)} (naive ${percent(tally.naiveKept, tally.candidates)})`,
      };
    };
    targets.push(target(wanted, wantedBound), target(unwanted, unwantedBound));
  }
  return { table: lines.join("\n"), targets };
}
