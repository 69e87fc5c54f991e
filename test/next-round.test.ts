// next-round.ts end to end: real temporary git repositories with a real Python eval, rounds
// built by the real baseline and iterate scripts (step mode and the offline agent's loop),
// then next-round run as a subprocess under Bun and Deno. Also the journal-only path on a
// journal written by hand in the seed's format, and the pure helpers behind the summary.
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import YAML from "yaml";
import { renameEvalReferences } from "../scripts/lib/next-round/plan.ts";
import {
  coOptimizationWarning,
  leversNeverTouched,
  nextConstrainedFiles,
  roundEvidence,
} from "../scripts/lib/next-round/evidence.ts";
import { parseJournal } from "../scripts/lib/experiment/journal.ts";
import { changedLines, reportLessons, untouchedLevers } from "../scripts/lib/next-round/round-summary.ts";
import { pythonExperiment } from "./experiment-fixture.ts";
import {
  BUN,
  fileHashes,
  KIT_ROOT,
  makeRepo,
  read,
  removeFolder,
  runScript,
  type Runtime,
  setLever,
  sh,
  shareAcrossTests,
  temporaryFolder,
} from "./helpers.ts";

/** The fixture's ranker with a lever no iteration touches (a list the tuner never moves). */
const RANKER_WITH_STOP_WORDS = `# A toy scoring module: the constrained file.
WEIGHT = 1.0
BIAS = 0.0
STOP_WORDS = ["a", "the"]


def score(x):
    return WEIGHT * x + BIAS
`;
const FEATURES = `# Feature extraction the ranker could use.
SCALE = 3.0


def features(x):
    return [x * SCALE]
`;

function run(
  root: string,
  script: "baseline" | "iterate" | "next-round" | "dashboard",
  args: string[] = [],
  runtime: Runtime = "bun",
) {
  return runScript(script, args, { cwd: root, runtime });
}

