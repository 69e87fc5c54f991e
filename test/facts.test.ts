// The facts with one home each: round artifact names (experiment/artifacts.ts), the delta
// and timestamp spellings (text/), and the journal line schemas (experiment/journal.ts),
// which read the seed's hand-written lines as tolerantly as the kit's own.
import { describe, expect, test } from "bun:test";
import {
  defaultArtifacts,
  evalScriptPath,
  nextArtifacts,
  roundArtifactPath,
  roundInName,
} from "../scripts/lib/experiment/artifacts.ts";
import { parseJournal } from "../scripts/lib/experiment/journal.ts";
import {
  formatCompact,
  formatDelta,
  formatScore,
  measureDecimals,
  measureStyle,
  roundMeasure,
} from "../scripts/lib/text/number-format.ts";
import { fileNameTimestamp, journalTimestamp } from "../scripts/lib/text/timestamp.ts";

describe("round artifact names", () => {
  test.each([
    ["instructions.md", 1, "instructions.md"],
    ["instructions.md", 2, "instructions_2.md"],
    ["autoresearch_2.jsonl", 3, "autoresearch_3.jsonl"],
    ["autoresearch_3.jsonl", 1, "autoresearch.jsonl"],
    ["evals/eval.py", 2, "evals/eval_2.py"],
    ["Makefile", 2, "Makefile_2"],
  ])("roundArtifactPath(%p, %p) is %p", (path, round, expected) => {
    expect(roundArtifactPath(path, round)).toBe(expected);
  });

  test.each([
    ["autoresearch_3.jsonl", 3],
    ["logs/notes_12.jsonl", 12],
    ["autoresearch.jsonl", null],
    ["autoresearch_v2.jsonl", null],
  ])("roundInName(%p) is %p", (path, expected) => {
    expect(roundInName(path)).toBe(expected);
  });

  test("a new experiment's round 2 names and round 1's renamed for round 2 agree", () => {
    expect(defaultArtifacts(2)).toEqual({
      journal: "autoresearch_2.jsonl",
      dashboard: "autoresearch_dashboard_2.md",
      instructions: "instructions_2.md",
      launch_prompt: "launch_prompt_2.md",
      report: "autoresearch_report_2.md",
    });
    expect(nextArtifacts(defaultArtifacts(1), 2)).toEqual(defaultArtifacts(2));
    expect(evalScriptPath(".py", 1)).toBe("autoresearch_eval.py");
    expect(evalScriptPath(".ts", 3)).toBe("autoresearch_eval_3.ts");
  });
});

describe("one spelling per number and time", () => {
  test.each([
    [0.012, "+0.0120"],
    [-0.02, "-0.0200"],
    [0.00004, "+0.000040"], // a difference is never written as none...
    [-0.00004, "-0.000040"],
    [1e-12, "+0.0000"], // ...unless it is the means' rounding noise
    [-1e-12, "+0.0000"],
    [null, null],
    [Number.NaN, null],
  ])("formatDelta(%p) is %p", (value, expected) => {
    expect(formatDelta(value)).toBe(expected);
  });

  test.each([
    [0.693, "0.6930", "0.693", 0.693],
    [0.0523, "0.0523", "0.0523", 0.0523],
    [12, "12.0000", "12.00", 12],
    [0, "0.0000", "0.00", 0],
    [0.00523, "0.0052", "0.0052", 0.0052],
    [0.000523, "0.0005230", "0.000523", 0.000523],
    [0.0000101934, "0.00001019", "0.00001019", 0.00001019],
    [-0.000000412, "-0.0000004120", "-0.000000412", -4.12e-7],
    [1e-15, "0.000000000000", "0.0000000000", 0],
  ])("a score %p is written %p (compact %p) and recorded as %p: four decimals, four significant digits below 0.001", (
    value,
    score,
    compact,
    recorded,
  ) => {
    expect(formatScore(value)).toBe(score);
    expect(formatCompact(value)).toBe(compact);
    expect(roundMeasure(value)).toBe(recorded);
  });

  test.each([
    [[0.7124, 0.05], 4],
    [[0.0000102, 0.00000983], 9],
    [[0.05, 0.004], 4],
    [[0.05, 0.0004], 7], // the lower median
    [[0.7124, 0.7131, 0.0005], 4], // one broken candidate among accuracies
    [[0, null, Number.NaN, 0.7], 4],
    [[], 4],
  ])("a quantity of %p is written with %p decimals", (values, decimals) => {
    expect(measureDecimals(values)).toBe(decimals);
  });

  test("a delta takes its scores' decimals, not its own: +0.0052 beside 0.7, -0.000001230 beside 0.0000042", () => {
    expect(formatDelta(0.00004, measureStyle([0.7124, 0.71244]))).toBe("+0.000040");
    expect(formatDelta(0.0052, measureStyle([0.7124]))).toBe("+0.0052");
    expect(formatDelta(-0.00000123, measureStyle([0.0000042, 0.00000297]))).toBe("-0.000001230");
    expect(formatDelta(2, measureStyle([10, 12]))).toBe("+2");
  });

  test("the journal's timestamp is to the second; a file name's keeps milliseconds without colons", () => {
    const moment = new Date("2025-03-15T02:00:00.123Z");
    expect(journalTimestamp(moment)).toBe("2025-03-15T02:00:00Z");
    expect(fileNameTimestamp(moment)).toBe("2025-03-15T02-00-00-123Z");
  });
});

