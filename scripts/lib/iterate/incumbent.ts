// The incumbent commit a step judges against: resolved from the journal's last keep or the
// baseline, holding every constrained file, with HEAD descending from it (the commits in
// between are the agent's in loop mode). It reads git only; what those commits touch is
// the scope check's question, not this file's.
import { CliError, EXIT } from "../cli/errors.ts";
import { kitCommand } from "../cli/kit.ts";
import { displayPath } from "../files/paths.ts";
import {
  commitsBetween,
  fileAtCommit,
  isAncestor,
  type RepositoryStatus,
  resolveCommitWithShort,
  type ResolvedCommit,
} from "../git/git.ts";
import type { HeadState, JournalState, StepContext } from "./step-context.ts";

/** The incumbent commit; a constrained file it lacks could never be kept, so the step refuses. */
export function resolveIncumbentHoldingFiles(context: StepContext, journal: JournalState): ResolvedCommit {
  const { loaded, round } = context;
  // With measurement fields put back (the list of constrained files among them) the list in hand is stale;
  // the step is discarded.
  const mustExist = journal.measurementChanges.length ? [] : round.constrained_files;
  const resolved = resolveIncumbentWithShort(
    loaded.root,
    journal.replay.incumbentLine?.commit ?? null,
    round.baseline.commit,
    mustExist,
  );
  for (const file of mustExist) {
    if (resolved.blobs[file] === undefined && fileAtCommit(loaded.root, resolved.commit, file) === null) {
      throw new CliError(
        `The constrained file "${file}" is not in the incumbent commit ${
          resolved.commit.slice(0, 7)
        }, so an edit to it could never be kept. Fix constrained_files in "${
          displayPath(loaded.path)
        }", then re-baseline: ${kitCommand("baseline")} --force`,
        "E_NO_FILE",
        EXIT.USAGE,
      );
    }
  }
  return resolved;
}

/** HEAD must descend from the incumbent; the commits in between are the agent's in loop mode. */
export function requireHeadOnIncumbent(context: StepContext, incumbent: string, status: RepositoryStatus): HeadState {
  const { root, experiment } = context.loaded;
  const head = status.head!;
  if (head !== incumbent && !isAncestor(root, incumbent, head)) {
    throw new CliError(
      `HEAD (${head.slice(0, 7)}) does not descend from the incumbent ${
        incumbent.slice(0, 7)
      }; the experiment's branch was switched or rewritten. Switch back: git switch ${
        experiment.branch ?? "<experiment branch>"
      }`,
      "E_HEAD_MOVED",
      EXIT.FAILED,
    );
  }
  const agentCommits = head !== incumbent ? commitsBetween(root, incumbent, head) : [];
  return { head, agentCommits };
}
export function resolveIncumbent(root: string, shortOrFull: string | null, baselineCommit: string): string {
  return resolveIncumbentWithShort(root, shortOrFull, baselineCommit).commit;
}

/**
 * The incumbent's full and short id, in one git call when the journal's commit resolves and
 * holds every one of `files`; a file it lacks is left for the caller to find and name.
 */
function resolveIncumbentWithShort(
  root: string,
  shortOrFull: string | null,
  baselineCommit: string,
  files: string[] = [],
): ResolvedCommit {
  for (const reference of [shortOrFull, baselineCommit]) {
    if (!reference) continue;
    const resolved = resolveCommitWithShort(root, reference, files) ??
      (files.length ? resolveCommitWithShort(root, reference) : null);
    if (resolved) return resolved;
  }
  throw new CliError(
    `Cannot find the incumbent commit ${
      shortOrFull ?? baselineCommit
    } in this repository. Run iterate from the experiment's repository and branch.`,
    "E_NO_INCUMBENT",
    EXIT.FAILED,
  );
}

/** The runs measured for this candidate so far; the decision loop appends to them as they land. */
