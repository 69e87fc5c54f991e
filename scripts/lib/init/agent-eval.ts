// init --agent: the owner's coding agent writes the eval when init cannot generate a working one
// (a config file, a script, a template: nothing to call), or whenever the owner prefers it. This
// module decides where the eval and its test data go and the command that runs the eval, renders
// the brief the agent reads (the eval contract, the file and its levers, where to call it, the
// test data, the metric), runs the agent with the brief on stdin, and checks mechanically that the
// eval exists, runs and prints a finite SCORE. It writes none of init's artifacts: init.ts plans
// the experiment again as if given --eval-cmd and --test-data. It deletes nothing the agent wrote,
// and overwrites no eval or test data already there: without --force it refuses them, with it
// they are backed up before the agent runs.
import { existsSync, mkdirSync, realpathSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { onInterrupt } from "../cli/interrupt.ts";
import { kitCommand } from "../cli/kit.ts";
import { CACHE_DIR, STATE_DIR } from "../experiment/artifacts.ts";
import { AGENT_TIMEOUT_S, DEFAULTS } from "../experiment/defaults.ts";
import type { Guard } from "../experiment/schema.ts";
import { describeGuard } from "../experiment/guard.ts";
import { displayPath, toPosix } from "../files/paths.ts";
import { backUpReplaced } from "../files/planned-writes.ts";
import { planEvalLocation } from "../harness/eval-script.ts";
import { HOLDOUT_ENV, unusedPath } from "../harness/holdout-set.ts";
import { readFileSummary, renderLeverTable } from "../harness/instructions.ts";
import { describeMetric, type Direction, metricComponents } from "../harness/metric-catalog.ts";
import { describeProject, detectProjectOnDisk, type Project } from "../harness/project.ts";
import { inspectTestDataFile } from "../harness/test-data.ts";
import { type EntryCandidate, entryCandidates } from "../levers/entries.ts";
import type { ClassFacts, EntryFunction, Lever } from "../levers/lever.ts";
import { extractFileFacts } from "../levers/levers.ts";
import { type EvalRun, runEval, runProcess } from "../process/evaluator.ts";
import { parseMetricFormula } from "../process/eval-output.ts";
import { endLeftoverProcesses } from "../process/registry.ts";
import { shellQuote } from "../text/shell-quote.ts";
import { type InitAnswers, type InitInspection, type InitOptions, type InitPlan, planInit, usage } from "./plan.ts";

const EVAL_STEM = "autoresearch_eval";
const TEST_DATA_FILE = "autoresearch_test_data.json";
/** baseline refuses fewer cases without --allow-few (baseline/preflight.ts). */
const MIN_CASES = 15;
/** Entries from the rest of the project shown in the brief; the agent reads the code for more. */
const MAX_CANDIDATES = 12;
const MAX_CLASSES = 8;

/** Markers of a project's language at its root, for a file that has none (a config, a template). */
const PYTHON_MARKERS = [
  "pyproject.toml",
  "setup.py",
  "setup.cfg",
  "requirements.txt",
  "uv.lock",
  "poetry.lock",
  "Pipfile",
];
const SCRIPT_MARKERS = ["package.json", "deno.json", "deno.jsonc", "bun.lock", "bun.lockb", "tsconfig.json"];

/** Where the agent writes, what init runs to check it, and where the brief and the logs go (absolute unless said). */
export type AgentEvalTarget = {
  /** The experiment folder: the eval runs from it. */
  root: string;
  /** The eval file, relative to the experiment folder. */
  evalFile: string;
  /** The command init runs (from the experiment folder) to check the eval, and iterate runs after. */
  evalCommand: string;
  /** The test data, relative to the experiment folder. */
  testData: string;
  /** --test-data named it: the agent reads it and does not write it. */
  testDataGiven: boolean;
  briefPath: string;
  agentLog: string;
  evalLog: string;
  stateDir: string;
};

/** Everything the brief says, as data: pure input of renderAgentBrief. */
export type AgentBriefFacts = {
  name: string;
  /** The constrained file, relative to the experiment folder. */
  constrained: string;
  /** The experiment folder, as a path the agent can cd into. */
  folder: string;
  projectDescription: string;
  fileSummary: string | null;
  levers: Lever[];
  entry: EntryFunction | null;
  functions: EntryFunction[];
  classes: ClassFacts[];
  /** Ready entries elsewhere in the project: files that import (or name) the constrained file. */
  candidates: EntryCandidate[];
  metric: { name: string; direction: Direction };
  guard: Guard | null;
  target: Pick<AgentEvalTarget, "evalFile" | "evalCommand" | "testData" | "testDataGiven">;
  /** What an earlier attempt left at those paths. */
  existing: { evalFile: boolean; testData: boolean };
  evalTimeoutS: number;
};

/** What the check found: the score, the CASE lines, the run time; warnings that do not block. */
export type AgentEvalCheck = {
  score: number;
  caseLines: number;
  seconds: number;
  testCases: number;
  warnings: string[];
};

/** What init continues with: the options as if the person had passed --eval-cmd and --test-data. */
export type AgentEvalResult = {
  check: AgentEvalCheck;
  target: AgentEvalTarget;
  options: Pick<InitOptions, "evalCmd" | "testData" | "frozen" | "agent">;
  /** The eval and test data that were there before the agent ran (--force), absolute: copied to `backupDir` first. */
  replaced: string[];
  backupDir: string | null;
};

// ---- where the eval goes -----------------------------------------------------------------------

/** The eval's file, its command and the test data: `autoresearch_eval.<ext>` in the experiment folder. */
export function planAgentEvalTarget(inspection: InitInspection): AgentEvalTarget {
  const { root } = inspection;
  const runner = evalRunner(inspection);
  const stateDir = join(root, STATE_DIR);
  const target = {
    root,
    evalFile: runner.path,
    evalCommand: runner.command,
    testData: inspection.testData ?? TEST_DATA_FILE,
    testDataGiven: inspection.testData !== null,
    briefPath: join(stateDir, "prompts", "init-eval.md"),
    agentLog: join(stateDir, "logs", "init-agent.log"),
    evalLog: join(stateDir, "logs", "init-eval.log"),
    stateDir,
  };
  for (const path of [target.evalFile, target.testDataGiven ? null : target.testData]) {
    if (path !== null && (path === inspection.constrained || inspection.frozenPaths.includes(path))) {
      throw usage(
        `--agent writes "${path}", which is the constrained file or a frozen one; rename that file, or pass --experiment PATH to set up the experiment in another folder.`,
      );
    }
  }
  return target;
}

/** The eval in the project's language, run the way a generated eval would be (Django's eval is a plain script here). */
function evalRunner(inspection: InitInspection): { path: string; command: string } {
  const { repoRoot, root } = inspection;
  let project: Project = inspection.project;
  if (project.evalFlavor === "shell") {
    // A file with no language of its own: the eval is written in the language of the project around it.
    const language = projectLanguage(repoRoot, root, inspection.tracked);
    if (language !== "other") {
      const extension = language === "python" ? ".py" : ".ts";
      project = detectProjectOnDisk(repoRoot, join(root, `${EVAL_STEM}${extension}`), root);
    }
  }
  if (project.evalFlavor === "django") project = { ...project, evalFlavor: "python" };
  const location = planEvalLocation(project, 1);
  return { path: location.path, command: location.command };
}

/** Python or TypeScript/JavaScript, from the markers at the experiment folder and the repository root, else the tracked files. */
function projectLanguage(repoRoot: string, root: string, tracked: string[]): "python" | "script" | "other" {
  const has = (names: string[]) =>
    names.some((name) => existsSync(join(root, name)) || existsSync(join(repoRoot, name)));
  const python = has(PYTHON_MARKERS);
  const script = has(SCRIPT_MARKERS);
  if (python !== script) return python ? "python" : "script";
  const pythonFiles = tracked.filter((path) => /\.py$/.test(path)).length;
  const scriptFiles = tracked.filter((path) => /\.[cm]?[jt]sx?$/.test(path)).length;
  if (pythonFiles === scriptFiles) return "other";
  return pythonFiles > scriptFiles ? "python" : "script";
}

// ---- the brief ---------------------------------------------------------------------------------

/** The facts the brief states, gathered from the inspection, the plan's settings and the project. */
export function gatherBriefFacts(
  inspection: InitInspection,
  settings: { name: string; metric: { name: string; direction: Direction }; guard: Guard | null },
  target: AgentEvalTarget,
): AgentBriefFacts {
  const { analysis, root, repoRoot, constrained } = inspection;
  const ownFunctions = analysis.functions.length > 0 || analysis.classes.some((found) => found.public);
  const candidates = ownFunctions ? [] : entryCandidates(repoRoot, toPosix(relative(repoRoot, inspection.file)), {
    extract: extractFileFacts,
    cwd: root,
    tracked: inspection.tracked,
    limit: MAX_CANDIDATES,
  });
  return {
    name: settings.name,
    constrained,
    folder: root,
    projectDescription: describeProject(inspection.project, constrained).replace(/; the eval .*$/, ""),
    fileSummary: readFileSummary(inspection.sourceText, analysis.language),
    levers: analysis.levers,
    entry: analysis.entry,
    functions: analysis.functions,
    classes: analysis.classes,
    candidates,
    metric: settings.metric,
    guard: settings.guard,
    target,
    existing: {
      evalFile: existsSync(resolve(root, target.evalFile)),
      testData: existsSync(resolve(root, target.testData)),
    },
    evalTimeoutS: DEFAULTS.eval.timeout_s,
  };
}

/** The brief the agent reads: Markdown, every path and command spelled exactly. */
export function renderAgentBrief(facts: AgentBriefFacts): string {
  const { target, constrained } = facts;
  const callable = facts.entry !== null || facts.functions.length > 0 || facts.classes.some((found) => found.public);
  const why = callable
    ? "The experiment's owner asked for an eval written by you rather than the generic one init generates."
    : `Init found nothing in \`${constrained}\` for an eval to call (it reads like a config file, a script or a template), so it cannot generate a working eval.`;
  const sections = [
    `# Write the eval for the autoresearch experiment "${facts.name}"`,
    "",
    `An autoresearch loop is about to tune \`${constrained}\`: an agent edits that file, and the harness keeps an edit only when the eval's SCORE gets better. ${why} Your task: write that eval and its test data. Init then runs the eval once to check it and sets up the experiment with it; from then on the eval and the test data are frozen, so they decide what "better" means for every iteration.`,
    "",
    "## What to write",
    "",
    ...deliverables(facts),
    "",
    "## The eval contract",
    "",
    "The eval prints on stdout:",
    "",
    "```",
    "SCORE: <number>        required: the metric, on its own line (the last one wins)",
    "CASE <id> <number>     optional: one line per test case, its contribution to SCORE",
    "  <name>: <number>     optional: named metrics, indented (the guard, a formula's components)",
    "GUARD: <number>        the guard metric, when a guard is set",
    "```",
    "",
    "- Exit non-zero when anything fails (an exception, a missing file, a case that cannot run), never a low SCORE instead; exit 0 only with a real SCORE. Keep progress and debug output on stderr.",
    "- Deterministic: the same code and test data give the same SCORE. Seed any randomness, and keep time out of SCORE unless the metric is a timing. If the work is noisy by design (a model call, sampling), leave it so and say it in a comment at the top: the harness repeats runs and decides with statistics.",
    `- Fast: seconds, a minute at most. It runs at least twice per iteration, more when it is noisy; init's check stops it after ${facts.evalTimeoutS} s.`,
    `- It exercises \`${constrained}\` on every run: import or read the file itself each run, never a copy, a snapshot or a result cached on its content. Before the first iteration the baseline breaks the file on purpose and expects SCORE to change or the eval to fail.`,
    `- Offline, with only what the project already has installed. It writes nothing into the repository; a cache of expensive calls (keyed on their input, never on the code under test) may go under \`${CACHE_DIR}/\`.`,
    "",
    "## The metric",
    "",
    ...metricSection(facts),
    "",
    "## The file under tuning",
    "",
    ...fileSection(facts),
    "",
    "## Where the eval can call the code",
    "",
    ...callSection(facts),
    "",
    "## The test data",
    "",
    ...testDataSection(facts),
    "",
    "## Done when",
    "",
    `Running \`${target.evalCommand}\` in \`${facts.folder}\` exits 0 and prints a \`SCORE:\` line with a finite number. Then stop: init checks the same, reports the score, and writes the experiment.`,
  ];
  return `${sections.join("\n")}\n`;
}

function deliverables(facts: AgentBriefFacts): string[] {
  const { target, existing, constrained, folder } = facts;
  const testData = target.testDataGiven
    ? `1. **Test data**: the owner gave \`${target.testData}\`. Read it and use it as it is; do not edit it.`
    : `1. **Test data**: \`${target.testData}\`, a JSON file with at least ${MIN_CASES} cases (see "The test data" below)${
      existing.testData
        ? "; a file is already there from an earlier attempt: keep what is right in it and fix the rest"
        : ""
    }.`;
  return [
    `All paths are relative to the experiment folder \`${folder}\`.`,
    "",
    testData,
    `2. **The eval**: \`${target.evalFile}\`${
      existing.evalFile ? " (a file is already there from an earlier attempt: fix it or replace it)" : ""
    }. Init runs it from the experiment folder exactly as:`,
    "",
    "   ```",
    `   ${target.evalCommand}`,
    "   ```",
    "",
    `Write nothing else: do not edit \`${constrained}\` or any other file of the project, install nothing, and do not commit.`,
  ];
}

function metricSection(facts: AgentBriefFacts): string[] {
  const { metric, guard, entry } = facts;
  const better = metric.direction === "max" ? "higher is better" : "lower is better";
  const { terms, names } = metricComponents(metric.name);
  const entryName = entry?.name ?? null;
  const lines = terms
    ? [
      `SCORE is the formula \`${metric.name}\` (${better}). Print each component as an indented named metric and SCORE as the formula's value:`,
      "",
      ...[...new Set(names)].map((name) => `- ${describeForAgent(name, entryName)}`),
    ]
    : [`SCORE is **${metric.name}** (${better}): ${describeForAgent(metric.name, entryName)}.`];
  lines.push(
    "",
    "Compute it over all test cases (an average of per-case values, printed as `CASE <id> <value>` lines, is the usual shape) and state the formula in a comment at the top of the eval.",
  );
  if (guard) {
    lines.push(
      "",
      `A guard is set: \`${
        describeGuard(guard, null)
      }\` must hold while SCORE improves. Print it as \`GUARD: <value>\` and as \`  ${guard.metric}: <value>\`.`,
    );
  }
  return lines;
}

/** The catalogue's words for a known metric; for any other name, the agent defines it. */
function describeForAgent(name: string, entryName: string | null): string {
  const known = describeMetric(name, entryName);
  return known.endsWith("as computed by the eval")
    ? `${name}: not one of the kit's metrics; compute what the name says for this code, and define it in the eval's header comment`
    : known;
}

function fileSection(facts: AgentBriefFacts): string[] {
  const lines = [`\`${facts.constrained}\` (${facts.projectDescription}).`];
  if (facts.fileSummary) lines.push("", `What it says about itself: ${facts.fileSummary}`);
  if (facts.levers.length === 0) {
    lines.push("", "Init found no named levers in it; the loop will work on its logic.");
  } else {
    lines.push(
      "",
      "The levers the loop will tune (the eval must let a change to any of them reach SCORE):",
      "",
      renderLeverTable(facts.levers),
    );
  }
  return lines;
}

function callSection(facts: AgentBriefFacts): string[] {
  const { entry, constrained } = facts;
  const lines: string[] = [];
  if (entry) {
    const where = entry.file ? ` in \`${entry.file}\`` : "";
    lines.push(`Init's choice of entry${where} (line ${entry.line}):`, "", "```", entry.signature, "```", "");
    if (entry.owner?.binding === "instance") {
      lines.push(
        `It is a method: build one \`${entry.owner.className}\` from the test data's \`setup\` object (${
          entry.owner.constructorSignature ? `\`${entry.owner.constructorSignature}\`` : "its constructor's parameters"
        }), once, then call the method once per case.`,
        "",
      );
    }
  }
  const others = facts.functions.filter((found) => found.name !== entry?.name);
  if (others.length > 0) {
    lines.push(`Other public functions in \`${constrained}\`:`, "");
    for (const found of others.slice(0, MAX_CANDIDATES)) lines.push(`- \`${found.signature}\` (line ${found.line})`);
    lines.push("");
  }
  const classes = facts.classes.filter((found) => found.public && !found.abstract).slice(0, MAX_CLASSES);
  if (classes.length > 0) {
    lines.push(`Classes in \`${constrained}\`:`, "");
    for (const found of classes) {
      const constructor = found.constructor ? `, constructor \`${found.constructor.signature}\`` : "";
      const methods = found.methods.filter((method) => !method.name.startsWith("_")).map((method) =>
        `\`${method.name}\``
      );
      lines.push(
        `- \`${found.name}\` (line ${found.line})${constructor}${
          methods.length ? `; methods ${methods.join(", ")}` : ""
        }`,
      );
    }
    lines.push(
      "",
      "For a method, build the instance once from a `setup` object in the test data (the constructor's parameters), then call the method per case.",
      "",
    );
  }
  if (facts.candidates.length > 0) {
    lines.push(`Project files that use \`${constrained}\`, and what they offer:`, "");
    for (const candidate of facts.candidates) {
      const how = candidate.reason === "imports" ? "imports it" : "names it";
      lines.push(`- \`${candidate.signature}\` in \`${candidate.file}\` (line ${candidate.line}; the file ${how})`);
    }
    lines.push("");
  }
  if (lines.length === 0) {
    lines.push(
      `Init found nothing that calls into \`${constrained}\`. Find how the project uses it (search the code for its name), and have the eval do the same: load the config the way the code does, or run the script or render the template as the project does, on each test case's input.`,
    );
  } else {
    lines.push(
      "Call the code the way the project does. If none of these fits the metric, pick what does and say why in the eval's header comment.",
    );
  }
  return lines;
}

