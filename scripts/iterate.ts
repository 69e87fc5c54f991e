#!/usr/bin/env bun
// iterate.ts — one iteration per call (the agent edited the file; this measures,
// decides, commits or reverts, logs and renders), or the whole loop with any agent
// command (--loop --agent CMD), a fresh agent context every iteration.
import { defineCommand, note, printData, printJson, runCommand, runIfMain } from "./lib/cli/command.ts";
import { EXPERIMENT_OPTION } from "./lib/experiment/artifacts.ts";
import { CliError, EXIT } from "./lib/cli/errors.ts";
import type { StepResult } from "./lib/iterate/step-context.ts";
import type { ResultLine } from "./lib/experiment/journal.ts";
import { formatCompact, formatScore, measureStyle, plural, roundMeasure } from "./lib/text/number-format.ts";

export const spec = defineCommand({
  name: "iterate.ts",
  summary: "evaluate the edited file, keep or discard it, log and render",
  usage:
    'iterate.ts -m "what I changed" [--json]   |   iterate.ts --loop --agent "CMD" [--iterations N] [--max-hours H]',
  details: `Step mode evaluates the work tree's candidate with the keep/discard rule (it re-runs the eval and
the incumbent as the statistics need), then commits the constrained file(s) or restores them and
archives the diff under .autoresearch/patches/. Loop mode runs CMD with a short state prompt on stdin
(also in $AUTORESEARCH_PROMPT_FILE), takes the description from a "DESCRIPTION: ..." output line (and a
"SIMPLIFY: ..." line as --simplify), and steps, until the budget, a plateau, 3 crashes in a row, the time
or cost limit (budget.max_hours, budget.max_cost_usd) or --iterations ends it. Each line records the
agent's and the eval's seconds, and the tokens and dollars the agent reports (Claude Code's
--output-format json, Codex's exec --json, or a "COST: usd=... tokens_in=... tokens_out=..." line). An
agent exiting 75 or printing a rate-limit message is called again after a backoff, within
loop.retry_minutes, and is no crash. The final
report is asked for when the round ends (budget, plateau, time or cost limit), not after a batch that
leaves budget (--final-report asks for it anyway); an earlier report is kept, the new one appended. Only what changes
during the agent's call is the agent's: a commit or an edit of the constrained file made outside it
stops the loop (exit 1), other edits are left alone. A run killed at any point is finished by the next.`,
  options: {
    message: {
      type: "string",
      short: "m",
      description: "what the agent changed (stored and committed literally)",
      valueName: "TEXT",
    },
    simplify: {
      type: "boolean",
      description:
        "step mode: the change only simplifies the file: keep it if it is smaller (lines and tokens) and scores no worse",
    },
    loop: { type: "boolean", description: "run the agent and step repeatedly" },
    agent: { type: "string", description: "loop mode: the agent command, run with bash -c", valueName: "CMD" },
    iterations: {
      type: "integer",
      min: 1,
      description: "loop mode: iterations to run now (default: what is left of the budget)",
      valueName: "N",
    },
    parallel: {
      type: "integer",
      min: 1,
      description:
        "loop mode: N agents propose candidates at once, each in its own worker tree; decisions are applied one at a time",
      valueName: "N",
    },
    "max-hours": {
      type: "number",
      exclusiveMin: 0,
      description: "loop mode: stop after this many hours",
      valueName: "H",
    },
    "agent-timeout": {
      type: "number",
      exclusiveMin: 0,
      description: "loop mode: seconds one agent call may take",
      valueName: "S",
      default: 1800,
    },
    plateau: {
      type: "integer",
      min: 1,
      description: "loop mode: non-keeps in a row that stop this run (default: budget.plateau)",
      valueName: "N",
    },
    report: {
      type: "boolean",
      description:
        "loop mode: ask for the final report when the round ends (budget, plateau, budget.max_hours); --no-report skips it",
      default: true,
    },
    "final-report": {
      type: "boolean",
      description:
        "write the round's final report now (from --agent if given, else drafted from the journal); with --loop, when this batch ends",
    },
    "ignore-budget": { type: "boolean", description: "step mode: evaluate even when the iteration budget is spent" },
    round: {
      type: "integer",
      min: 1,
      description: "the round (default: the current one; closed rounds refuse)",
      valueName: "N",
    },
    experiment: EXPERIMENT_OPTION,
    json: { type: "boolean", description: "print one JSON object on stdout (loop: one per iteration, JSON lines)" },
  },
  examples: [
    'bun scripts/iterate.ts -m "raise title weight from 2 to 5"',
    'bun scripts/iterate.ts -m "inline the scoring helper" --simplify',
    'bun scripts/iterate.ts --loop --agent "claude -p --permission-mode acceptEdits" --iterations 30',
    'bun scripts/iterate.ts --loop --agent "bun examples/agents/tune-levers.ts" --plateau 20',
    'bun scripts/iterate.ts --loop --agent "bun examples/agents/tune-levers.ts" --iterations 10 --json | jq -c .status',
    "bun scripts/iterate.ts --final-report",
  ],
  exitCodes: {
    3: "the iteration budget is spent",
    4: "plateau: too many non-keeps in a row (loop)",
    5: "too many crashes in a row (loop)",
    6: "the time budget is spent: budget.max_hours or --max-hours (loop)",
    7: "the cost budget is spent: budget.max_cost_usd, over the round's agent-reported cost_usd (loop)",
    75: "another harness process holds the experiment lock",
    130: "interrupted: the candidate is left in the work tree, nothing recorded",
  },
});

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async ({ values }) => {
    // Loaded only after argv parsed: --help and usage errors never pay for the library.
    const [
      { findRound, loadLocatedExperiment },
      { requireRepositoryRoot },
      { kitCommand },
      { runStep },
      { loopResultLine, runLoop },
      { writeFinalReport },
      { createStatusLine },
    ] = await Promise.all([
      import("./lib/experiment/experiment-file.ts"),
      import("./lib/git/git.ts"),
      import("./lib/cli/kit.ts"),
      import("./lib/iterate/step.ts"),
      import("./lib/iterate/loop.ts"),
      import("./lib/iterate/final-report.ts"),
      import("./lib/cli/status-line.ts"),
    ]);
    const root = requireRepositoryRoot(process.cwd(), kitCommand("iterate"));
    const loaded = loadLocatedExperiment(values.experiment, process.cwd(), root);
    const round = values.round;
    if (values.plateau !== undefined && !values.loop) {
      throw new CliError(
        `--plateau applies to the loop: ${kitCommand("iterate")} --loop --agent "CMD" --plateau ${values.plateau}`,
        "E_USAGE",
      );
    }
    if (values.parallel !== undefined && !values.loop) {
      throw new CliError(
        `--parallel applies to the loop: ${kitCommand("iterate")} --loop --agent "CMD" --parallel ${values.parallel}`,
        "E_USAGE",
      );
    }
    if (values.simplify && values.loop) {
      throw new CliError(
        `--simplify applies to one step (iterate -m "..." --simplify); in the loop the agent asks for it by printing a line "SIMPLIFY: <what got simpler>"`,
        "E_USAGE",
      );
    }
    if (values["final-report"] && !values.loop) {
      const path = await writeFinalReport(loaded.path, {
        agent: values.agent ?? null,
        round,
        notes: note,
        agentTimeoutS: values["agent-timeout"],
      }, "asked for with --final-report");
      if (values.json) printJson({ final_report: path });
      else printData(path);
      return EXIT.OK;
    }
    if (values.loop) {
      if (!values.agent) {
        throw new CliError(
          `--loop needs --agent "CMD". Example: ${
            kitCommand("iterate")
          } --loop --agent "bun examples/agents/tune-levers.ts"`,
          "E_USAGE",
        );
      }
      const loopOptions = {
        agent: values.agent,
        iterations: values.iterations,
        maxHours: values["max-hours"],
        agentTimeoutS: values["agent-timeout"],
        report: values.report,
        finalReport: Boolean(values["final-report"]),
        plateau: values.plateau,
        round,
        onResult: (line: ResultLine) => (values.json ? printJson(line) : printData(loopResultLine(line))),
        notes: note,
      };
      if (values.parallel !== undefined) {
        const { runParallelLoop } = await import("./lib/iterate/parallel.ts");
        const evalConcurrency = findRound(loaded.experiment, round).eval.concurrency ?? values.parallel;
        return (await runParallelLoop(loaded, { ...loopOptions, parallel: values.parallel, evalConcurrency })).exitCode;
      }
      return (await runLoop(loaded, loopOptions)).exitCode;
    }
    const description = values.message;
    if (description === undefined || description.trim() === "") {
      throw new CliError(
        `Say what changed: ${
          kitCommand("iterate")
        } -m "raise title weight from 2 to 5" (or run the loop: --loop --agent "CMD")`,
        "E_USAGE",
      );
    }
    const result = await runStep(loaded, {
      description,
      round,
      status: createStatusLine(),
      notes: note,
      ignoreBudget: Boolean(values["ignore-budget"]),
      simplify: Boolean(values.simplify),
    });
    if (values.json) printJson(stepJson(result));
    else printData(stepLine(result));
    return EXIT.OK;
  });
}

