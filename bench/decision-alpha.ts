// The keep rule's false-keep rate per no-op candidate, one candidate at a time: each no-op is
// tested against a fresh, unbiased incumbent reference of N runs (the noise already well known; a
// reference of 1 gets its second run before the first look, as the engine asks),
// so nothing that happened earlier in a session (a reference the winner's curse left too high, one
// shared by many candidates) lowers it. Sessions measure less (bench/decision.ts: Z 1.8-1.9%, A
// 3.5-3.9%); this is the rate when those effects are absent, as after keeps of large real gains
// (scenario H's constant-sd reference row).
// Run: bun bench/decision-alpha.ts [--candidates 20000] [--seed 5]

import { parseArgs } from "node:util";
import { discardCandidate, initialDecisionState } from "../scripts/lib/decision/decide.ts";
import { type DecisionOptions, DEFAULT_DECISION_OPTIONS, type Run } from "../scripts/lib/decision/options.ts";
import { createRandom } from "./seeded-random.ts";
import { settleCandidate } from "./engine-driver.ts";

const REFERENCE_SIZES = [1, 3, 5, 8, 30];
const NOISE_VERSIONS = 20; // versions of 3 runs pooled first: about 40 degrees of freedom

function falseKeepRate(referenceRuns: number, candidates: number, seed: number) {
  const random = createRandom(seed, referenceRuns, 1);
  const options: Partial<DecisionOptions> = { direction: "max", resolution: 1e-4, falseKeepRate: 0.05 };
  const run = (): Run => ({ score: 10 + random.normal() });
  let evals = 0;
  let known = initialDecisionState(Array.from({ length: referenceRuns }, run));
  for (let index = 0; index < NOISE_VERSIONS; index++) {
    known = discardCandidate({ ...known, candidateRuns: [run(), run(), run()] }, options);
  }
  let keeps = 0;
  for (let index = 0; index < candidates; index++) {
    const state = {
      ...known,
      incumbentRuns: Array.from({ length: referenceRuns }, run),
      incumbentRunsBeforeCandidate: referenceRuns,
    };
    const settled = settleCandidate(state, options, {
      incumbent: () => (evals++, run()),
      candidate: () => (evals++, run()),
    });
    if (settled.verdict.action === "keep") keeps++;
  }
  return { rate: keeps / candidates, evalsPerCandidate: evals / candidates };
}

function main(): void {
  const { values } = parseArgs({
    options: { candidates: { type: "string", default: "20000" }, seed: { type: "string", default: "5" } },
  });
  const candidates = Number(values.candidates);
  const seed = Number(values.seed);
  console.log(
    `# No-op candidates kept, each against a fresh reference (${candidates} per row, seed ${seed}, alpha 0.05)\n`,
  );
  console.log("| incumbent runs in the reference | no-op kept | evals per candidate |");
  console.log("|---|---|---|");
  for (const size of REFERENCE_SIZES) {
    const { rate, evalsPerCandidate } = falseKeepRate(size, candidates, seed);
    const cap = DEFAULT_DECISION_OPTIONS.maxIncumbentRuns;
    console.log(
      `| ${size}${size < cap ? ` (more run beside the candidate, up to ${cap})` : ""} | ${(rate * 100).toFixed(2)}% | ${
        evalsPerCandidate.toFixed(2)
      } |`,
    );
  }
}

main();
