/** Runs oclif and turns whatever escapes a command into the right output and exit code. */
// Subpath imports: the package index loads every oclif module (parser, help, ux, ...), about a
// third of a cold `stigmer --version`; commands load what they use when they are run.
import { flush } from '@oclif/core/flush';
import { run } from '@oclif/core/run';
import { enableLargeLoadHeapTuning } from '../heap.js';
import { reportError } from './errors.js';

export async function runCli(argv: string[], entryUrl: string): Promise<void> {
  enableLargeLoadHeapTuning();
  let code = 0;
  try {
    await run(argv, entryUrl);
  } catch (err) {
    code = reportError(err);
  }
  try {
    await flush();
  } catch {
    // stdout closed early (e.g. piped into head): nothing left to say.
  }
  process.exitCode = code;
}
