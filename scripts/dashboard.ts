#!/usr/bin/env bun
// dashboard.ts: render a round's journal for people and programs. Writes
// autoresearch_dashboard.md and its chart, prints text / md / json / html or the tsv / csv
// exports on stdout; --watch re-renders on every journal change, and --serve keeps a live
// page on 127.0.0.1, until Ctrl-C (exit 130). It never writes the journal; the work happens
// in scripts/lib/dashboard/.
import {
  defineCommand,
  note,
  type ParsedArgs,
  printData,
  printJson,
  runCommand,
  runIfMain,
  warn,
} from "./lib/cli/command.ts";
import { existsSync } from "node:fs";
import { CliError, EXIT } from "./lib/cli/errors.ts";
import { EXPERIMENT_FILE, EXPERIMENT_OPTION } from "./lib/experiment/artifacts.ts";
import { EXPORT_FORMATS, FORMATS } from "./lib/dashboard/formats.ts";
import type { RenderedDashboard } from "./lib/dashboard/files.ts";
import type { DashboardTarget } from "./lib/dashboard/target.ts";

export const SPEC = defineCommand({
  name: "dashboard.ts",
  summary: "render the journal for people and programs",
  usage: "dashboard.ts [--round N] [--format text|md|json|html|tsv|csv] [--watch | --serve [--port P]] [options]",
  details: `
Writes the round's autoresearch_dashboard.md (the seed's layout plus chart, noise,
plateau, top changes, dead ends and crashes) and its chart autoresearch_progress.svg,
then prints the dashboard on stdout. Text written between <!-- report:start --> and
<!-- report:end --> in the dashboard, and the round's autoresearch_report.md, survive
every re-render. Without ${EXPERIMENT_FILE} it works from the journal alone.

--format tsv prints Karpathy's results.tsv (commit, val_bpb, memory_gb, status,
description: his header, our metric in val_bpb's column) and --format csv every column
for spreadsheets; redirect stdout to keep them (> results.tsv).

--serve shows the dashboard as a page on http://127.0.0.1:PORT/ (this machine only) that
updates within a second of each new journal line, and prints its URL on stdout. It follows
the experiment to its next round unless --round or --journal pins one, writes no file and
waits for a journal that does not exist yet; Ctrl-C stops it.`,
  options: {
    round: {
      type: "integer",
      min: 1,
      valueName: "N",
      description: "render round N (default: the experiment's current round)",
    },
    format: {
      type: "string",
      valueName: "FORMAT",
      choices: FORMATS,
      description:
        "stdout format: text, md, json, html, or the exports tsv and csv (default: text on a terminal, md otherwise)",
    },
    json: { type: "boolean", description: "same as --format json; with --serve, the URL as a JSON line" },
    last: {
      type: "integer",
      min: 0,
      valueName: "N",
      description: "show only the last N iterations on stdout (text shows 30 unless told; 0: all)",
    },
    watch: { type: "boolean", description: "re-render whenever the journal changes, until Ctrl-C" },
    serve: {
      type: "boolean",
      description: "serve a live page on 127.0.0.1 that updates as the journal grows, until Ctrl-C",
    },
    port: {
      type: "integer",
      min: 0,
      max: 65535,
      valueName: "P",
      description: "--serve's port (default: 8765; 0: any free port, printed)",
    },
    experiment: EXPERIMENT_OPTION,
    journal: {
      type: "string",
      valueName: "PATH",
      description: "render this journal; its dashboard and chart go beside it",
    },
    output: {
      type: "string",
      valueName: "PATH",
      description: "write the markdown dashboard here (the chart goes beside it)",
    },
    write: {
      type: "boolean",
      default: true,
      description: "write the dashboard and chart files; --no-write only prints",
    },
  },
  examples: [
    "bun scripts/dashboard.ts",
    "bun scripts/dashboard.ts --round 2 --format md --no-write",
    "bun scripts/dashboard.ts --json | jq .summary.best",
    "bun scripts/dashboard.ts --journal autoresearch.jsonl --format html > dashboard.html",
    "bun scripts/dashboard.ts --watch --last 20",
    "bun scripts/dashboard.ts --format tsv > results.tsv",
    "bun scripts/dashboard.ts --serve --port 0",
  ],
  exitCodes: { 130: "--watch or --serve ended by Ctrl-C or SIGTERM" },
});

export function main(argv: string[]): Promise<number> {
  return runCommand(SPEC, argv, run);
}

