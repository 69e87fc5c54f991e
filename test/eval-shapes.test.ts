// Evals in shapes real projects have, through the real scripts on temporary git repositories, as
// a newcomer sets them up with init --eval-cmd.
// - A metric far below 1 (an MSE of 4e-6, printed to nine decimals): init writes a resolution read
//   from the scores, baseline measures the eval as noisy (not as a deterministic eval whose every
//   change ties), a real gain is kept, and the journal, the commit message, the step line and the
//   dashboard carry four significant digits instead of "0.0000". An experiment file that sets the
//   old fixed resolution 0.0001 is told at its baseline which setting fixes it.
// - A training script in autoresearch's own shape: train.py is the constrained file and the eval,
//   prints `val_bpb:` after a `---` line and no SCORE. init takes lower as better, baseline names
//   metric.score_from as the fix, and then a lower val_bpb is kept and a higher one discarded.
// - An eval that prints its results as one JSON object (`{"eval_accuracy": 0.875, ...}`): the
//   same fix names its fields, and the score is read from one of them.
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
  test("init takes lower as better; baseline names score_from; then a lower val_bpb is kept and a higher one discarded", () => {
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

    const missing = runScript("baseline", [], { cwd: root });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      "the eval printed no SCORE line (it printed val_bpb: ",
    );
    expect(missing.stderr).toContain(
      "print SCORE: <value> too, or set metric.score_from: val_bpb in the experiment file to read the score from that line",
    );
    expect(journal(root).some((line) => line.status === "baseline")).toBe(false);

    writeFileSync(
      path,
      readFileSync(path, "utf8").replace(/^ {2}name: val_bpb$/m, "  name: val_bpb\n  score_from: val_bpb"),
    );
    commitHarness(root, ["autoresearch.yaml"]);
    const baseline = runScript("baseline", [], { cwd: root });
    expect(baseline.code).toBe(0);
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
      ["classifier.py", "--eval-cmd", "python3 evaluate.py", "--metric", "eval_accuracy", "-y"],
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
        /^ {2}name: eval_accuracy$/m,
        "  name: eval_accuracy\n  score_from: eval_accuracy",
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
