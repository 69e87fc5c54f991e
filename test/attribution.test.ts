// What an iteration changed, read from its diff: levers with old -> new values and direction,
// functions and methods whose bodies changed, other lines; and a change already measured is
// not measured again. End to end on real temporary repositories (iterate.ts as a subprocess,
// real Python and TypeScript evals), plus table tests of the pure diff, fingerprint and matching.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baselined, experimentYaml, pythonExperiment, RANKER } from "./experiment-fixture.ts";
import { BUN, KIT_ROOT, read, results, runScript, setLever, temporaryFolder, writeFiles } from "./helpers.ts";
import {
  attributeCandidate,
  changeHash,
  diffLines,
  earlierSameChange,
  type FileChange,
  sameChangeReason,
} from "../scripts/lib/iterate/attribution.ts";
import type { ResultLine } from "../scripts/lib/experiment/journal.ts";
import { chooseMove, rejectedMoves } from "../examples/agents/tune-levers.ts";

function iterate(root: string, args: string[]) {
  return runScript("iterate", args, { cwd: root });
}

function change(file: string, before: string | null, after: string | null): FileChange {
  return {
    file,
    before: before === null ? null : Buffer.from(before),
    after: after === null ? null : Buffer.from(after),
  };
}

describe("the line diff", () => {
  test.each([
    ["nothing changed", "a\nb\nc\n", "a\nb\nc\n", []],
    ["one line replaced", "a\nb\nc\n", "a\nB\nc\n", [{ beforeStart: 1, removed: 1, afterStart: 1, added: 1 }]],
    ["a line inserted", "a\nc\n", "a\nb\nc\n", [{ beforeStart: 1, removed: 0, afterStart: 1, added: 1 }]],
    ["a line deleted", "a\nb\nc\n", "a\nc\n", [{ beforeStart: 1, removed: 1, afterStart: 1, added: 0 }]],
    [
      "two separate edits",
      "a\nb\nc\nd\ne\n",
      "A\nb\nc\nD\ne\n",
      [{ beforeStart: 0, removed: 1, afterStart: 0, added: 1 }, {
        beforeStart: 3,
        removed: 1,
        afterStart: 3,
        added: 1,
      }],
    ],
  ])("%s", (_name, before, after, expected) => {
    expect(diffLines(before.split("\n").slice(0, -1), after.split("\n").slice(0, -1))).toEqual(expected);
  });
});

describe("the change's fingerprint", () => {
  const incumbent = "A = 1\nB = 2\n\ndef f(x):\n    return A * x + B\n";
  test("the same edit on another incumbent, or re-indented, has the same fingerprint", () => {
    const first = changeHash([change("ranker.py", incumbent, incumbent.replace("A = 1", "A = 3"))]);
    const later = "A = 1\nB = 5\nC = 7\n\ndef f(x):\n    return A * x + B + C\n";
    const again = changeHash([change("ranker.py", later, later.replace("A = 1", "A  =  3"))]);
    expect(first).not.toBeNull();
    expect(again).toBe(first);
  });

  test("a different value, another file or no change gives another fingerprint (or none)", () => {
    const first = changeHash([change("ranker.py", incumbent, incumbent.replace("A = 1", "A = 3"))]);
    expect(changeHash([change("ranker.py", incumbent, incumbent.replace("A = 1", "A = 4"))])).not.toBe(first);
    expect(changeHash([change("other.py", incumbent, incumbent.replace("A = 1", "A = 3"))])).not.toBe(first);
    expect(changeHash([change("ranker.py", incumbent, incumbent)])).toBeNull();
  });
});

