// Project kind detection for init: which language the constrained file is in, which
// toolchain runs it (Python plain / uv / poetry / venv, Django via manage.py; Bun /
// Deno / Node; anything else), and therefore which eval flavour to generate and how
// to run it. Pure: file-system facts come in through `ProjectFacts`; only the readers at
// the end (detectProjectOnDisk, findExistingTests) gather them from disk, git and, for a
// Node project's TypeScript, one `node --version` start and PATH. It never runs the
// project's own code and never looks beyond the repository root.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { delimiter, join as joinPath, posix, relative, resolve } from "node:path";
import { currentRuntime } from "../cli/kit.ts";
import { readOptional, toPosix } from "../files/paths.ts";
import { trackedFiles } from "../git/git.ts";
import { shellQuote } from "../text/shell-quote.ts";
import { projectEvalCommands } from "./task-runners.ts";
import { isTestCommand } from "../process/test-summary.ts";

export type Language = "python" | "typescript" | "javascript" | "other";
export type ProjectKind = "python" | "uv" | "poetry" | "django" | "bun" | "deno" | "node" | "other";
export type EvalFlavor = "python" | "django" | "typescript" | "shell";
export type PythonEnvironment = "plain" | "uv" | "poetry" | "venv";
export type ScriptRuntime = "bun" | "deno" | "node";

export type DjangoLayout = {
  /** Folder holding manage.py, relative to the root ("" for the root itself). */
  manageDir: string;
  /** The app that receives the management command, relative to the root, e.g. "search". */
  appDir: string;
  /** Dotted module of the constrained file as Django imports it, e.g. "search.ranking". */
  module: string;
};

export type Project = {
  kind: ProjectKind;
  language: Language;
  evalFlavor: EvalFlavor;
  /** Python: how a script is started ("python3", "uv run", "poetry run python", ".venv/bin/python"). */
  python: { environment: PythonEnvironment; command: string } | null;
  /** Python standalone: the sys.path entry (relative to root) and the module to import. */
  pythonImport: { path: string; module: string } | null;
  django: DjangoLayout | null;
  /** TypeScript/JavaScript: the runtime and the command prefix that runs the eval file. */
  script: { runtime: ScriptRuntime; command: string; extension: ".ts" | ".mjs" } | null;
  /** Shell eval: the command that runs the constrained file on one input, or null when unknown. */
  caseCommand: string | null;
  /** Facts a person should know (e.g. "Node runs .ts only from 22.6"). */
  notes: string[];
  /** The project's own measuring tasks, as eval commands run from the experiment folder (`make -s bench`); absent: not looked for. */
  evalTasks?: string[];
};

export type TypescriptRunners = {
  nodeStripsTypes: boolean;
  nodeVersion: string | null;
  /** Bun and Deno as the eval command would name them: "bun" when on PATH, else the running one's path. */
  others: { runtime: "bun" | "deno"; command: string }[];
};

/** What detection may ask about the repository; paths are relative to the root, "/"-separated. */
export type ProjectFacts = {
  /** The constrained file, relative to the root. */
  file: string;
  exists: (path: string) => boolean;
  read: (path: string) => string | null;
  /** The runtime running init, used when a TypeScript file has no project markers. */
  currentRuntime: ScriptRuntime;
  /**
   * What can run TypeScript on this machine, asked only for a Node project without tsx: whether
   * `node --experimental-strip-types` works (Node >= 22.6), Node's version, and which of Bun and
   * Deno are on PATH. Absent: Node is assumed able, as the project asks for it.
   */
  typescriptRunners?: () => TypescriptRunners;
  /**
   * The experiment folder (where autoresearch.yaml lives and evals run), relative to the root;
   * "" or absent for the root. Paths in the returned Project are relative to it.
   */
  experimentDir?: string;
};

const LANGUAGE_BY_EXTENSION: Record<string, Language> = {
  ".py": "python",
  ".ts": "typescript",
  ".tsx": "typescript",
  ".mts": "typescript",
  ".cts": "typescript",
  ".js": "javascript",
  ".jsx": "javascript",
  ".mjs": "javascript",
  ".cjs": "javascript",
};

