// The baseline's first phase: everything that can refuse before an eval runs — a closed
// round, unfinished or too few test cases, a frozen directory, a constrained file that is
// missing, untracked or modified, a journal with results (without --force), the wrong branch
// (or the switch to the experiment branch with --branch). It also settles what the integrity
// lock covers: the frozen files and the repository files the eval command names. It runs no
// eval and writes no file.
import { existsSync, statSync } from "node:fs";
import { CliError } from "../cli/errors.ts";
import type { Experiment, Round } from "../experiment/schema.ts";
import { relative } from "node:path";
import { displayPath, resolveIn, toPosix } from "../files/paths.ts";
import { currentBranch, fileDiffersFromCommit, headCommit, isInCommit, isTracked, switchToBranch } from "../git/git.ts";
import { frozenPaths, lockedPaths } from "../integrity/frozen-files.ts";
import { requireExperimentBranch } from "../git/preconditions.ts";
import { iterationResults, readJournal } from "../experiment/journal.ts";
import { kitCommand } from "../cli/kit.ts";
import { inspectTestDataFile } from "../harness/test-data.ts";
import { heldOutInHistoryWarning, type HoldoutReady, prepareHoldout } from "../harness/holdout-set.ts";
import type { BaselineOptions, Context, Preflight } from "./report.ts";

/** Fewer cases than this make a metric too coarse to steer by (the seed: at least 15). */
const MIN_TEST_CASES = 15;

/** Everything that can refuse before an eval runs: the round, the test data, the files, the journal, the branch. */
export async function preflight(context: Context): Promise<Preflight> {
  const { loaded: { experiment, root, path }, round, journalPath, options } = context;
  if (round.status === "closed") {
    throw new CliError(
      `Round ${round.round} is closed; baseline the current round instead: ${kitCommand("baseline")}`,
      "E_ROUND_CLOSED",
    );
  }
  const heldOut = checkTestData(experiment, root, options, context.warn, () => {
    const ready = prepareHoldout(root, context.stateDir, experiment, {
      minKeptCases: options.allowFew ? 0 : MIN_TEST_CASES,
    });
    if (ready?.split) {
      options.notes(
        `Held out ${ready.split.heldCases} of ${
          ready.split.heldCases + ready.split.keptCases
        } cases (seed ${experiment.holdout?.seed}) as the held-out set; ${ready.split.keptCases} stay in the test data.`,
      );
      const testData = experiment.test_data!;
      if (isInCommit(root, "HEAD", toPosix(relative(root, resolveIn(root, testData))))) {
        context.warn(heldOutInHistoryWarning(testData));
      }
    }
    return ready;
  });
  // What the integrity lock covers: the frozen files and every repository file the eval command names.
  const frozen = lockedPaths(root, experiment, round);
  const named = frozen.filter((file) => !frozenPaths(experiment, round).includes(file));
  if (named.length) {
    options.notes(
      `The eval command names ${
        named.map((file) => `"${file}"`).join(", ")
      }: locked with the frozen files (hashed now; a change stops iterate).`,
    );
  }
  checkFrozenPaths(root, frozen, path);
  await checkConstrainedFiles(root, round);
  const journal = readJournal(journalPath);
  const done = iterationResults(journal).length;
  if (done > 0 && !options.force) {
    throw new CliError(
      `Round ${round.round} already has ${done} iteration results in "${
        displayPath(journalPath)
      }". Re-baselining restarts the round: ${kitCommand("baseline")} --force (the old journal is kept as a backup)`,
      "E_HAS_RESULTS",
    );
  }

  let branch: string | null = currentBranch(root);
  if (!options.branch) await requireExperimentBranch(root, experiment);
  if (options.branch) {
    const wanted = experiment.branch ?? `autoresearch/${experiment.name}`;
    const outcome = switchToBranch(root, wanted);
    if (outcome !== "already") {
      options.notes(
        `${
          outcome === "created" ? "Created and switched to" : "Switched to"
        } branch "${wanted}" so keeps never land on your main branch.`,
      );
    }
    branch = wanted;
  }
  return { frozen, journal, done, branch, commit: headCommit(root)!, heldOut };
}

function checkTestData(
  experiment: Experiment,
  root: string,
  options: BaselineOptions,
  warn: (message: string) => void,
  prepareHeldOut: () => HoldoutReady | null,
): HoldoutReady | null {
  // The held-out set is split off (once) only from finished test data, before its cases are counted.
  if (!experiment.test_data) return prepareHeldOut();
  const path = resolveIn(root, experiment.test_data);
  if (!existsSync(path)) {
    throw new CliError(
      `The test data "${displayPath(path)}" does not exist. Create it, or fix test_data in the experiment file.`,
      "E_NO_TEST_DATA",
    );
  }
  const report = inspectTestDataFile(path);
  if (report.problems.length > 0) {
    throw new CliError(`The test data "${displayPath(path)}" cannot be used: ${report.problems[0]}`, "E_TEST_DATA");
  }
  if (report.placeholders.length > 0) {
    const first = report.placeholders[0];
    throw new CliError(
      `The test data "${displayPath(path)}" still has ${report.placeholders.length} placeholder${
        report.placeholders.length > 1 ? "s" : ""
      } (first: case "${first.caseId}", field "${first.field}"). Fill in real inputs and expected outputs, then re-run ${
        kitCommand("baseline")
      }`,
      "E_PLACEHOLDERS",
    );
  }
  const heldOut = prepareHeldOut();
  if (heldOut?.split) report.cases = heldOut.split.keptCases;
  if (report.cases < MIN_TEST_CASES) {
    const message = `The test data "${
      displayPath(path)
    }" has ${report.cases} cases; at least ${MIN_TEST_CASES} are needed for a metric worth steering by.`;
    if (!options.allowFew) throw new CliError(`${message} Add cases, or pass --allow-few.`, "E_FEW_CASES");
    warn(message);
  }
  return heldOut;
}

/** Integrity hashes are per file; say so before the evals run rather than fail after them. */
function checkFrozenPaths(root: string, paths: string[], experimentPath: string): void {
  for (const path of paths) {
    const absolute = resolveIn(root, path);
    if (existsSync(absolute) && statSync(absolute).isDirectory()) {
      throw new CliError(
        `The frozen path "${path}" is a directory; list the files in it instead (frozen: in "${
          displayPath(experimentPath)
        }"), then re-run ${kitCommand("baseline")}`,
        "E_FROZEN_DIRECTORY",
      );
    }
  }
}

export async function checkConstrainedFiles(root: string, round: Round): Promise<void> {
  const committed = headCommit(root) !== null;
  for (const file of round.constrained_files) {
    const absolute = resolveIn(root, file);
    if (!existsSync(absolute)) {
      throw new CliError(
        `The constrained file "${file}" does not exist. Restore it (git checkout -- "${file}") or fix constrained_files in the experiment file.`,
        "E_NO_FILE",
      );
    }
    if (!committed || !isTracked(root, file)) {
      throw new CliError(
        `The constrained file "${file}" is not committed, so it cannot be reverted. Commit it first: git add "${file}" && git commit -m "add ${file}"`,
        "E_UNTRACKED",
      );
    }
    if (await fileDiffersFromCommit(root, "HEAD", file)) {
      throw new CliError(
        `The constrained file "${file}" has uncommitted changes; the baseline must measure a commit. Commit them (git commit -am "...") or set them aside (git stash), then re-run.`,
        "E_MODIFIED",
      );
    }
  }
}
