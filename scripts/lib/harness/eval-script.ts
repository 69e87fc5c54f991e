// The generated eval script: where it goes and how it is run for each project kind
// (standalone Python, a Django management command, TypeScript/JavaScript under the
// project's runtime, a generic shell eval), and its text rendered from templates/.
// Pure apart from reading templates; it writes nothing and runs nothing.
import { posix } from "node:path";
import type { EntryFunction } from "../levers/lever.ts";
import {
  describeScore,
  type Direction,
  extraMetricsFor,
  metricComponents,
  type ReturnShape,
} from "./metric-catalog.ts";
import type { EvalFlavor, Project } from "./project.ts";
import { shellQuote } from "../text/shell-quote.ts";
import { readTemplate, renderTemplate } from "../text/render-template.ts";
import { evalScriptPath, roundArtifactPath } from "../experiment/artifacts.ts";

export const DJANGO_COMMAND = "run_autoresearch_eval";

export type EvalLocation = {
  flavor: EvalFlavor;
  /** The eval script, relative to the experiment root. */
  path: string;
  /** The command iterate runs from the experiment root. */
  command: string;
  /** The same command for a person reading the eval's header. */
  runCommand: string;
  /** Files the eval needs beside it (Django's package markers), created only when missing. */
  supportFiles: string[];
};

/** Where round `round`'s eval goes and how it runs: `autoresearch_eval.py`, `autoresearch_eval_2.py`, ... */
export function planEvalLocation(project: Project, round: number): EvalLocation {
  if (project.evalFlavor === "django" && project.django) {
    const here = (dir: string) => (dir === "." ? "" : dir);
    const manageDir = here(project.django.manageDir);
    const appDir = here(project.django.appDir);
    const name = roundArtifactPath(`${DJANGO_COMMAND}.py`, round);
    const commandsDir = `${appDir === "" ? "" : `${appDir}/`}management/commands`;
    const python = project.python?.command ?? "python3";
    const fromManageDir = python.includes("/") && manageDir !== "" ? posix.relative(manageDir, python) : python;
    const manageCall = project.python?.environment === "uv"
      ? `uv run manage.py ${name.replace(/\.py$/, "")}`
      : `${fromManageDir} manage.py ${name.replace(/\.py$/, "")}`;
    const command = manageDir === "" ? manageCall : `cd ${shellQuote(manageDir)} && ${manageCall}`;
    return {
      flavor: "django",
      path: `${commandsDir}/${name}`,
      command,
      runCommand: manageCall,
      supportFiles: [`${commandsDir.replace(/\/commands$/, "")}/__init__.py`, `${commandsDir}/__init__.py`],
    };
  }
  if (project.evalFlavor === "python") {
    const path = evalScriptPath(".py", round);
    const python = project.python?.command ?? "python3";
    const command = project.python?.environment === "uv" ? `uv run ${path}` : `${python} ${path}`;
    return { flavor: "python", path, command, runCommand: command, supportFiles: [] };
  }
  if (project.evalFlavor === "typescript" && project.script) {
    const path = evalScriptPath(project.script.extension, round);
    const command = `${project.script.command} ${path}`;
    return { flavor: "typescript", path, command, runCommand: command, supportFiles: [] };
  }
  const path = evalScriptPath(".sh", round);
  return { flavor: "shell", path, command: `bash ${path}`, runCommand: `bash ${path}`, supportFiles: [] };
}

export type EvalRenderContext = {
  location: EvalLocation;
  project: Project;
  /** The constrained file, relative to the experiment root. */
  constrainedFile: string;
  /** The test data, relative to the experiment root. */
  testData: string;
  entry: EntryFunction | null;
  metric: string; // a name or a formula such as 0.8*precision@12+0.2*mrr
  direction: Direction;
  guardMetric: string | null;
};

