import { describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import { DECLARED_KINDS, KINDS } from '../types.js';
import { parseKind } from './kinds.js';

function failure(input: string): StigmerError {
  try {
    parseKind(input);
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error(`expected "${input}" to be refused`);
}

describe('parseKind', () => {
  it('accepts every declared kind in any case, singular or plural', () => {
    for (const kind of DECLARED_KINDS) {
      for (const spelling of [kind, kind.toLowerCase(), kind.toUpperCase(), KINDS[kind].plural, `${kind}s`]) {
        expect(parseKind(spelling)).toBe(kind);
      }
    }
  });

  it('accepts the spellings users type', () => {
    expect(parseKind('agent')).toBe('Agent');
    expect(parseKind('Agents')).toBe('Agent');
    expect(parseKind('AGENT')).toBe('Agent');
    expect(parseKind('agentinstance')).toBe('AgentInstance');
    expect(parseKind('agent-instances')).toBe('AgentInstance');
    expect(parseKind('workflow_instance')).toBe('WorkflowInstance');
    expect(parseKind(' Environments ')).toBe('Environment');
  });

  it('refuses an unknown kind with a suggestion and the list of kinds', () => {
    const err = failure('agnet');
    expect(err.code).toBe('UNKNOWN_KIND');
    expect(err.message).toBe('unknown kind "agnet"; did you mean "agent"?');
    expect(err.hint).toContain('Skill, Environment, Agent, Workflow, AgentInstance, WorkflowInstance');
    expect(failure('workflws').message).toContain('did you mean "workflow"?');
  });

  it('makes no suggestion for something far from every kind', () => {
    const err = failure('banana-split');
    expect(err.message).toBe('unknown kind "banana-split"');
    expect(failure('').message).toBe('unknown kind ""');
  });

  it('explains that runtime records are not resources', () => {
    const err = failure('sessions');
    expect(err.code).toBe('UNKNOWN_KIND');
    expect(err.message).toContain('runtime record');
  });
});
