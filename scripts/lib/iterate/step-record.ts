// Recording a decided step: the rejected candidate's patch archived, its journal line and
// commit message built, the pending step written ahead and completed (commit or restore,
// append the line), then the snapshot saved and the dashboard re-rendered. It decides
// nothing; how a pending step is completed after a kill is pending-step.ts's.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import type { EvalRun } from "../process/evaluator.ts";
import type { Verdict } from "../decision/decide.ts";
import type { Run } from "../decision/options.ts";
import type { Round } from "../experiment/schema.ts";
import type { LoadedExperiment } from "../experiment/experiment-file.ts";
import { sha256OrDeleted } from "../files/atomic.ts";
import { binaryDiff } from "../git/git.ts";
import type { ResultLine } from "../experiment/journal.ts";
import { completePending, type PendingStep, storeBytesAsBlobs, writePending } from "./pending-step.ts";
import { clearMeasuredRuns } from "./measured-runs.ts";
import { diffSinceSnapshot, saveSnapshot, type Snapshot, takeSnapshot } from "../git/snapshot.ts";
import { mean } from "../decision/stats.ts";
import { journalTimestamp } from "../text/timestamp.ts";
import {
  cleanNumber,
  deltaBetween,
  formatMetric,
  formatScore,
  measureStyle,
  roundMeasure,
} from "../text/number-format.ts";
import { refreshDashboardQuietly } from "./dashboard-refresh.ts";
import type { EvaluatedStep, Outcome, StepContext, StepResult } from "./step-context.ts";
import type { Attribution } from "./attribution.ts";
import { simplificationNote } from "./file-size.ts";
import { holdoutLineFields } from "../harness/holdout-set.ts";

/**
 * Record the outcome: write the pending step ahead (it carries the journal line and the
 * measured runs, which are cleared only then), complete it (commit or restore, append the
 * line), then save the snapshot the next step judges against and re-render the dashboard.
 */
export function recordStep(context: StepContext, step: EvaluatedStep): StepResult {
  const { loaded, round, stateDir, options } = context;
  const { line, incumbentMean } = journalLineFor(context, step);
  const pending = pendingStepFor(context, step, { line, incumbentMean });
  writePending(stateDir, pending, step.journal.seal);
  clearMeasuredRuns(stateDir); // the decision is written ahead; its runs are in the pending line
  const completion = completePending(loaded.root, stateDir, pending);
  for (const message of completion.notes) options.notes(message);
  saveSnapshot(step.scope.snapshotFile, takeSnapshot(loaded.root, step.scope.ignore));
  const dashboard = refreshDashboardQuietly(loaded, round, options);
  const { simplification } = step.outcome;
  const sizeNote = simplification ? simplificationNote(simplification, step.outcome.verdict?.rule ?? null) : null;
  return { line: completion.line, verdict: step.outcome.verdict, incumbentMean, dashboard, sizeNote };
}

/** Archive a rejected candidate's patch, then build the step's journal line. */
function journalLineFor(context: StepContext, step: EvaluatedStep): { line: ResultLine; incumbentMean: number | null } {
  const { loaded, round, stateDir, options } = context;
  const { root } = loaded;
  const { journal, scope, candidate, outcome } = step;
  // Only a rejected candidate needs its diff archived; it is still in the work tree here
  // (files are restored by completePending), and a keep's diff is its commit.
  const patch = outcome.status === "keep" ? null : archivePatch(
    root,
    stateDir,
    candidate.patchFile,
    step.incumbent.commit,
    round.constrained_files,
    scope.snapshot,
    scope.outOfScope,
  );
  const incumbentMean = mean([...journal.replay.state.incumbentRuns, ...outcome.incumbentRuns].map((run) => run.score));
  const line = buildLine({
    root,
    experiment: loaded.experiment,
    round,
    iteration: candidate.iteration,
    outcome,
    incumbentMean,
    incumbent: step.incumbent.short,
    description: options.description,
    patch: patch === null ? null : relative(root, patch),
    changedFiles: [
      ...candidate.changedFiles,
      ...scope.outOfScope,
      ...(journal.measurementChanges.length ? [scope.experimentRelative] : []),
    ],
    durationS: (performance.now() - step.started) / 1000,
    extra: options.extra,
    agentCommits: step.agentCommits,
    attribution: step.attribution,
    changeHash: step.changeHash,
  });
  return { line, incumbentMean };
}

