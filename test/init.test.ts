// init.ts end to end: real temporary git repositories (Python, Django, TypeScript, shell),
// the generated evals run for real once test data is filled, and every bad input leaves the
// repository byte-identical with exit code 2.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import {
  BUN,
  exists,
  fileHashes,
  makeRepo,
  PATH_WITH_KIT_RUNTIMES,
  read,
  runScript,
  sh,
  sha256,
  temporaryFolder,
  writeFiles,
} from "./helpers.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import { parseJournal } from "../scripts/lib/experiment/journal.ts";
import { parseEvalOutput } from "../scripts/lib/process/eval-output.ts";
import { inspectTestDataFile } from "../scripts/lib/harness/test-data.ts";

const RANKER_PY = `"""Rank help-centre articles for a search query."""
TITLE_WEIGHT = 3.0
WEIGHTS = {"title": 2.0, "body": 1.0}
MIN_SCORE = 0.1
ARTICLES = {
    "reset-password": "reset your password account login",
    "billing": "invoice billing payment card",
    "shipping": "shipping delivery parcel tracking",
    "refund": "refund return money back payment",
}


def _score(text, query):
    words = query.lower().split()
    return sum(WEIGHTS["body"] for word in words if word in text)


def rank(query: str, limit: int = 3) -> list[str]:
    scored = [(name, _score(text, query) + TITLE_WEIGHT * (name in query)) for name, text in ARTICLES.items()]
    return [name for name, score in sorted(scored, key=lambda pair: -pair[1]) if score >= MIN_SCORE][:limit]
`;

const CLASSIFY_TS = `// Classify support tickets by keyword.
export const URGENT_WORDS = ["down", "outage", "broken"];
export const MIN_LENGTH = 3;

export function classify(text: string): string {
  if (text.length < MIN_LENGTH) return "other";
  return URGENT_WORDS.some((word) => text.includes(word)) ? "urgent" : "normal";
}
`;

const CLASSIFY_SH = `#!/usr/bin/env bash
# Label a ticket as urgent or normal.
MIN_LENGTH=2
if [[ \${#1} -lt $MIN_LENGTH ]]; then echo other; elif [[ "$1" == *down* ]]; then echo urgent; else echo normal; fi
`;

/** A minimal stand-in for Django: enough of execute_from_command_line and BaseCommand to run a command. */
const FAKE_DJANGO: Record<string, string> = {
  "django/__init__.py": "",
  "django/core/__init__.py": "",
  "django/core/management/__init__.py": `import importlib, os, sys
def execute_from_command_line(argv):
    settings = importlib.import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    for app in settings.INSTALLED_APPS:
        try:
            module = importlib.import_module("%s.management.commands.%s" % (app, argv[1]))
        except ModuleNotFoundError:
            continue
        module.Command().run_from_argv(argv)
        return
    sys.exit("Unknown command: %r" % argv[1])
`,
  "django/core/management/base.py": `import argparse, sys
class CommandError(Exception):
    pass
class BaseCommand:
    def add_arguments(self, parser):
        pass
    def run_from_argv(self, argv):
        self._called_from_command_line = True
        parser = argparse.ArgumentParser(prog=argv[1])
        self.add_arguments(parser)
        try:
            self.handle(**vars(parser.parse_args(argv[2:])))
        except CommandError as error:
            print("CommandError: %s" % error, file=sys.stderr)
            sys.exit(1)
`,
  "manage.py": `import os, sys
if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from django.core.management import execute_from_command_line
    execute_from_command_line(sys.argv)
`,
  "mysite/__init__.py": "",
  "mysite/settings.py": `INSTALLED_APPS = ["search"]\n`,
  "search/__init__.py": "",
  "search/apps.py": "",
};

/** Ten queries with their relevant article, repeated to the seed's minimum of 15+ cases. */
const QUERIES: [string, string][] = [
  ["reset password", "reset-password"],
  ["forgot login", "reset-password"],
  ["invoice copy", "billing"],
  ["card payment failed", "billing"],
  ["where is my parcel", "shipping"],
  ["tracking number", "shipping"],
  ["money back", "refund"],
  ["return an item", "refund"],
  ["delivery late", "shipping"],
  ["billing address", "billing"],
];

