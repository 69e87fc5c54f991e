// A clean work tree after setup, and a careful next-round, end to end on real temporary git
// repositories with the fixture's Python eval: baseline and next-round commit the harness's
// own files on the experiment branch (one `autoresearch: ...` commit each) and never the
// user's changes, iterate builds on those commits, the final reports are excluded from git,
// and next-round --dry-run writes nothing while a pending candidate is refused.
import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appendExcludeRules } from "../scripts/lib/init/apply.ts";
import { casesJson, evalScript, experimentYaml, pythonExperiment, RANKER } from "./experiment-fixture.ts";
import {
  fileHashes,
  head,
  journal,
  makeRepo,
  read,
  results,
  runScript,
  type Runtime,
  setLever,
  sh,
} from "./helpers.ts";

const INSTRUCTIONS = `# Instructions

<!-- min-delta:start -->
(filled in by baseline)
<!-- min-delta:end -->
`;

function run(root: string, script: "baseline" | "iterate" | "next-round", args: string[] = [], runtime?: Runtime) {
  return runScript(script, args, { cwd: root, runtime });
}

function ok(result: { code: number | null; stdout: string; stderr: string }, what: string): string {
  if (result.code !== 0) throw new Error(`${what} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stderr;
}

/** `git status --porcelain` as lines, untracked files listed one by one. */
function status(root: string): string[] {
  return sh(root, "git", ["status", "--porcelain", "--untracked-files=all"]).split("\n").filter(Boolean);
}

function subject(root: string, commit = "HEAD"): string {
  return sh(root, "git", ["log", "-1", "--format=%s", commit]).trim();
}

function filesOf(root: string, commit = "HEAD"): string[] {
  return sh(root, "git", ["show", "--name-only", "--format=", commit]).split("\n").filter(Boolean).sort();
}

/** The fixture with a committed instructions.md holding the min-delta block baseline fills. */
function experiment(): string {
  return pythonExperiment({ files: { "instructions.md": INSTRUCTIONS, "launch_prompt.md": "# Launch\n" } });
}

describe("a clean work tree after setup", () => {
  test("baseline commits the experiment file and instructions as one harness commit; the user's changes stay uncommitted; iterate builds on it", () => {
    const root = experiment();
    const before = head(root);
    // The user's own work in progress: one file edited, one staged, one new.
    appendFileSync(join(root, "notes.txt"), "an unsaved thought\n");
    writeFileSync(join(root, "cases.json.bak"), "scratch\n");
    writeFileSync(join(root, "README.txt"), "staged by the user\n");
    sh(root, "git", ["add", "README.txt"]);
    const userStatus = status(root);

    const stderr = ok(run(root, "baseline"), "baseline");
    expect(stderr).toContain('Committed "autoresearch.yaml", "instructions.md" as');
    expect(sh(root, "git", ["rev-parse", "HEAD^"]).trim()).toBe(before);
    expect(subject(root)).toMatch(/^autoresearch: baseline of round 1 \| score: 0\.\d{4}$/);
    expect(filesOf(root)).toEqual(["autoresearch.yaml", "instructions.md"]);
    // Exactly what the user had before; nothing of the harness's left modified.
    expect(status(root)).toEqual(userStatus);
    expect(sh(root, "git", ["diff", "--cached", "--name-only"]).trim()).toBe("README.txt");
    expect(read(root, "instructions.md")).not.toContain("(filled in by baseline)");
    expect(sh(root, "git", ["show", "HEAD:instructions.md"])).toBe(read(root, "instructions.md"));
    // The baseline line names the commit the first iteration builds on.
    const short = sh(root, "git", ["rev-parse", "--short=7", "HEAD"]).trim();
    const baselineLine = journal(root).find((line) => line.status === "baseline");
    expect(baselineLine?.commit).toBe(short);
    // The measured commit stays recorded in the experiment file.
    expect(read(root, "autoresearch.yaml")).toContain(`commit: ${before}`);

    // A `git checkout .` no longer loses the baseline: the experiment file equals HEAD's.
    expect(sh(root, "git", ["diff", "--name-only", "HEAD", "--", "autoresearch.yaml", "instructions.md"]).trim())
      .toBe("");

    // Step mode keeps on top of the harness commit; the journal and git agree.
    const baselineCommit = head(root);
    setLever(root, "WEIGHT", "3.0");
    ok(run(root, "iterate", ["-m", "raise WEIGHT to 3"]), "iterate keep");
    expect(results(root).map((line) => line.status)).toEqual(["keep"]);
    expect(sh(root, "git", ["rev-parse", "HEAD^"]).trim()).toBe(baselineCommit);
    expect(filesOf(root)).toEqual(["ranker.py"]);
    setLever(root, "BIAS", "-5.0");
    ok(run(root, "iterate", ["-m", "lower BIAS to -5"]), "iterate discard");
    expect(results(root).map((line) => line.status)).toEqual(["keep", "discard"]);
    expect(status(root)).toEqual(userStatus);
  });

  test("the loop starts from the harness commit without calling it a foreign commit", () => {
    const root = experiment();
    ok(run(root, "baseline"), "baseline");
    const agent =
      `python3 -c "import re;p='ranker.py';s=open(p).read();open(p,'w').write(re.sub(r'WEIGHT = [0-9.]+','WEIGHT = 3.0',s))"`;
    ok(run(root, "iterate", ["--loop", "--agent", agent, "--iterations", "1"]), "loop");
    expect(results(root).map((line) => line.status)).toEqual(["keep"]);
    expect(subject(root, "HEAD^")).toMatch(/^autoresearch: baseline of round 1/);
    expect(status(root)).toEqual([]);
  });

  test("re-running baseline commits once more on the first harness commit, and the journal names the new one", () => {
    const root = experiment();
    ok(run(root, "baseline"), "baseline");
    const first = head(root);
    const stderr = ok(run(root, "baseline"), "baseline again");
    // The figures are the same (a deterministic eval) but measured_at changes: one new commit, on the first.
    expect(stderr).toMatch(/Committed "autoresearch\.yaml" as [0-9a-f]{7}/);
    expect(sh(root, "git", ["rev-list", "--count", `${first}..HEAD`]).trim()).toBe("1");
    expect(status(root)).toEqual([]);
    expect(journal(root).find((line) => line.status === "baseline")?.commit).toBe(
      sh(root, "git", ["rev-parse", "--short=7", "HEAD"]).trim(),
    );
  });

  test("an experiment kept in a subdirectory: the harness commit holds its files under that folder, and iterate keeps on it", () => {
    const root = makeRepo({
      "search/ranker.py": RANKER,
      "search/eval.py": evalScript(),
      "search/cases.json": casesJson(),
      "search/autoresearch.yaml": experimentYaml(),
      "search/instructions.md": INSTRUCTIONS,
      "top.txt": "the user's file at the top\n",
    });
    writeFileSync(join(root, ".git/info/exclude"), "__pycache__/\n");
    appendExcludeRules(join(root, ".git/info/exclude")); // as init does
    appendFileSync(join(root, "top.txt"), "edited\n");
    const folder = join(root, "search");
    ok(runScript("baseline", ["--no-branch"], { cwd: folder }), "baseline");
    expect(filesOf(root)).toEqual(["search/autoresearch.yaml", "search/instructions.md"]);
    expect(status(root)).toEqual([" M top.txt"]);
    setLever(folder, "WEIGHT", "3.0");
    ok(runScript("iterate", ["-m", "raise WEIGHT to 3"], { cwd: folder }), "iterate");
    expect(results(folder).map((line) => line.status)).toEqual(["keep"]);
    expect(filesOf(root)).toEqual(["search/ranker.py"]);
    expect(status(root)).toEqual([" M top.txt"]);
  });

  test("a git that cannot commit (no identity) leaves the files uncommitted: the baseline still stands", () => {
    const root = experiment();
    sh(root, "git", ["config", "--unset", "user.email"]);
    sh(root, "git", ["config", "--unset", "user.name"]);
    sh(root, "git", ["config", "user.useConfigOnly", "true"]);
    const before = head(root);
    const result = runScript("baseline", [], {
      cwd: root,
      env: {
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_CONFIG_NOSYSTEM: "1",
        EMAIL: "",
        GIT_AUTHOR_EMAIL: "",
        GIT_COMMITTER_EMAIL: "",
      },
    });
    const stderr = ok(result, "baseline");
    expect(stderr).toContain("uncommitted: git could not commit them");
    expect(head(root)).toBe(before);
    expect(status(root)).toEqual([" M autoresearch.yaml", " M instructions.md"]);
    expect(journal(root).find((line) => line.status === "baseline")?.commit).toBe(before.slice(0, 7));
  });

  test("an experiment file the user keeps out of git is not committed, and baseline says so", () => {
    const root = experiment();
    sh(root, "git", ["rm", "-q", "--cached", "autoresearch.yaml"]);
    sh(root, "git", ["commit", "-q", "-m", "keep the experiment out of git"]);
    const before = head(root);
    const stderr = ok(run(root, "baseline"), "baseline");
    expect(head(root)).toBe(before);
    expect(stderr).toContain('"autoresearch.yaml" is not committed, so the harness does not commit its files either');
    expect(status(root)).toEqual([" M instructions.md", "?? autoresearch.yaml"]);
  });

  test("next-round commits round 2's files on the experiment branch; round 2's baseline and iterate keep it clean", () => {
    const root = experiment();
    ok(run(root, "baseline"), "baseline");
    setLever(root, "WEIGHT", "3.0");
    ok(run(root, "iterate", ["-m", "raise WEIGHT to 3"]), "iterate keep");
    const keep = head(root);
    const branch = sh(root, "git", ["branch", "--show-current"]).trim();
    expect(branch).toBe("autoresearch/fixture");

    const stderr = ok(run(root, "next-round"), "next-round");
    expect(stderr).toMatch(
      /Committed "autoresearch\.yaml", "instructions_2\.md", "launch_prompt_2\.md", "eval_2\.py" as/,
    );
    expect(sh(root, "git", ["rev-parse", "HEAD^"]).trim()).toBe(keep);
    expect(subject(root)).toMatch(/^autoresearch: start round 2 \| best of round 1: 0\.\d{4}$/);
    expect(filesOf(root)).toEqual(["autoresearch.yaml", "eval_2.py", "instructions_2.md", "launch_prompt_2.md"]);
    expect(status(root)).toEqual([]);
    expect(existsSync(join(root, "autoresearch_2.jsonl"))).toBe(true); // excluded, not committed

    ok(run(root, "baseline"), "baseline of round 2");
    expect(subject(root)).toMatch(/^autoresearch: baseline of round 2/);
    expect(status(root)).toEqual([]);
    setLever(root, "BIAS", "1.0");
    ok(run(root, "iterate", ["-m", "raise BIAS to 1"]), "iterate round 2");
    expect(results(root, "autoresearch_2.jsonl").map((line) => line.status)).toEqual(["keep"]);
    expect(status(root)).toEqual([]);
  });

  test("the final reports are excluded from git like the other artifacts", () => {
    const root = makeRepo({ "a.txt": "a\n" });
    const added = appendExcludeRules(join(root, ".git", "info", "exclude"));
    expect(added).toContain("autoresearch_report*.md");
    writeFileSync(join(root, "autoresearch_report.md"), "# report\n");
    writeFileSync(join(root, "autoresearch_report_2.md"), "# report\n");
    writeFileSync(join(root, "autoresearch_dashboard.md"), "# dashboard\n");
    expect(status(root)).toEqual([]);
    expect(appendExcludeRules(join(root, ".git", "info", "exclude"))).toEqual([]);
  });
});

describe("next-round is careful", () => {
  function roundOneWithResults(): string {
    const root = experiment();
    ok(run(root, "baseline"), "baseline");
    setLever(root, "WEIGHT", "3.0");
    ok(run(root, "iterate", ["-m", "raise WEIGHT to 3"]), "iterate keep");
    return root;
  }

  test("--dry-run lists what it would write and writes nothing (Bun and Deno)", () => {
    const root = roundOneWithResults();
    const before = { files: fileHashes(root, { git: true }), head: head(root) };
    for (const runtime of ["bun", "deno"] as const) {
      const result = run(root, "next-round", ["--dry-run"], runtime);
      ok(result, `next-round --dry-run (${runtime})`);
      for (const name of ["instructions_2.md", "launch_prompt_2.md", "eval_2.py", "autoresearch_2.jsonl"]) {
        expect(result.stdout).toContain(name);
      }
      expect(result.stdout).toMatch(/autoresearch\.yaml\s+experiment file \(current_round 2, round 1 closed\)/);
      expect(result.stderr).toContain("Dry run: nothing was written.");
      const json = run(root, "next-round", ["--dry-run", "--json"], runtime);
      ok(json, `next-round --dry-run --json (${runtime})`);
      const parsed = JSON.parse(json.stdout);
      expect(parsed.dry_run).toBe(true);
      expect(parsed.round).toBe(2);
      expect(parsed.files).toContain("instructions_2.md");
      expect(fileHashes(root, { git: true })).toEqual(before.files);
      expect(head(root)).toBe(before.head);
    }
    // The real run then writes what the dry run listed.
    const dry = run(root, "next-round", ["--dry-run", "--json"]).stdout;
    const real = run(root, "next-round", ["--json"]);
    ok(real, "next-round");
    expect(JSON.parse(real.stdout).files).toEqual(JSON.parse(dry).files);
  });

  test("it refuses while the constrained file holds an uncommitted candidate, saying how to finish or discard it", () => {
    const root = roundOneWithResults();
    setLever(root, "BIAS", "2.0");
    const before = { files: fileHashes(root), head: head(root) };
    for (const args of [[], ["--dry-run"], ["--json"]]) {
      const result = run(root, "next-round", args);
      expect(result.code).toBe(2);
      if (args[0] === "--json") expect(JSON.parse(result.stdout).error.code).toBe("E_MODIFIED");
      expect(result.stderr).toContain('The constrained file "ranker.py" holds an uncommitted candidate');
      expect(result.stderr).toContain('iterate.ts -m "what you changed"');
      expect(result.stderr).toContain("git restore ranker.py");
      expect(fileHashes(root)).toEqual(before.files);
      expect(head(root)).toBe(before.head);
      expect(existsSync(join(root, "instructions_2.md"))).toBe(false);
    }
    // Finishing it (iterate) lets next-round go ahead.
    ok(run(root, "iterate", ["-m", "raise BIAS to 2"]), "iterate");
    ok(run(root, "next-round"), "next-round");
    expect(status(root)).toEqual([]);
  });
});
