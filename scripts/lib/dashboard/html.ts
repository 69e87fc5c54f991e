// The dashboard as one self-contained HTML page (inline SVG chart, inline CSS, no
// scripts or external resources) for a browser or IPython.display.HTML, and its parts
// (title, body, page) for the live page of serve.ts. Reports are shown as preformatted
// text: this module does not render markdown.
import { escapeXml } from "./chart-svg.ts";
import { formatScore } from "../text/number-format.ts";
import {
  bestNote,
  costSentence,
  DASHBOARD_TITLE,
  dashboardLessons,
  deltaCell,
  descriptionCell,
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

export type HtmlOptions = {
  svg: string;
  report?: string | null;
  preservedReport?: string | null;
  last?: number | null;
};

/** Every rule is scoped to the page's wrapper, so IPython.display.HTML restyles nothing else in a notebook. */
const PAGE_CLASS = "ark-dashboard";
const PAGE_RULES: [selectors: string, declarations: string][] = [
  ["&", "font-family:sans-serif;margin:24px auto;max-width:1100px;padding:0 16px;color:#222;line-height:1.45"],
  ["h1", "font-size:24px;margin-bottom:8px"],
  ["h2", "font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px"],
  [".figures", "display:flex;flex-wrap:wrap;gap:12px;margin:12px 0"],
  [".figure", "border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px"],
  [".figure b", "display:block;font-size:20px"],
  ["table", "border-collapse:collapse;margin:8px 0;font-size:14px"],
  ["th,td", "border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top"],
  ["th", "background:#f5f5f5"],
  ["td.num", "text-align:right;font-variant-numeric:tabular-nums"],
  ["tr.keep td.status", "color:#2e7d32;font-weight:bold"],
  ["tr.crash td.status", "color:#c62828"],
  ["tr.guard_fail td.status", "color:#ef6c00"],
  ["tr.discard td.status", "color:#777"],
  [".chart svg", "width:100%;max-width:1000px;height:auto"],
  [".note", "color:#555"],
  [".warn", "color:#b45309"],
  ["pre", "background:#f7f7f7;border:1px solid #e5e5e5;padding:12px;white-space:pre-wrap"],
  ["code", "background:#f3f3f3;padding:0 3px"],
];
const PAGE_STYLE = PAGE_RULES.map(([selectors, declarations]) => {
  const scoped = selectors.split(",").map((selector) =>
    selector === "&" ? `.${PAGE_CLASS}` : `.${PAGE_CLASS} ${selector}`
  );
  return `${scoped.join(",")}{${declarations}}`;
}).join("\n");

export function renderHtml(journalSummary: Summary, options: HtmlOptions): string {
  return htmlPage({ title: htmlTitle(journalSummary), body: renderHtmlBody(journalSummary, options) });
}

/** The page's title: "Autoresearch Dashboard: score". */
export function htmlTitle(journalSummary: Summary): string {
  return `${DASHBOARD_TITLE}: ${printableSummary(journalSummary).metric.name}`;
}

/** A whole page around a body from renderHtmlBody (or any element of PAGE_CLASS); `script` goes last in it, as it is. */
export function htmlPage(page: { title: string; body: string; script?: string }): string {
  const html = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">'];
  html.push(`<title>${text(page.title)}</title>`, `<style>${PAGE_STYLE}</style>`, "</head>", "<body>", page.body);
  if (page.script) html.push(page.script);
  html.push("</body>", "</html>");
  return html.join("\n") + "\n";
}

/** A body with the dashboard's styles holding only a heading and a note (both escaped): a page with nothing to show yet. */
export function htmlSection(content: { heading: string; note: string }): string {
  return `<div class="${PAGE_CLASS}">\n<h1>${text(content.heading)}</h1>\n<p class="note">${
    text(content.note)
  }</p>\n</div>`;
}

/** The dashboard itself: one <div class="ark-dashboard"> (figures, chart, tables, reports), no page around it. */
export function renderHtmlBody(journalSummary: Summary, options: HtmlOptions): string {
  const summary = printableSummary(journalSummary);
  const styles = numberStyles(summary);
  const html: string[] = [`<div class="${PAGE_CLASS}">`];
  html.push(`<h1>${text(DASHBOARD_TITLE)}</h1>`);
  const files = summary.constrainedFiles.map((file) => `<code>${text(file)}</code>`).join(", ") || "—";
  html.push(
    `<p><b>Constrained file${summary.constrainedFiles.length > 1 ? "s" : ""}:</b> ${files}${
      summary.round === null ? "" : ` · round ${summary.round}`
    }</p>`,
  );
  const objective = objectiveLine(summary, styles.guard);
  if (objective) {
    html.push(
      `<p><b>${text(objective.slice(0, objective.indexOf(": ") + 1))}</b>${
        text(objective.slice(objective.indexOf(": ") + 1))
      }</p>`,
    );
  }
  html.push('<div class="figures">');
  html.push(figure("Baseline", formatScore(summary.start, styles.score)));
  html.push(figure("Current best", formatScore(summary.best.score, styles.score)));
  html.push(figure("Iterations", iterationsText(summary)));
  const counts = summary.counts;
  html.push(figure("Kept / discarded", `${counts.keep} / ${counts.discard}`));
  html.push(figure("Crashed / guard fails", `${counts.crash} / ${counts.guard_fail}`));
  html.push("</div>");
  if (summary.workers) html.push(`<p><b>Workers:</b> ${text(workersSentence(summary.workers))}</p>`);
  const holdout = holdoutSentence(summary, styles.score);
  if (holdout) html.push(`<p><b>Held-out:</b> ${text(holdout)}</p>`);
  const warning = overfittingWarning(summary, styles.score);
  if (warning) html.push(`<p class="warn"><b>Overfitting?</b>${withCode(warning.slice("Overfitting?".length))}</p>`);
  const guard = guardText(summary, styles.guard);
  if (guard) html.push(`<p><b>Guard:</b> ${text(guard)}</p>`);
  html.push(`<div class="chart">${options.svg.replace(/^<\?xml[^>]*>\s*/, "")}</div>`);
  html.push(`<p><b>Progress:</b> ${text(progressSentence(summary, styles.score))}</p>`);
  const note = bestNote(summary);
  if (note) html.push(`<p class="note"><i>${text(note)}</i></p>`);
  html.push(`<p><b>Noise:</b> ${text(noiseSentence(summary))}</p>`);
  html.push(
    `<p class="${summary.plateau.reached ? "warn" : ""}"><b>Plateau:</b> ${text(plateauSentence(summary))}</p>`,
  );
  const cost = costSentence(summary);
  if (cost) html.push(`<p><b>Cost:</b> ${text(cost)}</p>`);

  html.push("<h2>Top changes by gain</h2>");
  if (summary.topChanges.length === 0) html.push('<p class="note">No kept changes yet.</p>');
  else {
    html.push(
      "<table><thead><tr><th>Rank</th><th>#</th><th>Gain</th><th>Score</th><th>Commit</th><th>Description</th></tr></thead><tbody>",
    );
    summary.topChanges.slice(0, TOP_CHANGES_SHOWN).forEach((change, index) => {
      html.push(
        `<tr><td class="num">${index + 1}</td><td class="num">${change.iteration}</td><td class="num">${
          text(gainText(change.gain, styles.score))
        }</td><td class="num">${formatScore(change.score, styles.score)}</td><td><code>${
          text(change.commit?.slice(0, 7) ?? "—")
        }</code></td><td>${text(singleLine(change.description))}</td></tr>`,
      );
    });
    html.push("</tbody></table>");
  }

  for (const section of dashboardLessons(summary)) {
    html.push(`<h2>${text(section.title)}</h2>`);
    if (section.lines.length === 0) html.push(`<p class="note">${text(noDeadEndsNote(summary))}</p>`);
    else html.push("<ul>", ...section.lines.map((line) => `<li>${withCode(singleLine(line))}</li>`), "</ul>");
  }
  if (summary.crashes.length > 0) {
    html.push("<h2>Crashes</h2>", "<ul>");
    for (const crash of summary.crashes) {
      html.push(
        `<li><b>#${crash.iteration}</b>: ${text(singleLine(crash.reason))}${
          crash.description ? ` — ${text(singleLine(crash.description))}` : ""
        }</li>`,
      );
    }
    html.push("</ul>");
  }

  const rows = visibleRows(summary, options.last);
  html.push("<h2>Iterations</h2>");
  if (rows.length < summary.rows.length) {
    html.push(`<p class="note">Showing the last ${rows.length} of ${summary.rows.length} iterations.</p>`);
  }
  // The held-out column only when the round has a held-out set: the seed's table stays as it was.
  const heldOut = holdout !== null;
  html.push(
    `<table><thead><tr><th>#</th><th>Score</th>${
      heldOut ? "<th>Held-out</th>" : ""
    }<th>Delta</th><th>Guard</th><th>Status</th><th>Description</th></tr></thead><tbody>`,
  );
  for (const row of rows) {
    html.push(
      `<tr class="${row.status}"><td class="num">${row.iteration}</td><td class="num">${
        scoreCell(row, styles.score)
      }</td>${heldOut ? `<td class="num">${holdoutCell(row, summary, styles.score)}</td>` : ""}<td class="num">${
        text(deltaCell(row, styles.score))
      }</td><td class="num">${text(guardCell(row, styles.guard))}</td><td class="status">${row.status}</td><td>${
        text(descriptionCell(row))
      }</td></tr>`,
    );
  }
  html.push("</tbody></table>");

  if (options.report && options.report.trim() !== "") {
    html.push("<h2>Final report</h2>", `<pre>${text(options.report.replace(/\s+$/, ""))}</pre>`);
  }
  if (options.preservedReport && options.preservedReport.trim() !== "") {
    html.push("<h2>Notes kept in the dashboard</h2>", `<pre>${text(options.preservedReport.trim())}</pre>`);
  }
  html.push("</div>");
  return html.join("\n");
}

function figure(label: string, value: string): string {
  return `<div class="figure">${text(label)}<b>${text(value)}</b></div>`;
}

/** A lesson line with its `names` as <code>, everything else escaped. */
function withCode(line: string): string {
  return line.split("`").map((part, index) => (index % 2 === 1 ? `<code>${text(part)}</code>` : text(part))).join("");
}

function text(value: string): string {
  return escapeXml(value);
}