/** The eval script's text for the location's flavour. */
export function renderEval(context: EvalRenderContext): string {
  const { location, project } = context;
  const { terms, names } = metricComponents(context.metric);
  const shape: ReturnShape = context.entry?.returnsShape ?? "unknown";
  const extras = extraMetricsFor(shape, names, location.flavor);
  const rootFromEval = posix.relative(posix.dirname(location.path), ".") || ".";
  const common = {
    constrained_file: context.constrainedFile,
    metric_description: describeScore(context.metric, context.direction, context.entry?.name ?? null).replace(
      /\n/g,
      `\n${commentIndent(location.flavor)}`,
    ),
    direction_text: context.direction === "max" ? "higher is better" : "lower is better",
    run_command: location.runCommand,
  };
  if (location.flavor === "python" || location.flavor === "django") {
    const python = (value: unknown) => pythonLiteral(value);
    const module = location.flavor === "django" ? project.django!.module : project.pythonImport!.module;
    const core = renderTemplate(readTemplate("eval_python_core.py"), {
      test_data: python(context.testData),
      module: python(module),
      entry: python(context.entry?.name ?? "TODO_entry_function"),
      shape: python(shape),
      metric: python(terms ? context.metric : names[0]),
      formula: terms ? `[${terms.map((term) => `(${term.weight}, ${python(term.metric)})`).join(", ")}]` : "None",
      guard_metric: python(context.guardMetric),
      extra_metrics: python(extras),
    }, { label: "templates/eval_python_core.py" });
    const template = location.flavor === "django" ? "eval_django.py" : "eval_python.py";
    return renderTemplate(readTemplate(template), {
      ...common,
      root_from_eval: python(rootFromEval),
      import_path: python(project.pythonImport?.path ?? "."),
      core,
    }, { label: `templates/${template}` });
  }
  if (location.flavor === "typescript") {
    const parameters = (context.entry?.params ?? []).filter((name) => !/^(\*|\.\.\.)/.test(name));
    return renderTemplate(readTemplate("eval_typescript.ts"), {
      ...common,
      root_from_eval: JSON.stringify(rootFromEval),
      test_data: JSON.stringify(context.testData),
      module_path: JSON.stringify(context.constrainedFile),
      entry: JSON.stringify(context.entry?.name ?? "TODO_entry_function"),
      parameters: JSON.stringify(parameters),
      shape: JSON.stringify(shape),
      metric: JSON.stringify(terms ? context.metric : names[0]),
      formula: terms ? JSON.stringify(terms.map((term) => [term.weight, term.metric])) : "null",
      guard_metric: JSON.stringify(context.guardMetric),
      extra_metrics: JSON.stringify(extras),
    }, { label: "templates/eval_typescript.ts" });
  }
  const scoreTerms = (terms ?? [{ weight: 1, metric: names[0] }]).map((term) => `${term.weight}:${term.metric}`).join(
    " ",
  );
  const runCaseBody = project.caseCommand
    ? `  (cd "$ROOT" && ${project.caseCommand} "$1")`
    : `  echo "Edit run_case() in $0: say how to run ${context.constrainedFile} on one input" >&2\n  return 1`;
  return renderTemplate(readTemplate("eval_shell.sh"), {
    ...common,
    root_from_eval: rootFromEval,
    test_data: context.testData,
    score_terms: shellQuote(scoreTerms),
    guard_metric: shellQuote(context.guardMetric ?? ""),
    extra_metrics: shellQuote(extras.join(" ")),
    run_case_body: runCaseBody,
  }, { label: "templates/eval_shell.sh" });
}

function commentIndent(flavor: EvalFlavor): string {
  return flavor === "typescript" ? "// " : flavor === "shell" ? "# " : "";
}

/** A JSON-like value as a Python literal (JSON strings are valid Python strings). */
export function pythonLiteral(value: unknown): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (Array.isArray(value)) return `[${value.map(pythonLiteral).join(", ")}]`;
  if (typeof value === "object") {
    return `{${
      Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}: ${pythonLiteral(item)}`).join(", ")
    }}`;
  }
  return JSON.stringify(value);
}
