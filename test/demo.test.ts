// `npm run demo` end to end, as a new user runs it right after npm install: offline, under a
// minute, every step of the pipeline, and every path it prints exists. The demo keeps its
// temporary repository for the user; this test removes it afterwards.
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, KIT_ROOT, removeAfterTest, temporaryFolder } from "./helpers.ts";

const DEMO_LIMIT_MS = 60_000;

/** The lever directions ("`k1` ↑") or functions listed under a lessons section titled `title`. */
function lessonKeys(text: string, title: string): string[] {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.includes(title));
  if (start < 0) return [];
  const keys: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "" && keys.length === 0) continue;
    const item = /^\s*- (`[^`]*` (?:\(function\)|\S+))/.exec(line);
    if (!item) break;
    keys.push(item[1].replace(/[,:]$/, ""));
  }
  return keys;
}

test("npm run demo runs the whole pipeline in under a minute and prints paths that exist", () => {
  const started = performance.now();
  const demo = spawnSync("npm", ["run", "--silent", "demo"], {
    cwd: KIT_ROOT,
    encoding: "utf8",
    timeout: 110_000,
    input: "",
  });
  const elapsed = performance.now() - started;
  expect(demo.status).toBe(0);
  expect(elapsed).toBeLessThan(DEMO_LIMIT_MS);

  const repository = /^Demo repository: (.+)$/m.exec(demo.stdout)?.[1];
  expect(repository).toBeDefined();
  removeAfterTest(repository!);
  expect(repository!.startsWith(tmpdir())).toBe(true);

  const printedPaths = [...demo.stdout.matchAll(/(\/\S+\.(?:md|svg|jsonl|py))$/gm)].map((match) => match[1]);
  for (
    const name of [
      "autoresearch_dashboard.md",
      "autoresearch_progress.svg",
      "autoresearch.jsonl",
      "autoresearch_report.md",
      "instructions_2.md",
      "launch_prompt_2.md",
      "autoresearch_eval_2.py",
      "autoresearch_2.jsonl",
      "autoresearch_dashboard_2.md",
    ]
  ) {
    expect(printedPaths).toContain(join(repository!, name));
  }
  for (const path of printedPaths) expect(existsSync(path)).toBe(true);

  // The lessons read correctly after the tuner's iterations: a lever direction with a keep is
  // never listed as a dead end, in the dashboard or in next round's instructions.
  for (const name of ["autoresearch_dashboard.md", "instructions_2.md"]) {
    const text = readFileSync(join(repository!, name), "utf8");
    const kept = lessonKeys(text, "Kept directions");
    const deadEnds = lessonKeys(text, "Dead ends (do not retry)");
    expect(deadEnds.filter((key) => kept.includes(key))).toEqual([]);
  }
  const journalLines = readFileSync(join(repository!, "autoresearch.jsonl"), "utf8").split("\n").filter(Boolean);
  if (journalLines.some((line) => JSON.parse(line).attribution)) {
    // With recorded diffs the tuner's keeps are named by lever and direction.
    expect(lessonKeys(readFileSync(join(repository!, "autoresearch_dashboard.md"), "utf8"), "Kept directions").length)
      .toBeGreaterThan(0);
  }

  const summary = /^precision@3: (\d\.\d{4}) -> (\d\.\d{4}) .*; (\d+) kept, .* in (\d+) iterations$/m.exec(demo.stdout);
  expect(summary).not.toBeNull();
  const [, start, best, kept, iterations] = summary!;
  expect(Number(best)).toBeGreaterThan(Number(start));
  expect(Number(kept)).toBeGreaterThanOrEqual(2);
  expect(Number(iterations)).toBeGreaterThanOrEqual(10);
  expect(demo.stdout).toMatch(/^Wall time: \d+\.\d s$/m);

  for (const step of ["init", "baseline", "iterate --loop", "dashboard", "next-round"]) {
    expect(demo.stderr).toContain(`== ${step}`);
  }
  expect(readFileSync(join(repository!, "autoresearch.yaml"), "utf8")).toContain("current_round: 2");
});

test("the demo names the step that failed, exits 1 and says where the repository was kept", () => {
  // A PATH with git and bash but no python3: init cannot fill expected results from the Python ranker.
  const bin = temporaryFolder("ark-demo-path-");
  for (const tool of ["git", "bash"]) {
    symlinkSync(spawnSync("bash", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim(), join(bin, tool));
  }
  const demo = spawnSync(BUN, [join(KIT_ROOT, "examples/demo.ts")], {
    cwd: KIT_ROOT,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, PATH: bin },
  });
  expect(demo.status).toBe(1);
  expect(demo.stderr).toContain('demo: step "init: read ranker.py');
  expect(demo.stderr).toContain("python3");
  const kept = /The repository is kept as it was: (\S+)/.exec(demo.stderr)?.[1];
  expect(kept && existsSync(join(kept, "ranker.py"))).toBe(true);
  removeAfterTest(kept!);
  expect(demo.stdout).toBe("");
});
