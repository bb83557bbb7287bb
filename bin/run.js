#!/usr/bin/env node
// Entry point of the `stigmer` CLI. Keeps start-up small: argv normalisation, then oclif, both
// from the start-up bundle (scripts/bundle-cli.mjs).
import { normalizeArgv, runCli } from '../dist/bundle/main.js';

await runCli(normalizeArgv(process.argv.slice(2)), import.meta.url);
