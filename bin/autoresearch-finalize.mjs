#!/usr/bin/env node
// autoresearch-finalize: runs scripts/finalize.ts with Bun when Bun is on PATH, else dist/finalize.js with Node.
import { launch } from "./launch.mjs";

launch("finalize");
