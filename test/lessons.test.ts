// lessons.ts: what a round's iterations teach, from each journal line's attribution (never from
// its description): kept directions, real dead ends, inconclusive discards, unscored lines and
// the "unknown" group; and the same lesson lines in the dashboard, the loop prompt, next-round's
// instructions and the final report. Journals are built by hand and read with parseJournal.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  buildLessons,
  type Lessons,
  lessonSections,
  UNKNOWN_LABEL,
  type Verdict,
} from "../scripts/lib/experiment/lessons.ts";
import { type Journal, parseJournal } from "../scripts/lib/experiment/journal.ts";
import { summarizeJournal } from "../scripts/lib/experiment/summary.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import { renderMarkdown } from "../scripts/lib/dashboard/markdown.ts";
import { renderText } from "../scripts/lib/dashboard/text.ts";
import { renderHtml } from "../scripts/lib/dashboard/html.ts";
import { buildStatePrompt } from "../scripts/lib/iterate/state-prompt.ts";
import { renderEarlierRounds, renderTargets } from "../scripts/lib/next-round/round-summary.ts";
import { draftReport } from "../scripts/lib/iterate/final-report.ts";
import { KIT_ROOT } from "./helpers.ts";

type Move = [name: string, from: string | null, to: string | null, direction: string];
type LineSpec = {
  iteration: number;
  status: "keep" | "discard" | "guard_fail" | "crash";
  /** Eval runs; [] for a line no eval scored. Default: one run at 0.70. */
  runs?: number[];
  levers?: Move[];
  functions?: string[];
  other?: boolean;
  /** null: the diff could not be read; "absent": a line written before attribution existed. */
  attribution?: null | "absent";
  /** The decision's gain interval, oriented (positive is better). */
  ci?: [number, number] | null;
  mode?: "deterministic" | "sequential";
  mde?: number | null;
  reason?: string;
  description?: string;
  delta?: string;
};

function resultLine(spec: LineSpec): Record<string, unknown> {
  const runs = spec.runs ?? (spec.status === "crash" ? [] : [0.7]);
  const line: Record<string, unknown> = {
    type: "result",
    iteration: spec.iteration,
    commit: spec.status === "keep" ? `c${spec.iteration}` : null,
    score: runs.length > 0 ? runs.reduce((total, run) => total + run, 0) / runs.length : null,
    delta: spec.delta ?? (runs.length > 0 ? (spec.status === "keep" ? "+0.0100" : "-0.0050") : null),
    guard_score: null,
    guard_pass: null,
    status: spec.status,
    description: spec.description ?? `change ${spec.iteration}`,
    timestamp: "2026-01-01T00:00:00Z",
    reason: spec.reason ?? null,
    runs,
    verdict: runs.length === 0 ? null : {
      mode: spec.mode ?? "sequential",
      ci: spec.ci === undefined ? [-0.03, -0.01] : spec.ci,
      min_detectable_effect: spec.mde === undefined ? 0.005 : spec.mde,
    },
  };
  if (spec.attribution === null) line.attribution = null;
  else if (spec.attribution !== "absent") {
    line.attribution = {
      levers: (spec.levers ?? []).map(([name, from, to, direction]) => ({ name, from, to, direction })),
      functions: spec.functions ?? [],
      other: spec.other ?? false,
    };
  }
  return line;
}

const CONFIG = {
  type: "config",
  constrained_file: "ranker.py",
  eval_command: "python3 eval.py",
  metric: "ndcg",
  guard_metric: null,
  guard_threshold: null,
  baseline: 0.7,
  min_delta: null,
  direction: "max",
  round: 1,
  iterations: 20,
  noise: { sd: 0.004, mean: 0.7, runs: [0.696, 0.7, 0.704], deterministic: false, min_detectable_effect: 0.011 },
};

function journalOf(specs: LineSpec[], config: Record<string, unknown> = CONFIG): Journal {
  const text = [config, ...specs.map(resultLine)].map((line) => JSON.stringify(line)).join("\n") + "\n";
  const journal = parseJournal(text, "autoresearch.jsonl");
  expect(journal.warnings).toEqual([]);
  return journal;
}

function lessonsOf(specs: LineSpec[], minEffect: number | null = null, baselineMde: number | null = 0.011): Lessons {
  const journal = journalOf(specs);
  return buildLessons({ results: journal.results, minEffect, baselineMinDetectableEffect: baselineMde });
}

