// init's read phase: validate every flag, read the constrained file for real (levers, entry
// function, project kind), find an entry in another file when --entry names one (the file is
// then frozen), parse --cases-from, and ask git once for what init needs (the repository root,
// its tracked files, the exclude file). Bad input throws here, before any question is asked or
// anything written, and so does a file no generated eval could call (with the ready commands).
// It asks nothing, plans no file and writes nothing.
import { closeSync, existsSync, openSync, readFileSync, readSync, realpathSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve } from "node:path";
import { EXPERIMENT_FILE } from "../experiment/artifacts.ts";
import { displayPath, realpathOrSelf, toPosix } from "../files/paths.ts";
import { gitPath, requireRepositoryRoot, trackedFiles } from "../git/git.ts";
import { kitCommand } from "../cli/kit.ts";
import { analyzeFile, detectLanguage, extractFileFacts } from "../levers/levers.ts";
import {
  declaresClass,
  type EntryCandidate,
  entryCandidates,
  type EntryRequest,
  filesDefiningClass,
  parseEntryRequest,
  resolveModule,
} from "../levers/entries.ts";
import type { FileAnalysis, Language } from "../levers/lever.ts";
import { shellQuote } from "../text/shell-quote.ts";
import { isTestCommand } from "../process/test-summary.ts";
import { detectProjectOnDisk, type Project, testFilesAmong } from "../harness/project.ts";
import { type CaseInput, inspectTestDataFile, parseCaseInputs } from "../harness/test-data.ts";
import {
  checkMetric,
  checkName,
  type InitInspection,
  type InitOptions,
  parseGuard,
  requiredParameters,
  usage,
} from "./plan.ts";
import { parseTiebreakSpecs } from "../experiment/objective.ts";

/** Bytes read to decide whether a file is binary (as git does: a NUL byte in the first 8000). */
const BINARY_SNIFF_BYTES = 8000;
/** Tracked data files that may already hold test cases (queries, labels, fixtures). */
const DATA_FILE = /(^|\/)(data|datasets?|fixtures|eval|evals|tests?|samples?)\/[^/]*\.(json|jsonl|ndjson|csv|tsv)$/i;
/** Tool settings that live beside tests and data (`tsconfig.json`, `package.json`, `.eslintrc.json`): never test cases. */
const SETTINGS_FILE = /(^|\/)(?:\.[^/]*|tsconfig[^/]*|jsconfig[^/]*|package(?:-lock)?|composer|[^/]*\.config)\.json$/i;
const MAX_DATA_FILES_LISTED = 5;

type CheckedInputs =
  & Pick<InitInspection, "file" | "constrained" | "experimentPath" | "root" | "testData" | "frozenPaths" | "guard">
  & {
    casesText: string | null;
  };

/** Everything init learns before it asks or plans: checked flags, the file's analysis, the repository's facts. */
export async function inspectInit(options: InitOptions): Promise<InitInspection> {
  const cwd = options.cwd;
  checkNotEmpty(options);
  const repoRoot = realpathSync(requireRepositoryRoot(cwd, `${kitCommand("init", { cwd })} FILE`));
  const { casesText, ...inputs } = checkInputs(options, repoRoot);
  const { file, root } = inputs;
  const sourceText = readFileSync(file, "utf8");
  const tracked = trackedFiles(repoRoot);
  const located = { ...inputs, repoRoot, sourceText, tracked };
  const { analysis, entryFile } = await readEntry(options, located);
  // The eval is written in the entry's language: a JSON config read by Python code gets a Python eval.
  const evalTarget = entryFile && family(detectLanguage(join(root, entryFile))) !== family(analysis.language)
    ? join(root, entryFile)
    : file;
  const project = detectProjectOnDisk(repoRoot, evalTarget, root, { askMachine: !options.evalCmd });
  const entry = project.evalFlavor === "shell" ? null : analysis.entry;
  const generatesEval = !options.evalCmd && !options.agent;
  if (!entry && generatesEval && project.evalFlavor !== "shell") {
    throw usage(noEntryMessage(options, located, project.evalTasks ?? []), "E_NO_ENTRY");
  }
  if (entryFile && !inputs.frozenPaths.includes(entryFile)) inputs.frozenPaths.push(entryFile);
  const warnings = [
    ...analysis.warnings,
    ...(generatesEval ? project.notes : []), // how a generated eval would run: none is generated otherwise
    ...setupWarnings(options, inputs, { project, analysis, entry }),
    ...(generatesEval && project.evalFlavor === "shell" && !project.caseCommand
      ? readersWarning(options, located)
      : []),
  ];
  const parameters = project.evalFlavor === "shell"
    ? ["input"]
    : entry?.required?.length
    ? entry.required
    : requiredParameters(entry);
  const caseInputs = casesText === null
    ? null
    : readCaseInputs(casesText, options, { project, analysis, entry, parameters, constrained: inputs.constrained });
  const scaffoldFilledByHand = generatesEval && !inputs.testData && !caseInputs;
  return {
    options,
    cwd,
    repoRoot,
    ...inputs,
    project,
    analysis,
    entry,
    parameters,
    caseInputs,
    sourceText,
    existingTests: testFilesAmong(tracked, repoRoot, root),
    tracked,
    dataFiles: scaffoldFilledByHand
      ? tracked.filter((path) => DATA_FILE.test(path) && !SETTINGS_FILE.test(path)).slice(0, MAX_DATA_FILES_LISTED).map(
        (path) => displayPath(join(repoRoot, path), cwd),
      )
      : [],
    excludePath: gitPath(repoRoot, "info/exclude"),
    warnings,
  };
}

