// The sentences every dashboard format shares (markdown, terminal, HTML), as plain
// text built from a Summary: the header figures, guard, progress, noise, plateau,
// the lessons (kept directions, dead ends, inconclusive and unscored tries) and crashes, with the
// journal's numbers written one way throughout (numberStyles). Pure; no markup, no colour — each renderer adds its own.
import { stripControlCharacters } from "../experiment/journal.ts";
import {
  formatCompact,
  formatDelta,
  formatPercent,
  formatScore,
  type MeasureStyle,
  measureStyle,
} from "../text/number-format.ts";
import type { IterationRow, Summary } from "../experiment/summary.ts";
import { isSmaller, sizeChangeText } from "../iterate/file-size.ts";
import { type LessonSection, lessonSections, SECTION_TITLES } from "../experiment/lessons.ts";
import { describeObjective } from "../experiment/objective.ts";

export const DASHBOARD_TITLE = "Autoresearch Dashboard";
export const TOP_CHANGES_SHOWN = 10;

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

/** How a journal's scores and guard values are written (see numberStyles). */
export type NumberStyles = { score: MeasureStyle; guard: MeasureStyle };

/**
 * How one journal's figures are written, decided once from all of them so the header, the table
 * and the sentences agree: a whole-number score (a count of failures) as "10" and "-2", a
 * whole-number guard as "6". The score's style is judged from every score the dashboard shows
 * (iterations, baseline, best, kept changes), the guard's from every guard value.
 */
export function numberStyles(summary: Summary): NumberStyles {
  const scores = [
    summary.start,
    summary.best.score,
    ...summary.rows.map((row) => row.score),
    ...summary.kept.flatMap((change) => [change.score, change.selectedScore, change.previous]),
    ...(summary.holdout?.points.map((point) => point.holdoutScore) ?? []),
  ];
  const guards = [summary.guard?.current, ...summary.rows.map((row) => row.guardScore)];
  return { score: measureStyle(scores), guard: measureStyle(guards) };
}

/** "14/30", or "14" when the budget is unknown. */
export function iterationsText(summary: Summary): string {
  const { done, budget } = summary.iterations;
  return budget === null ? String(done) : `${done}/${budget}`;
}

/** "mrr >= 0.90 (current: 0.95)" — the seed's guard line without its label; a relative guard resolved, "(baseline 0.80 -0.02; current: 0.81)". */
export function guardText(summary: Summary, style: MeasureStyle = {}): string | null {
  const guard = summary.guard;
  if (!guard) return null;
  return `${guard.metric} ${guard.op} ${formatCompact(guard.threshold, style)} (${
    guard.basis ? `${guard.basis}; ` : ""
  }current: ${formatCompact(guard.current, style)})`;
}

/**
 * "Round 2 objective: precision@3 (max), guard mrr>=0.8, tiebreak ndcg@10 (max)": each round's
 * objective, which next-round may change. Shown from round 2 on, for a round 1 that later rounds
 * followed, and with tiebreaks; null otherwise (a lone round's header already names its metric).
 */
export function objectiveLine(summary: Summary, style: MeasureStyle = {}): string | null {
  const tiebreaks = summary.tiebreaks ?? [];
  const round = summary.round;
  if (round === null) return tiebreaks.length > 0 ? `Objective: ${objectiveOf(summary, style)}` : null;
  const followed = summary.currentRound !== null && summary.currentRound !== undefined && summary.currentRound > round;
  if (round === 1 && !followed && tiebreaks.length === 0) return null;
  return `Round ${round} objective: ${objectiveOf(summary, style)}`;
}

function objectiveOf(summary: Summary, style: MeasureStyle): string {
  const guard = summary.guard;
  return describeObjective({
    metric: summary.metric.name,
    direction: summary.metric.direction,
    guard: guard
      ? `${guard.metric}${guard.op}${formatCompact(guard.threshold, style)}${guard.basis ? ` (${guard.basis})` : ""}`
      : null,
    tiebreaks: summary.tiebreaks ?? [],
  });
}

/** The seed's guard column: "0.95 PASS", "0.88 FAIL", "0.95" or "—". */
export function guardCell(row: IterationRow, style: MeasureStyle = {}): string {
  if (row.guardScore === null) return "—";
  const verdict = row.guardPass === null ? "" : row.guardPass ? " PASS" : " FAIL";
  return `${formatCompact(row.guardScore, style)}${verdict}`;
}

export function scoreCell(row: IterationRow, style: MeasureStyle = {}): string {
  return row.score === null ? "—" : formatScore(row.score, style);
}

/**
 * The delta as the journal recorded it. For a whole-number score a recorded "-2.0000" (a journal
 * written before counts lost their decimals, or computed without the style) is written "-2";
 * any other recorded text is shown as it is.
 */
