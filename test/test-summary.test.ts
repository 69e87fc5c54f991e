// test-summary.ts as tables: the summary each test runner prints, as it prints it (rules, colours,
// one summary per test binary), read as passed and failed counts; the named metrics they give an
// eval's output; and which eval commands run a test suite.
import { describe, expect, test } from "bun:test";
import { createTestSummaryReader, isTestCommand, testSummaryMetrics } from "../scripts/lib/process/test-summary.ts";
import { parseEvalOutput } from "../scripts/lib/process/eval-output.ts";

function read(output: string) {
  const reader = createTestSummaryReader();
  for (const line of output.split("\n")) reader.line(line);
  return reader.finish();
}

describe("test runners' summaries", () => {
  test.each(
    [
      [
        "pytest",
        "FAILED tests/t.py::test_x - AssertionError\n==== 3 failed, 45 passed, 2 skipped, 1 warning in 0.52s ====",
        45,
        3,
      ],
      ["pytest -q", "...F\n45 passed, 1 error in 1.02s", 45, 1],
      [
        "pytest, coloured",
        "\x1b[31m===== \x1b[31m\x1b[1m2 failed\x1b[0m, \x1b[32m7 passed\x1b[0m\x1b[31m in 0.11s\x1b[0m\x1b[31m =====\x1b[0m",
        7,
        2,
      ],
      ["pytest, all passed", "========== 12 passed in 0.03s ==========", 12, 0],
      ["unittest", "..F.\n----\nRan 8 tests in 0.001s\n\nFAILED (failures=2, errors=1)", 5, 3],
      ["unittest, skips", "Ran 10 tests in 0.004s\n\nOK (skipped=2, expected failures=1)", 7, 0],
      ["unittest, an unexpected success", "Ran 4 tests in 0.004s\n\nFAILED (failures=1, unexpected successes=1)", 2, 2],
      ["unittest, one skip counted out", "Ran 10 tests in 0.004s\n\nOK (skipped=2)", 8, 0],
      [
        "Jest",
        "Test Suites: 1 failed, 3 passed, 4 total\nTests:       3 failed, 2 skipped, 45 passed, 50 total\nSnapshots:   0 total",
        45,
        3,
      ],
      [
        "Vitest",
        " Test Files  1 failed | 2 passed (3)\n      Tests  3 failed | 45 passed (48)\n   Start at  10:00:00",
        45,
        3,
      ],
      ["Mocha", "  45 passing (12ms)\n  2 pending\n  3 failing\n\n  1) parser\n", 45, 3],
      ["node --test (TAP)", "1..3\n# tests 3\n# suites 0\n# pass 2\n# fail 1\n# cancelled 0\n# skipped 0", 2, 1],
      ["node --test (spec)", "ℹ tests 5\nℹ pass 3\nℹ fail 1\nℹ cancelled 1\nℹ skipped 0", 3, 2],
      ["bun test", "(pass) three [0.02ms]\n\n 2 pass\n 1 fail\nRan 3 tests across 1 file. [19.00ms]", 2, 1],
      [
        "deno test",
        "two ... FAILED (515µs)\n\nFAILED | 2 passed (1 step) | 1 failed (5ms)\n\nerror: Test failed",
        2,
        1,
      ],
      ["deno test, all passed", "ok | 5 passed | 0 failed (12ms)", 5, 0],
      ["CTest", "3/3 Test #3: bad ....***Failed    0.00 sec\n\n67% tests passed, 1 tests failed out of 3\n", 2, 1],
      [
        "cargo test, two test binaries",
        "test result: ok. 10 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\ntest result: FAILED. 4 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out",
        14,
        2,
      ],
      [
        "go test -v",
        "=== RUN   TestParse\n--- PASS: TestParse (0.00s)\n    --- FAIL: TestParse/empty (0.00s)\n--- FAIL: TestDates (0.01s)\nFAIL",
        1,
        2,
      ],
      [
        "pytest then Jest (make test running both)",
        "== 3 passed in 0.1s ==\nTests:       1 failed, 4 passed, 5 total",
        7,
        1,
      ],
    ] as const,
  )("%s", (_runner, output, passed, failed) => {
    expect(read(output)).toEqual({ passed, failed, interrupted: false });
  });

  test.each([
    ["no summary", "SCORE: 0.5\nloss: 0.1\nran 3 epochs"],
    ["a log line that only looks alike", "we passed 3 checkpoints in 2.5s while training"],
  ])("%s -> null", (_name, output) => {
    expect(read(output)).toBeNull();
  });

  test.each([
    [
      "pytest, a collection error",
      "!!!!!!! Interrupted: 1 error during collection !!!!!!!\n=========== 1 error in 0.12s ===========",
      { passed: 0, failed: 1, interrupted: true },
    ],
    [
      "unittest, a test module that does not import",
      "ERROR: test_dates (unittest.loader._FailedTest.test_dates)\nRan 1 test in 0.000s\n\nFAILED (errors=1)",
      { passed: 0, failed: 1, interrupted: true },
    ],
    [
      "Jest, a test file that does not import",
      "  ● Test suite failed to run\n\n    Cannot find module './nonexistent'\nTests:       1 failed, 2 passed, 3 total",
      { passed: 2, failed: 1, interrupted: true },
    ],
    [
      "Vitest, a test file that does not import",
      "⎯⎯⎯⎯⎯⎯ Failed Suites 1 ⎯⎯⎯⎯⎯⎯⎯\n FAIL  broken.test.mjs [ broken.test.mjs ]\n      Tests  1 failed | 2 passed (3)",
      { passed: 2, failed: 1, interrupted: true },
    ],
    [
      "go test -v, a package that does not build",
      "--- PASS: TestParse (0.00s)\nFAIL\texample.com/dates [build failed]",
      { passed: 1, failed: 0, interrupted: true },
    ],
  ])("%s: the suite did not run", (_name, output, expected) => {
    expect(read(output)).toEqual(expected);
  });
});

