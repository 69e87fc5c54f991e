// Preloaded by bunfig.toml: CLI tests spawn real runtimes and evals, which takes
// longer than bun's 5 s default. Colour and prompts are off for every spawned script.
import { setDefaultTimeout } from "bun:test";

setDefaultTimeout(120_000);
process.env.NO_COLOR = "1";
process.env.CI = process.env.CI ?? "true";