describe("attribution of both versions", () => {
  test("a Python weights table gives one move per weight, a comparison its threshold, a body its method", async () => {
    const before = [
      "WEIGHTS = {",
      '    "title": 3.0,',
      '    "body": 1.0,',
      "}",
      "",
      "class Ranker:",
      "    def rank(self, score):",
      "        if score > 0.5:",
      "            return score * 2",
      "        return score",
      "",
    ].join("\n");
    const after = before.replace('"body": 1.0', '"body": 0.5').replace("> 0.5", "> 0.7").replace(
      "return score * 2",
      "return score * 3",
    );
    const attribution = await attributeCandidate([change("ranker.py", before, after)], { nameFiles: false });
    expect(attribution).toEqual({
      levers: [
        { name: 'WEIGHTS["body"]', from: "1.0", to: "0.5", direction: "down" },
        { name: "score", from: "0.5", to: "0.7", direction: "up" },
      ],
      functions: ["Ranker.rank"],
      other: false,
    });
  });

  test("TypeScript: an option default, a new constant, an edited function and lines outside any function", async () => {
    const before = [
      "export const LIMIT = 10;",
      "export function search(query: string, { threshold = 0.6 } = {}) {",
      "  return query.length * threshold;",
      "}",
      "",
    ].join("\n");
    const after = before.replace("threshold = 0.6", "threshold = 0.4").replace(
      "query.length * threshold",
      "query.trim().length * threshold",
    ) + 'export const MODE = "fast";\nconsole.log(MODE);\n';
    const attribution = await attributeCandidate([change("search.ts", before, after)], { nameFiles: false });
    expect(attribution).toEqual({
      levers: [
        { name: "search.threshold", from: "0.6", to: "0.4", direction: "down" },
        { name: "MODE", from: null, to: '"fast"', direction: "added" },
      ],
      functions: ["search"],
      other: true,
    });
  });

  test("a table of weights too long to show whole still gives the weight that moved", async () => {
    const keys = ["title", "subtitle", "summary", "body", "tags", "author", "venue", "abstract", "keywords"];
    const before = `FIELD_WEIGHTS = {${keys.map((key, index) => `"${key}": ${index + 1}.0`).join(", ")}}\n`;
    expect(before.length).toBeGreaterThan(120);
    const after = before.replace('"keywords": 9.0', '"keywords": 4.5');
    expect(await attributeCandidate([change("weights.py", before, after)], { nameFiles: true })).toEqual({
      levers: [{ name: 'FIELD_WEIGHTS["keywords"]', from: "9.0", to: "4.5", direction: "down", file: "weights.py" }],
      functions: [],
      other: false,
    });
  });

  test("a long prompt whose shown start is unchanged names the line that changed", async () => {
    const before = [
      'SYSTEM_PROMPT = """You are a careful assistant that ranks documents for a search query.',
      "Read every document, weigh its title and body, and answer with the best ids first.",
      'Never invent an id."""',
      "",
    ].join("\n");
    const after = before.replace("Never invent an id.", "Never invent an id; say none when nothing fits.");
    expect(await attributeCandidate([change("prompts.py", before, after)], { nameFiles: false })).toEqual({
      levers: [{
        name: "SYSTEM_PROMPT",
        from: '…Never invent an id."""',
        to: '…Never invent an id; say none when nothing fits."""',
        direction: "changed",
      }],
      functions: [],
      other: false,
    });
  });

  test("in a round of several files, a function is named with its file", async () => {
    const before = "def score(x):\n    return x\n";
    const attribution = await attributeCandidate([
      change("ranker.py", before, before.replace("return x", "return x + 1")),
      change("notes.md", "a\n", "b\n"),
    ], { nameFiles: true });
    expect(attribution).toEqual({ levers: [], functions: ["ranker.py:score"], other: true });
  });

  test("every Python version of every changed file is read by one python3 run", async () => {
    const folder = temporaryFolder("ark-attribution-python-");
    const calls = join(folder, "calls");
    const wrapper = join(folder, "python3");
    writeFileSync(wrapper, `#!/bin/sh\necho run >> "${calls}"\nexec python3 "$@"\n`);
    chmodSync(wrapper, 0o755);
    const attribution = await attributeCandidate([
      change("a.py", "A = 1\n", "A = 2\n"),
      change("b.py", "B = 1.5\n", "B = 0.5\n"),
    ], { nameFiles: true, pythonCommand: wrapper });
    expect(attribution?.levers).toEqual([
      { name: "A", from: "1", to: "2", direction: "up", file: "a.py" },
      { name: "B", from: "1.5", to: "0.5", direction: "down", file: "b.py" },
    ]);
    expect(readFileSync(calls, "utf8")).toBe("run\n");
  });

  test("no changed file: nothing to attribute", async () => {
    expect(await attributeCandidate([], { nameFiles: false })).toBeNull();
  });

  test("a version that does not parse leaves its lines to other lines, and nothing fails", async () => {
    const before = "A = 1\n\ndef f(x):\n    return A * x\n";
    const attribution = await attributeCandidate([change("ranker.py", before, before.replace("A = 1", "A = = 1"))], {
      nameFiles: false,
    });
    expect(attribution).toEqual({ levers: [], functions: [], other: true });
  });
});

