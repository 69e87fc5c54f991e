// What a harness leaves behind when it dies or meets odd output: evals orphaned by kill -9,
// locks whose pid now belongs to someone else, one enormous output line, progress bars,
// and the state directory a refused run would leave. End to end on real temporary repos
// and real scripts where the behaviour crosses processes; table tests for the pure parts.
import { describe, expect, onTestFinished, test } from "bun:test";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLineSplitter, MAX_LINE_CHARS, runEval, runProcess } from "../scripts/lib/process/evaluator.ts";
import { acquireLock } from "../scripts/lib/files/lock.ts";
import {
  bootId,
  endLeftoverProcesses,
  leftoverVerdict,
  parseProcStat,
  type ProcessRecord,
  processRunning,
  processStartTime,
  type Sighting,
} from "../scripts/lib/process/registry.ts";
import { pythonExperiment } from "./experiment-fixture.ts";
import { BUN, KIT_ROOT, runScript, setLever, sh, temporaryFolder, waitForSync } from "./helpers.ts";

function sleeper(): number {
  const child = spawn("sleep", ["300"], { stdio: "ignore" });
  onTestFinished(() => {
    child.kill("SIGKILL");
  });
  return child.pid!;
}

describe("leftover evals", () => {
  test("an eval left running by a harness killed with kill -9 is stopped by the next run, which says so", async () => {
    const outside = temporaryFolder("ark-safety-");
    const marker = join(outside, "hang-once");
    const pidFile = join(outside, "eval.pid");
    const root = pythonExperiment({
      evalPrelude: [
        `if os.path.exists(${JSON.stringify(marker)}):`,
        `    os.remove(${JSON.stringify(marker)})`,
        `    with open(${JSON.stringify(pidFile)} + ".tmp", "w") as out: out.write(str(os.getpid()))`,
        `    os.rename(${JSON.stringify(pidFile)} + ".tmp", ${JSON.stringify(pidFile)})`,
        "    import time",
        "    time.sleep(600)",
      ].join("\n"),
    });
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    setLever(root, "WEIGHT", "2.0");
    writeFileSync(marker, "");

    const harness = spawn(BUN, [join(KIT_ROOT, "scripts/iterate.ts"), "-m", "hangs"], {
      cwd: root,
      detached: true,
      stdio: "ignore",
    });
    waitForSync("the eval to start", () => existsSync(pidFile), 60_000);
    const evalPid = Number(readFileSync(pidFile, "utf8"));
    onTestFinished(() => {
      try {
        process.kill(evalPid, "SIGKILL");
      } catch { /* stopped */ }
    });
    process.kill(-harness.pid!, "SIGKILL");
    await new Promise((resolve) => harness.on("close", resolve));
    expect(processRunning(evalPid)).toBe(true); // its own process group outlived the harness's

    const next = runScript("iterate", ["-m", "after the crash"], { cwd: root });
    expect(next.stderr).toContain(
      `Stopped an eval left running by a harness that died (pid ${evalPid}, \`python3 eval.py\`).`,
    );
    expect(processRunning(evalPid)).toBe(false);
    expect(next.code).toBe(0);
    expect(existsSync(join(root, ".autoresearch/processes"))).toBe(false); // finished runs leave no record
  });

  test("a recorded pid that now belongs to another process is dropped without a signal", () => {
    const stateDir = temporaryFolder("ark-safety-");
    const pid = sleeper();
    const record: ProcessRecord = {
      pid,
      pgid: pid,
      kind: "eval",
      command: "sleep 300",
      start_time: "1",
      boot_id: bootId(),
      harness_pid: 999_999,
      harness_start_time: "1",
      started_at: "then",
    };
    mkdirSync(join(stateDir, "processes"));
    writeFileSync(join(stateDir, "processes", `${pid}.json`), JSON.stringify(record));
    expect(endLeftoverProcesses(stateDir)).toEqual([]);
    expect(processRunning(pid)).toBe(true);
    expect(existsSync(join(stateDir, "processes"))).toBe(false);
  });

  test("the same record with the process's real start time gets its group stopped", () => {
    const stateDir = temporaryFolder("ark-safety-");
    const child = spawn("sleep", ["300"], { stdio: "ignore", detached: true }); // its own group, like an eval
    onTestFinished(() => {
      child.kill("SIGKILL");
    });
    const pid = child.pid!;
    const record: ProcessRecord = {
      pid,
      pgid: pid,
      kind: "agent",
      command: "sleep 300",
      start_time: processStartTime(pid),
      boot_id: bootId(),
      harness_pid: 999_999,
      harness_start_time: "1",
      started_at: "then",
    };
    mkdirSync(join(stateDir, "processes"));
    writeFileSync(join(stateDir, "processes", `${pid}.json`), JSON.stringify(record));
    expect(endLeftoverProcesses(stateDir)).toEqual([
      `Stopped an agent left running by a harness that died (pid ${pid}, \`sleep 300\`).`,
    ]);
    expect(processRunning(pid)).toBe(false);
  });

  const record: ProcessRecord = {
    pid: 100,
    pgid: 100,
    kind: "eval",
    command: "python3 eval.py",
    start_time: "500",
    boot_id: "boot-a",
    harness_pid: 90,
    harness_start_time: "400",
    started_at: "then",
  };
  const seen = (overrides: Partial<Sighting>): Sighting => ({
    bootId: "boot-a",
    harness: { running: false, startTime: null },
    leader: { running: true, startTime: "500", command: null },
    groupRunning: true,
    ...overrides,
  });
  test.each(
    [
      ["its harness still runs", record, seen({ harness: { running: true, startTime: "400" } }), "keep"],
      ["its harness pid was reused", record, seen({ harness: { running: true, startTime: "999" } }), "stop"],
      ["its harness died", record, seen({}), "stop"],
      [
        "its pid now belongs to another process",
        record,
        seen({ leader: { running: true, startTime: "777", command: null } }),
        "forget",
      ],
      [
        "it already ended",
        record,
        seen({ leader: { running: false, startTime: null, command: null }, groupRunning: false }),
        "forget",
      ],
      [
        "its leader ended but its group runs on",
        record,
        seen({ leader: { running: false, startTime: null, command: null } }),
        "stop",
      ],
      ["it is from an earlier boot", record, seen({ bootId: "boot-b" }), "forget"],
      [
        "no start time, same command",
        { ...record, start_time: null },
        seen({ leader: { running: true, startTime: null, command: "bash -c python3 eval.py" } }),
        "stop",
      ],
      [
        "no start time, other command",
        { ...record, start_time: null },
        seen({ leader: { running: true, startTime: null, command: "vim" } }),
        "forget",
      ],
      [
        "no start time, leader gone, group runs",
        { ...record, start_time: null },
        seen({ leader: { running: false, startTime: null, command: null } }),
        "unverified",
      ],
    ] as const,
  )("a leftover record is judged by what still runs: %s", (_, given, sighting, verdict) => {
    expect(leftoverVerdict(given, sighting)).toBe(verdict);
  });

  test("a /proc stat line is read past a command name holding spaces and parentheses", () => {
    const line = "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
    expect(parseProcStat(line)).toEqual({ state: "S", pgrp: 4242, session: 4242, startTime: "987654" });
  });
});

