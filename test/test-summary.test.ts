// test-summary.ts as tables: the summary each test runner prints, as it prints it (rules, colours,
// one summary per test binary, go's JSON events), read as passed, failed and skipped counts; only
// the runner the command runs, its last summary; the named metrics they give an eval's output, over
// what the code under test prints; and which runner an eval command runs.
import { describe, expect, test } from "bun:test";
import {
  createTestSummaryReader,
  type TestRunnerChoice,
  testRunnerOf,
  testSummaryMetrics,
} from "../scripts/lib/process/test-summary.ts";
import { parseEvalOutput } from "../scripts/lib/process/eval-output.ts";

function read(output: string, runner: TestRunnerChoice = "any") {
  const reader = createTestSummaryReader(runner);
  for (const line of output.split("\n")) reader.line(line);
  return reader.finish();
}

describe("test runners' summaries", () => {
  test.each(
    [
      [
        "pytest",
        "FAILED tests/t.py::test_x - AssertionError\n==== 3 failed, 45 passed, 2 skipped, 1 warning in 0.52s ====",
        [45, 3, 2],
      ],
      ["pytest -q", "...F\n45 passed, 1 error in 1.02s", [45, 1, 0]],
      [
        "pytest, coloured",
        "\x1b[31m===== \x1b[31m\x1b[1m2 failed\x1b[0m, \x1b[32m7 passed\x1b[0m\x1b[31m in 0.11s\x1b[0m\x1b[31m =====\x1b[0m",
        [7, 2, 0],
      ],
      ["pytest, xfail and xpass are not passes", "== 7 passed, 1 xfailed, 1 xpassed, 3 deselected in 0.2s ==", [
        7,
        0,
        2,
      ]],
      ["pytest, all passed", "========== 12 passed in 0.03s ==========", [12, 0, 0]],
      ["unittest", "..F.\n----\nRan 8 tests in 0.001s\n\nFAILED (failures=2, errors=1)", [5, 3, 0]],
      ["unittest, skips", "Ran 10 tests in 0.004s\n\nOK (skipped=2, expected failures=1)", [7, 0, 3]],
      ["unittest, an unexpected success", "Ran 4 tests in 0.004s\n\nFAILED (failures=1, unexpected successes=1)", [
        2,
        2,
        0,
      ]],
      [
        "Jest",
        "Test Suites: 1 failed, 3 passed, 4 total\nTests:       3 failed, 2 skipped, 1 todo, 45 passed, 51 total\nSnapshots:   0 total",
        [45, 3, 3],
      ],
      ["Vitest", " Test Files  1 failed | 2 passed (3)\n      Tests  3 failed | 45 passed | 1 skipped (49)", [
        45,
        3,
        1,
      ]],
      ["Mocha", "  45 passing (12ms)\n  2 pending\n  3 failing\n\n  1) parser\n", [45, 3, 2]],
      ["node --test (TAP)", "1..3\n# tests 4\n# suites 0\n# pass 2\n# fail 1\n# cancelled 0\n# skipped 1\n# todo 0", [
        2,
        1,
        1,
      ]],
      ["node --test (spec)", "ℹ tests 5\nℹ pass 3\nℹ fail 1\nℹ cancelled 1\nℹ skipped 0", [3, 2, 0]],
      ["bun test", "(pass) three [0.02ms]\n\n 2 pass\n 1 skip\n 1 fail\nRan 4 tests across 1 file. [19.00ms]", [
        2,
        1,
        1,
      ]],
      [
        "deno test",
        "two ... FAILED (515µs)\n\nFAILED | 2 passed (1 step) | 1 failed | 1 ignored (5ms)\n\nerror: Test failed",
        [2, 1, 1],
      ],
      ["deno test, all passed", "ok | 5 passed | 0 failed (12ms)", [5, 0, 0]],
      ["CTest", "3/3 Test #3: bad ....***Failed    0.00 sec\n\n67% tests passed, 1 tests failed out of 3\n", [2, 1, 0]],
      [
        "cargo test --no-fail-fast, two test binaries",
        "test result: ok. 10 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\ntest result: FAILED. 4 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out",
        [14, 2, 1],
      ],
      [
        "cargo test: what a failing test printed is not a summary",
        "failures:\n\n---- tests::parses stdout ----\ntest result: ok. 1000 passed; 0 failed; 0 ignored;\n\nfailures:\n    tests::parses\n\ntest result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        [3, 1, 0],
      ],
      [
        "go test -json: a test's own output is an output event, not a pass",
        [
          '{"Time":"2026-01-01T00:00:00Z","Action":"run","Package":"x/dates","Test":"TestParse"}',
          '{"Time":"2026-01-01T00:00:00Z","Action":"output","Package":"x/dates","Test":"TestParse","Output":"--- PASS: TestFake (0.00s)\\n"}',
          '{"Time":"2026-01-01T00:00:00Z","Action":"pass","Package":"x/dates","Test":"TestParse","Elapsed":0}',
          '{"Time":"2026-01-01T00:00:00Z","Action":"fail","Package":"x/dates","Test":"TestParse/empty","Elapsed":0}',
          '{"Time":"2026-01-01T00:00:00Z","Action":"skip","Package":"x/dates","Test":"TestSlow","Elapsed":0}',
          '{"Time":"2026-01-01T00:00:00Z","Action":"fail","Package":"x/dates","Elapsed":0.01}',
        ].join("\n"),
        [1, 1, 1],
      ],
      [
        "pytest then Jest, a make test running both",
        "== 3 passed in 0.1s ==\nTests:       1 failed, 4 passed, 5 total",
        [7, 1, 0],
      ],
      [
        "a summary printed by the code under test is overwritten by the runner's last one",
        "== 100 passed in 0.1s ==\n.F\n== 1 failed, 1 passed in 0.2s ==",
        [1, 1, 0],
      ],
    ] as const,
  )("%s", (_runner, output, [passed, failed, skipped]) => {
    expect(read(output)).toEqual({ passed, failed, skipped, interrupted: false });
  });

  test("with the command's runner known, only its summary counts: a Mocha line printed under pytest does not", () => {
    const output = "1000 passing\n== 1 failed, 2 passed in 0.2s ==";
    expect(read(output, "pytest")).toEqual({ passed: 2, failed: 1, skipped: 0, interrupted: false });
    expect(read(output, "any")).toEqual({ passed: 1002, failed: 1, skipped: 0, interrupted: false });
  });

  test.each([
    ["no summary", "SCORE: 0.5\nloss: 0.1\nran 3 epochs"],
    ["a log line that only looks alike", "we passed 3 checkpoints in 2.5s while training"],
  ])("%s -> null", (_name, output) => {
    expect(read(output)).toBeNull();
  });

  test.each(
    [
      [
        "pytest, a collection error",
        "!!!!!!! Interrupted: 1 error during collection !!!!!!!\n=========== 1 error in 0.12s ===========",
        [0, 1],
      ],
      [
        "unittest, a test module that does not import",
        "ERROR: test_dates (unittest.loader._FailedTest.test_dates)\nRan 1 test in 0.000s\n\nFAILED (errors=1)",
        [0, 1],
      ],
      [
        "Jest, a test file that does not import",
        "  ● Test suite failed to run\n\n    Cannot find module './nonexistent'\nTests:       1 failed, 2 passed, 3 total",
        [2, 1],
      ],
      [
        "Vitest, a test file that does not import",
        "⎯⎯⎯⎯⎯⎯ Failed Suites 1 ⎯⎯⎯⎯⎯⎯⎯\n FAIL  broken.test.mjs [ broken.test.mjs ]\n      Tests  1 failed | 2 passed (3)",
        [2, 1],
      ],
      [
        "bun test, an error between tests (a file that did not load)",
        " 1 pass\n 1 fail\n 1 error\nRan 2 tests across 2 files.",
        [1, 1],
      ],
      [
        "cargo test, stopped at the first failing test binary",
        "test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out\n\nerror: test failed, to rerun pass `--lib`",
        [1, 1],
      ],
      [
        "go test -json, a package that fails without a failing test (a build error, a panic in TestMain)",
        '{"Time":"2026-01-01T00:00:00Z","Action":"pass","Package":"x/a","Test":"TestA","Elapsed":0}\n{"Time":"2026-01-01T00:00:00Z","Action":"fail","Package":"x/b","Elapsed":0}',
        [1, 0],
      ],
    ] as const,
  )("%s: the suite did not run", (_name, output, [passed, failed]) => {
    expect(read(output)).toEqual({ passed, failed, skipped: 0, interrupted: true });
  });
});

