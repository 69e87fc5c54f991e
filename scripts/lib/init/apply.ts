// init's second half: write what plan.ts planned through planned-writes.ts (replaced
// artifacts backed up first, files an earlier init wrote and this one no longer uses moved
// into that backup), append the git exclude rules, run the generated eval's --bootstrap for
// --cases-from, and describe the result for stdout (a file list, or one JSON object) and
// for the person (the next steps). It validates nothing: a plan is already valid.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { saveExperiment } from "../experiment/experiment-file.ts";
import type { Experiment } from "../experiment/schema.ts";
import { CACHE_DIR, STATE_DIR } from "../experiment/artifacts.ts";
import { displayPath, readOptional } from "../files/paths.ts";
import { writeFileAtomic } from "../files/atomic.ts";
import { backUpReplaced, describeWritten, writePlanned } from "../files/planned-writes.ts";
import type { InitPlan } from "./plan.ts";
import { writeJournalHeader } from "../experiment/journal.ts";
import { currentRuntime } from "../cli/kit.ts";
import { shellQuote } from "../text/shell-quote.ts";

/** How long --cases-from may spend running the current code to fill expected outputs. */
const BOOTSTRAP_TIMEOUT_MS = 15 * 60 * 1000;
const EXCLUDE_HEADER = "# autoresearch-kit: harness state and caches, never committed (added by init)";
/** Journals, dashboards, the progress chart, the final reports, harness state and the eval cache. */
export const EXCLUDE_PATTERNS = [
  "autoresearch*.jsonl",
  "autoresearch_dashboard*.md",
  "autoresearch_progress*.svg",
  "autoresearch_report*.md",
  `${STATE_DIR}/`,
  `${CACHE_DIR}/`,
];

export type InitResult = {
  plan: InitPlan;
  written: string[];
  excludeAdded: string[];
  backupDir: string | null;
  /** Files an earlier init wrote that this experiment no longer uses, moved into backupDir. */
  moved: string[];
  bootstrap: { ok: boolean; message: string } | null;
};

/** Write everything the plan holds; replaced artifacts are backed up first under .autoresearch/backups/. */
export function applyInitPlan(plan: InitPlan): InitResult {
  const artifacts = plan.experiment.rounds[0].artifacts;
  // A dashboard or report from a replaced experiment would describe the wrong run: it moves into the backup.
  const stale = [artifacts.dashboard, artifacts.report].map((path) => resolve(plan.root, path)).filter((path) =>
    plan.replaced.includes(path)
  );
  const backupDir = backUpReplaced({
    stateDir: join(plan.root, STATE_DIR),
    label: "init",
    home: plan.root,
    // Copied like the replaced files, then taken out of the work tree: together, a move.
    replaced: [...plan.replaced, ...plan.obsolete],
    stale,
  });
  const moved = backupDir ? plan.obsolete.filter((path) => existsSync(path)) : [];
  for (const path of moved) unlinkSync(path);
  const written = [...writePlanned(plan.files), ...writePlanned(plan.holdoutWrites)];
  writeJournalHeader(resolve(plan.root, artifacts.journal), plan.journalHeader);
  written.push(resolve(plan.root, artifacts.journal));
  saveExperimentFresh(plan.experimentPath, plan.experiment, plan.replaced.includes(plan.experimentPath));
  written.push(plan.experimentPath);
  const excludeAdded = appendExcludeRules(plan.excludePath);
  return { plan, written, excludeAdded, backupDir, moved, bootstrap: null };
}

/** A replaced experiment file starts over: no comments or fields from the old one survive (the backup has it). */
function saveExperimentFresh(path: string, experiment: Experiment, replacing: boolean): void {
  if (replacing && existsSync(path)) unlinkSync(path);
  saveExperiment(path, experiment);
}

/** Append the exclude rules git does not have yet; idempotent, and never edits .gitignore. */
export function appendExcludeRules(excludePath: string): string[] {
  const current = readOptional(excludePath) ?? "";
  const present = new Set(current.split("\n").map((line) => line.trim()));
  const missing = EXCLUDE_PATTERNS.filter((pattern) => !present.has(pattern));
  if (missing.length === 0) return [];
  const block = [present.has(EXCLUDE_HEADER) ? null : EXCLUDE_HEADER, ...missing].filter((line): line is string =>
    line !== null
  );
  const separator = current === "" || current.endsWith("\n") ? "" : "\n";
  mkdirSync(dirname(excludePath), { recursive: true });
  writeFileAtomic(excludePath, `${current}${separator}${block.join("\n")}\n`);
  return missing;
}

// ---- bootstrap ----------------------------------------------------------------------------------

