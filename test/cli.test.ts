// The command-line shell: option values typed and checked from their declaration (defineCommand),
// every script's --help under Bun, Deno and Node, entry scripts that load no npm package before
// argv parses, and error codes: each code one CliError carries is declared once with its exit
// code, listed in the README, and given to programs as a JSON line with --json.
// It does not test what each verb does; the verbs' own test files do.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { BUN, DENO, KIT_ROOT, makeRepo, runScript, type ScriptName, temporaryFolder } from "./helpers.ts";
import { defineCommand, parseCommandLine, renderHelp } from "../scripts/lib/cli/command.ts";
import { CliError, ERROR_CODES, type ErrorCode, EXIT } from "../scripts/lib/cli/errors.ts";
import { buildNodeBundles } from "../build/node.ts";

const SCRIPTS: ScriptName[] = ["init", "baseline", "iterate", "dashboard", "next-round", "finalize"];

const DEMO = defineCommand({
  name: "demo.ts",
  summary: "a command declaring one option of each kind",
  usage: "demo.ts [FILE] [options]",
  positionals: { min: 0, max: 1, names: "FILE" },
  options: {
    runs: { type: "integer", min: 1, description: "a count", valueName: "N" },
    shift: { type: "number", short: "s", description: "a signed amount" },
    ratio: { type: "number", exclusiveMin: 0, max: 1, description: "a fraction" },
    name: { type: "string", description: "a label" },
    path: { type: "string", default: "autoresearch.yaml", description: "a path with a default" },
    mode: { type: "string", choices: ["max", "min"], description: "one of two" },
    file: { type: "string", multiple: true, description: "repeatable" },
    json: { type: "boolean", description: "machine output" },
    branch: { type: "boolean", default: true, description: "negatable" },
  },
  examples: ["demo.ts --runs 3"],
});

