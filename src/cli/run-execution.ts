/**
 * What `agent execute` and `workflow execute` share around the core call: Ctrl-C (and SIGTERM)
 * abort the run — it is recorded CANCELLED and the command exits 130 —, the event printer, the
 * closing summary line on stderr, and the exit code of the run (0 COMPLETED, 1 FAILED).
 */
import type { Execution } from '../backend/types.js';
import type { StigmerError } from '../errors.js';
import type { EventSink } from '../execute/events.js';
import { RunCancelled } from '../execute/run.js';
import { colorEnabled, colors } from './color.js';
import { ExitCode } from './errors.js';
import { eventPrinter, executionSummary } from './printers/execution.js';

export interface RunOutcome {
  execution: Execution;
  exitCode: 0 | 1 | 130;
  error?: StigmerError;
}

/** Runs `fn` with an abort signal wired to SIGINT/SIGTERM and a printer; exits with the run's code. */
export async function runExecution(
  json: boolean,
  fn: (signal: AbortSignal, emit: EventSink) => Promise<RunOutcome>,
): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals) => {
    signals++;
    // A second Ctrl-C while the run is being wound down: leave at once.
    if (signals > 1) process.exit(130);
    controller.abort(
      new RunCancelled(name === 'SIGINT' ? 'interrupted (Ctrl-C)' : `stopped by ${name}`, true),
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const c = colors(colorEnabled(process.stderr));
  const emit = eventPrinter({
    json,
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    colors: c,
  });
  let result: RunOutcome;
  try {
    result = await fn(controller.signal, emit);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (result.error) {
    process.stderr.write(`Error: ${result.error.message}\n`);
    if (result.error.hint) process.stderr.write(`  hint: ${result.error.hint}\n`);
  }
  process.stderr.write(executionSummary(result.execution, c));
  if (result.exitCode !== 0) throw new ExitCode(result.exitCode);
}

/** Reads MESSAGE `-` from stdin. */
export async function readMessage(message: string): Promise<string> {
  if (message !== '-') return message;
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