describe("which earlier line a change repeats", () => {
  const line = (fields: Partial<ResultLine>): ResultLine => ({
    type: "result",
    iteration: 1,
    status: "discard",
    score: 0.7756,
    runs: [0.7756],
    change_hash: "abc",
    log: null,
    reason: null,
    ...fields,
  } as ResultLine);

  test.each([
    ["a measured discard", line({}), 1, "same change as #1 (discarded 0.7756)"],
    ["a guard failure", line({ status: "guard_fail" }), 1, "same change as #1 (failed the guard 0.7756)"],
    [
      "a crash of the candidate's eval",
      line({ status: "crash", score: null, runs: [], log: "x.log" }),
      1,
      "same change as #1 (crashed)",
    ],
    ["a scope discard (never scored)", line({ runs: [], score: null }), null, null],
    [
      "a crash of the incumbent's re-run",
      line({ status: "crash", log: "x.log", reason: "the incumbent's re-run crashed (a flaky eval?): boom" }),
      null,
      null,
    ],
    ["another change", line({ change_hash: "def" }), null, null],
  ])("%s", (_name, earlier, iteration, reason) => {
    const found = earlierSameChange([earlier], "abc");
    expect(found?.iteration ?? null).toBe(iteration);
    expect(found ? sameChangeReason(found) : null).toBe(reason);
  });
});

const TWO_WEIGHTS = `# Scores a document: the constrained file.
TITLE_WEIGHT = 1.0
BODY_WEIGHT = 0.0


def score(x):
    return TITLE_WEIGHT * x + BODY_WEIGHT
`;

