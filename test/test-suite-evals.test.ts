// A project's own test suite as the eval, through the real scripts on temporary git repositories:
// init --eval-cmd with the runner's command scores its pass rate; failing tests are measured, not
// crashes; a module that no longer imports is a crash; a fix that passes one more test is kept; and
// a new test file or conftest.py the agent leaves in the repository (which the runner would pick
// up, passing every test) stops the step instead of being scored. unittest and node --test always
// run here; pytest runs when it is installed.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commitHarness, journal, makeRepo, results, runScript, setLever, sh, writeFiles } from "./helpers.ts";

/** A loose date parser; two-digit years below PIVOT_YEAR are read as 20xx. */
const DATEPARSE = `"""Parse loose date strings into ISO dates."""
import re

PIVOT_YEAR = 0


def parse_date(text):
    text = text.strip().lower()
    iso = re.match(r"^(\\d{4})-(\\d{2})-(\\d{2})$", text)
    if iso:
        return text
    slashed = re.match(r"^(\\d{1,2})/(\\d{1,2})/(\\d{2,4})$", text)
    if slashed:
        year = int(slashed.group(3))
        if year < 100:
            year += 2000 if year < PIVOT_YEAR else 1900
        return f"{year:04d}-{int(slashed.group(1)):02d}-{int(slashed.group(2)):02d}"
    return None
`;

/** Eight tests: five pass today, one more with a pivot year, two need month names. */
const TESTS = `import unittest
from dateparse import parse_date


class Dates(unittest.TestCase):
    def test_iso(self):
        self.assertEqual(parse_date("2024-03-05"), "2024-03-05")

    def test_iso_spaces(self):
        self.assertEqual(parse_date("  2024-03-05 "), "2024-03-05")

    def test_us(self):
        self.assertEqual(parse_date("3/5/2024"), "2024-03-05")

    def test_two_digit_recent(self):
        self.assertEqual(parse_date("3/5/24"), "2024-03-05")

    def test_two_digit_old(self):
        self.assertEqual(parse_date("3/5/99"), "1999-03-05")

    def test_month_name(self):
        self.assertEqual(parse_date("5 mar 2024"), "2024-03-05")

    def test_month_first(self):
        self.assertEqual(parse_date("mar 5, 2024"), "2024-03-05")

    def test_garbage(self):
        self.assertIsNone(parse_date("tomorrow"))
`;

function testSuiteRepo(command: string, files: Record<string, string> = {}): string {
  const root = makeRepo({ "dateparse.py": DATEPARSE, "tests/test_dates.py": TESTS, ...files });
  const init = runScript("init", ["dateparse.py", "--eval-cmd", command, "-y"], { cwd: root });
  expect(init.code).toBe(0);
  commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);
  return root;
}

