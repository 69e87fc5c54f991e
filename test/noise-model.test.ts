// The noise model (decision.noise_model, scripts/lib/decision/noise.ts): a timing's or a rate's
// run-to-run noise is a share of its score, so one sd pooled over versions at 100 and at 900 judges
// the fast version by the slow one's noise. Tables over the pure pieces: when the proportional fit
// wins, the sd it gives at a score, that it never makes a test bolder than the constant model,
// the names init reads as timings, and the option's check. bench/decision.ts scenario H measures it.
import { describe, expect, test } from "bun:test";
import {
  addGroupToPool,
  emptyNoiseHistory,
  estimateNoise,
  type NoiseHistory,
  relativeNoiseFits,
  suggestedNoiseModel,
} from "../scripts/lib/decision/noise.ts";
import { decideCandidate, initialDecisionState } from "../scripts/lib/decision/decide.ts";
import { type NoiseModel, resolveDecisionOptions, type Run } from "../scripts/lib/decision/options.ts";
import { studentTQuantile } from "../scripts/lib/decision/stats.ts";
import { createRandom } from "../bench/seeded-random.ts";

/** Runs at `level` whose sd is `share` of it (deviations -1, 0, +1 sd, repeated). */
function version(level: number, count = 3, share = 0.03): Run[] {
  const deviations = [-1, 0, 1];
  return Array.from({ length: count }, (_, index) => ({
    score: level * (1 + share * deviations[index % 3]),
  }));
}

function pooled(levels: number[], share = 0.03, count = 3): NoiseHistory {
  return levels.reduce((history, level) => addGroupToPool(history, version(level, count, share)), emptyNoiseHistory());
}

/** Runs at `level` whose sd is the same `sd` whatever the level. */
function constantVersion(level: number, sd: number): Run[] {
  return [level - sd, level, level + sd].map((score) => ({ score }));
}

describe("which noise model the pooled versions fit", () => {
  const rows: [string, NoiseHistory, boolean][] = [
    ["versions at 100, 300 and 900 with sd 3% of each", pooled([100, 300, 900]), true],
    ["latency falling from 1.6 to 0.3 ms, sd 3% of each", pooled([1.6, 0.8, 0.3]), true],
    ["every version at one level: both fit alike, so the constant model stays", pooled([100, 100, 100, 100]), false],
    ["levels 10% apart: too little to tell", pooled([100, 105, 110]), false],
    [
      "versions at 100, 300 and 900 with the same sd 3: the constant model fits",
      [100, 300, 900].reduce(
        (history, level) => addGroupToPool(history, constantVersion(level, 3)),
        emptyNoiseHistory(),
      ),
      false,
    ],
    [
      "means of both signs have no scale",
      [-50, 100, 300].reduce((history, level) => addGroupToPool(history, version(level)), emptyNoiseHistory()),
      false,
    ],
    ["one version only", pooled([100]), false],
    ["single runs say nothing of the noise", pooled([100, 300, 900], 0.03, 1), false],
  ];
  for (const [what, history, fits] of rows) {
    test(`${what}: ${fits ? "proportional" : "constant"}`, () => {
      expect(relativeNoiseFits(history)).toBe(fits);
    });
  }

  test("a history pooled before the relative sums existed reads as the constant model", () => {
    const { relativeSumOfSquares: _a, relativeCaseSumOfSquares: _b, logScaleSum: _c, scaleSign: _d, ...older } = pooled(
      [
        100,
        300,
        900,
      ],
    );
    expect(relativeNoiseFits(older as NoiseHistory)).toBe(false);
    expect(estimateNoise(older as NoiseHistory, [version(900)], { noiseModel: "proportional" }).model).toBe("absolute");
  });
});

