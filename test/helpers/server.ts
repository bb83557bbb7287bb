/**
 * A real `stigmer server` process for tests: `bin/run.js server --port 0` on a SQLite file in a
 * temp directory, started once per test file (beforeAll). `start` resolves when the server
 * printed its first line (`listening on URL`); `stop` sends a signal and waits for the exit.
 * `reset` empties the store between tests through its SQLite file, the way an operator would,
 * so one process serves many tests that each expect an empty backend.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { binPath, cleanEnv, repoRoot, tempDir } from './cli.js';

export interface ServerProcess {
  /** `http://127.0.0.1:PORT` (or https). */
  url: string;
  port: number;
  token: string;
  /** The SQLite file it serves. */
  db: string;
  process: ChildProcessWithoutNullStreams;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Empties every table but schema_version (between tests of one file). */
  reset(): void;
  /** Sends `signal` (default SIGTERM) unless it exited, and resolves with the exit code (or the signal). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves when the process exits (without sending anything). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Removes the temp directory (after stop). */
  cleanup(): void;
}

export interface StartServerOptions {
  /** Serve this file instead of a fresh one. */
  db?: string;
  token?: string;
  /** Extra arguments (e.g. --tls-cert). */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Pass the token with --token (default) or only through env/args. */
  tokenFlag?: boolean;
  timeoutMs?: number;
}

/** Starts a server; rejects with its stderr when it exits before listening. */
export async function startServer(options: StartServerOptions = {}): Promise<ServerProcess> {
  const tmp = tempDir('stigmer-server-');
  const db = options.db ?? join(tmp.path, 'server.db');
  const token = options.token ?? randomBytes(18).toString('base64url');
  const args = [binPath, 'server', '--port', '0', '--db', db, ...(options.args ?? [])];
  if (options.tokenFlag ?? true) args.push('--token', token);
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: cleanEnv({ STIGMER_HOME: join(tmp.path, 'home'), ...options.env }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`stigmer server did not start in time:\n${stderr}`));
    }, options.timeoutMs ?? 30_000);
    const onData = () => {
      const m = /^listening on (https?:\/\/\S+)$/m.exec(stderr);
      if (m) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        resolve(m[1]!);
      }
    };
    child.stderr.on('data', onData);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`stigmer server exited (${code ?? signal}) before listening:\n${stderr}`));
    });
  });
  return {
    url,
    port: Number(new URL(url).port),
    token,
    db,
    process: child,
    stderr: () => stderr,
    exited,
    reset() {
      const d = new Database(db);
      try {
        d.pragma('busy_timeout = 10000');
        const tables = d
          .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('schema_version', 'sqlite_sequence')",
          )
          .all() as Array<{ name: string }>;
        d.transaction(() => {
          for (const { name } of tables) d.exec(`DELETE FROM "${name}"`);
        }).immediate();
      } finally {
        d.close();
      }
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    cleanup: () => tmp.cleanup(),
  };
}
