// finalize.ts on a real round: the search-ranking example baselined and tuned by the offline
// agent (as the demo does), then finalized into a branch off main. Checks the commits against
// the journal's keeps, --squash, a moved base that conflicts, re-runs, the PR body, the user's
// uncommitted work, and one run under Deno.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BUN,
  commitHarness,
  exampleFiles,
  KIT_ROOT,
  makeRepo,
  removeFolder,
  results,
  runScript,
  sh,
  temporaryFolder,
} from "./helpers.ts";
import { baselined } from "./experiment-fixture.ts";

const HARNESS = [
  "autoresearch.yaml",
  "autoresearch_eval.py",
  "autoresearch_test_data.json",
  "instructions.md",
  "launch_prompt.md",
];
const EXPERIMENT_BRANCH = "autoresearch/ranker";
const FINAL_BRANCH = "autoresearch/ranker-final";

let round = "";

/** The search-ranking example baselined and tuned for 8 iterations by the offline agent, as the demo does. */
function tunedRound(initOptions: string[] = []): string {
  const root = makeRepo(exampleFiles("search-ranking"));
  const init = runScript("init", [
    "ranker.py",
    "--entry",
    "rank",
    "--metric",
    "precision@3",
    "--guard",
    "mrr>=0.7",
    "--cases-from",
    "labelled_queries.json",
    "--yes",
    ...initOptions,
  ], { cwd: root });
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`);
  sh(root, "python3", ["apply_labels.py", "autoresearch_test_data.json"]);
  commitHarness(root, HARNESS);
  const baseline = runScript("baseline", [], { cwd: root });
  if (baseline.code !== 0) throw new Error(`baseline failed: ${baseline.stderr}`);
  const agent = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
  const loop = runScript("iterate", ["--loop", "--agent", agent, "--iterations", "8"], { cwd: root });
  if (![0, 3, 4].includes(loop.code ?? -1)) throw new Error(`iterate failed: ${loop.stderr}`);
  return root;
}

beforeAll(() => {
  // Built once (about 5 s) and copied by each test: a copy of a git repository is a repository.
  const root = tunedRound();
  round = mkdtempSync(join(tmpdir(), "ark-finalize-round-"));
  cpSync(root, round, { recursive: true });
}, 120_000);

afterAll(() => {
  if (round) removeFolder(round);
});

function copyOfRound(): string {
  const copy = temporaryFolder("ark-finalize-");
  cpSync(round, copy, { recursive: true });
  return copy;
}

function git(root: string, ...args: string[]): string {
  return sh(root, "git", args);
}

/** Everything finalize must leave alone: every ref, HEAD, the index and the work tree's changes. */
function userState(root: string): Record<string, string> {
  return {
    refs: git(root, "for-each-ref", "--format=%(refname) %(objectname)"),
    head: git(root, "symbolic-ref", "HEAD"),
    status: git(root, "status", "--porcelain", "--untracked-files=all"),
    unstaged: git(root, "diff"),
    staged: git(root, "diff", "--cached"),
  };
}

/** Uncommitted work of every kind: an edited tracked file, a staged edit, an untracked file. */
function addUncommittedWork(root: string): void {
  writeFileSync(join(root, "README.md"), `${readFileSync(join(root, "README.md"), "utf8")}\nmy notes\n`);
  writeFileSync(join(root, "apply_labels.py"), `${readFileSync(join(root, "apply_labels.py"), "utf8")}\n# staged\n`);
  git(root, "add", "apply_labels.py");
  writeFileSync(join(root, "scratch.txt"), "untracked\n");
}

function keeps(root: string): { iteration: number; commit: string; description: string; delta: string }[] {
  return results(root).filter((line) => line.status === "keep").map((line) => ({
    iteration: line.iteration,
    commit: git(root, "rev-parse", line.commit).trim(),
    description: line.description,
    delta: line.delta,
  }));
}

/** A commit's diff against its parent, of ranker.py only, without the commit header. */
function diffOfRanker(root: string, commit: string): string {
  return git(root, "diff", `${commit}^`, commit, "--", "ranker.py");
}

type FinalizeJson = {
  branch: string;
  outcome: string;
  tip: string;
  base: { ref: string; commit: string };
  commits: { iteration: number | null; commit: string; experiment_commit: string | null; subject: string }[];
  body_path: string;
  body: string;
};

