// The progress chart as a plain SVG 1.1 string: score per iteration (keeps marked), how
// many eval runs each point is the mean of and its 95% interval, the running best with the
// incumbent's noise band as it stood after each iteration, the baseline, and the guard
// threshold — in its own panel when the guard metric lives on another scale. A far outlier
// (a crash-like score) is drawn at the panel's edge and marked instead of squashing the axis;
// iterations with no score (crashes, discards never measured) sit in a strip under the axis.
// Pure: data in, text out, byte-identical for the same data. No DOM, canvas, fonts or
// scripts, so it renders the same in browsers and on GitHub. It reads no files.
import type { Status } from "../experiment/journal.ts";
import { iterationResults, type Journal, type ResultLine, stripControlCharacters } from "../experiment/journal.ts";
import type { Summary } from "../experiment/summary.ts";
import { mean, sampleStandardDeviation, studentTQuantile, sumOfSquaredDeviations } from "../decision/stats.ts";
import { formatCompact, formatScore, isWholeNumberMetric } from "../text/number-format.ts";
import { passesGuard } from "../experiment/guard.ts";

export type Interval = { low: number; high: number };

export type ChartPoint = {
  iteration: number;
  /** The mean of the line's eval runs; null when it has none (a crash, a discard never measured). */
  score: number | null;
  status: Status;
  incumbent: number | null; // the running best after this iteration
  guardScore: number | null;
  /** How many eval runs `score` is the mean of (0 when not scored). */
  runs: number;
  /** The mean's 95% interval from the line's own runs (mean ± t·sd/√n); null under two runs or without spread. */
  interval: Interval | null;
  /** Why the iteration has no score (its reason), shown on hover; null when it has one. */
  note: string | null;
};

/** The band around the running best after `iteration`, until the next step. */
export type NoiseBandStep = { iteration: number; low: number; high: number };

export type ChartInput = {
  metric: string;
  direction: "max" | "min";
  points: ChartPoint[];
  baseline: number | null;
  /** The incumbent's noise as it stood over the round: one step per iteration (the first before iteration 1). */
  noiseBand: { label: string; detail: string; steps: NoiseBandStep[] } | null;
  guard: { metric: string; op: string; threshold: number } | null;
  /** Whole-number metrics (a count of failures) are written without decimals, as everywhere else. */
  whole?: { score: boolean; guard: boolean };
  /**
   * The held-out set's scores: the baseline's and each measured keep's. Drawn as a second step
   * line beside the current best's; absent (the chart as before) when the round has no held-out set.
   */
  holdout?: { baseline: number | null; kept: { iteration: number; score: number }[] } | null;
};

export const CHART_WIDTH = 800; // viewBox units (px at 100%)
const MARGIN_LEFT = 68;
const MARGIN_RIGHT = 20;
const LEGEND_TOP = 44;
const LEGEND_ROW = 16;
const MAIN_TOP = 56; // with one legend row; each further row pushes the panels down by LEGEND_ROW
const MAIN_HEIGHT = 240;
const STRIP_HEIGHT = 26; // the row of unscored iterations under the main panel
const GUARD_GAP = 30;
const GUARD_HEIGHT = 84;
const X_AXIS_SPACE = 44; // tick labels and the axis title under the lowest panel
const TITLES_UP_TO_POINTS = 400; // hover titles cost bytes; skip them on long journals
const RUN_LABELS_UP_TO_POINTS = 150; // run counts as text; past this the marker size alone says it
const SMALL_MARKERS_FROM_POINTS = 300;
const Y_PADDING = 0.08; // of the value span, above and below
const SHARED_AXIS_MAX_STRETCH = 2; // the guard shares the score axis if it at most doubles its span
const CLIP_INSET = 5; // px inside the panel where an off-axis point is drawn
// Tukey's "far out" fence: a score more than 3 spreads beyond the quartiles is off the axis.
const FAR_OUT_SPREADS = 3;
// The spread is never taken below 2% of the typical score, so a run of identical scores does not
// make every small move an outlier.
const MIN_RELATIVE_SPREAD = 0.02;
const INTERVAL_LEVEL = 0.975; // two-sided 95%