export function stepJson(result: StepResult): Record<string, unknown> {
  // The agent reads this: a keep says its held-out set was measured, never the figure (the journal and dashboard hold it).
  const { holdout_score: holdout, holdout_runs: _runs, holdout_note: _note, ...line } = result.line;
  return {
    ...line,
    ...(holdout === undefined ? {} : { holdout: holdout === null ? "not measured" : "measured" }),
    incumbent_mean: roundMeasure(result.incumbentMean), // rounded like the line's score it is compared with
    verdict_reason: result.verdict?.reason ?? null,
    dashboard: result.dashboard,
  };
}

/**
 * One line: status, score, delta, the statistic against its threshold, the cases it fixed and
 * broke by id, and why: a crash's error and log, an unscored discard's reason for not scoring.
 */
export function stepLine(result: StepResult): string {
  const { line, verdict } = result;
  const parts = [`#${line.iteration} ${line.status}`];
  const scored = line.score !== null;
  // The journal holds each figure rounded once; they are written here as the dashboard writes them.
  const style = measureStyle([...(line.runs ?? []), ...(line.incumbent_runs ?? [])]);
  if (scored) {
    parts.push(
      `score ${formatScore(line.score, style)}${line.delta ? ` (${line.delta})` : ""} over ${
        plural(line.runs?.length ?? 0, "run")
      }`,
    );
  } else if (line.status === "crash") {
    // The reason carries the eval's last error line (evaluator.ts), so the person sees why here.
    parts.push(line.reason ? `crashed: ${line.reason}` : "crashed");
    if (line.log) parts.push(`log ${line.log}`);
  } else {
    parts.push(`not scored: ${line.reason ?? "no eval ran"}`);
  }
  if (verdict?.statistic != null && verdict.threshold != null) {
    parts.push(`t ${verdict.statistic.toFixed(2)} vs ${verdict.threshold.toFixed(2)}`);
  }
  if (line.guard_score !== null) {
    const guardStyle = measureStyle([...(line.guard_runs ?? []), ...(line.incumbent_guard_runs ?? [])]);
    parts.push(`guard ${formatCompact(line.guard_score, guardStyle)} ${line.guard_pass ? "PASS" : "FAIL"}`);
  }
  const cases = caseChanges(line.cases ?? null);
  if (cases) parts.push(cases);
  if (result.sizeNote) parts.push(result.sizeNote);
  if (line.commit) parts.push(`commit ${line.commit}`);
  if (line.patch) parts.push(`patch ${line.patch}`);
  if (scored && line.reason) parts.push(`— ${line.reason}`);
  return parts.join(" | ");
}

/** How many case ids a step line names before it says how many more. */
const CASE_IDS_SHOWN = 3;

/** "fixed 5 cases (case-03, case-07, case-09 +2 more); broke 1 case (case-11)", or null when no case moved. */
function caseChanges(cases: { fixed: string[]; broken: string[] } | null): string | null {
  if (!cases) return null;
  const named = (ids: string[]) => {
    const shown = ids.slice(0, CASE_IDS_SHOWN).join(", ");
    const more = ids.length > CASE_IDS_SHOWN ? ` +${ids.length - CASE_IDS_SHOWN} more` : "";
    return `${plural(ids.length, "case")} (${shown}${more})`;
  };
  const parts: string[] = [];
  if (cases.fixed.length) parts.push(`fixed ${named(cases.fixed)}`);
  if (cases.broken.length) parts.push(`broke ${named(cases.broken)}`);
  return parts.length ? parts.join("; ") : null;
}

runIfMain(import.meta, main);
