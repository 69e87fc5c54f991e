// next-round's first half: find round N (from the experiment file, or from a journal alone),
// refuse with the reason when it cannot be continued, and plan every file of round N+1 —
// instructions, launch prompt, eval copy, journal header, dashboard — plus the updated
// experiment. Nothing is written here (next-round-apply.ts writes); any refusal leaves the
// repository as it was. Journal-only planning lives in next-round-journal.ts.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { basename, extname } from "node:path";
import { buildDashboard } from "../dashboard/files.ts";
import { CliError, EXIT } from "../cli/errors.ts";
import {
  experimentStateDir, findRound, loadExperiment, locateExperiment, type Experiment, type LoadedExperiment, type Round,
} from "../experiment/experiment-file.ts";
import { CACHE_DIR, nextArtifacts, roundArtifactPath } from "../experiment/artifacts.ts";
import { displayPath, resolveIn } from "../files/paths.ts";
import { recoverInterruptedWork } from "../experiment/recovery.ts";
import { requireRepositoryRoot } from "../git/git.ts";
import { readFileSummary, renderInstructions, renderLaunchPrompt, type FrozenFile } from "../harness/instructions.ts";
import { frozenPaths } from "../integrity/frozen-files.ts";
import { iterationResults, journalHeaderFor, parseJournal, readJournal } from "../experiment/journal.ts";
import { kitCommand, withExperimentFlag } from "../cli/kit.ts";
import { acquireLock } from "../files/lock.ts";
import { planFromJournal } from "./from-journal.ts";
import {
  analyseOnce, checkRoundFiles, coOptimizationWarning, digestRound, leversNeverTouched, leversOf, nextConstrainedFiles, type LeverCache,
} from "./evidence.ts";
import { describeProject, detectProjectOnDisk, findExistingTests } from "../harness/project.ts";
import { renderEarlierRounds, renderTargets, type RoundDigest } from "./round-summary.ts";
import { summarizeJournal } from "../experiment/summary.ts";

export type NextRoundOptions = {
  cwd: string;
  files?: string[];
  addFiles?: string[];
  focus?: string;
  force?: boolean;
  experiment?: string;
  journal?: string;
};

export type NextRoundFile = { path: string; role: string; content: string; mode?: number };

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
  /** Release the experiment lock (a no-op in journal-only use). */
  release: () => void;
};

/** Plan round N+1 from the experiment file when there is one, else from the journal alone. */
export async function planNextRound(options: NextRoundOptions): Promise<NextRoundPlan> {
  const repoRoot = realpathSync(await requireRepositoryRoot(options.cwd, kitCommand("next-round", { cwd: options.cwd })));
  const experimentPath = locateExperiment(options.experiment, options.cwd, repoRoot);
  if (options.experiment !== undefined || existsSync(experimentPath)) {
    if (options.journal !== undefined) {
      throw new CliError(`--journal is for journal-only use, but "${displayPath(experimentPath, options.cwd)}" exists and names round N's journal itself; drop --journal.`, "E_USAGE");
    }
    const loaded = loadExperiment(experimentPath);
    const stateDir = experimentStateDir(loaded);
    const lock = acquireLock(stateDir, "next-round.ts");
    try {
      // Round N's journal must be complete before it is summarised: finish a decided step first.
      await recoverInterruptedWork(loaded, stateDir, (message) => process.stderr.write(`${message}\n`), { requireBranch: false });
      return { ...(await planFromExperiment(loaded, repoRoot, options)), release: lock.release };
    } catch (error) {
      lock.release();
      throw error;
    }
  }
  return planFromJournal(repoRoot, options);
}