/** How the generic shell eval runs one input through a file of this kind ({file} is replaced). */
const CASE_COMMAND_BY_EXTENSION: Record<string, string> = {
  ".sh": "bash {file}",
  ".bash": "bash {file}",
  ".zsh": "zsh {file}",
  ".rb": "ruby {file}",
  ".go": "go run {file}",
  ".pl": "perl {file}",
  ".php": "php {file}",
  ".lua": "lua {file}",
  ".r": "Rscript {file}",
  ".R": "Rscript {file}",
  ".jl": "julia {file}",
  ".exs": "elixir {file}",
  ".swift": "swift {file}",
  ".kts": "kotlin {file}",
};

export function languageOf(file: string): Language {
  return LANGUAGE_BY_EXTENSION[posix.extname(file).toLowerCase()] ?? "other";
}

/** Folders from the file's own folder up to the root (""), nearest first. */
export function ancestorDirs(file: string): string[] {
  const dirs: string[] = [];
  let dir = posix.dirname(file);
  while (dir !== "." && dir !== "/" && dir !== "") {
    dirs.push(dir);
    dir = posix.dirname(dir);
  }
  dirs.push("");
  return dirs;
}

function join(dir: string, name: string): string {
  return dir === "" ? name : `${dir}/${name}`;
}

/** The nearest folder (file's folder upwards) holding any of `names`, or null. */
function findUp(facts: ProjectFacts, names: string[]): { dir: string; name: string } | null {
  for (const dir of ancestorDirs(facts.file)) {
    for (const name of names) if (facts.exists(join(dir, name))) return { dir, name };
  }
  return null;
}

/**
 * Example: { file: "search/ranking.py", exists: (p) => p === "manage.py" || p === "search/apps.py", ... }
 *   -> { kind: "django", evalFlavor: "django", django: { manageDir: "", appDir: "search", module: "search.ranking" }, ... }
 */
export function detectProject(facts: ProjectFacts): Project {
  const language = languageOf(facts.file);
  const evalTasks = projectEvalCommands(facts.experimentDir ?? "", facts.read);
  const project = language === "python"
    ? detectPythonProject(facts)
    : language === "typescript" || language === "javascript"
    ? detectScriptProject(facts, language)
    : detectOtherProject(facts, language, evalTasks);
  return rebaseProject({ ...project, evalTasks }, facts.experimentDir ?? "");
}

function detectOtherProject(facts: ProjectFacts, language: Language, evalTasks: string[]): Project {
  const template = CASE_COMMAND_BY_EXTENSION[posix.extname(facts.file)] ??
    CASE_COMMAND_BY_EXTENSION[posix.extname(facts.file).toLowerCase()];
  const file = relativeTo(facts.experimentDir ?? "", facts.file);
  return {
    kind: "other",
    language,
    evalFlavor: "shell",
    python: null,
    pythonImport: null,
    django: null,
    script: null,
    caseCommand: template ? template.replace("{file}", shellQuote(file)) : null,
    notes: [
      ...(template ? [] : [`No known way to run "${facts.file}" on one input; edit run_case() in the generated eval.`]),
      ...evalTasksNote(evalTasks),
    ],
  };
}

/**
 * The project's own benchmark or eval tasks (`make bench`, `npm run eval`), offered as the eval: a
 * program run once per input is rarely what a compiled or scripted project measures itself with.
 */
function evalTasksNote(commands: string[]): string[] {
  const measuring = commands.filter((command) => !isTestCommand(command)).slice(0, 3);
  if (measuring.length > 0) {
    const offered = measuring.map((command) => `--eval-cmd ${shellQuote(command)}`).join(" or ");
    return [
      `The project measures itself with ${
        measuring.map((command) => `"${command}"`).join(", ")
      }: to make it the eval, re-run init with --force ${offered} --metric NAME, where "NAME: value" is the line it prints for the score.`,
    ];
  }
  const tests = commands[0];
  return tests === undefined ? [] : [
    `The project tests itself with "${tests}": to make its pass rate the eval, re-run init with --force --eval-cmd ${
      shellQuote(tests)
    }.`,
  ];
}

/** `path` (relative to the root) as seen from `dir` (also relative to the root). */
export function relativeTo(dir: string, path: string): string {
  if (dir === "" || dir === ".") return path === "" ? "." : path;
  return posix.relative(dir, path === "" ? "." : path) || ".";
}

