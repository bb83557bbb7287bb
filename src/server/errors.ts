/** Start-up failures of `stigmer server` as one clear line each. */
import { StigmerError } from '../errors.js';

/** Why the server could not bind its address. */
export function listenError(err: unknown, host: string, port: number): StigmerError {
  if (err instanceof StigmerError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new StigmerError('CONFIG', `cannot listen on ${where}: the port is in use`, {
        cause: err,
        hint: 'stop the other process, or pick another port with --port (0 picks a free one)',
      });
    case 'EACCES':
      return new StigmerError('CONFIG', `cannot listen on ${where}: permission denied`, {
        cause: err,
        hint: 'ports below 1024 need privileges; use a higher --port',
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new StigmerError('CONFIG', `cannot listen on ${where}: no such address on this machine`, {
        cause: err,
        hint: 'pass an address of this machine with --host (0.0.0.0 for all)',
      });
    default:
      return new StigmerError(
        'CONFIG',
        `cannot listen on ${where}: ${(err as Error)?.message ?? String(err)}`,
        {
          cause: err,
        },
      );
  }
}
