// Kill -9 soak of the loop: a real Python experiment in a temporary git repository, baselined,
// then `iterate.ts --loop` started again and again and SIGKILLed as a whole process group after
// a random (seeded) delay, until the journal holds --iterations results; one clean restart ends
// it. Then it checks journal, git, work tree and leftover processes and prints PASS or FAIL.
// It measures robustness, not speed or decision quality; each restart's stderr is kept in the
// soak folder's restarts/, which stays on FAIL or with --keep.
// With --parallel N it soaks the parallel loop (its two checks of which call made which line are
// the serial loop's only).
//   bun bench/kill-soak.ts [--iterations 50] [--seed S] [--keep] [--parallel N]
import { spawn, spawnSync } from "node:child_process";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { seededRandom } from "./seeded-random.ts";
import { commitEverything } from "./shell-experiment.ts";

const KIT = resolve(import.meta.dir, "..");
const BUN = join(KIT, "node_modules/.bin/bun");
const AGENT = join(KIT, "bench/kill-soak-agent.ts");
const TARGET = Number(flag("--iterations")) || 50;
const SEED = Number(flag("--seed")) || Math.floor(Math.random() * 2 ** 31);
const KEEP = process.argv.includes("--keep");
/** --parallel N: soak the parallel loop (N workers) instead of the serial one. */
const PARALLEL = Number(flag("--parallel")) || 0;
const KILL_AFTER_MS = [100, 3500]; // a restart is killed this long after its start, uniformly (milliseconds)
const STALL_BACKOFF = 1.5; // each killed restart that recorded nothing stretches the next kill delay by this factor
const KILL_AFTER_LIMIT_MS = 30_000; // the stretched delay's ceiling (milliseconds)
const RUN_ITERATIONS = [1, 4]; // --iterations asked of each restart, uniformly (a finished run exits 0)
const EVAL_SECONDS = 0.25; // one eval run's duration (seconds)
const EVAL_NOISE_SD = 0.01; // Gaussian noise on SCORE per run (metric units)
const ORPHAN_LINGER_S = 10; // an eval whose harness died stays alive this long, as a long eval would (seconds)
const FAILED_RESTARTS_LIMIT = 5; // failed restarts in a row that end the soak
const SOAK_LIMIT_MS = 15 * 60_000; // the soak gives up after this long (milliseconds)
const STDERR_MARKERS = {
  dropped: "Dropped the unrecorded decision",
  nothing: "Nothing to evaluate",
  finished: "which an earlier run had decided but not recorded",
  restored: "from the backup taken for",
  staleLock: "Recovered a stale lock",
  indexLock: "index.lock",
  race: "changed while it was being evaluated",
  leftoverEval: "left running by a harness that died",
  resumed: "an earlier run called the agent",
  editedAfterDecision: "was evaluated; the evaluated version",
} as const;

type Marker = keyof typeof STDERR_MARKERS;
type Restart = {
  index: number;
  killed: boolean;
  code: number | null;
  signal: string | null;
  ms: number;
  stderr: string;
};

function flag(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const RANKER = `# A toy scoring module: the constrained file.
WEIGHT = 1.00
BIAS = 0.00


def score(x):
    return WEIGHT * x + BIAS
`;

/** The eval records its pid while it runs; once its harness is gone it lingers, then exits quietly. */
function evalScript(pidDir: string): string {
  return `import atexit, json, os, random, sys, time
sys.path.insert(0, os.getcwd())
PID_FILE = os.path.join(${JSON.stringify(pidDir)}, f"eval-{os.getpid()}")
open(PID_FILE, "w").write(str(os.getppid()))
def forget():
    try:
        os.remove(PID_FILE)
    except FileNotFoundError:
        pass
atexit.register(forget)
harness = os.getppid()
deadline = time.time() + ${EVAL_SECONDS}
while time.time() < deadline:
    time.sleep(0.02)
    if os.getppid() != harness:
        time.sleep(${ORPHAN_LINGER_S})
        sys.exit(0)
import ranker
cases = json.load(open("cases.json"))["cases"]
total = 0.0
for case in cases:
    value = max(0.0, 1 - abs(ranker.score(case["input"]["x"]) - case["expected"]) / 10)
    total += value
    print(f"CASE {case['id']} {value:.4f}")
quality = total / len(cases) + random.gauss(0, ${EVAL_NOISE_SD})
print(f"SCORE: {quality:.4f}")
print(f"  MRR: {min(1.0, quality + 0.1):.4f}")
`;
}

function experimentYaml(): string {
  return `version: 1
name: kill-soak
current_round: 1
language: python
project: plain
entry: { name: score, signature: "def score(x)", line: 6 }
metric: { name: score, direction: max }
guard: { metric: mrr, op: ">=", threshold: 0.1 }
test_data: cases.json
frozen: []
decision: { baseline_runs: 3 }
budget: { iterations: 100000, plateau: 100000, crash_streak: 100000 }
rounds:
  - round: 1
    status: open
    constrained_files: [ranker.py]
    eval: { command: python3 eval.py, script: eval.py, timeout_s: 60 }
    artifacts: { journal: autoresearch.jsonl, dashboard: autoresearch_dashboard.md, instructions: instructions.md, launch_prompt: launch_prompt.md, report: autoresearch_report.md }
`;
}

function git(root: string, args: string[]): { ok: boolean; stdout: string } {
  const result = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  return { ok: result.status === 0, stdout: result.stdout ?? "" };
}

function mustRun(root: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", CI: "true" },
  });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
}

