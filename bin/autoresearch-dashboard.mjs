#!/usr/bin/env node
// autoresearch-dashboard: runs scripts/dashboard.ts with Bun when Bun is on PATH, else dist/dashboard.js with Node.
import { launch } from "./launch.mjs";

launch("dashboard");
