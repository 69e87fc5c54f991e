// Earlier rounds as the "Summary of earlier rounds" of round N+1's instructions: per round,
// start vs best, kept changes with gains and commits, the lessons of the recorded diffs (kept
// directions, dead ends marked "do not retry", inconclusive tries worth more runs, per-lever
// history, unscored lines; the dashboard's lines), crashes with their causes, the plateau,
// levers never touched and the lessons of its final report; then the targets of the new round.
// Pure: summaries, levers and texts in, markdown out. It reads no files and runs no git;
// next-round-plan.ts gathers the evidence.
import { dashboardLessons, gainText, numberStyles, plateauSentence, singleLine } from "../dashboard/prose.ts";
import type { Lever } from "../levers/lever.ts";
import { formatPercent, formatScore } from "../text/number-format.ts";
import type { Summary } from "../experiment/summary.ts";
import { OVERFITTING_WARNING } from "../experiment/holdout.ts";

/** Lines quoted from a final report's "what did not work" and "next steps" sections. */
const REPORT_LINES_QUOTED = 12;
const REPORT_LESSON_HEADING =
  /did\s*n[o']?t\s+work|dead\s+ends?|failed|next\s+(round|steps?)|recommend|upstream|plateau/i;

/** One finished round, as the next round's instructions describe it. */
export type RoundDigest = {
  round: number;
  constrainedFiles: string[];
  /** The round's journal, as a person finds it (relative to the experiment folder). */
  journal: string;
  /** What the round was asked to target (next-round --focus), if anything. */
  focus: string | null;
  summary: Summary;
  /** Named levers of the round's files that no description or diff of the round mentions; null: not known. */
  untouchedLevers: string[] | null;
  report: { path: string; lessons: string[] } | null;
};

/**
 * Named levers whose name never appears in `evidence` (descriptions and changed diff lines).
 * A lever counts as touched when its last name part appears as a word, or spelled as words:
 * `LOCATION_WEIGHT` is touched by "raise location weight". Unnamed comparison thresholds
 * (`x > 3` inside a function) are left out: a name cannot tell whether they changed.
 */
export function untouchedLevers(levers: Lever[], evidence: string): Lever[] {
  const haystack = evidence.toLowerCase();
  return levers.filter((lever) => {
    if (lever.kind === "threshold" && lever.detail?.startsWith("in ")) return false;
    const names = lever.name.match(/[A-Za-z_$][\w$]*/g);
    if (!names) return false;
    const last = names[names.length - 1];
    return !mentions(haystack, last) && !mentions(haystack, spelledAsWords(last));
  });
}

function mentions(haystack: string, word: string): boolean {
  if (word.length < 2) return true; // too short to tell: never reported as untouched
  const escaped = word.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(`(^|[^\\w$])${escaped}($|[^\\w$])`).test(haystack);
}

/** `LOCATION_BASE_WEIGHT` -> "location base weight"; `boostFactor` -> "boost factor". */
function spelledAsWords(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1 $2").replace(/[_$]+/g, " ").trim().toLowerCase();
}

/** The added and removed lines of a unified diff, without the context lines around them. */
export function changedLines(diff: string): string {
  return diff.split("\n").filter((line) => /^[+-]/.test(line) && !/^(\+\+\+|---)( |$)/.test(line)).map((line) =>
    line.slice(1)
  ).join("\n");
}

/**
 * What a final report says did not work and should come next: the lines under headings such as
 * "What did not work", "Plateau", "Recommended next steps". A report without such headings
 * yields its first lines of prose. Example: "## What didn't work\n- title boost" -> ["What didn't work:", "- title boost"].
 */
export function reportLessons(report: string): string[] {
  const lines = report.split("\n");
  const lessons: string[] = [];
  let inLesson = false;
  for (const line of lines) {
    const heading = /^\s*#{1,6}\s+(.*)$/.exec(line) ?? /^\s*\d+\.\s+\*\*(.+?)\*\*/.exec(line);
    if (heading) {
      inLesson = REPORT_LESSON_HEADING.test(heading[1]);
      if (inLesson) lessons.push(`${heading[1].replace(/[*:]+$/g, "").trim()}:`);
      continue;
    }
    if (inLesson && line.trim() !== "") lessons.push(line.trim());
  }
  const chosen = lessons.length > 0
    ? lessons
    : lines.map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("#"));
  return chosen.slice(0, REPORT_LINES_QUOTED);
}

