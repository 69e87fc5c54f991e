// The state prompt a fresh agent reads each iteration in loop mode: goal, rules, best and
// baseline, plateau count, recent results and dead ends, within 2 KB (oldest details dropped
// first). Pure: writing it to a file and running the agent are agent-command.ts's job.
import { findRound, type LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Summary } from "../experiment/summary.ts";

/** The state prompt stays small: a fresh agent reads it every iteration (bytes). */
const PROMPT_LIMIT_BYTES = 2048;
const RECENT_RESULTS_SHOWN = 6;
const DEAD_ENDS_SHOWN = 8;

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
    `Do not edit other files, do not commit, do not run the eval: the harness measures, decides and commits.`,
    `Best: ${summary.best.score ?? "n/a"} (baseline ${summary.start ?? "n/a"})${
      summary.noise.sd !== null ? `, noise sd ${summary.noise.sd}` : ""
    }${
      experiment.guard ? `; guard ${experiment.guard.metric} ${experiment.guard.op} ${experiment.guard.threshold}` : ""
    }.`,
    `Since the last keep: ${summary.plateau.sinceLastKeep} of ${summary.plateau.threshold} iterations; after ${summary.plateau.threshold} without a keep the loop stops (the ceiling is then likely architectural).`,
  ];
  const fixedLines = parts.length;
  const recent = summary.rows.slice(-RECENT_RESULTS_SHOWN);
  if (recent.length) {
    parts.push(
      "Recent:",
      ...recent.map((row) =>
        `- #${row.iteration} ${row.status} ${row.delta ?? ""} ${row.description.split("\n")[0].slice(0, 80)}`
      ),
    );
  }
  const deadEnds = summary.deadEnds.slice(0, DEAD_ENDS_SHOWN);
  if (deadEnds.length) {
    parts.push(
      "Dead ends, do not retry:",
      ...deadEnds.map((group) =>
        `- ${group.descriptions[0].split("\n")[0].slice(0, 80)}${group.count > 1 ? ` (${group.count}×)` : ""}`
      ),
    );
  }
  parts.push("Make one focused change, then print one line: DESCRIPTION: <what you changed>");
  let prompt = parts.join("\n") + "\n";
  while (Buffer.byteLength(prompt) > PROMPT_LIMIT_BYTES && parts.length > fixedLines + 1) {
    parts.splice(fixedLines, 1); // drop the oldest detail line first
    prompt = parts.join("\n") + "\n";
  }
  return prompt;
}
