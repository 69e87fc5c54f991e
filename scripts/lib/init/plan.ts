// init's first half: validate every input, read the constrained file for real (levers,
// entry function, project kind) and plan every file to write — the experiment file,
// instructions, launch prompt, eval script, test data scaffold and journal header. Any
// bad input throws here, before anything is written; init-apply.ts does the writing.
// It does not measure anything (baseline does).
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import {
  BudgetSchema, DecisionSchema, EvalSchema, validateExperiment, type Experiment, type Guard,
} from "../experiment/experiment-file.ts";
import { CACHE_DIR, EXPERIMENT_FILE, STATE_DIR, defaultArtifacts } from "../experiment/artifacts.ts";
import { displayPath, realpathOrSelf, toPosix } from "../files/paths.ts";
import { whyNotWritable } from "../files/atomic.ts";
import { parseMetricFormula } from "../process/eval-output.ts";
import { planEvalLocation, renderEval, type EvalLocation } from "../harness/eval-script.ts";
import { git, requireRepositoryRoot, runGit } from "../git/git.ts";
import { parseGuardSpec } from "../experiment/guard.ts";
import { readFileSummary, renderInstructions, renderLaunchPrompt, type FrozenFile } from "../harness/instructions.ts";
import { assertJournalWritable, journalHeaderFor, type ConfigLine } from "../experiment/journal.ts";
import { kitCommand, withExperimentFlag } from "../cli/kit.ts";
import { analyzeFile, splitTopLevel, type FileAnalysis } from "../levers/levers.ts";
import { defaultDirectionFor, defaultMetricFor, evalComputes, isTimingMetric, metricComponents, type Direction } from "../harness/metric-catalog.ts";
import { describeProject, detectProjectOnDisk, findExistingTests, type Project } from "../harness/project.ts";
import { buildJsonTestData, buildTsvTestData, inspectTestDataFile, parseCaseInputs, type CaseInput } from "../harness/test-data.ts";

/** Bytes read to decide whether a file is binary (as git does: a NUL byte in the first 8000). */
const BINARY_SNIFF_BYTES = 8000;
const MAX_ANSWER_ATTEMPTS = 3;

export type InitOptions = {
  cwd: string;
  file: string;
  metric?: string;
  direction?: Direction;
  guard?: string;
  evalCmd?: string;
  entry?: string;
  iterations?: number;
  name?: string;
  casesFrom?: string;
  testData?: string;
  frozen?: string[];
  experiment?: string;
  force?: boolean;
};

/** Asks one question on a terminal; null when questions are not allowed (CI, pipes, --yes). */
export type Asker = ((question: string, fallback: string) => Promise<string>) | null;

export type PlannedFile = { path: string; role: string; content: string; onlyIfMissing?: boolean; executable?: boolean };

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
  excludePath: string;
  analysis: FileAnalysis;
  project: Project;
  evalLocation: EvalLocation | null;
  bootstrapCommand: string | null;
  /** The next command for the person who ran init, spelled for their working directory. */
  nextCommand: string;
  /** Tracked data files that may help fill the test data scaffold (shown to the person). */
  dataFiles: string[];
  warnings: string[];
};

// ---- validation and planning (no writes) -------------------------------------------------------

