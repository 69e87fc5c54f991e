// Renders a sample journal (test/fixtures/journals/round1.jsonl, plus a final report) to the
// HTML dashboard and screenshots it in headless Chromium, so a person can check the page and
// its chart by eye. Uses the system's chromium (Debian: apt-get install chromium); never
// downloads a browser, and skips with a message when none is installed.
// Run: bun bench/dashboard-screenshot.ts [--out dashboard.png] [--journal PATH]
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildDashboard } from "../scripts/lib/dashboard/files.ts";
import { artifactsBesideJournal } from "../scripts/lib/experiment/artifacts.ts";
import { renderForStdout } from "../scripts/lib/dashboard/output.ts";

const KIT_ROOT = resolve(import.meta.dirname ?? ".", "..");
const BROWSERS = ["chromium", "chromium-browser", "google-chrome"];
const WINDOW = "1200,1400"; // px: the page's full width and the chart, tables and report

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    journal: { type: "string", default: join(KIT_ROOT, "test/fixtures/journals/round1.jsonl") },
  },
});

const browser = BROWSERS.find((name) => spawnSync(name, ["--version"], { stdio: "ignore" }).status === 0);
if (!browser) {
  console.error(
    `No Chromium found (tried ${BROWSERS.join(", ")}); skipping the screenshot. On Debian: apt-get install -y chromium`,
  );
  process.exitCode = 0;
} else {
  const folder = mkdtempSync(join(tmpdir(), "ark-screenshot-"));
  const journalPath = join(folder, "autoresearch.jsonl");
  copyFileSync(resolve(values.journal as string), journalPath);
  const paths = artifactsBesideJournal(journalPath);
  writeFileSync(
    paths.reportPath,
    "# Round 1 report\n\nThree changes kept (+0.0245). Six iterations without a keep: the ceiling is the ranking formula, not its weights.\n",
  );
  const rendered = buildDashboard({ journalPath, dashboardPath: paths.dashboardPath });
  const htmlPath = join(folder, "dashboard.html");
  writeFileSync(htmlPath, renderForStdout(rendered, { format: "html", last: null, color: false, cwd: folder }));
  const out = resolve((values.out as string | undefined) ?? join(folder, "dashboard.png"));
  // Chromium's throwaway profile goes; the folder with the page and the PNG stays, to look at.
  const browserProfile = mkdtempSync(join(tmpdir(), "ark-chromium-"));
  process.on("exit", () => rmSync(browserProfile, { recursive: true, force: true }));
  const result = spawnSync(browser, [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    `--user-data-dir=${browserProfile}`,
    `--screenshot=${out}`,
    `--window-size=${WINDOW}`,
    htmlPath,
  ], { encoding: "utf8", timeout: 60_000 });
  if (result.status !== 0 || !existsSync(out)) {
    console.error(
      `${browser} failed (exit ${result.status}): ${(result.stderr ?? "").trim().split("\n").slice(-1)[0]}`,
    );
    process.exitCode = 1;
  } else {
    console.error(`Rendered ${htmlPath}`);
    console.log(out);
  }
}
