// The pull request body and the final branch's commit messages, from a round's summary
// (summary.ts) and its journal lines' verdicts: objective, baseline -> best, the kept changes
// with their gains and intervals, what did not work (lessons.ts), the chart, held-out figures.
// Pure: it takes data and returns text; it measures nothing and reads no file.
import { lessonSections } from "../experiment/lessons.ts";
import type { ResultLine } from "../experiment/journal.ts";
import type { KeptChange, Summary } from "../experiment/summary.ts";
import { holdoutStyle } from "../experiment/holdout.ts";
import { formatDelta, formatScore, measureDecimals } from "../text/number-format.ts";

/** A keep's gain as iterate decided on it, and the interval its verdict gave (null without one). */
export type KeepFigures = { gain: string; interval: string | null; mode: string | null };

export function keepFigures(keep: KeptChange, line: ResultLine | undefined): KeepFigures {
  const verdict = line?.verdict ?? null;
  const ci = verdict && Array.isArray(verdict.ci) && verdict.ci.length === 2 &&
      verdict.ci.every((value) => typeof value === "number")
    ? verdict.ci as [number, number]
    : null;
  const scale = { decimals: measureDecimals([keep.selectedScore, keep.previous]) };
  return {
    gain: formatDelta(keep.gain, scale) ?? line?.delta ?? "n/a",
    interval: ci ? `${formatDelta(ci[0], scale)} to ${formatDelta(ci[1], scale)}` : null,
    mode: typeof verdict?.mode === "string" ? verdict.mode : null,
  };
}

/** "precision@3 +0.0321 (interval +0.0321 to +0.0321, deterministic eval)" */
function gainText(metric: string, figures: KeepFigures): string {
  const parts = [figures.interval ? `interval ${figures.interval}` : null, figures.mode ? `${figures.mode} eval` : null]
    .filter(Boolean);
  return `${metric} ${figures.gain}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

/** A kept change's commit message on the final branch: the description, then the measured gain and where it came from. */
export function keepCommitMessage(
  summary: Summary,
  keep: KeptChange,
  figures: KeepFigures,
  experimentBranch: string | null,
): string {
  const from = keep.previous !== null && keep.selectedScore !== null
    ? `: ${formatScore(keep.previous)} -> ${formatScore(keep.selectedScore)}`
    : "";
  return [
    keep.description,
    "",
    `${gainText(summary.metric.name, figures)} at iteration ${keep.iteration}${
      summary.round !== null ? ` of round ${summary.round}` : ""
    }${from}.`,
    `Experiment commit ${keep.commit}${experimentBranch ? ` on ${experimentBranch}` : ""}.`,
    "",
  ].join("\n");
}

/** The one commit of --squash: the round's result, then one line per kept change. */
export function squashCommitMessage(
  summary: Summary,
  keeps: { keep: KeptChange; figures: KeepFigures }[],
  name: string,
): string {
  return [
    `autoresearch: ${name}${roundText(summary)}: ${summary.metric.name} ${resultText(summary)}`,
    "",
    ...keeps.map(({ keep, figures }) =>
      `- #${keep.iteration} ${keep.description}: ${
        gainText(summary.metric.name, figures)
      } (experiment commit ${keep.commit})`
    ),
    "",
  ].join("\n");
}

export type BodyInput = {
  summary: Summary;
  name: string;
  /** The kept changes on the final branch, each with its figures and its commit there (null when squashed). */
  keeps: { keep: KeptChange; figures: KeepFigures; finalCommit: string | null }[];
  branch: string;
  base: { ref: string; commit: string };
  experimentBranch: string | null;
  /** The progress chart, as a link relative to the body file; null when the dashboard has not drawn it. */
  chart: string | null;
  journal: string;
  /** The constrained files the base holds otherwise than where the keeps were measured, and that commit; null when the same. */
  baseDiffers?: { files: string[]; anchor: string } | null;
};

export function renderPullRequestBody(input: BodyInput): string {
  const { summary } = input;
  const metric = `\`${summary.metric.name}\``;
  const better = summary.metric.direction === "max" ? "higher is better" : "lower is better";
  const lines = [
    `# autoresearch: ${input.name}${roundText(summary)}: ${summary.metric.name} ${resultText(summary)}`,
    "",
    "## Objective",
    "",
    `${summary.metric.direction === "max" ? "Maximise" : "Minimise"} ${metric} (${better})` +
    `${summary.metric.formula ? `, computed as \`${summary.metric.formula}\`` : ""}, changing only ` +
    `${summary.constrainedFiles.map((file) => `\`${file}\``).join(", ")}.`,
    ...(summary.guard
      ? [
        `Guard: \`${summary.guard.metric} ${summary.guard.op} ${formatScore(summary.guard.threshold)}\`${
          summary.guard.current !== null ? ` (now ${formatScore(summary.guard.current)})` : ""
        }.`,
      ]
      : []),
    "",
    "## Result",
    "",
    `| | ${summary.metric.name} | eval runs |`,
    "|---|---|---|",
    `| baseline | ${formatScore(summary.start)} | ${summary.startRuns} |`,
    `| best${summary.best.iteration !== null ? ` (#${summary.best.iteration})` : ""} | ${
      formatScore(summary.best.score)
    } | ${summary.best.runs}${summary.best.remeasured ? " (re-measured)" : ""} |`,
    "",
    `Improvement: ${summary.improvement.text ?? "n/a"}${
      summary.improvement.relative !== null ? ` (${formatPercentChange(summary.improvement.relative)})` : ""
    }${summary.improvement.basis ? `; ${summary.improvement.basis}` : ""}. ` +
    `${summary.iterations.done} iterations: ${summary.counts.keep} kept, ${summary.counts.discard} discarded, ` +
    `${summary.counts.guard_fail} guard failures, ${summary.counts.crash} crashes.`,
    ...noiseLines(summary),
    "",
    "## Kept changes",
    "",
    `| iteration | change | gain | interval | commit |`,
    "|---|---|---|---|---|",
    ...input.keeps.map(({ keep, figures, finalCommit }) =>
      `| #${keep.iteration} | ${cell(keep.description)} | ${figures.gain} | ${figures.interval ?? "n/a"}${
        figures.mode ? ` (${figures.mode})` : ""
      } | ${finalCommit ? `\`${finalCommit.slice(0, 7)}\`` : "squashed"} |`
    ),
    "",
    "## What did not work",
    "",
    ...didNotWork(summary),
    ...holdoutLines(summary),
    "",
    "## Progress",
    "",
    input.chart
      ? `![${summary.metric.name} per iteration](${input.chart})`
      : "No chart yet: run dashboard.ts to draw it.",
    "",
    "## How this branch was built",
    "",
    `\`${input.branch}\` is \`${input.base.ref}\` (${input.base.commit.slice(0, 7)}) plus the kept changes to the ` +
    `constrained files only, from the journal \`${input.journal}\`${
      input.experimentBranch ? ` and the experiment branch \`${input.experimentBranch}\` (left as it is)` : ""
    }. The harness's own commits (baseline records, journal, eval changes) are not part of it.`,
    ...(input.baseDiffers
      ? [
        "",
        `**Measured on other code:** ${
          input.baseDiffers.files.map((file) => `\`${file}\``).join(", ")
        } on \`${input.base.ref}\` differ from the round's starting point (${
          input.baseDiffers.anchor.slice(0, 7)
        }). The kept changes applied, but the gains above were measured on the code at the starting point; measure them again on this branch before relying on them.`,
      ]
      : []),
    "",
  ];
  return lines.join("\n");
}