export async function planInit(options: InitOptions, ask: Asker = null): Promise<InitPlan> {
  const cwd = options.cwd;
  const initCommand = kitCommand("init", { cwd });
  checkNotEmpty(options);
  const repoRoot = realpathSync(await requireRepositoryRoot(cwd, `${initCommand} FILE`));
  const file = checkConstrainedFile(resolve(cwd, options.file), repoRoot, initCommand);
  const experimentPath = checkInsideRepository(resolve(cwd, options.experiment ?? join(repoRoot, EXPERIMENT_FILE)), repoRoot, "--experiment");
  if (existsSync(experimentPath) && statSync(experimentPath).isDirectory()) throw usage(`--experiment "${options.experiment}" is a directory; name the file to create, e.g. --experiment ${join(options.experiment ?? ".", EXPERIMENT_FILE)}`);
  const root = dirname(experimentPath);
  const fromRoot = (path: string) => toPosix(relative(root, path));
  if (options.casesFrom && options.evalCmd) throw usage("--cases-from fills the generated eval's test data, so it cannot be combined with --eval-cmd; drop one of them.");
  if (options.casesFrom && options.testData) throw usage("--cases-from writes new test data, so it cannot be combined with --test-data; drop one of them.");
  let guard = options.guard !== undefined ? parseGuard(options.guard) : null;
  if (options.metric !== undefined) checkMetric(options.metric);
  if (options.name !== undefined) checkName(options.name);
  if (options.iterations !== undefined && options.iterations < 1) throw usage(`--iterations must be at least 1, not "${options.iterations}".`);
  const testData = options.testData ? fromRoot(checkUserFile(resolve(cwd, options.testData), repoRoot, "--test-data")) : null;
  const frozenPaths = (options.frozen ?? []).map((path) => fromRoot(checkUserFile(resolve(cwd, path), repoRoot, "--frozen")));
  const constrained = fromRoot(file);
  if (frozenPaths.includes(constrained)) throw usage(`"${constrained}" cannot be both the constrained file and --frozen; drop it from --frozen.`);
  const casesText = options.casesFrom ? readCasesFrom(resolve(cwd, options.casesFrom)) : null;

  const project = detectProjectOnDisk(repoRoot, file, root);
  const analysis = await analyzeFile(file, { entry: options.entry, fileName: displayPath(file, cwd) });
  const warnings = [...analysis.warnings, ...project.notes];
  if (analysis.levers.length === 0) warnings.push(`No levers (named constants, weights, thresholds, prompts) found in "${constrained}"; the harness is generated anyway, and the agent will work on the logic itself.`);
  const entry = project.evalFlavor === "shell" ? null : analysis.entry;
  const bringsOwnEval = Boolean(options.evalCmd);
  if (!bringsOwnEval && project.evalFlavor !== "shell" && !entry) {
    warnings.push(`No entry function found in "${constrained}"; pass --entry NAME, or edit ENTRY in the generated eval before running baseline.`);
  }

  // Questions, only on a terminal: defaults come from what the file returns.
  const flavor = project.evalFlavor;
  let metric = options.metric ?? defaultMetricFor(entry?.returnsShape ?? "unknown", flavor);
  if (options.metric === undefined && ask) metric = await askUntilValid(ask, "Metric to optimise (a name, or a formula such as 0.8*precision@10+0.2*mrr)", metric, checkMetric);
  let direction = options.direction ?? defaultDirectionFor(metric);
  if (options.direction === undefined && ask) direction = await askUntilValid(ask, "Direction: max or min", direction, checkDirection);
  if (options.guard === undefined && ask) {
    guard = await askUntilValid(ask, "Guard metric that must not regress, e.g. mrr>=0.9 (none for no guard)", "none", (answer) => (answer === "none" || answer === "" ? null : parseGuard(answer)));
  }
  let iterations = options.iterations ?? BudgetSchema.parse({}).iterations;
  if (options.iterations === undefined && ask) iterations = await askUntilValid(ask, "Iteration budget", String(iterations), checkIterations);
  const name = options.name ?? nameFromFile(file);

  const artifacts = defaultArtifacts(1);
  const evalLocation = bringsOwnEval ? null : planEvalLocation(project, 1);
  const scaffoldTestData = !bringsOwnEval && !testData;
  const testDataPath = testData ?? (scaffoldTestData ? (flavor === "shell" ? "autoresearch_test_data.tsv" : "autoresearch_test_data.json") : null);
  const parameters = flavor === "shell" ? ["input"] : requiredParameters(entry);
  let caseInputs: CaseInput[] | null = null;
  if (casesText !== null) {
    if (flavor !== "shell" && !entry) throw usage(`--cases-from needs the entry function the inputs are for; pass --entry NAME (functions in "${constrained}": ${analysis.functions.map((found) => found.name).join(", ") || "none"}).`);
    try {
      caseInputs = parseCaseInputs(casesText, displayPath(resolve(cwd, options.casesFrom!), cwd), parameters);
    } catch (error) {
      throw usage(`Cannot use --cases-from: ${(error as Error).message}. Pass a JSON array of inputs or a JSON Lines file.`);
    }
  }
  if (testData && !bringsOwnEval) {
    const report = inspectTestDataFile(join(root, testData));
    if (report.format !== "kit-json" && report.format !== "kit-tsv") warnings.push(`"${testData}" is not in the kit's test data format; the generated eval expects {"cases": [{"id", "input", "expected"}]} (see README "Test data") — adapt the file or the eval.`);
  }

  // Metric checks that need the flavour: warn, since the user may extend the eval.
  if (evalLocation) {
    for (const metricName of [...metricComponents(metric).names, ...(guard ? [guard.metric] : [])]) {
      if (!evalComputes(metricName, flavor)) warnings.push(`The generated eval has no rule for "${metricName}"; add one (metric_for_case / metricForCase / metric_kind) in "${evalLocation.path}" before running baseline.`);
    }
  }

  const evalCommand = options.evalCmd ?? evalLocation!.command;
  // Spelled for the repository root, where an agent usually works.
  const commands = {
    iterate: withExperimentFlag(kitCommand("iterate", { cwd: repoRoot }), experimentPath, repoRoot, repoRoot),
    dashboard: withExperimentFlag(kitCommand("dashboard", { cwd: repoRoot }), experimentPath, repoRoot, repoRoot),
    baseline: withExperimentFlag(kitCommand("baseline", { cwd: repoRoot }), experimentPath, repoRoot, repoRoot),
  };
  const nextCommand = withExperimentFlag(kitCommand("baseline", { cwd }), experimentPath, cwd, repoRoot);
  const frozen: FrozenFile[] = frozenPaths.map((path) => ({ path, reason: "frozen by the experiment's owner (its hash is checked like the eval's)." }));
  const sourceText = readFileSync(file, "utf8");
  const formula = parseMetricFormula(metric) ? metric.replace(/\s+/g, "") : null;
  const metricName = formula ?? metric.trim();

  const experiment: Experiment = {
    version: 1,
    name,
    current_round: 1,
    language: analysis.language === "other" ? project.language : analysis.language,
    project: project.kind,
    entry: entry ? { name: entry.name, signature: entry.signature, line: entry.line } : null,
    metric: { name: metricName, direction, formula },
    guard,
    expected_gain: null,
    test_data: testDataPath,
    frozen: frozenPaths,
    branch: null,
    decision: DecisionSchema.parse({}),
    budget: BudgetSchema.parse({ iterations }),
    rounds: [{
      round: 1,
      status: "open",
      constrained_files: [constrained],
      eval: EvalSchema.parse({ command: evalCommand, script: evalLocation?.path ?? null }),
      artifacts,
      focus: null,
      baseline: null,
      integrity: {},
    }],
  };

  const files: PlannedFile[] = [];
  const at = (path: string) => resolve(root, path);
  files.push({
    path: at(artifacts.instructions), role: "instructions",
    content: renderInstructions({
      name, round: 1, constrainedFiles: [constrained], projectDescription: describeProject(project, constrained),
      fileSummary: readFileSummary(sourceText, analysis.language), levers: analysis.levers, functions: analysis.functions, entry,
      metric: { name: metricName, direction }, guard, evalCommand, evalScript: evalLocation?.path ?? null, testData: testDataPath,
      frozen, cacheDir: CACHE_DIR, iterations, plateau: experiment.budget.plateau, artifacts, commands, existingTests: await findExistingTests(repoRoot, root),
      earlierRounds: null, focus: null, coOptimizationWarning: false,
    }),
  });
  files.push({
    path: at(artifacts.launch_prompt), role: "launch prompt",
    content: renderLaunchPrompt({ name, round: 1, constrainedFiles: [constrained], metric: { name: metricName, direction }, iterations, artifacts, commands }),
  });
  if (evalLocation) {
    files.push({
      path: at(evalLocation.path), role: "eval script", executable: true,
      content: renderEval({ location: evalLocation, project, constrainedFile: constrained, testData: testDataPath!, entry, metric: metricName, direction, guardMetric: guard?.metric ?? null }),
    });
    for (const support of evalLocation.supportFiles) files.push({ path: at(support), role: "package marker", content: "", onlyIfMissing: true });
  }
  if (scaffoldTestData && testDataPath) {
    const latency = metricComponents(metricName).names.every(isTimingMetric);
    const content = flavor === "shell"
      ? buildTsvTestData({ inputs: caseInputs, latency })
      : buildJsonTestData({ signature: entry?.signature ?? null, parameters, shape: latency ? "latency" : entry?.returnsShape ?? "unknown", inputs: caseInputs });
    files.push({ path: at(testDataPath), role: "test data", content });
  }

  validateExperiment(experiment, displayPath(experimentPath, cwd));
  const journalHeader = journalHeaderFor(experiment, experiment.rounds[0]);

  // Every file must be writable before the first is written, so a refusal leaves nothing half done.
  assertJournalWritable(at(artifacts.journal), displayPath(at(artifacts.journal), cwd), { replace: true });
  const owned = [experimentPath, at(artifacts.journal), at(artifacts.dashboard), at(artifacts.report), ...files.filter((planned) => !planned.onlyIfMissing).map((planned) => planned.path)];
  for (const path of [...owned, ...files.filter((planned) => planned.onlyIfMissing && !existsSync(planned.path)).map((planned) => planned.path)]) {
    const problem = whyNotWritable(path, { replace: true });
    if (problem) throw usage(`Cannot write "${displayPath(path, cwd)}": ${problem}. Move it aside, or pass --experiment PATH to set up the experiment in another folder.`, "E_NOT_WRITABLE");
  }
  // Refuse to overwrite anything without --force, naming every artifact that exists.
  const existing = [...new Set(owned)].filter((path) => existsSync(path));
  if (existing.length > 0 && !options.force) {
    const names = existing.map((path) => `"${displayPath(path, cwd)}"`).join(", ");
    throw usage(`Not overwriting existing ${existing.length === 1 ? "artifact" : "artifacts"} ${names}. Pass --force to replace ${existing.length === 1 ? "it" : "them"} (a backup goes to ${STATE_DIR}/backups/), or continue with: ${nextCommand}`, "E_EXISTS");
  }

  return {
    repoRoot, root, experimentPath, experiment, journalHeader, files, replaced: existing,
    excludePath: await gitExcludePath(repoRoot), analysis, project, evalLocation,
    bootstrapCommand: caseInputs && evalLocation ? `${evalLocation.command} --bootstrap` : null,
    nextCommand,
    dataFiles: scaffoldTestData && !caseInputs ? await findDataFiles(repoRoot, cwd) : [],
    warnings,
  };
}

