// Bad input across the scripts: every refusal is one line on stderr that names the file or
// value and the next step, with exit code 2 (1 for a damaged backup), no stack trace, and the
// repository left as it was. Runs the real scripts on throwaway git repositories.
import { describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fileHashes, makeRepo, runScript, type ScriptName, type ScriptResult, sh, temporaryFolder } from "./helpers.ts";
import { experimentYaml, pythonExperiment } from "./experiment-fixture.ts";
import { type CommandSpec, joinNegativeNumbers, parseCommandLine } from "../scripts/lib/cli/command.ts";
import { CliError } from "../scripts/lib/cli/errors.ts";
import { parseExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import { restoreBackup, saveBackup } from "../scripts/lib/files/backup.ts";
import { assertJournalWritable, readJournal, stripControlCharacters } from "../scripts/lib/experiment/journal.ts";

const RANKER = "WEIGHT = 1.0\n\n\ndef score(x):\n    return WEIGHT * x\n";

/** Every file under `root` (the .git folder included, so a new branch or commit shows) with its hash. */
function snapshot(root: string): Record<string, string> {
  return fileHashes(root, { git: true, keep: (path) => basename(path) !== "index" });
}

/** One line on stderr, naming what was asked for, without a stack trace. */
function expectOneLine(result: ScriptResult, ...mentions: (string | RegExp)[]): void {
  const lines = result.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/\n\s+at |unexpected error|ZodError|SyntaxError|EISDIR/);
  for (const mention of mentions) expect(result.stderr).toMatch(mention);
}