/** The chart's root class: its style rules are scoped to it, so an inline chart restyles nothing else on a page. */
export const CHART_CLASS = "ark-chart";
const STYLE_RULES: [selectors: string, declarations: string][] = [
  ["text", "font-family:sans-serif;fill:#333"],
  [".title", "font-size:14px;font-weight:bold"],
  [".legend,.tick", "font-size:11px"],
  [".runs", "font-size:8px;fill:#555"],
  [".axis-title", "font-size:11px;fill:#666"],
  [".frame", "fill:none;stroke:#bbb"],
  [".grid", "stroke:#eee"],
  [".strip", "fill:#fafafa;stroke:#eee"],
  [".band", "fill:#90caf9;fill-opacity:.35"],
  [".baseline", "stroke:#616161;stroke-dasharray:5 4"],
  [".best", "fill:none;stroke:#1565c0;stroke-width:2"],
  [".interval", "fill:none;stroke:#757575;stroke-width:1"],
  [".clip-mark", "fill:#c62828"],
  [".threshold", "stroke:#c62828;stroke-dasharray:6 3"],
  [".fail-zone", "fill:#ffcdd2;fill-opacity:.45"],
  [".point,.swatch", "stroke:#fff;stroke-width:.8"], // legend swatches are not data: no class "point"
  [".keep", "fill:#2e7d32"],
  [".discard", "fill:#9e9e9e"],
  [".guard_fail", "fill:#ef6c00"],
  [".crash", "fill:#fff;stroke:#c62828;stroke-width:1.5"],
  [".unscored", "fill:#fff;stroke:#757575;stroke-width:1.2;stroke-dasharray:2 1"],
  ["&.dense .point", "stroke:none"], // a white outline would hide small, crowded markers
  ["&.dense .point.crash", "stroke:#c62828;stroke-width:1"],
  ["&.dense .point.unscored", "stroke:#757575;stroke-width:1"],
  [".guard-point", "fill:#6a1b9a;fill-opacity:.6"],
  [".guard-point.fail", "fill:#ef6c00"],
];
// Added only to a chart that draws held-out scores, so a chart without them stays byte for byte as it was.
const HOLDOUT_STYLE_RULES: [selectors: string, declarations: string][] = [
  [".holdout", "fill:none;stroke:#ad1457;stroke-width:2;stroke-dasharray:7 3"],
  [".holdout-point", "fill:#ad1457;stroke:#fff;stroke-width:.8"],
];
const scopedStyle = (rules: [selectors: string, declarations: string][]) =>
  rules.map(([selectors, declarations]) => {
    const scoped = selectors.split(",").map((selector) =>
      selector.startsWith("&") ? `.${CHART_CLASS}${selector.slice(1)}` : `.${CHART_CLASS} ${selector}`
    );
    return `${scoped.join(",")}{${declarations}}`;
  }).join("");
const STYLE = scopedStyle(STYLE_RULES);
const HOLDOUT_STYLE = scopedStyle(HOLDOUT_STYLE_RULES);

type Scale = { toPixel: (value: number) => number; min: number; max: number };
type Panel = { top: number; height: number; y: Scale };
/** Scores outside [low, high] are far outliers: drawn at the panel's edge, not on the axis. */
type AxisRange = { low: number; high: number };
type Layout = { total: number; x: (iteration: number) => number; range: AxisRange };

/** Render the chart; one `circle.point` per iteration, crashes and unscored iterations included. */
export function renderProgressChart(input: ChartInput): string {
  const plotWidth = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
  const guardOwnPanel = input.guard !== null && guardHasOwnScale(input);
  const range = axisRange(input);
  const legend = renderLegend(input, guardOwnPanel, range);
  const mainTop = MAIN_TOP + (legend.rows - 1) * LEGEND_ROW;
  const unscored = input.points.filter((point) => point.score === null);
  const stripHeight = unscored.length > 0 ? STRIP_HEIGHT : 0;
  const mainBottom = mainTop + MAIN_HEIGHT;
  const guardTop = mainBottom + stripHeight + GUARD_GAP;
  const lowestBottom = guardOwnPanel ? guardTop + GUARD_HEIGHT : mainBottom + stripHeight;
  const height = lowestBottom + X_AXIS_SPACE;
  const layout: Layout = { total: input.points.length, x: xScale(input.points, MARGIN_LEFT, plotWidth), range };
  const main: Panel = {
    top: mainTop,
    height: MAIN_HEIGHT,
    y: yScale(mainValues(input, !guardOwnPanel, range), mainTop, MAIN_HEIGHT),
  };
  const scored = input.points.filter((point) => point.score !== null);
  const parts: string[] = [];

  const rootClass = input.points.length > SMALL_MARKERS_FROM_POINTS ? `${CHART_CLASS} dense` : CHART_CLASS;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" font-family="sans-serif" class="${rootClass}">`,
  );
  parts.push(`<title>${escapeXml(chartTitle(input))}</title>`);
  parts.push(`<style>${STYLE}${input.holdout ? HOLDOUT_STYLE : ""}</style>`);
  parts.push(`<rect x="0" y="0" width="${CHART_WIDTH}" height="${height}" fill="#fff"/>`);
  parts.push(`<text class="title" x="${MARGIN_LEFT}" y="22">${escapeXml(chartTitle(input))}</text>`);
  parts.push(legend.svg);
  parts.push(renderGrid(main, MARGIN_LEFT, plotWidth));
  if (input.noiseBand) parts.push(renderBand(main, input.noiseBand, layout.x, MARGIN_LEFT, plotWidth));
  if (input.baseline !== null) parts.push(horizontalLine(main, input.baseline, "baseline", MARGIN_LEFT, plotWidth));
  if (input.guard && !guardOwnPanel) {
    parts.push(horizontalLine(main, input.guard.threshold, "threshold", MARGIN_LEFT, plotWidth));
  }
  if (input.guard && !guardOwnPanel) parts.push(renderGuardPoints(input.points, input.guard, layout.x, main));
  parts.push(renderIntervals(scored, layout, main));
  // Keeps go on top of the best line, everything else under it, so neither hides the other.
  parts.push(renderPoints(scored.filter((point) => point.status !== "keep"), layout, main, input.whole?.score));
  parts.push(renderBestLine(input.points, layout.x, main));
  if (input.holdout) parts.push(renderHoldoutLine(input, layout.x, main));
  parts.push(renderPoints(scored.filter((point) => point.status === "keep"), layout, main, input.whole?.score));
  parts.push(`<rect class="frame" x="${MARGIN_LEFT}" y="${main.top}" width="${plotWidth}" height="${main.height}"/>`);
  parts.push(
    `<text class="axis-title" transform="translate(14 ${
      main.top + main.height / 2
    }) rotate(-90)" text-anchor="middle">${escapeXml(input.metric)}</text>`,
  );
  if (stripHeight > 0) parts.push(renderUnscoredStrip(unscored, layout, mainBottom, plotWidth));

  if (input.guard && guardOwnPanel) {
    const guardPanel: Panel = {
      top: guardTop,
      height: GUARD_HEIGHT,
      y: yScale(guardValues(input), guardTop, GUARD_HEIGHT),
    };
    parts.push(renderGrid(guardPanel, MARGIN_LEFT, plotWidth));
    parts.push(renderFailZone(guardPanel, input.guard, MARGIN_LEFT, plotWidth));
    parts.push(horizontalLine(guardPanel, input.guard.threshold, "threshold", MARGIN_LEFT, plotWidth));
    parts.push(renderGuardPoints(input.points, input.guard, layout.x, guardPanel));
    parts.push(
      `<rect class="frame" x="${MARGIN_LEFT}" y="${guardTop}" width="${plotWidth}" height="${GUARD_HEIGHT}"/>`,
    );
    parts.push(
      `<text class="axis-title" x="${MARGIN_LEFT + 6}" y="${guardTop - 6}">${
        escapeXml(`guard: ${input.guard.metric} ${input.guard.op} ${guardThreshold(input)}`)
      }</text>`,
    );
  }
  parts.push(renderXAxis(input.points, layout.x, lowestBottom));
  if (input.points.length === 0) {
    parts.push(
      `<text class="legend" x="${MARGIN_LEFT + plotWidth / 2}" y="${
        main.top + main.height / 2
      }" text-anchor="middle">No iterations yet</text>`,
    );
  }
  parts.push("</svg>");
  return parts.join("\n") + "\n";
}