type FileFacts = { project: Project; analysis: FileAnalysis; entry: FileAnalysis["entry"] };

/** What init can set up but the person should know: no levers, test data in another format. */
function setupWarnings(options: InitOptions, inputs: Omit<CheckedInputs, "casesText">, facts: FileFacts): string[] {
  const { constrained, root, testData } = inputs;
  const warnings: string[] = [];
  if (facts.analysis.levers.length === 0) {
    warnings.push(
      `No levers (named constants, weights, thresholds, prompts) found in "${constrained}"; the harness is generated anyway, and the agent will work on the logic itself.`,
    );
  }
  // An eval of the owner's, or one --agent writes, reads the test data as it is.
  const bringsOwnEval = Boolean(options.evalCmd || options.agent);
  if (testData && !bringsOwnEval) {
    const report = inspectTestDataFile(join(root, testData));
    if (report.format !== "kit-json" && report.format !== "kit-tsv") {
      warnings.push(
        `"${testData}" is not in the kit's test data format; the generated eval expects {"cases": [{"id", "input", "expected"}]} (see README "Test data") — adapt the file or the eval.`,
      );
    }
  }
  return warnings;
}

// ---- the entry ----------------------------------------------------------------------------------

/** What reading the entry needs: the checked inputs and the repository's facts. */
type EntryInputs = Pick<CheckedInputs, "file" | "root" | "constrained"> & {
  repoRoot: string;
  sourceText: string;
  tracked: string[];
};

/**
 * The constrained file's analysis with the entry the eval calls: chosen in the file, or the one
 * --entry names (`Class.method`, inherited ones too), possibly in another file (`path:NAME`, or
 * `Class#method` found among the project's files). `entryFile` is that other file, relative to
 * the experiment folder (it is frozen), else null; the analysis's entry then carries it as `file`.
 */
async function readEntry(
  options: InitOptions,
  inputs: EntryInputs,
): Promise<{ analysis: FileAnalysis; entryFile: string | null }> {
  const { cwd } = options;
  const { file, root, repoRoot } = inputs;
  const request = options.entry ? parseEntryRequest(options.entry) : null;
  const named = request && (request.className ? `${request.className}.${request.member}` : request.member);
  const shared = { repoRoot, root, fileName: displayPath(file, cwd) };
  const entryPath = request ? locateEntryFile(request, options, inputs) : null;
  if (!entryPath) {
    return { analysis: await analyzeFile(file, { ...shared, entry: named ?? undefined }), entryFile: null };
  }
  const analysis = await analyzeFile(file, { ...shared, skipEntry: true });
  const inEntryFile = await analyzeFile(entryPath, {
    repoRoot,
    root,
    fileName: displayPath(entryPath, cwd),
    entry: named!,
  });
  const entryFile = toPosix(relative(root, entryPath));
  return {
    analysis: {
      ...analysis,
      entry: inEntryFile.entry && { ...inEntryFile.entry, file: entryFile },
      warnings: [...analysis.warnings, ...inEntryFile.warnings],
    },
    entryFile,
  };
}

