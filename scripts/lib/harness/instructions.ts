// instructions.md and launch_prompt.md for any round, rendered from templates/ with plain
// data: the levers and entry function found in the constrained file, the metric, guard,
// eval and frozen files, and for later rounds a summary of earlier rounds, a focus and the
// co-optimisation warning. Pure apart from reading templates; it writes nothing.
import { isTestSummaryMetric } from "../process/test-summary.ts";
import type { Guard, Round } from "../experiment/schema.ts";
import { describeGuard, isRelativeGuard } from "../experiment/guard.ts";
import type { EntryFunction, Lever } from "../levers/lever.ts";
import { describeScore, type Direction, metricComponents } from "./metric-catalog.ts";
import { readTemplate, renderTemplate } from "../text/render-template.ts";
import { kitCommand, withExperimentFlag } from "../cli/kit.ts";

/** Levers listed in full; the rest are counted, so a huge file keeps readable instructions. */
const MAX_LEVERS_LISTED = 40;
const MAX_FUNCTIONS_LISTED = 20;

export type FrozenFile = { path: string; reason: string };

export type InstructionsContext = {
  name: string;
  round: number;
  /** Files the agent may edit, relative to the experiment root. */
  constrainedFiles: string[];
  /** The language and toolchain in a few words, e.g. "python, Django project; the eval is a management command". */
  projectDescription: string;
  /** The constrained file's own description (module docstring or header comment), or null. */
  fileSummary: string | null;
  levers: Lever[];
  functions: EntryFunction[];
  entry: EntryFunction | null;
  metric: { name: string; direction: Direction };
  guard: Guard | null;
  /** Secondary objectives, in order: a change tied on the metric that improves one is kept. */
  tiebreaks?: { metric: string; direction: Direction }[];
  /** The named metric (or formula of them) the score is read from instead of SCORE (next-round --metric), or null. */
  scoreFrom?: string | null;
  evalCommand: string;
  /** The generated eval script, or null when the user brought their own eval. */
  evalScript: string | null;
  testData: string | null;
  /** Frozen files besides the eval script and test data, each with why. */
  frozen: FrozenFile[];
  cacheDir: string;
  iterations: number;
  /** budget.plateau: non-keeps in a row that end a loop; the instructions name the same number. */
  plateau: number;
  artifacts: Round["artifacts"];
  commands: { iterate: string; dashboard: string; baseline: string };
  /** Test files already in the repository, for context. */
  existingTests: string[];
  /** Markdown summarising rounds 1..N-1 (next-round), or null in round 1. */
  earlierRounds: string | null;
  /** What this round should target (next-round --focus), or null. */
  focus: string | null;
  /** Round N+1 tunes a file whose partner was tuned in an earlier round. */
  coOptimizationWarning: boolean;
};

/** Why a file the owner froze (--frozen, frozen:) is listed as not to be edited. */
export const FROZEN_BY_OWNER = "frozen by the experiment's owner (its hash is checked like the eval's).";

/** The commands the instructions and launch prompt name, spelled for the repository root, where an agent usually works. */
export function agentCommands(experimentPath: string, repoRoot: string): InstructionsContext["commands"] {
  const spelled = (verb: "iterate" | "dashboard" | "baseline") =>
    withExperimentFlag(kitCommand(verb, { cwd: repoRoot }), experimentPath, repoRoot, repoRoot);
  return { iterate: spelled("iterate"), dashboard: spelled("dashboard"), baseline: spelled("baseline") };
}

export function renderInstructions(context: InstructionsContext): string {
  const files = context.constrainedFiles.map((file) => `\`${file}\``).join(" and ");
  const direction = context.metric.direction === "max" ? "maximise" : "minimise";
  return renderTemplate(readTemplate("instructions.md"), {
    name: context.name,
    round: String(context.round),
    focus_section: context.focus ? `## Focus of this round\n\n${context.focus.trim()}` : "",
    earlier_rounds_section: context.earlierRounds
      ? `## Summary of earlier rounds\n\n${context.earlierRounds.trim()}`
      : "",
    co_optimization_section: context.coOptimizationWarning ? CO_OPTIMIZATION_WARNING : "",
    goal: `${direction[0].toUpperCase()}${
      direction.slice(1)
    } **${context.metric.name}** of ${files}, as measured by the eval below, within ${context.iterations} iterations.${
      objectiveSentences(context)
    }`,
    files_inline: files,
    dashboard: context.artifacts.dashboard,
    journal: context.artifacts.journal,
    report: context.artifacts.report,
    iterate_command: context.commands.iterate,
    dashboard_command: context.commands.dashboard,
    baseline_command: context.commands.baseline,
    iterations: String(context.iterations),
    plateau: String(context.plateau),
    system_context: systemContext(context),
    can_modify: canModify(context),
    cannot_modify: cannotModify(context),
    guard_section: guardSection(context),
    eval_section: evalSection(context),
    caching_section: cachingSection(context),
    pipeline: pipeline(context),
    strategy: strategy(context),
    entry_rule: entryRule(context),
  }, { label: "templates/instructions.md", collapseBlankLines: true });
}

