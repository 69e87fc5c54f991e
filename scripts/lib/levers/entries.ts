// The entry an eval calls, as libraries are shaped: a top-level function, `Class.method` defined
// by the class or inherited from a base (in the same file, or imported from the project and
// followed file by file), a static method, or an entry in another file than the constrained one
// (`src/search.ts:Fuzzy#search`). Also the ready entries a project offers for a file that has
// none (the files that import it, and what they export). It reads files only through the
// extractor it is given (levers.ts passes its own), so it never imports, runs or rewrites the
// analysed code, and never prints.
import { readFileSync, statSync } from "node:fs";
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { toPosix } from "../files/paths.ts";
import { trackedFiles } from "../git/git.ts";
import {
  type ClassFacts,
  type EntryOwner,
  type Extracted,
  type FunctionFacts,
  type ImportFacts,
  type Language,
  languageOfExtension,
} from "./lever.ts";

/** What an extractor says about one file: its language and its raw facts (levers.ts's extractFileFacts). */
export type FileFacts = { language: Language; extracted: Extracted };
/** Reads one file's facts from its path and text; throws nothing for a file it cannot parse (it falls back). */
export type ExtractFile = (path: string, source: string) => FileFacts;

/** How the analysed file sits in the project; without it, only the file itself is read. */
export type EntryProject = {
  path: string; // the analysed file, absolute
  repoRoot: string;
  /** The experiment folder: `owner.definedInFile` is relative to it (default: the repository root). */
  root?: string;
  extract: ExtractFile;
};

export type EntryChoiceOptions = {
  requested?: string; // --entry: `rank`, `Class.method`, `Class#method`
  fileName: string; // for messages
  warnings: string[];
  /** The analysed file's text, to read imports from when the extractor reported none. */
  source?: string;
  project?: EntryProject;
};

/** Names an eval most often calls, best first. `main` is last: it is usually the CLI wrapper. */
const ENTRY_NAMES = ["rank", "search", "score", "predict", "classify", "run", "process", "handle", "main"];
const WRAPPER_NAMES = new Set(["main", "cli"]);
const CONSTRUCTORS = new Set(["__init__", "constructor", "__new__", "__post_init__"]);
/** Bases followed from a class before giving up: deep enough for real hierarchies, bounded for cycles. */
const MAX_BASE_DEPTH = 8;
/** Files read when looking across the project, and the largest one read. */
const MAX_FILES_READ = 2_000;
const MAX_FILE_BYTES = 512 * 1024;
/** Files that import the constrained one whose functions are offered (each costs one parse). */
const MAX_IMPORTERS_ANALYSED = 12;

const PYTHON_EXTENSIONS = [".py", ".pyw"];
const SCRIPT_EXTENSIONS = [".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs"];
const NOT_A_SOURCE = /(^|\/)(node_modules|dist|build|vendor|\.venv|venv|site-packages)\/|\.d\.[mc]?ts$|\.min\.js$/;
const TEST_FILE =
  /(^|\/)(tests?|__tests__|spec|specs)\/|(^|\/)test_[^/]*\.py$|_test\.py$|[._-](test|spec)\.[cm]?[jt]sx?$|(^|\/)conftest\.py$|(^|\/)autoresearch_eval[^/]*$/;

// ---- the entry request -------------------------------------------------------------------------

/** `--entry` read: `src/search.ts:Fuzzy#search` -> file, class and member; `rank` -> member only. */
export type EntryRequest = { file: string | null; className: string | null; member: string; text: string };

export function parseEntryRequest(text: string): EntryRequest {
  const trimmed = text.trim();
  const withFile = trimmed.match(/^(.+\.[A-Za-z0-9]+):([^:/\\]+)$/);
  const file = withFile ? withFile[1]! : null;
  const name = withFile ? withFile[2]! : trimmed;
  const hash = name.lastIndexOf("#");
  const dot = name.lastIndexOf(".");
  const split = hash !== -1 ? hash : dot;
  if (split <= 0) return { file, className: null, member: name, text: trimmed };
  return { file, className: name.slice(0, split), member: name.slice(split + 1), text: trimmed };
}

// ---- one file's classes and methods ------------------------------------------------------------

/** One file as the entry choice sees it: its facts, and its classes (from the methods when the extractor gave none). */
type Module = {
  path: string | null;
  language: Language;
  functions: FunctionFacts[];
  classes: ClassFacts[];
  imports: ImportFacts[];
  /** Its text, when known: tells a decorator (a function that returns a nested function) from an entry. */
  source?: string;
};

function moduleOf(path: string | null, language: Language, extracted: Extracted, source?: string): Module {
  const imports = extracted.imports.length > 0 || source === undefined
    ? extracted.imports
    : scanImports(source, language);
  return { path, language, functions: extracted.functions, classes: classesOf(extracted), imports, source };
}

/** The extractor's classes, plus one per `Class.method` prefix it named no class for (an older extractor). */
function classesOf(extracted: Extracted): ClassFacts[] {
  const classes = [...extracted.classes];
  const known = new Set(classes.map((found) => found.name));
  for (const found of extracted.functions) {
    if (!found.method) continue;
    const className = found.name.slice(0, found.name.lastIndexOf("."));
    if (!className || known.has(className)) continue;
    known.add(className);
    const methods = extracted.functions.filter((method) =>
      method.method && method.name.startsWith(`${className}.`) && !method.name.slice(className.length + 1).includes(".")
    );
    const ownConstructor = methods.find((method) => CONSTRUCTORS.has(simpleName(method.name)));
    classes.push({
      name: className,
      line: Math.max(1, found.line - 1),
      bases: [],
      public: !className.startsWith("_"),
      abstract: false,
      methods: methods.filter((method) => !CONSTRUCTORS.has(simpleName(method.name))).map((method) => ({
        name: simpleName(method.name),
        binding: bindingOf(method, null),
      })),
      constructor: ownConstructor
        ? {
          signature: ownConstructor.signature,
          params: ownConstructor.params,
          required: ownConstructor.required ?? [],
        }
        : null,
    });
  }
  return classes;
}

