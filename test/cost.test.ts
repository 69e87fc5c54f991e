// What an iteration cost and the loop's budgets, on real repositories with the real Python eval
// and scripted agents: Claude-Code-style JSON results (tokens, dollars, the DESCRIPTION inside the
// result text) up to budget.max_cost_usd (exit 7), a COST: line agent (also under Deno and with
// --parallel 2), Codex-style JSONL events (tokens, no dollars), eval seconds on every line, the
// time budget's own exit code, and the dashboard's cost figures.
import { describe, expect, test } from "bun:test";
import { PATH_WITH_KIT_RUNTIMES, read, results, runScript } from "./helpers.ts";
import { baselined } from "./experiment-fixture.ts";
import { bashAgent, EDIT, setBudget } from "./agent-fixture.ts";

const env = { PATH: PATH_WITH_KIT_RUNTIMES };

function loop(root: string, agent: string, extra: string[] = [], runtime: "bun" | "deno" = "bun") {
  return runScript("iterate", ["--loop", "--agent", agent, "--no-report", ...extra], { cwd: root, env, runtime });
}

describe("cost per iteration", () => {
  test("Claude Code 2's JSON array (its messages, a rate_limit_event among them, the result last): cost and DESCRIPTION read from the result", () => {
    const root = baselined();
    const agent = bashAgent(
      root,
      "claude-array",
      `${EDIT}
printf '%s\\n' '[{"type":"system","subtype":"init","session_id":"s1"},{"type":"assistant","message":{"content":[{"type":"text","text":"Editing."}]}},{"type":"rate_limit_event","rate_limit_info":{"status":"allowed"}},{"type":"result","subtype":"success","is_error":false,"result":"Done.\\nDESCRIPTION: weight from the array","total_cost_usd":0.25,"usage":{"input_tokens":40,"output_tokens":60}}]'
`,
    );
    const run = loop(root, agent, ["--iterations", "1"]);
    expect(run.code).toBe(0);
    const [line] = results(root);
    expect(line.description).toBe("weight from the array");
    expect(line.cost_usd).toBe(0.25);
    expect(line.tokens_out).toBe(60);
    expect(line.agent_attempts ?? 1).toBe(1);
  });

  test("a cost budget the agent's output cannot be held to (no dollars reported) is said, once", () => {
    const root = baselined();
    setBudget(root, 5);
    const agent = bashAgent(root, "unpriced", `${EDIT}\necho "DESCRIPTION: weight, no cost said"\n`);
    const run = loop(root, agent, ["--iterations", "2"]);
    expect(run.code).toBe(0);
    const warnings = run.stderr.split("\n").filter((text) =>
      text.includes("budget.max_cost_usd ($5) cannot stop this loop")
    );
    expect(warnings.length).toBe(1);
  });

  test("a JSON-speaking agent's final report is the text of its result, not the JSON around it", () => {
    const root = baselined();
    const agent = bashAgent(
      root,
      "claude-report",
      `printf '%s\\n' '{"type":"result","subtype":"success","is_error":false,"result":"## Final report\\nThe weight went from 1 to 3; the bias did nothing.","total_cost_usd":0.05,"usage":{"input_tokens":10,"output_tokens":20}}'
`,
    );
    const run = runScript("iterate", ["--final-report", "--agent", agent], { cwd: root, env });
    expect(run.code).toBe(0);
    const report = read(root, "autoresearch_report.md");
    expect(report).toContain("## Final report\nThe weight went from 1 to 3; the bias did nothing.");
    expect(report).not.toContain('"total_cost_usd"');
  });

  test("Claude-Code JSON results: tokens and dollars per line, the DESCRIPTION from the result text, stop at budget.max_cost_usd with exit 7", () => {
    const root = baselined();
    setBudget(root, 1.0);
    const agent = bashAgent(
      root,
      "claude",
      `${EDIT}
printf '%s\\n' '{"type":"result","subtype":"success","is_error":false,"duration_ms":1200,"num_turns":3,"result":"I changed the weight.\\nDESCRIPTION: weight to '"$((1 + AUTORESEARCH_ITERATION))"'","session_id":"s1","total_cost_usd":0.4,"usage":{"input_tokens":100,"cache_creation_input_tokens":50,"cache_read_input_tokens":1000,"output_tokens":300}}'
`,
    );
    const run = loop(root, agent, ["--iterations", "10"]);
    expect(run.code).toBe(7);
    expect(run.stderr).toMatch(/the cost budget of \$1 \(budget\.max_cost_usd\) is spent: \$1\.2000 over 3 iterations/);
    const lines = results(root);
    expect(lines.length).toBe(3);
    for (const line of lines) {
      expect(line.cost_usd).toBe(0.4);
      expect(line.tokens_in).toBe(1150);
      expect(line.tokens_cached).toBe(1000);
      expect(line.tokens_out).toBe(300);
      expect(line.agent_seconds).toBeGreaterThan(0);
      expect(line.eval_seconds).toBeGreaterThan(0);
    }
    expect(lines.map((line) => line.description)).toEqual(["weight to 2", "weight to 3", "weight to 4"]);

    // The dashboard's summary adds them up, per round and per kept gain.
    const dashboard = runScript("dashboard", ["--format", "json"], { cwd: root, env });
    expect(dashboard.code).toBe(0);
    const cost = JSON.parse(dashboard.stdout).summary.cost;
    expect(cost.iterations).toBe(3);
    expect(cost.cost_usd).toBeCloseTo(1.2, 6);
    expect(cost.tokens_in).toBe(3450);
    expect(cost.tokens_out).toBe(900);
    expect(cost.agent_seconds).toBeGreaterThan(0);
    expect(cost.eval_seconds).toBeGreaterThan(0);
    expect(cost.kept_gain).toBeGreaterThan(0);
    expect(cost.usd_per_gain).toBeCloseTo(1.2 / cost.kept_gain, 4);
    const markdown = runScript("dashboard", ["--format", "md"], { cwd: root, env });
    expect(markdown.stdout).toMatch(/Cost:.*\$1\.20.*4,350 tokens/);
    const text = runScript("dashboard", ["--format", "text"], { cwd: root, env });
    expect(text.stdout).toMatch(/Cost: .*\$1\.20/);
    const html = runScript("dashboard", ["--format", "html", "--no-write"], { cwd: root, env });
    expect(html.stdout).toMatch(/<b>Cost:<\/b> .*\$1\.20.*4,350 tokens/);

    // Spent before any call: the next run stops at once, with the same code.
    const again = loop(root, agent, ["--iterations", "2"]);
    expect(again.code).toBe(7);
    expect(results(root).length).toBe(3);
  });

  test("a COST: line agent: its fields, any subset, on each line", () => {
    const root = baselined();
    const agent = bashAgent(
      root,
      "cost-line",
      `${EDIT}
echo "working"
echo "COST: usd=0.12 tokens_in=1200 tokens_out=340"
echo "DESCRIPTION: weight up"
`,
    );
    const run = loop(root, agent, ["--iterations", "2"]);
    expect(run.code).toBe(0);
    for (const line of results(root)) {
      expect(line).toMatchObject({ cost_usd: 0.12, tokens_in: 1200, tokens_out: 340, description: "weight up" });
      expect(line.tokens_cached).toBeUndefined();
    }
  });

  test("Codex-style JSONL events: tokens summed over turns, no dollars, the DESCRIPTION from its last message", () => {
    const root = baselined();
    const agent = bashAgent(
      root,
      "codex",
      `${EDIT}
echo '{"type":"thread.started","thread_id":"t1"}'
echo '{"type":"turn.started"}'
echo '{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"thinking"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":2000,"cached_input_tokens":1500,"output_tokens":100}}'
echo '{"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Done.\\nDESCRIPTION: codex weight"}}'
echo '{"type":"turn.completed","usage":{"input_tokens":500,"cached_input_tokens":0,"output_tokens":50}}'
`,
    );
    const run = loop(root, agent, ["--iterations", "1"]);
    expect(run.code).toBe(0);
    const [line] = results(root);
    expect(line).toMatchObject({ tokens_in: 2500, tokens_cached: 1500, tokens_out: 150, description: "codex weight" });
    expect(line.cost_usd).toBeUndefined();
    const cost = JSON.parse(runScript("dashboard", ["--format", "json"], { cwd: root, env }).stdout).summary.cost;
    expect(cost.cost_usd).toBeNull();
    expect(cost.tokens_in).toBe(2500);
  });

  test("--parallel 2 records each candidate's cost", () => {
    const root = baselined();
    const agent = bashAgent(root, "parallel-cost", `${EDIT}\necho "COST: usd=0.05 tokens_out=10"\n`);
    const run = loop(root, agent, ["--parallel", "2", "--iterations", "2"]);
    expect(run.code).toBe(0);
    const lines = results(root);
    expect(lines.length).toBe(2);
    for (const line of lines) {
      expect(line).toMatchObject({ cost_usd: 0.05, tokens_out: 10 });
      expect(typeof line.agent_seconds).toBe("number");
    }
  });

  test("under Deno: a COST: line agent's cost is recorded and budget.max_cost_usd stops the loop", () => {
    const root = baselined();
    setBudget(root, 0.2);
    const agent = bashAgent(root, "deno-cost", `${EDIT}\necho "COST: usd=0.12"\n`);
    const run = loop(root, agent, ["--iterations", "5"], "deno");
    expect(run.code).toBe(7);
    expect(results(root).map((line) => line.cost_usd)).toEqual([0.12, 0.12]);
  });

  test("the time budget stops the loop with its own exit code, 6, and says what was spent", () => {
    const root = baselined();
    const agent = bashAgent(root, "slow", `${EDIT}\nsleep 1\n`);
    const run = loop(root, agent, ["--max-hours", "0.0001", "--iterations", "5"]);
    expect(run.code).toBe(6);
    expect(run.stderr).toMatch(
      /the time budget of 0\.0001 h is spent \(--max-hours\): ran \d s \(round so far: agent \d s, eval \d s\)/,
    );
    expect(results(root).length).toBe(1);
  });
});
