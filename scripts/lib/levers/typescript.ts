// Levers, functions, classes and imports of TypeScript/JavaScript source, read with @babel/parser
// in one parse, one pass over the top-level statements and one walk. Levers are named as the code
// holds them (`Config.fuzzy.distance`, `search.limit`, `Ranker.constructor.minScore`,
// `module.exports.threshold`, `default.topK`) with the scope that owns them. Also home of the
// naming rules that the regex heuristic in levers.ts shares (levers_python.py keeps a copy). It
// never evaluates the analysed code, does not name lever kinds (kinds.ts does) and does not
// choose the entry (levers.ts and entries.ts do, for every language alike).
import type * as BabelParser from "@babel/parser";
import type { Comment, Node } from "@babel/types";
import { requirePackage } from "../cli/packages.ts";
import type { ClassFacts, FunctionFacts, ImportFacts, RawLever, ReturnsShape } from "./lever.ts";
import { splitTopLevel } from "../text/split-top-level.ts";

// @babel/parser (~19 ms to load) is loaded on the first TypeScript/JavaScript file: init and
// next-round on a Python file, and every step, never need it (and Deno never fetches it for them).
let babelParser: typeof BabelParser | null = null;
function babel(): typeof BabelParser {
  babelParser ??= requirePackage("typescriptParser", "@babel/parser") as typeof BabelParser;
  return babelParser;
}

// ---- rules shared with the heuristic (and mirrored in levers_python.py) ------------------------

const PROMPT_NAME = /prompt|template|instruction|system/i;
export const VALUE_WIDTH = 80; // characters in a rendered value
const PROMPT_PREVIEW = 60;
/** An object of numbers with fewer entries is a setting, not a table of weights (levers_python.py too). */
const MIN_TABLE_ENTRIES = 2; // characters of a prompt shown before the ellipsis

/** A prompt is named like one (and not tiny), or is long prose: a long path or URL is not. */
export function isPrompt(name: string, text: string): boolean {
  if (PROMPT_NAME.test(name) && text.trim().length >= 20) return true;
  return text.length >= 40 && (text.trim().includes("\n") || (text.match(/ /g)?.length ?? 0) >= 5);
}

export function clip(text: string, width: number = VALUE_WIDTH): string {
  const collapsed = text.split(/\s+/).filter(Boolean).join(" ");
  return collapsed.length <= width ? collapsed : `${collapsed.slice(0, width - 1)}…`;
}

export function promptLever(name: string, text: string, line: number, endLine: number, scope: string): RawLever {
  const collapsed = text.split(/\s+/).filter(Boolean).join(" ");
  const value = collapsed.length <= PROMPT_PREVIEW ? collapsed : `${collapsed.slice(0, PROMPT_PREVIEW).trimEnd()}…`;
  const lines = text.split("\n").length;
  const lever: RawLever = {
    kind: "prompt",
    name,
    line,
    value,
    scope,
    detail: `${text.length} chars, ${lines} line${lines === 1 ? "" : "s"}`,
  };
  if (endLine > line) lever.endLine = endLine;
  return lever;
}

/** 0 and 1 in `x > 0` or `n < 1` are boundaries (empty, first, sign), not tunable thresholds. */
export function isBoundary(value: number): boolean {
  return value === 0 || (Number.isInteger(value) && Math.abs(value) === 1);
}

// ---- parsing -----------------------------------------------------------------------------------

export type BabelResult =
  | { ok: true; levers: RawLever[]; functions: FunctionFacts[]; classes: ClassFacts[]; imports: ImportFacts[] }
  | { ok: false; line: number | null; message: string };

const FUNCTION_TYPES = new Set([
  "FunctionDeclaration",
  "FunctionExpression",
  "ArrowFunctionExpression",
  "ClassMethod",
  "ClassPrivateMethod",
  "ObjectMethod",
]);
const ORDERING = new Set(["<", "<=", ">", ">="]);
const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  "+": (a, b) => a + b,
  "-": (a, b) => a - b,
  "*": (a, b) => a * b,
  "/": (a, b) => a / b,
  "%": (a, b) => a % b,
  "**": (a, b) => a ** b,
};
const WRAPPER_TYPES = new Set([
  "TSAsExpression",
  "TSSatisfiesExpression",
  "TSTypeAssertion",
  "TSNonNullExpression",
  "ParenthesizedExpression",
]);
const STRING_WRAPPERS = new Set(["dedent", "stripIndent", "trim", "trimStart", "trimEnd"]);
// Calls whose result tells the return shape: `docs.sort(...).slice(0, k)`, `parts.join(" ")`, `Math.round(x)`.
const LIST_METHODS = new Set([
  "sort",
  "toSorted",
  "slice",
  "map",
  "filter",
  "flat",
  "flatMap",
  "concat",
  "reverse",
  "toReversed",
  "from",
  "keys",
  "values",
  "entries",
]);
const LABEL_METHODS = new Set([
  "join",
  "toLowerCase",
  "toUpperCase",
  "trim",
  "toString",
  "toFixed",
  "String",
  "Boolean",
  "includes",
  "startsWith",
  "endsWith",
  "test",
]);
const NUMBER_METHODS = new Set([
  "Number",
  "parseFloat",
  "parseInt",
  "round",
  "floor",
  "ceil",
  "max",
  "min",
  "abs",
  "sqrt",
  "log",
  "exp",
  "indexOf",
]);
const SCORE_ARRAYS = new Set(["Float32Array", "Float64Array"]);
// Positions, comments and types hold no levers and no calls; skipping them keeps the walk small.
const SKIPPED_KEYS = new Set([
  "loc",
  "start",
  "end",
  "range",
  "extra",
  "leadingComments",
  "trailingComments",
  "innerComments",
  "typeAnnotation",
  "returnType",
  "typeParameters",
  "superTypeParameters",
]);

type FunctionNode = Node & { params: Node[]; returnType?: Node | null; body: Node };
function isFunction(node: Node): node is FunctionNode {
  return FUNCTION_TYPES.has(node.type);
}
type Binding = "instance" | "static";

/**
 * A function being walked; `owner` is the top-level function or method it sits in (for the call
 * graph). `leverName` is set on a top-level function's or a method's own scope only: its defaults
 * are levers (`search.limit`), a nested helper's are not.
 */