/** True when drawing the guard on the score axis would squash the scores (more than double the span). */
export function guardHasOwnScale(input: ChartInput): boolean {
  if (!input.guard) return false;
  const range = axisRange(input);
  const scoreSpan = span(mainValues(input, false, range));
  const combinedSpan = span([...mainValues(input, false, range), ...guardValues(input)]);
  if (scoreSpan === 0) return combinedSpan > 0;
  return combinedSpan > SHARED_AXIS_MAX_STRETCH * scoreSpan;
}

/** Round tick positions between min and max: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) return [min];
  const step = niceStep((max - min) / target);
  const decimals = stepDecimals(step);
  const ticks: number[] = [];
  for (let value = Math.ceil(min / step) * step; value <= max + step * 1e-9; value += step) {
    ticks.push(Number(value.toFixed(decimals)));
  }
  return ticks;
}

/**
 * The scores the axis spans: everything but far outliers. The spread is the interquartile
 * range of the scores and the reference values (baseline, running best), at least the span of
 * the reference values and 2% of the median; a score beyond 3 spreads past the quartiles is
 * off the axis. The reference values are always on it. Unbounded when nothing is an outlier.
 * Scores 0.70…0.72 and one crash-like 0.0 -> the axis spans 0.70…0.72; 0.0 is drawn at the floor.
 */
export function axisRange(input: ChartInput): AxisRange {
  const scores: number[] = [];
  for (const point of input.points) if (point.score !== null) scores.push(point.score);
  const references: number[] = [];
  for (const point of input.points) if (point.incumbent !== null) references.push(point.incumbent);
  if (input.baseline !== null) references.push(input.baseline);
  const all = [...scores, ...references].sort((a, b) => a - b);
  if (scores.length === 0) return { low: -Infinity, high: Infinity };
  const lowerQuartile = quantile(all, 0.25);
  const upperQuartile = quantile(all, 0.75);
  const spread = Math.max(
    upperQuartile - lowerQuartile,
    span(references),
    Math.abs(quantile(all, 0.5)) * MIN_RELATIVE_SPREAD,
  );
  if (!(spread > 0)) return { low: -Infinity, high: Infinity };
  let low = lowerQuartile - FAR_OUT_SPREADS * spread;
  let high = upperQuartile + FAR_OUT_SPREADS * spread;
  for (const value of references) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return { low, high };
}

function chartTitle(input: ChartInput): string {
  return `${input.metric} per iteration (${input.direction === "min" ? "lower" : "higher"} is better)`;
}

function onAxis(value: number, range: AxisRange): boolean {
  return value >= range.low && value <= range.high;
}

function mainValues(input: ChartInput, includeGuard: boolean, range: AxisRange): number[] {
  const values: number[] = [];
  for (const point of input.points) {
    if (point.score !== null && onAxis(point.score, range)) values.push(point.score);
    if (point.incumbent !== null) values.push(point.incumbent);
  }
  if (input.baseline !== null) values.push(input.baseline);
  // The band shows on the axis the scores set; a band wider than that is cut at the panel.
  for (const step of input.noiseBand?.steps ?? []) {
    for (const value of [step.low, step.high]) if (onAxis(value, range)) values.push(value);
  }
  if (includeGuard) values.push(...guardValues(input));
  values.push(...holdoutValues(input));
  return values;
}

