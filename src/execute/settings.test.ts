import { describe, expect, it } from 'vitest';
import { StigmerError } from '../errors.js';
import { chatParams, configuredMcpServers, maxToolRounds, modelEndpoint, resolveModel } from './settings.js';

function error(fn: () => unknown): StigmerError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected an error');
}

describe('run settings', () => {
  it('finds the endpoint: STIGMER_MODEL_URL, else a local Ollama', () => {
    expect(modelEndpoint({})).toEqual({ baseURL: 'http://127.0.0.1:11434/v1' });
    expect(
      modelEndpoint({ STIGMER_MODEL_URL: 'https://api.example.test/v1/', STIGMER_MODEL_API_KEY: 'k' }),
    ).toEqual({
      baseURL: 'https://api.example.test/v1',
      apiKey: 'k',
    });
    expect(error(() => modelEndpoint({ STIGMER_MODEL_URL: 'not a url' })).message).toMatch(/not a URL/);
  });

  it('picks the model: --model, else config.model, else STIGMER_MODEL / config.yaml, else an error naming the agent', () => {
    expect(resolveModel('bot', { model: 'cfg' }, { flag: 'flag', fallback: 'env' })).toBe('flag');
    expect(resolveModel('bot', { model: 'cfg' }, { fallback: 'env' })).toBe('cfg');
    expect(resolveModel('bot', {}, { fallback: 'env' })).toBe('env');
    const e = error(() => resolveModel('bot', {}, {}));
    expect(e.message).toBe('no model for agent "bot"');
    expect(e.hint).toMatch(/--model/);
  });

  it('sends the numeric config keys as numbers and refuses values that are not', () => {
    expect(
      chatParams('bot', {
        model: 'm',
        temperature: '0.7',
        max_tokens: '4000',
        top_p: '1',
        seed: '42',
        presence_penalty: '-0.5',
        frequency_penalty: '0',
        stop: 'END',
        max_tool_rounds: '3',
        team_note: 'ignored',
      }),
    ).toEqual({
      temperature: 0.7,
      max_tokens: 4000,
      top_p: 1,
      seed: 42,
      presence_penalty: -0.5,
      frequency_penalty: 0,
      stop: 'END',
    });
    expect(error(() => chatParams('bot', { temperature: 'warm' })).message).toBe(
      'agent "bot": config.temperature must be a number, got "warm"',
    );
    expect(error(() => chatParams('bot', { max_tokens: '10.5' })).message).toMatch(
      /config.max_tokens must be a whole number/,
    );
    expect(maxToolRounds('bot', {})).toBe(10);
    expect(maxToolRounds('bot', { max_tool_rounds: '2' })).toBe(2);
    expect(error(() => maxToolRounds('bot', { max_tool_rounds: '-1' })).message).toMatch(/max_tool_rounds/);
  });

  it('reads the named MCP servers of config.yaml with the manifests’ transport shapes', () => {
    expect(
      configuredMcpServers(
        {
          github: { stdio: { command: 'npx', args: ['-y', 'server-github'] } },
          search: { http: { url: 'http://127.0.0.1:1/mcp' } },
          files: { docker: { image: 'mcp/files' } },
        },
        'config.yaml',
      ),
    ).toEqual({
      github: { name: 'github', stdio: { command: 'npx', args: ['-y', 'server-github'] } },
      search: { name: 'search', http: { url: 'http://127.0.0.1:1/mcp' } },
      files: { name: 'files', docker: { image: 'mcp/files' } },
    });
    expect(error(() => configuredMcpServers({ github: { stdio: {} } }, 'config.yaml')).message).toMatch(
      /config.yaml: mcpServers.github: stdio needs command/,
    );
    expect(
      error(() => configuredMcpServers({ x: { stdio: { command: 'a' }, http: { url: 'u' } } }, 'c')).message,
    ).toMatch(/exactly one of stdio, http or docker/);
  });
});