type Scope = {
  name: string | null;
  owner: string | null;
  returns: Node[];
  assigned: Map<string, Node>;
  declared: Map<string, string>; // `const out: number[] = []`: the type says more than the value
  yields: boolean;
  calls: Set<string>;
  leverName: string | null;
  optionNames: Set<string>; // parameters whose fields fall back to defaults: `options.limit ?? 20`
};
/** An object literal spread into another (`{ ...FuzzyOptions }`): its levers stay its own, and say so. */
type Spread = { source: string; into: string };
type Context = { source: string; comments: Comment[]; spreads: Spread[]; objectTypes: Set<string> };

/** A top-level function or a method of a top-level class, as the module pass finds it. */
type Described = {
  name: string;
  node: FunctionNode;
  signatureStart: number;
  exported: boolean;
  method: boolean;
  binding?: Binding;
  hidden: boolean; // `private`/`protected` methods
};
type ModuleFacts = {
  levers: RawLever[];
  described: Described[];
  /** Functions whose parameter defaults are levers, by their qualified name (constructors too). */
  leverScopes: Map<Node, string>;
  classes: { facts: ClassFacts; exported: boolean }[];
  imports: ImportFacts[];
  exportedNames: Set<string>; // `export { rank }`, `module.exports = { rank }`
  hasExports: boolean;
};

export function extractWithBabel(
  source: string,
  language: "typescript" | "javascript",
  options: { jsx?: boolean } = {},
): BabelResult {
  const plugins: ("typescript" | "jsx" | "decorators-legacy")[] = ["decorators-legacy"];
  if (language === "typescript") plugins.push("typescript");
  if (options.jsx ?? language === "javascript") plugins.push("jsx");
  let file;
  try {
    file = babel().parse(source, { sourceType: "unambiguous", plugins, allowReturnOutsideFunction: true });
  } catch (error) {
    const located = error as { message?: string; loc?: { line: number } };
    return {
      ok: false,
      line: located.loc?.line ?? null,
      message: String(located.message ?? error).replace(/ \(\d+:\d+\)$/, ""),
    };
  }
  const context: Context = { source, comments: file.comments ?? [], spreads: [], objectTypes: new Set() };
  const module = readModule(file.program.body, context);
  const topLevel = new Set(module.described.filter((entry) => !entry.method).map((entry) => entry.name));
  const { scopes, owners, defaults, comparisons } = walk(file.program, topLevel, module.leverScopes, context);
  const levers = [...module.levers, ...defaults];
  markSpreads(levers, context.spreads);
  levers.push(...comparisons);
  levers.sort((a, b) => a.line - b.line); // stable: declarations keep their source order

  const visible = (name: string, exported: boolean) =>
    !name.startsWith("_") && (!module.hasExports || exported || module.exportedNames.has(name));
  const functions = module.described.map((entry): FunctionFacts => {
    const scope = scopes.get(entry.node)!;
    const fn = entry.node;
    const returnsNode = fn.returnType && "typeAnnotation" in fn.returnType
      ? (fn.returnType.typeAnnotation as Node)
      : null;
    const returns = returnsNode ? text(returnsNode, context) : undefined;
    const shape = shapeOfTypeText(returns ?? "", context.objectTypes);
    const [first, ...rest] = entry.name.split(".");
    const simpleName = rest.at(-1) ?? first!;
    return {
      name: entry.name,
      line: line(fn),
      endLine: fn.loc?.end.line ?? line(fn),
      signature: signatureOf(entry.signatureStart, signatureEnd(fn, context), context),
      params: parametersOf(fn, context),
      required: requiredOf(fn, context),
      ...(returns === undefined ? {} : { returns }),
      returnsShape: shape !== "unknown" ? shape : shapeOfReturns(scope, { context, scopes }),
      // `return value` or `yield` anywhere in its own body: a function that only logs gives an eval nothing.
      returnsValue: scope.returns.length > 0 || scope.yields,
      calls: [...(owners.get(entry.name) ?? scope).calls].filter((callee) => callee !== entry.name).sort(),
      public: !simpleName.startsWith("_") && !entry.hidden && visible(first!, entry.exported),
      method: entry.method,
      ...(entry.binding ? { binding: entry.binding } : {}),
    };
  });
  const classes = module.classes.map(({ facts, exported }) => ({ ...facts, public: visible(facts.name, exported) }));
  return { ok: true, levers, functions, classes, imports: module.imports };
}

/** The pass over top-level statements: declarations' levers, functions, classes and imports. */
function readModule(body: Node[], context: Context): ModuleFacts {
  const module: ModuleFacts = {
    levers: [],
    described: [],
    leverScopes: new Map(),
    classes: [],
    imports: [],
    exportedNames: new Set(),
    hasExports: false,
  };
  const classNames = new Set<string>();
  for (const statement of body) {
    if (statement.type === "ImportDeclaration") {
      readImport(statement, module.imports);
      continue;
    }
    const exported = statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration";
    if (exported) module.hasExports = true;
    if (statement.type === "ExportNamedDeclaration" && !statement.source) {
      for (const specifier of statement.specifiers) {
        if (specifier.type === "ExportSpecifier") module.exportedNames.add(specifier.local.name);
      }
    }
    const declaration: Node | null | undefined = exported ? statement.declaration : statement;
    if (!declaration) continue;
    if (statement.type === "ExportDefaultDeclaration" && !isDeclaration(declaration)) {
      // export default rank | export default { ... } | export default defineConfig({ ... })
      if (declaration.type === "Identifier") module.exportedNames.add(declaration.name);
      const value = unwrap(declaration);
      if (isFunction(value)) {
        // export default (query, docs) => ...: the eval finds it as the module's `default`
        addFunction(module, { name: "default", node: value, signatureStart: statement.start ?? 0, exported: true });
        continue;
      }
      const config = configObject(declaration);
      if (config) module.levers.push(...leversForValue("default", config, line(statement), context, "module"));
      continue;
    }
    if (declaration.type === "VariableDeclaration" && !declaration.declare) {
      for (const declarator of declaration.declarations) {
        if (!declarator.init) continue;
        const required = requiredModule(declarator.init);
        if (required) {
          importsFromRequire(declarator.id, required, line(statement), module.imports);
          continue;
        }
        if (declarator.id.type !== "Identifier") continue;
        const name = declarator.id.name;
        const init = unwrap(declarator.init);
        if (isFunction(init)) {
          addFunction(module, { name, node: init, signatureStart: statement.start ?? 0, exported });
        } else {
          module.levers.push(...leversForValue(name, init, line(declarator), context, "module"));
        }
      }
    } else if (
      declaration.type === "FunctionDeclaration" && (declaration.id || statement.type === "ExportDefaultDeclaration")
    ) {
      addFunction(module, {
        name: declaration.id?.name ?? "default", // `export default function (query) {...}`
        node: declaration,
        signatureStart: statement.start ?? 0,
        exported,
      });
    } else if (declaration.type === "ClassDeclaration" && declaration.id && !declaration.declare) {
      classNames.add(declaration.id.name);
      module.classes.push({ facts: readClass(declaration, module, exported, context), exported });
    } else if (declaration.type === "TSInterfaceDeclaration") {
      context.objectTypes.add(declaration.id.name);
    } else if (declaration.type === "TSTypeAliasDeclaration") {
      if (shapeOfTypeText(text(declaration.typeAnnotation, context), context.objectTypes) === "object") {
        context.objectTypes.add(declaration.id.name);
      }
    } else if (declaration.type === "TSImportEqualsDeclaration") {
      const reference = declaration.moduleReference;
      if (reference.type === "TSExternalModuleReference") {
        module.imports.push({
          local: declaration.id.name,
          module: reference.expression.value,
          imported: null,
          line: line(statement),
        });
      }
    } else if (declaration.type === "ExpressionStatement") {
      collectCommonJsExports(declaration.expression, module.exportedNames);
      for (const found of commonJsFunctions(declaration.expression)) addFunction(module, { ...found, exported: true });
      module.levers.push(...assignedLevers(declaration.expression, classNames, context));
    }
  }
  if (module.exportedNames.size > 0) module.hasExports = true;
  return module;
}

