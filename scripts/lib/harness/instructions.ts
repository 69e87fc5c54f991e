// instructions.md and launch_prompt.md for any round, rendered from templates/ with plain
// data: the levers and entry function found in the constrained file, the metric, guard,
// eval and frozen files, and for later rounds a summary of earlier rounds, a focus and the
// co-optimisation warning. Pure apart from reading templates; it writes nothing.
import type { Guard, Round } from "../experiment/schema.ts";
import type { EntryFunction, Lever } from "../levers/lever.ts";
import { describeScore, type Direction } from "./metric-catalog.ts";
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
    } **${context.metric.name}** of ${files}, as measured by the eval below, within ${context.iterations} iterations.`,
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
    entry_rule: context.entry
      ? "- change the entry function's name, parameters or return type;\n"
      : "- change how the program is invoked (its arguments, input and output format);\n",
  }, { label: "templates/instructions.md", collapseBlankLines: true });
}

export const CO_OPTIMIZATION_WARNING = `## Co-optimisation warning

An earlier round tuned a component to work with this file's previous behaviour. Improving
this file alone may now look worse than it is, because the other side was fitted to the old
output. If the score drops for reasons that point at the partner component, say so in the
report: sequential optimisation has a lower ceiling than tuning both together.`;

function systemContext(context: InstructionsContext): string {
  const parts: string[] = [];
  const file = context.constrainedFiles[0];
  parts.push(`- Constrained file: \`${file}\` (${context.projectDescription}).`);
  if (context.fileSummary) {
    parts.push(`- What it says about itself: ${context.fileSummary.replace(/\s+/g, " ").trim()}`);
  }
  if (context.entry) {
    const shape = {
      ranked_list: "a ranked list (best first)",
      scores: "a score per item (the eval ranks the items by it, highest first)",
      label: "a label or text",
      number: "a number",
      object: "a record (the eval reads one field of it)",
      unknown: "a value the eval compares with the expected output",
    }[context.entry.returnsShape];
    parts.push(
      `- Entry function (line ${context.entry.line}), called once per test case by the eval; it returns ${shape}:\n\n  \`\`\`\n  ${context.entry.signature}\n  \`\`\``,
    );
  } else {
    parts.push("- No entry function was identified; the eval runs the file as a program.");
  }
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
  parts.push(
    `- The metric: ${
      describeScore(context.metric.name, context.metric.direction, context.entry?.name ?? null).replace(/\n/g, "\n  ")
    }`,
  );
  return parts.join("\n");
}

function canModify(context: InstructionsContext): string {
  const files = context.constrainedFiles.map((file) => `\`${file}\``).join(" and ");
  const lines = [
    `Only ${files}: its constants, weights, thresholds, prompts, control flow and helper functions${
      context.entry ? ", as long as the entry function keeps its signature" : ""
    }.`,
  ];
  if (context.levers.length === 0) {
    lines.push(
      "",
      "No obvious levers (named constants, weights, thresholds or prompts) were found in the file: the gains will come from the logic itself. Consider first pulling magic numbers out into named constants (an iteration of its own, which should not change the score).",
    );
    return lines.join("\n");
  }
  lines.push("", "Levers found in the file, with their current values (line numbers as of this round's start):", "");
  lines.push("| Lever | Kind | Current value | Line |", "|---|---|---|---|");
  for (const lever of context.levers.slice(0, MAX_LEVERS_LISTED)) {
    const value = lever.detail ? `${lever.value} (${lever.detail})` : lever.value;
    const line = lever.endLine && lever.endLine > lever.line ? `${lever.line}-${lever.endLine}` : String(lever.line);
    lines.push(`| \`${tableCell(lever.name)}\` | ${lever.kind} | \`${tableCell(value)}\` | ${line} |`);
  }
  if (context.levers.length > MAX_LEVERS_LISTED) {
    lines.push("", `…and ${context.levers.length - MAX_LEVERS_LISTED} more in the file.`);
  }
  return lines.join("\n");
}

