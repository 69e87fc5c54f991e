// Decision-quality bench: simulates autoresearch sessions with a synthetic eval whose true effects
// are known, and drives the real scripts/lib/decision/decide.ts against the simple rules it replaces
// (keep if one run beats the best; min delta = 2 sd of 3 baseline runs, with/without a confirm run).
// Seeded port of the scenarios of the reference model decision_sim.py (DECISION.md's figures);
// it measures decision quality, not harness speed. Exit code 1 when a target line fails.
// Scenarios G, S and T (a noisy guard, simplifications, tiebreaks) live in decision-objectives.ts,
// O (overfitting to the eval set, caught by the held-out set) in decision-holdout.ts, R (drift:
// the machine changes speed mid-session) in decision-drift.ts, H (a timing eval whose noise is a
// share of its score) in decision-scale.ts.
// Run: bun bench/decision.ts [--sessions 1000] [--seed 7] [--scenarios ZABCDEPGSTORH]

import {
  decideCandidate,
  discardCandidate,
  initialDecisionState,
  promoteCandidate,
} from "../scripts/lib/decision/decide.ts";
import type { DecisionState } from "../scripts/lib/decision/decide.ts";
import { orient } from "../scripts/lib/decision/options.ts";
import type { DecisionOptions, Direction, Run } from "../scripts/lib/decision/options.ts";
import { createRandom, type Random } from "./seeded-random.ts";
import { OBJECTIVE_SCENARIOS, runObjectiveScenario } from "./decision-objectives.ts";
import { runHoldoutScenario } from "./decision-holdout.ts";
import { runDriftScenario } from "./decision-drift.ts";
import { runScaleScenario } from "./decision-scale.ts";

const RESOLUTION = 1e-4; // print resolution of SCORE (metric units), as `SCORE: 0.7120`
const CANDIDATES_PER_SESSION = 30;
const BASELINE_RUNS = 3;
const FALSE_KEEP_RATE = 0.05;

interface Scenario {
  key: string;
  title: string;
  sigma: number; // run-level sd of the aggregate score (metric units)
  sharedFraction: number; // share of run variance common to all cases of one run
  caseCount: number;
  heterogeneity: number; // per-case effect spread, in per-case noise sd units
  goodShare: number;
  good: [number, number]; // good effect ~ U(lo, hi) * unit
  neutralShareOfBad: number;
  bad: [number, number]; // harmful effect ~ -U(lo, hi) * unit
  minimize: boolean; // the eval prints 1 - score (lower is better)
}

const BASE_SCENARIO: Omit<Scenario, "key" | "title"> = {
  sigma: 0.01,
  sharedFraction: 0,
  caseCount: 100,
  heterogeneity: 0.5,
  goodShare: 0.3,
  good: [0.5, 3],
  neutralShareOfBad: 0.5,
  bad: [0.5, 3],
  minimize: false,
};

const SCENARIOS: Record<string, Scenario> = {
  Z: {
    ...BASE_SCENARIO,
    key: "Z",
    title: "Z: null calibration, every change has Δ=0",
    goodShare: 0,
    neutralShareOfBad: 1,
  },
  A: { ...BASE_SCENARIO, key: "A", title: "A: noise ≈ effect, independent per-case noise, good U(0.5,3)σ" },
  B: { ...BASE_SCENARIO, key: "B", title: "B: small effects, good U(0.25,1.25)σ", good: [0.25, 1.25] },
  P: { ...BASE_SCENARIO, key: "P", title: "P: small gains only, good U(0.5,1)σ", good: [0.5, 1] },
  C: {
    ...BASE_SCENARIO,
    key: "C",
    title: "C: correlated noise (60% of run variance shared by all cases), good U(0.5,3)σ",
    sharedFraction: 0.6,
  },
  D: { ...BASE_SCENARIO, key: "D", title: "D: deterministic eval (σ=0), effects in units of 0.01", sigma: 0 },
  E: { ...BASE_SCENARIO, key: "E", title: "E: as A but the metric is minimized (prints 1-score)", minimize: true },
};

function unitOf(scenario: Scenario): number {
  return scenario.sigma > 0 ? scenario.sigma : 0.01;
}

// ------------------------------------------------------------------ seeded randomness

// ------------------------------------------------------------------ synthetic eval

