// Whose change is it, and can the harness be gamed through its own files: iterate.ts
// (step and loop) and baseline.ts on real temporary repositories with a real Python
// eval. Every test states what the user or the agent did and checks that the user's
// work stays where it was, that nothing unattributable is committed or reverted, and
// that refusals are one actionable line. Kills are placed by git hooks, not by timing.
import { describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { baselined, pythonExperiment, RANKER } from "./experiment-fixture.ts";
import { BUN, harnessCommits, head, journal, KIT_ROOT, read, results, runScript, sh } from "./helpers.ts";

const SET_WEIGHT_2 = `sed -i 's/^WEIGHT = .*/WEIGHT = 2.0/' ranker.py`;
const SET_BIAS_WORSE = `sed -i 's/^BIAS = .*/BIAS = -5.0/' ranker.py`;

function loop(root: string, agent: string, iterations = 1) {
  return runScript("iterate", ["--loop", "--agent", agent, "--iterations", String(iterations), "--no-report"], {
    cwd: root,
  });
}

function filesInCommit(root: string, commit: string): string[] {
  return sh(root, "git", ["show", "--name-only", "--format=", commit]).split("\n").filter(Boolean);
}

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string): void {
  const lines = stderr.trim().split("\n").filter((line) => !line.startsWith("note:") && !line.startsWith("warning:"));
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/^\s+at /m);
}

/**
 * A git hook that kills the harness (git's parent) the first time HEAD's branch is updated, and
 * optionally aborts the update, or kills git too (`killGit`), which leaves git's ref locks behind
 * as a `kill -9` of the whole process group can.
 */
function killHarnessOnFirstRefUpdate(root: string, options: { abort: boolean; killGit?: boolean }): void {
  const hook = join(root, ".git/hooks/reference-transaction");
  writeFileSync(join(root, "kill-at-ref-update"), "");
  writeFileSync(
    hook,
    `#!/bin/sh
[ "$1" = prepared ] || exit 0
[ -f kill-at-ref-update ] || exit 0
grep -q refs/heads/ || exit 0
rm -f kill-at-ref-update
kill -9 "$(ps -o ppid= -p "$PPID" | tr -d ' ')"
${options.killGit ? 'kill -9 "$PPID"' : ""}
exit ${options.abort ? 1 : 0}
`,
  );
  chmodSync(hook, 0o755);
}