function simpleName(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

/** How a method is bound: the extractor's word, else the class's list, else read from the signature. */
function bindingOf(method: FunctionFacts, owner: ClassFacts | null): EntryOwner["binding"] {
  if (method.binding) return method.binding;
  const listed = owner?.methods.find((found) => found.name === simpleName(method.name));
  if (listed) return listed.binding;
  if (/(^|\s)static\s/.test(method.signature)) return "static";
  const python = method.signature.match(/^(?:async\s+)?def\s+\w+\s*\(\s*(\w*)/);
  if (python) return python[1] === "self" ? "instance" : python[1] === "cls" ? "class" : "static";
  return "instance";
}

/** `Base<T>` -> `Base`, `Generic[T]` -> `Generic`, `metaclass=ABCMeta` -> null. */
function baseName(written: string): string | null {
  if (written.includes("=")) return null;
  const name = written.replace(/[<[(].*$/s, "").trim();
  return /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$/.test(name) ? name : null;
}

/** Bases that only mark a class (abstract, generic, a protocol), never where a method lives. */
const MARKER_BASES = new Set(["object", "ABC", "abc.ABC", "Generic", "typing.Generic", "Protocol", "typing.Protocol"]);

// ---- following bases -----------------------------------------------------------------------------

/** Reads and caches the files a resolution visits; null for one that cannot be read. */
class ProjectReader {
  private readonly cache = new Map<string, Module | null>();
  readonly project: EntryProject;
  constructor(project: EntryProject) {
    this.project = project;
  }

  load(path: string): Module | null {
    if (this.cache.has(path)) return this.cache.get(path)!;
    let loaded: Module | null = null;
    const source = readSmallFile(path);
    if (source !== null) {
      const { language, extracted } = this.project.extract(path, source);
      loaded = moduleOf(path, language, extracted, source);
    }
    this.cache.set(path, loaded);
    return loaded;
  }
}

function readSmallFile(path: string): string | null {
  try {
    const stats = statSync(path);
    if (!stats.isFile() || stats.size > MAX_FILE_BYTES) return null;
    return readFileSync(path, "utf8").replace(/^\uFEFF/, "");
  } catch {
    return null;
  }
}

/** A class where the walk found it. */
type Located = { module: Module; facts: ClassFacts };
/** One step of a class's chain: the class and where it lives, or a base that could not be followed. */
type Chain = { classes: Located[]; unresolved: string[] };

/** The class and its bases, nearest first (left to right, depth first), without repeats or cycles. */
function chainOf(start: Located, reader: ProjectReader | null): Chain {
  const classes: Located[] = [];
  const unresolved: string[] = [];
  const seen = new Set<string>();
  const visit = (located: Located, depth: number) => {
    const key = `${located.module.path ?? ""}#${located.facts.name}`;
    if (seen.has(key) || depth > MAX_BASE_DEPTH) return;
    seen.add(key);
    classes.push(located);
    for (const written of located.facts.bases) {
      const name = baseName(written);
      if (!name || MARKER_BASES.has(name)) continue;
      const base = locateBase(located.module, name, reader);
      if (base) visit(base, depth + 1);
      else unresolved.push(written);
    }
  };
  visit(start, 0);
  return { classes, unresolved };
}

/** Where a base named in `module` is defined: the same file, or a project file it imports. */
function locateBase(module: Module, name: string, reader: ProjectReader | null): Located | null {
  const local = module.classes.find((found) => found.name === name);
  if (local) return { module, facts: local };
  if (!reader || !module.path) return null;
  for (const { specifier, className } of importedAs(module, name)) {
    for (const path of resolveModule(module.path, specifier, module.language, reader.project.repoRoot)) {
      const target = reader.load(path);
      const facts = target && pickClass(target, className);
      if (target && facts) return { module: target, facts };
    }
  }
  return null;
}

/** The imports that could bind `name` (`Scorer`, `b.Scorer`, `pkg.base.Scorer`): module specifier and class. */
function importedAs(module: Module, name: string): { specifier: string; className: string | null }[] {
  const found: { specifier: string; className: string | null }[] = [];
  for (const imported of module.imports) {
    if (imported.local === name && imported.imported !== null && imported.imported !== "*") {
      found.push({ specifier: imported.module, className: imported.imported === "default" ? null : imported.imported });
    } else if (name.startsWith(`${imported.local}.`)) {
      // `import pkg.base as b` + `b.Scorer`; `import pkg` + `pkg.base.Scorer`; `import * as b` + `b.Base`
      const rest = name.slice(imported.local.length + 1).split(".");
      const className = rest.pop()!;
      const isPython = module.language === "python";
      if (imported.imported !== null && imported.imported !== "*") {
        // `from pkg import base` + `base.Scorer`: the module is pkg.base
        if (isPython) found.push({ specifier: joinPython(imported.module, [imported.imported, ...rest]), className });
        continue;
      }
      if (isPython) {
        found.push({ specifier: joinPython(imported.module, rest), className });
        if (imported.local !== imported.module) found.push({ specifier: joinPython(imported.local, rest), className });
      } else if (rest.length === 0) {
        found.push({ specifier: imported.module, className });
      }
    }
  }
  return found;
}

function joinPython(module: string, parts: string[]): string {
  if (parts.length === 0) return module;
  return module.endsWith(".") ? module + parts.join(".") : [module, ...parts].join(".");
}

/** The class an import names, or for a default import the file's only (or first public) class. */
function pickClass(module: Module, className: string | null): ClassFacts | null {
  if (className) return module.classes.find((found) => found.name === className) ?? null;
  return module.classes.length === 1 ? module.classes[0]! : module.classes.find((found) => found.public) ?? null;
}

/**
 * The files a module specifier may name, inside the repository, best first. Python: `.base` and
 * `..pkg.base` from the importing file's package, `pkg.base` from the repository root, `src/` and
 * the importing file's folder. TypeScript/JavaScript: relative specifiers only (`./base`,
 * `./base.js` for `base.ts`, `./base/index`); a package name is outside the project.
 */
export function resolveModule(fromPath: string, specifier: string, language: Language, repoRoot: string): string[] {
  const candidates: string[] = [];
  if (language === "python") {
    const dots = specifier.match(/^\.*/)![0].length;
    const parts = specifier.slice(dots).split(".").filter(Boolean);
    const folders = dots > 0
      ? [resolve(dirname(fromPath), ...Array<string>(dots - 1).fill(".."))]
      : [repoRoot, join(repoRoot, "src"), dirname(fromPath)];
    for (const folder of folders) {
      const base = join(folder, ...parts);
      candidates.push(`${base}.py`, join(base, "__init__.py"));
    }
  } else if (specifier.startsWith(".")) {
    const base = resolve(dirname(fromPath), specifier);
    const extension = extname(base);
    if (extension) candidates.push(base);
    if (/^\.[mc]?js$/.test(extension)) {
      const stem = base.slice(0, -extension.length);
      const typed = extension.replace("js", "ts");
      candidates.push(`${stem}${typed}`, `${stem}.tsx`);
    }
    for (const ending of SCRIPT_EXTENSIONS) candidates.push(`${base}${ending}`);
    for (const ending of SCRIPT_EXTENSIONS) candidates.push(join(base, `index${ending}`));
  }
  return [...new Set(candidates)].filter((path) => insideFolder(path, repoRoot) && isFile(path));
}

function insideFolder(path: string, folder: string): boolean {
  const fromFolder = relative(folder, path);
  return fromFolder !== "" && !fromFolder.startsWith("..") && !isAbsolute(fromFolder);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Imports read from the text, for an extractor that reported none: Python `from X import a as b`
 * and `import a.b as c`; TypeScript/JavaScript `import { A as B } from "x"`, default and namespace
 * imports, and `require("x")` bound to a name or destructured.
 */
export function scanImports(source: string, language: Language): ImportFacts[] {
  const found: ImportFacts[] = [];
  const lineAt = (index: number) => source.slice(0, index).split("\n").length;
  if (language === "python") {
    for (const match of source.matchAll(/^[ \t]*from[ \t]+([.\w]+)[ \t]+import[ \t]+(\([^)]*\)|[^\n#;]+)/gm)) {
      for (const part of match[2]!.replace(/[()\\]/g, " ").split(",")) {
        const names = part.trim().match(/^(\w+)(?:\s+as\s+(\w+))?$/);
        if (names) {
          found.push({
            local: names[2] ?? names[1]!,
            module: match[1]!,
            imported: names[1]!,
            line: lineAt(match.index!),
          });
        }
      }
    }
    for (const match of source.matchAll(/^[ \t]*import[ \t]+([^\n#;]+)/gm)) {
      for (const part of match[1]!.split(",")) {
        const names = part.trim().match(/^([\w.]+)(?:\s+as\s+(\w+))?$/);
        if (!names) continue;
        const local = names[2] ?? names[1]!.split(".")[0]!;
        found.push({
          local,
          module: names[2] ? names[1]! : names[1]!.split(".")[0]!,
          imported: null,
          line: lineAt(match.index!),
        });
        if (!names[2] && names[1]!.includes(".")) {
          found.push({ local: names[1]!, module: names[1]!, imported: null, line: lineAt(match.index!) });
        }
      }
    }
    return found;
  }
  if (language !== "typescript" && language !== "javascript") return found;
  const importClause = /\bimport\s+(?:type\s+)?([^;]*?)\s+from\s+["']([^"']+)["']/g;
  for (const match of source.matchAll(importClause)) {
    bindingsOf(match[1]!, match[2]!, lineAt(match.index!), found);
  }
  const requireCall = /\b(?:const|let|var)\s+(\{[^}]*\}|[A-Za-z_$][\w$]*)\s*=\s*require\(\s*["']([^"']+)["']\s*\)/g;
  for (const match of source.matchAll(requireCall)) {
    const line = lineAt(match.index!);
    if (match[1]!.startsWith("{")) {
      for (const part of match[1]!.slice(1, -1).split(",")) {
        const names = part.trim().match(/^([A-Za-z_$][\w$]*)(?:\s*:\s*([A-Za-z_$][\w$]*))?$/);
        if (names) found.push({ local: names[2] ?? names[1]!, module: match[2]!, imported: names[1]!, line });
      }
    } else {
      found.push({ local: match[1]!, module: match[2]!, imported: null, line });
    }
  }
  return found;
}

function bindingsOf(clause: string, module: string, line: number, found: ImportFacts[]): void {
  const named = clause.match(/\{([^}]*)\}/);
  const rest = clause.replace(/\{[^}]*\}/, "").split(",").map((part) => part.trim()).filter(Boolean);
  for (const part of rest) {
    const namespace = part.match(/^\*\s+as\s+([A-Za-z_$][\w$]*)$/);
    if (namespace) found.push({ local: namespace[1]!, module, imported: null, line });
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) found.push({ local: part, module, imported: "default", line });
  }
  for (const part of named?.[1]!.split(",") ?? []) {
    const names = part.trim().replace(/^type\s+/, "").match(/^([A-Za-z_$][\w$]*)(?:\s+as\s+([A-Za-z_$][\w$]*))?$/);
    if (names) found.push({ local: names[2] ?? names[1]!, module, imported: names[1]!, line });
  }
}

// ---- methods of a class, its own and inherited -------------------------------------------------

/** A method as a class offers it: its facts, and which class in the chain defines it. */
type OfferedMethod = { facts: FunctionFacts; definedBy: Located };

/** Every method a class offers (its own first, then each base's it does not override), constructors aside. */
function methodsOffered(chain: Chain): OfferedMethod[] {
  const offered = new Map<string, OfferedMethod>();
  for (const located of chain.classes) {
    for (const facts of methodFactsOf(located)) {
      const name = simpleName(facts.name);
      if (!CONSTRUCTORS.has(name) && !offered.has(name)) offered.set(name, { facts, definedBy: located });
    }
  }
  return [...offered.values()];
}

/** A class's own methods as the extractor describes them, in source order. */
function methodFactsOf({ module, facts }: Located): FunctionFacts[] {
  const prefix = `${facts.name}.`;
  return module.functions.filter((found) =>
    found.method && found.name.startsWith(prefix) && !found.name.slice(prefix.length).includes(".")
  );
}

/** The constructor the class is built with: its own, else the nearest base's. */
function constructorOf(chain: Chain): ClassFacts["constructor"] {
  for (const { module, facts } of chain.classes) {
    // `constructor` is also every object's inherited property: only the extractor's own key counts.
    const own = Object.hasOwn(facts, "constructor") ? facts.constructor : null;
    if (own) return own;
    const written = module.functions.find((found) =>
      found.method && (found.name === `${facts.name}.__init__` || found.name === `${facts.name}.constructor`)
    );
    if (written) return { signature: written.signature, params: written.params, required: written.required ?? [] };
  }
  return null;
}

/** The entry for `ClassName.method` as the class offers it: the method's own definition, owned by the class asked for. */
function methodEntry(
  start: Located,
  chain: Chain,
  method: OfferedMethod,
  project: EntryProject | undefined,
): FunctionFacts {
  const construct = constructorOf(chain);
  const owner: EntryOwner = {
    className: start.facts.name,
    binding: bindingOf(method.facts, method.definedBy.facts),
    constructorParams: construct?.params ?? [],
    constructorRequired: construct?.required ?? [],
    constructorSignature: construct?.signature ?? null,
  };
  if (method.definedBy.facts.name !== start.facts.name || method.definedBy.module !== start.module) {
    owner.definedIn = method.definedBy.facts.name;
  }
  const definedPath = method.definedBy.module.path;
  if (project && definedPath && definedPath !== start.module.path) {
    owner.definedInFile = toPosix(relative(project.root ?? project.repoRoot, definedPath));
  }
  return { ...method.facts, name: `${start.facts.name}.${simpleName(method.facts.name)}`, owner };
}

// ---- the choice ----------------------------------------------------------------------------------

/**
 * The function an eval will call in one file, from an extractor's facts. `requested` (--entry)
 * wins, and may name a private function or `Class.method` (own, inherited, static). Otherwise
 * the public top-level functions that return a value (decorators aside) and the public methods
 * of the file's public, concrete classes (leaves first) are ranked together by name: a name in
 * ENTRY_NAMES (earlier first), then a name with such a word in it (`rank_documents`,
 * `hybridSearch`); a method must name better than the best function to win, and whichever loses
 * is named in a warning. Among functions, then: one no other public function calls (callers named
 * main/cli do not count: they wrap the entry); the one reaching the most other functions in the
 * file; the later one. A file whose only functions look like decorators still offers them.
 * Throws CliError E_ENTRY_NOT_FOUND when `requested` names nothing the file offers.
 */
export function chooseEntry(
  extracted: Extracted,
  language: Language,
  options: EntryChoiceOptions,
): FunctionFacts | null {
  const module = moduleOf(options.project?.path ?? null, language, extracted, options.source);
  const reader = options.project ? new ProjectReader(options.project) : null;
  if (options.requested) return requestedEntry(module, parseEntryRequest(options.requested), reader, options);
  const decorators = topLevelCandidates(module.functions).filter((found) => looksLikeDecorator(found, module.source));
  const functions = topLevelCandidates(module.functions, module.source);
  const methods = rankedMethods(module, reader, options.project);
  if (functions.length === 0 && methods.length === 0) {
    if (decorators.length === 0) return null;
    const chosen = chooseAmongFunctions(module.functions, decorators, options);
    options.warnings.push(
      `"${chosen.name}" in "${options.fileName}" looks like a decorator (it takes a function or returns one), but the file offers nothing else: the eval calls it once per test case with the test data's inputs. Pass --entry NAME, or --entry path/to/module:NAME for an entry in another file`,
    );
    return chosen;
  }
  if (methods.length === 0) return chooseAmongFunctions(module.functions, functions, options);
  if (functions.length === 0) return chooseAmongMethods(methods, decorators, options);
  return chooseFunctionOrMethod(module.functions, functions, methods, options, module.source);
}

/** Public top-level functions that return a value; given the file's text, decorators are left out. */
function topLevelCandidates(functions: FunctionFacts[], source?: string): FunctionFacts[] {
  return functions.filter((found) =>
    found.public && !found.method && returnsSomething(found) &&
    (source === undefined || !looksLikeDecorator(found, source))
  );
}

/** Parameter names that hold the function a decorator wraps. */
const WRAPPED_PARAMETER = /^(?:fn|func|function|callback|cb|wrapped|decorated|method|handler)$/i;
/** A type that is a function: `Callable[..., T]`, `Function`, `(q: string) => string[]`. */
const FUNCTION_TYPE = /^(?:typing\.|t\.)?(?:Callable|Function|FunctionType|Decorator)\b|=>/;

/**
 * A decorator (or a decorator factory) is no entry: an eval calling it gets a function back, not
 * an answer. It takes one parameter that is a function (by its name or its type), is declared to
 * return a function, or returns a function it defines inside (read from the file's text).
 */
function looksLikeDecorator(found: FunctionFacts, source: string | undefined): boolean {
  const [only, ...others] = found.params;
  if (only !== undefined && others.length === 0 && !/^[*.]/.test(only)) {
    if (WRAPPED_PARAMETER.test(only)) return true;
    const annotation = found.signature.match(new RegExp(`[(,]\\s*${escapeRegExp(only)}\\s*\\??\\s*:\\s*([^,=]+)`));
    if (annotation && FUNCTION_TYPE.test(annotation[1]!.trim())) return true;
  }
  // Python's extractor writes `returns: null` for a function without an annotation.
  const returns = found.returns ?? "";
  if (returns !== "" && FUNCTION_TYPE.test(returns.replace(/^Promise<|^Awaitable\[/, "").trim())) return true;
  return source !== undefined && returnsInnerFunction(found, source);
}

/** Lines of a body read, at most. */
const MAX_BODY_LINES = 400;

/** A function's body as text: the lines after its first that are indented deeper (up to its closing `}`). */
function bodyText(found: FunctionFacts, source: string): string {
  const lines = source.split("\n");
  const first = lines[found.line - 1];
  if (first === undefined) return "";
  const indent = first.match(/^\s*/)![0].length;
  const body: string[] = [];
  for (const text of lines.slice(found.line, found.line + MAX_BODY_LINES)) {
    if (text.trim() !== "" && text.match(/^\s*/)![0].length <= indent) break;
    body.push(text);
  }
  return body.join("\n");
}

/**
 * Whether `start` or a function it reaches names `className` in its body: a script's `main()`
 * that builds and trains a `Network` is the entry, not `Network.predict` on an untrained instance.
 */
function usesClass(start: FunctionFacts, className: string, all: FunctionFacts[], source: string): boolean {
  const byName = new Map(all.filter((found) => !found.method).map((found) => [found.name, found]));
  const mention = new RegExp(`\\b${escapeRegExp(className)}\\b`);
  const seen = new Set<string>();
  const queue = [start];
  while (queue.length > 0) {
    const found = queue.pop()!;
    if (seen.has(found.name)) continue;
    seen.add(found.name);
    if (mention.test(bodyText(found, source))) return true;
    for (const callee of found.calls) {
      const next = byName.get(callee);
      if (next) queue.push(next);
    }
  }
  return false;
}

/**
 * Whether the function's body (the lines indented deeper than its first line) returns a function
 * it defines there: Python `def wrapper(...)` ... `return wrapper` or `return lambda`; TS/JS
 * `return function`, `return (...) =>`, or an inner `function inner` / `const inner = ...` returned by name.
 */
function returnsInnerFunction(found: FunctionFacts, source: string): boolean {
  const text = bodyText(found, source);
  if (
    /\breturn\s+(?:lambda\b|(?:async\s+)?function\b|(?:async\s+)?\([^()]*\)\s*(?::[^=;]*)?=>|[A-Za-z_$][\w$]*\s*=>)/
      .test(text)
  ) {
    return true;
  }
  const inner = [
    ...text.matchAll(/^\s+(?:async\s+)?def\s+([A-Za-z_]\w*)/gm),
    ...text.matchAll(/^\s+(?:async\s+)?function\s*\*?\s*([A-Za-z_$][\w$]*)/gm),
    ...text.matchAll(
      /^\s+(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=\s*(?:async\s+)?(?:function\b|\([^()]*\)\s*(?::[^=]*)?=>|[A-Za-z_$][\w$]*\s*=>)/gm,
    ),
  ].map((match) => match[1]!);
  return inner.some((name) => new RegExp(`\\breturn\\s+${escapeRegExp(name)}\\s*(?:;|$)`, "m").test(text));
}

/** Declared return types that say a function returns nothing an eval could score. */
const NOTHING_RETURNED = /^(?:void|Promise<void>|undefined|never|None|NoReturn|Never)$/;

/** False for a function that returns nothing (a script's `main()` that prints, `-> None`, `: void`). */
function returnsSomething(found: FunctionFacts): boolean {
  return found.returnsValue !== false && !NOTHING_RETURNED.test(found.returns?.trim() ?? "");
}

function requestedEntry(
  module: Module,
  request: EntryRequest,
  reader: ProjectReader | null,
  options: EntryChoiceOptions,
): FunctionFacts {
  const { fileName } = options;
  const wanted = request.className ? `${request.className}.${request.member}` : request.member;
  if (!request.className) {
    const match = module.functions.find((found) => found.name === wanted);
    if (match) return match;
    const candidates = module.functions.filter((found) => found.public && !found.method);
    if (candidates.length > 0) {
      throw notFound(
        `Cannot find function "${wanted}" in "${fileName}"; it defines ${
          listNames(candidates.map((found) => found.name))
        }. Pass one of them with --entry NAME.`,
      );
    }
    const methods = classMethodNames(module, reader);
    throw notFound(
      methods.length > 0
        ? `Cannot find function "${wanted}" in "${fileName}", which defines no public top-level function; its classes offer ${
          listNames(methods)
        }. Pass one of them with --entry Class.method.`
        : `Cannot find function "${wanted}" in "${fileName}", which defines no public top-level function. Check the file, or pass --entry path/to/module:NAME for an entry in another file.`,
    );
  }
  const facts = module.classes.find((found) => found.name === request.className);
  if (!facts) {
    // A nested name the extractor lists as a function (`Outer.Inner.method`) is still reachable.
    const direct = module.functions.find((found) => found.name === wanted);
    if (direct) return direct;
    const classes = module.classes.map((found) => found.name);
    const [outer] = request.className.split(".");
    const outerClass = request.className.includes(".") ? module.classes.find((found) => found.name === outer) : null;
    if (outerClass) {
      // `Ranker.Config.search`: the first name is a class of this file, so no other file is meant.
      const reachable = rankedMethods(module, reader).map((candidate) => candidate.entry.name);
      throw notFound(
        `Cannot find "${wanted}" in "${fileName}": "${request.className}" is inside the class ${outer} of this file, and the methods of classes nested in a class are not reachable as an entry; ${
          reachable.length > 0
            ? `the file's classes offer ${listNames(reachable)}. Pass one of them with --entry Class.method`
            : "pass --entry with a method of a top-level class, or a top-level function"
        }.`,
      );
    }
    throw notFound(
      `Cannot find class "${request.className}" in "${fileName}"; ${
        classes.length > 0 ? `it defines ${listNames(classes)}` : "it defines no class"
      }. Pass --entry Class.method with one of them, or --entry path/to/module:${request.className}.${request.member} for a class in another file.`,
    );
  }
  const start: Located = { module, facts };
  const chain = chainOf(start, reader);
  const offered = methodsOffered(chain);
  const method = offered.find((found) => simpleName(found.facts.name) === request.member);
  if (method) {
    const entry = methodEntry(start, chain, method, options.project);
    if (facts.abstract && entry.owner?.binding === "instance") {
      options.warnings.push(abstractWarning(module, facts, request));
    }
    return entry;
  }
  const names = offered.map((found) =>
    found.definedBy === start
      ? simpleName(found.facts.name)
      : `${simpleName(found.facts.name)} (from ${found.definedBy.facts.name})`
  );
  const outside = chain.unresolved.length > 0
    ? `; the methods of ${
      listNames(chain.unresolved.map((name) => `"${name}"`))
    } are not known (not a file of this repository${reader ? "" : " read here"})`
    : "";
  throw notFound(
    `Cannot find method "${request.member}" of class "${request.className}" in "${fileName}"; ${
      names.length > 0 ? `${request.className} has ${listNames(names)}` : `${request.className} has no method`
    }${outside}. Pass one of them with --entry ${request.className}.NAME.`,
  );
}

/** An abstract class cannot be built from `setup`: name the concrete classes of the file that extend it. */
function abstractWarning(module: Module, facts: ClassFacts, request: EntryRequest): string {
  const concrete = module.classes.filter((found) =>
    !found.abstract && found.bases.some((base) => baseName(base)?.split(".").pop() === facts.name)
  );
  const instead = concrete.length > 0
    ? `pass --entry ${concrete[0]!.name}.${request.member}${
      concrete.length > 1
        ? ` (or ${listNames(concrete.slice(1).map((found) => `${found.name}.${request.member}`))})`
        : ""
    }`
    : "pass --entry with a concrete class that extends it";
  return `${facts.name} is abstract, so the eval cannot build one from the test data's "setup"; ${instead}`;
}

function notFound(message: string): CliError {
  return new CliError(message, "E_ENTRY_NOT_FOUND", EXIT.USAGE);
}

/** `Ranker.rank, Ranker.score`: what a file's classes offer, for a message. */
function classMethodNames(module: Module, reader: ProjectReader | null): string[] {
  return rankedMethods(module, reader).map((candidate) => candidate.entry.name);
}

const SCORABLE_SHAPES: ReadonlySet<FunctionFacts["returnsShape"]> = new Set([
  "ranked_list",
  "scores",
  "label",
  "number",
]);

function chooseAmongFunctions(
  functions: FunctionFacts[],
  candidates: FunctionFacts[],
  options: EntryChoiceOptions,
): FunctionFacts {
  const { fileName, warnings } = options;
  const callers = new Map<string, FunctionFacts[]>();
  for (const caller of candidates) {
    if (WRAPPER_NAMES.has(caller.name)) continue;
    for (const callee of caller.calls) {
      if (callee !== caller.name) callers.set(callee, [...(callers.get(callee) ?? []), caller]);
    }
  }
  const byName = new Map(functions.filter((found) => !found.method).map((found) => [found.name, found]));
  const ranked = candidates
    .map((found) => ({
      found,
      exact: exactNameRank(found.name),
      word: wordNameRank(found.name),
      // A ranking, scores, a label or a number is what an eval can score; a record or an unknown value less so.
      scorable: SCORABLE_SHAPES.has(found.returnsShape) ? 0 : 1,
      called: callers.has(found.name) ? 1 : 0,
      reach: reachableCount(found, byName),
    }))
    .sort((a, b) =>
      a.exact - b.exact || a.word - b.word || a.scorable - b.scorable || a.called - b.called || b.reach - a.reach ||
      b.found.line - a.found.line
    );
  const best = ranked[0]!;
  const name = best.found.name;
  const others = candidates.filter((found) => found !== best.found).map((found) => found.name);
  const sameWord = ranked.slice(1).filter((other) => other.exact === Infinity && other.word === best.word);
  if (best.exact === Infinity && best.word === Infinity && candidates.length > 1) {
    warnings.push(
      `Guessed "${name}" as the entry function of "${fileName}" from what it returns and its calls; pass --entry NAME to choose another (${
        listNames(others)
      })`,
    );
  } else if (best.exact === Infinity && sameWord.length > 0) {
    warnings.push(
      `Chose "${name}" as the entry function of "${fileName}" by its name; ${
        listNames(sameWord.map((other) => other.found.name))
      } fit${sameWord.length === 1 ? "s" : ""} as well: pass --entry NAME to choose another`,
    );
  } else if (WRAPPER_NAMES.has(name) && best.found.returnsValue !== undefined) {
    // Only where the parser read what it returns: the line heuristic (shell, Ruby...) cannot tell.
    warnings.push(
      `Chose "${name}" as the entry function of "${fileName}": the eval calls it once per test case and scores what it returns; if it is the script's command line and prints its result, have your agent write the eval (--agent CMD) or bring your own (--eval-cmd CMD)`,
    );
  } else if (best.called) {
    const wrappers = callers.get(name)!;
    const callersText = `${listNames(wrappers.map((found) => found.name))} call${wrappers.length === 1 ? "s" : ""} it`;
    warnings.push(
      `Chose "${name}" as the entry function of "${fileName}" by its name, but ${callersText}; pass --entry ${
        wrappers[0]!.name
      } if the eval should call that instead`,
    );
  }
  return best.found;
}

type RankedMethod = { entry: FunctionFacts; exact: number; word: number; leaf: number; order: number };

/**
 * The public methods of a file's public, concrete classes as entries, best first: classes no other
 * class of the file extends (leaves) first, with what they inherit; then by the entry-name rules
 * on the method's name; then in source order. Methods that return nothing are left out.
 */
function rankedMethods(module: Module, reader: ProjectReader | null, project?: EntryProject): RankedMethod[] {
  const concrete = module.classes.filter((found) => found.public && !found.abstract);
  const extended = new Set(
    module.classes.flatMap((found) => found.bases.map((base) => baseName(base)).filter((name) => name !== null)),
  );
  const leaves = concrete.filter((found) => !extended.has(found.name));
  const ranked: RankedMethod[] = [];
  let order = 0;
  for (const facts of leaves.length > 0 ? leaves : concrete) {
    const start: Located = { module, facts };
    const chain = chainOf(start, reader);
    for (const method of methodsOffered(chain)) {
      const name = simpleName(method.facts.name);
      if (name.startsWith("_") || !returnsSomething(method.facts)) continue;
      ranked.push({
        entry: methodEntry(start, chain, method, project),
        exact: exactNameRank(name),
        word: wordNameRank(name),
        leaf: extended.has(facts.name) ? 1 : 0,
        order: order++,
      });
    }
  }
  return ranked.sort((a, b) => a.exact - b.exact || a.word - b.word || a.leaf - b.leaf || a.order - b.order);
}

function chooseAmongMethods(
  ranked: RankedMethod[],
  decorators: FunctionFacts[],
  options: EntryChoiceOptions,
): FunctionFacts {
  const best = ranked[0]!.entry;
  const others = ranked.slice(1).map((candidate) => candidate.entry.name);
  const why = decorators.length > 0
    ? `"${options.fileName}"'s top-level function${decorators.length === 1 ? "" : "s"} ${
      listNames(decorators.map((found) => found.name))
    } look${decorators.length === 1 ? "s" : ""} like ${decorators.length === 1 ? "a decorator" : "decorators"}`
    : `"${options.fileName}" has no public top-level function`;
  options.warnings.push(
    `${why}, so the eval calls the method ${best.name}${onInstance(best)}${
      others.length > 0 ? `; the others are ${listNames(others)}` : ""
    }. Pass --entry Class.method to choose another.`,
  );
  return best;
}

function onInstance(entry: FunctionFacts): string {
  return entry.owner?.binding === "instance" ? ` on an instance built from the test data's "setup"` : "";
}

/**
 * A file with both: the best function and the best method, compared by the entry-name rules
 * (exact name, then a name word); the method must name strictly better to win, and its class
 * must not be one the function builds or uses (then the class is a piece of what the function
 * does). The choice always names the other, since a helper function and a class's method are
 * easy to mistake for each other.
 */
function chooseFunctionOrMethod(
  all: FunctionFacts[],
  functions: FunctionFacts[],
  methods: RankedMethod[],
  options: EntryChoiceOptions,
  source: string | undefined,
): FunctionFacts {
  const functionWarnings: string[] = [];
  const bestFunction = chooseAmongFunctions(all, functions, { ...options, warnings: functionWarnings });
  const bestMethod = methods[0]!;
  const exact = exactNameRank(bestFunction.name);
  const word = wordNameRank(bestFunction.name);
  const methodNamesBetter = bestMethod.exact < exact || (bestMethod.exact === exact && bestMethod.word < word);
  const className = bestMethod.entry.owner?.className;
  const functionUsesClass = source !== undefined && className !== undefined &&
    usesClass(bestFunction, className, all, source);
  if (methodNamesBetter && !functionUsesClass) {
    const passedOver = listNames(functions.map((found) => found.name));
    options.warnings.push(
      `Chose the method ${bestMethod.entry.name} as the entry of "${options.fileName}" by its name${
        onInstance(bestMethod.entry)
      }, over the top-level function${
        functions.length === 1 ? "" : "s"
      } ${passedOver}: pass --entry ${bestFunction.name} if the eval should call that instead`,
    );
    return bestMethod.entry;
  }
  options.warnings.push(...functionWarnings);
  const methodNames = listNames(methods.map((candidate) => candidate.entry.name));
  options.warnings.push(
    `Chose the function "${bestFunction.name}" as the entry of "${options.fileName}" over the class method${
      methods.length === 1 ? "" : "s"
    } ${methodNames}: pass --entry ${bestMethod.entry.name} if the eval should call that instead`,
  );
  return bestFunction;
}

/** `a, b, c` — or the first dozen and a count, so a message stays one readable line. */
function listNames(names: string[], shown = 12): string {
  return names.length <= shown
    ? names.join(", ")
    : `${names.slice(0, shown).join(", ")} and ${names.length - shown} more`;
}

function exactNameRank(name: string): number {
  const index = ENTRY_NAMES.indexOf(name.toLowerCase());
  return index === -1 ? Infinity : index;
}

function wordNameRank(name: string): number {
  const words = name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase().split(/_+/).filter(Boolean);
  // `ranking`, `searcher` and `scores` carry the word too; `run`/`main` must match whole (runtime, domain).
  const carries = (
    word: string,
    entryName: string,
  ) => (entryName.length >= 4 ? word.startsWith(entryName) : word === entryName);
  const index = ENTRY_NAMES.findIndex((entryName) => words.some((word) => carries(word, entryName)));
  return index === -1 ? Infinity : index;
}

function reachableCount(start: FunctionFacts, byName: Map<string, FunctionFacts>): number {
  const seen = new Set<string>([start.name]);
  const queue = [...start.calls];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...(byName.get(name)?.calls ?? []));
  }
  return seen.size - 1;
}

// ---- entries in other files of the project ------------------------------------------------------

/** The language family a file's entries are looked for in: Python, or TypeScript/JavaScript (both for anything else). */
function familyExtensions(language: Language): string[] {
  if (language === "python") return PYTHON_EXTENSIONS;
  if (language === "typescript" || language === "javascript") return SCRIPT_EXTENSIONS;
  return [...PYTHON_EXTENSIONS, ...SCRIPT_EXTENSIONS];
}

function languageOfPath(path: string): Language {
  return languageOfExtension(path) ?? "other";
}

/** Tracked source files of the family, repository-relative, without tests, vendored or built files. */
function sourceFiles(repoRoot: string, language: Language, tracked?: string[]): string[] {
  const extensions = familyExtensions(language);
  return (tracked ?? trackedFiles(repoRoot))
    .filter((path) => extensions.includes(extname(path).toLowerCase()) && !NOT_A_SOURCE.test(path))
    .slice(0, MAX_FILES_READ);
}

/** Whether source text declares class `className` (Python or TypeScript/JavaScript `class X`). */
export function declaresClass(text: string, className: string): boolean {
  return text.includes(className) && new RegExp(`(^|[\\s;])class\\s+${escapeRegExp(className)}\\b`, "m").test(text);
}

/**
 * The files that define class `className`, repository-relative, for `--entry Class#method`
 * without a path: a tracked file of the family whose text declares the class (Python `class X`,
 * TypeScript/JavaScript `class X`).
 */
export function filesDefiningClass(
  repoRoot: string,
  className: string,
  language: Language,
  tracked?: string[],
): string[] {
  return sourceFiles(repoRoot, language, tracked).filter((path) => {
    if (TEST_FILE.test(path)) return false;
    const text = readSmallFile(join(repoRoot, path));
    return text !== null && declaresClass(text, className);
  });
}

/** One ready entry the project offers: the file, the entry's name and signature, and how to pass it. */
export type EntryCandidate = {
  file: string; // repository-relative
  name: string; // `search`, `Fuzzy.search`
  signature: string;
  line: number;
  /** The --entry value, the file spelled from `cwd`: `src/search.ts:Fuzzy#search`. */
  entry: string;
  /** Why it is offered: it imports the constrained file, or names it in a string (a config file it reads). */
  reason: "imports" | "mentions";
};

export type EntryCandidateOptions = {
  extract: ExtractFile;
  cwd?: string; // where --entry paths are spelled from (default: the repository root)
  tracked?: string[]; // repository-relative tracked files (default: asked of git)
  limit?: number; // candidates returned (default 12)
};

/**
 * The entries a project offers for a file that has none of its own (a config, a table of
 * weights): the tracked files of its language family that import it (their imports resolved to
 * the file) or, for a data file, name it in a string, and the public functions and class methods
 * those files define, best first by the entry-name rules. Reads at most 2,000 files (512 KB each)
 * and parses at most a dozen.
 */
export function entryCandidates(
  repoRoot: string,
  constrainedFile: string,
  options: EntryCandidateOptions,
): EntryCandidate[] {
  const target = resolve(repoRoot, constrainedFile);
  const language = languageOfPath(target);
  const stem = basename(target).replace(/\.[^.]+$/, "");
  const fileName = basename(target);
  const importers: { path: string; reason: EntryCandidate["reason"] }[] = [];
  for (const path of sourceFiles(repoRoot, language, options.tracked)) {
    const absolute = join(repoRoot, path);
    if (absolute === target || TEST_FILE.test(path)) continue;
    const text = readSmallFile(absolute);
    if (text === null || !text.includes(stem)) continue;
    const fileLanguage = languageOfPath(path);
    const imports = scanImports(text, fileLanguage);
    if (
      imports.some((found) =>
        importedModules(found, fileLanguage).some((module) =>
          resolveModule(absolute, module, fileLanguage, repoRoot).includes(target)
        )
      )
    ) {
      importers.push({ path, reason: "imports" });
    } else if (language === "other" && new RegExp(`["'\`][^"'\`\\n]*\\b${escapeRegExp(fileName)}["'\`]`).test(text)) {
      importers.push({ path, reason: "mentions" });
    }
    if (importers.length >= MAX_IMPORTERS_ANALYSED) break;
  }
  const cwd = options.cwd ?? repoRoot;
  const ranked: (RankedMethod & { candidate: EntryCandidate })[] = [];
  for (const importer of importers) {
    const absolute = join(repoRoot, importer.path);
    const project: EntryProject = { path: absolute, repoRoot, extract: options.extract };
    const reader = new ProjectReader(project);
    const module = reader.load(absolute);
    if (!module) continue;
    const spelled = toPosix(relative(cwd, absolute));
    const functions = topLevelCandidates(module.functions, module.source).map((found, index): RankedMethod => ({
      entry: found,
      exact: exactNameRank(found.name),
      word: wordNameRank(found.name),
      leaf: 0,
      order: index,
    }));
    for (const item of [...functions, ...rankedMethods(module, reader, project)]) {
      const { entry } = item;
      const notation = entry.owner && entry.owner.binding === "instance" && module.language !== "python"
        ? `${entry.owner.className}#${simpleName(entry.name)}`
        : entry.name;
      ranked.push({
        ...item,
        candidate: {
          file: importer.path,
          name: entry.name,
          signature: entry.signature,
          line: entry.line,
          entry: `${spelled}:${notation}`,
          reason: importer.reason,
        },
      });
    }
  }
  return ranked
    .sort((a, b) => a.exact - b.exact || a.word - b.word || a.leaf - b.leaf)
    .slice(0, options.limit ?? 12)
    .map((item) => item.candidate);
}

/**
 * The modules an import may bind: its `from` part, and for Python `from . import weights` or
 * `from pkg import weights` also the module that name is (`.weights`, `pkg.weights`).
 */
function importedModules(found: ImportFacts, language: Language): string[] {
  if (language !== "python" || found.imported === null || found.imported === "*") return [found.module];
  return [found.module, joinPython(found.module, [found.imported])];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