/** Run the generated eval's --bootstrap to fill expected outputs from the current code. */
export function runBootstrap(plan: InitPlan): { ok: boolean; message: string } {
  if (!plan.bootstrapCommand) return { ok: true, message: "" };
  // A Bun or Deno eval runs under the runtime running init, which need not be on PATH.
  const runtime = currentRuntime();
  const command = plan.bootstrapCommand.startsWith(`${runtime} `) && runtime !== "node"
    ? `${shellQuote(process.execPath)}${plan.bootstrapCommand.slice(runtime.length)}`
    : plan.bootstrapCommand;
  const run = spawnSync("bash", ["-c", command], { cwd: plan.root, encoding: "utf8", timeout: BOOTSTRAP_TIMEOUT_MS });
  const output = `${run.stderr ?? ""}${run.stdout ?? ""}`.trim();
  if (run.error || run.status !== 0) {
    const reason = run.error ? run.error.message : output.split("\n").slice(-3).join(" ") || `exit code ${run.status}`;
    return { ok: false, message: reason };
  }
  return { ok: true, message: output.split("\n").pop() ?? "" };
}

// ---- describing the result ----------------------------------------------------------------------

/** stdout's file list: one written path per line (relative to `cwd` when shorter), with its role. */
export function describeWrittenFiles(result: InitResult, cwd: string): string {
  const roles = new Map(result.plan.files.map((file) => [file.path, file.role]));
  for (const file of result.plan.holdoutWrites) roles.set(file.path, file.role);
  roles.set(result.plan.experimentPath, "experiment file");
  roles.set(resolve(result.plan.root, result.plan.experiment.rounds[0].artifacts.journal), "journal header");
  return describeWritten(result.written, roles, cwd);
}

/** The --json object: everything a program needs to continue from init. */
export function initResultJson(result: InitResult, cwd: string): Record<string, unknown> {
  const { plan } = result;
  const shown = (path: string) => displayPath(path, cwd);
  const round = plan.experiment.rounds[0];
  return {
    ok: !result.bootstrap || result.bootstrap.ok,
    experiment: shown(plan.experimentPath),
    written: result.written.map(shown),
    replaced: plan.replaced.map(shown),
    backup: result.backupDir ? shown(result.backupDir) : null,
    moved_to_backup: result.moved.map(shown),
    git_exclude_added: result.excludeAdded,
    language: plan.experiment.language,
    project: plan.project.kind,
    entry: plan.experiment.entry ? plan.analysis.entry : null,
    levers: plan.analysis.levers,
    metric: plan.experiment.metric,
    guard: plan.experiment.guard,
    eval_command: round.eval.command,
    eval_script: round.eval.script,
    test_data: plan.experiment.test_data,
    holdout: plan.experiment.holdout,
    bootstrap: result.bootstrap,
    notes: plan.notes,
    warnings: plan.warnings,
    next: plan.nextCommand,
  };
}

/** What the person does next (stderr), or how to recover when bootstrapping failed. */
export function describeNextSteps(result: InitResult, cwd: string): string {
  const { plan } = result;
  const fromRoot = (path: string) => displayPath(resolve(plan.root, path), cwd);
  const backup = describeBackup(result, cwd);
  if (result.bootstrap && !result.bootstrap.ok) {
    const where = plan.root === cwd ? "" : `cd ${shellQuote(displayPath(plan.root, cwd))} && `;
    return `${backup}Could not fill expected outputs from the current code: ${result.bootstrap.message}\nFix that, then run: ${where}${plan.bootstrapCommand}`;
  }
  const steps: string[] = [];
  const testData = plan.experiment.test_data;
  if (testData && plan.files.some((file) => file.role === "test data")) {
    steps.push(
      plan.bootstrapCommand
        ? `Review the expected outputs in ${
          fromRoot(testData)
        } (copied from the current code) and correct the wrong ones.`
        : `Fill in the test data: ${fromRoot(testData)} (replace every "TODO:" value; baseline refuses placeholders)${
          plan.dataFiles.length ? `; data files that may help: ${plan.dataFiles.join(", ")}` : ""
        }.`,
    );
  }
  steps.push(
    `Review ${
      fromRoot(plan.experiment.rounds[0].artifacts.instructions)
    } (levers, frozen files, strategy) and the eval.`,
  );
  steps.push(`Commit the constrained file if it has uncommitted changes, then run: ${plan.nextCommand}`);
  return `${backup}${["Next:", ...steps.map((step, index) => `  ${index + 1}. ${step}`)].join("\n")}`;
}

/** Where --force put what it replaced, and the earlier files it moved there: a line each, or "" when nothing. */
function describeBackup(result: InitResult, cwd: string): string {
  if (!result.backupDir) return "";
  const folder = displayPath(result.backupDir, cwd);
  const shown = (paths: string[]) => paths.map((path) => `"${displayPath(path, cwd)}"`).join(", ");
  const { replaced } = result.plan;
  const lines: string[] = [];
  if (replaced.length) lines.push(`Replaced ${shown(replaced)}; the earlier versions are in ${folder}.`);
  if (result.moved.length) {
    const them = result.moved.length === 1 ? "it" : "them";
    lines.push(
      `Moved ${
        shown(result.moved)
      } into ${folder}: this experiment no longer uses ${them} (if you had committed ${them}, commit the removal).`,
    );
  }
  return lines.length ? `${lines.join("\n")}\n` : "";
}
