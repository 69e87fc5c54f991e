// The dashboard's files: where they live beside a journal, and writing them —
// `autoresearch_dashboard.md` (atomic, carrying over the text between the report
// markers) and its chart `autoresearch_progress.svg` — in one synchronous call that
// iterate.ts makes after every iteration. It never writes the journal.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, relative } from "node:path";
import { chartInputFromSummary, renderProgressChart } from "./chart-svg.ts";
import { extractPreservedReport, renderMarkdown } from "./markdown.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import type { Experiment } from "../experiment/schema.ts";
import { siblingArtifact } from "../experiment/artifacts.ts";
import { displayPath, toPosix } from "../files/paths.ts";
import { whyNotWritable, writeFileAtomic } from "../files/atomic.ts";
import { type Journal, parseJournal, readJournalText } from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { summarizeJournal, type Summary } from "../experiment/summary.ts";

export { chartInputFromSummary } from "./chart-svg.ts";

export type DashboardFiles = {
  journalPath: string;
  dashboardPath: string;
  /** Default: beside the dashboard, "dashboard" -> "progress" with .svg (autoresearch_progress_2.svg). */
  chartPath?: string;
  /** The round's final report; default: beside the dashboard, "dashboard" -> "report". Null: none. */
  reportPath?: string | null;
  experiment?: Experiment | null;
  round?: number | null;
  /** An already-parsed journal, to skip reading it again. */
  journal?: Journal;
};

export type RenderedDashboard = {
  summary: Summary;
  journal: Journal;
  markdown: string;
  svg: string;
  journalPath: string;
  dashboardPath: string;
  /** The chart as the dashboard links to it (relative to the dashboard's folder). */
  chartLink: string;
  chartPath: string;
  reportPath: string | null;
  /** The report artifact's text, when the file exists. */
  report: string | null;
  /** Text between the report markers in the previous dashboard. */
  preservedReport: string | null;
};

/** Render the dashboard and its chart without writing anything. */
export function buildDashboard(files: DashboardFiles): RenderedDashboard {
  const journal = files.journal ?? readJournalOrExplain(files.journalPath);
  const summary = summarizeJournal(journal, { experiment: files.experiment ?? null, round: files.round ?? null });
  const chartPath = files.chartPath ?? siblingArtifact(files.dashboardPath, "progress", ".svg");
  const reportPath = files.reportPath === undefined
    ? siblingArtifact(files.dashboardPath, "report", ".md")
    : files.reportPath;
  const report = reportPath !== null ? readTextIfFile(reportPath) : null;
  const previous = readTextIfFile(files.dashboardPath);
  const preservedReport = previous !== null ? extractPreservedReport(previous) : null;
  const svg = renderProgressChart(chartInputFromSummary(summary, journal));
  const chartLink = toPosix(relative(dirname(files.dashboardPath), chartPath));
  const markdown = renderMarkdown(summary, { chartLink, report, preservedReport });
  return {
    summary,
    journal,
    markdown,
    svg,
    journalPath: files.journalPath,
    dashboardPath: files.dashboardPath,
    chartLink,
    chartPath,
    reportPath,
    report,
    preservedReport,
  };
}

/** Render and write the chart, then the dashboard that links to it; both atomically, or neither when one cannot be written. */
export function writeDashboard(files: DashboardFiles): RenderedDashboard {
  const rendered = buildDashboard(files);
  for (const path of [rendered.chartPath, rendered.dashboardPath]) {
    const problem = whyNotWritable(path, { replace: true });
    if (problem) {
      const shown = displayPath(path);
      throw new CliError(
        `Cannot write "${shown}": ${problem}. Move it aside or pass --output PATH (--no-write only prints), and re-run.`,
        "E_DASHBOARD_NOT_WRITABLE",
        EXIT.USAGE,
      );
    }
  }
  writeFileAtomic(rendered.chartPath, rendered.svg);
  writeFileAtomic(rendered.dashboardPath, rendered.markdown);
  return rendered;
}

/** A file's text, or null when there is no file there (a folder in its place is reported when writing). */
function readTextIfFile(path: string): string | null {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    return null;
  }
  if (!isFile) return null;
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    // Re-rendering without it would drop the report kept in it.
    const shown = displayPath(path);
    throw new CliError(
      `Cannot read "${shown}" (${
        (error as NodeJS.ErrnoException).code ?? (error as Error).message
      }). Check its permissions (ls -l "${shown}") and re-run.`,
      "E_UNREADABLE",
      EXIT.USAGE,
    );
  }
}

/** A journal worth rendering: binary content, or text without one config or result line, is refused. */
function readJournalOrExplain(path: string): Journal {
  const shown = displayPath(path);
  if (!existsSync(path)) {
    throw new CliError(
      `No journal at "${shown}". Run the baseline first (${kitCommand("baseline")}), or pass --journal PATH.`,
      "E_NO_JOURNAL",
      EXIT.USAGE,
    );
  }
  const text = readJournalText(path, shown);
  const next = `Pass the round's journal (--journal autoresearch.jsonl), or run the baseline to start one: ${
    kitCommand("baseline")
  }`;
  if (text.includes("\0")) {
    throw new CliError(
      `"${shown}" is a binary file, not a journal of JSON lines. ${next}`,
      "E_NOT_A_JOURNAL",
      EXIT.USAGE,
    );
  }
  const journal = parseJournal(text, basename(path));
  if (journal.config === null && journal.results.length === 0) {
    const what = text.trim() === "" ? "is empty" : "has no config or result line";
    throw new CliError(
      `"${shown}" ${what}, so it is not an autoresearch journal. ${next}`,
      "E_NOT_A_JOURNAL",
      EXIT.USAGE,
    );
  }
  return journal;
}