/**
 * What else decides a keep, after the goal sentence: where the score is read from when it is not
 * SCORE, and the tiebreaks: " A change that ties on mrr and improves precision@3 (higher is better) is kept."
 */
function objectiveSentences(context: InstructionsContext): string {
  const sentences: string[] = [];
  if (context.scoreFrom) {
    sentences.push(
      `The score is the eval's \`${context.scoreFrom}\` line, not its SCORE line (SCORE still prints the metric the eval was written for).`,
    );
  }
  const tiebreaks = context.tiebreaks ?? [];
  if (tiebreaks.length > 0) {
    const named = tiebreaks.map((tiebreak) =>
      `${tiebreak.metric} (${tiebreak.direction === "max" ? "higher" : "lower"} is better)`
    ).join(", then ");
    sentences.push(`A change that ties on ${context.metric.name} and improves ${named} is kept.`);
  }
  return sentences.length > 0 ? ` ${sentences.join(" ")}` : "";
}

/** The "Do not" line about the file's interface: what the eval or the rest of the program relies on. */
function entryRule(context: InstructionsContext): string {
  const { entry } = context;
  if (entry?.file) {
    return `- change the names or the format of what \`${entry.file}\` reads from the file (it must still load it);\n`;
  }
  if (entry) return "- change the entry function's name, parameters or return type;\n";
  if (generatedEvalRunsFile(context)) {
    return "- change how the program is invoked (its arguments, input and output format);\n";
  }
  return "- change how the file is used: its format, the names other code reads from it, or how it is invoked;\n";
}

export const CO_OPTIMIZATION_WARNING = `## Co-optimisation warning

An earlier round tuned a component to work with this file's previous behaviour. Improving
this file alone may now look worse than it is, because the other side was fitted to the old
output. If the score drops for reasons that point at the partner component, say so in the
report: sequential optimisation has a lower ceiling than tuning both together.`;

