// Path helpers every capability shares: a stored relative path resolved against its
// root, a path shown in a message, a native path in the experiment file's forward-slash
// spelling, the real path of something that may not exist yet, and a file read that
// tolerates its absence. It writes nothing (atomic.ts does).
import { readFileSync, realpathSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, sep } from "node:path";

/** A path from the experiment file (relative to `root`, or absolute) as an absolute path. */
export function resolveIn(root: string, path: string): string {
  return isAbsolute(path) ? path : join(root, path);
}

/** Paths in messages: relative to the working directory when that is shorter. */
export function displayPath(path: string, cwd = process.cwd()): string {
  const relativePath = relative(cwd, path);
  return relativePath && !relativePath.startsWith("..") && relativePath.length < path.length ? relativePath : path;
}

/** A native relative path with forward slashes, as the experiment file stores paths: "a\\b" -> "a/b". */
export function toPosix(path: string): string {
  return path.split(sep).join("/");
}

/** The real path; for a file not created yet, its folder's real path joined with its name. */
export function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    try {
      return join(realpathSync(dirname(path)), basename(path));
    } catch {
      return path;
    }
  }
}

/** A file's text, or null when it cannot be read (missing, a folder, no permission). */
export function readOptional(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}
