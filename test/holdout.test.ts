// The held-out set from creation to measurement, on real repositories through the real scripts:
// init --holdout-split on filled test data and on a scaffold (split then at baseline, once),
// init --holdout PATH, refused inputs, the path kept out of everything the agent reads, the
// integrity lock on the held-out file, holdout_score / holdout_runs on the baseline and keep
// lines, a held-out crash that leaves a keep a keep, and one run under Deno.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BUN,
  commitHarness,
  exists,
  journal,
  KIT_ROOT,
  makeRepo,
  read,
  results,
  runScript,
  setLever,
  sh,
} from "./helpers.ts";
import { PRICE_MODEL_PY, pythonExperiment } from "./experiment-fixture.ts";
import {
  classifyHoldoutReach,
  commandReadingHoldout,
  type HoldoutReach,
  seededOrder,
  splitTestDataText,
  type TestDataRuns,
} from "../scripts/lib/harness/holdout-set.ts";

const HELD_OUT = ".autoresearch/holdout/predict.json";
const CASE_COUNT = 24;

/** 24 filled price cases in the kit's format: the truth is 3 * size + 1. */
function priceCases(count = CASE_COUNT): string {
  const cases = Array.from(
    { length: count },
    (_, index) => ({ id: `case-${index + 1}`, input: { size: index + 1 }, expected: 3 * (index + 1) + 1 }),
  );
  return JSON.stringify({ format: "autoresearch-kit/test-data@1", shape: "number", cases }, null, 1) + "\n";
}

/** Fill the scaffold's test data with `count` price cases and commit the harness init wrote; returns the data. */
function fillAndCommitHarness(root: string, count: number): string {
  const filled = priceCases(count).replace(/"shape": "number"/, `"entry": "def predict(size: float) -> float"`);
  writeFileSync(join(root, "autoresearch_test_data.json"), filled);
  commitHarness(root, [
    "autoresearch_test_data.json",
    "autoresearch_eval.py",
    "instructions.md",
    "launch_prompt.md",
    "autoresearch.yaml",
  ]);
  return filled;
}

function caseIds(text: string): string[] {
  return (JSON.parse(text).cases as { id: string }[]).map((item) => item.id);
}

function priceRepo(files: Record<string, string> = {}): string {
  return makeRepo({ "src/predict.py": PRICE_MODEL_PY, "data/cases.json": priceCases(), ...files });
}

function initArgs(...extra: string[]): string[] {
  return [
    "src/predict.py",
    "--test-data",
    "data/cases.json",
    "--metric",
    "mae",
    "--iterations",
    "10",
    "--yes",
    ...extra,
  ];
}

/** The files the agent is pointed at: instructions, launch prompt, the eval it may run. */
function agentFacingTexts(root: string): string {
  return ["instructions.md", "launch_prompt.md", "autoresearch_eval.py"].map((path) => read(root, path)).join("\n");
}

/** Change the fixture's eval.py and commit it, as the experiment's owner would. */
function editEval(root: string, edit: (text: string) => string): void {
  writeFileSync(join(root, "eval.py"), edit(read(root, "eval.py")));
  commitHarness(root, ["eval.py"]);
}

function yamlOf(root: string): string {
  return read(root, "autoresearch.yaml");
}

