// How the kit spells numbers: scores with four decimals like the seed ("0.6930"),
// guard values and thresholds compactly ("0.90", "0.9512"), signed deltas (the
// journal's "delta" field and the dashboard's gains) and percentages. It parses nothing.

/** A score the seed's way: four decimals, "—" when there is none. formatScore(0.693) -> "0.6930" */
export function formatScore(value: number | null): string {
  return value === null ? "—" : value.toFixed(4);
}

/** Two to four decimals, trailing zeros trimmed: 0.9 -> "0.90", 0.95125 -> "0.9513", 12 -> "12.00". */
export function formatCompact(value: number | null): string {
  if (value === null) return "—";
  const text = value.toFixed(4).replace(/0{1,2}$/, "");
  return text;
}

/** A signed difference the seed's way, four decimals: 0.012 -> "+0.0120"; null when there is none. */
export function formatDelta(delta: number | null): string | null {
  if (delta === null || !Number.isFinite(delta)) return null;
  const rounded = Math.abs(delta) < 5e-5 ? 0 : delta;
  return `${rounded >= 0 ? "+" : "-"}${Math.abs(rounded).toFixed(4)}`;
}

/** A signed percentage from a fraction: 0.039 -> "+3.9%". */
export function formatPercent(fraction: number | null): string {
  if (fraction === null) return "—";
  const percent = Math.round(fraction * 1000) / 10;
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)}%`;
}
