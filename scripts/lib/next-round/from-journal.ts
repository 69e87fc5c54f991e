// next-round from a journal alone, for the seed's prose-driven loop (no experiment file):
// round N's journal, and earlier rounds' journals beside it, summarised into instructions_N+1.md,
// a seed-style launch prompt and the new journal's config header. Without an experiment file it
// copies no eval, records no round and renders no dashboard, and says so. It writes nothing.
import { existsSync } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
import { CliError } from "../cli/errors.ts";
import {
  artifactsBesideJournal,
  defaultArtifacts,
  EXPERIMENT_FILE,
  FIRST_JOURNAL,
  roundArtifactPath,
  roundInName,
  STATE_DIR,
} from "../experiment/artifacts.ts";
import { displayPath } from "../files/paths.ts";
import { CO_OPTIMIZATION_WARNING } from "../harness/instructions.ts";
import { type ConfigLine, iterationResults, type Journal, readJournal } from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import {
  checkRoundFiles,
  coOptimizationWarning,
  digestRound,
  type LeverCache,
  leversNeverTouched,
  leversOf,
  nextConstrainedFiles,
} from "./evidence.ts";
import type { NextRoundFile, NextRoundOptions, NextRoundPlan } from "./plan.ts";
import { shellQuote } from "../text/shell-quote.ts";
import { renderEarlierRounds, renderTargets, type RoundDigest } from "./round-summary.ts";
import { summarizeJournal, type Summary } from "../experiment/summary.ts";
import { journalTimestamp } from "../text/timestamp.ts";

/** Fields of round N's header that describe its own baseline measurement, not the next round's. */
const MEASURED_FIELDS = ["noise", "hashes", "baselined_at"] as const;

/** Round N as a journal alone records it, and what every planning phase shares. */
type SeedRound = {
  cwd: string;
  repoRoot: string;
  /** The journal's folder: round N+1's files go beside it. */
  root: string;
  journalPath: string;
  shown: string;
  journal: Journal;
  config: ConfigLine;
  summary: Summary;
  fromRound: number;
  warnings: string[];
};

/** Round N+1's files beside the journal, and the existing ones --force replaces. */
type SeedPaths = {
  nextJournal: string;
  instructions: string;
  launchPrompt: string;
  dashboard: string;
  report: string;
  replaced: string[];
  stale: string[];
};

export async function planFromJournal(repoRoot: string, options: NextRoundOptions): Promise<NextRoundPlan> {
  const roundN = readSeedRound(repoRoot, options);
  const { constrainedFiles, coOptimization, newFiles } = await chooseSeedFiles(roundN, options);
  const paths = seedPaths(roundN, options.force === true);
  const { page, digests } = await describeSeedRound(roundN, paths, {
    constrainedFiles,
    newFiles,
    coOptimization: coOptimization !== null,
    focus: options.focus,
  });
  const { cwd, root, config, fromRound } = roundN;
  const round = fromRound + 1;
  const header: ConfigLine = {
    ...config,
    round,
    baseline: null,
    constrained_file: constrainedFiles[0],
    created_at: journalTimestamp(),
    previous_round: fromRound,
    previous_best: roundN.summary.best.score,
  };
  if (Array.isArray(config.constrained_files) || constrainedFiles.length > 1) {
    header.constrained_files = constrainedFiles;
  }
  for (const field of MEASURED_FIELDS) delete header[field];
  const files: NextRoundFile[] = [
    { path: paths.instructions, role: "instructions", content: renderJournalOnlyInstructions(page) },
    { path: paths.launchPrompt, role: "launch prompt", content: renderJournalOnlyLaunchPrompt(page) },
    { path: paths.nextJournal, role: "journal header (baseline pending)", content: `${JSON.stringify(header)}\n` },
  ];
  const initCommand = `${kitCommand("init", { cwd })} ${shellQuote(constrainedFiles[0])} --eval-cmd ${
    shellQuote(config.eval_command || "CMD")
  }`;
  return {
    mode: "journal",
    fromRound,
    round,
    stateDir: join(root, STATE_DIR),
    files,
    experimentPath: null,
    experiment: null,
    replaced: paths.replaced,
    stale: paths.stale,
    digests,
    constrainedFiles,
    coOptimization,
    warnings: roundN.warnings,
    cannotDo: [
      `no eval script for round ${round}: it runs round ${fromRound}'s eval command unchanged ("${config.eval_command}"), which keeps its test data and metric`,
      `no experiment file to update and no dashboard rendered, so baseline.ts and iterate.ts cannot run round ${round}; to hand the bookkeeping to the kit, set up an experiment: ${initCommand}`,
    ],
    next: [
      `Review ${displayPath(paths.instructions, cwd)} (the summary of earlier rounds and the targets).`,
      `Re-measure round ${fromRound}'s best as round ${round}'s starting point: run the eval 3 times on the unchanged code and write the median as "baseline" in line 1 of ${
        displayPath(paths.nextJournal, cwd)
      }.`,
      `Then hand ${displayPath(paths.launchPrompt, cwd)} to the agent.`,
    ],
  };
}

