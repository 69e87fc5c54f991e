// What a newcomer meets when installing and first running the kit. The npm package: `npm pack` of
// this checkout, installed into a fresh project, runs every `autoresearch-<verb>` bin with Node
// alone on PATH (the dist/ bundles) and with Bun (the .ts scripts), and a real baseline and
// dashboard under Node. Deno: a first run with an empty package cache fetches nothing the run
// does not use, prints no Download line, and sums up what it fetched in one line. Needs node/npm
// and python3 on PATH; npm install prefers its cache and uses the registry for what is not cached.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  BUN,
  DENO,
  KIT_ROOT,
  makeRepo,
  removeFolder,
  runScript,
  setLever,
  sh,
  shareAcrossTests,
  temporaryFolder,
} from "./helpers.ts";
import { baselined, PRICE_MODEL_PY, priceCasesJson, pythonExperiment } from "./experiment-fixture.ts";

// npm's update check and advice would reach the network on every npx call.
const QUIET_NPM = { npm_config_update_notifier: "false", npm_config_fund: "false", npm_config_audit: "false" };
const VERBS = ["init", "baseline", "iterate", "dashboard", "next-round", "finalize"] as const;
const NODE = spawnSync("node", ["-p", "process.execPath"], { encoding: "utf8" }).stdout.trim();
/** Folders where node and npm live, without any folder holding a `bun`. */
const PATH_WITHOUT_BUN = [...new Set([dirname(NODE), "/usr/bin", "/bin"])]
  .filter((folder) => !existsSync(join(folder, "bun")))
  .join(":");

type Installed = { project: string; tarball: string; packMs: number; installMs: number };
let installed: Installed | null = null;

afterAll(() => {
  if (installed !== null) removeFolder(installed.project);
});

function run(command: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const started = performance.now();
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    input: "",
    timeout: 110_000,
    env: { ...process.env, ...QUIET_NPM, NO_COLOR: "1", CI: "true", ...env },
  });
  return {
    code: result.status,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    milliseconds: Math.round(performance.now() - started),
  };
}

/** `npx --no-install autoresearch-<verb> --help` for every verb at once (npx takes ~1 s to start). */
function helpOfEveryVerb(project: string, path: string) {
  return Promise.all(
    VERBS.map((verb) =>
      new Promise<{ verb: string; code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn("npx", ["--no-install", `autoresearch-${verb}`, "--help"], {
          cwd: project,
          env: { ...process.env, ...QUIET_NPM, NO_COLOR: "1", CI: "true", PATH: path },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => (stdout += chunk));
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("close", (code) => resolve({ verb, code, stdout, stderr }));
      })
    ),
  );
}

/** `npm pack` of the checkout (its prepack builds dist/), installed into a new project; once per file. */
function packAndInstall(): Installed {
  if (installed !== null) return installed;
  const project = shareAcrossTests(temporaryFolder("ark-npm-"));
  const packed = run("npm", ["pack", "--silent", "--pack-destination", project], KIT_ROOT);
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}${packed.stdout}`);
  const tarball = join(project, packed.stdout.trim().split("\n").at(-1)!);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
  // --ignore-scripts: what npm 11 does by default for a dependency's scripts; the tarball must
  // work without them.
  const install = run(
    "npm",
    ["install", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts", tarball],
    project,
  );
  if (install.code !== 0) throw new Error(`npm install failed:\n${install.stderr}${install.stdout}`);
  installed = { project, tarball, packMs: packed.milliseconds, installMs: install.milliseconds };
  return installed;
}

/** A folder holding only a `bun` that notes each call in `log` and runs the kit's own Bun. */
function bunOnlyFolder(log: string): string {
  const folder = temporaryFolder("ark-bun-path-");
  const script = join(folder, "bun");
  writeFileSync(script, `#!/bin/sh\necho "$@" >> '${log}'\nexec '${realpathSync(BUN)}' "$@"\n`, { mode: 0o755 });
  return folder;
}

