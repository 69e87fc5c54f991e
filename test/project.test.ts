// project.ts: which toolchain runs the constrained file and where the eval goes, from
// file-system facts alone (no repository needed).
import { describe, expect, test } from "bun:test";
import {
  describeProject,
  detectProject,
  nodeStripsTypes,
  type ProjectFacts,
  pythonImportFor,
  testFilesAmong,
  type TypescriptRunners,
} from "../scripts/lib/harness/project.ts";
import { planEvalLocation } from "../scripts/lib/harness/eval-script.ts";

function facts(file: string, files: Record<string, string>, options: Partial<ProjectFacts> = {}): ProjectFacts {
  return {
    file,
    exists: (path) => path in files,
    read: (path) => files[path] ?? null,
    currentRuntime: "bun",
    ...options,
  };
}

describe("detectProject", () => {
  const table: [string, string, Record<string, string>, string, string][] = [
    // description, file, files, expected kind, expected eval command
    ["plain Python", "ranker.py", {}, "python", "python3 autoresearch_eval.py"],
    ["Python with uv.lock", "src/ranker.py", { "uv.lock": "" }, "uv", "uv run autoresearch_eval.py"],
    [
      "Python with [tool.uv]",
      "ranker.py",
      { "pyproject.toml": "[tool.uv]\ndev = []\n" },
      "uv",
      "uv run autoresearch_eval.py",
    ],
    ["Python with poetry.lock", "ranker.py", { "poetry.lock": "" }, "poetry", "poetry run python autoresearch_eval.py"],
    ["Python with a .venv", "ranker.py", { ".venv/bin/python": "" }, "python", ".venv/bin/python autoresearch_eval.py"],
    [
      "Django",
      "search/ranking.py",
      { "manage.py": "", "search/apps.py": "" },
      "django",
      "python3 manage.py run_autoresearch_eval",
    ],
    [
      "Django in a subfolder with uv",
      "backend/search/ranking.py",
      { "backend/manage.py": "", "backend/search/models.py": "", "uv.lock": "" },
      "django",
      "cd backend && uv run manage.py run_autoresearch_eval",
    ],
    [
      "TypeScript with bun.lock",
      "src/rank.ts",
      { "bun.lock": "", "package.json": "{}" },
      "bun",
      "bun autoresearch_eval.ts",
    ],
    ["TypeScript with deno.json", "rank.ts", { "deno.json": "{}" }, "deno", "deno run -A autoresearch_eval.ts"],
    [
      "TypeScript with npm and tsx",
      "rank.ts",
      { "package-lock.json": "{}", "package.json": '{"devDependencies": {"tsx": "^4"}}' },
      "node",
      "npx tsx autoresearch_eval.ts",
    ],
    ["JavaScript with npm", "rank.js", { "package.json": "{}" }, "node", "node autoresearch_eval.mjs"],
    [
      "packageManager bun",
      "rank.ts",
      { "package.json": '{"packageManager": "bun@1.2.0"}' },
      "bun",
      "bun autoresearch_eval.ts",
    ],
    ["TypeScript without markers follows the running runtime", "rank.ts", {}, "bun", "bun autoresearch_eval.ts"],
    ["Ruby", "lib/score.rb", {}, "other", "bash autoresearch_eval.sh"],
  ];
  for (const [description, file, files, kind, command] of table) {
    test(`${description} -> ${kind}, eval: ${command}`, () => {
      const project = detectProject(facts(file, files));
      expect(project.kind).toBe(kind as never);
      expect(planEvalLocation(project, 1).command).toBe(command);
    });
  }

  test("a Django eval lives in the app's management/commands, round 2 with a suffix", () => {
    const project = detectProject(facts("search/ranking.py", { "manage.py": "", "search/apps.py": "" }));
    expect(project.django).toEqual({ manageDir: "", appDir: "search", module: "search.ranking" });
    const round2 = planEvalLocation(project, 2);
    expect(round2.path).toBe("search/management/commands/run_autoresearch_eval_2.py");
    expect(round2.command).toBe("python3 manage.py run_autoresearch_eval_2");
    expect(round2.supportFiles).toEqual(["search/management/__init__.py", "search/management/commands/__init__.py"]);
  });

  test("a Django app missing from INSTALLED_APPS is flagged", () => {
    const files = {
      "manage.py": 'os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site.settings")',
      "site/settings.py": 'INSTALLED_APPS = ["other"]',
      "search/apps.py": "",
    };
    expect(detectProject(facts("search/ranking.py", files)).notes[0]).toContain("INSTALLED_APPS");
  });

  test("paths are re-expressed from an experiment folder", () => {
    const project = detectProject(facts("src/ranker.py", {}, { experimentDir: "experiments/search" }));
    expect(project.pythonImport).toEqual({ path: "../../src", module: "ranker" });
    const shell = detectProject(facts("bin/run.sh", {}, { experimentDir: "exp" }));
    expect(shell.caseCommand).toBe("bash ../bin/run.sh");
  });

  test("describeProject names the language and toolchain", () => {
    expect(describeProject(detectProject(facts("a.rb", {})), "a.rb")).toBe(
      "rb file, no known toolchain; the eval runs it as a program",
    );
    expect(describeProject(detectProject(facts("a.py", { "uv.lock": "" })), "a.py")).toBe(
      "python, Python project managed by uv",
    );
  });
});

