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

const open = (version = 'v1') => openParseCache({ dir: join(dir, 'parse'), programVersion: version });
const parseAll = (cache: ParseCache) =>
  Object.entries(FILES).map(([path, text]) => cache.parse(path, Buffer.from(text)));
const setOf = (files: ReturnType<typeof parseAll>) =>
  validateManifestSet(files, { root: null, project: null });
const entries = (): string[] =>
  readdirSync(join(dir, 'parse'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
const entryOf = (version: string, path: string) => {
  const key = entryKey(version, path, Buffer.from(FILES[path]!));
  return join(dir, 'parse', key.slice(0, 2), `${key}.json`);
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
    ['truncated', (t: string) => t.slice(0, t.length - 10)],
    ['empty', () => ''],
    [
      'a flipped byte in the body',
      (t: string) => `${t.slice(0, 100)}${t[100] === 'x' ? 'y' : 'x'}${t.slice(101)}`,
    ],
    ['a flipped checksum', (t: string) => `${t[0] === '0' ? '1' : '0'}${t.slice(1)}`],
    ['no header', (t: string) => t.slice(t.indexOf('\n') + 1)],
    ['not JSON with a valid-looking header', () => `${'0'.repeat(64)}\n{not json`],
  ])('a corrupt entry (%s) is parsed again and rewritten', (_, corrupt) => {
    parseAll(open());
    const path = entryOf('v1', 'm/agents.yaml');
    writeFileSync(path, corrupt(readFileSync(path, 'utf8')));
    const cache = open();
    const parsed = parseAll(cache);
    expect(cache.stats).toMatchObject({ hits: 3, misses: 1, corrupt: 1 });
    expect(parsed[0]).toEqual(parseManifestFile('m/agents.yaml', FILES['m/agents.yaml']!));
    const again = open();
    parseAll(again);
    expect(again.stats).toMatchObject({ hits: 4, corrupt: 0 });
  });

  it('an entry copied under another key is refused (the checksum covers the key)', () => {
    parseAll(open());
    writeFileSync(entryOf('v1', 'm/agents.yaml'), readFileSync(entryOf('v1', 'm/skill.yaml')));
    const cache = open();
    expect(cache.parse('m/agents.yaml', FILES['m/agents.yaml']!).documents).toHaveLength(2);
    expect(cache.stats.corrupt).toBe(1);
  });

  it('writes atomically: only entries, no temporary files, are left', () => {
    parseAll(open());
    const files = entries();
    expect(files).toHaveLength(4);
    expect(files.every((f) => /[0-9a-f]{64}\.json$/.test(f))).toBe(true);
  });

  it('a directory that cannot be written is skipped without failing', () => {
    writeFileSync(join(dir, 'parse'), 'a file where the cache directory should be');
    const cache = open();
    const parsed = parseAll(cache);
    expect(parsed).toEqual(Object.entries(FILES).map(([path, text]) => parseManifestFile(path, text)));
    expect(cache.stats).toMatchObject({ misses: 4, writeDisabled: true });
  });

  it('returns what parseManifestFile returns for any text, cold and warm', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const expected = parseManifestFile('p.yaml', text);
        expect(open().parse('p.yaml', text)).toEqual(expected);
        expect(open().parse('p.yaml', Buffer.from(text))).toEqual(expected);
      }),
      { numRuns: 50 },
    );
  });
});

describe('defaultParseCache', () => {
  it('lives under $STIGMER_HOME/cache/parse', () => {
    const cache = defaultParseCache(dir, {});
    expect(cache).not.toBeNull();
    cache!.parse('m/skill.yaml', skill);
    expect(readdirSync(join(dir, 'cache', 'parse'))).toHaveLength(1);
  });

  it('is off with STIGMER_NO_CACHE=1 and when $STIGMER_HOME does not exist', () => {
    expect(defaultParseCache(dir, { STIGMER_NO_CACHE: '1' })).toBeNull();
    expect(defaultParseCache(dir, { STIGMER_NO_CACHE: '0' })).not.toBeNull();
    expect(defaultParseCache(join(dir, 'missing'), {})).toBeNull();
  });

  it('identifies the program by package version and code', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    expect(programVersion()).toMatch(new RegExp(`^${pkg.version.replace(/\./g, '\\.')}\\+[0-9a-f]{16}$`));
    expect(programVersion()).toBe(programVersion());
  });

  it('keeps working when entries are removed under it', () => {
    const cache = defaultParseCache(dir, {})!;
    cache.parse('m/skill.yaml', skill);
    rmSync(join(dir, 'cache'), { recursive: true });
    expect(cache.parse('m/skill.yaml', skill)).toEqual(parseManifestFile('m/skill.yaml', skill));
    expect(cache.stats.misses).toBe(2);
  });
});
