// baseline.ts end to end: real temporary git repositories, real Python evals (deterministic,
// seeded-noisy, insensitive, crashing, hanging, cached), the real script as a subprocess under
// Bun (and Deno), including kill -9 and Ctrl-C in the middle of the sensitivity probe.
// Every test checks that the constrained file ends byte-identical; bad input must change nothing.
import { describe, expect, test } from "bun:test";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  casesJson,
  evalScript,
  experimentYaml,
  type FixtureOptions,
  pythonExperiment,
  RANKER,
} from "./experiment-fixture.ts";
import {
  BUN,
  journal,
  KIT_ROOT,
  type Line,
  makeRepo,
  read,
  runScript,
  type Runtime,
  sh,
  sha256,
  temporaryFolder,
  waitFor,
  writeFiles,
} from "./helpers.ts";

/** The fixture's score with WEIGHT 1, BIAS 0: five cases partly right out of sixteen. */
const FIXTURE_BASELINE = 0.1563;
const FIXTURE_MRR = 0.2563;

function baseline(root: string, args: string[] = [], runtime: Runtime = "bun") {
  return runScript("baseline", args, { cwd: root, runtime });
}

/** What a user would see of the repository: git status, branch, and the bytes of every file git shows. */
function repoState(root: string) {
  const files = sh(root, "git", ["ls-files", "-co", "--exclude-standard"]).split("\n").filter(Boolean);
  const hashes = Object.fromEntries(
    files.map((file) => [file, existsSync(join(root, file)) ? sha256(readFileSync(join(root, file))) : "deleted"]),
  );
  return { status: sh(root, "git", ["status", "--porcelain"]), hashes };
}

function currentBranch(root: string): string {
  return sh(root, "git", ["branch", "--show-current"]).trim();
}

function rankerBytes(root: string): Buffer {
  return readFileSync(join(root, "ranker.py"));
}

function expectNoPendingBackup(root: string): void {
  expect(existsSync(join(root, ".autoresearch/backup"))).toBe(false);
}

/** The experiment file with one field rewritten, committed so the work tree is clean. */
function withExperiment(options: FixtureOptions, edit: (yaml: string) => string): string {
  return pythonExperiment({
    ...options,
    files: { ...options.files, "autoresearch.yaml": edit(experimentYaml(options)) },
  });
}

/** Seeds Python's random with the run number, so a noisy eval gives the same three scores every time. */
const SEEDED_NOISE_PRELUDE = `_run = int(open(".run-counter").read()) + 1 if os.path.exists(".run-counter") else 1
open(".run-counter", "w").write(str(_run))
random.seed(_run)`;

/** An expensive per-input step (0.1 s a case) cached on disk; the constrained function is still called. */
const EXPENSIVE_STEP_CACHE_PRELUDE = `import time
_cases = json.load(open("cases.json"))["cases"]
_cache = json.load(open(".embedding-cache.json")) if os.path.exists(".embedding-cache.json") else {}
for _case in _cases:
    _key = json.dumps(_case["input"], sort_keys=True)
    if _key not in _cache:
        time.sleep(0.2)  # stands in for an embedding or model call: a sleep, so CPU load cannot shrink the gap
        _cache[_key] = _case["input"]["x"]
json.dump(_cache, open(".embedding-cache.json", "w"))`;

/** An eval that caches each case's score keyed by input, so after the first run it never calls the function. */
const STALE_SCORE_CACHE_EVAL = `import json, os, sys
sys.path.insert(0, os.getcwd())
import ranker
cases = json.load(open("cases.json"))["cases"]
cache = json.load(open(".score-cache.json")) if os.path.exists(".score-cache.json") else {}
total = 0.0
for case in cases:
    key = json.dumps(case["input"], sort_keys=True)
    if key not in cache:
        cache[key] = max(0.0, 1 - abs(ranker.score(case["input"]["x"]) - case["expected"]) / 10)
    total += cache[key]
json.dump(cache, open(".score-cache.json", "w"))
print(f"SCORE: {total / len(cases):.4f}")
print(f"  MRR: {total / len(cases) + 0.1:.4f}")
`;

/** Makes only the sensitivity probe's eval hang (once), after writing its pid for the test to find. */
const SLOW_PROBE_PRELUDE = `import time
if "sensitivity probe" in open("ranker.py").read() and not os.path.exists(".probe-pid"):
    open(".probe-pid", "w").write(str(os.getpid()))
    time.sleep(60)`;

/**
 * A timing-like eval: SCORE wanders by run (the fourth run is the probe) whatever the code does,
 * while ACCURACY and each CASE line say whether score() still answers x for x.
 */
