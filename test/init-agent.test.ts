// init --agent end to end: a scripted agent (test/fixtures/agents/write-eval.ts) writes the eval
// and test data for a config file init cannot call into; init checks the eval, reports its score
// and sets up the experiment with it, and baseline measures it. An agent that writes a broken
// eval, none at all, fails or hangs gets one line and exit 1, and init writes nothing of its own.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, exists, journal, KIT_ROOT, makeRepo, read, runScript, sh, waitFor, writeFiles } from "./helpers.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import {
  type AgentBriefFacts,
  type AgentEvalResult,
  inspectionWithAgentEval,
  planAgentEvalTarget,
  renderAgentBrief,
} from "../scripts/lib/init/agent-eval.ts";
import { inspectInit } from "../scripts/lib/init/inspect.ts";
import type { InitOptions } from "../scripts/lib/init/plan.ts";

const SEARCH_PY = `"""Search help-centre articles; the weights live in search_config.json."""
import json, os

ARTICLES = {
    "reset-password": "reset your password account login sign expired",
    "billing": "invoice billing payment card address declined",
    "shipping": "shipping delivery parcel tracking late damaged",
    "refund": "refund return money back status",
}


def _config():
    if os.path.exists(os.path.join(os.path.dirname(os.path.abspath(__file__)), "search_config.py")):
        import search_config
        return {"title_weight": search_config.TITLE_WEIGHT, "body_weight": search_config.BODY_WEIGHT,
                "min_score": search_config.MIN_SCORE}
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "search_config.json")) as handle:
        return json.load(handle)


def rank(query):
    config = _config()
    words = query.lower().split()
    scored = []
    for name, text in ARTICLES.items():
        body = sum(word in text.split() for word in words)
        title = sum(word in name for word in words)
        score = config["body_weight"] * body + config["title_weight"] * title
        if score >= config["min_score"]:
            scored.append((score, name))
    return [name for score, name in sorted(scored, key=lambda pair: (-pair[0], pair[1]))]
`;

const CONFIG_JSON = `{"title_weight": 2.0, "body_weight": 1.0, "min_score": 1.5}\n`;
/** The same weights as a Python module of constants: levers, and nothing to call. */
const CONFIG_PY = `"""Ranking weights for search.py."""
TITLE_WEIGHT = 2.0
BODY_WEIGHT = 1.0
MIN_SCORE = 1.5
`;

const AGENT = join(KIT_ROOT, "test/fixtures/agents/write-eval.ts");
const agent = (mode: string) => `${BUN} ${AGENT} ${mode}`;

/** What init writes on success; none of it may exist after a failure. */
const INIT_ARTIFACTS = [
  "autoresearch.yaml",
  "instructions.md",
  "launch_prompt.md",
  "autoresearch.jsonl",
  "autoresearch_dashboard.md",
];

/** search.py reads its weights from search_config.json, or from search_config.py when that is there. */
function searchRepo(config: "json" | "py" = "json"): string {
  return makeRepo(
    config === "json"
      ? { "search.py": SEARCH_PY, "search_config.json": CONFIG_JSON }
      : { "search.py": SEARCH_PY, "search_config.py": CONFIG_PY },
  );
}

/** The untracked paths git sees, folders collapsed: what a failed init leaves for the person to inspect. */
function untracked(root: string): string[] {
  return sh(root, "git", ["status", "--porcelain", "--untracked-files=normal"]).split("\n").filter(Boolean).sort();
}

/** stderr's lines that start with the script's name: the error, without the progress notes before it. */
function errorLines(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.startsWith("init.ts: "));
}

