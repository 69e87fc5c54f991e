// The generated eval script: where it goes and how it is run for each project kind
// (standalone Python, a Django management command, TypeScript/JavaScript under the
// project's runtime, a generic shell eval), which module it imports (the constrained file, or
// the entry's own file when that is another), how it reaches a method (an instance per test
// data "setup", or the class), and its text rendered from templates/ with the output adapter
// metric-catalog.ts chooses. Pure apart from reading templates; it writes nothing and runs nothing.
import { posix } from "node:path";
import type { EntryFunction } from "../levers/lever.ts";
import {
  type AdapterChoice,
  chooseAdapter,
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
import { constructorCall, constructorSetup, parameterSources } from "./test-data.ts";

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
  /** Further metrics the eval prints beside SCORE (the tiebreaks), besides those it prints anyway. */
  extraMetrics?: string[];
  /** --output-field: the dot path of the returned record that holds the answer. */
  outputField?: string | null;
  /** Whether a path (relative to the experiment root) exists: finds a Python entry file's packages. Default: none do. */
  fileExists?: (path: string) => boolean;
};

/** How Python imports a file: the folders put on sys.path (relative to the experiment root) and its dotted module. */
export type PythonImport = { paths: string[]; module: string };

/**
 * The module the Python eval imports for the entry: the constrained file's (project.pythonImport),
 * or, for an entry in another file, that file from the folder above its outermost package (a
 * folder with __init__.py), with the constrained file's folder kept on sys.path so the entry's
 * own import of it still works. Example: entry "src/search/engine.py" with src/search/__init__.py,
 * constrained "config.py" -> { paths: ["src", "."], module: "search.engine" }.
 */
export function pythonImportForEntry(
  project: Project,
  entryFile: string | null | undefined,
  fileExists: (path: string) => boolean = () => false,
): PythonImport {
  const own = project.pythonImport ?? { path: ".", module: "" };
  if (!entryFile) return { paths: [own.path], module: own.module };
  const parts = [posix.basename(entryFile, ".py")].filter((stem) => stem !== "__init__");
  let dir = posix.dirname(entryFile);
  while (dir !== "." && dir !== "" && fileExists(posix.join(dir, "__init__.py"))) {
    parts.unshift(posix.basename(dir));
    dir = posix.dirname(dir);
  }
  return { paths: [...new Set([dir === "" ? "." : dir, own.path])], module: parts.join(".") };
}

/** A Django project imports every module from the folder holding manage.py. */
function djangoModuleFor(project: Project, entryFile: string | null | undefined): string {
  const django = project.django!;
  if (!entryFile) return django.module;
  const fromManage = posix.relative(django.manageDir === "" ? "." : django.manageDir, entryFile);
  return fromManage.replace(/\.py$/, "").replace(/\/__init__$/, "").split("/").join(".");
}