function holdoutValues(input: ChartInput): number[] {
  if (!input.holdout) return [];
  const values = input.holdout.kept.map((kept) => kept.score);
  if (input.holdout.baseline !== null) values.push(input.holdout.baseline);
  return values;
}

function guardValues(input: ChartInput): number[] {
  const values: number[] = input.guard ? [input.guard.threshold] : [];
  for (const point of input.points) if (point.guardScore !== null) values.push(point.guardScore);
  return values;
}

function span(values: number[]): number {
  if (values.length === 0) return 0;
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  return high - low;
}

/** The q-quantile of sorted values, interpolated between neighbours. */
function quantile(sorted: number[], q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

function xScale(points: ChartPoint[], left: number, width: number): (iteration: number) => number {
  let low = points.length > 0 ? points[0].iteration : 0;
  let high = low;
  for (const point of points) {
    if (point.iteration < low) low = point.iteration;
    if (point.iteration > high) high = point.iteration;
  }
  const pad = Math.max(0.5, (high - low) * 0.02);
  const min = low - pad;
  const max = high + pad;
  return (iteration) => left + ((iteration - min) / (max - min)) * width;
}

function yScale(values: number[], top: number, height: number): Scale {
  let low = Infinity;
  let high = -Infinity;
  for (const value of values) {
    if (value < low) low = value;
    if (value > high) high = value;
  }
  if (values.length === 0) [low, high] = [0, 1];
  const pad = high > low ? (high - low) * Y_PADDING : Math.abs(low) * 0.05 || 0.5;
  const min = low - pad;
  const max = high + pad;
  return { min, max, toPixel: (value) => top + height - ((value - min) / (max - min)) * height };
}

/** A value's pixel row, held inside the panel. */
function insidePanel(panel: Panel, value: number): number {
  return Math.min(panel.top + panel.height, Math.max(panel.top, panel.y.toPixel(value)));
}

function renderGrid(panel: Panel, left: number, width: number): string {
  const ticks = niceTicks(panel.y.min, panel.y.max, panel.height > 120 ? 5 : 3);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.abs(ticks[0]) || 1;
  return ticks.map((tick) => {
    const y = round(panel.y.toPixel(tick));
    return `<line class="grid" x1="${left}" y1="${y}" x2="${left + width}" y2="${y}"/>` +
      `<text class="tick" x="${left - 6}" y="${round(y + 4)}" text-anchor="end">${formatTick(tick, step)}</text>`;
  }).join("\n");
}

/** The band as one stepped shape: each step holds from its iteration to the next, the first from the left edge. */
function renderBand(
  panel: Panel,
  band: NonNullable<ChartInput["noiseBand"]>,
  x: (iteration: number) => number,
  left: number,
  width: number,
): string {
  if (band.steps.length === 0) return "";
  const right = left + width;
  const edges = band.steps.map((step, index) => ({
    x: index === 0 ? left : round(Math.min(right, Math.max(left, x(step.iteration)))),
    top: round(insidePanel(panel, Math.max(step.low, step.high))),
    bottom: round(insidePanel(panel, Math.min(step.low, step.high))),
  }));
  // A step that keeps the previous step's edge adds nothing to the outline.
  let path = `M${left} ${edges[0].top}`;
  for (let index = 1; index < edges.length; index++) {
    if (edges[index].top !== edges[index - 1].top) path += `H${edges[index].x}V${edges[index].top}`;
  }
  path += `H${right}V${edges[edges.length - 1].bottom}`;
  for (let index = edges.length - 1; index >= 1; index--) {
    if (edges[index].bottom !== edges[index - 1].bottom) path += `H${edges[index].x}V${edges[index - 1].bottom}`;
  }
  path += `H${left}Z`;
  return `<path class="band" d="${path}"><title>${escapeXml(band.detail)}</title></path>`;
}

function renderFailZone(panel: Panel, guard: NonNullable<ChartInput["guard"]>, left: number, width: number): string {
  const y = insidePanel(panel, guard.threshold);
  const failsBelow = guard.op === ">=" || guard.op === ">";
  const top = failsBelow ? y : panel.top;
  const bottom = failsBelow ? panel.top + panel.height : y;
  if (bottom - top <= 0) return "";
  return `<rect class="fail-zone" x="${left}" y="${round(top)}" width="${width}" height="${round(bottom - top)}"/>`;
}

function horizontalLine(panel: Panel, value: number, className: string, left: number, width: number): string {
  const y = round(panel.y.toPixel(value));
  return `<line class="${className}" x1="${left}" y1="${y}" x2="${left + width}" y2="${y}"/>`;
}

/** The incumbent as a step line: it holds its value until the next keep. */
function renderBestLine(points: ChartPoint[], x: (iteration: number) => number, panel: Panel): string {
  let path = "";
  let previousY: number | null = null;
  for (const point of points) {
    if (point.incumbent === null) continue;
    const px = round(x(point.iteration));
    const py = round(panel.y.toPixel(point.incumbent));
    if (previousY === null) path += `M${px} ${py}`;
    else path += `H${px}` + (py !== previousY ? `V${py}` : "");
    previousY = py;
  }
  return path === "" ? "" : `<path class="best" d="${path}"/>`;
}

/**
 * The held-out score of the current best as a step line (from the baseline's, changing at each
 * measured keep, held to the last iteration), with a marker at each keep's measurement.
 */
function renderHoldoutLine(input: ChartInput, x: (iteration: number) => number, panel: Panel): string {
  const holdout = input.holdout;
  if (!holdout || input.points.length === 0) return "";
  const first = input.points[0].iteration;
  const last = input.points[input.points.length - 1].iteration;
  const steps = [
    ...(holdout.baseline !== null ? [{ iteration: first, score: holdout.baseline }] : []),
    ...holdout.kept,
  ];
  if (steps.length === 0) return "";
  let path = "";
  let previousY: number | null = null;
  for (const step of steps) {
    const px = round(x(step.iteration));
    const py = round(insidePanel(panel, step.score));
    if (previousY === null) path += `M${px} ${py}`;
    else path += `H${px}` + (py !== previousY ? `V${py}` : "");
    previousY = py;
  }
  path += `H${round(x(Math.max(last, steps[steps.length - 1].iteration)))}`;
  const style = { whole: input.whole?.score };
  const markers = holdout.kept.map((kept) =>
    `<circle class="holdout-point" cx="${round(x(kept.iteration))}" cy="${
      round(insidePanel(panel, kept.score))
    }" r="3"><title>${escapeXml(`#${kept.iteration} held-out ${formatScore(kept.score, style)}`)}</title></circle>`
  );
  return [`<path class="holdout" d="${path}"/>`, ...markers].join("\n");
}

/** Each mean's 95% interval as a capped vertical line, cut at the panel. */
function renderIntervals(points: ChartPoint[], layout: Layout, panel: Panel): string {
  const lines: string[] = [];
  for (const point of points) {
    if (point.interval === null || point.score === null || !onAxis(point.score, layout.range)) continue;
    const cx = round(layout.x(point.iteration));
    const top = round(insidePanel(panel, Math.max(point.interval.low, point.interval.high)));
    const bottom = round(insidePanel(panel, Math.min(point.interval.low, point.interval.high)));
    lines.push(
      `<path class="interval" d="M${round(cx - 2)} ${top}H${round(cx + 2)}M${cx} ${top}V${bottom}M${
        round(cx - 2)
      } ${bottom}H${round(cx + 2)}"/>`,
    );
  }
  return lines.join("\n");
}

/** A marker grows a little with each doubling of the runs behind it: 1 run, 2, 4, 8, 16+. */
function markerRadius(point: ChartPoint, total: number): number {
  const scale = total > SMALL_MARKERS_FROM_POINTS ? 0.6 : 1;
  const base = point.status === "keep" ? 4.5 : 3.5;
  const doublings = Math.log2(Math.min(16, Math.max(1, point.runs)));
  return round((base + 0.6 * doublings) * scale);
}

function renderPoints(points: ChartPoint[], layout: Layout, panel: Panel, whole = false): string {
  const withTitles = layout.total <= TITLES_UP_TO_POINTS;
  const withRunLabels = layout.total <= RUN_LABELS_UP_TO_POINTS;
  const markers: string[] = [];
  for (const point of points) {
    if (point.score === null) continue;
    const cx = round(layout.x(point.iteration));
    const radius = markerRadius(point, layout.total);
    const above = point.score > layout.range.high;
    const below = point.score < layout.range.low;
    const clipped = above || below;
    const cy = round(
      above ? panel.top + CLIP_INSET : below ? panel.top + panel.height - CLIP_INSET : panel.y.toPixel(point.score),
    );
    const className = `point ${point.status}${clipped ? " clipped" : ""}`;
    const title = withTitles ? `<title>${escapeXml(pointTitle(point, clipped, { whole }))}</title>` : "";
    markers.push(
      title === ""
        ? `<circle class="${className}" cx="${cx}" cy="${cy}" r="${radius}"/>`
        : `<circle class="${className}" cx="${cx}" cy="${cy}" r="${radius}">${title}</circle>`,
    );
    if (clipped) {
      // An arrowhead outside the frame, pointing the way the real value lies.
      const edge = above ? panel.top : panel.top + panel.height;
      const tip = above ? edge - 7 : edge + 7;
      const base = above ? edge - 1 : edge + 1;
      markers.push(
        `<path class="clip-mark" d="M${round(cx - 4)} ${base}L${cx} ${tip}L${round(cx + 4)} ${base}Z"/>`,
      );
    }
    if (withRunLabels && point.runs > 1) {
      markers.push(
        `<text class="runs" x="${round(cx + radius + 1)}" y="${round(cy - radius + 1)}">${point.runs}</text>`,
      );
    }
  }
  return markers.join("\n");
}

/** The guard's threshold as the dashboard writes it: a count bare, anything else compact. */
function guardThreshold(input: ChartInput): string {
  const threshold = input.guard!.threshold;
  return input.whole?.guard && Number.isInteger(threshold) ? String(threshold) : formatCompact(threshold);
}

function pointTitle(point: ChartPoint, clipped: boolean, style: { whole?: boolean }): string {
  let title = `#${point.iteration} ${point.status}`;
  if (point.score !== null) title += ` ${formatScore(point.score, style)}`;
  if (point.runs > 1) {
    title += ` (mean of ${point.runs} runs${
      point.interval
        ? `; 95% interval ${formatScore(point.interval.low, style)}–${formatScore(point.interval.high, style)}`
        : ""
    })`;
  }
  if (clipped) title += " — off the axis";
  if (point.note) title += `: ${point.note}`;
  return title;
}

/** Iterations with no score, in a strip under the axis: never drawn as if they had scored its minimum. */
function renderUnscoredStrip(points: ChartPoint[], layout: Layout, top: number, width: number): string {
  // Clear of the arrowheads that mark points off the bottom of the axis (up to 7 px below it).
  const stripTop = top + 9;
  const y = round(stripTop + (STRIP_HEIGHT - 9) / 2);
  const withTitles = layout.total <= TITLES_UP_TO_POINTS;
  const radius = round(3.5 * (layout.total > SMALL_MARKERS_FROM_POINTS ? 0.6 : 1));
  const parts = [
    `<rect class="strip" x="${MARGIN_LEFT}" y="${stripTop}" width="${width}" height="${STRIP_HEIGHT - 9}"/>`,
    `<text class="tick" x="${MARGIN_LEFT - 6}" y="${round(y + 4)}" text-anchor="end">no score</text>`,
  ];
  for (const point of points) {
    const className = point.status === "crash" ? "point crash" : `point ${point.status} unscored`;
    const what = point.status === "crash" ? "crashed" : "not scored";
    const title = withTitles
      ? `<title>${
        escapeXml(`#${point.iteration} ${point.status}, ${what}${point.note ? `: ${point.note}` : ""}`)
      }</title>`
      : "";
    const cx = round(layout.x(point.iteration));
    parts.push(
      title === ""
        ? `<circle class="${className}" cx="${cx}" cy="${y}" r="${radius}"/>`
        : `<circle class="${className}" cx="${cx}" cy="${y}" r="${radius}">${title}</circle>`,
    );
  }
  return parts.join("\n");
}

function renderGuardPoints(
  points: ChartPoint[],
  guard: NonNullable<ChartInput["guard"]>,
  x: (iteration: number) => number,
  panel: Panel,
): string {
  const radius = points.length > SMALL_MARKERS_FROM_POINTS ? 1.5 : 2.5;
  const markers: string[] = [];
  for (const point of points) {
    if (point.guardScore === null) continue;
    const fails = !passesGuard(point.guardScore, guard.op, guard.threshold);
    markers.push(
      `<circle class="guard-point${fails ? " fail" : ""}" cx="${round(x(point.iteration))}" cy="${
        round(panel.y.toPixel(point.guardScore))
      }" r="${radius}"/>`,
    );
  }
  return markers.join("\n");
}