function systemContext(context: InstructionsContext): string {
  const parts: string[] = [];
  const file = context.constrainedFiles[0];
  // describeProject says how a generated eval would run the file ("; the eval is a management
  // command"); an owner's eval is not that, so the clause goes.
  const project = ownEval(context)
    ? context.projectDescription.replace(/; the eval .*$/, "")
    : context.projectDescription;
  parts.push(`- Constrained file: \`${file}\` (${project}).`);
  if (context.fileSummary) {
    parts.push(`- What it says about itself: ${context.fileSummary.replace(/\s+/g, " ").trim()}`);
  }
  parts.push(entryBullet(context));
  const others = context.functions.filter((found) => found.name !== context.entry?.name);
  if (others.length > 0) {
    const listed = others.slice(0, MAX_FUNCTIONS_LISTED).map((found) => `\`${found.name}\` (line ${found.line})`).join(
      ", ",
    );
    parts.push(
      `- Other functions in the file: ${listed}${
        others.length > MAX_FUNCTIONS_LISTED ? `, and ${others.length - MAX_FUNCTIONS_LISTED} more` : ""
      }.`,
    );
  }
  if (context.existingTests.length > 0) {
    parts.push(
      `- Existing tests (context only, not the metric): ${
        context.existingTests.map((path) => `\`${path}\``).join(", ")
      }.`,
    );
  }
  parts.push(`- The metric: ${scoreInWords(context).replace(/\n/g, "\n  ")}`);
  return parts.join("\n");
}

/** What the entry returns, in words, for the generated eval's reading of it. */
const RETURNS_IN_WORDS: Record<EntryFunction["returnsShape"], string> = {
  ranked_list: "a ranked list (best first)",
  scores: "a score per item (the eval ranks the items by it, highest first)",
  label: "a label or text",
  number: "a number",
  object: "a record (the eval reads one field of it)",
  unknown: "a value the eval compares with the expected output",
};

/** The eval was brought by the owner (--eval-cmd, or written by their agent at init): init knows only its command. */
function ownEval(context: InstructionsContext): boolean {
  return context.evalScript === null;
}

/** The generated shell eval runs the file itself on each input (it is the only generated eval without an entry). */
function generatedEvalRunsFile(context: InstructionsContext): boolean {
  return context.evalScript !== null && context.entry === null && context.evalScript.endsWith(".sh");
}

/** How the eval reaches the code, said only as far as init knows it: an owner's eval is named by its command. */
function entryBullet(context: InstructionsContext): string {
  const { entry, evalScript, evalCommand } = context;
  const file = context.constrainedFiles[0];
  if (!entry) {
    if (!evalScript) {
      return `- No entry function was identified; the eval is the command \`${evalCommand}\`, which uses \`${file}\` the way its owner wrote it (a config it reads, a program it runs).`;
    }
    if (generatedEvalRunsFile(context)) {
      return `- No entry function: the eval (\`${evalScript}\`) runs \`${file}\` as a program once per test case, with the case's input, and compares what it prints with the expected output.`;
    }
    return `- No entry function was identified: the generated eval (\`${evalScript}\`) calls the function its ENTRY line names, which the owner sets before the baseline.`;
  }
  const signature = `\n\n  \`\`\`\n  ${entry.signature}\n  \`\`\``;
  if (!evalScript) {
    return `- Main function found in the file (line ${entry.line}); the eval \`${evalCommand}\` is the owner's, and how it uses this function is up to that eval:${signature}`;
  }
  const returns = `it returns ${RETURNS_IN_WORDS[entry.returnsShape]}`;
  if (entry.file) {
    return `- Entry function \`${entry.name}\` in \`${entry.file}\` (line ${entry.line}), FROZEN: \`${file}\` is a config that file reads. The eval calls the entry once per test case, so a change reaches the score only through what the entry reads from \`${file}\`; ${returns}:${signature}`;
  }
  if (entry.owner) {
    const { className, binding, constructorParams, definedIn, definedInFile } = entry.owner;
    const method = entry.name.split(".").pop() ?? entry.name;
    const inherited = definedIn
      ? ` (inherited from \`${definedIn}\`${definedInFile ? ` in \`${definedInFile}\`` : ""})`
      : "";
    if (binding === "instance") {
      const parameters = constructorParams.length
        ? `its constructor parameters: ${constructorParams.map((name) => `\`${name}\``).join(", ")}`
        : "its constructor takes no parameters";
      return `- Entry method \`${entry.name}\`${inherited} (line ${entry.line}): the eval builds one \`${className}\` instance from the test data's \`setup\` (${parameters}), then calls \`${method}\` on it once per test case; ${returns}:${signature}`;
    }
    return `- Entry method \`${entry.name}\`${inherited} (line ${entry.line}), a ${binding} method the eval calls on \`${className}\` itself once per test case; ${returns}:${signature}`;
  }
  return `- Entry function (line ${entry.line}), called once per test case by the eval; ${returns}:${signature}`;
}

/** SCORE in words: the generated eval's rule, or for an owner's eval only what its command computes. */
function scoreInWords(context: InstructionsContext): string {
  const { name, direction } = context.metric;
  if (!ownEval(context)) return describeScore(name, direction, context.entry?.name ?? null);
  const better = direction === "max" ? "higher is better" : "lower is better";
  const { terms } = metricComponents(name);
  if (isTestSummaryMetric(name)) {
    return `**${name}** of the tests \`${context.evalCommand}\` runs, read from its test runner's summary (${better}; pass_rate is the share that pass): a failing test lowers the score, it is not a crash. The tests define the metric: never edit, skip or add tests, and never add a file the runner would pick up (a conftest.py, a plugin, a config).`;
  }
  if (!terms) {
    return `**${name}** as \`${context.evalCommand}\` computes it (${better}); that eval's code is its definition. Without a SCORE line, its \`${name}: <number>\` line is the score.`;
  }
  return `${name} (${better}), from the named metrics \`${context.evalCommand}\` prints (its SCORE line, when it prints one, wins); that eval's code defines each metric.`;
}

