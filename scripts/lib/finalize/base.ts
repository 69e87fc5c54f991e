// Which branch a round's experiment branch was started from: the base the final branch is built
// on. Read from git alone: the local branch (not an autoresearch/ one) whose fork point with the
// round's baseline commit is the nearest, ties broken by HEAD's reflog and the usual names.
// It does not guess when two branches fit equally: --base names one.
import { CliError } from "../cli/errors.ts";
import {
  branchesLeftFor,
  branchReflogMessages,
  currentBranch,
  isAncestor,
  localBranches,
  mergeBase,
  resolveCommit,
} from "../git/git.ts";

export type Base = { ref: string; commit: string; forkPoint: string | null; how: string };

const USUAL_BASES = ["main", "master", "trunk", "develop"];
/** How build.ts marks the branches it creates in their reflog. */
export const FINALIZE_REFLOG = "finalize: created";

/**
 * The base for `anchor` (the round's baseline commit). `reference` (--base) wins when given;
 * branches named in `exclude` (the experiment and final branches) and `autoresearch/*` never count.
 */
export function findBase(
  root: string,
  anchor: string,
  options: { reference?: string; experimentBranch: string | null; exclude: string[] },
): Base {
  if (options.reference) {
    const commit = resolveCommit(root, options.reference);
    if (!commit) {
      throw new CliError(
        `--base "${options.reference}" is not a commit or branch here. Run: git branch --list, then finalize.ts --base BRANCH`,
        "E_NO_BASE",
      );
    }
    return { ref: options.reference, commit, forkPoint: mergeBase(root, commit, anchor), how: "--base" };
  }
  const candidates = localBranches(root)
    .filter(({ name }) => !name.startsWith("autoresearch/") && !options.exclude.includes(name))
    // A final branch made earlier under another --branch name forks where the base does.
    .filter(({ name }) => !branchReflogMessages(root, name)[0]?.startsWith(FINALIZE_REFLOG))
    .map((branch) => ({ ...branch, forkPoint: mergeBase(root, branch.commit, anchor) }))
    .filter((branch): branch is { name: string; commit: string; forkPoint: string } => branch.forkPoint !== null);
  // The nearest fork point: one no other candidate's fork point descends from.
  const nearest = candidates.filter((branch) =>
    !candidates.some((other) =>
      other.forkPoint !== branch.forkPoint && isAncestor(root, branch.forkPoint, other.forkPoint)
    )
  );
  if (nearest.length === 0) {
    throw new CliError(
      `No local branch shares history with the round's baseline commit ${
        anchor.slice(0, 7)
      }. Run: finalize.ts --base BRANCH`,
      "E_NO_BASE",
    );
  }
  if (nearest.length === 1) return described(nearest[0], "the branch the experiment branch forked from");
  const preferred = [
    ...(options.experimentBranch ? branchesLeftFor(root, options.experimentBranch) : []),
    ...[currentBranch(root)].filter((name): name is string => name !== null),
    ...USUAL_BASES,
  ];
  for (const name of preferred) {
    const match = nearest.find((branch) => branch.name === name);
    if (match) return described(match, `the experiment branch forked from ${nearest.length} branches; chose ${name}`);
  }
  throw new CliError(
    `The experiment branch forked from ${nearest.map((branch) => `"${branch.name}"`).join(", ")} at the same point; ` +
      `name the base. Run: finalize.ts --base ${nearest[0].name}`,
    "E_NO_BASE",
  );
}

function described(branch: { name: string; commit: string; forkPoint: string }, how: string): Base {
  return { ref: branch.name, commit: branch.commit, forkPoint: branch.forkPoint, how };
}