function roundText(summary: Summary): string {
  return summary.round !== null ? ` round ${summary.round}` : "";
}

function resultText(summary: Summary): string {
  return `${formatScore(summary.start)} -> ${formatScore(summary.best.score)}`;
}

function formatPercentChange(fraction: number): string {
  return `${fraction >= 0 ? "+" : ""}${(fraction * 100).toFixed(1)}%`;
}

function noiseLines(summary: Summary): string[] {
  const { sd, runs, deterministic, minDetectableEffect } = summary.noise;
  if (deterministic) return [`The eval is deterministic (the baseline's ${runs} runs agree).`];
  if (sd === null) return [];
  return [
    `Run-to-run noise: sd ${formatScore(sd)} over ${runs} baseline runs; smallest detectable effect ${
      formatScore(minDetectableEffect)
    }.`,
  ];
}

/** Dead ends, inconclusive tries and unscored candidates, as the dashboard's lessons word them, and the crashes. */
function didNotWork(summary: Summary): string[] {
  const sections = lessonSections(summary.lessons).filter((section) =>
    section.key === "deadEnds" || section.key === "inconclusive" || section.key === "unscored"
  );
  const lines = sections.flatMap((
    section,
  ) => [`**${section.title}**`, "", ...section.lines.map((line) => `- ${line}`), ""]);
  if (summary.crashes.length > 0) {
    lines.push(
      "**Crashes**",
      "",
      ...summary.crashes.map((crash) => `- #${crash.iteration} ${crash.description}: ${crash.reason}`),
      "",
    );
  }
  if (lines.length === 0) {
    lines.push(
      `No dead end: no lever direction or function lost twice, conclusively, without a keep (${summary.counts.discard} discarded).`,
      "",
    );
  }
  return lines.slice(0, -1);
}

function holdoutLines(summary: Summary): string[] {
  const holdout = summary.holdout;
  if (!holdout || !holdout.baseline) return [];
  const latest = holdout.latest;
  const scale = holdoutStyle(holdout.points);
  const lines = [
    "",
    "## Held-out results",
    "",
    "| | eval set | held-out set |",
    "|---|---|---|",
    ...holdout.points.map((point) =>
      `| ${point.status === "baseline" ? "baseline" : `#${point.iteration}`} | ${formatScore(point.evalScore)} | ${
        formatScore(point.holdoutScore)
      } |`
    ),
    "",
    `Gain on the eval set ${formatDelta(holdout.evalGain, scale) ?? "n/a"}, on the held-out set ${
      formatDelta(holdout.holdoutGain, scale) ?? "n/a"
    }${latest ? ` (baseline to #${latest.iteration})` : ""}.`,
  ];
  if (holdout.behind) {
    lines.push(
      `The held-out gain is behind the eval-set gain by more than the noise (${formatScore(holdout.combinedNoise)}): ` +
        "part of the gain may not carry over to unseen cases.",
    );
  }
  return lines;
}

function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}