function canModify(context: InstructionsContext): string {
  const files = context.constrainedFiles.map((file) => `\`${file}\``).join(" and ");
  const entryInFile = context.entry !== null && !context.entry.file;
  const lines = [
    context.entry?.file
      ? `Only ${files}: the values \`${context.entry.file}\` reads from it (keep their names and the file's format, so it still loads).`
      : `Only ${files}: its constants, weights, thresholds, prompts, control flow and helper functions${
        entryInFile ? ", as long as the entry function keeps its signature" : ""
      }.`,
  ];
  if (context.levers.length === 0) {
    lines.push(
      "",
      "No obvious levers (named constants, weights, thresholds or prompts) were found in the file: the gains will come from the logic itself. Consider first pulling magic numbers out into named constants (an iteration of its own, which should not change the score).",
    );
    return lines.join("\n");
  }
  lines.push(
    "",
    "Levers found in the file, with their current values (line numbers as of this round's start):",
    "",
    renderLeverTable(context.levers),
  );
  return lines.join("\n");
}

/**
 * Where a lever lives, when its name does not already say it: a comparison's function, a field's
 * class. `BM25Okapi.__init__.k1` names its scope, and top-level names need none. Null otherwise.
 */
export function helpfulScope(lever: Lever): string | null {
  const { scope, name } = lever;
  if (!scope || scope === "module" || name === scope || name.startsWith(`${scope}.`)) return null;
  if (lever.detail?.includes(scope)) return null; // `in rank(): score > 0.5` already says where
  return scope;
}

/**
 * The levers as a Markdown table (at most MAX_LEVERS_LISTED rows, the rest counted): name, kind,
 * value as the code writes it, line; a "Where" column only when some lever's name hides its scope.
 */
export function renderLeverTable(levers: Lever[]): string {
  const listed = levers.slice(0, MAX_LEVERS_LISTED);
  const withWhere = listed.some((lever) => helpfulScope(lever) !== null);
  const lines = withWhere
    ? ["| Lever | Kind | Current value | Where | Line |", "|---|---|---|---|---|"]
    : ["| Lever | Kind | Current value | Line |", "|---|---|---|---|"];
  for (const lever of listed) {
    const value = lever.detail ? `${lever.value} (${lever.detail})` : lever.value;
    const line = lever.endLine && lever.endLine > lever.line ? `${lever.line}-${lever.endLine}` : String(lever.line);
    const scope = helpfulScope(lever);
    const where = withWhere ? ` ${scope ? `\`${tableCell(scope)}\`` : ""} |` : "";
    lines.push(`| \`${tableCell(lever.name)}\` | ${lever.kind} | \`${tableCell(value)}\` |${where} ${line} |`);
  }
  if (levers.length > MAX_LEVERS_LISTED) lines.push("", `…and ${levers.length - MAX_LEVERS_LISTED} more in the file.`);
  return lines.join("\n");
}

function tableCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/`/g, "'").replace(/\s+/g, " ");
}

/** Randomness added to the code hides real gains; the harness handles an eval that is noisy by design. */
const NOISE_RULE =
  "add no randomness of your own: when the eval's score varies between runs by design (a model call, sampling), the harness repeats runs and decides with statistics, and noise you add only hides real gains";

function cannotModify(context: InstructionsContext): string {
  const items: string[] = [];
  if (context.evalScript) {
    items.push(
      `- \`${context.evalScript}\`, the eval: it defines the metric. Its hash is recorded at baseline and iterate refuses to score when it changes (changing the ruler is not an improvement).`,
    );
  } else {
    items.push(
      `- The eval (\`${context.evalCommand}\`) and every file it reads: it defines the metric and was brought by the experiment's owner; it is frozen like the test data.`,
    );
  }
  if (context.testData) {
    items.push(
      `- \`${context.testData}\`, the test data: the cases and their expected outputs are the ground truth. Its hash is checked like the eval's.`,
    );
  }
  if (!ownEval(context)) {
    items.push(
      `- \`${context.cacheDir}/\`, the eval's cache of expensive calls: do not delete or edit it (evals would become slow, costly and noisy).`,
    );
  }
  const entryFile = context.entry?.file;
  if (entryFile && !context.frozen.some((frozen) => frozen.path === entryFile)) {
    items.push(
      `- \`${entryFile}\`: it holds the entry the eval calls, which reads ${
        context.constrainedFiles.map((file) => `\`${file}\``).join(" and ")
      }; a change to it is restored and the iteration discarded.`,
    );
  }
  for (const frozen of context.frozen) items.push(`- \`${frozen.path}\`: ${frozen.reason}`);
  items.push(
    `- The harness files: \`autoresearch.yaml\`, \`${context.artifacts.journal}\`, \`${context.artifacts.dashboard}\` and \`.autoresearch/\`; only the harness writes them.`,
  );
  items.push(
    "- Any other file in the repository: a change outside the constrained file is restored and the iteration discarded.",
  );
  items.push(
    `- Dependencies: no new packages, imports of packages the project does not already use, network or model/API calls, or subprocesses. Keep the code about as fast as it is, offline where it was offline, and ${NOISE_RULE}.`,
  );
  if (context.entry && !context.entry.file) {
    items.push(
      `- The entry function's signature (name, parameters, return type): \`${context.entry.signature}\`. ${
        ownEval(context)
          ? "The rest of the program calls it this way"
          : "The eval calls it this way; the rest of the program may too"
      }.`,
    );
  }
  return items.join("\n");
}

