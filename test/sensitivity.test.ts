// Unit tests for the sensitivity probe's judgement (scripts/lib/baseline/sensitivity.ts compareWithBaseline
// and describeMove): baseline runs and a probe run in, the signals that moved out, one table row
// per situation. The probe itself (breaking, running, restoring) is tested end to end in
// test/baseline.test.ts.
import { describe, expect, test } from "bun:test";
import {
  compareWithBaseline,
  describeMove,
  type ProbeRun,
  type SignalMove,
} from "../scripts/lib/baseline/sensitivity.ts";

const RESOLUTION = 1e-4;

function run(score: number | null, more: Partial<ProbeRun> = {}): ProbeRun {
  return { score, guard: null, metrics: {}, cases: null, ...more };
}

/** Runs of a timing eval: noisy latency (the score), exact accuracy, a GUARD line and one noisy case. */
function timing(latency: number, accuracy: number, caseValue: number): ProbeRun {
  return run(latency, {
    guard: accuracy,
    metrics: { latency_ms: latency, accuracy, cases: 24, guard: accuracy },
    cases: { kimchi: caseValue },
  });
}

const LOADED_BASELINE = [timing(1.31, 1, 1.4), timing(3.9, 1, 4.2), timing(2.05, 1, 2.1)];

type Row = {
  name: string;
  baseline: ProbeRun[];
  probe: ProbeRun;
  guardMetric?: string;
  /** "kind name" of every signal that moved, strongest first. */
  moved: string[];
};

const ROWS: Row[] = [
  {
    name: "an unchanged deterministic score is not a move",
    baseline: [run(0.1563), run(0.1563), run(0.1563)],
    probe: run(0.1563),
    moved: [],
  },
  {
    name: "a deterministic score that changes by one print step moves",
    baseline: [run(0.1563), run(0.1563), run(0.1563)],
    probe: run(0.1564),
    moved: ["score score"],
  },
  {
    name: "a change under half the resolution is the same printed value",
    baseline: [run(0.15630), run(0.15630)],
    probe: run(0.15634),
    moved: [],
  },
  {
    name: "a noisy score inside its prediction interval stays, even 4 sd away (three runs say little about the spread)",
    baseline: [run(0.70), run(0.72), run(0.74)],
    probe: run(0.80),
    moved: [],
  },
  {
    name: "a noisy score beyond its prediction interval moves",
    baseline: [run(0.70), run(0.72), run(0.74)],
    probe: run(0.96),
    moved: ["score score"],
  },
  {
    name: "a lone baseline run has no spread, so any printed change counts",
    baseline: [run(0.5)],
    probe: run(0.5001),
    moved: ["score score"],
  },
  {
    name: "under load a broken timing eval moves accuracy exactly, and the guard, while latency hides in its noise",
    baseline: LOADED_BASELINE,
    probe: timing(1.2, 0, 1.3),
    guardMetric: "accuracy",
    moved: ["metric accuracy", "metric guard"],
  },
  {
    name: "a guard read from a metric no run printed under that name is its own signal",
    baseline: [run(0.4, { guard: 0.9 }), run(0.4, { guard: 0.9 })],
    probe: run(0.4, { guard: 0.2 }),
    guardMetric: "mrr",
    moved: ["guard mrr"],
  },
  {
    name: "a named metric that moves is enough when the score stays",
    baseline: [run(0.4, { metrics: { recall: 0.8 } }), run(0.4, { metrics: { recall: 0.8 } })],
    probe: run(0.4, { metrics: { recall: 0.6 } }),
    moved: ["metric recall"],
  },
  {
    name: "per-case outputs that trade places move while the mean score stays",
    baseline: [run(0.5, { cases: { a: 1, b: 0 } }), run(0.5, { cases: { a: 1, b: 0 } })],
    probe: run(0.5, { cases: { a: 0, b: 1 } }),
    moved: ["case a", "case b"],
  },
  {
    name: "a metric every baseline run printed and the probe did not has moved",
    baseline: [run(0.4, { metrics: { recall: 0.8 } }), run(0.4, { metrics: { recall: 0.8 } })],
    probe: run(0.4),
    moved: ["metric recall"],
  },
  {
    name: "a metric only some baseline runs printed may be missing from the probe",
    baseline: [run(0.4, { metrics: { recall: 0.8 } }), run(0.4)],
    probe: run(0.4),
    moved: [],
  },
  {
    name: "a metric only the probe printed has moved",
    baseline: [run(0.4), run(0.4)],
    probe: run(0.4, { metrics: { errors: 16 } }),
    moved: ["metric errors"],
  },
  {
    name: "exact moves come before noisy ones however far the noisy ones went",
    baseline: [run(1.0, { metrics: { accuracy: 1 } }), run(1.2, { metrics: { accuracy: 1 } })],
    probe: run(50, { metrics: { accuracy: 0.9 } }),
    moved: ["metric accuracy", "score score"],
  },
  {
    name: "noisy moves are ranked by distance in tolerances",
    baseline: [
      run(1.0, { metrics: { tokens: 100 } }),
      run(1.1, { metrics: { tokens: 101 } }),
      run(1.2, { metrics: { tokens: 102 } }),
    ],
    probe: run(5.0, { metrics: { tokens: 200 } }),
    moved: ["metric tokens", "score score"],
  },
];

