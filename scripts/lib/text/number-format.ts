// How the kit rounds and spells numbers, in one place: measured quantities (a score, a guard
// value, a metric, a delta) are rounded once to four decimals like the seed ("0.6930"), or to
// four significant digits when the quantity is below 0.001 (an MSE of "0.00001019", not "0.0000"),
// and a whole-number metric (counts, 12 ms) is written without ".0000"; a delta is the rounded
// difference of the unrounded means, so every figure of one quantity reads the same; statistics
// lose only binary noise (0.08174599999999999 -> 0.081746), also in a --json line; counted
// nouns agree ("1 case").
// It parses nothing and decides nothing.

/** The decimals a measured quantity (score, guard, metric, delta) is rounded to. */
export const MEASURE_DECIMALS = 4;
/** Below this size four decimals keep less than one significant digit of a figure... */
const SMALL_MEASURE = 0.001;
/** ...so it keeps this many, to at most MAX_MEASURE_DECIMALS decimals. */
const SMALL_MEASURE_SIGNIFICANT_DIGITS = 4;
const MAX_MEASURE_DECIMALS = 12;

/**
 * The decimals a quantity is written with, read from its values: four, unless its typical (median)
 * nonzero size is below 0.001, then enough for four significant digits of that size; one stray
 * value (a broken candidate's 0.0005 among accuracies) does not change how the others read.
 * measureDecimals([0.7124, 0.005]) -> 4; measureDecimals([0.00001019, 0.0000102]) -> 8.
 */
export function measureDecimals(values: readonly (number | null | undefined)[]): number {
  const sizes = values
    .filter((value): value is number => typeof value === "number" && Number.isFinite(value) && value !== 0)
    .map(Math.abs)
    .sort((a, b) => a - b);
  if (sizes.length === 0) return MEASURE_DECIMALS;
  const typical = sizes[Math.floor((sizes.length - 1) / 2)];
  if (!(typical < SMALL_MEASURE)) return MEASURE_DECIMALS;
  const decimals = SMALL_MEASURE_SIGNIFICANT_DIGITS - 1 - Math.floor(Math.log10(typical));
  return Math.min(MAX_MEASURE_DECIMALS, Math.max(MEASURE_DECIMALS, decimals));
}

function roundTo(value: number, decimals: number): number {
  const rounded = Math.round(value * 10 ** decimals) / 10 ** decimals;
  return Object.is(rounded, -0) ? 0 : rounded;
}

/** Significant digits kept of a statistic: enough for any figure, short of binary noise. */
const CLEAN_SIGNIFICANT_DIGITS = 12;

/**
 * A measured quantity rounded once for recording, to the style's decimals or else its own
 * (measureDecimals): 0.652349 -> 0.6523, 0.0000101934 -> 0.00001019; null (or not finite) -> null.
 */
export function roundMeasure(value: number | null | undefined, style: MeasureStyle = {}): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  return roundTo(value, style.decimals ?? measureDecimals([value]));
}

/** A statistic without binary noise: 0.08174599999999999 -> 0.081746, 1e-9 stays 1e-9; null when not finite. */
export function cleanNumber(value: number | null | undefined): number | null {
  if (value === null || value === undefined || !Number.isFinite(value)) return null;
  const cleaned = Number(value.toPrecision(CLEAN_SIGNIFICANT_DIGITS));
  return Object.is(cleaned, -0) ? 0 : cleaned;
}

/**
 * Whether a quantity is a whole-number metric, judged from its values: all whole and at least
 * one beyond 1 (a count of 12, a latency of 3 ms), so an accuracy of exactly 1.0 or 0.0 keeps
 * its decimals next to 0.9500.
 */
export function isWholeNumberMetric(values: readonly (number | null | undefined)[]): boolean {
  const known = values.filter((value): value is number => typeof value === "number" && Number.isFinite(value));
  return known.length > 0 && known.every(Number.isInteger) && known.some((value) => Math.abs(value) > 1);
}

/**
 * How a quantity is written: `whole` for a whole-number metric (see isWholeNumberMetric), and its
 * `decimals` (measureDecimals) so every figure of it reads alike; measureStyle reads both.
 */
export type MeasureStyle = { whole?: boolean; decimals?: number };

