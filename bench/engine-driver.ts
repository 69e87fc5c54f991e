// Drives the real decision engine through one candidate as the harness's step does: ask, run what
// it asks (the incumbent, the candidate or both), until it keeps, discards or fails the guard. The
// bench scenarios share it; promoting or discarding the candidate afterwards is theirs to do.

import {
  type CandidateRequest,
  decideCandidate,
  type DecisionState,
  type Verdict,
} from "../scripts/lib/decision/decide.ts";
import type { DecisionOptions, Run } from "../scripts/lib/decision/options.ts";

/** Requests for runs one candidate may make before the bench calls the engine stuck. */
const MAX_REQUESTS = 200;

export interface Settled {
  verdict: Verdict;
  /** The state with every run made, before the caller promotes or discards the candidate. */
  state: DecisionState;
  /** The incumbent runs made while deciding this candidate, in order. */
  incumbentRuns: Run[];
}

export function settleCandidate(
  start: DecisionState,
  options: Partial<DecisionOptions>,
  run: { incumbent: () => Run; candidate: () => Run },
  request: CandidateRequest = {},
): Settled {
  let state = start;
  const incumbentRuns: Run[] = [];
  for (let requests = 0; requests < MAX_REQUESTS; requests++) {
    const verdict = decideCandidate(state, options, request);
    if (verdict.action === "keep" || verdict.action === "discard" || verdict.action === "guard_fail") {
      return { verdict, state, incumbentRuns };
    }
    if (verdict.action === "run_incumbent" || verdict.action === "run_both") {
      const made = run.incumbent();
      incumbentRuns.push(made);
      state = { ...state, incumbentRuns: [...state.incumbentRuns, made] };
    }
    if (verdict.action === "run_candidate" || verdict.action === "run_both") {
      state = { ...state, candidateRuns: [...state.candidateRuns, run.candidate()] };
    }
  }
  throw new Error(`The decision did not settle after ${MAX_REQUESTS} requests for runs.`);
}