/** Re-express a project's root-relative paths relative to the experiment folder. */
function rebaseProject(project: Project, experimentDir: string): Project {
  if (experimentDir === "" || experimentDir === ".") return project;
  const rebase = (path: string) => relativeTo(experimentDir, path);
  const python = project.python && project.python.command.includes("/")
    ? { ...project.python, command: rebase(project.python.command) }
    : project.python;
  return {
    ...project,
    python,
    pythonImport: project.pythonImport ? { ...project.pythonImport, path: rebase(project.pythonImport.path) } : null,
    django: project.django
      ? { ...project.django, manageDir: rebase(project.django.manageDir), appDir: rebase(project.django.appDir) }
      : null,
  };
}

function detectPythonEnvironment(facts: ProjectFacts): { environment: PythonEnvironment; command: string } {
  const marker = findUp(facts, ["uv.lock", "poetry.lock", "pyproject.toml", ".venv/bin/python", "venv/bin/python"]);
  if (!marker) return { environment: "plain", command: "python3" };
  if (marker.name === "uv.lock") return { environment: "uv", command: "uv run" };
  if (marker.name === "poetry.lock") return { environment: "poetry", command: "poetry run python" };
  if (marker.name === "pyproject.toml") {
    const text = facts.read(join(marker.dir, "pyproject.toml")) ?? "";
    if (/^\[tool\.uv\b/m.test(text)) return { environment: "uv", command: "uv run" };
    if (/^\[tool\.poetry\b/m.test(text)) return { environment: "poetry", command: "poetry run python" };
    const venv = ["", marker.dir].flatMap((dir) => [join(dir, ".venv/bin/python"), join(dir, "venv/bin/python")]).find((
      path,
    ) => facts.exists(path));
    return venv ? { environment: "venv", command: venv } : { environment: "plain", command: "python3" };
  }
  return { environment: "venv", command: join(marker.dir, marker.name) };
}

function detectPythonProject(facts: ProjectFacts): Project {
  const python = detectPythonEnvironment(facts);
  const manage = findUp(facts, ["manage.py"]);
  const base = { language: "python" as const, python, script: null, caseCommand: null, notes: [] as string[] };
  if (manage) {
    const django = djangoLayout(facts, manage.dir);
    const notes = settingsMentionApp(facts, django) ? [] : [
      `Could not find "${
        django.appDir.split("/").pop()
      }" in a settings file's INSTALLED_APPS; Django only finds the eval command in installed apps.`,
    ];
    return { ...base, kind: "django", evalFlavor: "django", pythonImport: null, django, notes };
  }
  const kind: ProjectKind = python.environment === "uv" ? "uv" : python.environment === "poetry" ? "poetry" : "python";
  return { ...base, kind, evalFlavor: "python", pythonImport: pythonImportFor(facts), django: null };
}

/** Import a file the way Python would: from the folder above its outermost package. */
export function pythonImportFor(facts: ProjectFacts): { path: string; module: string } {
  const stem = posix.basename(facts.file, ".py");
  const parts = [stem];
  let dir = posix.dirname(facts.file) === "." ? "" : posix.dirname(facts.file);
  while (dir !== "" && facts.exists(join(dir, "__init__.py"))) {
    parts.unshift(posix.basename(dir));
    dir = posix.dirname(dir) === "." ? "" : posix.dirname(dir);
  }
  return { path: dir === "" ? "." : dir, module: parts.join(".") };
}

function djangoLayout(facts: ProjectFacts, manageDir: string): DjangoLayout {
  const relativeToManage = manageDir === "" ? facts.file : facts.file.slice(manageDir.length + 1);
  const module = relativeToManage.replace(/\.py$/, "").split("/").join(".");
  // The app is the nearest folder that looks like one; else the outermost folder under manage.py.
  const fileDirs = ancestorDirs(facts.file).filter((dir) =>
    dir !== "" && (manageDir === "" || dir.startsWith(`${manageDir}/`))
  );
  const app = fileDirs.find((dir) => facts.exists(join(dir, "apps.py")) || facts.exists(join(dir, "models.py"))) ??
    fileDirs[fileDirs.length - 1] ??
    settingsPackage(facts, manageDir) ??
    manageDir;
  return { manageDir, appDir: app, module };
}

function settingsPackage(facts: ProjectFacts, manageDir: string): string | null {
  const manage = facts.read(join(manageDir, "manage.py")) ?? "";
  const match = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)\.settings/.exec(manage);
  return match ? join(manageDir, match[1].split(".").join("/")) : null;
}

function settingsMentionApp(facts: ProjectFacts, django: DjangoLayout): boolean {
  const manage = facts.read(join(django.manageDir, "manage.py")) ?? "";
  const match = /DJANGO_SETTINGS_MODULE["']\s*,\s*["']([\w.]+)["']/.exec(manage);
  if (!match) return true; // unknown settings: nothing to warn about with confidence
  const base = join(django.manageDir, match[1].split(".").join("/"));
  const text = facts.read(`${base}.py`) ?? facts.read(`${base}/__init__.py`) ?? facts.read(`${base}/base.py`);
  if (text === null) return true;
  const appModule = (django.manageDir === "" ? django.appDir : django.appDir.slice(django.manageDir.length + 1)).split(
    "/",
  ).join(".");
  return text.includes(`"${appModule}`) || text.includes(`'${appModule}`);
}

/**
 * A command that runs TypeScript here for a Node project without tsx: Node itself when it strips
 * types (>= 22.6), else Bun or Deno when present (the runtime running init first), else tsx,
 * which the user has to add. The notes say which and why.
 */
function typescriptUnderNode(
  facts: ProjectFacts,
  notes: string[],
): { runtime: ScriptRuntime; command: string } {
  const runners = facts.typescriptRunners?.();
  if (!runners || runners.nodeStripsTypes) return { runtime: "node", command: "node --experimental-strip-types" };
  const node = runners.nodeVersion ? `Node ${runners.nodeVersion}` : "Node";
  const other = runners.others.find((each) => each.runtime === facts.currentRuntime) ?? runners.others[0];
  if (other) {
    const name = other.runtime === "bun" ? "Bun" : "Deno";
    // The eval does not use Node, so Node's version requirement is not this eval's concern.
    notes.push(
      `The eval runs under ${name}, which is installed here (this project's ${node} does not run TypeScript itself). To run it under Node instead: npm install -D tsx, then set eval.command to \`npx tsx ...\`.`,
    );
    return { runtime: other.runtime, command: other.runtime === "deno" ? `${other.command} run -A` : other.command };
  }
  notes.push(
    `${node} here cannot run TypeScript (that needs Node 22.6) and neither Bun nor Deno is installed: add tsx before baseline (npm install -D tsx); the eval command is \`npx tsx ...\`.`,
  );
  return { runtime: "node", command: "npx tsx" };
}

function detectScriptProject(facts: ProjectFacts, language: "typescript" | "javascript"): Project {
  const marker = findUp(facts, [
    "deno.json",
    "deno.jsonc",
    "deno.lock",
    "bun.lock",
    "bun.lockb",
    "bunfig.toml",
    "package-lock.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "package.json",
  ]);
  let runtime: ScriptRuntime = facts.currentRuntime;
  const notes: string[] = [];
  if (marker) {
    if (marker.name.startsWith("deno")) runtime = "deno";
    else if (marker.name.startsWith("bun")) runtime = "bun";
    else {
      const packageJson = facts.read(join(marker.dir, "package.json")) ?? "";
      runtime = /"packageManager"\s*:\s*"bun@/.test(packageJson) ? "bun" : "node";
    }
  }
  let command = runtime === "deno" ? "deno run -A" : runtime;
  let extension: ".ts" | ".mjs" = ".ts";
  if (runtime === "node") {
    const packageJson = marker ? facts.read(join(marker.dir, "package.json")) ?? "" : "";
    if (language === "javascript") {
      extension = ".mjs";
    } else if (/"tsx"\s*:/.test(packageJson)) {
      command = "npx tsx";
    } else {
      ({ runtime, command } = typescriptUnderNode(facts, notes));
    }
  }
  return {
    kind: runtime,
    language,
    evalFlavor: "typescript",
    python: null,
    pythonImport: null,
    django: null,
    script: { runtime, command, extension },
    caseCommand: null,
    notes,
  };
}

/** The project in a few words, for instructions: "Django (run through manage.py)", "Bun", ... */
export function describeProject(project: Project, file: string): string {
  const language = project.language === "other" ? `${posix.extname(file).slice(1) || "plain"} file` : project.language;
  const toolchain: Record<ProjectKind, string> = {
    python: "plain Python project",
    uv: "Python project managed by uv",
    poetry: "Python project managed by Poetry",
    django: "Django project; the eval is a management command",
    bun: "Bun project",
    deno: "Deno project",
    node: "Node project",
    other: "no known toolchain; the eval runs it as a program",
  };
  return `${language}, ${toolchain[project.kind]}`;
}

/** detectProject with facts read from the repository; `file` and `experimentRoot` are absolute. */
export function detectProjectOnDisk(
  repoRoot: string,
  file: string,
  experimentRoot: string,
  options: { askMachine?: boolean } = {},
): Project {
  return detectProject({
    file: toPosix(relative(repoRoot, file)),
    exists: (path) => existsSync(resolve(repoRoot, path)),
    read: (path) => readOptional(resolve(repoRoot, path)),
    currentRuntime: currentRuntime(),
    // With an eval of the user's own (--eval-cmd), what would run a generated one does not matter.
    ...(options.askMachine === false ? {} : { typescriptRunners: () => typescriptRunnersHere() }),
    experimentDir: toPosix(relative(repoRoot, experimentRoot)),
  });
}

/** Asks this machine what runs TypeScript: one `node --version`, and PATH looked through for Bun and Deno. */
function typescriptRunnersHere(): TypescriptRunners {
  const probe = spawnSync("node", ["--version"], { encoding: "utf8", timeout: 10_000 });
  const version = probe.status === 0 ? probe.stdout.trim() || null : null;
  const others: TypescriptRunners["others"] = [];
  for (const runtime of ["bun", "deno"] as const) {
    if (onPath(runtime)) others.push({ runtime, command: runtime });
    else if (currentRuntime() === runtime) others.push({ runtime, command: shellQuote(process.execPath) });
  }
  return { nodeStripsTypes: nodeStripsTypes(version), nodeVersion: version, others };
}

/** `--experimental-strip-types` exists from Node 22.6: nodeStripsTypes("v22.6.0") -> true, ("v20.20.2") -> false. */
export function nodeStripsTypes(version: string | null): boolean {
  const match = /^v?(\d+)\.(\d+)/.exec(version ?? "");
  if (!match) return false;
  const [major, minor] = [Number(match[1]), Number(match[2])];
  return major > 22 || (major === 22 && minor >= 6);
}

function onPath(name: string): boolean {
  return (process.env.PATH ?? "").split(delimiter).some((folder) =>
    folder !== "" && existsSync(joinPath(folder, name))
  );
}

const TEST_FILE =
  /(^|\/)(tests?\/.+\.(py|ts|js|mjs|tsx)$|test_[^/]+\.py$|[^/]+_test\.(py|go)$|[^/]+\.(test|spec)\.[cm]?[jt]sx?$)/;
// Data a test reads (fixtures, snapshots, test data folders, conftest helpers) is not a test to run.
const NOT_A_TEST =
  /(^|\/)(fixtures?|__fixtures__|__snapshots__|__mocks__)\/|(^|\/)tests?\/(.+\/)?(data|testdata|test_data|snapshots)\/|(^|\/)conftest\.py$/;
const MAX_TESTS_LISTED = 8;

/** Tracked test files (up to a few), relative to the experiment folder, for the instructions' context. */
export async function findExistingTests(repoRoot: string, root: string): Promise<string[]> {
  return testFilesAmong(trackedFiles(repoRoot), repoRoot, root);
}

/** findExistingTests for a list of tracked files already in hand (posix, from the repository root). */
export function testFilesAmong(tracked: string[], repoRoot: string, root: string): string[] {
  return tracked.filter((path) => TEST_FILE.test(path) && !NOT_A_TEST.test(path)).slice(0, MAX_TESTS_LISTED).map((
    path,
  ) => relativeTo(toPosix(relative(repoRoot, root)), path));
}