function ok(result: ReturnType<typeof run>, label: string) {
  if (result.code !== 0) throw new Error(`${label} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result;
}

function experiment(root: string): any {
  return YAML.parse(read(root, "autoresearch.yaml"));
}

/** Round 1 of a real experiment: baseline, then a keep, two discards of one lever and a crash. */
function roundOne(runtime: Runtime = "bun"): string {
  const root = pythonExperiment({
    files: {
      "ranker.py": RANKER_WITH_STOP_WORDS,
      "features.py": FEATURES,
      "instructions.md": "# Round 1 instructions (hand-written)\n",
      "launch_prompt.md": "# Round 1 launch prompt (hand-written)\n",
    },
  });
  ok(run(root, "baseline", [], runtime), "baseline");
  setLever(root, "WEIGHT", "2.0");
  ok(run(root, "iterate", ["-m", "raise WEIGHT from 1 to 2"], runtime), "iterate keep");
  setLever(root, "BIAS", "-5.0");
  ok(run(root, "iterate", ["-m", "lower BIAS to -5"], runtime), "iterate discard");
  setLever(root, "BIAS", "-4.0");
  ok(run(root, "iterate", ["-m", "lower BIAS to -4"], runtime), "iterate discard");
  appendFileSync(join(root, "ranker.py"), "raise SystemExit('broken on purpose')\n");
  ok(run(root, "iterate", ["-m", "exit early for speed"], runtime), "iterate crash");
  return root;
}

/** A copy of a repository (git included), so one expensive round 1 serves several tests. */
function copyOf(root: string): string {
  const copy = temporaryFolder("ark-copy-");
  sh(root, "cp", ["-a", `${root}/.`, copy]);
  return copy;
}

/** sha256 of every file in the folder except git's, keyed by path: the "untouched byte for byte" check. */
function hashTree(root: string, keep: (path: string) => boolean): Record<string, string> {
  return fileHashes(root, { keep });
}

const ROUND_TWO_FILES = [
  "instructions_2.md",
  "launch_prompt_2.md",
  "eval_2.py",
  "autoresearch_2.jsonl",
  "autoresearch_dashboard_2.md",
  "autoresearch_progress_2.svg",
];

let sharedRoundOne: string | null = null;
function roundOneCopy(): string {
  sharedRoundOne ??= shareAcrossTests(roundOne());
  return copyOf(sharedRoundOne);
}

afterAll(() => {
  if (sharedRoundOne) removeFolder(sharedRoundOne);
});

describe("next-round on an experiment", () => {
  test("round 1 -> 2 -> 3: new artifacts beside the old, earlier rounds untouched, every script on the new round", () => {
    const root = roundOneCopy();
    const roundOneArtifacts = (path: string) =>
      !/_\d+\.|^\.autoresearch\/(lock|backups)/.test(path) && path !== "autoresearch.yaml";
    const before = hashTree(root, roundOneArtifacts);
    expect(Object.keys(before)).toEqual(
      expect.arrayContaining([
        "autoresearch.jsonl",
        "autoresearch_dashboard.md",
        "autoresearch_progress.svg",
        "instructions.md",
        "launch_prompt.md",
        "eval.py",
        "cases.json",
        ".autoresearch/patches/round1/iteration2.patch",
      ]),
    );

    const second = ok(run(root, "next-round", ["--focus", "try the stop words"]), "next-round 1 -> 2");
    for (const file of ROUND_TWO_FILES) {
      expect(existsSync(join(root, file))).toBe(true);
      expect(second.stdout).toContain(file);
    }
    expect(second.stdout).toContain("autoresearch.yaml");
    expect(hashTree(root, roundOneArtifacts)).toEqual(before);
    expect(second.stderr).toContain("baseline.ts");
    expect(second.stderr).toContain("instructions_2.md");

    const instructions = read(root, "instructions_2.md");
    expect(instructions).toStartWith("# Autoresearch: fixture — Round 2\n");
    expect(instructions).toContain("## Focus of this round\n\ntry the stop words");
    expect(instructions).toContain("### Round 1: `ranker.py`");
    expect(instructions).toContain("0.1563 → 0.2812 (+0.1249");
    const keepCommit = JSON.parse(read(root, "autoresearch.jsonl").split("\n")[2]).commit;
    expect(instructions).toContain(`  - #1 raise WEIGHT from 1 to 2: +0.1249, \`${keepCommit}\``);
    const roundOneLines = read(root, "autoresearch.jsonl").split("\n").filter(Boolean).map((line) => JSON.parse(line));
    if (roundOneLines.some((line) => line.attribution)) {
      // Each iteration's diff names the lever it moved: BIAS went down twice, discarded both times.
      expect(instructions).toMatch(
        /- \*\*Dead ends \(do not retry\):\*\*\n {2}- `BIAS` ↓, 2 lost, none kept: .*#2\);.*#3\)/,
      );
      expect(instructions).toContain("- **Kept directions:**\n  - `WEIGHT` ↑: ");
    } else {
      // No recorded diffs: the tries are shown, labelled unknown, and no dead end is named from the words.
      expect(instructions).toContain("- **Dead ends (do not retry):** none recorded.");
      expect(instructions).toContain(
        '  - unknown (no diff recorded): kept (+0.1249, #1) "raise WEIGHT from 1 to 2"; discarded (-0.2187, #2) "lower BIAS to -5"; discarded (-0.1874, #3) "lower BIAS to -4"',
      );
    }
    expect(instructions).toContain('#4 "exit early for speed": the eval exited with code 1');
    expect(instructions).toContain("**Plateau:** 3 iterations since the last keep (#1).");
    expect(instructions).toContain("**Levers never touched:** `STOP_WORDS`.");
    expect(instructions).toContain("### Targets for this round");
    expect(instructions).toContain("Try the levers round 1 never touched: `STOP_WORDS`.");
    expect(instructions).toContain("`autoresearch_2.jsonl`");
    expect(instructions).toContain("`eval_2.py`, the eval");
    expect(instructions).not.toContain("Co-optimisation warning");
    expect(read(root, "launch_prompt_2.md")).toContain("`instructions_2.md`");

    // The eval is round 1's, under its own name: same test data, same metric.
    expect(read(root, "eval_2.py")).toBe(read(root, "eval.py"));
    const [header, ...rest] = read(root, "autoresearch_2.jsonl").trim().split("\n");
    expect(rest).toEqual([]);
    expect(JSON.parse(header)).toMatchObject({
      type: "config",
      round: 2,
      baseline: null,
      eval_command: "python3 eval_2.py",
      constrained_file: "ranker.py",
      metric: "score",
      guard_metric: "mrr",
      previous_round: 1,
      previous_best: 0.2812,
    });
    expect(read(root, "autoresearch_dashboard_2.md")).toContain("**Iterations:** 0/30");

    let file = experiment(root);
    expect(file.current_round).toBe(2);
    expect(file.rounds.map((round: any) => [round.round, round.status])).toEqual([[1, "closed"], [2, "open"]]);
    expect(file.rounds[1]).toMatchObject({
      constrained_files: ["ranker.py"],
      focus: "try the stop words",
      baseline: null,
      integrity: {},
      eval: { command: "python3 eval_2.py", script: "eval_2.py", timeout_s: 60 },
      artifacts: {
        journal: "autoresearch_2.jsonl",
        dashboard: "autoresearch_dashboard_2.md",
        instructions: "instructions_2.md",
        launch_prompt: "launch_prompt_2.md",
        report: "autoresearch_report_2.md",
      },
    });

    // Round 2: baseline re-measures round 1's best, then the offline agent runs 5 iterations and reports.
    const baseline = ok(run(root, "baseline", ["--json"]), "baseline round 2");
    expect(JSON.parse(baseline.stdout)).toMatchObject({ round: 2, score: 0.2812 });
    const agent = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
    ok(run(root, "iterate", ["--loop", "--agent", agent, "--iterations", "5", "--final-report"]), "loop round 2");
    expect(read(root, "autoresearch_report_2.md")).toContain("Tuner report, round 2");
    const roundTwoResults = read(root, "autoresearch_2.jsonl").trim().split("\n").map((line) => JSON.parse(line))
      .filter((line) => line.type === "result" && line.status !== "baseline");
    expect(roundTwoResults).toHaveLength(5);

    const beforeThird = hashTree(
      root,
      (path) => !/_3\.|^\.autoresearch\/(lock|backups)/.test(path) && path !== "autoresearch.yaml",
    );
    const third = ok(run(root, "next-round", ["--json"]), "next-round 2 -> 3");
    const output = JSON.parse(third.stdout);
    expect(output).toMatchObject({
      round: 3,
      previous_round: 2,
      mode: "experiment",
      rounds_summarised: [1, 2],
      summary: { start: 0.2812, iterations: 5 },
    });
    expect(output.files).toEqual(
      expect.arrayContaining([
        "instructions_3.md",
        "launch_prompt_3.md",
        "eval_3.py",
        "autoresearch_3.jsonl",
        "autoresearch_dashboard_3.md",
        "autoresearch.yaml",
      ]),
    );
    expect(hashTree(root, (path) => !/_3\.|^\.autoresearch\/(lock|backups)/.test(path) && path !== "autoresearch.yaml"))
      .toEqual(beforeThird);
    const instructionsThree = read(root, "instructions_3.md");
    expect(instructionsThree).toContain("### Round 1: `ranker.py` (journal `autoresearch.jsonl`)");
    expect(instructionsThree).toContain("### Round 2: `ranker.py` (journal `autoresearch_2.jsonl`)");
    expect(instructionsThree).toContain("**Final report** (`autoresearch_report_2.md`");
    expect(instructionsThree).toContain("moves kept.");
    expect(instructionsThree).toContain("(journal `autoresearch_2.jsonl`)\n\n- **Focus:** try the stop words\n");
    expect(instructionsThree.indexOf("### Round 1")).toBeLessThan(instructionsThree.indexOf("### Round 2"));

    file = experiment(root);
    expect(file.current_round).toBe(3);
    expect(file.rounds.map((round: any) => [round.round, round.status])).toEqual([[1, "closed"], [2, "closed"], [
      3,
      "open",
    ]]);
    expect(file.rounds[2].eval).toMatchObject({ command: "python3 eval_3.py", script: "eval_3.py" });

    // Old rounds stay reachable for reading, never for writing.
    const dashboard = ok(run(root, "dashboard", ["--round", "1", "--json", "--no-write"]), "dashboard --round 1");
    expect(JSON.parse(dashboard.stdout).summary).toMatchObject({ round: 1, start: 0.1563, best: { score: 0.2812 } });
    setLever(root, "WEIGHT", "9.0");
    const closed = run(root, "iterate", ["--round", "1", "-m", "sneak into round 1"]);
    expect(closed.code).toBe(2);
    expect(closed.stderr).toContain("Round 1 is closed");
    expect(read(root, "autoresearch.jsonl").trim().split("\n")).toHaveLength(6); // config, baseline, 4 results: nothing appended
  });

  test("--file switches the constrained file: the co-optimisation warning on stderr and in the instructions", () => {
    const root = roundOneCopy();
    const result = ok(run(root, "next-round", ["--file", "features.py"]), "next-round --file");
    expect(result.stderr).toContain('co-optimisation trap: round 1 tuned "ranker.py"');
    expect(result.stderr).toContain('round 2 switches to "features.py"');
    const instructions = read(root, "instructions_2.md");
    expect(instructions).toContain("## Co-optimisation warning");
    expect(instructions).toContain("Maximise **score** of `features.py`");
    expect(instructions).toContain("| `SCALE` | weight | `3.0` | 2 |");
    expect(instructions).toContain("`ranker.py`: tuned in round 1 and out of scope now");
    expect(instructions).toContain("New in this round: `features.py`");
    expect(experiment(root).rounds[1].constrained_files).toEqual(["features.py"]);
    expect(JSON.parse(read(root, "autoresearch_2.jsonl").trim())).toMatchObject({
      constrained_file: "features.py",
      constrained_files: ["features.py"],
    });
  });

  test("--add-file co-optimises round 1's file with another one", () => {
    const root = roundOneCopy();
    const result = ok(run(root, "next-round", ["--add-file", "features.py", "--json"]), "next-round --add-file");
    expect(result.stderr).toContain('round 2 co-optimises "ranker.py" and "features.py"');
    expect(JSON.parse(result.stdout).warnings[0]).toContain("co-optimisation trap");
    const instructions = read(root, "instructions_2.md");
    expect(instructions).toContain("## Co-optimisation warning");
    expect(instructions).toContain("`ranker.py` and `features.py`");
    expect(instructions).toContain("| `features.py:SCALE` | weight |");
    expect(experiment(root).rounds[1].constrained_files).toEqual(["ranker.py", "features.py"]);
  });

  test("next-round refuses a round without results or without a baseline, and writes nothing", () => {
    const root = pythonExperiment();
    const yaml = read(root, "autoresearch.yaml");
    const noBaseline = run(root, "next-round");
    expect(noBaseline.code).toBe(2);
    expect(noBaseline.stderr).toContain("Round 1 has no baseline yet");
    expect(noBaseline.stderr).toContain("baseline.ts");
    ok(run(root, "baseline"), "baseline");
    const afterBaseline = read(root, "autoresearch.yaml");
    const noResults = run(root, "next-round");
    expect(noResults.code).toBe(2);
    expect(noResults.stderr).toContain('Round 1 has no results yet in "autoresearch.jsonl"');
    expect(noResults.stderr).toContain("iterate.ts");
    expect(read(root, "autoresearch.yaml")).toBe(afterBaseline);
    expect(afterBaseline).not.toBe(yaml);
    for (const file of ROUND_TWO_FILES) expect(existsSync(join(root, file))).toBe(false);
  });

  test("--file must name an existing, tracked file inside the repository", () => {
    const root = roundOneCopy();
    const yaml = read(root, "autoresearch.yaml");
    const missing = run(root, "next-round", ["--file", "nope.py"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--file "nope.py" does not exist');
    const outsideDir = temporaryFolder("ark-outside-");
    writeFileSync(join(outsideDir, "other.py"), "X = 1\n");
    const outside = run(root, "next-round", ["--add-file", join(outsideDir, "other.py")]);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toContain("is outside the git repository");
    writeFileSync(join(root, "fresh.py"), "Y = 2\n");
    const untracked = run(root, "next-round", ["--file", "fresh.py"]);
    expect(untracked.code).toBe(2);
    expect(untracked.stderr).toContain('--file "fresh.py" is not tracked by git');
    const frozen = run(root, "next-round", ["--file", "cases.json"]);
    expect(frozen.code).toBe(2);
    expect(frozen.stderr).toContain("is frozen");
    expect(read(root, "autoresearch.yaml")).toBe(yaml);
    for (const file of ROUND_TWO_FILES) expect(existsSync(join(root, file))).toBe(false);
  });

  test("existing round 2 artifacts are named and kept without --force, replaced (with a backup) with it", () => {
    const root = roundOneCopy();
    writeFileSync(join(root, "instructions_2.md"), "my own notes for round 2\n");
    writeFileSync(join(root, "autoresearch_2.jsonl"), '{"type":"config"}\n');
    const yaml = read(root, "autoresearch.yaml");
    const refused = run(root, "next-round");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      'Not overwriting round 2\'s existing artifacts "instructions_2.md", "autoresearch_2.jsonl"',
    );
    expect(refused.stderr).toContain("--force");
    expect(read(root, "instructions_2.md")).toBe("my own notes for round 2\n");
    expect(existsSync(join(root, "launch_prompt_2.md"))).toBe(false);
    expect(existsSync(join(root, "eval_2.py"))).toBe(false);
    expect(read(root, "autoresearch.yaml")).toBe(yaml);

    const forced = ok(run(root, "next-round", ["--force", "--json"]), "next-round --force");
    expect(JSON.parse(forced.stdout).replaced).toEqual(["instructions_2.md", "autoresearch_2.jsonl"]);
    expect(read(root, "instructions_2.md")).toContain("## Summary of earlier rounds");
    expect(JSON.parse(read(root, "autoresearch_2.jsonl").trim())).toMatchObject({ round: 2, baseline: null });
    const backups = join(root, ".autoresearch/backups");
    const [backup] = readdirSync(backups).filter((name) => name.startsWith("next-round-2-"));
    expect(read(join(backups, backup), "instructions_2.md")).toBe("my own notes for round 2\n");
    expect(experiment(root).current_round).toBe(2);
  });

  test("next-round runs the same under Deno: round 1 -> 2 with every artifact and the experiment updated", () => {
    const root = roundOneCopy();
    const result = ok(run(root, "next-round", ["--focus", "deno round"], "deno"), "next-round under deno");
    for (const file of ROUND_TWO_FILES) expect(existsSync(join(root, file))).toBe(true);
    expect(result.stderr).toContain("deno run -A");
    expect(read(root, "instructions_2.md")).toContain("**Levers never touched:** `STOP_WORDS`.");
    expect(experiment(root)).toMatchObject({
      current_round: 2,
      rounds: [{ status: "closed" }, { round: 2, status: "open", focus: "deno round" }],
    });
    ok(run(root, "baseline", [], "deno"), "baseline round 2 under deno");
  });

  test("after init, round 2's eval is the generated one under its _2 name, and baseline runs it", () => {
    const ranker =
      `"""Rank articles for a query."""\nBOOST = 2.0\nARTICLES = {"reset": "password login reset", "billing": "invoice payment card", "shipping": "parcel delivery"}\n\n\ndef rank(query: str) -> list[str]:\n    words = query.split()\n    scored = [(name, sum(BOOST for word in words if word in text)) for name, text in ARTICLES.items()]\n    return [name for name, score in sorted(scored, key=lambda pair: -pair[1])]\n`;
    const queries = [
      "password",
      "login",
      "reset",
      "invoice",
      "payment",
      "card",
      "parcel",
      "delivery",
      "password reset",
      "card payment",
      "parcel delivery",
      "login password",
      "invoice card",
      "delivery parcel",
      "reset login",
    ];
    const root = makeRepo({
      "ranker.py": ranker,
      "inputs.jsonl": queries.map((query, index) => JSON.stringify({ id: `q${index}`, query })).join("\n") + "\n",
    });
    ok(
      runScript("init", ["ranker.py", "--cases-from", "inputs.jsonl", "--metric", "mrr", "--yes"], { cwd: root }),
      "init",
    );
    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-q", "-m", "harness"]);
    ok(run(root, "baseline"), "baseline");
    writeFileSync(join(root, "ranker.py"), ranker.replace("key=lambda pair: -pair[1]", "key=lambda pair: pair[1]"));
    ok(run(root, "iterate", ["-m", "rank the weakest match first"]), "iterate");
    ok(run(root, "next-round"), "next-round");
    const evalTwo = read(root, "autoresearch_eval_2.py");
    expect(evalTwo).toContain("python3 autoresearch_eval_2.py --verbose");
    expect(evalTwo).not.toContain("autoresearch_eval.py");
    expect(evalTwo.replaceAll("autoresearch_eval_2.py", "autoresearch_eval.py")).toBe(
      read(root, "autoresearch_eval.py"),
    );
    expect(experiment(root).rounds[1].eval).toMatchObject({
      command: "python3 autoresearch_eval_2.py",
      script: "autoresearch_eval_2.py",
    });
    expect(read(root, "instructions_2.md")).toContain("`autoresearch_test_data.json`, the test data");
    const baseline = ok(run(root, "baseline", ["--json"]), "baseline round 2");
    expect(JSON.parse(baseline.stdout)).toMatchObject({ round: 2, score: 1 });
  });

  test("--help lists every option with an example", () => {
    const result = ok(runScript("next-round", ["--help"], { cwd: tmpdir() }), "--help");
    for (const option of ["--file", "--add-file", "--focus", "--force", "--json", "--experiment", "--journal"]) {
      expect(result.stdout).toContain(option);
    }
    expect(result.stdout).toContain("Examples:");
    expect(result.stdout).toContain("bun scripts/next-round.ts --file src/search/tokenizer.py");
  });
});

