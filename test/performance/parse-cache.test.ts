/**
 * The parse cache seen from the CLI: a plan from the cache is the same plan, an edited or a
 * corrupted cache never changes what is planned, STIGMER_NO_CACHE turns it off, and a
 * $STIGMER_HOME that does not exist is not created by `validate`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runStigmer, tempDir } from '../helpers/cli.js';

const skill = (name: string, text: string) => `apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata:
  name: ${name}
spec:
  skillMd: |
    ${text}
`;
const agent = (name: string, instructions: string) => `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: ${name}
spec:
  instructions: ${instructions}
  skillRefs: [docs]
`;

let tmp: ReturnType<typeof tempDir>;
let home: string;
let dir: string;
beforeEach(() => {
  tmp = tempDir('stigmer-parse-cache-');
  home = join(tmp.path, 'home');
  dir = join(tmp.path, 'manifests');
});
afterEach(() => tmp.cleanup());

const stigmer = (args: string[], env: Record<string, string> = {}) =>
  runStigmer(args, { cwd: tmp.path, env: { STIGMER_HOME: home, ...env } });
const packDir = () => join(home, 'cache', 'parse');
const writeStack = (instructions: string) => {
  writeFileSync(join(dir, 'skill.yaml'), skill('docs', 'Read the docs first.'));
  writeFileSync(
    join(dir, 'agents.yaml'),
    `${agent('a', instructions)}---\n${agent('b', 'Answer billing questions.')}`,
  );
};
/** `plan --json` without the parts that name the machine. */
const planJson = async (env: Record<string, string> = {}) => {
  const result = await stigmer(['plan', 'manifests', '--json'], env);
  expect(result.stderr).toBe('');
  const plan = JSON.parse(result.stdout);
  delete plan.backend;
  return plan;
};

describe('parse cache (CLI)', () => {
  it('plans the same from the cache, after an edit and after corruption; STIGMER_NO_CACHE=1 skips it', async () => {
    mkdirSync(dir);
    writeStack('Answer questions about the product.');
    expect((await stigmer(['init'])).code).toBe(0);

    const uncached = await planJson({ STIGMER_NO_CACHE: '1' });
    expect(existsSync(packDir())).toBe(false);
    const cold = await planJson();
    const packs = readdirSync(packDir());
    expect(packs).toHaveLength(1);
    const warm = await planJson();
    expect(cold).toEqual(uncached);
    expect(warm).toEqual(uncached);
    expect(warm.summary).toMatchObject({ create: 3 });

    // One changed byte in one file: that file's resources change, nothing else.
    writeStack('Answer questions about the products.');
    const edited = await planJson();
    expect(edited).toEqual(await planJson({ STIGMER_NO_CACHE: '1' }));
    const a = edited.changes.find((c: { name: string }) => c.name === 'a');
    expect(a.after.spec.instructions).toBe('Answer questions about the products.');

    // A corrupted pack is parsed again, never believed.
    const pack = join(packDir(), packs[0] as string);
    const text = readFileSync(pack, 'utf8');
    writeFileSync(pack, text.replace(/products/g, 'PRODUCTS'));
    expect(await planJson()).toEqual(edited);
    writeFileSync(pack, text.slice(0, text.length / 2));
    expect(await planJson()).toEqual(edited);
    writeFileSync(pack, 'garbage');
    expect(await planJson()).toEqual(edited);
  });

  it('leaves no $STIGMER_HOME behind when it did not exist', async () => {
    mkdirSync(dir);
    writeStack('Answer questions about the product.');
    const result = await stigmer(['validate', 'manifests']);
    expect(result.code).toBe(0);
    expect(existsSync(home)).toBe(false);
  });
});
