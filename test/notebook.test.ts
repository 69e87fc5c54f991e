// examples/notebook.ipynb executed headless with `jupyter nbconvert --execute`, as CI does
// (.ci/run installs Debian's jupyter-nbconvert and python3-ipykernel). Without jupyter the
// tests skip with a message, unless AUTORESEARCH_REQUIRE_JUPYTER=1 (CI) makes that a failure.
// CI is unset for the kernel, so only Jupyter's JPY_PARENT_PID keeps the scripts from prompting
// on the pseudo-terminal that `!` commands get: a prompt would hang the cell until the timeout.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { KIT_ROOT, removeAfterTest, temporaryFolder } from "./helpers.ts";

type Output = {
  output_type: string;
  text?: string | string[];
  data?: Record<string, string | string[]>;
  ename?: string;
  evalue?: string;
};
type Cell = { cell_type: string; source: string | string[]; execution_count?: number | null; outputs?: Output[] };

const NOTEBOOK = join(KIT_ROOT, "examples", "notebook.ipynb");
const CELL_TIMEOUT_S = 300;
const hasJupyter = spawnSync("jupyter", ["nbconvert", "--version"], { encoding: "utf8" }).status === 0;
const required = process.env.AUTORESEARCH_REQUIRE_JUPYTER === "1";

function text(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value.join("") : value ?? "").replace(/\x1b\[[0-9;]*[A-Za-z]/g, "");
}

/** Run the notebook into a temporary folder; returns nbconvert's result and the executed cells. */
function executeNotebook(env: Record<string, string | undefined> = {}) {
  const outputDir = temporaryFolder("ark-notebook-");
  const { CI: _ci, ...withoutCi } = process.env;
  const result = spawnSync("jupyter", [
    "nbconvert",
    "--to",
    "notebook",
    "--execute",
    `--ExecutePreprocessor.timeout=${CELL_TIMEOUT_S}`,
    "--output-dir",
    outputDir,
    "--output",
    "executed",
    NOTEBOOK,
  ], {
    cwd: KIT_ROOT,
    encoding: "utf8",
    timeout: 600_000,
    env: { ...withoutCi, PYDEVD_DISABLE_FILE_VALIDATION: "1", ...env },
  });
  let cells: Cell[] = [];
  try {
    cells = JSON.parse(readFileSync(join(outputDir, "executed.ipynb"), "utf8")).cells;
  } catch {
    // nbconvert writes nothing when a cell fails; the caller looks at the exit code and stderr
  }
  return { code: result.status, stderr: result.stderr ?? "", cells };
}

function codeCell(cells: Cell[], sourceStart: string): Cell {
  const found = cells.find((cell) => cell.cell_type === "code" && text(cell.source).startsWith(sourceStart));
  if (!found) throw new Error(`no code cell starting with ${sourceStart}`);
  return found;
}

function streamText(cell: Cell): string {
  return (cell.outputs ?? []).filter((output) => output.output_type === "stream").map((output) => text(output.text))
    .join("");
}

function displayed(cell: Cell, mime: string): string {
  return (cell.outputs ?? []).filter((output) => output.data?.[mime] !== undefined).map((output) =>
    text(output.data![mime])
  ).join("");
}

describe.skipIf(!hasJupyter && !required)("examples/notebook.ipynb", () => {
  test("jupyter nbconvert is installed (CI installs it, so the notebook never skips there)", () => {
    expect(hasJupyter).toBe(true);
  });

  test("the notebook runs init, baseline, the loop and the dashboard from ! cells and displays the results", () => {
    const run = executeNotebook();
    expect(run.code).toBe(0);
    const codeCells = run.cells.filter((cell) => cell.cell_type === "code");
    expect(codeCells.length).toBeGreaterThan(8);
    for (const cell of codeCells) {
      expect(cell.execution_count).toBeGreaterThan(0);
      expect((cell.outputs ?? []).filter((output) => output.output_type === "error")).toEqual([]);
    }
    const setup = streamText(codeCell(run.cells, "import json"));
    const repository = /^repository: (.+)$/m.exec(setup)?.[1]?.trim();
    expect(repository).toStartWith(join(tmpdir(), "autoresearch-notebook-"));
    removeAfterTest(repository!);

    expect(streamText(codeCell(run.cells, "!{BUN} {KIT}/scripts/init.ts"))).toContain(
      "autoresearch_test_data.json  test data",
    );
    expect(streamText(codeCell(run.cells, "!python3 apply_labels.py"))).toContain(
      "26 cases; first: 'how to sharpen a kitchen knife'",
    );
    expect(streamText(codeCell(run.cells, "!{BUN} {KIT}/scripts/baseline.ts"))).toContain("baseline 0.7244");
    const loop = streamText(codeCell(run.cells, "!{BUN} {KIT}/scripts/iterate.ts --loop"));
    expect(loop).toContain("#12 ");
    expect(loop).toMatch(/#\d+ keep /);

    const dashboard = displayed(codeCell(run.cells, "!{BUN} {KIT}/scripts/dashboard.ts --format md"), "text/markdown");
    expect(dashboard).toStartWith("# Autoresearch Dashboard");
    expect(dashboard).toContain("**Kept:**");
    expect(dashboard).toContain("(the chart is in the next cell)");
    expect(displayed(codeCell(run.cells, "display(SVG("), "image/svg+xml")).toContain("<svg");
    const html = displayed(codeCell(run.cells, "!{BUN} {KIT}/scripts/dashboard.ts --format html"), "text/html");
    expect(html).toContain("<svg");
    expect(html).toContain("ranker.py");
    const summary = displayed(codeCell(run.cells, "!{BUN} {KIT}/scripts/dashboard.ts --json"), "text/markdown");
    expect(summary).toContain("| metric | precision@3 (max) |");
    expect(summary).toMatch(/\| start → best \| 0\.7244 → 0\.(7[89]|8)\d+ \(\+0\.\d{4}\) \|/);
    expect(summary).toContain("**Kept changes**");
    const htmlPage = /^html page: +(.+)$/m.exec(streamText(run.cells.at(-1)!))?.[1]?.trim();
    if (htmlPage) removeAfterTest(dirname(htmlPage));
  }, 600_000);

  test("a cell that fails stops the notebook and fails nbconvert", () => {
    const run = executeNotebook({ AUTORESEARCH_KIT: "/nonexistent/autoresearch-kit" });
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("No autoresearch-kit at /nonexistent/autoresearch-kit");
  }, 120_000);
});

if (!hasJupyter && !required) {
  test.skip("examples/notebook.ipynb: jupyter nbconvert is not installed (apt-get install jupyter-nbconvert python3-ipykernel)", () => {});
}
