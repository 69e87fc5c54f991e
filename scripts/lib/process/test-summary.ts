// A test suite as the eval: the summary lines test runners print (pytest, unittest, Jest, Vitest,
// Mocha, node --test, bun test, deno test, cargo test, go test -v, CTest) read as counts, which become the named
// metrics tests_passed, tests_failed, tests_total and pass_rate; and whether a command runs a test
// suite (init then scores its pass rate). Pure: lines in, counts out.
// Example: one line "==== 3 failed, 45 passed in 0.52s ====" -> { passed: 45, failed: 3 } -> pass_rate 0.9375

/** The named metrics a test summary gives an eval's output. */
export const TEST_SUMMARY_METRICS = ["tests_passed", "tests_failed", "tests_total", "pass_rate"] as const;

export type TestCounts = {
  passed: number;
  /** Failed tests and errors (a test that could not run counts as failed). */
  failed: number;
  /** The runner could not run the suite or part of it (pytest's "Interrupted: 1 error during collection", a test module that does not import). */
  interrupted: boolean;
};

type Runner = "pytest" | "unittest" | "jest" | "vitest" | "mocha" | "node" | "bun" | "deno" | "cargo" | "go" | "ctest";

const ESCAPES = /\x1b\[[0-9;?]*[A-Za-z]/g;

// pytest's last line: "==== 3 failed, 45 passed, 2 skipped in 0.52s ====" (or without the rules, -q).
const PYTEST =
  /^=*\s*((?:\d+ (?:failed|passed|skipped|deselected|xfailed|xpassed|errors?|warnings?|rerun)(?:, )?)+) in [\d.]+s\b/;
// The runner could not run the suite, or part of it, whose tests then count nowhere (so breaking a
// test file's import would raise the pass rate): pytest's collection errors, unittest's module that
// failed to import, Jest's "Test suite failed to run", Vitest's "Failed Suites", go's build failures.
const SUITE_DID_NOT_RUN =
  /^!+ Interrupted: |unittest\.loader\._FailedTest\b|^● Test suite failed to run|⎯ Failed Suites \d+ ⎯|^FAIL\s+\S+ \[(?:build|setup) failed\]/;
// unittest: "Ran 48 tests in 0.012s", then "OK", "OK (skipped=2)" or "FAILED (failures=2, errors=1)".
const UNITTEST_RAN = /^Ran (\d+) tests? in [\d.]+s$/;
const UNITTEST_RESULT = /^(OK|FAILED)(?: \((.*)\))?$/;
// Jest: "Tests:       3 failed, 2 skipped, 45 passed, 50 total".
const JEST = /^Tests:\s+(.*\d+ total)$/;
// Vitest: "Tests  3 failed | 45 passed (48)" (not its "Test Files" line).
const VITEST = /^Tests\s+((?:\d+ \w+(?: \| )?)+)\s*\(\d+\)$/;
// Mocha: "45 passing (12ms)", "3 failing".
const MOCHA = /^(\d+) (passing|failing)(?: \(.*\))?$/;
// node --test: "# pass 45" (TAP) or "ℹ pass 45" (spec reporter); also tests, fail, cancelled.
const NODE = /^(?:#|ℹ) (pass|fail|cancelled) (\d+)$/;
// bun test: " 45 pass", " 3 fail".
const BUN = /^(\d+) (pass|fail)$/;
// deno test: "FAILED | 2 passed (1 step) | 1 failed (5ms)" or "ok | 5 passed | 0 failed (12ms)".
const DENO = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed\b/;
// cargo test, once per test binary: "test result: FAILED. 45 passed; 3 failed; 0 ignored; ...".
const CARGO = /^test result: (?:ok|FAILED)\. (\d+) passed; (\d+) failed;/;
// CTest (CMake projects): "67% tests passed, 1 tests failed out of 3".
const CTEST = /^\d+% tests passed, (\d+) tests? failed out of (\d+)$/;
// go test -v, once per test and subtest: "--- PASS: TestParse (0.00s)".
const GO = /^--- (PASS|FAIL): /;

/** Collects the summaries of every runner in an output; a runner that prints one summary per binary or test adds up. */
export function createTestSummaryReader() {
  const counts = new Map<Runner, { passed: number; failed: number }>();
  let interrupted = false;
  let unittestRan: number | null = null;
  const set = (runner: Runner, passed: number, failed: number) => counts.set(runner, { passed, failed });
  const add = (runner: Runner, passed: number, failed: number) => {
    const earlier = counts.get(runner) ?? { passed: 0, failed: 0 };
    counts.set(runner, { passed: earlier.passed + passed, failed: earlier.failed + failed });
  };
  const update = (runner: Runner, key: "passed" | "failed", value: number) =>
    counts.set(runner, { ...(counts.get(runner) ?? { passed: 0, failed: 0 }), [key]: value });
  return {
    line(raw: string): void {
      const line = raw.replace(ESCAPES, "").trim();
      if (line === "" || line.length > 300) return;
      let match: RegExpExecArray | null;
      if ((match = PYTEST.exec(line))) {
        const tally = tallies(match[1], /(\d+) (\w+)/g);
        set("pytest", tally.passed ?? 0, (tally.failed ?? 0) + (tally.error ?? 0) + (tally.errors ?? 0));
      } else if (SUITE_DID_NOT_RUN.test(line)) interrupted = true;
      else if ((match = UNITTEST_RAN.exec(line))) unittestRan = Number(match[1]);
      else if (unittestRan !== null && (match = UNITTEST_RESULT.exec(line))) {
        const details = (match[2] ?? "").replace(/expected failures/g, "expected_failures").replace(
          /unexpected successes/g,
          "unexpected_successes",
        );
        const tally = tallies(details, /(\w+)=(\d+)/g, true);
        const failed = (tally.failures ?? 0) + (tally.errors ?? 0) + (tally.unexpected_successes ?? 0);
        const notRun = (tally.skipped ?? 0) + (tally.expected_failures ?? 0);
        set("unittest", Math.max(0, unittestRan - failed - notRun), failed);
        unittestRan = null;
      } else if ((match = JEST.exec(line))) {
        const tally = tallies(match[1], /(\d+) (\w+)/g);
        set("jest", tally.passed ?? 0, tally.failed ?? 0);
      } else if ((match = VITEST.exec(line))) {
        const tally = tallies(match[1], /(\d+) (\w+)/g);
        set("vitest", tally.passed ?? 0, tally.failed ?? 0);
      } else if ((match = MOCHA.exec(line))) {
        update("mocha", match[2] === "passing" ? "passed" : "failed", Number(match[1]));
      } else if ((match = NODE.exec(line))) {
        if (match[1] === "pass") update("node", "passed", Number(match[2]));
        else if (match[1] === "fail") update("node", "failed", Number(match[2]));
        else add("node", 0, Number(match[2])); // cancelled tests did not pass
      } else if ((match = BUN.exec(line))) update("bun", match[2] === "pass" ? "passed" : "failed", Number(match[1]));
      else if ((match = DENO.exec(line))) set("deno", Number(match[1]), Number(match[2]));
      else if ((match = CARGO.exec(line))) add("cargo", Number(match[1]), Number(match[2]));
      else if ((match = CTEST.exec(line))) set("ctest", Number(match[2]) - Number(match[1]), Number(match[1]));
      else if ((match = GO.exec(line))) add("go", match[1] === "PASS" ? 1 : 0, match[1] === "FAIL" ? 1 : 0);
    },
    /** The counts over every runner seen, or null when no test summary was printed. */
    finish(): TestCounts | null {
      if (counts.size === 0) return interrupted ? { passed: 0, failed: 0, interrupted } : null;
      let passed = 0;
      let failed = 0;
      for (const each of counts.values()) {
        passed += each.passed;
        failed += each.failed;
      }
      return { passed, failed, interrupted };
    },
  };
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

/** The named metrics of a test summary: pass_rate only when a test ran. */
export function testSummaryMetrics(counts: TestCounts): Record<string, number> {
  const total = counts.passed + counts.failed;
  return {
    tests_passed: counts.passed,
    tests_failed: counts.failed,
    tests_total: total,
    ...(total > 0 ? { pass_rate: counts.passed / total } : {}),
  };
}

// Test runners by their command word (a path's last part: node_modules/.bin/jest), and the
// interpreters or launchers that run one as a module or a subcommand.
const TEST_RUNNERS = new Set(["pytest", "py.test", "jest", "vitest", "mocha", "ava", "tap", "ctest"]);
const TEST_MODULES = new Set(["pytest", "unittest"]);
const TASK_RUNNERS = new Set(["npm", "pnpm", "yarn", "bun", "make", "gmake", "just", "deno", "cargo", "go"]);
const TEST_TASK = /^(?:test|tests|check)$/;
// Options of a task runner that take the next word as their value, so it is not a task name.
const VALUED_OPTIONS = new Set(["-C", "--prefix", "--dir", "--cwd", "-f", "--file", "--directory", "-d"]);

/**
 * Whether an eval command runs a test suite, so its natural score is the pass rate: a test runner
 * (pytest, jest, `python -m unittest`, `node --test`) or a test task (`npm test`, `make -s -C lib
 * check`, `cargo test`), anywhere in the command line.
 * isTestCommand("python3 -m pytest -q tests/") -> true; isTestCommand("make -s bench") -> false
 */
export function isTestCommand(command: string): boolean {
  return command.split(/&&|\|\||[;&|()]/).some((simple) => {
    const words = simple.trim().split(/\s+/).filter((word) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(word));
    const launchers = new Set(["npx", "uv", "poetry", "pipenv", "run", "exec", "pnpx", "bunx", "time", "nice"]);
    while (words.length > 1 && launchers.has(words[0])) words.shift();
    const command = words[0]?.split("/").at(-1) ?? "";
    if (TEST_RUNNERS.has(command)) return true;
    if (command === "-m") return TEST_MODULES.has(words[1]); // uv run -m pytest
    if (/^python[\d.]*$/.test(command)) return words[1] === "-m" && TEST_MODULES.has(words[2]);
    if (command === "node") return words.includes("--test");
    if (!TASK_RUNNERS.has(command)) return false;
    const tasks = words.slice(1).filter((word, index, all) =>
      !word.startsWith("-") && !VALUED_OPTIONS.has(all[index - 1])
    );
    return TEST_TASK.test(tasks[0] === "run" || tasks[0] === "run-script" ? tasks[1] ?? "" : tasks[0] ?? "") ||
      (command === "make" || command === "gmake" || command === "just") && tasks.some((task) => TEST_TASK.test(task));
  });
}
