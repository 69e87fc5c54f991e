// The parsed-experiment cache on the real scripts and repositories: an unchanged experiment file
// is answered from it and a step loads neither yaml nor zod; an edit is parsed again (a bad one
// refused as before); a hand-edited cache is ignored; a hand-written journal line still goes
// through zod. What a process loaded is read from Bun's module registry by a preload that
// writes it to a file when the process exits.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { PARSING_MODULES } from "../scripts/lib/experiment/experiment-cache.ts";
import { baselined } from "./experiment-fixture.ts";
import { BUN, KIT_ROOT, read, results, type ScriptResult, setLever, sh, sha256, temporaryFolder } from "./helpers.ts";

const CACHE = ".git/autoresearch/experiment-cache.json";

type Loaded = { yaml: number; zod: number; zodSchemaApi: number };

/** Run a Bun script under a preload that reports how many yaml, zod and zod-classic modules it loaded. */
function runReportingLoads(cwd: string, args: string[]): ScriptResult & { loaded: Loaded } {
  const folder = temporaryFolder("ark-test-probe-");
  const report = join(folder, "loaded.json");
  const probe = join(folder, "probe.ts");
  writeFileSync(
    probe,
    `process.on("exit", () => {
  const paths = Object.keys(require.cache);
  const count = (pattern: RegExp) => paths.filter((path) => pattern.test(path)).length;
  require("node:fs").writeFileSync(${JSON.stringify(report)}, JSON.stringify({
    yaml: count(/node_modules\\/yaml\\//),
    zod: count(/node_modules\\/zod\\//),
    zodSchemaApi: count(/node_modules\\/zod\\/(v4\\/classic\\/|index\\.c?js$)/),
  }));
});
`,
  );
  const result = spawnSync(BUN, ["--preload", probe, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
  });
  return {
    code: result.status,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    loaded: JSON.parse(readFileSync(report, "utf8")) as Loaded,
  };
}

/** `iterate.ts -m description` in `root`, reporting what it loaded. */
function stepReportingLoads(root: string, description: string): ScriptResult & { loaded: Loaded } {
  return runReportingLoads(root, [join(KIT_ROOT, "scripts/iterate.ts"), "-m", description]);
}

function cacheFile(
  root: string,
): { entries: { parser: string; text_sha256: string; experiment: any }[]; seal: string } {
  return JSON.parse(read(root, CACHE));
}