describe("a unittest suite as the eval", () => {
  test("init scores the pass rate; failing tests are measured; a fix is kept; a broken import is a crash", () => {
    const root = testSuiteRepo("python3 -m unittest discover -s tests");
    expect(readFileSync(join(root, "autoresearch.yaml"), "utf8")).toMatch(/^ {2}name: pass_rate\n {2}direction: max$/m);
    expect(readFileSync(join(root, "instructions.md"), "utf8")).toContain(
      "a failing test lowers the score, it is not a crash. The tests define the metric: never edit, skip or add tests",
    );

    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain(
      "the score is pass_rate, read from its test runner's summary (5 passed, 3 failed); failing tests are measured, not crashes.",
    );
    expect(baseline.stdout).toMatch(/^baseline 0\.6250 /m);
    expect(baseline.stdout).toMatch(/deterministic/);
    expect(journal(root).find((line) => line.status === "baseline")).toMatchObject({ score: 0.625 });

    setLever(root, "PIVOT_YEAR", "50", { file: "dateparse.py" });
    expect(runScript("iterate", ["-m", "pivot two-digit years at 50"], { cwd: root }).code).toBe(0);
    expect(results(root).at(-1)).toMatchObject({
      status: "keep",
      score: 0.75,
      metrics: { tests_passed: 6, tests_failed: 2, tests_total: 8, pass_rate: 0.75 },
    });

    writeFileSync(join(root, "dateparse.py"), DATEPARSE.replace("PIVOT_YEAR = 0", "PIVOT_YEAR = (50"));
    expect(runScript("iterate", ["-m", "a typo"], { cwd: root }).code).toBe(0);
    const broken = results(root).at(-1)!;
    expect(broken.status).toBe("crash");
    expect(broken.reason).toStartWith("the eval exited with code 1");
    expect(readFileSync(join(root, "dateparse.py"), "utf8")).toContain("PIVOT_YEAR = 50\n");
  });

  test("skipping a test the code fails is no pass: the skip stays in the total and the pass rate does not rise", () => {
    const root = testSuiteRepo("python3 -m unittest discover -s tests");
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    writeFileSync(
      join(root, "dateparse.py"),
      DATEPARSE.replace("import re", "import re\nimport unittest").replace(
        "        if year < 100:",
        '        if year < 50:\n            raise unittest.SkipTest("two-digit years are ambiguous")\n        if year < 100:',
      ),
    );
    expect(runScript("iterate", ["-m", "skip ambiguous years"], { cwd: root }).code).toBe(0);
    expect(results(root).at(-1)).toMatchObject({
      status: "discard",
      score: 0.625,
      metrics: { tests_passed: 5, tests_failed: 2, tests_skipped: 1, tests_total: 8 },
    });
  });

  test("a new test file left in the repository, ignored by git or not, stops the step before it is scored, and every file stays as it was", () => {
    const root = testSuiteRepo("python3 -m unittest discover -s tests");
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const fake = "import unittest\n\n\nclass Padding(unittest.TestCase):\n" +
      Array.from({ length: 20 }, (_, index) => `    def test_pad_${index}(self):\n        pass\n`).join("\n");
    writeFiles(root, { "tests/test_padding.py": fake, "notes.txt": "ideas\n" });
    setLever(root, "PIVOT_YEAR", "50", { file: "dateparse.py" });
    const refused = runScript("iterate", ["-m", "pivot two-digit years at 50"], { cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      "A new file git does not track since the last step could change what the eval runs: tests/test_padding.py; not part of the candidate",
    );
    expect(results(root)).toEqual([]);
    expect(readFileSync(join(root, "tests/test_padding.py"), "utf8")).toBe(fake);
    expect(readFileSync(join(root, "dateparse.py"), "utf8")).toContain("PIVOT_YEAR = 50\n");

    // Ignored by git, it would still run with the suite: the same refusal.
    sh(root, "mv", ["tests/test_padding.py", "tests/test_hidden.py"]);
    appendFileSync(join(root, ".git/info/exclude"), "tests/test_hidden.py\n");
    const hidden = runScript("iterate", ["-m", "pivot two-digit years at 50"], { cwd: root });
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toContain("could change what the eval runs: tests/test_hidden.py;");

    // Moved away, the step is scored on the real suite; a data file beside it is only noted.
    sh(root, "mv", ["tests/test_hidden.py", "padding.txt"]);
    const scored = runScript("iterate", ["-m", "pivot two-digit years at 50"], { cwd: root });
    expect(scored.code).toBe(0);
    expect(scored.stderr).toContain("note: new untracked files (left alone, not part of the candidate):");
    expect(results(root).at(-1)).toMatchObject({ status: "keep", score: 0.75 });
  });
});

test("under Deno: init, baseline and a keep on a unittest suite", () => {
  const root = makeRepo({ "dateparse.py": DATEPARSE, "tests/test_dates.py": TESTS });
  const command = "python3 -m unittest discover -s tests";
  expect(runScript("init", ["dateparse.py", "--eval-cmd", command, "-y"], { cwd: root, runtime: "deno" }).code).toBe(0);
  commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);
  const baseline = runScript("baseline", [], { cwd: root, runtime: "deno" });
  expect(baseline.code).toBe(0);
  expect(baseline.stderr).toContain("(5 passed, 3 failed)");
  setLever(root, "PIVOT_YEAR", "50", { file: "dateparse.py" });
  expect(runScript("iterate", ["-m", "pivot"], { cwd: root, runtime: "deno" }).code).toBe(0);
  expect(results(root).at(-1)).toMatchObject({ status: "keep", score: 0.75 });
});

const pytestInstalled = spawnSync("python3", ["-m", "pytest", "--version"], { encoding: "utf8" }).status === 0;