function renderXAxis(points: ChartPoint[], x: (iteration: number) => number, bottom: number): string {
  if (points.length === 0) return "";
  const first = points[0].iteration;
  const last = points[points.length - 1].iteration;
  const ticks = niceTicks(Math.min(first, last), Math.max(first, last), 8).filter((tick) => Number.isInteger(tick));
  if (ticks.length === 0) ticks.push(first);
  const labels = ticks.map((tick) =>
    `<text class="tick" x="${round(x(tick))}" y="${bottom + 15}" text-anchor="middle">${tick}</text>`
  );
  labels.push(
    `<text class="axis-title" x="${MARGIN_LEFT + (CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / 2}" y="${
      bottom + 34
    }" text-anchor="middle">iteration</text>`,
  );
  return labels.join("\n");
}

/** The legend, wrapped into rows that fit the chart's width; items for what the chart does not show are left out. */
function renderLegend(input: ChartInput, guardOwnPanel: boolean, range: AxisRange): { svg: string; rows: number } {
  type Item = { swatch: string; label: string };
  const points = input.points;
  const items: Item[] = [
    { swatch: `<circle class="swatch keep" cx="5" cy="-4" r="4.5"/>`, label: "keep" },
    { swatch: `<circle class="swatch discard" cx="5" cy="-4" r="3.5"/>`, label: "discard" },
    { swatch: `<circle class="swatch guard_fail" cx="5" cy="-4" r="3.5"/>`, label: "guard fail" },
    { swatch: `<circle class="swatch crash" cx="5" cy="-4" r="3.5"/>`, label: "crash" },
  ];
  if (points.some((point) => point.score === null && point.status !== "crash")) {
    items.push({ swatch: `<circle class="swatch unscored" cx="5" cy="-4" r="3.5"/>`, label: "not scored" });
  }
  if (points.some((point) => point.runs > 1)) {
    items.push({
      swatch: `<circle class="swatch discard" cx="5" cy="-4" r="4.7"/><text class="runs" x="10" y="-7">3</text>`,
      label: "mean of 3 runs (bigger: more)",
    });
  }
  if (points.some((point) => point.interval !== null)) {
    items.push({ swatch: `<path class="interval" d="M3 -10H7M5 -10V2M3 2H7"/>`, label: "95% interval" });
  }
  if (points.some((point) => point.score !== null && !onAxis(point.score, range))) {
    items.push({ swatch: `<path class="clip-mark" d="M1 0L5 -8L9 0Z"/>`, label: "off the axis (value on hover)" });
  }
  items.push({ swatch: `<line class="best" x1="0" y1="-4" x2="14" y2="-4"/>`, label: "current best" });
  if (input.holdout) {
    items.push({
      swatch: `<line class="holdout" x1="0" y1="-4" x2="14" y2="-4"/>`,
      label: "current best on the held-out set",
    });
  }
  if (input.baseline !== null) {
    items.push({ swatch: `<line class="baseline" x1="0" y1="-4" x2="14" y2="-4"/>`, label: "baseline" });
  }
  if (input.noiseBand) {
    items.push({ swatch: `<rect class="band" x="0" y="-9" width="14" height="10"/>`, label: input.noiseBand.label });
  }
  if (input.guard && !guardOwnPanel) {
    items.push({
      swatch: `<line class="threshold" x1="0" y1="-4" x2="14" y2="-4"/>`,
      label: `${input.guard.metric} ${input.guard.op} ${guardThreshold(input)}`,
    });
  }
  let offset = MARGIN_LEFT;
  let row = 0;
  const rendered: string[] = [];
  for (const item of items) {
    const width = 26 + item.label.length * 6.2;
    if (offset > MARGIN_LEFT && offset + width - 8 > CHART_WIDTH - MARGIN_RIGHT) {
      row += 1;
      offset = MARGIN_LEFT;
    }
    rendered.push(
      `<g transform="translate(${round(offset)} ${
        LEGEND_TOP + row * LEGEND_ROW
      })">${item.swatch}<text class="legend" x="18" y="0">${escapeXml(item.label)}</text></g>`,
    );
    offset += width;
  }
  return { svg: rendered.join("\n"), rows: row + 1 };
}