export function deltaCell(row: IterationRow, style: MeasureStyle = {}): string {
  if (row.delta === null) return "—";
  const recorded = Number(row.delta);
  if (style.whole && /^[+-]?\d+(\.0+)?$/.test(row.delta) && Number.isInteger(recorded)) {
    return formatDelta(recorded, style) ?? row.delta;
  }
  return row.delta;
}

/**
 * "baseline 0.5800 → now 0.6000 (eval set 0.6000 → 0.7200)": the held-out score of the baseline and
 * of the latest keep measured on it, beside their eval-set scores; null without held-out scores.
 */
export function holdoutSentence(summary: Summary, style: MeasureStyle = {}): string | null {
  const holdout = summary.holdout;
  if (!holdout?.latest) return null;
  const start = holdout.baseline;
  const now = holdout.latest;
  const where = now.status === "keep" ? ` at #${now.iteration}` : "";
  return `baseline ${start ? formatScore(start.holdoutScore, style) : "—"} → now ${
    formatScore(now.holdoutScore, style)
  }${where} (eval set ${start ? formatScore(start.evalScore, style) : "—"} → ${formatScore(now.evalScore, style)})`;
}

/**
 * The overfitting warning, with the command that acts on it (in backticks); null unless the
 * held-out gain fell behind the eval-set gain by more than their combined noise.
 */
export function overfittingWarning(summary: Summary, style: MeasureStyle = {}): string | null {
  const holdout = summary.holdout;
  if (!holdout?.behind || holdout.combinedNoise === null) return null;
  const best = holdout.best;
  const commit = best?.commit ? `, ${best.commit.slice(0, 7)}` : "";
  const from = !best
    ? ""
    : best.status === "baseline"
    ? ` starts the next round from the baseline${commit}, whose held-out score is still the best`
    : ` starts the next round from #${best.iteration}${commit}, the keep with the best held-out score (${
      formatScore(best.holdoutScore, style)
    })`;
  return `Overfitting? The eval-set gain (${formatDelta(holdout.evalGain, style)}) is ahead of the held-out gain (${
    formatDelta(holdout.holdoutGain, style)
  }) by more than their combined noise (${
    formatScore(holdout.combinedNoise)
  }): the kept changes may be fitted to the eval's cases rather than to unseen ones. \`next-round.ts --from-best-holdout\`${from}.`;
}

/** A keep's held-out score for the table; "—" for a line not measured on the held-out set. */
export function holdoutCell(row: IterationRow, summary: Summary, style: MeasureStyle = {}): string {
  if (row.status !== "keep") return "—";
  const point = summary.holdout?.points.find((candidate) =>
    candidate.status === "keep" && candidate.iteration === row.iteration
  );
  return point ? formatScore(point.holdoutScore, style) : "—";
}

/** "0.6930 → 0.7200 (+0.0270, +3.9%) in 3 kept changes; precision@12, higher is better." */
export function progressSentence(summary: Summary, style: MeasureStyle = {}): string {
  const better = summary.metric.direction === "min" ? "lower is better" : "higher is better";
  const metric = `${summary.metric.name}, ${better}`;
  if (summary.counts.keep === 0 || summary.best.iteration === null) {
    return `no kept change yet: the current best is the baseline (${formatScore(summary.start, style)}); ${metric}.`;
  }
  const { absolute, relative } = summary.improvement;
  // The summary's text is written without the journal's style; the figure is the same difference.
  const text = style.whole || style.decimals !== undefined ? formatDelta(absolute, style) : summary.improvement.text;
  const changes = summary.kept.length === 1 ? "1 kept change" : `${summary.kept.length} kept changes`;
  return `${formatScore(summary.start, style)} → ${formatScore(summary.best.score, style)} (${text ?? "—"}, ${
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

/**
 * "$1.20 and 4,350 tokens (3,450 in, 900 out) over 3 iterations; agent 1m05s, eval 12s; per unit of
 * kept gain (0.4123 in all): $2.91, 3m08s, 10,551 tokens". Null when the journal records no cost.
 */
export function costSentence(summary: Summary): string | null {
  const cost = summary.cost;
  if (!cost) return null;
  const count = (value: number) => Math.round(value).toLocaleString("en-US");
  const spent: string[] = [];
  if (cost.cost_usd !== null) {
    const partial = cost.priced_iterations < cost.iterations
      ? ` (${cost.priced_iterations} of ${cost.iterations} iterations priced)`
      : "";
    spent.push(`${usdText(cost.cost_usd)}${partial}`);
  }
  if (cost.tokens_in !== null || cost.tokens_out !== null) {
    const tokensIn = cost.tokens_in ?? 0;
    const tokensOut = cost.tokens_out ?? 0;
    spent.push(`${count(tokensIn + tokensOut)} tokens (${count(tokensIn)} in, ${count(tokensOut)} out)`);
  }
  const head = `${spent.length ? `${spent.join(" and ")} over ` : ""}${cost.iterations} iteration${
    cost.iterations === 1 ? "" : "s"
  }; agent ${secondsText(cost.agent_seconds)}, eval ${secondsText(cost.eval_seconds)}`;
  if (cost.kept_gain === null) return `${head}; no kept gain yet.`;
  const per = [
    ...(cost.usd_per_gain !== null ? [usdText(cost.usd_per_gain)] : []),
    ...(cost.seconds_per_gain !== null ? [secondsText(cost.seconds_per_gain)] : []),
    ...(cost.tokens_per_gain !== null ? [`${count(cost.tokens_per_gain)} tokens`] : []),
  ];
  return `${head}; per unit of kept gain (${formatCompact(cost.kept_gain)} in all): ${per.join(", ")}.`;
}

function usdText(usd: number): string {
  return usd >= 0.995 || usd === 0 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(2)}`;
}