describe("init --agent", () => {
  test("an agent's working eval is checked, scored and becomes the experiment's eval; baseline measures it", () => {
    const root = searchRepo("py");
    const excludeBefore = read(root, ".git/info/exclude");
    const result = runScript("init", ["search_config.py", "--agent", agent("works"), "--metric", "hit_rate@1"], {
      cwd: root,
    });
    expect(result.code).toBe(0);
    const scoreLine =
      /The agent's eval works: SCORE ([\d.]+) from `python3 autoresearch_eval.py`, 16 CASE lines, [\d.]+ s; test data autoresearch_test_data.json has 16 cases\./
        .exec(result.stderr);
    expect(scoreLine).not.toBeNull();
    const score = Number(scoreLine![1]);
    expect(score).toBeGreaterThan(0);
    expect(score).toBeLessThan(1);

    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.rounds[0].eval).toMatchObject({ command: "python3 autoresearch_eval.py", script: null });
    expect(experiment.test_data).toBe("autoresearch_test_data.json");
    expect(experiment.frozen).toEqual(["autoresearch_eval.py"]);
    expect(experiment.rounds[0].constrained_files).toEqual(["search_config.py"]);
    expect(read(root, ".git/info/exclude")).not.toBe(excludeBefore);

    // The brief the agent read: the contract, the command init runs, where to write, and who reads the config.
    const brief = read(root, ".autoresearch/prompts/init-eval.md");
    for (
      const part of [
        "python3 autoresearch_eval.py",
        "`autoresearch_eval.py`",
        "`autoresearch_test_data.json`, a JSON file with at least 15 cases",
        "SCORE: <number>",
        "CASE <id> <number>",
        "Exit non-zero when anything fails",
        "SCORE is **hit_rate@1** (higher is better)",
        "| `TITLE_WEIGHT` | weight | `2.0` | 2 |",
        "- `def rank(query)` in `search.py`",
        "The eval opens the test data at the path in the `AUTORESEARCH_TEST_DATA` environment variable when it is set",
      ]
    ) expect(brief).toContain(part);
    expect(read(root, ".autoresearch/logs/init-agent.log")).toContain("writing works");

    // The instructions describe the eval as it is: the owner's command, frozen; nothing about a generated one.
    const instructions = read(root, "instructions.md");
    expect(instructions).toContain("`python3 autoresearch_eval.py`");
    expect(instructions).toContain("`autoresearch_eval.py`: frozen by the experiment's owner");
    for (
      const wrong of ["called once per test case", "runs the file as a program", "## Caching", "equals the expected"]
    ) expect(instructions).not.toContain(wrong);

    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-qm", "harness written by the agent"]);
    const baseline = runScript("baseline", ["--json"], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(JSON.parse(baseline.stdout).score).toBe(score);
  });

  test("with a held-out set, an eval that reads AUTORESEARCH_TEST_DATA passes and baseline scores the held-out cases", () => {
    const root = searchRepo("py");
    const args = ["search_config.py", "--metric", "hit_rate@1", "--holdout-split", "0.35", "--holdout-seed", "3"];
    const result = runScript("init", [...args, "--agent", agent("works")], { cwd: root });
    expect(result.code).toBe(0);
    expect(read(root, ".autoresearch/logs/init-eval-missing-test-data.log")).toContain("absent-test-data.json");
    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-qm", "harness written by the agent"]);
    // 10 cases stay to tune on (6 held out): below baseline's 15, so --allow-few.
    expect(runScript("baseline", ["--allow-few"], { cwd: root }).code).toBe(0);
    expect(journal(root)[1].holdout_score).toEqual(expect.any(Number));
  });

  test("with a held-out set, an eval that ignores AUTORESEARCH_TEST_DATA fails the check in one line", () => {
    const root = searchRepo("py");
    const result = runScript("init", [
      "search_config.py",
      "--metric",
      "hit_rate@1",
      "--holdout-split",
      "0.25",
      "--agent",
      agent("hardcoded"),
    ], { cwd: root });
    expect(result.code).toBe(1);
    const errors = errorLines(result.stderr);
    expect(errors.length).toBe(1);
    expect(errors[0]).toMatch(
      /^init\.ts: The eval `python3 autoresearch_eval\.py` does not read its test data from AUTORESEARCH_TEST_DATA: with it naming a file that does not exist, it still scored [\d.]+, so the held-out set could never be scored; log: \.autoresearch\/logs\/init-eval-missing-test-data\.log\. Next: fix autoresearch_eval\.py, then run: /,
    );
    // The command to run by hand keeps the held-out set (and every other flag given).
    expect(errors[0]).toMatch(
      /init\.ts search_config\.py --metric hit_rate@1 --holdout-split 0\.25 --eval-cmd 'python3 autoresearch_eval\.py' --test-data autoresearch_test_data\.json --frozen autoresearch_eval\.py$/,
    );
    for (const artifact of INIT_ARTIFACTS) expect(exists(root, artifact)).toBe(false);
    expect(readdirSync(join(root, ".autoresearch")).filter((name) => name.startsWith("absent-"))).toEqual([]);
  });

  const failures: { mode: string; message: RegExp; next: RegExp }[] = [
    {
      mode: "exits-1",
      message:
        /^init\.ts: The eval `python3 autoresearch_eval\.py` failed its check: the eval exited with code 1 \("KeyError: 'title_weight' is not in the config"\); log: \.autoresearch\/logs\/init-eval\.log\. /,
      next:
        /Next: fix autoresearch_eval\.py, then run: .*init\.ts search_config\.json --eval-cmd 'python3 autoresearch_eval\.py' --test-data autoresearch_test_data\.json --frozen autoresearch_eval\.py$/,
    },
    {
      mode: "no-score",
      message:
        /^init\.ts: The eval `python3 autoresearch_eval\.py` failed its check: the eval printed no SCORE line \("evaluated 16 cases"\); log: \.autoresearch\/logs\/init-eval\.log\. /,
      next:
        /--eval-cmd 'python3 autoresearch_eval\.py' --test-data autoresearch_test_data\.json --frozen autoresearch_eval\.py$/,
    },
    {
      mode: "nothing",
      message:
        /^init\.ts: The agent wrote no eval at autoresearch_eval\.py; log: \.autoresearch\/logs\/init-agent\.log\. /,
      next: /Next: .*init\.ts search_config\.json --agent '.*write-eval\.ts nothing'$/,
    },
  ];
  for (const { mode, message, next } of failures) {
    test(`an agent whose eval fails (${mode}) gets one line and exit 1, and init writes nothing of its own`, () => {
      const root = searchRepo();
      const excludeBefore = read(root, ".git/info/exclude");
      const result = runScript("init", ["search_config.json", "--agent", agent(mode), "--yes"], { cwd: root });
      expect(result.code).toBe(1);
      const errors = errorLines(result.stderr);
      expect(errors.length).toBe(1);
      expect(errors[0]).toMatch(message);
      expect(errors[0]).toMatch(next);
      expect(result.stdout).toBe("");
      for (const artifact of INIT_ARTIFACTS) expect(exists(root, artifact)).toBe(false);
      expect(read(root, ".git/info/exclude")).toBe(excludeBefore);
      // The agent's files stay for the person to inspect; init's only leftovers are its brief and logs.
      const agentFiles = mode === "nothing" ? [] : ["?? autoresearch_eval.py", "?? autoresearch_test_data.json"];
      expect(untracked(root)).toEqual(["?? .autoresearch/", ...agentFiles]);
    });
  }

  test("the by-hand command after a failed check freezes the eval, as the success path does", () => {
    const root = searchRepo();
    const failed = runScript("init", ["search_config.json", "--agent", agent("exits-1"), "--yes"], { cwd: root });
    expect(failed.code).toBe(1);
    const byHand = /then run: .*?init\.ts (.*)$/.exec(errorLines(failed.stderr)[0]!);
    expect(byHand).not.toBeNull();
    writeFiles(root, { "autoresearch_eval.py": HIT_AT_1_EVAL });
    const fixed = runScript("init", [...shellWords(byHand![1]!), "--yes"], { cwd: root });
    expect(fixed.code).toBe(0);
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(experiment.frozen).toEqual(["autoresearch_eval.py"]);
    expect(experiment.rounds[0].eval.command).toBe("python3 autoresearch_eval.py");
  });

  test("an existing eval and test data are refused without --force, and backed up with it before the agent runs", () => {
    const root = searchRepo("py");
    const first = runScript("init", ["search_config.py", "--agent", agent("works"), "--yes"], { cwd: root });
    expect(first.code).toBe(0);
    // The owner corrects the test data and the eval by hand.
    const handFilled = read(root, "autoresearch_test_data.json").replace('"reset your password"', '"hand-checked"')
      .replace('"expected": "billing"', '"expected": "billing-hand-checked"');
    const handEval = `${read(root, "autoresearch_eval.py")}# reviewed by the owner\n`;
    writeFiles(root, { "autoresearch_test_data.json": handFilled, "autoresearch_eval.py": handEval });

    const refused = runScript("init", ["search_config.py", "--agent", agent("works"), "--yes", "--json"], {
      cwd: root,
    });
    expect(refused.code).toBe(2);
    const error = JSON.parse(refused.stdout).error;
    expect(error.code).toBe("E_EXISTS");
    for (const name of ['"autoresearch.yaml"', '"autoresearch_eval.py"', '"autoresearch_test_data.json"']) {
      expect(error.message).toContain(name);
    }
    expect(read(root, "autoresearch.yaml")).not.toBe("");
    expect(read(root, "autoresearch_test_data.json")).toBe(handFilled);
    expect(read(root, "autoresearch_eval.py")).toBe(handEval);

    const forced = runScript("init", ["search_config.py", "--agent", agent("works"), "--yes", "--force", "--json"], {
      cwd: root,
    });
    expect(forced.code).toBe(0);
    const result = JSON.parse(forced.stdout);
    expect(result.replaced).toEqual(expect.arrayContaining(["autoresearch_eval.py", "autoresearch_test_data.json"]));
    expect(forced.stderr).toMatch(
      /Backed up autoresearch_eval\.py, autoresearch_test_data\.json to \.autoresearch\/backups\/init-/,
    );
    // The agent rewrote both; the owner's versions are in a backup folder.
    expect(read(root, "autoresearch_test_data.json")).not.toBe(handFilled);
    const backups = readdirSync(join(root, ".autoresearch/backups")).map((folder) =>
      join(".autoresearch/backups", folder)
    );
    const saved = (name: string) =>
      backups.filter((folder) => exists(root, join(folder, name))).map((folder) => read(root, join(folder, name)));
    expect(saved("autoresearch_test_data.json")).toContain(handFilled);
    expect(saved("autoresearch_eval.py")).toContain(handEval);
  });

  test("an agent that wrote files and then failed: trying again names --force, which backs them up", () => {
    const root = searchRepo();
    const failing = `${agent("no-score")}; exit 7`;
    const failed = runScript("init", ["search_config.json", "--agent", failing, "--yes"], { cwd: root });
    expect(failed.code).toBe(1);
    expect(errorLines(failed.stderr)[0]).toMatch(/Next: .*init\.ts search_config\.json --force --agent '.*; exit 7'$/);
    const withoutForce = runScript("init", ["search_config.json", "--agent", agent("works"), "--yes"], { cwd: root });
    expect(withoutForce.code).toBe(2);
    expect(withoutForce.stderr).toContain('"autoresearch_eval.py", "autoresearch_test_data.json"');
    const nothing = runScript("init", ["search_config.json", "--agent", agent("nothing"), "--yes", "--force"], {
      cwd: root,
    });
    // The attempt's files are still there (the agent wrote nothing new), and a copy is in the backup.
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/Backed up autoresearch_eval\.py, autoresearch_test_data\.json to /);
  });

  test("--json carries the failure's code", () => {
    const root = searchRepo();
    const result = runScript("init", ["search_config.json", "--agent", agent("no-score"), "--json"], { cwd: root });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: "E_AGENT_EVAL", exit_code: 1 });
  });

  test("an agent command that fails or hangs is named with its exit code or the timeout", () => {
    const root = searchRepo();
    const failed = runScript("init", [
      "search_config.json",
      "--agent",
      "echo 'no credits left' >&2; exit 7",
      "--agent-timeout",
      "60",
    ], { cwd: root });
    expect(failed.code).toBe(1);
    expect(errorLines(failed.stderr)).toEqual([
      expect.stringMatching(
        /^init\.ts: The agent command exited with code 7 \("no credits left"\); log: \.autoresearch\/logs\/init-agent\.log\. Next: .*init\.ts search_config\.json --agent-timeout 60 --agent 'echo .*exit 7'$/,
      ),
    ]);
    const started = performance.now();
    const hung = runScript("init", ["search_config.json", "--agent", "sleep 30", "--agent-timeout", "1", "--json"], {
      cwd: root,
    });
    expect(hung.code).toBe(1);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(JSON.parse(hung.stdout).error).toMatchObject({ code: "E_AGENT_FAILED" });
    expect(hung.stderr).toContain("The agent command did not finish within 1 s");
    expect(hung.stderr).toContain("--agent-timeout 2");
    expect(hung.stderr).not.toContain("--agent-timeout 1 ");
    for (const artifact of INIT_ARTIFACTS) expect(exists(root, artifact)).toBe(false);
  });

  test("a refusal comes before the agent runs: existing artifacts, --eval-cmd, an empty --agent", () => {
    const root = makeRepo({ "search.py": SEARCH_PY, "search_config.json": CONFIG_JSON, "autoresearch.yaml": "x\n" });
    const existing = runScript("init", ["search_config.json", "--agent", agent("works")], { cwd: root });
    expect(existing.code).toBe(2);
    expect(existing.stderr).toContain("Not overwriting existing artifact");
    expect(exists(root, ".autoresearch")).toBe(false);
    expect(exists(root, "autoresearch_eval.py")).toBe(false);

    const both = runScript("init", ["search_config.json", "--agent", agent("works"), "--eval-cmd", "make eval"], {
      cwd: root,
    });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("cannot be combined with --eval-cmd");
    const empty = runScript("init", ["search_config.json", "--agent", " ", "--json"], { cwd: root });
    expect(empty.code).toBe(2);
    expect(JSON.parse(empty.stdout).error.code).toBe("E_EMPTY_OPTION");
    expect(exists(root, "autoresearch_eval.py")).toBe(false);
  });

  test("Ctrl-C while the agent works stops the agent's whole process group and writes no experiment", async () => {
    const root = searchRepo();
    const child = spawn(
      BUN,
      [join(KIT_ROOT, "scripts/init.ts"), "search_config.json", "--agent", "echo $$ > agent.pid; sleep 60 & wait"],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", CI: "true" } },
    );
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    await waitFor("the agent to start", () => existsSync(join(root, "agent.pid")) && read(root, "agent.pid") !== "");
    const agentPid = Number(readFileSync(join(root, "agent.pid"), "utf8").trim());
    child.kill("SIGINT");
    expect(await exited).toBe(130);
    await waitFor("the agent to stop", () => !processAlive(agentPid), 10_000);
    for (const artifact of INIT_ARTIFACTS) expect(exists(root, artifact)).toBe(false);
  });

  test("kill -9 of init leaves its agent recorded; the next init --agent stops it, and no experiment is half-written", async () => {
    const root = searchRepo();
    const child = spawn(
      BUN,
      [join(KIT_ROOT, "scripts/init.ts"), "search_config.json", "--agent", "echo $$ > agent.pid; sleep 60 & wait"],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", CI: "true" } },
    );
    const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
    await waitFor("the agent to start", () => existsSync(join(root, "agent.pid")) && read(root, "agent.pid") !== "");
    const agentPid = Number(readFileSync(join(root, "agent.pid"), "utf8").trim());
    // The record is written (durably) just after the spawn, so the agent can start first.
    await waitFor("the agent's record", () => exists(root, `.autoresearch/processes/${agentPid}.json`));
    child.kill("SIGKILL");
    await exited;
    expect(processAlive(agentPid)).toBe(true);
    expect(exists(root, `.autoresearch/processes/${agentPid}.json`)).toBe(true);
    for (const artifact of INIT_ARTIFACTS) expect(exists(root, artifact)).toBe(false);

    const again = runScript("init", ["search_config.json", "--agent", agent("nothing")], { cwd: root });
    expect(again.stderr).toContain(`Stopped an agent left running by a harness that died (pid ${agentPid}`);
    expect(again.code).toBe(1);
    await waitFor("the leftover agent to stop", () => !processAlive(agentPid), 10_000);
    for (const artifact of INIT_ARTIFACTS) expect(exists(root, artifact)).toBe(false);
  });
});

