import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultParseCache, entryKey, openParseCache, type ParseCache, programVersion } from './cache.js';
import { parseManifestFile } from './parse.js';
import { validateManifestSet } from './validate-set.js';

const agent = (name: string, instructions = 'Answer questions about the product.') =>
  `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: ${name}
spec:
  instructions: ${instructions}
  skillRefs: [docs]
`;
const skill = `apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata:
  name: docs
spec:
  skillMd: |
    # Docs
    Read them.
`;
const invalid = `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: broken
spec:
  instructions: short
  colour: blue
`;

const FILES: Record<string, string> = {
  'm/agents.yaml': `${agent('a')}---\n${agent('b')}`,
  'm/skill.yaml': skill,
  'm/broken.yaml': invalid,
  'm/bad-yaml.yaml': 'kind: [unclosed\n',
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'stigmer-cache-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const open = (version = 'v1', scope = 'root') =>
  openParseCache({ dir: join(dir, 'parse'), programVersion: version, scope });
/** One load: every file through the cache, then flush. */
const parseAll = (cache: ParseCache, files: Record<string, string> = FILES) => {
  const parsed = Object.entries(files).map(([path, text]) => cache.parse(path, Buffer.from(text)));
  cache.flush();
  return parsed;
};
const setOf = (files: ReturnType<typeof parseAll>) =>
  validateManifestSet(files, { root: null, project: null });
const packs = (): string[] => readdirSync(join(dir, 'parse')).map((f) => join(dir, 'parse', f));
/** Rewrites the pack line of `path`'s entry with `corrupt(line)`. */
const corruptEntry = (path: string, corrupt: (line: string) => string) => {
  const [pack] = packs();
  const key = entryKey('v1', path, Buffer.from(FILES[path]!));
  const lines = readFileSync(pack!, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith(key));
  expect(i).toBeGreaterThan(0);
  lines[i] = corrupt(lines[i]!);
  writeFileSync(pack!, lines.join('\n'));
};

describe('parse cache', () => {
  it('a hit gives the same ParsedFiles and the same ManifestSet as parsing', () => {
    const direct = Object.entries(FILES).map(([path, text]) => parseManifestFile(path, text));
    const first = open();
    const missed = parseAll(first);
    expect(first.stats).toMatchObject({ hits: 0, misses: 4, corrupt: 0 });
    const second = open();
    const hit = parseAll(second);
    expect(second.stats).toMatchObject({ hits: 4, misses: 0, corrupt: 0 });
    expect(missed).toEqual(direct);
    expect(hit).toEqual(direct);
    expect(setOf(hit)).toEqual(setOf(direct));
    expect(setOf(hit).diagnostics.length).toBeGreaterThan(0);
    expect(hit[2]!.invalidDocuments).toEqual(direct[2]!.invalidDocuments);
  });

  it('a changed byte is parsed again', () => {
    parseAll(open());
    const cache = open();
    const changed = `${agent('a', 'Answer questions about the product!')}---\n${agent('b')}`;
    const parsed = cache.parse('m/agents.yaml', Buffer.from(changed));
    expect(cache.stats).toMatchObject({ hits: 0, misses: 1 });
    expect(parsed).toEqual(parseManifestFile('m/agents.yaml', changed));
    expect(parsed.documents[0]!.resource.spec.instructions).toBe('Answer questions about the product!');
  });

  it('the same bytes at another path are another entry (paths are part of the result)', () => {
    parseAll(open());
    const cache = open();
    const parsed = cache.parse('other/skill.yaml', FILES['m/skill.yaml']!);
    expect(cache.stats.misses).toBe(1);
    expect(parsed.documents[0]!.resource.source.file).toBe('other/skill.yaml');
  });

  it('another program version is parsed again', () => {
    parseAll(open('v1'));
    const cache = open('v2');
    parseAll(cache);
    expect(cache.stats).toMatchObject({ hits: 0, misses: 4 });
  });

  it.each([
    ['truncated', (l: string) => l.slice(0, l.length - 10)],
    ['emptied', () => ''],
    [
      'a flipped byte in the JSON',
      (l: string) => `${l.slice(0, 200)}${l[200] === 'x' ? 'y' : 'x'}${l.slice(201)}`,
    ],
    ['a flipped checksum', (l: string) => `${l.slice(0, 65)}${l[65] === '0' ? '1' : '0'}${l.slice(66)}`],
    [
      'not JSON under a matching checksum',
      (l: string) => {
        const key = l.slice(0, 64);
        const json = '{not json';
        return `${key} ${createHash('sha256').update(key).update('\n').update(json).digest('hex')} ${json}`;
      },
    ],
    [
      'JSON of another file under a matching checksum',
      (l: string) => {
        const key = l.slice(0, 64);
        const json = JSON.stringify(parseManifestFile('m/skill.yaml', skill));
        return `${key} ${createHash('sha256').update(key).update('\n').update(json).digest('hex')} ${json}`;
      },
    ],
  ])('a corrupt entry (%s) is parsed again and rewritten', (_, corrupt) => {
    parseAll(open());
    corruptEntry('m/agents.yaml', corrupt);
    const cache = open();
    const parsed = parseAll(cache);
    expect(cache.stats.hits).toBe(3);
    expect(cache.stats.misses).toBe(1);
    expect(parsed[0]).toEqual(parseManifestFile('m/agents.yaml', FILES['m/agents.yaml']!));
    expect(cache.stats.written).toBe(true);
    const again = open();
    parseAll(again);
    expect(again.stats).toMatchObject({ hits: 4, misses: 0, corrupt: 0, written: false });
  });

  it('a truncated pack keeps the entries before the cut', () => {
    parseAll(open());
    const [pack] = packs();
    const text = readFileSync(pack!, 'utf8');
    writeFileSync(pack!, text.slice(0, Math.floor(text.length * 0.6)));
    const cache = open();
    expect(parseAll(cache)).toEqual(Object.entries(FILES).map(([p, t]) => parseManifestFile(p, t)));
    expect(cache.stats.hits + cache.stats.misses).toBe(4);
    expect(cache.stats.misses).toBeGreaterThan(0);
  });

  it('indexes packs whose lines cross its 1 MB read pieces, and copies hits byte for byte', () => {
    // Entries of about 0.4, 1.3 and 2.5 MB and many small ones between them: lines start and
    // end on both sides of every piece boundary, and one spans three pieces.
    const files: Record<string, string> = {};
    for (let i = 0; i < 60; i++) {
      const size = i % 20 === 3 ? 400_000 : i % 20 === 11 ? 1_300_000 : i === 40 ? 2_500_000 : 50 + i;
      files[`m/f${i}.yaml`] = agent(`a${i}`, 'x'.repeat(size));
    }
    const direct = Object.entries(files).map(([p, t]) => parseManifestFile(p, t));
    parseAll(open(), files);
    const before = readFileSync(packs()[0]!);
    const warm = open();
    expect(parseAll(warm, files)).toEqual(direct);
    expect(warm.stats).toMatchObject({ hits: 60, misses: 0, corrupt: 0, written: false });
    // One file changed: the pack is rewritten, the 59 others copied from the old one.
    const edited = { ...files, 'm/f7.yaml': agent('a7', 'changed') };
    const third = open();
    parseAll(third, edited);
    expect(third.stats).toMatchObject({ hits: 59, misses: 1, written: true });
    const lines = (b: Buffer) => new Set(b.toString('utf8').split('\n'));
    const [old, now] = [lines(before), lines(readFileSync(packs()[0]!))];
    expect([...now].filter((l) => !old.has(l))).toHaveLength(1);
    expect([...old].filter((l) => !now.has(l))).toHaveLength(1);
    const fourth = open();
    expect(parseAll(fourth, edited)).toEqual(Object.entries(edited).map(([p, t]) => parseManifestFile(p, t)));
    expect(fourth.stats).toMatchObject({ hits: 60, misses: 0, corrupt: 0 });
  });

  it('the same cache answers from the pack it wrote', () => {
    const cache = open();
    parseAll(cache);
    const edited = { ...FILES, 'm/skill.yaml': skill.replace('Read them.', 'Read them twice.') };
    const again = parseAll(cache, edited);
    expect(again).toEqual(Object.entries(edited).map(([p, t]) => parseManifestFile(p, t)));
    expect(parseAll(open(), edited)).toEqual(again);
  });

  it('a pack of another program version or format is ignored', () => {
    parseAll(open('v1'));
    const [pack] = packs();
    const cache = open('v2');
    parseAll(cache);
    expect(cache.stats).toMatchObject({ hits: 0, misses: 4 });
    writeFileSync(
      pack!,
      readFileSync(pack!, 'utf8').replace(/^stigmer-parse-pack \d+/, 'stigmer-parse-pack 999'),
    );
    const other = open('v2');
    parseAll(other);
    expect(other.stats).toMatchObject({ hits: 0, misses: 4 });
  });

  it('writes atomically one pack per scope, only when something changed, without temporary files', () => {
    const first = open();
    parseAll(first);
    expect(first.stats.written).toBe(true);
    expect(packs()).toHaveLength(1);
    const second = open();
    parseAll(second);
    expect(second.stats.written).toBe(false);
    parseAll(open('v1', 'another root'));
    expect(packs()).toHaveLength(2);
    expect(packs().every((f) => /[0-9a-f]{32}\.pack$/.test(f))).toBe(true);
  });

  it("drops the entries of files that changed or went away, so a pack holds one load's files", () => {
    parseAll(open());
    const { 'm/broken.yaml': _gone, ...rest } = FILES;
    const smaller = open();
    parseAll(smaller, rest);
    expect(smaller.stats).toMatchObject({ hits: 3, misses: 0, written: true });
    const [pack] = packs();
    expect(readFileSync(pack!, 'utf8').trim().split('\n')).toHaveLength(4);
    const back = open();
    parseAll(back);
    expect(back.stats).toMatchObject({ hits: 3, misses: 1 });
  });

  it('a directory that cannot be written is skipped without failing', () => {
    writeFileSync(join(dir, 'parse'), 'a file where the cache directory should be');
    const cache = open();
    const parsed = parseAll(cache);
    expect(parsed).toEqual(Object.entries(FILES).map(([path, text]) => parseManifestFile(path, text)));
    expect(cache.stats).toMatchObject({ misses: 4, writeDisabled: true, written: false });
  });

  it('returns what parseManifestFile returns for any text, cold and warm', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const expected = parseManifestFile('p.yaml', text);
        const cold = open();
        expect(cold.parse('p.yaml', text)).toEqual(expected);
        cold.flush();
        expect(open().parse('p.yaml', Buffer.from(text))).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });
});

