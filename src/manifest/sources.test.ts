import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import { MAX_FILE_BYTES, parseManifestFile } from './parse.js';
import { readManifestSources, STDIN_PATH } from './sources.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'stigmer-sources-'));
});
afterEach(() => {
  rmSync(tmp, { recursive: true, force: true });
});

function write(rel: string, text = 'x: 1\n'): void {
  const abs = join(tmp, rel);
  mkdirSync(dirname(abs), { recursive: true });
  writeFileSync(abs, text);
}

const paths = async (dir = 'm') => (await readManifestSources({ dir, cwd: tmp })).files.map((f) => f.path);

describe('readManifestSources: directories', () => {
  it('walks recursively in sorted order, *.yaml and *.yml only', async () => {
    for (const f of [
      'm/b.yaml',
      'm/a.yml',
      'm/sub/z.yaml',
      'm/sub/deeper/c.YAML',
      'm/A.yaml',
      'm/notes.md',
      'm/c.json',
    ]) {
      write(f);
    }
    expect(await paths()).toEqual(['m/A.yaml', 'm/a.yml', 'm/b.yaml', 'm/sub/deeper/c.YAML', 'm/sub/z.yaml']);
  });

  it('skips hidden entries and node_modules', async () => {
    for (const f of [
      'm/.git/x.yaml',
      'm/.hidden.yaml',
      'm/node_modules/p/x.yaml',
      'm/sub/node_modules/y.yaml',
      'm/ok.yaml',
    ]) {
      write(f);
    }
    expect(await paths()).toEqual(['m/ok.yaml']);
  });

  it('reads project from stigmer.yaml at the root and does not treat it as a manifest', async () => {
    write('m/stigmer.yaml', 'project: team-a\n');
    write('m/sub/stigmer.yaml', 'kind: Agent\n');
    write('m/a.yaml');
    const sources = await readManifestSources({ dir: 'm', cwd: tmp });
    expect(sources.project).toBe('team-a');
    expect(sources.root).toBe(join(tmp, 'm'));
    expect(sources.diagnostics).toEqual([]);
    expect(sources.files.map((f) => f.path)).toEqual(['m/a.yaml', 'm/sub/stigmer.yaml']);
  });

  it('reports an invalid stigmer.yaml with its position and a did-you-mean', async () => {
    write('m/stigmer.yaml', '# settings\nprojet: x\n');
    const sources = await readManifestSources({ dir: 'm', cwd: tmp });
    expect(sources.project).toBeNull();
    expect(sources.diagnostics).toMatchObject([
      {
        file: 'm/stigmer.yaml',
        line: 2,
        column: 1,
        message: 'unknown field "projet"',
        hint: 'did you mean `project`?',
      },
    ]);
  });

  it('a missing directory is a LOAD error with a hint', async () => {
    const err = await readManifestSources({ dir: 'manifests', cwd: tmp }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StigmerError);
    expect((err as StigmerError).code).toBe('LOAD');
    expect((err as StigmerError).message).toBe('manifest directory "manifests" does not exist');
    expect((err as StigmerError).hint).toContain('-f FILE');
  });
});