describe("the npm package's bin commands", () => {
  test("the packed tarball holds the launchers, the .ts scripts and the built dist/ bundles", () => {
    const { tarball, packMs, installMs } = packAndInstall();
    const listing = run("tar", ["tzf", tarball], dirname(tarball)).stdout.split("\n");
    for (const verb of VERBS) {
      expect(listing).toContain(`package/bin/autoresearch-${verb}.mjs`);
      expect(listing).toContain(`package/scripts/${verb}.ts`);
      expect(listing).toContain(`package/dist/${verb}.js`);
    }
    expect(listing).toContain("package/bin/launch.mjs");
    expect(listing).toContain("package/dist/levers_python.py");
    console.error(`npm pack ${packMs} ms, npm install of the tarball ${installMs} ms`);
  });

  test("npx autoresearch-<verb> --help works with Node and no Bun on PATH", async () => {
    const { project } = packAndInstall();
    expect(PATH_WITHOUT_BUN.split(":").some((folder) => existsSync(join(folder, "bun")))).toBe(false);
    for (const result of await helpOfEveryVerb(project, PATH_WITHOUT_BUN)) {
      const { verb, code, stderr } = result;
      expect({ verb, code, stderr }).toEqual({ verb, code: 0, stderr: "" });
      expect(result.stdout).toContain(`${verb}.ts — `);
      expect(result.stdout).toContain("Usage:");
    }
  });

  test("npx autoresearch-<verb> --help runs the verb's .ts script with Bun when Bun is on PATH", async () => {
    const { project } = packAndInstall();
    const log = join(temporaryFolder("ark-bun-log-"), "calls.txt");
    const path = `${bunOnlyFolder(log)}:${PATH_WITHOUT_BUN}`;
    for (const result of await helpOfEveryVerb(project, path)) {
      const { verb, code, stderr } = result;
      expect({ verb, code, stderr }).toEqual({ verb, code: 0, stderr: "" });
      expect(result.stdout).toContain(`${verb}.ts — `);
    }
    const calls = readFileSync(log, "utf8").trim().split("\n").sort();
    expect(calls).toEqual(
      [...VERBS].sort().map((verb) => `${join(project, "node_modules/autoresearch-kit/scripts", `${verb}.ts`)} --help`),
    );
  });

  test("under Node alone the installed bins run a real baseline and dashboard, and pass the exit status on", () => {
    const { project } = packAndInstall();
    const bins = join(project, "node_modules/.bin");
    const root = pythonExperiment();
    const baseline = run(join(bins, "autoresearch-baseline"), [], root, { PATH: PATH_WITHOUT_BUN });
    expect({ code: baseline.code, stderr: baseline.stderr.slice(-400) }).toMatchObject({ code: 0 });
    expect(baseline.stdout + baseline.stderr).toContain("node ");
    const dashboard = run(join(bins, "autoresearch-dashboard"), ["--format", "json"], root, { PATH: PATH_WITHOUT_BUN });
    expect(dashboard.code).toBe(0);
    expect(JSON.parse(dashboard.stdout)).toBeObject();
    // A usage error keeps its exit status through the launcher.
    const wrong = run(join(bins, "autoresearch-iterate"), ["--no-such-option"], root, { PATH: PATH_WITHOUT_BUN });
    const direct = run(
      NODE,
      [join(project, "node_modules/autoresearch-kit/dist/iterate.js"), "--no-such-option"],
      root,
    );
    expect(wrong.code).not.toBe(0);
    expect(wrong.code).toBe(direct.code);
  });
});

/** The experiment with the kit vendored into tools/kit/ (no node_modules anywhere up the tree). */
function vendoredExperiment(options: { noise?: number } = {}): string {
  return vendorKit(pythonExperiment(options));
}

