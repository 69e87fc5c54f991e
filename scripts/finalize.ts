#!/usr/bin/env bun
// finalize.ts: turn a round's kept changes into a reviewable branch off the base and a pull
// request body. Thin: lib/finalize/finalize.ts reads the journal and plans, build.ts commits
// through a temporary index, pr-body.ts writes the body. It measures nothing, never touches
// the work tree, the index, HEAD or the experiment branch.
import { defineCommand, note, printData, printJson, runCommand, runIfMain } from "./lib/cli/command.ts";
import { EXIT } from "./lib/cli/errors.ts";
import { EXPERIMENT_OPTION } from "./lib/experiment/artifacts.ts";

export const spec = defineCommand({
  name: "finalize.ts",
  summary: "turn a round's kept changes into a reviewable branch and a PR body",
  usage:
    "finalize.ts [--base REF] [--branch NAME] [--squash] [--body PATH] [--force] [--round N] [--experiment PATH | --journal PATH] [--json]",
  details: `Reads the round's journal and builds autoresearch/<name>-final off the base branch (the
branch the experiment branch forked from; --base names another): one commit per kept change, in
order, carrying only that change's diff of the constrained files (the harness's commits, the
eval, the test data and the journal stay out), its message the description, the measured gain
with its interval and the iteration; --squash makes one commit of the same tree. The commits are
built through a temporary index: the work tree, the index, HEAD and the experiment branch are
untouched, so uncommitted work is safe. When a kept change no longer applies on a moved base,
it stops, names the change and git's reason, and changes nothing. Re-running with the same
journal and base leaves the branch as it is; a final branch with other commits is moved only
with --force (its old tip is printed, and kept in the reflog). Writes the pull request body
(objective, baseline -> best, kept changes, what did not work, the chart, held-out results)
to autoresearch_pr_round<N>.md beside the journal, or --body PATH.`,
  options: {
    base: {
      type: "string",
      valueName: "REF",
      description: "build on REF (default: the branch the experiment branch forked from)",
    },
    branch: {
      type: "string",
      valueName: "NAME",
      description: "the final branch's name (default: autoresearch/<name>-final)",
    },
    squash: { type: "boolean", description: "one commit with every kept change instead of one per change" },
    body: {
      type: "string",
      valueName: "PATH",
      description: "write the PR body to PATH (default: autoresearch_pr_round<N>.md beside the journal)",
    },
    force: {
      type: "boolean",
      description: "move an existing final branch that has other commits (its old tip is printed)",
    },
    round: { type: "integer", min: 1, valueName: "N", description: "finalize round N (default: the current round)" },
    json: {
      type: "boolean",
      description: "print one JSON object (branch, base, commits, body path and text)",
    },
    experiment: EXPERIMENT_OPTION,
    journal: {
      type: "string",
      valueName: "PATH",
      description: "journal-only use: the round's journal when there is no experiment file",
    },
  },
  examples: [
    "bun scripts/finalize.ts",
    "bun scripts/finalize.ts --squash --branch ranker-tuning",
    "bun scripts/finalize.ts --base origin/main --json | jq -r .body",
    "gh pr create --head autoresearch/ranker-final --body-file autoresearch_pr_round1.md",
  ],
  exitCodes: {
    1: "a kept change no longer applies on the base (which change, and git's reason); nothing was changed",
    2: "bad usage or bad input: no journal, no kept change, no base found (--base names one), a kept commit missing, or a final branch with other commits (without --force); nothing was changed",
  },
});

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async ({ values }) => {
    // Loaded only after argv parsed: --help and usage errors never pay for the library.
    const [{ describeFinalBranch, finalizeJson, finalizeNotes, finalizeRound }, { preloadExperimentParsers }] =
      await Promise.all([import("./lib/finalize/finalize.ts"), import("./lib/experiment/experiment-file.ts")]);
    await preloadExperimentParsers();
    const cwd = process.cwd();
    const result = finalizeRound({
      cwd,
      experiment: values.experiment,
      journal: values.journal,
      round: values.round,
      base: values.base,
      branch: values.branch,
      body: values.body,
      squash: Boolean(values.squash),
      force: Boolean(values.force),
    });
    if (values.json) printJson(finalizeJson(result, cwd));
    else printData(describeFinalBranch(result, cwd));
    for (const message of finalizeNotes(result)) note(message);
    return EXIT.OK;
  });
}

runIfMain(import.meta, main);
