// Baseline figures from the incumbent's first runs: mean, sd, spread, CV, whether the eval is
// deterministic, wild runs, the smallest detectable gain and the min_delta to record, plus
// warnings in plain words. Pure: it does not run the baseline or write the journal (baseline.ts),
// and it does not decide keep or discard (decide.ts).

import {
  MAD_TO_STANDARD_DEVIATION,
  mean,
  median,
  medianAbsoluteDeviation,
  sampleStandardDeviation,
  studentTQuantile,
} from "./stats.ts";
import {
  type DecisionSettings,
  finiteOrNull,
  formatter,
  printedResolution,
  resolveDecisionOptions,
  type Run,
} from "./options.ts";
import { minDetectableEffect, noiseFloor, spreadOf } from "./noise.ts";

export interface Calibration {
  runs: number;
  mean: number | null;
  median: number | null;
  sd: number | null;
  /** max - min of the scores. */
  spread: number | null;
  /** sd / |mean|; null when the mean is 0 or sd is unknown. */
  cv: number | null;
  deterministic: boolean;
  /** MAD-based sd, floored like sigma; the yardstick for wild runs. */
  robustSd: number | null;
  /** Indexes (into the runs given) of scores more than 10 robust sd from the median. */
  wildRuns: number[];
  minDetectableEffect: number | null;
  /** Smallest observed gain that can be kept after the most runs (for the journal's min_delta). */
  recommendedMinDelta: number | null;
  /** The score's print resolution the figures were taken with (decision.resolution, or read from the scores). */
  resolution: number;
  warnings: string[];
}

// A set resolution this close to the scores' size leaves them under three significant digits.
const COARSE_RESOLUTION_SHARE = 0.01;

/**
 * A warning when decision.resolution is set coarser than the scores the eval prints and so hides
 * them: an MSE printed as 0.00001019 under 0.0001 reads as a deterministic eval whose every
 * change is a tie. Null when the resolution is read from the scores or fits them.
 */
function coarseResolutionWarning(configured: number | null | undefined, scores: readonly number[]): string | null {
  if (configured === null || configured === undefined || scores.length === 0) return null;
  const printed = printedResolution(scores);
  const largest = Math.max(...scores.map(Math.abs));
  const spread = spreadOf(scores) ?? 0;
  const hidden = spread > 0 && spread <= configured / 2;
  if (!(printed < configured) || !(hidden || largest * COARSE_RESOLUTION_SHARE < configured)) return null;
  return `decision.resolution ${configured} is coarser than the scores the eval prints (${
    scores.map(String).join(", ")
  }): ${
    hidden ? "their differences count as none" : "a change of a few percent counts as none"
  }. Set decision.resolution to null in the experiment file (read from the scores), then re-run baseline.`;
}

// hyperfine's rule of thumb for a run that is not measuring the same thing (robust sd units).
const WILD_RUN_ROBUST_SDS = 10;
// Above this sd / |mean| the noise deserves a warning even without an expected gain (fraction).
const HIGH_NOISE_CV = 0.05;

/**
 * Baseline figures from the incumbent's first runs. Example (resolution 1e-4):
 * calibrate([{score: 0.71}, {score: 0.71}, {score: 0.71}]) -> deterministic, sd 0, recommendedMinDelta 0.0001.
 */
export function calibrate(
  runs: readonly Run[],
  options: DecisionSettings & { expectedGain?: number } = {},
): Calibration {
  const { expectedGain, ...decisionOptions } = options;
  const indexed = runs.map((run, index) => ({ score: run.score, index })).filter((run) => Number.isFinite(run.score));
  const scores = indexed.map((run) => run.score);
  const resolved = resolveDecisionOptions(decisionOptions, scores);
  const format = formatter(resolved);
  const n = scores.length;
  const centre = mean(scores);
  const middle = median(scores);
  const sd = sampleStandardDeviation(scores);
  const spread = n > 0 ? spreadOf(scores) : null;
  const deterministic = n >= 2 && (spread as number) <= resolved.resolution / 2;
  const mad = medianAbsoluteDeviation(scores);
  const robustSd = mad === null ? null : Math.max(MAD_TO_STANDARD_DEVIATION * mad, noiseFloor(resolved.resolution));
  const wildRuns = middle === null || robustSd === null
    ? []
    : indexed.filter((run) => Math.abs(run.score - middle) > WILD_RUN_ROBUST_SDS * robustSd).map((run) => run.index);

  let detectable: number | null = null;
  let recommendedMinDelta: number | null = null;
  if (deterministic) {
    detectable = Math.max(resolved.minEffect, resolved.resolution / 2);
    recommendedMinDelta = Math.ceil(detectable / resolved.resolution - 1e-9) * resolved.resolution;
  } else if (sd !== null) {
    const df = n - 1;
    detectable = minDetectableEffect(sd, df, resolved.maxCandidateRuns, resolved.maxIncumbentRuns, resolved);
    const critical = studentTQuantile(1 - resolved.perLookLevel, df) as number;
    const smallestKept = resolved.minEffect + critical * Math.max(sd, noiseFloor(resolved.resolution)) *
        Math.sqrt(1 / resolved.maxCandidateRuns + 1 / resolved.maxIncumbentRuns);
    // toPrecision: a multiple of the resolution as printed (0.0501, not 0.050100000000000006).
    recommendedMinDelta = Number(
      (Math.ceil(smallestKept / resolved.resolution - 1e-9) * resolved.resolution).toPrecision(12),
    );
  }

  const warnings: string[] = [];
  if (n < 2) {
    warnings.push(
      `${n} baseline run${
        n === 1 ? "" : "s"
      } cannot measure noise: run the baseline at least 2 times (${resolved.baselineRuns} recommended).`,
    );
  }
  for (const index of wildRuns) {
    warnings.push(
      `Run ${index + 1} scored ${
        format.score(runs[index].score)
      }, more than ${WILD_RUN_ROBUST_SDS} robust sd from the median ${
        format.score(middle as number)
      }: check the eval for crashes, caching or a cold start.`,
    );
  }
  const coarse = coarseResolutionWarning(decisionOptions.resolution, scores);
  if (coarse) warnings.push(coarse);
  const cv = sd !== null && centre !== null && centre !== 0 ? sd / Math.abs(centre) : null;
  if (expectedGain !== undefined && detectable !== null && detectable > expectedGain) {
    warnings.push(
      `The noise (sd ${format.score(sd ?? 0)}) hides gains below ${
        format.score(detectable)
      }, more than the expected gain ${
        format.score(expectedGain)
      }: reduce the eval's noise (more cases, fixed seeds) or expect few keeps.`,
    );
  } else if (cv !== null && cv > HIGH_NOISE_CV) {
    warnings.push(
      `Runs of the same code vary by ${(cv * 100).toFixed(1)}% of the score (sd ${
        format.score(sd as number)
      }): only gains above ${format.score(detectable ?? 0)} can be told from noise.`,
    );
  }
  return {
    runs: n,
    mean: finiteOrNull(centre),
    median: finiteOrNull(middle),
    sd: finiteOrNull(sd),
    spread: finiteOrNull(spread),
    cv: finiteOrNull(cv),
    deterministic,
    robustSd: finiteOrNull(robustSd),
    wildRuns,
    minDetectableEffect: finiteOrNull(detectable),
    recommendedMinDelta: finiteOrNull(recommendedMinDelta),
    resolution: resolved.resolution,
    warnings,
  };
}
