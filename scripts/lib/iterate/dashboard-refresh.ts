// Re-rendering a round's dashboard and chart from its journal after a step or a recovery.
// Rendering itself is dashboard/'s; this only names the round's files, and the quiet form
// turns a rendering failure into a warning so a recorded step is never reported as failed.
import { resolveIn } from "../files/paths.ts";
import type { Round } from "../experiment/schema.ts";
import type { LoadedExperiment } from "../experiment/experiment-file.ts";
import { writeDashboard } from "../dashboard/files.ts";
import type { StepOptions } from "./step-context.ts";

/** Re-render the round's dashboard and chart; returns the dashboard's path. */
export function refreshDashboard(loaded: LoadedExperiment, round: Round): string {
  const rendered = writeDashboard({
    journalPath: resolveIn(loaded.root, round.artifacts.journal),
    dashboardPath: resolveIn(loaded.root, round.artifacts.dashboard),
    reportPath: resolveIn(loaded.root, round.artifacts.report),
    experiment: loaded.experiment,
    round: round.round,
  });
  return rendered.dashboardPath;
}

export function refreshDashboardQuietly(loaded: LoadedExperiment, round: Round, options: StepOptions): string | null {
  try {
    return refreshDashboard(loaded, round);
  } catch (error) {
    options.notes(`warning: the dashboard could not be rendered: ${(error as Error).message}`);
    return null;
  }
}
