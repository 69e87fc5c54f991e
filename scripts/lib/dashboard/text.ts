// The dashboard for a terminal: header figures, a sparkline of scores, a cli-table3
// table of the latest iterations, then progress, noise, plateau, top changes, the lessons
// (kept directions, dead ends, inconclusive tries, per-lever history, unscored lines) and crashes. Colour only when the caller says so: cli-table3 colours its borders
// even into a pipe unless its style is emptied, so both paths set the style explicitly.
import type Table from "cli-table3";
import type { Chalk, ChalkInstance } from "chalk";
import { importPackage, requirePackage } from "../cli/packages.ts";
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
} from "./prose.ts";
import type { Status } from "../experiment/journal.ts";
import type { Summary } from "../experiment/summary.ts";
import { withoutBackticks } from "../experiment/lessons.ts";

export type TextOptions = {
  color: boolean;
  /** Terminal width in columns; the description column takes what is left. */
  width?: number;
  last?: number | null;
  /** Where the final report lives, mentioned (not printed) when it exists. */
  reportFile?: string | null;
};

export const DEFAULT_TERMINAL_WIDTH = 100; // columns
const SPARK_LEVELS = "▁▂▃▄▅▆▇█";
const SPARK_MAX_POINTS = 60;
const FIXED_COLUMNS_WIDTH = 56; // #, score, delta, guard, status, padding and borders
const NO_ROW_SEPARATORS = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };
const MIN_DESCRIPTION_WIDTH = 20;
const HOLDOUT_COLUMN_WIDTH = 11; // "Held-out" and its padding and border

// cli-table3 and chalk load for a text render only, not when this module loads: the md, json and
// html formats (output.ts imports every renderer) never need them, and under Deno a literal import
// would fetch them, a Download line per file, before any run starts.
type TerminalPackages = { Table: typeof Table; Chalk: typeof Chalk };
let terminalPackages: TerminalPackages | null = null;

/**
 * Load cli-table3 and chalk ahead of a text render, as imports: chalk is an ES module only, which
 * Node's `require` loads only from 20.19 and 22.12 on. Without it, renderText `require`s them
 * (Bun, Deno and those Node versions can). Under Deno a first use fetches them quietly, with one
 * summary line (cli/packages.ts).
 */
export async function loadTerminalPackages(): Promise<void> {
  const [table, chalk] = await Promise.all([
    importPackage("terminalTable", "cli-table3"),
    importPackage("terminalTable", "chalk"),
  ]);
  terminalPackages ??= {
    Table: (table as { default: typeof Table }).default,
    Chalk: (chalk as { Chalk: typeof Chalk }).Chalk,
  };
}

function terminalTableAndColours(): TerminalPackages {
  terminalPackages ??= {
    Table: requirePackage("terminalTable", "cli-table3") as typeof Table,
    Chalk: (requirePackage("terminalTable", "chalk") as { Chalk: typeof Chalk }).Chalk,
  };
  return terminalPackages;
}

