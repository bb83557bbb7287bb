import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { HistoryEntry } from '../../backend/types.js';
import type { StoredResource } from '../../types.js';
import {
  displayable,
  formatAge,
  formatHistoryJson,
  formatResources,
  formatResourceTable,
  formatStatus,
  formatTable,
} from './resources.js';

const now = new Date('2026-01-20T12:00:00.000Z');

function resource(overrides: Partial<StoredResource> = {}): StoredResource {
  return {
    id: 'agt_aaaaaaaaaaaaaaaa',
    kind: 'Agent',
    name: 'support-bot',
    labels: {},
    annotations: {},
    spec: { instructions: 'Answer questions.' },
    status: {},
    version: 3,
    createdAt: '2026-01-17T12:00:00.000Z',
    updatedAt: '2026-01-20T11:55:00.000Z',
    ...overrides,
  };
}

const secretEnv = resource({
  id: 'env_aaaaaaaaaaaaaaaa',
  kind: 'Environment',
  name: 'prod',
  spec: {
    data: {
      TOKEN: { isSecret: true, sealed: { hash: 'hmac-sha256:ab', ciphertext: 'v1:k:iv:CIPHER' } },
      LEGACY: { isSecret: true, value: 'plain-secret' },
      MODE: { value: 'live', isSecret: false },
    },
  },
});

describe('formatAge', () => {
  it('prints the largest sensible unit, like kubectl', () => {
    expect(formatAge('2026-01-20T11:59:15.000Z', now)).toBe('45s');
    expect(formatAge('2026-01-20T11:48:00.000Z', now)).toBe('12m');
    expect(formatAge('2026-01-20T07:00:00.000Z', now)).toBe('5h');
    expect(formatAge('2026-01-17T12:00:00.000Z', now)).toBe('3d');
    expect(formatAge('2023-01-20T12:00:00.000Z', now)).toBe('3y');
    expect(formatAge('2026-01-21T00:00:00.000Z', now)).toBe('0s');
    expect(formatAge('not a date', now)).toBe('-');
  });
});

describe('formatTable', () => {
  it('pads columns to the widest cell and trims line ends', () => {
    expect(
      formatTable(
        ['A', 'LONGER'],
        [
          ['xxxx', 'y'],
          ['z', ''],
        ],
      ),
    ).toBe('A      LONGER\nxxxx   y\nz');
  });
});

describe('resource output', () => {
  it('table shows name, version, project annotation and ages', () => {
    const table = formatResourceTable(
      [resource({ annotations: { 'stigmer.ai/project': 'demo' } }), resource({ name: 'other', version: 1 })],
      now,
    );
    expect(table.split('\n')).toEqual([
      'NAME          VERSION   PROJECT   AGE   UPDATED',
      'support-bot   3         demo      3d    5m',
      'other         1         -         3d    5m',
    ]);
  });

  it('yaml of one resource is a manifest-like envelope; status only when present', () => {
    const doc = parse(formatResources([resource()], 'yaml', { single: true, now }));
    expect(doc).toEqual({
      apiVersion: 'agentic.stigmer.ai/v1',
      kind: 'Agent',
      metadata: {
        name: 'support-bot',
        labels: {},
        annotations: {},
        id: 'agt_aaaaaaaaaaaaaaaa',
        version: 3,
        createdAt: '2026-01-17T12:00:00.000Z',
        updatedAt: '2026-01-20T11:55:00.000Z',
      },
      spec: { instructions: 'Answer questions.' },
    });
    const withStatus = JSON.parse(
      formatResources([resource({ status: { ready: true } })], 'json', { single: true }),
    );
    expect(withStatus.status).toEqual({ ready: true });
  });

  it('redacts secret values of Environments in every format', () => {
    for (const format of ['yaml', 'json', 'table'] as const) {
      const text = formatResources([secretEnv], format, { single: false, now });
      expect(text).not.toContain('plain-secret');
      expect(text).not.toContain('CIPHER');
    }
    const data = displayable(secretEnv).spec.data as Record<string, Record<string, unknown>>;
    expect(data.TOKEN!.sealed).toBe('(sensitive)');
    expect(data.LEGACY!.value).toBe('(sensitive)');
    expect(data.MODE!.value).toBe('live');
  });

  it('uses the revealer instead of redaction when given (--show-secrets)', () => {
    const shown = displayable(secretEnv, (r) => ({ ...r.spec, revealed: true }));
    expect(shown.spec.revealed).toBe(true);
    expect(displayable(resource(), () => ({ never: true })).spec).toEqual({
      instructions: 'Answer questions.',
    });
  });

  it('history JSON redacts Environment snapshots', () => {
    const entry: HistoryEntry = {
      kind: 'Environment',
      name: 'prod',
      resourceId: 'env_aaaaaaaaaaaaaaaa',
      version: 1,
      action: 'create',
      snapshot: { labels: {}, annotations: {}, spec: secretEnv.spec },
      message: null,
      createdAt: now.toISOString(),
    };
    const text = formatHistoryJson([entry]);
    expect(text).not.toMatch(/plain-secret|CIPHER/);
    expect(text).toContain('(sensitive)');
  });
});

describe('formatStatus', () => {
  it('lists every kind with its count', () => {
    const text = formatStatus({
      info: { type: 'local', location: '/x/local.db' },
      schemaVersion: 1,
      counts: { Agent: 2 },
    });
    expect(text).toContain('Location:        /x/local.db');
    expect(text).toMatch(/^agents\s+2$/m);
    expect(text).toMatch(/^skills\s+0$/m);
    expect(text).toMatch(/^sessions\s+0$/m);
  });
});