describe("whose change is it (loop mode)", () => {
  test("a user's edit made while the loop runs stays in the work tree and out of every commit", () => {
    // The eval stands in for a person typing while the candidate is measured.
    const root = baselined({
      evalPrelude:
        "import os\nif os.path.exists('.autoresearch/user-types-now'):\n    os.remove('.autoresearch/user-types-now')\n    open('notes.txt', 'a').write('typed during the eval\\n')",
    });
    const agent =
      `if grep -q 'WEIGHT = 1.0' ranker.py; then ${SET_WEIGHT_2}; touch .autoresearch/user-types-now; echo 'DESCRIPTION: weight 2'; else ${SET_BIAS_WORSE}; echo 'DESCRIPTION: bias worse'; fi`;
    const result = loop(root, agent, 2);
    expect(result.code).toBe(0);
    expect(results(root).map((line) => line.status)).toEqual(["keep", "discard"]);
    expect(read(root, "notes.txt")).toBe("the user's own file\ntyped during the eval\n");
    for (const commit of harnessCommits(root)) expect(filesInCommit(root, commit)).toEqual(["ranker.py"]);
  });

  test("a user's edit made between iterations is left alone and the agent's improvement is still kept", () => {
    const root = baselined();
    expect(loop(root, `${SET_BIAS_WORSE}; echo 'DESCRIPTION: worse'`).code).toBe(0);
    appendFileSync(join(root, "notes.txt"), "my edit between steps\n");
    const result = loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`);
    expect(result.code).toBe(0);
    expect(results(root).map((line) => line.status)).toEqual(["discard", "keep"]);
    expect(result.stderr).toContain("notes.txt changed since the last iteration, outside an agent call: left alone");
    expect(read(root, "notes.txt")).toBe("the user's own file\nmy edit between steps\n");
    expect(filesInCommit(root, "HEAD")).toEqual(["ranker.py"]);
  });

  test("the agent's own out-of-scope edit is restored to the user's version, not to HEAD's", () => {
    const root = baselined();
    appendFileSync(join(root, "notes.txt"), "the user's uncommitted line\n");
    const result = loop(
      root,
      `${SET_WEIGHT_2}; echo 'the agent wrote here' >> notes.txt; echo 'DESCRIPTION: weight and notes'`,
    );
    expect(result.code).toBe(0);
    expect(results(root)[0]).toMatchObject({ status: "discard" });
    expect(results(root)[0].reason).toContain("notes.txt");
    expect(read(root, "notes.txt")).toBe("the user's own file\nthe user's uncommitted line\n");
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("a user's edit of the constrained file between iterations stops the loop and stays in place", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), RANKER.replace("BIAS = 0.0", "BIAS = 0.5  # mine"));
    const result = loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`);
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(`"ranker.py" differs from the incumbent`);
    expect(read(root, "ranker.py")).toContain("BIAS = 0.5  # mine");
    expect(results(root)).toHaveLength(0);
  });

  test("a user's commit on the experiment branch stops the loop and stays on the branch", () => {
    const root = baselined();
    writeFileSync(join(root, "docs.md"), "the user's commit\n");
    sh(root, "git", ["add", "docs.md"]);
    sh(root, "git", ["commit", "-qm", "user work"]);
    const userCommit = head(root);
    const result = loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("HEAD moved past the incumbent");
    expect(result.stderr).toContain("user work");
    expect(head(root)).toBe(userCommit);
    expect(read(root, "docs.md")).toBe("the user's commit\n");
    expect(results(root)).toHaveLength(0);
  });

  test("files the agent created are moved aside before the eval, so a keep never rests on them", () => {
    const root = baselined();
    const agent =
      `printf 'def score(x):\\n    return 3 * x + 1\\n' > helper_new.py; printf 'from helper_new import score\\n' >> ranker.py; echo 'DESCRIPTION: import a new helper'`;
    const result = loop(root, agent);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("files the agent created (helper_new.py) are not part of the candidate");
    expect(results(root)[0].status).toBe("crash");
    expect(existsSync(join(root, "helper_new.py"))).toBe(false);
    expect(read(root, ".autoresearch/agent-files/round1/iteration1/helper_new.py")).toContain("return 3 * x + 1");
    expect(harnessCommits(root)).toHaveLength(0);
  });

  test("an agent's commit in loop mode is evaluated and kept, like in step mode", () => {
    const root = baselined();
    const result = loop(root, `${SET_WEIGHT_2} && git commit -qam agent && echo 'DESCRIPTION: weight 2, committed'`);
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line).toMatchObject({ status: "keep", description: "weight 2, committed" });
    expect(line.agent_commits).toHaveLength(1);
    expect(sh(root, "git", ["log", "-1", "--format=%s"])).toStartWith(
      "autoresearch: weight 2, committed | score: 0.1563 -> 0.2812",
    );
    expect(sh(root, "git", ["for-each-ref", "refs/autoresearch/"])).toContain("round1-iteration1");
  });

  test("an agent's git commit -a that sweeps in the user's uncommitted edit is kept without it, and the edit stays uncommitted", () => {
    const root = baselined();
    appendFileSync(join(root, "notes.txt"), "the user's uncommitted line\n");
    const result = loop(root, `${SET_WEIGHT_2} && git commit -qam agent && echo 'DESCRIPTION: weight 2, commit -a'`);
    expect(result.code).toBe(0);
    expect(results(root)[0].status).toBe("keep");
    expect(filesInCommit(root, "HEAD")).toEqual(["ranker.py"]);
    expect(read(root, "notes.txt")).toBe("the user's own file\nthe user's uncommitted line\n");
    expect(sh(root, "git", ["status", "--porcelain", "notes.txt"])).toBe(" M notes.txt\n");
  });

  test("an agent's commit that reaches beyond the file is discarded, the branch moved back and the other file put back", () => {
    const root = baselined();
    const before = head(root);
    const result = loop(
      root,
      `${SET_WEIGHT_2} && echo 'the agent wrote here' >> notes.txt && git commit -qam agent && echo 'DESCRIPTION: weight and notes, committed'`,
    );
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(line.reason).toContain("notes.txt");
    expect(head(root)).toBe(before);
    expect(read(root, "notes.txt")).toBe("the user's own file\n");
    expect(read(root, "ranker.py")).toBe(RANKER);
    // baseline committed the experiment file: nothing of the harness's is left modified.
    expect(sh(root, "git", ["status", "--porcelain", "--untracked-files=no"]).trim()).toBe("");
    const archived = sh(root, "git", ["for-each-ref", "--format=%(objectname)", "refs/autoresearch/"]).trim();
    expect(sh(root, "git", ["show", `${archived}:notes.txt`])).toContain("the agent wrote here");
  });

  test("an agent's git mv of the constrained file is a crash, and the next iteration starts from a clean index", () => {
    const root = baselined();
    expect(loop(root, "git mv ranker.py ranker2.py; echo 'DESCRIPTION: renamed'").code).toBe(0);
    expect(results(root)[0].status).toBe("crash");
    expect(read(root, "ranker.py")).toBe(RANKER);
    expect(sh(root, "git", ["status", "--porcelain", "ranker.py"])).toBe("");
    const again = loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`);
    expect(again.code).toBe(0);
    expect(results(root)[1].status).toBe("keep");
  });

  test("an agent that amends the incumbent commit gets the branch put back and its change judged as usual", () => {
    const root = baselined();
    const incumbent = head(root);
    const result = loop(
      root,
      `${SET_WEIGHT_2} && git commit -q --amend -m amended ranker.py && echo 'DESCRIPTION: weight 2, amended'`,
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("The agent moved the branch off");
    expect(results(root)[0].status).toBe("keep");
    expect(sh(root, "git", ["rev-parse", "HEAD^"]).trim()).toBe(incumbent);
    expect(filesInCommit(root, "HEAD")).toEqual(["ranker.py"]);
  });

  test("an agent's git reset --hard loses nothing: the branch, the user's edit and the experiment file come back", () => {
    const root = baselined();
    expect(loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`).code).toBe(0);
    const keep = head(root);
    const yaml = read(root, "autoresearch.yaml");
    appendFileSync(join(root, "notes.txt"), "the user's uncommitted line\n");
    const result = loop(root, "git reset -q --hard HEAD~1; echo 'DESCRIPTION: reset'");
    expect(result.code).toBe(0);
    expect(results(root).map((line) => line.status)).toEqual(["keep", "discard"]);
    expect(head(root)).toBe(keep);
    expect(read(root, "notes.txt")).toBe("the user's own file\nthe user's uncommitted line\n");
    expect(read(root, "autoresearch.yaml")).toBe(yaml);
    expect(read(root, "ranker.py")).toContain("WEIGHT = 2.0");
    expect(loop(root, `sed -i 's/^BIAS = .*/BIAS = 0.5/' ranker.py; echo 'DESCRIPTION: bias'`).code).toBe(0);
  });

  test("an agent that switches to another branch stops the loop before anything is committed", () => {
    const root = baselined();
    const before = head(root);
    const result = loop(root, `git switch -q -c side && ${SET_WEIGHT_2} && echo 'DESCRIPTION: on a side branch'`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`not the experiment's branch "autoresearch/fixture"`);
    expect(result.stderr).toContain("git switch autoresearch/fixture");
    expect(sh(root, "git", ["rev-parse", "side"]).trim()).toBe(before);
    expect(sh(root, "git", ["rev-parse", "autoresearch/fixture"]).trim()).toBe(before);
    expect(results(root)).toHaveLength(0);
    // Back on the branch, the next run evaluates that call's edit instead of calling the agent again.
    sh(root, "git", ["switch", "-q", "autoresearch/fixture"]);
    const again = loop(root, "echo 'DESCRIPTION: should not run'; exit 9");
    expect(again.code).toBe(0);
    expect(results(root)[0]).toMatchObject({ status: "keep", description: "on a side branch" });
  });
});