/** An option given as "" (an unset shell variable, say) is refused rather than read as "not given". */
function checkNotEmpty(options: InitOptions): void {
  const given: [string, string | undefined][] = [
    ["--eval-cmd", options.evalCmd], ["--test-data", options.testData], ["--entry", options.entry], ["--name", options.name],
    ["--cases-from", options.casesFrom], ["--experiment", options.experiment], ["--guard", options.guard],
    ...(options.frozen ?? []).map((path): [string, string] => ["--frozen", path]),
  ];
  const hints: Record<string, string> = {
    "--eval-cmd": 'the command that prints "SCORE: <number>", e.g. --eval-cmd "make eval"',
    "--experiment": `the experiment file to create, e.g. --experiment ${EXPERIMENT_FILE}`,
    "--guard": 'a guard such as --guard "mrr>=0.9"',
  };
  for (const [flag, value] of given) {
    if (value !== undefined && value.trim() === "") {
      throw usage(`${flag} must not be empty; pass ${hints[flag] ?? "a value"}, or leave ${flag} out.`, "E_EMPTY_OPTION");
    }
  }
}

/** Ask again (up to three times) when an answer is invalid; the last invalid answer is bad input. */
async function askUntilValid<T>(ask: NonNullable<Asker>, question: string, fallback: string, check: (answer: string) => T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const answer = await ask(question, fallback);
    try {
      return check(answer);
    } catch (error) {
      if (attempt >= MAX_ANSWER_ATTEMPTS || !(error instanceof CliError)) throw error;
      process.stderr.write(`${error.message}\n`);
    }
  }
}

