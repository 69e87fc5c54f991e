#!/usr/bin/env node
// autoresearch-init: runs scripts/init.ts with Bun when Bun is on PATH, else dist/init.js with Node.
import { launch } from "./launch.mjs";

launch("init");
