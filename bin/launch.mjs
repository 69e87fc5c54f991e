// The npm `bin` commands' shared launcher: runs a verb with Bun (scripts/<verb>.ts) when a `bun`
// is on PATH, and otherwise with the Node that started it on the bundle dist/<verb>.js, which
// `npm pack` builds (prepack) so an installed kit has it. Plain JavaScript on purpose: Node runs
// this file before anything is known about the runtimes. It only picks the runtime and forwards
// arguments, standard streams, signals and the exit status; the verb does the work.
import { spawn } from "node:child_process";
import { accessSync, constants, existsSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const KIT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const BUN_NAMES = process.platform === "win32" ? ["bun.exe", "bun.cmd", "bun"] : ["bun"];

/** The first executable `bun` on PATH, or null. */
export function findBun(path = process.env.PATH ?? "") {
  for (const folder of path.split(delimiter)) {
    if (folder === "") continue;
    for (const name of BUN_NAMES) {
      const candidate = join(folder, name);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here: try the next folder
      }
    }
  }
  return null;
}

/** The command that runs `verb`: [executable, arguments before the user's], or an error text. */
export function commandFor(verb, path = process.env.PATH ?? "") {
  const bun = findBun(path);
  if (bun !== null) return { executable: bun, prefix: [join(KIT_ROOT, "scripts", `${verb}.ts`)] };
  const bundle = join(KIT_ROOT, "dist", `${verb}.js`);
  if (existsSync(bundle)) return { executable: process.execPath, prefix: [bundle] };
  return {
    error: `autoresearch-${verb}: Bun is not on PATH and the Node bundle ${bundle} is missing. ` +
      `Install Bun (https://bun.sh), or build the bundles once with \`npm run build\` in ${KIT_ROOT} ` +
      `(which needs Bun too; a kit installed from npm ships them).`,
  };
}

/** Run `verb` with the process's arguments and leave with its exit status (or its signal). */
export function launch(verb) {
  const command = commandFor(verb);
  if ("error" in command) {
    process.stderr.write(`${command.error}\n`);
    process.exit(127);
  }
  const child = spawn(command.executable, [...command.prefix, ...process.argv.slice(2)], { stdio: "inherit" });
  // A terminal's Ctrl-C reaches the child by itself (same process group); a signal sent to this
  // process alone (a supervisor's kill) is passed on, and the launcher waits for the child to end.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
  }
  child.on("error", (error) => {
    process.stderr.write(`autoresearch-${verb}: could not start ${command.executable}: ${error.message}\n`);
    process.exit(127);
  });
  child.on("exit", (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
