// Plans are data: init's plan takes its questions' answers as data and asks, runs and writes
// nothing; next-round plans without the experiment lock, which its apply step takes around plan
// and write; planned writes back up, write and describe; withExperimentLock keeps the lock's
// guarantees (stale-lock note, release however the work ends, re-entrant for a loop's steps).
import { describe, expect, onTestFinished, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspectInit } from "../scripts/lib/init/inspect.ts";
import { planInit } from "../scripts/lib/init/plan.ts";
import { askInitAnswers } from "../scripts/lib/init/questions.ts";
import { locateRoundN, planFromExperiment } from "../scripts/lib/next-round/plan.ts";
import { startNextRound } from "../scripts/lib/next-round/apply.ts";
import { backUpReplaced, describeWritten, writePlanned } from "../scripts/lib/files/planned-writes.ts";
import { withExperimentLock } from "../scripts/lib/files/lock.ts";
import { loopResultLine } from "../scripts/lib/iterate/loop.ts";
import { bootId, processStartTime } from "../scripts/lib/process/registry.ts";
import { baselined, PRICE_MODEL_PY } from "./experiment-fixture.ts";
import { fileHashes, makeRepo, runScript, setLever, temporaryFolder, waitForSync } from "./helpers.ts";

const PRICE_CASES = JSON.stringify({ cases: [{ id: "a", input: { size: 1 }, expected: 4 }] });

function priceRepo(): string {
  return makeRepo({ "model.py": PRICE_MODEL_PY, "cases.json": PRICE_CASES });
}

/** A process of this test's own that holds the experiment lock the way a running harness does. */
function lockHolder(root: string): number {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  const pid = child.pid!;
  onTestFinished(() => void child.kill());
  waitForSync("the sleeper to start", () => processStartTime(pid) !== null);
  writeFileSync(
    join(root, ".autoresearch/lock"),
    JSON.stringify({
      pid,
      command: "iterate.ts",
      started_at: "now",
      start_time: processStartTime(pid),
      boot_id: bootId(),
    }),
  );
  return pid;
}

describe("init's plan is data", () => {
  test("planInit turns answers into the experiment and writes nothing; flags win over answers", async () => {
    const root = priceRepo();
    const before = fileHashes(root, { git: false });
    const inspection = await inspectInit({ cwd: root, file: "model.py", entry: "predict", iterations: 7 });
    const plan = planInit(inspection, { metric: "mae", direction: "min", guard: null, iterations: 99 });
    expect(plan.experiment.metric).toMatchObject({ name: "mae", direction: "min" });
    expect(plan.experiment.budget.iterations).toBe(7); // --iterations was given: the answer does not replace it
    expect(plan.files.map((file) => file.role)).toContain("instructions");
    expect(fileHashes(root, { git: false })).toEqual(before);
    expect(existsSync(join(root, "autoresearch.yaml"))).toBe(false);
  });

  test("planInit without answers takes each default, the same plan twice", async () => {
    const root = priceRepo();
    const inspection = await inspectInit({ cwd: root, file: "model.py", entry: "predict" });
    const first = planInit(inspection);
    const second = planInit(inspection);
    expect(second.experiment).toEqual(first.experiment);
    expect(first.experiment.guard).toBeNull();
    expect(first.warnings).toEqual(second.warnings); // planning does not add to what inspection found
  });

  test("init's questions ask only what no flag gave, and an invalid answer is explained through notes, then asked again", async () => {
    const root = priceRepo();
    const inspection = await inspectInit({ cwd: root, file: "model.py", entry: "predict", metric: "mae" });
    const replies = ["sideways", "min", "mae<=9", "0", "12"];
    const asked: string[] = [];
    const notes: string[] = [];
    const answers = await askInitAnswers(inspection, async (question) => {
      asked.push(question);
      return replies.shift()!;
    }, (message) => notes.push(message));
    expect(asked.some((question) => question.startsWith("Metric"))).toBe(false); // --metric was given
    expect(answers).toEqual({ direction: "min", guard: { metric: "mae", op: "<=", threshold: 9 }, iterations: 12 });
    expect(notes).toEqual([
      `Direction must be "max" or "min", not "sideways".`,
      `The iteration budget must be a whole number of at least 1, not "0".`,
    ]);
  });

  test("the experiment planned from answers is the one planned from the same flags", async () => {
    const root = priceRepo();
    const fromAnswers = planInit(await inspectInit({ cwd: root, file: "model.py", entry: "predict" }), {
      metric: "mae",
      direction: "min",
      guard: { metric: "mae", op: "<=", threshold: 9 },
      iterations: 12,
    });
    const fromFlags = planInit(
      await inspectInit({
        cwd: root,
        file: "model.py",
        entry: "predict",
        metric: "mae",
        direction: "min",
        guard: "mae<=9",
        iterations: 12,
      }),
    );
    expect(fromAnswers.experiment).toEqual(fromFlags.experiment);
    expect(fromAnswers.files).toEqual(fromFlags.files);
  });
});

describe("next-round plans without the lock; its apply step takes it", () => {
  test("a plan is made while another process holds the lock, but writing refuses with exit 75 and changes nothing", async () => {
    const root = baselined();
    setLever(root, "WEIGHT", "3.0");
    expect(runScript("iterate", ["-m", "raise the weight"], { cwd: root }).code).toBe(0);
    const before = fileHashes(root, { git: false, keep: (path) => !path.startsWith(".autoresearch/") });
    const pid = lockHolder(root);
    const options = { cwd: root };
    const source = await locateRoundN(options);
    if (source.mode !== "experiment") throw new Error("the fixture has an experiment file");
    const plan = await planFromExperiment(source.loaded, source.repoRoot, options);
    expect(plan.round).toBe(2);
    expect(plan.files.some((file) => file.path.endsWith("instructions_2.md"))).toBe(true);
    await expect(startNextRound(options, () => {})).rejects.toThrow(`pid ${pid}`);
    const refused = runScript("next-round", [], { cwd: root });
    expect(refused.code).toBe(75);
    expect(fileHashes(root, { git: false, keep: (path) => !path.startsWith(".autoresearch/") })).toEqual(before);
  });
});