describe("what init --agent reads once", () => {
  test("the eval's language follows the tracked files inspectInit listed, without asking git again", async () => {
    const root = makeRepo({ "weights.yaml": "boost: 2\n", "a.py": "A = 1\n", "b.py": "B = 1\n" });
    const options: InitOptions = { cwd: root, file: "weights.yaml", agent: "cat", frozen: [] };
    const inspection = await inspectInit(options);
    expect(inspection.tracked).toEqual(["a.py", "b.py", "weights.yaml"]);
    expect(planAgentEvalTarget(inspection).evalFile).toBe("autoresearch_eval.py");
    const scriptProject = { ...inspection, tracked: ["weights.yaml", "a.ts", "b.ts", "c.ts"] };
    expect(planAgentEvalTarget(scriptProject).evalFile).toBe("autoresearch_eval.ts");
  });

  for (const given of [false, true]) {
    test(
      `the inspection after the agent equals a full re-inspection with the agent's eval (${
        given ? "owner's test data" : "agent's test data"
      })`,
      async () => {
        const root = searchRepo();
        if (given) writeFiles(root, { "data/cases.json": '{"cases": []}\n' });
        const options: InitOptions = {
          cwd: root,
          file: "search_config.json",
          agent: "cat",
          frozen: ["search.py"],
          ...(given ? { testData: "data/cases.json" } : {}),
        };
        const inspection = await inspectInit(options);
        const target = planAgentEvalTarget(inspection);
        writeFiles(root, { [target.evalFile]: "print('SCORE: 1')\n", [target.testData]: '{"cases": []}\n' });
        const written: AgentEvalResult = {
          check: { score: 1, caseLines: 0, seconds: 0.1, testCases: 0, warnings: [] },
          target,
          options: {
            evalCmd: target.evalCommand,
            testData: join(root, target.testData),
            frozen: [...options.frozen!, join(root, target.evalFile)],
            agent: undefined,
          },
          replaced: [],
          backupDir: null,
        };
        const derived = inspectionWithAgentEval(inspection, written);
        const full = await inspectInit({ ...inspection.options, ...written.options });
        expect(derived).toEqual(full);
      },
    );
  }
});

