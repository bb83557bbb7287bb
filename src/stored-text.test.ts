import { describe, expect, it } from 'vitest';
import {
  DeferredJson,
  LazyHolder,
  lazyJsonMember,
  lazyStoredResource,
  peekSpec,
  storedSpecText,
} from './stored-text.js';

const fields = {
  id: 'agt_1',
  kind: 'Agent' as const,
  name: 'a',
  labels: { team: 'x' },
  annotations: {},
  version: 2,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const specText = JSON.stringify({ instructions: 'hi', skillRefs: ['docs'] });
const statusText = JSON.stringify({ phase: 'ready' });

describe('lazyStoredResource', () => {
  it('reads like a plain resource: values, spread, JSON', () => {
    const r = lazyStoredResource(fields, specText, statusText);
    const plain = { ...fields, spec: JSON.parse(specText), status: JSON.parse(statusText) };
    expect(r).toEqual(plain);
    expect({ ...r }).toEqual(plain);
    expect(JSON.parse(JSON.stringify(r))).toEqual(plain);
    expect(structuredClone(r)).toEqual(plain);
    expect(r.spec).toBe(r.spec);
    // Members in the order of a plain stored resource (JSON output keeps its shape).
    expect(Object.keys(r)).toEqual([
      'id',
      'kind',
      'name',
      'labels',
      'annotations',
      'spec',
      'status',
      'version',
      'createdAt',
      'updatedAt',
    ]);
  });

  it('keeps the stored text only while the spec was neither read nor replaced', () => {
    const r = lazyStoredResource(fields, specText, statusText);
    expect(storedSpecText(r)).toBe(specText);
    void r.status;
    expect(storedSpecText(r)).toBe(specText);
    void r.spec;
    expect(storedSpecText(r)).toBeUndefined();

    const s = lazyStoredResource(fields, specText, statusText);
    s.spec = { instructions: 'other' };
    expect(storedSpecText(s)).toBeUndefined();
    expect(s.spec).toEqual({ instructions: 'other' });
    // A copy is a plain object: it never vouches for a text.
    const t = lazyStoredResource(fields, specText, statusText);
    expect(storedSpecText({ ...t })).toBeUndefined();
  });

  it('takes a DeferredJson: its text written at each ask, decoded once on first read', () => {
    let written = 0;
    class Counted extends DeferredJson {
      constructor(private readonly json: string) {
        super();
      }
      text(): string {
        written++;
        return this.json;
      }
    }
    const r = lazyStoredResource(fields, new Counted(specText), new Counted(statusText));
    expect(storedSpecText(r)).toBe(specText);
    expect(peekSpec(r)).toEqual(JSON.parse(specText));
    expect(written).toBe(2);
    expect(r).toEqual({ ...fields, spec: JSON.parse(specText), status: JSON.parse(statusText) });
    expect(written).toBe(4);
    expect(r.spec).toBe(r.spec);
    expect(storedSpecText(r)).toBeUndefined();
    expect(written).toBe(4);
  });
});

describe('lazyJsonMember', () => {
  it('decodes once, keeps any assigned value (strings too), and hides its slot', () => {
    const member = lazyJsonMember('data', 0);
    const holder = () => new LazyHolder() as unknown as Record<string, unknown>;
    const o = holder();
    o.a = 1;
    member.define(o, '{"x":[1,2]}');
    o.b = 2;
    expect(Object.keys(o)).toEqual(['a', 'data', 'b']);
    expect(Object.getOwnPropertySymbols(o)).toEqual([]);
    expect(member.text(o)).toBe('{"x":[1,2]}');
    const first = o.data;
    expect(first).toEqual({ x: [1, 2] });
    expect(o.data).toBe(first);
    expect(member.text(o)).toBeUndefined();
    o.data = 'a string';
    expect(o.data).toBe('a string');
    expect(member.text(o)).toBeUndefined();
    expect(JSON.stringify(o)).toBe('{"a":1,"data":"a string","b":2}');
    // Two objects built alike share the accessors (one hidden class, no closures per object).
    const p = holder();
    p.a = 1;
    member.define(p, '{}');
    expect(Object.getOwnPropertyDescriptor(p, 'data')?.get).toBe(
      Object.getOwnPropertyDescriptor(o, 'data')?.get,
    );
    // Only a LazyHolder has the slots; a plain object has no text.
    expect(() => member.define({}, '{}')).toThrow(TypeError);
    expect(member.text({ data: '{}' })).toBeUndefined();
  });
});

describe('LazyHolder', () => {
  it('keeps lazy members in private slots: nothing of them shows, and copies carry no text', () => {
    const member = lazyJsonMember('data', 0);
    const other = lazyJsonMember('more', 1);
    const o = new LazyHolder() as unknown as Record<string, unknown>;
    o.a = 1;
    member.define(o, '{"x":[1,2]}');
    other.define(o, '[3]');
    o.b = 2;
    expect(Object.keys(o)).toEqual(['a', 'data', 'more', 'b']);
    expect(Object.getOwnPropertySymbols(o)).toEqual([]);
    expect(member.text(o)).toBe('{"x":[1,2]}');
    expect(other.text(o)).toBe('[3]');
    const copy = { ...o };
    expect(copy).toEqual({ a: 1, data: { x: [1, 2] }, more: [3], b: 2 });
    expect(member.text(copy)).toBeUndefined();
    expect(member.text(o)).toBeUndefined();
    expect(other.text(o)).toBeUndefined();
    expect(structuredClone(o)).toEqual(copy);
    expect(JSON.stringify(o)).toBe('{"a":1,"data":{"x":[1,2]},"more":[3],"b":2}');
    o.data = 'replaced';
    expect(o.data).toBe('replaced');
    const p = new LazyHolder() as unknown as Record<string, unknown>;
    member.define(p, '{}');
    expect(other.text(p)).toBeUndefined();
    expect(LazyHolder.holds(p)).toBe(true);
    expect(LazyHolder.holds({})).toBe(false);
  });

  it('stored resources are holders that read like plain objects', () => {
    const r = lazyStoredResource(
      {
        id: 'agt_1',
        kind: 'Agent',
        name: 'a',
        labels: {},
        annotations: {},
        version: 1,
        createdAt: 't',
        updatedAt: 't',
      },
      '{"instructions":"x"}',
      '{}',
    );
    expect(LazyHolder.holds(r)).toBe(true);
    expect(storedSpecText(r)).toBe('{"instructions":"x"}');
    expect({ ...r }).toEqual({
      id: 'agt_1',
      kind: 'Agent',
      name: 'a',
      labels: {},
      annotations: {},
      spec: { instructions: 'x' },
      status: {},
      version: 1,
      createdAt: 't',
      updatedAt: 't',
    });
  });
});
