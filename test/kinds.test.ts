// Lever kinds from name and value together (scripts/lib/levers/kinds.ts), table-driven: the
// names real code uses for counts, sizes, rates, weights and thresholds, strings that are
// options and strings that are not (paths, secrets, addresses), and raw kinds passed through.
import { describe, expect, test } from "bun:test";
import { classifyLevers, isChoice, leverKind, nameWords } from "../scripts/lib/levers/kinds.ts";
import type { RawLever } from "../scripts/lib/levers/lever.ts";

const number = (name: string, value: string): RawLever => ({
  kind: "number",
  name,
  value,
  numeric: Number(value),
  line: 1,
  scope: "module",
});
const string = (name: string, value: string): RawLever => ({ kind: "string", name, value, line: 1, scope: "module" });

describe("numbers", () => {
  test.each([
    ["MAX_ITER", "200", "count"],
    ["max_iter", "200.0", "threshold"], // written as a real number: not a count of things
    ["TOP_K", "10", "count"],
    ["n_estimators", "100", "count"],
    ["nEstimators", "100", "count"],
    ["num_layers", "4", "count"],
    ["maxTokens", "256", "count"],
    ["BATCH_SIZE", "32", "size"],
    ["hidden_dim", "128", "size"],
    ["max_length", "512", "size"],
    ["MIN_LENGTH", "3", "threshold"], // the shortest accepted: a bound, not a size
    ["BIAS", "0.0", "constant"], // an offset, not a weight
    ["CHUNK_SIZE", "800", "size"],
    ["LEARNING_RATE", "0.001", "rate"],
    ["lr", "3e-4", "rate"],
    ["dropout", "0.1", "rate"],
    ["temperature", "0.7", "rate"],
    ["TITLE_BOOST", "2.0", "weight"],
    ["recency_weight", "0.3", "weight"],
    ["penaltyFactor", "1.5", "weight"],
    ["MIN_SCORE", "0.35", "threshold"],
    ["scoreThreshold", "0.5", "threshold"],
    ['CONFIG["min_similarity"]', "0.8", "threshold"],
    ["tol", "1e-4", "threshold"],
    ["distance", "100", "threshold"],
    ["min_df", "2", "threshold"],
    ["OkapiScorer.__init__.k1", "1.5", "constant"],
    ["OkapiScorer.__init__.b", "0.75", "constant"],
    ["SEED", "42", "constant"],
    ["ALPHA", "1e-4", "constant"],
    ["MIN_RATIO", "2.5", "threshold"], // a bound on a rate
    ['FIELD_WEIGHTS["title"]', "3.0", "weight"], // an entry of a table named for weights
    ["boosts.title", "2", "weight"],
    ['DATABASES["default"]["PORT"]', "5432", null], // identifies the machine: not a lever
  ])("%s = %s is a %s", (name, value, kind) => {
    expect<string | null>(leverKind(number(name, value))).toBe(kind);
  });
});

describe("strings", () => {
  test.each([
    ["ACTIVATION", '"relu"', true],
    ["MODEL", '"gpt-4o-mini"', true],
    ["solver", "'adam'", true],
    ["mode", '"bm25"', true],
    ["DATA_PATH", '"data/train.csv"', false],
    ["SECRET_KEY", '"django-insecure-abc"', false],
    ["API_URL", '"https://example.com"', false],
    ["ADMIN_EMAIL", '"ops@example.com"', false],
    ["GREETING", '"hello there friend"', false],
    ["EMPTY", '""', false],
    ["input", '"$1"', false], // a shell expansion
    ["home", '"${HOME}"', false],
    ["LONG", `"${"x".repeat(41)}"`, false],
  ])("%s = %s is a choice: %s", (name, value, expected) => {
    expect(isChoice(name, value)).toBe(expected);
    expect(leverKind(string(name, value))).toBe(expected ? "choice" : null);
  });
});

test("raw kinds other than number and string pass through; non-levers are left out", () => {
  const raw: RawLever[] = [
    { kind: "flag", name: "DEBUG", value: "True", line: 1, scope: "module" },
    { kind: "list", name: "HIDDEN", value: "(16,)", line: 2, scope: "module", detail: "tuple, 1 item" },
    { kind: "weights", name: "W", value: "{a: 1}", keys: ["a"], line: 3, scope: "module" },
    { kind: "prompt", name: "SYSTEM", value: "You are…", line: 4, scope: "module" },
    { kind: "threshold", name: "score", value: "0.5", numeric: 0.5, line: 5, scope: "rank" },
    string("DATA_DIR", '"data"'),
  ];
  expect(classifyLevers(raw).map((lever) => [lever.name, lever.kind])).toEqual([
    ["DEBUG", "flag"],
    ["HIDDEN", "list"],
    ["W", "weights"],
    ["SYSTEM", "prompt"],
    ["score", "threshold"],
  ]);
});

test.each([
  ['CONFIG["min_score"]', ["min", "score"]],
  ["OkapiScorer.__init__.k1", ["k1"]],
  ["maxIter", ["max", "iter"]],
  ["HTTPTimeout", ["http", "timeout"]],
  ["default.threshold", ["threshold"]],
])("nameWords(%s)", (name, words) => {
  expect(nameWords(name)).toEqual(words);
});
