// The markdown dashboard: the seed's layout first (title, constrained file, baseline |
// current best | iterations, guard, results table, status counts), then the chart,
// progress, noise, plateau, top changes, the lessons (kept directions, dead ends, inconclusive
// tries, per-lever history, unscored lines), crashes and the final report.
// Pure and deterministic (no clock): the same journal always renders the same text.
// Text between the report markers is carried over verbatim by the caller.
import { formatScore } from "../text/number-format.ts";
import {
  bestNote,
  costSentence,
  DASHBOARD_TITLE,
  dashboardLessons,
  deltaCell,
  descriptionCell,
  discardCount,
  gainText,
  guardCell,
  guardText,
  holdoutCell,
  holdoutSentence,
  iterationsText,
  noDeadEndsNote,
  noiseSentence,
  numberStyles,
  objectiveLine,
  overfittingWarning,
  plateauSentence,
  printableSummary,
  progressSentence,
  scoreCell,
  singleLine,
  TOP_CHANGES_SHOWN,
  visibleRows,
  workersSentence,
} from "./prose.ts";
import type { Summary } from "../experiment/summary.ts";

export const REPORT_START = "<!-- report:start -->";
export const REPORT_END = "<!-- report:end -->";

export type MarkdownOptions = {
  /** Link to the chart image, relative to the dashboard; null leaves the image out. */
  chartLink: string | null;
  /** The round's report artifact (autoresearch_report.md), included under "Final report". */
  report?: string | null;
  /** Text found between the report markers of the previous dashboard, kept verbatim. */
  preservedReport?: string | null;
  /** Show only the last N rows (stdout use; the dashboard file shows them all). */
  last?: number | null;
};

export function renderMarkdown(journalSummary: Summary, options: MarkdownOptions): string {
  const summary = printableSummary(journalSummary);
  const styles = numberStyles(summary);
  const lines: string[] = [`# ${DASHBOARD_TITLE}`, ""];
  const files = summary.constrainedFiles.map((file) => `\`${file}\``);
  lines.push(
    files.length > 1 ? `**Constrained files:** ${files.join(", ")}` : `**Constrained file:** ${files[0] ?? "—"}`,
    "",
  );
  const objective = objectiveLine(summary, styles.guard);
  if (objective) lines.push(`**${objective.replace(/: /, ":** ")}`, "");
  lines.push(
    `**Baseline:** ${formatScore(summary.start, styles.score)} | **Current best:** ${
      formatScore(summary.best.score, styles.score)
    } | **Iterations:** ${iterationsText(summary)}`,
    "",
  );
  const holdout = holdoutSentence(summary, styles.score);
  if (holdout) lines.push(`**Held-out:** ${holdout}`, "");
  const warning = overfittingWarning(summary, styles.score);
  if (warning) lines.push(`**${warning.replace(/\? /, "?** ")}`, "");
  const guard = guardText(summary, styles.guard);
  if (guard) lines.push(`**Guard:** ${guard}`, "");

  const rows = visibleRows(summary, options.last);
  if (rows.length < summary.rows.length) {
    lines.push(`_Showing the last ${rows.length} of ${summary.rows.length} iterations._`, "");
  }
  // The held-out column only when the round has a held-out set: the seed's table stays as it was.
  const heldOut = holdout !== null;
  lines.push(
    heldOut
      ? "| # | Score | Held-out | Delta | Guard | Status | Description |"
      : "| # | Score | Delta | Guard | Status | Description |",
    heldOut
      ? "|---|-------|----------|-------|-------|--------|-------------|"
      : "|---|-------|-------|-------|--------|-------------|",
  );
  for (const row of rows) {
    const held = heldOut ? ` ${holdoutCell(row, summary, styles.score)} |` : "";
    lines.push(
      `| ${row.iteration} | ${scoreCell(row, styles.score)} |${held} ${deltaCell(row, styles.score)} | ${
        guardCell(row, styles.guard)
      } | ${row.status} | ${tableCell(descriptionCell(row))} |`,
    );
  }
  lines.push("");
  const counts = summary.counts;
  lines.push(
    `**Kept:** ${counts.keep} | **Discarded:** ${
      discardCount(summary)
    } | **Crashed:** ${counts.crash} | **Guard failures:** ${counts.guard_fail}`,
    "",
  );
  if (summary.workers) lines.push(`**Workers:** ${workersSentence(summary.workers)}`, "");

  lines.push("## Progress", "");
  if (options.chartLink) lines.push(`![${summary.metric.name} per iteration](${encodeLink(options.chartLink)})`, "");
  lines.push(`**Progress:** ${progressSentence(summary, styles.score)}`, "");
  const note = bestNote(summary);
  if (note) lines.push(`_${note}_`, "");
  lines.push(`**Noise:** ${noiseSentence(summary)}`, "");
  lines.push(`**Plateau:** ${plateauSentence(summary)}`, "");
  const cost = costSentence(summary);
  if (cost) lines.push(`**Cost:** ${cost}`, "");
  if (summary.iterations.lastTimestamp) lines.push(`**Last result:** ${summary.iterations.lastTimestamp}`, "");

  lines.push("## Top changes by gain", "");
  if (summary.topChanges.length === 0) {
    lines.push("_No kept changes yet._", "");
  } else {
    lines.push(
      "| Rank | # | Gain | Score | Commit | Description |",
      "|------|---|------|-------|--------|-------------|",
    );
    summary.topChanges.slice(0, TOP_CHANGES_SHOWN).forEach((change, index) => {
      const commit = change.commit ? `\`${change.commit.slice(0, 7)}\`` : "—";
      lines.push(
        `| ${index + 1} | ${change.iteration} | ${gainText(change.gain, styles.score)} | ${
          formatScore(change.score, styles.score)
        } | ${commit} | ${tableCell(change.description)} |`,
      );
    });
    lines.push("");
  }

  for (const section of dashboardLessons(summary)) {
    lines.push(`## ${section.title}`, "");
    if (section.lines.length === 0) lines.push(`_${noDeadEndsNote(summary)}_`);
    for (const line of section.lines) lines.push(`- ${inline(line)}`);
    lines.push("");
  }

  if (summary.crashes.length > 0) {
    lines.push("## Crashes", "");
    for (const crash of summary.crashes) {
      lines.push(
        `- **#${crash.iteration}**: ${inline(crash.reason)}${
          crash.description ? ` — ${inline(crash.description)}` : ""
        }`,
      );
    }
    lines.push("");
  }

  if (options.report && options.report.trim() !== "") {
    lines.push("## Final report", "", options.report.replace(/\s+$/, ""), "");
  }
  lines.push(REPORT_START + (options.preservedReport ?? "\n") + REPORT_END, "");
  return lines.join("\n");
}

/**
 * The text between the report markers of an existing dashboard, exactly as written
 * (leading and trailing newlines included), or null when there are no markers.
 * An unclosed start marker keeps everything after it: losing a report is worse.
 */
export function extractPreservedReport(dashboard: string): string | null {
  const start = dashboard.indexOf(REPORT_START);
  if (start < 0) return null;
  const from = start + REPORT_START.length;
  const end = dashboard.indexOf(REPORT_END, from);
  return end < 0 ? dashboard.slice(from) : dashboard.slice(from, end);
}

/** A table cell on one line with pipes escaped. */
function tableCell(text: string): string {
  return singleLine(text).replace(/\|/g, "\\|");
}

function inline(text: string): string {
  return singleLine(text);
}

function encodeLink(link: string): string {
  return link.replace(/ /g, "%20").replace(/\(/g, "%28").replace(/\)/g, "%29");
}
