/**
 * The MCP servers of one run, opened and closed as one scope (DESIGN.md §6c): every server of
 * the agent is started (stdio child, streamable HTTP, or `docker run -i`), its tools are listed
 * and offered to the model as OpenAI function tools, calls are routed back to their server, and
 * `close()` always closes every server (also after a failure or Ctrl-C: a stdio child gets its
 * stdin closed, then SIGTERM, then SIGKILL). A server that fails to start is one clear error
 * naming it, and nothing stays running.
 *
 * The run's execution context (variables and decrypted secrets) reaches only the environment
 * of stdio and docker children; docker gets the names (`-e NAME`) on its command line and the
 * values through its own environment, so no value shows in a process list.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { StigmerError } from '../errors.js';
import type { Masker } from './mask.js';

/** An MCP server as an agent's `mcpServers` entry (or config.yaml) describes it. */
export type McpServerSpec = { name: string } & (
  | { stdio: { command: string; args?: string[]; env?: Record<string, string> } }
  | { http: { url: string; headers?: Record<string, string> } }
  | { docker: { image: string; args?: string[]; env?: Record<string, string> } }
);

/** A function tool as the chat-completions API takes it. */
export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export interface ToolOutcome {
  content: string;
  isError: boolean;
}

export interface McpScopeOptions {
  /** Variables and secrets for stdio and docker servers (never logged). */
  env: Record<string, string>;
  mask: Masker;
  /** How long a server may take to start and answer `initialize` and `tools/list`. Default 30 s. */
  startTimeoutMs?: number;
  /** How long one tool call may take. Default 5 minutes. */
  callTimeoutMs?: number;
  signal?: AbortSignal;
}

interface OpenServer {
  spec: McpServerSpec;
  client: Client;
  transport: Transport;
}

interface RoutedTool {
  server: OpenServer;
  tool: string;
}

const CLIENT_INFO = { name: 'stigmer', version: '0.1.0' };
/** OpenAI function names: letters, digits, `_` and `-`, at most 64. */
const FUNCTION_NAME = /[^a-zA-Z0-9_-]/g;
const STDERR_KEEP = 2000;

/** The open servers of a run and their tools. Use `openMcpScope`; always `close()` it. */
export class McpScope implements AsyncDisposable {
  readonly tools: ToolDefinition[] = [];
  private readonly routes = new Map<string, RoutedTool>();
  private readonly servers: OpenServer[] = [];
  private closed = false;

  private constructor(private readonly options: McpScopeOptions) {}

