// Scripted agents for the loop's cost and retry tests: a bash script beside the repository that
// sets the lever from $AUTORESEARCH_ITERATION, and the experiment file's budget and loop keys set
// the way a user edits them. No assertions here.
import { writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { read, removeAfterTest } from "./helpers.ts";

/** A bash agent beside the repository (removed after the test), as the command `--agent` takes. */
export function bashAgent(root: string, name: string, script: string): string {
  const path = removeAfterTest(join(dirname(root), `${basename(root)}-${name}.sh`));
  writeFileSync(path, script);
  return `bash ${path}`;
}

/** Sets WEIGHT to 1 + the iteration number: 2.0 and 3.0 gain (the truth is 3x + 1), later ones lose. */
export const EDIT = `sed -i "s/^WEIGHT = .*/WEIGHT = $((1 + AUTORESEARCH_ITERATION)).0/" ranker.py`;

/** budget.max_cost_usd set and a loop section added to the experiment file baseline wrote (uncommitted, as a user edits it). */
export function setBudget(root: string, maxCostUsd: number | null, loop = ""): void {
  const path = join(root, "autoresearch.yaml");
  let text = read(root, "autoresearch.yaml");
  if (maxCostUsd !== null) {
    text = text.replace(/^  crash_streak: (\d+)$/m, `  crash_streak: $1\n  max_cost_usd: ${maxCostUsd}`);
  }
  writeFileSync(path, `${text}${loop ? `loop: ${loop}\n` : ""}`);
}
