// iterate --loop --parallel N on real repositories with the real Python eval: the journal stays
// coherent (iterations numbered in decision order, each with its worker and the incumbent it was
// made on), keeps are exactly the branch's commits, no measured candidate is judged against an
// incumbent other than the one it was made on, a stale keep that conflicts is reported as such
// and one that does not is carried over and measured again; kill -9 of the coordinator, then a
// resume, loses and duplicates nothing. One run under Deno.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BUN,
  journal,
  KIT_ROOT,
  type Line,
  PATH_WITH_KIT_RUNTIMES,
  read,
  results,
  runScript,
  sh,
  sha256,
  temporaryFolder,
  waitFor,
} from "./helpers.ts";
import { baselined, pythonExperiment } from "./experiment-fixture.ts";
import { bashAgent } from "./agent-fixture.ts";

const TUNER = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
const env = { PATH: PATH_WITH_KIT_RUNTIMES };

function git(cwd: string, ...args: string[]): string {
  return sh(cwd, "git", args).trim();
}

/** iterate --loop with `workers` parallel workers for `iterations` iterations, in `root`. */
function parallelLoop(root: string, agent: string, workers: number, iterations: number) {
  return runScript("iterate", [
    "--loop",
    "--agent",
    agent,
    "--parallel",
    String(workers),
    "--iterations",
    String(iterations),
  ], {
    cwd: root,
    env,
  });
}

/** The commits on the experiment branch after the baseline's, oldest first, abbreviated to 7. */
function keptCommits(root: string): string[] {
  const baseline = journal(root).find((line) => line.status === "baseline")!.commit;
  return git(root, "rev-list", "--reverse", `${baseline}..HEAD`).split("\n").filter(Boolean).map((commit) =>
    commit.slice(0, 7)
  );
}

/**
 * The journal's promises under parallel workers: iterations 1..n once each, every line with its
 * worker and base; keeps are the branch's commits; a line measured with runs was measured against
 * the incumbent of its time (the keep before it, else the baseline), and every other line says why not.
 */
function expectCoherent(root: string, lines: Line[] = results(root)): void {
  expect(lines.map((line) => line.iteration)).toEqual(lines.map((_, index) => index + 1));
  const keeps = lines.filter((line) => line.status === "keep");
  expect(keptCommits(root)).toEqual(keeps.map((line) => line.commit.slice(0, 7)));
  let incumbent = journal(root).find((line) => line.status === "baseline")!.commit.slice(0, 7);
  for (const line of lines) {
    expect(line.worker).toMatch(/^w\d+$/);
    expect(typeof line.base_commit).toBe("string");
    if (line.runs?.length) expect(line.base_commit.slice(0, 7)).toBe(incumbent);
    else if (line.base_commit.slice(0, 7) !== incumbent && line.status !== "crash") {
      expect(line.reason).toMatch(
        /its own incumbent|conflicts with the keeps since|already holds its change|same change/,
      );
    }
    if (line.status === "keep") incumbent = line.commit.slice(0, 7);
  }
  expect(git(root, "status", "--porcelain")).toBe("");
}

/** WEIGHT and BIAS far apart, so a change to one applies onto a keep of the other. */
const FAR_APART_LEVERS = "WEIGHT = 1.0\n\n\n\n\n\nBIAS = 0.0\n\n\ndef score(x):\n    return WEIGHT * x + BIAS\n";

/** An agent whose worker sets one lever each: [lever, value, description, seconds to wait first]. */
function leverAgent(root: string, moves: Record<string, [string, string, string, number?]>): string {
  const cases = Object.entries(moves).map(([worker, [lever, value, description, wait]]) =>
    `  ${worker}) ${
      wait ? `sleep ${wait}; ` : ""
    }sed -i 's/^${lever} = .*/${lever} = ${value}/' ranker.py; echo "DESCRIPTION: ${description}" ;;`
  );
  return bashAgent(root, "agent", `set -e\ncase "$AUTORESEARCH_WORKER" in\n${cases.join("\n")}\nesac\n`);
}

