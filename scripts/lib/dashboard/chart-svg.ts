// The progress chart as a plain SVG 1.1 string: score per iteration (keeps marked),
// the running best, the baseline with its noise band, and the guard threshold — in
// its own panel when the guard metric lives on another scale. Pure: data in, text out.
// No DOM, canvas, fonts or scripts, so it renders the same in browsers and on GitHub.
import type { Status } from "../experiment/journal.ts";
import { formatCompact, formatScore } from "../text/number-format.ts";
import { passesGuard } from "../experiment/guard.ts";

export type ChartPoint = {
  iteration: number;
  score: number | null; // null: the run crashed, drawn on the panel's floor
  status: Status;
  incumbent: number | null; // the running best after this iteration
  guardScore: number | null;
};

export type ChartInput = {
  metric: string;
  direction: "max" | "min";
  points: ChartPoint[];
  baseline: number | null;
  noiseBand: { low: number; high: number; label: string } | null;
  guard: { metric: string; op: string; threshold: number } | null;
};

export const CHART_WIDTH = 800; // viewBox units (px at 100%)
const MARGIN_LEFT = 68;
const MARGIN_RIGHT = 20;
const MAIN_TOP = 56;
const MAIN_HEIGHT = 240;
const GUARD_GAP = 30;
const GUARD_HEIGHT = 84;
const X_AXIS_SPACE = 44; // tick labels and the axis title under the lowest panel
const TITLES_UP_TO_POINTS = 400; // hover titles cost bytes; skip them on long journals
const SMALL_MARKERS_FROM_POINTS = 300;
const Y_PADDING = 0.08; // of the value span, above and below
const SHARED_AXIS_MAX_STRETCH = 2; // the guard shares the score axis if it at most doubles its span

/** The chart's root class: its style rules are scoped to it, so an inline chart restyles nothing else on a page. */
export const CHART_CLASS = "ark-chart";
const STYLE_RULES: [selectors: string, declarations: string][] = [
  ["text", "font-family:sans-serif;fill:#333"],
  [".title", "font-size:14px;font-weight:bold"],
  [".legend,.tick", "font-size:11px"],
  [".axis-title", "font-size:11px;fill:#666"],
  [".frame", "fill:none;stroke:#bbb"],
  [".grid", "stroke:#eee"],
  [".band", "fill:#90caf9;fill-opacity:.35"],
  [".baseline", "stroke:#616161;stroke-dasharray:5 4"],
  [".best", "fill:none;stroke:#1565c0;stroke-width:2"],
  [".threshold", "stroke:#c62828;stroke-dasharray:6 3"],
  [".fail-zone", "fill:#ffcdd2;fill-opacity:.45"],
  [".point,.swatch", "stroke:#fff;stroke-width:.8"], // legend swatches are not data: no class "point"
  [".keep", "fill:#2e7d32"],
  [".discard", "fill:#9e9e9e"],
  [".guard_fail", "fill:#ef6c00"],
  [".crash", "fill:#fff;stroke:#c62828;stroke-width:1.5"],
  ["&.dense .point", "stroke:none"], // a white outline would hide small, crowded markers
  ["&.dense .point.crash", "stroke:#c62828;stroke-width:1"],
  [".guard-point", "fill:#6a1b9a;fill-opacity:.6"],
  [".guard-point.fail", "fill:#ef6c00"],
];
const STYLE = STYLE_RULES.map(([selectors, declarations]) => {
  const scoped = selectors.split(",").map((selector) =>
    selector.startsWith("&") ? `.${CHART_CLASS}${selector.slice(1)}` : `.${CHART_CLASS} ${selector}`
  );
  return `${scoped.join(",")}{${declarations}}`;
}).join("");

type Scale = { toPixel: (value: number) => number; min: number; max: number };
type Panel = { top: number; height: number; y: Scale };

