#!/usr/bin/env bun
// baseline.ts — prove the harness is sound before any iteration: refuse unfinished
// test data, measure the eval's noise, check the cache and the revert, probe that
// the eval reads the constrained file, hash the frozen files, record the baseline.
import { defineCommand, note, printData, printJson, runCommand, runIfMain } from "./lib/cli/command.ts";
import { formatScore, measureStyle } from "./lib/text/number-format.ts";
import { EXPERIMENT_OPTION } from "./lib/experiment/artifacts.ts";
import { CliError, EXIT } from "./lib/cli/errors.ts";
import type { Round } from "./lib/experiment/schema.ts";
import type { LoadedExperiment } from "./lib/experiment/experiment-file.ts";
import type { BaselineReport } from "./lib/baseline/report.ts";

export const spec = defineCommand({
  name: "baseline.ts",
  summary: "measure the unchanged code and prove the harness is sound",
  usage: "baseline.ts [--runs 3] [--worktree [--worktree-path PATH] [--share PATH]...] [--experiment PATH] [--json]",
  options: {
    runs: {
      type: "integer",
      min: 1,
      description: "eval runs on the unchanged code (default: decision.baseline_runs, 3)",
      valueName: "N",
    },
    "expected-gain": {
      type: "number",
      exclusiveMin: 0,
      description: "the per-iteration gain you hope for, in metric units (warns when noise is larger)",
      valueName: "X",
    },
    "allow-few": { type: "boolean", description: "accept fewer than 15 test cases (with a warning)" },
    "allow-insensitive": {
      type: "boolean",
      description: "accept an eval whose score does not move when the file is broken",
    },
    branch: {
      type: "boolean",
      description: "create or switch to autoresearch/<name> (--no-branch to stay on the current branch)",
      default: true,
    },
    worktree: {
      type: "boolean",
      description:
        "run the experiment in its own git worktree on autoresearch/<name>, leaving this checkout, branch and index alone",
    },
    "worktree-path": {
      type: "string",
      description: "with --worktree: where the worktree goes (default .autoresearch/worktrees/<name>)",
      valueName: "PATH",
    },
    share: {
      type: "string",
      multiple: true,
      description:
        "with --worktree: an ignored folder of this checkout to link into the worktree (data, a build); node_modules, .venv and venv are linked when present",
      valueName: "PATH",
    },
    force: {
      type: "boolean",
      description: "re-baseline a round that already has results (the old journal is kept as a backup)",
    },
    experiment: EXPERIMENT_OPTION,
    json: { type: "boolean", description: "print one JSON object on stdout" },
  },
  examples: [
    "bun scripts/baseline.ts",
    "bun scripts/baseline.ts --runs 5 --expected-gain 0.005",
    "bun scripts/baseline.ts --worktree --share data",
    "deno run -A scripts/baseline.ts --json | jq .sd",
  ],
  exitCodes: {
    1: "the eval failed, timed out, or does not exercise the constrained file",
    75: "another harness process holds the experiment lock",
    130: "interrupted (the constrained file was restored)",
  },
});

export function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async ({ values }) => {
    // Loaded only after argv parsed: --help and usage errors never pay for the library.
    const [
      { findRound, loadLocatedExperiment, preloadExperimentParsers },
      { requireRepositoryRoot },
      { runBaseline },
      { createStatusLine },
      { kitCommand },
      { displayPath, resolveIn },
      { isInOwnWorktree },
    ] = await Promise.all([
      import("./lib/experiment/experiment-file.ts"),
      import("./lib/git/git.ts"),
      import("./lib/baseline/baseline.ts"),
      import("./lib/cli/status-line.ts"),
      import("./lib/cli/kit.ts"),
      import("./lib/files/paths.ts"),
      import("./lib/baseline/isolate.ts"),
    ]);
    await preloadExperimentParsers(); // baseline validates and saves the experiment file either way
    const root = requireRepositoryRoot(process.cwd(), kitCommand("baseline"));
    const located = loadLocatedExperiment(values.experiment, process.cwd(), root);
    if (!values.worktree && (values["worktree-path"] !== undefined || values.share !== undefined)) {
      throw new CliError(
        `--worktree-path and --share apply to a new worktree: ${kitCommand("baseline")} --worktree${
          values["worktree-path"] ? ` --worktree-path ${values["worktree-path"]}` : ""
        }`,
        "E_USAGE",
      );
    }
    const loaded = await inOwnWorktree(located, values, note);
    const report = await runBaseline(loaded, {
      runs: values.runs ?? loaded.experiment.decision.baseline_runs,
      expectedGain: values["expected-gain"] ?? null,
      allowFew: Boolean(values["allow-few"]),
      allowInsensitive: Boolean(values["allow-insensitive"]),
      branch: values.branch,
      force: Boolean(values.force),
      status: createStatusLine(),
      notes: note,
      evalFailureHint: isInOwnWorktree(loaded)
        ? worktreeHint(displayPath(loaded.root), kitCommand("baseline"))
        : undefined,
    });
    if (values.json) printJson(report);
    else printData(formatReport(report));
    note(
      reviewAdvice(
        findRound(loaded.experiment, report.round),
        kitCommand("iterate"),
        (path) => displayPath(resolveIn(loaded.root, path)),
        loaded.root === located.root ? null : displayPath(loaded.root),
      ),
    );
    return EXIT.OK;
  });
}

/**
 * An eval that fails in a new worktree most often misses an ignored file of the user's checkout
 * (a dataset, a build, a virtualenv): the failure says so, and how to link it.
 */