function guardSection(context: InstructionsContext): string {
  if (!context.guard) {
    return "None set. Watch the named metrics the eval prints beside SCORE anyway: a large drop in one of them is a sign of metric gaming, worth mentioning in the report.";
  }
  const { metric, op, threshold } = context.guard;
  if (isRelativeGuard(context.guard)) {
    // Stated relative until baseline measures the guard, which fills the block with the threshold (record.ts).
    const relative = describeGuard(context.guard, null);
    return [
      `\`${relative}\`: a secondary metric that must hold while SCORE improves, against this round's baseline.`,
      "",
      "<!-- guard:start -->",
      `Not measured yet: \`${context.commands.baseline}\` resolves it against the baseline's ${metric} and writes the threshold here.`,
      "<!-- guard:end -->",
      "",
      `A change that improves SCORE but leaves ${metric} failing that threshold is discarded with status **guard_fail**. The eval prints ${metric} in its results block (and as \`GUARD:\`). Do not trade the guard away for SCORE.`,
    ].join("\n");
  }
  return [
    `\`${metric} ${op} ${threshold}\`: a secondary metric that must hold while SCORE improves.`,
    "",
    `A change that improves SCORE but leaves ${metric} failing \`${op} ${threshold}\` is discarded with status **guard_fail**. The eval prints ${metric} in its results block (and as \`GUARD:\`). Do not trade the guard away for SCORE.`,
  ].join("\n");
}

function evalSection(context: InstructionsContext): string {
  if (ownEval(context)) return ownEvalSection(context);
  const lines = [
    `Command (run by iterate from the experiment folder): \`${context.evalCommand}\``,
    "",
    "Output contract:",
    "",
    "```",
    "CASE <id> <number>     one line per test case (that case's contribution to SCORE)",
    "SCORE: <number>        the primary metric, on its own line; the last one wins",
    "  <name>: <number>     named metrics in an indented results block (guard, components)",
    "GUARD: <number>        the guard metric, when there is one",
    "```",
    "",
    `**SCORE** — ${scoreInWords(context)}`,
    "",
    "A non-zero exit, a missing SCORE, NaN or a timeout counts as a **crash**: the change is reverted. An exception in any test case crashes the run, so keep the code working for every input.",
    "",
    `To understand a result, you may run \`${context.evalCommand} --verbose\`: it prints each case's metrics, expected and actual output on stderr. Running the eval yourself never records anything; only iterate does.`,
  ];
  if (context.testData) lines.push("", `Test data: \`${context.testData}\` (frozen).`);
  return lines.join("\n");
}

/** An owner's eval, described as it is: its command, what iterate reads from its output, and that it is frozen. */
function ownEvalSection(context: InstructionsContext): string {
  const lines = [
    `Command (run by iterate from the experiment folder): \`${context.evalCommand}\`. It is the experiment owner's eval, frozen: iterate runs it as it is and reads only what it prints.`,
    "",
    "What iterate reads from its output:",
    "",
    "```",
    "SCORE: <number>        the primary metric, on its own line; the last one wins",
    "CASE <id> <number>     per-case results, when the eval prints them",
    "  <name>: <number>     named metrics in an indented results block (guard, components)",
    "GUARD: <number>        the guard metric, when there is one",
    "```",
    "",
    `**SCORE** — ${scoreInWords(context)}`,
    "",
    "A non-zero exit, a missing score, NaN or a timeout counts as a **crash**: the change is reverted. Keep the code working for every input the eval gives it.",
    "",
    "When its score varies between runs (a model call, sampling), the harness runs it again and decides keep or discard with statistics; you never average runs yourself. Running the eval yourself never records anything; only iterate does.",
  ];
  if (context.testData) lines.push("", `Test data: \`${context.testData}\` (frozen).`);
  return lines.join("\n");
}

