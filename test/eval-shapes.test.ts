// Evals in shapes real projects have, through the real scripts on temporary git repositories, as
// a newcomer sets them up with init --eval-cmd.
// - A metric far below 1 (an MSE of 4e-6, printed to nine decimals): init writes a resolution read
//   from the scores, baseline measures the eval as noisy (not as a deterministic eval whose every
//   change ties), a real gain is kept, and the journal, the commit message, the step line and the
//   dashboard carry four significant digits instead of "0.0000". An experiment file that sets the
//   old fixed resolution 0.0001 is told at its baseline which setting fixes it.
// - A training script in autoresearch's own shape: train.py is the constrained file and the eval,
//   prints `val_bpb:` after a `---` line and no SCORE. init takes lower as better, the val_bpb line
//   is the score (baseline says so), and then a lower val_bpb is kept and a higher one discarded.
// - An eval that prints its results as one JSON object (`{"eval_accuracy": 0.875, ...}`) under
//   another name than the metric's: the missing-SCORE message names its fields and
//   metric.score_from, and the score is read from one of them.
// - A C++ kernel benchmarked by the project's `make bench`, printing `time_ms:`: init points at
//   the make target, a folder the command names is not taken for a file, the Makefile is locked,
//   and a faster kernel is kept. A settings module no generated eval can call gets the project's
//   `make eval` in init's refusal.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { commitHarness, journal, makeRepo, results, runScript, type Runtime, setLever, sh } from "./helpers.ts";

/** A regression fitted by gradient descent: more epochs, a lower validation MSE. */
const MODEL = `# A tiny regression fitted by gradient descent; the eval scores its validation MSE.
LEARNING_RATE = 0.002
EPOCHS = 4
`;

/** The validation MSE with 1% seeded jitter, one seed per run (the same on every machine). */
const EVALUATE = `import os, random
import model
_run = int(open(".run-counter").read()) + 1 if os.path.exists(".run-counter") else 1
open(".run-counter", "w").write(str(_run))
rng = random.Random(_run)
xs = [i / 100 for i in range(100)]
w = 0.0
for _ in range(model.EPOCHS):
    for x in xs:
        w -= model.LEARNING_RATE * 2 * (w * x - 3 * x) * x
mse = ((w - 3) ** 2 * 1e-6 + 1e-6) * (1 + 0.01 * rng.gauss(0, 1))
print(f"val_mse: {mse:.9f}")
print(f"SCORE: {mse:.9f}")
`;

function newcomerRepo(runtime: Runtime = "bun"): string {
  const root = makeRepo({ "model.py": MODEL, "evaluate.py": EVALUATE, ".gitignore": ".run-counter\n" });
  const init = runScript("init", ["model.py", "--eval-cmd", "python3 evaluate.py", "--metric", "val_mse", "-y"], {
    cwd: root,
    runtime,
  });
  expect(init.code).toBe(0);
  commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);
  return root;
}

