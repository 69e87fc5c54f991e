// What loop mode checks around an agent call, so that only what changed during the call is
// judged as the agent's: before it, that nobody moved HEAD or edited the constrained or frozen
// files; after it, that the branch is where the next step can build on it; on a restart,
// whether an earlier run's call is still to be evaluated. It neither runs the agent nor steps.
import { CliError, EXIT } from "../cli/errors.ts";
import type { LoadedExperiment } from "../experiment/experiment-file.ts";
import type { Round } from "../experiment/schema.ts";
import { resolveIn } from "../files/paths.ts";
import {
  commitSubjectsBetween,
  fileDiffersFromCommit,
  headCommit,
  isAncestor,
  pathsDifferFromCommit,
} from "../git/git.ts";
import { archiveRef, putBranchBack } from "./pending-step.ts";
import { readJournal } from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { requireFrozenFilesIntact } from "../integrity/measurement-guard.ts";
import { requireIterableRound } from "./step.ts";
import { resolveIncumbent } from "./incumbent.ts";
import { type AgentCall, clearAgentCall, readAgentCall } from "./agent-call.ts";
import { replayDecisionState } from "../decision/state.ts";
import { requireExperimentBranch } from "../git/preconditions.ts";
import { compareWithSnapshot, readSnapshot, scopeIgnores, snapshotPath } from "../git/snapshot.ts";

/**
 * The agent call an earlier run started and did not record, if it is this iteration's and
 * changed something; one already in the journal, or killed before it changed anything
 * (nothing to judge: the agent is simply called again), is cleared.
 */
export async function unfinishedAgentCall(
  loaded: LoadedExperiment,
  round: Round,
  stateDir: string,
  iteration: number,
  notes: (message: string) => void,
): Promise<AgentCall | null> {
  const call = readAgentCall(stateDir);
  if (!call) return null;
  if (call.round !== round.round || call.iteration < iteration) {
    clearAgentCall(stateDir); // its iteration is already in the journal
    return null;
  }
  if (await changedNothingSince(loaded, round, call)) {
    notes(
      `The agent call for iteration ${call.iteration} was interrupted before it changed the file; calling the agent again.`,
    );
    clearAgentCall(stateDir);
    return null;
  }
  return call;
}

/**
 * An agent that switched branches or detached HEAD stops the loop here, before anything is
 * committed; one that moved the branch off its start (amend, reset, rebase) has it put back.
 */
export async function keepBranchOnTrack(
  loaded: LoadedExperiment,
  round: Round,
  stateDir: string,
  call: AgentCall,
  notes: (message: string) => void,
): Promise<void> {
  await requireExperimentBranch(loaded.root, loaded.experiment);
  const agentHead = headCommit(loaded.root)!;
  if (agentHead === call.head || isAncestor(loaded.root, call.head, agentHead)) return;
  const archive = archiveRef(round.round, call.iteration);
  await putBranchBack(loaded.root, stateDir, { to: call.head, from: agentHead, archive });
  notes(
    `The agent moved the branch off ${
      call.head.slice(0, 7)
    } (an amend, reset or rebase); it was put back, and where the agent left it is kept under ${archive}.`,
  );
}

/** True when the work tree, the constrained files and HEAD are all as they were before the call. */
async function changedNothingSince(loaded: LoadedExperiment, round: Round, call: AgentCall): Promise<boolean> {
  const { root } = loaded;
  if (headCommit(root) !== call.head) return false;
  if (pathsDifferFromCommit(root, call.head, round.constrained_files)) return false;
  const scope = await compareWithSnapshot(root, call.snapshot, scopeIgnores(loaded, round));
  return scope.changed.length === 0 && scope.newUntracked.length === 0;
}

/**
 * Between two agent calls only the harness and the user touch the work tree. A user's
 * commit, or edit of the constrained or frozen files, is not the agent's and cannot be
 * judged or reverted as such: stop and say how to go on. Other edits are left alone.
 */
export async function requireNothingChangedBetweenSteps(
  loaded: LoadedExperiment,
  roundNumber: number,
  stateDir: string,
  notes: (message: string) => void,
): Promise<void> {
  const { root, experiment } = loaded;
  const round = requireIterableRound(loaded, roundNumber);
  requireFrozenFilesIntact(loaded, round);
  const journal = readJournal(resolveIn(root, round.artifacts.journal));
  const incumbent = await resolveIncumbent(
    root,
    replayDecisionState(journal, experiment).incumbentLine?.commit ?? null,
    round.baseline.commit,
  );
  const head = headCommit(root)!;
  if (head !== incumbent) {
    const subjects = commitSubjectsBetween(root, incumbent, head);
    throw new CliError(
      `HEAD moved past the incumbent ${incumbent.slice(0, 7)} outside an agent call (${
        subjects.length ? subjects.slice(0, 2).join("; ") : `now at ${head.slice(0, 7)}`
      }); the loop does not rewrite commits it did not see the agent make. To build on them, re-baseline: ${
        kitCommand("baseline")
      } --force; or move them off this branch, then restart the loop.`,
      "E_FOREIGN_COMMITS",
      EXIT.FAILED,
    );
  }
  for (const file of round.constrained_files) {
    if (await fileDiffersFromCommit(root, incumbent, file)) {
      throw new CliError(
        `"${file}" differs from the incumbent ${
          incumbent.slice(0, 7)
        } before the agent was called, so the change is not the agent's. Evaluate it yourself (${
          kitCommand("iterate")
        } -m "what changed"), or put it back (git checkout -- "${file}"), then restart the loop.`,
        "E_NOT_AGENTS_CHANGE",
        EXIT.FAILED,
      );
    }
  }
  const previous = readSnapshot(snapshotPath(stateDir, round.round));
  if (!previous) return;
  const scope = await compareWithSnapshot(root, previous, scopeIgnores(loaded, round));
  if (scope.changed.length) {
    notes(
      `note: ${scope.changed.slice(0, 3).join(", ")}${
        scope.changed.length > 3 ? ", …" : ""
      } changed since the last iteration, outside an agent call: left alone and kept out of the candidate.`,
    );
  }
}