const NOISY_SCORE_EXACT_ACCURACY_EVAL = `import json, os, sys
sys.path.insert(0, os.getcwd())
run = int(open(".run-counter").read()) + 1 if os.path.exists(".run-counter") else 1
open(".run-counter", "w").write(str(run))
import ranker
cases = json.load(open("cases.json"))["cases"]
right = 0
for case in cases:
    ok = ranker.score(case["input"]["x"]) == case["input"]["x"]
    right += ok
    print(f"CASE {case['id']} {int(ok)}")
print(f"SCORE: {[0.50, 0.60, 0.55, 0.56][min(run, 4) - 1]:.4f}")
print(f"  ACCURACY: {right / len(cases):.4f}")
print("  MRR: 0.5000")
`;

/** True while the process exists and is not a zombie waiting to be reaped. */
function processRunning(pid: number): boolean {
  const state = spawnSync("ps", ["-o", "stat=", "-p", String(pid)], { encoding: "utf8" }).stdout.trim();
  return state !== "" && !state.startsWith("Z");
}

/** Start baseline.ts in the background and wait until its probe eval is running with the file broken. */
async function startBaselineUntilProbe(
  root: string,
): Promise<{ child: ChildProcess; stderr: () => string; probePid: number }> {
  const child = spawn(BUN, [join(KIT_ROOT, "scripts/baseline.ts")], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdout!.resume();
  await waitFor("the probe's backup manifest", () => existsSync(join(root, ".autoresearch/backup/manifest.json")));
  await waitFor("the probe eval's pid", () => existsSync(join(root, ".probe-pid")) && read(root, ".probe-pid") !== "");
  return { child, stderr: () => stderr, probePid: Number(read(root, ".probe-pid")) };
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.on("close", (code) => resolve(code)));
}

