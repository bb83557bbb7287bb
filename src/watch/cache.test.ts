import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseManifestFile, readManifestSources } from '../manifest/index.js';
import { isIgnoredPath, ManifestCache } from './cache.js';

function skill(name: string, extra = ''): string {
  return `apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata:
  name: ${name}
spec:
  tag: v1
${extra || '  skillMd: "# hello"\n'}`;
}

let cwd: string;
let root: string;
const write = (rel: string, text: string): string => {
  const abs = join(root, rel);
  mkdirSync(join(abs, '..'), { recursive: true });
  writeFileSync(abs, text);
  return abs;
};
const names = (cache: ManifestCache): string[] =>
  cache.input().files.flatMap((f) => f.documents.map((d) => d.resource.name));

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'stigmer-watch-cache-'));
  root = join(cwd, 'manifests');
  mkdirSync(root);
});
afterEach(() => {
  rmSync(cwd, { recursive: true, force: true });
});

describe('ManifestCache', () => {
  it('loads what the loader reads, in the loader order, with paths shown relative to cwd', async () => {
    write('b.yaml', skill('b'));
    write('a/z.yaml', skill('az'));
    write('a.yaml', skill('a'));
    write('.hidden.yaml', skill('hidden'));
    write('node_modules/x.yaml', skill('nm'));
    write('notes.txt', 'not a manifest');
    const cache = await ManifestCache.load('manifests', cwd);
    const sources = await readManifestSources({ dir: 'manifests', cwd });
    const expected = sources.files.map((f) => parseManifestFile(f.path, f.bytes));
    expect(cache.input().files).toEqual(expected);
    expect(cache.input().files.map((f) => f.file)).toEqual([
      join('manifests', 'a', 'z.yaml'),
      join('manifests', 'a.yaml'),
      join('manifests', 'b.yaml'),
    ]);
    expect(cache.size).toBe(3);
  });

  it('re-reads only the refreshed files and keeps the order after edits, adds and removals', async () => {
    const a = write('a.yaml', skill('a'));
    const c = write('c.yaml', skill('c'));
    const cache = await ManifestCache.load('manifests', cwd);
    const before = cache.input().files;
    write('a.yaml', skill('a2'));
    write('c.yaml', skill('c2')); // changed on disk but not refreshed: the cache keeps the old parse
    const b = write('b.yaml', skill('b'));
    const result = cache.refresh([a, b]);
    expect(result).toEqual({
      changed: [join('manifests', 'a.yaml'), join('manifests', 'b.yaml')],
      removed: [],
      included: [],
    });
    expect(names(cache)).toEqual(['a2', 'b', 'c']);
    expect(cache.input().files[2]).toBe(before[1]);
    rmSync(b);
    expect(cache.refresh([b]).removed).toEqual([join('manifests', 'b.yaml')]);
    expect(names(cache)).toEqual(['a2', 'c']);
    expect(cache.refresh([c]).changed).toEqual([join('manifests', 'c.yaml')]);
    expect(names(cache)).toEqual(['a2', 'c2']);
  });

  it('treats a rename over the file (atomic save) as an edit and a renamed directory as remove + add', async () => {
    const a = write('sub/a.yaml', skill('a'));
    const cache = await ManifestCache.load('manifests', cwd);
    const tmp = join(root, 'sub', 'a.yaml.tmp');
    writeFileSync(tmp, skill('a-saved'));
    renameSync(tmp, a);
    cache.refresh([tmp, a]);
    expect(names(cache)).toEqual(['a-saved']);
    renameSync(join(root, 'sub'), join(root, 'moved'));
    const result = cache.refresh([join(root, 'sub'), join(root, 'moved', 'a.yaml')]);
    expect(result.removed).toEqual([join('manifests', 'sub', 'a.yaml')]);
    expect(cache.input().files.map((f) => f.file)).toEqual([join('manifests', 'moved', 'a.yaml')]);
  });

  it('keeps a broken file with its diagnostics so that it blocks the set, and clears them when fixed', async () => {
    const a = write('a.yaml', skill('a'));
    const cache = await ManifestCache.load('manifests', cwd);
    write('a.yaml', 'apiVersion: [unclosed\n');
    cache.refresh([a]);
    const broken = cache.input().files[0]!;
    expect(broken.documents).toEqual([]);
    expect(broken.diagnostics[0]).toMatchObject({ severity: 'error', file: join('manifests', 'a.yaml') });
    write('a.yaml', skill('a'));
    cache.refresh([a]);
    expect(cache.input().files[0]!.diagnostics).toEqual([]);
  });

  it('reads the project from stigmer.yaml again when it changes, and carries its errors', async () => {
    const projectFile = write('stigmer.yaml', 'project: one\n');
    write('a.yaml', skill('a'));
    const cache = await ManifestCache.load('manifests', cwd);
    expect(cache.projectName).toBe('one');
    expect(cache.isRelevant(projectFile)).toBe(true);
    write('stigmer.yaml', 'project: two\n');
    expect(cache.refresh([projectFile]).changed).toEqual([join('manifests', 'stigmer.yaml')]);
    expect(cache.projectName).toBe('two');
    write('stigmer.yaml', 'project: Not_A_Label\n');
    cache.refresh([projectFile]);
    expect(cache.projectName).toBeNull();
    const first = cache.input().files[0]!;
    expect(first.file).toBe(join('manifests', 'stigmer.yaml'));
    expect(first.diagnostics.some((d) => d.severity === 'error')).toBe(true);
    rmSync(projectFile);
    cache.refresh([projectFile]);
    expect(cache.projectName).toBeNull();
    expect(cache.input().files.map((f) => f.file)).toEqual([join('manifests', 'a.yaml')]);
  });

  it('tells whether a file changed on disk since a refresh last read it', async () => {
    const a = write('a.yaml', skill('a'));
    const cache = await ManifestCache.load('manifests', cwd);
    expect(cache.hasChangedSince(a)).toBe(true); // never refreshed: assume it changed
    cache.refresh([a]);
    expect(cache.hasChangedSince(a)).toBe(false);
    write('a.yaml', skill('a2'));
    expect(cache.hasChangedSince(a)).toBe(true);
    cache.refresh([a]);
    rmSync(a);
    expect(cache.hasChangedSince(a)).toBe(true);
    cache.refresh([a]);
    expect(cache.hasChangedSince(a)).toBe(false);
  });

  it('refuses a symlink that leads outside the root, as the loader does', async () => {
    write('a.yaml', skill('a'));
    const outsideFile = join(cwd, 'outside.yaml');
    writeFileSync(outsideFile, skill('outside'));
    const link = join(root, 'link.yaml');
    symlinkSync(outsideFile, link);
    const cache = await ManifestCache.load('manifests', cwd);
    const fromLoader = cache.input().files.find((f) => f.file === join('manifests', 'link.yaml'));
    expect(fromLoader?.diagnostics[0]?.message).toMatch(/outside the manifest directory/);
    cache.refresh([link]);
    const refreshed = cache.input().files.find((f) => f.file === join('manifests', 'link.yaml'))!;
    expect(refreshed.documents).toEqual([]);
    expect(refreshed.diagnostics).toEqual(fromLoader!.diagnostics);
    expect(names(cache)).toEqual(['a']);
  });

  it('knows which events matter: manifests, included files, directories holding manifests', async () => {
    write('skills/s.yaml', skill('s', '  skillMdFile: docs/S.md\n'));
    write('skills/docs/S.md', '# S');
    const cache = await ManifestCache.load('manifests', cwd);
    expect(cache.isRelevant(join(root, 'new.yml'))).toBe(true);
    expect(cache.isRelevant(join(root, 'skills', 'docs', 'S.md'))).toBe(true);
    expect(cache.isRelevant(join(root, 'skills'))).toBe(true);
    expect(cache.isRelevant(join(root, 'README.md'))).toBe(false);
    expect(cache.isRelevant(join(root, '.a.yaml.swp'))).toBe(false);
    expect(cache.isRelevant(join(root, 'node_modules', 'a.yaml'))).toBe(false);
    expect(cache.isRelevant(join(cwd, 'elsewhere.yaml'))).toBe(false);
    expect(cache.refresh([join(root, 'skills', 'docs', 'S.md')])).toEqual({
      changed: [],
      removed: [],
      included: [join('manifests', 'skills', 'docs', 'S.md')],
    });
    write('skills/s.yaml', skill('s'));
    cache.refresh([join(root, 'skills', 's.yaml')]);
    expect(cache.isRelevant(join(root, 'skills', 'docs', 'S.md'))).toBe(false);

    const env = write(
      'env.yaml',
      'apiVersion: agentic.stigmer.ai/v1\nkind: Environment\nmetadata:\n  name: e\nspec:\n  data:\n' +
        '    TOKEN:\n      valueFrom: {file: secrets/token.txt}\n      isSecret: true\n',
    );
    cache.refresh([env]);
    expect(cache.isRelevant(join(root, 'secrets', 'token.txt'))).toBe(true);
  });
});