describe("the named metrics they give an eval's output", () => {
  test("pass_rate, tests_passed, tests_failed and tests_total; a line the eval printed itself wins", () => {
    expect(testSummaryMetrics({ passed: 45, failed: 3, interrupted: false })).toEqual({
      tests_passed: 45,
      tests_failed: 3,
      tests_total: 48,
      pass_rate: 0.9375,
    });
    expect(testSummaryMetrics({ passed: 0, failed: 0, interrupted: false })).toEqual({
      tests_passed: 0,
      tests_failed: 0,
      tests_total: 0,
    });
    const output = parseEvalOutput("=== 3 failed, 5 passed in 0.4s ===\n", "pass_rate");
    expect([output.score, output.scoreLine, output.metrics.tests_total]).toEqual([0.625, "pass_rate", 8]);
    expect(parseEvalOutput("pass_rate: 0.9\n== 3 failed, 5 passed in 0.4s ==\n", "pass_rate").score).toBe(0.9);
  });
});

describe("which eval commands run a test suite", () => {
  test.each([
    ["python3 -m pytest -q tests/", true],
    ["pytest", true],
    ["uv run -m pytest", true],
    ["uv run pytest tests", true],
    ["python -m unittest discover -s tests", true],
    ["npx jest --ci", true],
    ["npx vitest run", true],
    ["npm test", true],
    ["npm run test -- --silent", true],
    ["yarn test", true],
    ["bun test", true],
    ["deno test -A", true],
    ["node --test", true],
    ["node --experimental-strip-types --test test/", true],
    ["cargo test --release", true],
    ["cmake --build build && ctest --test-dir build", true],
    ["go test -v ./...", true],
    ["make -s test", true],
    ["make check", true],
    ["cd lib && npm test", true],
    ["make -s -C lib check", true],
    ["npm run -s test", true],
    ["npm --prefix web test", true],
    ["CI=1 npx vitest run", true],
    ["node_modules/.bin/jest --ci", true],
    ["go build ./... && go test -v ./...", true],
    ["go build ./...", false],
    ["make -s -C test bench", false],
    ["python3 eval.py", false],
    ["python3 tests/eval.py", false],
    ["make bench", false],
    ["npm run testimonials", false],
    ["bun eval.ts --test-data cases.json", false],
  ])("%p -> %p", (command, expected) => {
    expect(isTestCommand(command)).toBe(expected);
  });
});