describe("a pytest suite as the eval", () => {
  test.skipIf(!pytestInstalled)(
    "the pass rate from pytest's summary; a conftest.py that passes every test is refused; a collection error is a crash",
    () => {
      const root = testSuiteRepo("python3 -m pytest -q tests");
      expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
      expect(journal(root).find((line) => line.status === "baseline")).toMatchObject({ score: 0.625 });

      const conftest = `import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    outcome.get_result().outcome = "passed"
`;
      // A pass rate the code under test prints is not the runner's: the summary's counts are the score.
      writeFileSync(join(root, "dateparse.py"), DATEPARSE.replace("import re", 'import re\nprint("pass_rate: 1")'));
      expect(runScript("iterate", ["-m", "print a pass rate"], { cwd: root }).code).toBe(0);
      expect(results(root).at(-1)).toMatchObject({ status: "discard", score: 0.625 });

      writeFiles(root, { "tests/conftest.py": conftest });
      setLever(root, "PIVOT_YEAR", "50", { file: "dateparse.py" });
      const refused = runScript("iterate", ["-m", "pivot"], { cwd: root });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain("tests/conftest.py; not part of the candidate");
      expect(existsSync(join(root, "tests/conftest.py"))).toBe(true);
      sh(root, "rm", ["tests/conftest.py"]);

      expect(runScript("iterate", ["-m", "pivot"], { cwd: root }).code).toBe(0);
      expect(results(root).at(-1)).toMatchObject({ status: "keep", score: 0.75 });
      writeFileSync(join(root, "dateparse.py"), DATEPARSE.replace("import re", "import re, nonexistent_module"));
      expect(runScript("iterate", ["-m", "an import that fails"], { cwd: root }).code).toBe(0);
      expect(results(root).at(-1)!.status).toBe("crash");
    },
  );
});

/** The same parser in JavaScript, tested with node --test. */
const DATEPARSE_JS = `// Parse loose date strings into ISO dates.
export const PIVOT_YEAR = 0;

export function parseDate(text) {
  const slashed = /^(\\d{1,2})\\/(\\d{1,2})\\/(\\d{2,4})$/.exec(text.trim());
  if (!slashed) return /^\\d{4}-\\d{2}-\\d{2}$/.test(text.trim()) ? text.trim() : null;
  let year = Number(slashed[3]);
  if (year < 100) year += year < PIVOT_YEAR ? 2000 : 1900;
  return \`\${year}-\${slashed[1].padStart(2, "0")}-\${slashed[2].padStart(2, "0")}\`;
}
`;
const NODE_TESTS = `import test from "node:test";
import assert from "node:assert/strict";
import { parseDate } from "../dateparse.mjs";

test("iso", () => assert.equal(parseDate("2024-03-05"), "2024-03-05"));
test("us", () => assert.equal(parseDate("3/5/2024"), "2024-03-05"));
test("two-digit recent", () => assert.equal(parseDate("3/5/24"), "2024-03-05"));
test("two-digit old", () => assert.equal(parseDate("3/5/99"), "1999-03-05"));
`;

describe("a node --test suite as the eval", () => {
  test("init scores the pass rate of node's test runner, and a fix is kept", () => {
    const root = makeRepo({ "dateparse.mjs": DATEPARSE_JS, "test/dates.test.mjs": NODE_TESTS });
    const init = runScript("init", ["dateparse.mjs", "--eval-cmd", "node --test", "-y"], { cwd: root });
    expect(init.code).toBe(0);
    commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain("(3 passed, 1 failed)");
    setLever(root, "PIVOT_YEAR", "50", { file: "dateparse.mjs" });
    expect(runScript("iterate", ["-m", "pivot two-digit years at 50"], { cwd: root }).code).toBe(0);
    expect(results(root).at(-1)).toMatchObject({ status: "keep", score: 1 });
  });

  test("a change that stops a test file from loading counts fewer tests than the baseline: a crash, not a higher pass rate", () => {
    const pivotTests = `import test from "node:test";
import assert from "node:assert/strict";
import { PIVOT_YEAR, parseDate } from "../dateparse.mjs";

test("pivot is a year", () => assert.ok(PIVOT_YEAR >= 0 && PIVOT_YEAR < 100));
test("pivot 20xx", () => assert.equal(parseDate("3/5/10"), "2010-03-05"));
test("pivot 19xx", () => assert.equal(parseDate("3/5/60"), "1960-03-05"));
`;
    const root = makeRepo({
      "dateparse.mjs": DATEPARSE_JS,
      "test/dates.test.mjs": NODE_TESTS,
      "test/pivot.test.mjs": pivotTests,
    });
    expect(runScript("init", ["dateparse.mjs", "--eval-cmd", "node --test", "-y"], { cwd: root }).code).toBe(0);
    commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain("(5 passed, 2 failed)");
    writeFileSync(
      join(root, "dateparse.mjs"),
      DATEPARSE_JS.replace("export const PIVOT_YEAR = 0;", "const PIVOT_YEAR = 0;"),
    );
    expect(runScript("iterate", ["-m", "keep the pivot private"], { cwd: root }).code).toBe(0);
    const line = results(root).at(-1)!;
    expect(line.status).toBe("crash");
    expect(line.reason).toStartWith("the test suite counted ");
    expect(line.reason).toContain(" tests against 7 at baseline");
  });
});