function testDataSection(facts: AgentBriefFacts): string[] {
  const { target } = facts;
  // The harness scores a held-out set (and the user may add one later) by naming another file here.
  const fromVariable =
    `The eval opens the test data at the path in the \`${HOLDOUT_ENV}\` environment variable when it is set (another file of the same format), else \`${target.testData}\`; when the file it names does not exist, the eval fails (exits non-zero) rather than scoring anything else.`;
  if (target.testDataGiven) {
    return [
      `The owner's test data is \`${target.testData}\` (frozen). Read its format as it is; the eval adapts to it, not the other way round.`,
      "",
      fromVariable,
    ];
  }
  return [
    fromVariable,
    "",
    `\`${target.testData}\`: JSON, at least ${MIN_CASES} cases (20-30 is better). Each case is a realistic input with the output that counts as right, taken from the project where it can be (its docs, tests, fixtures, examples); never tuned to what the current code happens to return. Cover the easy cases and the hard ones. No "TODO:" placeholders: the baseline refuses them.`,
    "",
    "```json",
    "{",
    '  "setup": {"...": "optional: what every case shares, e.g. a class\'s constructor parameters"},',
    '  "cases": [',
    '    {"id": "c01", "input": {"...": "the parameters of the call"}, "expected": "the right output"}',
    "  ]",
    "}",
    "```",
  ];
}

