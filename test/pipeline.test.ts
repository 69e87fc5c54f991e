// The README's shell pipelines, executed verbatim with bash in a temporary repository: the
// block between `<!-- pipeline:start -->` and `<!-- pipeline:end -->` chains init, baseline,
// iterate --loop (the offline agent examples/agents/tune-levers.ts) and dashboard --format json
// into jq; the `pipeline-until-done` block then loops until the budget is spent (exit 3) and
// still renders. The text is read from README.md, or from docs-drafts/runtimes.md until it is
// merged there. Needs bash, jq, python3 and git on PATH; `bun` is the kit's own.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { KIT_ROOT, makeRepo, PATH_WITH_KIT_RUNTIMES, read } from "./helpers.ts";
import { PRICE_MODEL_PY, priceCasesJson } from "./experiment-fixture.ts";

const SOURCES = ["README.md", "docs-drafts/runtimes.md"];

/** The fenced shell block between the named markers, from the first file that has them. */
export function documentedBlock(marker: string): { text: string; source: string } {
  for (const source of SOURCES) {
    const path = join(KIT_ROOT, source);
    if (!existsSync(path)) continue;
    const match = new RegExp(`<!-- ${marker}:start -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${marker}:end -->`)
      .exec(readFileSync(path, "utf8"));
    if (match) return { text: match[1], source };
  }
  throw new Error(
    `No \`\`\`sh block between <!-- ${marker}:start --> and <!-- ${marker}:end --> in ${SOURCES.join(" or ")}`,
  );
}

function bash(script: string, cwd: string) {
  const result = spawnSync("bash", ["-c", script], {
    cwd,
    encoding: "utf8",
    input: "",
    timeout: 110_000,
    env: { ...process.env, KIT: KIT_ROOT, PATH: PATH_WITH_KIT_RUNTIMES, NO_COLOR: "1", CI: "true" },
  });
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "" };
}

/** The last JSON value jq printed: everything from the last line that opens one. */
function lastJson(stdout: string): unknown {
  const lines = stdout.trimEnd().split("\n");
  const start = lines.findLastIndex((line) => /^[{[]/.test(line));
  return JSON.parse(lines.slice(start).join("\n"));
}

describe("the README's shell pipeline", () => {
  test("jq is on PATH (the pipeline ends in it)", () => {
    expect(spawnSync("jq", ["--version"]).status).toBe(0);
  });

  test("init --yes && baseline && iterate --loop --iterations N && dashboard --format json | jq runs verbatim and prints the summary", () => {
    const { text } = documentedBlock("pipeline");
    const root = makeRepo({ "src/predict.py": PRICE_MODEL_PY, "data/cases.json": priceCasesJson() });
    const result = bash(text, root);
    if (result.code !== 0) throw new Error(`the pipeline exited ${result.code}:\n${result.stderr}`);
    expect(lastJson(result.stdout)).toEqual({ start: 18, best: expect.any(Number), kept: expect.any(Number), done: 6 });
    const summary = lastJson(result.stdout) as { best: number; kept: number };
    expect(summary.best).toBeLessThan(18);
    expect(summary.kept).toBeGreaterThanOrEqual(1);
    expect(result.stdout).not.toContain("\x1b[");
    expect(read(root, "autoresearch_dashboard.md")).toContain("predict");
  });

  test("the until-done block treats the spent budget (exit 3) as the end of the round and still renders", () => {
    const root = makeRepo({ "src/predict.py": PRICE_MODEL_PY, "data/cases.json": priceCasesJson() });
    expect(bash(documentedBlock("pipeline").text, root).code).toBe(0);
    const result = bash(documentedBlock("pipeline-until-done").text, root);
    if (result.code !== 0) throw new Error(`the until-done block exited ${result.code}:\n${result.stderr}`);
    expect(result.stderr).toMatch(/budget/i);
    const best = lastJson(result.stdout) as { score: number };
    expect(best.score).toBeLessThan(18);
    const results = read(root, "autoresearch.jsonl").trim().split("\n").map((line) => JSON.parse(line)).filter((line) =>
      line.type === "result"
    );
    expect(results.at(-1).iteration).toBe(10); // the budget init set, all spent
  });
});