/** Round N's journal with its config line, a baseline and results; refused, naming what is missing, otherwise. */
function readSeedRound(repoRoot: string, options: NextRoundOptions): SeedRound {
  const cwd = options.cwd;
  const journalPath = resolve(cwd, options.journal ?? FIRST_JOURNAL);
  const shown = displayPath(journalPath, cwd);
  if (!existsSync(journalPath)) {
    throw new CliError(
      options.journal
        ? `No journal at "${shown}"; check the path given to --journal.`
        : `No ${EXPERIMENT_FILE} and no journal at "${shown}": pass --journal PATH, or set up an experiment: ${
          kitCommand("init", { cwd })
        } path/to/file`,
      "E_NO_JOURNAL",
    );
  }
  const journal = readJournal(journalPath, shown);
  const config = journal.config;
  if (!config) {
    throw new CliError(
      `"${shown}" has no config line (line 1: {"type": "config", "constrained_file", "eval_command", "metric", "baseline", ...}); add the seed's config header, or set up an experiment: ${
        kitCommand("init", { cwd })
      } path/to/file`,
      "E_NO_CONFIG",
    );
  }
  const fromRound = roundOfJournal(journalPath, config);
  const summary = summarizeJournal(journal, { round: fromRound });
  if (summary.start === null) {
    throw new CliError(
      `Round ${fromRound} has no baseline in "${shown}": add "baseline": <score> to its config line (the median of 3 eval runs on the unchanged code), then re-run next-round.`,
      "E_NO_BASELINE",
    );
  }
  if (iterationResults(journal).length === 0) {
    throw new CliError(
      `Round ${fromRound} has no results yet in "${shown}": nothing to learn from. Run some iterations first (one result line each), then re-run next-round.`,
      "E_NO_RESULTS",
    );
  }
  return {
    cwd,
    repoRoot,
    root: dirname(journalPath),
    journalPath,
    shown,
    journal,
    config,
    summary,
    fromRound,
    warnings: [...journal.warnings],
  };
}

/** The journal's constrained files, switched (--file) or joined (--add-file); refused when none is known. */
async function chooseSeedFiles(
  roundN: SeedRound,
  options: NextRoundOptions,
): Promise<{ constrainedFiles: string[]; coOptimization: string | null; newFiles: string[] }> {
  const { cwd, repoRoot, root, fromRound } = roundN;
  const fileContext = { cwd, repoRoot, root, frozen: [] as string[] };
  const switched = await checkRoundFiles(options.files ?? [], "--file", fileContext);
  const added = await checkRoundFiles(options.addFiles ?? [], "--add-file", fileContext);
  const previousFiles = roundN.summary.constrainedFiles;
  const constrainedFiles = nextConstrainedFiles(previousFiles, switched, added);
  if (constrainedFiles.length === 0) {
    throw new CliError(
      `The config line of "${roundN.shown}" names no constrained_file; pass the file round ${
        fromRound + 1
      } tunes: --file PATH`,
      "E_NO_FILE",
    );
  }
  const coOptimization = previousFiles.length > 0
    ? coOptimizationWarning(fromRound, previousFiles, constrainedFiles)
    : null;
  return {
    constrainedFiles,
    coOptimization,
    newFiles: constrainedFiles.filter((file) => !previousFiles.includes(file)),
  };
}

/** Round N+1's paths beside the journal; existing ones are refused, naming each, unless --force replaces them. */
function seedPaths(roundN: SeedRound, force: boolean): SeedPaths {
  const { cwd, root } = roundN;
  const round = roundN.fromRound + 1;
  const nextJournal = roundArtifactPath(roundN.journalPath, round);
  const beside = artifactsBesideJournal(nextJournal);
  const instructions = join(root, defaultArtifacts(round).instructions);
  const launchPrompt = join(root, defaultArtifacts(round).launch_prompt);
  const replaced = [instructions, launchPrompt, nextJournal].filter((path) => existsSync(path));
  const stale = [beside.dashboardPath, beside.chartPath, beside.reportPath].filter((path) => existsSync(path));
  if (replaced.length + stale.length > 0 && !force) {
    const names = [...replaced, ...stale].map((path) => `"${displayPath(path, cwd)}"`);
    throw new CliError(
      `Not overwriting round ${round}'s existing ${names.length === 1 ? "artifact" : "artifacts"} ${
        names.join(", ")
      }. Pass --force to replace ${
        names.length === 1 ? "it" : "them"
      } (backups go to ${STATE_DIR}/backups/), or continue round ${round} with: ${
        kitCommand("next-round", { cwd })
      } --journal ${shellQuote(displayPath(nextJournal, cwd))}`,
      "E_EXISTS",
    );
  }
  return {
    nextJournal,
    instructions,
    launchPrompt,
    dashboard: beside.dashboardPath,
    report: beside.reportPath,
    replaced,
    stale,
  };
}