/** The write-ahead record of how to complete the step: commit the candidate's bytes, or restore the files. */
function pendingStepFor(
  context: StepContext,
  step: EvaluatedStep,
  recorded: { line: ResultLine; incumbentMean: number | null },
): PendingStep {
  const { loaded, round, options } = context;
  const { scope, candidate, outcome } = step;
  const restoreHashes: Record<string, string> = {};
  for (const path of scope.outOfScope) restoreHashes[path] = sha256OrDeleted(join(loaded.root, path));
  return {
    round: round.round,
    iteration: candidate.iteration,
    action: outcome.status === "keep" ? "commit" : "revert",
    files: round.constrained_files,
    incumbent: step.incumbent.commit,
    headBefore: step.head,
    candidateHashes: candidate.hashes,
    candidateBlobs: outcome.status === "keep" ? storeBytesAsBlobs(loaded.root, candidate.bytes) : undefined,
    message: commitMessage(
      options.description,
      recorded.incumbentMean,
      outcome,
      loaded.experiment.guard?.metric ?? null,
    ),
    restorePaths: scope.outOfScope,
    restoreHashes,
    snapshot: scope.snapshot,
    journal: step.journal.journalPath,
    line: recorded.line,
  };
}
export function patchPath(stateDir: string, round: number, iteration: number): string {
  return join(stateDir, "patches", `round${round}`, `iteration${iteration}.patch`);
}

/**
 * The rejected candidate as one patch: the constrained files against the incumbent, then
 * any out-of-scope edits against the version they are restored to (so `git apply
 * --include=PATH` puts exactly those back).
 */
function archivePatch(
  root: string,
  stateDir: string,
  path: string,
  incumbent: string,
  files: string[],
  snapshot: Snapshot,
  outOfScope: string[],
): string {
  mkdirSync(dirname(path), { recursive: true });
  const constrained = binaryDiff(root, incumbent, files);
  const outside = diffSinceSnapshot(root, snapshot, outOfScope, join(stateDir, `patch-index-${process.pid}`));
  writeFileSync(path, [constrained, outside].filter(Boolean).join("\n") + "\n");
  return path;
}

function averageMetrics(runs: EvalRun[]): Record<string, number> {
  const metrics: Record<string, number> = {};
  const names = new Set(runs.flatMap((run) => Object.keys(run.metrics)));
  for (const name of names) {
    const value = mean(runs.map((run) => run.metrics[name]).filter((v): v is number => v !== undefined));
    const rounded = roundMeasure(value);
    if (rounded !== null) metrics[name] = rounded;
  }
  return metrics;
}

/** A measured run's score without binary noise; a run always has a finite score, kept as is otherwise. */
function cleanRun(score: number): number {
  return cleanNumber(score) ?? score;
}

function cleanInterval(interval: [number, number] | null): [number, number] | null {
  if (!interval) return null;
  const [low, high] = [cleanNumber(interval[0]), cleanNumber(interval[1])];
  return low === null || high === null ? null : [low, high];
}

type LineInput = {
  root: string;
  experiment: LoadedExperiment["experiment"];
  round: Round;
  iteration: number;
  outcome: Outcome;
  incumbentMean: number | null;
  incumbent: string;
  description: string;
  patch: string | null;
  changedFiles: string[];
  durationS: number;
  extra?: Record<string, unknown>;
  agentCommits: string[];
  attribution: Attribution | null;
  changeHash: string | null;
};

function buildLine(input: LineInput): ResultLine {
  const { outcome } = input;
  const scores = outcome.candidate.map((entry) => entry.run.score);
  // One rounding per quantity: the score and the guard are the rounded means, the delta the rounded
  // difference of the unrounded means (as the decision's reason states it), raw runs lose only binary noise.
  const candidateMean = outcome.status === "crash" ? null : mean(scores);
  const score = roundMeasure(candidateMean);
  const style = measureStyle([...scores, ...outcome.incumbentRuns.map((run) => run.score)]);
  const guardValues = outcome.candidate.map((entry) => entry.run.guard ?? null);
  const guardKnown = guardValues.filter((value): value is number => value !== null);
  const verdict = outcome.verdict;
  const hasCases = outcome.candidate.some((entry) => entry.run.cases);
  const candidateRuns = outcome.candidate.map((entry) => entry.run);
  return {
    type: "result",
    iteration: input.iteration,
    commit: null,
    score,
    delta: deltaBetween(candidateMean, input.incumbentMean, style),
    guard_score: input.experiment.guard && guardKnown.length ? roundMeasure(mean(guardKnown)) : null,
    guard_pass: input.experiment.guard && outcome.status !== "crash" && guardKnown.length
      ? (verdict?.guardPass ?? null)
      : null,
    status: outcome.status,
    description: input.description,
    timestamp: journalTimestamp(),
    reason: outcome.reason,
    runs: scores.map(cleanRun),
    guard_runs: guardValues.map(cleanNumber),
    ...(hasCases ? { case_runs: outcome.candidate.map((entry) => entry.run.cases ?? null) } : {}),
    incumbent_runs: outcome.incumbentRuns.map((run) => cleanRun(run.score)),
    incumbent_guard_runs: outcome.incumbentRuns.map((run) => cleanNumber(run.guard)),
    ...(outcome.incumbentRuns.some((run) => run.cases)
      ? { incumbent_case_runs: outcome.incumbentRuns.map((run) => run.cases ?? null) }
      : {}),
    ...tiebreakRunFields(candidateRuns, outcome.incumbentRuns),
    incumbent_commit: input.incumbent,
    metrics: averageMetrics(outcome.candidate.map((entry) => entry.eval)),
    verdict: verdict
      ? {
        mode: verdict.mode,
        statistic: cleanNumber(verdict.statistic),
        threshold: cleanNumber(verdict.threshold),
        df: cleanNumber(verdict.df),
        sigma: cleanNumber(verdict.sigma),
        gain: cleanNumber(verdict.estimatedGain),
        ci: cleanInterval(verdict.confidenceInterval),
        min_detectable_effect: cleanNumber(verdict.minDetectableEffect),
        ...ruleFields(verdict),
      }
      : null,
    cases: verdict && (verdict.casesFixed || verdict.casesBroken)
      ? { fixed: verdict.casesFixed ?? [], broken: verdict.casesBroken ?? [] }
      : null,
    duration_s: Math.round(input.durationS * 1000) / 1000,
    eval_seconds: evalSeconds(outcome),
    ...(outcome.runnerRetries ? { runner_retries: outcome.runnerRetries } : {}),
    patch: input.patch,
    changed_files: input.changedFiles,
    log: outcome.crash?.logPath ? relative(input.root, outcome.crash.logPath) : null,
    output_tail: outcome.crash ? outcome.crash.tail.split("\n").slice(-10).join("\n") : null,
    attribution: input.attribution,
    change_hash: input.changeHash,
    ...(outcome.simplification ? { simplification: outcome.simplification } : {}),
    ...(outcome.holdout ? holdoutLineFields(outcome.holdout) : {}),
    ...(input.agentCommits.length ? { agent_commits: input.agentCommits.map((commit) => commit.slice(0, 7)) } : {}),
    ...input.extra,
  };
}