/** Candidate effects of one session, shared by every rule so they face the same changes. */
interface Episode {
  base: Float64Array;
  deltas: number[]; // true effect on the aggregate (metric units, higher is better)
  vectors: Float64Array[]; // per-case effects, averaging to the delta
}

function createEpisode(scenario: Scenario, random: Random): Episode {
  const count = scenario.caseCount;
  const base = new Float64Array(count);
  for (let i = 0; i < count; i++) base[i] = 0.3 + 0.6 * random.uniform();
  const caseSd = unitOf(scenario) * Math.sqrt(count);
  const deltas: number[] = [];
  const vectors: Float64Array[] = [];
  for (let t = 0; t < CANDIDATES_PER_SESSION; t++) {
    let delta: number;
    if (random.uniform() < scenario.goodShare) {
      delta = (scenario.good[0] + (scenario.good[1] - scenario.good[0]) * random.uniform()) * unitOf(scenario);
    } else if (random.uniform() < scenario.neutralShareOfBad) {
      delta = 0;
    } else {
      delta = -(scenario.bad[0] + (scenario.bad[1] - scenario.bad[0]) * random.uniform()) * unitOf(scenario);
    }
    const z = new Float64Array(count);
    let total = 0;
    for (let i = 0; i < count; i++) total += z[i] = random.normal();
    const vector = new Float64Array(count);
    for (let i = 0; i < count; i++) vector[i] = delta + scenario.heterogeneity * caseSd * (z[i] - total / count);
    deltas.push(delta);
    vectors.push(vector);
  }
  return { base, deltas, vectors };
}

const CASE_IDS = Array.from({ length: 1000 }, (_, i) => `case-${i}`);

/** The code under optimization: current per-case expectations, plus the bookkeeping of a session. */
interface Evaluator {
  scenario: Scenario;
  episode: Episode;
  random: Random;
  current: Float64Array;
  trueGain: number;
  evals: number;
  kept: number[];
}

function createEvaluator(scenario: Scenario, episode: Episode, random: Random): Evaluator {
  return { scenario, episode, random, current: episode.base.slice(), trueGain: 0, evals: 0, kept: [] };
}

function candidateVector(evaluator: Evaluator, index: number): Float64Array {
  const result = evaluator.current.slice();
  const effect = evaluator.episode.vectors[index];
  for (let i = 0; i < result.length; i++) result[i] += effect[i];
  return result;
}

function accept(evaluator: Evaluator, index: number): void {
  evaluator.current = candidateVector(evaluator, index);
  evaluator.trueGain += evaluator.episode.deltas[index];
  evaluator.kept.push(index);
}

function roundToResolution(value: number): number {
  return Math.round(value / RESOLUTION) * RESOLUTION;
}

/**
 * One eval run, in the eval's own direction. Without case lines the per-case noise is drawn as its
 * mean (one normal with the same sd), which is the same distribution of SCORE at 1% of the cost.
 */
function runEval(evaluator: Evaluator, vector: Float64Array, withCases: boolean): Run {
  const { scenario, random } = evaluator;
  evaluator.evals++;
  const count = vector.length;
  const sharedSd = scenario.sigma * Math.sqrt(scenario.sharedFraction);
  const caseSd = scenario.sigma * Math.sqrt(1 - scenario.sharedFraction) * Math.sqrt(count);
  const shared = sharedSd > 0 ? sharedSd * random.normal() : 0;
  const flip = (value: number) => (scenario.minimize ? 1 - value : value);
  if (!withCases) {
    let total = 0;
    for (let i = 0; i < count; i++) total += vector[i];
    const noise = caseSd > 0 ? (caseSd / Math.sqrt(count)) * random.normal() : 0;
    return { score: roundToResolution(flip(total / count + noise + shared)) };
  }
  const cases: Record<string, number> = {};
  let total = 0;
  for (let i = 0; i < count; i++) {
    const value = flip(vector[i] + (caseSd > 0 ? caseSd * random.normal() : 0) + shared);
    cases[CASE_IDS[i]] = value;
    total += value;
  }
  return { score: roundToResolution(total / count), cases };
}

function trueOrientedScore(evaluator: Evaluator): number {
  let total = 0;
  for (const value of evaluator.current) total += value;
  const printed = evaluator.scenario.minimize ? 1 - total / evaluator.current.length : total / evaluator.current.length;
  return orient(printed, directionOf(evaluator.scenario));
}

