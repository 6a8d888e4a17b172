#!/usr/bin/env node
// The `orchestrator` command (package.json "bin"): the compiled CLI, built by `npm run build`.
import '../dist/main.js';
