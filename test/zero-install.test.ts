// Zero-install use: the kit vendored into a repository as plain files — scripts/, templates/,
// package.json and deno.json copied to tools/autoresearch-kit/ and committed — and
// run with no `npm install` and no node_modules anywhere up the tree: `deno run -A` resolves
// packages through deno.json's npm: imports into Deno's cache, Bun auto-installs them into its
// cache at the ranges package.json pins. Runs a pipeline under each, and checks the versions.
// NEEDS the npm registry when Deno's or Bun's package cache is cold (the first run downloads a
// few MB; later runs are offline). Set AUTORESEARCH_OFFLINE=1 to skip the network-bound tests.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { BUN, DENO, KIT_ROOT, makeRepo, read, sh, temporaryFolder, writeFiles } from "./helpers.ts";
import { NOISY_PRICE_MODEL_PY, priceCasesJson } from "./experiment-fixture.ts";

type Runtime = "bun" | "deno";

/** What a vendored copy needs: the scripts, the templates init renders, and the version pins. */
export const VENDORED_FILES = ["scripts", "templates", "package.json", "deno.json"];
const VENDOR_DIR = "tools/autoresearch-kit";
const OFFLINE = process.env.AUTORESEARCH_OFFLINE === "1";
const PACKAGE = JSON.parse(readFileSync(join(KIT_ROOT, "package.json"), "utf8")) as {
  dependencies: Record<string, string>;
};
const DENO_CONFIG = JSON.parse(readFileSync(join(KIT_ROOT, "deno.json"), "utf8")) as {
  imports: Record<string, string>;
  nodeModulesDir?: string;
  lock?: boolean;
};

/** The first node_modules folder at or above `path`, if any: Bun would then not auto-install. */
function nodeModulesAbove(path: string): string | null {
  for (let folder = path;; folder = dirname(folder)) {
    if (existsSync(join(folder, "node_modules"))) return join(folder, "node_modules");
    if (dirname(folder) === folder) return null;
  }
}

/** A fresh git repository with the kit copied into tools/autoresearch-kit/ and committed. */
function vendoredRepo(): string {
  const root = makeRepo({ "predict.py": NOISY_PRICE_MODEL_PY, "cases.json": priceCasesJson() }, { commit: false });
  for (const item of VENDORED_FILES) cpSync(join(KIT_ROOT, item), join(root, VENDOR_DIR, item), { recursive: true });
  sh(root, "git", ["add", "-A"]);
  sh(root, "git", ["commit", "-q", "-m", "vendor autoresearch-kit"]);
  return root;
}

function runVendored(runtime: Runtime, root: string, verb: string, args: string[]) {
  const script = join(VENDOR_DIR, "scripts", `${verb}.ts`);
  const [command, prefix] = runtime === "bun" ? [BUN, []] : [DENO, ["run", "-A", "-q"]];
  const result = spawnSync(command, [...prefix, script, ...args], {
    cwd: root,
    encoding: "utf8",
    input: "",
    timeout: 110_000,
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
  });
  if (result.status !== 0) {
    throw new Error(
      `${runtime} ${script} ${args.join(" ")} exited ${result.status}:\n${result.stderr}${result.stdout}`,
    );
  }
  return result.stdout;
}

/** Bare package names imported by the kit's scripts at run time (type-only imports excluded). */
function importedPackages(): Set<string> {
  const names = new Set<string>();
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith(".ts")) {
        const text = readFileSync(path, "utf8");
        for (
          const match of text.matchAll(
            /^import (?!type )[^;]*?from "([^".][^"]*)"|\b(?:import|requireModule)\("([^".][^"]*)"\)|\b(?:requirePackage|importPackage)\("\w+", "([^".][^"]*)"\)/gm,
          )
        ) {
          const specifier = match[1] ?? match[2] ?? match[3];
          if (specifier.startsWith("node:")) continue;
          names.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]);
        }
      }
    }
  };
  visit(join(KIT_ROOT, "scripts"));
  return names;
}

describe("deno.json, the import map for Deno without node_modules", () => {
  test("deno.json maps exactly the packages the scripts import, at the ranges package.json pins", () => {
    const imported = [...importedPackages()].sort();
    expect(Object.keys(DENO_CONFIG.imports).sort()).toEqual(imported);
    for (const name of imported) {
      expect(PACKAGE.dependencies[name]).toBeDefined();
      expect(DENO_CONFIG.imports[name]).toBe(`npm:${name}@${PACKAGE.dependencies[name]}`);
    }
    // Deno's own cache everywhere: "auto" would rewrite npm's node_modules in a checkout.
    expect(DENO_CONFIG.nodeModulesDir).toBe("none");
    // No deno.lock: Deno would write one into a vendored copy and grow it as each script loads
    // new packages, changing a file in the user's repository in the middle of an experiment.
    expect(DENO_CONFIG.lock).toBe(false);
  });
});