function directionOf(scenario: Scenario): Direction {
  return scenario.minimize ? "min" : "max";
}

// ------------------------------------------------------------------ rules compared

/** Each rule runs one session and returns its recorded best score (oriented). */
type Rule = (evaluator: Evaluator) => number;

function orientedRun(evaluator: Evaluator, vector: Float64Array): number {
  return orient(runEval(evaluator, vector, false).score, directionOf(evaluator.scenario));
}

/** Karpathy's loop: one baseline run; keep when one run beats the best run so far. */
function keepIfBeatsBest(evaluator: Evaluator): number {
  let best = orientedRun(evaluator, evaluator.current);
  for (let t = 0; t < CANDIDATES_PER_SESSION; t++) {
    const score = orientedRun(evaluator, candidateVector(evaluator, t));
    if (score > best) {
      accept(evaluator, t);
      best = score;
    }
  }
  return best;
}

/** The seed: 3 baseline runs, keep when a run beats best + 2 sd (optionally confirmed by a re-run). */
function minDeltaTwoSd(confirm: boolean): Rule {
  return (evaluator) => {
    const baseline = Array.from({ length: BASELINE_RUNS }, () => orientedRun(evaluator, evaluator.current));
    let best = baseline.reduce((a, b) => a + b, 0) / baseline.length;
    const sd = Math.sqrt(baseline.reduce((a, b) => a + (b - best) ** 2, 0) / (baseline.length - 1));
    for (let t = 0; t < CANDIDATES_PER_SESSION; t++) {
      const vector = candidateVector(evaluator, t);
      const first = orientedRun(evaluator, vector);
      if (first <= best + 2 * sd) continue;
      if (!confirm) {
        accept(evaluator, t);
        best = first;
        continue;
      }
      const second = orientedRun(evaluator, vector);
      if (second <= best + 2 * sd) continue;
      accept(evaluator, t);
      best = (first + second) / 2;
    }
    return best;
  };
}

/**
 * Ours: the real decision module, asked what to run until it keeps or discards each candidate;
 * `settings` adds decision options in the scenario's unit (its sigma).
 */
function decisionModule(withCases: boolean, settings: (unit: number) => Partial<DecisionOptions> = () => ({})): Rule {
  return (evaluator) => {
    const options: Partial<DecisionOptions> = {
      direction: directionOf(evaluator.scenario),
      resolution: RESOLUTION,
      falseKeepRate: FALSE_KEEP_RATE,
      baselineRuns: BASELINE_RUNS,
      ...settings(unitOf(evaluator.scenario)),
    };
    const baseline = Array.from({ length: BASELINE_RUNS }, () => runEval(evaluator, evaluator.current, withCases));
    let state: DecisionState = initialDecisionState(baseline);
    const runIncumbent = () => {
      state = { ...state, incumbentRuns: [...state.incumbentRuns, runEval(evaluator, evaluator.current, withCases)] };
    };
    for (let t = 0; t < CANDIDATES_PER_SESSION; t++) {
      const vector = candidateVector(evaluator, t);
      const runCandidate = () => {
        state = { ...state, candidateRuns: [...state.candidateRuns, runEval(evaluator, vector, withCases)] };
      };
      for (let step = 0; step < 100; step++) {
        const verdict = decideCandidate(state, options);
        if (verdict.action === "keep") {
          accept(evaluator, t);
          state = promoteCandidate(state, options);
          break;
        }
        if (verdict.action === "discard" || verdict.action === "guard_fail") {
          state = discardCandidate(state, options);
          break;
        }
        if (verdict.action === "run_incumbent" || verdict.action === "run_both") runIncumbent();
        if (verdict.action === "run_candidate" || verdict.action === "run_both") runCandidate();
        if (step === 99) throw new Error(`Decision loop did not settle on candidate ${t}: ${verdict.reason}`);
      }
    }
    // Under the earlier rule a keep on the last candidate still owes the new incumbent its fresh runs
    // (its recorded score); under shared runs its reference is the runs that selected it, plus any
    // made beside later candidates, so "best inflation" shows their winner's curse (the run an
    // incumbent kept on one run gets before the next candidate is not made: there is none).
    const earlierRule = (options.freshIncumbentRuns ?? 0) > 0;
    while (earlierRule && decideCandidate(state, options).action === "run_incumbent") runIncumbent();
    const scores = state.incumbentRuns.map((run) => orient(run.score, directionOf(evaluator.scenario)));
    return scores.reduce((a, b) => a + b, 0) / scores.length;
  };
}

