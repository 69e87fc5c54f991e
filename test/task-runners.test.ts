// task-runners.ts as tables: the files make, npm and their kin read without the eval command
// naming them, and the measuring tasks init offers from a project's makefile and package.json,
// in the shapes public projects write them (phony targets, pattern rules, variables, scripts).
import { describe, expect, test } from "bun:test";
import { filesReadByRunner, projectEvalCommands } from "../scripts/lib/harness/task-runners.ts";
import { commandPathWords } from "../scripts/lib/integrity/frozen-files.ts";

describe("the files a task runner reads", () => {
  test.each(
    [
      ["make", ["-s", "bench"], ["GNUmakefile", "makefile", "Makefile"]],
      ["/usr/bin/make", ["-C", "native", "bench"], ["native/GNUmakefile", "native/makefile", "native/Makefile"]],
      ["make", ["-Cnative", "bench"], ["native/GNUmakefile", "native/makefile", "native/Makefile"]],
      ["make", ["--directory=native"], ["native/GNUmakefile", "native/makefile", "native/Makefile"]],
      ["npm", ["run", "-s", "bench"], ["package.json"]],
      ["npm", ["--prefix", "web", "run", "eval"], ["web/package.json"]],
      ["pnpm", ["-C", "web", "bench"], ["web/package.json"]],
      ["yarn", ["--cwd=web", "bench"], ["web/package.json"]],
      ["bun", ["run", "bench"], ["package.json"]],
      ["bun", ["eval.ts"], []],
      ["just", ["bench"], ["justfile", "Justfile", ".justfile"]],
      ["python3", ["eval.py"], []],
    ] as const,
  )("%s %p -> %p", (command, args, expected) => {
    expect(filesReadByRunner(command, args)).toEqual([...expected]);
  });

  test("an eval command's words include them, after cd; make's -C folder is a word, not a file to hash", () => {
    expect(commandPathWords("cd native && make -s -C kernels bench").map((word) => word.path)).toEqual([
      "native/make",
      "native/kernels/GNUmakefile",
      "native/kernels/makefile",
      "native/kernels/Makefile",
      "native/kernels",
      "native/bench",
    ]);
  });
});

describe("the project's own measuring tasks, then its test tasks", () => {
  const project = (files: Record<string, string>) => (path: string) => files[path] ?? null;
  test.each(
    [
      [
        "phony bench targets; pattern rules, variables and recipes are not targets",
        "",
        {
          Makefile: [
            "BENCH_FLAGS := -O2",
            "BENCH ?= 1",
            ".PHONY: bench bench-profile test",
            "bench: build ## run the benchmarks",
            "\t./bench/run $(BENCH_FLAGS)",
            "bench-profile: bench",
            "bench-%: build",
            "\tnode bench/$*.js",
            "test: build",
            "perf eval_quick: build",
          ].join("\n"),
        },
        ["make -s bench", "make -s bench-profile", "make -s perf", "make -s eval_quick", "make -s test"],
      ],
      [
        "a makefile above the experiment folder is run with -C",
        "services/api",
        { "services/Makefile": "benchmark:\n\tgo test -bench=.\n", Makefile: "bench:\n\ttrue\n" },
        ["make -s -C .. benchmark"],
      ],
      [
        "package.json scripts, and the nearest makefile only",
        "",
        {
          "package.json": JSON.stringify({
            scripts: { build: "tsc", bench: "node bench.js", "eval:quick": "x", test: "y" },
          }),
          GNUmakefile: "evaluate:\n\tpython3 eval.py\n",
          Makefile: "bench:\n\ttrue\n",
        },
        ["make -s evaluate", "npm run -s bench", "npm run -s eval:quick", "npm run -s test"],
      ],
      ["a package.json that does not parse offers nothing", "", { "package.json": "{ scripts: " }, []],
      ["only a test task, offered for its pass rate", "", { Makefile: "all:\n\tcc main.c\ntest:\n\t./a.out\n" }, [
        "make -s test",
      ]],
      ["neither", "", { Makefile: "all:\n\tcc main.c\n", "package.json": '{"scripts": {"build": "tsc"}}' }, []],
    ] as const,
  )("%s", (_name, dir, files, expected) => {
    expect(projectEvalCommands(dir, project(files))).toEqual([...expected]);
  });
});
