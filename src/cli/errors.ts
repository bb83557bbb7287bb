/**
 * The single place where errors become terminal output and exit codes. A user-fixable
 * StigmerError prints one line plus its hint and exits 1; a bug prints its stack for a report.
 */
import { formatDiagnostic, isStigmerError, ValidationError } from '../errors.js';

/** Thrown by commands to exit with a code after printing everything themselves. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
    this.name = 'ExitCode';
  }
}

interface OclifLikeError {
  oclif?: { exit?: number };
  code?: string;
  message: string;
}

export function reportError(
  err: unknown,
  write: (s: string) => void = (s) => process.stderr.write(s),
): number {
  if (err instanceof ExitCode) return err.code;
  if (err instanceof ValidationError) {
    for (const d of err.diagnostics) write(`${formatDiagnostic(d)}\n`);
    write(`Error: ${err.message}\n`);
    if (err.hint) write(`  hint: ${err.hint}\n`);
    return 1;
  }
  if (isStigmerError(err)) {
    if (err.userFixable) {
      write(`Error: ${err.message}\n`);
      if (err.hint) write(`  hint: ${err.hint}\n`);
      return 1;
    }
    write(`Error: internal error (${err.code}): ${err.message}\n${err.stack ?? ''}\n`);
    write('This is a bug in stigmer; please report it with the output above.\n');
    return 1;
  }
  const e = err as OclifLikeError;
  // oclif's own exits (help, version) and parse errors.
  if (e && typeof e === 'object' && e.oclif && typeof e.oclif.exit === 'number') {
    if (e.code === 'EEXIT') return e.oclif.exit;
    write(`Error: ${e.message.replace(/^Error: /, '')}\n  hint: see \`stigmer --help\`\n`);
    return e.oclif.exit === 0 ? 0 : 1;
  }
  if (err instanceof Error && 'code' in err && (err as NodeJS.ErrnoException).code === 'EPIPE') return 0;
  const stack = err instanceof Error ? (err.stack ?? err.message) : String(err);
  write(
    `Error: internal error: ${stack}\nThis is a bug in stigmer; please report it with the output above.\n`,
  );
  return 1;
}
