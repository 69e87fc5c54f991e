// baseline --worktree: move an experiment into its own git worktree before it is measured, so
// agents and evals never touch the user's checkout. The worktree gets the experiment branch
// (created at HEAD), the harness files init wrote that HEAD does not have (copied, never moved),
// and links to the ignored folders an eval needs (node_modules, .venv, --share); a record in the
// user's checkout (worktree-pointer.ts) sends every later script there. Everything is checked
// before anything is created; nothing in the user's checkout is changed except that record.
import { existsSync, readdirSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { kitCommand } from "../cli/kit.ts";
import { STATE_DIR } from "../experiment/artifacts.ts";
import { findRound, type LoadedExperiment, loadExperiment } from "../experiment/experiment-file.ts";
import { readPointer, worktreeFolder, writePointer } from "../experiment/worktree-pointer.ts";
import { displayPath, realpathOrSelf, toPosix } from "../files/paths.ts";
import {
  addWorktree,
  currentBranch,
  hasTrackedFilesUnder,
  headCommit,
  isAncestor,
  isLinkedWorktree,
  isTracked,
  mainWorktreeTop,
  repositoryTop,
  resolveCommit,
  uncommittedTrackedCount,
  worktreeOfBranch,
} from "../git/git.ts";
import { copyInto, defaultSharedPaths, harnessFilesMissingAt, linkShared } from "../harness/worktree-files.ts";
import { checkConstrainedFiles } from "./preflight.ts";

export type IsolateOptions = {
  /** --worktree-path: where the worktree goes (default `.autoresearch/worktrees/<name>` beside the experiment file). */
  path: string | null;
  /** --share: more ignored paths of the user's checkout to link into the worktree, relative to `cwd`. */
  share: string[];
  cwd: string;
  notes: (message: string) => void;
};

export type Isolated = { loaded: LoadedExperiment; worktree: string; branch: string };

/** Whether `loaded` already is an experiment's own worktree (a linked worktree on its branch). */
export function isInOwnWorktree(loaded: LoadedExperiment): boolean {
  return isLinkedWorktree(loaded.root) && currentBranch(loaded.root) === experimentBranch(loaded);
}

export function experimentBranch(loaded: LoadedExperiment): string {
  return loaded.experiment.branch ?? `autoresearch/${loaded.experiment.name}`;
}

/** Create the experiment's worktree from the user's checkout and return the experiment as it is there. */
export async function isolateExperiment(loaded: LoadedExperiment, options: IsolateOptions): Promise<Isolated> {
  const { experiment, root } = loaded;
  const top = repositoryTop(root);
  const folderInTop = relative(top, root);
  const branch = experimentBranch(loaded);
  const start = headCommit(root);
  if (start === null) {
    throw new CliError(
      `The repository has no commit yet, so there is nothing to start a worktree from. Commit your code first: git add -A && git commit -m "initial"`,
      "E_WORKTREE",
      EXIT.FAILED,
    );
  }
  await checkConstrainedFiles(root, findRound(experiment));
  const worktree = options.path
    ? resolve(options.cwd, options.path)
    : join(root, STATE_DIR, "worktrees", experiment.name);
  const checkedOut = worktreeOfBranch(top, branch);
  // A run killed between creating the worktree and writing the record left it where this one puts it: adopt it.
  const adopted = checkedOut !== null && realpathOrSelf(checkedOut) === realpathOrSelf(worktree);
  if (checkedOut !== null && !adopted) {
    const here = resolve(checkedOut) === resolve(top);
    throw new CliError(
      here
        ? `Branch "${branch}" is checked out in this checkout, so it cannot also be the worktree's. Switch this checkout back to your own branch (git switch -), then run ${
          kitCommand("baseline")
        } --worktree; or drop --worktree to run the experiment here`
        : `Branch "${branch}" is already checked out in the worktree "${
          displayPath(checkedOut)
        }". Run the kit from there (cd "${displayPath(checkedOut)}"), or remove it first: git worktree remove "${
          displayPath(checkedOut)
        }"`,
      "E_WORKTREE",
      EXIT.FAILED,
    );
  }
  // An existing branch (an earlier run's) is where the worktree starts: it must hold what is measured now.
  const existing = resolveCommit(top, `refs/heads/${branch}`);
  if (existing !== null && !isAncestor(top, start, existing)) {
    throw new CliError(
      `Branch "${branch}" exists from an earlier run and does not contain your HEAD (${
        start.slice(0, 7)
      }), so the worktree would measure older code. Keep it under another name (git branch -m ${branch} ${branch}-old), then run ${
        kitCommand("baseline")
      } --worktree again`,
      "E_WORKTREE",
      EXIT.FAILED,
    );
  }
  if (!adopted && existsSync(worktree) && readdirSync(worktree).length > 0) {
    throw new CliError(
      `The worktree folder "${
        displayPath(worktree)
      }" exists and is not empty. Remove what is left there (git worktree prune, then delete the folder), or pass --worktree-path PATH`,
      "E_WORKTREE",
      EXIT.FAILED,
    );
  }
  const shared = sharedPaths(top, root, options);
  // Copied: what the commit the worktree starts at (the branch's, when it exists) does not hold as it is here.
  const copies = harnessFilesMissingAt(loaded, top, existing ?? start);

  const how = adopted ? "existing" : addWorktree(top, worktree, branch, start);
  const experimentFolder = join(worktree, folderInTop);
  copyInto(root, experimentFolder, copies);
  linkShared(top, worktree, shared);
  writePointer(root, {
    worktree,
    experiment: toPosix(relative(worktree, join(experimentFolder, relative(root, loaded.path)))),
    source: relative(root, loaded.path),
    branch,
    shared,
    created_at: new Date().toISOString(),
  });
  options.notes(
    `The experiment runs in its own worktree "${displayPath(worktree)}" on ${
      how === "created" ? "the new" : "its"
    } branch "${branch}"; this checkout, its branch and index are not touched. Every script finds it from here or from there.${
      copies.length ? ` Copied the harness files ${copies.map((path) => `"${path}"`).join(", ")} into it.` : ""
    }${shared.length ? ` Linked ${shared.map((path) => `"${path}"`).join(", ")} from this checkout.` : ""}`,
  );
  const uncommitted = uncommittedTrackedCount(top);
  if (uncommitted > 0) {
    options.notes(
      `The worktree starts at HEAD (${start.slice(0, 7)}): uncommitted changes to ${uncommitted} tracked file${
        uncommitted === 1 ? "" : "s"
      } of this checkout are not in it.`,
    );
  }
  return { loaded: loadExperiment(join(experimentFolder, relative(root, loaded.path))), worktree, branch };
}

/**
 * The ignored paths to link, relative to the repository's top: node_modules, .venv and venv
 * where present (at the top and beside the experiment file), and every --share path.
 */
function sharedPaths(top: string, experimentRoot: string, options: IsolateOptions): string[] {
  return [...new Set([...givenShares(top, options.share, options.cwd), ...defaultSharedPaths(top, experimentRoot)])];
}

/** --share paths relative to the repository's top; each must exist and must not be tracked (a tracked one is in the worktree already). */
function givenShares(top: string, share: string[], cwd: string): string[] {
  return share.map((given) => {
    const absolute = resolve(cwd, given);
    const inTop = relative(top, absolute);
    if (inTop === "" || inTop.startsWith("..") || isAbsolute(inTop)) {
      throw new CliError(
        `--share "${given}" is not inside the repository "${top}"; name a folder of this checkout (paths outside it are reached from the worktree as they are)`,
        "E_USAGE",
      );
    }
    if (!existsSync(absolute)) {
      throw new CliError(`--share "${given}" does not exist here; name an existing file or folder`, "E_NO_FILE");
    }
    if (isTracked(top, inTop) || hasTrackedFilesUnder(top, inTop)) {
      throw new CliError(
        `--share "${given}" is tracked by git, so the worktree has its own copy; drop it from --share`,
        "E_USAGE",
      );
    }
    return toPosix(inTop);
  });
}

/**
 * --share on an experiment that already runs in its own worktree (an eval that failed there for a
 * missing dataset, say): link more ignored paths of the user's checkout into it and add them to
 * the record. Paths are taken from `cwd`, which must be in the user's checkout (the main worktree).
 */
export function shareIntoWorktree(loaded: LoadedExperiment, share: string[], cwd: string): string[] {
  const worktreeTop = repositoryTop(loaded.root);
  const userTop = mainWorktreeTop(loaded.root);
  const paths = givenShares(userTop, share, cwd);
  linkShared(userTop, worktreeTop, paths);
  const userFolder = join(userTop, relative(worktreeTop, loaded.root));
  const pointer = readPointer(userFolder);
  if (pointer) {
    writePointer(userFolder, {
      ...pointer,
      worktree: worktreeFolder(userFolder, pointer),
      shared: [...new Set([...pointer.shared, ...paths])],
    });
  }
  return paths;
}
