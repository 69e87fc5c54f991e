// init's plan: from what inspect.ts read and the answers the entry collected (questions are
// asked there, on a terminal only), plan every file to write — the experiment file,
// instructions, launch prompt, eval script, test data scaffold and journal header — and refuse
// what cannot be written before anything is. It asks nothing, runs no git and writes nothing
// (apply.ts writes); it measures nothing (baseline does). Also the checks of one flag's value.
import { existsSync, statSync } from "node:fs";
import { basename, isAbsolute, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { parseExperiment, validateExperiment } from "../experiment/experiment-file.ts";
import type { Experiment, Guard } from "../experiment/schema.ts";
import { DEFAULTS } from "../experiment/defaults.ts";
import { artifactsBesideJournal, CACHE_DIR, defaultArtifacts, STATE_DIR } from "../experiment/artifacts.ts";
import { displayPath, readOptional } from "../files/paths.ts";
import { commandPathWords } from "../integrity/frozen-files.ts";
import { isTestCommand } from "../process/test-summary.ts";
import { whyNotWritable } from "../files/atomic.ts";
import type { PlannedWrite } from "../files/planned-writes.ts";
import { parseMetricFormula } from "../process/eval-output.ts";
import { type EvalLocation, planEvalLocation, renderEval } from "../harness/eval-script.ts";
import { describeGuard, guardSpecProblem, parseGuardSpec } from "../experiment/guard.ts";
import { describeObjective, parseTiebreakSpecs, type Tiebreak } from "../experiment/objective.ts";
import {
  agentCommands,
  FROZEN_BY_OWNER,
  readFileSummary,
  renderInstructions,
  renderLaunchPrompt,
} from "../harness/instructions.ts";
import { assertJournalWritable, type ConfigLine, journalHeaderFor } from "../experiment/journal.ts";
import { kitCommand, withExperimentFlag } from "../cli/kit.ts";
import { splitTopLevel } from "../text/split-top-level.ts";
import type { FileAnalysis } from "../levers/lever.ts";
import {
  chooseAdapter,
  defaultDirectionFor,
  defaultMetricFor,
  type Direction,
  evalComputes,
  isDirectionGuessed,
  isTimingMetric,
  metricComponents,
  type ReturnShape,
  shapeWarnings,
} from "../harness/metric-catalog.ts";
import { describeProject, type Project } from "../harness/project.ts";
import { buildJsonTestData, buildTsvTestData, type CaseInput, setupPlaceholders } from "../harness/test-data.ts";
import { suggestedNoiseModel } from "../decision/noise.ts";
import { type HoldoutRequest, planHoldout } from "../harness/holdout-set.ts";

export type InitOptions = {
  cwd: string;
  file: string;
  metric?: string;
  direction?: Direction;
  guard?: string;
  /** --tiebreak METRIC[:max|min], in order (read by objective.ts's parseTiebreakSpecs). */
  tiebreak?: string[];
  evalCmd?: string;
  entry?: string;
  iterations?: number;
  name?: string;
  casesFrom?: string;
  /** --output-field: the entry returns a record, and the eval scores this field of it. */
  outputField?: string;
  /** --agent: the coding agent that writes the eval when init cannot generate one. */
  agent?: string;
  testData?: string;
  frozen?: string[];
  experiment?: string;
  force?: boolean;
  /** --holdout PATH, --holdout-split F, --holdout-seed N (holdout-set.ts checks them). */
  holdout?: HoldoutRequest;
};

/** What inspect.ts read: checked flags, the constrained file's analysis and the repository's facts. */
export type InitInspection = {
  options: InitOptions;
  cwd: string;
  repoRoot: string;
  /** The experiment folder: every path in the experiment file is relative to it. */
  root: string;
  experimentPath: string;
  /** The constrained file: its real path, and the same relative to the experiment folder. */
  file: string;
  constrained: string;
  sourceText: string;
  /** --test-data and --frozen, relative to the experiment folder. */
  testData: string | null;
  frozenPaths: string[];
  /** --guard, parsed; null when not given. */
  guard: Guard | null;
  project: Project;
  analysis: FileAnalysis;
  /** The function the eval calls (none for a shell eval). */
  entry: FileAnalysis["entry"];
  /** The inputs a test case fills. */
  parameters: string[];
  caseInputs: CaseInput[] | null;
  existingTests: string[];
  /** The repository's tracked files (relative to its root), listed once here for everything init reads after. */
  tracked: string[];
  /** Tracked data files that may help fill the test data scaffold (shown to the person). */
  dataFiles: string[];
  excludePath: string;
  warnings: string[];
};

/** The person's answers on a terminal, each given only where its flag was not; absent means the default. */
export type InitAnswers = { metric?: string; direction?: Direction; guard?: Guard | null; iterations?: number };

/** Asks one question on a terminal. */
export type Asker = (question: string, fallback: string) => Promise<string>;

export type PlannedFile = PlannedWrite;

export type InitPlan = {
  repoRoot: string;
  /** The experiment folder: every path in the experiment file is relative to it. */
  root: string;
  experimentPath: string;
  experiment: Experiment;
  journalHeader: ConfigLine;
  files: PlannedFile[];
  /** Existing artifacts that --force replaces (backed up first). */
  replaced: string[];
  /** Files an earlier init wrote that this experiment no longer uses: moved into the backup with --force. */
  obsolete: string[];
  excludePath: string;
  analysis: FileAnalysis;
  project: Project;
  evalLocation: EvalLocation | null;
  bootstrapCommand: string | null;
  /** The next command for the person who ran init, spelled for their working directory. */
  nextCommand: string;
  /** Tracked data files that may help fill the test data scaffold (shown to the person). */
  dataFiles: string[];
  /** What init inferred and chose that the person should know: the entry's shape, the output adapter, the setup. */
  notes: string[];
  warnings: string[];
  /** --holdout-split on filled test data: the held-out file and the test data without its cases, written last. */
  holdoutWrites: PlannedFile[];
};

/** The metric, direction, guard, budget and name the experiment gets: flag, else answer, else default. */
type Settings = {
  metricName: string;
  formula: string | null;
  direction: Direction;
  guard: Guard | null;
  tiebreaks: Tiebreak[];
  iterations: number;
  name: string;
};

/** Where round 1's files go: the default artifact names, the generated eval (none with --eval-cmd), the test data. */
type Layout = {
  artifacts: Experiment["rounds"][number]["artifacts"];
  evalLocation: EvalLocation | null;
  evalCommand: string;
  testDataPath: string | null;
  scaffoldTestData: boolean;
};

/**
 * The metric init proposes when --metric is not given: a test suite brought as the eval is scored
 * by its pass rate (test-summary.ts); otherwise from what the entry function returns.
 */
export function defaultMetric(inspection: InitInspection): string {
  if (inspection.options.evalCmd && isTestCommand(inspection.options.evalCmd)) return "pass_rate";
  return defaultMetricFor(inspection.entry?.returnsShape ?? "unknown", inspection.project.evalFlavor);
}

/** Plan every file of a new experiment from what was inspected and answered; refuses what cannot be written. */
export function planInit(inspection: InitInspection, answers: InitAnswers = {}): InitPlan {
  const { cwd, repoRoot, root, experimentPath } = inspection;
  const settings = settle(inspection, answers);
  let layout = layOut(inspection); // a held-out set may rewrite a brought eval command (below)
  const warnings = [...inspection.warnings, ...metricWarnings(inspection, settings, layout)];
  const notes = entryNotes(inspection, settings, layout);
  if (inspection.options.direction === undefined && answers.direction === undefined) {
    const guessed = directionGuessWarning(settings.metricName);
    if (guessed) warnings.push(guessed);
  }
  if (settings.tiebreaks.length > 0) {
    notes.push(
      `Objective: ${
        describeObjective({
          metric: settings.metricName,
          direction: settings.direction,
          guard: settings.guard ? describeGuard(settings.guard, null) : null,
          tiebreaks: settings.tiebreaks,
        })
      }. A change tied on ${settings.metricName} that improves a tiebreak is kept; the eval must print each tiebreak as a named metric.`,
    );
  }
  const heldOut = planHoldout(inspection.options.holdout ?? {}, {
    cwd,
    root,
    repoRoot,
    tracked: inspection.tracked,
    name: settings.name,
    testData: layout.testDataPath,
    scaffoldTestData: layout.scaffoldTestData,
    ownEvalCommand: inspection.options.evalCmd ?? null,
  });
  notes.push(...heldOut.notes);
  warnings.push(...heldOut.warnings);
  if (heldOut.evalCommand !== null) layout = { ...layout, evalCommand: heldOut.evalCommand };
  const experiment = { ...buildExperiment(inspection, settings, layout), holdout: heldOut.holdout };
  const nextCommand = withExperimentFlag(kitCommand("baseline", { cwd }), experimentPath, cwd, repoRoot);
  const files = renderInitFiles(inspection, settings, layout, experiment.budget.plateau);
  validateExperiment(experiment, displayPath(experimentPath, cwd));
  const replaced = [...refuseUnwritable(inspection, files, layout.artifacts, nextCommand), ...heldOut.replaced];
  const obsolete = inspection.options.force ? noLongerUsed(inspection, experiment, files) : [];
  const { caseInputs } = inspection;
  return {
    repoRoot,
    root,
    experimentPath,
    experiment,
    journalHeader: journalHeaderFor(experiment, experiment.rounds[0]),
    files,
    replaced,
    obsolete,
    excludePath: inspection.excludePath,
    analysis: inspection.analysis,
    project: inspection.project,
    evalLocation: layout.evalLocation,
    // With a setup still to fill, the entry cannot run yet: entryNotes says to bootstrap after filling it.
    bootstrapCommand: caseInputs && layout.evalLocation && !needsSetup(inspection)
      ? `${layout.evalLocation.command} --bootstrap`
      : null,
    nextCommand,
    dataFiles: inspection.dataFiles,
    notes,
    warnings,
    holdoutWrites: heldOut.writes,
  };
}

function settle(inspection: InitInspection, answers: InitAnswers): Settings {
  const { options } = inspection;
  const metric = options.metric ?? answers.metric ?? defaultMetric(inspection);
  const formula = parseMetricFormula(metric) ? metric.replace(/\s+/g, "") : null;
  const metricName = formula ?? metric.trim();
  const read = parseTiebreakSpecs(options.tiebreak ?? [], metricName);
  if ("problem" in read) throw usage(read.problem, "E_USAGE");
  return {
    metricName,
    formula,
    direction: options.direction ?? answers.direction ?? defaultDirectionFor(metric),
    guard: answers.guard !== undefined ? answers.guard : inspection.guard,
    tiebreaks: read.tiebreaks,
    iterations: options.iterations ?? answers.iterations ?? DEFAULTS.budget.iterations,
    name: options.name ?? nameFromFile(inspection.file),
  };
}

function layOut(inspection: InitInspection): Layout {
  const { options, project, testData } = inspection;
  const bringsOwnEval = Boolean(options.evalCmd);
  const evalLocation = bringsOwnEval ? null : planEvalLocation(project, 1);
  const scaffoldTestData = !bringsOwnEval && !testData;
  const scaffoldName = project.evalFlavor === "shell" ? "autoresearch_test_data.tsv" : "autoresearch_test_data.json";
  return {
    artifacts: defaultArtifacts(1),
    evalLocation,
    evalCommand: options.evalCmd ?? evalLocation!.command,
    testDataPath: testData ?? (scaffoldTestData ? scaffoldName : null),
    scaffoldTestData,
  };
}

/** Metric checks that need the flavour, and a metric that does not fit the entry's shape: warnings, since the user may extend the generated eval. */
function metricWarnings(inspection: InitInspection, settings: Settings, layout: Layout): string[] {
  const { evalLocation } = layout;
  if (!evalLocation) return [];
  const names = [
    ...metricComponents(settings.metricName).names,
    ...(settings.guard ? [settings.guard.metric] : []),
    ...settings.tiebreaks.map((tiebreak) => tiebreak.metric),
  ];
  const missingRules = names.filter((name) => !evalComputes(name, inspection.project.evalFlavor))
    .map((name) =>
      `The generated eval has no rule for "${name}"; add one (metric_for_case / metricForCase / metric_kind) in "${evalLocation.path}" before running baseline.`
    );
  const { entry } = inspection;
  if (!entry || evalLocation.flavor === "shell") return missingRules;
  return [
    ...missingRules,
    ...shapeWarnings(entry.returnsShape, settings.metricName, inspection.options.outputField, entry.name),
  ];
}

const SHAPE_WORDS: Record<ReturnShape, string> = {
  ranked_list: "a ranked list (ids or items, best first)",
  scores: "one score per item, in the items' order",
  label: "a label",
  number: "a number",
  object: "a record",
  unknown: "a value whose shape init could not tell",
};

/** What init inferred about the entry and chose for the eval, for the person to check. */
function entryNotes(inspection: InitInspection, settings: Settings, layout: Layout): string[] {
  const { entry } = inspection;
  if (!entry || !layout.evalLocation || layout.evalLocation.flavor === "shell") return [];
  const { description } = chooseAdapter(entry.returnsShape, settings.metricName, inspection.options.outputField);
  const declared = entry.returns ? ` (declared: ${entry.returns})` : "";
  const notes = [
    `"${entry.name}" returns ${SHAPE_WORDS[entry.returnsShape]}${declared}. ${description}`,
  ];
  if (entry.file && entry.file !== inspection.constrained) {
    notes.push(
      `The eval imports "${entry.file}" for "${entry.name}"; the constrained file "${inspection.constrained}" is what that code reads.`,
    );
  }
  const owner = entry.owner;
  if (owner?.binding === "instance") {
    const testData = layout.testDataPath ? `"${layout.testDataPath}"` : "the test data";
    const required = setupPlaceholders(owner);
    notes.push(
      required
        ? `"${owner.className}" is built from "setup" in ${testData} (${
          Object.keys(required).join(", ")
        }), once per distinct setup; fill it before baseline${
          inspection.caseInputs && layout.evalLocation ? `, then run: ${layout.evalLocation.command} --bootstrap` : ""
        }.`
        : `"${owner.className}" is built once per distinct "setup" in ${testData} (none needed: its constructor has no required parameters).`,
    );
  }
  return notes;
}

/** A warning when the metric's name says neither way and init took higher is better. */
function directionGuessWarning(metric: string): string | null {
  if (!isDirectionGuessed(metric)) return null;
  return `The metric "${metric}" does not say whether higher or lower is better; init took higher (metric.direction: max). If lower is better, set metric.direction: min in the experiment file before baseline (or re-run init with --direction min --force).`;
}

/** An instance entry whose constructor needs arguments the scaffold leaves as placeholders. */
function needsSetup(inspection: InitInspection): boolean {
  return Boolean(
    inspection.testData === null && !inspection.options.evalCmd && setupPlaceholders(inspection.entry?.owner),
  );
}

function buildExperiment(inspection: InitInspection, settings: Settings, layout: Layout): Experiment {
  const { analysis, project, entry } = inspection;
  return {
    version: 1,
    name: settings.name,
    current_round: 1,
    language: analysis.language === "other" ? project.language : analysis.language,
    project: project.kind,
    entry: entry
      ? { name: entry.name, signature: entry.signature, line: entry.line, ...(entry.file ? { file: entry.file } : {}) }
      : null,
    metric: { name: settings.metricName, direction: settings.direction, formula: settings.formula },
    guard: settings.guard,
    tiebreaks: settings.tiebreaks,
    expected_gain: null,
    test_data: layout.testDataPath,
    holdout: null,
    frozen: inspection.frozenPaths,
    branch: null,
    decision: { ...DEFAULTS.decision, noise_model: suggestedNoiseModel(settings.metricName) },
    budget: { ...DEFAULTS.budget, iterations: settings.iterations },
    rounds: [{
      round: 1,
      status: "open",
      constrained_files: [inspection.constrained],
      eval: { command: layout.evalCommand, script: layout.evalLocation?.path ?? null, ...DEFAULTS.eval },
      artifacts: layout.artifacts,
      focus: null,
      baseline: null,
      integrity: {},
    }],
  };
}

/** Round 1's files in write order: instructions, launch prompt, the eval and its package markers, the test data scaffold. */
function renderInitFiles(
  inspection: InitInspection,
  settings: Settings,
  layout: Layout,
  plateau: number,
): PlannedFile[] {
  const { root, constrained, project, entry } = inspection;
  const { artifacts, evalLocation, testDataPath } = layout;
  const { metricName, direction, guard, iterations, name } = settings;
  const at = (path: string) => resolve(root, path);
  const commands = agentCommands(inspection.experimentPath, inspection.repoRoot);
  const metric = { name: metricName, direction };
  const files: PlannedFile[] = [{
    path: at(artifacts.instructions),
    role: "instructions",
    content: instructionsFor(inspection, settings, layout, { plateau, commands }),
  }, {
    path: at(artifacts.launch_prompt),
    role: "launch prompt",
    content: renderLaunchPrompt({
      name,
      round: 1,
      constrainedFiles: [constrained],
      metric,
      iterations,
      artifacts,
      commands,
    }),
  }];
  if (evalLocation) {
    files.push({
      path: at(evalLocation.path),
      role: "eval script",
      executable: true,
      content: renderEval({
        location: evalLocation,
        project,
        constrainedFile: constrained,
        testData: testDataPath!,
        entry,
        metric: metricName,
        direction,
        guardMetric: guard?.metric ?? null,
        extraMetrics: settings.tiebreaks.map((tiebreak) => tiebreak.metric),
        outputField: inspection.options.outputField ?? null,
        fileExists: (path) => existsSync(resolve(root, path)),
      }),
    });
    for (const support of evalLocation.supportFiles) {
      files.push({ path: at(support), role: "package marker", content: "", onlyIfMissing: true });
    }
  }
  if (layout.scaffoldTestData && testDataPath) {
    files.push({ path: at(testDataPath), role: "test data", content: testDataScaffold(inspection, metricName) });
  }
  return files;
}

/** instructions.md for round 1: the file, its levers and functions, the metric, what is frozen, the strategy. */
function instructionsFor(
  inspection: InitInspection,
  settings: Settings,
  layout: Layout,
  extra: { plateau: number; commands: ReturnType<typeof agentCommands> },
): string {
  const { constrained, project, analysis } = inspection;
  return renderInstructions({
    name: settings.name,
    round: 1,
    constrainedFiles: [constrained],
    projectDescription: describeProject(project, constrained),
    fileSummary: readFileSummary(inspection.sourceText, analysis.language),
    levers: analysis.levers,
    functions: analysis.functions,
    entry: inspection.entry,
    metric: { name: settings.metricName, direction: settings.direction },
    guard: settings.guard,
    tiebreaks: settings.tiebreaks,
    evalCommand: layout.evalCommand,
    evalScript: layout.evalLocation?.path ?? null,
    testData: layout.testDataPath,
    frozen: inspection.frozenPaths.map((path) => ({ path, reason: FROZEN_BY_OWNER })),
    cacheDir: CACHE_DIR,
    iterations: settings.iterations,
    plateau: extra.plateau,
    artifacts: layout.artifacts,
    commands: extra.commands,
    existingTests: inspection.existingTests,
    earlierRounds: null,
    focus: null,
    coOptimizationWarning: false,
  });
}

function testDataScaffold(inspection: InitInspection, metricName: string): string {
  const { entry, caseInputs } = inspection;
  const latency = metricComponents(metricName).names.every(isTimingMetric);
  const shape = entry?.returnsShape ?? "unknown";
  return inspection.project.evalFlavor === "shell"
    ? buildTsvTestData({ inputs: caseInputs, latency })
    : buildJsonTestData({
      signature: entry?.signature ?? null,
      parameters: inspection.parameters,
      shape: latency ? "latency" : shape,
      inputs: caseInputs,
      owner: entry?.owner ?? null,
      adapter: chooseAdapter(shape, metricName, inspection.options.outputField).adapter,
      language: inspection.project.evalFlavor === "typescript" ? "typescript" : "python",
    });
}

/**
 * Every file must be writable before the first is written, so a refusal leaves nothing half done;
 * and nothing is overwritten without --force, naming every artifact that exists. Returns those.
 */
function refuseUnwritable(
  inspection: InitInspection,
  files: PlannedFile[],
  artifacts: Layout["artifacts"],
  nextCommand: string,
): string[] {
  const { cwd, root, experimentPath } = inspection;
  const at = (path: string) => resolve(root, path);
  assertJournalWritable(at(artifacts.journal), displayPath(at(artifacts.journal), cwd), { replace: true });
  const owned = [
    experimentPath,
    at(artifacts.journal),
    at(artifacts.dashboard),
    at(artifacts.report),
    ...files.filter((planned) => !planned.onlyIfMissing).map((planned) => planned.path),
  ];
  for (
    const path of [
      ...owned,
      ...files.filter((planned) => planned.onlyIfMissing && !existsSync(planned.path)).map((planned) => planned.path),
    ]
  ) {
    const problem = whyNotWritable(path, { replace: true });
    if (problem) {
      throw usage(
        `Cannot write "${
          displayPath(path, cwd)
        }": ${problem}. Move it aside, or pass --experiment PATH to set up the experiment in another folder.`,
        "E_NOT_WRITABLE",
      );
    }
  }
  const existing = [...new Set(owned)].filter((path) => existsSync(path));
  if (existing.length > 0 && !inspection.options.force) {
    const names = existing.map((path) => `"${displayPath(path, cwd)}"`).join(", ");
    throw usage(
      `Not overwriting existing ${existing.length === 1 ? "artifact" : "artifacts"} ${names}. Pass --force to replace ${
        existing.length === 1 ? "it" : "them"
      } (a backup goes to ${STATE_DIR}/backups/), or continue with: ${nextCommand}`,
      "E_EXISTS",
    );
  }
  return existing;
}

/** The names init gives the test data it scaffolds (or its agent writes), in the experiment folder. */
const SCAFFOLD_TEST_DATA = /^autoresearch_test_data\.(json|tsv)$/;
/** The names of an eval the kit wrote: autoresearch_eval.py, autoresearch_eval_2.ts, ... in the experiment folder. */
const KIT_EVAL = /^autoresearch_eval(_\d+)?\.[A-Za-z]+$/;

/**
 * The files the experiment being replaced records as written by the kit, that exist and that
 * the new experiment does not use: --force moves them into its backup instead of leaving them
 * behind. Only what the earlier experiment file proves the kit wrote qualifies: each round's
 * generated eval (eval.script) and artifacts, an eval or test data under init's own names;
 * never a file of the person's, and nothing when the earlier file cannot be read.
 */
function noLongerUsed(inspection: InitInspection, experiment: Experiment, files: PlannedFile[]): string[] {
  const { root, repoRoot, experimentPath } = inspection;
  const earlier = readEarlierExperiment(experimentPath);
  if (!earlier) return [];
  const at = (path: string) => resolve(root, path);
  const round = experiment.rounds[0];
  const needed = new Set([
    experimentPath,
    ...files.map((planned) => planned.path),
    // Not the progress chart: the new experiment draws its own, so an earlier one is stale.
    ...Object.values(round.artifacts).map(at),
    ...[experiment.test_data, ...experiment.frozen, ...round.constrained_files].filter((path): path is string =>
      path !== null
    ).map(at),
    ...commandPathWords(round.eval.command).map((word) => at(word.path)),
  ]);
  const kitEvals = earlier.rounds.flatMap((each) => [
    ...(each.eval.script ? [each.eval.script] : []),
    ...commandPathWords(each.eval.command).map((word) => word.path).filter((path) => KIT_EVAL.test(path)),
  ]);
  const kitTestData = earlier.test_data !== null && SCAFFOLD_TEST_DATA.test(earlier.test_data) && kitEvals.length > 0
    ? [earlier.test_data]
    : [];
  const written = [...kitEvals, ...kitTestData, ...earlier.rounds.flatMap(roundArtifactPaths)].map(at);
  return [...new Set(written)].filter((path) =>
    !needed.has(path) && isInside(repoRoot, path) && existsSync(path) && statSync(path).isFile()
  );
}

/** A round's artifacts and the progress chart beside its journal, relative to the experiment folder. */
function roundArtifactPaths(round: Experiment["rounds"][number]): string[] {
  const { journal, dashboard, instructions, launch_prompt, report } = round.artifacts;
  return [journal, dashboard, instructions, launch_prompt, report, artifactsBesideJournal(journal).chartPath];
}

/** The experiment file --force replaces, or null when there is none or it cannot be read as one. */
function readEarlierExperiment(path: string): Experiment | null {
  const text = readOptional(path);
  if (text === null) return null;
  try {
    return parseExperiment(text, path);
  } catch {
    return null;
  }
}

function isInside(folder: string, path: string): boolean {
  const inside = relative(folder, path);
  return inside !== "" && !inside.startsWith("..") && !isAbsolute(inside);
}

export function usage(message: string, code = "E_BAD_INPUT"): CliError {
  return new CliError(message, code, EXIT.USAGE);
}

/**
 * `mrr>=0.9` -> { metric: "mrr", op: ">=", threshold: 0.9 }, `mrr>=baseline-0.02` ->
 * { metric: "mrr", op: ">=", baseline_offset: -0.02 } (guard.ts); anything else is bad input.
 */
export function parseGuard(text: string, flag = "--guard"): Guard {
  const guard = parseGuardSpec(text);
  if (!guard) throw usage(`Cannot read ${flag} "${text}": it ${guardSpecProblem(text)}.`, "E_BAD_GUARD");
  return guard;
}

export function checkMetric(text: string): string {
  if (text.trim() === "") {
    throw usage(
      '--metric must not be empty; pass a name such as "precision@10" or a formula such as "0.8*precision@10+0.2*mrr".',
      "E_BAD_METRIC",
    );
  }
  try {
    parseMetricFormula(text);
  } catch (error) {
    throw usage(`${(error as Error).message}.`, "E_BAD_METRIC");
  }
  return text.trim();
}

export function checkDirection(text: string): Direction {
  if (text !== "max" && text !== "min") throw usage(`Direction must be "max" or "min", not "${text}".`, "E_USAGE");
  return text;
}

export function checkIterations(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw usage(`The iteration budget must be a whole number of at least 1, not "${text}".`, "E_USAGE");
  }
  return value;
}