function tableCell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/`/g, "'").replace(/\s+/g, " ");
}

function cannotModify(context: InstructionsContext): string {
  const items: string[] = [];
  if (context.evalScript) {
    items.push(
      `- \`${context.evalScript}\`, the eval: it defines the metric. Its hash is recorded at baseline and iterate refuses to score when it changes (changing the ruler is not an improvement).`,
    );
  } else {
    items.push(
      `- The eval (\`${context.evalCommand}\`) and every file it reads: it defines the metric and was brought by the experiment's owner.`,
    );
  }
  if (context.testData) {
    items.push(
      `- \`${context.testData}\`, the test data: the cases and their expected outputs are the ground truth. Its hash is checked like the eval's.`,
    );
  }
  items.push(
    `- \`${context.cacheDir}/\`, the eval's cache of expensive calls: do not delete or edit it (evals would become slow, costly and noisy).`,
  );
  for (const frozen of context.frozen) items.push(`- \`${frozen.path}\`: ${frozen.reason}`);
  items.push(
    `- The harness files: \`autoresearch.yaml\`, \`${context.artifacts.journal}\`, \`${context.artifacts.dashboard}\` and \`.autoresearch/\`; only the harness writes them.`,
  );
  items.push(
    "- Any other file in the repository: a change outside the constrained file is restored and the iteration discarded.",
  );
  items.push(
    "- Dependencies: no new packages, imports of packages the project does not already use, network or model/API calls, or subprocesses. The eval must stay fast, offline where it was offline, and deterministic.",
  );
  if (context.entry) {
    items.push(
      `- The entry function's signature (name, parameters, return type): \`${context.entry.signature}\`. The eval calls it this way; the rest of the program may too.`,
    );
  }
  return items.join("\n");
}

function guardSection(context: InstructionsContext): string {
  if (!context.guard) {
    return "None set. Watch the named metrics the eval prints beside SCORE anyway: a large drop in one of them is a sign of metric gaming, worth mentioning in the report.";
  }
  const { metric, op, threshold } = context.guard;
  return [
    `\`${metric} ${op} ${threshold}\`: a secondary metric that must hold while SCORE improves.`,
    "",
    `A change that improves SCORE but leaves ${metric} failing \`${op} ${threshold}\` is discarded with status **guard_fail**. The eval prints ${metric} in its results block (and as \`GUARD:\`). Do not trade the guard away for SCORE.`,
  ].join("\n");
}

function evalSection(context: InstructionsContext): string {
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
    `**SCORE** — ${describeScore(context.metric.name, context.metric.direction, context.entry?.name ?? null)}`,
    "",
    "A non-zero exit, a missing SCORE, NaN or a timeout counts as a **crash**: the change is reverted. An exception in any test case crashes the run, so keep the code working for every input.",
  ];
  if (context.evalScript) {
    lines.push(
      "",
      `To understand a result, you may run \`${context.evalCommand} --verbose\`: it prints each case's metrics, expected and actual output on stderr. Running the eval yourself never records anything; only iterate does.`,
    );
  }
  if (context.testData) lines.push("", `Test data: \`${context.testData}\` (frozen).`);
  return lines.join("\n");
}

function cachingSection(context: InstructionsContext): string {
  return [
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
  if (context.testData) steps.push(`Test cases from \`${context.testData}\` — FROZEN`);
  if (context.entry) {
    const helpers = context.functions.filter((found) => found.name !== context.entry!.name).map((found) =>
      `\`${found.name}\``
    );
    steps.push(
      `\`${context.entry.name}(…)\` in \`${file}\` — TUNABLE body, FROZEN signature${
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
  steps.push(
    `Expensive calls made by the code (models, network), answered from \`${context.cacheDir}/\` when the eval caches them — FROZEN`,
  );
  steps.push(
    `${
      context.evalScript ? `\`${context.evalScript}\`` : `The eval \`${context.evalCommand}\``
    } compares outputs with the expected ones and prints SCORE — FROZEN`,
  );
  steps.push("iterate decides keep or discard under noise, commits or restores, logs — HARNESS");
  return steps.map((step, index) => `${index + 1}. ${step}`).join("\n");
}

function strategy(context: InstructionsContext): string {
  const ranked = [...context.levers].sort((a, b) => leverPriority(a) - leverPriority(b)).slice(0, 5).map((lever) =>
    `\`${lever.name}\``
  );
  const startWith = ranked.length ? ` Start with ${ranked.join(", ")}.` : "";
  return [
    `**Iterations 1-5: tune the obvious levers.** One lever per iteration, in meaningful steps (halve or double a weight; move a threshold by a clear amount), so each result is readable.${startWith}`,
    "",
    "**Iterations 6-20: structural changes inside the file.** Combine or reorder steps, add a signal computed from data the function already has, handle the failure patterns you see with `--verbose`, remove steps that do not pay. Revisit near-misses from the dashboard only with a new idea.",
    "",
    `**Iterations 21-30: refine and simplify.** Fine-tune around the best values, combine kept changes that did not interact, and delete code that does not earn its place (equal score with simpler code is a keep). If ${context.plateau} iterations in a row failed, the ceiling is probably architectural: note it for the report rather than forcing tiny changes.`,
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
