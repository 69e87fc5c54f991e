// Call back when any of a few files changes: fs.watch on their folders for speed, plus
// a slow poll of size and mtime because fs.watch misses events on some file systems
// (network mounts, some containers) and is absent on others. Works under Bun, Deno and
// Node. It does not read the files; callers re-read them.
import { existsSync, type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname } from "node:path";

export const WATCH_DEBOUNCE_MS = 150; // an iteration writes journal, dashboard and chart in quick succession
export const WATCH_POLL_MS = 1000;

export type WatchOptions = { debounceMs?: number; pollMs?: number };

/** Watch `paths` (missing ones too: their creation counts as a change); returns a stop function. */
export function watchFiles(paths: string[], onChange: () => void, options: WatchOptions = {}): () => void {
  const debounceMs = options.debounceMs ?? WATCH_DEBOUNCE_MS;
  const names = new Set(paths.map((path) => basename(path)));
  let signatures = paths.map(fileSignature);
  let timer: ReturnType<typeof setTimeout> | null = null;

  const check = () => {
    timer = null;
    const next = paths.map(fileSignature);
    if (next.every((signature, index) => signature === signatures[index])) return;
    signatures = next;
    onChange();
  };
  const schedule = () => {
    if (timer === null) timer = setTimeout(check, debounceMs);
  };

  const watchers: FSWatcher[] = [];
  for (const folder of new Set(paths.map((path) => dirname(path)))) {
    try {
      const watcher = watch(folder, (_event, filename) => {
        if (filename === null || names.has(basename(String(filename)))) schedule();
      });
      watcher.on("error", () => watcher.close()); // the poll below still covers this folder
      watchers.push(watcher);
    } catch {
      // No fs.watch here (or the folder is gone): polling alone covers it.
    }
  }
  const poll = setInterval(schedule, options.pollMs ?? WATCH_POLL_MS);

  return () => {
    clearInterval(poll);
    if (timer !== null) clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
}

/** Resolve on the first Ctrl-C or SIGTERM, with the signal's name. */
export function waitForInterrupt(): Promise<"SIGINT" | "SIGTERM"> {
  return new Promise((resolve) => {
    const onSigint = () => finish("SIGINT");
    const onSigterm = () => finish("SIGTERM");
    const finish = (signal: "SIGINT" | "SIGTERM") => {
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
      resolve(signal);
    };
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
  });
}

function fileSignature(path: string): string {
  if (!existsSync(path)) return "missing";
  try {
    const stats = statSync(path);
    return `${stats.size}:${stats.mtimeMs}`;
  } catch {
    return "missing";
  }
}