describe('readManifestSources: symlinks', () => {
  it('follows links that stay inside the root, once per directory', async () => {
    write('m/real/a.yaml');
    write('m/b.yaml');
    symlinkSync(join(tmp, 'm/b.yaml'), join(tmp, 'm/link-to-b.yaml'));
    symlinkSync(join(tmp, 'm/real'), join(tmp, 'm/alias-dir'));
    const sources = await readManifestSources({ dir: 'm', cwd: tmp });
    expect(sources.diagnostics).toEqual([]);
    // alias-dir sorts first and is read; real/ is the same directory and is not read again.
    expect(sources.files.map((f) => f.path)).toEqual(['m/alias-dir/a.yaml', 'm/b.yaml', 'm/link-to-b.yaml']);
  });

  it('refuses a link that leaves the root', async () => {
    write('outside/secret.yaml');
    write('m/a.yaml');
    symlinkSync(join(tmp, 'outside/secret.yaml'), join(tmp, 'm/escape.yaml'));
    symlinkSync(join(tmp, 'outside'), join(tmp, 'm/escape-dir'));
    const sources = await readManifestSources({ dir: 'm', cwd: tmp });
    expect(sources.files.map((f) => f.path)).toEqual(['m/a.yaml']);
    expect(sources.diagnostics.map((d) => [d.file, d.message])).toEqual([
      ['m/escape-dir', 'symlink points outside the manifest directory; refusing to follow it'],
      ['m/escape.yaml', 'symlink points outside the manifest directory; refusing to follow it'],
    ]);
  });

  it('refuses a directory link back to an ancestor (a loop)', async () => {
    write('m/sub/a.yaml');
    symlinkSync(join(tmp, 'm'), join(tmp, 'm/sub/back'));
    const sources = await readManifestSources({ dir: 'm', cwd: tmp });
    expect(sources.files.map((f) => f.path)).toEqual(['m/sub/a.yaml']);
    expect(sources.diagnostics).toMatchObject([
      {
        file: 'm/sub/back',
        message: 'symlink loop: the link points at a directory that contains it',
        severity: 'error',
      },
    ]);
  });

  it('refuses links that loop on themselves and broken links to manifests', async () => {
    write('m/a.yaml');
    symlinkSync(join(tmp, 'm/loop1.yaml'), join(tmp, 'm/loop2.yaml'));
    symlinkSync(join(tmp, 'm/loop2.yaml'), join(tmp, 'm/loop1.yaml'));
    symlinkSync(join(tmp, 'm/missing.yaml'), join(tmp, 'm/dangling.yaml'));
    const sources = await readManifestSources({ dir: 'm', cwd: tmp });
    expect(sources.files.map((f) => f.path)).toEqual(['m/a.yaml']);
    expect(sources.diagnostics.map((d) => [d.file, d.message])).toEqual([
      ['m/dangling.yaml', 'broken symlink (ENOENT)'],
      ['m/loop1.yaml', 'symlink loop: the link resolves to itself'],
      ['m/loop2.yaml', 'symlink loop: the link resolves to itself'],
    ]);
  });
});

describe('readManifestSources: files and stdin', () => {
  it('reads -f files in the order given, once each, and stdin as <stdin>', async () => {
    write('b.yaml');
    write('a.yaml');
    const sources = await readManifestSources({
      files: ['b.yaml', 'a.yaml', 'b.yaml', '-'],
      stdin: 'kind: Agent\n',
      cwd: tmp,
    });
    expect(sources.root).toBeNull();
    expect(sources.files.map((f) => [f.path, String(f.bytes)])).toEqual([
      ['b.yaml', 'x: 1\n'],
      ['a.yaml', 'x: 1\n'],
      [STDIN_PATH, 'kind: Agent\n'],
    ]);
  });

  it('a missing -f file is a LOAD error', async () => {
    await expect(readManifestSources({ files: ['nope.yaml'], cwd: tmp })).rejects.toMatchObject({
      code: 'LOAD',
      message: 'manifest file "nope.yaml" does not exist',
    });
  });

  it('reads no more than the size limit plus one byte, so the parser reports the size', async () => {
    write('m/big.yaml', `# ${'x'.repeat(MAX_FILE_BYTES + 10)}\n`);
    const sources = await readManifestSources({ dir: 'm', cwd: tmp });
    expect(sources.files[0]!.bytes.length).toBe(MAX_FILE_BYTES + 1);
    const parsed = parseManifestFile(sources.files[0]!.path, sources.files[0]!.bytes);
    expect(parsed.diagnostics).toMatchObject([
      { file: 'm/big.yaml', line: 1, column: 1, message: 'file is larger than 4 MiB' },
    ]);
  });
});
