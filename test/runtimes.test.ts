// The runtime matrix: one whole pipeline per runtime, as a user would run it — init on a small
// Python file with filled test data, baseline, an iterate step that keeps and one that discards,
// dashboard --format json and, when scripts/next-round.ts exists, next-round — under Bun and
// Deno (`deno run -A` on the .ts scripts) and Node (the dist/ bundles, rebuilt in beforeAll so
// they match the sources). The constrained file adds a little noise to every prediction, so the
// keep/discard rule needs its Student-t quantiles: the lazily loaded @stdlib packages are
// exercised under every runtime. Needs python3 and node >= 20 on PATH.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BUN, DENO, journal, KIT_ROOT, makeRepo, read, type ScriptName, writeFiles } from "./helpers.ts";
import { NOISY_PRICE_MODEL_PY, priceCasesJson } from "./experiment-fixture.ts";
import { buildNodeBundles, DIST_DIR } from "../build/node.ts";

type Runtime = "bun" | "deno" | "node";
type Run = { code: number | null; stdout: string; stderr: string; milliseconds: number };

const RUNTIMES: Runtime[] = ["bun", "deno", "node"];
const HAS_NEXT_ROUND = existsSync(join(KIT_ROOT, "scripts/next-round.ts"));
const VERBS: ScriptName[] = [
  "init",
  "baseline",
  "iterate",
  "dashboard",
  ...(HAS_NEXT_ROUND ? ["next-round" as const] : []),
  "finalize",
];
const timings: string[] = [];

/** The command line a user types: `bun scripts/x.ts`, `deno run -A scripts/x.ts`, `node dist/x.js`. */
function commandFor(runtime: Runtime, verb: ScriptName): [string, string[]] {
  if (runtime === "bun") return [BUN, [join(KIT_ROOT, "scripts", `${verb}.ts`)]];
  if (runtime === "deno") return [DENO, ["run", "-A", "-q", join(KIT_ROOT, "scripts", `${verb}.ts`)]];
  return ["node", [join(DIST_DIR, `${verb}.js`)]];
}

function run(runtime: Runtime, verb: ScriptName, args: string[], cwd: string): Run {
  const [command, prefix] = commandFor(runtime, verb);
  const started = performance.now();
  const result = spawnSync(command, [...prefix, ...args], {
    cwd,
    encoding: "utf8",
    input: "",
    timeout: 110_000,
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
  });
  const milliseconds = Math.round(performance.now() - started);
  return { code: result.status, stdout: result.stdout ?? "", stderr: result.stderr ?? "", milliseconds };
}

/** Run, expect exit 0 (showing stderr when not), and note the time for the summary. */
function ok(runtime: Runtime, verb: ScriptName, args: string[], cwd: string): Run {
  const result = run(runtime, verb, args, cwd);
  if (result.code !== 0) {
    throw new Error(`${runtime} ${verb} ${args.join(" ")} exited ${result.code}:\n${result.stderr}${result.stdout}`);
  }
  timings.push(
    `${runtime.padEnd(5)} ${`${verb} ${args.join(" ")}`.slice(0, 48).padEnd(48)} ${
      String(result.milliseconds).padStart(6)
    } ms`,
  );
  return result;
}

beforeAll(async () => {
  const node = spawnSync("node", ["--version"], { encoding: "utf8" });
  if (node.status !== 0) throw new Error("node is not on PATH: the runtime matrix needs Node >= 20");
  const major = Number(/^v(\d+)/.exec(node.stdout)?.[1]);
  if (!(major >= 20)) throw new Error(`the runtime matrix needs Node >= 20, found ${node.stdout.trim()}`);
  await buildNodeBundles();
});

afterAll(() => {
  if (process.env.AUTORESEARCH_TIMINGS) process.stderr.write(`\nruntime matrix timings:\n${timings.join("\n")}\n`);
});

