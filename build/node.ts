// Builds the Node.js entry points: `bun build --target node` of each scripts/<verb>.ts into
// dist/<verb>.js (Node >= 20 cannot run .ts), with scripts/lib/levers/levers_python.py copied beside
// them. Run by `npm run build`, by npm's `prepare` on `npm install` in a checkout and by `prepack`
// before `npm pack`/`npm publish`, so the package ships dist/ (git-ignored) for the bin/ launchers
// to run under Node when Bun is not installed.
// Bun and Deno run the .ts files directly and never need this. The bundles still read
// templates/ from the kit's root and load yaml, zod, @babel/parser and the @stdlib packages
// from node_modules on first use (required lazily, so a step that needs none of them loads none), so dist/ works
// inside an installed kit, not on its own.
//   bun build/node.ts [--out-dir DIR] [--quiet]
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";

export const KIT_ROOT = resolve(import.meta.dir, "..");
export const DIST_DIR = join(KIT_ROOT, "dist");
const VERBS = ["init", "baseline", "iterate", "dashboard", "next-round", "finalize"] as const;
// Left as runtime imports: the @stdlib packages are loaded lazily with createRequire, so a run
// that needs no statistics loads none; bundling them would only add dead weight.
const EXTERNAL = ["@stdlib/*"];
const RESOURCES = ["scripts/lib/levers/levers_python.py"]; // located next to the bundle via import.meta.url

export type BuildResult = { outDir: string; files: string[]; milliseconds: number };

/**
 * Bundle every scripts/<verb>.ts that exists into `outDir`. The files are written to a temporary
 * folder first and renamed into place, so a Node process starting meanwhile never reads half a file.
 */
export async function buildNodeBundles(options: { outDir?: string } = {}): Promise<BuildResult> {
  const started = performance.now();
  const outDir = resolve(options.outDir ?? DIST_DIR);
  const entrypoints = VERBS.map((verb) => join(KIT_ROOT, "scripts", `${verb}.ts`)).filter((path) => existsSync(path));
  mkdirSync(outDir, { recursive: true });
  const staging = mkdtempSync(join(outDir, ".build-"));
  try {
    const result = await Bun.build({ entrypoints, outdir: staging, target: "node", format: "esm", external: EXTERNAL });
    if (!result.success) {
      throw new Error(`bun build failed:\n${result.logs.map((log) => String(log)).join("\n")}`);
    }
    const files: string[] = [];
    for (const output of result.outputs) {
      const name = basename(output.path);
      // The entry files keep their `#!/usr/bin/env bun` line and Bun's `// @bun` marker; a Node
      // bundle says node.
      const text = readFileSync(output.path, "utf8").replace(/^#!.*\n(\/\/ @bun.*\n)?/, "#!/usr/bin/env node\n");
      writeFileSync(output.path, text);
      chmodSync(output.path, 0o755);
      renameSync(output.path, join(outDir, name));
      files.push(name);
    }
    for (const resource of RESOURCES) {
      const name = basename(resource);
      copyFileSync(join(KIT_ROOT, resource), join(staging, name));
      renameSync(join(staging, name), join(outDir, name));
      files.push(name);
    }
    return { outDir, files, milliseconds: Math.round(performance.now() - started) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { "out-dir": { type: "string" }, quiet: { type: "boolean" } } });
  try {
    const result = await buildNodeBundles({ outDir: values["out-dir"] });
    if (!values.quiet) {
      process.stderr.write(
        `Built ${
          result.files.join(", ")
        } in ${result.outDir} (${result.milliseconds} ms); run e.g. node dist/init.js --help\n`,
      );
    }
  } catch (error) {
    process.stderr.write(`build/node.ts: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