describe("option values arrive typed from their declaration", () => {
  test("each kind's type follows its declaration (checked by tsc), and the values by the parser", () => {
    const { values, positionals } = parseCommandLine(DEMO, [
      "x.py",
      "--runs",
      "3",
      "-s",
      "-2e3",
      "--mode",
      "min",
      "--file",
      "a",
      "--file",
      "b",
      "--json",
      "--no-branch",
    ]);
    const runs: number | undefined = values.runs;
    const shift: number | undefined = values.shift;
    const path: string = values.path; // a default: never undefined
    const mode: "max" | "min" | undefined = values.mode;
    const files: string[] | undefined = values.file;
    const json: boolean | undefined = values.json;
    const branch: boolean = values.branch;
    // @ts-expect-error an integer option is a number, not a string
    const wrong: string | undefined = values.runs;
    // @ts-expect-error an option without a default may be undefined
    const name: string = values.name;
    expect([wrong, name] as unknown[]).toEqual([3, undefined]);
    expect({ runs, shift, path, mode, files, json, branch, positionals }).toEqual({
      runs: 3,
      shift: -2000,
      path: "autoresearch.yaml",
      mode: "min",
      files: ["a", "b"],
      json: true,
      branch: false,
      positionals: ["x.py"],
    });
  });

  const accepted: [argv: string[], expected: Record<string, unknown>][] = [
    [[], {
      runs: undefined,
      shift: undefined,
      name: undefined,
      path: "autoresearch.yaml",
      file: undefined,
      json: undefined,
      branch: true,
    }],
    [["--runs=7"], { runs: 7 }],
    [["--shift", "-0.5"], { shift: -0.5 }],
    [["-s", "-.25"], { shift: -0.25 }],
    [["--ratio", "1"], { ratio: 1 }],
    [["--name", "-3"], { name: "-3" }],
    [["--path", "other.yaml"], { path: "other.yaml" }],
    [["--file", "one"], { file: ["one"] }],
    [["--branch"], { branch: true }],
    [["--", "--runs"], { runs: undefined }],
  ];
  for (const [argv, expected] of accepted) {
    test(`demo.ts ${argv.join(" ") || "(no flags)"} parses to ${JSON.stringify(expected)}`, () => {
      expect(parseCommandLine(DEMO, argv).values).toMatchObject(expected);
    });
  }

  const refused: [argv: string[], message: string][] = [
    [["--runs", "0"], "--runs must be at least 1, not 0. See: demo.ts --help"],
    [["--runs", "2.5"], '--runs must be a whole number, not "2.5". See: demo.ts --help'],
    [["--runs", "-3"], "--runs must be at least 1, not -3. See: demo.ts --help"],
    [["--shift", "x"], '--shift must be a number, not "x". See: demo.ts --help'],
    [["--ratio", "0"], "--ratio must be above 0, not 0. See: demo.ts --help"],
    [["--ratio", "1.5"], "--ratio must be at most 1, not 1.5. See: demo.ts --help"],
    [["--mode", "up"], '--mode must be one of max, min, not "up". See: demo.ts --help'],
    [
      ["--name", "-x"],
      '--name was given a value that starts with a dash; attach it with "=": --name=VALUE. See: demo.ts --help',
    ],
    [["--bogus"], "Unknown option '--bogus'. See: demo.ts --help"],
    [["a.py", "b.py"], 'Unexpected argument "b.py". Usage: demo.ts [FILE] [options]'],
  ];
  for (const [argv, message] of refused) {
    test(`demo.ts ${argv.join(" ")} is refused with E_USAGE: ${message}`, () => {
      let error: unknown;
      try {
        parseCommandLine(DEMO, argv);
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(CliError);
      expect(error).toMatchObject({ message, code: "E_USAGE", exitCode: EXIT.USAGE });
    });
  }

  test("--help lists each option with its default and range", () => {
    const help = renderHelp(DEMO);
    expect(help).toContain("--runs N");
    expect(help).toContain("(at least 1)");
    expect(help).toContain("(above 0, at most 1)");
    expect(help).toContain("(default: autoresearch.yaml)");
    expect(help).toContain("--[no-]branch");
  });
});

describe("every script's --help exits 0 and shows the same text under Bun, Deno and Node", () => {
  const texts = new Map<string, string>();
  for (const script of SCRIPTS) {
    for (const runtime of ["bun", "deno"] as const) {
      test(`${runtime} scripts/${script}.ts --help`, () => {
        const folder = temporaryFolder("ark-cli-");
        const result = runScript(script, ["--help"], { cwd: folder, runtime });
        expect(result.stderr).toBe("");
        expect(result.code).toBe(0);
        expect(result.stdout).toStartWith(`${script}.ts — `);
        expect(result.stdout).toContain(`Usage: ${script}.ts`);
        expect(result.stdout).toEndWith("\n");
        if (texts.has(script)) expect(result.stdout).toBe(texts.get(script)!);
        texts.set(script, result.stdout);
      });
    }
  }

  test("node dist/<verb>.js --help for every verb", async () => {
    const outDir = temporaryFolder("ark-cli-dist-");
    await buildNodeBundles({ outDir });
    for (const script of SCRIPTS) {
      const result = spawnSync("node", [join(outDir, `${script}.js`), "--help"], { cwd: outDir, encoding: "utf8" });
      expect({ script, code: result.status, stderr: result.stderr }).toEqual({ script, code: 0, stderr: "" });
      expect(result.stdout).toBe(runScript(script, ["--help"], { cwd: outDir }).stdout);
    }
  });
});

/** The modules a TypeScript file imports at load time: `import ... from` and `export ... from`, not `import type`. */
function staticImports(file: string): string[] {
  const source = readFileSync(file, "utf8");
  const imports: string[] = [];
  for (const match of source.matchAll(/^(?:import|export)\s+(?!type\b)(?:[^"';]*?\bfrom\s+)?"([^"]+)"/gm)) {
    imports.push(match[1]);
  }
  return imports;
}

describe("--help and usage errors load only the command declaration", () => {
  for (const script of SCRIPTS) {
    test(`scripts/${script}.ts imports no npm package and no library work before argv parses`, () => {
      const loaded = new Set<string>();
      const packages: string[] = [];
      const visit = (file: string) => {
        if (loaded.has(file)) return;
        loaded.add(file);
        for (const specifier of staticImports(file)) {
          if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
          else if (!specifier.startsWith("node:")) packages.push(`${relative(KIT_ROOT, file)} imports ${specifier}`);
        }
      };
      visit(join(KIT_ROOT, "scripts", `${script}.ts`));
      expect(packages).toEqual([]);
      const modules = [...loaded].map((file) => relative(KIT_ROOT, file)).sort();
      // The declaration's own modules, plus the file-name constants and defaults the help text quotes,
      // and how a JSON line writes numbers (number-format.ts imports nothing).
      const allowed = [
        "scripts/lib/cli/command.ts",
        "scripts/lib/cli/errors.ts",
        "scripts/lib/text/number-format.ts",
        "scripts/lib/experiment/artifacts.ts",
        "scripts/lib/experiment/defaults.ts",
        "scripts/lib/dashboard/formats.ts",
      ];
      expect(modules.filter((module) => module !== `scripts/${script}.ts` && !allowed.includes(module))).toEqual([]);
    });
  }

  test("a usage error is the same one line under Bun and Deno, exit 2", () => {
    const folder = temporaryFolder("ark-cli-");
    for (const runtime of ["bun", "deno"] as const) {
      const result = runScript("dashboard", ["--last", "-2"], { cwd: folder, runtime });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toBe("dashboard.ts: --last must be at least 0, not -2. See: dashboard.ts --help\n");
    }
  });
});

/** Every `"E_..."` literal under scripts/ (errors.ts aside) with the exit code given beside it, if any. */
function thrownCodes(): { code: string; exit: string | null; file: string }[] {
  const found: { code: string; exit: string | null; file: string }[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && path !== join(KIT_ROOT, "scripts/lib/cli/errors.ts")) {
        const source = readFileSync(path, "utf8");
        for (const match of source.matchAll(/"(E_[A-Z_]+)"(\s*,\s*EXIT\.([A-Z_]+))?/g)) {
          found.push({ code: match[1], exit: match[3] ?? null, file: relative(KIT_ROOT, path) });
        }
      }
    }
  };
  walk(join(KIT_ROOT, "scripts"));
  return found;
}

/** The README's table of error codes, one row per code, as errors.ts declares them. */
function errorCodeRows(): string[] {
  return Object.entries(ERROR_CODES).map(([code, { exit, meaning }]) => `| \`${code}\` | ${exit} | ${meaning} |`);
}

describe("error codes: declared once, thrown, documented, and shown with --json", () => {
  const thrown = thrownCodes();

  test("every code thrown under scripts/ is declared in ERROR_CODES, with the exit code it is thrown with", () => {
    const problems: string[] = [];
    for (const { code, exit, file } of thrown) {
      const declared = (ERROR_CODES as Record<string, { exit: number }>)[code];
      if (!declared) problems.push(`${file}: ${code} is not declared in scripts/lib/cli/errors.ts`);
      // A code given without an exit code goes through a helper that exits 2, or takes the declared one.
      else if (exit !== null && EXIT[exit as keyof typeof EXIT] !== declared.exit) {
        problems.push(`${file}: ${code} is thrown with EXIT.${exit}, declared ${declared.exit}`);
      } else if (exit === null && declared.exit !== EXIT.USAGE && code !== "E_UNEXPECTED") {
        problems.push(`${file}: ${code} is thrown without an exit code but declared ${declared.exit}`);
      }
    }
    expect(problems).toEqual([]);
  });

  test("every declared code is thrown somewhere under scripts/", () => {
    const used = new Set(thrown.map(({ code }) => code));
    expect(Object.keys(ERROR_CODES).filter((code) => !used.has(code))).toEqual([]);
  });

  test("the README lists every code with its exit code and meaning", () => {
    const readme = readFileSync(join(KIT_ROOT, "README.md"), "utf8");
    expect({ table: readme.includes("| error code | exit | meaning |\n|---|---|---|\n") }).toEqual({ table: true });
    expect(errorCodeRows().filter((row) => !readme.includes(`${row}\n`))).toEqual([]);
  });

  test("a CliError without an exit code takes the one declared for its code", () => {
    const codes: ErrorCode[] = ["E_LOCKED", "E_TAMPERED", "E_NO_JOURNAL"];
    expect(codes.map((code) => new CliError("x", code).exitCode)).toEqual([75, 1, 2]);
  });

  test("dashboard --json without a journal: one line on stderr, one JSON error line with its code on stdout", () => {
    const folder = temporaryFolder("ark-cli-");
    const plain = runScript("dashboard", [], { cwd: folder });
    const json = runScript("dashboard", ["--json"], { cwd: folder });
    expect(json.code).toBe(2);
    expect(json.stderr).toBe(plain.stderr);
    expect(json.stderr.trim().split("\n")).toHaveLength(1);
    const message = json.stderr.trim().replace(/^dashboard\.ts: /, "");
    expect(json.stdout.split("\n")).toHaveLength(2);
    expect(JSON.parse(json.stdout)).toEqual({ error: { code: "E_NO_JOURNAL", exit_code: 2, message } });
    expect(plain.stdout).toBe("");
  });

  test("a usage error with --json carries E_USAGE under Bun and Deno", () => {
    const folder = temporaryFolder("ark-cli-");
    for (const runtime of ["bun", "deno"] as const) {
      const result = runScript("baseline", ["--json", "--runs", "0"], { cwd: folder, runtime });
      expect(result.code).toBe(2);
      expect(JSON.parse(result.stdout)).toEqual({
        error: { code: "E_USAGE", exit_code: 2, message: "--runs must be at least 1, not 0. See: baseline.ts --help" },
      });
    }
  });

  test("iterate --json outside a git repository carries E_NOT_GIT; inside one without an experiment, E_NO_EXPERIMENT", () => {
    const outside = runScript("iterate", ["-m", "x", "--json"], { cwd: temporaryFolder("ark-cli-") });
    expect(outside.code).toBe(ERROR_CODES.E_NOT_GIT.exit);
    expect(JSON.parse(outside.stdout).error.code).toBe("E_NOT_GIT");
    const inside = runScript("iterate", ["-m", "x", "--json"], { cwd: makeRepo({ "a.py": "A = 1\n" }) });
    expect(inside.code).toBe(ERROR_CODES.E_NO_EXPERIMENT.exit);
    expect(JSON.parse(inside.stdout).error.code).toBe("E_NO_EXPERIMENT");
  });

  test("the runtimes agree on the code and exit", () => {
    const folder = temporaryFolder("ark-cli-");
    const codes = ["bun", "deno"].map((runtime) => {
      const [command, prefix] = runtime === "bun" ? [BUN, []] : [DENO, ["run", "-A", "-q"]];
      const result = spawnSync(command, [...prefix, join(KIT_ROOT, "scripts/next-round.ts"), "--json"], {
        cwd: folder,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "1" },
      });
      return { code: result.status, error: JSON.parse(result.stdout).error.code };
    });
    expect(codes[0]).toEqual(codes[1]);
    expect(codes[0].code).toBe(ERROR_CODES[codes[0].error as ErrorCode].exit);
  });
});