describe("a score far below 1 (an MSE of about 4e-6)", () => {
  test("init reads the resolution from the scores; baseline measures the noise, a gain is kept, every figure has its digits", () => {
    const root = newcomerRepo();
    expect(readFileSync(join(root, "autoresearch.yaml"), "utf8")).toMatch(/^ {2}resolution: null$/m);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toMatch(/^baseline 0\.00000\d{4} /m);
    expect(baseline.stdout).toMatch(/noisy; min detectable effect/);
    expect(baseline.stdout).not.toMatch(/deterministic|min_delta 0\.0001\b/);
    const baselineLine = journal(root).find((line) => line.status === "baseline")!;
    expect(baselineLine.score as number).toBeGreaterThan(3e-6);

    setLever(root, "EPOCHS", "9", { file: "model.py" });
    const kept = runScript("iterate", ["-m", "more epochs"], { cwd: root });
    expect(kept.code).toBe(0);
    const line = results(root).at(-1)!;
    expect(line.status).toBe("keep");
    // The MSE falls from about 4.2e-6 to about 1.8e-6: recorded to four significant digits.
    expect(line.score as number).toBeGreaterThan(1.5e-6);
    expect(line.score as number).toBeLessThan(2.2e-6);
    expect(String(line.score)).toMatch(/^(0\.00000|1\.\d+e-6|2\.\d+e-6)/);
    expect(line.delta).toMatch(/^-0\.00000[1-3]\d{3}$/);
    expect(line.reason).toMatch(/the candidate's mean 0\.00000\d+ over/);
    expect(kept.stdout + kept.stderr).toMatch(/score 0\.00000\d{4}/);
    expect(sh(root, "git", ["log", "-1", "--format=%s"])).toMatch(
      /\| score: 0\.00000\d{4} -> 0\.00000\d{4} \| val_mse: 0\.00000\d{4}/,
    );

    expect(runScript("dashboard", [], { cwd: root }).code).toBe(0);
    const dashboard = readFileSync(join(root, "autoresearch_dashboard.md"), "utf8");
    expect(dashboard).toMatch(/\*\*Progress:\*\* 0\.00000\d{4} → 0\.00000\d{4} \(-0\.00000\d{4}, -\d+\.\d%\)/);
    expect(dashboard).not.toMatch(/[+-]0\.0000[ ,|)]/);

    expect(runScript("iterate", ["--final-report"], { cwd: root }).code).toBe(0);
    expect(readFileSync(join(root, "autoresearch_report.md"), "utf8")).toMatch(/\(gain \+0\.00000\d{4}, /);
    expect(runScript("next-round", [], { cwd: root }).code).toBe(0);
    const instructions = readFileSync(join(root, "instructions_2.md"), "utf8");
    expect(instructions).toMatch(/- #1 more epochs: \+0\.00000\d{4}, `/);
    expect(instructions).not.toMatch(/[+-]0\.0000[ ,|)]/);
  });

  test("an experiment file that sets resolution 0.0001 is told at its baseline which setting fixes it", () => {
    const root = newcomerRepo();
    const path = join(root, "autoresearch.yaml");
    writeFileSync(path, readFileSync(path, "utf8").replace(/^ {2}resolution: null$/m, "  resolution: 0.0001"));
    commitHarness(root, ["autoresearch.yaml"]);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toMatch(
      /decision\.resolution 0\.0001 is coarser than the scores the eval prints \(0\.00000\d+, .*\): their differences count as none\. Set decision\.resolution to null in the experiment file \(read from the scores\), then re-run baseline\./,
    );
  });

  test("under Deno: init and baseline read the resolution from the scores", () => {
    const root = newcomerRepo("deno");
    const baseline = runScript("baseline", [], { cwd: root, runtime: "deno" });
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toMatch(/noisy; min detectable effect/);
  });
});

/** Fixed data and the evaluation, frozen: bits per byte with the jitter of GPU nondeterminism. */
const PREPARE = `import math

def evaluate_bpb(loss_per_token, rng):
    return loss_per_token / math.log(2) * (1 + 0.0004 * rng.gauss(0, 1))
`;

/** The script the agent edits, which is also what runs: its summary after "---", as autoresearch prints it. */
const TRAIN = `import os, random
import prepare

DEPTH = 4
LEARNING_RATE = 0.04

_run = int(open(".run-counter").read()) + 1 if os.path.exists(".run-counter") else 1
open(".run-counter", "w").write(str(_run))
loss = 0.75 + 0.3 / DEPTH + 40 * (LEARNING_RATE - 0.02) ** 2
for step in range(0, 1000, 250):
    print(f"step {step:05d} | loss: {loss + 1 / (step + 1):.4f}")
val_bpb = prepare.evaluate_bpb(loss, random.Random(_run))
print("---")
print(f"val_bpb:          {val_bpb:.6f}")
print(f"training_seconds: 300.1")
print(f"num_steps:        1000")
`;

describe("a training script in autoresearch's shape (val_bpb after ---, no SCORE line)", () => {
  test("init takes lower as better; the val_bpb line is the score; a lower val_bpb is kept and a higher one discarded", () => {
    const root = makeRepo({ "train.py": TRAIN, "prepare.py": PREPARE, ".gitignore": ".run-counter\n" });
    const init = runScript(
      "init",
      ["train.py", "--eval-cmd", "python3 train.py", "--metric", "val_bpb", "--frozen", "prepare.py", "-y"],
      { cwd: root },
    );
    expect(init.code).toBe(0);
    expect(init.stderr).not.toMatch(/does not say whether higher or lower is better/);
    const path = join(root, "autoresearch.yaml");
    expect(readFileSync(path, "utf8")).toMatch(/^ {2}name: val_bpb\n {2}direction: min$/m);
    commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);

    expect(readFileSync(join(root, "instructions.md"), "utf8")).toContain(
      "Without a SCORE line, its `val_bpb: <number>` line is the score.",
    );

    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain(
      `The eval prints no SCORE line: its "val_bpb" line (the experiment's metric) is the score.`,
    );
    // 0.75 + 0.3/4 + 40 * 0.02^2 = 0.841 nats per token: 1.2133 bits per byte.
    expect(baseline.stdout).toMatch(/^baseline 1\.21\d{2} \(median of 3: /m);

    setLever(root, "DEPTH", "8", { file: "train.py" });
    expect(runScript("iterate", ["-m", "deeper"], { cwd: root }).code).toBe(0);
    const deeper = results(root).at(-1)!;
    expect(deeper.status).toBe("keep");
    expect(deeper.delta).toMatch(/^-0\.05\d{2}$/);

    setLever(root, "LEARNING_RATE", "0.08", { file: "train.py" });
    expect(runScript("iterate", ["-m", "a higher learning rate"], { cwd: root }).code).toBe(0);
    const faster = results(root).at(-1)!;
    expect(faster.status).toBe("discard");
    expect(faster.delta).toMatch(/^\+0\.1\d{3}$/);
  });

  test("a metric whose name says neither way: init says which direction it took and how to change it", () => {
    const root = makeRepo({ "train.py": TRAIN, "prepare.py": PREPARE });
    const init = runScript("init", ["train.py", "--eval-cmd", "python3 train.py", "--metric", "objective", "-y"], {
      cwd: root,
    });
    expect(init.code).toBe(0);
    expect(init.stderr).toContain(
      'The metric "objective" does not say whether higher or lower is better; init took higher (metric.direction: max). If lower is better, set metric.direction: min in the experiment file before baseline',
    );
    const chosen = runScript(
      "init",
      ["train.py", "--eval-cmd", "python3 train.py", "--metric", "objective", "--direction", "max", "-y", "--force"],
      { cwd: root },
    );
    expect(chosen.code).toBe(0);
    expect(chosen.stderr).not.toMatch(/does not say whether higher or lower is better/);
  });
});

/** A classifier scored by an eval that prints its results as one JSON object, as many eval scripts do. */
const CLASSIFIER = `THRESHOLD = 0.5
`;
const JSON_EVAL = `import json
import classifier

labels = [(i / 16, i >= 10) for i in range(16)]
correct = sum((x >= classifier.THRESHOLD) == y for x, y in labels)
print("loading 16 examples")
print(json.dumps({"eval_accuracy": correct / len(labels), "eval_samples": len(labels), "model": "threshold"}))
`;

describe("an eval that prints its results as one JSON object", () => {
  test("baseline names the JSON fields and score_from; with it set, the score is read from the field and a gain is kept", () => {
    const root = makeRepo({ "classifier.py": CLASSIFIER, "evaluate.py": JSON_EVAL });
    const init = runScript(
      "init",
      ["classifier.py", "--eval-cmd", "python3 evaluate.py", "--metric", "accuracy", "-y"],
      { cwd: root },
    );
    expect(init.code).toBe(0);
    commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);
    const missing = runScript("baseline", [], { cwd: root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      "the eval printed no SCORE line (it printed eval_accuracy: 0.875, eval_samples: 16): print SCORE: <value> too, or set metric.score_from: eval_accuracy",
    );
    const path = join(root, "autoresearch.yaml");
    writeFileSync(
      path,
      readFileSync(path, "utf8").replace(
        /^ {2}name: accuracy$/m,
        "  name: accuracy\n  score_from: eval_accuracy",
      ),
    );
    commitHarness(root, ["autoresearch.yaml"]);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stdout).toMatch(/^baseline 0\.8750 /m);
    setLever(root, "THRESHOLD", "0.6", { file: "classifier.py" });
    expect(runScript("iterate", ["-m", "a higher threshold"], { cwd: root }).code).toBe(0);
    expect(results(root).at(-1)).toMatchObject({ status: "keep", score: 1, delta: "+0.1250" });
  });
});

