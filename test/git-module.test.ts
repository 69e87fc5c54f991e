// The git module's queries on real temporary repositories (status with renames, conflicts and
// a subfolder, the branch read from HEAD's file, the incumbent resolved with its short id and
// blobs, a commit built off git's own index), and how many git processes a step starts.
// Other tests cover what a step does with these answers; these pin the answers themselves.
import { describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  commitTree,
  currentBranch,
  repositoryPrefix,
  repositoryRoot,
  repositoryStatus,
  resolveCommitWithShort,
  treeWithEdits,
} from "../scripts/lib/git/git.ts";
import { baselined } from "./experiment-fixture.ts";
import { makeRepo, results, runScript, setLever, sh, temporaryFolder } from "./helpers.ts";

describe("git module", () => {
  test("status reports a staged rename as both paths, untracked files, HEAD and the branch", () => {
    const root = makeRepo({ "a.txt": "a\n", "b.txt": "b\n" });
    sh(root, "git", ["mv", "a.txt", "renamed.txt"]);
    writeFileSync(join(root, "b.txt"), "changed\n");
    writeFileSync(join(root, "new file.txt"), "new\n");
    const status = repositoryStatus(root);
    expect(status.tracked.sort()).toEqual(["a.txt", "b.txt", "renamed.txt"]);
    expect(status.untracked).toEqual(["new file.txt"]);
    expect(status.head).toBe(sh(root, "git", ["rev-parse", "HEAD"]).trim());
    expect(status.branch).toBe("main");
  });

  test("status lists a conflicted file as tracked, and paths relative to a subfolder", () => {
    const root = makeRepo({ "sub/x.txt": "base\n", "top.txt": "top\n" });
    sh(root, "git", ["switch", "-q", "-c", "side"]);
    writeFileSync(join(root, "sub/x.txt"), "side\n");
    sh(root, "git", ["commit", "-qam", "side"]);
    sh(root, "git", ["switch", "-q", "main"]);
    writeFileSync(join(root, "sub/x.txt"), "main\n");
    sh(root, "git", ["commit", "-qam", "main"]);
    expect(() => sh(root, "git", ["merge", "-q", "side"])).toThrow();
    writeFileSync(join(root, "top.txt"), "edited\n");
    const status = repositoryStatus(join(root, "sub"));
    expect(status.tracked.sort()).toEqual(["../top.txt", "x.txt"]);
    expect(repositoryPrefix(join(root, "sub"))).toBe("sub/");
  });

  test("a detached HEAD has no branch, read from HEAD's file or from git alike", () => {
    const root = makeRepo({ "a.txt": "a\n" });
    expect(repositoryRoot(root)).toBe(sh(root, "git", ["rev-parse", "--show-toplevel"]).trim());
    expect(currentBranch(root)).toBe("main");
    sh(root, "git", ["switch", "-q", "--detach"]);
    expect(currentBranch(root)).toBeNull();
    expect(repositoryStatus(root).branch).toBeNull();
  });

  test("a commit resolves with its short id and its files' blobs, and a missing file gives null", () => {
    const root = makeRepo({ "a.txt": "a\n", "sub/b.txt": "b\n" });
    const short = sh(root, "git", ["rev-parse", "--short=7", "HEAD"]).trim();
    const resolved = resolveCommitWithShort(join(root, "sub"), short, ["b.txt"]);
    expect(resolved).toEqual({
      commit: sh(root, "git", ["rev-parse", "HEAD"]).trim(),
      short,
      blobs: { "b.txt": sh(root, "git", ["rev-parse", "HEAD:sub/b.txt"]).trim() },
    });
    expect(resolveCommitWithShort(root, short, ["missing.txt"])).toBeNull();
    expect(resolveCommitWithShort(root, "0000000")).toBeNull();
  });

  test("a commit built from blobs leaves git's own index and the work tree as they were", () => {
    const root = makeRepo({ "a.txt": "a\n", "sub/b.txt": "b\n", "gone.txt": "x\n" });
    writeFileSync(join(root, "a.txt"), "staged by the user\n");
    sh(root, "git", ["add", "a.txt"]);
    const indexBefore = sh(root, "git", ["ls-files", "-s"]);
    const newBlob = sh(root, "git", ["rev-parse", "HEAD:a.txt"]).trim();
    const edits = [
      { path: "sub/b.txt", blob: newBlob, mode: "100755" },
      { path: "gone.txt", blob: "deleted", mode: "100644" },
    ];
    const head = sh(root, "git", ["rev-parse", "HEAD"]).trim();
    const tree = treeWithEdits(root, head, edits, join(temporaryFolder(), "index"));
    const commit = commitTree(root, tree, head, "built off the index");
    expect(sh(root, "git", ["ls-tree", "-r", commit]).trim().split("\n").map((line) => line.split("\t")[1])).toEqual([
      "a.txt",
      "sub/b.txt",
    ]);
    expect(sh(root, "git", ["ls-tree", commit, "sub/b.txt"])).toStartWith(`100755 blob ${newBlob}`);
    expect(sh(root, "git", ["ls-files", "-s"])).toBe(indexBefore);
    expect(readFileSync(join(root, "a.txt"), "utf8")).toBe("staged by the user\n");
  });

  test("iterate starts at most 16 git processes for a keep and 10 for a discard", () => {
    const root = baselined();
    const bin = temporaryFolder("ark-git-count-");
    const log = join(bin, "calls.log");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "git"), `#!/bin/sh\necho "$*" >> "${log}"\nexec "${Bun.which("git")}" "$@"\n`);
    chmodSync(join(bin, "git"), 0o755);
    const env = { PATH: `${bin}:${process.env.PATH}` };
    const counted = () => {
      const calls = readFileSync(log, "utf8").trim().split("\n").length;
      writeFileSync(log, "");
      return calls;
    };
    setLever(root, "WEIGHT", "3.0");
    expect(runScript("iterate", ["-m", "weight 3"], { cwd: root, env }).code).toBe(0);
    const keep = counted();
    setLever(root, "BIAS", "-40.0");
    expect(runScript("iterate", ["-m", "bias -40"], { cwd: root, env }).code).toBe(0);
    const discard = counted();
    expect(results(root).map((line) => line.status)).toEqual(["keep", "discard"]);
    // Enough that the wrapper saw the step's git (a keep's commit alone takes seven), no more than the budget.
    // A keep's 16th reads the incumbent's file before the eval, to recognise a change already measured.
    expect([keep >= 10 && keep <= 16, discard >= 5 && discard <= 10]).toEqual([true, true]);
  });
});