describe.each(RUNTIMES)("runtime matrix: %s", (runtime) => {
  test(`every script prints its --help under ${runtime}`, () => {
    for (const verb of VERBS) {
      const result = ok(runtime, verb, ["--help"], KIT_ROOT);
      expect(result.stdout).toContain(`${verb}.ts — `);
      expect(result.stdout).toContain("\nExit codes:\n"); // the last section arrived whole
    }
  });

  test(`init, baseline, a keep, a discard, dashboard JSON${HAS_NEXT_ROUND ? " and next-round" : ""} under ${runtime}`, () => {
    const root = makeRepo({ "predict.py": NOISY_PRICE_MODEL_PY, "cases.json": priceCasesJson({ padIds: true }) });

    const init = JSON.parse(
      ok(runtime, "init", [
        "predict.py",
        "--test-data",
        "cases.json",
        "--metric",
        "mae",
        "--iterations",
        "10",
        "--yes",
        "--json",
      ], root).stdout,
    );
    expect(init.ok).toBe(true);
    expect(init.levers.map((lever: { name: string }) => lever.name)).toEqual(["WEIGHT", "BIAS"]);
    expect(init.warnings).toEqual([]); // the Python lever extractor ran (a bundle must ship levers_python.py)
    expect(read(root, "instructions.md")).toContain("WEIGHT"); // rendered from templates/
    expect(init.next).toContain(runtime === "node" ? "dist/baseline.js" : "scripts/baseline.ts");
    expect(init.next.startsWith(runtime === "deno" ? "deno run -A" : runtime)).toBe(true);

    const baselineRun = ok(runtime, "baseline", ["--json"], root);
    expect(baselineRun.stderr).not.toContain("\r"); // the status line is drawn only on a terminal
    const baseline = JSON.parse(baselineRun.stdout);
    expect(baseline.score).toBeGreaterThan(17);
    expect(baseline.sd).toBeGreaterThan(0);
    expect(baseline.min_detectable_effect).toBeGreaterThan(0); // from Student-t quantiles (@stdlib)

    writeFiles(root, { "predict.py": NOISY_PRICE_MODEL_PY.replace("WEIGHT = 1.0", "WEIGHT = 3.0") });
    const keep = JSON.parse(ok(runtime, "iterate", ["-m", "raise WEIGHT to 3", "--json"], root).stdout);
    expect(keep.status).toBe("keep");

    // A description that looks like a number stays the literal text (no minimist-style coercion).
    writeFiles(root, {
      "predict.py": NOISY_PRICE_MODEL_PY.replace("WEIGHT = 1.0", "WEIGHT = 3.0").replace("BIAS = 0.0", "BIAS = 5.0"),
    });
    const discard = JSON.parse(ok(runtime, "iterate", ["-m", "0070", "--json"], root).stdout);
    expect(discard.status).toBe("discard");
    expect(read(root, "predict.py")).toContain("BIAS = 0.0"); // restored to the incumbent
    expect(journal(root).at(-1)!.description).toBe("0070");

    const dashboardRun = ok(runtime, "dashboard", ["--format", "json"], root);
    expect(dashboardRun.stdout).not.toContain("\x1b["); // no colour off a terminal
    expect(dashboardRun.stderr).not.toContain("\r"); // no spinner frames off a terminal
    const dashboard = JSON.parse(dashboardRun.stdout);
    expect(dashboard.summary.counts).toMatchObject({ keep: 1, discard: 1, crash: 0 });
    expect(dashboard.summary.best.score).toBeLessThan(2);
    expect(dashboard.summary.iterations).toMatchObject({ done: 2, budget: 10 });

    if (HAS_NEXT_ROUND) {
      const next = JSON.parse(ok(runtime, "next-round", ["--json"], root).stdout);
      expect(next.round).toBe(2);
      expect(existsSync(join(root, "autoresearch_2.jsonl"))).toBe(true);
      expect(existsSync(join(root, "instructions_2.md"))).toBe(true);
    }
  });
});
