// next-round's first half: find round N (from the experiment file, or from a journal alone),
// refuse with the reason when it cannot be continued, and plan every file of round N+1 —
// instructions, launch prompt, eval copy, journal header, dashboard — plus the updated
// experiment. It reads and returns data: no writes, no lock, no output (apply.ts takes the
// lock and writes). Journal-only planning lives in from-journal.ts.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { buildDashboard } from "../dashboard/files.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import {
  experimentStateDir,
  findRound,
  type LoadedExperiment,
  loadExperiment,
  locateExperiment,
} from "../experiment/experiment-file.ts";
import type { Experiment, Round } from "../experiment/schema.ts";
import { CACHE_DIR, nextArtifacts, roundArtifactPath } from "../experiment/artifacts.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { fileAtCommit, fileDiffersFromCommit, requireRepositoryRoot, resolveCommit } from "../git/git.ts";
import {
  agentCommands,
  FROZEN_BY_OWNER,
  type FrozenFile,
  readFileSummary,
  renderInstructions,
  renderLaunchPrompt,
} from "../harness/instructions.ts";
import { frozenPaths } from "../integrity/frozen-files.ts";
import { iterationResults, type Journal, journalHeaderFor, parseJournal, readJournal } from "../experiment/journal.ts";
import { kitCommand, withExperimentFlag } from "../cli/kit.ts";
import type { PlannedWrite } from "../files/planned-writes.ts";
import {
  analyseOnce,
  checkRoundFiles,
  coOptimizationWarning,
  digestRound,
  type LeverCache,
  leversNeverTouched,
  leversOf,
  nextConstrainedFiles,
} from "./evidence.ts";
import { describeProject, detectProjectOnDisk, findExistingTests } from "../harness/project.ts";
import { renderEarlierRounds, renderTargets, type RoundDigest } from "./round-summary.ts";
import { summarizeJournal, type Summary } from "../experiment/summary.ts";
import { describeObjective, nextObjective, type Objective, type ObjectiveFlags } from "../experiment/objective.ts";
import { baselineGuardFigure, describeGuard, guardSpecProblem, parseGuardSpec } from "../experiment/guard.ts";
import { holdoutStyle, overfitting } from "../experiment/holdout.ts";
import { runnerSettings } from "../process/eval-runner.ts";
import { formatDelta, formatScore } from "../text/number-format.ts";

export type NextRoundOptions = {
  cwd: string;
  files?: string[];
  addFiles?: string[];
  focus?: string;
  force?: boolean;
  experiment?: string;
  journal?: string;
  /** Plan and report what would be written, and write nothing (no lock, no recovery, no commit). */
  dryRun?: boolean;
  /** --metric, --direction, --guard, --tiebreak, --no-guard, --no-tiebreak: round N+1's objective. */
  objective?: ObjectiveFlags;
  /** --from-best-holdout: start round N+1 from the baseline or keep whose held-out score was best. */
  fromBestHoldout?: boolean;
};

/** Where round N+1 starts (--from-best-holdout), and why: the code of its constrained files. */
export type StartingPoint = {
  status: "baseline" | "keep";
  iteration: number;
  /** The commit whose constrained files round N+1 starts from. */
  commit: string;
  /** Its eval-set score in round N. */
  score: number | null;
  /** For the person: which commit and why (held-out figures included; never shown to the agent). */
  why: string;
  /** Round N's constrained files written back as that commit holds them; empty when it is round N's last keep. */
  restored: string[];
  /** Their text, by file: the instructions list the levers the files will hold, not the ones on disk now. */
  sources: Record<string, string>;
};

export type NextRoundFile = PlannedWrite;

export type NextRoundPlan = {
  mode: "experiment" | "journal";
  fromRound: number;
  round: number;
  /** Harness state folder: backups of replaced artifacts go under it. */
  stateDir: string;
  /** In write order; the experiment file (experiment mode) is saved after all of them. */
  files: NextRoundFile[];
  experimentPath: string | null;
  experiment: Experiment | null;
  /** Existing round N+1 artifacts that --force replaces; each is backed up first. */
  replaced: string[];
  /** Existing round N+1 artifacts next-round does not rewrite (an old report): moved into the backup. */
  stale: string[];
  digests: RoundDigest[];
  constrainedFiles: string[];
  coOptimization: string | null;
  warnings: string[];
  /** Journal-only use: what could not be done without an experiment file. */
  cannotDo: string[];
  /** The next steps for the person, in order. */
  next: string[];
  /** Round N's and round N+1's objectives in words, and whether the flags changed it (experiment mode). */
  objective?: { from: string; to: string; changed: boolean } | null;
  /** --from-best-holdout's choice; absent without the flag. */
  startingPoint?: StartingPoint;
};

