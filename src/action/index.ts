/** Entry of the GitHub Action bundle (dist-action/index.js): runs the Action once and exits with its code. */
import { runAction } from './run.js';

process.exitCode = await runAction();
