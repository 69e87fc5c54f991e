// Preloaded by bunfig.toml for every test run. It sets the default per-test timeout, turns colour
// and prompts off for every script a test spawns, and points TMPDIR at a fresh folder for this
// run, so every temporary folder a test or its subprocesses make lands there. At the end the run
// fails if anything is left in it (a test that did not remove what it made), then removes it.
// It does not clean up for the tests: test/helpers.ts's temporaryFolder does that per test.
import { afterAll, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KEEP_TEST_FOLDERS } from "./helpers.ts";

// CLI tests spawn real runtimes and evals, which takes longer than bun's 5 s default;
// `[test] timeout` in bunfig is ignored and setDefaultTimeout here reaches only the first
// test file, so `npm test` also passes --timeout.
setDefaultTimeout(120_000); // ms
process.env.NO_COLOR = "1";
process.env.CI = process.env.CI ?? "true";

const RUN_TMPDIR = mkdtempSync(join(tmpdir(), "ark-tests-"));
process.env.TMPDIR = RUN_TMPDIR; // os.tmpdir() reads it on every call; subprocesses inherit it

afterAll(() => {
  const left = readdirSync(RUN_TMPDIR);
  if (KEEP_TEST_FOLDERS) {
    console.error(`autoresearch tests: kept ${left.length} temporary folder(s) in ${RUN_TMPDIR}`);
    return;
  }
  rmSync(RUN_TMPDIR, { recursive: true, force: true });
  if (left.length === 0) return;
  const names = left.sort().join(", ");
  const fix = "make folders with temporaryFolder() from test/helpers.ts; pass what a script made to removeAfterTest()";
  throw new Error(`${left.length} temporary file(s) outlived their test: ${names}. To fix: ${fix}.`);
});
