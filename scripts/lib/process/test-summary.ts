// A test suite as the eval: the summary lines test runners print (pytest, unittest, Jest, Vitest,
// Mocha, node --test, bun test, deno test, cargo test, go test -json, CTest) read as counts, which
// become the named metrics tests_passed, tests_failed, tests_skipped, tests_total and pass_rate; and
// which runner a command runs (init then scores its pass rate, and only that runner's summary is read).
// Pure: lines in, counts out.
// Example: "==== 3 failed, 45 passed in 0.52s ====" -> { passed: 45, failed: 3, skipped: 0 } -> pass_rate 0.9375

/** The named metrics a test summary gives an eval's output. */
export const TEST_SUMMARY_METRICS = [
  "tests_passed",
  "tests_failed",
  "tests_skipped",
  "tests_total",
  "pass_rate",
] as const;

/** Whether a metric name (any case) is one a test summary gives. */
export function isTestSummaryMetric(name: string): boolean {
  return (TEST_SUMMARY_METRICS as readonly string[]).includes(name.toLowerCase());
}

export type TestCounts = {
  passed: number;
  /** Failed tests and errors (a test that could not run counts as failed). */
  failed: number;
  /** Tests that ran and neither passed nor failed: skipped, pending, todo, expected failures, ignored. */
  skipped: number;
  /**
   * The runner could not run the suite or part of it, whose tests then count nowhere (pytest's
   * "Interrupted: 1 error during collection", a test module that does not import, bun's errors
   * between tests, cargo stopping at its first failing test binary, a go package that fails without a failing test).
   */
  interrupted: boolean;
};

export type TestRunner =
  | "pytest"
  | "unittest"
  | "jest"
  | "vitest"
  | "mocha"
  | "node"
  | "bun"
  | "deno"
  | "cargo"
  | "go"
  | "ctest";

/** The runner an eval command runs, or "any" for a task (`npm test`, `make check`) whose runner is not named. */
export type TestRunnerChoice = TestRunner | "any";

type Tally = { passed: number; failed: number; skipped: number };

const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

// pytest's last line: "==== 3 failed, 45 passed, 2 skipped in 0.52s ====" (or without the rules, -q).
const PYTEST =
  /^=*\s*((?:\d+ (?:failed|passed|skipped|deselected|xfailed|xpassed|errors?|warnings?|rerun)(?:, )?)+) in [\d.]+s\b/;
// The runner could not run the suite, or part of it, whose tests then count nowhere (so breaking a
// test file's import would raise the pass rate): pytest's collection errors, unittest's module that
// failed to import, Jest's "Test suite failed to run", Vitest's "Failed Suites", go's build failures,
// cargo stopping at the first test binary that fails (without --no-fail-fast).
const SUITE_DID_NOT_RUN =
  /^!+ Interrupted: |unittest\.loader\._FailedTest\b|^● Test suite failed to run|⎯ Failed Suites \d+ ⎯|^FAIL\s+\S+ \[(?:build|setup) failed\]|^error: test failed, to rerun pass /;