describe("init validates every input before writing anything", () => {
  test("init refuses an empty --eval-cmd, writes nothing, and the next init needs no --force", () => {
    const root = makeRepo({ "ranker.py": RANKER });
    const before = snapshot(root);
    const result = runScript("init", ["ranker.py", "--eval-cmd", "", "--yes"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, /--eval-cmd must not be empty/, /--eval-cmd "make eval"/);
    expect(snapshot(root)).toEqual(before);
    const again = runScript(
      "init",
      ["ranker.py", "--eval-cmd", "python3 eval.py", "--test-data", "ranker.py", "--yes"],
      { cwd: root },
    );
    expect(again.stderr).not.toContain("Not overwriting");
    expect(again.code).toBe(0);
  });

  const empties: [flag: string, args: string[]][] = [
    ["--test-data", ["--test-data", ""]],
    ["--entry", ["--entry", " "]],
    ["--experiment", ["--experiment", ""]],
    ["--frozen", ["--frozen", ""]],
  ];
  for (const [flag, args] of empties) {
    test(`init refuses an empty ${flag} instead of reading it as not given`, () => {
      const root = makeRepo({ "ranker.py": RANKER });
      const before = snapshot(root);
      const result = runScript("init", ["ranker.py", ...args, "--yes"], { cwd: root });
      expect(result.code).toBe(2);
      expectOneLine(result, `${flag} must not be empty`, `leave ${flag} out`);
      expect(snapshot(root)).toEqual(before);
    });
  }

  test("init refuses a directory where the journal goes, even with --force, and writes nothing", () => {
    const root = makeRepo({ "ranker.py": RANKER });
    mkdirSync(join(root, "autoresearch.jsonl"));
    const before = snapshot(root);
    const result = runScript("init", ["ranker.py", "--yes", "--force"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, 'Cannot write the journal "autoresearch.jsonl": it is a directory', "mv ");
    expect(snapshot(root)).toEqual(before);
    expect(existsSync(join(root, "instructions.md"))).toBe(false);
  });

  test("init refuses a directory where an artifact goes, naming it, and writes nothing", () => {
    const root = makeRepo({ "ranker.py": RANKER });
    mkdirSync(join(root, "instructions.md"));
    const before = snapshot(root);
    const result = runScript("init", ["ranker.py", "--yes", "--force"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, 'Cannot write "instructions.md": it is a directory');
    expect(snapshot(root)).toEqual(before);
  });
});

describe("--experiment must name an experiment file", () => {
  const scripts: [ScriptName, string[]][] = [
    ["iterate", ["-m", "x"]],
    ["baseline", []],
    ["dashboard", ["--no-write"]],
    ["next-round", []],
  ];
  for (const [script, args] of scripts) {
    test(`${script} refuses --experiment naming a directory in one line`, () => {
      const root = pythonExperiment();
      mkdirSync(join(root, "configs"));
      const before = snapshot(root);
      const result = runScript(script, ["--experiment", "configs", ...args], { cwd: root });
      expect(result.code).toBe(2);
      expectOneLine(
        result,
        '"configs" is a directory, not an experiment file',
        "--experiment configs/autoresearch.yaml",
      );
      expect(snapshot(root)).toEqual(before);
    });
  }

  for (const script of ["iterate", "baseline"] as const) {
    test(`${script} refuses a binary --experiment file in one line`, () => {
      const root = pythonExperiment({ files: { "blob.yaml": "\x7fELF\x00\x01\x02binary" } });
      const before = snapshot(root);
      const result = runScript(script, ["--experiment", "blob.yaml", ...(script === "iterate" ? ["-m", "x"] : [])], {
        cwd: root,
      });
      expect(result.code).toBe(2);
      expectOneLine(result, '"blob.yaml": it is a binary file, not a YAML experiment file', "init.ts");
      expect(snapshot(root)).toEqual(before);
    });
  }

  test("iterate refuses an --experiment file that holds plain text, not the experiment's fields", () => {
    const root = pythonExperiment({ files: { "notes.yaml": "just some words\n" } });
    const result = runScript("iterate", ["--experiment", "notes.yaml", "-m", "x"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, '"notes.yaml": it holds a string, not the experiment\'s fields');
  });
});

describe("a bad metric formula is refused when the experiment file is loaded", () => {
  const withFormula = (formula: string) =>
    experimentYaml().replace(
      "metric: { name: score, direction: max }",
      `metric: { name: combined, direction: max, formula: "${formula}" }`,
    );

  test("baseline refuses a bad metric.formula before creating or switching a branch", () => {
    const root = pythonExperiment({ files: { "autoresearch.yaml": withFormula("0.8*mrr+/score") } });
    const before = snapshot(root);
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(
      result,
      'Cannot use "autoresearch.yaml": metric.formula "0.8*mrr+/score" has something unexpected at "+/score"',
      "0.8*precision@12+0.2*mrr",
    );
    expect(sh(root, "git", ["branch", "--list"]).trim()).toBe("* main");
    expect(snapshot(root)).toEqual(before);
  });

  test("parseExperiment names metric.formula for an empty formula and accepts a good one", () => {
    expect(() => parseExperiment(withFormula(""), "autoresearch.yaml")).toThrow(/metric\.formula "" is empty/);
    expect(parseExperiment(withFormula("0.8*score+0.2*mrr"), "autoresearch.yaml").metric.formula).toBe(
      "0.8*score+0.2*mrr",
    );
  });
});

describe("a journal that cannot be written is refused before any side effect", () => {
  const refusal = (run: () => void): CliError => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(CliError);
      return error as CliError;
    }
    throw new Error("expected a refusal");
  };

  test("assertJournalWritable refuses a directory where the journal should be", () => {
    const folder = temporaryFolder("ark-bad-input-");
    mkdirSync(join(folder, "autoresearch.jsonl"));
    const error = refusal(() => assertJournalWritable(join(folder, "autoresearch.jsonl"), "autoresearch.jsonl"));
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(
      'Cannot write the journal "autoresearch.jsonl": it is a directory. Move it aside (mv "autoresearch.jsonl" "autoresearch.jsonl.old") and re-run.',
    );
  });

  test("assertJournalWritable refuses a read-only journal (chmod 444), even for root", () => {
    const folder = temporaryFolder("ark-bad-input-");
    const path = join(folder, "autoresearch.jsonl");
    writeFileSync(path, '{"type":"config"}\n');
    chmodSync(path, 0o444);
    const error = refusal(() => assertJournalWritable(path, "autoresearch.jsonl"));
    expect(error.exitCode).toBe(2);
    expect(error.message).toContain(
      '"autoresearch.jsonl": it is read-only. Make it writable (chmod u+w "autoresearch.jsonl")',
    );
    expect(readFileSync(path, "utf8")).toBe('{"type":"config"}\n');
  });

  test("assertJournalWritable refuses a journal whose folder is a file, and accepts a new journal in a writable folder", () => {
    const folder = temporaryFolder("ark-bad-input-");
    writeFileSync(join(folder, "notes.txt"), "mine\n");
    const error = refusal(() =>
      assertJournalWritable(join(folder, "notes.txt", "autoresearch.jsonl"), "notes.txt/autoresearch.jsonl")
    );
    expect(error.message).toMatch(/notes\.txt" on its path is a file, not a folder/);
    expect(() =>
      assertJournalWritable(join(folder, "round", "autoresearch.jsonl"), "round/autoresearch.jsonl", { replace: true })
    ).not.toThrow();
    expect(existsSync(join(folder, "round"))).toBe(false);
  });

  test("readJournal on a directory is a one-line error, not EISDIR", () => {
    const folder = temporaryFolder("ark-bad-input-");
    mkdirSync(join(folder, "autoresearch.jsonl"));
    const error = refusal(() => readJournal(join(folder, "autoresearch.jsonl"), "autoresearch.jsonl"));
    expect(error.message).toBe(
      'The journal "autoresearch.jsonl" is a directory, not a file. Move it aside (mv "autoresearch.jsonl" "autoresearch.jsonl.old") and re-run.',
    );
  });

  test("dashboard refuses a directory where the journal should be, writing nothing", () => {
    const root = pythonExperiment();
    mkdirSync(join(root, "autoresearch.jsonl"));
    const before = snapshot(root);
    const result = runScript("dashboard", ["--format", "md"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, 'The journal "autoresearch.jsonl" is a directory', "mv ");
    expect(snapshot(root)).toEqual(before);
  });
});

describe("a damaged backup manifest stops the run without deleting the backup", () => {
  test("restoreBackup refuses a manifest that is not JSON, naming it and the fix, and keeps the copies", () => {
    const stateDir = join(temporaryFolder("ark-bad-input-"), ".autoresearch");
    saveBackup(
      stateDir,
      [{ file: join(stateDir, "..", "ranker.py"), content: Buffer.from("candidate\n") }],
      "sensitivity probe",
    );
    writeFileSync(join(stateDir, "backup", "manifest.json"), '{"purpose": "sensitivity pro');
    let error: unknown;
    try {
      restoreBackup(stateDir);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(1);
    expect((error as CliError).message).toMatch(/manifest\.json" is not valid JSON.*rm -r ".*backup"$/);
    expect((error as CliError).message).not.toContain("\n");
    expect(readFileSync(join(stateDir, "backup", "file-0"), "utf8")).toBe("candidate\n");
  });

  test("baseline stops with exit 1 on a corrupt backup manifest and leaves the backup for the person", () => {
    const root = pythonExperiment();
    mkdirSync(join(root, ".autoresearch", "backup"), { recursive: true });
    writeFileSync(join(root, ".autoresearch", "backup", "manifest.json"), "not json at all");
    writeFileSync(join(root, ".autoresearch", "backup", "file-0"), "WEIGHT = 3.0  # the candidate\n");
    const result = runScript("baseline", [], { cwd: root });
    expect(result.code).toBe(1);
    expectOneLine(result, '".autoresearch/backup/manifest.json" is not valid JSON', 'rm -r ".autoresearch/backup"');
    expect(readFileSync(join(root, ".autoresearch", "backup", "file-0"), "utf8")).toBe(
      "WEIGHT = 3.0  # the candidate\n",
    );
    expect(readFileSync(join(root, ".autoresearch", "backup", "manifest.json"), "utf8")).toBe("not json at all");
    expect(sh(root, "git", ["branch", "--list"]).trim()).toBe("* main");
  });
});

describe("numeric options are checked against their declared range at parse time", () => {
  const cases: [ScriptName, string[], string][] = [
    ["iterate", ["--loop", "--agent", "true", "--iterations", "0"], "--iterations must be at least 1, not 0"],
    ["iterate", ["--loop", "--agent", "true", "--iterations=-3"], "--iterations must be at least 1, not -3"],
    ["iterate", ["--loop", "--agent", "true", "--agent-timeout", "0"], "--agent-timeout must be above 0, not 0"],
    ["iterate", ["--loop", "--agent", "true", "--max-hours", "0"], "--max-hours must be above 0, not 0"],
    ["iterate", ["-m", "x", "--round", "0"], "--round must be at least 1, not 0"],
    ["baseline", ["--runs", "0"], "--runs must be at least 1, not 0"],
    ["dashboard", ["--last=-2"], "--last must be at least 0, not -2"],
    ["init", ["ranker.py", "--iterations", "0"], "--iterations must be at least 1, not 0"],
  ];
  for (const [script, args, message] of cases) {
    test(`${script} ${args.join(" ")} is refused in one line, changing nothing`, () => {
      const root = pythonExperiment();
      const before = snapshot(root);
      const result = runScript(script, args, { cwd: root });
      expect(result.code).toBe(2);
      expectOneLine(result, message, `See: ${script}.ts --help`);
      expect(snapshot(root)).toEqual(before);
    });
  }
});

describe("a negative number after a space is read as the option's value", () => {
  test("iterate --iterations -3 is refused by its range, not as an ambiguous argument", () => {
    const root = pythonExperiment();
    const result = runScript("iterate", ["--loop", "--agent", "true", "--iterations", "-3"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, "--iterations must be at least 1, not -3");
  });

  test("baseline --expected-gain -0.5 is refused by its range in one line", () => {
    const root = pythonExperiment();
    const before = snapshot(root);
    const result = runScript("baseline", ["--expected-gain", "-0.5"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, "--expected-gain must be above 0, not -0.5");
    expect(snapshot(root)).toEqual(before);
  });

  test("a number option without bounds takes --shift -0.5 and -s -2e3 as values", () => {
    const spec: CommandSpec = {
      name: "demo.ts",
      summary: "",
      usage: "demo.ts",
      examples: [],
      options: {
        shift: { type: "number", short: "s", description: "" },
        label: { type: "string", description: "" },
        quiet: { type: "boolean", description: "" },
      },
    };
    expect(parseCommandLine(spec, ["--shift", "-0.5"]).values.shift).toBe(-0.5);
    expect(parseCommandLine(spec, ["-s", "-2e3"]).values.shift).toBe(-2000);
    expect(parseCommandLine(spec, ["--label", "-3"]).values.label).toBe("-3");
    expect(joinNegativeNumbers({ quiet: spec.options.quiet }, ["--quiet", "-3"])).toEqual(["--quiet", "-3"]);
    expect(joinNegativeNumbers({ shift: spec.options.shift }, ["--", "--shift", "-3"])).toEqual([
      "--",
      "--shift",
      "-3",
    ]);
  });

  test("a value starting with a dash that is not a number gets one line saying to attach it with =", () => {
    const root = pythonExperiment();
    const result = runScript("iterate", ["-m", "-fix the bug"], { cwd: root });
    expect(result.code).toBe(2);
    expectOneLine(result, '--message was given a value that starts with a dash; attach it with "=": --message=VALUE');
  });
});

describe("dashboard refuses a file that is not a journal", () => {
  test("dashboard --journal on a binary file is refused in one line and writes no dashboard", () => {
    const folder = temporaryFolder("ark-bad-input-");
    writeFileSync(join(folder, "junk.jsonl"), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x0a, 0x00, 0xff]));
    const result = runScript("dashboard", ["--journal", "junk.jsonl"], { cwd: folder });
    expect(result.code).toBe(2);
    expectOneLine(result, '"junk.jsonl" is a binary file, not a journal', "--journal autoresearch.jsonl");
    expect(readdirSync(folder)).toEqual(["junk.jsonl"]);
  });

  test("dashboard --journal on text without a config or result line is refused in one line", () => {
    const folder = temporaryFolder("ark-bad-input-");
    writeFileSync(join(folder, "notes.jsonl"), 'just some notes\n{"unrelated": true}\n');
    const result = runScript("dashboard", ["--journal", "notes.jsonl", "--format", "text"], { cwd: folder });
    expect(result.code).toBe(2);
    expectOneLine(result, '"notes.jsonl" has no config or result line, so it is not an autoresearch journal');
    expect(readdirSync(folder)).toEqual(["notes.jsonl"]);
  });

  test("dashboard refuses a directory where its dashboard file goes, writing neither file", () => {
    const folder = temporaryFolder("ark-bad-input-");
    writeFileSync(
      join(folder, "autoresearch.jsonl"),
      `${
        JSON.stringify({
          type: "config",
          constrained_file: "a.py",
          eval_command: "e",
          metric: "score",
          guard_metric: null,
          guard_threshold: null,
          baseline: 0.5,
        })
      }\n`,
    );
    mkdirSync(join(folder, "autoresearch_dashboard.md"));
    const result = runScript("dashboard", ["--journal", "autoresearch.jsonl"], { cwd: folder });
    expect(result.code).toBe(2);
    expectOneLine(result, 'Cannot write "autoresearch_dashboard.md": it is a directory', "--no-write");
    expect(existsSync(join(folder, "autoresearch_progress.svg"))).toBe(false);
  });
});

describe("control characters from the journal never reach a rendered dashboard", () => {
  const ESC = "\x1b";
  const journal = [
    {
      type: "config",
      constrained_file: "ranker.py",
      eval_command: "python3 eval.py",
      metric: `score${ESC}[2J`,
      guard_metric: null,
      guard_threshold: null,
      baseline: 0.5,
      iterations: 10,
    },
    {
      type: "result",
      iteration: 1,
      commit: "abc1234",
      score: 0.6,
      delta: "+0.1000",
      guard_score: null,
      guard_pass: null,
      status: "keep",
      description: `${ESC}[31mraise${ESC}[0m WEIGHT\x07 to 2\x9b`,
      timestamp: "2024-01-01T00:00:00Z",
    },
    {
      type: "result",
      iteration: 2,
      commit: null,
      score: null,
      delta: null,
      guard_score: null,
      guard_pass: null,
      status: "crash",
      description: "lower BIAS",
      reason: `boom ${ESC}]0;title${ESC}\\ here\r`,
      timestamp: "2024-01-01T00:01:00Z",
    },
  ].map((line) => JSON.stringify(line)).join("\n") + "\n";
  const controls = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

  for (const format of ["md", "text", "html"] as const) {
    test(`dashboard --format ${format} strips escape sequences from descriptions, reasons and metric names, even under NO_COLOR`, () => {
      const folder = temporaryFolder("ark-bad-input-");
      writeFileSync(join(folder, "autoresearch.jsonl"), journal);
      const result = runScript("dashboard", ["--format", format], { cwd: folder, env: { NO_COLOR: "1" } });
      expect(result.code).toBe(0);
      expect(result.stdout).not.toMatch(controls);
      expect(result.stdout).toContain("raise WEIGHT to 2");
      expect(result.stdout).toContain("boom  here");
      for (const written of ["autoresearch_dashboard.md", "autoresearch_progress.svg"]) {
        expect(readFileSync(join(folder, written), "utf8")).not.toMatch(controls);
      }
    });
  }

  test("dashboard --json keeps journal text faithful, escaped by JSON", () => {
    const folder = temporaryFolder("ark-bad-input-");
    writeFileSync(join(folder, "autoresearch.jsonl"), journal);
    const result = runScript("dashboard", ["--json", "--no-write"], { cwd: folder });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain(ESC);
    const rows = JSON.parse(result.stdout).rows as { description: string }[];
    expect(rows[0].description).toBe(`${ESC}[31mraise${ESC}[0m WEIGHT\x07 to 2\x9b`);
  });

  test("stripControlCharacters keeps newlines, tabs and non-ASCII text", () => {
    expect(stripControlCharacters(`${ESC}[1;32mgreen${ESC}[0m\tnext\nline é 中 😀\x00\x7f`)).toBe(
      "green\tnext\nline é 中 😀",
    );
  });
});
