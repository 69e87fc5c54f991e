// What next-round reads from disk and git about finished rounds: each round's journal summary,
// the evidence of what it touched (descriptions, archived patches, kept commits' diffs), the
// levers of its files, its final report; and the checks on --file / --add-file paths.
// It writes nothing; round-summary.ts turns what it gathers into markdown.
import { existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, relative, resolve } from "node:path";
import { CliError, EXIT } from "../cli/errors.ts";
import { displayPath, resolveIn, toPosix } from "../files/paths.ts";
import { commitPatch, isTracked } from "../git/git.ts";
import type { Journal } from "../experiment/journal.ts";
import { analyzeFile, analyzeSource, detectLanguage } from "../levers/levers.ts";
import type { FileAnalysis, Lever } from "../levers/lever.ts";
import { changedLines, reportLessons, type RoundDigest, untouchedLevers } from "./round-summary.ts";
import type { Summary } from "../experiment/summary.ts";

/** Analyses of constrained files, shared by every round that names the same file. */
export type LeverCache = Map<string, Promise<FileAnalysis | null>>;

/**
 * Analyse a file once (null when it does not exist); parser warnings go to `warnings`. `source`:
 * the text the file will hold (next-round --from-best-holdout writes an earlier commit's back),
 * read instead of the file on disk; a cache holds one or the other, never both.
 */
export function analyseOnce(
  cache: LeverCache,
  path: string,
  warnings: string[],
  entry?: string,
  where: { repoRoot?: string; root?: string; skipEntry?: boolean; source?: string } = {},
): Promise<FileAnalysis | null> {
  const key = `${path}\0${entry ?? ""}\0${where.skipEntry ? "skip" : ""}`;
  let analysis = cache.get(key);
  if (!analysis) {
    const { source, ...options } = where;
    const analysed = source !== undefined
      ? Promise.resolve().then(() =>
        analyzeSource(source, detectLanguage(path, source), { entry, ...options, fileName: path, path: resolve(path) })
      )
      : existsSync(path)
      ? analyzeFile(path, { entry, ...options })
      : null;
    analysis = analysed
      ? analysed.then((found) => {
        for (const message of found.warnings) if (!warnings.includes(message)) warnings.push(message);
        return found;
      }, () => null) // an unreadable file or an unknown entry: the summary goes without its levers
      : Promise.resolve(null);
    cache.set(key, analysis);
  }
  return analysis;
}

/** Levers of several files; with more than one file each name says which file it is in. */
export async function leversOf(
  root: string,
  files: string[],
  cache: LeverCache,
  warnings: string[],
  sources: Readonly<Record<string, string>> = {},
): Promise<Lever[] | null> {
  const levers: Lever[] = [];
  for (const file of files) {
    const path = resolveIn(root, file);
    // Levers do not depend on the entry: any analysis of the file already made will do.
    const made = [...cache.entries()].find(([key]) => key.startsWith(`${path}\0`))?.[1];
    // (One that failed on its entry is tried again without it.)
    const analysis = (made ? await made : null) ??
      await analyseOnce(cache, path, warnings, undefined, { skipEntry: true, source: sources[file] });
    if (!analysis) return null;
    for (const lever of analysis.levers) {
      levers.push(files.length > 1 ? { ...lever, name: `${file}:${lever.name}` } : lever);
    }
  }
  return levers;
}

/**
 * Everything that shows what a round changed: each line's recorded lever changes (its
 * description when it has none), the changed lines of each
 * archived patch, and the changed lines of each kept commit (git show, when the commit exists).
 */
export async function roundEvidence(root: string, journal: Journal, files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const result of journal.results) {
    // A recorded diff says which levers a line touched; only lines without one fall back to words.
    if (result.attribution) parts.push(...result.attribution.levers.map((lever) => lever.name));
    else parts.push(result.description);
    if (typeof result.patch === "string" && result.patch !== "") {
      const patch = resolveIn(root, result.patch);
      if (existsSync(patch)) parts.push(changedLines(readFileSync(patch, "utf8")));
    }
    if (result.status === "keep" && result.commit) {
      const shown = commitPatch(root, result.commit, files);
      if (shown !== null) parts.push(changedLines(shown));
    }
  }
  return parts.join("\n");
}

export type DigestInput = {
  root: string;
  round: number;
  constrainedFiles: string[];
  journalPath: string;
  journal: Journal;
  summary: Summary;
  reportPath: string | null;
  focus: string | null;
  /** Paths in the digest are shown relative to this folder (the experiment's, or the journal's). */
  displayFrom: string;
};

/** One finished round's digest; `untouchedLevers` is null when its files cannot be read. */
export async function digestRound(input: DigestInput, cache: LeverCache, warnings: string[]): Promise<RoundDigest> {
  const levers = await leversOf(input.root, input.constrainedFiles, cache, warnings);
  const evidence = levers ? await roundEvidence(input.root, input.journal, input.constrainedFiles) : "";
  const report = input.reportPath && existsSync(input.reportPath) ? readFileSync(input.reportPath, "utf8") : null;
  return {
    round: input.round,
    constrainedFiles: input.constrainedFiles,
    journal: displayPath(input.journalPath, input.displayFrom),
    focus: input.focus,
    summary: input.summary,
    untouchedLevers: levers ? untouchedLevers(levers, evidence).map((lever) => lever.name) : null,
    report: report !== null && report.trim() !== ""
      ? { path: displayPath(input.reportPath!, input.displayFrom), lessons: reportLessons(report) }
      : null,
  };
}