// ---- running the agent and checking its eval ---------------------------------------------------

/**
 * Run the agent with the brief, check the eval it wrote, and return the options init continues
 * with. Before the agent runs, init's own plan is checked (every file writable, nothing
 * overwritten without --force, the eval and test data the agent would write included), so a
 * refusal never costs an agent run; with --force, the eval and test data already there are backed
 * up first. Throws a CliError with one line (what failed, the log, the next command); init has
 * written nothing of its own by then. `timeoutS` is --agent-timeout, when given.
 */
export async function writeEvalWithAgent(
  inspection: InitInspection,
  answers: InitAnswers,
  options: { agent: string; timeoutS?: number; note: (message: string) => void },
): Promise<AgentEvalResult> {
  if (options.agent.trim() === "") {
    throw usage(
      '--agent must not be empty; pass the command that runs your coding agent, e.g. --agent "claude -p", or leave --agent out.',
      "E_EMPTY_OPTION",
    );
  }
  if (inspection.options.evalCmd) {
    throw usage("--agent writes the eval, so it cannot be combined with --eval-cmd; drop one of them.");
  }
  if (inspection.options.casesFrom) {
    throw usage(
      "--cases-from fills the generated eval's test data, so it cannot be combined with --agent; drop one of them.",
    );
  }
  const target = planAgentEvalTarget(inspection);
  const timeoutS = options.timeoutS ?? AGENT_TIMEOUT_S;
  const commandsFor = (force: boolean) => nextCommands(inspection, target, { force, timeoutS: options.timeoutS });
  // The plan init will write with this eval: refusals (unwritable folders, existing artifacts) come now.
  // It is planned as if forced, so that one refusal names init's artifacts and the agent's files together.
  // The test data is the agent's to write: a --holdout-split is planned on it (split once it is there).
  const planned = planInit({
    ...inspection,
    testData: target.testData,
    options: { ...inspection.options, evalCmd: target.evalCommand, force: true },
  }, answers);
  const agentFiles = agentWrites(target).filter((path) => existsSync(path));
  if (!inspection.options.force) refuseExisting(inspection, [...planned.replaced, ...agentFiles], planned, commandsFor);
  const brief = renderAgentBrief(gatherBriefFacts(inspection, {
    name: planned.experiment.name,
    metric: { name: planned.experiment.metric.name, direction: planned.experiment.metric.direction },
    guard: planned.experiment.guard,
  }, target));
  mkdirSync(dirname(target.briefPath), { recursive: true });
  writeFileSync(target.briefPath, brief);
  const shown = (path: string) => displayPath(path, inspection.cwd);
  // Nothing of init's is written yet, so an interruption has nothing to undo: the handler stops the agent and exits 130.
  const unregister = onInterrupt(() => {});
  try {
    for (const message of endLeftoverProcesses(target.stateDir)) options.note(message);
    // Only now, with a leftover agent stopped: its writes are in the copy, and nothing writes after it.
    const replaced = agentWrites(target).filter((path) => existsSync(path));
    const backupDir = backUpReplaced({ stateDir: target.stateDir, label: "init", home: target.root, replaced });
    if (backupDir) {
      options.note(
        `Backed up ${replaced.map(shown).join(", ")} to ${
          shown(backupDir)
        }/ before the agent runs (it may replace them)`,
      );
    }
    options.note(
      `Asking the agent to write ${target.evalFile}: ${options.agent} (brief: ${shown(target.briefPath)}; log: ${
        shown(target.agentLog)
      }; at most ${timeoutS} s)`,
    );
    const agentRun = await runProcess(options.agent, {
      kind: "agent",
      cwd: target.root,
      timeoutS,
      logPath: target.agentLog,
      input: brief,
      stateDir: target.stateDir,
      env: {
        AUTORESEARCH_PROMPT_FILE: target.briefPath,
        AUTORESEARCH_TASK: "eval",
        AUTORESEARCH_EVAL_FILE: resolve(target.root, target.evalFile),
        AUTORESEARCH_EVAL_COMMAND: target.evalCommand,
        AUTORESEARCH_TEST_DATA: resolve(target.root, target.testData),
        AUTORESEARCH_EXPERIMENT_DIR: target.root,
      },
    });
    if (agentRun.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
    // What the agent left is the person's to inspect: trying again must back it up, so it names --force.
    const leftFiles = agentWrites(target).some((path) => existsSync(path));
    const next = commandsFor(Boolean(inspection.options.force) || leftFiles);
    if (agentRun.timedOut || agentRun.spawnError || agentRun.exitCode !== 0) {
      const what = agentRun.timedOut
        ? `did not finish within ${timeoutS} s`
        : agentRun.spawnError
        ? `could not start (${agentRun.spawnError.message})`
        : `exited with code ${agentRun.exitCode ?? agentRun.signal}${quoted(lastLine(agentRun.tail))}`;
      throw new CliError(
        `The agent command ${what}; log: ${shown(target.agentLog)}. Next: ${
          agentRun.timedOut ? next.againWithTimeout(timeoutS * 2) : next.again
        }`,
        "E_AGENT_FAILED",
        EXIT.FAILED,
      );
    }
    options.note(`Checking the eval: ${target.evalCommand} (log: ${shown(target.evalLog)})`);
    const { formula, name } = planned.experiment.metric;
    const check = await checkAgentEval(inspection, target, next, {
      formula: formula ?? (parseMetricFormula(name) ? name : null),
      guard: planned.experiment.guard?.metric ?? null,
    });
    return {
      check,
      target,
      options: {
        evalCmd: target.evalCommand,
        testData: resolve(target.root, target.testData),
        // The eval's file is hashed at baseline like a generated eval, and named as frozen in the instructions.
        frozen: [...(inspection.options.frozen ?? []), resolve(target.root, target.evalFile)],
        agent: undefined,
      },
      replaced,
      backupDir,
    };
  } finally {
    unregister();
  }
}

/** The mechanical check: both files there, usable test data, and one run that exits 0 with a finite SCORE. */
async function checkAgentEval(
  inspection: InitInspection,
  target: AgentEvalTarget,
  next: NextCommands,
  reading: { formula: string | null; guard: string | null },
): Promise<AgentEvalCheck> {
  const shown = (path: string) => displayPath(path, inspection.cwd);
  const evalPath = resolve(target.root, target.evalFile);
  const testDataPath = resolve(target.root, target.testData);
  const fail = (what: string, log: string, nextCommand: string) =>
    new CliError(`${what}; log: ${shown(log)}. Next: ${nextCommand}`, "E_AGENT_EVAL", EXIT.FAILED);
  if (!existsSync(evalPath)) throw fail(`The agent wrote no eval at ${shown(evalPath)}`, target.agentLog, next.again);
  if (!existsSync(testDataPath)) {
    throw fail(`The agent wrote no test data at ${shown(testDataPath)}`, target.agentLog, next.again);
  }
  // What init would check of --frozen and --test-data: a file, inside the repository (not a link out of it).
  for (const [what, path] of [["eval", evalPath], ["test data", testDataPath]]) {
    const problem = notAFileInRepository(path, inspection.repoRoot);
    if (problem) throw fail(`The agent's ${what} ${shown(path)} ${problem}`, target.agentLog, next.again);
  }
  const report = inspectTestDataFile(testDataPath);
  if (report.problems.length > 0) {
    throw fail(
      `The test data ${shown(testDataPath)} cannot be used: ${report.problems[0]}`,
      target.agentLog,
      next.byHand,
    );
  }
  if (report.placeholders.length > 0) {
    throw fail(
      `The test data ${
        shown(testDataPath)
      } still has ${report.placeholders.length} "TODO:" placeholder(s) (first: case "${
        report.placeholders[0].caseId
      }")`,
      target.agentLog,
      next.byHand,
    );
  }
  const { formula, guard } = reading;
  const run = await runEval(target.evalCommand, {
    cwd: target.root,
    timeoutS: DEFAULTS.eval.timeout_s,
    logPath: target.evalLog,
    stateDir: target.stateDir,
    guardMetric: guard,
    formula: formula ? parseMetricFormula(formula) : null,
  });
  if (run.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
  if (!run.ok || run.score === null) {
    throw fail(`The eval \`${target.evalCommand}\` failed its check: ${failure(run)}`, target.evalLog, next.byHand);
  }
  if (inspection.options.holdout?.path !== undefined || inspection.options.holdout?.split !== undefined) {
    // The held-out set is scored through the variable: check now what baseline would refuse.
    const missing = unusedPath(target.stateDir, "absent-test-data", extname(target.testData));
    const probeLog = join(dirname(target.evalLog), "init-eval-missing-test-data.log");
    let probe: EvalRun;
    try {
      probe = await runEval(target.evalCommand, {
        cwd: target.root,
        timeoutS: DEFAULTS.eval.timeout_s,
        logPath: probeLog,
        stateDir: target.stateDir,
        guardMetric: guard,
        formula: formula ? parseMetricFormula(formula) : null,
        env: { [HOLDOUT_ENV]: missing },
      });
    } finally {
      rmSync(missing, { force: true, recursive: true }); // should the eval have created it
    }
    if (probe.interrupted) throw new CliError("Interrupted.", "E_INTERRUPTED", EXIT.INTERRUPTED);
    if (probe.ok && probe.score !== null) {
      throw fail(
        `The eval \`${target.evalCommand}\` does not read its test data from ${HOLDOUT_ENV}: with it naming a file that does not exist, it still scored ${probe.score}, so the held-out set could never be scored`,
        probeLog,
        next.byHand,
      );
    }
  }
  const warnings: string[] = [];
  if (report.cases < MIN_CASES) {
    warnings.push(
      `The test data ${
        shown(testDataPath)
      } has ${report.cases} cases; baseline wants at least ${MIN_CASES} (or --allow-few).`,
    );
  }
  if (guard && run.guard === null) {
    warnings.push(`The eval prints no "${guard}" metric and no GUARD line, so the guard cannot be checked; add one.`);
  }
  return {
    score: run.score,
    caseLines: run.cases ? Object.keys(run.cases).length : 0,
    seconds: run.durationMs / 1000,
    testCases: report.cases,
    warnings,
  };
}

/** Why a check run failed, in words, with the last line it printed that is not a result line (once: the reason may quote it already). */
function failure(run: EvalRun): string {
  const reason = run.crashReason ?? "it printed no finite SCORE";
  return /\(".*"\)$/s.test(reason) ? reason : `${reason}${quoted(lastLine(run.tail))}`;
}

/** The last line of output that says something: not a SCORE, CASE or metric line. */
function lastLine(tail: string): string | null {
  const lines = tail.split("\n").map((line) => line.trim()).filter((line) =>
    line !== "" && !/^(SCORE|GUARD):|^CASE\s|^[\w@.\-/ ]+:\s*[-+\d.eE]+$/.test(line)
  );
  return lines.length ? lines[lines.length - 1] : null;
}

function quoted(line: string | null): string {
  if (line === null) return "";
  const short = line.length > 160 ? `${line.slice(0, 159)}…` : line;
  return ` ("${short}")`;
}

type NextCommands = {
  /** The agent again, as it was asked. */
  again: string;
  againWithTimeout: (seconds: number) => string;
  /** Fix the eval by hand, then set up the experiment with it as it stands. */
  byHand: string;
  /** The experiment with the eval and test data as they stand. */
  useAsTheyAre: string;
};

/** The commands that continue after a failure: the agent again, or the eval as it stands (fixed by hand, frozen as the agent's would be). */
function nextCommands(
  inspection: InitInspection,
  target: AgentEvalTarget,
  settings: { force: boolean; timeoutS: number | undefined },
): NextCommands {
  const { options, cwd } = inspection;
  const file = shellQuote(displayPath(inspection.file, cwd));
  const flags: string[] = [];
  const add = (flag: string, value: string | number | undefined) => {
    if (value !== undefined) flags.push(`${flag} ${shellQuote(String(value))}`);
  };
  add("--metric", options.metric);
  add("--direction", options.direction);
  add("--guard", options.guard);
  add("--entry", options.entry);
  add("--iterations", options.iterations);
  add("--name", options.name);
  add("--output-field", options.outputField);
  add("--experiment", options.experiment);
  for (const tiebreak of options.tiebreak ?? []) add("--tiebreak", tiebreak);
  add("--holdout", options.holdout?.path);
  add("--holdout-split", options.holdout?.split);
  add("--holdout-seed", options.holdout?.seed);
  for (const frozen of options.frozen ?? []) add("--frozen", frozen);
  const init = [kitCommand("init", { cwd }), file, ...flags].join(" ");
  const force = (on: boolean) => on ? " --force" : "";
  const testData = shellQuote(displayPath(resolve(target.root, target.testData), cwd));
  const evalFile = displayPath(resolve(target.root, target.evalFile), cwd);
  const agent = (seconds: number | undefined) =>
    `${init}${force(settings.force)}${options.testData ? ` --test-data ${testData}` : ""}${
      seconds === undefined ? "" : ` --agent-timeout ${seconds}`
    } --agent ${shellQuote(options.agent ?? "CMD")}`;
  const asTheyAre = `${init}${force(Boolean(options.force))} --eval-cmd ${
    shellQuote(target.evalCommand)
  } --test-data ${testData} --frozen ${shellQuote(evalFile)}`;
  return {
    again: agent(settings.timeoutS),
    againWithTimeout: agent,
    byHand: `fix ${evalFile}, then run: ${asTheyAre}`,
    useAsTheyAre: asTheyAre,
  };
}

/** The eval and the test data the agent writes, absolute; the owner's --test-data is read, never written. */
function agentWrites(target: AgentEvalTarget): string[] {
  const paths = [resolve(target.root, target.evalFile)];
  if (!target.testDataGiven) paths.push(resolve(target.root, target.testData));
  return paths;
}

/** Without --force nothing already there is overwritten: init's artifacts and the agent's files are named together. */
function refuseExisting(
  inspection: InitInspection,
  existing: string[],
  planned: InitPlan,
  commandsFor: (force: boolean) => NextCommands,
): void {
  if (existing.length === 0) return;
  const names = [...new Set(existing)].map((path) => `"${displayPath(path, inspection.cwd)}"`).join(", ");
  const one = existing.length === 1;
  // An experiment already there can be continued; an eval and test data alone can be used as they are.
  const otherwise = planned.replaced.length > 0
    ? `continue with: ${planned.nextCommand}`
    : `use ${one ? "it" : "them"} as ${one ? "it is" : "they are"}: ${commandsFor(false).useAsTheyAre}`;
  throw usage(
    `Not overwriting existing ${one ? "artifact" : "artifacts"} ${names}. Pass --force to replace ${
      one ? "it" : "them"
    } (a backup goes to ${STATE_DIR}/backups/), or ${otherwise}`,
    "E_EXISTS",
  );
}

/** Why `path` cannot be frozen or read as test data (a folder, a link out of the repository); null when it can. */
function notAFileInRepository(path: string, repoRoot: string): string | null {
  if (!statSync(path).isFile()) return "is not a file";
  const fromRoot = relative(repoRoot, realpathSync(path));
  return fromRoot.startsWith("..") || isAbsolute(fromRoot) ? `is outside the git repository at ${repoRoot}` : null;
}

/**
 * The inspection init plans with once the agent's eval passed its check: the one it had, with
 * what the eval changes (the eval command, the test data, the eval frozen after the owner's
 * --frozen files) and nothing read again. It equals inspectInit with those options.
 */
export function inspectionWithAgentEval(inspection: InitInspection, result: AgentEvalResult): InitInspection {
  const ownFrozen = (inspection.options.frozen ?? []).length;
  const { frozenPaths } = inspection;
  return {
    ...inspection,
    options: { ...inspection.options, ...result.options },
    testData: result.target.testData,
    frozenPaths: [...frozenPaths.slice(0, ownFrozen), result.target.evalFile, ...frozenPaths.slice(ownFrozen)],
  };
}

/** The one line init prints when the eval passed its check. */
export function describeAgentEvalCheck(result: AgentEvalResult): string {
  const { check, target } = result;
  const seconds = check.seconds < 10 ? check.seconds.toFixed(1) : String(Math.round(check.seconds));
  return `The agent's eval works: SCORE ${check.score} from \`${target.evalCommand}\`, ${check.caseLines} CASE line${
    check.caseLines === 1 ? "" : "s"
  }, ${seconds} s; test data ${target.testData} has ${check.testCases} case${check.testCases === 1 ? "" : "s"}.`;
}