/** Every earlier round whose journal sits beside this one, oldest first, digested into the page the instructions are rendered from. */
async function describeSeedRound(
  roundN: SeedRound,
  paths: SeedPaths,
  choice: { constrainedFiles: string[]; newFiles: string[]; coOptimization: boolean; focus?: string },
): Promise<{ page: JournalOnlyPage; digests: RoundDigest[] }> {
  const { cwd, root, journalPath, config, summary, fromRound, warnings } = roundN;
  const { constrainedFiles, newFiles } = choice;
  const cache: LeverCache = new Map();
  const digests: RoundDigest[] = [];
  for (let earlier = 1; earlier <= fromRound; earlier++) {
    const path = earlier === fromRound ? journalPath : roundArtifactPath(journalPath, earlier);
    const earlierJournal = earlier === fromRound ? roundN.journal : readJournal(path, displayPath(path, cwd));
    if (!earlierJournal.config) continue;
    const earlierSummary = earlier === fromRound ? summary : summarizeJournal(earlierJournal, { round: earlier });
    digests.push(
      await digestRound(
        {
          root,
          displayFrom: root,
          round: earlier,
          constrainedFiles: earlierSummary.constrainedFiles,
          journalPath: path,
          journal: earlierJournal,
          summary: earlierSummary,
          reportPath: artifactsBesideJournal(path).reportPath,
          focus: null,
        },
        cache,
        warnings,
      ),
    );
  }
  const previousDigest = digests[digests.length - 1];
  const levers = (await leversOf(root, constrainedFiles, cache, warnings)) ?? [];
  const names = {
    journal: basename(paths.nextJournal),
    dashboard: basename(paths.dashboard),
    report: basename(paths.report),
    instructions: basename(paths.instructions),
    previousInstructions: existsSync(join(root, defaultArtifacts(fromRound).instructions))
      ? defaultArtifacts(fromRound).instructions
      : null,
  };
  const targets = renderTargets({
    previous: previousDigest,
    constrainedFiles,
    newFiles,
    untouchedLevers: leversNeverTouched(previousDigest, levers, constrainedFiles, newFiles),
    remeasure:
      `Run the eval 3 times on the unchanged code and write the median as "baseline" in line 1 of \`${names.journal}\`; gains are counted from there.`,
  });
  const page: JournalOnlyPage = {
    name: config.name || basename(constrainedFiles[0], extname(constrainedFiles[0])),
    round: fromRound + 1,
    fromRound,
    constrainedFiles,
    evalCommand: config.eval_command,
    metric: summary.metric.name,
    direction: summary.metric.direction,
    guard: summary.guard
      ? `${summary.guard.metric} ${summary.guard.op} ${summary.guard.threshold}${
        summary.guard.basis ? ` (${summary.guard.basis})` : ""
      }`
      : null,
    minDelta: config.min_delta ?? null,
    iterations: config.iterations ?? null,
    plateau: summary.plateau.threshold,
    names,
    focus: choice.focus?.trim() ? choice.focus.trim() : null,
    earlierRounds: renderEarlierRounds(digests, targets),
    coOptimization: choice.coOptimization,
    dashboardCommand: `${kitCommand("dashboard", { cwd: root })} --journal ${shellQuote(basename(paths.nextJournal))}`,
  };
  return { page, digests };
}

/** A journal's round: its config's "round", else its name's suffix (autoresearch_3.jsonl -> 3), else 1. */
function roundOfJournal(path: string, config: ConfigLine): number {
  return config.round ?? roundInName(path) ?? 1;
}

type JournalOnlyPage = {
  name: string;
  round: number;
  fromRound: number;
  constrainedFiles: string[];
  evalCommand: string;
  metric: string;
  direction: "max" | "min";
  guard: string | null;
  minDelta: number | null;
  iterations: number | null;
  /** Non-keeps in a row that mean a plateau: the journal's "plateau", else the schema's budget.plateau. */
  plateau: number;
  names: {
    journal: string;
    dashboard: string;
    report: string;
    instructions: string;
    previousInstructions: string | null;
  };
  focus: string | null;
  earlierRounds: string;
  coOptimization: boolean;
  /** The kit's dashboard.ts for this round's journal: it renders the seed's dashboard from the journal alone. */
  dashboardCommand: string;
};

