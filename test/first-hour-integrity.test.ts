// What protects a measurement in a newcomer's first hour: a brought eval (--eval-cmd) is
// locked by integrity like a generated one, and init --force moves the files an earlier
// init wrote, and this one no longer uses, into its backup instead of leaving them behind.
import { describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { casesJson, evalScript, experimentYaml, pythonExperiment } from "./experiment-fixture.ts";
import { makeRepo, read, runScript, setLever, sh, writeFiles } from "./helpers.ts";
import { commandPathWords } from "../scripts/lib/integrity/frozen-files.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";

/** The fixture experiment with its eval brought by the user: eval/x.py, run by a command, no generated script. */
function broughtEvalExperiment(command: string): string {
  return pythonExperiment({
    files: {
      "eval/x.py": evalScript(),
      "autoresearch.yaml": experimentYaml().replace(
        "eval: { command: python3 eval.py, script: eval.py,",
        `eval: { command: "${command}", script: null,`,
      ),
    },
  });
}

describe("a brought eval is locked by integrity", () => {
  test("baseline hashes the files the eval command names and lists them; a committed edit to the eval is refused by integrity", () => {
    const root = broughtEvalExperiment("python3 eval/x.py --cases cases.json");
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toMatch(/^frozen +cases\.json, eval\/x\.py$/m);
    expect(baseline.stderr).toContain('The eval command names "eval/x.py"');
    const experiment = parseExperiment(read(root, "autoresearch.yaml"), "autoresearch.yaml");
    expect(Object.keys(experiment.rounds[0].integrity).sort()).toEqual(["cases.json", "eval/x.py"]);

    appendFileSync(join(root, "eval/x.py"), "print('SCORE: 1.0')\n");
    sh(root, "git", ["commit", "-q", "-am", "a better eval"]);
    setLever(root, "WEIGHT", "2.0");
    const iterate = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(iterate.code).toBe(1);
    expect(iterate.stderr).toContain(`The eval command's file "eval/x.py" changed since the baseline`);
    expect(iterate.stderr).toContain("metric gaming guard");
    expect(readFileSync(join(root, "autoresearch.jsonl"), "utf8")).not.toContain('"iteration":1');
  });

  test("an untouched brought eval iterates as before, and a file the eval writes that git ignores is not locked", () => {
    const root = broughtEvalExperiment("python3 eval/x.py --log run.log && test -f eval/x.py");
    writeFiles(root, { "run.log": "written by the eval\n" });
    appendFileSync(join(root, ".git/info/exclude"), "run.log\n");
    const baseline = runScript("baseline", ["--json"], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(Object.keys(JSON.parse(baseline.stdout).hashes).sort()).toEqual(["cases.json", "eval/x.py"]);
    writeFileSync(join(root, "run.log"), "a later run\n");
    setLever(root, "WEIGHT", "2.0");
    const iterate = runScript("iterate", ["-m", "weight 2"], { cwd: root });
    expect(iterate.stderr).not.toContain("E_INTEGRITY");
    expect(iterate.code).toBe(0);
  });

  test("the words of an eval command that may name files: after cd, quoted, option values, inputs but not outputs", () => {
    expect(commandPathWords(`cd app && FOO=1 python3 'eval dir/x.py' --data=cases.json -v < in.txt > out.txt 2>&1`))
      .toEqual([
        { path: "app/python3", commandWord: true },
        { path: "app/eval dir/x.py", commandWord: false },
        { path: "app/cases.json", commandWord: false },
        { path: "app/in.txt", commandWord: false },
      ]);
    expect(commandPathWords("./run_eval.sh; bun eval.ts | tee log.txt")).toEqual([
      { path: "./run_eval.sh", commandWord: true },
      { path: "bun", commandWord: true },
      { path: "eval.ts", commandWord: false },
      { path: "tee", commandWord: true },
      { path: "log.txt", commandWord: false },
    ]);
  });
});