describe("init --holdout-split on filled test data", () => {
  test("holds out 30% of the cases by a recorded seed, and the same seed gives the same split", () => {
    const root = priceRepo();
    const result = runScript("init", initArgs("--holdout-split", "0.3", "--holdout-seed", "42", "--json"), {
      cwd: root,
    });
    expect(result.code).toBe(0);
    const kept = caseIds(read(root, "data/cases.json"));
    const held = caseIds(read(root, HELD_OUT));
    expect(held.length).toBe(7); // round(24 * 0.3)
    expect(kept.length).toBe(17);
    expect([...kept, ...held].sort()).toEqual(caseIds(priceCases()).sort());
    expect(yamlOf(root)).toMatch(
      /holdout:\n\s+path: \.autoresearch\/holdout\/predict\.json\n\s+split: 0\.3\n\s+seed: 42\n\s+runs: 1/,
    );
    expect(JSON.parse(result.stdout).holdout).toEqual({ path: HELD_OUT, split: 0.3, seed: 42, runs: 1 });
    // The original test data is backed up, and the held-out file is outside git.
    expect(result.stderr).toContain("Held out 7 of 24 cases (seed 42)");
    expect(sh(root, "git", ["status", "--porcelain", "--", ".autoresearch"])).toBe("");
    expect(JSON.parse(read(root, ".autoresearch/holdout-split.json"))).toMatchObject({ seed: 42, held_cases: 7 });

    // A second split would take more cases out of what is left: refused, even with --force.
    const twice = runScript("init", initArgs("--holdout-split", "0.3", "--force"), { cwd: root });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("exists already");
    expect(caseIds(read(root, "data/cases.json")).length).toBe(17);

    const again = priceRepo();
    expect(runScript("init", initArgs("--holdout-split", "0.3", "--holdout-seed", "42"), { cwd: again }).code).toBe(0);
    expect(caseIds(read(again, HELD_OUT))).toEqual(held);
    const other = priceRepo();
    expect(runScript("init", initArgs("--holdout-split", "0.3", "--holdout-seed", "7"), { cwd: other }).code).toBe(0);
    expect(caseIds(read(other, HELD_OUT))).not.toEqual(held);
  });

  test("the held-out path is in no instruction, launch prompt or eval text", () => {
    const root = priceRepo();
    expect(runScript("init", initArgs("--holdout-split", "0.3"), { cwd: root }).code).toBe(0);
    const texts = agentFacingTexts(root);
    expect(texts).not.toContain("holdout/");
    expect(texts).not.toContain("predict.json");
    expect(read(root, "autoresearch.jsonl")).not.toContain("holdout/");
  });
});