describe("the final report's agent call", () => {
  test("whatever the report agent changes is put back; its text is the report", () => {
    const root = baselined();
    expect(loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`).code).toBe(0);
    const before = {
      ranker: read(root, "ranker.py"),
      notes: read(root, "notes.txt"),
      yaml: read(root, "autoresearch.yaml"),
      head: head(root),
    };
    const agent =
      `${SET_BIAS_WORSE}; echo scribble >> notes.txt; touch scratch.txt; echo 'budget: {}' >> autoresearch.yaml; ` +
      `printf '# Report\\n\\nWeight 2 was the only change kept; it raised the score from 0.1563 to 0.2812.\\n'`;
    const result = runScript("iterate", ["--final-report", "--agent", agent], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("The report agent changed");
    expect(read(root, "autoresearch_report.md")).toContain("Weight 2 was the only change kept");
    expect({
      ranker: read(root, "ranker.py"),
      notes: read(root, "notes.txt"),
      yaml: read(root, "autoresearch.yaml"),
      head: head(root),
    }).toEqual(before);
    expect(existsSync(join(root, "scratch.txt"))).toBe(false);
  });
});

describe("whose change is it (step mode)", () => {
  test("step mode restores an out-of-scope edit into the patch and the command it prints re-applies it", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    appendFileSync(join(root, "notes.txt"), "edited outside the file\n");
    const result = runScript("iterate", ["-m", "two files"], { cwd: root });
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(read(root, "notes.txt")).toBe("the user's own file\n");
    const command = /to re-apply them: ([^)]+)\)/.exec(line.reason)![1];
    expect(command).toBe(`git apply --include='notes.txt' .autoresearch/patches/round1/iteration1.patch`);
    sh(root, "bash", ["-c", command]);
    expect(read(root, "notes.txt")).toBe("the user's own file\nedited outside the file\n");
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("a staged rename of another tracked file is out of scope, and the file comes back with its index entry", () => {
    const root = baselined();
    sh(root, "git", ["mv", "notes.txt", "notes2.txt"]);
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "weight 2 and a rename"], { cwd: root });
    expect(result.code).toBe(0);
    expect(results(root)[0].status).toBe("discard");
    expect(results(root)[0].reason).toContain("notes.txt");
    expect(read(root, "notes.txt")).toBe("the user's own file\n");
    expect(sh(root, "git", ["status", "--porcelain", "notes.txt"])).toBe("");
  });

  test("step mode refuses a user's commit of the experiment file and leaves it on the branch", () => {
    const root = baselined();
    appendFileSync(join(root, "autoresearch.yaml"), "# the user's note\n");
    sh(root, "git", ["commit", "-qm", "record the baselined experiment file", "autoresearch.yaml"]);
    const commit = head(root);
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("touching files outside the constrained file (autoresearch.yaml)");
    expect(head(root)).toBe(commit);
    expect(results(root)).toHaveLength(0);
  });

  test("step mode refuses commits that touch more than the constrained file and leaves them on the branch", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    appendFileSync(join(root, "notes.txt"), "committed with it\n");
    sh(root, "git", ["commit", "-qam", "a big commit"]);
    const commit = head(root);
    const result = runScript("iterate", ["-m", "big"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toMatch(/touching files outside the constrained file \(.*notes\.txt\)/);
    expect(result.stderr).toContain("baseline.ts --force");
    expect(head(root)).toBe(commit);
    expect(read(root, "notes.txt")).toContain("committed with it");
    expect(results(root)).toHaveLength(0);
  });
});

describe("edits made while the harness has the file", () => {
  test("a user's edit of the constrained file during a candidate run ends the step with nothing recorded and the edit in place", () => {
    // The eval stands in for a person saving the file while the candidate is measured.
    const root = baselined({
      evalPrelude:
        "import os\nif os.path.exists('edit-now') and 'WEIGHT = 2.0' in open('ranker.py').read():\n    os.remove('edit-now')\n    open('ranker.py', 'a').write('# USER EDIT\\n')",
    });
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    writeFileSync(join(root, "edit-now"), "");
    const before = head(root);
    const result = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("changed while it was being evaluated");
    expect(read(root, "ranker.py")).toBe(RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0") + "# USER EDIT\n");
    expect(head(root)).toBe(before);
    expect(results(root)).toHaveLength(0);
  });

  test("a user's edit of the constrained file during the sensitivity probe is left in place and the original kept aside", () => {
    const root = pythonExperiment({
      evalPrelude:
        "if 'sensitivity probe' in open('ranker.py').read():\n    open('ranker.py', 'a').write('# USER EDIT\\n')",
    });
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("changed while the sensitivity probe had it broken");
    expect(read(root, "ranker.py")).toContain("# USER EDIT");
    const aside = /version the harness had saved is in "([^"]+)"/.exec(result.stderr)![1];
    expect(readFileSync(join(root, aside), "utf8")).toBe(RANKER);
    expect(existsSync(join(root, ".autoresearch/backup"))).toBe(false);
  });
});

describe("the experiment file is in the integrity lock", () => {
  test("an agent that rewrites eval.command to print a perfect score gets a discard and the command back", () => {
    const root = baselined();
    const result = loop(
      root,
      `${SET_WEIGHT_2}; sed -i 's/command: python3 eval.py/command: "echo SCORE: 0.99"/' autoresearch.yaml; echo 'DESCRIPTION: gaming'`,
    );
    expect(result.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("discard");
    expect(line.score).toBeNull();
    expect(line.reason).toContain("measurement fields (eval)");
    expect(read(root, "autoresearch.yaml")).toContain("command: python3 eval.py");
    expect(read(root, "autoresearch.yaml")).not.toContain("0.99");
    expect(harnessCommits(root)).toHaveLength(0);
  });

  test("an agent that makes the experiment file unreadable gets a discard and the file back", () => {
    const root = baselined();
    const before = read(root, "autoresearch.yaml");
    const result = loop(
      root,
      `${SET_WEIGHT_2}; echo 'rounds: [' >> autoresearch.yaml; echo 'DESCRIPTION: broke the yaml'`,
    );
    expect(result.code).toBe(0);
    expect(results(root)[0].status).toBe("discard");
    expect(results(root)[0].reason).toContain("no longer parsed");
    expect(read(root, "autoresearch.yaml")).toBe(before);
  });

  test("step mode restores a changed metric direction and keeps a raised budget", () => {
    const root = baselined();
    const yaml = read(root, "autoresearch.yaml").replace("direction: max", "direction: min").replace(
      /iterations: 30/,
      "iterations: 45",
    );
    writeFileSync(join(root, "autoresearch.yaml"), yaml);
    writeFileSync(join(root, "ranker.py"), RANKER.replace("BIAS = 0.0", "BIAS = -5.0"));
    const result = runScript("iterate", ["-m", "worse, but minimised"], { cwd: root });
    expect(result.code).toBe(0);
    expect(results(root)[0].reason).toContain("measurement fields (metric)");
    expect(read(root, "autoresearch.yaml")).toContain("direction: max");
    expect(read(root, "autoresearch.yaml")).toContain("iterations: 45");
  });

  test("in loop mode an agent's edit of the frozen eval is discarded and put back, and the loop goes on", () => {
    const root = baselined();
    const result = loop(
      root,
      `${SET_WEIGHT_2}; if [ "$AUTORESEARCH_ITERATION" = 1 ]; then echo 'print("SCORE: 0.99")' >> eval.py; fi; echo 'DESCRIPTION: weight 2'`,
      2,
    );
    expect(result.code).toBe(0);
    expect(results(root).map((line) => line.status)).toEqual(["discard", "keep"]);
    expect(results(root)[0].reason).toContain("eval.py");
    expect(read(root, "eval.py")).not.toContain("0.99");
  });

  test("a typo put into constrained_files is put back and the step discarded, not a dead end", () => {
    const root = baselined();
    writeFileSync(
      join(root, "autoresearch.yaml"),
      read(root, "autoresearch.yaml").replace("- ranker.py", "- rankr.py"),
    );
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(result.code).toBe(0);
    expect(results(root)[0].reason).toContain("measurement fields (constrained_files)");
    expect(read(root, "autoresearch.yaml")).toContain("- ranker.py");
  });

  test("a file added to frozen: after the baseline is named with the two ways out", () => {
    const root = baselined();
    writeFileSync(
      join(root, "autoresearch.yaml"),
      read(root, "autoresearch.yaml").replace("frozen: []", "frozen: [notes.txt]"),
    );
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(`"notes.txt" was added to frozen: after the baseline`);
    expect(result.stderr).toContain("baseline.ts --force");
  });

  test("an empty --experiment is refused instead of falling back to the default file", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "x", "--experiment", ""], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain("--experiment was given an empty path");
    expect(results(root)).toHaveLength(0);
  });

  test("a person may raise the budget mid-round without tripping the lock", () => {
    const root = baselined({ budget: 1 });
    writeFileSync(
      join(root, "autoresearch.yaml"),
      read(root, "autoresearch.yaml").replace("iterations: 1", "iterations: 5"),
    );
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(result.code).toBe(0);
    expect(results(root)[0].status).toBe("keep");
  });
});

describe("the harness's own records are sealed", () => {
  test("a keep line added to the journal by hand is refused and nothing is evaluated", () => {
    const root = baselined();
    const fake = {
      type: "result",
      iteration: 1,
      commit: head(root).slice(0, 7),
      score: 0.99,
      delta: "+0.8337",
      status: "keep",
      description: "forged",
      timestamp: "2026-01-01T00:00:00Z",
    };
    appendFileSync(join(root, "autoresearch.jsonl"), JSON.stringify(fake) + "\n");
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(`line 3 of "autoresearch.jsonl" was not written by the harness`);
    expect(existsSync(join(root, ".autoresearch/logs/round1/iteration2-candidate1.log"))).toBe(false);
  });

  test("an agent that rewrites eval.command and the journal's fingerprint to match gets nothing kept", () => {
    const root = baselined();
    const agent =
      `${SET_WEIGHT_2}; sed -i 's/command: python3 eval.py/command: "echo SCORE: 0.99"/' autoresearch.yaml; ` +
      `python3 -c "import json;p='autoresearch.jsonl';l=[json.loads(x) for x in open(p)];l[0]['measurement']='0'*64;open(p,'w').write(''.join(json.dumps(x)+'\\n' for x in l))"; echo 'DESCRIPTION: gaming'`;
    const result = loop(root, agent);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`line 1 of "autoresearch.jsonl" was not written by the harness`);
    expect(harnessCommits(root)).toHaveLength(0);
    expect(journal(root).filter((line) => line.status === "keep")).toHaveLength(0);
  });

  test("a journal whose config line was deleted, or the whole journal, is refused", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const whole = read(root, "autoresearch.jsonl");
    writeFileSync(join(root, "autoresearch.jsonl"), whole.split("\n").slice(1).join("\n"));
    const withoutConfig = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(withoutConfig.code).toBe(1);
    expect(withoutConfig.stderr).toContain("has no config line the harness wrote");
    rmSync(join(root, "autoresearch.jsonl"));
    const deleted = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(deleted.code).toBe(1);
    expectOneLine(deleted.stderr);
    expect(deleted.stderr).toContain("has no config line the harness wrote");
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
  });

  test("a forged interrupted-step record is refused, never carried out", () => {
    const root = baselined();
    const before = head(root);
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const forged = {
      round: 1,
      iteration: 1,
      action: "commit",
      files: ["ranker.py"],
      incumbent: before,
      headBefore: before,
      candidateHashes: {},
      message: "autoresearch: forged | score: 0.1563 -> 0.9900",
      restorePaths: [],
      snapshot: null,
      journal: join(root, "autoresearch.jsonl"),
      line: {
        type: "result",
        iteration: 1,
        commit: null,
        score: 0.99,
        delta: "+0.8337",
        status: "keep",
        description: "forged",
        timestamp: "2026-01-01T00:00:00Z",
      },
    };
    writeFileSync(join(root, ".autoresearch/pending-step.json"), JSON.stringify(forged));
    const result = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("was not written by the harness");
    expect(head(root)).toBe(before);
    expect(results(root)).toHaveLength(0);
  });
});

describe("preconditions before any side effect", () => {
  test("iterate refuses on a detached HEAD and changes nothing", () => {
    const root = baselined();
    sh(root, "git", ["checkout", "-q", "--detach"]);
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "detached"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain("HEAD is detached");
    expect(result.stderr).toContain("git switch autoresearch/fixture");
    expect(read(root, "ranker.py")).toContain("WEIGHT = 2.0");
    expect(results(root)).toHaveLength(0);
  });

  test("iterate refuses while a merge is in progress and leaves the conflicted file and the merge as they are", () => {
    const root = baselined();
    sh(root, "git", ["switch", "-q", "-c", "other", "main"]);
    writeFileSync(join(root, "notes.txt"), "theirs\n");
    sh(root, "git", ["commit", "-qam", "theirs"]);
    sh(root, "git", ["switch", "-q", "autoresearch/fixture"]);
    writeFileSync(join(root, "notes.txt"), "ours\n");
    sh(root, "git", ["commit", "-qm", "ours", "notes.txt"]);
    const conflicted = (() => {
      try {
        sh(root, "git", ["merge", "other"]);
        return false;
      } catch {
        return true;
      }
    })();
    expect(conflicted).toBe(true);
    const markers = read(root, "notes.txt");
    expect(markers).toContain("<<<<<<<");
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "during a merge"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain("A merge is in progress");
    expect(result.stderr).toContain("git merge --abort");
    expect(read(root, "notes.txt")).toBe(markers);
    expect(existsSync(join(root, ".git/MERGE_HEAD"))).toBe(true);
    expect(read(root, "ranker.py")).toContain("WEIGHT = 2.0");
  });

  test("baseline refuses a merge in progress before creating the experiment branch", () => {
    const root = pythonExperiment();
    sh(root, "git", ["switch", "-q", "-c", "other"]);
    writeFileSync(join(root, "notes.txt"), "theirs\n");
    sh(root, "git", ["commit", "-qam", "theirs"]);
    sh(root, "git", ["switch", "-q", "main"]);
    writeFileSync(join(root, "notes.txt"), "ours\n");
    sh(root, "git", ["commit", "-qam", "ours"]);
    expect(() => sh(root, "git", ["merge", "other"])).toThrow();
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain("A merge is in progress");
    expect(sh(root, "git", ["branch", "--list", "autoresearch/*"]).trim()).toBe("");
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
  });

  test("baseline refuses a constrained file that does not exist before creating any branch", () => {
    const root = pythonExperiment();
    writeFileSync(
      join(root, "autoresearch.yaml"),
      read(root, "autoresearch.yaml").replace("constrained_files: [ranker.py]", "constrained_files: [rankr.py]"),
    );
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(`"rankr.py" does not exist`);
    expect(sh(root, "git", ["branch", "--list", "autoresearch/*"]).trim()).toBe("");
  });

  test("a git index lock left by someone else is named with the command that clears it", () => {
    const root = baselined();
    writeFileSync(join(root, ".git/index.lock"), "");
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "locked"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(`rm -f "${join(root, ".git/index.lock")}"`);
    expect(existsSync(join(root, ".git/index.lock"))).toBe(true);
  });

  test("a git index lock left by the harness's own killed git is cleared, with a note", () => {
    const root = baselined();
    writeFileSync(join(root, ".git/index.lock"), "");
    writeFileSync(
      join(root, ".autoresearch/git-index-write.json"),
      JSON.stringify({ pid: 999999, at: "2026-01-01T00:00:00Z" }),
    );
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "after a kill"], { cwd: root });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("left by the harness's own git command when it was killed");
    expect(results(root)[0].status).toBe("keep");
  });

  test("an experiment file that lost its baseline record to a checkout is named as such, not as a new round", () => {
    const root = baselined();
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    expect(runScript("iterate", ["-m", "weight 2"], { cwd: root }).code).toBe(0);
    // baseline committed the record, so only a checkout of a commit before it loses it.
    sh(root, "git", ["checkout", "HEAD~2", "--", "autoresearch.yaml"]);
    const result = runScript("iterate", ["-m", "again"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(`has lost round 1's baseline record, though its journal has 1 result (`);
  });

  test("the loop refuses a round without a baseline before calling the agent", () => {
    const root = pythonExperiment();
    const result = loop(root, "touch agent-was-called; echo 'DESCRIPTION: x'");
    expect(result.code).toBe(2);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain("Round 1 has no baseline yet. Run:");
    expect(existsSync(join(root, "agent-was-called"))).toBe(false);
  });

  test("a read-only journal is refused before anything is evaluated or committed", () => {
    const root = baselined();
    chmodSync(join(root, "autoresearch.jsonl"), 0o444);
    const before = head(root);
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    for (const args of [["-m", "weight 2"], ["--loop", "--agent", "echo DESCRIPTION: x", "--iterations", "1"]]) {
      const result = runScript("iterate", args, { cwd: root });
      expect(result.code).toBe(2);
      expectOneLine(result.stderr);
      expect(result.stderr).toContain(`Cannot write the journal "autoresearch.jsonl": it is read-only`);
    }
    expect(head(root)).toBe(before);
    expect(read(root, "ranker.py")).toContain("WEIGHT = 2.0");
  });

  test("a file where the state folder should be is one line naming it, for every script that writes", () => {
    const root = baselined();
    rmSync(join(root, ".autoresearch"), { recursive: true });
    writeFileSync(join(root, ".autoresearch"), "not a folder");
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    for (const [script, args] of [["iterate", ["-m", "x"]], ["baseline", ["--force"]], ["next-round", []]] as const) {
      const result = runScript(script, [...args], { cwd: root });
      expect(result.code).toBe(1);
      expectOneLine(result.stderr);
      expect(result.stderr).toContain("a file is in the way of that folder");
    }
    expect(read(root, ".autoresearch")).toBe("not a folder");
  });

  test("a damaged interrupted-step record is one line naming the file", () => {
    const root = baselined();
    writeFileSync(join(root, ".autoresearch/pending-step.json"), "{ not json");
    const result = runScript("iterate", ["-m", "x"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(".autoresearch/pending-step.json");
  });
});

describe("recovery first", () => {
  test("a restarted loop finishes the keep an earlier run had decided before calling the agent", () => {
    const root = baselined();
    killHarnessOnFirstRefUpdate(root, { abort: false });
    const killed = loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`);
    expect(killed.code).not.toBe(0);
    expect(results(root)).toHaveLength(0);
    expect(existsSync(join(root, ".autoresearch/pending-step.json"))).toBe(true);
    const again = loop(root, `${SET_BIAS_WORSE}; echo 'DESCRIPTION: bias worse'`);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("Finished iteration 1 (keep)");
    expect(results(root).map((line) => [line.iteration, line.status, line.description])).toEqual([[
      1,
      "keep",
      "weight 2",
    ], [2, "discard", "bias worse"]]);
    expect(harnessCommits(root)).toHaveLength(1);
    expect(read(root, "ranker.py")).toContain("WEIGHT = 2.0");
  });

  test("ref locks left by the harness's own git, killed mid-commit, are removed on restart and the keep completes", () => {
    const root = baselined();
    killHarnessOnFirstRefUpdate(root, { abort: false, killGit: true });
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const killed = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(killed.code).not.toBe(0);
    const branch = sh(root, "git", ["symbolic-ref", "--short", "HEAD"]).trim();
    const locks = [join(root, ".git/HEAD.lock"), join(root, ".git/refs/heads", `${branch}.lock`)];
    expect(locks.some((lock) => existsSync(lock))).toBe(true);
    expect(results(root)).toHaveLength(0);
    const again = runScript("iterate", ["-m", "next"], { cwd: root });
    expect(again.stderr).toContain("left by the harness's own git command when it was killed");
    expect(again.stderr).toContain("Finished iteration 1 (keep)");
    for (const lock of locks) expect(existsSync(lock)).toBe(false);
    expect(results(root).map((line) => [line.iteration, line.status])).toEqual([[1, "keep"]]);
    expect(harnessCommits(root)).toHaveLength(1);
  });

  test("a ref lock someone else holds is left in place and named", () => {
    const root = baselined();
    const branch = sh(root, "git", ["symbolic-ref", "--short", "HEAD"]).trim();
    const lock = join(root, ".git/refs/heads", `${branch}.lock`);
    writeFileSync(lock, "");
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const result = runScript("iterate", ["-m", "locked ref"], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result.stderr);
    expect(result.stderr).toContain(`rm -f "${lock}"`);
    expect(existsSync(lock)).toBe(true);
  });

  test("a decided keep is recorded even when the file was edited after the decision, and the later edit is kept uncommitted", () => {
    const root = baselined();
    killHarnessOnFirstRefUpdate(root, { abort: true });
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const killed = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(killed.code).not.toBe(0);
    expect(results(root)).toHaveLength(0);
    const later = RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0").replace("BIAS = 0.0", "BIAS = 0.25");
    writeFileSync(join(root, "ranker.py"), later);
    const again = runScript("iterate", ["-m", "bias quarter"], { cwd: root });
    expect(again.stderr).toContain("Finished iteration 1 (keep)");
    expect(again.stderr).toContain("the evaluated version was committed");
    const [first] = results(root);
    expect(first).toMatchObject({ iteration: 1, status: "keep" });
    expect(sh(root, "git", ["show", `${first.commit}:ranker.py`])).toBe(RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
  });

  test("a step killed mid-decision resumes with the eval runs it had measured", async () => {
    // Each eval run appends a line to runs.log; the confirming run hangs until no-hang exists.
    const root = baselined({
      evalPrelude:
        "import os, time\nopen('runs.log', 'a').write('run\\n')\nif os.path.exists('.autoresearch/step-runs.json') and not os.path.exists('no-hang'):\n    time.sleep(60)",
    });
    writeFileSync(join(root, "runs.log"), "");
    writeFileSync(join(root, "ranker.py"), RANKER.replace("WEIGHT = 1.0", "WEIGHT = 2.0"));
    const child = spawn(BUN, [join(KIT_ROOT, "scripts/iterate.ts"), "-m", "weight 2"], {
      cwd: root,
      detached: true,
      env: { ...process.env, NO_COLOR: "1" },
    });
    const deadline = Date.now() + 60_000;
    while (read(root, "runs.log").split("\n").filter(Boolean).length < 2) {
      if (Date.now() > deadline) throw new Error("the confirming run never started");
      Bun.sleepSync(50);
    }
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    writeFileSync(join(root, "no-hang"), "");
    const again = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("Reusing 1 candidate and 0 incumbent runs of iteration 1");
    expect(results(root)[0]).toMatchObject({ status: "keep", runs: [0.2812, 0.2812] });
    expect(read(root, "runs.log").split("\n").filter(Boolean)).toHaveLength(3); // first, the killed one, the resumed confirmation
  });

  test("an agent call killed before it changed anything is made again, not recorded", async () => {
    const root = baselined();
    const child = spawn(BUN, [
      join(KIT_ROOT, "scripts/iterate.ts"),
      "--loop",
      "--agent",
      "sleep 60",
      "--iterations",
      "1",
      "--no-report",
    ], { cwd: root, detached: true, env: { ...process.env, NO_COLOR: "1" } });
    const deadline = Date.now() + 60_000;
    while (!existsSync(join(root, ".autoresearch/agent-call.json"))) {
      if (Date.now() > deadline) throw new Error("the agent was never called");
      Bun.sleepSync(50);
    }
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    const again = loop(root, `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2'`);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("interrupted before it changed the file; calling the agent again");
    expect(results(root).map((line) => [line.iteration, line.status, line.description])).toEqual([[
      1,
      "keep",
      "weight 2",
    ]]);
  });

  test("a killed agent call is evaluated by the next run instead of calling the agent again", async () => {
    const root = baselined();
    const agent = `${SET_WEIGHT_2}; echo 'DESCRIPTION: weight 2 before the kill'; sleep 60`;
    const child = spawn(BUN, [
      join(KIT_ROOT, "scripts/iterate.ts"),
      "--loop",
      "--agent",
      agent,
      "--iterations",
      "1",
      "--no-report",
    ], { cwd: root, detached: true, env: { ...process.env, NO_COLOR: "1" } });
    const log = join(root, ".autoresearch/logs/round1/iteration1-agent.log");
    const deadline = Date.now() + 60_000;
    while (!(existsSync(log) && /^DESCRIPTION:/m.test(read(root, ".autoresearch/logs/round1/iteration1-agent.log")))) {
      if (Date.now() > deadline) throw new Error("the agent never started");
      Bun.sleepSync(50);
    }
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((resolve) => child.on("close", resolve));
    const again = loop(root, "echo 'DESCRIPTION: a second call'; exit 9");
    expect(again.code).toBe(0);
    expect(again.stderr).toContain("Evaluating iteration 1: an earlier run called the agent");
    expect(results(root).map((line) => [line.status, line.description])).toEqual([[
      "keep",
      "weight 2 before the kill",
    ]]);
  });
});
