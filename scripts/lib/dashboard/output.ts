// What dashboard.ts prints on stdout for each --format (text, md, json, html, and the tsv
// and csv exports), and when colour and the terminal layout apply. The JSON object is the
// summary plus its rows, for jq and notebooks. Pure apart from reading the stdout stream's properties.
import { displayPath } from "../files/paths.ts";
import type { RenderedDashboard } from "./files.ts";
import { renderResultsCsv, renderResultsTsv } from "./exports.ts";
import { renderHtml } from "./html.ts";
import { renderMarkdown } from "./markdown.ts";
import { visibleRows } from "./prose.ts";
import { renderText } from "./text.ts";
import type { Format } from "./formats.ts";
import { jsonLine } from "../text/number-format.ts";

export const DASHBOARD_JSON_VERSION = 1;
/** A terminal shows the latest rows; the dashboard file and other formats show all. */
export const TEXT_DEFAULT_LAST = 30;

export type OutputOptions = { format: Format; last: number | null; color: boolean; width?: number; cwd: string };

/** Text on a terminal, markdown into a pipe or file. */
export function defaultFormat(stdout: { isTTY?: boolean } = process.stdout): Format {
  return stdout.isTTY ? "text" : "md";
}

/** Colour on stdout only for text on a terminal, and never with NO_COLOR or TERM=dumb (FORCE_COLOR forces it). */
export function stdoutWantsColor(format: Format, stdout: { isTTY?: boolean } = process.stdout): boolean {
  if (format !== "text") return false;
  const env = process.env;
  if ("NO_COLOR" in env && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0") return true;
  return Boolean(stdout.isTTY) && env.TERM !== "dumb";
}

export function renderForStdout(rendered: RenderedDashboard, options: OutputOptions): string {
  const { summary } = rendered;
  if (options.format === "json") return jsonLine(dashboardJson(rendered, options)) + "\n";
  if (options.format === "tsv") return renderResultsTsv(summary, rendered.journal, { last: options.last });
  if (options.format === "csv") return renderResultsCsv(summary, rendered.journal, { last: options.last });
  if (options.format === "html") {
    return renderHtml(summary, {
      svg: rendered.svg,
      report: rendered.report,
      preservedReport: rendered.preservedReport,
      last: options.last,
    });
  }
  if (options.format === "md") {
    if (options.last === null) return rendered.markdown;
    return renderMarkdown(summary, {
      chartLink: rendered.chartLink,
      report: rendered.report,
      preservedReport: rendered.preservedReport,
      last: options.last,
    });
  }
  return renderText(summary, {
    color: options.color,
    width: options.width,
    last: options.last ?? TEXT_DEFAULT_LAST,
    reportFile: rendered.report !== null && rendered.reportPath ? displayPath(rendered.reportPath, options.cwd) : null,
  });
}

/** One JSON object: the summary's figures, the (last N) rows, what is missing, and the files. */
export function dashboardJson(rendered: RenderedDashboard, options: { last: number | null; cwd: string }) {
  const { rows: _rows, limitations, ...figures } = rendered.summary;
  return {
    version: DASHBOARD_JSON_VERSION,
    summary: figures,
    rows: visibleRows(rendered.summary, options.last),
    limitations,
    warnings: rendered.journal.warnings,
    files: {
      journal: displayPath(rendered.journalPath, options.cwd),
      dashboard: displayPath(rendered.dashboardPath, options.cwd),
      chart: displayPath(rendered.chartPath, options.cwd),
      report: rendered.report !== null && rendered.reportPath ? displayPath(rendered.reportPath, options.cwd) : null,
    },
  };
}