describe.skipIf(OFFLINE)(
  "zero-install: a vendored copy with no node_modules (needs the npm registry on a cold cache)",
  () => {
    beforeAll(() => {
      const above = nodeModulesAbove(tmpdir());
      if (above) {
        throw new Error(
          `${above} exists above the temporary folder, so Bun would not auto-install; remove it or set TMPDIR elsewhere`,
        );
      }
    });

    test.each(["deno", "bun"] as const)(
      "%s runs init, baseline, a keep and dashboard JSON from tools/autoresearch-kit/ with no install",
      (runtime) => {
        const root = vendoredRepo();
        const init = JSON.parse(
          runVendored(runtime, root, "init", [
            "predict.py",
            "--test-data",
            "cases.json",
            "--metric",
            "mae",
            "--iterations",
            "5",
            "--yes",
            "--json",
          ]),
        );
        expect(init.warnings).toEqual([]);
        expect(init.next).toBe(
          runtime === "bun" ? `bun ${VENDOR_DIR}/scripts/baseline.ts` : `deno run -A ${VENDOR_DIR}/scripts/baseline.ts`,
        );
        expect(read(root, "instructions.md")).toContain("WEIGHT"); // templates/ found beside scripts/

        const baseline = JSON.parse(runVendored(runtime, root, "baseline", ["--json"]));
        expect(baseline.score).toBeGreaterThan(17);
        expect(baseline.min_detectable_effect).toBeGreaterThan(0);

        writeFiles(root, { "predict.py": NOISY_PRICE_MODEL_PY.replace("WEIGHT = 1.0", "WEIGHT = 3.0") });
        expect(JSON.parse(runVendored(runtime, root, "iterate", ["-m", "raise WEIGHT to 3", "--json"])).status).toBe(
          "keep",
        );

        const dashboard = JSON.parse(runVendored(runtime, root, "dashboard", ["--format", "json"]));
        expect(dashboard.summary.counts).toMatchObject({ keep: 1 });

        // Nothing was installed into the repository, and the vendored kit is untouched (no deno.lock).
        expect(nodeModulesAbove(join(root, VENDOR_DIR, "scripts/lib"))).toBeNull();
        expect(sh(root, "git", ["status", "--porcelain", "--", VENDOR_DIR])).toBe("");
      },
    );

    test("the copy loads every package within the range package.json pins, under Bun and Deno", () => {
      const root = temporaryFolder("ark-zero-versions-");
      for (const item of VENDORED_FILES) cpSync(join(KIT_ROOT, item), join(root, item), { recursive: true });
      const names = Object.keys(DENO_CONFIG.imports);
      // Literal imports, so Deno's module graph holds every package (its require needs that too).
      const probe = [
        `import { createRequire } from "node:module";`,
        `const require = createRequire(import.meta.url);`,
        ...names.map((name) => `await import(${JSON.stringify(name)});`),
        `for (const name of ${JSON.stringify(names)}) console.log(name + " " + require.resolve(name));`,
      ].join("\n");
      writeFileSync(join(root, "scripts/lib/probe-versions.ts"), probe);
      for (const runtime of ["bun", "deno"] as const) {
        const [command, prefix] = runtime === "bun" ? [BUN, []] : [DENO, ["run", "-A", "-q"]];
        const result = spawnSync(command, [...prefix, "scripts/lib/probe-versions.ts"], {
          cwd: root,
          encoding: "utf8",
          timeout: 110_000,
        });
        expect(result.stderr).toBe("");
        for (const line of result.stdout.trim().split("\n")) {
          const [name, path] = line.split(" ");
          // …/chalk@5.6.2@@@1/… in Bun's cache, …/chalk/5.6.2/… in Deno's.
          const version = /^[@/](\d+\.\d+\.\d+)/.exec(path.slice(path.lastIndexOf(name) + name.length))?.[1];
          expect({ runtime, name, version: version && Bun.semver.satisfies(version, PACKAGE.dependencies[name]) })
            .toEqual({ runtime, name, version: true });
        }
      }
      expect(existsSync(join(root, "node_modules"))).toBe(false);
    });
  },
);
