#!/usr/bin/env node
// Entry point of the `stigmer` CLI. Keeps start-up small: argv normalisation, then oclif.
import { normalizeArgv } from '../dist/cli/argv.js';
import { runCli } from '../dist/cli/run.js';

await runCli(normalizeArgv(process.argv.slice(2)), import.meta.url);