function usage(message: string, code = "E_BAD_INPUT"): CliError {
  return new CliError(message, code, EXIT.USAGE);
}

function checkInsideRepository(path: string, repoRoot: string, label: string): string {
  const real = realpathOrSelf(path);
  const fromRoot = relative(repoRoot, real);
  if (fromRoot.startsWith("..") || isAbsolute(fromRoot)) {
    throw usage(`${label} "${path}" is outside the git repository at "${repoRoot}"; use a path inside it, or run init from the repository that holds it.`);
  }
  return real;
}

function checkConstrainedFile(path: string, repoRoot: string, initCommand: string): string {
  if (!existsSync(path)) throw usage(`No such file "${path}". Pass the file the agent should optimise, e.g. ${initCommand} src/ranker.py`, "E_NO_FILE");
  if (statSync(path).isDirectory()) throw usage(`"${path}" is a directory; pass one file inside it, e.g. ${initCommand} ${join(path, "ranker.py")}`, "E_NOT_A_FILE");
  const real = checkInsideRepository(path, repoRoot, "The constrained file");
  if (looksBinary(real)) throw usage(`"${path}" looks like a binary file; the constrained file must be source text the agent can edit.`, "E_BINARY");
  return real;
}

function checkUserFile(path: string, repoRoot: string, label: string): string {
  if (!existsSync(path)) throw usage(`${label} "${path}" does not exist; pass an existing file.`, "E_NO_FILE");
  if (statSync(path).isDirectory()) throw usage(`${label} "${path}" is a directory; pass a file.`, "E_NOT_A_FILE");
  return checkInsideRepository(path, repoRoot, label);
}

