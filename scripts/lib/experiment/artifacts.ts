// The names of the files the kit writes: the experiment file, the harness's state and
// cache folders, and each round's artifacts (instructions_2.md, autoresearch_2.jsonl,
// autoresearch_dashboard_2.md, autoresearch_progress_2.svg, eval_2.py, ...). Pure name
// arithmetic (and the --experiment option that names the file): it reads, writes and checks no file.
import { basename, dirname, extname, join } from "node:path";
import type { Round } from "./schema.ts";

export const EXPERIMENT_FILE = "autoresearch.yaml";
/** Every script's --experiment option, as its declaration reads it (found as locate.ts finds it). */
export const EXPERIMENT_OPTION = {
  type: "string",
  valueName: "PATH",
  description: `the experiment file (default: the nearest ${EXPERIMENT_FILE} from here up to the repository root)`,
} as const;
/** Harness state that is never committed: logs, patches, locks, backups. */
export const STATE_DIR = ".autoresearch";
/** The eval's cache folder, beside the experiment file; excluded from git. */
export const CACHE_DIR = ".autoresearch_cache";
/** The default journal of round 1; other rounds' follow from it. */
export const FIRST_JOURNAL = "autoresearch.jsonl";
/** The progress chart of any round under its default name (autoresearch_progress_3.svg). */
export const DEFAULT_CHART_NAME = /^autoresearch_progress(_\d+)?\.svg$/;

const ROUND_SUFFIX = /_(\d+)$/;

/**
 * The same artifact for another round, from any round's name: `instructions.md` for round 1,
 * `instructions_2.md` for round 2; roundArtifactPath("autoresearch_3.jsonl", 1) -> "autoresearch.jsonl".
 */
export function roundArtifactPath(path: string, round: number): string {
  const extension = extname(path);
  const stem = path.slice(0, path.length - extension.length).replace(ROUND_SUFFIX, "");
  return round <= 1 ? `${stem}${extension}` : `${stem}_${round}${extension}`;
}

/** The round a name carries in its suffix: "autoresearch_3.jsonl" -> 3, "autoresearch.jsonl" -> null. */
export function roundInName(path: string): number | null {
  const suffix = ROUND_SUFFIX.exec(basename(path, extname(path)));
  return suffix ? Number(suffix[1]) : null;
}

/** A generated eval's path for `round`: evalScriptPath(".py", 2) -> "autoresearch_eval_2.py". */
export function evalScriptPath(extension: string, round: number): string {
  return roundArtifactPath(`autoresearch_eval${extension}`, round);
}

/** A new experiment's artifact names for `round`. */
export function defaultArtifacts(round: number): Round["artifacts"] {
  return nextArtifacts({
    journal: FIRST_JOURNAL,
    dashboard: "autoresearch_dashboard.md",
    instructions: "instructions.md",
    launch_prompt: "launch_prompt.md",
    report: "autoresearch_report.md",
  }, round);
}

/** A round's artifact paths renamed for `round`, beside the originals. */
export function nextArtifacts(previous: Round["artifacts"], round: number): Round["artifacts"] {
  return {
    journal: roundArtifactPath(previous.journal, round),
    dashboard: roundArtifactPath(previous.dashboard, round),
    instructions: roundArtifactPath(previous.instructions, round),
    launch_prompt: roundArtifactPath(previous.launch_prompt, round),
    report: roundArtifactPath(previous.report, round),
  };
}

/**
 * Where a journal's dashboard, chart and report live when no experiment file says:
 * autoresearch.jsonl -> autoresearch_dashboard.md, autoresearch_progress.svg, autoresearch_report.md;
 * autoresearch_2.jsonl -> autoresearch_dashboard_2.md, ...; notes.jsonl -> notes_dashboard.md, ...
 */
export function artifactsBesideJournal(
  journalPath: string,
): { dashboardPath: string; chartPath: string; reportPath: string } {
  const extension = extname(journalPath);
  const name = basename(journalPath, extension);
  const match = name.match(/^(.*?)(_\d+)$/);
  const [stem, roundSuffix] = match ? [match[1], match[2]] : [name, ""];
  const directory = dirname(journalPath);
  return {
    dashboardPath: join(directory, `${stem}_dashboard${roundSuffix}.md`),
    chartPath: join(directory, `${stem}_progress${roundSuffix}.svg`),
    reportPath: join(directory, `${stem}_report${roundSuffix}.md`),
  };
}

/** autoresearch_dashboard_2.md -> autoresearch_progress_2.svg; board.md -> board_progress.svg. */
export function siblingArtifact(dashboardPath: string, role: string, extension: string): string {
  const name = basename(dashboardPath, extname(dashboardPath));
  const index = name.lastIndexOf("dashboard");
  const renamed = index >= 0 ? name.slice(0, index) + role + name.slice(index + "dashboard".length) : `${name}_${role}`;
  return join(dirname(dashboardPath), renamed + extension);
}
