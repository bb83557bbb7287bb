/**
 * MCP fixtures for tests: the stdio server (test/fixtures/mcp/server.mjs, written with the
 * official SDK), a stub `docker` that runs it, a streamable-HTTP MCP server in the test process
 * (also the SDK), and helpers to prove a child process is gone.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { repoRoot } from './cli.js';

export const MCP_SERVER_SCRIPT = join(repoRoot, 'test', 'fixtures', 'mcp', 'server.mjs');
/** Put first on PATH: a `docker` that checks its arguments and runs the fixture server. */
export const DOCKER_STUB_DIR = join(repoRoot, 'test', 'fixtures', 'mcp', 'bin');

/** An agent `mcpServers` entry running the stdio fixture with `env`. */
export function stdioFixture(name: string, env: Record<string, string> = {}) {
  return { name, stdio: { command: process.execPath, args: [MCP_SERVER_SCRIPT], env } };
}

/** The pids the fixture wrote to its pid file. */
export function readPids(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits (bounded) until none of `pids` is alive; true when they all are gone. */
export async function allGone(pids: number[], timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (pids.every((p) => !isAlive(p))) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return pids.every((p) => !isAlive(p));
}

/** A stateless streamable-HTTP MCP server with one tool, `weather`. */
export async function startHttpMcp(): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer(async (req, res) => {
    const mcp = new McpServer({ name: 'http-fixture', version: '1.0.0' });
    mcp.registerTool(
      'weather',
      { description: 'Weather in a city.', inputSchema: { city: z.string() } },
      async ({ city }) => ({
        content: [{ type: 'text', text: `sunny in ${city}` }],
      }),
    );
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      mcp.close();
    });
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined;
    await mcp.connect(transport);
    await transport.handleRequest(req, res, body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