describe("journal line schemas", () => {
  test("hand-written lines: strings for numbers, signed deltas, nulls, odd statuses, missing fields", () => {
    const journal = parseJournal([
      '{"type": "config", "constrained_file": "rank.py", "baseline": "0.5120", "guard_threshold": "0.80", "round": "2", "iterations": 20, "plateau": "7", "notes": "by hand"}',
      '{"iteration": "1", "score": "0.5300", "delta": 0.018, "status": "KEEP", "guard_pass": "PASS", "description": "first"}',
      '{"type": "result", "score": null, "delta": "+0.0120", "status": "Guard-Fail", "commit": ""}',
      '{"type": "result", "status": "maybe", "runs": ["0.5", 0.6, "x"]}',
    ].join("\n"));
    expect(journal.config).toMatchObject({
      constrained_file: "rank.py",
      eval_command: "",
      metric: "score",
      baseline: 0.512,
      guard_threshold: 0.8,
      min_delta: null,
      direction: "max",
      round: 2,
      iterations: 20,
      plateau: 7,
      notes: "by hand",
    });
    expect(journal.results.map((line) => [line.iteration, line.score, line.delta, line.status])).toEqual([
      [1, 0.53, "+0.0180", "keep"],
      [1, null, "+0.0120", "guard_fail"],
      [2, null, null, "discard"],
    ]);
    expect(journal.results[0].guard_pass).toBe(true);
    expect(journal.results[1].commit).toBeNull();
    expect(journal.results[2].runs).toEqual([0.5, 0.6, null]); // index-aligned with guard and case runs
    expect(journal.warnings).toEqual(['autoresearch.jsonl:4: unknown status "maybe", read as discard']);
  });

  test("a malformed field of the kit's own is left out; the line and its other fields still count", () => {
    const journal = parseJournal(
      '{"type": "config", "metric": "mrr", "noise": {"sd": "0.004", "runs": "three"}, "hashes": "none", "round": 0}\n' +
        '{"type": "result", "iteration": 3, "score": 0.7, "status": "discard", "metrics": {"mrr": "high"}, "reason": 42, "agent_seconds": 12.5}\n',
    );
    expect(journal.config?.noise).toEqual({
      sd: 0.004,
      mean: null,
      runs: [],
      deterministic: null,
      min_detectable_effect: null,
    });
    expect(journal.config?.hashes).toBeUndefined();
    expect(journal.config?.round).toBeUndefined();
    const [line] = journal.results;
    expect(line).toMatchObject({ iteration: 3, score: 0.7, status: "discard", agent_seconds: 12.5 });
    expect(line.metrics).toBeUndefined();
    expect(line.reason).toBeUndefined();
  });
});