// unittest: "Ran 48 tests in 0.012s", then "OK", "OK (skipped=2)" or "FAILED (failures=2, errors=1)".
const UNITTEST_RAN = /^Ran (\d+) tests? in [\d.]+s$/;
const UNITTEST_RESULT = /^(OK|FAILED)(?: \((.*)\))?$/;
// Jest: "Tests:       3 failed, 2 skipped, 45 passed, 50 total".
const JEST = /^Tests:\s+(.*\d+ total)$/;
// Vitest: "Tests  3 failed | 45 passed (48)" (not its "Test Files" line).
const VITEST = /^Tests\s+((?:\d+ \w+(?: \| )?)+)\s*\(\d+\)$/;
// Mocha: "45 passing (12ms)", "2 pending", "3 failing".
const MOCHA = /^(\d+) (passing|failing|pending)(?: \(.*\))?$/;
// node --test: "# pass 45" (TAP) or "ℹ pass 45" (spec reporter); also fail, cancelled, skipped, todo.
const NODE = /^(?:#|ℹ) (pass|fail|cancelled|skipped|todo) (\d+)$/;
// bun test: " 45 pass", " 3 fail", " 1 skip", " 1 todo", " 1 error" (an error between tests: a file that did not load).
const BUN = /^(\d+) (pass|fail|skip|todo|errors?)$/;
// deno test: "FAILED | 2 passed (1 step) | 1 failed | 1 ignored (5ms)" or "ok | 5 passed | 0 failed (12ms)".
const DENO =
  /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(?: \(\d+ steps?\))?(?: \| (\d+) ignored)?/;
// cargo test, once per test binary: "test result: FAILED. 45 passed; 3 failed; 1 ignored; ...".
const CARGO = /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed; (\d+) ignored;/;
// cargo shows a failing test's captured output between "---- name stdout ----" and "failures:":
// what the code under test printed there is not the runner's.
const CARGO_CAPTURED = /^---- \S+ stdout ----$/;
// CTest (CMake projects): "67% tests passed, 1 tests failed out of 3".
const CTEST = /^\d+% tests passed, (\d+) tests? failed out of (\d+)$/;
// go test -json, one event a line: a test's output is wrapped in "output" events, so the code under
// test cannot print a pass; "pass", "fail" and "skip" events with a Test are the counts.
const GO_EVENT = /^\{"Time":.*"Action":"(?:pass|fail|skip)".*\}$/;

/**
 * Reads the summary of the runner an eval command runs (`runner`); with "any" (a `make test`
 * that may run several), the summaries of every runner, added up. Each runner's last summary
 * counts (a summary the code under test printed earlier is overwritten by the runner's own), except
 * cargo's, one per test binary, and go's events, one per test, which add up.
 */
export function createTestSummaryReader(runner: TestRunnerChoice = "any") {
  const counts = new Map<TestRunner, Tally>();
  let interrupted = false;
  let unittestRan: number | null = null;
  let inCargoCapture = false;
  const failedGoPackages = new Set<string>();
  const goPackagesWithFailingTests = new Set<string>();
  const reads = (each: TestRunner) => runner === "any" || runner === each;
  const set = (each: TestRunner, tally: Tally) => {
    if (reads(each)) counts.set(each, tally);
  };
  const add = (each: TestRunner, tally: Tally) => {
    if (!reads(each)) return;
    const earlier = counts.get(each) ?? { passed: 0, failed: 0, skipped: 0 };
    counts.set(each, {
      passed: earlier.passed + tally.passed,
      failed: earlier.failed + tally.failed,
      skipped: earlier.skipped + tally.skipped,
    });
  };
  const update = (each: TestRunner, key: keyof Tally, value: number) => {
    if (reads(each)) counts.set(each, { ...(counts.get(each) ?? { passed: 0, failed: 0, skipped: 0 }), [key]: value });
  };
  const goEvent = (line: string) => {
    let event: { Action?: string; Package?: string; Test?: string };
    try {
      event = JSON.parse(line);
    } catch {
      return;
    }
    const where = event.Package ?? "";
    if (event.Test) {
      if (event.Action === "fail") goPackagesWithFailingTests.add(where);
      add("go", {
        passed: event.Action === "pass" ? 1 : 0,
        failed: event.Action === "fail" ? 1 : 0,
        skipped: event.Action === "skip" ? 1 : 0,
      });
    } else if (event.Action === "fail") failedGoPackages.add(where);
  };
  return {
    line(raw: string): void {
      const line = raw.replace(ESCAPES, "").trim();
      if (line === "") return;
      if (GO_EVENT.test(line)) return goEvent(line);
      if (line.length > 300) return;
      if (CARGO_CAPTURED.test(line)) inCargoCapture = true;
      else if (inCargoCapture && line === "failures:") inCargoCapture = false;
      if (inCargoCapture) return;
      let match: RegExpExecArray | null;
      if ((match = PYTEST.exec(line))) {
        const tally = tallies(match[1], /(\d+) (\w+)/g);
        set("pytest", {
          passed: tally.passed ?? 0,
          failed: (tally.failed ?? 0) + (tally.error ?? 0) + (tally.errors ?? 0),
          skipped: (tally.skipped ?? 0) + (tally.xfailed ?? 0) + (tally.xpassed ?? 0),
        });
      } else if (SUITE_DID_NOT_RUN.test(line)) interrupted = true;
      else if ((match = UNITTEST_RAN.exec(line))) unittestRan = Number(match[1]);
      else if (unittestRan !== null && (match = UNITTEST_RESULT.exec(line))) {
        const details = (match[2] ?? "").replace(/expected failures/g, "expected_failures").replace(
          /unexpected successes/g,
          "unexpected_successes",
        );
        const tally = tallies(details, /(\w+)=(\d+)/g, true);
        const failed = (tally.failures ?? 0) + (tally.errors ?? 0) + (tally.unexpected_successes ?? 0);
        const skipped = (tally.skipped ?? 0) + (tally.expected_failures ?? 0);
        set("unittest", { passed: Math.max(0, unittestRan - failed - skipped), failed, skipped });
        unittestRan = null;
      } else if ((match = JEST.exec(line))) set("jest", jsTally(match[1]));
      else if ((match = VITEST.exec(line))) set("vitest", jsTally(match[1]));
      else if ((match = MOCHA.exec(line))) {
        update(
          "mocha",
          match[2] === "passing" ? "passed" : match[2] === "failing" ? "failed" : "skipped",
          Number(match[1]),
        );
      } else if ((match = NODE.exec(line))) {
        // cancelled tests did not pass: they add to the failures; todo ones to the skipped
        if (match[1] === "cancelled") add("node", { passed: 0, failed: Number(match[2]), skipped: 0 });
        else if (match[1] === "todo") add("node", { passed: 0, failed: 0, skipped: Number(match[2]) });
        else {update(
            "node",
            match[1] === "pass" ? "passed" : match[1] === "fail" ? "failed" : "skipped",
            Number(match[2]),
          );}
      } else if ((match = BUN.exec(line))) {
        if (match[2].startsWith("error")) {
          if (Number(match[1]) > 0 && reads("bun")) interrupted = true;
        } else if (match[2] === "todo") add("bun", { passed: 0, failed: 0, skipped: Number(match[1]) });
        else {update(
            "bun",
            match[2] === "pass" ? "passed" : match[2] === "fail" ? "failed" : "skipped",
            Number(match[1]),
          );}
      } else if ((match = DENO.exec(line))) {
        set("deno", { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3] ?? 0) });
      } else if ((match = CARGO.exec(line))) {
        add("cargo", { passed: Number(match[1]), failed: Number(match[2]), skipped: Number(match[3]) });
      } else if ((match = CTEST.exec(line))) {
        set("ctest", { passed: Number(match[2]) - Number(match[1]), failed: Number(match[1]), skipped: 0 });
      }
    },
    /** The counts over the runners read, or null when none printed a summary. */
    finish(): TestCounts | null {
      if (reads("go") && [...failedGoPackages].some((where) => !goPackagesWithFailingTests.has(where))) {
        interrupted = true;
      }
      if (counts.size === 0) return interrupted ? { passed: 0, failed: 0, skipped: 0, interrupted } : null;
      const total: Tally = { passed: 0, failed: 0, skipped: 0 };
      for (const each of counts.values()) {
        total.passed += each.passed;
        total.failed += each.failed;
        total.skipped += each.skipped;
      }
      return { ...total, interrupted };
    },
  };
}