/** The facts of a brief for a file with nothing to call and no project around it; tests override what they vary. */
function briefFacts(overrides: Partial<AgentBriefFacts> = {}): AgentBriefFacts {
  return {
    name: "weights",
    constrained: "weights.yaml",
    folder: "/repo",
    projectDescription: "yaml file, no known toolchain",
    fileSummary: null,
    levers: [],
    entry: null,
    functions: [],
    classes: [],
    candidates: [],
    metric: { name: "accuracy", direction: "max" },
    guard: null,
    target: {
      evalFile: "autoresearch_eval.py",
      evalCommand: "python3 autoresearch_eval.py",
      testData: "autoresearch_test_data.json",
      testDataGiven: false,
    },
    existing: { evalFile: false, testData: false },
    evalTimeoutS: 900,
    ...overrides,
  };
}

describe("the brief", () => {
  test("a file with nothing to call: the agent is told to find how the project uses it", () => {
    const brief = renderAgentBrief(briefFacts());
    expect(brief).toContain("Init found nothing in `weights.yaml` for an eval to call");
    expect(brief).toContain("Init found nothing that calls into `weights.yaml`. Find how the project uses it");
    expect(brief).toContain("   python3 autoresearch_eval.py\n");
    expect(brief).toContain("init's check stops it after 900 s");
    expect(brief).toContain(
      "SCORE is **accuracy** (higher is better): accuracy: the share of cases whose output from the code under test equals the expected output.",
    );
    expect(brief).not.toContain("earlier attempt");
    expect(brief).not.toContain("GUARD: <value>");
  });

  test("a class: build the instance once from setup, call the method per case", () => {
    const brief = renderAgentBrief(briefFacts({
      constrained: "scoring/okapi.py",
      entry: {
        name: "BM25Okapi.get_scores",
        line: 30,
        signature: "def get_scores(self, query)",
        params: ["query"],
        returnsShape: "scores",
        owner: {
          className: "BM25Okapi",
          binding: "instance",
          constructorParams: ["corpus", "k1"],
          constructorRequired: ["corpus"],
          constructorSignature: "def __init__(self, corpus, k1=1.5)",
        },
      },
      classes: [{
        name: "BM25Okapi",
        line: 10,
        bases: ["BM25"],
        public: true,
        abstract: false,
        methods: [{ name: "get_scores", binding: "instance" }, { name: "_idf", binding: "instance" }],
        constructor: {
          signature: "def __init__(self, corpus, k1=1.5)",
          params: ["corpus", "k1"],
          required: ["corpus"],
        },
      }],
    }));
    expect(brief).toContain("The experiment's owner asked for an eval written by you");
    expect(brief).toContain("Init's choice of entry (line 30):\n\n```\ndef get_scores(self, query)\n```");
    expect(brief).toContain(
      "It is a method: build one `BM25Okapi` from the test data's `setup` object (`def __init__(self, corpus, k1=1.5)`), once, then call the method once per case.",
    );
    expect(brief).toContain(
      "- `BM25Okapi` (line 10), constructor `def __init__(self, corpus, k1=1.5)`; methods `get_scores`",
    );
    expect(brief).not.toContain("`_idf`");
  });

  test("a formula, a guard, the owner's test data and an earlier attempt's eval are all spelled out", () => {
    const brief = renderAgentBrief(briefFacts({
      metric: { name: "0.8*precision@10+0.2*mrr", direction: "max" },
      guard: { metric: "mrr", op: ">=", threshold: 0.5 },
      target: {
        evalFile: "autoresearch_eval.ts",
        evalCommand: "bun autoresearch_eval.ts",
        testData: "data/cases.json",
        testDataGiven: true,
      },
      existing: { evalFile: true, testData: true },
    }));
    expect(brief).toContain("SCORE is the formula `0.8*precision@10+0.2*mrr` (higher is better)");
    expect(brief).toContain("- precision@10: the share of the top 10 results");
    expect(brief).toContain("- mrr: mean reciprocal rank");
    expect(brief).toContain("Print it as `GUARD: <value>` and as `  mrr: <value>`");
    expect(brief).toContain("the owner gave `data/cases.json`. Read it and use it as it is; do not edit it.");
    expect(brief).toContain("The owner's test data is `data/cases.json` (frozen)");
    expect(brief).not.toContain("at least 15 cases (20-30 is better)");
    expect(brief).toContain(
      "`autoresearch_eval.ts` (a file is already there from an earlier attempt: fix it or replace it)",
    );
    const custom = renderAgentBrief(briefFacts({ metric: { name: "ndcg@5", direction: "max" } }));
    expect(custom).toContain("ndcg@5: not one of the kit's metrics; compute what the name says");
  });
});

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A working hit@1 eval of search.rank() over autoresearch_test_data.json, as a person would write it by hand. */
const HIT_AT_1_EVAL = `import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import search

cases = json.load(open("autoresearch_test_data.json"))["cases"]
hits = [1.0 if search.rank(case["input"]["query"])[:1] == [case["expected"]] else 0.0 for case in cases]
for case, hit in zip(cases, hits):
    print("CASE %s %s" % (case["id"], hit))
print("SCORE: %.4f" % (sum(hits) / len(hits)))
`;

/** The words of a printed command line: plain words and '…' quoted ones. */
function shellWords(line: string): string[] {
  return [...line.matchAll(/'([^']*)'|(\S+)/g)].map((match) => match[1] ?? match[2]!);
}
