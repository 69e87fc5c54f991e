// test-data.ts: inspection baseline relies on (placeholders, problems, lenient foreign
// formats), the scaffolds init writes, and reading --cases-from inputs.
import { describe, expect, test } from "bun:test";
import {
  buildJsonTestData,
  buildTsvTestData,
  inspectTestData,
  inspectTestDataFile,
  parseCaseInputs,
  TEST_DATA_FORMAT,
} from "../scripts/lib/harness/test-data.ts";

const kit = (cases: unknown[]) => JSON.stringify({ format: TEST_DATA_FORMAT, cases });

describe("inspectTestData", () => {
  test("finds placeholders by case and field in the kit's JSON", () => {
    const report = inspectTestData(
      kit([{ id: "a", input: { query: "TODO: a query" }, expected: ["x", "TODO: id"] }, {
        id: "b",
        input: { query: "q" },
        expected: "y",
      }]),
      "t.json",
    );
    expect(report).toEqual({
      format: "kit-json",
      cases: 2,
      placeholders: [{ caseId: "a", field: "input.query" }, { caseId: "a", field: "expected[1]" }],
      problems: [],
      warnings: [],
    });
  });

  const problems: [string, string, string, RegExp][] = [
    ["text that is not JSON", "{nope", "t.json", /not valid JSON/],
    ["a kit file without cases", JSON.stringify({ format: TEST_DATA_FORMAT }), "t.json", /no "cases" array/],
    ["a case without an id", kit([{ input: {}, expected: 1 }]), "t.json", /case 1 has no "id"/],
    [
      "duplicate ids",
      kit([{ id: "a", input: {}, expected: 1 }, { id: "a", input: {}, expected: 2 }]),
      "t.json",
      /"a" appears more than once/,
    ],
    ["a case without input", kit([{ id: "a", expected: 1 }]), "t.json", /"a" has no "input" object/],
    ["a case without expected", kit([{ id: "a", input: {} }]), "t.json", /"a" has no "expected" field/],
    ["a broken JSON Lines line", '{"q": 1}\n{oops\n', "t.jsonl", /line 2 is not valid JSON/],
    ["a kit TSV row with too few columns", "id\tinput\texpected\nc1\tonly input\n", "t.tsv", /"c1" has 2 columns/],
  ];
  for (const [description, text, path, message] of problems) {
    test(`reports ${description} as a problem`, () => {
      expect(inspectTestData(text, path).problems.join("\n")).toMatch(message);
    });
  }

  test("is lenient with foreign formats: counts cases and finds placeholders only", () => {
    expect(inspectTestData(JSON.stringify([{ query: "a", relevant: [1] }, { query: "TODO: b" }]), "queries.json"))
      .toMatchObject({ format: "json", cases: 2, problems: [], placeholders: [{ caseId: "2", field: "query" }] });
    expect(inspectTestData(JSON.stringify({ queries: [{ q: 1 }, { q: 2 }, { q: 3 }] }), "q.json").cases).toBe(3);
    expect(inspectTestData("query,expected\na,b\nc,TODO: d\n", "cases.csv")).toMatchObject({
      format: "table",
      cases: 2,
      placeholders: [{ caseId: "c", field: "expected" }],
    });
    expect(inspectTestData("one\ntwo\n# comment\n", "cases.txt")).toMatchObject({ format: "text", cases: 2 });
  });

  test("warns about bootstrapped expected outputs without refusing them", () => {
    const report = inspectTestData(kit([{ id: "a", input: { q: 1 }, expected: 2, source: "bootstrap" }]), "t.json");
    expect(report.problems).toEqual([]);
    expect(report.warnings[0]).toContain("1 case have expected outputs copied from the current code");
  });

  test("an unreadable file is a problem, not an exception", () => {
    expect(inspectTestDataFile("/nonexistent/cases.json").problems[0]).toContain("cannot read");
  });
});

