// dashboard.ts --format tsv and csv on real rounds: the TSV is Karpathy's results.tsv (his header,
// the baseline first, one row per iteration, keep/discard/crash) as Python's csv module reads it,
// the CSV loads with csv.DictReader, and a description with a tab, a newline, quotes and a comma
// survives both (the TSV flattens the tab and newline to spaces). One run under Deno.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KIT_ROOT, runScript, type Runtime, setLever, temporaryFolder } from "./helpers.ts";
import { baselined } from "./experiment-fixture.ts";
import { inertText } from "../scripts/lib/dashboard/exports.ts";

const KARPATHY_HEADER = ["commit", "val_bpb", "memory_gb", "status", "description"];
const AWKWARD = 'raise "weight"\tto 2, then\nsay so';

/** Rows as Python's csv module reads `text` (a list of lists, or dicts with DictReader). */
function pythonCsv(text: string, options: { delimiter: string; dict?: boolean }): unknown[] {
  const reader = options.dict ? "csv.DictReader" : "csv.reader";
  const program = `import csv, io, json, sys
text = sys.stdin.read()
print(json.dumps(list(${reader}(io.StringIO(text, newline=""), delimiter=${JSON.stringify(options.delimiter)}))))`;
  const result = spawnSync("python3", ["-c", program], { input: text, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`python3 could not read it: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

function exportOf(root: string, format: "tsv" | "csv", runtime: Runtime = "bun", args: string[] = []) {
  return runScript("dashboard", ["--format", format, "--no-write", ...args], { cwd: root, runtime });
}

/** A baselined experiment with a keep (the awkward description), a discard and a crash; the eval prints peak_vram_mb. */
function roundWithThreeIterations(): string {
  const root = baselined({
    evalPrelude: 'print("peak_vram_mb: 3072.0")\nif open("ranker.py").read().count("CRASH"): raise SystemExit(3)',
  });
  setLever(root, "WEIGHT", "2.0");
  expect(runScript("iterate", ["-m", AWKWARD], { cwd: root }).code).toBe(0);
  setLever(root, "WEIGHT", "1.5");
  expect(runScript("iterate", ["-m", "lower weight to 1.5"], { cwd: root }).code).toBe(0);
  appendFileSync(join(root, "ranker.py"), "# CRASH\n");
  expect(runScript("iterate", ["-m", "a change that crashes the eval"], { cwd: root }).code).toBe(0);
  return root;
}

describe("dashboard exports", () => {
  test("--format tsv is Karpathy's results.tsv: his header, the baseline, then one row per iteration, read by Python's csv module", () => {
    const root = roundWithThreeIterations();
    const result = exportOf(root, "tsv");
    expect(result.code).toBe(0);
    const rows = pythonCsv(result.stdout, { delimiter: "\t" }) as string[][];
    expect(rows[0]).toEqual(KARPATHY_HEADER);
    expect(rows).toHaveLength(1 + 1 + 3);
    for (const row of rows.slice(1)) {
      expect(row).toHaveLength(5);
      expect(["keep", "discard", "crash"]).toContain(row[3]);
      // A kept line's commit, 7 characters; a discarded or crashed candidate was never committed.
      expect(row[0]).toMatch(row[3] === "keep" ? /^[0-9a-f]{7}$/ : /^$/);
    }
    const [baseline, keep, discard, crash] = rows.slice(1);
    expect(baseline.slice(2, 4)).toEqual(["3.0", "keep"]);
    expect(Number(baseline[1])).toBeCloseTo(0.1563, 4);
    // The tab and the newline become spaces (his format has no quoting); the quotes and the comma survive.
    expect(keep.slice(1)).toEqual(["0.2812", "3.0", "keep", 'raise "weight" to 2, then say so']);
    expect(discard.slice(1, 4)).toEqual(["0.1969", "3.0", "discard"]);
    expect(crash.slice(1, 4)).toEqual(["0.000000", "0.0", "crash"]);
    // The commits are the iterations' own: the keep's is the branch's head.
    const head = spawnSync("git", ["rev-parse", "--short=7", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim();
    expect(keep[0]).toBe(head);
  });

  test("--format csv loads with csv.DictReader, keeps the description byte for byte, under Bun and Deno alike", () => {
    const root = roundWithThreeIterations();
    const bun = exportOf(root, "csv");
    expect(bun.code).toBe(0);
    const deno = exportOf(root, "csv", "deno");
    expect(deno.code).toBe(0);
    expect(deno.stdout).toBe(bun.stdout);
    const rows = pythonCsv(bun.stdout, { delimiter: ",", dict: true }) as Record<string, string>[];
    expect(rows.map((row) => [row.iteration, row.status])).toEqual([
      ["0", "baseline"],
      ["1", "keep"],
      ["2", "discard"],
      ["3", "crash"],
    ]);
    expect(rows[1].description).toBe(AWKWARD);
    expect(rows[1]).toMatchObject({ score: "0.2812", delta: "+0.1249", runs: "2", guard_pass: "true", memory_gb: "3" });
    expect(rows[1].commit).toMatch(/^[0-9a-f]{7,40}$/);
    expect(rows[3].score).toBe("");
    expect(rows[3].reason).not.toBe("");
    // No cost fields in this journal: no cost columns.
    expect(Object.keys(rows[0])).not.toContain("cost_usd");
  });

  test("--format csv makes a description that starts like a formula inert for spreadsheets; the TSV keeps it as written", () => {
    const root = baselined();
    const formula = '=HYPERLINK("http://example.invalid","open me")';
    setLever(root, "WEIGHT", "2.0");
    expect(runScript("iterate", ["-m", formula], { cwd: root }).code).toBe(0);
    const csv = pythonCsv(exportOf(root, "csv").stdout, { delimiter: ",", dict: true }) as Record<string, string>[];
    expect(csv[1].description).toBe(`'${formula}`);
    const tsv = pythonCsv(exportOf(root, "tsv").stdout, { delimiter: "\t" }) as string[][];
    expect(tsv[2][4]).toBe(formula);
  });

  test("a control character or escape sequence in front of a formula does not hide it from the guard", () => {
    const folder = temporaryFolder();
    const journalPath = join(folder, "autoresearch.jsonl");
    copyFileSync(join(KIT_ROOT, "test/fixtures/journals/round1.jsonl"), journalPath);
    const hidden = ['\u0001=HYPERLINK("http://example.invalid","open")', "\u001b[0m@SUM(1+1)"];
    hidden.forEach((description, index) =>
      appendFileSync(
        journalPath,
        JSON.stringify({
          type: "result",
          iteration: 16 + index,
          commit: `feed00${index}`,
          score: 0.7,
          status: "discard",
          description,
        }) +
          "\n",
      )
    );
    const csv = runScript("dashboard", ["--journal", journalPath, "--format", "csv", "--no-write"], { cwd: folder });
    expect(csv.code).toBe(0);
    const rows = pythonCsv(csv.stdout, { delimiter: ",", dict: true }) as Record<string, string>[];
    const shown = rows.filter((row) => row.commit.startsWith("feed00")).map((row) => row.description);
    expect(shown).toEqual(['\'=HYPERLINK("http://example.invalid","open")', "'@SUM(1+1)"]);
  });

  const inertRows: [string, string][] = [
    ["=1+1", "'=1+1"],
    ["+cmd", "'+cmd"],
    ["-2+3", "'-2+3"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1", "'\t=1"],
    ["raise weight to 2", "raise weight to 2"],
    ["a = b", "a = b"],
    ["", ""],
  ];
  for (const [text, shown] of inertRows) {
    test(`inertText(${JSON.stringify(text)}) is ${JSON.stringify(shown)}`, () => expect(inertText(text)).toBe(shown));
  }

  test("a hand-written journal: guard failures export as discard, crashes as zeros, and cost fields get columns when lines carry them", () => {
    const folder = temporaryFolder();
    const journalPath = join(folder, "autoresearch.jsonl");
    copyFileSync(join(KIT_ROOT, "test/fixtures/journals/round1.jsonl"), journalPath);
    appendFileSync(
      journalPath,
      JSON.stringify({
        type: "result",
        iteration: 16,
        commit: "abcdef0123",
        score: 0.7301,
        status: "keep",
        description: "priced line",
        eval_seconds: 12.5,
        tokens_in: 1200,
        tokens_out: 340,
        cost_usd: 0.0123,
      }) + "\n",
    );
    const tsv = runScript("dashboard", ["--journal", journalPath, "--format", "tsv", "--no-write"], { cwd: folder });
    expect(tsv.code).toBe(0);
    const rows = pythonCsv(tsv.stdout, { delimiter: "\t" }) as string[][];
    const byCommit = new Map(rows.map((row) => [row[0], row]));
    expect(byCommit.get("c3d4e5f")?.[3]).toBe("discard"); // guard_fail
    expect(byCommit.get("d4e5f60")?.slice(1, 4)).toEqual(["0.000000", "0.0", "crash"]);
    expect(byCommit.get("abcdef0")?.slice(1, 5)).toEqual(["0.7301", "0.0", "keep", "priced line"]);

    const csv = runScript("dashboard", ["--journal", journalPath, "--format", "csv", "--no-write"], { cwd: folder });
    const records = pythonCsv(csv.stdout, { delimiter: ",", dict: true }) as Record<string, string>[];
    const priced = records.find((record) => record.iteration === "16")!;
    expect(priced).toMatchObject({ eval_seconds: "12.5", tokens_in: "1200", tokens_out: "340", cost_usd: "0.0123" });
    expect(records.find((record) => record.iteration === "3")).toMatchObject({ status: "guard_fail", cost_usd: "" });
    expect(Object.keys(priced)).not.toContain("agent_seconds");
    expect(existsSync(join(folder, "autoresearch_dashboard.md"))).toBe(false);
  });

  test("--output with an export is refused in one line that says to redirect stdout, and nothing is written", () => {
    const folder = temporaryFolder();
    const journalPath = join(folder, "autoresearch.jsonl");
    copyFileSync(join(KIT_ROOT, "test/fixtures/journals/round1.jsonl"), journalPath);
    const before = readFileSync(journalPath, "utf8");
    const result = runScript("dashboard", ["--journal", journalPath, "--format", "tsv", "--output", "results.tsv"], {
      cwd: folder,
    });
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toContain("> results.tsv");
    expect(existsSync(join(folder, "results.tsv"))).toBe(false);
    expect(existsSync(join(folder, "autoresearch_dashboard.md"))).toBe(false);
    expect(readFileSync(journalPath, "utf8")).toBe(before);
  });
});