/** The style of a quantity from its values: measureStyle([0.00001019, 0.0000098]) -> { whole: false, decimals: 8 }. */
export function measureStyle(values: readonly (number | null | undefined)[]): MeasureStyle {
  return { whole: isWholeNumberMetric(values), decimals: measureDecimals(values) };
}

/**
 * A measured quantity: four decimals ("0.6930"), the style's decimals, or its own below 0.001
 * ("0.00001019"), or no decimals for a whole-number metric ("12"); "—" when there is none.
 * formatScore(0.693) -> "0.6930"; formatScore(12, { whole: true }) -> "12"
 */
export function formatScore(value: number | null, style: MeasureStyle = {}): string {
  if (value === null || !Number.isFinite(value)) return "—";
  const decimals = style.decimals ?? measureDecimals([value]);
  const rounded = roundTo(value, decimals);
  return style.whole && Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(decimals);
}

/** A metric of the commit message and step output: whole numbers bare ("40"), others four decimals. */
export function formatMetric(value: number | null): string {
  return formatScore(value, { whole: value !== null && isWholeNumberMetric([value]) });
}

/**
 * A guard value or threshold, rounded like a score with trailing zeros trimmed to two decimals:
 * 0.9 -> "0.90", 0.95125 -> "0.9513", 12 -> "12.00", a whole-number metric's 12 -> "12".
 */
export function formatCompact(value: number | null, style: MeasureStyle = {}): string {
  const text = formatScore(value, style);
  return /\.\d{3,}$/.test(text) ? text.replace(/0{1,2}$/, "") : text;
}

/**
 * A signed difference, rounded once: 0.012 -> "+0.0120", a whole-number metric's 2 -> "+2";
 * null when there is none. Pass the difference of the unrounded values (see deltaBetween), and
 * the style of the scores (measureStyle): a delta has their decimals, not its own.
 */
export function formatDelta(delta: number | null, style: MeasureStyle = {}): string | null {
  const decimals = visibleDecimals(delta, style.decimals ?? MEASURE_DECIMALS);
  const rounded = roundMeasure(delta, { decimals });
  if (rounded === null) return null;
  return `${rounded >= 0 ? "+" : "-"}${formatScore(Math.abs(rounded), { ...style, decimals })}`;
}

/** Below this a difference is rounding noise of the means, written as none. */
const NEGLIGIBLE_DELTA = 1e-9;

/**
 * A difference is never written as none when there is one: one that rounds to zero at `decimals`
 * keeps two significant digits (a deterministic eval printing 0.0042130 kept -0.0000030, not "+0.0000").
 */
function visibleDecimals(delta: number | null, decimals: number): number {
  if (delta === null || !Number.isFinite(delta) || Math.abs(delta) < NEGLIGIBLE_DELTA) return decimals;
  if (Math.round(Math.abs(delta) * 10 ** decimals) !== 0) return decimals;
  return Math.min(MAX_MEASURE_DECIMALS, 1 - Math.floor(Math.log10(Math.abs(delta))));
}

/**
 * The delta of a candidate against an incumbent from their unrounded means, so the journal, the
 * step line and the decision's reason (which subtracts the same means) show one figure.
 */
export function deltaBetween(
  candidate: number | null,
  incumbent: number | null,
  style: MeasureStyle = {},
): string | null {
  return candidate === null || incumbent === null ? null : formatDelta(candidate - incumbent, style);
}

/** A signed percentage from a fraction: 0.039 -> "+3.9%". */
export function formatPercent(fraction: number | null): string {
  if (fraction === null) return "—";
  const percent = Math.round(fraction * 1000) / 10;
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)}%`;
}

/**
 * One JSON Lines record, the form of every --json output: no line breaks inside (JSON escapes
 * those in strings), numbers without binary noise (cleanNumber), so a program reads stdout line by line.
 */
export function jsonLine(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => typeof item === "number" ? cleanNumber(item) ?? item : item);
}

/** A counted noun: plural(1, "case") -> "1 case", plural(3, "case") -> "3 cases", plural(2, "run") -> "2 runs". */
export function plural(count: number, noun: string, pluralForm = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : pluralForm}`;
}