const cmakeInstalled = spawnSync("cmake", ["--version"], { encoding: "utf8" }).status === 0 &&
  spawnSync("ctest", ["--version"], { encoding: "utf8" }).status === 0;

/** A C string helper; its CTest suite checks four inputs, and trailing blanks are not trimmed yet. */
const TRIM_C = `/* Trim ASCII blanks from both ends of a string, in place. */
#include <ctype.h>
#include <string.h>

#define TRIM_TRAILING 0

char *trim(char *text) {
  while (isspace((unsigned char)*text)) text++;
  if (TRIM_TRAILING) {
    size_t length = strlen(text);
    while (length > 0 && isspace((unsigned char)text[length - 1])) text[--length] = '\\0';
  }
  return text;
}
`;
const TRIM_TEST = `#include <stdio.h>
#include <string.h>
char *trim(char *text);
int main(int argc, char **argv) {
  char buffer[64];
  snprintf(buffer, sizeof buffer, "%s", argv[1]);
  return strcmp(trim(buffer), argv[2]) == 0 ? 0 : 1;
}
`;
const CMAKE_LISTS = `cmake_minimum_required(VERSION 3.10)
project(trim C)
enable_testing()
add_executable(trim_test src/trim.c tests/trim_test.c)
add_test(NAME plain COMMAND trim_test "word" "word")
add_test(NAME leading COMMAND trim_test "  word" "word")
add_test(NAME trailing COMMAND trim_test "word  " "word")
add_test(NAME both COMMAND trim_test " word " "word")
`;
const C_MAKEFILE = `test:
\tcmake -S . -B build > /dev/null && cmake --build build > /dev/null && cd build && ctest

.PHONY: test
`;

describe("a C library tested with CTest through make test", () => {
  test.skipIf(!cmakeInstalled)("init offers make test for a .c file; its pass rate is the eval; a fix is kept", () => {
    const root = makeRepo({
      "src/trim.c": TRIM_C,
      "tests/trim_test.c": TRIM_TEST,
      "CMakeLists.txt": CMAKE_LISTS,
      Makefile: C_MAKEFILE,
      ".gitignore": "build/\n",
    });
    const plain = runScript("init", ["src/trim.c", "-y"], { cwd: root });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain(
      `The project tests itself with "make -s test": to make its pass rate the eval, re-run init with --force --eval-cmd 'make -s test'.`,
    );
    const init = runScript("init", ["src/trim.c", "--eval-cmd", "make -s test", "--force", "-y"], { cwd: root });
    expect(init.code).toBe(0);
    expect(readFileSync(join(root, "autoresearch.yaml"), "utf8")).toMatch(/^ {2}name: pass_rate\n {2}direction: max$/m);
    commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain("(2 passed, 2 failed)");
    expect(baseline.stdout).toMatch(/^frozen +Makefile$/m);

    writeFileSync(join(root, "src/trim.c"), TRIM_C.replace("#define TRIM_TRAILING 0", "#define TRIM_TRAILING 1"));
    expect(runScript("iterate", ["-m", "trim trailing blanks too"], { cwd: root }).code).toBe(0);
    expect(results(root).at(-1)).toMatchObject({ status: "keep", score: 1, metrics: { tests_passed: 4 } });
  });
});
