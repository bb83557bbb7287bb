/** What bin/run.js loads: argv normalisation and the oclif runner (one module of the CLI bundle). */
export { normalizeArgv } from './argv.js';
export { runCli } from './run.js';