/** instructions_N+1.md for a prose-driven loop: the agent runs the eval and keeps the journal itself. */
export function renderJournalOnlyInstructions(page: JournalOnlyPage): string {
  const files = page.constrainedFiles.map((file) => `\`${file}\``).join(" and ");
  const better = page.direction === "min" ? "lower is better" : "higher is better";
  const sections = [
    `# Autoresearch: ${page.name} — Round ${page.round}`,
    page.focus ? `## Focus of this round\n\n${page.focus}` : "",
    `## Summary of earlier rounds\n\n${page.earlierRounds}`,
    page.coOptimization ? CO_OPTIMIZATION_WARNING : "",
    [
      "## This round",
      "",
      `- **Constrained file${page.constrainedFiles.length > 1 ? "s" : ""}:** ${files}: the only file${
        page.constrainedFiles.length > 1 ? "s" : ""
      } you may edit.`,
      `- **Eval:** \`${page.evalCommand}\`, unchanged from round ${page.fromRound}: the same test data and metric, so scores compare across rounds. Do not edit the eval or its test data.`,
      `- **Metric:** ${page.metric} (${better})${
        page.guard
          ? `; **guard:** ${page.guard}: a change that crosses it is a guard_fail and is reverted, whatever its score`
          : ""
      }.`,
      `- **Minimum improvement:** ${
        page.minDelta !== null
          ? `keep a change only when it beats the best by more than ${page.minDelta}`
          : "keep a change only when it beats the best by more than the eval's run-to-run noise"
      }.`,
      ...(page.iterations !== null ? [`- **Budget:** ${page.iterations} iterations.`] : []),
      ...(page.names.previousInstructions
        ? [
          `- Round ${page.fromRound}'s instructions, \`${page.names.previousInstructions}\`, still hold for the rules, the eval and the strategy; where they name the journal, dashboard or report, use this round's files below.`,
        ]
        : []),
    ].join("\n"),
    [
      "## State tracking",
      "",
      `- \`${page.names.journal}\` is this round's memory. Line 1, the config header, is written; its "baseline" stays null until round ${page.fromRound}'s best is re-measured (the median of 3 eval runs on the unchanged code). Append one line per iteration in the seed's format: \`{"type": "result", "iteration", "commit", "score", "delta", "guard_score", "guard_pass", "status", "description", "timestamp"}\`, status one of baseline, keep, discard, crash, guard_fail.`,
      `- Regenerate \`${page.names.dashboard}\` after every iteration (\`${page.dashboardCommand}\` writes it from the journal).`,
      `- If you lose context or are resuming: read \`${page.names.journal}\` and \`${page.names.dashboard}\`, continue from the last iteration number, and do not retry a change this journal or the summary above shows was discarded.`,
      `- When done, write the final report to \`${page.names.report}\`: start and best score, the top 3 changes, what did not work, where it plateaued, and what a next round should target.`,
    ].join("\n"),
  ];
  return `${sections.filter(Boolean).join("\n\n")}\n`;
}

export function renderJournalOnlyLaunchPrompt(page: JournalOnlyPage): string {
  const files = page.constrainedFiles.map((file) => `\`${file}\``).join(" and ");
  const better = page.direction === "min" ? "lower is better" : "higher is better";
  return [
    `# Launch prompt: ${page.name}, round ${page.round}`,
    "",
    `You are running round ${page.round} of an autoresearch experiment: improve **${page.metric}** (${better}) of ${files} by editing only ${
      page.constrainedFiles.length > 1 ? "those files" : "that file"
    }.`,
    "",
    `1. Read \`${page.names.instructions}\` now, in full: what earlier rounds kept, the dead ends not to retry, and this round's targets.`,
    `2. Loop: make one focused change, run \`${page.evalCommand}\`, commit the change if it beats the best by more than the minimum improvement, otherwise revert the file; append the result line to \`${page.names.journal}\` and update \`${page.names.dashboard}\`.`,
    `3. If you lose context or are resuming: read \`${page.names.journal}\` and \`${page.names.dashboard}\` to recover your state, then continue from the last iteration number.`,
    `4. Stop when ${
      page.iterations !== null ? `the ${page.iterations}-iteration budget is spent or ` : ""
    }the score has plateaued (${page.plateau} iterations in a row without a keep); write the report to \`${page.names.report}\`, then stop.`,
    "",
  ].join("\n");
}
