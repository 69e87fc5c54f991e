#!/usr/bin/env node
// autoresearch-iterate: runs scripts/iterate.ts with Bun when Bun is on PATH, else dist/iterate.js with Node.
import { launch } from "./launch.mjs";

launch("iterate");
