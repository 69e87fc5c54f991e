// eval.runner on a real Slurm cluster (test/setup/slurm.sh starts a single-node one): baseline
// and a loop with the offline agent where every eval runs as an srun job, a job cancelled with
// scancel mid-eval retried rather than logged as a crash, an eval that really crashes still a
// crash, sbatch --wait as the README gives it, and the harness's timeout cancelling the job.
// Without sinfo these tests are skipped, unless AUTORESEARCH_REQUIRE_SLURM=1 (CI) makes them fail.
import { describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runEval } from "../scripts/lib/process/evaluator.ts";
import { pythonExperiment } from "./experiment-fixture.ts";
import { BUN, KIT_ROOT, read, results, runScript, temporaryFolder, waitFor } from "./helpers.ts";

const REQUIRED = process.env.AUTORESEARCH_REQUIRE_SLURM === "1";
const SRUN = "srun --nodes=1 --ntasks=1 --cpus-per-task={cpus} --job-name=ar-{name}-{iteration}-{run} {command}";
// The README's sbatch recipe: the job's output comes back through a file, and the job is cancelled
// when the harness stops the runner (sbatch --wait itself would leave it running).
const SBATCH = `out=$(mktemp "$HOME/.autoresearch-job-XXXXXX"); ` +
  `trap 'scancel --quiet --name=ar-{name}-{iteration}-{run}; cat "$out"; rm -f "$out"' EXIT; trap 'exit 143' TERM INT; ` +
  `sbatch --wait --quiet --job-name=ar-{name}-{iteration}-{run} --cpus-per-task={cpus} --output="$out" --wrap={quoted_command}`;

/** The node's state as sinfo shows it, or why there is none. */
function slurmState(): { state: string | null; problem: string } {
  const result = spawnSync("sinfo", ["--noheader", "--format=%t"], { encoding: "utf8", timeout: 30_000 });
  if (result.error) return { state: null, problem: "sinfo is not installed" };
  if (result.status !== 0) return { state: null, problem: `sinfo failed: ${result.stderr.trim().split("\n")[0]}` };
  const state = result.stdout.trim().split("\n")[0] ?? "";
  return { state, problem: `sinfo says the node is "${state}"` };
}

const { state, problem } = slurmState();
const available = state !== null && /^(idle|mix|alloc)/.test(state);
if (!available && !REQUIRED) {
  console.error(`slurm.test.ts: skipped (${problem}); start a local cluster with test/setup/slurm.sh (root)`);
}

test.skipIf(available || !REQUIRED)("a Slurm cluster is up (AUTORESEARCH_REQUIRE_SLURM=1)", () => {
  throw new Error(
    `No Slurm cluster to run the eval.runner tests on (${problem}); run test/setup/slurm.sh as root first`,
  );
});

/** A real Python experiment whose eval runs through `template`, named uniquely so its jobs can be found. */
function slurmExperiment(template: string, extra: { baselineRuns?: number; evalPrelude?: string } = {}) {
  const name = `slurm-${Math.random().toString(36).slice(2, 8)}`;
  const root = pythonExperiment({ baselineRuns: extra.baselineRuns ?? 2, evalPrelude: extra.evalPrelude });
  const text = read(root, "autoresearch.yaml").replace("name: fixture", `name: ${name}`).replace(
    "timeout_s: 60 }",
    `timeout_s: 60, runner: ${JSON.stringify(template)}, runner_retries: 2 }`,
  );
  writeFileSync(join(root, "autoresearch.yaml"), text);
  return { root, name };
}

/** Every eval run's log (baseline, probe, candidate and incumbent runs), wherever the experiment keeps them. */
function evalLogs(root: string): string[] {
  const found = spawnSync("find", [".autoresearch", "-name", "*.log"], { cwd: root, encoding: "utf8" }).stdout;
  return found.split("\n").filter((path) =>
    /\/(baseline-round\d+-(run\d+|probe)|iteration\d+-(candidate|incumbent)\d+)\.log$/.test(path)
  )
    .sort();
}