function addFunction(
  module: ModuleFacts,
  found: { name: string; node: FunctionNode; signatureStart: number; exported: boolean },
): void {
  module.described.push({ ...found, method: false, hidden: false });
  module.leverScopes.set(found.node, found.name);
}

function isDeclaration(node: Node): boolean {
  return node.type === "FunctionDeclaration" || node.type === "ClassDeclaration" ||
    node.type === "TSDeclareFunction" || node.type === "TSInterfaceDeclaration";
}

/** The object a config module exports: `{ ... }`, or the one object passed to `defineConfig({ ... })`. */
function configObject(expression: Node): Node | null {
  const node = unwrap(expression);
  if (node.type === "ObjectExpression") return node;
  if (node.type === "CallExpression" && node.callee.type === "Identifier" && node.arguments.length === 1) {
    const argument = unwrap(node.arguments[0] as Node);
    if (argument.type === "ObjectExpression") return argument;
  }
  return null;
}

/** A top-level class: its facts, and the levers of its fields and of its methods' defaults. */
function readClass(
  declaration: Node & { type: "ClassDeclaration" },
  module: ModuleFacts,
  exported: boolean,
  context: Context,
): ClassFacts {
  const className = declaration.id!.name;
  const methods: ClassFacts["methods"] = [];
  let constructorFacts: ClassFacts["constructor"] = null;
  let abstract = Boolean(declaration.abstract);
  for (const member of declaration.body.body) {
    if ("abstract" in member && member.abstract) abstract = true;
    if (member.type === "ClassProperty") {
      const memberName = keyName(member.key, member.computed);
      if (memberName !== null && member.value) {
        module.levers.push(
          ...leversForValue(`${className}.${memberName}`, unwrap(member.value), line(member), context, className),
        );
      }
    } else if (member.type === "ClassMethod") {
      const memberName = keyName(member.key, member.computed);
      if (member.kind === "constructor") {
        module.leverScopes.set(member, `${className}.constructor`);
        constructorFacts = {
          signature: signatureOf(member.start ?? 0, signatureEnd(member, context), context),
          params: parametersOf(member, context),
          required: requiredOf(member, context),
        };
      } else if (member.kind === "method" && memberName !== null) {
        const binding: Binding = member.static ? "static" : "instance";
        const name = `${className}.${memberName}`;
        methods.push({ name: memberName, binding });
        module.described.push({
          name,
          node: member,
          signatureStart: member.start ?? 0,
          exported,
          method: true,
          binding,
          hidden: member.accessibility === "private" || member.accessibility === "protected",
        });
        module.leverScopes.set(member, name);
      }
    }
  }
  const superClass = declaration.superClass;
  const bases = superClass
    ? [context.source.slice(superClass.start ?? 0, (declaration.superTypeParameters ?? superClass).end ?? 0)]
    : [];
  return {
    name: className,
    line: line(declaration),
    bases,
    public: false, // decided once the whole file says whether it exports anything
    abstract,
    methods,
    constructor: constructorFacts,
  };
}

// ---- imports and CommonJS ----------------------------------------------------------------------

function readImport(statement: Node & { type: "ImportDeclaration" }, into: ImportFacts[]): void {
  if (statement.importKind === "type" || statement.importKind === "typeof") return; // no value to call
  for (const specifier of statement.specifiers) {
    if (specifier.type === "ImportSpecifier" && specifier.importKind === "type") continue;
    const imported = specifier.type === "ImportDefaultSpecifier"
      ? "default"
      : specifier.type === "ImportNamespaceSpecifier"
      ? null
      : specifier.imported.type === "Identifier"
      ? specifier.imported.name
      : specifier.imported.value;
    into.push({ local: specifier.local.name, module: statement.source.value, imported, line: line(statement) });
  }
}

/** `require("./y")` -> { module: "./y", member: null }; `require("./y").x` -> member "x". */
function requiredModule(rawNode: Node): { module: string; member: string | null } | null {
  const node = unwrap(rawNode);
  const call = node.type === "MemberExpression" ? node.object : node;
  if (
    call.type !== "CallExpression" || call.callee.type !== "Identifier" || call.callee.name !== "require" ||
    call.arguments.length !== 1 || call.arguments[0]!.type !== "StringLiteral"
  ) {
    return null;
  }
  const member = node.type === "MemberExpression" ? keyName(node.property, node.computed) : null;
  if (node.type === "MemberExpression" && member === null) return null;
  return { module: call.arguments[0]!.value, member };
}