describe("iterate records what the diff changed", () => {
  test("a description that names BODY_WEIGHT while the diff changes TITLE_WEIGHT is attributed to TITLE_WEIGHT", () => {
    const root = baselined({ files: { "ranker.py": TWO_WEIGHTS } });
    setLever(root, "TITLE_WEIGHT", "2.0");
    expect(iterate(root, ["-m", "raise BODY_WEIGHT"]).code).toBe(0);
    setLever(root, "TITLE_WEIGHT", "1.5");
    expect(iterate(root, ["-m", "lower BODY_WEIGHT a little"]).code).toBe(0);
    const [kept, discarded] = results(root);
    expect(kept.status).toBe("keep");
    expect(kept.attribution).toEqual({
      levers: [{ name: "TITLE_WEIGHT", from: "1.0", to: "2.0", direction: "up" }],
      functions: [],
      other: false,
    });
    expect(discarded.status).toBe("discard");
    expect(discarded.attribution).toEqual({
      levers: [{ name: "TITLE_WEIGHT", from: "2.0", to: "1.5", direction: "down" }],
      functions: [],
      other: false,
    });
    expect(kept.change_hash).toMatch(/^[0-9a-f]{16}$/);
    expect(discarded.change_hash).not.toBe(kept.change_hash);
  });

  test("under Deno too, the attribution is read while the eval runs", () => {
    const root = baselined({ files: { "ranker.py": TWO_WEIGHTS } });
    setLever(root, "TITLE_WEIGHT", "2.0");
    expect(runScript("iterate", ["-m", "raise BODY_WEIGHT"], { cwd: root, runtime: "deno" }).code).toBe(0);
    expect(results(root)[0].attribution).toEqual({
      levers: [{ name: "TITLE_WEIGHT", from: "1.0", to: "2.0", direction: "up" }],
      functions: [],
      other: false,
    });
  });

  test("a Python method-body edit is attributed to the method", () => {
    const ranker = `# A toy scoring module: the constrained file.
class Ranker:
    factor = 1.0

    def rank(self, x):
        return self.factor * x


def score(x):
    return Ranker().rank(x)
`;
    const root = baselined({ files: { "ranker.py": ranker } });
    writeFiles(root, { "ranker.py": ranker.replace("return self.factor * x", "return self.factor * x * 2") });
    expect(iterate(root, ["-m", "tune the weights"]).code).toBe(0);
    expect(results(root)[0].attribution).toEqual({ levers: [], functions: ["Ranker.rank"], other: false });
  });

  test("a TypeScript function-body edit is attributed to the function", () => {
    const rankerTs = `// A toy scoring module: the constrained file.
export const WEIGHT = 1.0;
export const BIAS = 0.0;

export function score(x: number): number {
  return WEIGHT * x + BIAS;
}
`;
    const evalTs = `import { readFileSync } from "node:fs";
import { score } from "./ranker.ts";
const { cases } = JSON.parse(readFileSync("cases.json", "utf8"));
let total = 0;
for (const item of cases) total += Math.max(0, 1 - Math.abs(score(item.input.x) - item.expected) / 10);
console.log(\`SCORE: \${(total / cases.length).toFixed(4)}\`);
console.log(\`  MRR: \${Math.min(1, total / cases.length + 0.1).toFixed(4)}\`);
`;
    const root = pythonExperiment({
      files: {
        "ranker.ts": rankerTs,
        "eval.ts": evalTs,
        "autoresearch.yaml": experimentYaml().replace("language: python", "language: typescript")
          .replace('signature: "def score(x)"', 'signature: "function score(x: number): number"')
          .replace("[ranker.py]", "[ranker.ts]")
          .replace("command: python3 eval.py, script: eval.py", `command: ${BUN} eval.ts, script: eval.ts`),
      },
    });
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    writeFiles(root, { "ranker.ts": rankerTs.replace("return WEIGHT * x + BIAS;", "return WEIGHT * x * 2 + BIAS;") });
    expect(iterate(root, ["-m", "raise BIAS"]).code).toBe(0);
    expect(results(root)[0].attribution).toEqual({ levers: [], functions: ["score"], other: false });
  });

  test("a round of several files names the file of each lever", () => {
    const ranker = `# A toy scoring module: the constrained file.
from config import OFFSET

WEIGHT = 1.0


def score(x):
    return WEIGHT * x + OFFSET
`;
    const root = baselined({
      files: {
        "ranker.py": ranker,
        "config.py": "# The offset the ranker adds.\nOFFSET = 0.0\n",
        "autoresearch.yaml": experimentYaml().replace("[ranker.py]", "[ranker.py, config.py]"),
      },
    });
    setLever(root, "WEIGHT", "2.0");
    setLever(root, "OFFSET", "1.0", { file: "config.py" });
    expect(iterate(root, ["-m", "both"]).code).toBe(0);
    const [line] = results(root);
    expect(line.attribution).toEqual({
      levers: [
        { name: "WEIGHT", from: "1.0", to: "2.0", direction: "up", file: "ranker.py" },
        { name: "OFFSET", from: "0.0", to: "1.0", direction: "up", file: "config.py" },
      ],
      functions: [],
      other: false,
    });
  });
});

