// An experiment in its own git worktree (baseline --worktree): the user's checkout, branch and
// index are never touched while a loop runs, even as the user edits, stages and commits on their
// own branch (the constrained file included); keeps are exactly the experiment branch's commits;
// every script finds the experiment from the user's checkout and from the worktree; refusals
// leave everything as it was. Real scripts, real repositories, the real Python eval.
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  BUN,
  journal,
  KIT_ROOT,
  makeRepo,
  PATH_WITH_KIT_RUNTIMES,
  read,
  results,
  runScript,
  type Runtime,
  setLever,
  sh,
} from "./helpers.ts";
import { PRICE_MODEL_PY, priceCasesJson, pythonExperiment } from "./experiment-fixture.ts";

const WORKTREE = ".autoresearch/worktrees/fixture";
const AGENT = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;

function git(cwd: string, ...args: string[]): string {
  return sh(cwd, "git", args).trim();
}

/** What git says about the user's checkout: branch, HEAD, staged and unstaged changes, untracked files. */
function checkoutState(root: string) {
  return {
    branch: git(root, "branch", "--show-current"),
    head: git(root, "rev-parse", "HEAD"),
    status: git(root, "status", "--porcelain=v1", "--untracked-files=all"),
    staged: git(root, "diff", "--cached"),
    unstaged: git(root, "diff"),
  };
}

function isolated(options: Parameters<typeof pythonExperiment>[0] = {}, runtime: Runtime = "bun"): string {
  const root = pythonExperiment({ noise: 0.01, ...options });
  const baseline = runScript("baseline", ["--worktree"], { cwd: root, runtime });
  if (baseline.code !== 0) throw new Error(`baseline --worktree failed: ${baseline.stderr}`);
  return root;
}