  /** Starts every server (in parallel); on any failure closes them all and throws naming it. */
  static async open(specs: McpServerSpec[], options: McpScopeOptions): Promise<McpScope> {
    const scope = new McpScope(options);
    const results = await Promise.allSettled(specs.map((spec) => scope.start(spec)));
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      await scope.close();
      throw (results[failed] as PromiseRejectedResult).reason;
    }
    for (const server of scope.servers) await scope.addTools(server);
    return scope;
  }

  /** Whether a tool name is one of this scope's. */
  has(name: string): boolean {
    return this.routes.has(name);
  }

  /**
   * Calls a tool. Failures (bad arguments, a server error, a crashed server) come back as an
   * error result for the model, never as an exception; an aborted signal rejects.
   */
  async call(name: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<ToolOutcome> {
    const route = this.routes.get(name);
    if (!route) return { content: `unknown tool "${name}"`, isError: true };
    try {
      const result = await route.server.client.callTool({ name: route.tool, arguments: args }, undefined, {
        timeout: this.options.callTimeoutMs ?? 300_000,
        ...(signal ? { signal: perRequest(signal) } : {}),
      });
      return { content: this.options.mask(toolText(result)), isError: result.isError === true };
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      return { content: this.options.mask(`tool call failed: ${messageOf(err)}`), isError: true };
    }
  }

  /** Closes every server; safe to call more than once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.servers.map((s) => s.client.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async start(spec: McpServerSpec): Promise<void> {
    const { transport, stderr } = this.transport(spec);
    const client = new Client(CLIENT_INFO, { capabilities: {} });
    const server: OpenServer = { spec, client, transport };
    // Registered before connecting, so a server that fails half-way is still closed.
    this.servers.push(server);
    const timeout = this.options.startTimeoutMs ?? 30_000;
    try {
      await client.connect(transport, {
        timeout,
        ...(this.options.signal ? { signal: perRequest(this.options.signal) } : {}),
      });
    } catch (err) {
      if (this.options.signal?.aborted) throw this.options.signal.reason ?? err;
      const tail = stderr().trim().split('\n').filter(Boolean).at(-1);
      throw new StigmerError(
        'MCP',
        `MCP server "${spec.name}" failed to start: ${this.options.mask(messageOf(err))}${tail ? ` (${this.options.mask(tail)})` : ''}`,
        { cause: err, hint: startHint(spec) },
      );
    }
  }

  private transport(spec: McpServerSpec): { transport: Transport; stderr: () => string } {
    if ('http' in spec) {
      const init: RequestInit = spec.http.headers ? { headers: spec.http.headers } : {};
      let url: URL;
      try {
        url = new URL(spec.http.url);
      } catch {
        throw new StigmerError('MCP', `MCP server "${spec.name}": "${spec.http.url}" is not a URL`);
      }
      return { transport: new StreamableHTTPClientTransport(url, { requestInit: init }), stderr: () => '' };
    }
    const context = this.options.env;
    const params =
      'stdio' in spec
        ? {
            command: spec.stdio.command,
            args: spec.stdio.args ?? [],
            env: { ...getDefaultEnvironment(), ...spec.stdio.env, ...context },
          }
        : dockerParams(spec.docker, context);
    const transport = new StdioClientTransport({ ...params, stderr: 'pipe' });
    let err = '';
    transport.stderr?.on('data', (chunk: Buffer) => {
      err = (err + chunk.toString('utf8')).slice(-STDERR_KEEP);
    });
    return { transport, stderr: () => err };
  }

  private async addTools(server: OpenServer): Promise<void> {
    let cursor: string | undefined;
    do {
      let page: Awaited<ReturnType<Client['listTools']>>;
      try {
        page = await server.client.listTools(cursor ? { cursor } : {}, {
          timeout: this.options.startTimeoutMs ?? 30_000,
        });
      } catch (err) {
        await this.close();
        throw new StigmerError(
          'MCP',
          `MCP server "${server.spec.name}" did not list its tools: ${this.options.mask(messageOf(err))}`,
          { cause: err },
        );
      }
      for (const tool of page.tools) {
        const name = this.uniqueName(`${server.spec.name}__${tool.name}`);
        this.routes.set(name, { server, tool: tool.name });
        this.tools.push({
          type: 'function',
          function: {
            name,
            ...(tool.description ? { description: tool.description } : {}),
            parameters: (tool.inputSchema as Record<string, unknown>) ?? { type: 'object', properties: {} },
          },
        });
      }
      cursor = page.nextCursor;
    } while (cursor);
  }

  private uniqueName(raw: string): string {
    const base = raw.replace(FUNCTION_NAME, '_').slice(0, 64);
    let name = base;
    for (let i = 2; this.routes.has(name); i++) name = `${base.slice(0, 60)}_${i}`;
    return name;
  }
}

/** Opens the scope of a run's MCP servers (see McpScope). */
export function openMcpScope(specs: McpServerSpec[], options: McpScopeOptions): Promise<McpScope> {
  return McpScope.open(specs, options);
}

/** `docker run -i --rm -e NAME… IMAGE ARGS…`: values reach docker through its environment only. */
export function dockerParams(
  docker: { image: string; args?: string[]; env?: Record<string, string> },
  context: Record<string, string>,
): { command: string; args: string[]; env: Record<string, string> } {
  const vars = { ...docker.env, ...context };
  const args = ['run', '-i', '--rm'];
  for (const name of Object.keys(vars)) args.push('-e', name);
  args.push(docker.image, ...(docker.args ?? []));
  return { command: 'docker', args, env: { ...getDefaultEnvironment(), ...vars } };
}

/** The text of a tool result for the model: its text parts, other parts summarised. */
function toolText(result: Awaited<ReturnType<Client['callTool']>>): string {
  const content = Array.isArray(result.content) ? result.content : [];
  const parts: string[] = [];
  for (const part of content as Array<Record<string, unknown>>) {
    if (part.type === 'text' && typeof part.text === 'string') parts.push(part.text);
    else if (part.type === 'resource' && typeof part.resource === 'object' && part.resource !== null) {
      const r = part.resource as Record<string, unknown>;
      parts.push(typeof r.text === 'string' ? r.text : `[resource ${String(r.uri ?? '')}]`);
    } else
      parts.push(`[${String(part.type)}${typeof part.mimeType === 'string' ? ` ${part.mimeType}` : ''}]`);
  }
  if (parts.length === 0 && result.structuredContent !== undefined)
    return JSON.stringify(result.structuredContent);
  if (parts.length === 0 && 'toolResult' in result) return JSON.stringify(result.toolResult);
  return parts.join('\n');
}

function startHint(spec: McpServerSpec): string {
  if ('stdio' in spec)
    return `check that \`${spec.stdio.command}\` is installed and speaks MCP on stdin/stdout`;
  if ('docker' in spec)
    return `check that docker is installed and the image ${spec.docker.image} speaks MCP on stdin/stdout`;
  return `check that ${spec.http.url} is a streamable-HTTP MCP endpoint`;
}

/**
 * A signal of its own for one request, following the run's: libraries add abort listeners to the
 * signal they get and may keep them, so a long run's signal would collect one per request.
 */
export function perRequest(signal: AbortSignal): AbortSignal {
  return AbortSignal.any([signal]);
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
