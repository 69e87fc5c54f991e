// Levers and functions of TypeScript/JavaScript source, read with @babel/parser in one parse and
// one walk. Also home of the naming rules that the regex heuristic in levers.ts shares (the
// Python extractor, levers_python.py, keeps a copy of them). It never evaluates the analysed
// code and does not choose the entry function: levers.ts does that for every language alike.
import { createRequire } from "node:module";
import type * as BabelParser from "@babel/parser";
import type { Comment, Node } from "@babel/types";
import type { ClassFacts, FunctionFacts, ImportFacts, RawLever, ReturnsShape } from "./lever.ts";

// @babel/parser (~19 ms to load) is loaded on the first TypeScript/JavaScript file: init and
// next-round on a Python file, and every step, never need it.
const requireModule = createRequire(import.meta.url);
let babelParser: typeof BabelParser | null = null;
function babel(): typeof BabelParser {
  babelParser ??= requireModule("@babel/parser") as typeof BabelParser;
  return babelParser;
}

// Never called. Deno's `require` finds an npm package without a node_modules folder (deno.json
// uses Deno's own cache) only when the package is in the module graph; this literal import puts
// it there. Bun and Node ignore it.
function babelModuleForDeno() {
  return import("@babel/parser");
}

// ---- rules shared with the heuristic (and mirrored in levers_python.py) ------------------------

const PROMPT_NAME = /prompt|template|instruction|system/i;
export const VALUE_WIDTH = 80; // characters in a rendered value
const PROMPT_PREVIEW = 60; // characters of a prompt shown before the ellipsis

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

/** A function being walked; `owner` is the top-level function or method it sits in (for the call graph). */
type Scope = {
  name: string | null;
  owner: string | null;
  returns: Node[];
  assigned: Map<string, Node>;
  yields: boolean;
  calls: Set<string>;
};
type Context = { source: string; comments: Comment[] };

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
  const context: Context = { source, comments: file.comments ?? [] };
  const program = file.program;
  const levers: RawLever[] = [];
  const described: { name: string; node: Node; signatureStart: number; exported: boolean; method: boolean }[] = [];
  let hasExports = false;
  const exportedNames = new Set<string>(); // `export { rank }`, `module.exports = { rank }`

  for (const statement of program.body) {
    const exported = statement.type === "ExportNamedDeclaration" || statement.type === "ExportDefaultDeclaration";
    if (exported) hasExports = true;
    if (statement.type === "ExportNamedDeclaration" && !statement.source) {
      for (const specifier of statement.specifiers) {
        if (specifier.type === "ExportSpecifier") exportedNames.add(specifier.local.name);
      }
    }
    const declaration = exported ? statement.declaration : statement;
    if (!declaration) continue;
    if (declaration.type === "Identifier") exportedNames.add(declaration.name); // export default rank
    if (declaration.type === "VariableDeclaration" && !declaration.declare) {
      for (const declarator of declaration.declarations) {
        if (declarator.id.type !== "Identifier" || !declarator.init) continue;
        const init = unwrap(declarator.init);
        if (FUNCTION_TYPES.has(init.type)) {
          described.push({
            name: declarator.id.name,
            node: init,
            signatureStart: statement.start ?? 0,
            exported,
            method: false,
          });
        } else {
          levers.push(...leversForValue(declarator.id.name, init, line(declarator), context, "module"));
        }
      }
    } else if (declaration.type === "FunctionDeclaration" && declaration.id) {
      described.push({
        name: declaration.id.name,
        node: declaration,
        signatureStart: statement.start ?? 0,
        exported,
        method: false,
      });
    } else if (declaration.type === "ClassDeclaration" && declaration.id && !declaration.declare) {
      const className = declaration.id.name;
      for (const member of declaration.body.body) {
        const memberName = member.type === "ClassProperty" || member.type === "ClassMethod"
          ? keyName(member.key, member.computed)
          : null;
        if (memberName === null) continue;
        if (member.type === "ClassProperty" && member.value) {
          levers.push(
            ...leversForValue(`${className}.${memberName}`, unwrap(member.value), line(member), context, className),
          );
        } else if (member.type === "ClassMethod" && member.kind === "method") {
          described.push({
            name: `${className}.${memberName}`,
            node: member,
            signatureStart: member.start ?? 0,
            exported,
            method: true,
          });
        }
      }
    } else if (declaration.type === "ExpressionStatement") {
      collectCommonJsExports(declaration.expression, exportedNames);
    }
  }
  if (exportedNames.size > 0) hasExports = true;

  const topLevel = new Set(described.filter((entry) => !entry.method).map((entry) => entry.name));
  const { scopes, owners, comparisons } = walk(program, topLevel, context);
  levers.push(...comparisons);
  levers.sort((a, b) => a.line - b.line); // stable: declarations keep their source order

  const functions = described.map(({ name, node, signatureStart, exported, method }): FunctionFacts => {
    const scope = scopes.get(node)!;
    const fn = node as Node & { params: Node[]; returnType?: Node | null; body: Node };
    const returnsNode = fn.returnType && "typeAnnotation" in fn.returnType
      ? (fn.returnType.typeAnnotation as Node)
      : null;
    const returns = returnsNode ? text(returnsNode, context) : undefined;
    const shape = shapeOfTypeText(returns ?? "");
    const simpleName = name.split(".").pop()!;
    return {
      name,
      line: line(node),
      signature: signatureOf(signatureStart, signatureEnd(fn, context), context),
      params: fn.params.map((param) => parameterName(param, context)),
      ...(returns === undefined ? {} : { returns }),
      returnsShape: shape !== "unknown" ? shape : shapeOfReturns(scope, context),
      calls: [...(owners.get(name) ?? scope).calls].filter((callee) => callee !== name).sort(),
      public: !simpleName.startsWith("_") && (!hasExports || exported || exportedNames.has(name)),
      method,
    };
  });
  return { ok: true, levers, functions, classes: [], imports: [] };
}

