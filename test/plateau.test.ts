// budget.plateau is one number: the experiment file's (or, for a journal read alone, its
// config line's, else the schema's default) is what the dashboard flags, what the loop's
// state prompt and next-round's instructions tell the agent, and where the loop stops.
// Real scripts on real temporary git repositories with a real Python eval.
import { describe, expect, test } from "bun:test";
import { copyFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { baselined } from "./experiment-fixture.ts";
import { journal, makeRepo, read, results, runScript, temporaryFolder } from "./helpers.ts";
import { parseJournal } from "../scripts/lib/experiment/journal.ts";
import { summarizeJournal } from "../scripts/lib/experiment/summary.ts";
import { DEFAULTS } from "../scripts/lib/experiment/defaults.ts";

/** An agent that changes nothing (each call is a discard) and keeps a copy of every prompt it got. */
function idleAgent(promptCopies: string): string {
  return `cp "$AUTORESEARCH_PROMPT_FILE" ${promptCopies}/prompt-$AUTORESEARCH_ITERATION.md; echo 'DESCRIPTION: nothing useful'`;
}

function plateauOf(
  cwd: string,
  args: string[] = [],
): { sinceLastKeep: number; lastKeepIteration: number | null; threshold: number; reached: boolean } {
  const result = runScript("dashboard", ["--format", "json", "--no-write", ...args], { cwd });
  if (result.code !== 0) throw new Error(`dashboard exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout).summary.plateau;
}

describe("budget.plateau", () => {
  test("budget.plateau: 7 in the experiment file changes the dashboard, the loop prompt, next-round and the loop's stop alike", () => {
    const root = baselined({ plateau: 7 });
    const prompts = temporaryFolder("ark-prompts-");
    expect(journal(root)[0].plateau).toBe(7); // the baseline's config line carries it for journal-only readers

    // Six non-keeps: one short of 7, so nobody calls it a plateau yet (the seed's 5 would have).
    const first = runScript("iterate", ["--loop", "--agent", idleAgent(prompts), "--iterations", "6", "--no-report"], {
      cwd: root,
    });
    expect(first.code).toBe(0);
    expect(results(root).map((line) => line.status)).toEqual(Array(6).fill("discard"));
    expect(read(prompts, "prompt-6.md")).toContain(
      "Since the last keep: 5 of 7 iterations; after 7 without a keep the loop stops",
    );
    expect(plateauOf(root)).toEqual({ sinceLastKeep: 6, lastKeepIteration: null, threshold: 7, reached: false });
    expect(read(root, "autoresearch_dashboard.md")).toContain("**Plateau:** no keep in 6 iterations.\n");
    expect(read(root, "autoresearch_dashboard.md")).not.toContain("architectural");

    // The seventh non-keep: the loop stops on the same number the dashboard flags.
    const second = runScript("iterate", ["--loop", "--agent", idleAgent(prompts), "--no-report"], { cwd: root });
    expect(second.code).toBe(4);
    expect(second.stderr).toContain(
      "plateau: 7 iterations without a keep since the baseline (#1-#7; 6 recorded before this run, 1 in it), budget.plateau 7;",
    );
    expect(results(root)).toHaveLength(7);
    expect(read(prompts, "prompt-7.md")).toContain("Since the last keep: 6 of 7 iterations");
    expect(plateauOf(root)).toMatchObject({ sinceLastKeep: 7, threshold: 7, reached: true });
    expect(read(root, "autoresearch_dashboard.md")).toContain(
      "no keep in 7 iterations. 7+ iterations without a keep suggests the ceiling is architectural",
    );

    // next-round tells round 2's agent the same number, in its rules and in round 1's summary.
    const next = runScript("next-round", [], { cwd: root });
    expect(next.code).toBe(0);
    const instructions = read(root, "instructions_2.md");
    expect(instructions).toContain("the score has plateaued (7 iterations in a row without a keep)");
    expect(instructions).toContain("after 7 non-improvements in a row (a plateau)");
    expect(instructions).toContain("If 7 iterations in a row failed, the ceiling is probably architectural");
    expect(instructions).toContain("**Plateau:** no keep in 7 iterations. 7+ iterations without a keep");
    expect(instructions).not.toMatch(/\b5 or more\b|\b5\+ iterations/);
  });

  test("a journal read without its experiment file takes the plateau from its config line", () => {
    const root = baselined({ plateau: 3 });
    const first = runScript(
      "iterate",
      ["--loop", "--agent", idleAgent(temporaryFolder("ark-prompts-")), "--no-report"],
      { cwd: root },
    );
    expect(first.code).toBe(4);
    const alone = makeRepo({ "ranker.py": read(root, "ranker.py") });
    copyFileSync(join(root, "autoresearch.jsonl"), join(alone, "autoresearch.jsonl"));
    expect(readdirSync(alone)).not.toContain("autoresearch.yaml");
    expect(plateauOf(alone, ["--journal", "autoresearch.jsonl"])).toMatchObject({
      sinceLastKeep: 3,
      threshold: 3,
      reached: true,
    });

    const next = runScript("next-round", ["--journal", "autoresearch.jsonl"], { cwd: alone });
    expect(next.code).toBe(0);
    expect(read(alone, "launch_prompt_2.md")).toContain(
      "the score has plateaued (3 iterations in a row without a keep)",
    );
    expect(journal(alone, "autoresearch_2.jsonl")[0].plateau).toBe(3); // round 2's header keeps it
  });

  test("a hand-written journal with no plateau anywhere uses the schema's default", () => {
    const text = [
      JSON.stringify({
        type: "config",
        constrained_file: "rank.py",
        eval_command: "python eval.py",
        metric: "score",
        baseline: 0.5,
      }),
      ...Array.from(
        { length: 6 },
        (_, index) =>
          JSON.stringify({ iteration: index + 1, score: 0.4, status: "discard", description: `try ${index + 1}` }),
      ),
    ].join("\n") + "\n";
    const summary = summarizeJournal(parseJournal(text));
    expect(summary.plateau).toEqual({
      sinceLastKeep: 6,
      lastKeepIteration: null,
      threshold: DEFAULTS.budget.plateau,
      reached: false,
    });
  });
});
