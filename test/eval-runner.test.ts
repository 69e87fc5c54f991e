// eval.runner without a scheduler: the template's checks and rendering, the marker lines that
// tell the runner's failures from the eval's, and runEval through a fake runner (a bash script
// that loses the job before or during the eval) on real evals; then baseline and a short loop
// through the real scripts. The real Slurm cluster is test/slurm.test.ts's.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  createRunnerTracker,
  evalEnd,
  type EvalRunner,
  evalRunner,
  newRunnerMarker,
  runnerCommand,
  runnerTemplateProblem,
  runnerWrapper,
} from "../scripts/lib/process/eval-runner.ts";
import { runEval } from "../scripts/lib/process/evaluator.ts";
import { experimentSchemas } from "../scripts/lib/experiment/schema.ts";
import type { Experiment } from "../scripts/lib/experiment/schema.ts";
import {
  changedMeasurementFields,
  measurementFields,
  measurementFingerprint,
  withMeasurementFields,
} from "../scripts/lib/integrity/frozen-files.ts";
import { pythonExperiment } from "./experiment-fixture.ts";
import { BUN, journal, KIT_ROOT, read, results, runScript, setLever, temporaryFolder } from "./helpers.ts";

const JOB = { name: "demo", round: 2, iteration: 7, run: "candidate1", cpus: 3 } as const;

describe("a runner template", () => {
  test.each([
    ["srun --cpus-per-task={cpus} --job-name=ar-{name}-{iteration}-{run} {command}", null],
    ["sbatch --wait --wrap={quoted_command}", null],
    ["ssh node1 {quoted_command} # job {round}", null],
    ['srun --export=ALL,HOME="${HOME}" {command}', null], // bash's ${VAR} is not a placeholder
    ["srun {cmd}", "has an unknown placeholder {cmd} (known: {command}, {quoted_command}, {name}, {round}, "],
    ["srun --ntasks=1", "must contain {command} (or {quoted_command}) where the eval goes"],
    ["srun --job-name={name} bash eval.sh", "must contain {command}"],
  ])("%p: %p", (template, problem) => {
    const found = runnerTemplateProblem(template);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toStartWith(problem);
  });

  test("fills in every placeholder, and {command} and {quoted_command} run the eval as it was written", () => {
    const command = `printf '%s|%s\\n' "it's" "$((6 * 7))"; echo "a  b" # comment`;
    const rendered = runnerCommand("echo {name} {round} {iteration} {run} {cpus}; {command}", command, JOB);
    expect(rendered).toStartWith("echo demo 2 7 candidate1 3; bash -c ");
    expect(spawnSync("bash", ["-c", rendered], { encoding: "utf8" }).stdout).toBe(
      "demo 2 7 candidate1 3\nit's|42\na  b\n",
    );
    const quoted = runnerCommand("bash -c {quoted_command}", command, JOB);
    expect(spawnSync("bash", ["-c", quoted], { encoding: "utf8" }).stdout).toBe("it's|42\na  b\n");
  });

  test("a round without a runner runs its eval here; one with a runner gets the defaults it leaves out", () => {
    const round = { round: 1, eval: { command: "python3 eval.py", runner: undefined } };
    expect(evalRunner("demo", round, { iteration: "baseline", run: "run1" })).toBeNull();
    expect(evalRunner("demo", { round: 1, eval: { runner: null } }, { iteration: 1, run: "candidate1" })).toBeNull();
    const runner = evalRunner("demo", { round: 3, eval: { runner: "srun {command}" } }, {
      iteration: "baseline",
      run: "probe",
    });
    expect(runner).toMatchObject({
      template: "srun {command}",
      retries: 2,
      job: { name: "demo", round: 3, iteration: "baseline", run: "probe", cpus: 1 },
    });
  });
});

