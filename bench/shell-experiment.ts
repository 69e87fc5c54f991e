// Shared by the overhead benches: a fresh git repository whose experiment's eval is a
// shell one-liner (`echo SCORE: $(cat value.txt)`), so what they time is the harness,
// not the eval; plus a timed subprocess and a median. Not a benchmark by itself.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Reads the constrained file, so the probe's garbage gives no SCORE (a crash: sensitive). */
export const SHELL_EVAL = "echo SCORE: $(cat value.txt)";

/** Run a command to completion; milliseconds, or throw with its stderr. */
export function timed(cwd: string, command: string, args: string[]): number {
  const started = performance.now();
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return performance.now() - started;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Make `root` a git repository holding its files in one commit (no signing, a bench identity). */
export function commitEverything(root: string): void {
  for (
    const args of [
      ["init", "-q", "-b", "main"],
      ["config", "user.email", "b@b"],
      ["config", "user.name", "b"],
      ["config", "commit.gpgsign", "false"],
      ["add", "-A"],
      ["commit", "-qm", "init"],
    ]
  ) {
    timed(root, "git", args);
  }
}

/** A committed repository with value.txt as the constrained file and the shell eval (or `evalCommand`). */
export function shellExperiment(label: string, budget = 1000, evalCommand = SHELL_EVAL): string {
  const root = mkdtempSync(join(tmpdir(), `ark-bench-${label}-`));
  writeFileSync(join(root, "value.txt"), "0.5000\n");
  writeFileSync(
    join(root, "autoresearch.yaml"),
    `version: 1
name: bench
current_round: 1
language: other
project: shell
metric: { name: score, direction: max }
decision: { baseline_runs: 3 }
budget: { iterations: ${budget}, plateau: ${budget} }
rounds:
  - round: 1
    status: open
    constrained_files: [value.txt]
    eval: { command: ${JSON.stringify(evalCommand)}, timeout_s: 30 }
    artifacts: { journal: autoresearch.jsonl, dashboard: autoresearch_dashboard.md, instructions: instructions.md, launch_prompt: launch_prompt.md, report: autoresearch_report.md }
`,
  );
  commitEverything(root);
  writeFileSync(
    join(root, ".git/info/exclude"),
    ".autoresearch/\nautoresearch*.jsonl\nautoresearch_dashboard*.md\nautoresearch_progress*.svg\n",
  );
  return root;
}
