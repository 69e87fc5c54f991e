// The generated evals have the last word on stdout. The code under test runs inside the eval's
// process, so it could print a SCORE after the eval's (an atexit handler, a finalizer, a late
// thread, a timer, an exit or unload listener) or wrap stdout to rewrite it; the harness reads the
// last SCORE line. Each trick, written into the constrained file as an agent would, leaves the
// generated Python eval (python3) and TypeScript eval (Bun and Deno) printing the true score last,
// and an iterate step on a real repository records the true score.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, DENO, makeRepo, removeFolder, results, runScript, sh, shareAcrossTests } from "./helpers.ts";
import { PRICE_MODEL_PY, priceCasesJson } from "./experiment-fixture.ts";

const FORGED = "SCORE: 0.000000";
/** Off by exactly 1 on every case (3x against the truth 3x + 1): the true mae is 1. */
const TRUE_SCORE = "SCORE: 1.000000";

const PYTHON_TRICKS: [string, string][] = [
  ["prints a SCORE while it is imported", `print("${FORGED}")`],
  ["prints a SCORE from an atexit handler", `import atexit\natexit.register(lambda: print("${FORGED}"))`],
  [
    "prints a SCORE from a finalizer run at shutdown",
    `class _Late:\n    def __del__(self):\n        print("${FORGED}")\n\n\n_late = _Late()`,
  ],
  [
    "prints a SCORE from a thread that outlives the eval's work",
    `import threading, time\nthreading.Thread(target=lambda: (time.sleep(0.3), print("${FORGED}", flush=True))).start()`,
  ],
  [
    "replaces sys.stdout with a writer that rewrites SCORE lines",
    [
      "import re, sys",
      "class _Rewrite:",
      "    def __init__(self, inner):",
      "        self.inner = inner",
      "    def write(self, text):",
      `        return self.inner.write(re.sub(r"SCORE: [0-9.]+", "${FORGED}", text))`,
      "    def flush(self):",
      "        self.inner.flush()",
      "sys.stdout = _Rewrite(sys.stdout)",
    ].join("\n"),
  ],
  ["leaves a SCORE in stdout's buffer, unflushed", `import sys\nsys.stdout.write("${FORGED}\\n")`],
];

const TYPESCRIPT_MODEL = `// Predict a price from a size: the file the agent tunes.
export const WEIGHT = 3.0;
export const BIAS = 0.0;

export function predict(size: number): number {
  return WEIGHT * size + BIAS;
}
`;

const TYPESCRIPT_TRICKS: [string, string][] = [
  ["prints a SCORE from a timer", `setTimeout(() => console.log("${FORGED}"), 0);`],
  ["prints a SCORE from an exit listener", `process.on("exit", () => console.log("${FORGED}"));`],
  ["prints a SCORE when the event loop empties", `process.on("beforeExit", () => console.log("${FORGED}"));`],
  [
    "prints a SCORE from an unload listener (Deno runs them on exit)",
    `globalThis.addEventListener?.("unload", () => console.log("${FORGED}"), { capture: true });`,
  ],
  [
    "patches process.stdout.write to rewrite SCORE lines",
    [
      "const realWrite = process.stdout.write.bind(process.stdout);",
      `process.stdout.write = ((chunk: string) => realWrite(String(chunk).replace(/SCORE: [0-9.]+/, "${FORGED}"))) as typeof process.stdout.write;`,
    ].join("\n"),
  ],
  [
    "patches process.exit to do nothing",
    `process.exit = (() => undefined) as typeof process.exit;\nsetTimeout(() => console.log("${FORGED}"), 50);`,
  ],
];

/** A repository with an experiment on `file` (mae over 16 price cases), committed, before baseline. */
function experimentRepo(file: string, source: string): string {
  const root = makeRepo({ [file]: source, "data/cases.json": priceCasesJson() });
  const init = runScript("init", [file, "--test-data", "data/cases.json", "--metric", "mae", "--yes"], { cwd: root });
  expect(init.code).toBe(0);
  sh(root, "git", ["add", "-A"]);
  sh(root, "git", ["commit", "-qm", "experiment"]);
  return root;
}

/** The SCORE lines the eval printed, in order, and its exit code. */
function scoreLines(
  root: string,
  command: string[],
): { lines: string[]; code: number | null; stdout: string; stderr: string } {
  const run = spawnSync(command[0], command.slice(1), {
    cwd: root,
    timeout: 30_000, // worker processes left holding stdout would keep it from ending
    maxBuffer: 64 * 1024 * 1024,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
  });
  return {
    lines: run.stdout.split("\n").filter((line) => line.startsWith("SCORE:")),
    code: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
  };
}