describe('defaultParseCache', () => {
  it('lives under $STIGMER_HOME/cache/parse', () => {
    const cache = defaultParseCache(dir, {}, 'root');
    expect(cache).not.toBeNull();
    cache!.parse('m/skill.yaml', skill);
    cache!.flush();
    expect(readdirSync(join(dir, 'cache', 'parse'))).toHaveLength(1);
  });

  it('is off with STIGMER_NO_CACHE=1 and when $STIGMER_HOME does not exist', () => {
    expect(defaultParseCache(dir, { STIGMER_NO_CACHE: '1' }, 'root')).toBeNull();
    expect(defaultParseCache(dir, { STIGMER_NO_CACHE: '0' }, 'root')).not.toBeNull();
    expect(defaultParseCache(join(dir, 'missing'), {}, 'root')).toBeNull();
  });

  it('identifies the program by package version and code', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(programVersion()).toMatch(new RegExp(`^${pkg.version.replace(/\./g, '\\.')}\\+[0-9a-f]{16}$`));
    expect(programVersion()).toBe(programVersion());
  });

  it('keeps working when entries are removed under it', () => {
    const cache = defaultParseCache(dir, {}, 'root')!;
    cache.parse('m/skill.yaml', skill);
    cache.flush();
    rmSync(join(dir, 'cache'), { recursive: true });
    const again = defaultParseCache(dir, {}, 'root')!;
    expect(again.parse('m/skill.yaml', skill)).toEqual(parseManifestFile('m/skill.yaml', skill));
    expect(again.stats.misses).toBe(1);
  });
});