/** A matrix-multiply kernel in the naive loop order; the project's benchmark times it. */
const KERNEL = `// Square matrix multiply, timed by bench/bench.cpp.
#include <cstddef>
#include <vector>

void matmul(const std::vector<float>& a, const std::vector<float>& b, std::vector<float>& c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = 0; j < n; ++j) {
      float sum = 0;
      for (std::size_t k = 0; k < n; ++k) sum += a[i * n + k] * b[k * n + j];
      c[i * n + j] = sum;
    }
}
`;

/** The same product with b's rows streamed (i-k-j): several times faster on any cache. */
const STREAMED_KERNEL = `// Square matrix multiply, timed by bench/bench.cpp.
#include <cstddef>
#include <vector>

void matmul(const std::vector<float>& a, const std::vector<float>& b, std::vector<float>& c, std::size_t n) {
  for (std::size_t i = 0; i < n * n; ++i) c[i] = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < n; ++k) {
      const float aik = a[i * n + k];
      for (std::size_t j = 0; j < n; ++j) c[i * n + j] += aik * b[k * n + j];
    }
}
`;

/** Checks the product against a double-precision one and prints the time and the error, no SCORE. */
const BENCH = `#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>
void matmul(const std::vector<float>&, const std::vector<float>&, std::vector<float>&, std::size_t);
int main() {
  const std::size_t n = 320;
  std::vector<float> a(n * n), b(n * n), c(n * n);
  for (std::size_t i = 0; i < n * n; ++i) { a[i] = (i % 7) * 0.5f; b[i] = (i % 5) * 0.25f; }
  auto start = std::chrono::steady_clock::now();
  matmul(a, b, c, n);
  auto end = std::chrono::steady_clock::now();
  double error = 0;
  for (std::size_t i = 0; i < n; i += 7)
    for (std::size_t j = 0; j < n; j += 5) {
      double exact = 0;
      for (std::size_t k = 0; k < n; ++k) exact += double(a[i * n + k]) * b[k * n + j];
      error = std::fmax(error, std::fabs(c[i * n + j] - exact) / (1 + std::fabs(exact)));
    }
  std::printf("max_rel_err: %.6f\\n", error);
  std::printf("time_ms: %.3f\\n", std::chrono::duration<double, std::milli>(end - start).count());
  return error > 1e-3 ? 1 : 0;
}
`;