/** Names a CommonJS file exports: `module.exports = { rank }`, `exports.rank = rank`. */
function collectCommonJsExports(expression: Node, into: Set<string>): void {
  if (expression.type !== "AssignmentExpression" || expression.left.type !== "MemberExpression") return;
  const left = expression.left;
  const isModuleExports = left.object.type === "Identifier" && left.object.name === "module" &&
    keyName(left.property, left.computed) === "exports";
  const isExportsMember = left.object.type === "Identifier" && left.object.name === "exports";
  if (isModuleExports && expression.right.type === "ObjectExpression") {
    for (const property of expression.right.properties) {
      if (property.type === "ObjectProperty" && property.value.type === "Identifier") into.add(property.value.name);
    }
  } else if (isModuleExports && expression.right.type === "Identifier") {
    into.add(expression.right.name);
  } else if (isExportsMember && expression.right.type === "Identifier") {
    into.add(expression.right.name);
  }
}

/** One iterative walk: scopes of every function, the call graph, and thresholds in comparisons. */
function walk(program: Node, topLevel: Set<string>, context: Context) {
  const moduleScope: Scope = {
    name: null,
    owner: null,
    returns: [],
    assigned: new Map(),
    yields: false,
    calls: new Set(),
  };
  const scopes = new Map<Node, Scope>();
  const owners = new Map<string, Scope>();
  const comparisons: { column: number; lever: RawLever }[] = [];
  const stack: { node: Node; scope: Scope; qualifier: string; nameHint: string | null; key: string }[] = [
    { node: program, scope: moduleScope, qualifier: "", nameHint: null, key: "" },
  ];
  while (stack.length > 0) {
    const { node, scope, qualifier, nameHint, key } = stack.pop()!;
    let childScope = scope;
    let childQualifier = qualifier;
    if (FUNCTION_TYPES.has(node.type)) {
      const own = "id" in node && node.id && node.id.type === "Identifier" ? node.id.name : null;
      const memberKey = "key" in node && node.key
        ? keyName(node.key as Node, Boolean((node as { computed?: boolean }).computed))
        : null;
      const ownName = own ?? memberKey ?? nameHint;
      // A callback (`docs.map((doc) => ...)`) reports as the function it sits in.
      const name = ownName ? qualifier + ownName : (scope.name ?? "<anonymous>");
      childScope = {
        name,
        owner: scope.owner ?? name,
        returns: [],
        assigned: new Map(),
        yields: false,
        calls: new Set(),
      };
      scopes.set(node, childScope);
      if (scope === moduleScope) owners.set(name, childScope);
      childQualifier = `${name}.`;
      if (node.type === "ArrowFunctionExpression" && node.body.type !== "BlockStatement") {
        childScope.returns.push(node.body);
      }
    } else if (node.type === "ClassDeclaration" || node.type === "ClassExpression") {
      childQualifier = qualifier + (node.id?.name ?? nameHint ?? "<class>") + ".";
    } else if (
      node.type === "Identifier" && topLevel.has(node.name) && !["property", "key", "id", "label"].includes(key)
    ) {
      (owners.get(scope.owner ?? "") ?? moduleScope).calls.add(node.name);
    } else if (scope !== moduleScope) {
      if (node.type === "ReturnStatement" && node.argument) scope.returns.push(node.argument);
      else if (node.type === "YieldExpression") scope.yields = true;
      else if (node.type === "VariableDeclarator" && node.id.type === "Identifier" && node.init) {
        rememberAssignment(scope, node.id.name, node.init);
      } else if (node.type === "AssignmentExpression" && node.left.type === "Identifier") {
        rememberAssignment(scope, node.left.name, node.right);
      } else if (node.type === "BinaryExpression" && ORDERING.has(node.operator)) {
        const found = comparisonLever(node, scope.name!, context);
        if (found) comparisons.push(found);
      }
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
  comparisons.sort((a, b) => a.lever.line - b.lever.line || a.column - b.column);
  return { scopes, owners, comparisons: comparisons.map((found) => found.lever) };
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
): { column: number; lever: RawLever } | null {
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

/** Levers for `name = node` at `atLine`: none, one, or one per entry of a mixed config object. */
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
  const entries = objectEntries(node);
  if (!entries || entries.length === 0) return [];
  const leaves: [string, string][] = [];
  if (numericLeaves(entries, "", leaves, context, 0)) {
    const value = clip(`{${leaves.map(([key, leaf]) => `${key}: ${leaf}`).join(", ")}}`);
    return withEnd({ kind: "weights", name, line: atLine, value, keys: leaves.map(([key]) => key), scope });
  }
  return entries.flatMap(([key, value, keyNode]) => {
    const entryName = /^[A-Za-z_$][\w$]*$/.test(key) ? `${name}.${key}` : `${name}["${key}"]`;
    return leversForValue(entryName, unwrap(value), line(keyNode), context, scope);
  });
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
  let rendered: string[];
  if (items.every((item) => numberOf(item as Node) !== null)) {
    rendered = items.map((item) => text(item as Node, context));
  } else {
    const strings = items.map((item) => stringOf(item as Node, context));
    if (strings.some((item) => item === null)) return null;
    rendered = strings.map((item) => JSON.stringify(item));
  }
  const detail = `${items.length} item${items.length === 1 ? "" : "s"}`;
  return { kind: "list", name, line: atLine, value: clip(`[${rendered.join(", ")}]`), detail, scope };
}

/** [key, value, key node] of an object literal with fixed keys, else null. */
function objectEntries(node: Node): [string, Node, Node][] | null {
  if (node.type !== "ObjectExpression") return null;
  const entries: [string, Node, Node][] = [];
  for (const property of node.properties) {
    if (property.type !== "ObjectProperty") return null; // spreads and methods: not a table of values
    const key = keyName(property.key, property.computed);
    if (key === null) return null;
    entries.push([key, property.value as Node, property.key]);
  }
  return entries;
}

/** Flatten { title: 3, tags: { exact: 2 } } into [["title", "3"], ["tags.exact", "2"]]. */
function numericLeaves(
  entries: [string, Node, Node][],
  prefix: string,
  out: [string, string][],
  context: Context,
  depth: number,
): boolean {
  for (const [key, rawValue] of entries) {
    const value = unwrap(rawValue);
    const nested = depth < 3 ? objectEntries(value) : null;
    if (nested && nested.length > 0) {
      if (!numericLeaves(nested, `${prefix}${key}.`, out, context, depth + 1)) return false;
    } else if (numberOf(value) !== null) {
      out.push([prefix + key, text(value, context)]);
    } else {
      return false;
    }
  }
  return true;
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

/** The shape a TS return type promises: `Promise<string[]>` is a ranked list, `"a" | "b"` a label. */
export function shapeOfTypeText(typeText: string): ReturnsShape {
  let type = typeText.replace(/\s+/g, " ").trim();
  for (let round = 0; round < 3; round++) {
    type = type
      .replace(/^Promise<(.*)>$/, "$1")
      .replace(/\s*\|\s*(?:undefined|null)\b/g, "")
      .replace(/^(?:undefined|null)\s*\|\s*/, "")
      .trim();
  }
  if (
    /\[\]$/.test(type) ||
    /^(?:readonly\s+)?(?:Array|ReadonlyArray|Iterable|IterableIterator|(?:Async)?Generator|AsyncIterable)</.test(type)
  ) {
    return "ranked_list";
  }
  if (/^(?:string|boolean|true|false)$/.test(type) || /^(?:(?:"[^"]*"|'[^']*')\s*\|?\s*)+$/.test(type)) return "label";
  if (/^(?:number|bigint)$/.test(type)) return "number";
  return "unknown";
}

function shapeOfReturns(scope: Scope, context: Context): ReturnsShape {
  const counts = new Map<ReturnsShape, number>();
  for (const value of scope.returns) {
    const shape = shapeOfExpression(value, scope, context, 0);
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
  context: Context,
  depth: number,
): ReturnsShape {
  if (!rawNode || depth > 4) return "unknown";
  const node = rawNode.type === "AwaitExpression" ? rawNode.argument : rawNode;
  if (node.type === "TSAsExpression" || node.type === "TSSatisfiesExpression") {
    const declared = shapeOfTypeText(text(node.typeAnnotation, context));
    return declared !== "unknown" ? declared : shapeOfExpression(node.expression, scope, context, depth + 1);
  }
  switch (node.type) {
    case "ArrayExpression":
      return "ranked_list";
    case "StringLiteral":
    case "TemplateLiteral":
    case "BooleanLiteral":
      return "label";
    case "NumericLiteral":
      return "number";
    case "UnaryExpression":
      return node.operator === "!" ? "label" : node.operator === "-" || node.operator === "+" ? "number" : "unknown";
    case "ConditionalExpression": {
      const shape = shapeOfExpression(node.consequent, scope, context, depth + 1);
      return shape !== "unknown" ? shape : shapeOfExpression(node.alternate, scope, context, depth + 1);
    }
    case "Identifier":
      return shapeOfExpression(scope.assigned.get(node.name), scope, context, depth + 1);
    case "MemberExpression":
      return keyName(node.property, node.computed) === "length" ? "number" : "unknown";
    case "BinaryExpression": {
      if (/^(?:[<>]=?|[!=]==?|in|instanceof)$/.test(node.operator)) return "label";
      if (node.operator !== "+") return "number";
      const sides = [node.left as Node, node.right].map((side) => shapeOfExpression(side, scope, context, depth + 1));
      return sides.includes("label") ? "label" : sides.includes("number") ? "number" : "unknown";
    }
    case "CallExpression": {
      const callee = node.callee;
      const method = callee.type === "Identifier"
        ? callee.name
        : callee.type === "MemberExpression"
        ? keyName(callee.property, callee.computed)
        : null;
      if (method === null) return "unknown";
      if (LIST_METHODS.has(method)) return "ranked_list";
      if (LABEL_METHODS.has(method)) return "label";
      if (NUMBER_METHODS.has(method)) return "number";
      return "unknown";
    }
    default:
      return "unknown";
  }
}

/** Parameter names as an eval would pass them; a rest parameter keeps its `...`. */
function parameterName(param: Node, context: Context): string {
  const target = param.type === "TSParameterProperty" ? param.parameter : param;
  if (target.type === "Identifier") return target.name;
  if (target.type === "AssignmentPattern") return parameterName(target.left, context);
  if (target.type === "RestElement") return `...${parameterName(target.argument, context)}`;
  const typeStart = "typeAnnotation" in target && target.typeAnnotation ? target.typeAnnotation.start : null;
  return context.source.slice(target.start ?? 0, typeStart ?? target.end ?? 0).trim();
}

/** Where the signature ends: the body's `{`, or an arrow function's `=>` (its body may start with `(`). */
function signatureEnd(fn: Node & { params: Node[]; returnType?: Node | null; body: Node }, context: Context): number {
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