export function checkName(name: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw usage(`--name "${name}" must use letters, digits, ".", "_" or "-" only.`, "E_BAD_NAME");
  }
}

/** `src/search/ranker.py` -> `ranker`, made safe for the experiment name. */
function nameFromFile(path: string): string {
  const stem = basename(path).replace(/\.[^.]+$/, "").replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "");
  return stem || "experiment";
}

/** Parameters a test case must fill: those without defaults, and never *args / **kwargs / ...rest. */
export function requiredParameters(entry: FileAnalysis["entry"]): string[] {
  if (!entry) return [];
  const named = entry.params.filter((name) => !/^(\*|\.\.\.)/.test(name));
  const open = entry.signature.indexOf("(");
  if (open === -1) return named;
  const parts = splitTopLevel(entry.signature.slice(open + 1, matchingParen(entry.signature, open)));
  const required = named.filter((name) => {
    const part = parts.find((candidate) =>
      candidate.replace(/^[*.\s]+/, "").startsWith(name) &&
      /^[\s*.]*[A-Za-z_$][\w$]*/.exec(candidate)?.[0].replace(/^[\s*.]+/, "") === name
    );
    if (!part) return true;
    return !/^[^=]*\?\s*:/.test(part) && !/(^|[^=<>!])=(?!=|>)/.test(part.replace(/=>/g, ""));
  });
  return required.length > 0 ? required : named.slice(0, 1);
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let index = open; index < text.length; index++) {
    if ("([{<".includes(text[index])) depth++;
    if (")]}>".includes(text[index]) && text[index - 1] !== "=") depth--;
    if (depth === 0) return index;
  }
  return text.length;
}