describe("the marker lines", () => {
  test("tell the eval's lines from the runner's on each stream, and carry the job id and the eval's status", () => {
    const marker = "autoresearch-runner 0123abcd:";
    const tracker = createRunnerTracker(marker);
    const lines: [string, "stdout" | "stderr", string][] = [
      ["runner", "stderr", "srun: job 12 queued and waiting for resources"],
      ["marker", "stdout", `${marker} start host=node1 job=12`],
      ["marker", "stderr", `${marker} start host=node1 job=12`],
      ["eval", "stdout", "SCORE: 0.5"],
      ["eval", "stderr", "Traceback (most recent call last):"],
      ["runner", "stderr", "srun: error: node1: task 0: Exited with exit code 1"], // srun's own, told by its prefix
      ["eval", "stdout", "autoresearch-runner ffffffff: end status=0 job=99"], // another attempt's marker is output
      ["marker", "stdout", `${marker} end status=1 job=12`],
      ["runner", "stdout", "after the end"],
    ];
    for (const [role, stream, line] of lines) expect([line, tracker.role(stream, line)]).toEqual([line, role]);
    expect(tracker.finish()).toEqual({
      started: true,
      evalStatus: 1,
      jobId: "12",
      host: "node1",
      runnerLines: [
        "after the end",
        "srun: job 12 queued and waiting for resources",
        "srun: error: node1: task 0: Exited with exit code 1",
      ],
    });
  });

  test.each([
    [0, "exit 0"],
    [3, "exit 3"],
    [137, "SIGKILL"],
    [143, "SIGTERM"],
    [255, "exit 255"],
  ])("the wrapper's status %p ends the eval as %p, as if it ran here", (status, shown) => {
    const end = evalEnd(status);
    expect(end.signal ?? `exit ${end.exitCode}`).toBe(shown);
    expect(end.signal === null || end.exitCode === null).toBe(true);
  });

  test("the wrapper reports the eval's exit status, passes the environment on and keeps the eval's exit to itself", () => {
    const marker = newRunnerMarker();
    const script = runnerWrapper("echo $GREETING; exit 3", marker, { GREETING: "hello 'there'" });
    const result = spawnSync("env", ["-i", "SLURM_JOB_ID=41", "/bin/bash", "-c", script], { encoding: "utf8" });
    expect(result.status).toBe(3);
    const stdout = result.stdout.split("\n").filter(Boolean);
    expect(stdout).toEqual([
      expect.stringMatching(new RegExp(`^${marker} start host=\\S* job=41$`)),
      "hello 'there'",
      `${marker} end status=3 job=41`,
    ]);
    expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(2); // both markers on stderr too
  });
});

// A scheduler stand-in: loses the first FAIL attempts (before the eval, or mid-eval with
// `midway`), then runs the job; each attempt is counted in a file and gets a job id.
const FAKE_RUNNER = `#!/usr/bin/env bash
count_file=$1 fail=$2 how=$3; shift 3
attempt=$(( $(cat "$count_file" 2>/dev/null || echo 0) + 1 ))
echo "$attempt" > "$count_file"
export JOB_ID="fake-$attempt"
if [ "$attempt" -le "$fail" ]; then
  if [ "$how" = midway ]; then
    setsid "$@" & job=$! # its own process group: the whole job can be stopped, as a scheduler does
    sleep 0.5
    kill -TERM -- "-$job"
    wait "$job"
  fi
  echo "fake-runner: error: node lost, job $JOB_ID cancelled" >&2
  exit 1
fi
exec "$@"
`;

function fakeRunner(fail: number, how: "before" | "midway" = "before") {
  const folder = temporaryFolder();
  writeFileSync(join(folder, "runner.sh"), FAKE_RUNNER);
  const counter = join(folder, "attempts");
  return {
    template: `bash ${folder}/runner.sh ${counter} ${fail} ${how} {command}`,
    attempts: () => Number(readFileSync(counter, "utf8")),
    log: join(folder, "run.log"),
    folder,
  };
}

function throughRunner(template: string, extra: Partial<EvalRunner> = {}): EvalRunner {
  return { template, retries: 2, job: { ...JOB }, ...extra };
}

