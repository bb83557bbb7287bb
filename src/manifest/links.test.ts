import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretKeys } from '../plan/secrets.js';
import { appliedHash, comparedViewOf } from '../plan/view.js';
import { peekSpec } from '../stored-text.js';
import type { DesiredResource } from '../types.js';
import {
  cachedAppliedHash,
  cachedLinksResolve,
  encodeFacts,
  hasCachedLinks,
  isFacts,
  needsResolution,
  referencesOf,
  takeAppliedHash,
} from './links.js';
import { packParsedFile, unpackParsedFile } from './packed.js';
import { parseManifestFile } from './parse.js';
import type { ParsedFile } from './types.js';
import { validateManifestSet } from './validate-set.js';

const ROOT = join(import.meta.dirname, '..', '..');

interface StackModule {
  writeStack(dir: string, n: number): void;
}

let tmp: string;
/** Every manifest of the bench generator's stack and of examples/, as [display path, bytes]. */
const files: Array<[string, Buffer]> = [];

function collect(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) collect(path);
    else if (/\.ya?ml$/.test(name) && name !== 'stigmer.yaml')
      files.push([relative(ROOT, path), readFileSync(path)]);
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'stigmer-links-'));
  const stack = (await import(new URL('../../bench/stack.mjs', import.meta.url).href)) as StackModule;
  stack.writeStack(join(tmp, 'stack'), 400);
  const before = files.length;
  collect(join(tmp, 'stack'));
  for (let i = before; i < files.length; i++) files[i]![0] = relative(tmp, join(ROOT, files[i]![0]));
  collect(join(ROOT, 'examples'));
  expect(files.length).toBeGreaterThan(40);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const unpack = (parsed: ParsedFile, appliedHashes: boolean): ParsedFile =>
  unpackParsedFile(JSON.parse(packParsedFile(parsed, { appliedHashes }))) as ParsedFile;

/** The links of a resource as the cross-file stage walks them from its facts; null: none kept. */
function cachedLinks(r: { spec: unknown }): string[] | null {
  const walked: string[] = [];
  return cachedLinksResolve(r, (kind, name) => walked.push(kind, name) > 0) === undefined ? null : walked;
}

/** What the full path of the cross-file stage reads of a resource's spec. */
function fullPath(r: DesiredResource): { links: string[] | null; hash: string | null } {
  const spec = peekSpec(r);
  const refs = referencesOf(r, spec);
  const full =
    (r.kind === 'Skill' && typeof spec.skillMdFile === 'string') ||
    (r.kind === 'Environment' && needsResolution(spec)) ||
    (r.kind === 'Agent' && refs.some((ref) => ref.kind === 'Agent' && ref.name === r.name));
  const secret = secretKeys(r.kind, spec).length > 0;
  return {
    links: full ? null : refs.flatMap((ref) => [ref.kind, ref.name]),
    hash: secret ? null : appliedHash(r.kind, r.name, comparedViewOf({ ...r, spec })),
  };
}

describe('the facts packed with each document', () => {
  it('are the references and applied-hash the full path works out, for every document', () => {
    let linked = 0;
    let hashed = 0;
    for (const [path, bytes] of files) {
      const parsed = parseManifestFile(path, bytes);
      const fresh = parseManifestFile(path, bytes);
      // Compared on a copy of its own: reading a spec ends what its facts vouch for.
      expect(unpack(parseManifestFile(path, bytes), true)).toEqual(fresh);
      const unpacked = unpack(parsed, true);
      unpacked.documents.forEach((doc, i) => {
        const expected = fullPath(fresh.documents[i]!.resource);
        const links = cachedLinks(doc.resource);
        const hash = cachedAppliedHash(doc.resource);
        expect(hasCachedLinks(doc.resource)).toBe(links !== null);
        if (links?.length) {
          const [kind, name] = links;
          expect(cachedLinksResolve(doc.resource, (k, n) => k !== kind || n !== name)).toBe(false);
        }
        expect({ path, i, links, hash: hash ?? null }).toEqual({ path, i, ...expected });
        if (links?.length) linked++;
        if (hash) hashed++;
      });
    }
    expect(linked).toBeGreaterThan(100);
    expect(hashed).toBeGreaterThan(300);
  });

  it('hold no applied-hash unless asked for, and vouch for nothing once the spec is read or replaced', () => {
    const [path, bytes] = files.find(([, b]) => b.includes('skillRefs')) as [string, Buffer];
    const withoutHashes = unpack(parseManifestFile(path, bytes), false);
    const agent = withoutHashes.documents.find((d) => d.resource.kind === 'Agent')!.resource;
    expect(cachedAppliedHash(agent)).toBeUndefined();
    expect(cachedLinks(agent)?.length).toBeGreaterThan(0);

    const agentOf = () =>
      unpack(parseManifestFile(path, bytes), true).documents.find((d) => d.resource.kind === 'Agent')!
        .resource;
    const [read, replaced, copied] = [agentOf(), agentOf(), agentOf()];
    expect(cachedAppliedHash(read)).toMatch(/^sha256:[0-9a-f]{64}$/);
    void read.spec.instructions;
    expect(cachedAppliedHash(read)).toBeUndefined();
    expect(cachedLinks(read)).toBeNull();
    replaced.spec = { instructions: 'other' };
    expect(cachedLinks(replaced)).toBeNull();
    expect(cachedAppliedHash({ ...copied })).toBeUndefined();
    const taken = agentOf();
    expect(takeAppliedHash(taken)).toMatch(/^sha256:/);
    expect(takeAppliedHash(taken)).toBeUndefined();
    expect(cachedLinks(taken)).toBeNull();
    expect(Object.keys(copied)).not.toContain('facts');
    expect(JSON.stringify(copied)).not.toContain('|');
  });

  it('are recognised only in their own shape', () => {
    expect(isFacts(encodeFacts(null, null))).toBe(true);
    expect(isFacts(encodeFacts(`sha256:${'a'.repeat(64)}`, ['Skill', 'x']))).toBe(true);
    expect(isFacts('abc|')).toBe(false);
    expect(isFacts(['Skill', 'x'])).toBe(false);
  });

  it('leave every diagnostic of a broken reference where the full path puts it', () => {
    const text = [
      'apiVersion: agentic.stigmer.ai/v1',
      'kind: Skill',
      'metadata:',
      '  name: known',
      'spec:',
      '  skillMd: "# Known"',
      '---',
      'apiVersion: agentic.stigmer.ai/v1',
      'kind: Agent',
      'metadata:',
      '  name: helper',
      'spec:',
      '  instructions: Help whoever asks.',
      '  skillRefs:',
      '    - known',
      '    - knwn',
      '  subAgents: [helper]',
      '',
    ].join('\n');
    const parsed = parseManifestFile('agents.yaml', Buffer.from(text));
    const options = { root: null, project: null, cwd: tmp };
    const fresh = validateManifestSet([parseManifestFile('agents.yaml', Buffer.from(text))], options);
    const cached = validateManifestSet([unpack(parsed, true)], options);
    expect(fresh.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`)).toEqual([
      '16:7 Skill "knwn" not found (referenced by Agent "helper" in spec.skillRefs[1])',
      '17:15 Agent "helper" lists itself in subAgents',
    ]);
    expect(cached.diagnostics).toEqual(fresh.diagnostics);
  });
});
