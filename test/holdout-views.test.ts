// What the held-out scores tell people and what acts on them: the overfitting signal of
// scripts/lib/experiment/holdout.ts (tables: honest and overfitted runs, missing scores, a
// minimised metric, the best held-out keep), the dashboards (markdown, text, HTML, the chart)
// rendered from hand-made journals with held-out fields and unchanged without them, the loop's
// state prompt (a warning, never the figures), and next-round --from-best-holdout on a real
// repository whose round was run by the real scripts, the held-out fields then added to its
// journal lines (the journal is JSON lines: the test rewrites them before next-round).
import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { studentTQuantile } from "../scripts/lib/decision/stats.ts";
import { type HoldoutLine, overfitting, OVERFITTING_WARNING } from "../scripts/lib/experiment/holdout.ts";
import { parseJournal, readJournal } from "../scripts/lib/experiment/journal.ts";
import { summarizeJournal } from "../scripts/lib/experiment/summary.ts";
import { renderMarkdown } from "../scripts/lib/dashboard/markdown.ts";
import { loadTerminalPackages, renderText } from "../scripts/lib/dashboard/text.ts";
import { renderHtml } from "../scripts/lib/dashboard/html.ts";
import { chartInputFromSummary, renderProgressChart } from "../scripts/lib/dashboard/chart-svg.ts";
import { buildDashboard } from "../scripts/lib/dashboard/files.ts";
import { buildStatePrompt } from "../scripts/lib/iterate/state-prompt.ts";
import { loadExperiment } from "../scripts/lib/experiment/experiment-file.ts";
import { pythonExperiment } from "./experiment-fixture.ts";
import {
  exists,
  KIT_ROOT,
  type Line,
  makeRepo,
  read,
  removeFolder,
  runScript,
  setLever,
  sh,
  shareAcrossTests,
  temporaryFolder,
} from "./helpers.ts";

// ---------------------------------------------------------------------------------------------
// The overfitting signal

type Row = { status: string; eval: readonly number[]; holdout?: readonly number[]; commit?: string };

/** Journal result lines from rows: the first is the baseline (iteration 0). */
function lines(rows: readonly Row[]): HoldoutLine[] {
  return rows.map((row, index) => {
    const mean = row.eval.reduce((total, value) => total + value, 0) / row.eval.length;
    return {
      iteration: index,
      status: row.status,
      commit: row.commit ?? `c${index}`,
      score: mean,
      runs: [...row.eval],
      ...(row.holdout
        ? {
          holdout_score: row.holdout.reduce((total, value) => total + value, 0) / row.holdout.length,
          holdout_runs: [...row.holdout],
        }
        : {}),
    };
  });
}

/** Three runs around `centre`, sd `sd`. */
const around = (centre: number, sd: number) => [centre - sd, centre, centre + sd];