describe("planned writes", () => {
  test("replaced files are copied into one backup, stale ones moved into it, and the plan written with its modes", () => {
    const home = temporaryFolder();
    const stateDir = join(home, ".autoresearch");
    writeFileSync(join(home, "old.md"), "old\n");
    writeFileSync(join(home, "report.md"), "stale report\n");
    const backup = backUpReplaced({
      stateDir,
      label: "test",
      home,
      replaced: [join(home, "old.md")],
      stale: [join(home, "report.md")],
    });
    expect(backup).not.toBeNull();
    expect(readdirSync(backup!).sort()).toEqual(["old.md", "report.md", "report.md.moved"]);
    expect(existsSync(join(home, "report.md"))).toBe(false);
    writeFileSync(join(home, "marker"), "mine\n");
    const written = writePlanned([
      { path: join(home, "old.md"), role: "instructions", content: "new\n" },
      { path: join(home, "eval.py"), role: "eval script", content: "print('SCORE: 1')\n", executable: true },
      { path: join(home, "marker"), role: "package marker", content: "", onlyIfMissing: true },
    ]);
    expect(written).toEqual([join(home, "old.md"), join(home, "eval.py")]);
    expect(readFileSync(join(home, "old.md"), "utf8")).toBe("new\n");
    expect(readFileSync(join(home, "marker"), "utf8")).toBe("mine\n");
    expect(statSync(join(home, "eval.py")).mode & 0o100).toBe(0o100);
  });

  test("nothing replaced means no backup folder", () => {
    const home = temporaryFolder();
    expect(backUpReplaced({ stateDir: join(home, ".autoresearch"), label: "test", home, replaced: [] })).toBeNull();
    expect(existsSync(join(home, ".autoresearch"))).toBe(false);
  });

  test.each([
    [["/r/a.md"], "/r", "a.md  instructions"],
    [["/r/a.md", "/r/sub/long-name.py"], "/r", `${"a.md".padEnd(16)}  instructions\nsub/long-name.py  eval script`],
    [["/r/unknown"], "/r", "unknown"],
  ])("describeWritten(%j) lists each path padded, then its role", (written, cwd, expected) => {
    const roles = new Map([["/r/a.md", "instructions"], ["/r/sub/long-name.py", "eval script"]]);
    expect(describeWritten(written, roles, cwd)).toBe(expected);
  });
});

describe("withExperimentLock", () => {
  test("the lock is released when the work throws, and a stale lock taken over is noted once", async () => {
    const stateDir = join(temporaryFolder(), ".autoresearch");
    const notes: string[] = [];
    await expect(
      withExperimentLock({ stateDir, command: "test", notes: (message) => notes.push(message) }, async () => {
        throw new Error("work failed");
      }),
    ).rejects.toThrow("work failed");
    expect(existsSync(join(stateDir, "lock"))).toBe(false);

    const dead = spawn("true");
    await new Promise((resolve) => dead.on("exit", resolve));
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(join(stateDir, "lock"), JSON.stringify({ pid: dead.pid, command: "iterate.ts", started_at: "then" }));
    const result = await withExperimentLock(
      { stateDir, command: "test", notes: (message) => notes.push(message) },
      async (lock) => lock.recoveredFrom,
    );
    expect(result).toBe(dead.pid!);
    expect(notes.filter((message) => message.startsWith("Recovered a stale lock"))).toEqual([
      `Recovered a stale lock left by pid ${dead.pid}. That process is gone, or its pid now belongs to another process.`,
    ]);
  });

  test("inside a process that holds the lock it is re-entrant, and only the outer holder releases it", async () => {
    const stateDir = join(temporaryFolder(), ".autoresearch");
    const options = { stateDir, command: "outer", notes: () => {} };
    await withExperimentLock(options, async () => {
      await withExperimentLock({ ...options, command: "inner" }, async () => {});
      expect(JSON.parse(readFileSync(join(stateDir, "lock"), "utf8")).command).toBe("outer");
    });
    expect(existsSync(join(stateDir, "lock"))).toBe(false);
  });
});

describe("the loop's stdout line", () => {
  test.each([
    ["a keep, first line of its description", {
      iteration: 3,
      status: "keep",
      score: 0.7,
      delta: "+0.0100",
      description: "raise weight\nmore",
      reason: "better",
    }, "#3 keep 0.7000 +0.0100 raise weight"],
    ["a discard with its reason", {
      iteration: 4,
      status: "discard",
      score: 0.6,
      delta: "-0.1000",
      description: "lower weight",
      reason: "worse",
    }, "#4 discard 0.6000 -0.1000 lower weight — worse"],
    ["a crash without a score", {
      iteration: 5,
      status: "crash",
      score: null,
      delta: null,
      description: "broke it",
      reason: "exit 1",
    }, "#5 crash — broke it — exit 1"],
  ])("the loop's line for %s is one line for the entry to print", (_, line, expected) => {
    expect(loopResultLine(line as never).replace(/\s+/g, " ")).toBe(expected);
  });
});
