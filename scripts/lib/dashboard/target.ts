// Which journal to render and where its dashboard, chart and report go: from the
// experiment file's round artifacts when there is one, else beside the journal
// (journal-only mode, for journals written by the seed's prose-driven loop).
// It reads the experiment file but renders and writes nothing.
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import {
  findExperimentFile as findNearestExperimentFile,
  findRound,
  loadExperiment,
} from "../experiment/experiment-file.ts";
import type { Experiment } from "../experiment/schema.ts";
import { followWorktreePointer } from "../experiment/worktree-pointer.ts";
import {
  artifactsBesideJournal,
  EXPERIMENT_FILE,
  FIRST_JOURNAL,
  roundArtifactPath,
  siblingArtifact,
} from "../experiment/artifacts.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { kitCommand } from "../cli/kit.ts";

export type DashboardTarget = {
  experiment: Experiment | null;
  experimentPath: string | null;
  round: number | null;
  journalPath: string;
  dashboardPath: string;
  chartPath: string;
  reportPath: string;
};

export type TargetOptions = {
  cwd: string;
  experiment?: string;
  journal?: string;
  round?: number;
  output?: string;
  /** false: a journal that does not exist yet is fine (the live page waits for it). Default true. */
  requireJournal?: boolean;
};

/** Resolve the files to read and write; throws a one-line CliError when the journal is missing. */
export function resolveDashboardTarget(options: TargetOptions): DashboardTarget {
  const experimentPath = findExperimentFile(options);
  const target = experimentPath ? targetFromExperiment(experimentPath, options) : targetFromJournal(options);
  if (options.requireJournal !== false && !existsSync(target.journalPath)) {
    const where = displayPath(target.journalPath, options.cwd);
    const next = experimentPath
      ? `Run the baseline first: ${kitCommand("baseline", { cwd: options.cwd })}`
      : `Pass --journal PATH, or set up an experiment: ${kitCommand("init", { cwd: options.cwd })} path/to/file`;
    const context = experimentPath
      ? ` (round ${target.round} of ${displayPath(experimentPath, options.cwd)})`
      : ` and no ${EXPERIMENT_FILE} was found`;
    throw new CliError(`No journal at "${where}"${context}. ${next}`, "E_NO_JOURNAL", EXIT.USAGE);
  }
  return target;
}

function targetFromExperiment(experimentPath: string, options: TargetOptions): DashboardTarget {
  const loaded = loadExperiment(experimentPath);
  const round = findRound(loaded.experiment, options.round);
  // An explicit --journal is rendered beside itself; otherwise the round's artifacts say where.
  const journalPath = options.journal
    ? resolve(options.cwd, options.journal)
    : resolveIn(loaded.root, round.artifacts.journal);
  const beside = artifactsBesideJournal(journalPath);
  const dashboardPath = options.output
    ? resolve(options.cwd, options.output)
    : options.journal
    ? beside.dashboardPath
    : resolveIn(loaded.root, round.artifacts.dashboard);
  return {
    experiment: loaded.experiment,
    experimentPath,
    round: round.round,
    journalPath,
    dashboardPath,
    chartPath: siblingArtifact(dashboardPath, "progress", ".svg"),
    reportPath: options.journal ? beside.reportPath : resolveIn(loaded.root, round.artifacts.report),
  };
}

function targetFromJournal(options: TargetOptions): DashboardTarget {
  const journalPath = resolve(options.cwd, options.journal ?? roundArtifactPath(FIRST_JOURNAL, options.round ?? 1));
  const beside = artifactsBesideJournal(journalPath);
  const dashboardPath = options.output ? resolve(options.cwd, options.output) : beside.dashboardPath;
  return {
    experiment: null,
    experimentPath: null,
    round: options.round ?? null,
    journalPath,
    dashboardPath,
    chartPath: options.output ? siblingArtifact(dashboardPath, "progress", ".svg") : beside.chartPath,
    reportPath: beside.reportPath,
  };
}

/** --experiment wins (and must exist); else the nearest autoresearch.yaml from cwd up to the repository root. */
function findExperimentFile(options: TargetOptions): string | null {
  if (options.experiment) {
    const path = resolve(options.cwd, options.experiment);
    if (!existsSync(path)) {
      throw new CliError(
        `No experiment file at "${options.experiment}". Check the path, or leave out --experiment to render the journal alone.`,
        "E_NO_EXPERIMENT",
        EXIT.USAGE,
      );
    }
    return followWorktreePointer(path);
  }
  return findNearestExperimentFile(options.cwd);
}
