// The step's scope phases: what changed outside the constrained files since the snapshot
// the step judges against (uncommitted or in the agent's commits), new untracked files set
// aside or noted, and why such a step is discarded unmeasured. They find and explain; the
// restore itself happens when the pending step completes.
import { normalize, relative } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { kitCommand } from "../cli/kit.ts";
import { displayPath } from "../files/paths.ts";
import { pathsChangedBetween, repositoryPrefix, type RepositoryStatus, repositoryTop } from "../git/git.ts";
import { requireFrozenFilesIntact } from "../integrity/measurement-guard.ts";
import {
  canChangeWhatRuns,
  compareWithSnapshot,
  differAtCommit,
  harnessOrConstrained,
  readSnapshot,
  type Snapshot,
  snapshotPath,
  takeSnapshot,
} from "../git/snapshot.ts";
import { agentFilesFolder, moveAgentFilesAside } from "./agent-call.ts";
import type { HeadState, ScopeState, StepContext, StepOptions } from "./step-context.ts";

/**
 * Compare the work tree and the commits on the incumbent with the snapshot the step judges
 * against: step mode refuses commits beyond the constrained files; other edits outside them
 * are out of scope, and new untracked files are moved aside (loop mode) or noted.
 */
export function checkScope(
  context: StepContext,
  input: HeadState & { incumbent: string; status: RepositoryStatus; iteration: number },
): ScopeState {
  const { loaded, round, stateDir, options } = context;
  const { root, experiment } = loaded;
  const { incumbent, head, agentCommits, status } = input;
  const experimentRelative = relative(root, loaded.path);
  const ignore = harnessOrConstrained(experiment, round, experimentRelative);
  const snapshotFile = snapshotPath(stateDir, round.round);
  const snapshot: Snapshot = options.agentScope?.snapshot ?? readSnapshot(snapshotFile) ??
    takeSnapshot(root, ignore, status);
  const committedPaths = agentCommits.length ? pathsChangedBetween(root, incumbent, head) : [];
  const committedBeyondFile = committedPaths.filter((path) => !round.constrained_files.includes(path));
  if (committedBeyondFile.length && !options.agentScope) {
    // Step mode cannot tell an agent's commit from a person's: it never rewrites commits that reach beyond the file.
    throw new CliError(
      `HEAD moved ${agentCommits.length} commit${agentCommits.length > 1 ? "s" : ""} past the incumbent ${
        incumbent.slice(0, 7)
      }, touching files outside the constrained file (${committedBeyondFile.slice(0, 3).join(", ")}${
        committedBeyondFile.length > 3 ? ", …" : ""
      }); the harness does not rewrite commits it cannot prove the agent made. To build on them, re-baseline: ${
        kitCommand("baseline")
      } --force; otherwise move them off the branch yourself (git switch -c keep-mine, then git switch ${
        experiment.branch ?? "<experiment branch>"
      } && git reset --keep ${incumbent.slice(0, 7)})`,
      "E_FOREIGN_COMMITS",
      EXIT.FAILED,
    );
  }
  // Loop mode: the commits are the agent's. Harness files it swept in are not judged, and
  // an agent's `git commit -a` of the user's uncommitted work as it was before the call is
  // not the agent's change either (it stays uncommitted in the work tree, out of the keep).
  if (options.constrainedOnly) {
    return { ignore, snapshotFile, snapshot: takeSnapshot(root, ignore, status), experimentRelative, outOfScope: [] };
  }
  const committedOutOfScope = differAtCommit(root, snapshot, head, committedBeyondFile.filter((path) => !ignore(path)));
  const scope = compareWithSnapshot(root, snapshot, ignore, status);
  const outOfScope = [...new Set([...scope.changed, ...committedOutOfScope])];
  if (options.agentScope) requireFrozenFilesIntact(loaded, round, outOfScope);
  setAsideNewUntracked(context, scope.newUntracked, input.iteration);
  return { ignore, snapshotFile, snapshot, experimentRelative, outOfScope };
}