/** Render the chart; one `circle.point` per iteration, crashes included. */
export function renderProgressChart(input: ChartInput): string {
  const plotWidth = CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
  const guardOwnPanel = input.guard !== null && guardHasOwnScale(input);
  const guardBottom = MAIN_TOP + MAIN_HEIGHT + GUARD_GAP + GUARD_HEIGHT;
  const height = (guardOwnPanel ? guardBottom : MAIN_TOP + MAIN_HEIGHT) + X_AXIS_SPACE;
  const x = xScale(input.points, MARGIN_LEFT, plotWidth);
  const main: Panel = {
    top: MAIN_TOP,
    height: MAIN_HEIGHT,
    y: yScale(mainValues(input, !guardOwnPanel), MAIN_TOP, MAIN_HEIGHT),
  };
  const parts: string[] = [];

  const rootClass = input.points.length > SMALL_MARKERS_FROM_POINTS ? `${CHART_CLASS} dense` : CHART_CLASS;
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" version="1.1" viewBox="0 0 ${CHART_WIDTH} ${height}" width="${CHART_WIDTH}" height="${height}" font-family="sans-serif" class="${rootClass}">`,
  );
  parts.push(`<title>${escapeXml(chartTitle(input))}</title>`);
  parts.push(`<style>${STYLE}</style>`);
  parts.push(`<rect x="0" y="0" width="${CHART_WIDTH}" height="${height}" fill="#fff"/>`);
  parts.push(`<text class="title" x="${MARGIN_LEFT}" y="22">${escapeXml(chartTitle(input))}</text>`);
  parts.push(renderLegend(input, guardOwnPanel));
  parts.push(renderGrid(main, MARGIN_LEFT, plotWidth));
  if (input.noiseBand) parts.push(renderBand(main, input.noiseBand, MARGIN_LEFT, plotWidth));
  if (input.baseline !== null) parts.push(horizontalLine(main, input.baseline, "baseline", MARGIN_LEFT, plotWidth));
  if (input.guard && !guardOwnPanel) {
    parts.push(horizontalLine(main, input.guard.threshold, "threshold", MARGIN_LEFT, plotWidth));
  }
  if (input.guard && !guardOwnPanel) parts.push(renderGuardPoints(input.points, input.guard, x, main));
  // Keeps go on top of the best line, everything else under it, so neither hides the other.
  parts.push(renderPoints(input.points.filter((point) => point.status !== "keep"), input.points.length, x, main));
  parts.push(renderBestLine(input.points, x, main));
  parts.push(renderPoints(input.points.filter((point) => point.status === "keep"), input.points.length, x, main));
  parts.push(`<rect class="frame" x="${MARGIN_LEFT}" y="${main.top}" width="${plotWidth}" height="${main.height}"/>`);
  parts.push(
    `<text class="axis-title" transform="translate(14 ${
      main.top + main.height / 2
    }) rotate(-90)" text-anchor="middle">${escapeXml(input.metric)}</text>`,
  );

  let lowestBottom = main.top + main.height;
  if (input.guard && guardOwnPanel) {
    const top = MAIN_TOP + MAIN_HEIGHT + GUARD_GAP;
    const guardPanel: Panel = { top, height: GUARD_HEIGHT, y: yScale(guardValues(input), top, GUARD_HEIGHT) };
    parts.push(renderGrid(guardPanel, MARGIN_LEFT, plotWidth));
    parts.push(renderFailZone(guardPanel, input.guard, MARGIN_LEFT, plotWidth));
    parts.push(horizontalLine(guardPanel, input.guard.threshold, "threshold", MARGIN_LEFT, plotWidth));
    parts.push(renderGuardPoints(input.points, input.guard, x, guardPanel));
    parts.push(`<rect class="frame" x="${MARGIN_LEFT}" y="${top}" width="${plotWidth}" height="${GUARD_HEIGHT}"/>`);
    parts.push(
      `<text class="axis-title" x="${MARGIN_LEFT + 6}" y="${top - 6}">${
        escapeXml(`guard: ${input.guard.metric} ${input.guard.op} ${formatCompact(input.guard.threshold)}`)
      }</text>`,
    );
    lowestBottom = top + GUARD_HEIGHT;
  }
  parts.push(renderXAxis(input.points, x, lowestBottom));
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
  const scoreSpan = span(mainValues(input, false));
  const combinedSpan = span([...mainValues(input, false), ...guardValues(input)]);
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

function chartTitle(input: ChartInput): string {
  return `${input.metric} per iteration (${input.direction === "min" ? "lower" : "higher"} is better)`;
}