/** Where round N is recorded: an experiment file, or (the seed's prose-driven loop) a journal alone. */
export type RoundNSource =
  | { mode: "experiment"; repoRoot: string; loaded: LoadedExperiment }
  | { mode: "journal"; repoRoot: string };

/** Find round N: the experiment file when there is one (or --experiment names it), else the journal alone. */
export async function locateRoundN(options: NextRoundOptions): Promise<RoundNSource> {
  const repoRoot = realpathSync(
    requireRepositoryRoot(options.cwd, kitCommand("next-round", { cwd: options.cwd })),
  );
  const experimentPath = locateExperiment(options.experiment, options.cwd, repoRoot);
  if (options.experiment === undefined && !existsSync(experimentPath)) {
    if (options.fromBestHoldout) {
      throw new CliError(
        "--from-best-holdout reads the held-out scores of a round the experiment file records, and there is none here (journal-only use); drop it, or run init with --holdout to create one.",
        "E_USAGE",
      );
    }
    const flags = options.objective ?? {};
    const given = flags.metric !== undefined || flags.direction !== undefined || flags.guard !== undefined ||
      Boolean(flags.tiebreaks?.length) || Boolean(flags.noGuard) || Boolean(flags.noTiebreak);
    if (given) {
      throw new CliError(
        "--metric, --direction, --guard, --tiebreak, --no-guard and --no-tiebreak change the objective recorded in the experiment file, and there is none here (journal-only use keeps round N's objective); drop them, or run init to create one.",
        "E_USAGE",
      );
    }
    return { mode: "journal", repoRoot };
  }
  if (options.journal !== undefined) {
    throw new CliError(
      `--journal is for journal-only use, but "${
        displayPath(experimentPath, options.cwd)
      }" exists and names round N's journal itself; drop --journal.`,
      "E_USAGE",
    );
  }
  return { mode: "experiment", repoRoot, loaded: loadExperiment(experimentPath) };
}

/** Round N as the experiment file records it, and what every planning phase shares. */
type RoundN = {
  loaded: LoadedExperiment;
  repoRoot: string;
  cwd: string;
  previous: Round;
  journal: Journal;
  warnings: string[];
};

/** Round N+1's record in the experiment file, its eval copy, and the existing artifacts it replaces. */
type RoundRecord = {
  nextRound: Round;
  updated: Experiment;
  evalPlan: EvalCopy;
  replaced: string[];
  stale: string[];
  objective: NonNullable<NextRoundPlan["objective"]>;
};

/**
 * Plan round N+1 from the experiment file. It reads and refuses; it writes nothing and takes
 * no lock: the caller holds the experiment's lock around this and the apply step.
 */
export async function planFromExperiment(
  loaded: LoadedExperiment,
  repoRoot: string,
  options: NextRoundOptions,
): Promise<NextRoundPlan> {
  const roundN = readRoundN(loaded, repoRoot, options.cwd);
  const { constrainedFiles, coOptimization } = await chooseConstrainedFiles(roundN, options);
  const record = planRoundRecord(roundN, constrainedFiles, options);
  const cache: LeverCache = new Map();
  const digests = await digestEarlierRounds(roundN, cache);
  const summaryN = digests[digests.length - 1].summary;
  const startingPoint = options.fromBestHoldout ? chooseBestHoldoutStart(roundN, summaryN) : undefined;
  const restored = startingPoint ? restoredFiles(roundN, startingPoint) : [];
  const files = [
    ...restored,
    ...await renderRoundFiles(roundN, record, {
      digests,
      cache,
      coOptimization: coOptimization !== null,
      startingPoint,
    }),
  ];
  const { previous, warnings } = roundN;
  const holdout = summaryN.holdout;
  if (holdout?.behind) {
    const scale = holdoutStyle(holdout.points);
    // For the person: the figures. Round N+1's instructions say it without them (round-summary.ts).
    warnings.push(
      `Overfitting? In round ${previous.round} the eval-set gain (${
        formatDelta(holdout.evalGain, scale)
      }) is ahead of the held-out gain (${
        formatDelta(holdout.holdoutGain, scale)
      }) by more than their combined noise (${formatScore(holdout.combinedNoise)})${
        startingPoint ? "" : ": --from-best-holdout starts round N+1 from the keep with the best held-out score"
      }.`
        .replace("round N+1", `round ${record.nextRound.round}`),
    );
  }
  return {
    mode: "experiment",
    fromRound: previous.round,
    round: record.nextRound.round,
    stateDir: experimentStateDir(loaded),
    files,
    experimentPath: loaded.path,
    experiment: record.updated,
    replaced: record.replaced,
    stale: record.stale,
    digests,
    constrainedFiles,
    coOptimization,
    warnings,
    cannotDo: [],
    next: nextSteps(roundN, record),
    objective: record.objective,
    ...(startingPoint ? { startingPoint } : {}),
  };
}