/** The "Summary of earlier rounds" body: one section per round, oldest first, then the new round's targets. */
export function renderEarlierRounds(digests: RoundDigest[], targets: string): string {
  const sections = digests.map(renderRound);
  return [...sections, `### Targets for this round\n\n${targets}`].join("\n\n");
}

function renderRound(digest: RoundDigest): string {
  const { summary } = digest;
  const files = digest.constrainedFiles.map((file) => `\`${file}\``).join(" and ");
  const lines = [`### Round ${digest.round}: ${files} (journal \`${digest.journal}\`)`, ""];
  if (digest.focus) lines.push(`- **Focus:** ${singleLine(digest.focus)}`);
  lines.push(`- **Start → best:** ${startToBest(summary)}`);
  const { keep, discard, crash, guard_fail } = summary.counts;
  const budget = summary.iterations.budget === null ? "" : ` of ${summary.iterations.budget}`;
  lines.push(
    `- **Iterations:** ${summary.iterations.done}${budget}: ${keep} kept, ${discard} discarded, ${crash} crashed, ${guard_fail} guard failures.`,
  );
  if (summary.kept.length > 0) {
    lines.push("- **Kept changes** (gain over the best before it, commit):");
    const style = numberStyles(summary).score;
    for (const change of summary.kept) {
      const commit = change.commit ? `, \`${change.commit.slice(0, 7)}\`` : "";
      lines.push(
        `  - #${change.iteration} ${singleLine(change.description)}: ${gainText(change.gain, style)}${commit}`,
      );
    }
  } else {
    lines.push("- **Kept changes:** none; the best is still the baseline.");
  }
  for (const section of dashboardLessons(summary)) {
    if (section.lines.length === 0) {
      lines.push(`- **${section.title}:** none recorded.`);
      continue;
    }
    lines.push(`- **${section.title}:**`);
    for (const line of section.lines) lines.push(`  - ${singleLine(line)}`);
  }
  if (summary.crashes.length > 0) {
    lines.push("- **Crashes** (the change was reverted):");
    for (const crash of summary.crashes) {
      lines.push(`  - #${crash.iteration} "${singleLine(crash.description)}": ${singleLine(crash.reason)}`);
    }
  }
  if (summary.holdout?.behind) {
    // The warning only: the held-out scores and the held-out file are never shown to the agent.
    lines.push(`- **Unseen cases:** ${OVERFITTING_WARNING}`);
  }
  lines.push(`- **Plateau:** ${plateauSentence(summary)}`);
  if (digest.untouchedLevers !== null) {
    lines.push(
      `- **Levers never touched:** ${
        digest.untouchedLevers.length > 0
          ? digest.untouchedLevers.map((name) => `\`${name}\``).join(", ")
          : "none; every named lever was tried"
      }.`,
    );
  }
  if (digest.report) {
    lines.push(`- **Final report** (\`${digest.report.path}\`, read it in full):`);
    for (const lesson of digest.report.lessons) lines.push(`  > ${lesson}`);
  }
  return lines.join("\n");
}

function startToBest(summary: Summary): string {
  if (summary.best.iteration === null) {
    return `${formatScore(summary.start)}; nothing was kept, so the best is the baseline.`;
  }
  const commit = summary.best.commit ? `, commit \`${summary.best.commit.slice(0, 7)}\`` : "";
  const direction = summary.metric.direction === "min" ? "lower is better" : "higher is better";
  return `${formatScore(summary.start)} → ${formatScore(summary.best.score)} (${summary.improvement.text ?? "—"}, ${
    formatPercent(summary.improvement.relative)
  }; ${summary.metric.name}, ${direction}), reached at #${summary.best.iteration}${commit}.`;
}