describe('isIgnoredPath', () => {
  it.each([
    ['.git/config', true],
    ['.#a.yaml', true],
    ['.a.yaml.swp', true],
    ['a.yaml.swx', true],
    ['a.yaml~', true],
    ['4913', true],
    ['sub/4913', true],
    ['node_modules/pkg/a.yaml', true],
    ['sub/.cache/a.yaml', true],
    ['a.yaml', false],
    ['sub/a.yml', false],
    ['README.md', false],
  ])('%s → %s', (rel, ignored) => {
    expect(isIgnoredPath('/w/m', join('/w/m', rel))).toBe(ignored);
  });

  it('never ignores the root or paths outside it, even under a hidden directory', () => {
    expect(isIgnoredPath('/w/.hidden/m', '/w/.hidden/m')).toBe(false);
    expect(isIgnoredPath('/w/.hidden/m', '/w/.hidden/m/a.yaml')).toBe(false);
    expect(isIgnoredPath('/w/m', '/w/other/.x')).toBe(false);
  });
});

describe('ManifestCache.load and the parse cache', () => {
  it('fills from $STIGMER_HOME/cache/parse when given a home, and never serves stale bytes', async () => {
    const home = join(cwd, 'home');
    mkdirSync(home);
    write('a.yaml', skill('a'));
    write('sub/b.yaml', `${skill('b')}---\n${skill('c')}`);
    const first = await ManifestCache.load(root, cwd, { home });
    const packs = readdirSync(join(home, 'cache', 'parse')).filter((f) => f.endsWith('.pack'));
    expect(packs).toHaveLength(1);
    const packBytes = readFileSync(join(home, 'cache', 'parse', packs[0] as string));
    expect(packBytes.includes(Buffer.from('"name":"c"'))).toBe(true);

    // Served from the pack: the same result as parsing.
    const second = await ManifestCache.load(root, cwd, { home });
    expect(second.input().files).toEqual(first.input().files);
    expect(names(second)).toEqual(['a', 'b', 'c']);

    // A changed file is parsed again, not served from the pack.
    write('a.yaml', skill('a2'));
    const third = await ManifestCache.load(root, cwd, { home });
    expect(names(third)).toEqual(['a2', 'b', 'c']);
  });
});
