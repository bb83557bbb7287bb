import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/helpers/cli.js';
import {
  allGone,
  DOCKER_STUB_DIR,
  MCP_SERVER_SCRIPT,
  readPids,
  startHttpMcp,
  stdioFixture,
} from '../../test/helpers/mcp-fixture.js';
import { StigmerError } from '../errors.js';
import { createMasker } from './mask.js';
import { dockerParams, openMcpScope } from './mcp.js';

const dir = tempDir('stigmer-mcp-');
let http: Awaited<ReturnType<typeof startHttpMcp>>;
beforeAll(async () => {
  http = await startHttpMcp();
});
afterAll(async () => {
  await http.close();
  dir.cleanup();
});

describe('the MCP scope of a run', () => {
  it('offers the tools of stdio and HTTP servers, routes calls, masks secrets, and closes every child', async () => {
    const pidFile = join(dir.path, 'pids-1');
    const secret = 'canary-9f3b2c71';
    const scope = await openMcpScope(
      [stdioFixture('orders', { MCP_PID_FILE: pidFile }), { name: 'web', http: { url: http.url } }],
      { env: { SUPPORT_TOKEN: secret }, mask: createMasker([secret]) },
    );
    try {
      const names = scope.tools.map((t) => t.function.name);
      expect(names).toEqual(
        expect.arrayContaining(['orders__lookup_order', 'orders__env_check', 'web__weather']),
      );
      const lookup = scope.tools.find((t) => t.function.name === 'orders__lookup_order')!;
      expect(lookup.function.parameters).toMatchObject({
        type: 'object',
        properties: { orderId: { type: 'string' } },
      });
      expect(await scope.call('orders__lookup_order', { orderId: 'A-1' })).toEqual({
        content: 'order A-1: shipped on 2026-11-30',
        isError: false,
      });
      expect(await scope.call('web__weather', { city: 'Oslo' })).toEqual({
        content: 'sunny in Oslo',
        isError: false,
      });
      // The context reached the child's environment, and an echo of it comes back masked.
      expect((await scope.call('orders__env_check', { name: 'SUPPORT_TOKEN' })).content).toBe(
        `SUPPORT_TOKEN is set (${secret.length} characters)`,
      );
      expect((await scope.call('orders__echo_env', { name: 'SUPPORT_TOKEN' })).content).toBe(
        'SUPPORT_TOKEN=(sensitive)',
      );
      expect(await scope.call('orders__fail', {})).toEqual({
        content: 'the fixture failed on purpose',
        isError: true,
      });
      const bad = await scope.call('orders__lookup_order', { orderId: 42 });
      expect(bad.isError).toBe(true);
      expect(await scope.call('nope__tool', {})).toEqual({
        content: 'unknown tool "nope__tool"',
        isError: true,
      });
    } finally {
      await scope.close();
    }
    const pids = readPids(pidFile);
    expect(pids).toHaveLength(1);
    expect(await allGone(pids)).toBe(true);
  });

  it('names a server that fails to start, and leaves none of the others running', async () => {
    const pidFile = join(dir.path, 'pids-2');
    let error: unknown;
    try {
      await openMcpScope(
        [
          stdioFixture('good', { MCP_PID_FILE: pidFile }),
          stdioFixture('broken', { MCP_FAIL_START: 'bad config' }),
        ],
        { env: {}, mask: (t) => t },
      );
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(StigmerError);
    expect((error as StigmerError).message).toMatch(
      /^MCP server "broken" failed to start: .*refusing to start \(bad config\)/,
    );
    expect(await allGone(readPids(pidFile))).toBe(true);

    const missing = await openMcpScope(
      [{ name: 'ghost', stdio: { command: 'stigmer-no-such-command-xyz' } }],
      {
        env: {},
        mask: (t) => t,
      },
    ).catch((e: unknown) => e as StigmerError);
    expect((missing as StigmerError).message).toMatch(/^MCP server "ghost" failed to start: .*ENOENT/);
    expect((missing as StigmerError).hint).toMatch(/stigmer-no-such-command-xyz/);
  });

  it('runs a docker server as `docker run -i --rm -e NAME… IMAGE`, values only in its environment', async () => {
    const argsFile = join(dir.path, 'docker-args');
    const params = dockerParams(
      { image: 'mcp/orders:1', args: ['--verbose'], env: { DOCKER_ARGS_FILE: argsFile } },
      {
        TOKEN: 'secret-value-1',
      },
    );
    expect(params.command).toBe('docker');
    expect(params.args).toEqual([
      'run',
      '-i',
      '--rm',
      '-e',
      'DOCKER_ARGS_FILE',
      '-e',
      'TOKEN',
      'mcp/orders:1',
      '--verbose',
    ]);
    expect(params.env.TOKEN).toBe('secret-value-1');

    const path = `${DOCKER_STUB_DIR}:${process.env.PATH}`;
    const saved = process.env.PATH;
    process.env.PATH = path;
    try {
      const scope = await openMcpScope(
        [{ name: 'boxed', docker: { image: 'mcp/orders:1', env: { DOCKER_ARGS_FILE: argsFile } } }],
        { env: { TOKEN: 'secret-value-1' }, mask: (t) => t },
      );
      try {
        expect((await scope.call('boxed__env_check', { name: 'TOKEN' })).content).toBe(
          'TOKEN is set (14 characters)',
        );
      } finally {
        await scope.close();
      }
    } finally {
      process.env.PATH = saved;
    }
    const args = readFileSync(argsFile, 'utf8');
    expect(args).toBe('run\n-i\n--rm\n-e\nDOCKER_ARGS_FILE\n-e\nTOKEN\nmcp/orders:1\n');
    expect(args).not.toContain('secret-value-1');
    expect(MCP_SERVER_SCRIPT).toMatch(/server\.mjs$/);
  });
});
