#!/usr/bin/env bun
// next-round.ts: turn round N's log into round N+1's artifacts (`_2`, `_3`, ...) and point the
// experiment file at the new round. Thin: lib/next-round/plan.ts validates and plans (and
// from-journal.ts for journal-only use), lib/next-round/apply.ts writes and describes.
// It measures nothing: baseline.ts re-measures round N's best as the new round's start.
import { defineCommand, note, printData, printJson, runCommand, runIfMain, warn } from "./lib/cli/command.ts";
import { EXIT } from "./lib/cli/errors.ts";
import { EXPERIMENT_FILE, EXPERIMENT_OPTION } from "./lib/experiment/artifacts.ts";

export const spec = defineCommand({
  name: "next-round.ts",
  summary: "start round N+1 from what round N's journal learned",
  usage:
    "next-round.ts [--file PATH ...] [--add-file PATH ...] [--focus TEXT] [--metric NAME] [--direction max|min] [--guard SPEC | --no-guard] [--tiebreak METRIC[:max|min] ... | --no-tiebreak] [--from-best-holdout] [--force] [--dry-run] [--json]",
  details: `Summarises every earlier round (start vs best, kept changes with gains and commits, dead ends
marked "do not retry", crashes, plateau, levers never touched, the final report) into
instructions_N+1.md, and writes launch_prompt_N+1.md, a copy of the eval as the round's own
(same test data, metric and guard), autoresearch_N+1.jsonl (baseline pending) and its dashboard.
${EXPERIMENT_FILE} then points every script at round N+1; --round N still reaches old rounds.
Without ${EXPERIMENT_FILE} it works from the journal alone (./autoresearch.jsonl or --journal).
Nothing is overwritten without --force, and nothing is written when round N cannot be continued
(a constrained file holding an uncommitted candidate among the reasons). With the experiment file
committed, the new round's files are committed on the experiment branch ("autoresearch: start
round N+1"), so git status stays clean; --dry-run lists the files and writes nothing.
--metric, --direction, --guard and --tiebreak change the objective from round N+1 on (round N
keeps its own, as its journal records it); the new round is re-baselined under it. A new metric,
guard or tiebreak must be one round N's eval printed: the eval stays round N's copy.`,
  options: {
    file: {
      type: "string",
      multiple: true,
      valueName: "PATH",
      description: "switch the constrained file(s) to PATH (repeatable; tracked files only)",
    },
    "add-file": {
      type: "string",
      multiple: true,
      valueName: "PATH",
      description: "co-optimise PATH with round N's files (repeatable)",
    },
    focus: {
      type: "string",
      valueName: "TEXT",
      description: "what this round should target, written at the top of the instructions",
    },
    metric: {
      type: "string",
      valueName: "NAME",
      description: "optimise NAME from round N+1 on: a metric round N's eval printed (METRIC NAME=x or NAME: x)",
    },
    direction: {
      type: "string",
      valueName: "max|min",
      choices: ["max", "min"],
      description: "better is higher (max) or lower (min); default: the new metric's usual direction",
    },
    guard: {
      type: "string",
      valueName: "SPEC",
      description: 'the guard from round N+1 on, e.g. "mrr>=0.8" or "mrr>=baseline-0.02"',
    },
    "no-guard": { type: "boolean", description: "drop the guard from round N+1 on" },
    tiebreak: {
      type: "string",
      multiple: true,
      valueName: "METRIC[:max|min]",
      description: "the tiebreaks from round N+1 on, replacing round N's (repeatable, first decides first)",
    },
    "no-tiebreak": { type: "boolean", description: "drop the tiebreaks from round N+1 on" },
    "from-best-holdout": {
      type: "boolean",
      description:
        "start round N+1 from round N's keep (or baseline) with the best held-out score instead of its last keep",
    },
    force: {
      type: "boolean",
      description: "replace round N+1's existing artifacts (backed up under .autoresearch/backups/)",
    },
    "dry-run": {
      type: "boolean",
      description: "print the files it would write (and the round's figures with --json); write nothing",
    },
    json: {
      type: "boolean",
      description: "print one JSON object (round, files, summary figures, warnings) instead of the file list",
    },
    experiment: EXPERIMENT_OPTION,
    journal: {
      type: "string",
      valueName: "PATH",
      description:
        "journal-only use: round N's journal when there is no experiment file (default: ./autoresearch.jsonl)",
    },
  },
  examples: [
    "bun scripts/next-round.ts",
    'bun scripts/next-round.ts --focus "structural changes: the weights have plateaued"',
    "bun scripts/next-round.ts --file src/search/tokenizer.py",
    "bun scripts/next-round.ts --add-file src/search/tokenizer.py --json | jq .summary",
    "bun scripts/next-round.ts --dry-run",
    'bun scripts/next-round.ts --metric precision@3 --guard "mrr>=baseline-0.02" --tiebreak ndcg@10 --dry-run',
    "bun scripts/next-round.ts --journal autoresearch.jsonl   # no experiment file: the seed's prose-driven loop",
  ],
  exitCodes: {
    2: "bad usage or bad input: round N has no baseline or no results, a --file is missing, untracked or outside the repository, a --metric, --guard or --tiebreak names a metric round N's eval did not print, or round N+1's artifacts exist (without --force); nothing written",
    75: "another harness process holds the experiment lock",
  },
});

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async ({ values }) => {
    // Loaded only after argv parsed: --help and usage errors never pay for the library.
    const [{ describeNextSteps, describeWrittenFiles, nextRoundJson, startNextRound }, { preloadExperimentParsers }] =
      await Promise.all([import("./lib/next-round/apply.ts"), import("./lib/experiment/experiment-file.ts")]);
    await preloadExperimentParsers(); // next-round saves the experiment file (journal-only use has none; rare)
    const cwd = process.cwd();
    const result = await startNextRound({
      cwd,
      files: values.file ?? [],
      addFiles: values["add-file"] ?? [],
      focus: values.focus,
      force: Boolean(values.force),
      experiment: values.experiment,
      journal: values.journal,
      dryRun: Boolean(values["dry-run"]),
      fromBestHoldout: Boolean(values["from-best-holdout"]),
      objective: {
        metric: values.metric,
        direction: values.direction,
        guard: values.guard,
        tiebreaks: values.tiebreak ?? [],
        noGuard: values["no-guard"],
        noTiebreak: values["no-tiebreak"],
      },
    }, note);
    const { plan } = result;
    if (values.json) printJson(nextRoundJson(result, cwd));
    else printData(describeWrittenFiles(result, cwd));
    if (plan.startingPoint) note(plan.startingPoint.why);
    if (result.dryRun) {
      note(
        `Dry run: nothing was written. Without --dry-run, next-round writes the files above${
          plan.experimentPath ? " and commits them on the experiment branch" : ""
        }.`,
      );
    }
    if (plan.objective?.changed) {
      note(`Objective: round ${plan.fromRound} ${plan.objective.from} -> round ${plan.round} ${plan.objective.to}`);
    }
    if (plan.coOptimization) warn(plan.coOptimization);
    for (const message of plan.warnings) warn(message);
    // After a dry run the next step is the real run, not the review of files that do not exist.
    if (!result.dryRun) note(describeNextSteps(plan));
    return EXIT.OK;
  });
}

runIfMain(import.meta, main);