describe("the parsed-experiment cache", () => {
  test("a step on an unchanged experiment file is answered from the cache and loads neither yaml nor zod", () => {
    const root = baselined(); // baseline saved the experiment file, and cached what that text parses to
    const entry = cacheFile(root).entries[0];
    expect(entry.text_sha256).toBe(sha256(read(root, "autoresearch.yaml")));
    expect(entry.experiment.budget).toEqual({ iterations: 30, max_hours: null, plateau: 10, crash_streak: 3 });
    expect(sh(root, "git", ["status", "--porcelain", "--ignored"])).not.toContain("cache"); // not in the work tree
    setLever(root, "WEIGHT", "2.0");
    const first = stepReportingLoads(root, "weight 2");
    expect(first.code).toBe(0);
    expect(first.loaded).toEqual({ yaml: 0, zod: 0, zodSchemaApi: 0 });

    // Without the cache the step parses, and the probe sees it; the step after is a hit again.
    rmSync(join(root, CACHE));
    setLever(root, "WEIGHT", "3.0");
    const parsed = stepReportingLoads(root, "weight 3");
    expect(parsed.code).toBe(0);
    expect(parsed.loaded.yaml).toBeGreaterThan(0);
    expect(parsed.loaded.zodSchemaApi).toBeGreaterThan(0);
    setLever(root, "WEIGHT", "4.0");
    const again = stepReportingLoads(root, "weight 4");
    expect(again.code).toBe(0);
    expect(again.loaded).toEqual({ yaml: 0, zod: 0, zodSchemaApi: 0 });
    expect(results(root).map((line) => line.description)).toEqual(["weight 2", "weight 3", "weight 4"]);
  });

  test("an edited experiment file is parsed again, and a bad edit is refused with the message it always had", () => {
    const root = baselined({ budget: 30 });
    setLever(root, "WEIGHT", "2.0");
    expect(stepReportingLoads(root, "weight 2").code).toBe(0);

    const valid = read(root, "autoresearch.yaml");
    writeFileSync(join(root, "autoresearch.yaml"), valid.replace("iterations: 30", "iterations: 0"));
    setLever(root, "WEIGHT", "3.0");
    const refusedWithCache = stepReportingLoads(root, "weight 3");
    rmSync(join(root, CACHE));
    const refusedWithout = stepReportingLoads(root, "weight 3");
    expect(refusedWithCache.code).toBe(2);
    expect(refusedWithCache.stderr).toContain('Cannot use "autoresearch.yaml": budget.iterations must be at least 1');
    expect(refusedWithCache.stderr).toBe(refusedWithout.stderr);

    // A valid edit takes effect at once: a budget of 1 is spent by the step already made.
    writeFileSync(join(root, "autoresearch.yaml"), valid.replace("iterations: 30", "iterations: 1"));
    const spent = stepReportingLoads(root, "weight 3");
    expect(spent.code).toBe(3);
    expect(spent.loaded.yaml).toBeGreaterThan(0);
    expect(cacheFile(root).entries[0].experiment.budget.iterations).toBe(1);
  });

  test("a cache edited by hand is ignored (parsed again) and rewritten", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    expect(stepReportingLoads(root, "weight 2").code).toBe(0);

    // Were this entry trusted, a budget of 1 iteration would already be spent (exit 3).
    const forged = cacheFile(root);
    forged.entries[0].experiment.budget.iterations = 1;
    writeFileSync(join(root, CACHE), JSON.stringify(forged));
    setLever(root, "WEIGHT", "3.0");
    const step = stepReportingLoads(root, "weight 3");
    expect(step.code).toBe(0);
    expect(step.loaded.yaml).toBeGreaterThan(0);
    const rewritten = cacheFile(root);
    expect(rewritten.entries[0].experiment.budget.iterations).toBe(30);

    setLever(root, "WEIGHT", "4.0");
    expect(stepReportingLoads(root, "weight 4").loaded).toEqual({ yaml: 0, zod: 0, zodSchemaApi: 0 });
  });

  test("a journal line the harness wrote is read without zod; a hand-written seed line still goes through it", () => {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    expect(stepReportingLoads(root, "weight 2").code).toBe(0);
    const folder = temporaryFolder("ark-test-journal-read-");
    const reader = join(folder, "read.ts");
    writeFileSync(
      reader,
      `import { readJournal } from ${JSON.stringify(join(KIT_ROOT, "scripts/lib/experiment/journal.ts"))};
const journal = readJournal(process.argv[2]);
console.log(JSON.stringify({ results: journal.results.length, config: journal.config?.metric ?? null }));
`,
    );
    const harnessWritten = runReportingLoads(folder, [reader, join(root, "autoresearch.jsonl")]);
    expect(JSON.parse(harnessWritten.stdout)).toEqual({ results: 2, config: "score" });
    expect(harnessWritten.loaded.zod).toBe(0);
    const handWritten = runReportingLoads(folder, [
      reader,
      join(KIT_ROOT, "test/fixtures/journals/hand-written.jsonl"),
    ]);
    expect(JSON.parse(handWritten.stdout).config).toBe("ndcg@10");
    expect(handWritten.loaded.zod).toBeGreaterThan(0);
    expect(handWritten.loaded.zodSchemaApi).toBe(0); // zod/mini, not the classic API
  });
});

describe("the cache's key", () => {
  test("covers every kit module the experiment schema is built from", () => {
    const schemaModule = join(KIT_ROOT, "scripts/lib/experiment/schema.ts");
    const imported = [...readFileSync(schemaModule, "utf8").matchAll(/from "(\.{1,2}\/[^"]+)"/g)].map((match) =>
      relative(
        dirname(join(KIT_ROOT, "scripts/lib/experiment/experiment-cache.ts")),
        resolve(dirname(schemaModule), match[1]),
      )
        .replace(/^(?!\.)/, "./")
    );
    for (const module of ["./schema.ts", "./experiment-file.ts", ...imported]) {
      expect(PARSING_MODULES).toContain(module);
    }
  });
});