export type TargetsInput = {
  /** The round being finished (round N). */
  previous: RoundDigest;
  /** The new round's constrained files. */
  constrainedFiles: string[];
  /** Files the new round tunes that round N did not. */
  newFiles: string[];
  /** Named levers of the new round's files that round N never touched (new files: all of them). */
  untouchedLevers: string[];
  /** How the new round's starting point is measured, as an instruction. */
  remeasure: string;
  /** The starting point when the owner chose one (next-round --from-best-holdout), else round N's best. */
  start?: string;
};

/** The new round's targets as a numbered list, most important first. */
export function renderTargets(input: TargetsInput): string {
  const { previous, newFiles } = input;
  const summary = previous.summary;
  const round = previous.round;
  const targets: string[] = [];
  const best = summary.best.iteration === null
    ? `round ${round}'s baseline (${formatScore(summary.start)}): nothing was kept`
    : `round ${round}'s best (${formatScore(summary.best.score)}, #${summary.best.iteration}${
      summary.best.commit ? `, \`${summary.best.commit.slice(0, 7)}\`` : ""
    })`;
  targets.push(`Start from ${input.start ?? best}. ${input.remeasure}`);
  if (newFiles.length > 0) {
    targets.push(
      `New in this round: ${
        newFiles.map((file) => `\`${file}\``).join(" and ")
      }. The eval is unchanged, so it reaches ${
        newFiles.length > 1 ? "them" : "it"
      } only through the code it already runs: check with \`--verbose\` that a change moves the score.`,
    );
  }
  if (summary.plateau.reached) {
    targets.push(
      `Round ${round} plateaued (no keep in its last ${summary.plateau.sinceLastKeep} iterations): the ceiling looks architectural, so aim for structural changes (new signals, different logic), not finer tuning of the same levers.`,
    );
  } else if (summary.topChanges.length > 0) {
    targets.push(
      `Round ${round} was still improving at its end; its largest gain came from "${
        singleLine(summary.topChanges[0].description)
      }": build on that before anything else.`,
    );
  }
  if (input.untouchedLevers.length > 0) {
    targets.push(
      `Try the levers round ${round} never touched: ${input.untouchedLevers.map((name) => `\`${name}\``).join(", ")}.`,
    );
  }
  if (summary.deadEnds.length > 0) {
    targets.push(
      `Skip the ${summary.deadEnds.length} dead end${
        summary.deadEnds.length > 1 ? "s" : ""
      } above (do not retry) unless you say in the description what is different this time. A kept direction of the same lever is not a dead end.`,
    );
  }
  const inconclusive = summary.lessons.inconclusive.length;
  if (inconclusive > 0) {
    targets.push(
      `${inconclusive} discarded change${inconclusive > 1 ? "s are" : " is"} inconclusive (listed above): ${
        inconclusive > 1 ? "their intervals still hold" : "its interval still holds"
      } a gain of the minimum effect, so ${
        inconclusive > 1 ? "they are" : "it is"
      } worth a retry with more runs (decision.max_runs) before being ruled out.`,
    );
  }
  if (summary.crashes.length > 0) {
    targets.push(
      `Round ${round} crashed ${summary.crashes.length} time${summary.crashes.length > 1 ? "s" : ""} (first cause: ${
        singleLine(summary.crashes[0].reason)
      }): keep the code working for every input.`,
    );
  }
  if (previous.report && previous.report.lessons.length > 0) {
    targets.push(`Act on the lessons of round ${round}'s final report quoted above.`);
  }
  targets.push(
    "The eval, the test data, the metric and the guard are the same as in earlier rounds, so scores compare across rounds (different test data would make them incomparable).",
  );
  return targets.map((target, index) => `${index + 1}. ${target}`).join("\n");
}