describe("init --holdout-split on a scaffold: baseline splits once", () => {
  test("the split waits for the filled test data, happens at the first baseline, and never again", () => {
    const root = makeRepo({ "src/predict.py": PRICE_MODEL_PY });
    const init = runScript("init", ["src/predict.py", "--metric", "mae", "--yes", "--holdout-split", "0.25"], {
      cwd: root,
    });
    expect(init.code).toBe(0);
    expect(init.stderr).toContain("will be held out");
    expect(exists(root, HELD_OUT)).toBe(false);
    const seed = Number(/seed: (\d+)/.exec(yamlOf(root))![1]);
    expect(seed).toBeGreaterThan(0);

    fillAndCommitHarness(root, CASE_COUNT);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain(`Held out 6 of 24 cases (seed ${seed})`);
    // The test data was committed with every case before the split: the held-out ones stay in git's history.
    expect(baseline.stderr).toContain(
      'git tracks "autoresearch_test_data.json": its committed versions still hold the held-out cases',
    );
    const held = caseIds(read(root, HELD_OUT));
    expect(held).toEqual(seededOrder(CASE_COUNT, seed).slice(0, 6).sort((a, b) => a - b).map((i) => `case-${i + 1}`));
    expect(caseIds(read(root, "autoresearch_test_data.json")).length).toBe(18);
    // The test data without its held-out cases is committed with the baseline: the work tree stays clean.
    expect(sh(root, "git", ["status", "--porcelain"])).toBe("");

    const [config, line] = journal(root);
    expect(line.holdout_score).toEqual(expect.any(Number));
    expect(line.holdout_runs.length).toBe(1);
    expect(line.holdout_score).toBeCloseTo(line.holdout_runs[0], 4);
    expect(config.holdout).toEqual({ path_hash: expect.any(String), runs: 1, split: 0.25 });
    expect(JSON.stringify(config)).not.toContain("holdout/");
    expect(yamlOf(root)).toContain(`${HELD_OUT}: `); // hashed with the frozen files
    expect(yamlOf(root)).toMatch(/holdout_score: /);

    // Re-baselining measures the same sets: no second split.
    const again = runScript("baseline", ["--force"], { cwd: root });
    expect(again.code).toBe(0);
    expect(again.stderr).not.toContain("Held out");
    expect(caseIds(read(root, HELD_OUT))).toEqual(held);
    // With the held-out file gone, baseline refuses rather than split the rest again.
    rmSync(join(root, HELD_OUT));
    const refused = runScript("baseline", ["--force"], { cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("split off the test data already");
    expect(caseIds(read(root, "autoresearch_test_data.json")).length).toBe(18);
  });
});

describe("a split that would leave too few cases", () => {
  test("is refused before anything is split, and a smaller share then works", () => {
    const root = makeRepo({ "src/predict.py": PRICE_MODEL_PY });
    expect(
      runScript("init", ["src/predict.py", "--metric", "mae", "--yes", "--holdout-split", "0.3"], { cwd: root }).code,
    )
      .toBe(0);
    const filled = fillAndCommitHarness(root, 20);
    const refused = runScript("baseline", [], { cwd: root });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("would leave 14");
    expect(refused.stderr).toContain("nothing was split");
    expect(read(root, "autoresearch_test_data.json")).toBe(filled);
    expect(exists(root, HELD_OUT)).toBe(false);
    expect(exists(root, ".autoresearch/holdout-split.json")).toBe(false);

    writeFileSync(join(root, "autoresearch.yaml"), yamlOf(root).replace("split: 0.3", "split: 0.25"));
    commitHarness(root, ["autoresearch.yaml"]);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(caseIds(read(root, "autoresearch_test_data.json")).length).toBe(15);
    expect(sh(root, "git", ["status", "--porcelain"])).toBe("");
  });
});

describe("init --holdout PATH and refused inputs", () => {
  test("a held-out file of the user's is recorded; a tracked one is named as visible to the agent", () => {
    const root = priceRepo({ "data/held.json": priceCases(6) });
    const result = runScript("init", initArgs("--holdout", "data/held.json", "--json"), { cwd: root });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).holdout).toEqual({ path: "data/held.json", split: null, seed: null, runs: 1 });
    expect(result.stderr).toContain("is a tracked file of the repository, where the agent can read it");
    expect(result.stderr).toContain(".autoresearch/holdout/");
    expect(caseIds(read(root, "data/cases.json")).length).toBe(CASE_COUNT); // the test data is left alone

    // Under .autoresearch/holdout/ (out of git, out of the instructions) it is taken without a warning.
    const quiet = priceRepo();
    sh(quiet, "mkdir", ["-p", ".autoresearch/holdout"]);
    writeFileSync(join(quiet, ".autoresearch/holdout/mine.json"), priceCases(6));
    const taken = runScript("init", initArgs("--holdout", ".autoresearch/holdout/mine.json"), { cwd: quiet });
    expect(taken.code).toBe(0);
    expect(taken.stderr).not.toContain("where the agent can read it");
    expect(yamlOf(quiet)).toContain("path: .autoresearch/holdout/mine.json");
  });

  test("bad values get one line, exit 2, and nothing is written", () => {
    const cases: [string[], RegExp, string][] = [
      [["--holdout-split", "0"], /above 0 and at most 0\.9/, "E_BAD_HOLDOUT"],
      [["--holdout-split", "0.95"], /above 0 and at most 0\.9/, "E_BAD_HOLDOUT"],
      [["--holdout-split", "0.1"], /leaves 2 held out and 22 to tune on; each side needs at least 5/, "E_BAD_HOLDOUT"],
      [["--holdout", "missing.json"], /"missing.json" does not exist/, "E_NO_FILE"],
      [["--holdout", "data/cases.json"], /is the test data itself/, "E_BAD_HOLDOUT"],
      [["--holdout", "x.json", "--holdout-split", "0.3"], /not both/, "E_BAD_HOLDOUT"],
      [["--holdout-seed", "3"], /goes with --holdout-split/, "E_BAD_HOLDOUT"],
    ];
    for (const [flags, message, code] of cases) {
      const root = priceRepo();
      const result = runScript("init", [...initArgs(...flags), "--json"], { cwd: root });
      expect({ flags, code: result.code }).toEqual({ flags, code: 2 });
      expect(result.stderr).toMatch(message);
      expect(JSON.parse(result.stdout).error.code).toBe(code);
      expect(exists(root, "autoresearch.yaml")).toBe(false);
      expect(read(root, "data/cases.json")).toBe(priceCases());
    }
  });

  test("the split keeps each format's header, comments and shared fields on both sides", () => {
    const rows = Array.from({ length: 10 }, (_, index) => `c${index}\tinput ${index}\t${index}`);
    const tsv = ["# a comment", "id\tinput\texpected", ...rows].join("\n") + "\n";
    const split = splitTestDataText(tsv, "t.tsv", 0.5, 3);
    if ("problem" in split) throw new Error(split.problem);
    expect(split.heldCases).toBe(5);
    for (const side of [split.kept, split.heldOut]) {
      expect(side.startsWith("# a comment\nid\tinput\texpected\n")).toBe(true);
    }
    const json = JSON.stringify({ setup: { k: 1 }, cases: rows.map((_, index) => ({ id: index })) });
    const jsonSplit = splitTestDataText(json, "t.json", 0.5, 3);
    if ("problem" in jsonSplit) throw new Error(jsonSplit.problem);
    expect(JSON.parse(jsonSplit.heldOut).setup).toEqual({ k: 1 });
    expect(JSON.parse(jsonSplit.kept).cases.length).toBe(5);
  });
});

