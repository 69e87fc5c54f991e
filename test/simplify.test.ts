// Simplifications and tiebreak runs, end to end: the lexical size of a file (lines and tokens,
// comments and blank lines not counted), `iterate --simplify` and the loop's SIMPLIFY: line on
// real temporary git repositories with a Python eval (the journal's sizes and rule, the step
// line, the dashboard), and the tiebreak metrics' values each run printed, recorded in the
// journal and replayed by a restarted decision.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baselined, evalScript, experimentYaml, RANKER } from "./experiment-fixture.ts";
import { harnessCommits, read, results, runScript, temporaryFolder } from "./helpers.ts";
import {
  isSmaller,
  measureText,
  sizeChange,
  sizeChangeFrom,
  sizeChangeText,
} from "../scripts/lib/iterate/file-size.ts";
import { simplifyRequested } from "../scripts/lib/iterate/agent-call.ts";
import { parseJournal } from "../scripts/lib/experiment/journal.ts";
import { replayDecisionState, runsFromLine } from "../scripts/lib/decision/state.ts";
import { loadExperiment } from "../scripts/lib/experiment/experiment-file.ts";

function iterate(root: string, args: string[]) {
  return runScript("iterate", args, { cwd: root });
}

describe("measuring a file's size", () => {
  test.each(
    [
      ["an assignment", "x = 1\n", "a.py", { lines: 1, tokens: 3 }],
      ["a comment after code is not counted", "x = 1  # the answer\n", "a.py", { lines: 1, tokens: 3 }],
      ["comment-only and blank lines are not counted", "# header\n\n\nx = 1\n   \n# end\n", "a.py", {
        lines: 1,
        tokens: 3,
      }],
      ["spacing does not matter", "x=1", "a.py", { lines: 1, tokens: 3 }],
      ["a string is one token however long", 'NAME = "a long string with words"\n', "a.py", { lines: 1, tokens: 3 }],
      ["an escaped quote stays inside its string", 'S = "say \\"hi\\" # not a comment"\n', "a.py", {
        lines: 1,
        tokens: 3,
      }],
      ["an f-string with its prefix is one token", 'label = f"{name}: {score:.2f}"\n', "a.py", { lines: 1, tokens: 3 }],
      [
        "a docstring is one token on every line it spans",
        'def f(x):\n    """Twice x.\n\n    Returns a number."""\n    return 2 * x\n',
        "a.py",
        { lines: 5, tokens: 11 },
      ],
      ["numbers are one token each", "values = (1_000, 0x1F, 1.5e-3, .5)\n", "a.py", { lines: 1, tokens: 11 }],
      ["the longest operator wins", "a **= b // c\n", "a.py", { lines: 1, tokens: 5 }],
      [
        "a Python function",
        "def score(x):\n    return WEIGHT * x + BIAS\n",
        "ranker.py",
        { lines: 2, tokens: 12 },
      ],
      ["a TS line comment is not counted", "const limit = 10; // ten\n", "a.ts", { lines: 1, tokens: 5 }],
      [
        "a TS block comment is not counted, even over lines",
        "/**\n * Weights.\n */\nexport const W = { title: 2, body: 1 };\n",
        "a.ts",
        { lines: 1, tokens: 14 },
      ],
      ["a template literal is one token", "const s = `a ${b} c`;\n", "a.ts", { lines: 1, tokens: 5 }],
      ["strict equality and arrows are one token each", "const f = (a) => a === 1;\n", "a.ts", {
        lines: 1,
        tokens: 11,
      }],
      ["# is an operator in TS (a private field), not a comment", "this.#count++;\n", "a.ts", { lines: 1, tokens: 6 }],
      ["// is floor division in Python, not a comment", "half = n // 2\n", "a.py", { lines: 1, tokens: 5 }],
    ] as const,
  )("%s", (_name, text, file, expected) => {
    expect(measureText(text, file)).toEqual(expected);
  });

  test("a comment or a blank line changes nothing; deleting code does", () => {
    const before = measureText(RANKER, "ranker.py");
    const commented = measureText(RANKER.replace("BIAS = 0.0", "BIAS = 0.0  # no offset\n\n"), "ranker.py");
    expect(commented).toEqual(before);
    const shorter = measureText(RANKER.replace("BIAS = 0.0\n", "").replace(" + BIAS", ""), "ranker.py");
    expect(before).toEqual({ lines: 4, tokens: 18 });
    expect(shorter).toEqual({ lines: 3, tokens: 13 });
    const change = sizeChange(before, shorter);
    expect(isSmaller(change)).toBe(true);
    expect(isSmaller(sizeChange(shorter, before))).toBe(false);
    expect(sizeChangeText(change)).toBe("-1 line, -5 tokens");
    expect(sizeChangeText(sizeChange(before, before))).toBe("±0 lines, ±0 tokens");
  });

  test("a journal's simplification field reads back, and a malformed one is null", () => {
    expect(sizeChangeFrom({ lines: [4, 3], tokens: [18, 13] })).toEqual({ lines: [4, 3], tokens: [18, 13] });
    expect(sizeChangeFrom({ lines: [4], tokens: [18, 13] })).toBeNull();
    expect(sizeChangeFrom("smaller")).toBeNull();
  });
});