const MAKEFILE = `CXX ?= g++
CXXFLAGS ?= -O2 -std=c++17

bench/run: src/matmul.cpp bench/bench.cpp
\t$(CXX) $(CXXFLAGS) -o $@ $^

bench: bench/run
\t./bench/run

bench-%: bench/run
\t./bench/run $*

.PHONY: bench
`;

describe("a C++ kernel benchmarked by the project's make bench (time_ms, no SCORE line)", () => {
  test("init points at make bench; the bench folder is not locked, the Makefile is; the time_ms line is the score and a faster kernel is kept", () => {
    const root = makeRepo({
      "src/matmul.cpp": KERNEL,
      "bench/bench.cpp": BENCH,
      Makefile: MAKEFILE,
      ".gitignore": "bench/run\n",
    });
    // Without an eval command, init cannot run a .cpp file on one input: it says so and offers the project's benchmark.
    const plain = runScript("init", ["src/matmul.cpp", "-y", "--json"], { cwd: root });
    expect(plain.code).toBe(0);
    expect(plain.stderr).toContain(
      `The project measures itself with "make -s bench": to make it the eval, re-run init with --force --eval-cmd 'make -s bench' --metric NAME`,
    );

    const init = runScript(
      "init",
      ["src/matmul.cpp", "--eval-cmd", "make -s bench", "--metric", "time_ms", "--force", "-y"],
      { cwd: root },
    );
    expect(init.code).toBe(0);
    expect(readFileSync(join(root, "autoresearch.yaml"), "utf8")).toMatch(/^ {2}name: time_ms\n {2}direction: min$/m);
    commitHarness(root, ["autoresearch.yaml", "instructions.md", "launch_prompt.md"]);

    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
    expect(baseline.stderr).toContain('The eval command names "Makefile": locked with the frozen files');
    expect(baseline.stderr).toContain(`its "time_ms" line (the experiment's metric) is the score`);
    expect(baseline.stdout).toMatch(/^frozen +Makefile$/m);
    const start = journal(root).find((line) => line.status === "baseline")!.score as number;

    writeFileSync(join(root, "src/matmul.cpp"), STREAMED_KERNEL);
    expect(runScript("iterate", ["-m", "i-k-j order: stream b's rows"], { cwd: root }).code).toBe(0);
    const faster = results(root).at(-1)!;
    expect(faster.status).toBe("keep");
    expect(faster.score as number).toBeLessThan(start);
    expect(faster.metrics).toMatchObject({ max_rel_err: 0 });

    // The Makefile defines what runs: a committed edit to it stops the next iteration.
    writeFileSync(join(root, "Makefile"), MAKEFILE.replace("\t./bench/run\n", "\t@echo time_ms: 0.001\n"));
    sh(root, "git", ["commit", "-q", "-am", "a faster benchmark"]);
    writeFileSync(join(root, "src/matmul.cpp"), STREAMED_KERNEL.replace("// Square", "// A square"));
    const refused = runScript("iterate", ["-m", "a comment"], { cwd: root });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`The eval command's file "Makefile" changed since the baseline`);
  });
});

test("a settings module no generated eval can call, in a project with make eval: init's refusal offers that task", () => {
  const root = makeRepo({
    "settings.py": "LEARNING_RATE = 0.1\nEPOCHS = 3\n",
    Makefile: "train:\n\tpython3 train.py\n\neval: train\n\tpython3 evaluate.py\n",
  });
  const init = runScript("init", ["settings.py", "-y"], { cwd: root });
  expect(init.code).toBe(2);
  expect(init.stderr).toContain(
    "settings.py --eval-cmd 'make -s eval' --metric NAME (the project's own eval task; NAME: the line it prints for the score)",
  );
});