/**
 * The file --entry points into when it is not the constrained one: `path:NAME` (checked: it
 * exists, is a file, is inside the repository), or for `Class#method` the one tracked file of the
 * constrained file's language family that declares the class. Null for the constrained file.
 */
function locateEntryFile(request: EntryRequest, options: InitOptions, inputs: EntryInputs): string | null {
  const { cwd } = options;
  const { file, repoRoot } = inputs;
  if (request.file) {
    const path = existsSync(resolve(cwd, request.file))
      ? resolve(cwd, request.file)
      : pythonModuleFile(request.file, cwd, repoRoot) ?? resolve(cwd, request.file);
    const refuse = (problem: string, code: string) =>
      usage(`--entry "${request.text}": ${problem}; ${entryHint(options, inputs)}`, code);
    if (!existsSync(path)) throw refuse(`"${request.file}" does not exist`, "E_NO_FILE");
    if (statSync(path).isDirectory()) throw refuse(`"${request.file}" is a directory, not a module`, "E_NOT_A_FILE");
    const real = realpathOrSelf(path);
    const fromRoot = relative(repoRoot, real);
    if (fromRoot.startsWith("..") || isAbsolute(fromRoot)) {
      throw refuse(`"${request.file}" is outside the git repository at "${repoRoot}"`, "E_BAD_INPUT");
    }
    return real === file ? null : real;
  }
  if (!request.text.includes("#") || !request.className) return null;
  if (declaresClass(inputs.sourceText, request.className)) return null;
  const language = detectLanguage(file, inputs.sourceText);
  const found = filesDefiningClass(repoRoot, request.className, language, inputs.tracked);
  const initCommand = `${kitCommand("init", { cwd })} ${shellQuote(displayPath(file, cwd))}`;
  const spelled = (path: string) =>
    `${toPosix(displayPath(join(repoRoot, path), cwd))}:${request.className}#${request.member}`;
  if (found.length > 1) {
    throw usage(
      `--entry "${request.text}": class ${request.className} is declared in ${found.length} files (${
        found.join(", ")
      }); name the file, e.g. ${initCommand} --entry ${shellQuote(spelled(found[0]!))}`,
      "E_ENTRY_AMBIGUOUS",
    );
  }
  if (found.length === 0) {
    throw usage(
      `--entry "${request.text}": no tracked ${
        describeFamily(language)
      } file of the repository declares class ${request.className}; ${entryHint(options, inputs)}`,
      "E_ENTRY_NOT_FOUND",
    );
  }
  return join(repoRoot, found[0]!);
}

function describeFamily(language: Language): string {
  if (language === "python") return "Python";
  if (language === "typescript" || language === "javascript") return "TypeScript/JavaScript";
  return "Python or TypeScript/JavaScript";
}

/** The entries the project offers for the constrained file (files that import it), best first. */
function candidatesFor(options: InitOptions, inputs: EntryInputs): EntryCandidate[] {
  return entryCandidates(inputs.repoRoot, relative(inputs.repoRoot, inputs.file), {
    extract: extractFileFacts,
    cwd: options.cwd,
    tracked: inputs.tracked,
    limit: 3,
  });
}

/** The next command after a bad `--entry path:NAME`: a ready entry when the project has one, else the form. */
function entryHint(options: InitOptions, inputs: EntryInputs): string {
  const initCommand = `${kitCommand("init", { cwd: options.cwd })} ${
    shellQuote(displayPath(inputs.file, options.cwd))
  }`;
  const [best] = candidatesFor(options, inputs);
  return best
    ? `pass a file of this repository, e.g. ${initCommand} --entry ${shellQuote(best.entry)}`
    : `pass a file of this repository, e.g. ${initCommand} --entry path/to/module:NAME`;
}

/** `search.engine` in `--entry search.engine:rank` (a Python entry point's spelling): the module's file, if any. */
function pythonModuleFile(name: string, cwd: string, repoRoot: string): string | null {
  if (!/^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$/.test(name)) return null;
  return resolveModule(join(cwd, "__entry__.py"), name, "python", repoRoot)[0] ?? null;
}

function family(language: Language): "python" | "script" | "other" {
  if (language === "python") return "python";
  return language === "typescript" || language === "javascript" ? "script" : "other";
}