/**
 * New untracked files are never part of the candidate: moved aside in loop mode, noted in step
 * mode. In step mode the harness cannot tell who made them, so it moves nothing; but a new code
 * or configuration file would run with the eval (a conftest.py passing every test is a gamed
 * metric), so the step is refused, every file left as it is.
 */
function setAsideNewUntracked(context: StepContext, newUntracked: string[], iteration: number): void {
  const { loaded, round, stateDir, options } = context;
  if (newUntracked.length === 0) return;
  const risky = newUntracked.filter(canChangeWhatRuns);
  if (!options.agentScope && risky.length > 0) {
    throw new CliError(
      `${
        risky.length > 1 ? "New files git does not track" : "A new file git does not track"
      } since the last step could change what the eval runs: ${risky.slice(0, 5).join(", ")}${
        risky.length > 5 ? ", …" : ""
      }; not part of the candidate, so the step is not scored with ${risky.length > 1 ? "them" : "it"}. Move ${
        risky.length > 1 ? "them" : "it"
      } out of the repository (ignoring it in git does not count), then re-run ${
        kitCommand("iterate")
      } -m "..."; if you made ${risky.length > 1 ? "them" : "it"} on purpose, commit and re-baseline: ${
        kitCommand("baseline")
      } --force`,
      "E_NEW_CODE_FILES",
      EXIT.FAILED,
    );
  }
  if (options.agentScope) {
    // Files the agent created are not part of the candidate, and a keep must stand on a checkout
    // without them: they are moved aside (kept, never deleted) before anything is evaluated.
    const aside = agentFilesFolder(stateDir, round.round, iteration);
    moveAgentFilesAside(loaded.root, stateDir, aside, newUntracked);
    options.notes(
      `note: files the agent created (${newUntracked.slice(0, 5).join(", ")}${
        newUntracked.length > 5 ? ", …" : ""
      }) are not part of the candidate; they were moved to ${displayPath(aside)}.`,
    );
  } else {
    options.notes(
      `note: new untracked files (left alone, not part of the candidate): ${newUntracked.slice(0, 5).join(", ")}${
        newUntracked.length > 5 ? ", …" : ""
      }`,
    );
  }
}

/** Why the step is discarded unmeasured (edits outside the constrained files or to measurement fields), or null. */
export function scopeDiscardReason(
  context: StepContext,
  input: { outOfScope: string[]; measurementChanges: string[]; patchFile: string },
): string | null {
  const { loaded, round } = context;
  const { outOfScope, measurementChanges } = input;
  const reasons = [
    outOfScope.length
      ? `changed files outside the constrained file${round.constrained_files.length > 1 ? "s" : ""}: ${
        outOfScope.join(", ")
      } (restored; to re-apply them: ${reapplyCommand(loaded.root, input.patchFile, outOfScope)})`
      : null,
    measurementChanges.length
      ? `changed the experiment file's measurement fields (${
        measurementChanges.join(", ")
      }), which only baseline and next-round may change (restored)`
      : null,
  ].filter((reason): reason is string => reason !== null);
  return reasons.length ? reasons.join("; ") : null;
}
/** In loop mode a person's uncommitted edits outside the file stay in place; the eval sees them. */
export function noteUserChangesTheEvalSees(snapshot: Snapshot, options: StepOptions): void {
  const dirty = Object.keys(snapshot.dirty);
  if (dirty.length === 0) return;
  options.notes(
    `note: uncommitted changes made outside the agent's call (${dirty.slice(0, 3).join(", ")}${
      dirty.length > 3 ? ", …" : ""
    }) are left alone and are not part of the candidate, but the eval runs with them in the work tree.`,
  );
}
/** The command that re-applies only `paths` from an archived patch (git apply works from the repository's top). */
function reapplyCommand(root: string, patchFile: string, paths: string[]): string {
  const prefix = repositoryPrefix(root);
  const includes = paths.map((path) => `--include='${normalize(`${prefix}${path}`).replace(/'/g, "'\\''")}'`).join(" ");
  if (prefix === "") return `git apply ${includes} ${relative(root, patchFile)}`;
  return `git -C "${repositoryTop(root)}" apply ${includes} "${patchFile}"`;
}