/** The candidate's eval runs' time (a crash's run included); the incumbent's re-runs keep no duration. */
function evalSeconds(outcome: Outcome): number {
  const runs = outcome.candidate.map((entry) => entry.eval.durationMs);
  if (outcome.crash && !outcome.candidate.some((entry) => entry.eval === outcome.crash)) {
    runs.push(outcome.crash.durationMs);
  }
  return Math.round(runs.reduce((total, ms) => total + ms, 0)) / 1000;
}

/**
 * Each run's tiebreak values, aligned with `runs` and `incumbent_runs`; left out when no run
 * carries any (the experiment names no tiebreak metric).
 */
function tiebreakRunFields(candidate: Run[], incumbent: Run[]): Record<string, unknown> {
  if (![...candidate, ...incumbent].some((run) => run.tiebreaks)) return {};
  const values = (run: Run) => (run.tiebreaks ? cleanValues(run.tiebreaks) : null);
  return { tiebreak_runs: candidate.map(values), incumbent_tiebreak_runs: incumbent.map(values) };
}

function cleanValues(values: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, cleanNumber(value) ?? value]));
}

/**
 * Which test made a keep and the figures of the tie, tiebreak and guard tests, for the line's
 * `verdict` (lines written before them have none, and read the same).
 */
function ruleFields(verdict: Verdict): Record<string, unknown> {
  const { tiebreak } = verdict;
  return {
    rule: verdict.rule,
    tie_margin: cleanNumber(verdict.tieMargin),
    tie_statistic: cleanNumber(verdict.tieStatistic),
    tiebreak: tiebreak && {
      metric: tiebreak.metric,
      direction: tiebreak.direction,
      gain: cleanNumber(tiebreak.gain),
      statistic: cleanNumber(tiebreak.statistic),
      threshold: cleanNumber(tiebreak.threshold),
    },
    guard_threshold: cleanNumber(verdict.guardThreshold),
    guard_statistic: cleanNumber(verdict.guardStatistic),
  };
}

/** The seed's message: `autoresearch: <description> | score: 0.6930 -> 0.7050 | mrr: 0.9500`. */
function commitMessage(
  description: string,
  incumbentMean: number | null,
  outcome: Outcome,
  guardMetric: string | null,
): string {
  const candidateScores = outcome.candidate.map((entry) => entry.run.score);
  const style = measureStyle([...candidateScores, ...outcome.incumbentRuns.map((run) => run.score)]);
  const from = incumbentMean === null ? "?" : formatScore(incumbentMean, style);
  const candidateMean = mean(candidateScores);
  const to = candidateMean === null ? "?" : formatScore(candidateMean, style);
  const parts = [`autoresearch: ${description}`, `score: ${from} -> ${to}`];
  const metrics = averageMetrics(outcome.candidate.map((entry) => entry.eval));
  const keyMetrics = guardMetric && guardMetric.toLowerCase() in metrics
    ? [guardMetric.toLowerCase()]
    : Object.keys(metrics).filter((name) => name !== "score").slice(0, 2);
  for (const name of keyMetrics) parts.push(`${name}: ${formatMetric(metrics[name])}`);
  return parts.join(" | ");
}
