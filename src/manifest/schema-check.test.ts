import { describe, expect, it } from 'vitest';
import { checkSchema, displayPath, pointerSegments, suggest } from './schema-check.js';

const agent = (spec: unknown) => ({
  apiVersion: 'agentic.stigmer.ai/v1',
  kind: 'Agent',
  metadata: { name: 'a' },
  spec,
});

describe('checkSchema', () => {
  it('accepts the seed shapes: string mcpServers and a string-map config', () => {
    expect(
      checkSchema(
        'Agent',
        agent({
          instructions: 'Be helpful, always.',
          mcpServers: ['github'],
          config: { temperature: '0.7' },
        }),
      ),
    ).toEqual([]);
  });

  it('names an unknown field and suggests the closest allowed one, or lists them', () => {
    expect(checkSchema('Agent', agent({ instructions: 'Be helpful, always.', mcpServer: [] }))).toEqual([
      {
        path: ['spec', 'mcpServer'],
        atKey: true,
        message: 'unknown field "mcpServer" in spec',
        hint: 'did you mean `mcpServers`?',
      },
    ]);
    expect(checkSchema('Agent', agent({ instructions: 'Be helpful, always.', zzz: 1 }))[0]!.hint).toBe(
      'allowed fields: description, instructions, mcpServers, skillRefs, subAgents, config',
    );
  });

  it('says what was expected and what was found', () => {
    expect(checkSchema('Agent', agent({ instructions: ['a'] }))).toMatchObject([
      { path: ['spec', 'instructions'], message: 'spec.instructions: expected string, got array' },
    ]);
  });

  it('reports the branch of a union that fits the value', () => {
    const issues = checkSchema(
      'Agent',
      agent({
        instructions: 'Be helpful, always.',
        mcpServers: [{ name: 'x', http: { url: 'u', header: {} } }],
      }),
    );
    expect(issues).toEqual([
      {
        path: ['spec', 'mcpServers', '0', 'http', 'header'],
        atKey: true,
        message: 'unknown field "header" in spec.mcpServers[0].http',
        hint: 'did you mean `headers`?',
      },
    ]);
  });

  it('explains bad environment keys and values', () => {
    const env = {
      apiVersion: 'agentic.stigmer.ai/v1',
      kind: 'Environment',
      metadata: { name: 'e' },
      spec: { data: { 'BAD-KEY': { value: 'x' } } },
    };
    expect(checkSchema('Environment', env)).toMatchObject([
      { path: ['spec', 'data', 'BAD-KEY'], atKey: true, message: 'spec.data: invalid key "BAD-KEY"' },
    ]);
  });
});

describe('helpers', () => {
  it('suggest finds typos, ignores case, and stays quiet for unrelated words', () => {
    expect(suggest('instruction', ['description', 'instructions'])).toBe('instructions');
    expect(suggest('SKILLREFS', ['skillRefs', 'subAgents'])).toBe('skillRefs');
    expect(suggest('banana', ['skillRefs', 'subAgents'])).toBeUndefined();
  });

  it('displayPath and pointerSegments', () => {
    expect(displayPath(['spec', 'tasks', '0', 'inputs', 'a.b'])).toBe('spec.tasks[0].inputs["a.b"]');
    expect(pointerSegments('/metadata/annotations/stigmer.ai~1prune')).toEqual([
      'metadata',
      'annotations',
      'stigmer.ai/prune',
    ]);
    expect(pointerSegments('')).toEqual([]);
  });
});