describe("scaffolds", () => {
  test("the JSON scaffold has 20 placeholder cases shaped for the entry's parameters", () => {
    const text = buildJsonTestData({ signature: "def rank(query, k=10)", parameters: ["query"], shape: "ranked_list" });
    const report = inspectTestData(text, "autoresearch_test_data.json");
    expect(report).toMatchObject({ format: "kit-json", cases: 20, problems: [] });
    expect(
      report.placeholders.filter((placeholder) => placeholder.caseId === "case-01").map((placeholder) =>
        placeholder.field
      ),
    ).toEqual(["input.query", "expected[0]", "expected[1]"]);
  });

  test("a destructured options parameter asks for its keys, the defaulted ones only in input_means", () => {
    const document = JSON.parse(buildJsonTestData({
      signature: "export function search({ query, limit = LIMIT }, docs)",
      parameters: ["{ query, limit = LIMIT }", "docs"],
      shape: "ranked_list",
      language: "typescript",
    }));
    expect(Object.keys(document.cases[0].input)).toEqual(["query", "docs"]);
    expect(document.input_means).toContain("(query, docs)");
    expect(document.input_means).toContain("object parameter { query, limit = LIMIT }");
    const allDefaulted = JSON.parse(buildJsonTestData({
      signature: 'export function search({ query = "", limit = 5 })',
      parameters: ['{ query = "", limit = 5 }'],
      shape: "ranked_list",
    }));
    expect(Object.keys(allDefaulted.cases[0].input)).toEqual(["query"]);
    // Python names never read as patterns.
    const python = JSON.parse(buildJsonTestData({ signature: null, parameters: ["query", "k"], shape: "ranked_list" }));
    expect(Object.keys(python.cases[0].input)).toEqual(["query", "k"]);
    expect(python.input_means).toBe(
      "arguments of the entry function by parameter name (query, k); parameters with defaults may be added",
    );
  });

  test("a latency scaffold leaves expected null (not checked)", () => {
    const document = JSON.parse(buildJsonTestData({ signature: null, parameters: ["text"], shape: "latency" }));
    expect(document.cases[0].expected).toBeNull();
    expect(
      inspectTestData(JSON.stringify(document), "t.json").placeholders.every((placeholder) =>
        placeholder.field === "input.text"
      ),
    ).toBe(true);
  });

  test("the TSV scaffold is recognised as the kit's and refused while placeholders remain", () => {
    const report = inspectTestData(buildTsvTestData({ latency: false }), "autoresearch_test_data.tsv");
    expect(report).toMatchObject({ format: "kit-tsv", cases: 20, problems: [] });
    expect(report.placeholders[0]).toEqual({ caseId: "case-01", field: "input" });
  });

  test("provided inputs replace the placeholder inputs", () => {
    const text = buildTsvTestData({ inputs: [{ id: "x", input: { input: "site\tdown" } }], latency: true });
    expect(text).toContain("x\tsite down\t\n");
  });
});

describe("parseCaseInputs", () => {
  const table: [string, string, string, string[], unknown][] = [
    ["objects by parameter name", '[{"query": "a", "k": 3}]', "in.json", ["query", "k"], [{
      id: null,
      input: { query: "a", k: 3 },
    }]],
    ["ids kept", '[{"id": 7, "query": "a"}]', "in.json", ["query"], [{ id: "7", input: { query: "a" } }]],
    ["{id, input} objects", '[{"id": "c", "input": {"query": "a"}}]', "in.json", ["query"], [{
      id: "c",
      input: { query: "a" },
    }]],
    ["bare values for one parameter", '["a", "b"]', "in.json", ["text"], [{ id: null, input: { text: "a" } }, {
      id: null,
      input: { text: "b" },
    }]],
    ["positional arrays", '[["a", 2]]', "in.json", ["query", "k"], [{ id: null, input: { query: "a", k: 2 } }]],
    ["JSON Lines", '{"query": "a"}\n{"query": "b"}\n', "in.jsonl", ["query"], [{ id: null, input: { query: "a" } }, {
      id: null,
      input: { query: "b" },
    }]],
    ["a cases wrapper", '{"cases": [{"query": "a"}]}', "in.json", ["query"], [{ id: null, input: { query: "a" } }]],
    [
      "objects by the keys of an options parameter",
      '[{"query": "a", "limit": 2}]',
      "in.json",
      ["{ query, limit = 5 }"],
      [{
        id: null,
        input: { query: "a", limit: 2 },
      }],
    ],
    ["bare values for an options parameter's one required key", '["a"]', "in.json", ["{ query, limit = 5 }"], [{
      id: null,
      input: { query: "a" },
    }]],
    [
      "positional arrays with an options object spread into its keys",
      '[[{"query": "a", "limit": 2}, ["d"]]]',
      "in.json",
      [
        "{ query, limit = 5 }",
        "docs",
      ],
      [{ id: null, input: { query: "a", limit: 2, docs: ["d"] } }],
    ],
  ];
  for (const [description, text, path, parameters, expected] of table) {
    test(`reads ${description}`, () => {
      expect(parseCaseInputs(text, path, parameters)).toEqual(expected as never);
    });
  }

  test("rejects text that is neither JSON nor JSON Lines, and empty input", () => {
    expect(() => parseCaseInputs("just words\nmore words\n", "in.txt", ["q"])).toThrow(
      /line 1 of "in.txt" is not valid JSON/,
    );
    expect(() => parseCaseInputs("[]", "in.json", ["q"])).toThrow(/holds no inputs/);
    expect(() => parseCaseInputs("[[1, 2, 3]]", "in.json", ["a", "b"])).toThrow(
      /has 3 values but the entry function takes 2/,
    );
    expect(() => parseCaseInputs('[["a", []]]', "in.json", ["{ query }", "docs"])).toThrow(
      /input 1 of "in.json" gives the object parameter \{ query \} a value that is not an object/,
    );
    expect(() => parseCaseInputs('["a"]', "in.json", ["{ query, docs }"])).toThrow(/an object with "query", "docs"/);
  });
});
