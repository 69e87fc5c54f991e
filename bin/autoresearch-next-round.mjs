#!/usr/bin/env node
// autoresearch-next-round: runs scripts/next-round.ts with Bun when Bun is on PATH, else dist/next-round.js with Node.
import { launch } from "./launch.mjs";

launch("next-round");