function niceStep(rough: number): number {
  const power = 10 ** Math.floor(Math.log10(rough));
  const fraction = rough / power;
  return (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
}

function stepDecimals(step: number): number {
  return Math.max(0, Math.min(8, -Math.floor(Math.log10(step) + 1e-9)));
}

function formatTick(value: number, step: number): string {
  return value.toFixed(stepDecimals(step));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => XML_ENTITIES[character]);
}

const XML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

// ---------------------------------------------------------------------------------------------
// What the chart draws, from a journal's summary and, when given, the journal's own lines
// (their runs give each point's interval and the incumbent's noise; without them the band
// comes from the baseline's recorded noise).

/**
 * The chart's data. Each point carries its run count and interval; the band follows the
 * incumbent: mean ± t·sd/√n, sd pooled within versions over the incumbent's runs so far
 * (the baseline's runs, each keep's runs, and the incumbent re-runs recorded on later lines),
 * n the runs behind the incumbent's current mean. A deterministic eval (no spread) gets the
 * best ± min delta, the smallest gain a keep needs.
 */
export function chartInputFromSummary(journalSummary: Summary, journal: Journal | null = null): ChartInput {
  const lines = linesForRows(journalSummary, journal);
  const points: ChartPoint[] = journalSummary.rows.map((row, index) => {
    const runs = finiteRuns(lines?.[index]?.runs);
    return {
      iteration: row.iteration,
      score: row.score,
      status: row.status,
      incumbent: row.incumbent,
      guardScore: row.guardScore,
      runs: row.runs,
      interval: meanInterval(runs),
      note: row.score === null && row.reason ? stripControlCharacters(row.reason) : null,
    };
  });
  return {
    metric: stripControlCharacters(journalSummary.metric.name),
    direction: journalSummary.metric.direction,
    points,
    baseline: journalSummary.start,
    noiseBand: incumbentNoiseBand(journalSummary, journal, lines),
    guard: journalSummary.guard
      ? {
        metric: stripControlCharacters(journalSummary.guard.metric),
        op: journalSummary.guard.op,
        threshold: journalSummary.guard.threshold,
      }
      : null,
    ...(journalSummary.holdout
      ? {
        holdout: {
          baseline: journalSummary.holdout.baseline?.holdoutScore ?? null,
          kept: journalSummary.holdout.points.filter((point) => point.status === "keep").map((point) => ({
            iteration: point.iteration,
            score: point.holdoutScore,
          })),
        },
      }
      : {}),
    whole: {
      score: isWholeNumberMetric([journalSummary.start, ...journalSummary.rows.map((row) => row.score)]),
      guard: isWholeNumberMetric([
        journalSummary.guard?.threshold ?? null,
        ...journalSummary.rows.map((row) => row.guardScore),
      ]),
    },
  };
}