describe("iterate --loop --parallel", () => {
  test("3 workers with the offline agent: a coherent journal, keeps are the branch's commits", () => {
    const root = baselined({ noise: 0.01 });
    const result = parallelLoop(root, TUNER, 3, 12);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("3 workers, each in its own tree");
    const lines = results(root);
    expect(lines.length).toBe(12);
    expect(new Set(lines.map((line) => line.worker))).toEqual(new Set(["w1", "w2", "w3"]));
    expect(lines.some((line) => line.status === "keep")).toBe(true);
    expectCoherent(root, lines);
    // The workers' trees are the kit's own, under .autoresearch/workers, invisible to git status.
    expect(existsSync(join(root, ".autoresearch/workers/w3/ranker.py"))).toBe(true);
    // The dashboard counts each worker's candidates.
    const dashboard = runScript("dashboard", ["--format", "json"], { cwd: root });
    const summary = JSON.parse(dashboard.stdout).summary;
    expect(summary.iterations.done).toBe(12);
    expect(summary.workers.map((activity: Line) => activity.worker)).toEqual(["w1", "w2", "w3"]);
    expect(summary.workers.reduce((sum: number, activity: Line) => sum + activity.candidates, 0)).toBe(12);
    expect(readFileSync(join(root, "autoresearch_dashboard.md"), "utf8")).toMatch(
      /\*\*Workers:\*\* w1 \d+ candidates? \(/,
    );
    const html = runScript("dashboard", ["--format", "html", "--no-write"], { cwd: root });
    expect(html.stdout).toMatch(/<b>Workers:<\/b> w1 \d+ candidates? \(/);
  }, 120_000);

  test("a stale keep: carried onto the new incumbent and measured again, or discarded as a conflict", () => {
    const root = baselined({ noise: 0.01, files: { "ranker.py": FAR_APART_LEVERS } });
    // w1 fixes WEIGHT at once; w2 and w3 take longer, so theirs are made on the baseline and finish after w1's keep.
    const agent = leverAgent(root, {
      w1: ["WEIGHT", "3.0", "weight 3"],
      w2: ["BIAS", "1.0", "bias 1", 2],
      w3: ["WEIGHT", "2.9", "weight 2.9", 2],
    });
    const result = runScript(
      "iterate",
      ["--loop", "--agent", agent, "--parallel", "3", "--iterations", "3"],
      {
        cwd: root,
        env,
      },
    );
    expect(result.code).toBe(0);
    const lines = results(root);
    const byDescription = Object.fromEntries(lines.map((line) => [line.description, line]));
    expect(byDescription["weight 3"].status).toBe("keep");
    expect(byDescription["weight 3"].iteration).toBe(1);
    // The same line changed differently: a conflict, said so, never measured against the new incumbent.
    expect(byDescription["weight 2.9"].status).toBe("discard");
    expect(byDescription["weight 2.9"].reason).toContain("its change conflicts with the keeps since");
    expect(byDescription["weight 2.9"].runs ?? []).toEqual([]);
    // Another line: carried over and measured again on top of the keep, and kept there.
    expect(byDescription["bias 1"].status).toBe("keep");
    expect(byDescription["bias 1"].rebased_from).toBe(byDescription["weight 3"].base_commit);
    expect(byDescription["bias 1"].base_commit.slice(0, 7)).toBe(byDescription["weight 3"].commit.slice(0, 7));
    expect(result.stderr).toContain("is carried onto the new incumbent");
    expectCoherent(root, lines);
    expect(git(root, "show", "HEAD:ranker.py")).toContain("WEIGHT = 3.0");
    expect(git(root, "show", "HEAD:ranker.py")).toContain("BIAS = 1.0");
  }, 90_000);

  test(
    "an agent gaming the metric in its worker tree: an edited eval and a commit are discarded unmeasured",
    () => {
      const root = baselined({ noise: 0.01 });
      const agent = bashAgent(
        root,
        "gaming",
        `set -e
sed -i 's/^WEIGHT = .*/WEIGHT = 3.0/' ranker.py
case "$AUTORESEARCH_WORKER" in
  w1) echo 'print("SCORE: 1.0")' >> eval.py; echo "DESCRIPTION: weight 3 and a kinder eval" ;;
  w2) git -c user.name=a -c user.email=a@b commit -qam "my own commit"; echo "DESCRIPTION: weight 3, committed" ;;
esac
`,
      );
      const result = parallelLoop(root, agent, 2, 2);
      expect(result.code).toBe(0);
      const lines = results(root);
      const byWorker = Object.fromEntries(lines.map((line) => [line.worker, line]));
      expect(byWorker.w1.status).toBe("discard");
      expect(byWorker.w1.reason).toContain('the agent changed files outside the constrained file: "eval.py"');
      expect(byWorker.w2.status).toBe("discard");
      expect(byWorker.w2.reason).toContain("the agent committed in its worker tree");
      for (const line of lines) expect(line.runs ?? []).toEqual([]);
      expect(keptCommits(root)).toEqual([]);
      expect(git(root, "status", "--porcelain")).toBe("");
      expect(git(root, "show", "HEAD:eval.py")).not.toContain('print("SCORE: 1.0")');
      // The next run sets the trees back, archiving what the agents left there, tracked edits and commits included.
      const next = parallelLoop(root, TUNER, 2, 1);
      expect(next.code).toBe(0);
      const leftovers = (worker: string) => {
        const folder = join(root, ".autoresearch/workers", worker, ".autoresearch/leftovers");
        return readdirSync(folder).map((name) => readFileSync(join(folder, name), "utf8")).join("\n");
      };
      expect(leftovers("w1")).toContain('+print("SCORE: 1.0")');
      expect(leftovers("w2")).toContain("+WEIGHT = 3.0");
    },
    90_000,
  );

  test(
    "in place, the user's edit to another file during a parallel run stays theirs and blames no candidate",
    async () => {
      const root = baselined({ noise: 0.01 });
      const loop = spawn(
        BUN,
        [
          join(KIT_ROOT, "scripts/iterate.ts"),
          "--loop",
          "--agent",
          `sleep 0.2; ${TUNER}`,
          "--parallel",
          "2",
          "--iterations",
          "6",
        ],
        { cwd: root, env: { ...process.env, ...env, NO_COLOR: "1", CI: "true" }, stdio: "ignore" },
      );
      const exit = new Promise<number | null>((resolve) => loop.on("close", resolve));
      let finished = false;
      void exit.then(() => (finished = true));
      let notes = read(root, "notes.txt");
      for (let edit = 1; !finished; edit++) {
        notes += `the user's line ${edit}\n`;
        writeFileSync(join(root, "notes.txt"), notes);
        await Bun.sleep(100);
      }
      expect(await exit).toBe(0);
      expect(read(root, "notes.txt")).toBe(notes);
      const lines = results(root);
      expect(lines.length).toBe(6);
      for (const line of lines) expect(String(line.reason ?? "")).not.toContain("notes.txt");
    },
    90_000,
  );

  test(
    "an agent reaching into another worker's tree while it is measured: that candidate's runs are not trusted",
    () => {
      // w2's candidate is measured slowly; w1's agent waits for it to start, then rewrites w2's eval.
      const root = baselined({
        noise: 0.01,
        evalPrelude: 'import time\nif "/workers/w2" in os.getcwd(): time.sleep(1.5)',
      });
      const agent = bashAgent(
        root,
        "reach",
        `set -e
case "$AUTORESEARCH_WORKER" in
  w2) sed -i 's/^BIAS = .*/BIAS = -3.0/' ranker.py; echo "DESCRIPTION: bias -3" ;;
  w1) for i in $(seq 1 100); do ls ../w2/.autoresearch/logs/round1/*candidate1.log >/dev/null 2>&1 && break; sleep 0.1; done
      echo 'print("SCORE: 0.99")' >> ../w2/eval.py
      sed -i 's/^WEIGHT = .*/WEIGHT = 1.1/' ranker.py; echo "DESCRIPTION: weight 1.1" ;;
esac
`,
      );
      const result = parallelLoop(root, agent, 2, 2);
      expect(result.code).toBe(0);
      const reached = results(root).find((line) => line.description === "bias -3")!;
      expect(reached.status).toBe("discard");
      expect(reached.reason).toContain(`"eval.py" changed in w2's tree while the candidate was measured`);
    },
    90_000,
  );

  test("a worker's runner retries stay on its line when its keep is carried onto a newer incumbent", () => {
    const root = pythonExperiment({ noise: 0.01, baselineRuns: 2, files: { "ranker.py": FAR_APART_LEVERS } });
    // A runner that loses w2's first job, once: its eval is tried again on the incumbent it was made on.
    const folder = temporaryFolder();
    const runner = join(folder, "runner.sh");
    writeFileSync(
      runner,
      `#!/bin/bash\ncase "$PWD" in\n  */w2*) if [ ! -e ${folder}/lost ]; then touch ${folder}/lost; echo "node lost" >&2; exit 1; fi ;;\nesac\nexec "$@"\n`,
    );
    const yaml = read(root, "autoresearch.yaml").replace(
      "timeout_s: 60 }",
      `timeout_s: 60, runner: "bash ${runner} {command}", runner_retries: 2 }`,
    );
    writeFileSync(join(root, "autoresearch.yaml"), yaml);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const agent = leverAgent(root, { w1: ["WEIGHT", "3.0", "weight 3"], w2: ["BIAS", "1.0", "bias 1"] });
    const result = runScript("iterate", ["--loop", "--agent", agent, "--parallel", "2", "--iterations", "2"], {
      cwd: root,
      env,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("node lost");
    const bias = results(root).find((line) => line.description === "bias 1") as Line;
    expect(bias.status).toBe("keep");
    expect(bias.rebased_from).toBeDefined();
    expect(bias.runner_retries).toBe(1);
    expect(results(root).find((line) => line.description === "weight 3")).not.toHaveProperty("runner_retries");
  }, 90_000);

  test("a fatal error in one worker's record stops the other workers before the run ends", async () => {
    // w1's agent commits in the experiment's own tree (not its worker's): the loop must stop (foreign
    // commits); w2's slow eval must not outlive it.
    const markers = join(temporaryFolder(), "evals");
    mkdirSync(markers);
    const root = baselined({
      noise: 0.01,
      evalPrelude: `import time\nif "/workers/w2" in os.getcwd():\n    time.sleep(3)\n    open(os.path.join(${
        JSON.stringify(markers)
      }, str(time.time())), "w").close()`,
    });
    const agent = bashAgent(
      root,
      "foreign",
      `set -e
sed -i 's/^WEIGHT = .*/WEIGHT = 1.2/' ranker.py
if [ "$AUTORESEARCH_WORKER" = w1 ]; then
  echo more >> ../../../notes.txt; git -C ../../.. -c user.name=a -c user.email=a@b commit -qam "behind the loop's back"
fi
echo "DESCRIPTION: weight 1.2 by $AUTORESEARCH_WORKER"
`,
    );
    const result = runScript(
      "iterate",
      ["--loop", "--agent", agent, "--parallel", "2", "--iterations", "2"],
      {
        cwd: root,
        env,
      },
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("HEAD moved past the incumbent");
    await Bun.sleep(4000); // w2's eval, had it survived, would have finished and left its marker by now
    expect(readdirSync(markers)).toEqual([]);
  }, 90_000);

  test("a worker's candidate a killed parallel run left in the experiment's files is taken back out by the next step", () => {
    const root = baselined({ noise: 0.01 });
    const candidate = read(root, "ranker.py").replace("WEIGHT = 1.0", "WEIGHT = 9.0");
    writeFileSync(join(root, "ranker.py"), candidate);
    writeFileSync(
      join(root, ".autoresearch/parallel-applying.json"),
      JSON.stringify({ pid: 999_999_999, head: null, hashes: { "ranker.py": sha256(candidate) } }),
    );
    const step = runScript("iterate", ["-m", "my own edit"], { cwd: root });
    expect(step.code).toBe(2);
    expect(step.stderr).toContain(
      `A parallel run stopped before recording a worker's candidate; put back the incumbent's "ranker.py"`,
    );
    expect(step.stderr).toContain("Nothing to evaluate");
    expect(read(root, "ranker.py")).toContain("WEIGHT = 1.0");
    expect(results(root)).toEqual([]);
  });

  test("workers' folders deleted between runs are made again", () => {
    const root = baselined({ noise: 0.01 });
    const args = ["--loop", "--agent", TUNER, "--parallel", "2", "--iterations", "2"];
    expect(runScript("iterate", args, { cwd: root, env }).code).toBe(0);
    rmSync(join(root, ".autoresearch/workers"), { recursive: true, force: true });
    const again = runScript("iterate", args, { cwd: root, env });
    expect(again.code).toBe(0);
    expect(results(root).length).toBe(4);
    expectCoherent(root);
  }, 90_000);

  test("kill -9 of the coordinator mid-round, then resume: nothing lost or duplicated", async () => {
    const root = baselined({ noise: 0.01 });
    const slowTuner = `sleep 0.3; ${TUNER}`;
    const first = spawn(
      BUN,
      [join(KIT_ROOT, "scripts/iterate.ts"), "--loop", "--agent", slowTuner, "--parallel", "3", "--iterations", "20"],
      { cwd: root, env: { ...process.env, ...env, NO_COLOR: "1", CI: "true" }, stdio: "ignore" },
    );
    await waitFor("three recorded iterations", () => {
      try {
        return results(root).length >= 3;
      } catch {
        return false;
      }
    }, 60_000);
    first.kill("SIGKILL");
    await new Promise((resolve) => first.on("close", resolve));
    const before = results(root);
    expect(before.length).toBeLessThan(20);

    const resumed = parallelLoop(root, TUNER, 3, 6);
    expect(resumed.code).toBe(0);
    const after = results(root);
    // What was recorded before the kill is still there, unchanged; the resume added exactly 6.
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.length).toBe(before.length + 6);
    expectCoherent(root, after);
  }, 120_000);

  test(
    "Python's bytecode cache never serves a stale constrained file: same-size edits within a second score as written",
    () => {
      // BIAS = d.0 for a digit d: every edit keeps the file's size, and the loop rewrites it within the second.
      const expected = (bias: number) => {
        let total = 0;
        for (let x = 0; x < 16; x++) total += Math.max(0, 1 - Math.abs(bias - 1 - 2 * x) / 10);
        return Number((total / 16).toFixed(4));
      };
      for (const parallel of [[], ["--parallel", "2"]]) {
        const root = baselined({ noise: 0 });
        const agent = bashAgent(
          root,
          "digits",
          `digit=$(( (AUTORESEARCH_ITERATION * 7) % 10 ))
sed -i "s/^BIAS = .*/BIAS = $digit.0/" ranker.py
echo "DESCRIPTION: bias $digit"
`,
        );
        const result = runScript("iterate", ["--loop", "--agent", agent, "--iterations", "8", ...parallel], {
          cwd: root,
          env: { ...env, PYTHONDONTWRITEBYTECODE: "" }, // as on a machine that writes bytecode
        });
        expect(result.code).toBe(0);
        const measured = results(root).filter((line) => line.runs?.length);
        expect(measured.length).toBeGreaterThan(0);
        for (const line of measured) {
          const bias = Number(/bias (\d)/.exec(line.description)![1]);
          expect([line.description, line.runs[0]]).toEqual([line.description, expected(bias)]);
        }
      }
    },
    90_000,
  );

  test("a killed writer's temporary file is removed by the next run; a live writer's is left alone", () => {
    const root = baselined({ noise: 0.01 });
    const stale = ".autoresearch_dashboard.md.999999999.1796059082276.tmp";
    const live = `.autoresearch_dashboard.md.${process.pid}.1796059082276.tmp`;
    writeFileSync(join(root, stale), "half a dashboard");
    writeFileSync(join(root, live), "being written");
    const result = parallelLoop(root, TUNER, 2, 1);
    expect(result.code).toBe(0);
    expect(existsSync(join(root, stale))).toBe(false);
    expect(existsSync(join(root, live))).toBe(true);
    sh(root, "rm", ["-f", live]);
  }, 60_000);

  test(
    "inside an experiment's own worktree, run from the user's checkout: workers nest under it, the checkout is untouched",
    () => {
      const root = pythonExperiment({ noise: 0.01 });
      expect(runScript("baseline", ["--worktree"], { cwd: root }).code).toBe(0);
      const status = git(root, "status", "--porcelain", "--untracked-files=all");
      const result = parallelLoop(root, TUNER, 2, 6);
      expect(result.code).toBe(0);
      const worktree = join(root, ".autoresearch/worktrees/fixture");
      expect(existsSync(join(worktree, ".autoresearch/workers/w2/ranker.py"))).toBe(true);
      expect(results(worktree).length).toBe(6);
      expectCoherent(worktree);
      expect(git(root, "status", "--porcelain", "--untracked-files=all")).toBe(status);
      expect(git(root, "branch", "--show-current")).toBe("main");
    },
    90_000,
  );

  test("under Deno, and --parallel outside the loop is refused", () => {
    const root = baselined({ noise: 0.01 });
    const deno = runScript("iterate", ["--loop", "--agent", TUNER, "--parallel", "2", "--iterations", "4"], {
      cwd: root,
      env,
      runtime: "deno",
    });
    expect(deno.code).toBe(0);
    expectCoherent(root);
    const refused = runScript("iterate", ["-m", "x", "--parallel", "2"], { cwd: root });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--parallel applies to the loop");
  }, 90_000);
});
