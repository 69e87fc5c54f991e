// Bridges the experiment file and the journal to the pure decision engine: the
// engine's options from the `decision:` block, and its state rebuilt by replaying
// the round's journal, so a restarted process continues the same decision.
import {
  type DecisionState,
  discardCandidate,
  initialDecisionState,
  type KeepRule,
  promoteCandidate,
} from "./decide.ts";
import { type DecisionSetup, resolveDecisionOptions, type Run } from "./options.ts";
import type { Experiment } from "../experiment/schema.ts";
import { roundGuard } from "../experiment/guard.ts";
import type { Journal, ResultLine } from "../experiment/journal.ts";

/** The engine's options for an experiment; a null resolution stays null, read from the scores when deciding. */
export function decisionOptionsFor(experiment: Experiment): DecisionSetup {
  const settings = experiment.decision;
  const options = resolveDecisionOptions({
    direction: experiment.metric.direction,
    falseKeepRate: settings.false_keep_rate,
    maxCandidateRuns: settings.max_runs,
    maxIncumbentRuns: settings.max_incumbent_runs,
    freshIncumbentRuns: settings.fresh_incumbent_runs,
    baselineRuns: settings.baseline_runs,
    minEffect: settings.min_effect,
    resolution: settings.resolution,
    simplifyMargin: settings.simplify_margin,
    maxTieRuns: settings.max_tie_runs,
    targetGain: settings.target_gain,
    noiseModel: settings.noise_model,
  });
  return { ...options, resolution: settings.resolution };
}

/** Zip a line's parallel run arrays back into engine runs. */
export function runsFromLine(scores: unknown, guards: unknown, cases: unknown, tiebreaks?: unknown): Run[] {
  if (!Array.isArray(scores)) return [];
  const guardList = Array.isArray(guards) ? guards : [];
  const caseList = Array.isArray(cases) ? cases : [];
  const tiebreakList = Array.isArray(tiebreaks) ? tiebreaks : [];
  const runs: Run[] = [];
  scores.forEach((score, index) => {
    if (typeof score !== "number" || !Number.isFinite(score)) return;
    const guard = guardList[index];
    const caseScores = caseList[index];
    const tiebreakValues = tiebreakList[index];
    runs.push({
      score,
      guard: typeof guard === "number" ? guard : null,
      ...(caseScores && typeof caseScores === "object" ? { cases: caseScores as Record<string, number> } : {}),
      ...(tiebreakValues && typeof tiebreakValues === "object"
        ? { tiebreaks: tiebreakValues as Record<string, number> }
        : {}),
    });
  });
  return runs;
}

/** Which test made a keep, as its line records it (lines written before tie routes: a gain). */
function keepRuleOf(line: ResultLine): KeepRule {
  const rule = line.verdict?.rule;
  return rule === "simplification" || rule === "tiebreak" ? rule : "gain";
}

export type ReplayedState = {
  state: DecisionState;
  /** The line that made the current incumbent (the last keep, else the baseline). */
  incumbentLine: ResultLine | null;
  nextIteration: number;
};

/**
 * Replay baseline and results: incumbent re-runs join the incumbent, a keep
 * promotes its candidate, anything else discards it. Lines without run data
 * (hand-written journals) only move the iteration counter and the incumbent.
 */
export function replayDecisionState(journal: Journal, experiment: Experiment): ReplayedState {
  const options = decisionOptionsFor(experiment);
  const guard = roundGuard(experiment, journal.config?.round); // a relative guard resolved against that round's baseline
  const baselineLine = journal.results.find((line) => line.status === "baseline") ?? null;
  const baselineRuns = baselineLine
    ? runsFromLine(baselineLine.runs, baselineLine.guard_runs, baselineLine.case_runs, baselineLine.tiebreak_runs)
    : [];
  let state = initialDecisionState(baselineRuns, guard, experiment.tiebreaks);
  let incumbentLine = baselineLine;
  let lastIteration = 0;
  for (const line of journal.results) {
    if (line.status === "baseline") continue;
    lastIteration = Math.max(lastIteration, line.iteration);
    const incumbentRuns = runsFromLine(
      line.incumbent_runs,
      line.incumbent_guard_runs,
      line.incumbent_case_runs,
      line.incumbent_tiebreak_runs,
    );
    state = {
      ...state,
      incumbentRuns: [...state.incumbentRuns, ...incumbentRuns],
      candidateRuns: runsFromLine(line.runs, line.guard_runs, line.case_runs, line.tiebreak_runs),
    };
    if (line.status === "keep") {
      state = promoteCandidate(state, options, keepRuleOf(line));
      incumbentLine = line;
    } else {
      state = discardCandidate(state, options);
    }
  }
  return { state, incumbentLine, nextIteration: lastIteration + 1 };
}