describe("finalize.ts builds a reviewable branch from a real round", () => {
  test("one commit per keep, in order, each the keep's change to ranker.py on main; uncommitted work untouched", () => {
    const root = copyOfRound();
    addUncommittedWork(root);
    const before = userState(root);
    const experimentTip = git(root, "rev-parse", EXPERIMENT_BRANCH).trim();
    const mainTip = git(root, "rev-parse", "main").trim();
    const kept = keeps(root);
    expect(kept.length).toBeGreaterThanOrEqual(2);

    const result = runScript("finalize", ["--json"], { cwd: root });
    expect(result.stderr).not.toContain("error");
    expect(result.code).toBe(0);
    const json: FinalizeJson = JSON.parse(result.stdout);
    expect(json.branch).toBe(FINAL_BRANCH);
    expect(json.outcome).toBe("created");
    expect(json.base).toMatchObject({ ref: "main", commit: mainTip });
    expect(json.commits.map((commit) => [commit.iteration, commit.experiment_commit])).toEqual(
      kept.map((keep) => [keep.iteration, keep.commit]),
    );
    const chain = git(root, "rev-list", "--reverse", `main..${FINAL_BRANCH}`).trim().split("\n");
    expect(chain).toEqual(json.commits.map((commit) => commit.commit));
    expect(git(root, "rev-parse", `${chain[0]}^`).trim()).toBe(mainTip);
    chain.forEach((commit, index) => {
      expect(git(root, "diff", "--name-only", `${commit}^`, commit).trim()).toBe("ranker.py");
      expect(diffOfRanker(root, commit)).toBe(diffOfRanker(root, kept[index].commit));
      const message = git(root, "log", "-1", "--format=%B", commit);
      expect(message.split("\n")[0]).toBe(kept[index].description);
      expect(message).toContain(`precision@3 ${kept[index].delta} (interval `);
      expect(message).toContain(`at iteration ${kept[index].iteration} of round 1`);
    });
    // The tip is main plus the incumbent's ranker.py, and nothing of the harness's own commits.
    expect(git(root, "diff", "--name-only", "main", FINAL_BRANCH).trim()).toBe("ranker.py");
    expect(git(root, "show", `${FINAL_BRANCH}:ranker.py`)).toBe(git(root, "show", `${EXPERIMENT_BRANCH}:ranker.py`));

    // Nothing else moved: the experiment branch, HEAD, the index, the work tree.
    const after = userState(root);
    expect(git(root, "rev-parse", EXPERIMENT_BRANCH).trim()).toBe(experimentTip);
    // The one new file is the PR body beside the journal.
    const withoutBody = after.status.split("\n").filter((line) => line !== "?? autoresearch_pr_round1.md").join("\n");
    expect(withoutBody).not.toBe(after.status);
    const unchanged: Record<string, string> = { ...before, refs: "" };
    const actual: Record<string, string> = { ...after, refs: "", status: withoutBody };
    expect(actual).toEqual(unchanged);
    expect(after.refs.split("\n").filter((line) => !line.startsWith(`refs/heads/${FINAL_BRANCH} `))).toEqual(
      before.refs.split("\n"),
    );

    // Re-running changes nothing and says so.
    const again = runScript("finalize", ["--json"], { cwd: root });
    expect(again.code).toBe(0);
    const second: FinalizeJson = JSON.parse(again.stdout);
    expect(second.outcome).toBe("unchanged");
    expect(second.tip).toBe(json.tip);
    expect(userState(root)).toEqual(after);
  }, 60_000);

  test("the PR body file matches the journal: the kept rows, the baseline and best figures", () => {
    const root = copyOfRound();
    const json: FinalizeJson = JSON.parse(runScript("finalize", ["--json"], { cwd: root }).stdout);
    expect(json.body_path).toBe("autoresearch_pr_round1.md");
    const body = readFileSync(join(root, "autoresearch_pr_round1.md"), "utf8");
    expect(body).toBe(json.body);
    const summary = JSON.parse(runScript("dashboard", ["--json"], { cwd: root }).stdout).summary;
    expect(body).toContain(`precision@3 ${summary.start.toFixed(4)} -> ${summary.best.score.toFixed(4)}`);
    expect(body).toContain(`| baseline | ${summary.start.toFixed(4)} |`);
    expect(body).toContain(`| best (#${summary.best.iteration}) | ${summary.best.score.toFixed(4)} |`);
    const rows = body.split("\n").filter((line) => /^\| #\d+ \|/.test(line));
    expect(rows).toEqual(
      keeps(root).map((keep, index) =>
        expect.stringContaining(
          `| #${keep.iteration} | ${keep.description} | ${keep.delta} | ${keep.delta} to ${keep.delta} (deterministic) | \`${
            json.commits[index].commit.slice(0, 7)
          }\` |`,
        )
      ),
    );
    expect(body).toContain("## Objective\n\nMaximise `precision@3` (higher is better), changing only `ranker.py`.");
    expect(body).toContain("## What did not work");
    expect(body).toContain("![precision@3 per iteration](autoresearch_progress.svg)");
    expect(body).not.toContain("## Held-out results"); // the round has no held-out set
  }, 60_000);

  test("--squash gives one commit with the same tree; a differing final branch moves only with --force", () => {
    const root = copyOfRound();
    const perKeep: FinalizeJson = JSON.parse(runScript("finalize", ["--json"], { cwd: root }).stdout);
    const squashed: FinalizeJson = JSON.parse(
      runScript("finalize", ["--squash", "--branch", "ranker-tuning", "--json"], { cwd: root }).stdout,
    );
    expect(squashed.commits).toHaveLength(1);
    expect(git(root, "rev-list", "--count", "main..ranker-tuning").trim()).toBe("1");
    expect(git(root, "rev-parse", "ranker-tuning^{tree}")).toBe(git(root, "rev-parse", `${FINAL_BRANCH}^{tree}`));
    const message = git(root, "log", "-1", "--format=%B", "ranker-tuning");
    for (const keep of keeps(root)) expect(message).toContain(`- #${keep.iteration} ${keep.description}: `);

    const before = userState(root);
    const refused = runScript("finalize", ["--squash"], { cwd: root });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Branch "${FINAL_BRANCH}" exists and differs`);
    expect(userState(root)).toEqual(before);

    const forced = runScript("finalize", ["--squash", "--force", "--json"], { cwd: root });
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({
      outcome: "moved",
      previous_tip: perKeep.tip,
      tip: squashed.tip,
      // ranker-tuning forks where main does, but finalize made it: it is never taken for the base.
      base: { ref: "main", how: "the branch the experiment branch forked from" },
    });
    expect(forced.stderr).toContain(`git branch ${FINAL_BRANCH}-previous ${perKeep.tip}`);
    expect(git(root, "reflog", "show", "--format=%H", FINAL_BRANCH)).toContain(perKeep.tip);
  }, 60_000);

  test("a moved base with a conflicting change stops, names the change and changes nothing", () => {
    const root = copyOfRound();
    const first = keeps(root)[0];
    // The base gets its own edit of the very line the first keep changes, committed through a
    // separate work tree as a colleague's push would.
    const removed = diffOfRanker(root, first.commit).split("\n").find((line) => /^-[^-]/.test(line))!.slice(1);
    const colleague = join(temporaryFolder("ark-finalize-wt-"), "main");
    git(root, "worktree", "add", "-q", colleague, "main");
    const ranker = readFileSync(join(colleague, "ranker.py"), "utf8");
    writeFileSync(join(colleague, "ranker.py"), ranker.replace(removed, `${removed}  # reviewed`));
    git(colleague, "commit", "-q", "-am", "annotate the ranker");
    git(root, "worktree", "remove", colleague);
    addUncommittedWork(root);
    const before = userState(root);

    const result = runScript("finalize", ["--json"], { cwd: root });
    expect(result.code).toBe(1);
    const error = JSON.parse(result.stdout).error;
    expect(error.code).toBe("E_KEEP_CONFLICT");
    expect(error.message).toContain(
      `Kept change #${first.iteration} ("${first.description}", commit ${first.commit.slice(0, 7)}) no longer applies`,
    );
    expect(error.message).toContain("ranker.py");
    expect(error.message).toContain("Nothing was changed");
    expect(userState(root)).toEqual(before);
    expect(existsSync(join(root, "autoresearch_pr_round1.md"))).toBe(false);

    // An older base still takes every change.
    const older = runScript("finalize", ["--base", "main~1", "--json"], { cwd: root });
    expect(older.code).toBe(0);
    expect(JSON.parse(older.stdout).base).toMatchObject({ ref: "main~1", differs_from_start: false });
    expect(older.stderr).not.toContain("differ from the round's starting point");
  }, 60_000);

  test("a moved base whose change does not touch the kept lines takes every change, with a note", () => {
    const root = copyOfRound();
    const colleague = join(temporaryFolder("ark-finalize-wt-"), "main");
    git(root, "worktree", "add", "-q", colleague, "main");
    writeFileSync(join(colleague, "ranker.py"), `${readFileSync(join(colleague, "ranker.py"), "utf8")}# reviewed\n`);
    git(colleague, "commit", "-q", "-am", "mark the ranker reviewed");
    git(root, "worktree", "remove", colleague);
    const result = runScript("finalize", ["--json"], { cwd: root });
    expect(result.code).toBe(0);
    const json: FinalizeJson = JSON.parse(result.stdout);
    expect(json.base).toMatchObject({ ref: "main", differs_from_start: true });
    expect(json.commits.map((commit) => commit.iteration)).toEqual(keeps(root).map((keep) => keep.iteration));
    expect(git(root, "show", `${FINAL_BRANCH}:ranker.py`)).toBe(
      `${git(root, "show", `${EXPERIMENT_BRANCH}:ranker.py`)}# reviewed\n`,
    );
    expect(result.stderr).toContain("ranker.py on main differ from the round's starting point");
    // The PR body says it too: its gains were measured on other code.
    expect(json.body).toContain(
      "**Measured on other code:** `ranker.py` on `main` differ from the round's starting point",
    );
  }, 60_000);

  test("with a held-out set, the PR body shows its figures for the baseline and each keep", () => {
    const root = tunedRound(["--holdout-split", "0.3", "--holdout-seed", "1"]);
    const json: FinalizeJson = JSON.parse(runScript("finalize", ["--json"], { cwd: root }).stdout);
    const scored = results(root).filter((line) => typeof line.holdout_score === "number");
    expect(scored.map((line) => line.status)).toContain("keep");
    expect(json.body).toContain("## Held-out results\n\n| | eval set | held-out set |\n|---|---|---|\n");
    for (const line of scored) {
      const label = line.status === "baseline" ? "baseline" : `#${line.iteration}`;
      expect(json.body).toContain(`| ${label} | `);
      expect(json.body).toMatch(new RegExp(`\\| ${label} \\| [0-9.]+ \\| ${line.holdout_score.toFixed(4)} \\|`));
    }
    expect(json.body).toMatch(
      /Gain on the eval set [+-][0-9.]+, on the held-out set [+-][0-9.]+ \(baseline to #\d+\)\./,
    );
  }, 120_000);

  test("two branches forking at the same point, neither the one left for the experiment: it asks for --base", () => {
    const root = copyOfRound();
    git(root, "branch", "release", "main");
    git(root, "branch", "staging", "main");
    git(root, "branch", "-D", "main");
    const before = userState(root);
    const result = runScript("finalize", ["--json"], { cwd: root });
    expect(result.code).toBe(2);
    const error = JSON.parse(result.stdout).error;
    expect(error.code).toBe("E_NO_BASE");
    expect(error.message).toContain('"release", "staging" at the same point');
    expect(error.message).toContain("Run: finalize.ts --base release");
    expect(userState(root)).toEqual(before);
    const chosen = runScript("finalize", ["--base", "staging", "--json"], { cwd: root });
    expect(chosen.code).toBe(0);
    expect(JSON.parse(chosen.stdout).base).toMatchObject({ ref: "staging", how: "--base" });
  }, 60_000);

  test("a round with no keep yet is refused with E_NO_KEEPS and creates nothing", () => {
    const root = baselined();
    const before = userState(root);
    const result = runScript("finalize", ["--json"], { cwd: root });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).error.code).toBe("E_NO_KEEPS");
    expect(result.stderr).toContain("records no kept change with a commit: nothing to finalize. Run: ");
    expect(userState(root)).toEqual(before);
  }, 60_000);

  test("the user's diff settings (diff.noprefix, diff.relative) do not turn a clean keep into a conflict", () => {
    const root = copyOfRound();
    git(root, "config", "diff.noprefix", "true");
    git(root, "config", "diff.relative", "true");
    const result = runScript("finalize", ["--json"], { cwd: root });
    expect([result.code, result.stderr]).toEqual([0, expect.any(String)]);
    expect(JSON.parse(result.stdout).commits.length).toBe(keeps(root).length);
  }, 60_000);

  test("Deno builds the same commits as Bun", () => {
    const bunCopy = copyOfRound();
    const denoCopy = copyOfRound();
    const underBun: FinalizeJson = JSON.parse(runScript("finalize", ["--json"], { cwd: bunCopy }).stdout);
    const result = runScript("finalize", ["--json"], { cwd: denoCopy, runtime: "deno" });
    expect(result.code).toBe(0);
    const underDeno: FinalizeJson = JSON.parse(result.stdout);
    expect(underDeno.commits).toEqual(underBun.commits);
    expect(underDeno.body).toBe(underBun.body);
  }, 60_000);
});