/** A committed, baselined experiment in soak/repo; evals and agents record pids in soak/pids. */
function buildExperiment(): { soak: string; root: string; pidDir: string; baselineCommit: string } {
  const soak = mkdtempSync(join(tmpdir(), "ark-kill-soak-"));
  const root = join(soak, "repo");
  const pidDir = join(soak, "pids");
  mkdirSync(root);
  mkdirSync(pidDir);
  mkdirSync(join(soak, "restarts"));
  const cases = Array.from(
    { length: 16 },
    (_, index) => ({ id: `c${index}`, input: { x: index }, expected: 3 * index + 1 }),
  );
  writeFileSync(join(root, "ranker.py"), RANKER);
  writeFileSync(join(root, "eval.py"), evalScript(pidDir));
  writeFileSync(join(root, "cases.json"), JSON.stringify({ cases }, null, 1));
  writeFileSync(join(root, "autoresearch.yaml"), experimentYaml());
  commitEverything(root);
  writeFileSync(
    join(root, ".git/info/exclude"),
    ".autoresearch/\nautoresearch*.jsonl\nautoresearch_dashboard*.md\nautoresearch_progress*.svg\n__pycache__/\n",
  );
  mustRun(root, BUN, [join(KIT, "scripts/baseline.ts")]);
  return { soak, root, pidDir, baselineCommit: git(root, ["rev-parse", "HEAD"]).stdout.trim() };
}

/** Result lines of the journal, and how many lines did not parse. */
function readResults(root: string): { results: Record<string, any>[]; unparsed: number } {
  const path = join(root, "autoresearch.jsonl");
  if (!existsSync(path)) return { results: [], unparsed: 0 };
  let unparsed = 0;
  const results: Record<string, any>[] = [];
  for (const text of readFileSync(path, "utf8").split("\n").filter((line) => line.trim())) {
    try {
      const line = JSON.parse(text);
      if (line.type === "result" && line.status !== "baseline") results.push(line);
    } catch {
      unparsed++;
    }
  }
  return { results, unparsed };
}

/** Pids recorded in the pid directory whose process is alive and still the same program. */
function livePids(pidDir: string, kind: "eval" | "agent"): number[] {
  const program = kind === "eval" ? "eval.py" : "kill-soak-agent";
  return readdirSync(pidDir).filter((name) => name.startsWith(`${kind}-`)).map((name) =>
    Number(name.slice(kind.length + 1))
  ).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      return !/^\d+ \(.*\) Z/.test(stat) && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(program);
    } catch {
      return false;
    }
  });
}

let current: number | null = null;
process.on("SIGINT", () => {
  if (current !== null) {
    try {
      process.kill(-current, "SIGKILL");
    } catch { /* gone */ }
  }
  process.exit(130);
});