/** A lever kept once going up, then discarded twice going down, conclusively. */
const KEPT_UP_DEAD_DOWN: LineSpec[] = [
  { iteration: 1, status: "keep", levers: [["k1", "1.2", "1.5", "up"]], ci: [0.004, 0.03], delta: "+0.0180" },
  { iteration: 2, status: "discard", levers: [["k1", "1.5", "1.2", "down"]] },
  { iteration: 3, status: "discard", levers: [["k1", "1.5", "0.9", "down"]], delta: "-0.0120" },
];

describe("lessons per lever and direction", () => {
  test("a lever kept once, then failing twice the other way, is kept ↑ / dead end ↓, never a dead end as a whole", () => {
    const lessons = lessonsOf(KEPT_UP_DEAD_DOWN);
    expect(lessons.levers).toHaveLength(1);
    expect(lessons.levers[0].directions.map((direction) => [direction.direction, direction.verdict])).toEqual([
      ["up", "kept"],
      ["down", "dead end"],
    ]);
    expect(lessons.deadEnds.map((finding) => finding.key)).toEqual(["k1 ↓"]);
    expect(lessons.kept.map((finding) => finding.key)).toEqual(["k1 ↑"]);
    expect(lessons.deadEnds[0].text).toBe(
      "`k1` ↓, 2 lost, none kept: 1.5 → 1.2 discarded (-0.0050, #2); 1.5 → 0.9 discarded (-0.0120, #3)",
    );
    const [history] = lessonSections(lessons).find((section) => section.key === "tried")!.lines;
    expect(history).toBe(
      "`k1` (kept ↑ / dead end ↓): 1.2 → 1.5 kept (+0.0180, #1); 1.5 → 1.2 discarded (-0.0050, #2); 1.5 → 0.9 discarded (-0.0120, #3)",
    );
  });

  test("a keep after two losses in the same direction takes the direction out of the dead ends", () => {
    const lessons = lessonsOf([
      { iteration: 1, status: "discard", levers: [["b", "0.75", "0.9", "up"]] },
      { iteration: 2, status: "discard", levers: [["b", "0.75", "0.95", "up"]] },
      { iteration: 3, status: "keep", levers: [["b", "0.75", "0.8", "up"]], ci: [0.012, 0.02] },
    ]);
    expect(lessons.deadEnds).toEqual([]);
    expect(lessons.kept.map((finding) => finding.text)).toEqual(["`b` ↑: 0.75 → 0.8 kept (+0.0100, #3)"]);
  });

  test.each<[string, LineSpec[], { tried: Verdict; unscored: number[]; crashed: number[] }]>([
    [
      "a restored scope violation (no eval run) is not a try",
      [
        { iteration: 1, status: "discard", levers: [["k1", "1.5", "1.2", "down"]] },
        {
          iteration: 2,
          status: "discard",
          runs: [],
          levers: [["k1", "1.5", "1.0", "down"]],
          reason: "changed files outside the constrained file: eval.py (restored; to re-apply them: git apply x)",
        },
      ],
      { tried: "tried", unscored: [2], crashed: [] },
    ],
    [
      "a crash is not a try of the lever",
      [
        { iteration: 1, status: "discard", levers: [["k1", "1.5", "1.2", "down"]] },
        { iteration: 2, status: "crash", levers: [["k1", "1.5", "0", "down"]], reason: "ZeroDivisionError" },
      ],
      { tried: "tried", unscored: [], crashed: [2] },
    ],
    [
      "two discards with no interval recorded are not a dead end: nothing ruled the gain out",
      [
        { iteration: 1, status: "discard", levers: [["k1", "1.5", "1.2", "down"]], ci: null },
        { iteration: 2, status: "discard", levers: [["k1", "1.5", "1.0", "down"]], ci: null },
      ],
      { tried: "tried", unscored: [], crashed: [] },
    ],
    [
      "two scored losses are",
      [
        { iteration: 1, status: "discard", levers: [["k1", "1.5", "1.2", "down"]] },
        { iteration: 2, status: "guard_fail", levers: [["k1", "1.5", "1.0", "down"]], ci: [0.001, 0.02] },
      ],
      { tried: "dead end", unscored: [], crashed: [] },
    ],
  ])("%s", (_name, specs, expected) => {
    const lessons = lessonsOf(specs);
    expect(lessons.levers[0].directions[0].verdict).toBe(expected.tried);
    expect(lessons.unscored.map((note) => note.iteration)).toEqual(expected.unscored);
    expect(lessons.crashed).toEqual(expected.crashed);
    expect(lessons.deadEnds.length).toBe(expected.tried === "dead end" ? 1 : 0);
  });

  test("an unscored line says why, with the restore instructions shortened", () => {
    const lessons = lessonsOf([{
      iteration: 4,
      status: "discard",
      runs: [],
      levers: [["k1", "1", "2", "up"]],
      reason: "changed files outside the constrained file: eval.py (restored; to re-apply them: git apply p.patch)",
    }]);
    expect(lessonSections(lessons).find((section) => section.key === "unscored")!.lines).toEqual([
      "#4 not scored: changed files outside the constrained file: eval.py (restored)",
    ]);
    expect(lessons.levers).toEqual([]);
  });

  // Each row: the discards' gain intervals, the experiment's min_effect, the lines' and the
  // baseline's minimum detectable effect, and whether the direction is a dead end.
  test.each<[string, [number, number][], number | null, number | null, number | null, "dead end" | "inconclusive"]>([
    ["intervals below the experiment's min effect", [[-0.02, 0.004], [-0.03, 0.001]], 0.005, 0.02, 0.02, "dead end"],
    ["an interval that holds the min effect", [[-0.002, 0.022], [-0.03, -0.01]], 0.005, null, null, "inconclusive"],
    ["min effect 0: the line's detectable effect decides", [[-0.02, 0.009], [-0.03, 0.001]], 0, 0.01, 0.5, "dead end"],
    [
      "min effect 0: an interval holding the line's detectable effect",
      [[-0.02, 0.012], [-0.03, 0.001]],
      0,
      0.01,
      0.5,
      "inconclusive",
    ],
    [
      "no min effect, no line effect: the baseline's decides",
      [[-0.02, 0.009], [-0.03, 0.001]],
      null,
      null,
      0.011,
      "dead end",
    ],
    [
      "no min effect at all: any possible gain is inconclusive",
      [[-0.02, 0.001], [-0.03, -0.001]],
      null,
      null,
      null,
      "inconclusive",
    ],
  ])("%s", (_name, intervals, minEffect, lineMde, baselineMde, verdict) => {
    const specs: LineSpec[] = intervals.map((ci, index) => ({
      iteration: index + 1,
      status: "discard",
      levers: [["b", "0.75", `0.${8 + index}`, "up"]],
      ci,
      mde: lineMde,
    }));
    const lessons = lessonsOf(specs, minEffect, baselineMde);
    expect(lessons.levers[0].directions[0].verdict).toBe(verdict);
    expect(lessons.deadEnds.length).toBe(verdict === "dead end" ? 1 : 0);
    expect(lessons.inconclusive.length).toBe(verdict === "inconclusive" ? 1 : 0);
  });

  test("an inconclusive discard is listed apart, with its interval, as worth a retry with more runs", () => {
    const lessons = lessonsOf([
      { iteration: 5, status: "discard", levers: [["b", "0.75", "0.9", "up"]], ci: [-0.002, 0.022], delta: "+0.0090" },
      { iteration: 6, status: "discard", levers: [["b", "0.75", "1", "up"]] },
    ], 0.005);
    const section = lessonSections(lessons).find((shown) => shown.key === "inconclusive")!;
    expect(section.title).toBe("Inconclusive: worth a retry with more runs");
    expect(section.lines).toEqual([
      "`b` ↑: 0.75 → 0.9 discarded, inconclusive (+0.0090, #5, gain interval -0.0020 … +0.0220)",
    ]);
    expect(lessons.deadEnds).toEqual([]);
  });

  test("a deterministic discard is conclusive: more runs would repeat the same score", () => {
    const lessons = lessonsOf([
      { iteration: 1, status: "discard", levers: [["b", "1", "2", "up"]], mode: "deterministic", ci: [0.01, 0.01] },
      { iteration: 2, status: "discard", levers: [["b", "1", "3", "up"]], mode: "deterministic", ci: [-0.01, -0.01] },
    ], 0.05);
    expect(lessons.deadEnds.map((finding) => finding.key)).toEqual(["b ↑"]);
  });

  test("the description never decides: a line saying BODY_WEIGHT whose diff moved TITLE_WEIGHT is TITLE_WEIGHT's", () => {
    const lessons = lessonsOf([
      {
        iteration: 1,
        status: "discard",
        levers: [["TITLE_WEIGHT", "3", "2", "down"]],
        description: "Raised BODY_WEIGHT",
      },
      {
        iteration: 2,
        status: "discard",
        levers: [["TITLE_WEIGHT", "3", "1", "down"]],
        description: "Raised BODY_WEIGHT",
      },
    ]);
    expect(lessons.deadEnds.map((finding) => finding.key)).toEqual(["TITLE_WEIGHT ↓"]);
    expect(JSON.stringify(lessonSections(lessons))).not.toContain("BODY_WEIGHT");
  });

  test("a function rewrite that crashed and lost is a dead end; one kept is not", () => {
    const lessons = lessonsOf([
      { iteration: 1, status: "crash", functions: ["BM25.score"], reason: "SyntaxError" },
      { iteration: 2, status: "discard", functions: ["BM25.score"] },
      { iteration: 3, status: "keep", functions: ["tokenize"], ci: [0.01, 0.02] },
      { iteration: 4, status: "discard", functions: ["tokenize"] },
      { iteration: 5, status: "discard", other: true },
    ]);
    expect(lessons.deadEnds.map((finding) => finding.text)).toEqual([
      "`BM25.score` (function), 1 lost, 1 crashed, none kept: crashed (#1); discarded (-0.0050, #2)",
    ]);
    expect(lessons.kept.map((finding) => finding.key)).toEqual(["tokenize (function)"]);
    expect(lessonSections(lessons).find((section) => section.key === "tried")!.lines).toEqual([
      "`BM25.score` (function, dead end): crashed (#1); discarded (-0.0050, #2)",
      "`tokenize` (function, kept): kept (+0.0100, #3); discarded (-0.0050, #4)",
      "other lines: discarded (-0.0050, #5)",
    ]);
  });

  test("two levers moved together: each has the try, naming the other", () => {
    const lessons = lessonsOf([
      {
        iteration: 1,
        status: "keep",
        levers: [["k1", "1.5", "1.2", "down"], ["b", "0.75", "0.8", "up"]],
        ci: [0.01, 0.02],
      },
    ]);
    expect(lessons.kept.map((finding) => finding.text)).toEqual([
      "`k1` ↓: 1.5 → 1.2 kept (+0.0100, #1) with `b` ↑",
      "`b` ↑: 0.75 → 0.8 kept (+0.0100, #1) with `k1` ↓",
    ]);
  });

  test("lines without attribution fall in the labelled unknown group, never in groups made of their words", () => {
    const lessons = lessonsOf([
      { iteration: 1, status: "discard", attribution: "absent", description: "Added title matching" },
      { iteration: 2, status: "discard", attribution: null, description: "Added title matching with lower weight" },
      { iteration: 3, status: "keep", attribution: "absent", description: "k1 showed promise", ci: [0.01, 0.02] },
    ]);
    expect(lessons.deadEnds).toEqual([]);
    expect(lessons.levers).toEqual([]);
    expect(lessons.unknown.map((attempt) => attempt.iteration)).toEqual([1, 2, 3]);
    const tried = lessonSections(lessons).find((section) => section.key === "tried")!.lines;
    expect(tried).toHaveLength(1);
    expect(tried[0]).toStartWith(`${UNKNOWN_LABEL}: discarded (-0.0050, #1) "Added title matching"`);
  });

  test("the seed's hand-written journals still render, attributed to unknown, with no dead ends", () => {
    for (const name of ["round1.jsonl", "hand-written.jsonl", "seed-example.jsonl"]) {
      const text = readFileSync(join(KIT_ROOT, "test/fixtures/journals", name), "utf8");
      const summary = summarizeJournal(parseJournal(text, name));
      expect(summary.deadEnds).toEqual([]);
      expect(summary.lessons.unknown.length).toBeGreaterThan(0);
      const markdown = renderMarkdown(summary, { chartLink: null });
      expect(markdown).toContain(`- ${UNKNOWN_LABEL}: `);
      expect(markdown).toContain("## Dead ends (do not retry)\n\n_None can be named: no iteration recorded its diff");
    }
  });
});

