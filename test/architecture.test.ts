// The house rules that a reviewer would otherwise have to remember, checked on the source: the
// library lives in capability folders, modules import each other without cycles (type imports
// included), entry scripts take typed option values without casts, the library never prints,
// only git/git.ts spawns git, every file opens with a header saying what it is for, and the
// README's file map names every module.
// It reads files only; what the code does is tested elsewhere.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { KIT_ROOT } from "./helpers.ts";

const SCRIPTS_DIR = join(KIT_ROOT, "scripts");
const LIB_DIR = join(SCRIPTS_DIR, "lib");

function typescriptFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return typescriptFiles(path);
    return name.endsWith(".ts") ? [path] : [];
  });
}

const SOURCES = typescriptFiles(SCRIPTS_DIR);
const TEXT = new Map(SOURCES.map((path) => [path, readFileSync(path, "utf8")]));
const shown = (path: string) => relative(KIT_ROOT, path);

/** Relative imports and re-exports of a module (`import type` included), as absolute paths. */
export function importsOf(path: string, text: string): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(/^\s*(?:import|export)\b[^;]*?\bfrom\s+"(\.{1,2}\/[^"]+)"/gm)) {
    found.push(resolve(dirname(path), match[1]));
  }
  for (const match of text.matchAll(/\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g)) {
    found.push(resolve(dirname(path), match[1]));
  }
  return found;
}

/** Every cycle in an import graph, each as the list of modules around it (first module repeated at the end). */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return cycles;
}

describe("the import graph", () => {
  test.each(
    [
      ["no edges", { a: [] }, 0],
      ["a chain", { a: ["b"], b: ["c"], c: [] }, 0],
      ["a diamond", { a: ["b", "c"], b: ["d"], c: ["d"], d: [] }, 0],
      ["a self import", { a: ["a"] }, 1],
      ["two modules that import each other", { a: ["b"], b: ["a"] }, 1],
      ["a three-module ring", { a: ["b"], b: ["c"], c: ["a"] }, 1],
    ] as const,
  )("finds cycles in %s", (_name, edges, expected) => {
    const graph = new Map(Object.entries(edges).map(([node, next]) => [node, [...next]]));
    expect(importCycles(graph)).toHaveLength(expected);
  });

  test("scripts/ has no import cycle, counting type-only imports", () => {
    const graph = new Map(SOURCES.map((path) => [path, importsOf(path, TEXT.get(path)!)]));
    const cycles = importCycles(graph).map((cycle) => cycle.map(shown).join(" -> "));
    expect(cycles).toEqual([]);
  });

  test("every import names a file that exists", () => {
    const missing = SOURCES.flatMap((path) =>
      importsOf(path, TEXT.get(path)!).filter((target) => !TEXT.has(target)).map((target) =>
        `${shown(path)} imports ${shown(target)}`
      )
    );
    expect(missing).toEqual([]);
  });
});

describe("the layout", () => {
  test("scripts/lib holds capability folders only, no loose modules", () => {
    const loose = readdirSync(LIB_DIR).filter((name) => !statSync(join(LIB_DIR, name)).isDirectory());
    expect(loose).toEqual([]);
  });

  test("the README's file map names every library module in its folder's row", () => {
    const readme = readFileSync(join(KIT_ROOT, "README.md"), "utf8");
    const fileMap = readme.slice(readme.indexOf("## File map"), readme.indexOf("## Dependencies"));
    const unnamed = readdirSync(LIB_DIR).flatMap((folder) => {
      const row = fileMap.split("\n").find((line) => line.startsWith(`| \`scripts/lib/${folder}/\` |`)) ?? "";
      return readdirSync(join(LIB_DIR, folder)).filter((name) => !row.includes(`\`${name}\``)).map((name) =>
        `${folder}/${name}`
      );
    });
    expect(unnamed).toEqual([]);
  });

  test("every module opens with a header of at least two comment lines", () => {
    const bare = SOURCES.filter((path) => {
      const lines = TEXT.get(path)!.replace(/^#!.*\n/, "").split("\n");
      return !(lines[0]?.startsWith("//") && lines[1]?.startsWith("//"));
    });
    expect(bare.map(shown)).toEqual([]);
  });

  test("entry scripts take option values as declared, with no casts", () => {
    const entries = SOURCES.filter((path) => dirname(path) === SCRIPTS_DIR);
    expect(entries.length).toBe(6);
    const casts = entries.flatMap((path) =>
      TEXT.get(path)!.split("\n").map((line, index) => ({ line, at: `${shown(path)}:${index + 1}` }))
        .filter(({ line }) => /\bvalues\.[\w$]+\s+as\s+/.test(line) || /\bas\s+(string|number|boolean)\b/.test(line))
        .map(({ at, line }) => `${at}: ${line.trim()}`)
    );
    expect(casts).toEqual([]);
  });

  test("the library never prints: only cli/command.ts writes to stdout or stderr", () => {
    const printing = SOURCES.filter((path) =>
      path.startsWith(LIB_DIR) && path !== join(LIB_DIR, "cli", "command.ts") &&
      /\b(process\.(stdout|stderr)\.write|console\.(log|error|warn|info))\s*\(/.test(TEXT.get(path)!)
    );
    expect(printing.map(shown)).toEqual([]);
  });

  test("only git/git.ts runs git", () => {
    const spawning = SOURCES.filter((path) =>
      path !== join(LIB_DIR, "git", "git.ts") &&
      /\b(spawn|spawnSync|execFile|execFileSync|exec|execSync)\(\s*["'`]git\b/.test(TEXT.get(path)!)
    );
    const runGitUsers = SOURCES.filter((path) =>
      path !== join(LIB_DIR, "git", "git.ts") && /\brunGit\(/.test(TEXT.get(path)!)
    );
    expect([...spawning, ...runGitUsers].map(shown)).toEqual([]);
  });
});