/** PATH without any folder holding a `bun` executable, so only the running runtime can run the eval. */
function pathWithoutBun(): string {
  return (process.env.PATH ?? "").split(":").filter((dir) => dir && !existsSync(join(dir, "bun"))).join(":");
}

function fillJsonCases(
  root: string,
  path: string,
  fill: (index: number) => { input: Record<string, unknown>; expected: unknown },
): void {
  const document = JSON.parse(read(root, path));
  document.cases = document.cases.map((item: Record<string, unknown>, index: number) => ({ ...item, ...fill(index) }));
  writeFileSync(join(root, path), JSON.stringify(document, null, 2));
}

function runEvalCommand(root: string, command: string): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync("bash", ["-c", command], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, PATH: PATH_WITH_KIT_RUNTIMES },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Every file's bytes (including .git/info/exclude) plus git's own view of the work tree. */
function snapshot(root: string): string {
  const hashes = Object.entries(fileHashes(root)).map(([path, hash]) => `${path} ${hash}`);
  const exclude = join(root, ".git/info/exclude");
  if (existsSync(exclude)) hashes.push(`exclude ${sha256(readFileSync(exclude))}`);
  const status = existsSync(join(root, ".git")) ? sh(root, "git", ["status", "--porcelain", "--ignored"]) : "";
  return `${hashes.join("\n")}\n--\n${status}`;
}

