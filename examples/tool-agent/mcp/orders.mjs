#!/usr/bin/env node
// The demo MCP server of examples/tool-agent: one tool, lookup_order, over stdio, written with
// the official MCP TypeScript SDK (a dependency of stigmer). A real server would call the
// orders API with $ORDERS_API_TOKEN; this one answers from a small table.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';

const ORDERS = {
  'A-17': 'shipped on 2026-11-28, arriving 2026-12-02',
  'A-18': 'packed, ships tomorrow',
  'B-3': 'cancelled by the customer on 2026-11-20',
};

const server = new McpServer({ name: 'orders', version: '1.0.0' });
server.registerTool(
  'lookup_order',
  { description: 'The status of an order, by its id (e.g. A-17).', inputSchema: { orderId: z.string() } },
  async ({ orderId }) => ({
    content: [
      {
        type: 'text',
        text: ORDERS[orderId] ? `order ${orderId}: ${ORDERS[orderId]}` : `no order ${orderId}`,
      },
    ],
    isError: !ORDERS[orderId],
  }),
);
await server.connect(new StdioServerTransport());