// The seed's example lines, verbatim, then a few more written the same way by hand.
const SEED_JOURNAL = [
  '{"type": "config", "constrained_file": "path/to/file.py", "eval_command": "python3 run_eval.py", "metric": "precision@12", "guard_metric": "mrr", "guard_threshold": 0.90, "baseline": 0.6930}',
  '{"type": "result", "iteration": 1, "commit": "abc1234", "score": 0.7050, "delta": "+0.0120", "guard_score": 0.95, "guard_pass": true, "status": "keep", "description": "Increased location base weight from 2x to 5x", "timestamp": "2025-03-15T02:14:33Z"}',
  '{"type": "result", "iteration": 2, "commit": "def5678", "score": 0.6850, "delta": "-0.0200", "guard_score": null, "guard_pass": null, "status": "discard", "description": "Added title matching as a ranking signal", "timestamp": "2025-03-15T02:16:01Z"}',
  '{"type": "result", "iteration": 3, "commit": "aa11bb2", "score": 0.7200, "delta": "+0.0150", "guard_score": 0.94, "guard_pass": true, "status": "keep", "description": "Raised recency decay from 0.1 to 0.3", "timestamp": "2025-03-15T02:18:40Z"}',
  '{"type": "result", "iteration": 4, "commit": "cc33dd4", "score": 0.7010, "delta": "-0.0190", "guard_score": null, "guard_pass": null, "status": "discard", "description": "Added title matching with a smaller weight", "timestamp": "2025-03-15T02:20:12Z"}',
  '{"type": "result", "iteration": 5, "commit": "ee55ff6", "score": null, "delta": null, "guard_score": null, "guard_pass": null, "status": "crash", "description": "Stemmed the query terms", "reason": "ModuleNotFoundError: No module named nltk", "timestamp": "2025-03-15T02:21:30Z"}',
  '{"type": "result", "iteration": 6, "commit": "0a0b0c0", "score": 0.7300, "delta": "+0.0100", "guard_score": 0.85, "guard_pass": false, "status": "guard_fail", "description": "Dropped the MRR tie-breaker", "timestamp": "2025-03-15T02:23:05Z"}',
].join("\n") + "\n";

