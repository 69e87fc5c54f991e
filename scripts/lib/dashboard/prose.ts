// The sentences every dashboard format shares (markdown, terminal, HTML), as plain
// text built from a Summary: the header figures, guard, progress, noise, plateau,
// dead ends and crashes. Pure; no markup, no colour — each renderer adds its own.
import { stripControlCharacters } from "../experiment/journal.ts";
import { formatCompact, formatDelta, formatPercent, formatScore } from "../text/number-format.ts";
import type { DeadEndGroup, IterationRow, Summary } from "../experiment/summary.ts";

export const DASHBOARD_TITLE = "Autoresearch Dashboard";
export const TOP_CHANGES_SHOWN = 10;
export const DEAD_END_GROUPS_SHOWN = 15;
const DEAD_END_EXAMPLES_SHOWN = 3;

/**
 * The summary with every string passed through stripControlCharacters: journal text
 * (descriptions, reasons, metric names, commits) may hold terminal escapes. Every
 * renderer for people (markdown, text, HTML, the chart) starts here; JSON stays faithful.
 */
export function printableSummary(summary: Summary): Summary {
  return printable(summary);
}

function printable<T>(value: T): T {
  if (typeof value === "string") return stripControlCharacters(value) as T;
  if (Array.isArray(value)) return value.map(printable) as T;
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, printable(item)])) as T;
  }
  return value;
}

/** "14/30", or "14" when the budget is unknown. */
export function iterationsText(summary: Summary): string {
  const { done, budget } = summary.iterations;
  return budget === null ? String(done) : `${done}/${budget}`;
}

/** "mrr >= 0.90 (current: 0.95)" — the seed's guard line without its label. */
export function guardText(summary: Summary): string | null {
  const guard = summary.guard;
  if (!guard) return null;
  return `${guard.metric} ${guard.op} ${formatCompact(guard.threshold)} (current: ${formatCompact(guard.current)})`;
}

/** The seed's guard column: "0.95 PASS", "0.88 FAIL", "0.95" or "—". */
export function guardCell(row: IterationRow): string {
  if (row.guardScore === null) return "—";
  const verdict = row.guardPass === null ? "" : row.guardPass ? " PASS" : " FAIL";
  return `${formatCompact(row.guardScore)}${verdict}`;
}

export function scoreCell(row: IterationRow): string {
  return row.score === null ? "—" : formatScore(row.score);
}

export function deltaCell(row: IterationRow): string {
  return row.delta ?? "—";
}

/** "0.6930 → 0.7200 (+0.0270, +3.9%) in 3 kept changes; precision@12, higher is better." */
export function progressSentence(summary: Summary): string {
  const better = summary.metric.direction === "min" ? "lower is better" : "higher is better";
  const metric = `${summary.metric.name}, ${better}`;
  if (summary.counts.keep === 0 || summary.best.iteration === null) {
    return `no kept change yet: the current best is the baseline (${formatScore(summary.start)}); ${metric}.`;
  }
  const { text, relative } = summary.improvement;
  const changes = summary.kept.length === 1 ? "1 kept change" : `${summary.kept.length} kept changes`;
  return `${formatScore(summary.start)} → ${formatScore(summary.best.score)} (${text ?? "—"}, ${
    formatPercent(relative)
  }) in ${changes}; ${metric}.`;
}

/** Why "Current best" may differ from the highest score in the table; null when it cannot. */
export function bestNote(summary: Summary): string | null {
  const best = summary.best;
  if (best.iteration === null) return null;
  const where = `#${best.iteration}${best.commit ? `, ${best.commit.slice(0, 7)}` : ""}`;
  if (best.remeasured) {
    return `The current best is the incumbent (${where}) re-measured: the mean of ${best.runs} fresh run${
      best.runs === 1 ? "" : "s"
    }, not the max of noisy draws.`;
  }
  if (best.runs > 1) return `The current best is the incumbent (${where}): the mean of its ${best.runs} runs.`;
  return null;
}

/** "sd 0.0040 over 3 baseline runs; minimum detectable effect 0.0110; not deterministic". */
export function noiseSentence(summary: Summary): string {
  const noise = summary.noise;
  const minDelta = noise.minDelta === null ? "" : `; min delta ${formatCompact(noise.minDelta)}`;
  const runs = `${noise.runs} baseline run${noise.runs === 1 ? "" : "s"}`;
  if (noise.deterministic === true) return `none: deterministic eval (${runs} identical)${minDelta}`;
  if (noise.sd === null && noise.minDetectableEffect === null) {
    return `not measured (no baseline runs recorded; baseline.ts measures it)${minDelta}`;
  }
  const parts = [
    noise.sd === null ? "sd unknown" : `sd ${formatScore(noise.sd)} over ${runs}`,
    noise.minDetectableEffect === null
      ? "minimum detectable effect unknown"
      : `minimum detectable effect ${formatScore(noise.minDetectableEffect)}`,
    noise.deterministic === false ? "not deterministic" : "determinism unknown",
  ];
  return parts.join("; ") + minDelta;
}

/** Iterations since the last keep, with the seed's 5+ warning when it applies. */
export function plateauSentence(summary: Summary): string {
  const { sinceLastKeep, lastKeepIteration, reached, threshold } = summary.plateau;
  if (summary.iterations.done === 0) return "no iterations yet.";
  const warning = reached
    ? ` ${threshold}+ iterations without a keep suggests the ceiling is architectural, not parametric: change the approach (or the constrained file) rather than the numbers.`
    : "";
  const plural = sinceLastKeep === 1 ? "iteration" : "iterations";
  if (lastKeepIteration === null) return `no keep in ${sinceLastKeep} ${plural}.${warning}`;
  if (sinceLastKeep === 0) return `the latest iteration (#${lastKeepIteration}) was a keep.`;
  return `${sinceLastKeep} ${plural} since the last keep (#${lastKeepIteration}).${warning}`;
}

/** "3 tries (2 discard, 1 guard fail, related keep #1)" */
export function deadEndTally(group: DeadEndGroup): string {
  const parts: string[] = [];
  if (group.statuses.discard > 0) parts.push(`${group.statuses.discard} discard`);
  if (group.statuses.guard_fail > 0) parts.push(`${group.statuses.guard_fail} guard fail`);
  if (group.keptIterations.length > 0) parts.push(`related keep ${iterationList(group.keptIterations)}`);
  return `${group.count} ${group.count === 1 ? "try" : "tries"} (${parts.join(", ")})`;
}

/** The iterations of a group, e.g. "#2, #5, #8". */
export function iterationList(iterations: number[]): string {
  return iterations.map((iteration) => `#${iteration}`).join(", ");
}

/** Up to three distinct descriptions, then how many more. */
export function deadEndExamples(group: DeadEndGroup): { shown: string[]; more: number } {
  return {
    shown: group.descriptions.slice(0, DEAD_END_EXAMPLES_SHOWN),
    more: Math.max(0, group.descriptions.length - DEAD_END_EXAMPLES_SHOWN),
  };
}

export function gainText(gain: number | null): string {
  return formatDelta(gain) ?? "—";
}

/** The rows to show: all, or the last `last` of them. */
export function visibleRows(summary: Summary, last?: number | null): IterationRow[] {
  if (last === undefined || last === null || last <= 0 || last >= summary.rows.length) return summary.rows;
  return summary.rows.slice(summary.rows.length - last);
}

/** One line of text per description: journals written by hand may hold newlines. */
export function singleLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}