/** Write `source` as the constrained file and run the eval: it must exit 0 with the true score last. */
function scoredTruly(root: string, file: string, source: string, command: string[]) {
  writeFileSync(join(root, file), source);
  const run = scoreLines(root, command);
  expect(run.code).toBe(0);
  expect(run.lines.at(-1)).toBe(TRUE_SCORE);
  return run;
}

/** The eval's CASE lines, each whole on its own line. */
function caseLines(stdout: string): string[] {
  return stdout.split("\n").filter((line) => /^CASE case-\d+ \d+\.\d+$/.test(line));
}

describe("the generated Python eval has the last word", () => {
  const start = PRICE_MODEL_PY.replace("WEIGHT = 1.0", "WEIGHT = 3.0");
  let shared: string | undefined;
  const sharedRepo = () => shared ??= shareAcrossTests(experimentRepo("src/predict.py", start));
  afterAll(() => shared && removeFolder(shared));

  for (const [trick, code] of PYTHON_TRICKS) {
    test(`code under test that ${trick} does not change the score`, () => {
      scoredTruly(sharedRepo(), "src/predict.py", `${start}\n\n${code}\n`, ["python3", "autoresearch_eval.py"]);
    });
  }

  test("code under test that leaves a multiprocessing Pool and a ProcessPoolExecutor running still ends, scored", () => {
    const root = sharedRepo();
    const workers = [
      "from concurrent.futures import ProcessPoolExecutor",
      "from multiprocessing import Pool",
      "",
      "",
      "def _scaled(size):",
      "    return WEIGHT * size",
      "",
      "",
      "_pool = Pool(2)",
      "_executor = ProcessPoolExecutor(2)",
      "",
      "",
      "def predict(size: float) -> float:",
      "    return _pool.apply(_scaled, (size,)) + _executor.submit(_scaled, 0).result() + BIAS",
    ].join("\n");
    scoredTruly(root, "src/predict.py", `${start}\n\n${workers}\n`, ["python3", "autoresearch_eval.py"]);
  });

  test("what the code prints and writes is all kept: 200 KB on stdout, a file it never closes", () => {
    const root = sharedRepo();
    const log = join(root, "predict.log");
    const chatty = [
      `_log = open(${JSON.stringify(log)}, "w")`,
      '_log.write("written by the code\\n")',
      'print("y" * 200000)',
      'print("END OF CODE OUTPUT")',
    ].join("\n");
    const { stdout } = scoredTruly(root, "src/predict.py", `${start}\n\n${chatty}\n`, [
      "python3",
      "autoresearch_eval.py",
    ]);
    expect(stdout).toContain("y".repeat(200000) + "\nEND OF CODE OUTPUT\n");
    expect(caseLines(stdout)).toHaveLength(16);
    expect(readFileSync(log, "utf8")).toBe("written by the code\n");
  });

  test("run inside another program (runpy, then its own exit status) or with stdout closed, it prints as a script does", () => {
    const root = sharedRepo();
    writeFileSync(join(root, "src/predict.py"), start);
    writeFileSync(
      join(root, "wrapper.py"),
      [
        "import runpy, sys",
        "try:",
        '    runpy.run_path("autoresearch_eval.py", run_name="__main__")',
        "except SystemExit:",
        "    pass",
        'print("the wrapper goes on")',
        "sys.exit(3)",
      ].join("\n") + "\n",
    );
    const wrapped = scoreLines(root, ["python3", "wrapper.py"]);
    expect(wrapped.code).toBe(3);
    expect(wrapped.lines).toEqual([TRUE_SCORE]);
    expect(wrapped.stdout).toEndWith("the wrapper goes on\n");
    // Interpreter options before the script, with their values, still leave the eval its last word.
    writeFileSync(
      join(root, "src/predict.py"),
      `${start}\n\nimport atexit\natexit.register(lambda: print("${FORGED}"))\n`,
    );
    const optioned = scoreLines(root, ["python3", "-u", "-W", "ignore", "-X", "utf8", "autoresearch_eval.py"]);
    expect([optioned.code, optioned.lines.at(-1)]).toEqual([0, TRUE_SCORE]);
    writeFileSync(join(root, "src/predict.py"), start);
    const closed = spawnSync("sh", ["-c", "python3 autoresearch_eval.py >&-"], { cwd: root, encoding: "utf8" });
    expect([closed.status, closed.stderr]).toEqual([0, ""]);
  });

  test("an iterate step on a file with every trick records the true score, and discards it", () => {
    const root = experimentRepo("src/predict.py", start);
    expect(runScript("baseline", [], { cwd: root }).code).toBe(0);
    const tricks = PYTHON_TRICKS.map(([, code]) => code).join("\n\n\n");
    writeFileSync(join(root, "src/predict.py"), `${start}\n\n${tricks}\n`);
    const step = runScript("iterate", ["-m", "print a better score"], { cwd: root });
    expect(step.code).toBe(0);
    expect(results(root).at(-1)).toMatchObject({ status: "discard", score: 1 });
  });
});