describe("the named metrics they give an eval's output", () => {
  test("every test that ran is in the total, so a skip is not a pass; pass_rate only when a test ran", () => {
    expect(testSummaryMetrics({ passed: 45, failed: 3, skipped: 2, interrupted: false })).toEqual({
      tests_passed: 45,
      tests_failed: 3,
      tests_skipped: 2,
      tests_total: 50,
      pass_rate: 0.9,
    });
    expect(testSummaryMetrics({ passed: 0, failed: 0, skipped: 0, interrupted: false })).toEqual({
      tests_passed: 0,
      tests_failed: 0,
      tests_skipped: 0,
      tests_total: 0,
    });
  });

  test("a test command's counts win over a pass_rate line the code under test printed; another eval's own line wins", () => {
    const forged = "pass_rate: 1\n=== 3 failed, 5 passed in 0.4s ===\n";
    const tested = parseEvalOutput(forged, "pass_rate", "python3 -m pytest -q tests");
    expect([tested.score, tested.scoreLine, tested.metrics.tests_total, tested.testRunner]).toEqual([
      0.625,
      "pass_rate",
      8,
      "pytest",
    ]);
    const own = parseEvalOutput(forged, "pass_rate", "python3 eval.py");
    expect([own.score, own.testRunner, own.metrics.tests_total]).toEqual([1, null, 8]);
  });
});

