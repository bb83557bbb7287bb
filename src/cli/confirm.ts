/**
 * Interactive confirmation for `apply`. Without a terminal on stdin it refuses (exit 1) rather
 * than guessing: CI must say --auto-approve.
 */
import { createInterface } from 'node:readline/promises';
import { StigmerError } from '../errors.js';

export async function confirm(question: string, command = 'apply'): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new StigmerError('USAGE', `${command} needs confirmation, but standard input is not a terminal`, {
      hint: `run \`stigmer ${command} --auto-approve\` to apply without asking (as in CI)`,
    });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`\n${question}`);
    return answer.trim() === 'yes';
  } finally {
    rl.close();
  }
}