const RULES: { name: string; rule: Rule }[] = [
  { name: "keep if beats best (Karpathy)", rule: keepIfBeatsBest },
  { name: "min delta 2 sd of 3 runs (seed)", rule: minDeltaTwoSd(false) },
  { name: "min delta 2 sd + confirm run (seed)", rule: minDeltaTwoSd(true) },
  { name: "ours: sequential, shared incumbent runs", rule: decisionModule(false) },
  { name: "ours + per-case sigma", rule: decisionModule(true) },
  {
    name: "the earlier rule: 2 fresh incumbent runs per keep",
    rule: decisionModule(false, () => ({ freshIncumbentRuns: 2, maxIncumbentRuns: 6 })),
  },
  { name: "ours, decision.target_gain 0.75σ", rule: decisionModule(false, (unit) => ({ targetGain: 0.75 * unit })) },
];
const NAIVE = 0;
const OURS = 3;
const OURS_WITH_CASES = 4;
const EARLIER_RULE = 5;
const OURS_WITH_TARGET = 6;

// ------------------------------------------------------------------ simulation and report

interface Totals {
  noOpKept: number;
  noOps: number;
  nonImprovementsKept: number;
  nonImprovements: number;
  improvementsKept: number;
  improvements: number;
  keeps: number;
  gain: number; // sigma units
  oracleGain: number;
  evals: number;
  inflation: number; // sigma units
}

interface Row {
  name: string;
  noOpKeepRate: number;
  nonImprovementKeepRate: number;
  power: number | null;
  trueGain: number;
  oracleGain: number;
  evals: number;
  keeps: number;
  evalsPerCandidate: number; // excluding baseline runs
  inflation: number;
}

function simulate(scenario: Scenario, sessions: number, seed: number): Row[] {
  const totals: Totals[] = RULES.map(() => ({
    noOpKept: 0,
    noOps: 0,
    nonImprovementsKept: 0,
    nonImprovements: 0,
    improvementsKept: 0,
    improvements: 0,
    keeps: 0,
    gain: 0,
    oracleGain: 0,
    evals: 0,
    inflation: 0,
  }));
  const unit = unitOf(scenario);
  for (let session = 0; session < sessions; session++) {
    const episode = createEpisode(scenario, createRandom(seed, session));
    RULES.forEach(({ rule }, ruleIndex) => {
      const evaluator = createEvaluator(scenario, episode, createRandom(seed, session, ruleIndex + 1));
      const best = rule(evaluator);
      const kept = new Set(evaluator.kept);
      const sum = totals[ruleIndex];
      episode.deltas.forEach((delta, index) => {
        if (delta === 0) {
          sum.noOps++;
          if (kept.has(index)) sum.noOpKept++;
        }
        if (delta <= 0) {
          sum.nonImprovements++;
          if (kept.has(index)) sum.nonImprovementsKept++;
        } else {
          sum.improvements++;
          sum.oracleGain += delta / unit;
          if (kept.has(index)) sum.improvementsKept++;
        }
      });
      sum.keeps += kept.size;
      sum.gain += evaluator.trueGain / unit;
      sum.evals += evaluator.evals;
      sum.inflation += (best - trueOrientedScore(evaluator)) / unit;
    });
  }
  return RULES.map(({ name }, ruleIndex) => {
    const sum = totals[ruleIndex];
    const baselineRuns = ruleIndex === NAIVE ? 1 : BASELINE_RUNS;
    return {
      name,
      noOpKeepRate: sum.noOpKept / Math.max(sum.noOps, 1),
      nonImprovementKeepRate: sum.nonImprovementsKept / Math.max(sum.nonImprovements, 1),
      power: sum.improvements > 0 ? sum.improvementsKept / sum.improvements : null,
      trueGain: sum.gain / sessions,
      oracleGain: sum.oracleGain / sessions,
      evals: sum.evals / sessions,
      keeps: sum.keeps / sessions,
      evalsPerCandidate: (sum.evals / sessions - baselineRuns) / CANDIDATES_PER_SESSION,
      inflation: sum.inflation / sessions,
    };
  });
}