/** Start one restart in its own process group; kill the whole group after `killAfterMs` unless it ends first. */
function restart(root: string, args: string[], killAfterMs: number | null, index: number): Promise<Restart> {
  const started = performance.now();
  const child = spawn(BUN, [join(KIT, "scripts/iterate.ts"), ...args], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", CI: "true", KILL_SOAK_DIR: dirname(root) },
  });
  current = child.pid!;
  let stderr = "";
  child.stdout.resume();
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  let killed = false;
  const timer = killAfterMs === null ? null : setTimeout(() => {
    killed = true;
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch { /* ended meanwhile */ }
  }, killAfterMs);
  return new Promise((done) =>
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      current = null;
      done({ index, killed: killed && signal === "SIGKILL", code, signal, ms: performance.now() - started, stderr });
    })
  );
}

/**
 * Whether the candidate a line judged holds the edit its description names ("nudge BIAS: 0.00 ->
 * 0.25": BIAS = 0.25), read from the keep's commit or the discard's patch; null when unknowable.
 */
function evaluatedAgentEdit(root: string, line: Record<string, any>): boolean | null {
  const match = /^nudge (WEIGHT|BIAS): \S+ -> (\S+)$/.exec(line.description);
  if (!match) return null;
  const expected = `${match[1]} = ${match[2]}`;
  const has = (text: string, prefix = "") => text.split("\n").includes(`${prefix}${expected}`);
  if (line.status === "keep") return line.commit ? has(git(root, ["show", `${line.commit}:ranker.py`]).stdout) : null;
  if (!line.patch || !existsSync(join(root, line.patch))) return null;
  const patch = readFileSync(join(root, line.patch), "utf8");
  return has(patch, "+") || (!has(patch, "-") && has(git(root, ["show", `${line.incumbent_commit}:ranker.py`]).stdout));
}

function count<T>(values: T[]): Map<T, number> {
  const counts = new Map<T, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}