/**
 * --from-best-holdout: the baseline or keep of round N with the best held-out score (ties: the
 * earliest). Refused in one line when round N has no held-out scores.
 */
function chooseBestHoldoutStart(roundN: RoundN, summary: Summary): StartingPoint {
  const { loaded: { experiment, root }, previous, journal } = roundN;
  const signal = overfitting(journal.results, summary.metric.direction, {
    resolution: experiment.decision.resolution,
    holdoutShare: experiment.holdout?.split ?? null,
  });
  const line = signal.bestHoldoutLine;
  const best = signal.best;
  if (!line || !best) {
    throw new CliError(
      `--from-best-holdout needs held-out scores, and round ${previous.round}'s journal has none (the experiment has no held-out set, or it was added after round ${previous.round}'s baseline); drop the flag to start from round ${previous.round}'s last keep.`,
      "E_USAGE",
      EXIT.USAGE,
    );
  }
  const reference = line.commit ?? (best.status === "baseline" ? previous.baseline?.commit ?? null : null);
  const commit = reference ? resolveCommit(root, reference) : null;
  if (!commit) {
    throw new CliError(
      `--from-best-holdout chose #${best.iteration} of round ${previous.round}, but its commit ${
        reference ?? "(none recorded)"
      } is not in this repository; nothing was written.`,
      "E_USAGE",
      EXIT.USAGE,
    );
  }
  const name = best.status === "baseline" ? `round ${previous.round}'s baseline` : `#${best.iteration}`;
  const tied = signal.points.filter((point) => point !== best && point.holdoutScore === best.holdoutScore);
  const ties = tied.length === 0
    ? ""
    : `; tied with ${
      tied.map((point) => (point.status === "baseline" ? "the baseline" : `#${point.iteration}`)).join(", ")
    }, and a tie goes to the earliest: the fewest changes`;
  const held = `held-out ${formatScore(best.holdoutScore)}, eval set ${formatScore(best.evalScore)}${ties}`;
  const last = summary.best; // the incumbent round N ended on: its last keep, or the baseline
  const isLast = last.commit !== null && sameCommitId(last.commit, commit);
  const lastPoint = last.iteration === null
    ? null
    : signal.points.find((point) => point.status === "keep" && point.iteration === last.iteration);
  const lastText = lastPoint
    ? `; the last keep #${lastPoint.iteration} has held-out ${formatScore(lastPoint.holdoutScore)}, eval set ${
      formatScore(lastPoint.evalScore)
    }`
    : "";
  const why = isLast
    ? `Round ${roundN.previous.round + 1} starts from ${name} (${
      commit.slice(0, 7)
    }), where round ${previous.round} ended: it also has the best held-out score (${held}).`
    : `Round ${roundN.previous.round + 1} starts from ${name} (${
      commit.slice(0, 7)
    }), the best held-out score of round ${previous.round} (${held}${lastText}): its constrained files are written back, and committed with the round's files when those can be (the line below says).`;
  return {
    status: best.status,
    iteration: best.iteration,
    commit,
    score: best.evalScore,
    why,
    restored: [],
    sources: {},
  };
}

/** Round N's constrained files as the starting point's commit holds them, where they differ from HEAD's. */
function restoredFiles(roundN: RoundN, start: StartingPoint): NextRoundFile[] {
  const { loaded: { root }, previous } = roundN;
  const files: NextRoundFile[] = [];
  for (const file of previous.constrained_files) {
    if (!fileDiffersFromCommit(root, start.commit, file)) continue;
    const content = fileAtCommit(root, start.commit, file);
    if (content === null) continue; // not in that commit: the file stays as round N left it
    const text = content.toString("utf8");
    files.push({
      path: resolveIn(root, file),
      role: `constrained file as of #${start.iteration} (${start.commit.slice(0, 7)}), the best held-out score`,
      content: text,
    });
    start.restored.push(file);
    start.sources[file] = text;
  }
  return files;
}

