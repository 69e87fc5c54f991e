// The progress chart tells noise honestly: journals written by hand, summarised and drawn,
// then read back from the SVG — run counts and 95% intervals on the points, a band that
// follows the incumbent's own noise as the round goes, a far outlier drawn at the edge and
// marked instead of squashing the axis, crashes and unscored iterations in their own strip,
// and the same bytes for the same journal.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  axisRange,
  type ChartInput,
  chartInputFromSummary,
  meanInterval,
  renderProgressChart,
} from "../scripts/lib/dashboard/chart-svg.ts";
import { parseJournal } from "../scripts/lib/experiment/journal.ts";
import { summarizeJournal } from "../scripts/lib/experiment/summary.ts";
import { studentTQuantile } from "../scripts/lib/decision/stats.ts";
import { temporaryFolder } from "./helpers.ts";

type Line = Record<string, unknown>;

/** A journal's text: a config line with the baseline's noise, the baseline line, then `lines` numbered from 1. */
function journalText(lines: Line[], config: Line = {}, baselineRuns = [0.7, 0.702, 0.698]): string {
  const baseline = baselineRuns.reduce((total, run) => total + run, 0) / baselineRuns.length;
  const header = {
    type: "config",
    constrained_file: "ranker.py",
    eval_command: "python3 eval.py",
    metric: "ndcg@10",
    guard_metric: null,
    guard_threshold: null,
    baseline,
    min_delta: 0.001,
    direction: "max",
    round: 1,
    iterations: 30,
    noise: {
      sd: 0.002,
      mean: baseline,
      runs: baselineRuns,
      deterministic: false,
      min_detectable_effect: 0.037,
    },
    ...config,
  };
  const rows = [
    header,
    { type: "result", iteration: 0, commit: "base000", score: baseline, status: "baseline", runs: baselineRuns },
    ...lines.map((line, index) => ({
      type: "result",
      iteration: index + 1,
      commit: null,
      description: `change ${index + 1}`,
      timestamp: "2026-01-01T00:00:00Z",
      ...line,
    })),
  ];
  return rows.map((row) => JSON.stringify(row)).join("\n") + "\n";
}

function chartOf(text: string): { input: ChartInput; svg: string } {
  const journal = parseJournal(text);
  const input = chartInputFromSummary(summarizeJournal(journal), journal);
  return { input, svg: renderProgressChart(input) };
}

/** The `<circle class="point ...">` elements with their class, position and hover title. */
function points(svg: string): { className: string; cx: number; cy: number; r: number; title: string }[] {
  return [
    ...svg.matchAll(
      /<circle class="(point [^"]*)" cx="([\d.-]+)" cy="([\d.-]+)" r="([\d.]+)"(?:>(?:<title>([^<]*)<\/title>)?)?/g,
    ),
  ]
    .map((match) => ({
      className: match[1],
      cx: Number(match[2]),
      cy: Number(match[3]),
      r: Number(match[4]),
      title: match[5] ?? "",
    }));
}

/** The main panel's frame: the first `rect.frame`. */
function mainFrame(svg: string): { top: number; bottom: number } {
  const match = svg.match(/<rect class="frame" x="[\d.]+" y="([\d.]+)" width="[\d.]+" height="([\d.]+)"\/>/)!;
  return { top: Number(match[1]), bottom: Number(match[1]) + Number(match[2]) };
}

/** The y-axis tick values of the main panel (the first grid's labels). */
function axisTicks(svg: string): number[] {
  const frameAt = svg.indexOf('<rect class="frame"');
  return [
    ...svg.slice(0, frameAt).matchAll(/<text class="tick" x="[\d.]+" y="[\d.]+" text-anchor="end">([-\d.]+)<\/text>/g),
  ]
    .map((match) => Number(match[1]));
}

function xmlProblem(svg: string): string | null {
  const path = join(temporaryFolder("ark-chart-"), "chart.svg");
  writeFileSync(path, svg);
  const result = spawnSync("python3", ["-c", "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])", path], {
    encoding: "utf8",
  });
  return result.status === 0 ? null : result.stderr;
}

