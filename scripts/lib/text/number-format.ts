// How the dashboard spells numbers: scores with four decimals like the seed
// ("0.6930"), guard values and thresholds compactly ("0.90", "0.9512"), signed
// gains and percentages. Display only: nothing here parses or rounds stored data.

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

/** A signed difference with four decimals: 0.012 -> "+0.0120". */
export function formatSigned(value: number | null): string {
  if (value === null) return "—";
  const rounded = Math.abs(value) < 5e-5 ? 0 : value;
  return `${rounded >= 0 ? "+" : "-"}${Math.abs(rounded).toFixed(4)}`;
}

/** A signed percentage from a fraction: 0.039 -> "+3.9%". */
export function formatPercent(fraction: number | null): string {
  if (fraction === null) return "—";
  const percent = Math.round(fraction * 1000) / 10;
  return `${percent >= 0 ? "+" : ""}${percent.toFixed(1)}%`;
}