describe("overfitting(): the held-out gain against the eval-set gain", () => {
  test.each([
    {
      name: "honest: held-out gains track the eval-set gains exactly",
      direction: "max" as const,
      rows: [
        { status: "baseline", eval: around(0.6, 0.005), holdout: around(0.58, 0.005) },
        { status: "keep", eval: around(0.66, 0.005), holdout: around(0.64, 0.005) },
        { status: "discard", eval: around(0.6, 0.005) },
        { status: "keep", eval: around(0.72, 0.005), holdout: around(0.7, 0.005) },
      ],
      evalGain: 0.12,
      holdoutGain: 0.12,
      behind: false,
    },
    {
      name: "honest: the held-out gain is smaller, within the noise of a noisy eval",
      direction: "max" as const,
      rows: [
        { status: "baseline", eval: around(0.6, 0.02), holdout: around(0.58, 0.02) },
        { status: "keep", eval: around(0.72, 0.02), holdout: around(0.68, 0.02) },
      ],
      evalGain: 0.12,
      holdoutGain: 0.1,
      behind: false,
    },
    {
      name: "overfitted: eval set +0.12, held-out +0.02, small noise",
      direction: "max" as const,
      rows: [
        { status: "baseline", eval: around(0.6, 0.005), holdout: around(0.58, 0.005) },
        { status: "keep", eval: around(0.66, 0.005), holdout: around(0.6, 0.005) },
        { status: "keep", eval: around(0.72, 0.005), holdout: around(0.6, 0.005) },
      ],
      evalGain: 0.12,
      holdoutGain: 0.02,
      behind: true,
    },
    {
      name: "overfitted, deterministic eval (one run each, no spread): the noise is the resolution",
      direction: "max" as const,
      rows: [
        { status: "baseline", eval: [0.6], holdout: [0.58] },
        { status: "keep", eval: [0.72], holdout: [0.6] },
      ],
      evalGain: 0.12,
      holdoutGain: 0.02,
      behind: true,
    },
    {
      name: "minimize, overfitted: the eval-set error falls 0.12, the held-out error 0.02",
      direction: "min" as const,
      rows: [
        { status: "baseline", eval: around(0.4, 0.005), holdout: around(0.42, 0.005) },
        { status: "keep", eval: around(0.28, 0.005), holdout: around(0.4, 0.005) },
      ],
      evalGain: 0.12,
      holdoutGain: 0.02,
      behind: true,
    },
    {
      name: "minimize, honest: both errors fall 0.12",
      direction: "min" as const,
      rows: [
        { status: "baseline", eval: around(0.4, 0.005), holdout: around(0.42, 0.005) },
        { status: "keep", eval: around(0.28, 0.005), holdout: around(0.3, 0.005) },
      ],
      evalGain: 0.12,
      holdoutGain: 0.12,
      behind: false,
    },
    {
      name: "a held-out gain larger than the eval-set gain is never behind",
      direction: "max" as const,
      rows: [
        { status: "baseline", eval: around(0.6, 0.005), holdout: around(0.58, 0.005) },
        { status: "keep", eval: around(0.62, 0.005), holdout: around(0.7, 0.005) },
      ],
      evalGain: 0.02,
      holdoutGain: 0.12,
      behind: false,
    },
  ])("$name", ({ direction, rows, evalGain, holdoutGain, behind }) => {
    const signal = overfitting(lines(rows), direction);
    expect(signal.evalGain).toBeCloseTo(evalGain, 9);
    expect(signal.holdoutGain).toBeCloseTo(holdoutGain, 9);
    expect(signal.combinedNoise).toBeGreaterThan(0);
    expect(signal.behind).toBe(behind);
    expect(signal.behind).toBe(signal.evalGain! - signal.holdoutGain! > signal.combinedNoise!);
  });

  test("the combined noise is t(0.99, df)·√(se_eval² + se_holdout²), each se from its set's runs", () => {
    // sd 0.005 pooled over 3 + 3 runs: se of a gain = 0.005·√(2/3); both sets alike; df = 4 per set.
    const signal = overfitting(
      lines([
        { status: "baseline", eval: around(0.6, 0.005), holdout: around(0.58, 0.005) },
        { status: "keep", eval: around(0.72, 0.005), holdout: around(0.6, 0.005) },
      ]),
      "max",
    );
    const se = 0.005 * Math.sqrt(2 / 3);
    expect(signal.combinedNoise).toBeCloseTo(studentTQuantile(0.99, 8)! * Math.sqrt(2 * se * se), 9);
    // A deterministic eval: each se floored at the resolution.
    const exact = overfitting(
      lines([{ status: "baseline", eval: [0.6], holdout: [0.58] }, { status: "keep", eval: [0.7], holdout: [0.68] }]),
      "max",
      { resolution: 0.001 },
    );
    expect(exact.combinedNoise).toBeCloseTo(studentTQuantile(0.99, 1)! * Math.sqrt(2) * 0.001, 9);
    expect(exact.behind).toBe(false);
  });

  test("missing held-out scores give no signal", () => {
    const none = overfitting(
      lines([{ status: "baseline", eval: around(0.6, 0.005) }, { status: "keep", eval: around(0.72, 0.005) }]),
      "max",
    );
    expect(none).toMatchObject({
      points: [],
      evalGain: null,
      holdoutGain: null,
      combinedNoise: null,
      behind: false,
      bestHoldoutLine: null,
    });
    // Keeps measured, but not the baseline: no gain can be formed.
    const noBaseline = overfitting(
      lines([
        { status: "baseline", eval: around(0.6, 0.005) },
        { status: "keep", eval: around(0.72, 0.005), holdout: around(0.6, 0.005) },
      ]),
      "max",
    );
    expect(noBaseline.holdoutGain).toBeNull();
    expect(noBaseline.behind).toBe(false);
    expect(noBaseline.bestHoldoutLine?.iteration).toBe(1);
  });

  test("the latest keep's eval score is its fresh re-runs when it has any (the selecting runs are biased up)", () => {
    const journal = lines([
      { status: "baseline", eval: around(0.6, 0.005), holdout: around(0.58, 0.005) },
      { status: "keep", eval: around(0.8, 0.005), holdout: around(0.6, 0.005) },
    ]);
    const withRerun: HoldoutLine[] = [
      ...journal,
      { iteration: 2, status: "discard", commit: "c2", score: 0.6, runs: [0.6], incumbent_runs: [0.61, 0.62, 0.63] },
    ];
    const signal = overfitting(withRerun, "max");
    expect(signal.latest?.evalScore).toBeCloseTo(0.62, 9);
    expect(signal.evalGain).toBeCloseTo(0.02, 9);
    expect(signal.behind).toBe(false);
  });

  test.each([
    {
      name: "the keep with the best held-out score, not the last one",
      direction: "max" as const,
      holdouts: [0.58, 0.65, 0.7, 0.66],
      best: 2,
    },
    { name: "ties: the earliest", direction: "max" as const, holdouts: [0.58, 0.7, 0.7, 0.66], best: 1 },
    { name: "minimize: the lowest", direction: "min" as const, holdouts: [0.4, 0.35, 0.38, 0.31], best: 3 },
    { name: "the baseline when every keep is worse", direction: "max" as const, holdouts: [0.7, 0.6, 0.65], best: 0 },
  ])("best held-out line: $name", ({ direction, holdouts, best }) => {
    const rows = holdouts.map((holdout, index) => ({
      status: index === 0 ? "baseline" : "keep",
      eval: around(0.6 + index * 0.01 * (direction === "min" ? -1 : 1), 0.005),
      holdout: around(holdout, 0.005),
    }));
    const withDiscard = [...lines(rows), {
      iteration: 9,
      status: "discard",
      commit: "x",
      score: 0.9,
      holdout_score: 0.99,
    }];
    const signal = overfitting(withDiscard, direction);
    expect(signal.bestHoldoutLine?.iteration).toBe(best);
    expect(signal.best?.iteration).toBe(best);
    expect(signal.bestHoldoutLine?.commit).toBe(`c${best}`);
  });
});

