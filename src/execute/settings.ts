/**
 * What a run needs to know before it starts, as pure functions (DESIGN.md §6c): where the
 * model endpoint is, which model an agent uses, which of its `config` strings go to the chat
 * API (and as what type), how many tool rounds it may take, and the MCP servers that
 * `$STIGMER_HOME/config.yaml` names. Every refusal names the agent and the key.
 */
import { StigmerError } from '../errors.js';
import type { McpServerSpec } from './mcp.js';

export const DEFAULT_MODEL_URL = 'http://127.0.0.1:11434/v1';
export const DEFAULT_MAX_TOOL_ROUNDS = 10;

/** The model endpoint: `STIGMER_MODEL_URL` (default a local Ollama) and `STIGMER_MODEL_API_KEY`. */
export interface ModelEndpoint {
  baseURL: string;
  apiKey?: string;
}

export function modelEndpoint(env: Record<string, string | undefined>): ModelEndpoint {
  const raw = env.STIGMER_MODEL_URL?.trim() || DEFAULT_MODEL_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new StigmerError('CONFIG', `STIGMER_MODEL_URL "${raw}" is not a URL`, {
      hint: `an OpenAI-compatible endpoint, e.g. ${DEFAULT_MODEL_URL} (Ollama) or https://api.openai.com/v1`,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new StigmerError('CONFIG', `STIGMER_MODEL_URL must be an http(s) URL, got "${raw}"`);
  }
  const endpoint: ModelEndpoint = { baseURL: raw.replace(/\/+$/, '') };
  const key = env.STIGMER_MODEL_API_KEY;
  if (key) endpoint.apiKey = key;
  return endpoint;
}

/** Where a run's model comes from, most specific first. */
export interface ModelChoice {
  /** `--model`. */
  flag?: string;
  /** `STIGMER_MODEL`, else `model:` of `$STIGMER_HOME/config.yaml`. */
  fallback?: string;
}

/** The model: `--model`, else the agent's `config.model`, else STIGMER_MODEL / config.yaml. */
export function resolveModel(agent: string, config: Record<string, string>, choice: ModelChoice): string {
  const model = choice.flag || config.model || choice.fallback;
  if (model) return model;
  throw new StigmerError('CONFIG', `no model for agent "${agent}"`, {
    hint: 'pass --model NAME, set config.model on the agent, or set STIGMER_MODEL (or model: in $STIGMER_HOME/config.yaml)',
  });
}

/** `config` keys the chat API types as numbers; the manifests hold them as strings. */
const NUMERIC_PARAMS = {
  temperature: 'number',
  top_p: 'number',
  presence_penalty: 'number',
  frequency_penalty: 'number',
  max_tokens: 'integer',
  seed: 'integer',
} as const;

/** `config` keys that are Stigmer's own, never sent. */
const OWN_KEYS = new Set(['model', 'max_tool_rounds']);

/** Chat-completions parameters from an agent's `config` (the model excluded). */
export type ChatParams = Partial<Record<keyof typeof NUMERIC_PARAMS, number>> & { stop?: string };

/**
 * The API's known keys of `config`, typed: the numeric ones as numbers (a value that is not one
 * is an error naming the agent and the key), `stop` as a string. Other keys are not sent.
 */
export function chatParams(agent: string, config: Record<string, string>): ChatParams {
  const params: ChatParams = {};
  for (const [key, raw] of Object.entries(config)) {
    if (OWN_KEYS.has(key)) continue;
    if (key === 'stop') {
      params.stop = raw;
      continue;
    }
    const type = NUMERIC_PARAMS[key as keyof typeof NUMERIC_PARAMS];
    if (!type) continue;
    params[key as keyof typeof NUMERIC_PARAMS] = toNumber(agent, key, raw, type === 'integer');
  }
  return params;
}

/** `config.max_tool_rounds` (default 10): how many times a turn may call tools. */
export function maxToolRounds(agent: string, config: Record<string, string>): number {
  const raw = config.max_tool_rounds;
  if (raw === undefined) return DEFAULT_MAX_TOOL_ROUNDS;
  const n = toNumber(agent, 'max_tool_rounds', raw, true);
  if (n < 0) throw configError(agent, 'max_tool_rounds', raw, 'a whole number ≥ 0');
  return n;
}

function toNumber(agent: string, key: string, raw: string, integer: boolean): number {
  const text = raw.trim();
  const n = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) {
    throw configError(agent, key, raw, integer ? 'a whole number' : 'a number');
  }
  return n;
}

function configError(agent: string, key: string, raw: string, want: string): StigmerError {
  return new StigmerError('CONFIG', `agent "${agent}": config.${key} must be ${want}, got "${raw}"`, {
    hint: `config values are strings in manifests, e.g. ${key}: "${key === 'temperature' ? '0.2' : '4000'}"`,
  });
}

/**
 * The named MCP servers of `$STIGMER_HOME/config.yaml` (`mcpServers: {github: {stdio: …}}`),
 * checked: each has exactly one of stdio, http or docker, with the fields of that transport.
 */
export function configuredMcpServers(value: unknown, file: string): Record<string, McpServerSpec> {
  if (value === undefined || value === null) return {};
  if (!isObject(value))
    throw new StigmerError('CONFIG', `${file}: mcpServers must be a mapping of names to servers`);
  const out: Record<string, McpServerSpec> = {};
  for (const [name, entry] of Object.entries(value)) {
    out[name] = checkMcpServer(
      { ...(isObject(entry) ? entry : {}), name },
      `${file}: mcpServers.${name}`,
      entry,
    );
  }
  return out;
}

const TRANSPORTS = ['stdio', 'http', 'docker'] as const;

function checkMcpServer(spec: Record<string, unknown>, where: string, raw: unknown): McpServerSpec {
  const bad = (message: string) =>
    new StigmerError('CONFIG', `${where}: ${message}`, {
      hint: 'e.g. mcpServers: {github: {stdio: {command: npx, args: [-y, "@modelcontextprotocol/server-github"]}}}',
    });
  if (!isObject(raw)) throw bad('expected a mapping with one of stdio, http or docker');
  const given = TRANSPORTS.filter((t) => spec[t] !== undefined);
  if (given.length !== 1) throw bad('needs exactly one of stdio, http or docker');
  const transport = spec[given[0]!];
  if (!isObject(transport)) throw bad(`${given[0]} must be a mapping`);
  const str = (v: unknown) => typeof v === 'string' && v.length > 0;
  const strings = (v: unknown) =>
    v === undefined || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  const map = (v: unknown) =>
    v === undefined || (isObject(v) && Object.values(v).every((x) => typeof x === 'string'));
  if (given[0] === 'stdio' && !(str(transport.command) && strings(transport.args) && map(transport.env))) {
    throw bad('stdio needs command (a string), optional args (strings) and env (string map)');
  }
  if (given[0] === 'http' && !(str(transport.url) && map(transport.headers))) {
    throw bad('http needs url (a string) and optional headers (string map)');
  }
  if (given[0] === 'docker' && !(str(transport.image) && strings(transport.args) && map(transport.env))) {
    throw bad('docker needs image (a string), optional args (strings) and env (string map)');
  }
  return { name: spec.name as string, [given[0]!]: transport } as McpServerSpec;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