function secondsText(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole}s`;
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
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

/**
 * The lessons as every format shows them: the same sections and lines (lessons.ts writes them),
 * with the dead-end section always there (empty: none yet), so a reader sees it was checked.
 */
export function dashboardLessons(summary: Summary): LessonSection[] {
  const sections = lessonSections(summary.lessons);
  if (sections.some((section) => section.key === "deadEnds")) return sections;
  const empty: LessonSection = { key: "deadEnds", title: SECTION_TITLES.deadEnds, lines: [] };
  const after = sections.findIndex((section) => section.key !== "kept");
  return after < 0 ? [...sections, empty] : [...sections.slice(0, after), empty, ...sections.slice(after)];
}

/** What an empty dead-end section says: none yet, or none can be named when no iteration recorded its diff. */
export function noDeadEndsNote(summary: Summary): string {
  const { levers, functions, otherLines, unknown } = summary.lessons;
  if (levers.length === 0 && functions.length === 0 && otherLines.length === 0 && unknown.length > 0) {
    return "None can be named: no iteration recorded its diff, so no lever or function is marked (see the unknown group).";
  }
  return "None yet: no lever direction or function lost twice, conclusively, without a keep.";
}

/**
 * What a tiebreak or a simplification adds to the description: " (-12 lines, -40 tokens;
 * simplification)", " (kept on tiebreak precision@3)"; nothing for a plain row.
 */
function keepRuleNote(row: IterationRow): string {
  const parts: string[] = [];
  if (row.simplification) {
    const judged = row.keptBy === "simplification"
      ? "simplification"
      : isSmaller(row.simplification)
      ? "simplification asked"
      : "simplification asked, not smaller";
    parts.push(`${sizeChangeText(row.simplification)}; ${judged}`);
  }
  if (row.keptBy?.startsWith("tiebreak")) parts.push(`kept on ${row.keptBy}`);
  return parts.length ? ` (${parts.join("; ")})` : "";
}

/** The table's description: an unscored line says why first, so it is not read as a measured loss. */
export function descriptionCell(row: IterationRow): string {
  const description = singleLine(row.description) + keepRuleNote(row);
  if (row.unscored === null) return description;
  return `not scored: ${row.unscored}${description ? ` — ${description}` : ""}`;
}

/** "7" or "7 (2 not scored)": discards that had no eval run are not losses. */
export function discardCount(summary: Summary): string {
  const unscored = summary.lessons.unscored.length;
  return unscored > 0 ? `${summary.counts.discard} (${unscored} not scored)` : String(summary.counts.discard);
}

export function gainText(gain: number | null, style: MeasureStyle = {}): string {
  return formatDelta(gain, style) ?? "—";
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

/** "w1 5 candidates (2 kept, 1 carried over) · w2 4 candidates (1 kept, 1 conflict)": each parallel worker's share. */
export function workersSentence(workers: NonNullable<Summary["workers"]>): string {
  return workers.map((activity) => {
    const parts = [`${activity.keep} kept`];
    if (activity.carriedOver) parts.push(`${activity.carriedOver} carried over`);
    if (activity.conflicts) parts.push(`${activity.conflicts} conflict${activity.conflicts === 1 ? "" : "s"}`);
    if (activity.crash) parts.push(`${activity.crash} crashed`);
    return `${activity.worker} ${activity.candidates} candidate${activity.candidates === 1 ? "" : "s"} (${
      parts.join(", ")
    })`;
  }).join(" · ");
}
