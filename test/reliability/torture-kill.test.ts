/**
 * CI run of the crash-safety torture script (scripts/torture-kill.mjs, docs/reliability.md):
 * a few SIGKILLs at random moments of `stigmer apply` on a small generated stack. Every run
 * must leave an intact database holding entirely the old or entirely the new stack, and one
 * more apply must converge. The full run (N ≥ 200, 2,000 resources) is `npm run torture:kill`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot } from '../helpers/cli.js';

interface TortureStats {
  runs: number;
  resources: number;
  applyMs: number;
  integrityFailures: number;
  tornStates: number;
  nonConverging: number;
  killedOld: number;
  killedNew: number;
  finishedBeforeKill: number;
  failures: Array<{ run: number; delay: number; what: string }>;
}

function runTorture(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'torture-kill.mjs'), ...args], {
      env: cleanEnv({ TORTURE_RUNS: undefined, TORTURE_RESOURCES: undefined }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('torture:kill', () => {
  it('survives SIGKILL at random moments of an apply: intact, old or new, converging', async () => {
    const r = await runTorture(['--runs', '5', '--resources', '100', '--json']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const stats = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as TortureStats;
    expect(stats).toMatchObject({ runs: 5, integrityFailures: 0, tornStates: 0, nonConverging: 0 });
    expect(stats.failures).toEqual([]);
    expect(stats.resources).toBe(100);
    expect(stats.killedOld + stats.killedNew + stats.finishedBeforeKill).toBe(5);
  }, 120_000);

  it('refuses a bad --runs with a clear message', async () => {
    const r = await runTorture(['--runs', 'many']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--runs must be a whole number');
  });
});