/** Jest's and Vitest's "3 failed, 2 skipped, 1 todo, 45 passed": a todo is not run, like a skip. */
function jsTally(text: string): Tally {
  const tally = tallies(text, /(\d+) (\w+)/g);
  return { passed: tally.passed ?? 0, failed: tally.failed ?? 0, skipped: (tally.skipped ?? 0) + (tally.todo ?? 0) };
}

/** "3 failed, 45 passed" -> { failed: 3, passed: 45 }; with `valueSecond`, "failures=2" -> { failures: 2 }. */
function tallies(text: string, pattern: RegExp, valueSecond = false): Record<string, number> {
  const found: Record<string, number> = {};
  for (const match of text.matchAll(pattern)) {
    const [name, value] = valueSecond ? [match[1], match[2]] : [match[2], match[1]];
    found[name.toLowerCase()] = (found[name.toLowerCase()] ?? 0) + Number(value);
  }
  return found;
}

/** The named metrics of a test summary: every test that ran is in the total, so a skip is not a pass; pass_rate only when one ran. */
export function testSummaryMetrics(counts: TestCounts): Record<string, number> {
  const total = counts.passed + counts.failed + counts.skipped;
  return {
    tests_passed: counts.passed,
    tests_failed: counts.failed,
    tests_skipped: counts.skipped,
    tests_total: total,
    ...(total > 0 ? { pass_rate: counts.passed / total } : {}),
  };
}