/** Copy the kit into `root`/tools/kit/ and commit it, as a user vendoring it does. */
function vendorKit(root: string): string {
  for (const item of ["scripts", "templates", "package.json", "deno.json"]) {
    cpSync(join(KIT_ROOT, item), join(root, "tools/kit", item), { recursive: true });
  }
  sh(root, "git", ["add", "tools"]);
  sh(root, "git", ["commit", "-q", "-m", "vendor the kit"]);
  return root;
}

/** `deno run -A` as a user types it (no -q), with its own package cache. */
function denoRun(root: string, script: string, denoDir: string, args: string[] = []) {
  return run(DENO, ["run", "-A", script, ...args], root, { DENO_DIR: denoDir });
}

/** Deno's "Download <url>" lines, colour codes removed. */
const downloadLines = (stderr: string) =>
  stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\n").filter((line) => /Download\s+https?:/.test(line));
const STATISTICS_SUMMARY = /^Deno fetched the statistics packages/;
const ANY_SUMMARY = /^Deno fetched .* into its cache, once: /;

describe("Deno's first run fetches only what the run uses", () => {
  test("a deterministic eval's baseline fetches none of the statistics packages", () => {
    const root = vendoredExperiment();
    const denoDir = temporaryFolder("ark-deno-dir-");
    const baseline = denoRun(root, "tools/kit/scripts/baseline.ts", denoDir);
    expect({ code: baseline.code, stderr: baseline.code === 0 ? "" : baseline.stderr }).toEqual({
      code: 0,
      stderr: "",
    });
    const downloads = downloadLines(baseline.stderr);
    expect(downloads.filter((line) => line.includes("@stdlib"))).toEqual([]);
    expect(existsSync(join(denoDir, "npm/registry.npmjs.org/@stdlib"))).toBe(false);
    expect(baseline.stderr.split("\n").filter((line) => STATISTICS_SUMMARY.test(line))).toEqual([]);
    console.error(
      `deterministic baseline, empty Deno cache: ${downloads.length} Download lines, ${baseline.milliseconds} ms`,
    );
  });

  test("the statistics are fetched quietly on first use, summarised in one line, and a noisy baseline uses them", () => {
    const root = vendoredExperiment({ noise: 0.02 });
    const denoDir = temporaryFolder("ark-deno-dir-");
    writeFileSync(
      join(root, "probe.ts"),
      `import { onPackagesFetched } from "./tools/kit/scripts/lib/cli/packages.ts";
import { fUpperTail, studentTQuantile } from "./tools/kit/scripts/lib/decision/stats.ts";
onPackagesFetched((summary) => console.error(summary));
console.log(JSON.stringify([studentTQuantile(0.975, 5), fUpperTail(3, 2, 10)]));
`,
    );
    const probe = (label: string) => {
      const result = run(DENO, ["run", "-A", "--config", "tools/kit/deno.json", "probe.ts"], root, {
        DENO_DIR: denoDir,
      });
      expect({ label, code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({
        label,
        code: 0,
        stderr: "",
      });
      const [quantile, tail] = JSON.parse(result.stdout) as [number, number];
      expect(quantile).toBeCloseTo(2.5706, 4);
      expect(tail).toBeCloseTo(1.6 ** -5, 9); // F(2, 10) upper tail: (1 + 2x/10)^-5
      expect(downloadLines(result.stderr)).toEqual([]);
      return result;
    };
    const first = probe("first use");
    const summary = first.stderr.split("\n").filter((line) => STATISTICS_SUMMARY.test(line));
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatch(
      /@stdlib\/stats-base-dists-t-quantile, @stdlib\/stats-base-dists-f-cdf with their dependencies \(\d+ packages, [\d.]+ s\)\.$/,
    );
    expect(first.stderr.trim().split("\n")).toEqual(summary);
    const second = probe("cached");
    expect(second.stderr).toBe("");

    const baseline = denoRun(root, "tools/kit/scripts/baseline.ts", denoDir);
    expect({ code: baseline.code, stderr: baseline.code === 0 ? "" : baseline.stderr }).toEqual({
      code: 0,
      stderr: "",
    });
    expect(downloadLines(baseline.stderr).filter((line) => line.includes("@stdlib"))).toEqual([]);
    expect(baseline.stderr).toMatch(/[Mm]in(?:imum)? detectable effect \d/);
    console.error(`statistics on first use: probe ${first.milliseconds} ms, cached ${second.milliseconds} ms`);
  });
  test("a first init and baseline of a Python experiment print no Download line and one summary line at most", () => {
    const root = vendorKit(makeRepo({ "src/predict.py": PRICE_MODEL_PY, "data/cases.json": priceCasesJson() }));
    const denoDir = temporaryFolder("ark-deno-dir-");
    const init = denoRun(root, "tools/kit/scripts/init.ts", denoDir, [
      "src/predict.py",
      "--test-data",
      "data/cases.json",
      "--metric",
      "mae",
      "--iterations",
      "10",
      "--yes",
    ]);
    expect({ code: init.code, stderr: init.code === 0 ? "" : init.stderr }).toEqual({ code: 0, stderr: "" });
    sh(root, "git", ["add", "-A"]);
    sh(root, "git", ["commit", "-q", "-m", "autoresearch harness"]);
    const baseline = denoRun(root, "tools/kit/scripts/baseline.ts", denoDir);
    expect({ code: baseline.code, stderr: baseline.code === 0 ? "" : baseline.stderr }).toEqual({
      code: 0,
      stderr: "",
    });
    const stderr = init.stderr + baseline.stderr;
    expect(downloadLines(stderr)).toEqual([]);
    const summaries = stderr.split("\n").filter((line) => ANY_SUMMARY.test(line));
    expect(summaries.length).toBeLessThanOrEqual(1);
    // What the run used was fetched (the experiment file's parsers), and nothing else of the kit's.
    expect(summaries.join("\n")).not.toMatch(/@babel|@stdlib/);
    const fetched = join(denoDir, "npm/registry.npmjs.org");
    expect({ yaml: existsSync(join(fetched, "yaml")), zod: existsSync(join(fetched, "zod")) }).toEqual({
      yaml: true,
      zod: true,
    });
    expect({ babel: existsSync(join(fetched, "@babel")), stdlib: existsSync(join(fetched, "@stdlib")) }).toEqual({
      babel: false,
      stdlib: false,
    });
    console.error(`Python init + baseline, empty Deno cache: ${init.milliseconds} + ${baseline.milliseconds} ms`);
  });

  test("a TypeScript file's init fetches the parser quietly, with its own summary line", () => {
    const root = vendorKit(makeRepo({
      "src/score.ts":
        "export const WEIGHT = 1.0;\n\nexport function predict(size: number): number {\n  return WEIGHT * size;\n}\n",
      "data/cases.json": priceCasesJson().replace(
        "def predict(size: float) -> float",
        "function predict(size: number): number",
      ),
    }));
    const denoDir = temporaryFolder("ark-deno-dir-");
    const init = denoRun(root, "tools/kit/scripts/init.ts", denoDir, [
      "src/score.ts",
      "--test-data",
      "data/cases.json",
      "--metric",
      "mae",
      "--yes",
    ]);
    expect({ code: init.code, stderr: init.code === 0 ? "" : init.stderr }).toEqual({ code: 0, stderr: "" });
    expect(downloadLines(init.stderr)).toEqual([]);
    expect(init.stderr.split("\n").filter((line) => /^Deno fetched the TypeScript parser/.test(line))).toEqual([
      expect.stringMatching(/: @babel\/parser with its dependencies \(\d+ packages?, [\d.]+ s\)\.$/),
    ]);
    // The levers came from the parsed file, so the parser really loaded.
    expect(readFileSync(join(root, "instructions.md"), "utf8")).toContain("`WEIGHT`");
  });
});

const TERMINAL_SUMMARY = /^Deno fetched the terminal table and colours/;

/** The summary lines of `stderr`, by the package group they name (its purpose). */
function summariesByGroup(stderr: string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const line of stderr.split("\n").filter((line) => ANY_SUMMARY.test(line))) {
    const purpose = line.replace(/^Deno fetched (.*) into its cache, once: .*$/, "$1");
    groups.set(purpose, [...(groups.get(purpose) ?? []), line]);
  }
  return groups;
}

describe("Deno's first dashboard fetches the terminal table and colours only for the text format", () => {
  /** A baselined experiment with one kept iteration (a table row to draw), the kit vendored. */
  function iteratedExperiment(): string {
    const root = baselined();
    setLever(root, "WEIGHT", "2.0");
    const step = runScript("iterate", ["-m", "raise weight to 2"], { cwd: root });
    expect({ code: step.code, stderr: step.code === 0 ? "" : step.stderr }).toEqual({ code: 0, stderr: "" });
    return vendorKit(root);
  }

  test("a first text dashboard prints no Download line, one summary line per group at most, and the table", () => {
    const root = iteratedExperiment();
    const denoDir = temporaryFolder("ark-deno-dir-");
    const first = denoRun(root, "tools/kit/scripts/dashboard.ts", denoDir, ["--format", "text"]);
    expect({ code: first.code, stderr: first.code === 0 ? "" : first.stderr }).toEqual({ code: 0, stderr: "" });
    expect(downloadLines(first.stderr)).toEqual([]);
    const groups = summariesByGroup(first.stderr);
    for (const [purpose, lines] of groups) expect({ purpose, lines: lines.length }).toEqual({ purpose, lines: 1 });
    expect(first.stderr.split("\n").filter((line) => TERMINAL_SUMMARY.test(line))).toEqual([
      expect.stringMatching(/: cli-table3, chalk with their dependencies \(\d+ packages, [\d.]+ s\)\.$/),
    ]);
    // The packages really loaded: cli-table3 drew the row of the kept iteration.
    expect(first.stdout).toMatch(/│\s*1\s*│.*│\s*keep\s*│\s*raise weight to 2/);
    expect(first.stdout).toContain("Autoresearch Dashboard");

    const cached = denoRun(root, "tools/kit/scripts/dashboard.ts", denoDir, ["--format", "text", "--no-write"]);
    expect({ code: cached.code, stderr: cached.code === 0 ? "" : cached.stderr }).toEqual({ code: 0, stderr: "" });
    expect(cached.stderr.split("\n").filter((line) => ANY_SUMMARY.test(line) || /Download/.test(line))).toEqual([]);
    expect(cached.stdout).toBe(first.stdout);
    console.error(`first Deno text dashboard, empty cache: ${first.milliseconds} ms, cached ${cached.milliseconds} ms`);
  });

  test("the md, json and html dashboards fetch neither cli-table3 nor chalk", () => {
    const root = iteratedExperiment();
    const denoDir = temporaryFolder("ark-deno-dir-");
    for (const format of ["md", "json", "html"]) {
      const result = denoRun(root, "tools/kit/scripts/dashboard.ts", denoDir, ["--format", format]);
      expect({ format, code: result.code, stderr: result.code === 0 ? "" : result.stderr }).toEqual({
        format,
        code: 0,
        stderr: "",
      });
      expect({ format, downloads: downloadLines(result.stderr) }).toEqual({ format, downloads: [] });
      expect({ format, summaries: result.stderr.split("\n").filter((line) => TERMINAL_SUMMARY.test(line)) })
        .toEqual({ format, summaries: [] });
      expect(result.stdout).toContain("raise weight to 2");
    }
    const fetched = join(denoDir, "npm/registry.npmjs.org");
    expect({ chalk: existsSync(join(fetched, "chalk")), table: existsSync(join(fetched, "cli-table3")) }).toEqual({
      chalk: false,
      table: false,
    });
  });
});