describe("the experiment lock", () => {
  test("a lock held by a pid that now belongs to an unrelated process is recovered", () => {
    const root = pythonExperiment();
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    setLever(root, "WEIGHT", "2.0");
    const pid = sleeper();
    const lock = join(root, ".autoresearch/lock");
    writeFileSync(
      lock,
      JSON.stringify({ pid, command: "iterate.ts", started_at: "then", start_time: "1", boot_id: bootId() }),
    );
    const result = runScript("iterate", ["-m", "after pid reuse"], { cwd: root });
    expect(result.stderr).toContain("stale lock");
    expect(result.code).toBe(0);
    expect(processRunning(pid)).toBe(true); // recovering the lock signals nobody
  });

  test("a lock whose pid still runs with the recorded start time refuses with exit 75", () => {
    const root = pythonExperiment();
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    setLever(root, "WEIGHT", "2.0");
    const pid = sleeper();
    writeFileSync(
      join(root, ".autoresearch/lock"),
      JSON.stringify({
        pid,
        command: "iterate.ts",
        started_at: "then",
        start_time: processStartTime(pid),
        boot_id: bootId(),
      }),
    );
    const result = runScript("iterate", ["-m", "locked out"], { cwd: root });
    expect(result.code).toBe(75);
    expect(result.stderr).toContain(`pid ${pid}`);
  });

  test("a lock file written before start times were recorded still refuses while its pid runs", () => {
    const stateDir = temporaryFolder("ark-safety-");
    const pid = sleeper();
    writeFileSync(join(stateDir, "lock"), JSON.stringify({ pid, command: "iterate.ts", started_at: "then" }));
    expect(() => acquireLock(stateDir, "test")).toThrow(`pid ${pid}`);
  });

  test("a refused run leaves no empty .autoresearch directory", () => {
    const root = pythonExperiment();
    writeFileSync(join(root, "ranker.py"), "WEIGHT = 3.0\n"); // uncommitted: baseline refuses after taking the lock
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(2);
    expect(existsSync(join(root, ".autoresearch"))).toBe(false);
    expect(sh(root, "git", ["status", "--porcelain"]).trim()).toBe("M ranker.py");
  });

  test("releasing the lock keeps a state directory that holds anything besides the lock", () => {
    const stateDir = join(temporaryFolder("ark-safety-"), ".autoresearch");
    const lock = acquireLock(stateDir, "test");
    writeFileSync(join(stateDir, "notes.txt"), "kept\n");
    lock.release();
    expect(readdirSync(stateDir)).toEqual(["notes.txt"]);
  });
});