/** The Slurm job ids a log names in its marker lines, without repeats. */
function jobIds(root: string, log: string): string[] {
  return [
    ...new Set([...read(root, log).matchAll(/^autoresearch-runner \w+: start host=\S* job=(\S*)$/gm)].map((m) => m[1])),
  ];
}

function jobName(id: string): string | null {
  const shown = spawnSync("scontrol", ["show", "job", id], { encoding: "utf8" }).stdout;
  return /JobName=(\S+)/.exec(shown)?.[1] ?? null;
}

const TUNER = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;

describe.skipIf(!available)("eval.runner on the local Slurm cluster", () => {
  test("baseline and a loop with srun: every eval ran as its own Slurm job, named after its run", () => {
    const { root, name } = slurmExperiment(SRUN);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    const loop = runScript("iterate", ["--loop", "--agent", TUNER, "--iterations", "4", "--no-report"], { cwd: root });
    expect(loop.code).toBe(0);
    expect(results(root)).toHaveLength(4);
    expect(results(root).filter((line) => line.status === "crash")).toEqual([]);
    const logs = evalLogs(root);
    expect(logs.length).toBeGreaterThanOrEqual(2 + 1 + 4); // 2 baseline runs, the probe, a run per iteration
    const ids = logs.map((log) => jobIds(root, log));
    for (const each of ids) expect(each).toEqual([expect.stringMatching(/^\d+$/)]);
    expect(new Set(ids.flat()).size).toBe(logs.length);
    // The controller knows each job by the name the template gave it: ar-<name>-<iteration>-<run>.
    for (const [index, log] of logs.entries()) {
      const match = /(?:baseline-round\d+-(run\d+|probe)|iteration(\d+)-(\w+))\.log$/.exec(log)!;
      const expected = match[1] ? `ar-${name}-baseline-${match[1]}` : `ar-${name}-${match[2]}-${match[3]}`;
      expect([log, jobName(ids[index][0])]).toEqual([log, expected]);
    }
  });

  test("an experiment in its own worktree runs its evals as Slurm jobs in that worktree", () => {
    const { root } = slurmExperiment(SRUN);
    spawnSync("git", ["commit", "-qam", "the eval runs on the cluster"], { cwd: root });
    expect(runScript("baseline", ["--worktree"], { cwd: root }).code).toBe(0);
    const loop = runScript("iterate", ["--loop", "--agent", TUNER, "--iterations", "3", "--no-report"], { cwd: root });
    expect(loop.code).toBe(0);
    const logs = evalLogs(root);
    expect(logs.length).toBeGreaterThanOrEqual(2 + 1 + 3);
    for (const log of logs) {
      const [id] = jobIds(root, log);
      const shown = spawnSync("scontrol", ["show", "job", id], { encoding: "utf8" }).stdout;
      const tree = log.slice(0, log.indexOf("/.autoresearch/logs/", 1));
      expect([log, /WorkDir=(\S+)/.exec(shown)?.[1]]).toEqual([log, join(root, tree)]);
      expect(tree).toStartWith(".autoresearch/worktrees/");
    }
  });

  test("a --parallel 2 loop with srun: each worker's evals are Slurm jobs run in that worker's tree", () => {
    const { root } = slurmExperiment(SRUN);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const loop = runScript("iterate", [
      "--loop",
      "--agent",
      TUNER,
      "--iterations",
      "4",
      "--parallel",
      "2",
      "--no-report",
    ], { cwd: root });
    expect(loop.code).toBe(0);
    expect(results(root)).toHaveLength(4);
    expect(results(root).filter((line) => line.status === "crash")).toEqual([]);
    const logs = evalLogs(root).filter((log) => /iteration\d+-/.test(log));
    expect(logs.length).toBeGreaterThanOrEqual(3); // an iteration may be skipped as a repeat, not measured
    const ids = logs.map((log) => jobIds(root, log));
    for (const each of ids) expect(each).toEqual([expect.stringMatching(/^\d+$/)]);
    expect(new Set(ids.flat()).size).toBe(logs.length);
    for (const [index, log] of logs.entries()) {
      const tree = log.slice(0, log.indexOf("/.autoresearch/logs/", 1)); // the worker's tree holds its logs
      const shown = spawnSync("scontrol", ["show", "job", ids[index][0]], { encoding: "utf8" }).stdout;
      expect([log, /WorkDir=(\S+)/.exec(shown)?.[1]]).toEqual([log, join(root, tree)]);
    }
  });

  test("a job cancelled with scancel mid-eval is retried, and the iteration is not a crash", async () => {
    const { root, name } = slurmExperiment(SRUN, {
      evalPrelude: `import time\ntime.sleep(float(os.environ.get("SLOW_EVAL_S", "0")))`,
    });
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const loop = spawn(BUN, [
      join(KIT_ROOT, "scripts/iterate.ts"),
      "--loop",
      "--agent",
      TUNER,
      "--iterations",
      "1",
      "--no-report",
    ], {
      cwd: root,
      env: { ...process.env, SLOW_EVAL_S: "4" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    loop.stderr!.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => loop.on("close", resolve));
    const jobName = `ar-${name}-1-candidate1`;
    let cancelled = "";
    await waitFor(`a running job named ${jobName}`, () => {
      cancelled = spawnSync("squeue", ["--noheader", "--states=RUNNING", `--name=${jobName}`, "--format=%i"], {
        encoding: "utf8",
      }).stdout.trim();
      return cancelled !== "";
    }, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // the eval is under way
    expect(spawnSync("scancel", [cancelled]).status).toBe(0);
    expect(await exited).toBe(0);
    expect(results(root)).toHaveLength(1);
    expect(results(root)[0].status).not.toBe("crash");
    expect(stderr).toContain(`(iteration 1 candidate1): job ${cancelled} ended before the eval did`);
    expect(stderr).toContain("retry 1 of 2 in 2 s, not counted as a crash.");
    const log = evalLogs(root).find((path) => path.endsWith("iteration1-candidate1.log"))!;
    const ids = jobIds(root, log);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(cancelled);
    expect(read(root, log)).toContain(`[runner failure: job ${cancelled} ended before the eval did (exit`);
    expect(read(root, log)).toMatch(/: end status=0 job=\d+$/m);
  });

  test("in a --parallel 2 loop, a worker's job cancelled mid-eval is retried and no iteration is a crash", async () => {
    const { root, name } = slurmExperiment(SRUN, {
      evalPrelude: `import time\ntime.sleep(float(os.environ.get("SLOW_EVAL_S", "0")))`,
    });
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const args = ["--loop", "--agent", TUNER, "--iterations", "4", "--parallel", "2", "--no-report"];
    const loop = spawn(BUN, [join(KIT_ROOT, "scripts/iterate.ts"), ...args], {
      cwd: root,
      env: { ...process.env, SLOW_EVAL_S: "3" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    loop.stderr!.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => loop.on("close", resolve));
    let cancelled: { id: string; job: string } | null = null;
    await waitFor(`a running candidate job of ${name}`, () => {
      const running = spawnSync("squeue", ["--noheader", "--states=RUNNING", "--format=%i %j"], { encoding: "utf8" })
        .stdout.trim().split("\n").map((line) => line.split(" ")).filter(([, job]) =>
          job?.startsWith(`ar-${name}-`) && !job.includes("-baseline-")
        );
      if (running.length > 0) cancelled = { id: running[0][0], job: running[0][1] };
      return cancelled !== null;
    }, 60_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const { id, job } = cancelled!;
    expect(spawnSync("scancel", [id]).status).toBe(0);
    expect(await exited).toBe(0);
    expect(results(root)).toHaveLength(4);
    expect(results(root).filter((line) => line.status === "crash")).toEqual([]);
    expect(stderr).toContain(`job ${id} ended before the eval did`);
    const [, iteration, run] = /^ar-.+-(\d+)-(\w+)$/.exec(job)!;
    const log = evalLogs(root).find((path) => path.endsWith(`/iteration${iteration}-${run}.log`))!;
    expect(jobIds(root, log)).toEqual([id, expect.stringMatching(/^\d+$/)]);
  });

  test("an eval that really crashes under srun is a crash, tried once", () => {
    const { root } = slurmExperiment(SRUN);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const breaker =
      `python3 -c "open('ranker.py', 'a').write('\\nraise ValueError(\\"broken on purpose\\")\\n'); print('DESCRIPTION: break the module')"`;
    const loop = runScript("iterate", ["--loop", "--agent", breaker, "--iterations", "1", "--no-report"], {
      cwd: root,
    });
    expect(loop.code).toBe(0);
    const [line] = results(root);
    expect(line.status).toBe("crash");
    expect(line.reason ?? line.description).toBeDefined();
    expect(JSON.stringify(line)).toContain("ValueError: broken on purpose");
    expect(JSON.stringify(line)).not.toContain("autoresearch-runner");
    const log = evalLogs(root).find((path) => path.endsWith("iteration1-candidate1.log"))!;
    expect(read(root, log).match(/^# attempt/gm)).toHaveLength(1);
    expect(loop.stderr).not.toContain("retry 1 of 2");
  });

  test("sbatch --wait as the README gives it: the score comes back, and a timeout cancels the job", async () => {
    const folder = temporaryFolder();
    const name = `sbatch-${Math.random().toString(36).slice(2, 8)}`;
    const job = { name, round: 1, iteration: 1, run: "candidate1", cpus: 1 };
    const ok = await runEval(`echo "on $(hostname)"; echo SCORE: 0.625`, {
      cwd: folder,
      timeoutS: 60,
      logPath: join(folder, "ok.log"),
      stateDir: null,
      runner: { template: SBATCH, retries: 0, job },
    });
    expect(ok).toMatchObject({ ok: true, score: 0.625 });
    expect(readFileSync(join(folder, "ok.log"), "utf8")).toMatch(/start host=\S+ job=\d+/);
    const timedOut = await runEval(`sleep 120`, {
      cwd: folder,
      timeoutS: 3,
      logPath: join(folder, "timeout.log"),
      stateDir: null,
      runner: { template: SBATCH, retries: 2, job: { ...job, run: "candidate2" } },
    });
    expect(timedOut).toMatchObject({ ok: false, crashReason: "timeout after 3 s" });
    await waitFor(
      "the timed-out job to leave the queue",
      () =>
        spawnSync("squeue", ["--noheader", `--name=ar-${name}-1-candidate2`], { encoding: "utf8" }).stdout.trim() ===
          "",
      20_000,
    );
  });

  test("a job the queue refuses is retried, then a crash that quotes srun's error", async () => {
    const folder = temporaryFolder();
    const notes: string[] = [];
    const run = await runEval(`echo SCORE: 1`, {
      cwd: folder,
      timeoutS: 30,
      logPath: join(folder, "run.log"),
      stateDir: null,
      runner: {
        template: SRUN.replace("srun ", "srun --partition=no-such-partition "),
        retries: 1,
        job: { name: "refused", round: 1, iteration: 1, run: "candidate1", cpus: 1 },
        notes: (message) => notes.push(message),
      },
    });
    expect(run.ok).toBe(false);
    expect(notes).toHaveLength(1);
    expect(run.crashReason).toBe(
      'the runner failed 2 times without the eval finishing (last: the job did not start (exit 1: "srun: error: Unable to allocate resources: Invalid partition name specified"))',
    );
  });

  test("the harness's timeout cancels an srun job", async () => {
    const folder = temporaryFolder();
    const name = `timeout-${Math.random().toString(36).slice(2, 8)}`;
    const run = await runEval(`sleep 120`, {
      cwd: folder,
      timeoutS: 3,
      logPath: join(folder, "run.log"),
      stateDir: null,
      runner: { template: SRUN, retries: 2, job: { name, round: 1, iteration: 1, run: "candidate1", cpus: 1 } },
    });
    expect(run).toMatchObject({ ok: false, timedOut: true, crashReason: "timeout after 3 s" });
    expect(run.durationMs).toBeLessThan(15_000);
    await waitFor(
      "the timed-out job to leave the queue",
      () =>
        spawnSync("squeue", ["--noheader", `--name=ar-${name}-1-candidate1`], { encoding: "utf8" }).stdout.trim() ===
          "",
      20_000,
    );
  });
});