function worktreeHint(worktree: string, baseline: string): string {
  return ` It ran in the experiment's worktree "${worktree}", which holds your tracked files and the harness's only: if the eval needs ignored files of your checkout (a dataset, a build), link them and re-run: ${baseline} --worktree --share PATH`;
}

/** With --worktree, the experiment as it is in its own worktree (created now unless it already runs in one). */
async function inOwnWorktree(
  located: LoadedExperiment,
  values: { worktree?: boolean; "worktree-path"?: string; share?: string[] },
  notes: (message: string) => void,
): Promise<LoadedExperiment> {
  if (!values.worktree) return located;
  const { isInOwnWorktree, isolateExperiment, shareIntoWorktree } = await import("./lib/baseline/isolate.ts");
  if (isInOwnWorktree(located)) {
    if (values["worktree-path"] !== undefined) {
      notes(
        `The experiment already runs in its own worktree "${located.root}"; --worktree-path applies when it is created.`,
      );
    }
    if (values.share?.length) {
      const linked = shareIntoWorktree(located, values.share, process.cwd());
      notes(
        `Linked ${linked.map((path) => `"${path}"`).join(", ")} from your checkout into the experiment's worktree.`,
      );
    }
    return located;
  }
  const isolated = await isolateExperiment(located, {
    path: values["worktree-path"] ?? null,
    share: values.share ?? [],
    cwd: process.cwd(),
    notes,
  });
  return isolated.loaded;
}

function formatReport(report: BaselineReport): string {
  const figure = (value: number | null) => (value === null ? "n/a" : Number(value.toPrecision(4)).toString());
  // The score's own figures are written as the dashboard writes them: four significant digits
  // would show val_bpb 1.216075 as 1.216, hiding differences its noise (sd 0.0004) can see.
  const scoreStyle = measureStyle(report.runs);
  const score = (value: number | null) => (value === null ? "n/a" : formatScore(value, scoreStyle));
  const lines = [
    `baseline ${score(report.score)} (median of ${report.runs.length}: ${report.runs.join(", ")})`,
    `noise    mean ${score(report.mean)}, median ${score(report.median)}, sd ${figure(report.sd)}, spread ${
      figure(report.spread)
    }, CV ${report.cv === null ? "n/a" : (report.cv * 100).toFixed(2) + "%"}, ${
      report.deterministic ? "deterministic" : report.runs.length < 2 ? "noise unknown (one run)" : "noisy"
    }; min detectable effect ${figure(report.min_detectable_effect)}${
      report.min_detectable_effect_df === null ? "" : ` (${report.min_detectable_effect_df} df)`
    }; min_delta ${figure(report.min_delta)}`,
  ];
  if (report.guard) {
    lines.push(
      `guard    ${report.guard.metric} ${
        figure(report.guard.score)
      } ${report.guard.op} ${report.guard.threshold_text}: ${
        report.guard.pass === null ? "unknown" : report.guard.pass ? "PASS" : "FAIL"
      }${
        report.guard.runs.length > 1
          ? ` (median of ${report.guard.runs.length}: ${report.guard.runs.join(", ")}; mean ${
            figure(report.guard.mean)
          }, sd ${figure(report.guard.sd)}, spread ${figure(report.guard.spread)}${
            report.guard.near_threshold ? "; within its noise of the threshold" : ""
          })`
          : ""
      }`,
    );
  }
  lines.push(
    `cache    ${
      report.cache.warm
        ? "later runs faster (cache warm)"
        : report.cache.faster
        ? "later runs faster (start-up warm-up; the eval wrote no cache)"
        : "no speed-up"
    }`,
    `revert   ${report.revert.ok ? "ok" : "FAILED"}; probe ${
      report.probe.sensitive ? "sensitive" : "INSENSITIVE"
    } (${report.probe.method})`,
    `estimate ${report.estimate.eval_seconds} s per eval × ${report.estimate.runs_per_iteration} runs × ${report.estimate.iterations} iterations ≈ ${
      report.estimate.total_minutes.toFixed(1)
    } min`,
    `frozen   ${Object.keys(report.hashes).join(", ") || "(none)"}`,
    `branch   ${report.branch ?? "(detached)"} at ${report.commit}; journal ${report.journal}${
      report.backup ? ` (old journal kept as ${report.backup})` : ""
    }`,
  );
  if (report.warnings.length) lines.push(`warnings ${report.warnings.length} (see above)`);
  return lines.join("\n");
}

/**
 * The seed's last step before launch: a person reviews the harness. `iterate` runs iterate.ts
 * here; `shown` spells a path of the experiment as seen from here (baseline may run in a subfolder).
 */
function reviewAdvice(
  round: Round,
  iterate: string,
  shown: (path: string) => string,
  workFolder: string | null,
): string {
  const instructions = shown(round.artifacts.instructions);
  const launchPrompt = shown(round.artifacts.launch_prompt);
  return [
    "",
    `Stop and review before launching: ${instructions} (levers, rules, strategy), the eval script${
      round.eval.script ? ` ${shown(round.eval.script)}` : ""
    }`,
    "(does SCORE measure what you care about?), the test data (bad labels steer the agent wrong)",
    `and ${launchPrompt}. Then start the loop: ${iterate} --loop --agent "CMD"`,
    `or hand ${launchPrompt} to your agent, which runs ${iterate} -m "..." after each edit${
      workFolder
        ? `; start that agent in ${workFolder}, the experiment's worktree, where it edits and runs everything`
        : ""
    }.`,
  ].join("\n");
}

runIfMain(import.meta, main);