describe("what a command leaves in the background", () => {
  test("an eval that starts a server with & holding its output ends soon after its script, with its score, and the server is stopped", async () => {
    const dir = temporaryFolder("ark-safety-");
    const pidFile = join(dir, "server.pid");
    const started = performance.now();
    const run = await runEval(`sleep 60 & echo $! > ${pidFile}; echo "SCORE: 0.5"`, {
      cwd: dir,
      timeoutS: 30,
      stateDir: null,
    });
    expect(performance.now() - started).toBeLessThan(10_000); // not the 60 s of the server, nor the timeout
    expect(run).toMatchObject({ ok: true, score: 0.5, timedOut: false });
    const server = Number(readFileSync(pidFile, "utf8"));
    waitForSync("the background server to be stopped", () => !processRunning(server), 5_000);
  });

  test("output through a logging filter (exec > >(...)) that finishes after the script still counts", async () => {
    const dir = temporaryFolder("ark-safety-");
    for (let attempt = 0; attempt < 5; attempt++) {
      const run = await runEval(`exec > >(sleep 0.3; cat); echo "SCORE: 0.5"`, {
        cwd: dir,
        timeoutS: 30,
        stateDir: null,
      });
      expect(run).toMatchObject({ ok: true, score: 0.5 });
    }
  });

  test("a server that let go of the output (nohup ... >/dev/null &) is left running, as a warm cache", async () => {
    const dir = temporaryFolder("ark-safety-");
    const pidFile = join(dir, "server.pid");
    const run = await runEval(`nohup sleep 60 >/dev/null 2>&1 & echo $! > ${pidFile}; echo "SCORE: 1"`, {
      cwd: dir,
      timeoutS: 30,
      stateDir: null,
    });
    const server = Number(readFileSync(pidFile, "utf8"));
    onTestFinished(() => {
      try {
        process.kill(server, "SIGKILL");
      } catch { /* gone */ }
    });
    expect(run).toMatchObject({ ok: true, score: 1 });
    await new Promise((resolve) => setTimeout(resolve, 3_500)); // past the grace and the SIGKILL after it
    expect(processRunning(server)).toBe(true);
  });

  test("an agent call that leaves a watcher running returns when the agent does", async () => {
    const dir = temporaryFolder("ark-safety-");
    const started = performance.now();
    const run = await runProcess("(while true; do sleep 1; done) & echo 'DESCRIPTION: done'", {
      cwd: dir,
      timeoutS: 30,
      stateDir: null,
      kind: "agent",
    });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(0);
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe("eval output", () => {
  test("a 40 MB eval output line without a newline is read with bounded memory and the SCORE after it still counts", async () => {
    const dir = temporaryFolder("ark-safety-");
    const logPath = join(dir, "run.log");
    const longest: number[] = [];
    const run = await runEval(
      `python3 -c "import sys; sys.stdout.write('x' * 40_000_000); sys.stdout.write('\\nSCORE: 0.75\\n')"`,
      { cwd: dir, timeoutS: 120, logPath, stateDir: null, onLine: (line) => longest.push(line.length) },
    );
    expect(run.crashReason).toBeNull();
    expect(run.score).toBe(0.75);
    expect(Math.max(...longest)).toBe(MAX_LINE_CHARS); // what is parsed is capped
    expect(run.tail.length).toBeLessThan(2_000); // what the journal keeps is capped
    expect(run.tail).toContain("the line has 40000000 characters");
    expect(statSync(logPath).size).toBeGreaterThan(40_000_000); // the log keeps every byte
  });

  test("progress bar frames ending in a carriage return leave only the last frame in the tail", async () => {
    const run = await runEval(
      `printf 'working\\n  0%%\\r 50%%\\r100%%\\nSCORE: 0.5\\r\\ndone\\n'`,
      { cwd: temporaryFolder("ark-safety-"), timeoutS: 60, stateDir: null },
    );
    expect(run.score).toBe(0.5);
    expect(run.tail).toBe("working\n100%\nSCORE: 0.5\ndone");
  });

  test.each(
    [
      ["plain lines", ["a\nb\n"], ["a", "b"]],
      ["a line across chunks", ["ab", "c\nd"], ["abc", "d"]],
      ["carriage returns as frames", ["a\rb\rc\n"], ["a~", "b~", "c"]],
      ["CRLF as one break", ["a\r\nb\r\n"], ["a", "b"]],
      ["CRLF split across chunks", ["a\r", "\nb"], ["a", "b"]],
      ["a character split across chunks", [Buffer.from("é\n").subarray(0, 1), Buffer.from("é\n").subarray(1)], ["é"]],
    ] as const,
  )("output is split into lines: %s", (_, chunks, expected) => {
    const lines: string[] = [];
    const splitter = createLineSplitter((line, end) => lines.push(end.frame ? `${line}~` : line));
    for (const chunk of chunks) splitter.write(typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk));
    splitter.finish();
    expect(lines).toEqual([...expected]);
  });

  test("a process started while the lock is held is recorded until it ends", async () => {
    const stateDir = join(temporaryFolder("ark-safety-"), ".autoresearch");
    const lock = acquireLock(stateDir, "test");
    const recorded: string[] = [];
    // The record is written just after the spawn, so the process waits to see it.
    const command = `until ls processes/*.json >/dev/null 2>&1; do sleep 0.01; done; ls processes`;
    const run = await runProcess(command, { cwd: stateDir, timeoutS: 60, onLine: (line) => recorded.push(line) });
    lock.release();
    expect(run.exitCode).toBe(0);
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toMatch(/^\d+\.json$/);
    expect(existsSync(stateDir)).toBe(false); // the record went when the process ended, the lock on release
  });
});