describe("the SIMPLIFY: line", () => {
  test.each(
    [
      ["DESCRIPTION: inline the helper\nSIMPLIFY: inline the helper\n", true],
      ["SIMPLIFY: yes", true],
      ["  SIMPLIFY:", true],
      ["SIMPLIFY: no", false],
      ["SIMPLIFY: yes\nSIMPLIFY: false", false], // the last line wins
      ["DESCRIPTION: tune WEIGHT", false],
      ["the word SIMPLIFY: inside a sentence", false],
    ] as const,
  )("%j asks: %p", (output, expected) => {
    expect(simplifyRequested(output)).toBe(expected);
  });
});

/** The fixture's ranker without its zero bias: the same predictions, a smaller file. */
const WITHOUT_BIAS = RANKER.replace("BIAS = 0.0\n", "").replace(" + BIAS", "");

describe("iterate --simplify", () => {
  test("a refactor that shortens the file without changing the score is kept as a simplification", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), WITHOUT_BIAS);
    const result = iterate(root, ["-m", "drop the zero bias", "--simplify"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("keep");
    expect(line.simplification).toEqual({ lines: [4, 3], tokens: [18, 13] });
    expect(line.verdict.rule).toBe("simplification");
    expect(typeof line.verdict.tie_margin).toBe("number");
    expect(result.stdout).toContain("-1 line, -5 tokens (kept as a simplification)");
    expect(harnessCommits(root)).toHaveLength(1);
    expect(read(root, "ranker.py")).toBe(WITHOUT_BIAS);
    expect(read(root, "autoresearch_dashboard.md")).toContain(
      "| keep | drop the zero bias (-1 line, -5 tokens; simplification) |",
    );
    const html = runScript("dashboard", ["--format", "html"], { cwd: root });
    expect(html.stdout).toContain("drop the zero bias (-1 line, -5 tokens; simplification)");
    // The terminal table cuts a long description to the terminal's width; the size change comes first.
    const text = runScript("dashboard", ["--format", "text"], { cwd: root });
    expect(text.stdout).toContain("drop the zero bias (-1 line, -5 tokens;");
  });

  test("--json carries the measured size and the rule", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), WITHOUT_BIAS);
    const result = iterate(root, ["-m", "drop the zero bias", "--simplify", "--json"]);
    const output = JSON.parse(result.stdout);
    expect(output).toMatchObject({ status: "keep", simplification: { lines: [4, 3], tokens: [18, 13] } });
    expect(output.verdict.rule).toBe("simplification");
  });

  test("a shortening that loses score is discarded", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), "def score(x):\n    return 0.9 * x\n");
    const result = iterate(root, ["-m", "hard-code a smaller weight", "--simplify"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(line.simplification).toEqual({ lines: [4, 2], tokens: [18, 10] });
    expect(line.verdict.rule ?? null).toBeNull();
    expect(read(root, "ranker.py")).toBe(RANKER);
    expect(read(root, "autoresearch_dashboard.md")).toContain("-2 lines, -8 tokens; simplification asked");
  });

  test("the same shortening without --simplify is discarded: it gains nothing", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), WITHOUT_BIAS);
    const result = iterate(root, ["-m", "drop the zero bias"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(line.simplification).toBeUndefined();
    expect(read(root, "ranker.py")).toBe(RANKER);
    expect(result.stdout).not.toContain("simplification");
  });

  test("--simplify on a change that makes the file bigger is judged by the gain rule and says so", () => {
    const root = baselined();
    const bigger = RANKER.replace("BIAS = 0.0\n", "BIAS = 0.0\nSCALE = 1.0\n").replace(
      "WEIGHT * x",
      "WEIGHT * SCALE * x",
    );
    writeFileSync(join(root, "ranker.py"), bigger);
    const result = iterate(root, ["-m", "name the scale", "--simplify"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(line.simplification).toEqual({ lines: [4, 5], tokens: [18, 23] });
    expect(line.verdict.rule ?? null).toBeNull();
    expect(result.stdout).toContain("+1 line, +5 tokens (simplification asked, but the file is not smaller");
    expect(read(root, "autoresearch_dashboard.md")).toContain(
      "| discard | name the scale (+1 line, +5 tokens; simplification asked, not smaller) |",
    );
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("--simplify belongs to a step; the loop reads the agent's SIMPLIFY: line instead", () => {
    const root = baselined();
    const result = iterate(root, ["--loop", "--agent", "true", "--simplify"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("SIMPLIFY:");
  });
});

describe("the loop's SIMPLIFY: line", () => {
  test("an agent that prints SIMPLIFY: gets the simplification rule, and its prompt tells it how", () => {
    const root = baselined();
    const folder = temporaryFolder("ark-simpler-"); // outside the repository, where the agent finds its edit
    writeFileSync(join(folder, "ranker.py"), WITHOUT_BIAS);
    const agent =
      `cp ${folder}/ranker.py ranker.py; echo 'DESCRIPTION: drop the zero bias'; echo 'SIMPLIFY: the bias was always zero'`;
    const result = iterate(root, ["--loop", "--agent", agent, "--iterations", "1", "--no-report"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line).toMatchObject({
      status: "keep",
      description: "drop the zero bias",
      simplification: { lines: [4, 3], tokens: [18, 13] },
    });
    expect(line.verdict.rule).toBe("simplification");
    expect(result.stdout).toContain("drop the zero bias (-1 line, -5 tokens; kept as a simplification)");
    const prompt = readFileSync(join(root, line.prompt), "utf8");
    expect(prompt).toContain("SIMPLIFY:");
  });
});

/** The fixture's eval, plus a secondary metric the ranker's PRECISION constant sets (0.5 when absent). */
function evalWithPrecision(): string {
  return `${evalScript()}print(f"METRIC precision@3={getattr(ranker, 'PRECISION', 0.5):.4f}")\n`;
}

describe("tiebreak runs", () => {
  test("each run's tiebreak values are recorded and a restarted decision replays them", () => {
    const yaml = experimentYaml().replace(
      /^guard: .*$/m,
      (guard) => `${guard}\ntiebreaks: [{ metric: precision@3, direction: max }]`,
    );
    const root = baselined({ files: { "eval.py": evalWithPrecision(), "autoresearch.yaml": yaml } });
    const journalPath = join(root, "autoresearch.jsonl");
    const baselineLine = parseJournal(readFileSync(journalPath, "utf8")).results[0];
    expect(baselineLine.status).toBe("baseline");
    expect(baselineLine.tiebreak_runs).toEqual([{ "precision@3": 0.5 }, { "precision@3": 0.5 }, {
      "precision@3": 0.5,
    }]);

    writeFileSync(join(root, "ranker.py"), `${RANKER}PRECISION = 0.6\n`);
    const result = iterate(root, ["-m", "better precision, same score"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.tiebreak_runs.length).toBe(line.runs.length);
    for (const values of line.tiebreak_runs) expect(values).toEqual({ "precision@3": 0.6 });
    expect(line.incumbent_tiebreak_runs.length).toBe(line.incumbent_runs.length);
    for (const values of line.incumbent_tiebreak_runs) expect(values).toEqual({ "precision@3": 0.5 });

    // A new process rebuilds the decision from the journal: the runs carry their tiebreak values.
    const replay = replayDecisionState(
      parseJournal(readFileSync(journalPath, "utf8")),
      loadExperiment(join(root, "autoresearch.yaml")).experiment,
    );
    const replayed = line.status === "keep" ? replay.state.incumbentRuns : replay.state.incumbentRuns.slice(0, 3);
    expect(replayed.length).toBeGreaterThan(0);
    const expected = line.status === "keep" ? 0.6 : 0.5;
    for (const run of replayed) expect(run.tiebreaks).toEqual({ "precision@3": expected });
  });

  test("a tie on the score with a better tiebreak is kept by the tiebreak rule and the dashboard says so", () => {
    const yaml = experimentYaml().replace(
      /^guard: .*$/m,
      (guard) => `${guard}\ntiebreaks: [{ metric: precision@3, direction: max }]`,
    );
    const root = baselined({ files: { "eval.py": evalWithPrecision(), "autoresearch.yaml": yaml } });
    writeFileSync(join(root, "ranker.py"), `${RANKER}PRECISION = 0.6\n`);
    iterate(root, ["-m", "better precision, same score"]);
    const [line] = results(root);
    expect(line.status).toBe("keep");
    expect(line.verdict.rule).toBe("tiebreak");
    expect(line.verdict.tiebreak.metric).toBe("precision@3");
    expect(read(root, "autoresearch_dashboard.md")).toContain(
      "| keep | better precision, same score (kept on tiebreak precision@3) |",
    );
  });

  test("runsFromLine zips tiebreak values with their runs and skips what is not an object", () => {
    expect(runsFromLine([0.5, 0.6], [null, null], undefined, [{ p: 0.9 }, "junk"])).toEqual([
      { score: 0.5, guard: null, tiebreaks: { p: 0.9 } },
      { score: 0.6, guard: null },
    ]);
  });
});