describe("a change already measured is not measured again", () => {
  test("a resubmitted discarded change runs no eval, says which iteration it repeats, and is restored", () => {
    const outside = temporaryFolder("ark-attribution-");
    const counter = join(outside, "eval-runs");
    const root = baselined({
      evalPrelude: `open(${JSON.stringify(counter)}, "a").write("run\\n")`,
    });
    const runsSoFar = () => existsSync(counter) ? readFileSync(counter, "utf8").split("\n").filter(Boolean).length : 0;

    setLever(root, "WEIGHT", "0.5");
    expect(iterate(root, ["-m", "lower the weight"]).code).toBe(0);
    setLever(root, "BIAS", "1.0");
    expect(iterate(root, ["-m", "shift up"]).code).toBe(0);
    const [discarded, kept] = results(root);
    expect(discarded.status).toBe("discard");
    expect(kept.status).toBe("keep");

    // The same edit again, now on the new incumbent (BIAS = 1.0): recognised without a run.
    const before = runsSoFar();
    setLever(root, "WEIGHT", "0.5");
    const result = iterate(root, ["-m", "try a smaller weight"]);
    expect(result.code).toBe(0);
    expect(runsSoFar()).toBe(before);
    expect(result.stdout).toContain(`same change as #1`);
    const repeat = results(root)[2];
    expect(repeat).toMatchObject({ status: "discard", score: null, runs: [], change_hash: discarded.change_hash });
    expect(repeat.reason).toBe(`same change as #1 (discarded ${discarded.score.toFixed(4)})`);
    expect(repeat.attribution).toEqual(discarded.attribution);
    expect(read(root, "ranker.py")).toBe(RANKER.replace("BIAS = 0.0", "BIAS = 1.0"));
  });

  test("a change discarded for an edit out of scope was never measured: submitted again, it is measured", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "0.5");
    writeFiles(root, { "notes.txt": "the agent wrote here\n" });
    expect(iterate(root, ["-m", "out of scope"]).code).toBe(0);
    setLever(root, "WEIGHT", "0.5");
    expect(iterate(root, ["-m", "in scope this time"]).code).toBe(0);
    const [scope, measured] = results(root);
    expect(scope.runs).toEqual([]);
    expect(scope.change_hash).toBe(measured.change_hash);
    expect(scope.attribution).toEqual({
      levers: [{ name: "WEIGHT", from: "1.0", to: "0.5", direction: "down" }],
      functions: [],
      other: false,
    });
    expect(measured.status).toBe("discard");
    expect(measured.runs.length).toBeGreaterThan(0);
  });
});

describe("the offline tuner never proposes a tried move", () => {
  const line = (fields: Partial<ResultLine>): ResultLine => ({
    type: "result",
    iteration: 1,
    status: "discard",
    description: "",
    ...fields,
  } as ResultLine);
  const moved = (name: string, from: string, to: string, direction: "up" | "down") => ({
    levers: [{ name, from, to, direction }],
    functions: [],
    other: false,
  });

  test("rejected moves come from the attribution, not the description; descriptions only when there is none", () => {
    const rejected = rejectedMoves([
      line({ description: "tune BODY_WEIGHT: 1 -> 1.5 (up)", attribution: moved("TITLE_WEIGHT", "2.0", "3.0", "up") }),
      line({ status: "keep", description: "anything", attribution: moved('W["title"]', "1.0", "1.5", "up") }),
      line({ description: "tune BIAS: 0 -> 0.5 (up)" }),
      line({
        description: "two at once",
        attribution: {
          levers: [
            { name: "A", from: "1", to: "2", direction: "up" },
            { name: "B", from: "1", to: "2", direction: "up" },
          ],
          functions: [],
          other: false,
        },
      }),
    ]);
    expect([...rejected].sort()).toEqual(["BIAS 0 0.5", "TITLE_WEIGHT 2 3", "W.title 1.5 1"]);
  });

  test("a move the journal attributes is not chosen again, whatever its line's description said", () => {
    const targets = [{ name: "TITLE_WEIGHT", line: 2, value: 2, whole: false }];
    const rejected = rejectedMoves([
      line({ description: "raise BODY_WEIGHT", attribution: moved("TITLE_WEIGHT", "2.0", "3.0", "up") }),
    ]);
    for (let seed = 1; seed <= 4; seed++) {
      const move = chooseMove(targets, rejected, seed);
      expect(move).toMatchObject({ lever: "TITLE_WEIGHT", from: 2, direction: "down" });
    }
  });

  test("a loop of 8 tuner iterations submits no change twice", () => {
    const root = baselined();
    const agent = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
    const result = iterate(root, ["--loop", "--agent", agent, "--iterations", "8", "--no-report"]);
    expect(result.code).toBe(0);
    const lines = results(root);
    expect(lines).toHaveLength(8);
    for (const each of lines) expect(each.attribution?.levers).toHaveLength(1);
    expect(lines.filter((each) => (each.reason ?? "").startsWith("same change as"))).toEqual([]);
  });
});