/** The generated eval's cache, explained; an owner's eval has its own ways, which init does not know. */
function cachingSection(context: InstructionsContext): string {
  if (ownEval(context)) return "";
  return [
    "## Caching",
    "",
    `The eval may cache expensive calls (embeddings, model or HTTP calls) in \`${context.cacheDir}/\`, keyed on the call's input, so an eval stays fast and repeatable. The cache is never keyed on the code under test, so your change reaches the score.`,
    "",
    "- Do not delete, edit or bypass the cache, and do not add caching of your own to the constrained file (a cache that masks changes makes every iteration look like a no-op).",
    "- If your change alters what a cached call receives (a new prompt text, different inputs), the key changes and the call is made fresh: expect a slower eval once.",
    "- If a score looks unchanged after a change that must matter, say so in your description: a stale cache is a harness problem for the owner, not something to work around.",
  ].join("\n");
}

function pipeline(context: InstructionsContext): string {
  const file = context.constrainedFiles[0];
  const steps: string[] = [];
  const { entry } = context;
  if (context.testData) steps.push(`Test cases from \`${context.testData}\` — FROZEN`);
  if (entry?.file) {
    steps.push(`\`${entry.name}(…)\` in \`${entry.file}\` — FROZEN; it reads \`${file}\` — TUNABLE`);
  } else if (entry) {
    const helpers = context.functions.filter((found) => found.name !== entry.name).map((found) => `\`${found.name}\``);
    steps.push(
      `\`${entry.name}(…)\` in \`${file}\` — TUNABLE body, FROZEN signature${
        helpers.length
          ? `; with the file's other functions (${helpers.slice(0, 8).join(", ")}${
            helpers.length > 8 ? ", …" : ""
          }) — TUNABLE`
          : ""
      }`,
    );
  } else {
    steps.push(`\`${file}\` — TUNABLE`);
  }
  if (ownEval(context)) {
    steps.push(`The eval \`${context.evalCommand}\` runs and prints SCORE — FROZEN`);
  } else {
    steps.push(
      `Expensive calls made by the code (models, network), answered from \`${context.cacheDir}/\` when the eval caches them — FROZEN`,
    );
    steps.push(`\`${context.evalScript}\` compares outputs with the expected ones and prints SCORE — FROZEN`);
  }
  steps.push("iterate decides keep or discard under noise, commits or restores, logs — HARNESS");
  return steps.map((step, index) => `${index + 1}. ${step}`).join("\n");
}

/** How to move a lever of each kind in one readable step. */
const STEP_BY_KIND: Record<Lever["kind"], string> = {
  weights: "a table of weights: halve or double one entry at a time, or shift weight from one key to another",
  weight: "a weight: halve or double it",
  threshold: "a threshold: move it by a clear amount (a quarter of its value, or to where the failing cases sit)",
  rate: "a rate: halve or double it (rates act on a log scale), keeping probabilities within 0-1",
  count: "a count: step it up or down (±1-2 when small, ×2 or ÷2 when large)",
  size: "a size: halve or double it, or step to the next common size",
  constant: "another number: move it by a clear step (±25%) and watch the direction of the change",
  choice: "a choice: try the other options the code or its library accepts, one per iteration",
  flag: "a flag: flip it",
  prompt: "a prompt: change one instruction or example at a time",
  list: "a list: add, remove or reorder one element",
};
const KIND_ORDER: Lever["kind"][] = [
  "weights",
  "weight",
  "threshold",
  "rate",
  "count",
  "size",
  "constant",
  "choice",
  "prompt",
  "list",
  "flag",
];

