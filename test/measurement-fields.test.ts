// The measurement fields behind the fingerprint baseline records (scripts/lib/integrity/frozen-files.ts):
// settings added later (tiebreaks, metric.score_from, decision.simplify_margin, max_tie_runs and noise_model) must
// not change the fingerprint of an experiment that does not use them, or every experiment baselined
// before an upgrade would read as tampered with; using one must change it.
import { describe, expect, test } from "bun:test";
import {
  changedMeasurementFields,
  measurementFields,
  measurementFingerprint,
  withMeasurementFields,
} from "../scripts/lib/integrity/frozen-files.ts";
import { experimentSchemas } from "../scripts/lib/experiment/schema.ts";
import type { Experiment } from "../scripts/lib/experiment/schema.ts";

const ROUND = {
  round: 1,
  status: "open",
  constrained_files: ["ranker.py"],
  eval: { command: "python3 eval.py", script: "eval.py", timeout_s: 60 },
  artifacts: {
    journal: "autoresearch.jsonl",
    dashboard: "autoresearch_dashboard.md",
    instructions: "instructions.md",
    launch_prompt: "launch_prompt.md",
    report: "autoresearch_report.md",
  },
};

function experiment(extra: Record<string, unknown> = {}): Experiment {
  return experimentSchemas().ExperimentSchema.parse({
    version: 1,
    name: "fixture",
    current_round: 1,
    language: "python",
    project: "plain",
    metric: { name: "mrr", direction: "max" },
    guard: { metric: "latency_ms", op: "<=", threshold: 10 },
    test_data: "cases.json",
    rounds: [ROUND],
    ...extra,
  });
}

/** The fields exactly as an earlier version of the kit recorded them, before the later settings existed. */
const EARLIER_RECORD = {
  metric: { name: "mrr", direction: "max", formula: null },
  guard: { metric: "latency_ms", op: "<=", threshold: 10 },
  decision: {
    false_keep_rate: 0.05,
    max_runs: 5,
    min_effect: 0,
    baseline_runs: 3,
    fresh_incumbent_runs: 2,
    max_incumbent_runs: 6,
    resolution: 1e-4,
  },
  test_data: "cases.json",
  frozen: [],
  constrained_files: ["ranker.py"],
  eval: ROUND.eval,
  baseline_commit: null,
};

describe("measurement fields across an upgrade", () => {
  test("an experiment that uses none of the later settings keeps the fingerprint it was baselined with", () => {
    const current = measurementFields(experiment(), experiment().rounds[0]);
    expect(measurementFingerprint(current)).toBe(measurementFingerprint(EARLIER_RECORD as never));
    expect(changedMeasurementFields(EARLIER_RECORD as never, current)).toEqual([]);
  });

  const uses: [string, Record<string, unknown>, string][] = [
    ["tiebreaks", { tiebreaks: [{ metric: "precision@3", direction: "max" }] }, "tiebreaks"],
    ["a simplification margin", { decision: { simplify_margin: 0.01 } }, "decision"],
    ["a longer tie cap", { decision: { max_tie_runs: 30 } }, "decision"],
    ["a proportional noise model", { decision: { noise_model: "proportional" } }, "decision"],
    ["a constant noise model", { decision: { noise_model: "constant" } }, "decision"],
    ["a resolution read from the scores", { decision: { resolution: null } }, "decision"],
    ["a score read from a named metric", { metric: { name: "mrr", direction: "max", score_from: "mrr" } }, "metric"],
    ["a relative guard", { guard: { metric: "latency_ms", op: "<=", baseline_factor: 1.1 } }, "guard"],
  ];
  for (const [what, extra, field] of uses) {
    test(`${what} changes the fingerprint, named as the "${field}" field, and is put back from the record`, () => {
      const changed = experiment(extra);
      const current = measurementFields(changed, changed.rounds[0]);
      expect(measurementFingerprint(current)).not.toBe(measurementFingerprint(EARLIER_RECORD as never));
      expect(changedMeasurementFields(EARLIER_RECORD as never, current)).toEqual([field]);
      const restored = withMeasurementFields(changed, changed.rounds[0], EARLIER_RECORD as never);
      expect(measurementFingerprint(measurementFields(restored, restored.rounds[0]))).toBe(
        measurementFingerprint(EARLIER_RECORD as never),
      );
    });
  }
});