function formatTable(scenario: Scenario, rows: Row[]): string {
  const lines = [
    `\n**${scenario.title}** (oracle gain ${rows[0].oracleGain.toFixed(2)}σ per session)\n`,
    "| rule | no-op kept (Δ=0) | no-op or worse kept (Δ≤0) | power | true gain (σ) | keeps | evals | evals/candidate | best inflation (σ) |",
    "|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    lines.push(
      `| ${row.name} | ${(row.noOpKeepRate * 100).toFixed(1)}% | ${(row.nonImprovementKeepRate * 100).toFixed(1)}% | ${
        row.power === null ? "—" : `${(row.power * 100).toFixed(0)}%`
      } | ${row.trueGain.toFixed(2)} | ${row.keeps.toFixed(1)} | ${row.evals.toFixed(1)} | ${
        row.evalsPerCandidate.toFixed(2)
      } | ${row.inflation >= 0 ? "+" : ""}${row.inflation.toFixed(2)} |`,
    );
  }
  return lines.join("\n");
}

interface Target {
  label: string;
  pass: boolean;
  detail: string;
}

function targetsFor(key: string, rows: Row[]): Target[] {
  const naive = rows[NAIVE];
  const targets: Target[] = [];
  for (const index of [OURS, OURS_WITH_CASES]) {
    const ours = rows[index];
    const who = index === OURS ? "ours" : "ours + per-case sigma";
    if (key === "A") {
      targets.push(
        {
          label: `A ${who}: no-op (Δ=0) keep rate <= 4%`,
          pass: ours.noOpKeepRate <= 0.04,
          detail: `${(ours.noOpKeepRate * 100).toFixed(2)}% (Δ≤0: ${(ours.nonImprovementKeepRate * 100).toFixed(2)}%)`,
        },
        {
          label: `A ${who}: true gain >= naive's`,
          pass: ours.trueGain >= naive.trueGain,
          detail: `${ours.trueGain.toFixed(2)}σ vs ${naive.trueGain.toFixed(2)}σ`,
        },
        {
          label: `A ${who}: evals <= 3x naive's`,
          pass: ours.evals <= 3 * naive.evals,
          detail: `${ours.evals.toFixed(1)} vs 3 x ${naive.evals.toFixed(1)} = ${(3 * naive.evals).toFixed(1)}`,
        },
      );
    }
    if (key === "A" && index === OURS) {
      targets.push({
        label: "A ours: evals <= 2x naive's",
        pass: ours.evals <= 2 * naive.evals,
        detail: `${ours.evals.toFixed(2)} vs 2 x ${naive.evals.toFixed(2)} = ${
          (2 * naive.evals).toFixed(2)
        } (the earlier rule: ${rows[EARLIER_RULE].evals.toFixed(1)})`,
      });
    }
    if (key === "A" && index === OURS) {
      targets.push({
        label:
          `A ours with target_gain 0.75σ (not the regime it is for): no-op (Δ=0) keep rate <= alpha (${FALSE_KEEP_RATE})`,
        pass: rows[OURS_WITH_TARGET].noOpKeepRate <= FALSE_KEEP_RATE,
        detail: percent(rows[OURS_WITH_TARGET].noOpKeepRate, 2),
      });
    }
    if (key === "Z") {
      targets.push({
        label: `Z ${who}: keep rate <= alpha (${FALSE_KEEP_RATE})`,
        pass: ours.noOpKeepRate <= FALSE_KEEP_RATE,
        detail: `${(ours.noOpKeepRate * 100).toFixed(2)}%`,
      });
    }
    if (key === "D") {
      const allowed = 1.1 + ours.keeps / CANDIDATES_PER_SESSION;
      targets.push({
        label: `D ${who}: evals per candidate <= 1.1 + 1 per keep`,
        pass: ours.evalsPerCandidate <= allowed,
        detail: `${ours.evalsPerCandidate.toFixed(3)} <= 1.1 + ${ours.keeps.toFixed(2)}/${CANDIDATES_PER_SESSION} = ${
          allowed.toFixed(3)
        } (baseline runs not counted)`,
      });
    }
  }
  if (key === "P") {
    const target = rows[OURS_WITH_TARGET];
    const earlier = rows[EARLIER_RULE];
    targets.push(
      {
        label: "P ours with target_gain: power >= 1.5x the earlier rule's",
        pass: (target.power ?? 0) >= 1.5 * (earlier.power ?? 0),
        detail: `${percent(target.power)} vs 1.5 x ${percent(earlier.power)} (ours by default ${
          percent(rows[OURS].power)
        }, keep-if-beats-best ${percent(rows[NAIVE].power)}, the seed ${percent(rows[1].power)}; evals ${
          target.evals.toFixed(1)
        } vs ${earlier.evals.toFixed(1)})`,
      },
      {
        label: "P ours with target_gain: no-op (Δ=0) keep rate <= 4%",
        pass: target.noOpKeepRate <= 0.04,
        detail: percent(target.noOpKeepRate, 2),
      },
    );
  }
  return targets;
}