// ---------------------------------------------------------------------------------------------
// Dashboards from hand-made journals

/** A round with a baseline and three keeps; `holdouts` (baseline first, then each keep) adds the held-out fields. */
function handMadeJournal(holdouts: number[] | null): string {
  const config = {
    type: "config",
    constrained_file: "ranker.py",
    eval_command: "python3 eval.py",
    metric: "precision@5",
    guard_metric: null,
    guard_threshold: null,
    baseline: 0.6,
    min_delta: 0.001,
    direction: "max",
    round: 1,
    iterations: 10,
  };
  const result = (line: Line, holdoutIndex: number | null) => {
    const runs = holdoutIndex === null || !holdouts ? null : around(holdouts[holdoutIndex], 0.002);
    return {
      type: "result",
      ...line,
      ...(runs ? { holdout_score: holdouts![holdoutIndex!], holdout_runs: runs } : {}),
    };
  };
  const body = [
    config,
    result({
      iteration: 0,
      commit: "b000000",
      score: 0.6,
      runs: around(0.6, 0.002),
      status: "baseline",
      description: "baseline",
    }, 0),
    result({
      iteration: 1,
      commit: "a111111",
      score: 0.66,
      runs: around(0.66, 0.002),
      delta: "+0.0600",
      status: "keep",
      description: "title boost",
    }, 1),
    result({
      iteration: 2,
      commit: "a222222",
      score: 0.65,
      runs: around(0.65, 0.002),
      delta: "-0.0100",
      status: "discard",
      description: "lower k1",
    }, null),
    result({
      iteration: 3,
      commit: "a333333",
      score: 0.69,
      runs: around(0.69, 0.002),
      delta: "+0.0300",
      status: "keep",
      description: "special-case query q7",
    }, 2),
    result({
      iteration: 4,
      commit: "a444444",
      score: 0.72,
      runs: around(0.72, 0.002),
      delta: "+0.0300",
      status: "keep",
      description: "special-case query q12",
    }, 3),
  ];
  return body.map((line) => JSON.stringify(line)).join("\n") + "\n";
}

