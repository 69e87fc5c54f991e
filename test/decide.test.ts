// Unit tests for the pure keep/discard engine (scripts/lib/decision/decide.ts, decision-options.ts, noise.ts,
// calibrate.ts): one table row per situation (input state -> expected verdict), read as sentences.
// Statistical behaviour over many sessions is measured by bench/decision.ts, not here.

import { describe, expect, test } from "bun:test";
import {
  decideCandidate,
  discardCandidate,
  initialDecisionState,
  promoteCandidate,
} from "../scripts/lib/decision/decide.ts";
import type { DecisionState, Verdict } from "../scripts/lib/decision/decide.ts";
import {
  candidateRunCap,
  DEFAULT_DECISION_OPTIONS,
  lookLevelsFor,
  printedResolution,
  resolveDecisionOptions,
} from "../scripts/lib/decision/options.ts";
import type { DecisionOptions, GuardConfig, Run } from "../scripts/lib/decision/options.ts";
import {
  addGroupToPool,
  emptyNoiseHistory,
  estimateNoise,
  minDetectableEffect,
  noiseFloor,
  plannedRuns,
} from "../scripts/lib/decision/noise.ts";
import type { NoiseHistory } from "../scripts/lib/decision/noise.ts";
import { calibrate } from "../scripts/lib/decision/calibrate.ts";
import { studentTQuantile } from "../scripts/lib/decision/stats.ts";

const RESOLUTION = 1e-4;

function runs(...scores: number[]): Run[] {
  return scores.map((score) => ({ score }));
}

function guarded(guard: number, ...scores: number[]): Run[] {
  return scores.map((score) => ({ score, guard }));
}

/** A pool that already measured run-level noise `sigma` with `df` degrees of freedom. */
function noisyHistory(sigma: number, df: number): NoiseHistory {
  return {
    ...emptyNoiseHistory(),
    sumOfSquares: sigma * sigma * df,
    degreesOfFreedom: df,
    deterministic: false,
    versionsPooled: df,
  };
}

/** The rule before shared incumbent runs, still chosen by decision.fresh_incumbent_runs >= 1. */
const EARLIER_RULE: Partial<DecisionOptions> = { freshIncumbentRuns: 2, maxIncumbentRuns: 6 };

/** A hand-built state: the incumbent's runs count as made beside this candidate (drift-checked, paired). */
function state(incumbentRuns: Run[], candidateRuns: Run[], extra: Partial<DecisionState> = {}): DecisionState {
  return { ...initialDecisionState(incumbentRuns), incumbentRunsBeforeCandidate: 0, candidateRuns, ...extra };
}

/** Drives decideCandidate like the harness does, feeding queued scores when it asks for runs. */
function play(
  start: DecisionState,
  options: Partial<DecisionOptions>,
  incumbentQueue: number[],
  candidateQueue: number[],
): { actions: string[]; verdict: Verdict; state: DecisionState } {
  let current = start;
  const actions: string[] = [];
  const next = (queue: number[], who: string, actions: string[]): number => {
    if (queue.length === 0) throw new Error(`No ${who} score left to feed after ${actions.join(", ")}`);
    return queue.shift() as number;
  };
  for (;;) {
    const verdict = decideCandidate(current, options);
    actions.push(verdict.action);
    if (!verdict.action.startsWith("run_")) return { actions, verdict, state: current };
    if (verdict.action !== "run_candidate") {
      current = {
        ...current,
        incumbentRuns: [...current.incumbentRuns, { score: next(incumbentQueue, "incumbent", actions) }],
      };
    }
    if (verdict.action !== "run_incumbent") {
      current = {
        ...current,
        candidateRuns: [...current.candidateRuns, { score: next(candidateQueue, "candidate", actions) }],
      };
    }
  }
}

