/**
 * `get`, `delete`, `history` and the agent/workflow aliases, run as the real CLI process over
 * a database filled through the local backend library: output formats, history, secrets
 * redaction, and clean exit-1 errors for an unknown kind or a missing resource.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { openLocalBackend } from '../../src/backend/local/index.js';
import type { ResourceChange } from '../../src/backend/types.js';
import { SecretKey } from '../../src/secrets/key.js';
import { sealSecret } from '../../src/secrets/seal.js';
import { runStigmer, tempDir } from '../helpers/cli.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;
const keyBytes = randomBytes(32);
const keyText = keyBytes.toString('base64');

const create = (
  kind: ResourceChange['kind'],
  name: string,
  spec: Record<string, unknown>,
  annotations: Record<string, string> = {},
): ResourceChange => ({ op: 'create', kind, name, labels: { team: 'cs' }, annotations, spec: spec as never });

beforeEach(async () => {
  tmp = tempDir('stigmer-cli-res-');
  home = join(tmp.path, 'home');
  const backend = await openLocalBackend({ path: join(home, 'local.db') });
  const key = SecretKey.fromBytes(keyBytes);
  await backend.applyChanges(
    [
      create(
        'Agent',
        'support-bot',
        { instructions: 'You answer support questions.' },
        { 'stigmer.ai/project': 'demo' },
      ),
      create('Agent', 'code-reviewer', { instructions: 'You review code.' }),
      create('Workflow', 'pr-review-workflow', { tasks: [{ name: 'analyze', agent: 'code-reviewer' }] }),
      create('Environment', 'prod', {
        data: {
          REGION: { value: 'eu-west-1' },
          API_TOKEN: {
            isSecret: true,
            sealed: sealSecret(key, { kind: 'Environment', name: 'prod', key: 'API_TOKEN' }, 'tok-s3cr3t'),
          },
          LEGACY: { isSecret: true, value: 'plain-s3cr3t' },
        },
      }),
      create('Skill', 'locked', { skillMd: '# x' }, { 'stigmer.ai/prevent-destroy': 'true' }),
    ],
    { message: 'seed' },
  );
  await backend.applyChanges(
    [
      {
        ...create('Agent', 'support-bot', { instructions: 'You answer support questions politely.' }),
        op: 'update',
        annotations: { 'stigmer.ai/project': 'demo' },
        expectedVersion: 1,
      } as ResourceChange,
    ],
    { message: 'be polite' },
  );
  await backend.close();
});

afterEach(() => tmp.cleanup());

const run = (args: string[], env: Record<string, string> = {}) =>
  runStigmer(args, { cwd: tmp.path, env: { STIGMER_HOME: home, ...env } });

function expectCleanFailure(result: { code: number; stderr: string; stdout: string }, message: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(message);
  expect(result.stderr).toContain('hint: ');
  expect(result.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(result.stderr).not.toMatch(/internal error/);
  expect(result.stdout).toBe('');
}

describe('stigmer get', () => {
  it('prints a table of one kind, any case, singular or plural', async () => {
    for (const spelling of ['agents', 'Agent', 'AGENTS']) {
      const result = await run(['get', spelling]);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^NAME\s+VERSION\s+PROJECT\s+AGE\s+UPDATED$/);
      expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
        ['code-reviewer', '1', '-'],
        ['support-bot', '2', 'demo'],
      ]);
    }
  });

  it('prints one resource as a manifest-like document in YAML and JSON', async () => {
    const yaml = await run(['get', 'agent', 'support-bot', '-o', 'yaml']);
    expect(yaml.code).toBe(0);
    const doc = parse(yaml.stdout);
    expect(doc).toMatchObject({
      apiVersion: 'agentic.stigmer.ai/v1',
      kind: 'Agent',
      metadata: {
        name: 'support-bot',
        labels: { team: 'cs' },
        annotations: { 'stigmer.ai/project': 'demo' },
        version: 2,
      },
      spec: { instructions: 'You answer support questions politely.' },
    });
    expect(doc.metadata.id).toMatch(/^agt_/);

    const json = await run(['get', 'workflow', 'pr-review-workflow', '-o', 'json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      kind: 'Workflow',
      metadata: { name: 'pr-review-workflow', version: 1 },
      spec: { tasks: [{ name: 'analyze', agent: 'code-reviewer' }] },
    });
  });

  it('prints a listing as a JSON List or a YAML stream', async () => {
    const json = JSON.parse((await run(['get', 'agents', '-o', 'json'])).stdout);
    expect(json.kind).toBe('List');
    expect(json.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual([
      'code-reviewer',
      'support-bot',
    ]);
    const docs = parseAllDocuments((await run(['get', 'agents', '-o', 'yaml'])).stdout).map((d) => d.toJS());
    expect(docs.map((d) => d.metadata.name)).toEqual(['code-reviewer', 'support-bot']);
  });

  it('says so when a kind has no resources', async () => {
    const result = await run(['get', 'agentinstances']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('No agentinstances found.');
  });

  it('redacts Environment secrets unless --show-secrets', async () => {
    for (const output of ['yaml', 'json']) {
      const result = await run(['get', 'environment', 'prod', '-o', output]);
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain('tok-s3cr3t');
      expect(result.stdout).not.toContain('plain-s3cr3t');
      expect(result.stdout).not.toContain('ciphertext');
      expect(result.stdout).toContain('(sensitive)');
      expect(result.stdout).toContain('eu-west-1');
    }
    const listing = await run(['get', 'environments', '-o', 'json']);
    expect(listing.stdout).not.toMatch(/s3cr3t|ciphertext/);

    const shown = await run(['get', 'environment', 'prod', '-o', 'json', '--show-secrets'], {
      STIGMER_SECRET_KEY: keyText,
    });
    expect(shown.code).toBe(0);
    const data = JSON.parse(shown.stdout).spec.data;
    expect(data.API_TOKEN.value).toBe('tok-s3cr3t');
    expect(data.LEGACY.value).toBe('plain-s3cr3t');
  });

  it('an unknown kind: exit 1, one clear line with a suggestion, no stack trace', async () => {
    const result = await run(['get', 'agnets']);
    expectCleanFailure(result, /unknown kind "agnets"; did you mean "agent"\?/);
    expect(result.stderr).toContain('Skill, Environment, Agent, Workflow, AgentInstance, WorkflowInstance');
  });

  it('a missing resource: exit 1, one clear line, no stack trace', async () => {
    expectCleanFailure(await run(['get', 'agent', 'nobody']), /Agent "nobody" not found/);
  });
});

describe('stigmer delete and history', () => {
  it('deletes a resource and records it in its history', async () => {
    const result = await run(['delete', 'Agents', 'support-bot', '-m', 'retired']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Agent "support-bot" deleted');
    expect(result.stderr).toContain('project "demo"');
    expectCleanFailure(await run(['get', 'agent', 'support-bot']), /not found/);

    const history = await run(['history', 'agent', 'support-bot']);
    expect(history.code).toBe(0);
    const rows = history.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^VERSION\s+ACTION\s+DATE\s+MESSAGE$/);
    expect(rows.slice(1).map((r) => r.split(/\s+/))).toEqual([
      ['1', 'create', expect.any(String), 'seed'],
      ['2', 'update', expect.any(String), 'be', 'polite'],
      ['2', 'delete', expect.any(String), 'retired'],
    ]);

    const json = JSON.parse((await run(['history', 'agent', 'support-bot', '-o', 'json'])).stdout);
    expect(json.map((e: { action: string }) => e.action)).toEqual(['create', 'update', 'delete']);
    expect(json[1].snapshot.spec.instructions).toBe('You answer support questions politely.');
  });

  it('history of an Environment never shows secret values', async () => {
    const result = await run(['history', 'environment', 'prod', '-o', 'json']);
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/s3cr3t|ciphertext/);
    expect(result.stdout).toContain('(sensitive)');
  });

  it('refuses to delete a protected resource unless --force', async () => {
    expectCleanFailure(await run(['delete', 'skill', 'locked']), /prevent-destroy/);
    const forced = await run(['delete', 'skill', 'locked', '--force']);
    expect(forced.code).toBe(0);
  });

  it('missing resources and unknown kinds fail cleanly', async () => {
    expectCleanFailure(await run(['delete', 'agent', 'ghost']), /Agent "ghost" not found/);
    expectCleanFailure(await run(['history', 'workflow', 'ghost']), /Workflow "ghost" not found/);
    expectCleanFailure(await run(['delete', 'gadget', 'x']), /unknown kind "gadget"/);
  });
});

describe('agent and workflow aliases', () => {
  it('list, get and delete over the same core', async () => {
    const list = await run(['agent', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain('support-bot');
    expect(list.stdout).toContain('code-reviewer');

    const get = await run(['workflow', 'get', 'pr-review-workflow', '-o', 'yaml']);
    expect(get.code).toBe(0);
    expect(parse(get.stdout).kind).toBe('Workflow');

    const del = await run(['workflow', 'delete', 'pr-review-workflow']);
    expect(del.code).toBe(0);
    const empty = await run(['workflow', 'list']);
    expect(empty.stderr).toContain('No workflows found.');
    expectCleanFailure(await run(['agent', 'get', 'nobody']), /Agent "nobody" not found/);
  });
});