const SCORING = `echo "working"; printf 'SCORE: 0.75'`; // no newline after the score: the end marker adds one

describe("runEval through a runner", () => {
  test("a job lost before the eval ran is tried again, said in a note and the log, and the eval's score counts", async () => {
    const fake = fakeRunner(1);
    const notes: string[] = [];
    const run = await runEval(SCORING, {
      cwd: fake.folder,
      timeoutS: 30,
      logPath: fake.log,
      stateDir: null,
      runner: throughRunner(fake.template, { notes: (message) => notes.push(message) }),
    });
    expect(run).toMatchObject({ ok: true, score: 0.75, exitCode: 0, crashReason: null });
    expect(run.tail).toBe("working\nSCORE: 0.75"); // no marker, no runner line
    expect(fake.attempts()).toBe(2);
    expect(notes).toEqual([
      'The runner failed before the eval finished (iteration 7 candidate1): the job did not start (exit 1: "fake-runner: error: node lost, job fake-1 cancelled"); retry 1 of 2 in 2 s, not counted as a crash.',
    ]);
    const log = readFileSync(fake.log, "utf8");
    expect(log).toContain("# attempt 1, through eval.runner: bash");
    expect(log).toContain("[runner failure: the job did not start (exit 1:");
    expect(log).toMatch(/autoresearch-runner [0-9a-f]{8}: end status=0 job=fake-2/);
  });

  test("a job lost while the eval ran is tried again too", async () => {
    const fake = fakeRunner(1, "midway");
    const run = await runEval(`sleep 3; echo SCORE: 0.5`, {
      cwd: fake.folder,
      timeoutS: 30,
      logPath: fake.log,
      stateDir: null,
      runner: throughRunner(fake.template),
    });
    expect(run).toMatchObject({ ok: true, score: 0.5 });
    expect(fake.attempts()).toBe(2);
    expect(readFileSync(fake.log, "utf8")).toMatch(/start host=\S* job=fake-1\n/);
  });

  test("a runner that keeps failing ends as a crash that says the runner failed, with its last line", async () => {
    const fake = fakeRunner(99);
    const run = await runEval(SCORING, {
      cwd: fake.folder,
      timeoutS: 30,
      logPath: fake.log,
      stateDir: null,
      runner: throughRunner(fake.template, { retries: 1 }),
    });
    expect(run.ok).toBe(false);
    expect(fake.attempts()).toBe(2);
    expect(run.crashReason).toBe(
      'the runner failed 2 times without the eval finishing (last: the job did not start (exit 1: "fake-runner: error: node lost, job fake-2 cancelled"))',
    );
    expect(readFileSync(fake.log, "utf8")).toContain("no retry left]");
  });

  test("an eval that crashes under the runner is a crash at once, its own error quoted", async () => {
    const fake = fakeRunner(0);
    const run = await runEval(`python3 -c 'import json; json.loads("{")'`, {
      cwd: fake.folder,
      timeoutS: 30,
      logPath: fake.log,
      stateDir: null,
      runner: throughRunner(fake.template),
    });
    expect(fake.attempts()).toBe(1);
    expect(run).toMatchObject({ ok: false, exitCode: 1 });
    expect(run.crashReason).toStartWith('the eval exited with code 1 ("json.decoder.JSONDecodeError: Expecting');
    expect(run.tail).not.toContain("autoresearch-runner");
  });

  test("an eval killed inside the job (the OOM killer, say) is a crash, since the wrapper reports its status", async () => {
    const fake = fakeRunner(0);
    const run = await runEval(`python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'`, {
      cwd: fake.folder,
      timeoutS: 30,
      logPath: fake.log,
      stateDir: null,
      runner: throughRunner(fake.template),
    });
    expect(fake.attempts()).toBe(1);
    expect(run).toMatchObject({ ok: false, signal: "SIGKILL", crashReason: "the eval was stopped by SIGKILL" });
  });

  test("a runner command that is not installed is not retried", async () => {
    const folder = temporaryFolder();
    const run = await runEval(SCORING, {
      cwd: folder,
      timeoutS: 30,
      logPath: join(folder, "run.log"),
      stateDir: null,
      runner: throughRunner("no-such-scheduler-command --ntasks=1 {command}"),
    });
    expect(run.ok).toBe(false);
    expect(run.crashReason).toBe(
      `the runner's command was not found: the job did not start (exit 127: "bash: line 1: no-such-scheduler-command: command not found")`,
    );
    expect(readFileSync(join(folder, "run.log"), "utf8").match(/# attempt/g)).toHaveLength(1);
  });

  test("the harness's timeout stops the job and is a timeout, not a runner failure", async () => {
    const fake = fakeRunner(0);
    const started = performance.now();
    const run = await runEval(`sleep 30; echo SCORE: 1`, {
      cwd: fake.folder,
      timeoutS: 1,
      logPath: fake.log,
      stateDir: null,
      runner: throughRunner(fake.template),
    });
    expect(run).toMatchObject({ ok: false, timedOut: true, crashReason: "timeout after 1 s" });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(fake.attempts()).toBe(1);
  });

  test("the eval gets the harness's environment even from a runner that starts jobs with an empty one", async () => {
    const folder = temporaryFolder();
    const run = await runEval(`echo "SCORE: $AUTORESEARCH_TEST_DATA_SCORE"`, {
      cwd: folder,
      timeoutS: 30,
      stateDir: null,
      env: { AUTORESEARCH_TEST_DATA_SCORE: "0.25" },
      runner: throughRunner("env -i PATH=/usr/bin:/bin {command}"),
    });
    expect(run).toMatchObject({ ok: true, score: 0.25 });
  });
});

describe("eval.runner in the experiment file", () => {
  function withEval(extra: Record<string, unknown>): Experiment {
    return experimentSchemas().ExperimentSchema.parse({
      version: 1,
      name: "fixture",
      current_round: 1,
      language: "python",
      project: "plain",
      metric: { name: "mrr", direction: "max" },
      rounds: [{
        round: 1,
        status: "open",
        constrained_files: ["ranker.py"],
        eval: { command: "python3 eval.py", script: "eval.py", timeout_s: 60, ...extra },
        artifacts: { journal: "j", dashboard: "d", instructions: "i", launch_prompt: "l", report: "r" },
      }],
    });
  }
  const fingerprint = (experiment: Experiment) =>
    measurementFingerprint(measurementFields(experiment, experiment.rounds[0]));

  test("a file that leaves the runner keys out, or gives their defaults, keeps its measurement fingerprint", () => {
    const without = withEval({});
    expect(Object.keys(without.rounds[0].eval).sort()).toEqual(["command", "script", "timeout_s"]);
    expect(fingerprint(withEval({ runner: null, cpus: 1, runner_retries: 2 }))).toBe(fingerprint(without));
  });

  test("a runner or its cpus changes the eval's fingerprint; its retries do not, and survive a restore", () => {
    const before = withEval({});
    const recorded = measurementFields(before, before.rounds[0]);
    for (const extra of [{ runner: "srun {command}" }, { cpus: 4 }]) {
      const changed = withEval(extra);
      expect(changedMeasurementFields(recorded, measurementFields(changed, changed.rounds[0]))).toEqual(["eval"]);
    }
    const retried = withEval({ runner_retries: 5, runner: "srun {command}" });
    expect(fingerprint(withEval({ runner_retries: 0, runner: "srun {command}" }))).toBe(fingerprint(retried));
    const restored = withMeasurementFields(retried, retried.rounds[0], recorded);
    expect(restored.rounds[0].eval).toEqual({ ...before.rounds[0].eval, runner_retries: 5 });
  });

  test("a bad template stops baseline with one line naming the file and the value, and nothing written", () => {
    const root = pythonExperiment({});
    const path = join(root, "autoresearch.yaml");
    const text = read(root, "autoresearch.yaml").replace("timeout_s: 60 }", 'timeout_s: 60, runner: "srun {cmd}" }');
    writeFileSync(path, text);
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'Cannot use "autoresearch.yaml": rounds.0.eval.runner "srun {cmd}" has an unknown placeholder {cmd} (known: {command}',
    );
    expect(read(root, "autoresearch.yaml")).toBe(text);
  });
});

describe("baseline and the loop through a runner", () => {
  test("an iteration's runner retries are on its journal line; a step without any has no such field", () => {
    const fake = fakeRunner(2); // two lost jobs, counted from the counter file
    const root = pythonExperiment({ baselineRuns: 2 });
    const text = read(root, "autoresearch.yaml").replace(
      "timeout_s: 60 }",
      `timeout_s: 60, runner: ${JSON.stringify(fake.template)}, runner_retries: 2 }`,
    );
    writeFileSync(join(root, "autoresearch.yaml"), text);
    writeFileSync(join(fake.folder, "attempts"), "2"); // baseline's jobs all start
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    expect(journal(root).find((line) => line.status === "baseline")).not.toHaveProperty("runner_retries");
    writeFileSync(join(fake.folder, "attempts"), "0"); // the next two jobs are lost
    setLever(root, "WEIGHT", "2.0");
    expect(runScript("iterate", ["-m", "weight 2"], { cwd: root }).code).toBe(0);
    const [first] = results(root);
    expect(first.status).not.toBe("crash");
    expect(first.runner_retries).toBe(2);
    setLever(root, "WEIGHT", "2.5");
    expect(runScript("iterate", ["-m", "weight 2.5"], { cwd: root }).code).toBe(0);
    expect(results(root)[1]).not.toHaveProperty("runner_retries");
  });

  test("every eval runs through the runner, lost jobs are retried and none is logged as a crash", () => {
    const fake = fakeRunner(2); // the first two jobs are lost: baseline's first run is retried twice
    const root = pythonExperiment({ baselineRuns: 2 });
    const text = read(root, "autoresearch.yaml").replace(
      "timeout_s: 60 }",
      `timeout_s: 60, runner: ${JSON.stringify(fake.template)}, runner_retries: 2 }`,
    );
    writeFileSync(join(root, "autoresearch.yaml"), text);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain("(baseline run1): the job did not start");
    expect(baseline.stderr).toContain("retry 2 of 2 in 4 s, not counted as a crash.");
    expect(journal(root).find((line) => line.status === "baseline")?.runner_retries).toBe(2);
    const agent = `${BUN} ${join(KIT_ROOT, "examples/agents/tune-levers.ts")}`;
    const loop = runScript("iterate", ["--loop", "--agent", agent, "--iterations", "3", "--no-report"], { cwd: root });
    expect(loop.code).toBe(0);
    expect(results(root)).toHaveLength(3);
    expect(results(root).filter((line) => line.status === "crash")).toEqual([]);
    // Every run's log names the one job it ran as; the two lost jobs never started, so no log names them.
    const logs = spawnSync("bash", ["-c", "ls .autoresearch/logs/*.log .autoresearch/logs/round1/*.log"], {
      cwd: root,
      encoding: "utf8",
    }).stdout.split("\n").filter((log) => log !== "" && !log.endsWith("-agent.log"));
    const jobs = logs.map((log) => [
      ...new Set([...read(root, log).matchAll(/: start host=\S* job=(fake-\d+)/g)].map((match) => match[1])),
    ]);
    for (const each of jobs) expect(each).toHaveLength(1);
    expect(new Set(jobs.flat()).size).toBe(logs.length);
    expect(logs.length).toBe(fake.attempts() - 2);
    expect(journal(root).find((line) => line.type === "config")).toBeDefined();
    // The next round runs its eval the same way.
    const next = runScript("next-round", [], { cwd: root });
    expect(next.code).toBe(0);
    const experiment = read(root, "autoresearch.yaml");
    expect(experiment).toContain("round: 2");
    expect(experiment.split(fake.template).length - 1).toBe(2);
  });
});
