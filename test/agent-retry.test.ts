// Long loops through transient agent failures, on real repositories with the real Python eval and
// scripted agents: a rate-limit message or exit 75 is retried with backoff (loop.retry_base_seconds
// shortened here), noted on the line and not a crash; a failed attempt's edits and new files never
// reach the candidate (in a --parallel worker's tree too); a non-transient failure, or one past
// loop.retry_minutes, is a crash.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PATH_WITH_KIT_RUNTIMES, read, results, runScript } from "./helpers.ts";
import { baselined } from "./experiment-fixture.ts";
import { bashAgent, EDIT, setBudget } from "./agent-fixture.ts";

const env = { PATH: PATH_WITH_KIT_RUNTIMES };

function loop(root: string, agent: string, iterations = 1) {
  return runScript("iterate", ["--loop", "--agent", agent, "--no-report", "--iterations", String(iterations)], {
    cwd: root,
    env,
  });
}

describe("transient agent failures", () => {
  test("a failed call whose JSON only names rate limits (Claude Code's rate_limit_event, a usage count of 429) is a crash, not retried", () => {
    const root = baselined();
    setBudget(root, null, "{ retry_base_seconds: 0.1 }");
    const agent = bashAgent(
      root,
      "max-turns",
      `${EDIT}
printf '%s\\n' '[{"type":"system","subtype":"init"},{"type":"rate_limit_event","rate_limit_info":{"status":"allowed"}},{"type":"result","subtype":"error_max_turns","is_error":true,"result":"Reached the maximum number of turns.","total_cost_usd":0.3,"usage":{"input_tokens":429,"output_tokens":429}}]'
exit 1
`,
    );
    const run = loop(root, agent);
    expect(run.stderr).not.toContain("agent rate-limited");
    const [line] = results(root);
    expect(line.status).toBe("crash");
    expect(line.agent_attempts ?? 1).toBe(1);
  });

  test("a rate-limited agent that fails twice, then succeeds: no crash, the attempts noted, the failed attempts' edits gone", () => {
    const root = baselined();
    setBudget(root, null, "{ retry_base_seconds: 0.2 }");
    const agent = bashAgent(
      root,
      "rate-limited",
      `if [ "\${AUTORESEARCH_ATTEMPT:-1}" -lt 3 ]; then
  sed -i "s/^WEIGHT = .*/WEIGHT = 99.0/" ranker.py
  echo "half-made" > scratch.txt
  echo "partial work"
  echo "API Error: 429 {\\"type\\":\\"error\\",\\"error\\":{\\"type\\":\\"rate_limit_error\\"}}" >&2
  exit 1
fi
${EDIT}
echo "COST: usd=0.01"
echo "DESCRIPTION: weight after the rate limit"
`,
    );
    const run = loop(root, agent);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/agent rate-limited \(exit 1\): retry 1 in 200 ms, at \d\d:\d\d:\d\d/);
    expect(run.stderr).toMatch(/agent rate-limited \(exit 1\): retry 2 in 400 ms, at \d\d:\d\d:\d\d/);
    const lines = results(root);
    expect(lines.map((line) => line.status)).toEqual(["keep"]);
    const [line] = lines;
    expect(line.description).toBe("weight after the rate limit");
    expect(line.agent_attempts).toBe(3);
    expect(line.agent_retries).toHaveLength(2);
    expect(line.agent_retries[0]).toMatch(/^attempt 1: exit 1, output matched .*429.*iteration1-agent-attempt1\.log/);
    expect(line.patch ? read(root, line.patch) : "").not.toContain("99.0");
    expect(read(root, "ranker.py")).toContain("WEIGHT = 2.0");
    // The failed attempts' new files were moved aside, never deleted.
    expect(existsSync(join(root, "scratch.txt"))).toBe(false);
    const aside = join(root, ".autoresearch/agent-files/round1/iteration1");
    expect(readdirSync(aside).sort()).toEqual(["attempt1", "attempt2"]);
    expect(read(root, ".autoresearch/agent-files/round1/iteration1/attempt1/scratch.txt")).toBe("half-made\n");
    expect(existsSync(join(root, ".autoresearch/logs/round1/iteration1-agent-attempt2.log"))).toBe(true);
  });

  test("exit 75 is transient whatever the output says", () => {
    const root = baselined();
    setBudget(root, null, "{ retry_base_seconds: 0.1 }");
    const agent = bashAgent(
      root,
      "tempfail",
      `if [ "\${AUTORESEARCH_ATTEMPT:-1}" = 1 ]; then echo "backend busy"; exit 75; fi
${EDIT}
`,
    );
    const run = loop(root, agent);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/agent failed transiently \(exit 75\): retry 1 in 100 ms/);
    const [line] = results(root);
    expect(line.status).toBe("keep");
    expect(line.agent_attempts).toBe(2);
  });

  test("a non-transient failure is a crash, at once", () => {
    const root = baselined();
    setBudget(root, null, "{ retry_base_seconds: 0.1 }");
    const agent = bashAgent(root, "broken", `echo "Segmentation fault" >&2\nexit 139\n`);
    const run = loop(root, agent);
    expect(run.stderr).not.toMatch(/retry/);
    const [line] = results(root);
    expect(line.status).toBe("crash");
    expect(line.reason).toMatch(/the agent command exited with code 139/);
    expect(line.agent_attempts).toBeUndefined();
  });

  test("a rate limit that outlasts loop.retry_minutes is a crash that says so", () => {
    const root = baselined();
    setBudget(root, null, "{ retry_base_seconds: 0.5, retry_minutes: 0.02 }");
    const agent = bashAgent(root, "always-limited", `echo "Error: rate limit reached, try later"\nexit 1\n`);
    const run = loop(root, agent);
    const [line] = results(root);
    expect(line.status).toBe("crash");
    expect(line.reason).toMatch(/transient: exit 1, output matched .*no retry left within loop\.retry_minutes 0\.02/);
    expect(run.stderr).toMatch(/retry 1 in 500 ms/);
  });

  test("--parallel 2: a worker's rate-limited call is retried in its own tree, its half-made edit kept out", () => {
    const root = baselined();
    setBudget(root, null, "{ retry_base_seconds: 0.2 }");
    const agent = bashAgent(
      root,
      "parallel-limited",
      `if [ "\${AUTORESEARCH_ATTEMPT:-1}" = 1 ] && [ "$AUTORESEARCH_ITERATION" = 1 ]; then
  sed -i "s/^WEIGHT = .*/WEIGHT = 99.0/" ranker.py
  echo "Error: 529 Overloaded" >&2
  exit 1
fi
${EDIT}
`,
    );
    const run = runScript("iterate", [
      "--loop",
      "--agent",
      agent,
      "--no-report",
      "--parallel",
      "2",
      "--iterations",
      "2",
    ], { cwd: root, env });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/w\d: agent rate-limited \(exit 1\): retry 1 in 200 ms/);
    const lines = results(root);
    expect(lines.map((line) => line.status)).not.toContain("crash");
    expect(lines.filter((line) => line.agent_attempts === 2)).toHaveLength(1);
    expect(lines.map((line) => line.patch ? read(root, line.patch) : "").join("\n")).not.toContain("99.0");
  });

  test("bad rate_limit_patterns are refused with one line naming the key", () => {
    const root = baselined();
    setBudget(root, null, '{ rate_limit_patterns: ["(unclosed"] }');
    const run = loop(root, "true");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/loop\.rate_limit_patterns.*valid regular expression/);
  });
});