describe("each point shows the runs behind it", () => {
  const text = journalText([
    { score: 0.701, status: "discard", runs: [0.701] },
    { score: 0.71, status: "discard", runs: [0.7, 0.72, 0.71] },
    { score: 0.703, status: "discard", runs: [0.703, 0.703] }, // no spread: no interval to draw
  ]);

  test("a mean of several runs is labelled with its count and drawn bigger; a single run is not labelled", () => {
    const { input, svg } = chartOf(text);
    expect(input.points.map((point) => point.runs)).toEqual([1, 3, 2]);
    const [single, three, two] = points(svg);
    expect(three.r).toBeGreaterThan(two.r);
    expect(two.r).toBeGreaterThan(single.r);
    expect(svg).toContain(`<text class="runs" x="${three.cx + three.r + 1}"`);
    expect(svg.match(/<text class="runs" x="[\d.]+" y="[-\d.]+">3<\/text>/g)).toHaveLength(2); // the point and the legend's sample
    expect(svg.match(/<text class="runs" x="[\d.]+" y="[-\d.]+">2<\/text>/g)).toHaveLength(1);
    expect(svg.match(/<text class="runs" x="[\d.]+" y="[-\d.]+">1<\/text>/g)).toBeNull();
    expect(three.title).toContain("mean of 3 runs");
    expect(svg).toContain("mean of 3 runs (bigger: more)"); // the legend
  });

  test("a mean's 95% interval is mean ± t·sd/√n from its own runs, drawn and given on hover", () => {
    const { input, svg } = chartOf(text);
    const half = studentTQuantile(0.975, 2)! * 0.01 / Math.sqrt(3);
    expect(input.points[1].interval!.low).toBeCloseTo(0.71 - half, 10);
    expect(input.points[1].interval!.high).toBeCloseTo(0.71 + half, 10);
    expect(input.points[0].interval).toBeNull();
    expect(input.points[2].interval).toBeNull();
    expect(svg.match(/<path class="interval" d="M[\d.]+ [\d.]+H/g)).toHaveLength(1); // the legend's sample starts above 0
    expect(points(svg)[1].title).toContain(`95% interval ${(0.71 - half).toFixed(4)}–${(0.71 + half).toFixed(4)}`);
    expect(meanInterval([1, 1, 1])).toBeNull();
    expect(meanInterval([0.5])).toBeNull();
  });
});

describe("the noise band follows the incumbent's noise", () => {
  const t = (df: number) => studentTQuantile(0.975, df)!;
  // sd of each version's runs is 0.002 (baseline), 0.001 (the keep): pooled as sums of squares.
  const text = journalText([
    { score: 0.712, status: "keep", commit: "keep001", runs: [0.711, 0.713, 0.712] },
    {
      score: 0.709,
      status: "discard",
      runs: [0.709],
      incumbent_runs: [0.712, 0.712],
      incumbent_commit: "keep001",
    },
    {
      score: 0.71,
      status: "discard",
      runs: [0.71],
      incumbent_runs: [0.713, 0.711],
      incumbent_commit: "keep001",
    },
  ]);

  test("it starts as the baseline's mean interval, moves with the keep and narrows as re-runs come in", () => {
    const { input } = chartOf(text);
    const steps = input.noiseBand!.steps;
    expect(steps.map((step) => step.iteration)).toEqual([0, 1, 2, 3]);
    const halfWidths = steps.map((step) => (step.high - step.low) / 2);
    const centres = steps.map((step) => (step.high + step.low) / 2);
    // Before any iteration: the baseline's 3 runs, sd 0.002, df 2.
    expect(centres[0]).toBeCloseTo(0.7, 10);
    expect(halfWidths[0]).toBeCloseTo(t(2) * 0.002 / Math.sqrt(3), 10);
    // After the keep: sd pooled over both versions (squares 8e-6 + 2e-6 over df 4), n = the keep's 3 runs.
    expect(centres[1]).toBeCloseTo(0.712, 10);
    expect(halfWidths[1]).toBeCloseTo(t(4) * Math.sqrt(10e-6 / 4) / Math.sqrt(3), 10);
    // Fresh re-runs of the keep: the best is their mean, n is their count, the pool grows.
    const keepRuns = [0.711, 0.713, 0.712, 0.712, 0.712];
    const squares = keepRuns.reduce((total, run) => total + (run - 0.712) ** 2, 0);
    expect(centres[2]).toBeCloseTo(0.712, 10);
    expect(halfWidths[2]).toBeCloseTo(t(6) * Math.sqrt((8e-6 + squares) / 6) / Math.sqrt(2), 10);
    expect(halfWidths[3]).toBeLessThan(halfWidths[2]); // 4 fresh runs now
    expect(input.noiseBand!.label).toBe("best ± 95% interval");
    expect(input.noiseBand!.detail).toContain("pooled over 10 runs of 2 versions, n = 4");
  });

  test("a clear keep is outside the band it is measured against, where the old baseline ± MDE band held it", () => {
    const { input, svg } = chartOf(text);
    const before = input.noiseBand!.steps[0];
    expect(0.712).toBeGreaterThan(before.high);
    expect(0.7 + 0.037).toBeGreaterThan(0.712); // the baseline-wide MDE band would have called it noise
    expect(svg).not.toContain("MDE");
    // One stepped shape: a vertical edge per step on each side.
    const band = svg.match(/<path class="band" d="([^"]+)">/)![1];
    expect(band.match(/V/g)!.length).toBe(2 * 4 - 1);
  });

  test("an eval with no spread gets the best ± min delta", () => {
    const { input } = chartOf(
      journalText([{ score: 0.72, status: "keep", commit: "keep001", runs: [0.72, 0.72] }], {
        noise: { sd: 0, mean: 0.7, runs: [0.7, 0.7, 0.7], deterministic: true, min_detectable_effect: null },
        min_delta: 0.002,
      }, [0.7, 0.7, 0.7]),
    );
    expect(input.noiseBand!.label).toBe("best ± min delta 0.002");
    const [before, after] = input.noiseBand!.steps;
    expect([before.low, before.high, after.low, after.high].map((value) => value.toFixed(6))).toEqual(
      ["0.698000", "0.702000", "0.718000", "0.722000"],
    );
  });

  test("a hand-written journal without runs draws the band from the baseline's recorded sd", () => {
    const text = [
      JSON.stringify({ type: "config", metric: "mrr", baseline: 0.5, noise: { sd: 0.01, runs: [0.49, 0.5, 0.51] } }),
      JSON.stringify({ iteration: 1, score: 0.52, status: "keep", description: "a" }),
      JSON.stringify({ iteration: 2, score: 0.5, status: "discard", description: "b" }),
    ].join("\n");
    const { input, svg } = chartOf(text);
    expect(input.points.every((point) => point.interval === null)).toBe(true);
    expect(input.noiseBand!.steps).toHaveLength(3);
    const half = (input.noiseBand!.steps[1].high - input.noiseBand!.steps[1].low) / 2;
    expect(half).toBeCloseTo(t(2) * 0.01 / Math.sqrt(1), 10);
    expect(xmlProblem(svg)).toBeNull();
  });
});

describe("a far outlier does not squash the axis", () => {
  const scores = [0.705, 0.699, 0.703, 0.708, 0.701];
  const lines: Line[] = scores.map((score) => ({ score, status: "discard", runs: [score] }));
  lines.splice(3, 0, { score: -1000, status: "discard", runs: [-1000] });

  test("the axis spans the ordinary scores; the outlier sits at the floor, marked, its value on hover", () => {
    const { input, svg } = chartOf(journalText(lines));
    expect(axisRange(input).low).toBeGreaterThan(0.6);
    const ticks = axisTicks(svg);
    expect(Math.min(...ticks)).toBeGreaterThan(0.68);
    expect(Math.max(...ticks)).toBeLessThan(0.72);
    const outlier = points(svg).find((point) => point.className.includes("clipped"))!;
    expect(outlier.className).toBe("point discard clipped");
    expect(outlier.title).toBe("#4 discard -1000.0000 — off the axis");
    const frame = mainFrame(svg);
    expect(outlier.cy).toBe(frame.bottom - 5);
    expect(svg).toMatch(
      new RegExp(`<path class="clip-mark" d="M${outlier.cx - 4} ${frame.bottom + 1}L${outlier.cx} ${frame.bottom + 7}`),
    );
    expect(svg).toContain("off the axis (value on hover)");
    expect(points(svg).filter((point) => point.className.includes("clipped"))).toHaveLength(1);
  });

  test("a high outlier goes to the top edge; without outliers nothing is clipped", () => {
    const high = lines.map((line) => (line.score === -1000 ? { score: 55, status: "discard", runs: [55] } : line));
    const { svg } = chartOf(journalText(high));
    const outlier = points(svg).find((point) => point.className.includes("clipped"))!;
    expect(outlier.cy).toBe(mainFrame(svg).top + 5);
    const plain = chartOf(journalText(lines.filter((line) => line.score !== -1000))).svg;
    expect(plain).not.toContain("clipped");
    expect(plain).not.toContain('<path class="clip-mark"');
  });
});

describe("iterations without a score are marked apart", () => {
  const text = journalText([
    { score: 0.71, status: "discard", runs: [0.71] },
    { score: null, status: "crash", runs: [], reason: 'the eval exited with code 1 ("SyntaxError: invalid syntax")' },
    {
      score: null,
      status: "discard",
      runs: [],
      reason: "changed files outside the constrained file: notes.txt",
    },
    { score: null, status: "discard", runs: [], reason: "same change as #1 (discarded 0.7100)" },
    { score: 0.705, status: "discard", runs: [0.705] },
  ]);

  test("crashes and unscored discards sit in a strip under the axis, never at its minimum", () => {
    const { svg } = chartOf(text);
    const frame = mainFrame(svg);
    const all = points(svg);
    expect(all).toHaveLength(5);
    const apart = all.filter((point) => point.cy > frame.bottom);
    expect(apart.map((point) => point.className)).toEqual([
      "point crash",
      "point discard unscored",
      "point discard unscored",
    ]);
    expect(new Set(apart.map((point) => point.cy)).size).toBe(1);
    for (const point of all.filter((point) => !apart.includes(point))) {
      expect(point.cy).toBeGreaterThan(frame.top);
      expect(point.cy).toBeLessThan(frame.bottom);
    }
    expect(apart[0].title).toBe(
      "#2 crash, crashed: the eval exited with code 1 (&quot;SyntaxError: invalid syntax&quot;)",
    );
    expect(apart[1].title).toBe("#3 discard, not scored: changed files outside the constrained file: notes.txt");
    expect(apart[2].title).toBe("#4 discard, not scored: same change as #1 (discarded 0.7100)");
    expect(svg).toContain(">no score</text>");
    expect(svg).toContain(">not scored</text>"); // the legend
  });

  test("they take no part in the axis: a round of only unscored iterations still has a sane axis", () => {
    const { input, svg } = chartOf(journalText([{ score: null, status: "discard", runs: [], reason: "unchanged" }]));
    expect(input.points[0].score).toBeNull();
    expect(Math.min(...axisTicks(svg))).toBeGreaterThan(0.6);
    expect(svg).not.toContain("NaN");
  });
});

describe("the chart is deterministic and self-contained", () => {
  test("the same journal gives byte-identical SVG, valid XML, no scripts or outside references", () => {
    const text = journalText([
      { score: 0.712, status: "keep", commit: "keep001", runs: [0.711, 0.713, 0.712] },
      { score: null, status: "crash", runs: [], reason: "timeout after 60 s" },
      { score: -5, status: "discard", runs: [-5] },
      { score: 0.709, status: "discard", runs: [0.709, 0.707], incumbent_runs: [0.712], incumbent_commit: "keep001" },
    ]);
    const first = chartOf(text).svg;
    const second = chartOf(text).svg;
    expect(second).toBe(first);
    expect(xmlProblem(first)).toBeNull();
    expect(first).not.toMatch(/<script|href=|@import|url\(|NaN|Infinity/);
  });
});