/** A file no shell eval knows how to run (a JSON or YAML config): the code that reads it may be the entry. */
function readersWarning(options: InitOptions, inputs: EntryInputs): string[] {
  const [best] = candidatesFor(options, inputs);
  if (!best) return [];
  const initCommand = `${kitCommand("init", { cwd: options.cwd })} ${
    shellQuote(displayPath(inputs.file, options.cwd))
  }`;
  return [
    `${best.file} ${
      best.reason === "imports" ? "imports" : "reads"
    } "${inputs.constrained}"; to have the eval call its entry instead of running the file: ${initCommand} --entry ${
      shellQuote(best.entry)
    } --force`,
  ];
}

/**
 * The refusal when no generated eval could call anything: the ready commands, in the order a
 * person would try them — an entry the project offers (a file that imports this one), bringing
 * an eval, or having a coding agent write one.
 */
function noEntryMessage(options: InitOptions, inputs: EntryInputs, evalTasks: string[]): string {
  const initCommand = `${kitCommand("init", { cwd: options.cwd })} ${
    shellQuote(displayPath(inputs.file, options.cwd))
  }`;
  const candidates = candidatesFor(options, inputs);
  // The project's own benchmark, when it has one, is the eval to bring.
  const task = evalTasks[0];
  const own = task === undefined
    ? `${initCommand} --eval-cmd "CMD that prints SCORE: x" --test-data PATH`
    : isTestCommand(task)
    ? `${initCommand} --eval-cmd ${shellQuote(task)} (the project's test suite, scored by its pass rate)`
    : `${initCommand} --eval-cmd ${shellQuote(task)} --metric NAME (the project's own ${
      task.split(" ").at(-1)
    } task; NAME: the line it prints for the score)`;
  const agent = `${initCommand} --agent CMD`;
  if (candidates.length === 0) {
    return `No entry function in "${inputs.constrained}" for a generated eval to call, and no file of the project that imports it offers a function or method to call. Bring your own eval: ${own}; or have your coding agent write the eval: ${agent}.`;
  }
  const [best, ...others] = candidates;
  const alternatives = others.length > 0
    ? ` (or --entry ${others.map((candidate) => shellQuote(candidate.entry)).join(", --entry ")})`
    : "";
  return `No entry function in "${inputs.constrained}" for a generated eval to call; ${best!.file} ${
    best!.reason === "imports" ? "imports" : "reads"
  } it. Call its entry: ${initCommand} --entry ${
    shellQuote(best!.entry)
  }${alternatives}; or bring your own eval: ${own}; or have your coding agent write the eval: ${agent}.`;
}

/** --cases-from's inputs, one per test case, for the entry function's parameters. */
function readCaseInputs(
  casesText: string,
  options: InitOptions,
  facts: FileFacts & { parameters: string[]; constrained: string },
): CaseInput[] {
  if (facts.project.evalFlavor !== "shell" && !facts.entry) {
    const functions = facts.analysis.functions.map((found) => found.name).join(", ") || "none";
    throw usage(
      `--cases-from needs the entry function the inputs are for; pass --entry NAME (functions in "${facts.constrained}": ${functions}).`,
    );
  }
  try {
    return parseCaseInputs(
      casesText,
      displayPath(resolve(options.cwd, options.casesFrom!), options.cwd),
      facts.parameters,
    );
  } catch (error) {
    throw usage(
      `Cannot use --cases-from: ${(error as Error).message}. Pass a JSON array of inputs or a JSON Lines file.`,
    );
  }
}