export function renderText(journalSummary: Summary, options: TextOptions): string {
  const summary = printableSummary(journalSummary);
  const styles = numberStyles(summary);
  const { Table, Chalk } = terminalTableAndColours();
  const paint = new Chalk({ level: options.color ? 1 : 0 });
  const width = options.width ?? DEFAULT_TERMINAL_WIDTH;
  const better = summary.metric.direction === "min" ? "lower is better" : "higher is better";
  const round = summary.round === null ? "" : ` · round ${summary.round}`;
  const lines: string[] = [
    `${paint.bold(DASHBOARD_TITLE)}  ${summary.metric.name} (${better})${round}`,
    `Constrained file${summary.constrainedFiles.length > 1 ? "s" : ""}: ${summary.constrainedFiles.join(", ") || "—"}`,
    `Baseline ${formatScore(summary.start, styles.score)} | Current best ${
      paint.bold(formatScore(summary.best.score, styles.score))
    } | Iterations ${iterationsText(summary)}`,
  ];
  const objective = objectiveLine(summary, styles.guard);
  if (objective) lines.splice(2, 0, objective);
  const holdout = holdoutSentence(summary, styles.score);
  if (holdout) lines.push(`Held-out: ${holdout}`);
  const warning = overfittingWarning(summary, styles.score);
  if (warning) lines.push(paint.yellow(withoutBackticks(warning)));
  const guard = guardText(summary, styles.guard);
  if (guard) lines.push(`Guard: ${guard}`);
  const spark = sparkline(summary.rows.map((row) => row.score), SPARK_MAX_POINTS);
  if (spark) lines.push(`Scores ${paint.cyan(spark)}`);

  const rows = visibleRows(summary, options.last);
  // The held-out column only when the round has a held-out set: the seed's table stays as it was.
  const heldOut = holdout !== null;
  const descriptionWidth = Math.max(
    MIN_DESCRIPTION_WIDTH,
    width - FIXED_COLUMNS_WIDTH - (heldOut ? HOLDOUT_COLUMN_WIDTH : 0),
  );
  const table = new Table({
    head: ["#", "Score", ...(heldOut ? ["Held-out"] : []), "Delta", "Guard", "Status", "Description"],
    colWidths: [null, null, ...(heldOut ? [null] : []), null, null, null, descriptionWidth],
    colAligns: ["right", "right", ...(heldOut ? ["right" as const] : []), "right", "right", "left", "left"],
    wordWrap: false,
    chars: NO_ROW_SEPARATORS,
    style: options.color ? { head: ["cyan"], border: ["grey"] } : { head: [], border: [] },
  });
  for (const row of rows) {
    table.push([
      row.iteration,
      scoreCell(row, styles.score),
      ...(heldOut ? [holdoutCell(row, summary, styles.score)] : []),
      deltaCell(row, styles.score),
      guardCell(row, styles.guard),
      colorStatus(paint, row.status),
      descriptionCell(row),
    ]);
  }
  if (rows.length < summary.rows.length) {
    lines.push(paint.dim(`Last ${rows.length} of ${summary.rows.length} iterations (--last 0 shows all).`));
  }
  if (summary.rows.length > 0) lines.push(table.toString());
  const counts = summary.counts;
  lines.push(
    `Kept ${paint.green(String(counts.keep))} | Discarded ${discardCount(summary)} | Crashed ${
      paint.red(String(counts.crash))
    } | Guard failures ${paint.yellow(String(counts.guard_fail))}`,
  );
  lines.push("", `Progress: ${progressSentence(summary, styles.score)}`);
  const note = bestNote(summary);
  if (note) lines.push(paint.dim(note));
  lines.push(`Noise: ${noiseSentence(summary)}`);
  const plateau = `Plateau: ${plateauSentence(summary)}`;
  lines.push(summary.plateau.reached ? paint.yellow(plateau) : plateau);
  const cost = costSentence(summary);
  if (cost) lines.push(`Cost: ${cost}`);

  if (summary.topChanges.length > 0) {
    lines.push("", paint.bold("Top changes by gain"));
    summary.topChanges.slice(0, TOP_CHANGES_SHOWN).forEach((change, index) => {
      const commit = change.commit ? change.commit.slice(0, 7) : "—";
      lines.push(
        `  ${index + 1}. #${change.iteration}  ${paint.green(gainText(change.gain, styles.score))}  ${
          formatScore(change.score, styles.score)
        }  ${commit}  ${singleLine(change.description)}`,
      );
    });
  }
  for (const section of dashboardLessons(summary)) {
    if (section.lines.length === 0) continue; // the terminal view stays short: an empty section is left out
    lines.push("", paint.bold(section.title));
    for (const line of section.lines) lines.push(`  - ${singleLine(withoutBackticks(line))}`);
  }
  if (summary.crashes.length > 0) {
    lines.push("", paint.bold("Crashes"));
    for (const crash of summary.crashes) {
      lines.push(
        `  - #${crash.iteration}: ${paint.red(singleLine(crash.reason))}${
          crash.description ? ` — ${singleLine(crash.description)}` : ""
        }`,
      );
    }
  }
  if (options.reportFile) lines.push("", `Final report: ${options.reportFile}`);
  return lines.join("\n") + "\n";
}

/** Scores as block characters, oldest to newest; crashes are gaps. "" when there is nothing to draw. */
export function sparkline(scores: (number | null)[], maxPoints = SPARK_MAX_POINTS): string {
  const recent = scores.slice(Math.max(0, scores.length - maxPoints));
  const values = recent.filter((score): score is number => score !== null);
  if (values.length === 0) return "";
  const low = Math.min(...values);
  const high = Math.max(...values);
  const top = SPARK_LEVELS.length - 1;
  return recent.map((score) => {
    if (score === null) return " ";
    const level = high > low ? Math.round(((score - low) / (high - low)) * top) : Math.floor(top / 2);
    return SPARK_LEVELS[level];
  }).join("");
}

function colorStatus(paint: ChalkInstance, status: Status): string {
  if (status === "keep") return paint.green(status);
  if (status === "crash") return paint.red(status);
  if (status === "guard_fail") return paint.yellow(status);
  return paint.dim(status);
}