describe("TypeScript in a Node project without tsx runs where it can", () => {
  const nodeProject = { "package-lock.json": "{}", "package.json": "{}" };
  const runners = (nodeStripsTypes: boolean, others: TypescriptRunners["others"]) => () => ({
    nodeStripsTypes,
    nodeVersion: nodeStripsTypes ? "v22.12.0" : "v20.20.2",
    others,
  });
  const table: [string, Partial<ProjectFacts>, string, string | null][] = [
    // description, facts, expected eval command, a note that must be given (or none)
    [
      "Node 22.6+ strips types itself",
      { typescriptRunners: runners(true, []) },
      "node --experimental-strip-types autoresearch_eval.ts",
      null,
    ],
    [
      "Node 20 with Bun on PATH: Bun",
      { typescriptRunners: runners(false, [{ runtime: "bun", command: "bun" }]) },
      "bun autoresearch_eval.ts",
      "The eval runs under Bun, which is installed here (this project's Node v20.20.2 does not run TypeScript itself)",
    ],
    [
      "Node 20 under Deno with Bun and Deno on PATH: the runtime running init",
      {
        currentRuntime: "deno",
        typescriptRunners: runners(false, [{ runtime: "bun", command: "bun" }, { runtime: "deno", command: "deno" }]),
      },
      "deno run -A autoresearch_eval.ts",
      "The eval runs under Deno",
    ],
    [
      "Node 20 alone: tsx, which the user has to add",
      { currentRuntime: "node", typescriptRunners: runners(false, []) },
      "npx tsx autoresearch_eval.ts",
      "add tsx before baseline (npm install -D tsx)",
    ],
    ["nothing asked: Node, as the project says", {}, "node --experimental-strip-types autoresearch_eval.ts", null],
  ];
  for (const [description, options, command, note] of table) {
    test(`${description} -> ${command}`, () => {
      const project = detectProject(facts("src/rank.ts", nodeProject, options));
      expect(planEvalLocation(project, 1).command).toBe(command);
      if (note) expect(project.notes.join("\n")).toContain(note);
      else expect(project.notes).toEqual([]);
    });
  }
});

describe("nodeStripsTypes", () => {
  const table: [string | null, boolean][] = [
    ["v20.20.2", false],
    ["v22.5.1", false],
    ["v22.6.0", true],
    ["v23.0.0", true],
    ["v24.1.0", true],
    [null, false],
    ["not a version", false],
  ];
  for (const [version, strips] of table) {
    test(`${version} -> ${strips}`, () => expect(nodeStripsTypes(version)).toBe(strips));
  }
});

describe("testFilesAmong: the project's own tests, for the instructions' context", () => {
  const table: [string, boolean][] = [
    ["tests/test_ranker.py", true],
    ["test_ranker.py", true],
    ["pkg/ranker_test.py", true],
    ["src/search.test.ts", true],
    ["src/search.spec.mjs", true],
    ["tests/unit/search.ts", true],
    ["tests/fixtures/sample.py", false],
    ["test/fixtures/config.ts", false],
    ["src/__fixtures__/data.test.ts", false],
    ["tests/__snapshots__/search.test.ts.snap", false],
    ["tests/data/corpus.py", false],
    ["data/tests/test_loader.py", true],
    ["tests/conftest.py", false],
    ["src/ranker.py", false],
    ["README.md", false],
  ];
  for (const [path, listed] of table) {
    test(`${path} ${listed ? "is" : "is not"} listed`, () => {
      expect(testFilesAmong([path], "/repo", "/repo")).toEqual(listed ? [path] : []);
    });
  }
});

describe("pythonImportFor", () => {
  test("imports from above the outermost package", () => {
    const files = { "src/search/__init__.py": "", "src/search/core/__init__.py": "" };
    expect(pythonImportFor(facts("src/search/core/ranker.py", files))).toEqual({
      path: "src",
      module: "search.core.ranker",
    });
    expect(pythonImportFor(facts("tools/ranker.py", {}))).toEqual({ path: "tools", module: "ranker" });
    expect(pythonImportFor(facts("ranker.py", {}))).toEqual({ path: ".", module: "ranker" });
  });
});