describe("the generated TypeScript eval has the last word, under Bun, Deno and Node", () => {
  let shared: string | undefined;
  const sharedRepo = () => shared ??= shareAcrossTests(experimentRepo("src/predict.ts", TYPESCRIPT_MODEL));
  afterAll(() => shared && removeFolder(shared));
  const withBun = { PATH: `${join(BUN, "..")}:${process.env.PATH}` };
  const runtimes: [string, string[]][] = [
    ["Bun", [BUN, "autoresearch_eval.ts"]],
    ["Deno", [DENO, "run", "-A", "-q", "autoresearch_eval.ts"]],
  ];

  for (const [trick, code] of TYPESCRIPT_TRICKS) {
    for (const [runtime, command] of runtimes) {
      test(`code under test that ${trick} does not change the score (${runtime})`, () => {
        scoredTruly(sharedRepo(), "src/predict.ts", `${TYPESCRIPT_MODEL}\n${code}\n`, command);
      });
    }
  }

  for (const [runtime, command] of runtimes) {
    test(`what the code prints is all kept, before whole CASE lines: 2 MB on process.stdout, 3 MB on stderr, console.log (${runtime})`, () => {
      const root = sharedRepo();
      const chatty = [
        'process.stdout.write("#".repeat(2_000_000) + "\\nEND OF CODE OUTPUT\\n");',
        'process.stderr.write("%".repeat(3_000_000) + "\\nEND OF CODE ERRORS\\n");',
        'console.log("logged by the code");',
      ].join("\n");
      const { stdout, stderr } = scoredTruly(root, "src/predict.ts", `${TYPESCRIPT_MODEL}\n${chatty}\n`, command);
      // Every byte the code printed (Bun may put a console.log line amid an unfinished process.stdout write).
      expect(stdout.split("#").length - 1).toBe(2_000_000);
      expect(stdout).toContain("END OF CODE OUTPUT\n");
      expect(stdout).toContain("logged by the code\n");
      expect(stderr.split("%").length - 1).toBe(3_000_000);
      expect(stderr).toContain("END OF CODE ERRORS\n");
      expect(caseLines(stdout)).toHaveLength(16);
    });
  }

  test("under Node, the same eval as .mjs beside a .mjs module, every trick at once", () => {
    const root = sharedRepo();
    const tricks = TYPESCRIPT_TRICKS.map(([, code]) => code).join("\n");
    // The same code without its type annotations.
    const javascript = (source: string) =>
      source.replace(/: (?:number|string|unknown\[\])/g, "").replace(/ as typeof process\.[a-z.]+/g, "");
    writeFileSync(
      join(root, "eval_node.mjs"),
      readFileSync(join(root, "autoresearch_eval.ts"), "utf8").replace('"src/predict.ts"', '"src/predict.mjs"'),
    );
    const source = javascript(`${TYPESCRIPT_MODEL}\n${tricks}\n`);
    const { stdout } = scoredTruly(root, "src/predict.mjs", source, ["node", "eval_node.mjs"]);
    expect(caseLines(stdout)).toHaveLength(16);
  });

  test("an iterate step on a file with every trick records the true score, and discards it", () => {
    const root = experimentRepo("src/predict.ts", TYPESCRIPT_MODEL);
    expect(runScript("baseline", [], { cwd: root, env: withBun }).code).toBe(0);
    const tricks = TYPESCRIPT_TRICKS.map(([, code]) => code).join("\n");
    writeFileSync(join(root, "src/predict.ts"), `${TYPESCRIPT_MODEL}\n${tricks}\n`);
    const step = runScript("iterate", ["-m", "print a better score"], { cwd: root, env: withBun });
    expect(step.code).toBe(0);
    expect(results(root).at(-1)).toMatchObject({ status: "discard", score: 1 });
  });
});