describe("which runner an eval command runs", () => {
  test.each([
    ["python3 -m pytest -q tests/", "pytest"],
    ["pytest", "pytest"],
    ["uv run -m pytest", "pytest"],
    ["uv run pytest tests", "pytest"],
    ["python -m unittest discover -s tests", "unittest"],
    ["npx jest --ci", "jest"],
    ["CI=1 npx vitest run", "vitest"],
    ["node_modules/.bin/jest --ci", "jest"],
    ["npm test", "any"],
    ["npm run test -- --silent", "any"],
    ["npm run -s test", "any"],
    ["npm --prefix web test", "any"],
    ["cd lib && npm test", "any"],
    ["yarn test", "any"],
    ["make -s test", "any"],
    ["make check", "any"],
    ["make -s -C lib check", "any"],
    ["bun test", "bun"],
    ["bun run test", "any"],
    ["deno test -A", "deno"],
    ["node --test", "node"],
    ["node --experimental-strip-types --test test/", "node"],
    ["cargo test --no-fail-fast", "cargo"],
    ["cmake --build build && ctest --test-dir build", "ctest"],
    ["go test -json ./...", "go"],
    ["go build ./... && go test -json ./...", "go"],
    ["go test -v ./...", null],
    ["go test -bench=. -run=^$ -json ./...", null],
    ["python3 -m pytest --benchmark-only", null],
    ["go build ./...", null],
    ["make -s -C test bench", null],
    ["python3 eval.py", null],
    ["python3 tests/eval.py", null],
    ["make bench", null],
    ["npm run testimonials", null],
    ["bun eval.ts --test-data cases.json", null],
  ])("%p -> %p", (command, expected) => {
    expect(testRunnerOf(command)).toBe(expected as TestRunnerChoice | null);
  });
});