/** mulberry32 + Box-Muller, so per-case tests use fixed, reproducible noise. */
function seededNormal(seed: number): () => number {
  let value = seed >>> 0;
  const uniform = () => {
    value = (value + 0x6d2b79f5) >>> 0;
    let t = value;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** Runs with `caseCount` CASE lines: per-case noise caseSd, plus sharedSd common to all cases of a run. */
function runsWithCases(
  count: number,
  truth: number,
  caseSd: number,
  sharedSd: number,
  normal: () => number,
  caseCount = 50,
): Run[] {
  return Array.from({ length: count }, () => {
    const shared = sharedSd * normal();
    const cases: Record<string, number> = {};
    let total = 0;
    for (let i = 0; i < caseCount; i++) {
      const value = truth + shared + caseSd * normal();
      cases[`case-${i}`] = value;
      total += value;
    }
    return { score: total / caseCount, cases };
  });
}

function expectNoNaN(verdict: Verdict): void {
  const json = JSON.stringify(verdict);
  expect(json).not.toContain("NaN");
  for (const value of Object.values(verdict)) {
    if (typeof value === "number") expect(Number.isFinite(value)).toBe(true);
  }
  expect(JSON.parse(json)).toEqual(verdict);
}

interface Row {
  sentence: string;
  state: DecisionState;
  options?: Partial<DecisionOptions>;
  expected: Partial<Verdict>;
}

const CLEAR_NOISE = noisyHistory(0.01, 40);
const LATENCY_GUARD: GuardConfig = { metric: "latency_ms", op: "<=", threshold: 100 };
/** The guard's own pooled noise: latency runs vary by 2 ms (40 df). */
const GUARD_NOISE = { guard: noisyHistory(2, 40), tiebreaks: {} };

const ROWS: Row[] = [
  // deterministic eval: baseline runs identical to the print resolution
  {
    sentence: "a deterministic eval asks for one candidate run first",
    state: state(runs(0.7, 0.7, 0.7), []),
    expected: { action: "run_candidate", mode: "deterministic" },
  },
  {
    sentence: "a deterministic eval asks for one confirmation run after a winning run",
    state: state(runs(0.7, 0.7, 0.7), runs(0.71)),
    expected: { action: "run_candidate", mode: "deterministic" },
  },
  {
    sentence: "a deterministic eval keeps a candidate that beat the incumbent twice with the same score",
    state: state(runs(0.7, 0.7, 0.7), runs(0.71, 0.71)),
    expected: { action: "keep", mode: "deterministic", statistic: null, estimatedGain: 0.01 },
  },
  {
    sentence: "a deterministic eval discards after one run that is worse",
    state: state(runs(0.7, 0.7, 0.7), runs(0.69)),
    expected: { action: "discard", mode: "deterministic", candidateRunCount: 1 },
  },
  {
    sentence: "a deterministic eval discards a gain within half the print resolution",
    state: state(runs(0.7, 0.7, 0.7), runs(0.70004)),
    options: { resolution: 1e-4 },
    expected: { action: "discard", mode: "deterministic" },
  },
  {
    sentence: "a deterministic eval discards a gain below the minimum effect",
    state: state(runs(0.7, 0.7, 0.7), runs(0.705)),
    options: { minEffect: 0.01 },
    expected: { action: "discard", mode: "deterministic", requiredGain: 0.01 },
  },
  {
    sentence: "a deterministic eval that minimizes keeps a lower score",
    state: state(runs(0.3, 0.3, 0.3), runs(0.29, 0.29)),
    options: { direction: "min" },
    expected: { action: "keep", mode: "deterministic", estimatedGain: 0.01, delta: -0.01 },
  },
  {
    sentence: "a deterministic eval that minimizes discards a higher score",
    state: state(runs(0.3, 0.3, 0.3), runs(0.31)),
    options: { direction: "min" },
    expected: { action: "discard", mode: "deterministic", estimatedGain: -0.01 },
  },
  {
    sentence: "a confirmation run that differs switches to sequential tests (and this large gain is kept)",
    state: state(runs(0.7, 0.7, 0.7), runs(0.71, 0.7102)),
    expected: { action: "keep", mode: "sequential", df: 3 },
  },
  // noisy eval: sequential looks against pooled noise sd 0.01
  {
    sentence: "a noisy eval keeps a clear win after one run",
    state: state(runs(0.7, 0.71, 0.69), runs(0.75), { noise: CLEAR_NOISE }),
    expected: { action: "keep", mode: "sequential", df: 42, sigmaSource: "runs" },
  },
  {
    sentence: "a noisy eval discards a clear loss after one run",
    state: state(runs(0.7, 0.71, 0.69), runs(0.68), { noise: CLEAR_NOISE }),
    expected: { action: "discard", mode: "sequential" },
  },
  {
    sentence: "a noisy eval discards a candidate that merely ties the incumbent (t = 0)",
    state: state(runs(0.7, 0.71, 0.69), runs(0.7), { noise: CLEAR_NOISE }),
    expected: { action: "discard", statistic: 0 },
  },
  {
    sentence: "a borderline gain asks for another candidate run and another incumbent run",
    state: state(runs(0.7, 0.71), runs(0.715), { noise: CLEAR_NOISE, incumbentRunsBeforeCandidate: 2 }),
    expected: { action: "run_both", mode: "sequential" },
  },
  {
    sentence: "a borderline gain against an incumbent two runs ahead asks for a candidate run alone",
    state: state(runs(0.7, 0.71, 0.69), runs(0.715), { noise: CLEAR_NOISE, incumbentRunsBeforeCandidate: 3 }),
    expected: { action: "run_candidate", mode: "sequential" },
  },
  {
    sentence: "a borderline gain asks only for a candidate run once the incumbent has its 5 runs (here 6)",
    state: state(runs(0.7, 0.71, 0.69, 0.7, 0.7, 0.7), runs(0.712), { noise: CLEAR_NOISE }),
    expected: { action: "run_candidate" },
  },
  {
    sentence: "a borderline gain is discarded when the candidate has had its 5 runs",
    state: state(runs(0.7, 0.71, 0.69), runs(0.706, 0.706, 0.706, 0.706, 0.706), { noise: CLEAR_NOISE }),
    expected: { action: "discard", candidateRunCount: 5 },
  },
  {
    sentence: "a noisy gain smaller than the minimum effect is not kept",
    state: state(runs(0.7, 0.71, 0.69), runs(0.75), { noise: CLEAR_NOISE, incumbentRunsBeforeCandidate: 3 }),
    options: { minEffect: 0.04 },
    expected: { action: "run_candidate", estimatedGain: 0.05 },
  },
  {
    sentence: "a noisy eval that minimizes keeps a clearly lower score",
    state: state(runs(0.3, 0.31, 0.29), runs(0.25), { noise: CLEAR_NOISE }),
    options: { direction: "min" },
    expected: { action: "keep", estimatedGain: 0.05, delta: -0.05 },
  },
  {
    sentence: "a noisy eval that minimizes discards a clearly higher score",
    state: state(runs(0.3, 0.31, 0.29), runs(0.35), { noise: CLEAR_NOISE }),
    options: { direction: "min" },
    expected: { action: "discard", estimatedGain: -0.05 },
  },
  // guard metric
  {
    sentence: "a clear win whose guard crosses its threshold is a guard failure",
    state: state(runs(0.7, 0.71, 0.69), guarded(120, 0.75), {
      noise: CLEAR_NOISE,
      guard: LATENCY_GUARD,
      sideNoise: GUARD_NOISE,
    }),
    expected: { action: "guard_fail", guardMean: 120, guardPass: false },
  },
  {
    sentence: "a clear win within its guard is kept",
    state: state(runs(0.7, 0.71, 0.69), guarded(80, 0.75), {
      noise: CLEAR_NOISE,
      guard: LATENCY_GUARD,
      sideNoise: GUARD_NOISE,
    }),
    expected: { action: "keep", guardMean: 80, guardPass: true },
  },
  {
    sentence: "a clear loss is a plain discard even when its guard also fails",
    state: state(runs(0.7, 0.71, 0.69), guarded(120, 0.68), { noise: CLEAR_NOISE, guard: LATENCY_GUARD }),
    expected: { action: "discard", guardPass: false },
  },
  {
    sentence: "a win without any guard value to check is a guard failure",
    state: state(runs(0.7, 0.71, 0.69), runs(0.75), { noise: CLEAR_NOISE, guard: LATENCY_GUARD }),
    expected: { action: "guard_fail", guardMean: null, guardPass: false },
  },
  {
    sentence: "a deterministic win whose guard fails is a guard failure",
    state: state(runs(0.7, 0.7, 0.7), guarded(101, 0.71, 0.71), { guard: LATENCY_GUARD }),
    expected: { action: "guard_fail", mode: "deterministic" },
  },
  // degenerate noise
  {
    sentence: "a zero-variance pool is floored at resolution/sqrt(12) instead of dividing by zero",
    state: state(runs(0.7, 0.7), runs(0.7001), { noise: { ...noisyHistory(0, 10), deterministic: false } }),
    expected: { action: "keep", sigma: noiseFloor(RESOLUTION), df: 11 },
  },
  {
    sentence: "one incumbent run and one candidate run cannot be tested: both run again",
    state: state(runs(0.7), runs(0.8)),
    options: { freshIncumbentRuns: 1 },
    expected: { action: "run_both", mode: "sequential", statistic: null, sigma: null, df: null },
  },
  {
    sentence: "a single baseline run is no evidence of determinism: the incumbent runs again first",
    state: state(runs(0.7), []),
    expected: { action: "run_incumbent", mode: "sequential" },
  },
  {
    sentence: "a new incumbent without fresh runs is run before any candidate",
    state: state([], runs(0.75), { noise: CLEAR_NOISE }),
    expected: { action: "run_incumbent", incumbentRunCount: 0 },
  },
];

describe("decideCandidate", () => {
  for (const row of ROWS) {
    test(row.sentence, () => {
      const verdict = decideCandidate(row.state, row.options);
      for (const [key, value] of Object.entries(row.expected)) {
        const actual = verdict[key as keyof Verdict];
        if (typeof value === "number") expect(actual as number).toBeCloseTo(value, 9);
        else expect(actual).toEqual(value as never);
      }
      expect(verdict.reason.length).toBeGreaterThan(10);
      expectNoNaN(verdict);
    });
  }

  test("a kept verdict carries everything the journal needs", () => {
    const verdict = decideCandidate(
      state(runs(0.7, 0.71, 0.69), guarded(80, 0.75), {
        noise: CLEAR_NOISE,
        guard: LATENCY_GUARD,
        sideNoise: GUARD_NOISE,
      }),
    );
    expect(verdict).toMatchObject({
      action: "keep",
      mode: "sequential",
      candidateMean: 0.75,
      incumbentMean: 0.7,
      incumbentRunCount: 3,
    });
    expect(verdict.statistic as number).toBeGreaterThanOrEqual(verdict.threshold as number);
    const [low, high] = verdict.confidenceInterval as [number, number];
    expect(low).toBeGreaterThan(0);
    expect(high).toBeGreaterThan(0.05);
    expect(verdict.confidenceLevel).toBeCloseTo(0.98, 12); // two-sided at the first look's 0.01 level
    expect(verdict.minDetectableEffect as number).toBeGreaterThan(0);
    expect(verdict.reason).toMatch(/^Kept: /);
  });

  test("the interval's lower end reaches the minimum effect exactly when t reaches the threshold", () => {
    for (const score of [0.71, 0.72, 0.73, 0.74]) {
      const verdict = decideCandidate(state(runs(0.7, 0.71, 0.69), runs(score), { noise: CLEAR_NOISE }), {
        minEffect: 0.005,
      });
      const lowerReachesEffect = (verdict.confidenceInterval as [number, number])[0] >= 0.005;
      expect(lowerReachesEffect).toBe((verdict.statistic as number) >= (verdict.threshold as number));
    }
  });

  test("a state that went through JSON gives the same verdict", () => {
    const original = state(runs(0.7, 0.71, 0.69), runs(0.715, 0.72), { noise: CLEAR_NOISE, guard: LATENCY_GUARD });
    const restored = JSON.parse(JSON.stringify(original)) as DecisionState;
    expect(decideCandidate(restored)).toEqual(decideCandidate(original));
  });

  test("crashed runs with a non-finite score are ignored rather than poisoning the means", () => {
    const verdict = decideCandidate(
      state(runs(0.7, 0.71, 0.69, Number.NaN), runs(0.75, Number.POSITIVE_INFINITY), { noise: CLEAR_NOISE }),
    );
    expect(verdict).toMatchObject({ action: "keep", incumbentRunCount: 3, candidateRunCount: 1 });
  });
});

describe("sequential looks and the winner's curse (the earlier rule: fresh incumbent runs after a keep)", () => {
  // The incumbent (true 0.70) was lucky in its two fresh runs (mean 0.72); the candidate is truly 0.72.
  const luckyIncumbent = () => state(runs(0.725, 0.715), [], { noise: CLEAR_NOISE });
  const incumbentReruns = [0.7, 0.699, 0.701, 0.7];
  const candidateRuns = [0.722, 0.719, 0.721, 0.72, 0.718];

  test("a lucky incumbent is re-run while the candidate is undecided, and the fresh runs let a real gain through", () => {
    const { actions, verdict } = play(luckyIncumbent(), EARLIER_RULE, [...incumbentReruns], [...candidateRuns]);
    expect(actions).toEqual(["run_candidate", "run_both", "run_both", "run_both", "run_both", "keep"]);
    expect(verdict.incumbentRunCount).toBe(6);
    expect(verdict.incumbentMean as number).toBeLessThan(0.71);
  });

  test("the same candidate judged against the lucky runs alone is discarded", () => {
    const { actions, verdict } = play(luckyIncumbent(), { ...EARLIER_RULE, maxIncumbentRuns: 2 }, [], [
      ...candidateRuns,
    ]);
    expect(actions.filter((action) => action === "run_both")).toEqual([]);
    expect(verdict.action).toBe("discard");
  });

  test("after a keep the new incumbent starts without runs, and fresh runs are requested before the next candidate", () => {
    const kept = state(runs(0.7, 0.71, 0.69), runs(0.75, 0.76), { noise: CLEAR_NOISE });
    const next = promoteCandidate(kept, EARLIER_RULE);
    expect(next.incumbentRuns).toEqual([]);
    expect(next.candidateRuns).toEqual([]);
    expect(next.noise.degreesOfFreedom).toBe(40 + 2 + 1);
    expect(decideCandidate(next, EARLIER_RULE).action).toBe("run_incumbent");
    const oneFreshRun = { ...next, incumbentRuns: runs(0.74) };
    expect(decideCandidate(oneFreshRun, EARLIER_RULE).action).toBe("run_incumbent");
    const twoFreshRuns = { ...next, incumbentRuns: runs(0.74, 0.745) };
    expect(decideCandidate(twoFreshRuns, EARLIER_RULE)).toMatchObject({
      action: "run_candidate",
      incumbentRunCount: 2,
    });
  });

  test("after a deterministic keep the identical confirmation runs stay as the incumbent's reference", () => {
    const next = promoteCandidate(state(runs(0.7, 0.7, 0.7), runs(0.71, 0.71)));
    expect(next.incumbentRuns).toEqual(runs(0.71, 0.71));
    expect(next.noise).toMatchObject({ degreesOfFreedom: 2, deterministic: true });
    expect(decideCandidate(next)).toMatchObject({ action: "run_candidate", mode: "deterministic" });
  });

  test("once a confirmation run differed, the eval stays in sequential mode after the keep", () => {
    const next = promoteCandidate(state(runs(0.7, 0.7, 0.7), runs(0.71, 0.7102)), EARLIER_RULE);
    expect(next.noise.deterministic).toBe(false);
    const withIdenticalFreshRuns = { ...next, incumbentRuns: runs(0.71, 0.71) };
    expect(decideCandidate(withIdenticalFreshRuns, EARLIER_RULE)).toMatchObject({
      action: "run_candidate",
      mode: "sequential",
    });
  });

  test("a discard pools the candidate's runs and keeps the incumbent's runs", () => {
    const before = state(runs(0.7, 0.71, 0.69), runs(0.7, 0.705), { noise: CLEAR_NOISE });
    const after = discardCandidate(before);
    expect(after.incumbentRuns).toEqual(before.incumbentRuns);
    expect(after.candidateRuns).toEqual([]);
    expect(after.noise.degreesOfFreedom).toBe(41);
    expect(after.noise.sumOfSquares).toBeCloseTo(CLEAR_NOISE.sumOfSquares + 2 * 0.0025 ** 2, 12);
  });
});

describe("shared incumbent runs (the default): reuse, a two-run reference, the drift check's run, futility, extension", () => {
  // An incumbent at 0.70 measured before this candidate (its runs are "earlier" runs).
  const measuredBefore = (incumbent: Run[], candidate: Run[]): DecisionState => ({
    ...initialDecisionState(incumbent),
    candidateRuns: candidate,
    noise: CLEAR_NOISE,
  });

  test("a clear win needs one incumbent run beside it before the keep", () => {
    const start = measuredBefore(runs(0.7, 0.71, 0.69), runs(0.75));
    expect(decideCandidate(start)).toMatchObject({
      action: "run_incumbent",
      reason: expect.stringMatching(/^Promising: /),
    });
    const paired = { ...start, incumbentRuns: [...start.incumbentRuns, ...runs(0.705)] };
    expect(decideCandidate(paired)).toMatchObject({ action: "keep", incumbentRunCount: 4 });
  });

  test("after a keep the runs that selected the new incumbent are its reference; later runs add to them", () => {
    const kept = state(runs(0.7, 0.71, 0.69), runs(0.75, 0.76), { noise: CLEAR_NOISE });
    const next = promoteCandidate(kept);
    expect(next.incumbentRuns).toEqual(runs(0.75, 0.76));
    expect(next).toMatchObject({ inheritedRunCount: 2, incumbentRunsBeforeCandidate: 2, candidateRuns: [] });
    expect(next.noise.degreesOfFreedom).toBe(40 + 2); // the old incumbent's runs; the candidate's go on
    // The next candidate is compared at once, and the incumbent (one run ahead) runs beside it while undecided.
    const undecided = decideCandidate({ ...next, candidateRuns: runs(0.765) });
    expect(undecided).toMatchObject({ action: "run_both", incumbentRunCount: 2 });
  });

  test("a keep on a tie route starts the new incumbent without runs, as the earlier rule does", () => {
    const kept = state(runs(0.7, 0.71, 0.69), runs(0.7, 0.701), { noise: CLEAR_NOISE });
    const next = promoteCandidate(kept, {}, "simplification");
    expect(next.incumbentRuns).toEqual([]);
    expect(decideCandidate({ ...next, incumbentRuns: runs(0.7) }).action).toBe("run_incumbent");
    expect(decideCandidate({ ...next, incumbentRuns: runs(0.7, 0.702) }).action).toBe("run_candidate");
  });

  test("a drift: runs beside the candidate far from the earlier ones set the earlier ones aside", () => {
    // The machine got 20% faster: every run now scores about 0.84 instead of 0.70.
    const drifted = measuredBefore(runs(0.7, 0.71, 0.69), runs(0.84));
    const withBeside = { ...drifted, incumbentRuns: [...drifted.incumbentRuns, ...runs(0.842)] };
    const verdict = decideCandidate(withBeside);
    expect(verdict.action).not.toBe("keep");
    expect(verdict.incumbentRunCount).toBe(1);
    expect(verdict.reason).toMatch(/drifted, so the earlier runs are set aside/);
    // The discard (or keep) carries the setting-aside into the next candidate's state.
    const after = discardCandidate(withBeside);
    expect(after.incumbentRuns).toEqual(runs(0.842));
    expect(after).toMatchObject({ inheritedRunCount: 0, incumbentRunsBeforeCandidate: 1 });
    expect(after.noise.degreesOfFreedom).toBe(40 + 2); // the earlier runs pooled as a group of their own
  });

  test("a tie route does not keep before the incumbent ran beside the candidate either", () => {
    // Ten incumbent runs measured before an unchanged simplification's eight: "not worse" holds,
    // yet the keep waits for the drift check's run, whatever the size of the gain.
    const start = measuredBefore(
      runs(0.5, 0.502, 0.498, 0.5, 0.501, 0.499, 0.5, 0.502, 0.498, 0.5),
      runs(0.501, 0.5, 0.502, 0.501, 0.5, 0.501, 0.5, 0.501),
    );
    const smaller = { lines: [40, 30] as [number, number], tokens: [300, 250] as [number, number] };
    const verdict = decideCandidate(start, {}, { simplification: smaller });
    expect(verdict).toMatchObject({ action: "run_incumbent", rule: null });
    expect(verdict.reason).toMatch(/^Keepable as a simplification/);
    const paired = { ...start, incumbentRuns: [...start.incumbentRuns, ...runs(0.501)] };
    expect(decideCandidate(paired, {}, { simplification: smaller })).toMatchObject({
      action: "keep",
      rule: "simplification",
    });
  });

  test("a keep whose gain no drift check could tell from a drift keeps without a run beside it", () => {
    // +0.03 against three runs at 0.01 sd passes the first look, yet a drift of that size would
    // pass the check (critical shift 3.29 x 0.01 x sqrt(1/3 + 1), about 0.038, the noise known).
    const start = measuredBefore(runs(0.5, 0.502, 0.498), runs(0.53));
    expect(decideCandidate(start)).toMatchObject({ action: "keep", rule: "gain", incumbentRunCount: 3 });
    // +0.05 is beyond it: the keep waits for the run beside the candidate.
    const larger = measuredBefore(runs(0.5, 0.502, 0.498), runs(0.55));
    expect(decideCandidate(larger)).toMatchObject({
      action: "run_incumbent",
      reason: expect.stringMatching(/could also be the measurements drifting/),
    });
  });

  test("right after the baseline (2 degrees of freedom) a drift-sized gain still waits for the run beside it", () => {
    // Student's t at 2 df (31.6) would excuse +0.05 against runs 0.002 apart; with the noise known
    // the check's critical shift is 3.29 x 0.002 x sqrt(1/3 + 1), about 0.0076.
    const early = { ...initialDecisionState(runs(0.5, 0.502, 0.498)), candidateRuns: runs(0.55) };
    expect(decideCandidate(early)).toMatchObject({ action: "run_incumbent", df: 2 });
  });

  test("the drift check's run is judged on the whole gain, not the gain beyond the minimum effect", () => {
    // +0.05 passes the test of (gain - 0.02); the whole +0.05 is beyond the critical shift 0.038.
    const start = measuredBefore(runs(0.5, 0.502, 0.498), runs(0.55));
    expect(decideCandidate(start, { minEffect: 0.02 })).toMatchObject({
      action: "run_incumbent",
      reason: expect.stringMatching(/could also be the measurements drifting/),
    });
  });

  test("an incumbent kept on one run gets a run of its own before a candidate is compared with it", () => {
    const next = promoteCandidate(state(runs(0.7, 0.71, 0.69), runs(0.76), { noise: CLEAR_NOISE }));
    expect(next).toMatchObject({ incumbentRuns: runs(0.76), inheritedRunCount: 1 });
    // The harness asks before the candidate's first run, and runs the incumbent first.
    const first = decideCandidate(next);
    expect(first).toMatchObject({ action: "run_incumbent", candidateRunCount: 0, incumbentRunCount: 1 });
    expect(first.reason).toMatch(/only the 1 run that selected it; a candidate is compared with at least 2/);
    const topped = { ...next, incumbentRuns: runs(0.76, 0.75) };
    expect(decideCandidate(topped)).toMatchObject({ action: "run_candidate", incumbentRunCount: 2 });
    // +0.015 against 2 runs: t about 1.2, undecided; the incumbent's own run counts as beside it.
    const compared = decideCandidate({ ...topped, candidateRuns: runs(0.77) });
    expect(compared).toMatchObject({ action: "run_both", incumbentRunCount: 2 });
    expect(compared.statistic as number).toBeGreaterThan(1);
  });

  test("the earlier rule's thresholds do not change beside tiebreaks", () => {
    const tied = state(runs(0.5, 0.51, 0.49, 0.5), runs(0.52, 0.525), {
      noise: CLEAR_NOISE,
      tiebreaks: [{ metric: "p", direction: "max" }],
    });
    const alone = state(runs(0.5, 0.51, 0.49, 0.5), runs(0.52, 0.525), { noise: CLEAR_NOISE });
    expect(decideCandidate(tied, EARLIER_RULE).threshold).toBeCloseTo(
      decideCandidate(alone, EARLIER_RULE).threshold as number,
      12,
    );
    // Under shared runs the main test takes 0.8 of its level beside tiebreaks.
    expect(decideCandidate(tied).threshold as number).toBeGreaterThan(decideCandidate(alone).threshold as number);
  });

  test("runs beside the candidate within the noise keep every earlier run", () => {
    const steady = measuredBefore(runs(0.7, 0.71, 0.69), runs(0.75));
    const withBeside = { ...steady, incumbentRuns: [...steady.incumbentRuns, ...runs(0.712)] };
    expect(decideCandidate(withBeside).incumbentRunCount).toBe(4);
    expect(discardCandidate(withBeside).incumbentRuns).toHaveLength(4);
  });

  // Three incumbent runs measured before the candidate (it may run again: max_incumbent_runs 5),
  // so it runs beside a candidate of two runs or more; beside one of a single run it is two runs
  // ahead and waits.
  const futilityRows: [string, number[], Verdict["action"]][] = [
    ["at the first look t <= 0 gives up", [0.699], "discard"],
    ["at the first look a small positive t runs the candidate alone again", [0.702], "run_candidate"],
    ["at the second look t <= 0.7 gives up", [0.706, 0.706], "discard"],
    ["at the second look t just above 0.7 runs both", [0.7065, 0.7065], "run_both"],
  ];
  for (const [sentence, candidate, action] of futilityRows) {
    test(sentence, () => {
      const verdict = decideCandidate(
        state(runs(0.7, 0.7, 0.7), runs(...candidate), { noise: CLEAR_NOISE, incumbentRunsBeforeCandidate: 3 }),
      );
      expect(verdict.action).toBe(action);
      // Each row sits within 0.05 of its bound (0, then 0.7), so a bound moved by that much fails it.
      const bound = candidate.length === 1 ? 0 : 0.7;
      expect(Math.abs((verdict.statistic as number) - bound)).toBeLessThan(candidate.length === 1 ? 0.5 : 0.05);
    });
  }

  test("a loss twice a drift's size waits for an incumbent run beside it: after a slowdown the drift is seen", () => {
    // σ 0.01 over 40 df; the incumbent's 3 runs were measured before this candidate.
    const start = state(runs(0.7, 0.7, 0.7), [], { noise: CLEAR_NOISE, incumbentRunsBeforeCandidate: 3 });
    // One run 0.04 behind (about 3.5 standard errors): a bad change, given up at once.
    expect(decideCandidate({ ...start, candidateRuns: runs(0.66) }).action).toBe("discard");
    // One run 0.1 behind (the machine slowed down): the incumbent runs beside it first.
    const farBehind = decideCandidate({ ...start, candidateRuns: runs(0.6) });
    expect(farBehind.action).toBe("run_incumbent");
    expect(farBehind.reason).toMatch(/a loss this large could also be the measurements drifting/);
    // The run beside it is as slow: the earlier runs are set aside and the candidate, no worse than
    // the incumbent now, is judged against the runs since the change.
    const { actions, verdict } = play(start, {}, [0.601, 0.598, 0.6, 0.602, 0.599, 0.6], [0.6, 0.603, 0.6, 0.601]);
    expect(actions.slice(0, 2)).toEqual(["run_candidate", "run_incumbent"]);
    expect(verdict.reason).toMatch(/the measurements drifted, so the earlier runs are set aside/);
    expect(verdict.incumbentMean as number).toBeLessThan(0.61);
  });

  test("at the fourth look t <= 1.1 gives up; above it the candidate runs again", () => {
    const reference = runs(0.7, 0.7, 0.7, 0.7, 0.7);
    const look = (score: number) =>
      decideCandidate(
        state(reference, runs(score, score, score, score), { noise: CLEAR_NOISE, incumbentRunsBeforeCandidate: 5 }),
      );
    const below = look(0.7067);
    expect(below.statistic as number).toBeGreaterThan(1);
    expect(below.statistic as number).toBeLessThanOrEqual(1.1);
    expect(below.action).toBe("discard");
    const above = look(0.7074);
    expect(above.statistic as number).toBeGreaterThan(1.1);
    expect(above.statistic as number).toBeLessThan(1.25);
    expect(above.action).toBe("run_candidate");
  });

  test("an incumbent kept on three runs waits beside the next candidate's first run", () => {
    const kept = state(runs(0.7, 0.71, 0.69), runs(0.75, 0.76, 0.755), { noise: CLEAR_NOISE });
    const next = promoteCandidate(kept);
    expect(next.inheritedRunCount).toBe(3);
    const first = decideCandidate({ ...next, candidateRuns: runs(0.765) });
    expect(first).toMatchObject({ action: "run_candidate", incumbentRunCount: 3 });
    const second = decideCandidate({ ...next, candidateRuns: runs(0.765, 0.764) });
    expect(second).toMatchObject({ action: "run_both", incumbentRunCount: 3 });
  });

  test("the incumbent runs beside a candidate only while it is at most one run ahead, or has run beside it", () => {
    const reference = (count: number) => runs(...Array.from({ length: count }, (_, i) => (i % 2 ? 0.699 : 0.701)));
    const candidate = runs(0.708, 0.706, 0.707);
    // Every incumbent run measured before this candidate.
    const before = (count: number, candidateRuns: number) =>
      state(reference(count), candidate.slice(0, candidateRuns), {
        noise: CLEAR_NOISE,
        incumbentRunsBeforeCandidate: count,
      });
    expect([2, 3, 4].map((count) => decideCandidate(before(count, count - 1)).action))
      .toEqual(["run_both", "run_both", "run_both"]);
    const ahead = decideCandidate(before(4, 2));
    expect(ahead.action).toBe("run_candidate");
    expect(ahead.reason).toMatch(/run the candidate again\.$/);
    // Once it has run beside this candidate (the drift check's run), it goes on running beside it.
    const besideOnce = decideCandidate({ ...before(4, 2), incumbentRunsBeforeCandidate: 3 });
    expect(besideOnce.action).toBe("run_both");
    // A target gain plans the runs of both versions: the incumbent runs beside every look.
    expect(decideCandidate(before(4, 1), { targetGain: 0.002 }).action).toBe("run_both");
    // The earlier rule's fresh incumbent runs still run beside every look.
    expect(decideCandidate(before(4, 1), { freshIncumbentRuns: 2, maxIncumbentRuns: 6 }).action).toBe("run_both");
  });

  test("past max_runs a candidate goes on only while t >= 1.5, up to three times max_runs", () => {
    const incumbent = runs(0.7, 0.7, 0.7, 0.7, 0.7);
    const options = { maxIncumbentRuns: 5 };
    const promising = decideCandidate(
      state(incumbent, runs(0.712, 0.71, 0.708, 0.71, 0.71), { noise: CLEAR_NOISE }),
      options,
    );
    expect(promising.statistic as number).toBeGreaterThanOrEqual(1.5);
    expect(promising.statistic as number).toBeLessThan(promising.threshold as number);
    expect(promising.action).toBe("run_candidate");
    const faded = decideCandidate(
      state(incumbent, runs(0.705, 0.705, 0.704, 0.705, 0.705), { noise: CLEAR_NOISE }),
      options,
    );
    expect(faded.action).toBe("discard");
    expect(faded.reason).toMatch(/not close enough for more runs/);
    const atCap = decideCandidate(
      state(incumbent, runs(...Array.from({ length: 15 }, () => 0.707)), { noise: CLEAR_NOISE }),
      options,
    );
    expect(atCap).toMatchObject({ action: "discard", candidateRunCount: 15 });
  });
});

describe("decision.target_gain: the runs it takes to find a gain of that size", () => {
  const withTarget = { targetGain: 0.005 };

  test("the planned runs find the target with 80% power, within max_runs and six times as many", () => {
    const options = resolveDecisionOptions(withTarget);
    const critical = studentTQuantile(1 - options.perLookLevel, 40) as number;
    const power = studentTQuantile(0.8, 40) as number;
    expect(plannedRuns(0.005, 40, options, 0.005)).toBe(Math.ceil(2 * (critical + power) ** 2));
    expect(plannedRuns(0.0001, 40, options, 0.005)).toBe(5); // a quiet eval: max_runs
    expect(plannedRuns(0.05, 40, options, 0.005)).toBe(30); // a very noisy one: six times max_runs
  });

  test("a first run that shows nothing is not given up while a small target is still possible", () => {
    // A target of 0.4 sigma: one run cannot tell it from nothing.
    const verdict = decideCandidate(
      state(runs(0.7, 0.7, 0.7, 0.7), runs(0.6995), { noise: noisyHistory(0.005, 40) }),
      { targetGain: 0.002 },
    );
    expect(verdict.action).toBe("run_both");
    expect(verdict.reason).toMatch(/a gain of the target 0\.0020 is still possible/);
    // Without a target the same run is given up at once.
    expect(decideCandidate(state(runs(0.7, 0.7, 0.7, 0.7), runs(0.6995), { noise: noisyHistory(0.005, 40) })).action)
      .toBe("discard");
  });

  test("a gain clearly below the target is given up, and the reason names the target", () => {
    const verdict = decideCandidate(
      state(runs(0.7, 0.7, 0.7, 0.7, 0.7, 0.7), runs(0.694, 0.695, 0.696, 0.695), { noise: noisyHistory(0.005, 40) }),
      withTarget,
    );
    expect(verdict.action).toBe("discard");
    expect(verdict.reason).toMatch(/clearly below the target 0\.0050/);
  });

  test("a target under the earlier rule is refused: it needs shared incumbent runs", () => {
    expect(() => resolveDecisionOptions({ ...EARLIER_RULE, ...withTarget })).toThrow(/needs shared incumbent runs/);
  });

  test("the planned runs count the level the target's looks are tested at", () => {
    const options = resolveDecisionOptions(withTarget);
    expect(plannedRuns(0.005, 40, options, 0.005, 0.5)).toBeGreaterThan(plannedRuns(0.005, 40, options, 0.005));
  });

  test("a target of 0 or below is refused", () => {
    expect(() => resolveDecisionOptions({ targetGain: 0 })).toThrow(/targetGain "0"/);
  });
});

describe("per-case noise", () => {
  test("independent per-case noise gives a sharper sigma with many more degrees of freedom", () => {
    const normal = seededNormal(1);
    const incumbent = runsWithCases(4, 0.7, 0.1, 0, normal);
    const candidate = runsWithCases(3, 0.7, 0.1, 0, normal);
    const noise = estimateNoise(emptyNoiseHistory(), [incumbent, candidate]);
    expect(noise).toMatchObject({ source: "cases", df: 5 * 50, runDf: 5 });
    expect(noise.sigma as number).toBeCloseTo(0.1 / Math.sqrt(50), 2);
    expect(noise.sharedNoisePValue as number).toBeGreaterThanOrEqual(0.1);
    expect(decideCandidate(state(incumbent, candidate)).sigmaSource).toBe("cases");
  });

  test("noise shared by all cases of a run fails the F-test and falls back to run-level sigma", () => {
    const normal = seededNormal(2);
    const incumbent = runsWithCases(4, 0.7, 0.1, 0.05, normal);
    const candidate = runsWithCases(3, 0.7, 0.1, 0.05, normal);
    const noise = estimateNoise(emptyNoiseHistory(), [incumbent, candidate]);
    expect(noise.source).toBe("runs");
    expect(noise.df).toBe(5);
    expect(noise.sharedNoisePValue as number).toBeLessThan(0.1);
    expect(noise.sigma as number).toBeGreaterThan(noise.caseSigma as number);
  });

  // The same independent case noise, a p-value between 0.1 and 0.5: only how many runs the F-test
  // has differs. [sentence, seed, incumbent runs, candidate runs, run df, source]
  const sharedNoiseRows: [string, number, number, number, number, "cases" | "runs"][] = [
    ["with 15 run degrees of freedom the F-test trusts the cases from p 0.1", 1, 9, 8, 15, "cases"],
    ["with fewer it trusts them only from p 0.5", 2, 4, 3, 5, "runs"],
  ];
  for (const [sentence, seed, incumbentCount, candidateCount, runDf, source] of sharedNoiseRows) {
    test(sentence, () => {
      const normal = seededNormal(seed);
      const noise = estimateNoise(emptyNoiseHistory(), [
        runsWithCases(incumbentCount, 0.7, 0.1, 0, normal),
        runsWithCases(candidateCount, 0.7, 0.1, 0, normal),
      ]);
      expect(noise.runDf).toBe(runDf);
      expect(noise.sharedNoisePValue as number).toBeGreaterThanOrEqual(0.1);
      expect(noise.sharedNoisePValue as number).toBeLessThan(0.5);
      expect(noise.source).toBe(source);
    });
  }

  test("cases that do not average to the score (another scale) are not used for sigma", () => {
    const normal = seededNormal(3);
    const rescale = (run: Run): Run => ({ ...run, score: run.score * 100 });
    const incumbent = runsWithCases(4, 0.7, 0.1, 0, normal).map(rescale);
    const candidate = runsWithCases(3, 0.7, 0.1, 0, normal).map(rescale);
    expect(estimateNoise(emptyNoiseHistory(), [incumbent, candidate]).source).toBe("runs");
  });

  test("a version with other case ids stops per-case pooling for good", () => {
    const normal = seededNormal(4);
    let history = addGroupToPool(emptyNoiseHistory(), runsWithCases(3, 0.7, 0.1, 0, normal));
    expect(history).toMatchObject({ casesConsistent: true, caseCount: 50, caseDegreesOfFreedom: 100 });
    history = addGroupToPool(history, runsWithCases(2, 0.7, 0.1, 0, normal, 40));
    expect(history).toMatchObject({ casesConsistent: false, caseDegreesOfFreedom: 0 });
    history = addGroupToPool(history, runsWithCases(3, 0.7, 0.1, 0, normal));
    expect(history.casesConsistent).toBe(false);
  });

  const caseRows: {
    sentence: string;
    direction: "max" | "min";
    before: Record<string, number>;
    after: Record<string, number>;
    fixed: string[];
    broken: string[];
  }[] = [
    {
      sentence: "0/1 cases that flip from fail to pass are fixed, from pass to fail broken",
      direction: "max",
      before: { a: 0, b: 1, c: 1, d: 0 },
      after: { a: 1, b: 0, c: 1, d: 0 },
      fixed: ["a"],
      broken: ["b"],
    },
    {
      sentence: "0/1 error cases flip the other way when minimizing",
      direction: "min",
      before: { a: 1, b: 0, c: 0 },
      after: { a: 0, b: 1, c: 0 },
      fixed: ["a"],
      broken: ["b"],
    },
    {
      sentence: "continuous cases count when they move by more than half the resolution",
      direction: "max",
      before: { a: 0.5, b: 0.5, c: 0.5 },
      after: { a: 0.6, b: 0.40, c: 0.50004 },
      fixed: ["a"],
      broken: ["b"],
    },
  ];
  for (const row of caseRows) {
    test(row.sentence, () => {
      const average = (cases: Record<string, number>) =>
        Object.values(cases).reduce((a, b) => a + b, 0) / Object.keys(cases).length;
      const before = { score: average(row.before), cases: row.before };
      const after = { score: average(row.after), cases: row.after };
      const verdict = decideCandidate(state([before, before], [after]), { direction: row.direction, resolution: 1e-4 });
      expect(verdict.casesFixed).toEqual(row.fixed);
      expect(verdict.casesBroken).toEqual(row.broken);
    });
  }

  test("without case lines there is no fixed/broken report", () => {
    const verdict = decideCandidate(state(runs(0.7, 0.7, 0.7), runs(0.71)));
    expect(verdict.casesFixed).toBeNull();
    expect(verdict.casesBroken).toBeNull();
  });
});

describe("noise pool", () => {
  test("folding a version adds its squared deviations and runs - 1 degrees of freedom", () => {
    const history = addGroupToPool(addGroupToPool(emptyNoiseHistory(), runs(0.7, 0.72)), runs(0.5, 0.5, 0.5));
    expect(history.sumOfSquares).toBeCloseTo(0.0002, 12);
    expect(history).toMatchObject({ degreesOfFreedom: 3, versionsPooled: 2, deterministic: false });
  });

  test("a one-run version adds no degrees of freedom", () => {
    expect(addGroupToPool(emptyNoiseHistory(), runs(0.7))).toMatchObject({ degreesOfFreedom: 0, sumOfSquares: 0 });
  });

  test("identical runs keep the eval deterministic; one differing version ends it for good", () => {
    const resolution = { resolution: 1e-4 };
    let history = addGroupToPool(emptyNoiseHistory(), runs(0.7, 0.7, 0.70004), resolution);
    expect(history.deterministic).toBe(true);
    history = addGroupToPool(history, runs(0.7, 0.7002), resolution);
    history = addGroupToPool(history, runs(0.6, 0.6), resolution);
    expect(history.deterministic).toBe(false);
  });

  test("an empty pool has no sigma (null, not NaN)", () => {
    expect(estimateNoise(emptyNoiseHistory(), [runs(0.7), runs(0.8)])).toMatchObject({
      sigma: null,
      df: 0,
      source: null,
    });
  });
});

describe("options and detectable effects", () => {
  test("the defaults share incumbent runs, with the look levels measured in bench/decision.ts", () => {
    const { perLookLevel, firstLookLevel, ...rest } = DEFAULT_DECISION_OPTIONS;
    expect(perLookLevel).toBeCloseTo(0.04, 12);
    expect(firstLookLevel).toBeCloseTo(0.01, 12);
    expect(rest).toEqual({
      direction: "max",
      falseKeepRate: 0.05,
      maxCandidateRuns: 5,
      maxIncumbentRuns: 5,
      freshIncumbentRuns: 0,
      baselineRuns: 3,
      minEffect: 0,
      resolution: null,
      simplifyMargin: null,
      maxTieRuns: 20,
      targetGain: null,
      noiseModel: "auto",
    });
  });

  const levelRows: [string, Partial<DecisionOptions>, number, number][] = [
    ["alpha 0.05 gives 0.01 at the first look, 0.04 later", { falseKeepRate: 0.05 }, 0.01, 0.04],
    ["alpha 0.10 gives 0.02 and 0.08", { falseKeepRate: 0.1 }, 0.02, 0.08],
    ["the earlier rule (fresh runs) gives 0.017 at every look", { freshIncumbentRuns: 2 }, 0.017, 0.017],
    ["the earlier rule at alpha 0.10 gives 0.034", { freshIncumbentRuns: 2, falseKeepRate: 0.1 }, 0.034, 0.034],
    [
      "an explicit per-look level wins over alpha, at every look",
      { falseKeepRate: 0.1, perLookLevel: 0.01 },
      0.01,
      0.01,
    ],
    ["undefined overrides keep the defaults", { falseKeepRate: undefined }, 0.01, 0.04],
  ];
  for (const [sentence, overrides, first, later] of levelRows) {
    test(sentence, () => {
      const resolved = resolveDecisionOptions(overrides);
      expect(resolved.firstLookLevel).toBeCloseTo(first, 12);
      expect(resolved.perLookLevel).toBeCloseTo(later, 12);
    });
  }
  test("lookLevelsFor scales with alpha", () => {
    expect(lookLevelsFor(0.05, 0).first).toBeCloseTo(0.01, 12);
    expect(lookLevelsFor(0.05, 2).later).toBeCloseTo(0.017, 12);
  });
  test("a promising candidate may run three times max_runs under shared incumbent runs, else max_runs", () => {
    expect(candidateRunCap(resolveDecisionOptions({}))).toBe(15);
    expect(candidateRunCap(resolveDecisionOptions({ targetGain: 0.01 }))).toBe(30);
    expect(candidateRunCap(resolveDecisionOptions({ freshIncumbentRuns: 2 }))).toBe(5);
  });

  const invalidRows: [string, Partial<DecisionOptions>, RegExp][] = [
    ["a per-look level above 0.5 is refused", { perLookLevel: 0.7 }, /perLookLevel "0.7"/],
    ["zero candidate runs are refused", { maxCandidateRuns: 0 }, /maxCandidateRuns "0"/],
    ["negative fresh incumbent runs are refused", { freshIncumbentRuns: -1 }, /freshIncumbentRuns "-1"/],
    ["a negative minimum effect is refused", { minEffect: -1 }, /minEffect "-1"/],
    ["an unknown direction is refused", { direction: "up" as never }, /direction "up"/],
  ];
  for (const [sentence, overrides, message] of invalidRows) {
    test(sentence, () => expect(() => resolveDecisionOptions(overrides)).toThrow(message));
  }

  test("the minimum detectable effect is (t at 0.98 + t at 0.80) standard errors plus the minimum effect", () => {
    const standardError = 0.01 * Math.sqrt(1 / 5 + 1 / 6);
    const atTwoPercent = { perLookLevel: 0.02 };
    expect(minDetectableEffect(0.01, 10, 5, 6, atTwoPercent) as number).toBeCloseTo(
      (2.359314623736535 + 0.8790578285393696) * standardError,
      9,
    );
    expect(minDetectableEffect(0.01, 10, 5, 6, { ...atTwoPercent, minEffect: 0.002 }) as number).toBeCloseTo(
      0.002 + 3.2383724522759047 * standardError,
      9,
    );
  });

  test("more runs detect smaller effects", () => {
    expect(minDetectableEffect(0.01, 10, 5, 6) as number).toBeLessThan(minDetectableEffect(0.01, 10, 1, 2) as number);
  });

  test("without degrees of freedom no effect is detectable (null)", () => {
    expect(minDetectableEffect(0.01, 0, 5, 6)).toBeNull();
  });
});

describe("the score's print resolution, read from the scores (decision.resolution null, the default)", () => {
  const rows: { sentence: string; scores: number[]; expected: number }[] = [
    { sentence: "no scores: 0.0001", scores: [], expected: 1e-4 },
    { sentence: "four decimals: 0.0001", scores: [0.7124, 0.712], expected: 1e-4 },
    { sentence: "fewer decimals are still compared to four (0.75, 12)", scores: [0.75, 12], expected: 1e-4 },
    { sentence: "an MSE printed to eight decimals: 1e-8", scores: [0.0000102, 0.00000983], expected: 1e-8 },
    { sentence: "exponent notation counts its decimals (1.5e-7)", scores: [1.5e-7], expected: 1e-8 },
    {
      sentence: "a float's repr: six significant digits, not its rounding noise",
      scores: [0.7133333333333334],
      expected: 1e-6,
    },
    { sentence: "a large float's repr: at most 0.0001", scores: [123456.789012345], expected: 1e-4 },
    {
      sentence: "val_bpb printed to six decimals: six significant digits",
      scores: [1.216075, 1.215287],
      expected: 1e-5,
    },
    { sentence: "zero alone: 0.0001", scores: [0], expected: 1e-4 },
    { sentence: "crashed runs (NaN) are left out", scores: [Number.NaN, 0.000012], expected: 1e-6 },
  ];
  for (const row of rows) {
    test(row.sentence, () => {
      expect(printedResolution(row.scores)).toBeCloseTo(row.expected, 20);
      expect(resolveDecisionOptions({ resolution: null }, row.scores).resolution).toBeCloseTo(row.expected, 20);
    });
  }

  test("a setting overrides the scores", () => {
    expect(resolveDecisionOptions({ resolution: 0.01 }, [0.0000102]).resolution).toBe(0.01);
  });

  test("a deterministic MSE of 1e-5 keeps a 0.4% gain, which 0.0001 called a tie", () => {
    const mse = state(runs(0.00001019, 0.00001019, 0.00001019), runs(0.00001015));
    const options = { direction: "min" as const };
    expect(decideCandidate(mse, options)).toMatchObject({ action: "run_candidate", mode: "deterministic" });
    const confirmed = { ...mse, candidateRuns: runs(0.00001015, 0.00001015) };
    expect(decideCandidate(confirmed, options)).toMatchObject({ action: "keep", mode: "deterministic" });
    expect(decideCandidate(confirmed, { ...options, resolution: 1e-4 })).toMatchObject({ action: "discard" });
  });

  test("a noisy MSE of 1e-5 is measured as noisy, with its own sd, and a no-op is not kept", () => {
    const calibration = calibrate(runs(0.0000102, 0.00000983, 0.00001019), { direction: "min" });
    expect(calibration).toMatchObject({ deterministic: false, resolution: 1e-8 });
    expect(calibration.sd as number).toBeCloseTo(2.108e-7, 9);
    expect(calibration.minDetectableEffect as number).toBeLessThan(0.000002);
    expect(calibrate(runs(0.0000102, 0.00000983, 0.00001019), { resolution: 1e-4 }).deterministic).toBe(true);
    const verdict = decideCandidate(
      state(runs(0.0000102, 0.00000983, 0.00001019), runs(0.00001001)),
      { direction: "min" },
    );
    expect(verdict.mode).toBe("sequential");
    expect(verdict.action).not.toBe("keep");
    expect(verdict.reason).toContain("0.00001001");
  });

  test("a resolution set coarser than the scores is named at the baseline, with the setting that fixes it", () => {
    const hidden = calibrate(runs(0.0000102, 0.00000983, 0.00001019), { resolution: 1e-4 });
    expect(hidden.warnings.join("\n")).toContain(
      "decision.resolution 0.0001 is coarser than the scores the eval prints (0.0000102, 0.00000983, 0.00001019): their differences count as none. Set decision.resolution to null",
    );
    const small = calibrate(runs(0.00523, 0.00523, 0.00523), { resolution: 1e-4 });
    expect(small.warnings.join("\n")).toContain("a change of a few percent counts as none");
    for (
      const fits of [
        calibrate(runs(0.0000102, 0.00000983), {}), // read from the scores
        calibrate(runs(0.7124, 0.7131), { resolution: 1e-4 }), // fits
        calibrate(runs(0.0052, 0.0052), { resolution: 1e-4 }), // printed to four decimals: nothing finer to read
      ]
    ) {
      expect(fits.warnings.join("\n")).not.toContain("decision.resolution");
    }
  });

  test("a deterministic eval printing a float's repr ties on a change of its last bits, or of float32 rounding", () => {
    const repr = state(runs(0.7133333333333334, 0.7133333333333334), runs(0.7133333333333335));
    expect(decideCandidate(repr)).toMatchObject({ action: "discard", mode: "deterministic" });
    // A float32 log loss whose sum was split into chunks: 1.8e-7 lower, the same loss.
    const float32 = state(runs(0.8887031078338623, 0.8887031078338623), runs(0.8887029290199280, 0.888702929019928));
    expect(decideCandidate(float32, { direction: "min" })).toMatchObject({ action: "discard", mode: "deterministic" });
    const real = state(runs(0.8887031078338623, 0.8887031078338623), runs(0.8886, 0.8886));
    expect(decideCandidate(real, { direction: "min" })).toMatchObject({ action: "keep", mode: "deterministic" });
  });
});

describe("calibrate", () => {
  test("identical baseline runs are a deterministic eval that can detect one print step", () => {
    expect(calibrate(runs(0.7, 0.7, 0.7))).toMatchObject({
      runs: 3,
      mean: 0.7,
      median: 0.7,
      sd: 0,
      spread: 0,
      cv: 0,
      deterministic: true,
      wildRuns: [],
      minDetectableEffect: RESOLUTION / 2,
      recommendedMinDelta: RESOLUTION,
      warnings: [],
    });
  });

  test("runs within half the print resolution still count as deterministic", () => {
    expect(calibrate(runs(0.7, 0.70004, 0.7), { resolution: 1e-4 }).deterministic).toBe(true);
  });

  test("three noisy runs give their mean, sd, cv and the effect 5 + 5 runs can detect", () => {
    const calibration = calibrate(runs(0.7, 0.71, 0.72), { perLookLevel: 0.02 });
    expect(calibration).toMatchObject({ runs: 3, deterministic: false, wildRuns: [] });
    expect(calibration.mean as number).toBeCloseTo(0.71, 12);
    expect(calibration.median as number).toBeCloseTo(0.71, 12);
    expect(calibration.sd as number).toBeCloseTo(0.01, 12);
    expect(calibration.spread as number).toBeCloseTo(0.02, 12);
    expect(calibration.cv as number).toBeCloseTo(0.01 / 0.71, 12);
    const standardError = 0.01 * Math.sqrt(1 / 5 + 1 / 5);
    const critical = studentTQuantile(1 - 0.02, 2) as number; // the per-look level given, 2 df
    expect(calibration.minDetectableEffect as number).toBeCloseTo(
      (critical + 1.0606601717798212) * standardError,
      6,
    );
    // smallest observed gain that can be kept after 5 + 5 runs, rounded up to the resolution
    expect(calibration.recommendedMinDelta as number).toBeCloseTo(
      Math.ceil((critical * standardError) / RESOLUTION) * RESOLUTION,
      9,
    );
  });

  test("a run more than 10 robust sd from the median is flagged as wild", () => {
    const calibration = calibrate(runs(0.7, 0.701, 0.699, 0.7, 0.95));
    expect(calibration.wildRuns).toEqual([4]);
    expect(calibration.robustSd as number).toBeCloseTo(1.4826 * 0.001, 9);
    expect(calibration.warnings.some((warning) => warning.startsWith("Run 5 scored 0.9500"))).toBe(true);
  });

  test("one odd run among identical runs is wild (robust sd is floored, not zero)", () => {
    expect(calibrate(runs(0.7, 0.7, 0.7, 0.8)).wildRuns).toEqual([3]);
  });

  test("a single run cannot measure noise and says so", () => {
    const calibration = calibrate(runs(0.7));
    expect(calibration).toMatchObject({
      runs: 1,
      sd: null,
      deterministic: false,
      minDetectableEffect: null,
      recommendedMinDelta: null,
    });
    expect(calibration.warnings[0]).toMatch(/cannot measure noise/);
  });

  test("noise larger than the expected gain is warned about", () => {
    const calibration = calibrate(runs(0.7, 0.71, 0.72), { expectedGain: 0.005 });
    expect(calibration.warnings.some((warning) => warning.includes("expected gain 0.0050"))).toBe(true);
  });

  test("a minimized metric is calibrated in its own units", () => {
    expect(calibrate(runs(0.3, 0.31, 0.29), { direction: "min" })).toMatchObject({ mean: 0.3, median: 0.3 });
  });
});

describe("objectives: guards under noise, simplifications, tiebreaks", () => {
  const guardedRuns = (guards: number[], score: number): Run[] => guards.map((guard) => ({ score, guard }));
  const tiebroken = (metric: string, pairs: [number, number][]): Run[] =>
    pairs.map(([score, value]) => ({ score, tiebreaks: { [metric]: value } }));
  const SMALLER = { lines: [40, 31] as [number, number], tokens: [300, 240] as [number, number] };
  const BIGGER = { lines: [40, 44] as [number, number], tokens: [300, 330] as [number, number] };
  const PRECISION = [{ metric: "precision@3", direction: "max" as const }];

  const rows: {
    sentence: string;
    state: DecisionState;
    request?: Parameters<typeof decideCandidate>[2];
    options?: Partial<DecisionOptions>;
    expected: Partial<Verdict>;
  }[] = [
    {
      sentence: "a noisy guard one run short of its threshold is borderline: the candidate runs again",
      state: state(runs(0.7, 0.71, 0.69), guardedRuns([99], 0.75), {
        noise: CLEAR_NOISE,
        guard: LATENCY_GUARD,
        sideNoise: GUARD_NOISE,
      }),
      expected: { action: "run_candidate", guardPass: null },
    },
    {
      sentence: "a borderline guard at the run cap is judged on its mean: within the threshold, kept",
      state: state(runs(0.7, 0.71, 0.69), guardedRuns([101, 97, 99, 100, 98], 0.75), {
        noise: CLEAR_NOISE,
        guard: LATENCY_GUARD,
        sideNoise: GUARD_NOISE,
      }),
      options: EARLIER_RULE,
      expected: { action: "keep", guardMean: 99, guardPass: true },
    },
    {
      sentence: "under shared incumbent runs a borderline guard runs on past max_runs, to the extended cap",
      state: state(runs(0.7, 0.71, 0.69), guardedRuns([101, 97, 99, 100, 98], 0.75), {
        noise: CLEAR_NOISE,
        guard: LATENCY_GUARD,
        sideNoise: GUARD_NOISE,
      }),
      expected: { action: "run_candidate", guardPass: null },
    },
    {
      sentence: "a borderline guard at the run cap is judged on its mean: beyond the threshold, a guard failure",
      state: state(runs(0.7, 0.71, 0.69), guardedRuns([103, 99, 101, 100, 102], 0.75), {
        noise: CLEAR_NOISE,
        guard: LATENCY_GUARD,
        sideNoise: GUARD_NOISE,
      }),
      options: EARLIER_RULE,
      expected: { action: "guard_fail", guardMean: 101, guardPass: false },
    },
    {
      sentence: "a guard clearly beyond its threshold fails after one run, with its t statistic",
      state: state(runs(0.7, 0.71, 0.69), guardedRuns([112], 0.75), {
        noise: CLEAR_NOISE,
        guard: LATENCY_GUARD,
        sideNoise: GUARD_NOISE,
      }),
      expected: { action: "guard_fail", guardStatistic: 6, guardThreshold: 100 },
    },
    {
      sentence: "a deterministic simplification that scores the same twice is kept as a simplification",
      state: state(runs(0.7, 0.7, 0.7), runs(0.7, 0.7)),
      request: { simplification: SMALLER },
      expected: { action: "keep", rule: "simplification", sizeChange: SMALLER, tieMargin: 0.00005 },
    },
    {
      sentence: "a deterministic simplification is confirmed by a second run first",
      state: state(runs(0.7, 0.7, 0.7), runs(0.7)),
      request: { simplification: SMALLER },
      expected: { action: "run_candidate", rule: null },
    },
    {
      sentence: "a deterministic simplification that loses score is discarded",
      state: state(runs(0.7, 0.7, 0.7), runs(0.69)),
      request: { simplification: SMALLER },
      expected: { action: "discard", rule: null },
    },
    {
      sentence: "a simplification margin lets a small loss through",
      state: state(runs(0.7, 0.7, 0.7), runs(0.695, 0.695)),
      request: { simplification: SMALLER },
      expected: { action: "keep", rule: "simplification", tieMargin: 0.01 },
    },
    {
      sentence: "a 'simplification' that makes the file bigger is judged by the gain rule alone",
      state: state(runs(0.7, 0.7, 0.7), runs(0.7)),
      request: { simplification: BIGGER },
      expected: { action: "discard", rule: null, tieMargin: null },
    },
    {
      sentence: "without a request, an equal score is discarded as before",
      state: state(runs(0.7, 0.7, 0.7), runs(0.7)),
      expected: { action: "discard", rule: null },
    },
    {
      sentence: "a noisy simplification with as many runs as the tie test needs and no loss is kept",
      state: state(
        runs(0.70, 0.71, 0.69, 0.70, 0.71, 0.69, 0.70, 0.70, 0.71, 0.69, 0.70, 0.70),
        runs(0.70, 0.71, 0.69, 0.70, 0.71, 0.69, 0.70, 0.70, 0.71, 0.69, 0.70, 0.70),
        { noise: CLEAR_NOISE },
      ),
      request: { simplification: SMALLER },
      expected: { action: "keep", rule: "simplification" },
    },
    {
      sentence: "a noisy simplification after one even run is not decided yet: both run again",
      state: state(runs(0.70, 0.71, 0.69), runs(0.70), { noise: CLEAR_NOISE }),
      request: { simplification: SMALLER },
      expected: { action: "run_both" },
    },
    {
      sentence: "a deterministic tie with a better deterministic tiebreak, confirmed, is kept on the tiebreak",
      state: state(
        tiebroken("precision@3", [[0.8, 0.875], [0.8, 0.875], [0.8, 0.875]]),
        tiebroken("precision@3", [[0.8, 0.911], [0.8, 0.911]]),
        {
          tiebreaks: PRECISION,
        },
      ),
      expected: { action: "keep", rule: "tiebreak" },
    },
    {
      sentence: "a deterministic tie with a worse tiebreak is discarded",
      state: state(
        tiebroken("precision@3", [[0.8, 0.875], [0.8, 0.875], [0.8, 0.875]]),
        tiebroken("precision@3", [[0.8, 0.85]]),
        {
          tiebreaks: PRECISION,
        },
      ),
      expected: { action: "discard", rule: null },
    },
    {
      sentence: "a tiebreak better but the main metric lower is discarded",
      state: state(
        tiebroken("precision@3", [[0.8, 0.875], [0.8, 0.875], [0.8, 0.875]]),
        tiebroken("precision@3", [[0.79, 0.95]]),
        {
          tiebreaks: PRECISION,
        },
      ),
      expected: { action: "discard", rule: null },
    },
    {
      sentence: "a tiebreak minimized counts a lower value as better",
      state: state(
        tiebroken("tokens", [[0.8, 120], [0.8, 120], [0.8, 120]]),
        tiebroken("tokens", [[0.8, 100], [0.8, 100]]),
        {
          tiebreaks: [{ metric: "tokens", direction: "min" }],
        },
      ),
      expected: { action: "keep", rule: "tiebreak" },
    },
  ];
  for (const row of rows) {
    test(row.sentence, () => {
      const verdict = decideCandidate(
        row.state,
        { ...row.options, ...(row.sentence.includes("margin lets") ? { simplifyMargin: 0.01 } : {}) },
        row.request,
      );
      for (const [key, value] of Object.entries(row.expected)) {
        const actual = verdict[key as keyof Verdict];
        if (typeof value === "number") expect(actual as number).toBeCloseTo(value, 6);
        else expect(actual).toEqual(value as never);
      }
    });
  }

  test("a 'simplification' that is not smaller says so in the reason", () => {
    const verdict = decideCandidate(state(runs(0.7, 0.7, 0.7), runs(0.7)), {}, { simplification: BIGGER });
    expect(verdict.reason).toContain("Not judged as a simplification: the files did not get smaller (40 → 44 lines");
  });

  test("a simplification that makes a tiebreak worse is not kept as one", () => {
    const verdict = decideCandidate(
      state(
        tiebroken("precision@3", [[0.8, 0.9], [0.8, 0.9], [0.8, 0.9]]),
        tiebroken("precision@3", [[0.8, 0.85], [0.8, 0.85]]),
        { tiebreaks: PRECISION },
      ),
      {},
      { simplification: SMALLER },
    );
    expect(verdict).toMatchObject({ action: "discard", rule: null });
    expect(verdict.reason).toContain("As a simplification (40 → 31 lines, 300 → 240 tokens): tiebreak precision@3");
  });

  test("a reformat that only joins lines (same tokens) is not a simplification", () => {
    const joined = { lines: [40, 31] as [number, number], tokens: [300, 300] as [number, number] };
    const verdict = decideCandidate(state(runs(0.7, 0.7, 0.7), runs(0.7, 0.7)), {}, { simplification: joined });
    expect(verdict).toMatchObject({ action: "discard", rule: null });
    expect(verdict.reason).toContain("Not judged as a simplification");
  });

  test("a tiebreak is judged at its own print resolution, not the main metric's", () => {
    // A count of failures (resolution 1) ties at 3; precision@3 moves 0.875 -> 0.911.
    const verdict = decideCandidate(
      state(
        tiebroken("precision@3", [[3, 0.875], [3, 0.875], [3, 0.875]]),
        tiebroken("precision@3", [[3, 0.911], [3, 0.911]]),
        { tiebreaks: PRECISION },
      ),
      { direction: "min", resolution: 1 },
    );
    expect(verdict).toMatchObject({ action: "keep", rule: "tiebreak" });
    expect(verdict.reason).toContain("precision@3 0.875 → 0.911 (exact)");
  });

  test("a tie route stops at max_tie_runs even when the tiebreak is missing from some runs", () => {
    const incumbent: Run[] = Array.from({ length: 20 }, (_, index) => ({
      score: 0.7 + (index % 2 ? 0.01 : -0.01),
      ...(index % 2 ? { tiebreaks: { "precision@3": 0.6 + (index % 4 ? 0.01 : -0.01) } } : {}),
    }));
    const candidate: Run[] = incumbent.map((run) => ({ ...run }));
    const verdict = decideCandidate(
      state(incumbent, candidate, { noise: CLEAR_NOISE, tiebreaks: PRECISION }),
      { maxTieRuns: 20 },
    );
    expect(["discard", "keep"]).toContain(verdict.action);
  });

  test("the guard's and tiebreaks' noise is pooled by discards and keeps", () => {
    let current = initialDecisionState(
      [{ score: 0.7, guard: 10, tiebreaks: { p: 0.5 } }, { score: 0.71, guard: 12, tiebreaks: { p: 0.52 } }],
      LATENCY_GUARD,
      [{ metric: "p", direction: "max" }],
    );
    current = {
      ...current,
      candidateRuns: [{ score: 0.7, guard: 11, tiebreaks: { p: 0.5 } }, {
        score: 0.7,
        guard: 13,
        tiebreaks: { p: 0.5 },
      }],
    };
    current = discardCandidate(current);
    expect(current.sideNoise?.guard.degreesOfFreedom).toBe(1);
    expect(current.sideNoise?.guard.sumOfSquares).toBeCloseTo(2, 9);
    current = promoteCandidate({
      ...current,
      candidateRuns: [{ score: 0.8, guard: 9, tiebreaks: { p: 0.6 } }, {
        score: 0.81,
        guard: 9,
        tiebreaks: { p: 0.6 },
      }],
    });
    // + the incumbent's 2 runs; the candidate's go on as the new incumbent's (shared incumbent runs)
    expect(current.sideNoise?.guard.degreesOfFreedom).toBe(2);
    expect(current.sideNoise?.tiebreaks.p.degreesOfFreedom).toBe(2);
    const earlier = promoteCandidate({ ...current, candidateRuns: runs(0.9, 0.91) }, EARLIER_RULE);
    expect(earlier.noise.degreesOfFreedom).toBe(current.noise.degreesOfFreedom + 1 + 1);
  });
});