function importsFromRequire(
  target: Node,
  required: { module: string; member: string | null },
  atLine: number,
  into: ImportFacts[],
): void {
  if (target.type === "Identifier") {
    into.push({ local: target.name, module: required.module, imported: required.member, line: atLine });
  } else if (target.type === "ObjectPattern" && required.member === null) {
    for (const property of target.properties) {
      if (property.type !== "ObjectProperty") continue;
      const imported = keyName(property.key, property.computed);
      const local = property.value.type === "AssignmentPattern" ? property.value.left : property.value;
      if (imported !== null && local.type === "Identifier") {
        into.push({ local: local.name, module: required.module, imported, line: atLine });
      }
    }
  }
}

/** `module.exports`, `exports.limit`, `Searcher.DEFAULTS`: a member chain of plain names, else null. */
function memberPath(node: Node): string | null {
  if (node.type === "Identifier") return node.name;
  if (node.type !== "MemberExpression") return null;
  const object = memberPath(node.object);
  const key = keyName(node.property, node.computed);
  return object === null || key === null ? null : memberName(object, key);
}

/** Names a CommonJS file exports: `module.exports = { rank }`, `exports.rank = rank`, `module.exports.rank = rank`. */
function collectCommonJsExports(expression: Node, into: Set<string>): void {
  if (expression.type !== "AssignmentExpression") return;
  const target = memberPath(expression.left);
  if (target === null || !isCommonJsTarget(target)) return;
  const value = expression.right;
  if (target === "module.exports" && value.type === "ObjectExpression") {
    for (const property of value.properties) {
      if (property.type === "ObjectProperty" && property.value.type === "Identifier") into.add(property.value.name);
    }
  } else if (value.type === "Identifier") {
    into.add(value.name);
  }
}

/**
 * Functions a CommonJS file exports where it assigns them, by the key the eval looks them up by:
 * `exports.rank = (...) => ...` and `module.exports.rank = ...` -> `rank`; `module.exports = {
 * rank: (...) => ..., score(...) {...} }` -> `rank`, `score`; `module.exports = function rank(...)`
 * -> `rank` (the eval matches the exported function's own name), anonymous -> `default`.
 */
function commonJsFunctions(expression: Node): { name: string; node: FunctionNode; signatureStart: number }[] {
  if (expression.type !== "AssignmentExpression" || expression.operator !== "=") return [];
  const target = memberPath(expression.left);
  if (target === null || !isCommonJsTarget(target)) return [];
  const value = unwrap(expression.right);
  const start = expression.start ?? 0;
  if (target === "module.exports") {
    if (isFunction(value)) {
      const own = "id" in value && value.id && value.id.type === "Identifier" ? value.id.name : null;
      return [{ name: own ?? "default", node: value, signatureStart: start }];
    }
    if (value.type !== "ObjectExpression") return [];
    const found: { name: string; node: FunctionNode; signatureStart: number }[] = [];
    for (const property of value.properties) {
      if (property.type === "SpreadElement") continue;
      const key = keyName(property.key, property.computed);
      const node = property.type === "ObjectMethod" ? property : unwrap(property.value as Node);
      if (key !== null && isFunction(node)) found.push({ name: key, node, signatureStart: property.start ?? 0 });
    }
    return found;
  }
  const key = target.split(".").at(-1)!;
  const direct = target === `exports.${key}` || target === `module.exports.${key}`;
  return direct && /^[A-Za-z_$][\w$]*$/.test(key) && isFunction(value)
    ? [{ name: key, node: value, signatureStart: start }]
    : [];
}

function isCommonJsTarget(path: string): boolean {
  return path === "module.exports" || path.startsWith("module.exports.") || path.startsWith("exports.");
}

/**
 * Levers assigned at the top level: `module.exports = { threshold: 0.6 }` ->
 * `module.exports.threshold`, `exports.limit = 10`, and `Searcher.DEFAULTS = { ... }` for a class
 * of the file (scoped to it).
 */
