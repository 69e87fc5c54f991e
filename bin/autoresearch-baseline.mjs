#!/usr/bin/env node
// autoresearch-baseline: runs scripts/baseline.ts with Bun when Bun is on PATH, else dist/baseline.js with Node.
import { launch } from "./launch.mjs";

launch("baseline");