describe("init on a Python file", () => {
  test("writes the experiment, instructions with levers, eval, scaffold, launch prompt, journal header and exclude rules", () => {
    const root = makeRepo({ "search/ranker.py": RANKER_PY, ".gitignore": "node_modules/\n" });
    const result = runScript("init", [
      "search/ranker.py",
      "--metric",
      "precision@3",
      "--guard",
      "mrr>=0.5",
      "--iterations",
      "25",
    ], { cwd: root });
    expect(result.code).toBe(0);
    for (
      const path of [
        "autoresearch.yaml",
        "instructions.md",
        "launch_prompt.md",
        "autoresearch_eval.py",
        "autoresearch_test_data.json",
        "autoresearch.jsonl",
      ]
    ) {
      expect(result.stdout).toContain(path);
      expect(exists(root, path)).toBe(true);
    }
    expect(result.stderr).toContain("baseline.ts");
    expect(result.stderr).toContain("autoresearch_test_data.json");

    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.metric).toEqual({ name: "precision@3", direction: "max", formula: null });
    expect(experiment.guard).toEqual({ metric: "mrr", op: ">=", threshold: 0.5 });
    expect(experiment.branch).toBeNull();
    expect(experiment.budget.iterations).toBe(25);
    expect(experiment.entry?.name).toBe("rank");
    expect(experiment.rounds[0].eval).toEqual({
      command: "python3 autoresearch_eval.py",
      script: "autoresearch_eval.py",
      timeout_s: 900,
    });
    expect(experiment.rounds[0].constrained_files).toEqual(["search/ranker.py"]);

    const instructions = read(root, "instructions.md");
    expect(instructions).toContain("| `TITLE_WEIGHT` | weight | `3.0` | 2 |");
    expect(instructions).toContain("| `WEIGHTS` | weights | `{title: 2.0, body: 1.0}` | 3 |");
    expect(instructions).toContain("| `MIN_SCORE` | threshold | `0.1` | 4 |");
    expect(instructions).toContain("def rank(query: str, limit: int = 3) -> list[str]");
    expect(instructions).toMatch(/<!-- min-delta:start -->\n.+\n<!-- min-delta:end -->/);
    for (
      const heading of [
        "## Goal",
        "## System context",
        "### What you CAN modify",
        "### What you CANNOT modify",
        "## Guard metric",
        "## Commit discipline",
        "## Iteration budget",
        "## State tracking and resuming",
        "## The eval",
        "## Caching",
        "## The pipeline",
        "## Strategy",
        "### Do not",
        "## When you are done",
      ]
    ) {
      expect(instructions).toContain(heading);
    }
    expect(instructions).toContain("autoresearch_report.md");
    expect(read(root, "launch_prompt.md")).toContain("iterate.ts -m");

    const journal = parseJournal(read(root, "autoresearch.jsonl"));
    expect(journal.config).toMatchObject({
      constrained_file: "search/ranker.py",
      eval_command: "python3 autoresearch_eval.py",
      metric: "precision@3",
      guard_metric: "mrr",
      guard_threshold: 0.5,
      baseline: null,
      min_delta: null,
      direction: "max",
      round: 1,
      iterations: 25,
    });
    expect(journal.results).toEqual([]);

    const exclude = read(root, ".git/info/exclude");
    for (
      const pattern of [
        "autoresearch*.jsonl",
        "autoresearch_dashboard*.md",
        "autoresearch_progress*.svg",
        ".autoresearch/",
        ".autoresearch_cache/",
      ]
    ) expect(exclude).toContain(pattern);
    expect(read(root, ".gitignore")).toBe("node_modules/\n");
    expect(sh(root, "git", ["status", "--porcelain"])).not.toContain("autoresearch.jsonl");

    const scaffold = inspectTestDataFile(join(root, "autoresearch_test_data.json"));
    expect(scaffold.cases).toBeGreaterThanOrEqual(15);
    expect(scaffold.placeholders.length).toBeGreaterThan(0);
    expect(scaffold.placeholders[0]).toEqual({ caseId: "case-01", field: "input.query" });
  });

  test("the generated eval runs with python3 once the test data is filled, printing SCORE, metrics and cases", () => {
    const root = makeRepo({ "search/ranker.py": RANKER_PY });
    expect(
      runScript("init", ["search/ranker.py", "--metric", "precision@3", "--guard", "mrr>=0.5"], { cwd: root }).code,
    ).toBe(0);
    const refused = spawnSync("python3", ["autoresearch_eval.py"], { cwd: root, encoding: "utf8" });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("placeholders");
    fillJsonCases(
      root,
      "autoresearch_test_data.json",
      (index) => ({
        input: { query: QUERIES[index % QUERIES.length][0] },
        expected: [QUERIES[index % QUERIES.length][1]],
      }),
    );
    expect(inspectTestDataFile(join(root, "autoresearch_test_data.json")).placeholders).toEqual([]);
    const run = spawnSync("python3", ["autoresearch_eval.py"], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(0);
    const output = parseEvalOutput(run.stdout);
    expect(output.score).not.toBeNull();
    expect(output.score!).toBeGreaterThan(0);
    expect(output.metrics["mrr"]).toBeGreaterThan(0);
    expect(output.metrics["guard"]).toBe(output.metrics["mrr"]);
    expect(Object.keys(output.cases ?? {}).length).toBe(20);
    const verbose = spawnSync("python3", ["autoresearch_eval.py", "--verbose"], { cwd: root, encoding: "utf8" });
    expect(verbose.stderr).toContain("[case-01]");
    expect(parseEvalOutput(verbose.stdout).score).toBe(output.score);
  });

  test("--cases-from fills inputs and expected outputs from the current code for review", () => {
    const root = makeRepo({
      "search/ranker.py": RANKER_PY,
      "inputs.jsonl": QUERIES.map(([query], index) => JSON.stringify({ id: `q${index}`, query })).join("\n") + "\n",
    });
    const result = runScript("init", ["search/ranker.py", "--cases-from", "inputs.jsonl", "--metric", "mrr"], {
      cwd: root,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("Review the expected outputs");
    const document = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(document.cases).toHaveLength(10);
    expect(document.cases[0]).toMatchObject({
      id: "q0",
      input: { query: "reset password" },
      expected: ["reset-password", "billing", "shipping"].slice(0, document.cases[0].expected.length),
      source: "bootstrap",
    });
    const report = inspectTestDataFile(join(root, "autoresearch_test_data.json"));
    expect(report.placeholders).toEqual([]);
    expect(report.warnings[0]).toContain("bootstrap");
    const run = spawnSync("python3", ["autoresearch_eval.py"], { cwd: root, encoding: "utf8" });
    expect(parseEvalOutput(run.stdout).score).toBe(1);
  });

  test("a composite metric computes SCORE from the formula and prints each component", () => {
    const root = makeRepo({ "search/ranker.py": RANKER_PY });
    expect(runScript("init", ["search/ranker.py", "--metric", "0.8*precision@3+0.2*mrr"], { cwd: root }).code).toBe(0);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.metric.formula).toBe("0.8*precision@3+0.2*mrr");
    fillJsonCases(
      root,
      "autoresearch_test_data.json",
      (index) => ({
        input: { query: QUERIES[index % QUERIES.length][0] },
        expected: [QUERIES[index % QUERIES.length][1], "refund"],
      }),
    );
    const output = parseEvalOutput(
      spawnSync("python3", ["autoresearch_eval.py"], { cwd: root, encoding: "utf8" }).stdout,
    );
    expect(output.score!).toBeCloseTo(0.8 * output.metrics["precision@3"] + 0.2 * output.metrics["mrr"], 5);
  });

  test("--metric latency times the entry function and minimises", () => {
    const root = makeRepo({ "search/ranker.py": RANKER_PY });
    expect(runScript("init", ["search/ranker.py", "--metric", "latency_ms", "--yes"], { cwd: root }).code).toBe(0);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.metric.direction).toBe("min");
    const document = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(document.cases[0].expected).toBeNull();
    fillJsonCases(
      root,
      "autoresearch_test_data.json",
      (index) => ({ input: { query: QUERIES[index % QUERIES.length][0] }, expected: null }),
    );
    const output = parseEvalOutput(
      spawnSync("python3", ["autoresearch_eval.py"], { cwd: root, encoding: "utf8" }).stdout,
    );
    expect(output.score!).toBeGreaterThan(0);
    expect(output.metrics["latency_ms"]).toBe(output.score!);
  });

  test("a file with no levers still gets a harness, with a warning", () => {
    const root = makeRepo({ "tool.py": "def run(text):\n    return text.strip().lower()\n" });
    const result = runScript("init", ["tool.py"], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("No levers");
    expect(read(root, "instructions.md")).toContain("No obvious levers");
    expect(exists(root, "autoresearch_eval.py")).toBe(true);
  });
});

test("the data files init points to for the scaffold are data, not tool settings beside them", () => {
  const root = makeRepo({
    "ranker.py": RANKER_PY,
    "test/tsconfig.json": "{}\n",
    "test/package.json": "{}\n",
    "test/.eslintrc.json": "{}\n",
    "test/jest.config.json": "{}\n",
    "test/fixtures/books.json": "[]\n",
    "data/queries.csv": "query\n",
  });
  const result = runScript("init", ["ranker.py"], { cwd: root });
  expect(result.code).toBe(0);
  expect(result.stderr).toContain("data files that may help: data/queries.csv, test/fixtures/books.json");
});

describe("init on other project kinds", () => {
  test("a Django project gets a management command that runs through manage.py", () => {
    const root = makeRepo({ ...FAKE_DJANGO, "search/ranking.py": RANKER_PY });
    const result = runScript("init", ["search/ranking.py", "--metric", "mrr"], { cwd: root });
    expect(result.code).toBe(0);
    const command = "search/management/commands/run_autoresearch_eval.py";
    expect(exists(root, command)).toBe(true);
    expect(exists(root, "search/management/__init__.py")).toBe(true);
    expect(exists(root, "search/management/commands/__init__.py")).toBe(true);
    expect(exists(root, "autoresearch_eval.py")).toBe(false);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.project).toBe("django");
    expect(experiment.rounds[0].eval.command).toBe("python3 manage.py run_autoresearch_eval");
    expect(experiment.rounds[0].eval.script).toBe(command);
    expect(read(root, command)).toContain("class Command(BaseCommand)");
    fillJsonCases(
      root,
      "autoresearch_test_data.json",
      (index) => ({
        input: { query: QUERIES[index % QUERIES.length][0] },
        expected: [QUERIES[index % QUERIES.length][1]],
      }),
    );
    const run = runEvalCommand(root, experiment.rounds[0].eval.command);
    expect(run.stderr).toBe("");
    expect(parseEvalOutput(run.stdout).score!).toBeGreaterThan(0);
    // Run from manage.py the command leaves once its result is out: an atexit SCORE never follows it.
    writeFileSync(
      join(root, "search/ranking.py"),
      `${RANKER_PY}\nimport atexit\natexit.register(lambda: print("SCORE: 9.000000"))\n`,
    );
    const forged = runEvalCommand(root, experiment.rounds[0].eval.command);
    expect(parseEvalOutput(forged.stdout).score).toBe(parseEvalOutput(run.stdout).score);
  });

  test("a Django project managed by uv runs the command with uv run", () => {
    const root = makeRepo({ ...FAKE_DJANGO, "uv.lock": "", "search/ranking.py": RANKER_PY });
    expect(runScript("init", ["search/ranking.py"], { cwd: root }).code).toBe(0);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.rounds[0].eval.command).toBe("uv run manage.py run_autoresearch_eval");
  });

  test("a TypeScript file in a Bun project gets an eval that runs with Bun", () => {
    const root = makeRepo({ "src/classify.ts": CLASSIFY_TS, "package.json": "{}\n", "bun.lock": "" });
    const result = runScript("init", ["src/classify.ts"], { cwd: root });
    expect(result.code).toBe(0);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.rounds[0].eval.command).toBe("bun autoresearch_eval.ts");
    expect(experiment.metric.name).toBe("accuracy");
    expect(read(root, "instructions.md")).toContain("| `URGENT_WORDS` | list |");
    const labels = ["urgent", "normal", "other"];
    const texts = ["site is down", "hello there", "ok"];
    fillJsonCases(
      root,
      "autoresearch_test_data.json",
      (index) => ({ input: { text: texts[index % 3] }, expected: labels[index % 3] }),
    );
    const run = spawnSync(BUN, ["autoresearch_eval.ts"], { cwd: root, encoding: "utf8" });
    expect(run.status).toBe(0);
    const output = parseEvalOutput(run.stdout);
    expect(output.score).toBe(1);
    expect(Object.keys(output.cases ?? {})).toHaveLength(20);
  });

  test("a Node project asking for Node 22, on a machine with Node 20 and Bun, gets an eval command that runs", () => {
    const root = makeRepo({
      "src/classify.ts": CLASSIFY_TS,
      "package.json": JSON.stringify({ name: "tickets", engines: { node: ">=22" } }) + "\n",
      "package-lock.json": "{}\n",
      ".nvmrc": "22\n",
    });
    const nodeHere = spawnSync("node", ["--experimental-strip-types", "--version"], { encoding: "utf8" });
    const result = runScript("init", ["src/classify.ts", "--json"], {
      cwd: root,
      env: { PATH: PATH_WITH_KIT_RUNTIMES },
    });
    expect(result.code).toBe(0);
    const command = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml").rounds[0].eval.command;
    if (nodeHere.status === 0) {
      expect(command).toBe("node --experimental-strip-types autoresearch_eval.ts");
    } else {
      // Node here is older than 22.6: the eval runs under Bun, and init says why.
      expect(command).toBe("bun autoresearch_eval.ts");
      expect(result.stderr).toContain(
        "The eval runs under Bun, which is installed here",
      );
    }
    const labels = ["urgent", "normal", "other"];
    const texts = ["site is down", "hello there", "ok"];
    fillJsonCases(
      root,
      "autoresearch_test_data.json",
      (index) => ({ input: { text: texts[index % 3] }, expected: labels[index % 3] }),
    );
    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-qm", "harness"]);
    const baseline = runScript("baseline", ["--json"], { cwd: root, env: { PATH: PATH_WITH_KIT_RUNTIMES } });
    expect(baseline.code).toBe(0);
    expect(JSON.parse(baseline.stdout).score).toBe(1);
  });

  test("with an eval of the user's own, init says nothing about what would run a generated one", () => {
    const root = makeRepo({ "src/classify.ts": CLASSIFY_TS, "package.json": "{}\n", "package-lock.json": "{}\n" });
    const result = runScript("init", ["src/classify.ts", "--eval-cmd", "deno run -A eval.ts", "--metric", "accuracy"], {
      cwd: root,
      env: { PATH: PATH_WITH_KIT_RUNTIMES },
    });
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain("TypeScript");
    expect(parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml").rounds[0].eval.command).toBe(
      "deno run -A eval.ts",
    );
  });

  test("--cases-from on a TypeScript file fills expected outputs under the runtime running init", () => {
    const root = makeRepo({
      "src/classify.ts": CLASSIFY_TS,
      "bun.lock": "",
      "inputs.json": JSON.stringify(["site is down", "hello there", "ok"]),
    });
    const result = runScript("init", ["src/classify.ts", "--cases-from", "inputs.json", "--json"], {
      cwd: root,
      env: { PATH: pathWithoutBun() },
    });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).bootstrap.ok).toBe(true);
    const document = JSON.parse(read(root, "autoresearch_test_data.json"));
    expect(document.cases.map((item: { expected: string }) => item.expected)).toEqual(["urgent", "normal", "other"]);
  });

  test("a shell-evaluated file gets a bash eval, and --cases-from fills its expected column", () => {
    const root = makeRepo({
      "bin/classify.sh": CLASSIFY_SH,
      "inputs.json": JSON.stringify([
        "site down",
        "hello",
        "all down",
        "fine",
        "a",
        "b",
        "c",
        "d",
        "e",
        "f",
        "g",
        "h",
        "i",
        "down",
        "j",
      ]),
    });
    const result = runScript("init", ["bin/classify.sh", "--cases-from", "inputs.json"], { cwd: root });
    expect(result.code).toBe(0);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.rounds[0].eval.command).toBe("bash autoresearch_eval.sh");
    expect(experiment.test_data).toBe("autoresearch_test_data.tsv");
    expect(read(root, "autoresearch_test_data.tsv")).toContain("case-01\tsite down\turgent");
    expect(read(root, "instructions.md")).toContain("| `MIN_LENGTH` | threshold | `2` |");
    const run = runEvalCommand(root, experiment.rounds[0].eval.command);
    expect(run.code).toBe(0);
    expect(parseEvalOutput(run.stdout).score).toBe(1);
  });

  test("bring your own eval: no eval or scaffold is generated, and the user's files are frozen", () => {
    const root = makeRepo({
      "lib/score.rb": "BOOST = 2\n",
      "data/cases.csv": "query,expected\na,b\n",
      "lib/tokenizer.rb": "x = 1\n",
      "Makefile": "eval:\n\t@echo SCORE: 1\n",
    });
    const result = runScript("init", [
      "lib/score.rb",
      "--eval-cmd",
      "make eval",
      "--test-data",
      "data/cases.csv",
      "--frozen",
      "lib/tokenizer.rb",
      "--metric",
      "f1",
    ], { cwd: root });
    expect(result.code).toBe(0);
    expect(exists(root, "autoresearch_eval.sh")).toBe(false);
    expect(exists(root, "autoresearch_test_data.tsv")).toBe(false);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.rounds[0].eval).toEqual({ command: "make eval", script: null, timeout_s: 900 });
    expect(experiment.test_data).toBe("data/cases.csv");
    expect(experiment.frozen).toEqual(["lib/tokenizer.rb"]);
    const instructions = read(root, "instructions.md");
    expect(instructions).toContain("`make eval`");
    expect(instructions).toContain("`lib/tokenizer.rb`");
    expect(instructions).toContain("`data/cases.csv`");
  });

  test("init works under Deno and --json prints one parseable object", () => {
    const root = makeRepo({ "search/ranker.py": RANKER_PY });
    const result = runScript("init", ["search/ranker.py", "--json", "--metric", "mrr"], { cwd: root, runtime: "deno" });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.ok).toBe(true);
    expect(report.written).toContain("autoresearch.yaml");
    expect(report.entry.name).toBe("rank");
    expect(report.levers.map((lever: { name: string }) => lever.name)).toContain("TITLE_WEIGHT");
    expect(report.eval_command).toBe("python3 autoresearch_eval.py");
    expect(report.next).toContain("deno run -A");
    expect(read(root, "instructions.md")).toContain("deno run -A");
  });
});

