import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { getBooleanInput, getInput, Workflow } from './workflow.js';

const dir = mkdtempSync(join(tmpdir(), 'stigmer-workflow-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function capture(env: Record<string, string> = {}) {
  let out = '';
  return { io: new Workflow(env, (t) => (out += t)), text: () => out };
}

describe('workflow commands', () => {
  it('reads inputs as the runner passes them', () => {
    const env = { 'INPUT_GITHUB-TOKEN': ' t ', INPUT_COMMENT: 'False', 'INPUT_REQUIRE-REVIEWED-PLAN': 'yes' };
    expect(getInput(env, 'github-token')).toBe('t');
    expect(getInput(env, 'missing')).toBe('');
    expect(getBooleanInput(env, 'comment', true)).toBe(false);
    expect(getBooleanInput(env, 'missing', true)).toBe(true);
    expect(() => getBooleanInput(env, 'require-reviewed-plan', false)).toThrow(/true or false/);
  });

  it('writes outputs as heredocs with a random delimiter, multi-line values intact', () => {
    const file = join(dir, 'output');
    writeFileSync(file, '');
    const { io } = capture({ GITHUB_OUTPUT: file });
    io.setOutput('plan-json', '/tmp/plan.json');
    io.setOutput('multi', 'line 1\nEOF\nline 3');
    const text = readFileSync(file, 'utf8');
    const delimiters = [...text.matchAll(/^[a-z-]+<<(ghadelimiter_[0-9a-f-]{36})$/gm)].map((m) => m[1]);
    expect(delimiters).toHaveLength(2);
    expect(delimiters[0]).not.toBe(delimiters[1]);
    expect(text).toContain(`multi<<${delimiters[1]}\nline 1\nEOF\nline 3\n${delimiters[1]}\n`);
  });

  it('escapes annotation properties and messages as the toolkit does, and masks each value once', () => {
    const { io, text } = capture();
    io.error('50% done\nsecond line', { file: 'a,b:c.yaml', line: 3, col: 5 });
    io.warning('plain');
    io.mask('s3cret');
    io.mask('s3cret');
    io.mask('');
    expect(text()).toBe(
      '::error file=a%2Cb%3Ac.yaml,line=3,col=5::50%25 done%0Asecond line\n::warning::plain\n::add-mask::s3cret\n',
    );
  });

  it('appends to the job summary', () => {
    const file = join(dir, 'summary.md');
    writeFileSync(file, '');
    const { io } = capture({ GITHUB_STEP_SUMMARY: file });
    expect(io.appendSummary('# one')).toBe(true);
    io.appendSummary('two\n');
    expect(readFileSync(file, 'utf8')).toBe('# one\ntwo\n');
    expect(capture().io.appendSummary('x')).toBe(false);
  });
});