/** Every flag checked, in the order a person reads them; paths come back relative to the experiment folder. */
function checkInputs(options: InitOptions, repoRoot: string): CheckedInputs {
  const cwd = options.cwd;
  const initCommand = kitCommand("init", { cwd });
  const file = checkConstrainedFile(resolve(cwd, options.file), repoRoot, initCommand);
  const experimentPath = checkInsideRepository(
    resolve(cwd, options.experiment ?? join(repoRoot, EXPERIMENT_FILE)),
    repoRoot,
    "--experiment",
  );
  if (existsSync(experimentPath) && statSync(experimentPath).isDirectory()) {
    throw usage(
      `--experiment "${options.experiment}" is a directory; name the file to create, e.g. --experiment ${
        join(options.experiment ?? ".", EXPERIMENT_FILE)
      }`,
    );
  }
  const root = dirname(experimentPath);
  const fromRoot = (path: string) => toPosix(relative(root, path));
  if (options.casesFrom && options.evalCmd) {
    throw usage(
      "--cases-from fills the generated eval's test data, so it cannot be combined with --eval-cmd; drop one of them.",
    );
  }
  if (options.casesFrom && options.testData) {
    throw usage("--cases-from writes new test data, so it cannot be combined with --test-data; drop one of them.");
  }
  const guard = options.guard !== undefined ? parseGuard(options.guard) : null;
  if (options.metric !== undefined) checkMetric(options.metric);
  // Read before anything runs (--agent writes files); the metric may still come from a question, checked again then.
  const tiebreaks = parseTiebreakSpecs(options.tiebreak ?? [], options.metric?.replace(/\s+/g, "") ?? "");
  if ("problem" in tiebreaks) throw usage(tiebreaks.problem, "E_USAGE");
  if (options.name !== undefined) checkName(options.name);
  if (options.iterations !== undefined && options.iterations < 1) {
    throw usage(`--iterations must be at least 1, not "${options.iterations}".`);
  }
  const testData = options.testData
    ? fromRoot(checkUserFile(resolve(cwd, options.testData), repoRoot, "--test-data"))
    : null;
  const frozenPaths = (options.frozen ?? []).map((path) =>
    fromRoot(checkUserFile(resolve(cwd, path), repoRoot, "--frozen"))
  );
  const constrained = fromRoot(file);
  if (frozenPaths.includes(constrained)) {
    throw usage(`"${constrained}" cannot be both the constrained file and --frozen; drop it from --frozen.`);
  }
  const casesText = options.casesFrom ? readCasesFrom(resolve(cwd, options.casesFrom)) : null;
  return { file, constrained, experimentPath, root, testData, frozenPaths, guard, casesText };
}

/** An option given as "" (an unset shell variable, say) is refused rather than read as "not given". */
function checkNotEmpty(options: InitOptions): void {
  const given: [string, string | undefined][] = [
    ["--eval-cmd", options.evalCmd],
    ["--test-data", options.testData],
    ["--entry", options.entry],
    ["--name", options.name],
    ["--cases-from", options.casesFrom],
    ["--experiment", options.experiment],
    ["--guard", options.guard],
    ...(options.frozen ?? []).map((path): [string, string] => ["--frozen", path]),
  ];
  const hints: Record<string, string> = {
    "--eval-cmd": 'the command that prints "SCORE: <number>", e.g. --eval-cmd "make eval"',
    "--experiment": `the experiment file to create, e.g. --experiment ${EXPERIMENT_FILE}`,
    "--guard": 'a guard such as --guard "mrr>=0.9" or --guard "mrr>=baseline-0.02"',
  };
  for (const [flag, value] of given) {
    if (value !== undefined && value.trim() === "") {
      throw usage(
        `${flag} must not be empty; pass ${hints[flag] ?? "a value"}, or leave ${flag} out.`,
        "E_EMPTY_OPTION",
      );
    }
  }
}

function checkInsideRepository(path: string, repoRoot: string, label: string): string {
  const real = realpathOrSelf(path);
  const fromRoot = relative(repoRoot, real);
  if (fromRoot.startsWith("..") || isAbsolute(fromRoot)) {
    throw usage(
      `${label} "${path}" is outside the git repository at "${repoRoot}"; use a path inside it, or run init from the repository that holds it.`,
    );
  }
  return real;
}

function checkConstrainedFile(path: string, repoRoot: string, initCommand: string): string {
  if (!existsSync(path)) {
    throw usage(
      `No such file "${path}". Pass the file the agent should optimise, e.g. ${initCommand} src/ranker.py`,
      "E_NO_FILE",
    );
  }
  if (statSync(path).isDirectory()) {
    throw usage(
      `"${path}" is a directory; pass one file inside it, e.g. ${initCommand} ${join(path, "ranker.py")}`,
      "E_NOT_A_FILE",
    );
  }
  const real = checkInsideRepository(path, repoRoot, "The constrained file");
  if (looksBinary(real)) {
    throw usage(
      `"${path}" looks like a binary file; the constrained file must be source text the agent can edit.`,
      "E_BINARY",
    );
  }
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
    throw usage(
      `Cannot read --cases-from "${path}": ${reason}. Pass a readable JSON or JSON Lines file of inputs.`,
      "E_CASES_FROM",
    );
  }
}