describe("baseline --worktree", () => {
  test("moves the experiment into its own worktree and branch; the user's checkout, branch and index stay as they were", () => {
    const root = pythonExperiment({ noise: 0.01 });
    // The user has work in progress of every kind: staged, unstaged, untracked.
    writeFileSync(join(root, "notes.txt"), "staged work\n");
    git(root, "add", "notes.txt");
    writeFileSync(join(root, "notes.txt"), "staged work\nand more, unstaged\n");
    writeFileSync(join(root, "scratch.txt"), "untracked\n");
    const before = checkoutState(root);

    const result = runScript("baseline", ["--worktree"], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `The experiment runs in its own worktree "${WORKTREE}" on the new branch "autoresearch/fixture"`,
    );
    expect(result.stderr).toContain("uncommitted changes to 1 tracked file of this checkout are not in it");
    expect(checkoutState(root)).toEqual(before);
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false); // the journal is the worktree's

    const worktree = join(root, WORKTREE);
    expect(git(worktree, "branch", "--show-current")).toBe("autoresearch/fixture");
    expect(journal(worktree)[1]).toMatchObject({ type: "result", status: "baseline" });
    expect(git(worktree, "status", "--porcelain")).toBe("");
    // The baseline's own commit is on the experiment branch, on top of the user's HEAD.
    expect(git(worktree, "rev-parse", "HEAD~1")).toBe(before.head);
    const pointer = JSON.parse(read(root, ".autoresearch/worktree.json"));
    expect(pointer).toMatchObject({
      worktree: WORKTREE,
      experiment: "autoresearch.yaml",
      branch: "autoresearch/fixture",
    });
  });

  test(
    "a 10-iteration loop while the user edits, stages and commits on their own branch: every change of theirs is intact, keeps are the experiment branch's commits",
    async () => {
      const root = isolated();
      const userHead = git(root, "rev-parse", "HEAD");
      const loop = spawn(
        BUN,
        [join(KIT_ROOT, "scripts/iterate.ts"), "--loop", "--agent", AGENT, "--iterations", "10"],
        {
          cwd: root,
          env: { ...process.env, PATH: PATH_WITH_KIT_RUNTIMES, NO_COLOR: "1", CI: "true" },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      loop.stderr.on("data", (chunk) => (stderr += chunk));
      const exit = new Promise<number | null>((resolve) => loop.on("close", resolve));
      let finished = false;
      void exit.then(() => (finished = true));

      // The user works in their checkout all along, the constrained file included.
      const userCommits: string[] = [];
      let edit = 0;
      let ranker = read(root, "ranker.py");
      while (!finished || edit < 4) {
        edit++;
        ranker += `# the user's note ${edit}\n`;
        writeFileSync(join(root, "ranker.py"), ranker);
        writeFileSync(join(root, "notes.txt"), `the user's own file, edit ${edit}\n`);
        git(root, "add", "notes.txt");
        if (edit % 2 === 0) {
          git(root, "commit", "-q", "-m", `user commit ${edit}`);
          userCommits.push(git(root, "rev-parse", "HEAD"));
        }
        await Bun.sleep(150);
      }
      expect(await exit).toBe(0);
      expect(stderr).toContain("ran the 10 iterations asked for");

      // Everything the user did is there, and nothing else: their branch holds exactly their commits.
      expect(git(root, "branch", "--show-current")).toBe("main");
      expect(read(root, "ranker.py")).toBe(ranker);
      expect(read(root, "notes.txt")).toBe(`the user's own file, edit ${edit}\n`);
      const staged = git(root, "diff", "--cached", "--name-only");
      expect(staged).toBe(edit % 2 === 1 ? "notes.txt" : "");
      expect(git(root, "diff", "--name-only")).toBe("ranker.py");
      expect(git(root, "rev-list", "--reverse", `${userHead}..main`).split("\n")).toEqual(userCommits);
      expect(userCommits.length).toBeGreaterThanOrEqual(2);

      // The experiment's keeps are exactly its branch's commits after the baseline's.
      const worktree = join(root, WORKTREE);
      const lines = results(worktree);
      expect(lines.length).toBe(10);
      const keeps = lines.filter((line) => line.status === "keep");
      expect(keeps.length).toBeGreaterThan(0);
      const baselineCommit = journal(worktree)[1].commit;
      const branchCommits = git(
        worktree,
        "rev-list",
        "--reverse",
        "--abbrev-commit",
        `${baselineCommit}..autoresearch/fixture`,
      )
        .split("\n").filter(Boolean);
      expect(branchCommits.map((commit) => commit.slice(0, 7))).toEqual(keeps.map((line) => line.commit.slice(0, 7)));
      // The user's commits never reached the experiment branch, nor its keeps the user's.
      for (const commit of userCommits) {
        expect(spawnSync("git", ["merge-base", "--is-ancestor", commit, "autoresearch/fixture"], { cwd: root }).status)
          .toBe(1);
      }
      expect(git(worktree, "status", "--porcelain")).toBe("");
    },
    120_000,
  );

  test(
    "step mode works from inside the worktree, and every script finds the experiment from either place (baseline under Deno)",
    () => {
      const root = isolated({}, "deno");
      const worktree = join(root, WORKTREE);
      setLever(worktree, "WEIGHT", "3.0");
      const step = runScript("iterate", ["-m", "weight 3", "--json"], { cwd: worktree });
      expect(step.code).toBe(0);
      expect(JSON.parse(step.stdout).status).toBe("keep");

      // From the user's checkout (and a folder below it), the same experiment: the worktree's journal.
      mkdirSync(join(root, "docs"));
      for (const cwd of [root, join(root, "docs")]) {
        const dashboard = runScript("dashboard", ["--format", "json"], { cwd });
        expect(dashboard.code).toBe(0);
        expect(JSON.parse(dashboard.stdout).summary.iterations.done).toBe(1);
      }
      const deno = runScript("dashboard", ["--format", "json"], { cwd: root, runtime: "deno" });
      expect(deno.code).toBe(0);
      expect(JSON.parse(deno.stdout).summary.iterations.done).toBe(1);
      // A step started from the user's checkout judges the worktree's file, not the user's.
      setLever(worktree, "BIAS", "1.0");
      setLever(root, "BIAS", "-50.0"); // the user's own edit, which the step must neither read nor touch
      const fromCheckout = runScript("iterate", ["-m", "bias 1", "--json"], { cwd: root });
      expect(fromCheckout.code).toBe(0);
      expect(JSON.parse(fromCheckout.stdout).iteration).toBe(2);
      expect(read(root, "ranker.py")).toContain("BIAS = -50.0");
      expect(git(root, "branch", "--show-current")).toBe("main");
      // An edit made in the user's checkout is not the experiment's: iterate says where to edit.
      const wrongPlace = runScript("iterate", ["-m", "edited my checkout"], { cwd: root });
      expect(wrongPlace.code).toBe(2);
      expect(wrongPlace.stderr).toContain(`the experiment runs in its own worktree "${WORKTREE}": edit the file there`);
      // --experiment naming the user's copy goes to the worktree too.
      const named = runScript("dashboard", ["--format", "json", "--experiment", "autoresearch.yaml"], { cwd: root });
      expect(JSON.parse(named.stdout).summary.iterations.done).toBe(2);
    },
    60_000,
  );

  test(
    "a newcomer's experiment from init (harness files not committed) runs in a worktree: files copied, checkout untouched",
    () => {
      const root = makeRepo({ "src/predict.py": PRICE_MODEL_PY, "data/cases.json": priceCasesJson() });
      mkdirSync(join(root, "node_modules/some-package"), { recursive: true });
      writeFileSync(join(root, ".gitignore"), "node_modules/\n");
      git(root, "add", ".gitignore");
      git(root, "commit", "-q", "-m", "ignore node_modules");
      const env = { PATH: PATH_WITH_KIT_RUNTIMES };
      const init = runScript("init", [
        "src/predict.py",
        "--test-data",
        "data/cases.json",
        "--metric",
        "mae",
        "--iterations",
        "4",
        "--yes",
      ], {
        cwd: root,
        env,
      });
      expect(init.code).toBe(0);
      const before = checkoutState(root);
      const baseline = runScript("baseline", ["--worktree"], { cwd: root, env });
      expect(baseline.code).toBe(0);
      expect(baseline.stderr).toContain('Copied the harness files "autoresearch.yaml"');
      expect(baseline.stderr).toContain('Linked "node_modules" from this checkout');
      expect(checkoutState(root)).toEqual(before);
      const worktree = join(
        root,
        ".autoresearch/worktrees",
        JSON.parse(read(root, ".autoresearch/worktree.json")).branch
          .replace("autoresearch/", ""),
      );
      expect(lstatSync(join(worktree, "node_modules")).isSymbolicLink()).toBe(true);
      const loop = runScript("iterate", ["--loop", "--agent", AGENT, "--iterations", "4"], { cwd: root, env });
      expect(loop.code).toBe(3); // the budget of 4 is spent
      expect(results(worktree).length).toBe(4);
      expect(checkoutState(root)).toEqual(before);
      expect(read(root, "src/predict.py")).toBe(PRICE_MODEL_PY);
    },
    90_000,
  );

  test(
    "an eval that reads an ignored dataset: the failed baseline says to link it, --share links it, the loop runs",
    () => {
      // The shape of many ML repositories: the labels live in an ignored data/ folder, never committed.
      const root = pythonExperiment({
        noise: 0.01,
        evalPrelude: 'open("data/extra_labels.csv").read()',
        files: { ".gitignore": "data/\n" },
      });
      mkdirSync(join(root, "data"));
      writeFileSync(join(root, "data/extra_labels.csv"), "id,label\n1,3\n");
      const failed = runScript("baseline", ["--worktree"], { cwd: root });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain(
        `It ran in the experiment's worktree "${WORKTREE}", which holds your tracked files and the harness's only`,
      );
      expect(failed.stderr).toContain("--worktree --share PATH");
      const linked = runScript("baseline", ["--worktree", "--share", "data"], { cwd: root });
      expect(linked.code).toBe(0);
      expect(linked.stderr).toContain('Linked "data" from your checkout');
      expect(lstatSync(join(root, WORKTREE, "data")).isSymbolicLink()).toBe(true);
      expect(JSON.parse(read(root, ".autoresearch/worktree.json")).shared).toEqual(["data"]);
      const loop = runScript("iterate", ["--loop", "--agent", AGENT, "--iterations", "3"], { cwd: root });
      expect(loop.code).toBe(0);
      expect(results(join(root, WORKTREE)).length).toBe(3);
      expect(git(root, "status", "--porcelain")).toBe("");
    },
    60_000,
  );
});

describe("baseline --worktree refuses, leaving everything as it was", () => {
  const nothingCreated = (root: string, before: ReturnType<typeof checkoutState>) => {
    expect(checkoutState(root)).toEqual(before);
    expect(existsSync(join(root, ".autoresearch/worktree.json"))).toBe(false);
    expect(existsSync(join(root, WORKTREE))).toBe(false);
    expect(git(root, "branch", "--list", "autoresearch/*")).toBe("");
    expect(git(root, "worktree", "list").split("\n").length).toBe(1);
  };

  test("a --share path that does not exist", () => {
    const root = pythonExperiment();
    const before = checkoutState(root);
    const result = runScript("baseline", ["--worktree", "--share", "data"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--share "data" does not exist here');
    nothingCreated(root, before);
  });

  test("a constrained file with uncommitted changes (the worktree would not measure them)", () => {
    const root = pythonExperiment();
    setLever(root, "WEIGHT", "2.0");
    const before = checkoutState(root);
    const result = runScript("baseline", ["--worktree"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('The constrained file "ranker.py" has uncommitted changes');
    nothingCreated(root, before);
  });

  test("--share without --worktree", () => {
    const root = pythonExperiment();
    const before = checkoutState(root);
    const result = runScript("baseline", ["--share", "data"], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--worktree-path and --share apply to a new worktree");
    nothingCreated(root, before);
  });

  test("the experiment branch checked out in this checkout (an in-place baseline ran before)", () => {
    const root = pythonExperiment();
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const before = checkoutState(root);
    const result = runScript("baseline", ["--worktree", "--force"], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Branch "autoresearch/fixture" is checked out in this checkout');
    expect(checkoutState(root)).toEqual(before);
    expect(existsSync(join(root, ".autoresearch/worktree.json"))).toBe(false);
  });

  test("a worktree that was deleted: every script stops and says how to re-create it", () => {
    const root = isolated();
    rmSync(join(root, WORKTREE), { recursive: true, force: true });
    const before = checkoutState(root);
    for (const [name, args] of [["iterate", ["-m", "x"]], ["dashboard", []], ["baseline", []]] as const) {
      const result = runScript(name, [...args], { cwd: root });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`The experiment lives in the worktree "${WORKTREE}"`);
      expect(result.stderr).toContain("git worktree prune && git worktree add");
    }
    expect(checkoutState(root)).toEqual(before);
    expect(readFileSync(join(root, "ranker.py"), "utf8")).toContain("WEIGHT = 1.0");
  });
});