const SEED_FILE = `"""Search ranking."""
LOCATION_BASE_WEIGHT = 5.0
TITLE_WEIGHT = 0.0
RECENCY_DECAY = 0.3
MAX_RESULTS = 12


def rank(query, docs):
    return docs[:MAX_RESULTS]
`;

describe("next-round from a journal alone", () => {
  test("a hand-written seed journal becomes instructions_2.md with its summary, a launch prompt and a round 2 header", () => {
    const root = makeRepo({
      "path/to/file.py": SEED_FILE,
      "run_eval.py": "print('SCORE: 0.7')\n",
      "instructions.md": "# Round 1 by hand\n",
    });
    writeFileSync(join(root, "autoresearch.jsonl"), SEED_JOURNAL);
    const result = ok(run(root, "next-round", ["--focus", "fix the title signal"]), "journal-only next-round");
    expect(result.stdout.trim().split("\n").map((line) => line.split(/\s+/)[0])).toEqual([
      "instructions_2.md",
      "launch_prompt_2.md",
      "autoresearch_2.jsonl",
    ]);
    expect(result.stderr).toContain("No experiment file, so next-round worked from the journal alone and could not:");
    expect(result.stderr).toContain("no eval script for round 2");
    expect(result.stderr).toContain("init.ts path/to/file.py --eval-cmd 'python3 run_eval.py'");
    expect(existsSync(join(root, "autoresearch.yaml"))).toBe(false);

    const instructions = read(root, "instructions_2.md");
    expect(instructions).toStartWith("# Autoresearch: file — Round 2\n");
    expect(instructions).toContain("## Focus of this round\n\nfix the title signal");
    expect(instructions).toContain("### Round 1: `path/to/file.py` (journal `autoresearch.jsonl`)");
    expect(instructions).toContain(
      "**Start → best:** 0.6930 → 0.7200 (+0.0270, +3.9%; precision@12, higher is better), reached at #3, commit `aa11bb2`.",
    );
    expect(instructions).toContain("**Iterations:** 6: 2 kept, 2 discarded, 1 crashed, 1 guard failures.");
    expect(instructions).toContain("  - #1 Increased location base weight from 2x to 5x: +0.0120, `abc1234`");
    expect(instructions).toContain("  - #3 Raised recency decay from 0.1 to 0.3: +0.0150, `aa11bb2`");
    // A hand-written journal records no diffs: its tries are labelled unknown, never grouped by their words.
    expect(instructions).toContain("- **Dead ends (do not retry):** none recorded.");
    expect(instructions).toContain(
      '  - unknown (no diff recorded): kept (+0.0120, #1) "Increased location base weight from 2x to 5x"; discarded (-0.0200, #2) "Added title matching as a ranking signal"; kept (+0.0150, #3) "Raised recency decay from 0.1 to 0.3"; discarded (-0.0190, #4) "Added title matching with a smaller weight"; guard failed (+0.0100, #6) "Dropped the MRR tie-breaker"',
    );
    expect(instructions).toContain('#5 "Stemmed the query terms": ModuleNotFoundError: No module named nltk');
    expect(instructions).toContain("**Levers never touched:** `TITLE_WEIGHT`, `MAX_RESULTS`.");
    expect(instructions).toContain("Start from round 1's best (0.7200, #3, `aa11bb2`). Run the eval 3 times");
    expect(instructions).toContain("`python3 run_eval.py`, unchanged from round 1");
    expect(instructions).toContain("**guard:** mrr >= 0.9");
    expect(instructions).toContain("Round 1's instructions, `instructions.md`, still hold");
    expect(instructions).toContain("`autoresearch_2.jsonl` is this round's memory");
    expect(instructions).toContain("dashboard.ts --journal autoresearch_2.jsonl` writes it from the journal");

    const prompt = read(root, "launch_prompt_2.md");
    expect(prompt).toContain("Read `instructions_2.md` now");
    expect(prompt).toContain("read `autoresearch_2.jsonl` and `autoresearch_dashboard_2.md` to recover your state");

    const header = JSON.parse(read(root, "autoresearch_2.jsonl").trim());
    expect(header).toMatchObject({
      type: "config",
      constrained_file: "path/to/file.py",
      eval_command: "python3 run_eval.py",
      metric: "precision@12",
      guard_metric: "mrr",
      guard_threshold: 0.9,
      baseline: null,
      round: 2,
      previous_round: 1,
      previous_best: 0.72,
    });

    // Round 2's journal then leads to round 3, with both rounds summarised.
    appendFileSync(
      join(root, "autoresearch_2.jsonl"),
      '{"type": "result", "iteration": 1, "commit": "1111111", "score": 0.7300, "delta": "+0.0100", "guard_score": 0.93, "guard_pass": true, "status": "keep", "description": "Raised MAX_RESULTS to 20", "timestamp": "2025-03-16T01:00:00Z"}\n',
    );
    const header2 = JSON.parse(read(root, "autoresearch_2.jsonl").split("\n")[0]);
    writeFileSync(
      join(root, "autoresearch_2.jsonl"),
      read(root, "autoresearch_2.jsonl").replace(
        JSON.stringify(header2),
        JSON.stringify({ ...header2, baseline: 0.72 }),
      ),
    );
    ok(run(root, "next-round", ["--journal", "autoresearch_2.jsonl"]), "journal-only round 3");
    const three = read(root, "instructions_3.md");
    expect(three).toContain("### Round 1:");
    expect(three).toContain("### Round 2:");
    expect(three).toContain("0.7200 → 0.7300");
    expect(JSON.parse(read(root, "autoresearch_3.jsonl").trim())).toMatchObject({ round: 3, baseline: null });
  });

  test("journal-only use refuses a journal without results and says what to pass without one", () => {
    const root = makeRepo({ "a.py": "X = 1\n" });
    const none = run(root, "next-round");
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('No autoresearch.yaml and no journal at "autoresearch.jsonl"');
    writeFileSync(join(root, "autoresearch.jsonl"), SEED_JOURNAL.split("\n")[0] + "\n");
    const empty = run(root, "next-round");
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain("Round 1 has no results yet");
    expect(existsSync(join(root, "instructions_2.md"))).toBe(false);
  });
});