function looksBinary(path: string): boolean {
  const buffer = Buffer.alloc(BINARY_SNIFF_BYTES);
  const fd = openSync(path, "r");
  try {
    const read = readSync(fd, buffer, 0, BINARY_SNIFF_BYTES, 0);
    return buffer.subarray(0, read).includes(0);
  } finally {
    closeSync(fd);
  }
}

function readCasesFrom(path: string): string {
  try {
    if (statSync(path).isDirectory()) throw new Error("it is a directory");
    return readFileSync(path, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "it does not exist" : (error as Error).message;
    throw usage(`Cannot read --cases-from "${path}": ${reason}. Pass a readable JSON or JSON Lines file of inputs.`, "E_CASES_FROM");
  }
}

/** `mrr>=0.9` -> { metric: "mrr", op: ">=", threshold: 0.9 }; anything else is bad input. */
export function parseGuard(text: string): Guard {
  const guard = parseGuardSpec(text);
  if (!guard) throw usage(`Cannot read --guard "${text}": write it as METRIC OP NUMBER, e.g. --guard "mrr>=0.9" (OP is one of >= <= > <).`, "E_BAD_GUARD");
  return guard;
}

function checkMetric(text: string): string {
  if (text.trim() === "") throw usage('--metric must not be empty; pass a name such as "precision@10" or a formula such as "0.8*precision@10+0.2*mrr".', "E_BAD_METRIC");
  try {
    parseMetricFormula(text);
  } catch (error) {
    throw usage(`${(error as Error).message}.`, "E_BAD_METRIC");
  }
  return text.trim();
}

function checkDirection(text: string): Direction {
  if (text !== "max" && text !== "min") throw usage(`Direction must be "max" or "min", not "${text}".`, "E_USAGE");
  return text;
}

function checkIterations(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw usage(`The iteration budget must be a whole number of at least 1, not "${text}".`, "E_USAGE");
  return value;
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) throw usage(`--name "${name}" must use letters, digits, ".", "_" or "-" only.`, "E_BAD_NAME");
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
    const part = parts.find((candidate) => candidate.replace(/^[*.\s]+/, "").startsWith(name) && /^[\s*.]*[A-Za-z_$][\w$]*/.exec(candidate)?.[0].replace(/^[\s*.]+/, "") === name);
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


/** Tracked data files that may already hold test cases (queries, labels, fixtures). */
const DATA_FILE = /(^|\/)(data|datasets?|fixtures|eval|evals|tests?|samples?)\/[^/]*\.(json|jsonl|ndjson|csv|tsv)$/i;
const MAX_DATA_FILES_LISTED = 5;

async function findDataFiles(repoRoot: string, cwd: string): Promise<string[]> {
  const listed = await runGit(repoRoot, ["ls-files", "-z"]);
  if (!listed.ok) return [];
  return listed.stdout.split("\0").filter((path) => DATA_FILE.test(path)).slice(0, MAX_DATA_FILES_LISTED).map((path) => displayPath(join(repoRoot, path), cwd));
}

async function gitExcludePath(repoRoot: string): Promise<string> {
  const path = await git(repoRoot, ["rev-parse", "--git-path", "info/exclude"]);
  return resolve(repoRoot, path);
}
