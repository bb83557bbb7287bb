/** A CLI process left running in the background (for cancel, Ctrl-C and crash tests). */
import { type ChildProcess, spawn } from 'node:child_process';
import { binPath, cleanEnv, repoRoot } from './cli.js';

export interface Background {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the first stdout line that parses as JSON and satisfies `match`. */
  waitForEvent(
    match: (event: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  exited: Promise<number>;
}

export function startStigmer(args: string[], env: Record<string, string | undefined>): Background {
  const child = spawn(process.execPath, [binPath, ...args], {
    cwd: repoRoot,
    env: cleanEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  child.stdin!.end();
  const exited = new Promise<number>((resolve) =>
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))),
  );
  const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
  exited.then(() => clearTimeout(guard));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForEvent(match, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of out.split('\n')) {
            try {
              const event = JSON.parse(line) as Record<string, unknown>;
              if (match(event)) {
                listeners.delete(check);
                clearTimeout(timer);
                resolve(event);
                return;
              }
            } catch {
              // not a complete JSON line yet
            }
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching event; stdout: ${out}\nstderr: ${err}`));
        }, timeoutMs);
        listeners.add(check);
        exited.then(() => setTimeout(check, 0));
        check();
      });
    },
  };
}