function assignedLevers(expression: Node, classNames: Set<string>, context: Context): RawLever[] {
  if (expression.type !== "AssignmentExpression" || expression.operator !== "=") return [];
  const target = memberPath(expression.left);
  if (target === null) return [];
  const owner = target.split(/[.[]/)[0]!;
  const scope = isCommonJsTarget(target) ? "module" : classNames.has(owner) && target !== owner ? owner : null;
  if (scope === null) return [];
  return leversForValue(target, unwrap(expression.right), line(expression), context, scope);
}

// ---- the walk ----------------------------------------------------------------------------------

type Found = { column: number; lever: RawLever };

/**
 * One iterative walk: scopes of every function, the call graph, thresholds in comparisons, and
 * the defaults of top-level functions and methods (parameters, destructuring, `options.x ?? 0.6`).
 */
function walk(program: Node, topLevel: Set<string>, leverScopes: Map<Node, string>, context: Context) {
  const newScope = (name: string | null, owner: string | null, leverName: string | null): Scope => ({
    name,
    owner,
    returns: [],
    assigned: new Map(),
    declared: new Map(),
    yields: false,
    calls: new Set(),
    leverName,
    optionNames: new Set(),
  });
  const moduleScope = newScope(null, null, null);
  const scopes = new Map<Node, Scope>();
  const owners = new Map<string, Scope>();
  const comparisons: Found[] = [];
  const defaults: Found[] = [];
  const stack: { node: Node; scope: Scope; qualifier: string; nameHint: string | null; key: string }[] = [
    { node: program, scope: moduleScope, qualifier: "", nameHint: null, key: "" },
  ];
  while (stack.length > 0) {
    const { node, scope, qualifier, nameHint, key } = stack.pop()!;
    let childScope = scope;
    let childQualifier = qualifier;
    if (isFunction(node)) {
      const own = "id" in node && node.id && node.id.type === "Identifier" ? node.id.name : null;
      const memberKey = "key" in node && node.key
        ? keyName(node.key as Node, Boolean((node as { computed?: boolean }).computed))
        : null;
      const ownName = own ?? memberKey ?? nameHint;
      const leverName = leverScopes.get(node) ?? null;
      // A callback (`docs.map((doc) => ...)`) reports as the function it sits in.
      const name = leverName ?? (ownName ? qualifier + ownName : (scope.name ?? "<anonymous>"));
      childScope = newScope(name, scope.owner ?? name, leverName);
      scopes.set(node, childScope);
      if (scope === moduleScope) owners.set(name, childScope);
      childQualifier = `${name}.`;
      if (node.type === "ArrowFunctionExpression" && node.body.type !== "BlockStatement") {
        childScope.returns.push(node.body);
      }
      if (leverName !== null) {
        for (const param of node.params) {
          const levers = parameterLevers(param, leverName, childScope.optionNames, context);
          defaults.push(...levers.map((lever) => ({ column: param.loc?.start.column ?? 0, lever })));
        }
      }
    } else if (node.type === "ClassDeclaration" || node.type === "ClassExpression") {
      childQualifier = qualifier + (node.id?.name ?? nameHint ?? "<class>") + ".";
    } else if (
      node.type === "Identifier" && topLevel.has(node.name) && !["property", "key", "id", "label"].includes(key)
    ) {
      (owners.get(scope.owner ?? "") ?? moduleScope).calls.add(node.name);
    } else if (scope !== moduleScope) {
      visitInFunction(node, scope, context, comparisons, defaults);
    }
    for (const [childKey, value] of Object.entries(node)) {
      if (SKIPPED_KEYS.has(childKey) || value === null || typeof value !== "object") continue;
      const hint = childKey === "init" || childKey === "value" || childKey === "right" ? hintFor(node) : null;
      for (const child of Array.isArray(value) ? value : [value]) {
        if (child && typeof child.type === "string") {
          stack.push({ node: child, scope: childScope, qualifier: childQualifier, nameHint: hint, key: childKey });
        }
      }
    }
  }
  const inOrder = (found: Found[]) =>
    found.sort((a, b) => a.lever.line - b.lever.line || a.column - b.column).map((entry) => entry.lever);
  return { scopes, owners, comparisons: inOrder(comparisons), defaults: inOrder(defaults) };
}

/** What a node inside a function tells: returns, assignments, comparisons, and defaults of options. */
function visitInFunction(node: Node, scope: Scope, context: Context, comparisons: Found[], defaults: Found[]): void {
  const column = node.loc?.start.column ?? 0;
  if (node.type === "ReturnStatement" && node.argument) scope.returns.push(node.argument);
  else if (node.type === "YieldExpression") scope.yields = true;
  else if (node.type === "VariableDeclarator" && node.id.type === "Identifier" && node.init) {
    rememberAssignment(scope, node.id.name, node.init);
    const annotation = node.id.typeAnnotation;
    if (annotation && annotation.type === "TSTypeAnnotation") {
      scope.declared.set(node.id.name, text(annotation.typeAnnotation, context));
    }
  } else if (node.type === "VariableDeclarator" && node.id.type === "ObjectPattern" && scope.leverName !== null) {
    // const { threshold = 0.6 } = options;
    const levers = patternLevers(node.id, scope.leverName, scope.leverName, context);
    defaults.push(...levers.map((lever) => ({ column, lever })));
  } else if (node.type === "AssignmentExpression" && node.left.type === "Identifier") {
    rememberAssignment(scope, node.left.name, node.right);
  } else if (node.type === "BinaryExpression" && ORDERING.has(node.operator)) {
    const found = comparisonLever(node, scope.name!, context);
    if (found) comparisons.push(found);
  } else if (node.type === "LogicalExpression" && (node.operator === "??" || node.operator === "||")) {
    // this.limit = options.limit ?? 20
    const option = optionRead(node.left, scope);
    if (option !== null && scope.leverName !== null) {
      const name = memberName(scope.leverName, option);
      const levers = leversForValue(name, unwrap(node.right), line(node.right), context, scope.leverName);
      defaults.push(...levers.map((lever) => ({ column, lever })));
    }
  }
}

/** `options.limit` or `options?.limit` of a parameter of the function: the option's name, else null. */
function optionRead(node: Node, scope: Scope): string | null {
  if (node.type !== "MemberExpression" && node.type !== "OptionalMemberExpression") return null;
  if (node.object.type !== "Identifier" || !scope.optionNames.has(node.object.name)) return null;
  if (node.property.type === "NumericLiteral") return null; // `scores[0] ?? 0`: an item, not an option
  return keyName(node.property, node.computed);
}

/**
 * Levers in one parameter of `functionName`: `limit = 10` -> `search.limit`,
 * `{ threshold = 0.6 } = {}` -> `search.threshold`, `private readonly k = 10` -> `Searcher.constructor.k`.
 * Plain parameter names go to `optionNames`: their fields' fallbacks are defaults too.
 */
function parameterLevers(param: Node, functionName: string, optionNames: Set<string>, context: Context): RawLever[] {
  const target = param.type === "TSParameterProperty" ? param.parameter : param;
  if (target.type === "Identifier") {
    optionNames.add(target.name);
    return [];
  }
  if (target.type === "ObjectPattern") return patternLevers(target, functionName, functionName, context);
  if (target.type !== "AssignmentPattern") return [];
  const { left, right } = target;
  if (left.type === "Identifier") {
    optionNames.add(left.name);
    return leversForValue(memberName(functionName, left.name), unwrap(right), line(target), context, functionName);
  }
  if (left.type !== "ObjectPattern") return [];
  const levers = patternLevers(left, functionName, functionName, context);
  // function f({ threshold } = { threshold: 0.5 }): the default object holds the values
  const given = unwrap(right);
  if (given.type === "ObjectExpression") {
    for (const property of given.properties) {
      const key = property.type === "ObjectProperty" ? keyName(property.key, property.computed) : null;
      if (property.type !== "ObjectProperty" || key === null) continue;
      const name = memberName(functionName, key);
      levers.push(...leversForValue(name, unwrap(property.value as Node), line(property.key), context, functionName));
    }
  }
  return levers;
}

/** Defaults in a destructuring pattern, named by the keys a caller passes: `{ fuzzy: { distance = 100 } }`. */
function patternLevers(pattern: Node, prefix: string, scope: string, context: Context): RawLever[] {
  if (pattern.type !== "ObjectPattern") return [];
  const levers: RawLever[] = [];
  for (const property of pattern.properties) {
    if (property.type !== "ObjectProperty") continue;
    const key = keyName(property.key, property.computed);
    if (key === null) continue;
    const name = memberName(prefix, key);
    const value = property.value;
    if (value.type === "AssignmentPattern") {
      if (value.left.type === "ObjectPattern") levers.push(...patternLevers(value.left, name, scope, context));
      else levers.push(...leversForValue(name, unwrap(value.right), line(property), context, scope));
    } else if (value.type === "ObjectPattern") {
      levers.push(...patternLevers(value, name, scope, context));
    }
  }
  return levers;
}

/** The walk is not in source order; the last assignment in the text wins. */
function rememberAssignment(scope: Scope, name: string, value: Node): void {
  const previous = scope.assigned.get(name);
  if (!previous || (previous.start ?? 0) <= (value.start ?? 0)) scope.assigned.set(name, value);
}

/** The name a function expression gets from where it is assigned: `const rank = () => ...`. */
function hintFor(parent: Node): string | null {
  if (parent.type === "VariableDeclarator" && parent.id.type === "Identifier") return parent.id.name;
  if ((parent.type === "ObjectProperty" || parent.type === "ClassProperty") && !parent.computed) {
    return keyName(parent.key, false);
  }
  if (parent.type === "AssignmentExpression" && parent.left.type === "Identifier") return parent.left.name;
  return null;
}

function comparisonLever(
  node: Node & { type: "BinaryExpression" },
  functionName: string,
  context: Context,
): Found | null {
  for (const [literal, other] of [[node.right, node.left], [node.left, node.right]] as const) {
    const value = numberOf(literal as Node);
    if (value === null || numberOf(other as Node) !== null) continue;
    if (isBoundary(value)) return null;
    const comparison = `${text(node.left, context)} ${node.operator} ${text(node.right, context)}`;
    return {
      column: literal.loc?.start.column ?? 0,
      lever: {
        kind: "threshold",
        name: clip(text(other as Node, context), 40),
        line: line(literal),
        value: clip(text(literal, context)),
        numeric: value,
        detail: clip(`in ${functionName}(): ${comparison}`),
        scope: functionName,
      },
    };
  }
  return null;
}

// ---- values ------------------------------------------------------------------------------------

/**
 * Levers for `name = node` at `atLine`: none, one, or one per entry of an object. The rule for
 * objects (shared with Python's dicts): a flat table of numbers is one `weights` lever; any other
 * object is split per key, each entry classified by the same rule (`CONFIG.fuzzy.distance`).
 * Spread entries stay levers of the object they come from (recorded in `context.spreads`).
 */
function leversForValue(name: string, node: Node, atLine: number, context: Context, scope: string): RawLever[] {
  const endLine = node.loc?.end.line ?? atLine;
  const withEnd = (lever: RawLever): RawLever[] => [endLine > atLine ? { ...lever, endLine } : lever];
  if (node.type === "BooleanLiteral") {
    return withEnd({ kind: "flag", name, line: atLine, value: String(node.value), scope });
  }
  const numeric = numberOf(node);
  if (numeric !== null) {
    return withEnd({ kind: "number", name, line: atLine, value: clip(text(node, context)), numeric, scope });
  }
  const stringValue = stringOf(node, context);
  if (stringValue !== null) {
    if (isPrompt(name, stringValue)) return [promptLever(name, stringValue, atLine, endLine, scope)];
    return withEnd({ kind: "string", name, line: atLine, value: clip(text(node, context)), scope });
  }
  if (node.type === "ArrayExpression") {
    const lever = arrayLever(name, node, atLine, context, scope);
    return lever ? withEnd(lever) : [];
  }
  if (node.type !== "ObjectExpression") return [];
  const { entries, spreads, complete } = objectParts(node, context);
  for (const source of spreads) context.spreads.push({ source, into: name });
  if (entries.length === 0) return [];
  if (complete && entries.length >= MIN_TABLE_ENTRIES && entries.every(([, value]) => numberOf(value) !== null)) {
    const value = clip(`{${entries.map(([key, entry]) => `${key}: ${text(unwrap(entry), context)}`).join(", ")}}`);
    return withEnd({ kind: "weights", name, line: atLine, value, keys: entries.map(([key]) => key), scope });
  }
  return entries.flatMap(([key, value, keyNode]) =>
    leversForValue(memberName(name, key), unwrap(value), line(keyNode), context, scope)
  );
}

function arrayLever(
  name: string,
  node: Node & { type: "ArrayExpression" },
  atLine: number,
  context: Context,
  scope: string,
): RawLever | null {
  const items = node.elements;
  if (items.length === 0 || items.some((item) => !item || item.type === "SpreadElement")) return null;
  const literal = (item: Node) => numberOf(item) !== null || stringOf(item, context) !== null;
  if (!items.every((item) => literal(item as Node))) return null;
  const rendered = items.map((item) => text(item as Node, context));
  const detail = `${items.length} item${items.length === 1 ? "" : "s"}`;
  return { kind: "list", name, line: atLine, value: clip(`[${rendered.join(", ")}]`), detail, scope };
}

/** An object literal's fixed-key entries [key, value, key node], the spreads in it, and whether that is all. */
function objectParts(
  node: Node & { type: "ObjectExpression" },
  context: Context,
): { entries: [string, Node, Node][]; spreads: string[]; complete: boolean } {
  const entries: [string, Node, Node][] = [];
  const spreads: string[] = [];
  let complete = true;
  for (const property of node.properties) {
    const key = property.type === "ObjectProperty" ? keyName(property.key, property.computed) : null;
    if (property.type === "ObjectProperty" && key !== null) {
      entries.push([key, property.value as Node, property.key]);
      continue;
    }
    complete = false; // a spread, a method or a computed key: not a table of values
    if (property.type === "SpreadElement") {
      const source = memberPath(unwrap(property.argument));
      if (source !== null) spreads.push(source);
    }
  }
  return { entries, spreads, complete };
}

/** Levers of an object spread into another say where they go: `spread into Config`. */
function markSpreads(levers: RawLever[], spreads: Spread[]): void {
  for (const { source, into } of spreads) {
    for (const lever of levers) {
      const inside = lever.name === source || lever.name.startsWith(`${source}.`) ||
        lever.name.startsWith(`${source}[`);
      if (!inside || lever.name === into) continue;
      const note = `spread into ${into}`;
      lever.detail = lever.detail ? `${lever.detail}; ${note}` : note;
    }
  }
}

/** `CONFIG` + `topK` -> `CONFIG.topK`; `CONFIG` + `min-similarity` -> `CONFIG["min-similarity"]`. */
function memberName(prefix: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${prefix}.${key}` : `${prefix}["${key}"]`;
}

/** The value of a numeric literal or small constant expression (-0.5, 1 / 3, 2 ** 10), else null. */
function numberOf(rawNode: Node, depth = 0): number | null {
  const node = unwrap(rawNode);
  if (depth > 8) return null;
  if (node.type === "NumericLiteral") return node.value;
  if (node.type === "UnaryExpression" && (node.operator === "-" || node.operator === "+")) {
    const value = numberOf(node.argument, depth + 1);
    return value === null ? null : node.operator === "-" ? -value : value;
  }
  if (node.type === "BinaryExpression" && node.operator in ARITHMETIC && node.left.type !== "PrivateName") {
    const left = numberOf(node.left, depth + 1);
    const right = numberOf(node.right, depth + 1);
    if (left === null || right === null) return null;
    const value = ARITHMETIC[node.operator]!(left, right);
    return Number.isFinite(value) ? value : null;
  }
  return null;
}

/** The text of a string or template literal (placeholders kept as `${...}`), dedent`...`, "...".trim(). */
function stringOf(rawNode: Node, context: Context): string | null {
  const node = unwrap(rawNode);
  if (node.type === "StringLiteral") return node.value;
  if (node.type === "TemplateLiteral") {
    const placeholders = node.expressions.map((expression) => `\${${text(expression as Node, context)}}`);
    return node.quasis.map((quasi, index) => (quasi.value.cooked ?? quasi.value.raw) + (placeholders[index] ?? ""))
      .join("");
  }
  if (node.type === "TaggedTemplateExpression") return stringOf(node.quasi, context);
  if (node.type === "BinaryExpression" && node.operator === "+" && node.left.type !== "PrivateName") {
    const left = stringOf(node.left, context);
    const right = stringOf(node.right, context);
    return left !== null && right !== null ? left + right : null;
  }
  if (node.type === "CallExpression") {
    const callee = node.callee;
    if (callee.type === "Identifier" && STRING_WRAPPERS.has(callee.name) && node.arguments[0]) {
      return stringOf(node.arguments[0] as Node, context);
    }
    if (callee.type === "MemberExpression" && STRING_WRAPPERS.has(keyName(callee.property, callee.computed) ?? "")) {
      return stringOf(callee.object, context);
    }
  }
  return null;
}

/** Look through `as const`, `satisfies T`, `x!`, `(x)` and `Object.freeze(x)`. */
function unwrap(node: Node): Node {
  let current = node;
  for (;;) {
    if (WRAPPER_TYPES.has(current.type)) {
      current = (current as Node & { expression: Node }).expression;
    } else if (current.type === "CallExpression" && current.arguments.length === 1 && isObjectFreeze(current.callee)) {
      current = current.arguments[0] as Node;
    } else {
      return current;
    }
  }
}

function isObjectFreeze(callee: Node): boolean {
  if (callee.type !== "MemberExpression" || callee.object.type !== "Identifier") return false;
  return callee.object.name === "Object" && keyName(callee.property, callee.computed) === "freeze";
}

// ---- functions ---------------------------------------------------------------------------------

/**
 * The shape a TS return type promises: `Promise<string[]>` is a ranked list, `number[]` scores,
 * `"a" | "b"` a label, `Record<...>`, `{ ... }` or an object type of the file (`objectTypes`) an object.
 * A union has a shape only when every member (`undefined`, `null` and `void` aside) has the same
 * one: `number | number[]` could be either, so it is unknown.
 */
export function shapeOfTypeText(typeText: string, objectTypes: ReadonlySet<string> = new Set()): ReturnsShape {
  const members = splitTopLevel(typeText.replace(/\s+/g, " ").trim(), "|")
    .filter((member) => !/^(?:undefined|null|void)$/.test(member));
  if (members.length === 0) return "unknown";
  if (members.length > 1) {
    const shapes = new Set(members.map((member) => shapeOfTypeText(member, objectTypes)));
    return shapes.size === 1 ? [...shapes][0]! : "unknown";
  }
  const type = members[0]!.replace(/^\((.*)\)$/, "$1").trim();
  const awaited = type.match(/^(?:Promise|PromiseLike)<(.*)>$/);
  if (awaited) return shapeOfTypeText(awaited[1]!, objectTypes);
  if (type !== members[0]) return shapeOfTypeText(type, objectTypes);
  if (
    /^(?:readonly )?(?:number|bigint)\[\]$/.test(type) || /^(?:Readonly)?Array<\s*number\s*>$/.test(type) ||
    SCORE_ARRAYS.has(type)
  ) {
    return "scores";
  }
  if (
    /\[\]$/.test(type) ||
    /^(?:readonly\s+)?(?:Array|ReadonlyArray|Iterable|IterableIterator|(?:Async)?Generator|AsyncIterable)</.test(type)
  ) {
    return "ranked_list";
  }
  if (/^(?:string|boolean|true|false)$/.test(type) || /^(?:"[^"]*"|'[^']*')$/.test(type)) return "label";
  if (/^(?:number|bigint)$/.test(type)) return "number";
  const named = type.replace(/^(?:Readonly|Partial|Required)<(.*)>$/, "$1").replace(/<.*>$/, "");
  if (/^Record</.test(type) || /^\{.*\}$/.test(type) || objectTypes.has(named)) return "object";
  return "unknown";
}

/** What shapes need beyond a function's own scope: the file's object types, and callbacks' scopes. */
type ShapeEnv = { context: Context; scopes: Map<Node, Scope> };

function shapeOfReturns(scope: Scope, env: ShapeEnv, depth = 0): ReturnsShape {
  const counts = new Map<ReturnsShape, number>();
  for (const value of scope.returns) {
    const shape = shapeOfExpression(value, scope, env, depth);
    if (shape !== "unknown") counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  let best: ReturnsShape = scope.yields ? "ranked_list" : "unknown";
  let bestCount = 0;
  for (const [shape, count] of counts) {
    if (count > bestCount) [best, bestCount] = [shape, count];
  }
  return best;
}

function shapeOfExpression(
  rawNode: Node | null | undefined,
  scope: Scope,
  env: ShapeEnv,
  depth: number,
): ReturnsShape {
  if (!rawNode || depth > 4) return "unknown";
  const { context } = env;
  const node = rawNode.type === "AwaitExpression" ? rawNode.argument : rawNode;
  if (node.type === "TSAsExpression" || node.type === "TSSatisfiesExpression") {
    const declared = shapeOfTypeText(text(node.typeAnnotation, context), context.objectTypes);
    return declared !== "unknown" ? declared : shapeOfExpression(node.expression, scope, env, depth + 1);
  }
  switch (node.type) {
    case "ArrayExpression":
      return "ranked_list";
    case "ObjectExpression":
      return "object";
    case "StringLiteral":
    case "TemplateLiteral":
    case "BooleanLiteral":
      return "label";
    case "NumericLiteral":
      return "number";
    case "UnaryExpression":
      return node.operator === "!" ? "label" : node.operator === "-" || node.operator === "+" ? "number" : "unknown";
    case "ConditionalExpression": {
      const shape = shapeOfExpression(node.consequent, scope, env, depth + 1);
      return shape !== "unknown" ? shape : shapeOfExpression(node.alternate, scope, env, depth + 1);
    }
    case "Identifier": {
      const declared = shapeOfTypeText(scope.declared.get(node.name) ?? "", context.objectTypes);
      if (declared !== "unknown") return declared;
      return shapeOfExpression(scope.assigned.get(node.name), scope, env, depth + 1);
    }
    case "MemberExpression":
      return keyName(node.property, node.computed) === "length" ? "number" : "unknown";
    case "BinaryExpression": {
      if (/^(?:[<>]=?|[!=]==?|in|instanceof)$/.test(node.operator)) return "label";
      if (node.operator !== "+") return "number";
      const sides = [node.left as Node, node.right].map((side) => shapeOfExpression(side, scope, env, depth + 1));
      return sides.includes("label") ? "label" : sides.includes("number") ? "number" : "unknown";
    }
    case "NewExpression":
      return node.callee.type === "Identifier" && SCORE_ARRAYS.has(node.callee.name) ? "scores" : "unknown";
    case "CallExpression": {
      const callee = node.callee;
      const method = callee.type === "Identifier"
        ? callee.name
        : callee.type === "MemberExpression"
        ? keyName(callee.property, callee.computed)
        : null;
      if (method === null) return "unknown";
      if (method === "map" && mapsToNumbers(node.arguments[0] as Node | undefined, env, depth)) return "scores";
      if (LIST_METHODS.has(method)) return "ranked_list";
      if (LABEL_METHODS.has(method)) return "label";
      if (NUMBER_METHODS.has(method)) return "number";
      return "unknown";
    }
    default:
      return "unknown";
  }
}

/** `.map((doc) => doc.score * 2)`: a callback whose every return is a number makes one score per item. */
function mapsToNumbers(callback: Node | undefined, env: ShapeEnv, depth: number): boolean {
  const scope = callback ? env.scopes.get(callback) : undefined;
  return scope !== undefined && scope.returns.length > 0 && shapeOfReturns(scope, env, depth + 1) === "number" &&
    scope.returns.every((value) => shapeOfExpression(value, scope, env, depth + 1) === "number");
}

/** Parameter names as an eval would pass them (a rest parameter keeps its `...`); TS's `this` is no parameter. */
function parametersOf(fn: FunctionNode, context: Context): string[] {
  return fn.params.filter((param) => !isThisParameter(param)).map((param) => parameterName(param, context));
}

/** Parameters a caller must pass: no default, not optional (`q?: string`), not a rest parameter. */
function requiredOf(fn: FunctionNode, context: Context): string[] {
  const required: string[] = [];
  for (const param of fn.params) {
    const target = param.type === "TSParameterProperty" ? param.parameter : param;
    if (isThisParameter(target) || target.type === "AssignmentPattern" || target.type === "RestElement") continue;
    if ("optional" in target && target.optional) continue;
    required.push(parameterName(target, context));
  }
  return required;
}

function isThisParameter(param: Node): boolean {
  return param.type === "Identifier" && param.name === "this";
}

/** A parameter's name as an eval would pass it; a rest parameter keeps its `...`. */
function parameterName(param: Node, context: Context): string {
  const target = param.type === "TSParameterProperty" ? param.parameter : param;
  if (target.type === "Identifier") return target.name;
  if (target.type === "AssignmentPattern") return parameterName(target.left, context);
  if (target.type === "RestElement") return `...${parameterName(target.argument, context)}`;
  const typeStart = "typeAnnotation" in target && target.typeAnnotation ? target.typeAnnotation.start : null;
  return context.source.slice(target.start ?? 0, typeStart ?? target.end ?? 0).trim();
}

/** Where the signature ends: the body's `{`, or an arrow function's `=>` (its body may start with `(`). */
function signatureEnd(fn: FunctionNode, context: Context): number {
  const bodyStart = fn.body.start ?? 0;
  if (fn.type !== "ArrowFunctionExpression") return bodyStart;
  const after = fn.returnType?.end ?? fn.params.at(-1)?.end ?? fn.start ?? 0;
  const arrow = context.source.indexOf("=>", after);
  return arrow !== -1 && arrow < bodyStart ? arrow : bodyStart;
}

/** `export async function rank(query: string, k = 10): Promise<string[]>` on one line, comments removed. */
function signatureOf(start: number, bodyStart: number, context: Context): string {
  let signature = "";
  let cursor = start;
  for (const comment of context.comments) {
    if ((comment.end ?? 0) <= start || (comment.start ?? 0) >= bodyStart) continue;
    signature += `${context.source.slice(cursor, comment.start ?? cursor)} `;
    cursor = comment.end ?? cursor;
  }
  signature += context.source.slice(cursor, bodyStart);
  return signature
    .replace(/\s+/g, " ")
    .replace(/\(\s+/g, "(")
    .replace(/,?\s+\)/g, ")")
    .replace(/\s*=>\s*$/, "")
    .trim();
}

// ---- small helpers -----------------------------------------------------------------------------

function keyName(key: Node, computed: boolean): string | null {
  if (key.type === "Identifier" && !computed) return key.name;
  if (key.type === "StringLiteral") return key.value;
  if (key.type === "NumericLiteral") return String(key.value);
  return null;
}

function text(node: Node, context: Context): string {
  return context.source.slice(node.start ?? 0, node.end ?? 0);
}

function line(node: Node): number {
  return node.loc?.start.line ?? 0;
}