async function planFromExperiment(loaded: LoadedExperiment, repoRoot: string, options: NextRoundOptions): Promise<Omit<NextRoundPlan, "release">> {
  const { experiment, root } = loaded;
  const cwd = options.cwd;
  const previous = findRound(experiment);
  const fromRound = previous.round;
  const round = fromRound + 1;
  const previousJournalPath = resolveIn(root, previous.artifacts.journal);
  const baselineCommand = withExperimentFlag(kitCommand("baseline", { cwd }), loaded.path, cwd, repoRoot);
  if (!previous.baseline) {
    throw new CliError(`Round ${fromRound} has no baseline yet, so it has no start to summarise and no results to learn from. Run: ${baselineCommand}, then iterate.`, "E_NO_BASELINE");
  }
  const previousJournal = readJournal(previousJournalPath, displayPath(previousJournalPath, cwd));
  if (iterationResults(previousJournal).length === 0) {
    const iterateCommand = withExperimentFlag(kitCommand("iterate", { cwd }), loaded.path, cwd, repoRoot);
    throw new CliError(`Round ${fromRound} has no results yet in "${displayPath(previousJournalPath, cwd)}" (only its baseline): nothing to learn from. Run some iterations first: ${iterateCommand} -m "what you changed" (or --loop --agent "CMD").`, "E_NO_RESULTS");
  }

  const warnings = [...previousJournal.warnings];
  const fileContext = { cwd, repoRoot, root, frozen: frozenPaths(experiment, previous) };
  const switched = await checkRoundFiles(options.files ?? [], "--file", fileContext);
  const added = await checkRoundFiles(options.addFiles ?? [], "--add-file", fileContext);
  const constrainedFiles = nextConstrainedFiles(previous.constrained_files, switched, added);
  const coOptimization = coOptimizationWarning(fromRound, previous.constrained_files, constrainedFiles);

  const artifacts = nextArtifacts(previous.artifacts, round);
  const evalPlan = planEvalCopy(root, previous, round, cwd);
  if (evalPlan.warning) warnings.push(evalPlan.warning);
  const focus = options.focus?.trim() ? options.focus.trim() : null;
  const nextRound: Round = {
    round,
    status: "open",
    constrained_files: constrainedFiles,
    eval: { command: evalPlan.command, script: evalPlan.script, timeout_s: previous.eval.timeout_s },
    artifacts,
    focus,
    baseline: null,
    integrity: {},
  };

  // Refuse to overwrite round N+1, naming everything of it that exists.
  const at = (path: string) => resolveIn(root, path);
  const owned = [artifacts.instructions, artifacts.launch_prompt, artifacts.journal, artifacts.dashboard, ...(evalPlan.script ? [evalPlan.script] : [])].map(at);
  const existing = owned.filter((path) => existsSync(path));
  const staleReport = existsSync(at(artifacts.report)) ? [at(artifacts.report)] : [];
  const laterRounds = experiment.rounds.filter((candidate) => candidate.round > fromRound);
  if ((existing.length > 0 || staleReport.length > 0 || laterRounds.length > 0) && !options.force) {
    const names = [...existing, ...staleReport].map((path) => `"${displayPath(path, cwd)}"`);
    if (laterRounds.length > 0) names.push(`round ${laterRounds.map((later) => later.round).join(", ")} in "${displayPath(loaded.path, cwd)}"`);
    throw new CliError(`Not overwriting round ${round}'s existing ${names.length === 1 ? "artifact" : "artifacts"} ${names.join(", ")}. Pass --force to replace ${names.length === 1 ? "it" : "them"} (backups go to .autoresearch/backups/), or look at round ${round} as it is: ${kitCommand("dashboard", { cwd })} --round ${round}`, "E_EXISTS");
  }

  const updated: Experiment = {
    ...experiment,
    current_round: round,
    rounds: [
      ...experiment.rounds.filter((candidate) => candidate.round <= fromRound).map((candidate) => (candidate.round === fromRound ? { ...candidate, status: "closed" as const } : candidate)),
      nextRound,
    ],
  };

  // Every earlier round, oldest first: the seed asks for all of them, not just round N.
  const cache: LeverCache = new Map();
  const digests: RoundDigest[] = [];
  for (const earlier of [...experiment.rounds].filter((candidate) => candidate.round <= fromRound).sort((a, b) => a.round - b.round)) {
    const journalPath = resolveIn(root, earlier.artifacts.journal);
    const journal = earlier === previous ? previousJournal : readJournal(journalPath, displayPath(journalPath, cwd));
    if (earlier !== previous) warnings.push(...journal.warnings);
    digests.push(await digestRound({
      root, displayFrom: root, round: earlier.round, constrainedFiles: earlier.constrained_files, journalPath, journal,
      summary: summarizeJournal(journal, { experiment, round: earlier.round }),
      reportPath: resolveIn(root, earlier.artifacts.report), focus: earlier.focus,
    }, cache, warnings));
  }
  const previousDigest = digests[digests.length - 1];

  const primary = constrainedFiles[0];
  const entryFile = experiment.rounds[0].constrained_files[0];
  const analysis = await analyseOnce(cache, at(primary), warnings, primary === entryFile ? experiment.entry?.name : undefined);
  const levers = (await leversOf(root, constrainedFiles, cache, warnings)) ?? [];
  const newFiles = constrainedFiles.filter((file) => !previous.constrained_files.includes(file));
  const targets = renderTargets({
    previous: previousDigest, constrainedFiles, newFiles, untouchedLevers: leversNeverTouched(previousDigest, levers, constrainedFiles, newFiles),
    remeasure: `\`${withExperimentFlag(kitCommand("baseline", { cwd: repoRoot }), loaded.path, repoRoot, repoRoot)}\` re-measures it as round ${round}'s baseline before the first iteration; gains are counted from there.`,
  });

  const commands = {
    iterate: withExperimentFlag(kitCommand("iterate", { cwd: repoRoot }), loaded.path, repoRoot, repoRoot),
    dashboard: withExperimentFlag(kitCommand("dashboard", { cwd: repoRoot }), loaded.path, repoRoot, repoRoot),
    baseline: withExperimentFlag(kitCommand("baseline", { cwd: repoRoot }), loaded.path, repoRoot, repoRoot),
  };
  const metric = { name: experiment.metric.name, direction: experiment.metric.direction };
  const project = detectProjectOnDisk(repoRoot, at(primary), root);
  const outOfScope: FrozenFile[] = previous.constrained_files.filter((file) => !constrainedFiles.includes(file))
    .map((file) => ({ path: file, reason: `tuned in round ${fromRound} and out of scope now: a change to it is restored and the iteration discarded.` }));
  const frozen: FrozenFile[] = [
    ...experiment.frozen.map((path) => ({ path, reason: "frozen by the experiment's owner (its hash is checked like the eval's)." })),
    ...outOfScope,
  ];
  const entry = primary === entryFile && experiment.entry ? analysis?.entry ?? null : null;
  const instructions = renderInstructions({
    name: experiment.name, round, constrainedFiles, projectDescription: describeProject(project, primary),
    fileSummary: existsSync(at(primary)) ? readFileSummary(readFileSync(at(primary), "utf8"), analysis?.language ?? "other") : null,
    levers, functions: analysis?.functions ?? [], entry, metric, guard: experiment.guard,
    evalCommand: evalPlan.command, evalScript: evalPlan.script, testData: experiment.test_data, frozen, cacheDir: CACHE_DIR,
    iterations: experiment.budget.iterations, artifacts, commands, existingTests: await findExistingTests(repoRoot, root),
    earlierRounds: renderEarlierRounds(digests, targets), focus, coOptimizationWarning: coOptimization !== null,
  });
  const launchPrompt = renderLaunchPrompt({ name: experiment.name, round, constrainedFiles, metric, iterations: experiment.budget.iterations, artifacts, commands });

  const header = journalHeaderFor(updated, nextRound);
  const journalText = `${JSON.stringify({ ...header, previous_round: fromRound, previous_best: previousDigest.summary.best.score })}\n`;
  const dashboard = buildDashboard({
    journalPath: at(artifacts.journal), dashboardPath: at(artifacts.dashboard), reportPath: null,
    experiment: updated, round, journal: parseJournal(journalText, basename(artifacts.journal)),
  });

  const files: NextRoundFile[] = [];
  if (evalPlan.script && evalPlan.content !== null) files.push({ path: at(evalPlan.script), role: `eval script (round ${fromRound}'s, same test data and metric)`, content: evalPlan.content, mode: evalPlan.mode });
  files.push({ path: at(artifacts.instructions), role: "instructions", content: instructions });
  files.push({ path: at(artifacts.launch_prompt), role: "launch prompt", content: launchPrompt });
  files.push({ path: at(artifacts.journal), role: "journal header (baseline pending)", content: journalText });
  files.push({ path: dashboard.chartPath, role: "progress chart", content: dashboard.svg });
  files.push({ path: at(artifacts.dashboard), role: "dashboard (baseline pending)", content: dashboard.markdown });

  return {
    mode: "experiment", fromRound, round, stateDir: experimentStateDir(loaded), files,
    // Dropping later rounds' records rewrites the experiment file: back it up with the rest.
    experimentPath: loaded.path, experiment: updated, replaced: laterRounds.length > 0 ? [...existing, loaded.path] : existing, stale: staleReport,
    digests, constrainedFiles, coOptimization, warnings, cannotDo: [],
    next: [
      `Review ${displayPath(at(artifacts.instructions), cwd)} (the summary of ${fromRound > 1 ? `rounds 1-${fromRound}` : "round 1"}, the targets, the levers)${evalPlan.script ? ` and ${displayPath(at(evalPlan.script), cwd)}` : ""}.`,
      `Re-measure round ${fromRound}'s best as round ${round}'s starting point: ${baselineCommand}`,
      `Then hand ${displayPath(at(artifacts.launch_prompt), cwd)} to the agent, or run: ${withExperimentFlag(kitCommand("iterate", { cwd }), loaded.path, cwd, repoRoot)} --loop --agent "CMD"`,
    ],
  };
}

type EvalCopy = { script: string | null; command: string; content: string | null; mode?: number; warning: string | null };

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
    throw new CliError(`Round ${previous.round}'s eval script "${displayPath(source, cwd)}" is missing, so round ${round} has no eval to copy; restore it (git checkout -- ${script}) and re-run next-round.`, "E_NO_EVAL", EXIT.USAGE);
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
export function renameEvalReferences(text: string, oldPath: string, newPath: string, options: { commandLine: boolean }): string {
  const stem = (path: string) => basename(path, extname(path));
  const pairs: [string, string][] = [[oldPath, newPath], [basename(oldPath), basename(newPath)], [stem(oldPath), stem(newPath)]];
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