function percent(rate: number | null, digits = 1): string {
  return rate === null ? "—" : `${(rate * 100).toFixed(digits)}%`;
}

const DEFAULT_SCENARIOS = "ZABCDEPGSTORH";
const ALL_SCENARIOS = DEFAULT_SCENARIOS;
const USAGE = `Usage: bun bench/decision.ts [--sessions 1000] [--seed 7] [--scenarios ${ALL_SCENARIOS}]`;

/** Null for --help. */
function parseArguments(argv: readonly string[]): { sessions: number; seed: number; scenarios: string } | null {
  const parsed = { sessions: 1000, seed: 7, scenarios: DEFAULT_SCENARIOS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--help" || flag === "-h") return null;
    if (flag === "--sessions" && Number.isInteger(Number(value)) && Number(value) > 0) parsed.sessions = Number(value);
    else if (flag === "--seed" && Number.isInteger(Number(value))) parsed.seed = Number(value);
    else if (
      flag === "--scenarios" && value &&
      [...value].every((key) => ALL_SCENARIOS.includes(key))
    ) parsed.scenarios = value;
    else {throw new Error(
        `Cannot parse argument "${flag}${
          value === undefined ? "" : " " + value
        }": expected --sessions N, --seed N or --scenarios from ${ALL_SCENARIOS}`,
      );}
    i++;
  }
  return parsed;
}

function main(): void {
  let parsed: ReturnType<typeof parseArguments>;
  try {
    parsed = parseArguments(process.argv.slice(2));
  } catch (error) {
    console.error((error as Error).message);
    process.exitCode = 2;
    return;
  }
  if (parsed === null) {
    console.log(USAGE);
    return;
  }
  const { sessions, seed, scenarios } = parsed;
  const started = performance.now();
  const targets: Target[] = [];
  console.log(
    `# Keep/discard rules, ${sessions} sessions x ${CANDIDATES_PER_SESSION} candidates, seed ${seed}, alpha ${FALSE_KEEP_RATE}`,
  );
  for (const key of scenarios) {
    if (key === "R") {
      const { table, targets: driftTargets } = runDriftScenario(sessions, seed);
      console.log(table);
      targets.push(...driftTargets);
      continue;
    }
    if (key === "H") {
      const { table, targets: scaleTargets } = runScaleScenario(sessions, seed);
      console.log(table);
      targets.push(...scaleTargets);
      continue;
    }
    if (key === "O") {
      const { table, targets: holdoutTargets } = runHoldoutScenario(sessions, seed);
      console.log(table);
      targets.push(...holdoutTargets);
      continue;
    }
    if (key in OBJECTIVE_SCENARIOS) {
      const { table, targets: objectiveTargets } = runObjectiveScenario(key, sessions, seed);
      console.log(table);
      targets.push(...objectiveTargets);
      continue;
    }
    const scenario = SCENARIOS[key];
    const rows = simulate(scenario, sessions, seed);
    console.log(formatTable(scenario, rows));
    targets.push(...targetsFor(key, rows));
  }
  console.log("\n## Targets\n");
  for (const target of targets) console.log(`${target.pass ? "PASS" : "FAIL"} ${target.label}: ${target.detail}`);
  console.error(`\n(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  if (targets.some((target) => !target.pass)) process.exitCode = 1;
}

main();
