// The state prompt a fresh agent reads each iteration in loop mode: goal, rules, best and
// baseline, the overfitting warning (never the held-out figures), plateau count, the lessons
// of the recorded diffs (dead ends, inconclusive tries, kept directions, the same lines the
// dashboard shows) and the recently tried changes, within 2 KB (the oldest recent change dropped
// first, the dead ends last). Pure: writing it to a file and running the agent are agent-command.ts's job.
import { findRound, type LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Summary } from "../experiment/summary.ts";
import { SECTION_TITLES } from "../experiment/lessons.ts";
import { formatScore } from "../text/number-format.ts";
import { baselineGuardFigure, describeGuard } from "../experiment/guard.ts";
import { OVERFITTING_WARNING } from "../experiment/holdout.ts";

/** The state prompt stays small: a fresh agent reads it every iteration (bytes). */
const PROMPT_LIMIT_BYTES = 2048;
const RECENT_RESULTS_SHOWN = 8;

type PromptSection = { title: string; lines: string[] };

/** The compact state a fresh agent gets each iteration (≤ 2 KB). */
export function buildStatePrompt(loaded: LoadedExperiment, round: number, iteration: number, summary: Summary): string {
  const { experiment } = loaded;
  const roundRecord = findRound(experiment, round);
  const files = roundRecord.constrained_files.map((file) => `\`${file}\``).join(", ");
  const goal = experiment.metric.direction === "max" ? "raise" : "lower";
  const parts: string[] = [
    `# Autoresearch iteration ${iteration} (round ${round})`,
    `Goal: ${goal} ${
      experiment.metric.formula ?? experiment.metric.name
    } by editing only ${files}. Rules, levers and strategy: \`${roundRecord.artifacts.instructions}\`.`,
    // The instructions let an agent run the eval to read a result; only iterate records, and here the loop runs it.
    `Do not edit other files, do not commit, do not run iterate: after you stop, the harness measures, decides and commits. You may run the eval to understand a result; it records nothing.`,
    // The same means, with their run counts, that the dashboard's progress compares.
    `Best: ${shownScore(summary.best.score)} (baseline ${shownScore(summary.start)}${
      summary.improvement.basis ? `; ${summary.improvement.basis}` : ""
    })${summary.noise.sd !== null ? `, noise sd ${summary.noise.sd}` : ""}${
      experiment.guard ? `; guard ${describeGuard(experiment.guard, baselineGuardFigure(roundRecord.baseline))}` : ""
    }.`,
    // The held-out set is never named nor scored here: the warning alone, so the agent cannot fit to it.
    ...(summary.holdout?.behind ? [OVERFITTING_WARNING] : []),
    `Since the last keep: ${summary.plateau.sinceLastKeep} of ${summary.plateau.threshold} iterations; after ${summary.plateau.threshold} without a keep the loop stops (the ceiling is then likely architectural).`,
  ];
  // The lessons agents must not lose are dropped last: dead ends, then inconclusive tries, then
  // kept directions; the recently tried changes go first (oldest first) when space runs out.
  const deadEnds = section(`${SECTION_TITLES.deadEnds}:`, summary.lessons.deadEnds.map((finding) => finding.text));
  const inconclusive = section(
    `${SECTION_TITLES.inconclusive}:`,
    summary.lessons.inconclusive.map((finding) => finding.text),
  );
  const kept = section(`${SECTION_TITLES.kept}:`, summary.lessons.kept.map((finding) => finding.text));
  const recent = section(
    "Recently tried (do not resubmit the same change):",
    summary.rows.slice(-RECENT_RESULTS_SHOWN).map((row) => row.change),
  );
  const closing = "Make one focused change, then print one line: DESCRIPTION: <what you changed>\n" +
    "When the change only simplifies the file (fewer lines or tokens, same behaviour), also print: SIMPLIFY: <what got simpler>";
  const render = () =>
    [...parts, ...[deadEnds, inconclusive, kept, recent].flatMap(sectionLines), closing].join("\n") + "\n";
  let prompt = render();
  const dropOrder: [PromptSection, "oldest" | "last"][] = [
    [recent, "oldest"],
    [kept, "last"],
    [inconclusive, "last"],
    [deadEnds, "last"],
  ];
  for (const [shrinking, end] of dropOrder) {
    while (Buffer.byteLength(prompt) > PROMPT_LIMIT_BYTES && shrinking.lines.length > 0) {
      if (end === "oldest") shrinking.lines.shift();
      else shrinking.lines.pop();
      prompt = render();
    }
  }
  return prompt;
}

/** A mean as the dashboard shows it (four decimals, four significant digits below 0.001), not its binary expansion. */
function shownScore(value: number | null): string {
  return value === null ? "n/a" : formatScore(value);
}

function section(title: string, lines: string[]): PromptSection {
  return { title, lines };
}

/** A section's title and its lines as a list; nothing when it has no lines. */
function sectionLines(shown: PromptSection): string[] {
  return shown.lines.length === 0 ? [] : [shown.title, ...shown.lines.map((line) => `- ${line}`)];
}