function strategy(context: InstructionsContext): string {
  const ranked = [...context.levers].sort((a, b) => leverPriority(a) - leverPriority(b)).slice(0, 5).map((lever) =>
    `\`${lever.name}\``
  );
  const startWith = ranked.length ? ` Start with ${ranked.join(", ")}.` : "";
  const kinds = new Set(context.levers.map((lever) => lever.kind));
  const steps = KIND_ORDER.filter((kind) => kinds.has(kind)).map((kind) => `- ${STEP_BY_KIND[kind]}.`);
  return [
    `**Iterations 1-5: tune the obvious levers.** One lever per iteration, in meaningful steps, so each result is readable.${startWith}${
      steps.length ? " By kind:" : ""
    }`,
    ...(steps.length ? ["", ...steps] : []),
    "",
    "**Iterations 6-20: structural changes inside the file.** Combine or reorder steps, add a signal computed from data the function already has, handle the failure patterns you see in the per-case results, remove steps that do not pay. Revisit near-misses from the dashboard only with a new idea.",
    "",
    `**Iterations 21-30: refine and simplify.** Fine-tune around the best values, combine kept changes that did not interact, and delete code that does not earn its place. Equal score with simpler code is a keep when you say the change only simplifies (same behaviour, fewer lines or tokens): add \`--simplify\` to \`${context.commands.iterate} -m "..."\`, or, in the loop, print a line \`SIMPLIFY: <what got simpler>\`; the harness measures the file's size and keeps it if it is smaller and scores no worse. If ${context.plateau} iterations in a row failed, the ceiling is probably architectural: note it for the report rather than forcing tiny changes.`,
  ].join("\n");
}

/** Weights and thresholds first (they usually move a score most), prompts next, flags last. */
function leverPriority(lever: Lever): number {
  const priority: Record<Lever["kind"], number> = {
    weights: 0,
    weight: 0,
    threshold: 1,
    rate: 1,
    count: 2,
    size: 2,
    constant: 2,
    choice: 3,
    prompt: 3,
    list: 4,
    flag: 5,
  };
  return priority[lever.kind];
}

export type LaunchPromptContext = {
  name: string;
  round: number;
  constrainedFiles: string[];
  metric: { name: string; direction: Direction };
  iterations: number;
  artifacts: Round["artifacts"];
  commands: { iterate: string; dashboard: string };
};

export function renderLaunchPrompt(context: LaunchPromptContext): string {
  return renderTemplate(readTemplate("launch_prompt.md"), {
    name: context.name,
    round: String(context.round),
    metric: context.metric.name,
    direction_word: context.metric.direction === "max" ? "higher is better" : "lower is better",
    files_inline: context.constrainedFiles.map((file) => `\`${file}\``).join(" and "),
    instructions: context.artifacts.instructions,
    journal: context.artifacts.journal,
    dashboard: context.artifacts.dashboard,
    report: context.artifacts.report,
    iterate_command: context.commands.iterate,
    dashboard_command: context.commands.dashboard,
    iterations: String(context.iterations),
  }, { label: "templates/launch_prompt.md", collapseBlankLines: true });
}

/**
 * What a file says about itself: its module docstring or leading comment block (after a
 * shebang), first paragraph only. Example: '"""Rank documents.\n\nMore."""' -> "Rank documents."
 */
export function readFileSummary(text: string, language: string): string | null {
  const body = text.replace(/^#!.*\n/, "").replace(/^\uFEFF/, "");
  let summary: string | null = null;
  if (language === "python") {
    const docstring = /^\s*(?:#[^\n]*\n\s*)*[rRuU]?("""|''')([\s\S]*?)\1/.exec(body);
    summary = docstring?.[2] ?? null;
  }
  if (summary === null) {
    const block = /^\s*\/\*\*?([\s\S]*?)\*\//.exec(body);
    if (block) summary = block[1].replace(/^\s*\* ?/gm, "");
  }
  if (summary === null) {
    const lines: string[] = [];
    for (const line of body.split("\n")) {
      const match = /^\s*(?:\/\/|#|--|;)\s?(.*)$/.exec(line);
      if (!match) break;
      lines.push(match[1]);
    }
    summary = lines.length ? lines.join("\n") : null;
  }
  const paragraph = summary?.trim().split(/\n\s*\n/)[0]?.replace(/\s+/g, " ").trim();
  if (!paragraph || /^(?:-\*-|eslint|@ts-|type: ignore|noqa|prettier)/i.test(paragraph)) return null;
  return paragraph.length > 400 ? `${paragraph.slice(0, 399)}…` : paragraph;
}
