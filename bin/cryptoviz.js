#!/usr/bin/env node
// Runs the TypeScript entry point directly (Node 24 strips types); see package.json "engines".
import '../src/cli/main.ts'