describe("next-round helpers", () => {
  test.each([
    ["python3 eval.py", "eval.py", "eval_2.py", true, "python3 eval_2.py"],
    [
      "uv run autoresearch_eval_2.py",
      "autoresearch_eval_2.py",
      "autoresearch_eval_3.py",
      true,
      "uv run autoresearch_eval_3.py",
    ],
    [
      "cd web && python3 manage.py run_autoresearch_eval",
      "app/management/commands/run_autoresearch_eval.py",
      "app/management/commands/run_autoresearch_eval_2.py",
      true,
      "cd web && python3 manage.py run_autoresearch_eval_2",
    ],
    ["make eval", "eval.py", "eval_2.py", true, "make eval"],
    [
      '"""Eval.\nUsage: python3 eval.py --verbose"""\nprint("eval done")',
      "eval.py",
      "eval_2.py",
      false,
      '"""Eval.\nUsage: python3 eval_2.py --verbose"""\nprint("eval done")',
    ],
  ])("renameEvalReferences(%p) renames only the eval's own name", (text, from, to, commandLine, expected) => {
    expect(renameEvalReferences(text, from, to, { commandLine })).toBe(expected);
  });

  test("untouchedLevers: a lever counts as touched by its name or its name spelled as words", () => {
    const levers = [
      { scope: "module", kind: "constant", name: "LOCATION_BASE_WEIGHT", line: 1, value: "5" },
      { scope: "module", kind: "weights", name: "CONFIG", line: 2, value: "{}" },
      { scope: "module", kind: "constant", name: "Ranker.boostFactor", line: 3, value: "2" },
      { scope: "module", kind: "threshold", name: "x", line: 4, value: "3", detail: "in rank(): x > 3" },
      { scope: "module", kind: "constant", name: "TOP_K", line: 5, value: "10" },
    ] as const;
    const evidence = "Increased location base weight from 2x to 5x\n-    boostFactor = 2\n+    boostFactor = 3";
    expect(untouchedLevers([...levers], evidence).map((lever) => lever.name)).toEqual(["CONFIG", "TOP_K"]);
  });

  test("changedLines keeps added and removed lines only", () => {
    expect(changedLines("--- a/x.py\n+++ b/x.py\n@@ -1,3 +1,3 @@\n A = 1\n-B = 2\n+B = 3\n C = 4")).toBe(
      "B = 2\nB = 3",
    );
  });

  test("reportLessons quotes the sections on what did not work and what comes next", () => {
    const report =
      "# Report\n\nStart 0.69, best 0.72.\n\n## Top changes\n- location\n\n## What didn't work\n- title matching\n\n## Recommended next steps\n- tune the tokenizer\n";
    expect(reportLessons(report)).toEqual([
      "What didn't work:",
      "- title matching",
      "Recommended next steps:",
      "- tune the tokenizer",
    ]);
    expect(reportLessons("## Tuner report\n\nStart 0.2; 2 of 5 moves kept.\n")).toEqual([
      "Start 0.2; 2 of 5 moves kept.",
    ]);
  });

  test("leversNeverTouched: round N's untouched levers keep their name when a file is added, and a new file's levers all count", () => {
    const digest = {
      round: 1,
      constrainedFiles: ["a.py"],
      journal: "autoresearch.jsonl",
      focus: null,
      summary: {} as any,
      untouchedLevers: ["TOP_K"],
      report: null,
    };
    const lever = (name: string) => ({ kind: "constant" as const, name, line: 1, value: "1", scope: "module" });
    expect(leversNeverTouched(digest, [lever("TOP_K"), lever("WEIGHT")], ["a.py"], [])).toEqual(["TOP_K"]);
    expect(
      leversNeverTouched(digest, [lever("a.py:TOP_K"), lever("a.py:WEIGHT"), lever("b.py:SCALE")], ["a.py", "b.py"], [
        "b.py",
      ]),
    ).toEqual(["a.py:TOP_K", "b.py:SCALE"]);
    expect(leversNeverTouched(digest, [lever("SCALE")], ["b.py"], ["b.py"])).toEqual(["SCALE"]);
  });

  test("coOptimizationWarning: none for the same files, the trap for a switch, the remedy for co-optimising", () => {
    expect(coOptimizationWarning(1, ["a.py"], ["a.py"])).toBeNull();
    expect(coOptimizationWarning(1, ["a.py"], ["b.py"])).toContain('round 2 switches to "b.py"');
    expect(coOptimizationWarning(1, ["a.py"], ["b.py"])).toContain(
      "accept that sequential optimisation has a lower ceiling",
    );
    expect(coOptimizationWarning(2, ["a.py"], ["a.py", "b.py"])).toContain(
      'round 3 co-optimises "a.py" and "b.py", the seed\'s way out of the trap',
    );
  });

  test("nextConstrainedFiles: --file replaces, --add-file adds, no duplicates", () => {
    expect(nextConstrainedFiles(["a.py"], [], [])).toEqual(["a.py"]);
    expect(nextConstrainedFiles(["a.py"], ["b.py"], [])).toEqual(["b.py"]);
    expect(nextConstrainedFiles(["a.py"], [], ["b.py", "a.py"])).toEqual(["a.py", "b.py"]);
    expect(nextConstrainedFiles(["a.py"], ["b.py"], ["c.py"])).toEqual(["b.py", "c.py"]);
  });
});

test("a lever counts as touched by what the diff changed, not by what the description says", async () => {
  const lines = [
    { type: "config", constrained_file: "ranker.py", eval_command: "python3 eval.py", metric: "score", baseline: 0.5 },
    {
      iteration: 1,
      score: 0.4,
      status: "discard",
      description: "raise BODY_WEIGHT to 3",
      attribution: {
        levers: [{ name: "TITLE_WEIGHT", from: "2", to: "3", direction: "up" }],
        functions: [],
        other: false,
      },
    },
    { iteration: 2, score: 0.4, status: "discard", description: "lower RECENCY_WEIGHT" }, // no recorded diff: words
  ];
  const journal = parseJournal(lines.map((line) => JSON.stringify(line)).join("\n"), "autoresearch.jsonl");
  const evidence = await roundEvidence(tmpdir(), journal, ["ranker.py"]);
  const lever = (name: string) => ({ kind: "weight" as const, name, line: 1, value: "1", scope: "module" });
  const levers = [lever("TITLE_WEIGHT"), lever("BODY_WEIGHT"), lever("RECENCY_WEIGHT")];
  expect(untouchedLevers(levers, evidence).map((found) => found.name)).toEqual(["BODY_WEIGHT"]);
});
