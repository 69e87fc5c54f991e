// What an agent call cost, read from its output: Claude Code's `--output-format json` result
// object (total_cost_usd, usage), Codex's `exec --json` events (turn.completed usage, no
// dollars), or a generic `COST: usd=0.12 tokens_in=1200 tokens_out=340` line (any subset).
// Also the agent's final text from those JSON forms, where its DESCRIPTION line hides.
// It neither runs the agent nor writes the journal.

/** Tokens and money one agent call reported; null where it said nothing. */
export type AgentCost = {
  /** Every input token, cached ones included. */
  tokens_in: number | null;
  tokens_out: number | null;
  /** Input tokens read from a prompt cache (part of tokens_in). */
  tokens_cached: number | null;
  cost_usd: number | null;
};

export type AgentReport = { cost: AgentCost; text: string | null };

const NONE: AgentCost = { tokens_in: null, tokens_out: null, tokens_cached: null, cost_usd: null };

/**
 * The cost and final text an agent's output reports. Claude's result object wins over Codex
 * events, which win over COST: lines; a later COST: line replaces an earlier one field by field.
 */
export function readAgentReport(output: string): AgentReport {
  const claude = { cost: NONE, text: null as string | null, found: false };
  const codex = { cost: NONE, texts: [] as string[], found: false };
  let generic: AgentCost = NONE;
  for (const item of jsonRecordsAndLines(output)) {
    if (typeof item !== "string") {
      const record = item;
      if (record.type === "result" && ("total_cost_usd" in record || "usage" in record || "result" in record)) {
        claude.found = true;
        claude.cost = claudeCost(record);
        claude.text = typeof record.result === "string" ? record.result : null;
      } else if (record.type === "turn.completed" && isObject(record.usage)) {
        codex.found = true;
        codex.cost = addCosts(codex.cost, codexCost(record.usage));
      } else if (record.type === "item.completed" && isObject(record.item)) {
        const item = record.item;
        if (
          (item.type === "agent_message" || item.item_type === "assistant_message") && typeof item.text === "string"
        ) {
          codex.found = true;
          codex.texts.push(item.text);
        }
      }
      continue;
    }
    const costLine = /^\s*COST:\s*(.*)$/.exec(item);
    if (costLine) generic = mergeCost(generic, genericCost(costLine[1]));
  }
  if (claude.found) return { cost: fillFrom(claude.cost, generic), text: claude.text };
  if (codex.found) return { cost: fillFrom(codex.cost, generic), text: codex.texts.join("\n") || null };
  return { cost: generic, text: null };
}

/**
 * The output as JSON records and plain lines, in order: a whole output that is one JSON value (a
 * pretty-printed result object, or Claude Code 2's array of messages with the result last) is read
 * whole; otherwise each line is a record when it is a JSON object or array (JSONL, stream-json), else
 * plain text. An array's elements are records in their own right.
 */
export function jsonRecordsAndLines(output: string): (Record<string, unknown> | string)[] {
  const whole = output.trim();
  const asRecords = (value: unknown): Record<string, unknown>[] | null =>
    Array.isArray(value) ? value.filter(isObject) : isObject(value) ? [value] : null;
  if (/^[[{]/.test(whole) && /[\]}]$/.test(whole)) {
    const records = asRecords(parseJson(whole));
    if (records) return records;
  }
  return output.split("\n").flatMap((line): (Record<string, unknown> | string)[] => {
    const trimmed = line.trim();
    const records = /^[[{]/.test(trimmed) && /[\]}]$/.test(trimmed) ? asRecords(parseJson(trimmed)) : null;
    return records ?? [line];
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The sum of several calls' costs (a retried call's attempts): a field is null only when no attempt reported it. */
export function addCosts(a: AgentCost, b: AgentCost): AgentCost {
  const add = (x: number | null, y: number | null) => (x === null ? y : y === null ? x : x + y);
  return {
    tokens_in: add(a.tokens_in, b.tokens_in),
    tokens_out: add(a.tokens_out, b.tokens_out),
    tokens_cached: add(a.tokens_cached, b.tokens_cached),
    cost_usd: a.cost_usd === null && b.cost_usd === null ? null : roundUsd(add(a.cost_usd, b.cost_usd)!),
  };
}

/** The journal fields of a cost: only those the agent reported. */
export function costFields(cost: AgentCost): Record<string, number> {
  const fields: Record<string, number> = {};
  for (const [key, value] of Object.entries(cost)) if (value !== null) fields[key] = value;
  return fields;
}

export const NO_COST: AgentCost = NONE;

function claudeCost(record: Record<string, unknown>): AgentCost {
  const usage = isObject(record.usage) ? record.usage : {};
  const input = count(usage.input_tokens);
  const cacheRead = count(usage.cache_read_input_tokens);
  const cacheWrite = count(usage.cache_creation_input_tokens);
  const anyInput = input !== null || cacheRead !== null || cacheWrite !== null;
  return {
    tokens_in: anyInput ? (input ?? 0) + (cacheRead ?? 0) + (cacheWrite ?? 0) : null,
    tokens_out: count(usage.output_tokens),
    tokens_cached: cacheRead,
    cost_usd: money(record.total_cost_usd ?? record.cost_usd),
  };
}

/** Codex's input_tokens already include its cached_input_tokens. */
function codexCost(usage: Record<string, unknown>): AgentCost {
  return {
    tokens_in: count(usage.input_tokens),
    tokens_out: count(usage.output_tokens),
    tokens_cached: count(usage.cached_input_tokens),
    cost_usd: null,
  };
}

/** `usd=0.12 tokens_in=1200 tokens_out=340 tokens_cached=800` (also cost_usd=, input_tokens=, output_tokens=). */
function genericCost(text: string): AgentCost {
  const cost: AgentCost = { ...NONE };
  for (const [, key, value] of text.matchAll(/([a-z_]+)\s*=\s*\$?([0-9][0-9_,]*(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?)/gi)) {
    const number = Number(value.replace(/[_,]/g, ""));
    if (!Number.isFinite(number) || number < 0) continue;
    const name = key.toLowerCase();
    if (name === "usd" || name === "cost_usd" || name === "cost") cost.cost_usd = roundUsd(number);
    else if (name === "tokens_in" || name === "input_tokens") cost.tokens_in = Math.round(number);
    else if (name === "tokens_out" || name === "output_tokens") cost.tokens_out = Math.round(number);
    else if (name === "tokens_cached" || name === "cached_tokens") cost.tokens_cached = Math.round(number);
  }
  return cost;
}

function mergeCost(earlier: AgentCost, later: AgentCost): AgentCost {
  return {
    tokens_in: later.tokens_in ?? earlier.tokens_in,
    tokens_out: later.tokens_out ?? earlier.tokens_out,
    tokens_cached: later.tokens_cached ?? earlier.tokens_cached,
    cost_usd: later.cost_usd ?? earlier.cost_usd,
  };
}

/** A JSON result's fields, with a COST: line filling what it left out (Codex's dollars, when a wrapper prices them). */
function fillFrom(main: AgentCost, extra: AgentCost): AgentCost {
  return mergeCost(extra, main);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function count(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? Math.round(value) : null;
}

function money(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? roundUsd(value) : null;
}

/** Micro-dollars: enough for per-call prices, without binary noise in the journal. */
function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