/**
 * --file / --add-file paths (relative to `cwd`) as paths relative to the experiment folder,
 * each an existing, tracked file inside the repository and not a frozen one.
 */
export async function checkRoundFiles(
  paths: string[],
  flag: "--file" | "--add-file",
  context: { cwd: string; repoRoot: string; root: string; frozen: string[] },
): Promise<string[]> {
  const checked: string[] = [];
  for (const given of paths) {
    const absolute = resolve(context.cwd, given);
    if (!existsSync(absolute)) {
      throw usage(
        `${flag} "${given}" does not exist; pass a file tracked in the repository, e.g. ${flag} src/tokenizer.py`,
        "E_NO_FILE",
      );
    }
    if (statSync(absolute).isDirectory()) {
      throw usage(`${flag} "${given}" is a directory; pass one file inside it.`, "E_NOT_A_FILE");
    }
    const real = realpathSync(absolute);
    const fromRepo = relative(context.repoRoot, real);
    if (fromRepo.startsWith("..") || isAbsolute(fromRepo)) {
      throw usage(
        `${flag} "${given}" is outside the git repository at "${context.repoRoot}"; the constrained files must live in the repository the experiment runs in.`,
        "E_OUTSIDE_REPO",
      );
    }
    if (!isTracked(context.repoRoot, fromRepo)) {
      throw usage(
        `${flag} "${given}" is not tracked by git, so a discarded change could not be restored; commit it first (git add ${
          displayPath(real, context.cwd)
        } && git commit -m "Add ${fromRepo}"), then re-run next-round.`,
        "E_UNTRACKED",
      );
    }
    const fromRoot = toPosix(relative(context.root, real));
    if (context.frozen.includes(fromRoot)) {
      throw usage(
        `${flag} "${given}" is frozen (the eval, its test data or a frozen file) and cannot be a constrained file; pick the code the eval measures.`,
        "E_FROZEN_FILE",
      );
    }
    if (!checked.includes(fromRoot)) checked.push(fromRoot);
  }
  return checked;
}

/** Round N+1's files: --file replaces round N's, --add-file adds to them; order kept, no duplicates. */
export function nextConstrainedFiles(previous: string[], switched: string[], added: string[]): string[] {
  const base = switched.length > 0 ? switched : previous;
  return [...new Set([...base, ...added])];
}

/** The seed's co-optimisation trap, said for this switch; null when the files stay the same. */
export function coOptimizationWarning(previousRound: number, previous: string[], next: string[]): string | null {
  if (previous.length === next.length && previous.every((file) => next.includes(file))) return null;
  const quote = (files: string[]) => files.map((file) => `"${file}"`).join(" and ");
  const round = previousRound + 1;
  const partners = next.filter((file) => !previous.includes(file));
  if (partners.length < next.length) {
    return `co-optimisation trap: round ${previousRound} tuned ${quote(previous)} alone; round ${round} co-optimises ${
      quote(next)
    }, the seed's way out of the trap ` +
      `(${quote(partners)} cannot improve while the rest stays fitted to ${
        partners.length > 1 ? "their" : "its"
      } current output). A change to one may need re-tuning the other: judge them together.`;
  }
  return `co-optimisation trap: round ${previousRound} tuned ${
    quote(previous)
  } to work with the rest of the code as it was; round ${round} switches to ${quote(next)}. ` +
    `If ${quote(previous)} was fitted to ${quote(next)}'s current output, ${
      next.length > 1 ? "they" : "it"
    } cannot improve without re-tuning ${quote(previous)}: ` +
    `co-optimise both (--add-file instead of --file) or accept that sequential optimisation has a lower ceiling.`;
}

/**
 * The new round's levers that round N never touched: those its digest lists (matched with or
 * without the "file:" prefix a multi-file round adds), and every lever of a file new to the round.
 */
export function leversNeverTouched(
  previous: RoundDigest,
  levers: Lever[],
  constrainedFiles: string[],
  newFiles: string[],
): string[] {
  const untouched = new Set(previous.untouchedLevers ?? []);
  const prefixed = constrainedFiles.length > 1;
  return levers.map((lever) => lever.name).filter((name) => {
    const file = prefixed
      ? constrainedFiles.find((candidate) => name.startsWith(`${candidate}:`)) ?? null
      : constrainedFiles[0];
    if (file !== null && newFiles.includes(file)) return true;
    const bare = prefixed && file !== null ? name.slice(file.length + 1) : name;
    return untouched.has(name) ||
      (previous.constrainedFiles.length === 1 && previous.constrainedFiles[0] === file && untouched.has(bare));
  });
}

function usage(message: string, code: string): CliError {
  return new CliError(message, code, EXIT.USAGE);
}
