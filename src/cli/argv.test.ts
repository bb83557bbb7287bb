import { describe, expect, it } from 'vitest';
import { normalizeArgv } from './argv.js';

describe('normalizeArgv', () => {
  it("rewrites Terraform's --flag=true|false for boolean flags", () => {
    expect(
      normalizeArgv(['plan', '--prune=false', '--json=true', '--auto-approve=FALSE', '--force=1']),
    ).toEqual(['plan', '--no-prune', '--json', '--no-auto-approve', '--force']);
  });

  it('leaves string flags, unknown flags and everything after -- alone', () => {
    expect(normalizeArgv(['apply', '--message=false', '--bogus=true', '--', '--prune=false'])).toEqual([
      'apply',
      '--message=false',
      '--bogus=true',
      '--',
      '--prune=false',
    ]);
  });
});