/** Short and full ids of one commit compare equal. */
function sameCommitId(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/** Round N with its journal; refused when it has no baseline or no results to learn from. */
function readRoundN(loaded: LoadedExperiment, repoRoot: string, cwd: string): RoundN {
  const previous = findRound(loaded.experiment);
  const journalPath = resolveIn(loaded.root, previous.artifacts.journal);
  if (!previous.baseline) {
    const baselineCommand = withExperimentFlag(kitCommand("baseline", { cwd }), loaded.path, cwd, repoRoot);
    throw new CliError(
      `Round ${previous.round} has no baseline yet, so it has no start to summarise and no results to learn from. Run: ${baselineCommand}, then iterate.`,
      "E_NO_BASELINE",
    );
  }
  const journal = readJournal(journalPath, displayPath(journalPath, cwd));
  if (iterationResults(journal).length === 0) {
    const iterateCommand = withExperimentFlag(kitCommand("iterate", { cwd }), loaded.path, cwd, repoRoot);
    throw new CliError(
      `Round ${previous.round} has no results yet in "${
        displayPath(journalPath, cwd)
      }" (only its baseline): nothing to learn from. Run some iterations first: ${iterateCommand} -m "what you changed" (or --loop --agent "CMD").`,
      "E_NO_RESULTS",
    );
  }
  refuseUncommittedCandidate(loaded, previous, repoRoot, cwd);
  return { loaded, repoRoot, cwd, previous, journal, warnings: [...journal.warnings] };
}

/**
 * A constrained file that differs from HEAD holds a candidate round N never measured: the new
 * round would start from code its summary does not describe, and the new round's baseline would
 * refuse it anyway. Say how to finish it (iterate measures it, then keeps or discards it) or
 * set it aside.
 */
function refuseUncommittedCandidate(loaded: LoadedExperiment, previous: Round, repoRoot: string, cwd: string): void {
  const edited = previous.constrained_files.filter((file) => fileDiffersFromCommit(loaded.root, "HEAD", file));
  if (edited.length === 0) return;
  const names = edited.map((file) => `"${displayPath(resolveIn(loaded.root, file), cwd)}"`).join(", ");
  const shown = edited.map((file) => displayPath(resolveIn(loaded.root, file), cwd)).join(" ");
  const iterateCommand = withExperimentFlag(kitCommand("iterate", { cwd }), loaded.path, cwd, repoRoot);
  throw new CliError(
    `The constrained file${edited.length > 1 ? "s" : ""} ${names} ${
      edited.length > 1 ? "hold" : "holds"
    } an uncommitted candidate that round ${previous.round}'s journal has not measured; nothing was written. Finish it: ${iterateCommand} -m "what you changed" (it is measured, then kept or discarded), or discard it: git restore ${shown} (or keep it aside: git stash push -- ${shown}); then re-run next-round.`,
    "E_MODIFIED",
  );
}

/** Round N's files, switched (--file) or joined (--add-file) by tracked files checked here. */
async function chooseConstrainedFiles(
  roundN: RoundN,
  options: NextRoundOptions,
): Promise<{ constrainedFiles: string[]; coOptimization: string | null }> {
  const { loaded, previous, cwd, repoRoot } = roundN;
  const fileContext = { cwd, repoRoot, root: loaded.root, frozen: frozenPaths(loaded.experiment, previous) };
  const switched = await checkRoundFiles(options.files ?? [], "--file", fileContext);
  const added = await checkRoundFiles(options.addFiles ?? [], "--add-file", fileContext);
  const constrainedFiles = nextConstrainedFiles(previous.constrained_files, switched, added);
  return {
    constrainedFiles,
    coOptimization: coOptimizationWarning(previous.round, previous.constrained_files, constrainedFiles),
  };
}

/** Round N+1 in the experiment file (round N closed, later rounds dropped); refuses to overwrite without --force. */
function planRoundRecord(roundN: RoundN, constrainedFiles: string[], options: NextRoundOptions): RoundRecord {
  const { loaded: { experiment, root }, previous, cwd } = roundN;
  const fromRound = previous.round;
  const round = fromRound + 1;
  const artifacts = nextArtifacts(previous.artifacts, round);
  const objective = planObjective(roundN, options.objective ?? {});
  const evalPlan = planEvalCopy(root, previous, round, cwd);
  if (evalPlan.warning) roundN.warnings.push(evalPlan.warning);
  const nextRound: Round = {
    round,
    status: "open",
    constrained_files: constrainedFiles,
    eval: {
      command: evalPlan.command,
      script: evalPlan.script,
      timeout_s: previous.eval.timeout_s,
      ...runnerSettings(previous.eval), // the next round's evals run where this round's did
    },
    artifacts,
    focus: options.focus?.trim() ? options.focus.trim() : null,
    baseline: null,
    integrity: {},
  };
  const { existing, stale, laterRounds } = refuseOverwrite(roundN, nextRound, options.force === true);
  const updated: Experiment = {
    ...experiment,
    ...objective.fields,
    current_round: round,
    rounds: [
      ...experiment.rounds.filter((candidate) => candidate.round <= fromRound).map((
        candidate,
      ) => (candidate.round === fromRound ? { ...candidate, status: "closed" as const } : candidate)),
      nextRound,
    ],
  };
  // Dropping later rounds' records rewrites the experiment file: back it up with the rest.
  const replaced = laterRounds.length > 0 ? [...existing, roundN.loaded.path] : existing;
  return { nextRound, updated, evalPlan, replaced, stale, objective: objective.words };
}

/**
 * Round N+1's objective: round N's, changed by the flags. A metric, guard or tiebreak must be one
 * round N's eval printed (the journal's `metrics` fields), so round N+1's copy of the eval prints
 * it too; refused otherwise, before anything is written.
 */
function planObjective(
  roundN: RoundN,
  flags: ObjectiveFlags,
): { fields: Objective; words: NonNullable<NextRoundPlan["objective"]> } {
  const { loaded: { experiment }, previous, journal } = roundN;
  const current: Objective = { metric: experiment.metric, guard: experiment.guard, tiebreaks: experiment.tiebreaks };
  // `guard` (the GUARD line) and `cases` (the generated eval's case count) are not metrics of their own.
  const printed = new Set(
    journal.results.flatMap((line) => Object.keys(line.metrics ?? {})).map((name) => name.toLowerCase())
      .filter((name) => name !== "guard" && name !== "cases"),
  );
  const read = nextObjective(
    current,
    flags,
    { printed, scoreMeans: scoreMeaning(roundN), round: previous.round },
    (spec) => {
      const guard = parseGuardSpec(spec);
      return guard ? { guard } : { problem: guardSpecProblem(spec) ?? "is not a guard" };
    },
  );
  if ("problem" in read) {
    const code = read.flag === "--metric" ? "E_BAD_METRIC" : read.flag === "--guard" ? "E_BAD_GUARD" : "E_USAGE";
    throw new CliError(read.problem, code, EXIT.USAGE);
  }
  roundN.warnings.push(...read.notes);
  const describe = (objective: Objective, baseline: Round["baseline"]) =>
    describeObjective({
      metric: objective.metric.name,
      direction: objective.metric.direction,
      guard: objective.guard ? describeGuard(objective.guard, baselineGuardFigure(baseline)) : null,
      tiebreaks: objective.tiebreaks,
    });
  return {
    fields: read.objective,
    words: { from: describe(current, previous.baseline), to: describe(read.objective, null), changed: read.changed },
  };
}

/**
 * What round N's SCORE line means: its metric, unless the score was already read from a named
 * metric (an earlier next-round --metric); then the metric the eval was written for, as round
 * 1's journal header names it (every round's eval is a copy of round 1's).
 */
function scoreMeaning(roundN: RoundN): string | null {
  const { loaded: { experiment, root }, cwd } = roundN;
  if (!experiment.metric.score_from) return experiment.metric.formula ?? experiment.metric.name;
  const first = [...experiment.rounds].sort((a, b) => a.round - b.round)[0];
  const journalPath = resolveIn(root, first.artifacts.journal);
  if (!existsSync(journalPath)) return null;
  return readJournal(journalPath, displayPath(journalPath, cwd)).config?.metric ?? null;
}

/** Round N+1's existing artifacts and later rounds: refused, naming every one, unless --force replaces them. */
function refuseOverwrite(
  roundN: RoundN,
  nextRound: Round,
  force: boolean,
): { existing: string[]; stale: string[]; laterRounds: Round[] } {
  const { loaded, cwd } = roundN;
  const { artifacts, round } = nextRound;
  const at = (path: string) => resolveIn(loaded.root, path);
  const owned = [
    artifacts.instructions,
    artifacts.launch_prompt,
    artifacts.journal,
    artifacts.dashboard,
    ...(nextRound.eval.script ? [nextRound.eval.script] : []),
  ].map(at);
  const existing = owned.filter((path) => existsSync(path));
  const stale = existsSync(at(artifacts.report)) ? [at(artifacts.report)] : [];
  const laterRounds = loaded.experiment.rounds.filter((candidate) => candidate.round > roundN.previous.round);
  if ((existing.length > 0 || stale.length > 0 || laterRounds.length > 0) && !force) {
    const names = [...existing, ...stale].map((path) => `"${displayPath(path, cwd)}"`);
    if (laterRounds.length > 0) {
      names.push(`round ${laterRounds.map((later) => later.round).join(", ")} in "${displayPath(loaded.path, cwd)}"`);
    }
    throw new CliError(
      `Not overwriting round ${round}'s existing ${names.length === 1 ? "artifact" : "artifacts"} ${
        names.join(", ")
      }. Pass --force to replace ${
        names.length === 1 ? "it" : "them"
      } (backups go to .autoresearch/backups/), or look at round ${round} as it is: ${
        kitCommand("dashboard", { cwd })
      } --round ${round}`,
      "E_EXISTS",
    );
  }
  return { existing, stale, laterRounds };
}

/** Every earlier round, oldest first: the seed asks for all of them, not just round N. */
async function digestEarlierRounds(roundN: RoundN, cache: LeverCache): Promise<RoundDigest[]> {
  const { loaded: { experiment, root }, previous, cwd, warnings } = roundN;
  const digests: RoundDigest[] = [];
  for (
    const earlier of [...experiment.rounds].filter((candidate) => candidate.round <= previous.round).sort((a, b) =>
      a.round - b.round
    )
  ) {
    const journalPath = resolveIn(root, earlier.artifacts.journal);
    const journal = earlier === previous ? roundN.journal : readJournal(journalPath, displayPath(journalPath, cwd));
    if (earlier !== previous) warnings.push(...journal.warnings);
    digests.push(
      await digestRound(
        {
          root,
          displayFrom: root,
          round: earlier.round,
          constrainedFiles: earlier.constrained_files,
          journalPath,
          journal,
          summary: summarizeJournal(journal, { experiment, round: earlier.round }),
          reportPath: resolveIn(root, earlier.artifacts.report),
          focus: earlier.focus,
        },
        cache,
        warnings,
      ),
    );
  }
  return digests;
}

/** Round N+1's files in write order: the eval copy, instructions, launch prompt, journal header, chart and dashboard. */
async function renderRoundFiles(
  roundN: RoundN,
  record: RoundRecord,
  evidence: { digests: RoundDigest[]; cache: LeverCache; coOptimization: boolean; startingPoint?: StartingPoint },
): Promise<NextRoundFile[]> {
  const { loaded: { root }, previous } = roundN;
  const { nextRound, updated, evalPlan } = record;
  const { artifacts, round } = nextRound;
  const at = (path: string) => resolveIn(root, path);
  const commands = agentCommands(roundN.loaded.path, roundN.repoRoot);
  const instructions = await renderRoundInstructions(roundN, record, { ...evidence, commands });
  const metric = { name: updated.metric.name, direction: updated.metric.direction };
  const launchPrompt = renderLaunchPrompt({
    name: updated.name,
    round,
    constrainedFiles: nextRound.constrained_files,
    metric,
    iterations: updated.budget.iterations,
    artifacts,
    commands,
  });

  // From the best held-out keep, round N+1 follows that keep's score, not round N's last one.
  const previousBest = evidence.startingPoint?.score ??
    evidence.digests[evidence.digests.length - 1].summary.best.score;
  const journalText = `${
    JSON.stringify({
      ...journalHeaderFor(updated, nextRound),
      previous_round: previous.round,
      previous_best: previousBest,
    })
  }\n`;
  const dashboard = buildDashboard({
    journalPath: at(artifacts.journal),
    dashboardPath: at(artifacts.dashboard),
    reportPath: null,
    experiment: updated,
    round,
    journal: parseJournal(journalText, basename(artifacts.journal)),
  });

  const files: NextRoundFile[] = [];
  if (evalPlan.script && evalPlan.content !== null) {
    files.push({
      path: at(evalPlan.script),
      role: `eval script (round ${previous.round}'s, same test data${
        record.objective.changed ? "; the new objective is read from what it prints" : " and metric"
      })`,
      content: evalPlan.content,
      mode: evalPlan.mode,
    });
  }
  files.push({ path: at(artifacts.instructions), role: "instructions", content: instructions });
  files.push({ path: at(artifacts.launch_prompt), role: "launch prompt", content: launchPrompt });
  files.push({ path: at(artifacts.journal), role: "journal header (baseline pending)", content: journalText });
  files.push({ path: dashboard.chartPath, role: "progress chart", content: dashboard.svg });
  files.push({ path: at(artifacts.dashboard), role: "dashboard (baseline pending)", content: dashboard.markdown });
  return files;
}

/** instructions_N+1.md: the file and its levers, what earlier rounds learned, and this round's targets. */
async function renderRoundInstructions(
  roundN: RoundN,
  record: RoundRecord,
  context: {
    digests: RoundDigest[];
    cache: LeverCache;
    coOptimization: boolean;
    commands: ReturnType<typeof agentCommands>;
    startingPoint?: StartingPoint;
  },
): Promise<string> {
  const { loaded, repoRoot, previous, warnings } = roundN;
  const { experiment, root } = loaded;
  const { nextRound, evalPlan } = record;
  const { constrained_files: constrainedFiles, round, artifacts } = nextRound;
  const at = (path: string) => resolveIn(root, path);
  const previousDigest = context.digests[context.digests.length - 1];
  const primary = constrainedFiles[0];
  const entryFile = experiment.rounds[0].constrained_files[0];
  // An entry in another file (the constrained file is a config it reads) is read from that file.
  const entryElsewhere = experiment.entry?.file;
  const where = { repoRoot, root };
  // Files --from-best-holdout writes back are read as they will be, in a cache of their own.
  const sources = context.startingPoint?.sources ?? {};
  const restored = Object.keys(sources).length > 0;
  const cache: LeverCache = restored ? new Map() : context.cache;
  const analysis = await analyseOnce(
    cache,
    at(primary),
    warnings,
    primary === entryFile && !entryElsewhere ? experiment.entry?.name : undefined,
    { ...where, skipEntry: Boolean(entryElsewhere), source: sources[primary] },
  );
  const elsewhere = entryElsewhere
    ? (await analyseOnce(cache, at(entryElsewhere), warnings, experiment.entry!.name, where))?.entry
    : null;
  const entry = elsewhere
    ? { ...elsewhere, file: entryElsewhere }
    : primary === entryFile && experiment.entry
    ? analysis?.entry ?? null
    : null;
  const levers = (await leversOf(root, constrainedFiles, cache, warnings, sources)) ?? [];
  const newFiles = constrainedFiles.filter((file) => !previous.constrained_files.includes(file));
  const targets = renderTargets({
    previous: previousDigest,
    constrainedFiles,
    newFiles,
    untouchedLevers: leversNeverTouched(previousDigest, levers, constrainedFiles, newFiles),
    remeasure:
      `\`${context.commands.baseline}\` re-measures it as round ${round}'s baseline before the first iteration; gains are counted from there.`,
    ...(context.startingPoint ? { start: startingPointForAgent(context.startingPoint, previous.round) } : {}),
  });
  const project = detectProjectOnDisk(repoRoot, at(primary), root);
  return renderInstructions({
    name: experiment.name,
    round,
    constrainedFiles,
    projectDescription: describeProject(project, primary),
    fileSummary: sources[primary] !== undefined || existsSync(at(primary))
      ? readFileSummary(sources[primary] ?? readFileSync(at(primary), "utf8"), analysis?.language ?? "other")
      : null,
    levers,
    functions: analysis?.functions ?? [],
    entry,
    metric: { name: record.updated.metric.name, direction: record.updated.metric.direction },
    guard: record.updated.guard,
    tiebreaks: record.updated.tiebreaks,
    scoreFrom: record.updated.metric.score_from ?? null,
    evalCommand: evalPlan.command,
    evalScript: evalPlan.script,
    testData: experiment.test_data,
    frozen: frozenInRound(experiment, previous, constrainedFiles),
    cacheDir: CACHE_DIR,
    iterations: experiment.budget.iterations,
    plateau: experiment.budget.plateau,
    artifacts,
    commands: context.commands,
    existingTests: await findExistingTests(repoRoot, root),
    earlierRounds: renderEarlierRounds(context.digests, targets),
    focus: nextRound.focus,
    coOptimizationWarning: context.coOptimization,
  });
}

/** The starting point as the agent reads it: which code, never the held-out figures. */
function startingPointForAgent(start: StartingPoint, fromRound: number): string {
  const which = start.status === "baseline"
    ? `round ${fromRound}'s baseline`
    : `round ${fromRound}'s #${start.iteration}`;
  return `${which} (\`${start.commit.slice(0, 7)}\`${
    start.score === null ? "" : `, ${formatScore(start.score)}`
  }), which the experiment's owner chose as this round's starting point`;
}

/** The owner's frozen files, and round N's files this round no longer tunes: a change to them is restored. */
function frozenInRound(experiment: Experiment, previous: Round, constrainedFiles: string[]): FrozenFile[] {
  const outOfScope = previous.constrained_files.filter((file) => !constrainedFiles.includes(file)).map((file) => ({
    path: file,
    reason:
      `tuned in round ${previous.round} and out of scope now: a change to it is restored and the iteration discarded.`,
  }));
  return [...experiment.frozen.map((path) => ({ path, reason: FROZEN_BY_OWNER })), ...outOfScope];
}

/** What the person does next: review, re-measure round N's best, launch. */
function nextSteps(roundN: RoundN, record: RoundRecord): string[] {
  const { loaded, repoRoot, cwd, previous } = roundN;
  const { artifacts, round } = record.nextRound;
  const at = (path: string) => resolveIn(loaded.root, path);
  const fromRound = previous.round;
  const evalScript = record.evalPlan.script;
  return [
    `Review ${displayPath(at(artifacts.instructions), cwd)} (the summary of ${
      fromRound > 1 ? `rounds 1-${fromRound}` : "round 1"
    }, the targets, the levers)${evalScript ? ` and ${displayPath(at(evalScript), cwd)}` : ""}.`,
    `Re-measure round ${fromRound}'s best as round ${round}'s starting point: ${
      withExperimentFlag(kitCommand("baseline", { cwd }), loaded.path, cwd, repoRoot)
    }`,
    `Then hand ${displayPath(at(artifacts.launch_prompt), cwd)} to the agent, or run: ${
      withExperimentFlag(kitCommand("iterate", { cwd }), loaded.path, cwd, repoRoot)
    } --loop --agent "CMD"`,
  ];
}

type EvalCopy = {
  script: string | null;
  command: string;
  content: string | null;
  mode?: number;
  warning: string | null;
};

/**
 * Round N+1's eval is a copy of round N's under the `_N+1` name, never a re-rendered one: the
 * same test data, metric and guard (and any edits the owner made), so rounds compare. Only its
 * own name changes, in the command and in the copy's text. A user-brought eval (no script) is
 * run unchanged.
 */
function planEvalCopy(root: string, previous: Round, round: number, cwd: string): EvalCopy {
  const script = previous.eval.script;
  if (!script) return { script: null, command: previous.eval.command, content: null, warning: null };
  const source = resolveIn(root, script);
  if (!existsSync(source)) {
    throw new CliError(
      `Round ${previous.round}'s eval script "${
        displayPath(source, cwd)
      }" is missing, so round ${round} has no eval to copy; restore it (git checkout -- ${script}) and re-run next-round.`,
      "E_NO_EVAL",
      EXIT.USAGE,
    );
  }
  const nextScript = roundArtifactPath(script, round);
  const command = renameEvalReferences(previous.eval.command, script, nextScript, { commandLine: true });
  const warning = command === previous.eval.command
    ? `round ${previous.round}'s eval command "${command}" does not name "${script}", so round ${round} runs it unchanged; edit rounds[${round}].eval.command to run "${nextScript}" if it should.`
    : null;
  const content = renameEvalReferences(readFileSync(source, "utf8"), script, nextScript, { commandLine: false });
  return { script: nextScript, command, content, mode: statSync(source).mode & 0o777, warning };
}

/**
 * Replace an eval's own name with the next round's: its path, its file name, or (for a Django
 * management command) its stem. Only names that cannot be an ordinary word are replaced: a path
 * or file name holding "." or "/", a stem holding "autoresearch" (`make eval` stays as it is).
 * renameEvalReferences("python3 eval.py", "eval.py", "eval_2.py", {commandLine: true}) -> "python3 eval_2.py"
 */
export function renameEvalReferences(
  text: string,
  oldPath: string,
  newPath: string,
  options: { commandLine: boolean },
): string {
  const stem = (path: string) => basename(path, extname(path));
  const pairs: [string, string][] = [[oldPath, newPath], [basename(oldPath), basename(newPath)], [
    stem(oldPath),
    stem(newPath),
  ]];
  let renamed = text;
  for (const [index, [from, to]] of pairs.entries()) {
    const distinctive = index < 2 ? /[./]/.test(from) : /autoresearch/i.test(from);
    if (from === to || !distinctive) continue;
    const escaped = from.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    const pattern = `(?<![\\w.-])${escaped}(?![\\w-])`;
    // A command names its eval once: the most specific match wins and the rest stay as they are.
    if (options.commandLine && new RegExp(pattern).test(renamed)) return renamed.replace(new RegExp(pattern, "g"), to);
    renamed = renamed.replace(new RegExp(pattern, "g"), to);
  }
  return renamed;
}