describe("measuring the held-out set", () => {
  test("a keep carries holdout_score and holdout_runs; the agent's outputs and prompts never show the set", () => {
    const root = priceRepo();
    expect(runScript("init", initArgs("--holdout-split", "0.3", "--holdout-seed", "5"), { cwd: root }).code).toBe(0);
    commitHarness(root, ["data/cases.json", "autoresearch_eval.py", "instructions.md", "launch_prompt.md"]);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const baselineHoldout = journal(root)[1].holdout_score;
    expect(baselineHoldout).toEqual(expect.any(Number));
    expect(baselineHoldout).not.toBe(journal(root)[1].score); // scored on other cases than the test data's

    setLever(root, "WEIGHT", "2.5", { file: "src/predict.py" });
    const step = runScript("iterate", ["-m", "weight 2.5", "--json"], { cwd: root });
    expect(step.code).toBe(0);
    const shown = JSON.parse(step.stdout);
    expect(shown.status).toBe("keep");
    expect(shown.holdout).toBe("measured");
    expect(shown.holdout_score).toBeUndefined();
    const keep = results(root).at(-1)!;
    expect(keep.status).toBe("keep");
    expect(keep.holdout_runs.length).toBe(1);
    expect(keep.holdout_score).toBeCloseTo(keep.holdout_runs[0], 4); // the mean, rounded like a score
    expect(keep.holdout_score).toBeLessThan(baselineHoldout); // mae: the better weight is better on unseen cases too
    // Apart from the iteration logs the loop points at.
    expect(readdirSync(join(root, ".autoresearch/holdout/logs/round1")).sort())
      .toEqual(["baseline-reach.log", "baseline-run1.log", "iteration1-run1.log"]);
    // The run on a missing test data file failed, as a generated eval must: it reads the variable.
    expect(read(root, ".autoresearch/holdout/logs/round1/baseline-reach.log")).toContain("absent-");
    expect(readdirSync(join(root, ".autoresearch/logs/round1")).filter((name) => name.includes("holdout"))).toEqual([]);
    const visible = [step.stdout, step.stderr, keep.output_tail ?? "", agentFacingTexts(root)].join("\n");
    expect(visible).not.toContain("holdout/");
    expect(visible).not.toContain(String(keep.holdout_score));

    // A discard is not measured on the held-out set.
    setLever(root, "WEIGHT", "9", { file: "src/predict.py" });
    expect(runScript("iterate", ["-m", "weight 9"], { cwd: root }).code).toBe(0);
    expect(results(root).at(-1)!.status).toBe("discard");
    expect("holdout_score" in results(root).at(-1)!).toBe(false);

    // The loop's prompts name neither the file nor its scores.
    const agent = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
    const loop = runScript("iterate", ["--loop", "--agent", agent, "--iterations", "4", "--no-report"], { cwd: root });
    expect([0, 3, 4]).toContain(loop.code ?? -1);
    const prompts = readdirSync(join(root, ".autoresearch/prompts")).map((name) =>
      readFileSync(join(root, ".autoresearch/prompts", name), "utf8")
    ).join("\n");
    expect(prompts.length).toBeGreaterThan(0);
    expect(prompts).not.toContain("holdout/");
    for (const line of results(root).filter((each) => typeof each.holdout_score === "number")) {
      expect(prompts).not.toContain(`${line.holdout_score}`);
    }
  });

  test("tampering with the held-out set is refused at the next iterate, naming it only as the held-out set", () => {
    const root = heldOutFixture();
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    writeFileSync(join(root, ".autoresearch/holdout/held.json"), heldCases(3));
    setLever(root, "WEIGHT", "3");
    const result = runScript("iterate", ["-m", "weight 3"], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("The held-out set changed since the baseline");
    expect(result.stderr).not.toContain("held.json");
    expect(results(root).length).toBe(0);
  });

  test("a held-out run that crashes leaves the keep a keep, with a null score and a note", () => {
    // The candidate breaks only on inputs above 100, which only the held-out cases have.
    const root = heldOutFixture();
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    writeFileSync(
      join(root, "ranker.py"),
      read(root, "ranker.py").replace("WEIGHT = 1.0", "WEIGHT = 3.0").replace(
        "    return WEIGHT * x + BIAS",
        '    if x > 100:\n        raise ValueError("too big")\n    return WEIGHT * x + BIAS',
      ),
    );
    const result = runScript("iterate", ["-m", "weight 3, and a limit"], { cwd: root });
    expect(result.code).toBe(0);
    const keep = results(root).at(-1)!;
    expect(keep.status).toBe("keep");
    expect(keep.holdout_score).toBeNull();
    // The journal is the agent's to read: no error text (it may quote a held-out case), no log path.
    expect(keep.holdout_note).toBe(
      "held-out run 1 crashed; the held-out set's logs are for the person running the experiment",
    );
    expect(read(root, ".autoresearch/holdout/logs/round1/iteration1-run1.log")).toContain("too big");
    expect(keep.output_tail).toBeNull();
    expect(result.stdout).not.toContain("too big");
  });
});

describe("classifyHoldoutReach(): the run on a missing test data file", () => {
  const deterministic: TestDataRuns = {
    scores: [0.875, 0.875, 0.875],
    deterministic: true,
    resolution: 1e-4,
    caseIds: null,
  };
  const noisy: TestDataRuns = { scores: [0.79, 0.8, 0.81], deterministic: false, resolution: 1e-4, caseIds: null }; // sd 0.01
  const withCases: TestDataRuns = { ...noisy, caseIds: ["a", "b", "c"] };
  const run = (score: number | null, caseIds: string[] | null = null, ok = true) => ({ ok, score, caseIds });
  const table: [string, ReturnType<typeof run>, TestDataRuns, HoldoutReach["kind"]][] = [
    ["a crash: it read the variable", run(null, null, false), deterministic, "reads"],
    ["no score, exit 0: it read the variable", run(null), deterministic, "reads"],
    ["the same score, deterministic", run(0.875), deterministic, "ignores"],
    ["one print step off, deterministic", run(0.8751), deterministic, "scores_missing_file"],
    ["0 for no cases, deterministic", run(0), deterministic, "scores_missing_file"],
    ["a noisy score 3.9 sd off: could be another draw", run(0.839), noisy, "unclear"],
    ["a noisy score 4.1 sd off", run(0.759), noisy, "scores_missing_file"],
    ["the test data's own CASE ids, in another order", run(0.3, ["c", "a", "b"]), withCases, "ignores"],
    ["other CASE ids", run(0.8, ["a", "b", "x"]), withCases, "scores_missing_file"],
    ["no CASE lines where the test data had them", run(0.8), withCases, "scores_missing_file"],
    ["one baseline run of a noisy eval: cannot tell", run(0.5), { ...noisy, scores: [0.8] }, "unclear"],
    ["no baseline score at all", run(0.5), { ...noisy, scores: [] }, "unclear"],
  ];
  for (const [name, probe, testData, kind] of table) {
    test(name, () => expect(classifyHoldoutReach(probe, testData).kind).toBe(kind));
  }
});

describe("commandReadingHoldout(): a brought eval command that names its test data", () => {
  const reads = (path: string) => `"\${AUTORESEARCH_TEST_DATA:-${path}}"`;
  const table: [string, string, string, string | null][] = [
    [
      "an argument",
      "python3 eval.py --data data/dev.jsonl",
      "data/dev.jsonl",
      `python3 eval.py --data ${reads("data/dev.jsonl")}`,
    ],
    [
      "after =",
      "python3 eval.py --data=data/dev.jsonl -v",
      "data/dev.jsonl",
      `python3 eval.py --data=${reads("data/dev.jsonl")} -v`,
    ],
    ["in double quotes", 'node eval.mjs "cases.json"', "cases.json", `node eval.mjs ${reads("cases.json")}`],
    [
      "in single quotes",
      "node eval.mjs 'cases.json' && echo done",
      "cases.json",
      `node eval.mjs ${reads("cases.json")} && echo done`,
    ],
    [
      "written with ./",
      "./run_eval.sh ./data/cases.tsv",
      "data/cases.tsv",
      `./run_eval.sh ${reads("./data/cases.tsv")}`,
    ],
    ["twice", "eval a.json; eval a.json", "a.json", `eval ${reads("a.json")}; eval ${reads("a.json")}`],
    ["a longer path that only starts with it", "eval data/dev.jsonl.bak", "data/dev.jsonl", null],
    ["a path that only ends with it", "eval old/data/dev.jsonl", "data/dev.jsonl", null],
    ["not named", "make eval", "data/dev.jsonl", null],
    ["already reads the variable", 'eval "${AUTORESEARCH_TEST_DATA:-a.json}"', "a.json", null],
    ["a path that needs quoting of its own", "eval 'my data.json'", "my data.json", null],
    ["a dot in the path is a dot", "eval dataXjson", "data.json", null],
    ["read from stdin", "python3 ev.py < data.json", "data.json", `python3 ev.py < ${reads("data.json")}`],
    ["an assignment's value", "DATA=data.json python3 ev.py", "data.json", `DATA=${reads("data.json")} python3 ev.py`],
    [
      "in a pipeline after cd",
      "cd app && ev data.json | tail -1",
      "data.json",
      `cd app && ev ${reads("data.json")} | tail -1`,
    ],
    ["in a command substitution", "ev $(cat data.json)", "data.json", `ev $(cat ${reads("data.json")})`],
    ["inside a -c string", `python3 -c "import ev; ev.main( 'data.json' )"`, "data.json", null],
    ["inside a bash -c string", 'bash -c "python3 ev.py data.json && echo ok"', "data.json", null],
    ["inside quoted text", 'echo "scoring data.json now" && ev', "data.json", null],
    ["a file written to", "python3 ev.py > data.json", "data.json", null],
    [
      "a file stderr is written to",
      "python3 ev.py data.json 2> data.json",
      "data.json",
      `python3 ev.py ${reads("data.json")} 2> data.json`,
    ],
    ["a heredoc", "python3 ev.py <<EOF\ndata.json\nEOF", "data.json", null],
    ["an unclosed quote", 'ev "data.json', "data.json", null],
  ];
  for (const [name, command, path, expected] of table) {
    test(name, () => expect(commandReadingHoldout(command, path)).toBe(expected));
  }

  test("init records the rewritten command, and baseline scores the held-out cases with it", () => {
    const root = makeRepo({
      "sentiment.py":
        'POSITIVE = {"good", "great"}\n\n\ndef classify(text):\n    return "pos" if set(text.split()) & POSITIVE else "neg"\n',
      "eval.py": [
        "import json, sys",
        "from sentiment import classify",
        "rows = [json.loads(line) for line in open(sys.argv[sys.argv.index('--data') + 1])]",
        "print(f\"SCORE: {sum(classify(row['text']) == row['label'] for row in rows) / len(rows):.4f}\")",
        "",
      ].join("\n"),
      "data/dev.jsonl": Array.from({ length: 30 }, (_, index) =>
        JSON.stringify({
          text: index % 3 === 0 ? "a great film" : index % 3 === 1 ? "a dull film" : "fine acting",
          label: index % 3 === 0 ? "pos" : index % 3 === 1 ? "neg" : "pos",
        })).join("\n") + "\n",
    });
    const init = runScript("init", [
      "sentiment.py",
      "--eval-cmd",
      "python3 eval.py --data data/dev.jsonl",
      "--test-data",
      "data/dev.jsonl",
      "--holdout-split",
      "0.3",
      "--holdout-seed",
      "2",
      "--yes",
    ], { cwd: root });
    expect(init.code).toBe(0);
    expect(init.stderr).toContain('The eval command names the test data "data/dev.jsonl": it is recorded as');
    expect(yamlOf(root)).toContain('command: python3 eval.py --data "${AUTORESEARCH_TEST_DATA:-data/dev.jsonl}"');
    commitHarness(root, ["data/dev.jsonl", "instructions.md", "launch_prompt.md", "autoresearch.yaml"]);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const [, baseline] = journal(root);
    expect(baseline.holdout_score).toEqual(expect.any(Number));
    // The held-out cases (9 of 30, seeded) scored on their own: the classifier misses only "fine acting".
    const accuracy = (text: string) => {
      const rows = text.trim().split("\n").map((line) => JSON.parse(line));
      return rows.filter((row) => row.text !== "fine acting").length / rows.length;
    };
    const heldOut = read(root, ".autoresearch/holdout/sentiment.jsonl");
    expect(heldOut.trim().split("\n").length).toBe(9);
    expect(baseline.holdout_score).toBeCloseTo(accuracy(heldOut), 4);
    expect(baseline.score).toBeCloseTo(accuracy(read(root, "data/dev.jsonl")), 4);
    expect(read(root, ".autoresearch/holdout/logs/round1/baseline-reach.log")).toContain("absent-");
  });
});

describe("an eval that does not read AUTORESEARCH_TEST_DATA", () => {
  test("is refused at baseline in one line, before any held-out run, and nothing is recorded", () => {
    // The shape of a brought eval with its data path written in: the held-out set would score as the test data.
    const root = heldOutFixture('open("cases.json")');
    const before = yamlOf(root);
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(1);
    const refusal = result.stderr.trim().split("\n").at(-1)!;
    expect(refusal).toMatch(
      /^baseline\.ts: The eval does not read its test data from AUTORESEARCH_TEST_DATA: run with it naming a file that does not exist, it still scored [\d.]+, on the same 16 cases as its own test data, so the held-out set would never be scored\. Make the eval load the file AUTORESEARCH_TEST_DATA names when it is set \(and fail when that file is missing\), or, if it takes its data path as an argument, pass "\$\{AUTORESEARCH_TEST_DATA:-cases\.json\}" to it in eval\.command of "autoresearch\.yaml", then re-run .*baseline\.ts$/,
    );
    expect(refusal).not.toContain("held.json");
    expect(exists(root, "autoresearch.jsonl")).toBe(false);
    expect(yamlOf(root)).toBe(before);
    expect(readdirSync(join(root, ".autoresearch/holdout/logs/round1"))).toEqual(["baseline-reach.log"]);
    expect(readdirSync(join(root, ".autoresearch/holdout")).filter((name) => name.startsWith("absent-"))).toEqual([]);

    // The eval fixed to read the variable: the same baseline goes through and scores the held-out cases.
    editEval(root, (text) =>
      text.replace(
        'open("cases.json")',
        'open(os.environ.get("AUTORESEARCH_TEST_DATA") or "cases.json")',
      ));
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const [, baseline] = journal(root);
    expect(baseline.holdout_score).not.toBe(baseline.score);
  });

  test("when the command names the test data, the refusal gives the command that reads the variable", () => {
    const root = heldOutFixture("open(sys.argv[1])");
    writeFileSync(
      join(root, "autoresearch.yaml"),
      yamlOf(root).replace("command: python3 eval.py,", "command: python3 eval.py cases.json,"),
    );
    commitHarness(root, ["autoresearch.yaml"]);
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Its command names the test data: make it python3 eval.py "${AUTORESEARCH_TEST_DATA:-cases.json}" in "autoresearch.yaml" (eval.command), then re-run',
    );
    // Done as it says, the baseline goes through.
    writeFileSync(
      join(root, "autoresearch.yaml"),
      yamlOf(root).replace(
        "command: python3 eval.py cases.json,",
        "command: 'python3 eval.py \"${AUTORESEARCH_TEST_DATA:-cases.json}\"',",
      ),
    );
    commitHarness(root, ["autoresearch.yaml"]);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    expect(journal(root)[1].holdout_score).not.toBe(journal(root)[1].score);
  });

  test("a noisy eval without CASE lines that scores within its noise gets a warning, not a refusal", () => {
    // It ignores the variable, but a noisy score without case ids cannot prove that: baseline says so and goes on.
    const root = heldOutFixture('open("cases.json")');
    const tick = [
      "def _tick():",
      '    path = os.path.join(".autoresearch", "tick")',
      "    count = int(open(path).read()) if os.path.exists(path) else 0",
      '    open(path, "w").write(str(count + 1))',
      "    return [0.0, 0.01, -0.01, 0.005][count % 4]",
      "",
    ].join("\n");
    editEval(root, (text) =>
      text
        .replace("import ranker\n", `import ranker\n${tick}`)
        .replace(/^    print\(f"CASE .*\n/m, "")
        .replace("random.gauss(0, 0)", "_tick()"));
    const result = runScript("baseline", [], { cwd: root });
    expect(result.stderr).toContain(
      "within the noise of its own test data's score: it may not read AUTORESEARCH_TEST_DATA",
    );
    expect(result.code).toBe(0);
  });

  test("a file the eval creates at the made-up path is removed after the check", () => {
    const root = heldOutFixture();
    editEval(root, (text) =>
      text.replace(
        "cases = json.load(",
        '_path = os.environ.get("AUTORESEARCH_TEST_DATA") or "cases.json"\nopen(_path, "a").close()\ncases = json.load(',
      ));
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0); // the empty file it made is no JSON: it failed
    expect(read(root, ".autoresearch/holdout/logs/round1/baseline-reach.log")).toContain("JSONDecodeError");
    expect(readdirSync(join(root, ".autoresearch/holdout")).filter((name) => name.startsWith("absent-"))).toEqual([]);
  });

  test("a data path that falls back to the test data when the named file is missing is refused too", () => {
    const root = heldOutFixture(
      'open(os.environ["AUTORESEARCH_TEST_DATA"] if os.path.exists(os.environ.get("AUTORESEARCH_TEST_DATA", "")) else "cases.json")',
    );
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("The eval does not read its test data from AUTORESEARCH_TEST_DATA");
  });

  test("one that scores a missing file instead of failing gets a warning, and the held-out set is scored", () => {
    // Reads the variable, but prints a score of 0 for a missing file rather than failing.
    const root = heldOutFixture();
    editEval(root, (text) =>
      text.replace(
        "cases = json.load(",
        'if not os.path.exists(os.environ.get("AUTORESEARCH_TEST_DATA") or "cases.json"):\n    print("SCORE: 0")\n    raise SystemExit(0)\ncases = json.load(',
      ));
    const result = runScript("baseline", [], { cwd: root });
    expect(result.stderr).toContain(
      "warning: The eval scored a test data file that does not exist as 0 instead of failing",
    );
    expect(result.code).toBe(0);
    expect(journal(root)[1].holdout_score).toEqual(expect.any(Number));
  });
});

describe("next-round", () => {
  test("round 2 keeps the same held-out set, hashed again at its baseline and measured at its keeps", () => {
    const root = heldOutFixture();
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    setLever(root, "WEIGHT", "2");
    expect(runScript("iterate", ["-m", "weight 2"], { cwd: root }).code).toBe(0);
    expect(runScript("next-round", [], { cwd: root }).code).toBe(0);
    expect(yamlOf(root)).toContain("holdout:");
    expect([read(root, "instructions_2.md"), read(root, "launch_prompt_2.md")].join("\n")).not.toContain("held.json");
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const [, baseline] = journal(root, "autoresearch_2.jsonl");
    const [, , roundOneKeep] = journal(root);
    expect(baseline.holdout_score).toBe(roundOneKeep.holdout_score); // the same code on the same held-out cases
    const integrity = /round: 2[\s\S]*integrity:([\s\S]*)$/.exec(yamlOf(root))![1];
    expect(integrity).toContain(".autoresearch/holdout/held.json");
    setLever(root, "WEIGHT", "3");
    expect(runScript("iterate", ["-m", "weight 3"], { cwd: root }).code).toBe(0);
    const keep = results(root, "autoresearch_2.jsonl").at(-1)!;
    expect(keep.status).toBe("keep");
    expect(keep.holdout_score).toBeGreaterThan(baseline.holdout_score);
  });
});

describe("under Deno", () => {
  test("init --holdout-split, baseline and a keep measure the held-out set", () => {
    const root = priceRepo();
    const deno = { cwd: root, runtime: "deno" as const };
    expect(runScript("init", initArgs("--holdout-split", "0.3", "--holdout-seed", "11"), deno).code).toBe(0);
    commitHarness(root, ["data/cases.json", "autoresearch_eval.py", "instructions.md", "launch_prompt.md"]);
    expect(runScript("baseline", [], deno).code).toBe(0);
    setLever(root, "WEIGHT", "2.5", { file: "src/predict.py" });
    expect(runScript("iterate", ["-m", "weight 2.5"], deno).code).toBe(0);
    const [, baseline, keep] = journal(root);
    expect(baseline.holdout_score).toEqual(expect.any(Number));
    expect(keep.status).toBe("keep");
    expect(keep.holdout_score).toBeLessThan(baseline.holdout_score);
  });
});

/** Held-out cases for the fixture's eval: inputs above 100, truth 3x + 1. */
function heldCases(count = 6): string {
  const cases = Array.from({ length: count }, (_, index) => ({
    id: `h${index}`,
    input: { x: 101 + index },
    expected: 3 * (101 + index) + 1,
  }));
  return JSON.stringify({ cases }, null, 1);
}

/** The fixture experiment with a held-out file of its own and an eval that reads AUTORESEARCH_TEST_DATA. */
function heldOutFixture(opening = 'open(os.environ.get("AUTORESEARCH_TEST_DATA") or "cases.json")'): string {
  const root = pythonExperiment();
  writeFileSync(
    join(root, "eval.py"),
    read(root, "eval.py").replace('open("cases.json")', opening)
      .replace("value = max(0.0, 1 - error / 10)", "value = max(0.0, 1 - error / 1000)"),
  );
  writeFileSync(
    join(root, "autoresearch.yaml"),
    yamlOf(root).replace(
      "test_data: cases.json",
      "test_data: cases.json\nholdout: { path: .autoresearch/holdout/held.json }",
    ),
  );
  sh(root, "mkdir", ["-p", ".autoresearch/holdout"]);
  writeFileSync(join(root, ".autoresearch/holdout/held.json"), heldCases());
  commitHarness(root, ["eval.py", "autoresearch.yaml"]);
  return root;
}
