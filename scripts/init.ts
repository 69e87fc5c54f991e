#!/usr/bin/env bun
// init.ts FILE: read the constrained file and generate its experiment harness (experiment
// file, instructions, launch prompt, eval, test data scaffold, journal header). Thin: the work
// is in lib/init/: inspect.ts (validate, read), questions.ts (terminal only), plan.ts, apply.ts.
// It measures nothing; baseline.ts does that next.
import {
  ask,
  canPrompt,
  defineCommand,
  note,
  printData,
  printJson,
  runCommand,
  runIfMain,
  warn,
} from "./lib/cli/command.ts";
import { AGENT_TIMEOUT_S, DEFAULTS, HOLDOUT_LIMITS } from "./lib/experiment/defaults.ts";

/** Where --holdout-split puts the held-out cases (holdout-set.ts's HOLDOUT_DIR, spelled here so --help loads no library). */
const HOLDOUT_DIR_TEXT = ".autoresearch/holdout";
import { EXIT } from "./lib/cli/errors.ts";

export const spec = defineCommand({
  name: "init.ts",
  summary: "set up an autoresearch experiment on one file",
  usage: "init.ts FILE [options]",
  details: `Reads FILE for real (language, project kind, entry function, levers with values and line numbers)
and writes autoresearch.yaml, instructions.md, launch_prompt.md, an eval script, a test data
scaffold and the journal's config header. Nothing is written when any input is bad, and
existing artifacts are only replaced with --force. Questions are asked only on a terminal.`,
  positionals: { min: 1, max: 1, names: "FILE (the file the agent may edit)" },
  options: {
    metric: {
      type: "string",
      valueName: "NAME|FORMULA",
      description: "metric to optimise: precision@10, mrr, accuracy, latency, or 0.8*precision@12+0.2*mrr",
    },
    direction: {
      type: "string",
      valueName: "max|min",
      choices: ["max", "min"],
      description: "better is higher (max) or lower (min); default from the metric",
    },
    guard: {
      type: "string",
      valueName: "EXPR",
      description: 'metric that must not regress, e.g. "mrr>=0.9", "mrr>=baseline-0.02", "latency_ms<=baseline*1.10"',
    },
    tiebreak: {
      type: "string",
      multiple: true,
      valueName: "METRIC[:max|min]",
      description: "keep a change tied on the metric that improves METRIC (repeatable, first decides first)",
    },
    "eval-cmd": {
      type: "string",
      valueName: "CMD",
      description: "bring your own eval (prints SCORE: x); no eval is generated",
    },
    "test-data": {
      type: "string",
      valueName: "PATH",
      description: "existing test data (frozen); no scaffold is generated",
    },
    frozen: {
      type: "string",
      multiple: true,
      valueName: "PATH",
      description: "another file that must not change (repeatable)",
    },
    entry: {
      type: "string",
      valueName: "ENTRY",
      description: "what the eval calls: NAME, Class.method, Class#method, path/to/module.ts:NAME (default: guessed)",
    },
    iterations: {
      type: "integer",
      min: 1,
      valueName: "N",
      description: `iteration budget (default: ${DEFAULTS.budget.iterations})`,
    },
    name: { type: "string", description: "experiment name (default: the file's stem)" },
    "output-field": {
      type: "string",
      valueName: "FIELD",
      description: "the entry returns a record: score this field of it (e.g. hits, items.0.id)",
    },
    agent: {
      type: "string",
      valueName: "CMD",
      description: "have your coding agent write the eval (a brief on stdin), then check it runs",
    },
    "agent-timeout": {
      type: "number",
      exclusiveMin: 0,
      valueName: "S",
      description: `seconds --agent may take to write the eval (default: ${AGENT_TIMEOUT_S})`,
    },
    "cases-from": {
      type: "string",
      valueName: "FILE",
      description: "JSON/JSONL inputs: fill test data and expected outputs from the current code",
    },
    holdout: {
      type: "string",
      valueName: "PATH",
      description: "held-out cases (the test data's format) the agent never sees, scored at baseline and each keep",
    },
    "holdout-split": {
      type: "number",
      valueName: "F",
      description:
        `hold out this share of the labelled cases (0 < F <= ${HOLDOUT_LIMITS.max_split}) into ${HOLDOUT_DIR_TEXT}/`,
    },
    "holdout-seed": {
      type: "integer",
      valueName: "N",
      description: "the --holdout-split shuffle's seed (default: a random one; recorded either way)",
    },
    experiment: {
      type: "string",
      valueName: "PATH",
      description: "experiment file to create (default: autoresearch.yaml at the repository root)",
    },
    yes: { type: "boolean", short: "y", description: "ask nothing; use flags and defaults" },
    force: { type: "boolean", description: "replace existing artifacts (backed up under .autoresearch/backups/)" },
    json: { type: "boolean", description: "print one JSON object instead of the file list" },
  },
  examples: [
    'bun scripts/init.ts src/search/ranker.py --metric precision@12 --guard "mrr>=0.9"',
    "bun scripts/init.ts src/search/ranker.py --metric mrr --tiebreak precision@3 --tiebreak latency_ms:min",
    'bun scripts/init.ts src/ranker.ts --metric "0.8*precision@12+0.2*mrr" --iterations 40',
    "bun scripts/init.ts app/classify.py --cases-from inputs.jsonl --yes",
    'bun scripts/init.ts lib/score.rb --eval-cmd "make eval" --test-data data/cases.csv --frozen lib/tokenizer.rb',
  ],
});