describe("baseline on a sound eval", () => {
  test("baseline records 0.1563, the median of three identical runs, in the journal and the experiment file", () => {
    const root = pythonExperiment();
    const original = rankerBytes(root);
    const result = baseline(root);
    expect(result.code).toBe(0);

    expect(result.stdout).toContain("baseline 0.1563 (median of 3: 0.1563, 0.1563, 0.1563)");
    expect(result.stdout).toContain(
      "noise    mean 0.1563, median 0.1563, sd 0, spread 0, CV 0.00%, deterministic; min detectable effect 0.00005; min_delta 0.0001",
    );
    expect(result.stdout).toContain("guard    mrr 0.2563 >= 0.1: PASS");
    expect(result.stdout).toContain("probe sensitive (replaced score() with one that returns None)");
    expect(result.stderr).toContain("Stop and review before launching");
    expect(result.stderr).toContain('Created and switched to branch "autoresearch/fixture"');

    const [config, baselineLine, ...rest] = journal(root);
    expect(rest).toHaveLength(0);
    const hashes = { "eval.py": sha256(read(root, "eval.py")), "cases.json": sha256(read(root, "cases.json")) };
    expect(config).toMatchObject({
      type: "config",
      constrained_file: "ranker.py",
      eval_command: "python3 eval.py",
      metric: "score",
      guard_metric: "mrr",
      guard_threshold: 0.1,
      baseline: FIXTURE_BASELINE,
      min_delta: 0.0001,
      direction: "max",
      noise: {
        sd: 0,
        mean: FIXTURE_BASELINE,
        runs: [FIXTURE_BASELINE, FIXTURE_BASELINE, FIXTURE_BASELINE],
        deterministic: true,
        min_detectable_effect: 0.00005,
      },
      hashes,
    });
    expect(baselineLine).toMatchObject({
      type: "result",
      iteration: 0,
      status: "baseline",
      score: FIXTURE_BASELINE,
      delta: "+0.0000",
      guard_score: FIXTURE_MRR,
      guard_pass: true,
      runs: [FIXTURE_BASELINE, FIXTURE_BASELINE, FIXTURE_BASELINE],
      guard_runs: [FIXTURE_MRR, FIXTURE_MRR, FIXTURE_MRR],
      commit: sh(root, "git", ["rev-parse", "--short=7", "HEAD"]).trim(),
    });
    expect(baselineLine.case_runs[0]).toMatchObject({ c0: 0.9, c1: 0.7, c4: 0.1, c5: 0 });

    const yaml = read(root, "autoresearch.yaml");
    expect(yaml).toMatch(/baseline:\n\s+score: 0\.1563\n\s+mean: 0\.1563\n\s+sd: 0\n/);
    expect(yaml).toContain(`eval.py: ${hashes["eval.py"]}`);
    expect(yaml).toContain(`cases.json: ${hashes["cases.json"]}`);
    expect(yaml).toContain("branch: autoresearch/fixture");
    expect(currentBranch(root)).toBe("autoresearch/fixture");

    expect(rankerBytes(root).equals(original)).toBe(true);
    expectNoPendingBackup(root);
    expect(existsSync(join(root, ".autoresearch/lock"))).toBe(false);
    for (const run of [1, 2, 3]) {
      expect(read(root, `.autoresearch/logs/baseline-round1-run${run}.log`)).toContain("SCORE: 0.1563");
    }
    expect(read(root, ".autoresearch/logs/baseline-round1-probe.log")).toContain("TypeError");
  });

  test("baseline --json prints one object with noise, cache, revert, probe, hashes and estimate, and --no-branch stays put", () => {
    const root = withExperiment({}, (yaml) => yaml.replace("frozen: []", "frozen: [notes.txt]"));
    const result = baseline(root, ["--json", "--no-branch", "--expected-gain", "0.001"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      round: 1,
      score: FIXTURE_BASELINE,
      mean: FIXTURE_BASELINE,
      median: FIXTURE_BASELINE,
      sd: 0,
      spread: 0,
      cv: 0,
      deterministic: true,
      min_detectable_effect: 0.00005,
      min_delta: 0.0001,
      runs: [FIXTURE_BASELINE, FIXTURE_BASELINE, FIXTURE_BASELINE],
      guard: { metric: "mrr", op: ">=", threshold: 0.1, score: FIXTURE_MRR, pass: true },
      expected_gain: 0.001,
      noise_warning: null,
      revert: { ok: true },
      probe: { sensitive: true, crashed: true, score: null, method: "replaced score() with one that returns None" },
      branch: "main",
      journal: "autoresearch.jsonl",
      backup: null,
      warnings: [],
    });
    expect(report.hashes).toEqual({
      "eval.py": sha256(read(root, "eval.py")),
      "cases.json": sha256(read(root, "cases.json")),
      "notes.txt": sha256(read(root, "notes.txt")),
    });
    expect(report.cache.first_s).toBeGreaterThan(0); // faster or not depends on machine load: see the cache test
    expect(report.estimate).toMatchObject({ runs_per_iteration: 1.1, iterations: 30, note: null });
    expect(report.estimate.total_minutes).toBeCloseTo((report.estimate.eval_seconds * 1.1 * 30) / 60, 2);
    expect(report.logs).toEqual([1, 2, 3].map((run) => `.autoresearch/logs/baseline-round1-run${run}.log`));
    expect(currentBranch(root)).toBe("main");
    expect(journal(root)[0].hashes["notes.txt"]).toBe(sha256(read(root, "notes.txt")));
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline --experiment reads and updates the named experiment file", () => {
    const root = pythonExperiment();
    sh(root, "git", ["mv", "autoresearch.yaml", "search.yaml"]);
    sh(root, "git", ["commit", "-qm", "rename the experiment file"]);
    const result = baseline(root, ["--experiment", "search.yaml", "--no-branch"]);
    expect(result.code).toBe(0);
    expect(read(root, "search.yaml")).toMatch(/baseline:\n\s+score: 0\.1563\n/);
    expect(existsSync(join(root, "autoresearch.yaml"))).toBe(false);
    expect(journal(root)[0].baseline).toBe(FIXTURE_BASELINE);
  });

  test("baseline off a terminal prints no live status line, and on a terminal rewrites one line per run", () => {
    const root = pythonExperiment();
    const piped = baseline(root, ["--no-branch"]);
    expect(piped.code).toBe(0);
    expect(piped.stderr).not.toContain("\r");
    expect(piped.stderr).not.toContain("baseline run 1/3");

    const script = spawnSync("which", ["script"]).status === 0;
    if (!script) return; // util-linux `script` gives the run a pseudo-terminal
    const command = `${BUN} ${join(KIT_ROOT, "scripts/baseline.ts")} --no-branch --force`;
    const terminal = spawnSync("script", ["-qec", command, "/dev/null"], {
      cwd: root,
      encoding: "utf8",
      input: "",
      env: { ...process.env, NO_COLOR: "1", TERM: "xterm" },
    });
    expect(terminal.status).toBe(0);
    expect(terminal.stdout).toContain("\r\x1b[Kbaseline run 1/3");
    expect(terminal.stdout).toContain("tail -f .autoresearch/logs/baseline-round1-run3.lo");
  });

  test("baseline reports a seeded noisy eval's mean, median, sd and spread exactly and warns loudly when noise exceeds the expected gain", () => {
    const root = pythonExperiment({ noise: 0.02, evalPrelude: SEEDED_NOISE_PRELUDE });
    const result = baseline(root, ["--json", "--expected-gain", "0.001"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.runs).toEqual([0.182, 0.203, 0.1581]); // random.seed(1), (2), (3)
    expect(report.median).toBe(0.182);
    expect(report.score).toBe(0.182);
    expect(report.mean).toBeCloseTo(0.181033, 6);
    expect(report.sd).toBeCloseTo(0.0224656, 6);
    expect(report.spread).toBeCloseTo(0.0449, 10);
    expect(report.cv).toBeCloseTo(0.0224656 / 0.181033, 5);
    expect(report.deterministic).toBe(false);
    expect(report.min_detectable_effect).toBeCloseTo(0.0622, 4); // 5 + 5 runs at the later looks' level
    expect(report.min_delta).toBe(0.0472);
    expect(report.noise_warning).toStartWith(
      "NOISY EVAL: run-to-run sd 0.0225 (minimum detectable effect 0.0622 at 2 degrees of freedom) against an expected gain of 0.001.",
    );
    expect(result.stderr).toContain("warning: NOISY EVAL");
    expect(report.estimate.runs_per_iteration).toBe(2.1);

    const [config, baselineLine] = journal(root);
    expect(config).toMatchObject({
      baseline: 0.182,
      min_delta: 0.0472,
      noise: { deterministic: false, runs: [0.182, 0.203, 0.1581] },
    });
    expect(config.noise.sd).toBeCloseTo(0.0224656, 6);
    expect(baselineLine.runs).toEqual([0.182, 0.203, 0.1581]);
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline does not call the same noise loud when the expected gain dwarfs it", () => {
    const root = pythonExperiment({ noise: 0.02, evalPrelude: SEEDED_NOISE_PRELUDE });
    const report = JSON.parse(baseline(root, ["--json", "--expected-gain", "0.5"]).stdout);
    expect(report.runs).toEqual([0.182, 0.203, 0.1581]);
    expect(report.noise_warning).toBeNull();
  });

  test("baseline sees an expensive step cached on disk as later runs being faster, and the probe still reaches the function", () => {
    const root = pythonExperiment({ evalPrelude: EXPENSIVE_STEP_CACHE_PRELUDE });
    const result = baseline(root, ["--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.score).toBe(FIXTURE_BASELINE);
    expect(report.cache.faster).toBe(true);
    expect(report.cache.first_s).toBeGreaterThanOrEqual(3.2); // 16 uncached calls of 0.2 s
    expect(report.cache.later_median_s).toBeLessThan(report.cache.first_s * 0.7);
    expect(report.cache.note).toContain("a cache is warm");
    expect(report.probe).toMatchObject({ sensitive: true, crashed: true });
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline with a guard the unchanged code already fails warns that every iteration would be a guard_fail", () => {
    const root = pythonExperiment({ guardThreshold: 0.9 });
    const result = baseline(root, ["--json"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).guard).toMatchObject({
      metric: "mrr",
      op: ">=",
      threshold: 0.9,
      score: FIXTURE_MRR,
      pass: false,
    });
    expect(result.stderr).toContain("the baseline already fails the guard (mrr 0.2563 >= 0.9 is false)");
  });

  test("baseline --runs 5 runs the eval five times and says so in the instructions' min-delta block", () => {
    const root = pythonExperiment({
      files: { "instructions.md": "# Rules\n<!-- min-delta:start -->\n(filled by baseline)\n<!-- min-delta:end -->\n" },
    });
    const result = baseline(root, ["--json", "--runs", "5"]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).runs).toEqual([0.1563, 0.1563, 0.1563, 0.1563, 0.1563]);
    expect(read(root, "instructions.md")).toContain(
      "The eval is deterministic (5 identical runs): any change of more than 0.0001 counts",
    );
  });

  test("baseline under Deno records the same deterministic baseline", () => {
    const root = pythonExperiment();
    const result = baseline(root, ["--json"], "deno");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({
      score: FIXTURE_BASELINE,
      sd: 0,
      deterministic: true,
      branch: "autoresearch/fixture",
      probe: { sensitive: true },
    });
    expect(journal(root)[1]).toMatchObject({
      status: "baseline",
      score: FIXTURE_BASELINE,
      runs: [FIXTURE_BASELINE, FIXTURE_BASELINE, FIXTURE_BASELINE],
    });
    expect(result.stderr).toContain("deno run -A");
    expect(read(root, "ranker.py")).toBe(RANKER);
  });
});

describe("baseline's sensitivity probe", () => {
  test("baseline refuses an eval that reads stale scores from a cache and never calls the function again", () => {
    const root = pythonExperiment({ files: { "eval.py": STALE_SCORE_CACHE_EVAL } });
    const experimentBefore = read(root, "autoresearch.yaml");
    const result = baseline(root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the score stayed at 0.1563: the eval does not exercise "ranker.py"');
    expect(result.stderr).toContain("--allow-insensitive");
    expect(read(root, "ranker.py")).toBe(RANKER);
    expect(read(root, "autoresearch.yaml")).toBe(experimentBefore);
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
    expectNoPendingBackup(root);
  });

  test("baseline --allow-insensitive records the baseline with the insensitivity as a warning", () => {
    const root = pythonExperiment({ files: { "eval.py": STALE_SCORE_CACHE_EVAL } });
    const result = baseline(root, ["--json", "--allow-insensitive"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.probe).toMatchObject({ sensitive: false, crashed: false, score: FIXTURE_BASELINE });
    expect(report.warnings.some((warning: string) => warning.includes("does not exercise"))).toBe(true);
    expect(journal(root)[1]).toMatchObject({ status: "baseline", score: FIXTURE_BASELINE });
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline calls an eval sensitive when the broken file leaves the score within its noise but drops an exact metric, and names it", () => {
    const root = pythonExperiment({ files: { "eval.py": NOISY_SCORE_EXACT_ACCURACY_EVAL } });
    const result = baseline(root, ["--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.runs).toEqual([0.5, 0.6, 0.55]);
    expect(report.deterministic).toBe(false);
    expect(report.probe).toMatchObject({ sensitive: true, crashed: false, score: 0.56 });
    expect(report.probe.moved[0]).toEqual({
      kind: "metric",
      name: "accuracy",
      from: 1,
      to: 0,
      tolerance: 0.00005,
      exact: true,
    });
    expect(report.probe.moved.map((move: Line) => move.name)).not.toContain("score"); // 0.56 is within 3 sd of 0.55
    expect(report.probe.moved.filter((move: Line) => move.kind === "case")).toHaveLength(16);
    expect(result.stderr).toContain(
      "with the file broken (replaced score() with one that returns None) accuracy moved from 1 to 0 (16 other signals moved too) — the eval exercises the file.",
    );
    expect(read(root, "ranker.py")).toBe(RANKER);
    expectNoPendingBackup(root);
  });

  test("baseline restores the file a kill -9 left broken mid-probe on its next run, and says so", async () => {
    const root = pythonExperiment({ evalPrelude: SLOW_PROBE_PRELUDE });
    const original = rankerBytes(root);
    const { child, probePid } = await startBaselineUntilProbe(root);
    const probeGroup = Number(
      spawnSync("ps", ["-o", "pgid=", "-p", String(probePid)], { encoding: "utf8" }).stdout.trim(),
    );
    child.kill("SIGKILL");
    await exitOf(child);
    process.kill(-probeGroup, "SIGKILL"); // the eval runs in its own process group, which the kill did not reach
    await waitFor("the probe eval to die", () => !processRunning(probePid), 30_000);

    expect(read(root, "ranker.py")).toContain("autoresearch sensitivity probe");
    expect(existsSync(join(root, ".autoresearch/backup/manifest.json"))).toBe(true);
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);

    const again = baseline(root);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`Recovered a stale lock left by pid ${child.pid}.`);
    expect(again.stderr).toMatch(
      /Restored ".*ranker\.py" from the backup taken for the sensitivity probe at .* \(that run was interrupted\)\./,
    );
    expect(rankerBytes(root).equals(original)).toBe(true);
    expectNoPendingBackup(root);
    expect(journal(root)[1]).toMatchObject({ status: "baseline", score: FIXTURE_BASELINE });
  });

  test("baseline interrupted by Ctrl-C mid-probe stops the eval, restores the file, releases the lock and exits 130", async () => {
    const root = pythonExperiment({ evalPrelude: SLOW_PROBE_PRELUDE });
    const original = rankerBytes(root);
    const experimentBefore = read(root, "autoresearch.yaml");
    const { child, stderr, probePid } = await startBaselineUntilProbe(root);
    expect(read(root, "ranker.py")).toContain("autoresearch sensitivity probe");
    child.kill("SIGINT");
    expect(await exitOf(child)).toBe(130);
    expect(stderr()).toContain("SIGINT received: stopping the eval and cleaning up.");
    expect(stderr()).toContain("from the backup taken for the sensitivity probe");
    expect(rankerBytes(root).equals(original)).toBe(true);
    expectNoPendingBackup(root);
    expect(existsSync(join(root, ".autoresearch/lock"))).toBe(false);
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
    expect(read(root, "autoresearch.yaml")).toBe(experimentBefore);
    await waitFor("the probe eval to stop", () => !processRunning(probePid), 30_000);
  });

  test("baseline interrupted by Ctrl-C mid-probe does not leave behind an eval that ignores SIGTERM", async () => {
    const root = pythonExperiment({
      evalPrelude: `import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n${SLOW_PROBE_PRELUDE}`,
    });
    const { child, probePid } = await startBaselineUntilProbe(root);
    child.kill("SIGINT");
    expect(await exitOf(child)).toBe(130);
    try {
      await waitFor("the stubborn probe eval to be killed", () => !processRunning(probePid), 20_000);
    } finally {
      if (processRunning(probePid)) process.kill(probePid, "SIGKILL");
    }
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline refuses when restoring the file from git would change its bytes (eol=crlf), and leaves the file as it was", () => {
    const root = pythonExperiment({ files: { ".gitattributes": "ranker.py text eol=crlf\n" } });
    unlinkSync(join(root, "ranker.py"));
    sh(root, "git", ["checkout", "--", "ranker.py"]); // the work tree now has CRLF, the blob LF
    const original = rankerBytes(root);
    expect(original.includes("\r\n")).toBe(true);
    expect(sh(root, "git", ["status", "--porcelain"])).toBe("");
    const result = baseline(root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Restoring "ranker.py" from git did not give back the same bytes (line endings or a filter?); it was restored from a backup instead',
    );
    expect(rankerBytes(root).equals(original)).toBe(true);
    expectNoPendingBackup(root);
    expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
  });

  test("baseline never deletes the constrained file of an experiment kept in a subdirectory", () => {
    const root = makeRepo({
      "search/ranker.py": RANKER,
      "search/eval.py": evalScript(),
      "search/cases.json": casesJson(),
      "search/autoresearch.yaml": experimentYaml(),
    });
    writeFileSync(join(root, ".git/info/exclude"), ".autoresearch/\nautoresearch*.jsonl\n__pycache__/\n");
    const result = runScript("baseline", ["--no-branch"], { cwd: join(root, "search") });
    expect(read(root, "search/ranker.py")).toBe(RANKER);
    expect(existsSync(join(root, "search/.autoresearch/backup"))).toBe(false);
    if (result.code !== 0) {
      expect(result.stderr).toContain(
        'Restoring "ranker.py" from git deleted it; it was restored from a backup instead',
      );
    }
  });

  // git.ts fileAtCommit() reads `HEAD:<path>` from the repository root, not the experiment's folder.
  test("baseline succeeds for an experiment kept in a subdirectory of the repository", () => {
    const root = makeRepo({
      "search/ranker.py": RANKER,
      "search/eval.py": evalScript(),
      "search/cases.json": casesJson(),
      "search/autoresearch.yaml": experimentYaml(),
    });
    writeFileSync(join(root, ".git/info/exclude"), ".autoresearch/\nautoresearch*.jsonl\n__pycache__/\n");
    expect(runScript("baseline", ["--no-branch"], { cwd: join(root, "search") }).code).toBe(0);
  });
});

describe("baseline re-runs", () => {
  test("baseline refuses to re-baseline a round that has results, and --force keeps the old journal as a backup", () => {
    const root = pythonExperiment();
    expect(baseline(root).code).toBe(0);
    const result = {
      type: "result",
      iteration: 1,
      commit: "abc1234",
      score: 0.2,
      delta: "+0.0437",
      guard_score: 0.3,
      guard_pass: true,
      status: "keep",
      description: "tried a thing",
      timestamp: "2026-01-01T00:00:00Z",
    };
    appendFileSync(join(root, "autoresearch.jsonl"), JSON.stringify(result) + "\n");
    const oldJournal = read(root, "autoresearch.jsonl");

    const refused = baseline(root);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('Round 1 already has 1 iteration results in "autoresearch.jsonl"');
    expect(refused.stderr).toContain("--force");
    expect(read(root, "autoresearch.jsonl")).toBe(oldJournal);

    const forced = baseline(root, ["--force", "--json"]);
    expect(forced.code).toBe(0);
    const report = JSON.parse(forced.stdout);
    expect(report.backup).toMatch(/^\.autoresearch\/backups\/autoresearch\.jsonl\./);
    expect(read(root, report.backup)).toBe(oldJournal);
    expect(journal(root).map((line) => line.status ?? line.type)).toEqual(["config", "baseline"]);
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline refuses to start while another harness process holds the experiment lock", () => {
    const root = pythonExperiment();
    const sleeper = spawn("sleep", ["30"]);
    try {
      writeFiles(root, {
        ".autoresearch/lock": JSON.stringify({
          pid: sleeper.pid,
          command: "iterate.ts",
          started_at: "2026-01-01T00:00:00Z",
        }),
      });
      const result = baseline(root);
      expect(result.code).toBe(75);
      expect(result.stderr).toContain(`Another "iterate.ts" (pid ${sleeper.pid}`);
      expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
    } finally {
      sleeper.kill();
    }
  });
});

describe("baseline refuses unfinished test data", () => {
  test("baseline refuses test data with a TODO: placeholder, naming the file and the case", () => {
    const cases = JSON.parse(casesJson());
    cases.cases[3].expected = "TODO: the correct number";
    const root = pythonExperiment({ files: { "cases.json": JSON.stringify(cases) } });
    const before = repoState(root);
    const result = baseline(root);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'The test data "cases.json" still has 1 placeholder (first: case "c3", field "expected")',
    );
    expect(repoState(root)).toEqual(before);
    expect(currentBranch(root)).toBe("main");
  });

  test("baseline refuses fewer than 15 cases, naming the file and the count", () => {
    const root = pythonExperiment({ files: { "cases.json": casesJson(10) } });
    const before = repoState(root);
    const result = baseline(root);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('The test data "cases.json" has 10 cases; at least 15 are needed');
    expect(result.stderr).toContain("--allow-few");
    expect(repoState(root)).toEqual(before);
  });

  test("baseline --allow-few accepts 10 cases with a warning and scores them", () => {
    const root = pythonExperiment({ files: { "cases.json": casesJson(10) } });
    const result = baseline(root, ["--allow-few", "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.score).toBe(0.25); // (0.9 + 0.7 + 0.5 + 0.3 + 0.1) / 10
    expect(report.warnings[0]).toContain('The test data "cases.json" has 10 cases');
    expect(result.stderr).toContain("warning: The test data");
  });
});

describe("baseline on bad input changes nothing and says what to do", () => {
  type BadInput = {
    name: string;
    options?: FixtureOptions;
    setup?: (root: string) => void;
    args?: string[];
    code: number;
    message: string[];
  };
  const brokenEval = (body: string): FixtureOptions => ({ files: { "eval.py": body } });
  const cases: BadInput[] = [
    {
      name: "there is no experiment file (run init.ts first)",
      setup: (root) => {
        unlinkSync(join(root, "autoresearch.yaml"));
        sh(root, "git", ["commit", "-qam", "no experiment"]);
      },
      code: 2,
      message: ["No experiment file at", "autoresearch.yaml", "init.ts"],
    },
    {
      name: "--experiment names a file that does not exist",
      args: ["--experiment", "elsewhere.yaml"],
      code: 2,
      message: ["elsewhere.yaml", "init.ts"],
    },
    {
      name: "the experiment file is not valid YAML",
      options: { files: { "autoresearch.yaml": "version: 1\nname: [unclosed\n" } },
      code: 2,
      message: ['Cannot parse "autoresearch.yaml"', "Fix the YAML syntax"],
    },
    {
      name: "the experiment file has an invalid field",
      options: { files: { "autoresearch.yaml": experimentYaml().replace("direction: max", "direction: up") } },
      code: 2,
      message: ['Cannot use "autoresearch.yaml": metric.direction must be "max" or "min"'],
    },
    {
      name: "the eval command is not found",
      options: {
        files: {
          "autoresearch.yaml": experimentYaml().replace("command: python3 eval.py", "command: no-such-eval-command"),
        },
      },
      code: 1,
      message: [
        'Baseline run 1 of "no-such-eval-command" failed: the eval command was not found (exit 127)',
        "Log: .autoresearch/logs/baseline-round1-run1.log",
      ],
    },
    {
      name: "the eval prints no SCORE",
      options: brokenEval('print("MRR: 0.5")\n'),
      code: 1,
      message: ["the eval printed no SCORE line", "--- last lines ---", "MRR: 0.5"],
    },
    {
      name: "the eval prints SCORE: nan",
      options: brokenEval('print("SCORE: nan")\n'),
      code: 1,
      message: ["the eval printed SCORE: nan, which is not a finite number"],
    },
    {
      name: "the eval prints SCORE: inf",
      options: brokenEval('print("SCORE: inf")\n'),
      code: 1,
      message: ["the eval printed SCORE: inf, which is not a finite number"],
    },
    {
      name: "the eval exits non-zero after printing a SCORE",
      options: brokenEval('import sys\nprint("SCORE: 0.5")\nsys.exit(3)\n'),
      code: 1,
      message: ["the eval exited with code 3"],
    },
    {
      name: "the eval crashes with a traceback",
      options: { evalPrelude: 'raise RuntimeError("eval-crash-marker")' },
      code: 1,
      message: ["the eval exited with code 1", "RuntimeError: eval-crash-marker", "baseline-round1-run1.log"],
    },
    {
      name: "a frozen path is a directory",
      options: {
        files: { "data/a.txt": "x\n", "autoresearch.yaml": experimentYaml().replace("frozen: []", "frozen: [data]") },
      },
      code: 2,
      message: ['The frozen path "data" is a directory; list the files in it instead'],
    },
    {
      name: "the constrained file is missing",
      setup: (root) => unlinkSync(join(root, "ranker.py")),
      code: 2,
      message: ['The constrained file "ranker.py" does not exist', 'git checkout -- "ranker.py"'],
    },
    {
      name: "the constrained file has uncommitted changes",
      setup: (root) => appendFileSync(join(root, "ranker.py"), "BIAS = 0.5\n"),
      code: 2,
      message: ['The constrained file "ranker.py" has uncommitted changes'],
    },
    { name: "--runs is 0", args: ["--runs", "0"], code: 2, message: ["--runs must be at least 1, not 0"] },
    {
      name: "--expected-gain is not above 0",
      args: ["--expected-gain=-0.1"],
      code: 2,
      message: ["--expected-gain must be above 0"],
    },
  ];

  for (const bad of cases) {
    test(`baseline exits ${bad.code} when ${bad.name}`, () => {
      const root = pythonExperiment(bad.options);
      bad.setup?.(root);
      const before = repoState(root);
      const ranker = existsSync(join(root, "ranker.py")) ? rankerBytes(root) : null;
      const result = baseline(root, bad.args ?? []);
      expect(result.code).toBe(bad.code);
      for (const part of bad.message) expect(result.stderr).toContain(part);
      expect(result.stderr).toMatch(/^baseline\.ts: \S.*\S$/m); // one line that says what and what next
      expect(result.stdout).toBe("");
      expect(repoState(root)).toEqual(before);
      if (ranker) expect(rankerBytes(root).equals(ranker)).toBe(true);
      expect(existsSync(join(root, "autoresearch.jsonl"))).toBe(false);
      expectNoPendingBackup(root);
    });
  }

  test("baseline stops a hanging eval at its timeout, kills its process tree and names the log", () => {
    const root = pythonExperiment({
      timeoutS: 2,
      evalPrelude: 'import time\nopen(".eval-pid", "w").write(str(os.getpid()))\ntime.sleep(60)',
    });
    const before = repoState(root);
    const started = Date.now();
    const result = baseline(root);
    expect(Date.now() - started).toBeLessThan(55_000); // stopped long before the eval's own 60 s
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Baseline run 1 of "python3 eval.py" failed: timeout after 2 s');
    expect(result.stderr).toContain("Log: .autoresearch/logs/baseline-round1-run1.log");
    expect(processRunning(Number(read(root, ".eval-pid")))).toBe(false);
    rmSync(join(root, ".eval-pid"));
    expect(repoState(root)).toEqual(before);
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline's failure message keeps a multi-byte character the eval wrote across two output chunks", () => {
    const split =
      'import sys, time\nword = "café\\n".encode()\nsys.stdout.buffer.write(word[:4]); sys.stdout.flush(); time.sleep(0.2)\nsys.stdout.buffer.write(word[4:]); sys.stdout.flush()\nsys.exit(1)\n';
    const root = pythonExperiment({ files: { "eval.py": split } });
    const result = baseline(root);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("--- last lines ---\ncafé");
  });

  test("baseline exits 2 outside a git repository, saying how to make one", () => {
    const directory = temporaryFolder("ark-test-nogit-");
    writeFiles(directory, {
      "ranker.py": RANKER,
      "eval.py": evalScript(),
      "cases.json": casesJson(),
      "autoresearch.yaml": experimentYaml(),
    });
    const result = baseline(directory);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("is not inside a git repository. Run: git init");
    expect(readdirSync(directory).sort()).toEqual(["autoresearch.yaml", "cases.json", "eval.py", "ranker.py"]);
  });

  test("baseline exits 2 when the constrained file was never committed", () => {
    const root = makeRepo({
      "ranker.py": RANKER,
      "eval.py": evalScript(),
      "cases.json": casesJson(),
      "autoresearch.yaml": experimentYaml(),
    }, { commit: false });
    sh(root, "git", ["add", "ranker.py"]);
    const before = repoState(root);
    const result = baseline(root);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('The constrained file "ranker.py" is not committed, so it cannot be reverted');
    expect(repoState(root)).toEqual(before);
    expect(read(root, "ranker.py")).toBe(RANKER);
  });

  test("baseline under Deno exits 2 on a modified constrained file and changes nothing", () => {
    const root = pythonExperiment();
    appendFileSync(join(root, "ranker.py"), "WEIGHT = 2.0\n");
    const before = repoState(root);
    const result = baseline(root, [], "deno");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('The constrained file "ranker.py" has uncommitted changes');
    expect(repoState(root)).toEqual(before);
  });

  test("baseline --help shows the usage, an example and the exit codes", () => {
    const result = runScript("baseline", ["--help"], { cwd: tmpdir() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "Usage: baseline.ts [--runs 3] [--worktree [--worktree-path PATH] [--share PATH]...] [--experiment PATH] [--json]",
    );
    expect(result.stdout).toContain("bun scripts/baseline.ts --runs 5 --expected-gain 0.005");
    expect(result.stdout).toContain("130 interrupted (the constrained file was restored)");
  });
});