/** The journal's iteration lines, one per summary row, or null when they do not line up (or there is no journal). */
function linesForRows(summary: Summary, journal: Journal | null): ResultLine[] | null {
  if (journal === null) return null;
  const lines = iterationResults(journal);
  if (lines.length !== summary.rows.length) return null;
  return lines.every((line, index) => line.iteration === summary.rows[index].iteration) ? lines : null;
}

function finiteRuns(runs: (number | null)[] | undefined): number[] {
  return (runs ?? []).filter((run): run is number => run !== null && Number.isFinite(run));
}

/** mean ± t(0.975, n-1)·sd/√n of the runs; null under two runs or when they all agree. */
export function meanInterval(runs: number[]): Interval | null {
  if (runs.length < 2) return null;
  const sd = sampleStandardDeviation(runs);
  if (sd === null || !(sd > 0)) return null; // before the t quantile: a deterministic eval never loads it
  const t = studentTQuantile(INTERVAL_LEVEL, runs.length - 1);
  const centre = mean(runs);
  if (t === null || centre === null) return null;
  const half = (t * sd) / Math.sqrt(runs.length);
  return { low: centre - half, high: centre + half };
}

/** Short and full hashes of one commit compare equal ("abc1234" vs "abc1234ef..."). */
function sameCommit(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Within-version noise pooled over finished versions and the current one. */
type Pool = { squares: number; degreesOfFreedom: number; runs: number; versions: number };

function pooledWith(pool: Pool, current: number[]): { sd: number | null; df: number; runs: number; versions: number } {
  const degreesOfFreedom = pool.degreesOfFreedom + Math.max(0, current.length - 1);
  const squares = pool.squares + sumOfSquaredDeviations(current);
  return {
    sd: degreesOfFreedom > 0 ? Math.sqrt(squares / degreesOfFreedom) : null,
    df: degreesOfFreedom,
    runs: pool.runs + current.length,
    versions: pool.versions + (current.length > 0 ? 1 : 0),
  };
}

/** The band's half-width for the incumbent's mean: a 95% interval, or min delta when the eval shows no spread. */
type BandWidth = { half: number; kind: "interval" | "min delta"; detail: string };

function bandWidth(
  noise: { sd: number | null; df: number; runs: number; versions: number; source: string },
  behindMean: number,
  minDelta: number | null,
): BandWidth | null {
  const t = noise.sd !== null && noise.sd > 0 ? studentTQuantile(INTERVAL_LEVEL, noise.df) : null;
  if (noise.sd !== null && noise.sd > 0 && t !== null) {
    const n = Math.max(1, behindMean);
    return {
      half: (t * noise.sd) / Math.sqrt(n),
      kind: "interval",
      detail: `the best's mean ± t·sd/√n: sd ${formatCompact(noise.sd)} ${noise.source}, n = ${n}`,
    };
  }
  if (minDelta !== null && minDelta > 0) {
    return {
      half: minDelta,
      kind: "min delta",
      detail: `the best ± min delta ${formatCompact(minDelta)} (no spread seen)`,
    };
  }
  return null;
}

function incumbentNoiseBand(
  summary: Summary,
  journal: Journal | null,
  lines: ResultLine[] | null,
): ChartInput["noiseBand"] {
  const baselineLine = journal?.results.find((line) => line.status === "baseline") ?? null;
  const configRuns = finiteRuns(journal?.config?.noise?.runs);
  const baselineRuns = configRuns.length > 0 ? configRuns : finiteRuns(baselineLine?.runs);
  // Without the runs themselves, the baseline's recorded sd stands in for the pool.
  const recorded = summary.noise.sd !== null && summary.noise.runs >= 2
    ? { sd: summary.noise.sd, df: summary.noise.runs - 1 }
    : null;
  const minDelta = summary.noise.minDelta;

  const pool: Pool = { squares: 0, degreesOfFreedom: 0, runs: 0, versions: 0 };
  let current = [...baselineRuns];
  let incumbentCommit = baselineLine?.commit ?? null;
  // The runs behind the incumbent's shown mean: the baseline's, then a keep's, then only its fresh re-runs.
  let behindMean = baselineRuns.length || summary.noise.runs || 1;
  let freshSinceKeep: number[] | null = null;

  const widthNow = (): BandWidth | null => {
    const pooled = pooledWith(pool, current);
    const noise = pooled.sd !== null && pooled.df > 0
      ? {
        ...pooled,
        source: `pooled over ${pooled.runs} runs of ${pooled.versions} version${pooled.versions === 1 ? "" : "s"}`,
      }
      : recorded
      ? { sd: recorded.sd, df: recorded.df, runs: summary.noise.runs, versions: 1, source: "from the baseline" }
      : { sd: null, df: 0, runs: 0, versions: 0, source: "" };
    return bandWidth(noise, behindMean, minDelta);
  };

  const steps: NoiseBandStep[] = [];
  const details: string[] = [];
  const kinds = new Set<BandWidth["kind"]>();
  const push = (iteration: number, centre: number | null) => {
    const width = widthNow();
    if (centre === null || width === null) return;
    steps.push({ iteration, low: centre - width.half, high: centre + width.half });
    details.push(width.detail);
    kinds.add(width.kind);
  };

  const rows = summary.rows;
  push(rows.length > 0 ? rows[0].iteration - 1 : 0, summary.start);
  rows.forEach((row, index) => {
    const line = lines?.[index] ?? null;
    const fresh = finiteRuns(line?.incumbent_runs);
    const commit = line?.incumbent_commit ?? null;
    if (fresh.length > 0 && (commit === null || incumbentCommit === null || sameCommit(commit, incumbentCommit))) {
      current.push(...fresh);
      if (freshSinceKeep !== null) {
        freshSinceKeep.push(...fresh);
        behindMean = freshSinceKeep.length;
      }
    }
    if (row.status === "keep" && row.score !== null) {
      pool.squares += sumOfSquaredDeviations(current);
      pool.degreesOfFreedom += Math.max(0, current.length - 1);
      pool.runs += current.length;
      pool.versions += current.length > 0 ? 1 : 0;
      current = line !== null ? finiteRuns(line.runs) : [];
      incumbentCommit = row.commit;
      behindMean = Math.max(1, row.runs);
      freshSinceKeep = [];
    }
    push(row.iteration, row.incumbent);
  });
  if (steps.length === 0) return null;
  const label = kinds.has("interval") ? "best ± 95% interval" : `best ± min delta ${formatCompact(minDelta)}`;
  return { label, detail: `${label}; now ${details[details.length - 1]}`, steps };
}
