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

/** A small search module shaped like a library's scoring file: numeric levers and one entry. */
const SEARCH_PY = `"""Score documents for a query."""
TITLE_WEIGHT = 2.0
MIN_SCORE = 0.1


def search(query, limit=3):
    docs = {"a": "reset password", "b": "billing invoice", "c": "password policy"}
    scored = [(doc_id, sum(TITLE_WEIGHT for word in query.split() if word in text)) for doc_id, text in docs.items()]
    return [doc_id for doc_id, score in sorted(scored, key=lambda pair: -pair[1]) if score >= MIN_SCORE][:limit]
`;

describe("init --force cleans up after itself", () => {
  test("switching from the generated eval to --eval-cmd moves the generated eval and test data into the backup and lists them", () => {
    const root = makeRepo({ "search/ranker.py": SEARCH_PY, "data/vocab.txt": "password\nbilling\n" });
    const first = runScript("init", ["search/ranker.py", "--metric", "mrr", "--frozen", "data/vocab.txt"], {
      cwd: root,
    });
    expect(first.code).toBe(0);
    for (const path of ["autoresearch_eval.py", "autoresearch_test_data.json"]) {
      expect(existsSync(join(root, path))).toBe(true);
    }
    const generatedEval = read(root, "autoresearch_eval.py");
    writeFiles(root, { "eval/x.py": evalScript(), "cases.json": casesJson(), "autoresearch_progress.svg": "<svg/>" });

    const again = runScript(
      "init",
      [
        "search/ranker.py",
        "--metric",
        "mrr",
        "--eval-cmd",
        "python3 eval/x.py",
        "--test-data",
        "cases.json",
        "--force",
      ],
      { cwd: root },
    );
    expect(again.code).toBe(0);
    for (const path of ["autoresearch_eval.py", "autoresearch_test_data.json"]) {
      expect(existsSync(join(root, path))).toBe(false);
    }
    const backups = readdirSync(join(root, ".autoresearch/backups"));
    expect(backups).toHaveLength(1);
    const backup = join(root, ".autoresearch/backups", backups[0]);
    expect(readFileSync(join(backup, "autoresearch_eval.py"), "utf8")).toBe(generatedEval);
    expect(readFileSync(join(backup, "autoresearch_test_data.json"), "utf8")).toContain("TODO:");
    expect(again.stderr).toMatch(
      /Moved "autoresearch_eval\.py", "autoresearch_test_data\.json", "autoresearch_progress\.svg" into \.autoresearch\/backups\/init-[^:]+: this experiment no longer uses them/,
    );
    expect(again.stderr).toContain('Replaced "autoresearch.yaml"');
    // The earlier run's progress chart would describe the wrong run: it moves too.
    expect(existsSync(join(root, "autoresearch_progress.svg"))).toBe(false);
    expect(readFileSync(join(backup, "autoresearch_progress.svg"), "utf8")).toBe("<svg/>");
    expect(JSON.stringify(readdirSync(backup))).not.toContain(".moved");
    // Files of the person's that the earlier experiment named (frozen, brought) are never moved.
    expect(read(root, "data/vocab.txt")).toBe("password\nbilling\n");
    for (const path of ["eval/x.py", "cases.json", "search/ranker.py"]) expect(existsSync(join(root, path))).toBe(true);
  });

  test("a file the earlier experiment names but init did not write stays; a re-run that still uses its files moves nothing", () => {
    const root = makeRepo({ "search/ranker.py": SEARCH_PY, "eval/x.py": evalScript(), "cases.json": casesJson() });
    const brought = [
      "search/ranker.py",
      "--metric",
      "mrr",
      "--eval-cmd",
      "python3 eval/x.py",
      "--test-data",
      "cases.json",
    ];
    expect(runScript("init", brought, { cwd: root }).code).toBe(0);
    // The brought eval and test data are the person's: switching to the generated eval leaves them in place.
    const generated = runScript("init", ["search/ranker.py", "--metric", "mrr", "--force", "--json"], { cwd: root });
    expect(generated.code).toBe(0);
    expect(JSON.parse(generated.stdout).moved_to_backup).toEqual([]);
    expect(read(root, "eval/x.py")).toBe(evalScript());
    expect(read(root, "cases.json")).toBe(casesJson());

    const same = runScript("init", ["search/ranker.py", "--metric", "mrr", "--force", "--json"], { cwd: root });
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout).moved_to_backup).toEqual([]);
    expect(existsSync(join(root, "autoresearch_eval.py"))).toBe(true);
    expect(same.stderr).not.toContain("Moved ");
  });
});