async function main(): Promise<number> {
  const random = seededRandom(SEED);
  const { soak, root, pidDir, baselineCommit } = buildExperiment();
  console.error(`kill-soak: seed ${SEED}, target ${TARGET} iterations, experiment in ${root}`);
  const started = performance.now();
  const restarts: Restart[] = [];
  const failures: Restart[] = [];
  const leftByKill = { pending: 0, backup: 0, candidate: 0, indexLock: 0, clean: 0 };
  const orphans = { evalsAtKill: 0, killsWithOrphanEvals: 0, agentsAtKill: 0 };
  const seenOrphans = new Set<number>();
  const survivors = new Set<number>(); // orphan evals still alive after a later restart ended by itself
  let failedInARow = 0;
  let recorded = 0;
  // Restarts killed before they record anything, in a row: a decision longer than the kill
  // interval would never finish, so the delay grows until one does (the longest stall is printed).
  let stalled = 0;
  let longestStall = 0;
  let stalledRestarts = 0;
  let aborted: string | null = null;
  while (recorded < TARGET) {
    if (performance.now() - started > SOAK_LIMIT_MS) {
      aborted = `soak limit of ${SOAK_LIMIT_MS / 60_000} min reached`;
      break;
    }
    const asked = Math.min(
      TARGET - recorded,
      RUN_ITERATIONS[0] + Math.floor(random() * (RUN_ITERATIONS[1] - RUN_ITERATIONS[0] + 1)),
    );
    const killAfter = Math.min(
      KILL_AFTER_LIMIT_MS,
      (KILL_AFTER_MS[0] + random() * (KILL_AFTER_MS[1] - KILL_AFTER_MS[0])) * STALL_BACKOFF ** stalled,
    );
    const run = await restart(
      root,
      [
        "--loop",
        "--agent",
        `${BUN} ${AGENT}`,
        "--iterations",
        String(asked),
        "--no-report",
        ...(PARALLEL ? ["--parallel", String(PARALLEL)] : []),
      ],
      killAfter,
      restarts.length + 1,
    );
    restarts.push(run);
    writeFileSync(join(soak, "restarts", `${run.index}.stderr`), run.stderr);
    if (run.killed) {
      const evals = livePids(pidDir, "eval").filter((pid) => !seenOrphans.has(pid));
      orphans.evalsAtKill += evals.length;
      if (evals.length) orphans.killsWithOrphanEvals++;
      for (const pid of evals) seenOrphans.add(pid);
      orphans.agentsAtKill += livePids(pidDir, "agent").length;
      const state = join(root, ".autoresearch");
      const left = existsSync(join(state, "pending-step.json"))
        ? "pending"
        : existsSync(join(state, "backup/manifest.json"))
        ? "backup"
        : !git(root, ["diff", "--quiet", "HEAD", "--", "ranker.py"]).ok
        ? "candidate"
        : "clean";
      leftByKill[left]++;
      appendFileSync(
        join(soak, "restarts", "kills.jsonl"),
        JSON.stringify({ restart: run.index, after_ms: Math.round(run.ms), left, orphan_evals: evals }) + "\n",
      );
      if (existsSync(join(root, ".git/index.lock"))) leftByKill.indexLock++;
      failedInARow = 0;
    } else {
      for (const pid of livePids(pidDir, "eval")) if (seenOrphans.has(pid)) survivors.add(pid);
      if (run.code !== 0) {
        failures.push(run);
        failedInARow++;
        // A stale index lock stops every git command; remove it as a person would, and go on.
        if (run.stderr.includes(STDERR_MARKERS.indexLock)) rmSync(join(root, ".git/index.lock"), { force: true });
      } else failedInARow = 0;
    }
    const before = recorded;
    recorded = readResults(root).results.length;
    if (run.killed && recorded === before) {
      stalled++;
      stalledRestarts++;
      longestStall = Math.max(longestStall, stalled);
    } else stalled = 0;
    console.error(
      `restart ${run.index}: ${
        run.killed ? `killed after ${(run.ms / 1000).toFixed(1)} s` : `exit ${run.code ?? run.signal}`
      }, ${recorded}/${TARGET} recorded`,
    );
    if (failedInARow >= FAILED_RESTARTS_LIMIT) {
      aborted = `${FAILED_RESTARTS_LIMIT} failed restarts in a row`;
      break;
    }
  }
  const soakMs = performance.now() - started;

  const final = await restart(root, ["-m", "kill-soak: final restart"], null, restarts.length + 1);
  const finalOk = final.code === 0 || final.code === 2;
  const orphanEvalsAtEnd = livePids(pidDir, "eval");
  const orphanAgentsAtEnd = livePids(pidDir, "agent");
  // These processes are ours (started for this soak): stop them now that they are counted.
  for (const pid of [...orphanEvalsAtEnd, ...orphanAgentsAtEnd]) {
    try {
      process.kill(pid, "SIGKILL");
    } catch { /* gone */ }
  }

  const { results, unparsed } = readResults(root);
  const iterations = results.map((line) => line.iteration as number);
  const duplicated = [...count(iterations)].filter(([, times]) => times > 1).map(([iteration]) => iteration);
  const missing = Array.from({ length: Math.max(0, ...iterations) }, (_, index) => index + 1).filter((iteration) =>
    !iterations.includes(iteration)
  );
  const keeps = results.filter((line) => line.status === "keep");
  const chain = git(root, ["log", "--first-parent", "--reverse", "--format=%H %s", `${baselineCommit}..HEAD`]).stdout
    .split("\n").filter(Boolean).map((line) => ({ hash: line.slice(0, 40), subject: line.slice(41) }));
  const harnessCommits = chain.filter((commit) => commit.subject.startsWith("autoresearch: "));
  const strayCommits = chain.filter((commit) => !commit.subject.startsWith("autoresearch: "));
  const keepsOffBranch = keeps.filter((line) =>
    !line.commit || !git(root, ["merge-base", "--is-ancestor", line.commit, "HEAD"]).ok
  );
  const keepCommitTimes = count(
    keeps.map((line) => chain.filter((commit) => line.commit && commit.hash.startsWith(line.commit)).length),
  );
  const keepsNotOnce = keeps.length - (keepCommitTimes.get(1) ?? 0);
  const chainMatches = harnessCommits.length === keeps.length &&
    harnessCommits.every((commit, index) => keeps[index].commit && commit.hash.startsWith(keeps[index].commit));
  const unrecordedCommits = harnessCommits.filter((commit) =>
    !keeps.some((line) => line.commit && commit.hash.startsWith(line.commit))
  );
  const strayCandidate = !git(root, ["diff", "--quiet", "HEAD", "--", "ranker.py"]).ok ||
    !git(root, ["diff", "--cached", "--quiet", "--", "ranker.py"]).ok;
  const pendingLeft = existsSync(join(root, ".autoresearch/pending-step.json"));
  const backupLeft = existsSync(join(root, ".autoresearch/backup/manifest.json"));
  const agentCalls = existsSync(join(soak, "agent.jsonl"))
    ? readFileSync(join(soak, "agent.jsonl"), "utf8").split("\n").filter((line) => line.endsWith("}")).map((line) =>
      JSON.parse(line)
    )
    : [];
  // Under --parallel an agent call's number is not its line's iteration, and an agent that commits in its worker
  // tree is discarded by design: these two checks are the serial loop's.
  const notTheAgentsEdit = PARALLEL ? [] : results.filter((line) => evaluatedAgentEdit(root, line) === false);
  // The soak's agent never fails by itself: a failed call means it could not run where the loop ran it.
  const agentFailures = results.filter((line) => String(line.reason ?? "").includes("the agent command exited")).length;
  const misreadAgentCommits = PARALLEL
    ? 0
    : results.filter((line) => String(line.reason ?? "").includes("changed nothing")).length;
  const markers = Object.fromEntries(
    Object.entries(STDERR_MARKERS).map(([name, text]) => [
      name,
      restarts.filter((run) => run.stderr.includes(text)).length,
    ]),
  ) as Record<Marker, number>;
  const examples = (Object.keys(STDERR_MARKERS) as Marker[]).filter((name) =>
    markers[name] > 0 && !["restored", "finished", "leftoverEval", "resumed", "editedAfterDecision"].includes(name)
  )
    .map((name) =>
      restarts.flatMap((run) => run.stderr.split("\n")).find((line) => line.includes(STDERR_MARKERS[name]))!.trim()
    );
  const finalSaid =
    final.stderr.split("\n").find((line) => line.trim() && !/^\s+at /.test(line))?.trim().slice(0, 90) ?? "";
  const codes = [...count(restarts.map((run) => (run.killed ? "SIGKILL (ours)" : String(run.code ?? run.signal))))].map(
    ([code, times]) => `${code}: ${times}`,
  ).join(", ");

  const checks: [string, string, boolean][] = [
    ["journal lines parse", `${unparsed} unparsed`, unparsed === 0],
    [
      "iterations 1..N, no gaps",
      `N = ${iterations.length}, ${missing.length} lost${missing.length ? ` (${missing.slice(0, 8).join(", ")})` : ""}`,
      missing.length === 0,
    ],
    [
      "no duplicated iteration",
      `${duplicated.length} duplicated${duplicated.length ? ` (${duplicated.slice(0, 8).join(", ")})` : ""}`,
      duplicated.length === 0,
    ],
    [
      "every keep's commit on the branch",
      `${keeps.length} keeps, ${keepsOffBranch.length} off the branch`,
      keepsOffBranch.length === 0,
    ],
    ["each keep commit once in git log", `${keepsNotOnce} not exactly once`, keepsNotOnce === 0],
    [
      "HEAD's chain = the keeps in order",
      `${harnessCommits.length} harness commits, ${unrecordedCommits.length} unrecorded, ${strayCommits.length} other commits`,
      chainMatches && strayCommits.length === 0,
    ],
    ["no decision dropped on restart", `${markers.dropped} "${STDERR_MARKERS.dropped}"`, markers.dropped === 0],
    [
      "work tree = HEAD, nothing pending",
      `${strayCandidate ? "stray candidate" : "clean"}${pendingLeft ? ", pending-step left" : ""}${
        backupLeft ? ", backup left" : ""
      }`,
      !strayCandidate && !pendingLeft && !backupLeft,
    ],
    [
      "each line judged its agent's edit",
      `${notTheAgentsEdit.length} judged other content${
        notTheAgentsEdit.length ? ` (#${notTheAgentsEdit.slice(0, 8).map((line) => line.iteration).join(", #")})` : ""
      }`,
      notTheAgentsEdit.length === 0,
    ],
    ["agent commits evaluated", `${misreadAgentCommits} read as "changed nothing"`, misreadAgentCommits === 0],
    ["the agent never failed", `${agentFailures} lines of a failed agent call`, agentFailures === 0],
    ["no orphan eval survives a finished restart", `${survivors.size} survived`, survivors.size === 0],
    ["no orphan eval after the final restart", `${orphanEvalsAtEnd.length} alive`, orphanEvalsAtEnd.length === 0],
    [
      "every restart continues",
      `${failures.length} failed${aborted ? `; aborted: ${aborted}` : ""}`,
      failures.length === 0 && !aborted,
    ],
    [
      "final clean restart (step mode)",
      `exit ${final.code ?? final.signal}${finalSaid ? `: ${finalSaid}` : ""}`,
      finalOk,
    ],
  ];

  console.log(
    `kill -9 soak of \`iterate.ts --loop${
      PARALLEL ? ` --parallel ${PARALLEL}` : ""
    }\`: seed ${SEED}, ${restarts.length} restarts, ${restarts.filter((run) => run.killed).length} killed\n`,
  );
  console.log("| check | observed | result |\n|---|---|---|");
  for (const [name, observed, ok] of checks) console.log(`| ${name} | ${observed} | ${ok ? "PASS" : "FAIL"} |`);
  console.log("\n| figure | value |\n|---|---|");
  const figures: [string, string][] = [
    ["wall time (soak, then final restart)", `${(soakMs / 1000).toFixed(1)} s + ${(final.ms / 1000).toFixed(1)} s`],
    ["iterations per minute (soak)", (recorded / (soakMs / 60_000)).toFixed(1)],
    ["restart exit codes", codes],
    [
      "kills leaving: pending step / incumbent backup / candidate in tree / clean",
      `${leftByKill.pending} / ${leftByKill.backup} / ${leftByKill.candidate} / ${leftByKill.clean}`,
    ],
    [
      "kills leaving .git/index.lock; restarts failing on it",
      `${leftByKill.indexLock}; ${failures.filter((run) => run.stderr.includes(STDERR_MARKERS.indexLock)).length}`,
    ],
    ["orphan evals right after a kill (kills with any)", `${orphans.evalsAtKill} (${orphans.killsWithOrphanEvals})`],
    ["orphan agents right after a kill", String(orphans.agentsAtKill)],
    ["orphan agents after the final restart", String(orphanAgentsAtEnd.length)],
    ["killed restarts that recorded nothing (longest run in a row)", `${stalledRestarts} (${longestStall})`],
    [
      "soak restarts printing: Dropped… / Nothing to evaluate / Finished… / Restored… / stale lock / race",
      `${markers.dropped} / ${markers.nothing} / ${markers.finished} / ${markers.restored} / ${markers.staleLock} / ${markers.race}`,
    ],
    [
      "soak restarts printing: leftover eval stopped / candidate resumed / edited after the decision",
      `${markers.leftoverEval} / ${markers.resumed} / ${markers.editedAfterDecision}`,
    ],
    [
      "keep / discard / crash / guard_fail",
      ["keep", "discard", "crash", "guard_fail"].map((status) =>
        results.filter((line) => line.status === status).length
      ).join(" / "),
    ],
    [
      "agent calls (of which committed)",
      `${agentCalls.length} (${agentCalls.filter((call) => call.committed).length})`,
    ],
  ];
  for (const [name, value] of figures) console.log(`| ${name} | ${value} |`);
  if (failures.length || !finalOk) {
    console.log("\nRestarts that failed (stderr, last lines):");
    for (const run of [...failures, ...(finalOk ? [] : [final])].slice(0, 6)) {
      console.log(
        `- restart ${run.index}, exit ${run.code ?? run.signal}:\n${
          run.stderr.trim().split("\n").filter((line) => !/^\s+at /.test(line)).slice(-3).map((line) => `    ${line}`)
            .join("\n")
        }`,
      );
    }
  }
  if (examples.length) {
    console.log(`\nExample stderr lines:\n${examples.map((line) => `- ${line.slice(0, 240)}`).join("\n")}`);
  }
  const failed = checks.filter(([, , ok]) => !ok).map(([name]) => name);
  console.log(`\nsoak folder (repo/, restarts/, agent.jsonl): ${KEEP || failed.length ? soak : "(removed)"}`);
  if (!KEEP && !failed.length) rmSync(soak, { recursive: true, force: true });
  console.log(failed.length ? `kill-soak: FAIL (${failed.join("; ")})` : "kill-soak: PASS");
  return failed.length ? 1 : 0;
}

main().then((code) => {
  process.exitCode = code;
}, (error) => {
  console.error(`kill-soak: ${(error as Error).message}`);
  process.exitCode = 1;
});
