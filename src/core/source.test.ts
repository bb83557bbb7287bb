import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitTopLevel, sourceRecorder } from './reconcile.js';

const tmp = mkdtempSync(join(tmpdir(), 'stigmer-source-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('stigmer.ai/source', () => {
  const repo = join(tmp, 'repo');
  const root = join(repo, 'deploy', 'manifests');
  mkdirSync(join(repo, '.git'), { recursive: true });
  mkdirSync(join(root, 'agents'), { recursive: true });
  const at = (file: string) => ({ file, line: 3, column: 1 });

  it('is relative to the git top level of the manifest root, from any working directory', () => {
    expect(gitTopLevel(join(root, 'agents'))).toBe(repo);
    const fromRepo = sourceRecorder(root, repo)(at('deploy/manifests/agents/bot.yaml'));
    const fromElsewhere = sourceRecorder(
      root,
      join(tmp, 'x', 'y'),
    )(at('../../repo/deploy/manifests/agents/bot.yaml'));
    const fromInside = sourceRecorder(root, join(root, 'agents'))(at('bot.yaml'));
    expect(fromRepo).toBe('deploy/manifests/agents/bot.yaml:3');
    expect(fromElsewhere).toBe(fromRepo);
    expect(fromInside).toBe(fromRepo);
  });

  it("is relative to the manifest root outside git, and to the file's git top level for -f files", () => {
    const plain = join(tmp, 'plain', 'manifests');
    mkdirSync(plain, { recursive: true });
    expect(sourceRecorder(plain, tmp)(at('plain/manifests/a.yaml'))).toBe('a.yaml:3');
    // A worktree or submodule has a .git file, not a directory.
    const worktree = join(tmp, 'worktree');
    mkdirSync(join(worktree, 'm'), { recursive: true });
    writeFileSync(join(worktree, '.git'), 'gitdir: elsewhere\n');
    expect(sourceRecorder(null, join(worktree, 'm'))(at('a.yaml'))).toBe('m/a.yaml:3');
    expect(sourceRecorder(null, join(tmp, 'plain'))(at('manifests/a.yaml'))).toBe('manifests/a.yaml:3');
    expect(sourceRecorder(null, tmp)(at('<stdin>'))).toBe('<stdin>:3');
  });
});