describe("init refuses bad input and writes nothing", () => {
  const cases: {
    name: string;
    files?: Record<string, string | Buffer>;
    setup?: (root: string) => void;
    args: (root: string) => string[];
    message: RegExp;
    git?: boolean;
  }[] = [
    { name: "a missing file", args: () => ["search/nope.py"], message: /No such file ".*nope\.py"/ },
    { name: "a directory", args: () => ["search"], message: /"[^"]*search" is a directory/ },
    {
      name: "a binary file",
      files: { "blob.bin": Buffer.from([0x7f, 0x45, 0x00, 0x01, 0x00]) },
      args: () => ["blob.bin"],
      message: /looks like a binary file/,
    },
    { name: "a file outside the repository", args: () => [writeOutside()], message: /outside the git repository/ },
    {
      name: "a directory that is not a git repository",
      git: false,
      args: () => ["search/ranker.py"],
      message: /not inside a git repository/,
    },
    {
      name: "an unknown --direction",
      args: () => ["search/ranker.py", "--direction", "up"],
      message: /--direction must be one of max, min, not "up"/,
    },
    {
      name: "a malformed --guard",
      args: () => ["search/ranker.py", "--guard", "mrr=0.9"],
      message: /Cannot read --guard "mrr=0.9"/,
    },
    {
      name: "a malformed --metric formula",
      args: () => ["search/ranker.py", "--metric", "0.8*precision@3++mrr"],
      message: /Cannot read the metric formula/,
    },
    {
      name: "an unreadable --cases-from",
      args: () => ["search/ranker.py", "--cases-from", "missing.jsonl"],
      message: /Cannot read --cases-from ".*missing\.jsonl": it does not exist/,
    },
    {
      name: "a --cases-from that is not JSON",
      files: { "inputs.json": "query one\n" },
      args: () => ["search/ranker.py", "--cases-from", "inputs.json"],
      message: /Cannot use --cases-from: .*not valid JSON/,
    },
    {
      name: "an unknown --entry",
      args: () => ["search/ranker.py", "--entry", "nope"],
      message: /Cannot find function "nope".*rank/,
    },
    {
      name: "a missing --frozen file",
      args: () => ["search/ranker.py", "--frozen", "nope.txt"],
      message: /--frozen ".*nope\.txt" does not exist/,
    },
    {
      name: "existing artifacts without --force",
      setup: (root) => writeFiles(root, { "instructions.md": "mine\n", "autoresearch.yaml": "mine: true\n" }),
      args: () => ["search/ranker.py"],
      message: /Not overwriting existing artifacts "autoresearch\.yaml", "instructions\.md"\. Pass --force/,
    },
  ];

  for (const item of cases) {
    test(`init refuses ${item.name} with exit code 2`, () => {
      const files = { "search/ranker.py": RANKER_PY, ...(item.files ?? {}) };
      const root = item.git === false
        ? plainDirectory(files)
        : makeRepo(Object.fromEntries(Object.entries(files).map(([path, content]) => [path, content as string])));
      item.setup?.(root);
      const before = snapshot(root);
      const result = runScript("init", item.args(root), { cwd: root });
      expect(result.stderr).toMatch(item.message);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(snapshot(root)).toBe(before);
    });
  }

  test("re-running names the existing artifacts; --force replaces them with a backup, and exclude rules are not duplicated", () => {
    const root = makeRepo({ "search/ranker.py": RANKER_PY });
    expect(runScript("init", ["search/ranker.py"], { cwd: root }).code).toBe(0);
    writeFileSync(join(root, "autoresearch_test_data.json"), '{"cases": []}\n');
    const before = snapshot(root);
    const again = runScript("init", ["search/ranker.py", "--metric", "mrr"], { cwd: root });
    expect(again.code).toBe(2);
    for (
      const path of [
        "autoresearch.yaml",
        "autoresearch.jsonl",
        "instructions.md",
        "launch_prompt.md",
        "autoresearch_eval.py",
        "autoresearch_test_data.json",
      ]
    ) expect(again.stderr).toContain(`"${path}"`);
    expect(snapshot(root)).toBe(before);

    const forced = runScript("init", ["search/ranker.py", "--metric", "mrr", "--force"], { cwd: root });
    expect(forced.code).toBe(0);
    expect(parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml").metric.name).toBe("mrr");
    expect(read(root, "autoresearch_test_data.json")).toContain("TODO:");
    const backups = readdirSync(join(root, ".autoresearch/backups"));
    expect(backups).toHaveLength(1);
    expect(readFileSync(join(root, ".autoresearch/backups", backups[0], "autoresearch_test_data.json"), "utf8")).toBe(
      '{"cases": []}\n',
    );
    const exclude = read(root, ".git/info/exclude");
    expect(exclude.split("\n").filter((line) => line === "autoresearch*.jsonl")).toHaveLength(1);
  });

  test("--help shows an example and the exit codes", () => {
    const root = makeRepo({ "a.py": "X = 1\n" });
    const result = runScript("init", ["--help"], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Examples:");
    expect(result.stdout).toContain("Exit codes:");
    expect(result.stdout).toContain("--cases-from");
  });
});

function writeOutside(): string {
  const dir = temporaryFolder("ark-outside-");
  const path = join(dir, "elsewhere.py");
  writeFileSync(path, "X = 1\n");
  return path;
}

function plainDirectory(files: Record<string, string | Buffer>): string {
  const root = temporaryFolder("ark-nogit-");
  writeFiles(root, files);
  return root;
}