describe("the same lessons everywhere", () => {
  const specs: LineSpec[] = [
    ...KEPT_UP_DEAD_DOWN,
    { iteration: 4, status: "discard", levers: [["b", "0.75", "0.9", "up"]], ci: [-0.002, 0.022] },
    {
      iteration: 5,
      status: "discard",
      runs: [],
      levers: [["TITLE_WEIGHT", "3", "2", "down"]],
      reason: "same change as #2 (discarded 0.7050)",
    },
    { iteration: 6, status: "crash", levers: [["k1", "1.5", "0", "down"]], reason: "ZeroDivisionError" },
    { iteration: 7, status: "discard", levers: [["TITLE_WEIGHT", "3", "2", "down"]] },
  ];
  const yaml = `version: 1
name: lessons
current_round: 1
language: python
project: plain
metric: { name: ndcg, direction: max }
budget: { iterations: 20 }
decision: { min_effect: 0.005 }
rounds:
  - round: 1
    status: open
    constrained_files: [ranker.py]
    eval: { command: python3 eval.py, script: eval.py, timeout_s: 60 }
    artifacts: { journal: autoresearch.jsonl, dashboard: autoresearch_dashboard.md, instructions: instructions.md, launch_prompt: launch_prompt.md, report: autoresearch_report.md }
`;
  const experiment = parseExperiment(yaml, "autoresearch.yaml");
  const summary = summarizeJournal(journalOf(specs), { experiment, round: 1 });
  const findings = [...summary.lessons.deadEnds, ...summary.lessons.inconclusive, ...summary.lessons.kept];

  test("the findings are what the journal shows", () => {
    expect(summary.lessons.deadEnds.map((finding) => finding.key)).toEqual(["k1 ↓"]);
    expect(summary.lessons.inconclusive.map((finding) => finding.key)).toEqual(["b ↑"]);
    expect(summary.lessons.kept.map((finding) => finding.key)).toEqual(["k1 ↑"]);
    expect(summary.lessons.unscored.map((note) => note.iteration)).toEqual([5]);
  });

  test("dashboard (markdown, text, HTML), loop prompt, next-round, its targets and the final report carry the same lines", () => {
    const markdown = renderMarkdown(summary, { chartLink: null });
    const prompt = buildStatePrompt({ path: "autoresearch.yaml", root: "/repo", experiment }, 1, 8, summary);
    const digest = {
      round: 1,
      constrainedFiles: ["ranker.py"],
      journal: "autoresearch.jsonl",
      focus: null,
      summary,
      untouchedLevers: null,
      report: null,
    };
    const nextRound = renderEarlierRounds([digest], "1. targets");
    const report = draftReport(summary, "the budget is spent");
    for (const finding of findings) {
      expect(report).toContain(`- ${finding.text}\n`);
      expect(markdown).toContain(`- ${finding.text}\n`);
      expect(prompt).toContain(`- ${finding.text}\n`);
      expect(nextRound).toContain(`  - ${finding.text}\n`);
    }
    expect(markdown).toContain("## Dead ends (do not retry)\n\n- `k1` ↓, 2 lost, none kept:");
    expect(prompt).toContain("Dead ends (do not retry):\n- `k1` ↓");
    expect(prompt).toContain("Inconclusive: worth a retry with more runs:\n- `b` ↑");
    expect(nextRound).toContain("- **Inconclusive: worth a retry with more runs:**\n  - `b` ↑");
    const text = renderText(summary, { color: false, width: 200 });
    const html = renderHtml(summary, { svg: "<svg/>" });
    for (const finding of findings) {
      expect(text).toContain(`  - ${finding.text.replace(/`/g, "")}\n`);
      expect(html).toContain(
        finding.text.split("`").map((part, index) => index % 2 ? `<code>${part}</code>` : part).join(""),
      );
    }
    const targets = renderTargets({
      previous: digest,
      constrainedFiles: ["ranker.py"],
      newFiles: [],
      untouchedLevers: [],
      remeasure: "",
    });
    expect(targets).toContain("1 discarded change is inconclusive (listed above)");
    expect(targets).toContain("worth a retry with more runs");
  });

  test("the prompt lists the recent tried changes compactly, unscored and crashed ones too", () => {
    const prompt = buildStatePrompt({ path: "autoresearch.yaml", root: "/repo", experiment }, 1, 8, summary);
    expect(prompt).toContain("- #7 `TITLE_WEIGHT` 3 → 2 discarded (-0.0050)\n");
    expect(prompt).toContain("- #5 not scored: same change as #2 (discarded 0.7050)\n");
    expect(prompt).toContain("- #6 `k1` 1.5 → 0 crashed\n");
    expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(2048);
  });

  test("the dashboard table says why an unscored line has no score", () => {
    const markdown = renderMarkdown(summary, { chartLink: null });
    expect(markdown).toContain(
      "| 5 | — | — | — | discard | not scored: same change as #2 (discarded 0.7050) — change 5 |",
    );
    expect(markdown).toContain("**Discarded:** 5 (1 not scored)");
  });

  test("a long round keeps the prompt within 2 KB, dead ends kept before recent changes", () => {
    const many: LineSpec[] = [];
    for (let index = 1; index <= 60; index++) {
      many.push({
        iteration: index,
        status: "discard",
        levers: [[`LEVER_NUMBER_${index % 15}`, "1", String(index), index % 2 ? "up" : "down"]],
      });
    }
    const long = summarizeJournal(journalOf(many), { experiment, round: 1 });
    expect(long.lessons.deadEnds.length).toBeGreaterThan(5);
    const prompt = buildStatePrompt({ path: "autoresearch.yaml", root: "/repo", experiment }, 1, 61, long);
    expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(2048);
    expect(prompt).toContain("Dead ends (do not retry):\n- ");
    expect(prompt).toContain("Make one focused change");
  });
});
