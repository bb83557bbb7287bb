/**
 * `apply` on a terminal asks before changing anything: only "yes" applies. The CLI runs under
 * util-linux `script`, which gives it a real pseudo-terminal; the answer is typed once the
 * prompt appears. (Without a terminal, apply refuses: see lifecycle.test.ts.)
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { binPath, cleanEnv } from '../helpers/cli.js';
import { agentYaml, makeStack } from './stack.js';

const SCRIPT = '/usr/bin/script';
const hasPty = process.platform === 'linux' && existsSync(SCRIPT);
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Runs `stigmer apply` on a pseudo-terminal and types `answer` at the prompt. */
function applyOnTerminal(
  cwd: string,
  home: string,
  answer: string,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, binPath, 'apply'].map(quote).join(' ');
    const child = spawn(SCRIPT, ['-qec', command, '/dev/null'], {
      cwd,
      env: cleanEnv({ STIGMER_HOME: home }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    let answered = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      if (!answered && output.includes('Enter a value:')) {
        answered = true;
        child.stdin.write(`${answer}\n`);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code: code ?? 1, output });
    });
  });
}

describe.skipIf(!hasPty)('apply on a terminal', () => {
  const stack = makeStack();
  afterAll(() => stack.cleanup());
  stack.write('manifests/bot.yaml', agentYaml('bot'));

  it('any answer but "yes" cancels: exit 1, nothing changed', async () => {
    const r = await applyOnTerminal(stack.dir, stack.home, 'no');
    expect(r.output).toContain('Plan: 1 to add, 0 to change, 0 to destroy.');
    expect(r.output).toContain("Only 'yes' will be accepted to approve.");
    expect(r.output).toContain('apply cancelled; nothing was changed');
    expect(r.code).toBe(1);
    expect(stack.rows()).toEqual([]);
  });

  it('"yes" applies', async () => {
    const r = await applyOnTerminal(stack.dir, stack.home, 'yes');
    expect(r.output).toContain('Apply complete! Resources: 1 added, 0 changed, 0 destroyed.');
    expect(r.code).toBe(0);
    expect(stack.rows().map((x) => x.name)).toEqual(['bot']);
  });
});
