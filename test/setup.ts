// Preloaded by bunfig.toml. CLI tests spawn real runtimes and evals, which takes longer
// than bun's 5 s default; `[test] timeout` in bunfig is ignored and setDefaultTimeout here
// reaches only the first test file, so `npm test` also passes --timeout. Colour and
// prompts are off for every script a test spawns.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(120_000); // ms
process.env.NO_COLOR = "1";
process.env.CI = process.env.CI ?? "true";