describe("compareWithBaseline", () => {
  for (const row of ROWS) {
    test(row.name, () => {
      const verdict = compareWithBaseline(row.baseline, row.probe, {
        resolution: RESOLUTION,
        guardMetric: row.guardMetric,
      });
      expect(verdict.moved.map((move) => `${move.kind} ${move.name}`)).toEqual(row.moved);
    });
  }

  test("a move reports the baseline mean, the probe's value and the tolerance it crossed", () => {
    const verdict = compareWithBaseline([run(0.70), run(0.72), run(0.74)], run(0.96), { resolution: RESOLUTION });
    expect(verdict.moved).toHaveLength(1);
    const [move] = verdict.moved;
    expect(move).toMatchObject({ kind: "score", name: "score", to: 0.96, exact: false });
    expect(move.from).toBeCloseTo(0.72, 12);
    expect(move.tolerance).toBeCloseTo(9.9248 * 0.02 * Math.sqrt(4 / 3), 4); // t(0.995, 2 df) × sd × sqrt(1 + 1/3)
  });

  test("an exact signal's tolerance is half the resolution", () => {
    const [move] = compareWithBaseline([run(1, { metrics: { accuracy: 1 } })], run(1, { metrics: { accuracy: 0 } }), {
      resolution: RESOLUTION,
    }).moved;
    expect(move).toEqual({ kind: "metric", name: "accuracy", from: 1, to: 0, tolerance: RESOLUTION / 2, exact: true });
  });

  test("an unchanged timing eval printing 24 noisy cases is not called sensitive by the one case that wandered furthest", () => {
    // 23 cases wobble inside their spread; case q7's probe run lands 4 sd out, as one of 24 will now and then.
    const wobble = [0, 0.1, -0.1, 0.05];
    const runOf = (runIndex: number) =>
      run(2 + wobble[runIndex], {
        cases: Object.fromEntries(
          Array.from(
            { length: 24 },
            (_, index) => [`q${index}`, index === 7 ? [2, 2.01, 2.02, 2.05][runIndex] : 2 + wobble[runIndex]],
          ),
        ),
      });
    const verdict = compareWithBaseline([runOf(0), runOf(1), runOf(2)], runOf(3), { resolution: RESOLUTION });
    expect(verdict.compared).toBe(25);
    expect(verdict.moved).toEqual([]);
  });

  test("it counts every signal it compared: the score, each metric and each case", () => {
    const verdict = compareWithBaseline(LOADED_BASELINE, timing(1.2, 0, 1.3), {
      resolution: RESOLUTION,
      guardMetric: "accuracy",
    });
    expect(verdict.compared).toBe(6); // score, accuracy (the guard), latency_ms, cases, guard, case kimchi
  });
});

describe("describeMove", () => {
  const move = (more: Partial<SignalMove>): SignalMove => ({
    kind: "metric",
    name: "accuracy",
    from: 1,
    to: 0,
    tolerance: 0.00005,
    exact: true,
    ...more,
  });
  const CASES: [string, SignalMove, string][] = [
    ["a metric names itself", move({}), "accuracy moved from 1 to 0"],
    [
      "the score is the score",
      move({ kind: "score", name: "score", from: 0.1563, to: 0.0312 }),
      "the score moved from 0.1563 to 0.0312",
    ],
    [
      "a case is quoted",
      move({ kind: "case", name: "kimchi", from: 1.456098, to: 0.0021 }),
      'case "kimchi" moved from 1.4561 to 0.0021',
    ],
    [
      "a mean is shown to six significant digits",
      move({ kind: "score", name: "score", from: 2 / 3, to: 0.5 }),
      "the score moved from 0.666667 to 0.5",
    ],
    ["a guard names its metric", move({ kind: "guard", name: "mrr", from: 0.9, to: 0.2 }), "mrr moved from 0.9 to 0.2"],
    ["a vanished signal says what it was", move({ to: null }), "accuracy was no longer printed (it was 1)"],
    ["a new signal says what it is", move({ name: "errors", from: null, to: 16 }), "errors appeared (16)"],
  ];
  for (const [name, input, expected] of CASES) test(name, () => expect(describeMove(input)).toBe(expected));
});