export async function main(argv: string[]): Promise<number> {
  return runCommand(spec, argv, async ({ values, positionals }) => {
    // Loaded only after argv parsed: --help and usage errors never pay for the library.
    const [
      { applyInitPlan, describeNextSteps, describeWrittenFiles, initResultJson, runBootstrap },
      { inspectInit },
      { planInit },
      { preloadExperimentParsers },
    ] = await Promise.all([
      import("./lib/init/apply.ts"),
      import("./lib/init/inspect.ts"),
      import("./lib/init/plan.ts"),
      import("./lib/experiment/experiment-file.ts"),
    ]);
    await preloadExperimentParsers(); // init validates and writes an experiment file either way
    const cwd = process.cwd();
    let inspection = await inspectInit({
      cwd,
      file: positionals[0],
      metric: values.metric,
      direction: values.direction,
      guard: values.guard,
      tiebreak: values.tiebreak ?? [],
      evalCmd: values["eval-cmd"],
      testData: values["test-data"],
      frozen: values.frozen ?? [],
      entry: values.entry,
      iterations: values.iterations,
      name: values.name,
      casesFrom: values["cases-from"],
      outputField: values["output-field"],
      agent: values.agent,
      experiment: values.experiment,
      force: Boolean(values.force),
      holdout: { path: values.holdout, split: values["holdout-split"], seed: values["holdout-seed"] },
    });
    // Questions only on a terminal; their answers are data for the plan.
    const answers = canPrompt({ yes: Boolean(values.yes) })
      ? await (await import("./lib/init/questions.ts")).askInitAnswers(inspection, ask, note)
      : {};
    // The eval and test data --force let the agent replace: backed up before it ran, listed with the rest.
    let agentBackup: { replaced: string[]; backupDir: string | null } = { replaced: [], backupDir: null };
    if (values.agent !== undefined) {
      // The agent writes the eval; once it passes its check, init goes on as if given --eval-cmd and --test-data.
      const { describeAgentEvalCheck, inspectionWithAgentEval, writeEvalWithAgent } = await import(
        "./lib/init/agent-eval.ts"
      );
      const timeoutS = values["agent-timeout"];
      const written = await writeEvalWithAgent(inspection, answers, { agent: values.agent, timeoutS, note });
      note(describeAgentEvalCheck(written));
      for (const message of written.check.warnings) warn(message);
      inspection = inspectionWithAgentEval(inspection, written);
      agentBackup = { replaced: written.replaced, backupDir: written.backupDir };
    }
    const plan = planInit(inspection, answers);
    const result = applyInitPlan(plan);
    result.plan.replaced.unshift(...agentBackup.replaced);
    result.backupDir ??= agentBackup.backupDir;
    if (plan.bootstrapCommand) {
      note(`Filling expected outputs from the current code: ${plan.bootstrapCommand}`);
      result.bootstrap = runBootstrap(plan);
    }
    if (values.json) printJson(initResultJson(result, cwd));
    else printData(describeWrittenFiles(result, cwd));
    for (const message of plan.notes) note(message);
    for (const message of plan.warnings) warn(message);
    note(describeNextSteps(result, cwd));
    return result.bootstrap && !result.bootstrap.ok ? EXIT.FAILED : EXIT.OK;
  });
}

runIfMain(import.meta, main);