const OVERFITTED = [0.5811, 0.6217, 0.6043, 0.6011]; // eval +0.12, held-out +0.02; best held-out at #1

describe("dashboards with a held-out set", () => {
  const journal = parseJournal(handMadeJournal(OVERFITTED));
  const summary = summarizeJournal(journal);

  test("the summary carries the held-out points and the signal", () => {
    expect(summary.holdout?.behind).toBe(true);
    expect(summary.holdout?.points.map((point) => point.iteration)).toEqual([0, 1, 3, 4]);
    expect(summary.holdout?.best?.iteration).toBe(1);
  });

  test("markdown: the held-out line, the warning with the next command, and a held-out column", () => {
    const markdown = renderMarkdown(summary, { chartLink: "autoresearch_progress.svg" });
    expect(markdown).toContain("**Held-out:** baseline 0.5811 → now 0.6011 at #4 (eval set 0.6000 → 0.7200)");
    expect(markdown).toContain(
      "**Overfitting?** The eval-set gain (+0.1200) is ahead of the held-out gain (+0.0200) by more than their combined noise (",
    );
    expect(markdown).toContain(
      "`next-round.ts --from-best-holdout` starts the next round from #1, a111111, the keep with the best held-out score (0.6217).",
    );
    expect(markdown).toContain("| # | Score | Held-out | Delta | Guard | Status | Description |");
    expect(markdown).toContain("| 1 | 0.6600 | 0.6217 | +0.0600 |");
    expect(markdown).toContain("| 2 | 0.6500 | — | -0.0100 |"); // a discard is not measured on the held-out set
    expect(markdown).toContain("| 4 | 0.7200 | 0.6011 | +0.0300 |");
  });

  test("text: the same lines and column", async () => {
    await loadTerminalPackages();
    const text = renderText(summary, { color: false, width: 120 });
    expect(text).toContain("Held-out: baseline 0.5811 → now 0.6011 at #4 (eval set 0.6000 → 0.7200)");
    expect(text).toContain("Overfitting? The eval-set gain (+0.1200) is ahead of the held-out gain (+0.0200)");
    expect(text).toContain("next-round.ts --from-best-holdout starts the next round from #1");
    expect(text).not.toContain("`");
    expect(text).toMatch(/Held-out\s*│\s*Delta/);
    expect(text).toMatch(/0\.7200\s*│\s*0\.6011\s*│\s*\+0\.0300/);
  });

  test("html: the held-out paragraph, the warning as a warning, and the column", () => {
    const html = renderHtml(summary, { svg: "<svg></svg>" });
    expect(html).toContain("<p><b>Held-out:</b> baseline 0.5811 → now 0.6011 at #4 (eval set 0.6000 → 0.7200)</p>");
    expect(html).toContain('<p class="warn"><b>Overfitting?</b> The eval-set gain (+0.1200)');
    expect(html).toContain("<code>next-round.ts --from-best-holdout</code>");
    expect(html).toContain("<th>Score</th><th>Held-out</th><th>Delta</th>");
    expect(html).toContain('<td class="num">0.7200</td><td class="num">0.6011</td>');
  });

  test("chart: the held-out trajectory as a second series with its own legend entry", () => {
    const svg = renderProgressChart(chartInputFromSummary(summary, journal));
    expect(svg).toContain('<path class="holdout" d="M');
    expect(svg.match(/<circle class="holdout-point"/g)?.length).toBe(3); // one per measured keep
    expect(svg).toContain("#4 held-out 0.6011");
    expect(svg).toContain(">current best on the held-out set</text>");
    expect(svg).toContain(".ark-chart .holdout{");
    // The held-out line sits below the best line at the end: it is drawn on the score axis.
    const bestEnd = Number(/<path class="best" d="[^"]*V([\d.]+)"/.exec(svg)![1]);
    const holdoutEnd = Number(/<path class="holdout" d="[^"]*V([\d.]+)H[\d.]+"/.exec(svg)![1]);
    expect(holdoutEnd).toBeGreaterThan(bestEnd); // larger y: lower on the chart
  });

  test("an honest round: the held-out line and column, no warning", async () => {
    const honest = summarizeJournal(parseJournal(handMadeJournal([0.5811, 0.6411, 0.6711, 0.7011])));
    expect(honest.holdout?.behind).toBe(false);
    const markdown = renderMarkdown(honest, { chartLink: null });
    expect(markdown).toContain("**Held-out:** baseline 0.5811 → now 0.7011 at #4");
    expect(markdown).not.toContain("Overfitting?");
    await loadTerminalPackages();
    expect(renderText(honest, { color: false })).not.toContain("Overfitting?");
    expect(renderHtml(honest, { svg: "" })).not.toContain("Overfitting?");
  });

  test("no held-out fields: the seed's layout, byte for byte (the goldens), and nothing held-out anywhere", async () => {
    const folder = temporaryFolder("ark-holdout-golden-");
    try {
      for (const name of ["round1", "seed-example", "hand-written"]) {
        const journalPath = join(folder, `${name}.jsonl`);
        writeFileSync(journalPath, readFileSync(join(KIT_ROOT, "test/fixtures/journals", `${name}.jsonl`)));
        const rendered = buildDashboard({
          journalPath,
          dashboardPath: join(folder, "autoresearch_dashboard.md"),
          chartPath: join(folder, "autoresearch_progress.svg"),
        });
        expect(rendered.markdown).toBe(readFileSync(join(KIT_ROOT, "test/fixtures/dashboard", `${name}.md`), "utf8"));
        expect(rendered.summary.holdout).toBeUndefined();
        expect("holdout" in rendered.summary).toBe(false); // the --json summary has no new key
        await loadTerminalPackages();
        const outputs = [
          rendered.svg,
          renderText(rendered.summary, { color: false }),
          renderHtml(rendered.summary, { svg: rendered.svg }),
        ];
        for (const output of outputs) expect(output).not.toMatch(/held-out|holdout|Overfitting/i);
      }
      const plain = summarizeJournal(parseJournal(handMadeJournal(null)));
      expect(renderMarkdown(plain, { chartLink: null })).toContain(
        "| # | Score | Delta | Guard | Status | Description |",
      );
    } finally {
      removeFolder(folder);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The loop's state prompt, and next-round on a real repository

/** Round 1 run by the real scripts: baseline, then three keeps (WEIGHT 2, WEIGHT 3, BIAS 1) and a discard. */
function realRound(): string {
  const root = pythonExperiment();
  const run = (script: "baseline" | "iterate", args: string[]) => {
    const result = runScript(script, args, { cwd: root });
    if (result.code !== 0) throw new Error(`${script} ${args.join(" ")}: ${result.stderr}${result.stdout}`);
  };
  run("baseline", []);
  setLever(root, "WEIGHT", "2.0");
  run("iterate", ["-m", "raise WEIGHT to 2"]);
  setLever(root, "WEIGHT", "3.0");
  run("iterate", ["-m", "raise WEIGHT to 3"]);
  setLever(root, "BIAS", "1.0");
  run("iterate", ["-m", "BIAS 1 (fits the eval's cases)"]);
  setLever(root, "BIAS", "-3.0");
  run("iterate", ["-m", "BIAS -3"]);
  return root;
}

let sharedRound: string | null = null;
function roundCopy(): string {
  sharedRound ??= shareAcrossTests(realRound());
  const copy = temporaryFolder("ark-holdout-round-");
  sh(sharedRound, "cp", ["-a", `${sharedRound}/.`, copy]);
  return copy;
}
afterAll(() => {
  if (sharedRound) removeFolder(sharedRound);
});

// Held-out scores the eval set never shows: the baseline's, then each keep's in order. #2 is the best.
const HELD_OUT = [0.1371, 0.2529, 0.6173, 0.2917];

/** Add the held-out fields to the baseline and keep lines of the journal, as the harness records them. */
function addHoldoutScores(root: string, journalFile = "autoresearch.jsonl", scores = HELD_OUT): Line[] {
  const path = join(root, journalFile);
  const journalLines = readFileSync(path, "utf8").split("\n").filter((line) => line.trim() !== "");
  let next = 0;
  const rewritten = journalLines.map((text) => {
    const line = JSON.parse(text);
    if (line.type === "result" && (line.status === "baseline" || line.status === "keep")) {
      const score = scores[next++];
      Object.assign(line, { holdout_score: score, holdout_runs: [score] });
    }
    return line;
  });
  expect(next).toBe(scores.length);
  writeFileSync(path, rewritten.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return rewritten.filter((line) => line.type === "result");
}

describe("the loop's state prompt", () => {
  test("when behind: the warning, and neither the held-out figures nor the held-out file", () => {
    const root = roundCopy();
    try {
      addHoldoutScores(root);
      const loaded = loadExperiment(join(root, "autoresearch.yaml"));
      const summary = summarizeJournal(readJournal(join(root, "autoresearch.jsonl")), {
        experiment: loaded.experiment,
      });
      expect(summary.holdout?.behind).toBe(true);
      const prompt = buildStatePrompt(loaded, 1, 5, summary);
      expect(prompt).toContain(OVERFITTING_WARNING);
      for (const figure of HELD_OUT) expect(prompt).not.toContain(figure.toFixed(4).slice(1)); // ".6173", any rounding
      expect(prompt).not.toMatch(/held-out|holdout/i);
      expect(Buffer.byteLength(prompt)).toBeLessThanOrEqual(2048);
    } finally {
      removeFolder(root);
    }
  });

  test("honest or without held-out scores: no warning", () => {
    const root = roundCopy();
    try {
      const loaded = loadExperiment(join(root, "autoresearch.yaml"));
      const plain = summarizeJournal(readJournal(join(root, "autoresearch.jsonl")), { experiment: loaded.experiment });
      expect(buildStatePrompt(loaded, 1, 5, plain)).not.toContain(OVERFITTING_WARNING);
      // Held-out gains that follow the eval-set gains (the eval's own scores shifted down a little).
      const evalScores = readJournal(join(root, "autoresearch.jsonl")).results
        .filter((line) => line.status === "baseline" || line.status === "keep")
        .map((line) => line.score! - 0.01);
      addHoldoutScores(root, "autoresearch.jsonl", evalScores);
      const honest = summarizeJournal(readJournal(join(root, "autoresearch.jsonl")), { experiment: loaded.experiment });
      expect(honest.holdout?.behind).toBe(false);
      expect(buildStatePrompt(loaded, 1, 5, honest)).not.toContain(OVERFITTING_WARNING);
    } finally {
      removeFolder(root);
    }
  });
});

describe("next-round --from-best-holdout", () => {
  test("journal-only use (no experiment file) is refused in one line, nothing written", () => {
    const root = makeRepo({ "ranker.py": "WEIGHT = 1\n", "autoresearch.jsonl": handMadeJournal(OVERFITTED) });
    try {
      const result = runScript("next-round", ["--from-best-holdout"], { cwd: root });
      expect(result.code).toBe(2);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
      expect(result.stderr).toContain(
        "--from-best-holdout reads the held-out scores of a round the experiment file records",
      );
      expect(exists(root, "instructions_2.md")).toBe(false);
    } finally {
      removeFolder(root);
    }
  });

  test("starts round 2 from the keep with the best held-out score: dry run says which and why, the run restores and commits it", () => {
    const root = roundCopy();
    try {
      const results = addHoldoutScores(root);
      const keeps = results.filter((line) => line.status === "keep");
      const best = keeps[1]; // #2, WEIGHT 3: held-out 0.6173
      const bestRanker = sh(root, "git", ["show", `${best.commit}:ranker.py`]);
      expect(bestRanker).toContain("WEIGHT = 3.0");
      expect(bestRanker).toContain("BIAS = 0.0");
      expect(read(root, "ranker.py")).toContain("BIAS = 1.0"); // round 1 ended on #3

      const dry = runScript("next-round", ["--from-best-holdout", "--dry-run"], { cwd: root });
      expect(dry.code).toBe(0);
      expect(dry.stderr).toContain(
        `Round 2 starts from #${best.iteration} (${
          best.commit.slice(0, 7)
        }), the best held-out score of round 1 (held-out 0.6173`,
      );
      expect(dry.stderr).toContain(`the last keep #${keeps[2].iteration} has held-out 0.2917`);
      expect(dry.stdout).toContain("ranker.py");
      expect(dry.stdout).toContain(`constrained file as of #${best.iteration}`);
      expect(dry.stderr).toContain("Overfitting? In round 1 the eval-set gain");
      expect(exists(root, "instructions_2.md")).toBe(false);
      expect(read(root, "ranker.py")).toContain("BIAS = 1.0");

      const real = runScript("next-round", ["--from-best-holdout", "--json"], { cwd: root });
      expect(real.code).toBe(0);
      const json = JSON.parse(real.stdout);
      expect(json.starting_point).toMatchObject({ iteration: best.iteration, restored: ["ranker.py"] });
      expect(read(root, "ranker.py")).toBe(bestRanker);
      expect(sh(root, "git", ["status", "--porcelain"])).toBe(""); // committed with the round's files
      expect(sh(root, "git", ["show", "HEAD:ranker.py"])).toBe(bestRanker);
      expect(sh(root, "git", ["log", "-1", "--format=%s"]).trim()).toBe(
        `autoresearch: start round 2 from #${best.iteration} of round 1 (best held-out score) | score: ${
          best.score.toFixed(4)
        }`,
      );
      const header = JSON.parse(read(root, "autoresearch_2.jsonl").split("\n")[0]);
      expect(header.previous_best).toBeCloseTo(best.score, 9);

      // The agent's instructions: the starting point and the warning, never the held-out figures.
      const instructions = read(root, "instructions_2.md");
      expect(instructions).toContain(`Start from round 1's #${best.iteration} (\`${best.commit.slice(0, 7)}\``);
      expect(instructions).toContain(`**Unseen cases:** ${OVERFITTING_WARNING}`);
      // The lever table shows the values the restored file holds, not the last keep's.
      expect(instructions).toMatch(/\| `WEIGHT` \| [^|]+ \| `3\.0` \|/);
      expect(instructions).toMatch(/\| `BIAS` \| [^|]+ \| `0\.0` \|/);
      for (const figure of HELD_OUT) expect(instructions).not.toContain(figure.toFixed(4).slice(1));
      expect(instructions).not.toMatch(/held-out|holdout/i);

      // Round 2's baseline measures the restored code: #2's score, not #3's.
      const baseline = runScript("baseline", [], { cwd: root });
      expect(baseline.code).toBe(0);
      const experiment = YAML.parse(read(root, "autoresearch.yaml"));
      expect(experiment.current_round).toBe(2);
      expect(experiment.rounds[1].baseline.score).toBeCloseTo(best.score, 4);
    } finally {
      removeFolder(root);
    }
  });

  test("when the best held-out keep is the last keep, nothing is restored and it says so", () => {
    const root = roundCopy();
    try {
      addHoldoutScores(root, "autoresearch.jsonl", [0.1371, 0.2529, 0.3173, 0.4917]);
      const before = read(root, "ranker.py");
      const result = runScript("next-round", ["--from-best-holdout"], { cwd: root });
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(
        /Round 2 starts from #3 \(\w{7}\), where round 1 ended: it also has the best held-out score/,
      );
      expect(read(root, "ranker.py")).toBe(before);
      expect(sh(root, "git", ["status", "--porcelain"])).toBe("");
    } finally {
      removeFolder(root);
    }
  });

  test("refused in one line when round 1 has no held-out scores; nothing written", () => {
    const root = roundCopy();
    try {
      const result = runScript("next-round", ["--from-best-holdout"], { cwd: root });
      expect(result.code).toBe(2);
      const message = result.stderr.trim();
      expect(message.split("\n")).toHaveLength(1);
      expect(message).toContain("--from-best-holdout needs held-out scores, and round 1's journal has none");
      expect(exists(root, "instructions_2.md")).toBe(false);
      expect(YAML.parse(read(root, "autoresearch.yaml")).current_round).toBe(1);
      expect(sh(root, "git", ["status", "--porcelain"])).toBe("");
    } finally {
      removeFolder(root);
    }
  });
});

describe("case-sampling noise in the overfitting signal", () => {
  // One deterministic run per version; 17 eval cases. The held-out set holds other cases, so an
  // honest change with uneven per-case gains gains a different amount there.
  const ids = Array.from({ length: 17 }, (_, index) => `c${index}`);
  const line = (iteration: number, status: string, caseValues: number[], holdout: number) => ({
    iteration,
    status,
    commit: `c${iteration}`,
    score: caseValues.reduce((sum, value) => sum + value, 0) / caseValues.length,
    runs: [caseValues.reduce((sum, value) => sum + value, 0) / caseValues.length],
    case_runs: [Object.fromEntries(ids.map((id, index) => [id, caseValues[index]]))],
    holdout_score: holdout,
    holdout_runs: [holdout],
  });
  const before = ids.map(() => 0.5);

  test("an honest change with uneven per-case gains does not fire it", () => {
    const uneven = ids.map((_, index) => 0.5 + 0.01 * index); // gains 0 .. 0.16, mean 0.08
    const signal = overfitting([line(0, "baseline", before, 0.5), line(1, "keep", uneven, 0.55)], "max", {
      resolution: 1e-4,
      holdoutShare: 0.3,
    });
    expect(signal.evalGain).toBeCloseTo(0.08, 9);
    expect(signal.holdoutGain).toBeCloseTo(0.05, 9);
    expect(signal.behind).toBe(false);
  });

  test("an even gain on the eval set that the held-out set does not share fires it", () => {
    const even = ids.map(() => 0.6);
    const signal = overfitting([line(0, "baseline", before, 0.5), line(1, "keep", even, 0.5)], "max", {
      resolution: 1e-4,
      holdoutShare: 0.3,
    });
    expect(signal.behind).toBe(true);
  });
});