async function run(args: ParsedArgs<typeof SPEC.options>): Promise<number> {
  checkCombinations(args.values);
  if (args.values.serve) return await serve(args.values);
  // Loaded only after argv parsed: --help and usage errors never pay for the renderers.
  const [
    { buildDashboard, writeDashboard },
    { defaultFormat, renderForStdout, stdoutWantsColor },
    { resolveDashboardTarget },
    { displayPath },
    { waitForInterrupt, watchFiles },
  ] = await Promise.all([
    import("./lib/dashboard/files.ts"),
    import("./lib/dashboard/output.ts"),
    import("./lib/dashboard/target.ts"),
    import("./lib/files/paths.ts"),
    import("./lib/files/watch.ts"),
  ]);
  const cwd = process.cwd();
  const values = args.values;
  const format = values.json ? "json" : values.format ?? defaultFormat();
  // chalk is an ES module: loaded as one here, so a Node without require(ESM) (before 20.19) draws the table too.
  if (format === "text") await (await import("./lib/dashboard/text.ts")).loadTerminalPackages();
  const last = typeof values.last === "number" ? Math.max(0, values.last) : null;
  const write = values.write;
  const target = resolveDashboardTarget({
    cwd,
    experiment: values.experiment,
    journal: values.journal,
    round: values.round,
    output: values.output,
  });
  const render = (): RenderedDashboard => (write ? writeDashboard : buildDashboard)(dashboardFiles(target));
  let previousWarnings = "";
  const renderOnce = (first: boolean) => {
    const rendered = render();
    const warnings = rendered.journal.warnings.join("\n");
    if (warnings !== previousWarnings) rendered.journal.warnings.forEach((message) => warn(message));
    previousWarnings = warnings;
    if (first && !target.experiment) {
      note(`No ${EXPERIMENT_FILE} found: rendered ${displayPath(target.journalPath, cwd)} from its config line alone.`);
    }
    if (first) { for (const limitation of rendered.summary.limitations) note(`note: ${limitation}`); }
    if (write && first) {
      note(`Wrote ${displayPath(rendered.dashboardPath, cwd)} and ${displayPath(rendered.chartPath, cwd)}`);
    }
    if (!first && format === "text" && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
    printData(
      renderForStdout(rendered, { format, last, color: stdoutWantsColor(format), width: process.stdout.columns, cwd }),
    );
  };
  renderOnce(true);
  if (!values.watch) return EXIT.OK;

  note(`Watching ${displayPath(target.journalPath, cwd)}; Ctrl-C to stop.`);
  const watched = [target.journalPath, target.reportPath, ...(target.experimentPath ? [target.experimentPath] : [])];
  const stop = watchFiles(watched, () => {
    try {
      renderOnce(false);
    } catch (error) {
      warn(`re-render failed, still watching: ${(error as Error).message}`);
    }
  });
  await waitForInterrupt();
  stop();
  return EXIT.INTERRUPTED;
}

/** Flags that contradict each other get one line naming the command that works. */
function checkCombinations(values: ParsedArgs<typeof SPEC.options>["values"]): void {
  const refuse = (message: string) => {
    throw new CliError(`${message} See: dashboard.ts --help`, "E_USAGE");
  };
  if (values.port !== undefined && !values.serve) refuse("--port goes with --serve: dashboard.ts --serve --port P.");
  if (values.serve) {
    if (values.format !== undefined) {
      refuse(`--serve shows the page in a browser; --format ${values.format} is for stdout. Drop one of them.`);
    }
    if (values.watch) refuse("--serve already updates the page live; drop --watch.");
    if (values.output !== undefined) refuse("--serve writes no file; drop --output.");
  }
  const format = values.json ? "json" : values.format;
  if (format && EXPORT_FORMATS.includes(format) && values.output !== undefined) {
    refuse(
      `--output names the markdown dashboard, not the ${format} export; redirect stdout instead: dashboard.ts --format ${format} > results.${format}.`,
    );
  }
}

/** --serve: the live page until Ctrl-C or SIGTERM. */
async function serve(values: ParsedArgs<typeof SPEC.options>["values"]): Promise<number> {
  const [
    { DEFAULT_SERVE_PORT, startDashboardServer },
    { resolveDashboardTarget },
    { displayPath },
    { waitForInterrupt },
  ] = await Promise.all([
    import("./lib/dashboard/serve.ts"),
    import("./lib/dashboard/target.ts"),
    import("./lib/files/paths.ts"),
    import("./lib/files/watch.ts"),
  ]);
  const cwd = process.cwd();
  const target = resolveDashboardTarget({
    cwd,
    experiment: values.experiment,
    journal: values.journal,
    round: values.round,
    requireJournal: false,
  });
  // Unless a round or a journal was named, the page follows the experiment to its next round.
  const pinned = values.round !== undefined || values.journal !== undefined;
  const server = await startDashboardServer({
    target,
    retarget: pinned || !target.experimentPath
      ? undefined
      : () => resolveDashboardTarget({ cwd, experiment: values.experiment, requireJournal: false }),
    port: values.port ?? DEFAULT_SERVE_PORT,
    last: typeof values.last === "number" && values.last > 0 ? values.last : null,
    cwd,
    onProblem: warn,
  });
  const journal = displayPath(target.journalPath, cwd);
  if (values.json) printJson({ url: server.url, port: server.port, journal });
  else printData(server.url);
  note(`Serving the dashboard of ${journal} at ${server.url} (this machine only); Ctrl-C to stop.`);
  if (!existsSync(target.journalPath)) note(`No journal at ${journal} yet: the page fills in once it is written.`);
  await waitForInterrupt();
  await server.close();
  return EXIT.INTERRUPTED;
}

function dashboardFiles(target: DashboardTarget) {
  return {
    journalPath: target.journalPath,
    dashboardPath: target.dashboardPath,
    chartPath: target.chartPath,
    reportPath: target.reportPath,
    experiment: target.experiment,
    round: target.round,
  };
}

runIfMain(import.meta, main);