function mainValues(input: ChartInput, includeGuard: boolean): number[] {
  const values: number[] = [];
  for (const point of input.points) {
    if (point.score !== null) values.push(point.score);
    if (point.incumbent !== null) values.push(point.incumbent);
  }
  if (input.baseline !== null) values.push(input.baseline);
  if (input.noiseBand) values.push(input.noiseBand.low, input.noiseBand.high);
  if (includeGuard) values.push(...guardValues(input));
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

function renderGrid(panel: Panel, left: number, width: number): string {
  const ticks = niceTicks(panel.y.min, panel.y.max, panel.height > 120 ? 5 : 3);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.abs(ticks[0]) || 1;
  return ticks.map((tick) => {
    const y = round(panel.y.toPixel(tick));
    return `<line class="grid" x1="${left}" y1="${y}" x2="${left + width}" y2="${y}"/>` +
      `<text class="tick" x="${left - 6}" y="${round(y + 4)}" text-anchor="end">${formatTick(tick, step)}</text>`;
  }).join("\n");
}

function renderBand(panel: Panel, band: NonNullable<ChartInput["noiseBand"]>, left: number, width: number): string {
  const top = round(panel.y.toPixel(Math.max(band.low, band.high)));
  const bottom = round(panel.y.toPixel(Math.min(band.low, band.high)));
  return `<rect class="band" x="${left}" y="${top}" width="${width}" height="${
    round(Math.max(0.5, bottom - top))
  }"><title>${escapeXml(band.label)}</title></rect>`;
}

function renderFailZone(panel: Panel, guard: NonNullable<ChartInput["guard"]>, left: number, width: number): string {
  const y = Math.min(panel.top + panel.height, Math.max(panel.top, panel.y.toPixel(guard.threshold)));
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

function renderPoints(
  points: ChartPoint[],
  totalPoints: number,
  x: (iteration: number) => number,
  panel: Panel,
): string {
  const scale = totalPoints > SMALL_MARKERS_FROM_POINTS ? 0.6 : 1;
  const withTitles = totalPoints <= TITLES_UP_TO_POINTS;
  const floor = panel.top + panel.height - 5;
  const markers: string[] = [];
  for (const point of points) {
    const cx = round(x(point.iteration));
    const cy = round(point.score === null ? floor : panel.y.toPixel(point.score));
    const radius = round((point.status === "keep" ? 4.5 : 3.5) * scale);
    const title = withTitles
      ? `<title>#${point.iteration} ${point.status}${
        point.score === null ? "" : ` ${formatScore(point.score)}`
      }</title>`
      : "";
    markers.push(
      title === ""
        ? `<circle class="point ${point.status}" cx="${cx}" cy="${cy}" r="${radius}"/>`
        : `<circle class="point ${point.status}" cx="${cx}" cy="${cy}" r="${radius}">${title}</circle>`,
    );
  }
  return markers.join("\n");
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

function renderLegend(input: ChartInput, guardOwnPanel: boolean): string {
  type Item = { swatch: string; label: string };
  const items: Item[] = [
    { swatch: `<circle class="swatch keep" cx="5" cy="-4" r="4.5"/>`, label: "keep" },
    { swatch: `<circle class="swatch discard" cx="5" cy="-4" r="3.5"/>`, label: "discard" },
    { swatch: `<circle class="swatch guard_fail" cx="5" cy="-4" r="3.5"/>`, label: "guard fail" },
    { swatch: `<circle class="swatch crash" cx="5" cy="-4" r="3.5"/>`, label: "crash" },
    { swatch: `<line class="best" x1="0" y1="-4" x2="14" y2="-4"/>`, label: "current best" },
  ];
  if (input.baseline !== null) {
    items.push({ swatch: `<line class="baseline" x1="0" y1="-4" x2="14" y2="-4"/>`, label: "baseline" });
  }
  if (input.noiseBand) {
    items.push({ swatch: `<rect class="band" x="0" y="-9" width="14" height="10"/>`, label: input.noiseBand.label });
  }
  if (input.guard && !guardOwnPanel) {
    items.push({
      swatch: `<line class="threshold" x1="0" y1="-4" x2="14" y2="-4"/>`,
      label: `${input.guard.metric} ${input.guard.op} ${formatCompact(input.guard.threshold)}`,
    });
  }
  let offset = MARGIN_LEFT;
  const rendered: string[] = [];
  for (const item of items) {
    rendered.push(
      `<g transform="translate(${offset} 44)">${item.swatch}<text class="legend" x="18" y="0">${
        escapeXml(item.label)
      }</text></g>`,
    );
    offset += 26 + item.label.length * 6.2;
  }
  return rendered.join("\n");
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
