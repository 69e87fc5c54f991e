// iterate.ts end to end: real temporary git repositories, real Python evals, the real
// script as a subprocess under Bun (and Deno). Each test builds its own experiment
// with test/experiment-fixture.ts, baselines it, edits the constrained file the way
// an agent would, and checks the journal, git and the work tree afterwards.
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baselined, casesJson, evalScript, experimentYaml, pythonExperiment, RANKER } from "./experiment-fixture.ts";
import {
  BUN,
  harnessCommits,
  journal,
  KIT_ROOT,
  makeRepo,
  read,
  results,
  runScript,
  type Runtime,
  setLever,
  sh,
  temporaryFolder,
  waitForSync,
} from "./helpers.ts";
import { lastErrorLine } from "../scripts/lib/process/evaluator.ts";

function iterate(root: string, args: string[], runtime: Runtime = "bun") {
  return runScript("iterate", args, { cwd: root, runtime });
}

describe("iterate step mode", () => {
  test("iterate keeps a real improvement and commits only the constrained file with the seed's message", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    const result = iterate(root, ["-m", "raise weight to 2", "--json"]);
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout);
    expect(output.status).toBe("keep");
    expect(output.score).toBe(0.2812);
    expect(output.delta).toBe("+0.1249");
    const [line] = results(root);
    expect(line).toMatchObject({
      iteration: 1,
      status: "keep",
      score: 0.2812,
      guard_score: 0.3812,
      guard_pass: true,
      description: "raise weight to 2",
    });
    expect(line.runs).toEqual([0.2812, 0.2812]); // deterministic: one run and one confirmation
    const message = sh(root, "git", ["log", "-1", "--format=%s"]).trim();
    expect(message).toBe("autoresearch: raise weight to 2 | score: 0.1563 -> 0.2812 | mrr: 0.3812");
    expect(sh(root, "git", ["show", "--name-only", "--format=", "HEAD"]).trim()).toBe("ranker.py");
    expect(line.commit).toBe(sh(root, "git", ["rev-parse", "--short=7", "HEAD"]).trim());
    expect(read(root, "autoresearch_dashboard.md")).toContain(
      "| 1 | 0.2812 | +0.1249 | 0.3812 PASS | keep | raise weight to 2 |",
    );
  });

  test("iterate discards a worse change, restores the file and archives the diff as a patch", () => {
    const root = baselined();
    const head = sh(root, "git", ["rev-parse", "HEAD"]);
    setLever(root, "BIAS", "-5.0");
    const result = iterate(root, ["-m", "bias -5"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toStartWith("#1 discard | score 0.0375 (-0.1188) over 1 run");
    expect(result.stdout).toContain("| broke 5 cases (c0, c1, c2 +2 more) |"); // the CASE lines: cases 0-4 scored above 0 before
    expect(result.stdout).not.toContain("fixed");
    expect(read(root, "ranker.py")).toBe(RANKER);
    expect(sh(root, "git", ["rev-parse", "HEAD"])).toBe(head);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(read(root, line.patch)).toContain("+BIAS = -5.0");
  });

  test("iterate records a crash with the output tail and the log path, and restores the file", () => {
    const root = baselined();
    appendFileSync(join(root, "ranker.py"), "raise SystemExit('broken on purpose')\n");
    const result = iterate(root, ["-m", "break it"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line).toMatchObject({
      status: "crash",
      score: null,
      reason: 'the eval exited with code 1 ("broken on purpose")',
    });
    expect(result.stdout).toContain(`#1 crash | crashed: ${line.reason} | log ${line.log} |`);
    expect(line.output_tail).toContain("broken on purpose");
    expect(existsSync(join(root, line.log))).toBe(true);
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("iterate marks guard_fail when the score improves but the guard metric crosses its threshold", () => {
    const root = baselined({ guardOp: "<=", guardThreshold: 0.3 });
    setLever(root, "WEIGHT", "2.0");
    iterate(root, ["-m", "better score, guard broken"]);
    const [line] = results(root);
    expect(line).toMatchObject({ status: "guard_fail", score: 0.2812, guard_score: 0.3812, guard_pass: false });
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("iterate turns an eval past its timeout into a crash with reason 'timeout after N s'", () => {
    const root = baselined({
      timeoutS: 2,
      evalPrelude: "import time\nif 'SLOW' in open('ranker.py').read(): time.sleep(90)",
    });
    appendFileSync(join(root, "ranker.py"), "# SLOW\n");
    const started = Date.now();
    iterate(root, ["-m", "slow"]);
    expect(Date.now() - started).toBeLessThan(80_000); // stopped long before the eval's own 90 s
    expect(results(root)[0]).toMatchObject({ status: "crash", reason: "timeout after 2 s" });
    expect(spawnSync("pgrep", ["-f", "time.sleep"]).status).not.toBe(0);
  });

  test("iterate keeps a lower score when the metric is minimized", () => {
    const root = baselined({ direction: "min" });
    setLever(root, "WEIGHT", "2.0");
    iterate(root, ["-m", "lower is better"]);
    const [line] = results(root);
    expect(line).toMatchObject({ status: "keep", score: 0.7188, delta: "-0.1250" });
  });

  test("iterate restores a tracked file changed outside the constrained file and discards with its name", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    appendFileSync(join(root, "notes.txt"), "the agent wrote here\n");
    const result = iterate(root, ["-m", "out of scope"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(line.reason).toContain("notes.txt");
    expect(read(root, "notes.txt")).toBe("the user's own file\n");
    expect(read(root, "ranker.py")).toBe(RANKER);
    expect(read(root, line.patch)).toContain("+the agent wrote here"); // the out-of-scope edit is archived, not lost
  });

  test("iterate leaves files the agent added, or a user's file it staged, in place and says so", () => {
    const root = pythonExperiment();
    writeFileSync(join(root, "users-draft.txt"), "the user's untracked draft\n");
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    setLever(root, "WEIGHT", "2.0");
    writeFileSync(join(root, "agent-notes.md"), "the agent's scratch file\n");
    sh(root, "git", ["add", "-A"]); // an agent sweeping everything into the index
    const result = iterate(root, ["-m", "with git add -A"]);
    expect(result.code).toBe(0);
    expect(results(root)[0].status).toBe("keep");
    expect(read(root, "users-draft.txt")).toBe("the user's untracked draft\n");
    expect(read(root, "agent-notes.md")).toBe("the agent's scratch file\n");
    expect(sh(root, "git", ["show", "--name-only", "--format=", "HEAD"]).trim()).toBe("ranker.py");
    expect(sh(root, "git", ["ls-files", "autoresearch.jsonl", "autoresearch_dashboard.md"]).trim()).toBe("");
  });

  test("iterate refuses to score when the eval script was tampered with, naming it", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    appendFileSync(join(root, "eval.py"), "print('SCORE: 1.0')\n");
    const result = iterate(root, ["-m", "gaming"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Frozen file "eval.py" changed');
    expect(result.stderr).toContain("baseline.ts --force");
    expect(results(root)).toHaveLength(0);
  });

  test("iterate refuses to score when the test data was tampered with, naming it", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    writeFileSync(join(root, "cases.json"), read(root, "cases.json").replace('"expected": 1', '"expected": 2'));
    const result = iterate(root, ["-m", "gaming the data"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Frozen file "cases.json" changed');
  });

  test("iterate refuses with exit 2 when the file equals the incumbent", () => {
    const root = baselined();
    const result = iterate(root, ["-m", "nothing"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Nothing to evaluate");
  });

  test("iterate evaluates an agent's own commit, squashes it into one harness commit and archives the original", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    sh(root, "git", ["commit", "-qm", "agent did this", "ranker.py"]);
    const agentCommit = sh(root, "git", ["rev-parse", "HEAD"]).trim();
    iterate(root, ["-m", "agent commit"]);
    expect(results(root)[0].status).toBe("keep");
    expect(sh(root, "git", ["log", "-1", "--format=%s"])).toStartWith(
      "autoresearch: agent commit | score: 0.1563 -> 0.2812",
    );
    expect(sh(root, "git", ["log", "--format=%s"])).not.toContain("agent did this");
    expect(sh(root, "git", ["for-each-ref", "--format=%(objectname)", "refs/autoresearch/"]).trim()).toBe(agentCommit);
  });

  test("iterate returns the branch to the incumbent when an agent's commit is discarded, losing nothing", () => {
    const root = baselined();
    const incumbent = sh(root, "git", ["rev-parse", "HEAD"]).trim();
    setLever(root, "BIAS", "-5.0");
    sh(root, "git", ["commit", "-qm", "agent made it worse", "ranker.py"]);
    const agentCommit = sh(root, "git", ["rev-parse", "HEAD"]).trim();
    iterate(root, ["-m", "worse commit"]);
    expect(results(root)[0].status).toBe("discard");
    expect(sh(root, "git", ["rev-parse", "HEAD"]).trim()).toBe(incumbent);
    expect(read(root, "ranker.py")).toBe(RANKER);
    expect(sh(root, "git", ["show", `${agentCommit}:ranker.py`])).toContain("BIAS = -5.0");
  });

  test("iterate stores descriptions with quotes, $(...), backticks and newlines literally and runs none of them", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    const description = `it's "quoted" $(touch pwned1) \`touch pwned2\` ; touch pwned3\nsecond line`;
    iterate(root, ["-m", description]);
    expect(results(root)[0].description).toBe(description);
    expect(sh(root, "git", ["log", "-1", "--format=%B"])).toContain(
      `$(touch pwned1) \`touch pwned2\` ; touch pwned3\nsecond line`,
    );
    for (const name of ["pwned1", "pwned2", "pwned3"]) expect(existsSync(join(root, name))).toBe(false);
  });

  test("iterate reports a busy experiment with exit 75 and recovers a stale lock with a note", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    const sleeper = spawn("sleep", ["30"]);
    writeFileSync(
      join(root, ".autoresearch/lock"),
      JSON.stringify({ pid: sleeper.pid, command: "iterate.ts", started_at: "then" }),
    );
    const busy = iterate(root, ["-m", "locked out"]);
    sleeper.kill();
    expect(busy.code).toBe(75);
    expect(busy.stderr).toContain(`pid ${sleeper.pid}`);
    writeFileSync(
      join(root, ".autoresearch/lock"),
      JSON.stringify({ pid: 999_999, command: "iterate.ts", started_at: "then" }),
    );
    const recovered = iterate(root, ["-m", "after a crash"]);
    expect(recovered.code).toBe(0);
    expect(recovered.stderr).toContain("stale lock");
    expect(existsSync(join(root, ".autoresearch/lock"))).toBe(false);
  });

  test("iterate appends cleanly after a torn last journal line and warns about it", () => {
    const root = baselined();
    appendFileSync(join(root, "autoresearch.jsonl"), '{"type":"result","iteration":');
    setLever(root, "WEIGHT", "2.0");
    const result = iterate(root, ["-m", "after a torn line"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("skipped");
    const lines = readFileSync(join(root, "autoresearch.jsonl"), "utf8").split("\n").filter(Boolean);
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ iteration: 1, status: "keep" });
  });

  test("iterate leaves the user's uncommitted work byte-identical over 20 iterations", () => {
    // The user's work in progress exists before the loop starts; the harness must never touch it.
    const root = pythonExperiment({ budget: 40 });
    appendFileSync(join(root, "notes.txt"), "uncommitted line\n");
    writeFileSync(join(root, "scratch.txt"), "untracked scratch\n");
    writeFileSync(join(root, "staged.txt"), "staged but not committed\n");
    sh(root, "git", ["add", "staged.txt"]);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const before = ["notes.txt", "scratch.txt", "staged.txt"].map((path) => read(root, path));
    for (let index = 1; index <= 20; index++) {
      setLever(root, "BIAS", index % 2 ? `${index / 10}` : `-${index}.0`);
      const result = iterate(root, ["-m", `try ${index}`]);
      expect(result.code).toBe(0);
    }
    expect(["notes.txt", "scratch.txt", "staged.txt"].map((path) => read(root, path))).toEqual(before);
    expect(results(root)).toHaveLength(20);
    expect(harnessCommits(root)).toHaveLength(results(root).filter((line) => line.status === "keep").length);
  });

  test("iterate under noise re-runs the candidate and the incumbent and still keeps a large gain", () => {
    const root = baselined({ noise: 0.01 });
    setLever(root, "WEIGHT", "2.0");
    iterate(root, ["-m", "big gain under noise"]);
    const [line] = results(root);
    expect(line.status).toBe("keep");
    expect(line.verdict.mode).toBe("sequential");
    expect(line.verdict.statistic).toBeGreaterThan(line.verdict.threshold);
    setLever(root, "BIAS", "0.0001");
    iterate(root, ["-m", "a no-op under noise"]);
    const second = results(root)[1];
    // Shared incumbent runs: the new incumbent is judged on the runs that selected it plus any run beside this one.
    expect(second.reason).toContain(`against the incumbent's`);
    expect(second.reason).toContain(` over ${line.runs.length + second.incumbent_runs.length} (`);
  });

  test("under the earlier rule (fresh_incumbent_runs: 2) a new incumbent gets two fresh runs first", () => {
    const root = baselined({ noise: 0.01, freshIncumbentRuns: 2 });
    setLever(root, "WEIGHT", "2.0");
    iterate(root, ["-m", "big gain under noise"]);
    expect(results(root)[0].status).toBe("keep");
    setLever(root, "BIAS", "0.0001");
    iterate(root, ["-m", "a no-op under noise"]);
    expect(results(root)[1].incumbent_runs.length).toBeGreaterThanOrEqual(2); // fresh runs of the new incumbent
  });
});

describe("iterate in a subdirectory", () => {
  test("iterate works on an experiment kept in a subdirectory and guards files elsewhere in the repository", () => {
    const root = makeRepo({
      "search/ranker.py": RANKER,
      "search/eval.py": evalScript(),
      "search/cases.json": casesJson(),
      "search/autoresearch.yaml": experimentYaml(),
      "README.md": "top level\n",
    });
    writeFileSync(
      join(root, ".git/info/exclude"),
      ".autoresearch/\nautoresearch*.jsonl\nautoresearch_dashboard*.md\nautoresearch_progress*.svg\n__pycache__/\n",
    );
    const experiment = join(root, "search");
    expect(runScript("baseline", [], { cwd: experiment }).code).toBe(0);
    setLever(experiment, "WEIGHT", "2.0");
    expect(iterate(experiment, ["-m", "keep in a subdirectory"]).code).toBe(0);
    expect(results(experiment)[0].status).toBe("keep");
    expect(sh(root, "git", ["show", "--name-only", "--format=", "HEAD"]).trim()).toBe("search/ranker.py");
    setLever(experiment, "WEIGHT", "3.0");
    appendFileSync(join(root, "README.md"), "edited by the agent\n");
    iterate(experiment, ["-m", "touches the top level"]);
    expect(results(experiment)[1].reason).toContain("../README.md");
    expect(read(root, "README.md")).toBe("top level\n");
    expect(read(experiment, "ranker.py")).toContain("WEIGHT = 2.0");
  });
});

describe("iterate interruptions", () => {
  function slowCandidateRepo(): string {
    return baselined({ evalPrelude: "import time\nif 'SLOW' in open('ranker.py').read(): time.sleep(30)" });
  }

  function candidateLogExists(root: string): boolean {
    const directory = join(root, ".autoresearch/logs/round1");
    return existsSync(directory) && readdirSync(directory).some((name) => name.includes("candidate"));
  }

  test("SIGINT mid-eval stops the eval tree, writes no line, leaves the candidate and releases the lock", async () => {
    const root = slowCandidateRepo();
    setLever(root, "WEIGHT", "2.0");
    appendFileSync(join(root, "ranker.py"), "# SLOW\n");
    const candidate = read(root, "ranker.py");
    const child = spawn(BUN, [join(KIT_ROOT, "scripts/iterate.ts"), "-m", "interrupted"], {
      cwd: root,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    waitForSync("the candidate's eval to start", () => candidateLogExists(root), 20_000);
    Bun.sleepSync(300);
    child.kill("SIGINT");
    const code = await new Promise((resolve) => child.on("close", resolve));
    expect(code).toBe(130);
    expect(results(root)).toHaveLength(0);
    expect(read(root, "ranker.py")).toBe(candidate);
    expect(existsSync(join(root, ".autoresearch/lock"))).toBe(false);
    Bun.sleepSync(300);
    expect(spawnSync("pgrep", ["-f", "time.sleep"]).status).not.toBe(0);
  });

  test("kill -9 at any moment, then a re-run, leaves journal and git consistent", async () => {
    const root = baselined({ budget: 60 });
    for (const delayMs of [30, 120, 250, 400, 600, 900]) {
      setLever(root, "BIAS", `${delayMs / 1000}`);
      const child = spawn(BUN, [join(KIT_ROOT, "scripts/iterate.ts"), "-m", `kill at ${delayMs}`], {
        cwd: root,
        detached: true,
      });
      Bun.sleepSync(delayMs);
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch { /* finished already */ }
      await new Promise((resolve) => child.on("close", resolve));
      Bun.sleepSync(50);
      // Resume: finish the step if it was decided, else evaluate it afresh (or nothing is left).
      const again = iterate(root, ["-m", `resume after ${delayMs}`]);
      expect([0, 2]).toContain(again.code ?? -1);
      const lines = results(root);
      const iterations = lines.map((line) => line.iteration);
      expect(new Set(iterations).size).toBe(iterations.length); // no duplicate iteration
      const keeps = lines.filter((line) => line.status === "keep");
      expect(harnessCommits(root).length).toBe(keeps.length);
      const lastKeep = keeps.at(-1);
      if (lastKeep) expect(sh(root, "git", ["rev-parse", "--short=7", "HEAD"]).trim()).toBe(lastKeep.commit);
      expect(sh(root, "git", ["status", "--porcelain", "ranker.py"]).trim()).toBe("");
    }
  });
});

describe("iterate loop mode", () => {
  test("a loop of 10 iterations with the offline agent ends with a coherent journal, a commit per keep and a dashboard", () => {
    const root = baselined();
    const agent = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
    const result = iterate(root, ["--loop", "--agent", agent, "--iterations", "10", "--final-report"]);
    expect(result.code).toBe(0);
    const lines = results(root);
    expect(lines).toHaveLength(10);
    expect(lines.map((line) => line.iteration)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const line of lines) expect(line.description).toMatch(/^tune (WEIGHT|BIAS): /);
    const keeps = lines.filter((line) => line.status === "keep");
    expect(keeps.length).toBeGreaterThan(0);
    const commits = harnessCommits(root, { abbreviated: true });
    expect(commits.length).toBe(keeps.length);
    expect(commits.reverse()).toEqual(keeps.map((line) => line.commit));
    expect(read(root, "autoresearch_dashboard.md")).toContain(`**Kept:** ${keeps.length}`);
    expect(read(root, "autoresearch_report.md")).toContain("Tuner report");
    expect(result.stderr).toContain("Loop stopped: ran the 10 iterations asked for");
  });

  test("the loop stops on a plateau with exit 4", () => {
    const root = baselined({ plateau: 2 });
    const agent = `bash -c 'echo DESCRIPTION: nothing useful'`;
    const result = iterate(root, ["--loop", "--agent", agent, "--iterations", "10", "--no-report"]);
    expect(result.code).toBe(4);
    expect(results(root)).toHaveLength(2);
    expect(results(root)[0].reason).toContain("changed nothing");
  });

  test("the loop counts a failing agent as a crash and stops after 3 in a row with exit 5", () => {
    const root = baselined();
    const result = iterate(root, ["--loop", "--agent", "exit 7", "--no-report"]);
    expect(result.code).toBe(5);
    const lines = results(root);
    expect(lines).toHaveLength(3);
    expect(lines[0].reason).toContain("exited with code 7");
  });

  test("the loop gives the agent the state prompt on stdin and in AUTORESEARCH_PROMPT_FILE", () => {
    const root = baselined();
    const seen = temporaryFolder("ark-agent-saw-"); // outside the repository: the agent's own files there are moved aside
    const agent =
      `cat > ${seen}/prompt-stdin.txt; cp "$AUTORESEARCH_PROMPT_FILE" ${seen}/prompt-file.txt; echo "$AUTORESEARCH_ITERATION" > ${seen}/iteration.txt; sed -i 's/^WEIGHT = .*/WEIGHT = 2.0/' ranker.py; echo 'DESCRIPTION: weight two'`;
    const result = iterate(root, ["--loop", "--agent", agent, "--iterations", "1", "--no-report"]);
    expect(result.code).toBe(0);
    const prompt = read(seen, "prompt-stdin.txt");
    expect(prompt).toBe(read(seen, "prompt-file.txt"));
    expect(prompt).toContain("ranker.py");
    expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(2048);
    expect(read(seen, "iteration.txt").trim()).toBe("1");
    expect(results(root)[0]).toMatchObject({ status: "keep", description: "weight two" });
  });
});

describe("iterate final report", () => {
  test("iterate --final-report drafts the seed's report from the journal when there is no agent, and the dashboard keeps it", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    iterate(root, ["-m", "raise weight to 2"]);
    setLever(root, "BIAS", "-5.0");
    iterate(root, ["-m", "negative bias"]);
    const result = iterate(root, ["--final-report"]);
    expect(result.code).toBe(0);
    const report = read(root, "autoresearch_report.md");
    expect(report).toContain("Start: 0.1563; final: 0.2812");
    expect(report).toContain("#1 raise weight to 2");
    expect(report).toContain("discarded (-0.2187, #2)"); // in the lessons, by the lever its diff moved
    expect(read(root, "autoresearch_dashboard.md")).toContain("Start: 0.1563; final: 0.2812");
  });
});

describe("iterate under Deno", () => {
  test("iterate keeps and discards under deno run -A", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    expect(iterate(root, ["-m", "deno keep"], "deno").code).toBe(0);
    setLever(root, "BIAS", "-5.0");
    expect(iterate(root, ["-m", "deno discard"], "deno").code).toBe(0);
    expect(results(root).map((line) => line.status)).toEqual(["keep", "discard"]);
    expect(read(root, "ranker.py")).toContain("WEIGHT = 2.0");
  });
});

describe("iterate says why", () => {
  test("a Python syntax error's step line, journal reason and dashboard name the error and the offending line", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = = 2.0"));
    const result = iterate(root, ["-m", "a typo"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("crash");
    expect(line.reason).toBe(
      'the eval exited with code 1 ("SyntaxError: invalid syntax (ranker.py line 2: WEIGHT = = 2.0)")',
    );
    expect(result.stdout).toContain("SyntaxError: invalid syntax");
    expect(result.stdout).toContain("WEIGHT = = 2.0");
    expect(result.stdout).toContain(`| log ${line.log}`);
    expect(existsSync(join(root, line.log))).toBe(true);
    expect(read(root, "autoresearch_dashboard.md")).toContain("SyntaxError: invalid syntax");
  });

  test("a TypeScript eval's crash names its Error message and where it was thrown", () => {
    const rankerTs = `// A toy scoring module: the constrained file.
export const WEIGHT = 1.0;
export const BIAS = 0.0;

export function score(x: number): number {
  if (WEIGHT < 0) throw new Error(\`WEIGHT must not be negative, got \${WEIGHT}\`);
  return WEIGHT * x + BIAS;
}
`;
    const evalTs = `import { readFileSync } from "node:fs";
import { score } from "./ranker.ts";
const { cases } = JSON.parse(readFileSync("cases.json", "utf8"));
let total = 0;
for (const item of cases) {
  const value = Math.max(0, 1 - Math.abs(score(item.input.x) - item.expected) / 10);
  total += value;
  console.log(\`CASE \${item.id} \${value.toFixed(4)}\`);
}
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
    setLever(root, "WEIGHT", "-1.0", { file: "ranker.ts" });
    const result = iterate(root, ["-m", "negative weight"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("crash");
    expect(line.reason).toContain("WEIGHT must not be negative, got -1");
    expect(line.reason).toContain("ranker.ts line 6");
    expect(result.stdout).toContain("WEIGHT must not be negative, got -1");
    expect(result.stdout).toContain(`| log ${line.log}`);
  });

  test("the step line names the first cases a change fixed and broke", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "4.0");
    setLever(root, "BIAS", "-11.0");
    const result = iterate(root, ["-m", "steeper, shifted down"]);
    expect(result.code).toBe(0);
    expect(results(root)[0].cases).toEqual({
      fixed: ["c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12", "c13", "c14", "c15"],
      broken: ["c0", "c1", "c2", "c3"],
    });
    expect(result.stdout).toContain("| fixed 12 cases (c4, c5, c6 +9 more); broke 4 cases (c0, c1, c2 +1 more) |");
  });

  test("an unscored discard says it was not scored and why", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    appendFileSync(join(root, "notes.txt"), "the agent wrote here\n");
    const result = iterate(root, ["-m", "out of scope"]);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.score).toBeNull();
    expect(result.stdout).toStartWith(`#1 discard | not scored: ${line.reason}`);
    expect(result.stdout).not.toContain("— "); // the reason is said once
  });
});

describe("the last meaningful error line of an eval's output", () => {
  test.each([
    [
      "a Python traceback: the final exception, its innermost frame and source",
      'Traceback (most recent call last):\n  File "/repo/eval.py", line 9, in <module>\n    rank(q)\n  File "/repo/search.py", line 4, in rank\n    return table[q]\n           ~~~~~^^^\nKeyError: \'title\'',
      "KeyError: 'title' (search.py line 4: return table[q])",
    ],
    [
      "a chained Python exception: the last one wins",
      'Traceback (most recent call last):\n  File "/repo/a.py", line 2, in <module>\nValueError: bad\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File "/repo/a.py", line 4, in <module>\n    raise RuntimeError("worse")\nRuntimeError: worse',
      'RuntimeError: worse (a.py line 4: raise RuntimeError("worse"))',
    ],
    [
      "Node: the Error line and its first frame",
      "/repo/rank.js:3\n  throw new TypeError('no query');\n  ^\n\nTypeError: no query\n    at rank (/repo/rank.js:3:9)\n    at main (/repo/eval.js:8:3)\n\nNode.js v20.11.0",
      "TypeError: no query (rank.js line 3)",
    ],
    [
      "Bun: the error line, its frame and Bun's source line",
      '4 | export function rank(q: string) {\n5 |   throw new Error("index not built");\n                ^\nerror: index not built\n      at rank (/repo/rank.ts:5:9)\n\nBun v1.2.0 (Linux x64)',
      'error: index not built (rank.ts line 5: throw new Error("index not built");)',
    ],
    [
      "Deno: the uncaught prefix dropped, colours stripped",
      "\x1b[1m\x1b[31merror\x1b[0m: Uncaught (in promise) Error: index not built\n    at rank (file:///repo/rank.ts:5:9)",
      "Error: index not built (rank.ts line 5)",
    ],
    ["no error-looking line: the last plain line", "CASE a 1.0000\nbroken on purpose\n----", "broken on purpose"],
    ["only contract lines", "CASE a 1.0000\nSCORE: 0.5\n  MRR: 0.6", null],
  ])("%s", (_name, tail, expected) => {
    expect(lastErrorLine(tail, "/repo")).toBe(expected);
  });
});