// Test runners by their command word (a path's last part: node_modules/.bin/jest).
const RUNNER_COMMANDS: Record<string, TestRunner> = {
  pytest: "pytest",
  "py.test": "pytest",
  jest: "jest",
  vitest: "vitest",
  mocha: "mocha",
  ctest: "ctest",
};
const PYTHON_MODULES: Record<string, TestRunner> = { pytest: "pytest", unittest: "unittest" };
// Launchers that run the next word as the command.
const LAUNCHERS = new Set(["npx", "uv", "poetry", "pipenv", "run", "exec", "pnpx", "bunx", "time", "nice"]);
// Task runners whose test task runs a suite by a runner they do not name ("any"), or their own.
const TASK_RUNNERS: Record<string, TestRunnerChoice> = {
  npm: "any",
  pnpm: "any",
  yarn: "any",
  make: "any",
  gmake: "any",
  just: "any",
  bun: "bun",
  deno: "deno",
  cargo: "cargo",
  go: "go",
};
const TEST_TASK = /^(?:test|tests|check)$/;
// Options of a task runner that take the next word as their value, so it is not a task name.
const VALUED_OPTIONS = new Set(["-C", "--prefix", "--dir", "--cwd", "-f", "--file", "--directory", "-d"]);
// A benchmark run through a test runner measures time, not passes.
const BENCHMARK_OPTION = /^(?:-bench(?:=.*)?|-test\.bench(?:=.*)?|--benchmark-only|--bench)$/;

/**
 * The test runner an eval command runs, so its natural score is the pass rate: a test runner
 * (pytest, jest, `python -m unittest`, `node --test`), or a test task (`npm test`, `make -s -C lib
 * check`: "any"; `cargo test`), anywhere in the command line; null for anything else, a benchmark
 * (`go test -bench=.`) and `go test` without -json (it prints no counts otherwise).
 * testRunnerOf("python3 -m pytest -q tests/") -> "pytest"; testRunnerOf("make -s check") -> "any"
 */
export function testRunnerOf(command: string): TestRunnerChoice | null {
  for (const simple of command.split(/&&|\|\||[;&|()]/)) {
    const words = simple.trim().split(/\s+/).filter((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
    while (words.length > 1 && LAUNCHERS.has(words[0])) words.shift();
    const found = runnerOfWords(words);
    if (found && !words.some((word) => BENCHMARK_OPTION.test(word))) return found;
  }
  return null;
}

function runnerOfWords(words: string[]): TestRunnerChoice | null {
  const command = words[0]?.split("/").at(-1) ?? "";
  if (command in RUNNER_COMMANDS) return RUNNER_COMMANDS[command];
  if (command === "-m") return PYTHON_MODULES[words[1]] ?? null; // uv run -m pytest
  if (/^python[\d.]*$/.test(command)) return words[1] === "-m" ? PYTHON_MODULES[words[2]] ?? null : null;
  if (command === "node") return words.includes("--test") ? "node" : null;
  if (!(command in TASK_RUNNERS)) return null;
  const tasks = words.slice(1).filter((word, index, all) =>
    !word.startsWith("-") && !VALUED_OPTIONS.has(all[index - 1])
  );
  const task = tasks[0] === "run" || tasks[0] === "run-script" ? tasks[1] ?? "" : tasks[0] ?? "";
  const runsTests = TEST_TASK.test(task) ||
    (command === "make" || command === "gmake" || command === "just") && tasks.some((each) => TEST_TASK.test(each));
  if (!runsTests) return null;
  // `bun run test` and `deno task test` run the package's script: its runner is not named.
  const runner = tasks[0] === "run" || tasks[0] === "run-script" ? "any" : TASK_RUNNERS[command];
  if (runner === "go" && !words.includes("-json")) return null;
  return runner;
}

/** Whether an eval command runs a test suite (testRunnerOf). */
export function isTestCommand(command: string): boolean {
  return testRunnerOf(command) !== null;
}