/** The eval script's text for the location's flavour. */
export function renderEval(context: EvalRenderContext): string {
  const { location, project } = context;
  const { terms, names } = metricComponents(context.metric);
  const shape: ReturnShape = context.entry?.returnsShape ?? "unknown";
  const extras = [...new Set([...(context.extraMetrics ?? []), ...extraMetricsFor(shape, names, location.flavor)])]
    .filter((name) => !names.includes(name));
  const adapter = chooseAdapter(shape, context.metric, context.outputField ?? null);
  const owner = context.entry?.owner ?? null;
  const entryFile = context.entry?.file && context.entry.file !== context.constrainedFile ? context.entry.file : null;
  const rootFromEval = posix.relative(posix.dirname(location.path), ".") || ".";
  const common = {
    constrained_file: context.constrainedFile,
    about_entry: describeEvalEntry(context, adapter).map((line) => `${commentIndent(location.flavor)}${line}`.trimEnd())
      .join("\n"),
    metric_description: describeScore(context.metric, context.direction, context.entry?.name ?? null).replace(
      /\n/g,
      `\n${commentIndent(location.flavor)}`,
    ),
    direction_text: context.direction === "max" ? "higher is better" : "lower is better",
    run_command: location.runCommand,
  };
  if (location.flavor === "python" || location.flavor === "django") {
    const python = (value: unknown) => pythonLiteral(value);
    const imported = location.flavor === "django"
      ? { paths: [], module: djangoModuleFor(project, entryFile) }
      : pythonImportForEntry(project, entryFile, context.fileExists);
    const core = renderTemplate(readTemplate("eval_python_core.py"), {
      test_data: python(context.testData),
      module: python(imported.module),
      entry: python(context.entry?.name ?? "TODO_entry_function"),
      owner: python(
        owner
          ? {
            class: owner.className,
            binding: owner.binding,
            params: owner.constructorParams,
            required: constructorSetup(owner).required,
          }
          : null,
      ),
      shape: python(shape),
      adapter: python(adapter.adapter),
      metric: python(terms ? context.metric : names[0]),
      formula: terms ? `[${terms.map((term) => `(${term.weight}, ${python(term.metric)})`).join(", ")}]` : "None",
      guard_metric: python(context.guardMetric),
      extra_metrics: python(extras),
    }, { label: "templates/eval_python_core.py" });
    const template = location.flavor === "django" ? "eval_django.py" : "eval_python.py";
    return renderTemplate(readTemplate(template), {
      ...common,
      root_from_eval: python(rootFromEval),
      import_paths: python(imported.paths),
      core,
    }, { label: `templates/${template}` });
  }
  if (location.flavor === "typescript") {
    // A destructured options parameter ({ query, limit = 10 }) gets an object of the case input's keys it names.
    const parameters = parameterSources(context.entry?.params ?? [], []).params;
    return renderTemplate(readTemplate("eval_typescript.ts"), {
      ...common,
      root_from_eval: JSON.stringify(rootFromEval),
      test_data: JSON.stringify(context.testData),
      module_path: JSON.stringify(entryFile ?? context.constrainedFile),
      entry: JSON.stringify(context.entry?.name ?? "TODO_entry_function"),
      owner: JSON.stringify(
        owner ? { className: owner.className, binding: owner.binding, ...constructorSetup(owner) } : null,
      ),
      parameters: JSON.stringify(parameters),
      shape: JSON.stringify(shape),
      adapter: JSON.stringify(adapter.adapter),
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

/**
 * The eval header's lines about what it calls: which file it imports and which is constrained,
 * how a method is reached (an instance per setup, or the class), and how the output is read.
 */
export function describeEvalEntry(context: EvalRenderContext, adapter: AdapterChoice): string[] {
  const { entry, constrainedFile } = context;
  if (!entry) return wrap(`Calls: no entry function was found; set ENTRY below. ${adapter.description}`);
  const python = context.location.flavor !== "typescript";
  const owner = entry.owner;
  const lines: string[] = [];
  const inOther = entry.file && entry.file !== constrainedFile;
  lines.push(
    ...wrap(
      inOther
        ? `Calls ${entry.name} in ${entry.file}, which it imports; the constrained file ${constrainedFile} is what that code reads.`
        : `Calls ${entry.name} in ${constrainedFile}, the constrained file, which it imports.`,
    ),
  );
  if (owner) {
    const method = entry.name.split(".").pop();
    const inherited = owner.definedIn
      ? ` (${method} is inherited from ${owner.definedIn}${owner.definedInFile ? ` in ${owner.definedInFile}` : ""})`
      : "";
    const build = python ? `${owner.className}(**setup)` : constructorCall(owner, "setup.");
    lines.push(
      ...wrap(
        owner.binding === "instance"
          ? `${owner.className} is built once per distinct "setup" of the test data (the document's "setup", with the keys a case's own "setup" overrides) as ${build}${inherited}.`
          : `${entry.name} is called on the class ${owner.className}, without an instance${inherited}.`,
      ),
    );
  }
  lines.push(...wrap(`Output (${entry.returnsShape}): ${adapter.description}`));
  return lines;
}

/** Words wrapped at 100 columns, for a header comment. */
function wrap(text: string, width = 96): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  return line === "" ? lines : [...lines, line];
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