describe("the sd a test uses at a score", () => {
  // Versions at 100 and 300 pooled, the current one at 900, sd 3% of each: one pooled sd is about
  // 16.5 (sqrt of the mean of 3^2, 9^2 and 27^2), whatever the score.
  const history = pooled([100, 300]);
  const rows: [string, NoiseModel, Run[], number, "absolute" | "relative"][] = [
    ["constant: one pooled sd at 900", "constant", version(900), 16.5, "absolute"],
    ["proportional: 3% of 900", "proportional", version(900), 27, "relative"],
    ["auto, once the versions show it: 3% of 900", "auto", version(900), 27, "relative"],
    // At 100 the proportional sd (3) is below the pooled one: never bolder, so the pooled one stays.
    ["proportional at 100: the pooled sd, not a smaller one", "proportional", version(100), 5.74, "absolute"],
  ];
  for (const [what, noiseModel, current, sd, model] of rows) {
    test(what, () => {
      const noise = estimateNoise(history, [current], { noiseModel, resolution: 0.01 });
      expect(noise.model).toBe(model);
      expect(noise.sigma as number).toBeGreaterThan(sd * 0.9);
      expect(noise.sigma as number).toBeLessThan(sd * 1.1);
      if (model === "relative") expect(noise.relativeSigma as number).toBeCloseTo(0.03, 3);
      else expect(noise.relativeSigma).toBeNull();
    });
  }

  test("proportional never gives a smaller sd than constant, at any score", () => {
    for (const level of [50, 100, 200, 400, 800, 1600]) {
      const constant = estimateNoise(history, [version(level)], { noiseModel: "constant", resolution: 0.01 });
      const proportional = estimateNoise(history, [version(level)], { noiseModel: "proportional", resolution: 0.01 });
      expect(proportional.sigma as number).toBeGreaterThanOrEqual(constant.sigma as number);
    }
  });

  test("with CASE lines too, over 3000 random histories, proportional never makes a test bolder than constant", () => {
    // Versions at random levels, with per-case and shared per-run noise, so either model may pick
    // runs or cases: the proportional estimate is taken only where its sd x t quantile is larger.
    const random = createRandom(17, 1);
    const version = (level: number, caseSd: number, runSd: number, runs: number, cases: number): Run[] =>
      Array.from({ length: runs }, () => {
        const shared = random.normal() * runSd;
        const values: Record<string, number> = {};
        let total = 0;
        for (let index = 0; index < cases; index++) {
          total += values[`c${index}`] = Math.round((level + shared + random.normal() * caseSd) * 1e4) / 1e4;
        }
        return { score: Math.round(total / cases * 1e4) / 1e4, cases: values };
      });
    const width = (sigma: number | null, df: number) =>
      (sigma ?? 0) * (df >= 1 ? studentTQuantile(0.975, df) as number : 0);
    let compared = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const cases = 2 + Math.floor(random.uniform() * 4);
      let history = emptyNoiseHistory();
      for (let index = 0; index < 2 + Math.floor(random.uniform() * 4); index++) {
        const runs = 2 + Math.floor(random.uniform() * 3);
        history = addGroupToPool(
          history,
          version(1 + random.uniform() * 9, random.uniform() * 3, random.uniform() * 0.5, runs, cases),
          { resolution: 1e-4 },
        );
      }
      const level = 1 + random.uniform() * 9;
      const groups = [
        version(level, random.uniform() * 3, 0.2, 2, cases),
        version(level, random.uniform() * 3, 0.2, 2, cases),
      ];
      const constant = estimateNoise(history, groups, { noiseModel: "constant", resolution: 1e-4 });
      const proportional = estimateNoise(history, groups, { noiseModel: "proportional", resolution: 1e-4 });
      if (constant.sigma === null) continue;
      compared++;
      expect(width(proportional.sigma, proportional.df)).toBeGreaterThanOrEqual(
        width(constant.sigma, constant.df) * 0.999999,
      );
    }
    expect(compared).toBeGreaterThan(2500);
  });

  test("a lucky no-op at 900 is judged with 3% of 900, not the quieter versions' pooled sd: a smaller t, and the reason says so", () => {
    // The incumbent at 900 over 3 runs, a candidate 1.1 sd above it (a lucky draw of the same code).
    const incumbent = version(900);
    const candidate = [{ score: 930 }, { score: 928 }];
    const start = { ...initialDecisionState(incumbent), noise: history, incumbentRunsBeforeCandidate: 0 };
    const judged = (noiseModel: NoiseModel) =>
      decideCandidate({ ...start, candidateRuns: candidate }, { noiseModel, resolution: 0.01 });
    const constant = judged("constant");
    const proportional = judged("proportional");
    expect(proportional.sigma as number).toBeGreaterThan(constant.sigma as number);
    expect(proportional.statistic as number).toBeLessThan(constant.statistic as number);
    expect(proportional.reason).toMatch(/; noise 2\.\d% of the score\)/);
    expect(constant.reason).not.toMatch(/% of the score/);
  });
});

describe("a guard's noise", () => {
  // Guard values (a latency) 3% noisy at 100 and 300 in earlier versions, now near 900: the score
  // itself is exact and clearly better, so the guard decides.
  const guardVersion = (level: number): Run[] => version(level).map((run) => ({ score: 0.5, guard: run.score }));
  const history = [100, 300].reduce(
    (pooled, level) => addGroupToPool(pooled, guardVersion(level).map((run) => ({ score: run.guard as number }))),
    emptyNoiseHistory(),
  );
  const judged = (noiseModel: NoiseModel) => {
    const incumbent = guardVersion(900);
    const candidate = [{ score: 0.9, guard: 925 }, { score: 0.9, guard: 930 }];
    const state = {
      ...initialDecisionState(incumbent, { metric: "latency_ms", op: "<=" as const, threshold: 950 }),
      sideNoise: { guard: history, tiebreaks: {} },
      candidateRuns: candidate,
      incumbentRunsBeforeCandidate: 0,
    };
    return decideCandidate(state, { noiseModel, resolution: 0.01 });
  };

  test("follows noise_model constant (one pooled sd, as before) and is more careful under auto once its runs scale", () => {
    const constant = judged("constant");
    const auto = judged("auto");
    expect(constant.guardStatistic).not.toBeNull();
    expect(auto.guardStatistic).not.toBeNull();
    // Under auto the guard's sd is about 3% of 900 instead of the slower versions' pooled one:
    // the candidate's distance from the threshold is fewer standard errors.
    expect(Math.abs(auto.guardStatistic as number)).toBeLessThan(Math.abs(constant.guardStatistic as number));
    expect(judged("proportional").guardStatistic).toBeCloseTo(auto.guardStatistic as number, 10);
  });
});

describe("the noise model init writes for a metric", () => {
  const rows: [string, NoiseModel][] = [
    ["latency_ms", "proportional"],
    ["p99_latency", "proportional"],
    ["train_time_seconds", "proportional"],
    ["wallTime", "proportional"],
    ["tokens_per_sec", "proportional"],
    ["throughput", "proportional"],
    ["qps", "proportional"],
    ["time_to_first_token", "proportional"],
    ["runtime-s", "proportional"],
    ["mrr", "auto"],
    ["accuracy", "auto"],
    ["f1", "auto"],
    ["val_loss", "auto"],
    ["messages", "auto"],
    ["timeline_score", "auto"],
    ["score", "auto"],
  ];
  for (const [metric, model] of rows) {
    test(`${metric} -> ${model}`, () => expect(suggestedNoiseModel(metric)).toBe(model));
  }
});

test("a noise model the engine does not know is refused, naming the option", () => {
  expect(() => resolveDecisionOptions({ noiseModel: "loud" as NoiseModel })).toThrow(
    /noiseModel "loud": it must be one of auto, constant, proportional/,
  );
});
