/**
 * The fast codec speaks the proto's wire format: what it writes, protobuf-es (the reflective
 * codec every stock client's generator matches) reads back as the same values, and what
 * protobuf-es writes, it reads. Property tests over arbitrary JSON specs, names and versions.
 */
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ApplyChangesRequestSchema,
  ApplyChangesResponseSchema,
  ListResourcesResponseSchema,
} from '../../gen/stigmer/backend/v1/backend_pb.js';
import { storedSpecText } from '../../stored-text.js';
import { DECLARED_KINDS, type JsonObject, type StoredResource } from '../../types.js';
import type { AppliedChange, ResourceChange } from '../types.js';
import {
  fromWireApplied,
  fromWireChange,
  fromWireResource,
  toWireApplied,
  toWireChange,
  toWireResource,
} from './convert.js';
import {
  decodeApplied,
  decodeChanges,
  decodeLazyResources,
  decodeResources,
  encodeApplied,
  encodeChanges,
  encodeResources,
  wireViews,
} from './fast.js';

// JSON as a Struct holds it: numbers are doubles, and no -0 (JSON has none either).
// protobuf-es builds maps and Structs with plain assignment, so it drops a `__proto__` key when
// it decodes; the fast codec keeps it as an own property (a test below). The comparisons with
// protobuf-es use every other key.
const json = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.stringify(v))
  .filter((text) => !text.includes('"__proto__":'))
  .map((text) => JSON.parse(text) as unknown);
const notProto = (k: string) => k !== '__proto__';
const object = fc.dictionary(fc.string({ maxLength: 8, unit: 'grapheme' }).filter(notProto), json, {
  maxKeys: 5,
}) as fc.Arbitrary<JsonObject>;
const strings = fc.dictionary(
  fc.string({ maxLength: 12 }).filter(notProto),
  fc.string({ maxLength: 20, unit: 'grapheme' }),
  { maxKeys: 4 },
);
const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);
const kind = fc.constantFrom(...DECLARED_KINDS);
const time = fc
  .integer({ min: Date.parse('2000-01-01T00:00:00Z'), max: Date.parse('2100-01-01T00:00:00Z') })
  .map((ms) => new Date(ms).toISOString());
const version = fc.integer({ min: 1, max: 2 ** 40 });

const resource: fc.Arbitrary<StoredResource> = fc.record({
  id: fc.string({ maxLength: 24 }),
  kind,
  name,
  labels: strings,
  annotations: strings,
  spec: object,
  status: object,
  version,
  createdAt: time,
  updatedAt: time,
});

const change: fc.Arbitrary<ResourceChange> = fc.oneof(
  fc.record({
    op: fc.constantFrom('create' as const),
    kind,
    name,
    labels: strings,
    annotations: strings,
    spec: object,
    expectedVersion: fc.constant(null),
  }),
  fc.record(
    {
      op: fc.constant('update' as const),
      kind,
      name,
      labels: strings,
      annotations: strings,
      spec: object,
      expectedVersion: version,
    },
    { requiredKeys: ['op', 'kind', 'name', 'labels', 'annotations', 'spec'] },
  ),
  fc.record(
    { op: fc.constant('delete' as const), kind, name, expectedVersion: version },
    { requiredKeys: ['op', 'kind', 'name'] },
  ),
  fc.record({
    op: fc.constant('assert' as const),
    kind,
    name,
    expectedVersion: fc.option(version, { nil: null }),
  }),
) as fc.Arbitrary<ResourceChange>;

const applied: fc.Arbitrary<AppliedChange> = fc.record({
  op: fc.constantFrom('create' as const, 'update' as const, 'delete' as const),
  kind,
  name,
  id: fc.string({ maxLength: 24 }),
  version,
});

describe('fast codec', () => {
  it('resources: protobuf-es reads what it writes, and it reads what protobuf-es writes', () => {
    fc.assert(
      fc.property(fc.array(resource, { maxLength: 5 }), (items) => {
        const msg = create(ListResourcesResponseSchema, { nextPageToken: 'next' });
        msg.$unknown = encodeResources(1, items);
        const read = fromBinary(ListResourcesResponseSchema, toBinary(ListResourcesResponseSchema, msg));
        expect(read.resources.map(fromWireResource)).toEqual(items);
        expect(read.nextPageToken).toBe('next');

        const stock = toBinary(
          ListResourcesResponseSchema,
          create(ListResourcesResponseSchema, { resources: items.map(toWireResource), nextPageToken: 'x' }),
        );
        const view = fromBinary(wireViews().ListResourcesResponse, stock) as {
          $unknown?: never;
          nextPageToken?: string;
        };
        expect(decodeResources(1, view.$unknown)).toEqual(items);
        expect(view.nextPageToken).toBe('x');
      }),
      { numRuns: 150 },
    );
  });

  it('changes: both ways, with every kind of expectation', () => {
    fc.assert(
      fc.property(fc.array(change, { maxLength: 5 }), (items) => {
        const msg = create(ApplyChangesRequestSchema, { requestId: 'r', project: 'p' });
        msg.$unknown = encodeChanges(1, items);
        const read = fromBinary(ApplyChangesRequestSchema, toBinary(ApplyChangesRequestSchema, msg));
        expect(read.changes.map((c, i) => fromWireChange(c, i))).toEqual(items);

        const stock = toBinary(
          ApplyChangesRequestSchema,
          create(ApplyChangesRequestSchema, { changes: items.map(toWireChange), requestId: 'r2' }),
        );
        const view = fromBinary(wireViews().ApplyChangesRequest, stock) as {
          $unknown?: never;
          requestId?: string;
        };
        expect(decodeChanges(1, view.$unknown)).toEqual(items);
        expect(view.requestId).toBe('r2');
      }),
      { numRuns: 150 },
    );
  });

  it('applied results: both ways', () => {
    fc.assert(
      fc.property(fc.array(applied, { maxLength: 5 }), (items) => {
        const msg = create(ApplyChangesResponseSchema, { stateToken: '7' });
        msg.$unknown = encodeApplied(1, items);
        const read = fromBinary(ApplyChangesResponseSchema, toBinary(ApplyChangesResponseSchema, msg));
        expect(read.results.map(fromWireApplied)).toEqual(items);
        const stock = toBinary(
          ApplyChangesResponseSchema,
          create(ApplyChangesResponseSchema, { results: items.map(toWireApplied) }),
        );
        const view = fromBinary(wireViews().ApplyChangesResponse, stock) as { $unknown?: never };
        expect(decodeApplied(1, view.$unknown)).toEqual(items);
      }),
      { numRuns: 100 },
    );
  });

  it('keeps a `__proto__` key of labels, annotations and specs as an own property, both ways', () => {
    const r: StoredResource = {
      id: 'agt_x',
      kind: 'Agent',
      name: 'a',
      labels: JSON.parse('{"__proto__":"l","team":"cs"}'),
      annotations: JSON.parse('{"__proto__":"a"}'),
      spec: JSON.parse('{"config":{"__proto__":"c"},"instructions":"long enough text"}'),
      status: {},
      version: 3,
      createdAt: new Date(0).toISOString(),
      updatedAt: new Date(0).toISOString(),
    };
    const [back] = decodeResources(1, encodeResources(1, [r]));
    expect(Object.getOwnPropertyNames(back!.labels)).toEqual(['__proto__', 'team']);
    expect(Object.getPrototypeOf(back!.labels)).toBe(Object.prototype);
    expect(JSON.stringify(back)).toBe(JSON.stringify(r));
  });

  it('lazy resources: spec and status texts are JSON.stringify of what the eager decoder reads', () => {
    // Keys that are array indices ("2") are ordered first by a JS object: the text decoder
    // must notice them and fall back, so they are generated often here.
    const indexy = fc.dictionary(
      fc.oneof(fc.constantFrom('0', '1', '2', '10', '007', '4294967295', '-1'), fc.string({ maxLength: 6 })),
      json,
      { maxKeys: 5 },
    ) as fc.Arbitrary<JsonObject>;
    const mixed = fc.record({
      r: resource,
      spec: fc.oneof(object, indexy),
      status: fc.oneof(object, indexy),
    });
    fc.assert(
      fc.property(fc.array(mixed, { maxLength: 4 }), (rows) => {
        const items = rows.map(({ r, spec, status }) => ({ ...r, spec, status }));
        const stock = toBinary(
          ListResourcesResponseSchema,
          create(ListResourcesResponseSchema, { resources: items.map(toWireResource) }),
        );
        const view = fromBinary(wireViews().ListResourcesResponse, stock) as { $unknown?: never };
        const eager = decodeResources(1, view.$unknown);
        const lazy = decodeLazyResources(1, view.$unknown);
        expect(lazy.map((r) => storedSpecText(r))).toEqual(eager.map((r) => JSON.stringify(r.spec)));
        expect(JSON.stringify(lazy)).toBe(JSON.stringify(eager));
        expect(lazy).toEqual(eager);
      }),
      { numRuns: 200 },
    );
  });

  it('json_specs: spec and status as JSON text, read back as the same resources', () => {
    fc.assert(
      fc.property(fc.array(resource, { maxLength: 4 }), (items) => {
        const msg = create(ListResourcesResponseSchema, {});
        msg.$unknown = encodeResources(1, items, { json: true });
        const bytes = toBinary(ListResourcesResponseSchema, msg);
        // A stock decoder sees the text fields and no Structs.
        const stock = fromBinary(ListResourcesResponseSchema, bytes);
        expect(stock.resources.map((r) => [r.specJson, r.statusJson, r.spec])).toEqual(
          items.map((r) => [JSON.stringify(r.spec), JSON.stringify(r.status), undefined]),
        );
        const view = fromBinary(wireViews().ListResourcesResponse, bytes) as { $unknown?: never };
        const lazy = decodeLazyResources(1, view.$unknown);
        expect(lazy.map((r) => storedSpecText(r))).toEqual(items.map((r) => JSON.stringify(r.spec)));
        expect(lazy).toEqual(items);
      }),
      { numRuns: 150 },
    );
  });

  it('lazy resources: a repeated key, or array-index keys out of order, read as the eager decoder reads them', () => {
    // Hand-made bytes (a stock encoder cannot repeat a map key): Struct {a: "1", b: "2", a: "3"}.
    const str = (field: number, s: string) => [(field << 3) | 2, s.length, ...Buffer.from(s)];
    const wrap = (field: number, body: number[]) => [(field << 3) | 2, body.length, ...body];
    const entry = (k: string, v: string) => wrap(1, [...str(1, k), ...wrap(2, str(3, v))]);
    const struct = [...entry('a', '1'), ...entry('b', '2'), ...entry('a', '3')];
    const body = [...str(3, 'x'), ...wrap(6, struct)];
    const unknown = [{ no: 1, wireType: 2, data: new Uint8Array([body.length, ...body]) }];
    const [eager] = decodeResources(1, unknown);
    const [lazy] = decodeLazyResources(1, unknown);
    expect(JSON.stringify(eager!.spec)).toBe('{"a":"3","b":"2"}');
    expect(storedSpecText(lazy!)).toBe('{"a":"3","b":"2"}');
    expect(lazy!.spec).toEqual(eager!.spec);

    // A stock encoder of another language may write "10" and "2" after "b": an object lists
    // array-index keys first, in numeric order.
    const indexed = [...entry('b', '1'), ...entry('10', '2'), ...entry('2', '3')];
    const body2 = [...str(3, 'y'), ...wrap(6, indexed)];
    const unknown2 = [{ no: 1, wireType: 2, data: new Uint8Array([body2.length, ...body2]) }];
    expect(storedSpecText(decodeLazyResources(1, unknown2)[0]!)).toBe('{"2":"3","10":"2","b":"1"}');
    expect(JSON.stringify(decodeResources(1, unknown2)[0]!.spec)).toBe('{"2":"3","10":"2","b":"1"}');
  });

  it('refuses truncated bytes with a clear error instead of garbage', () => {
    const msg = create(ListResourcesResponseSchema, {});
    const [entry] = encodeResources(1, [
      {
        id: 'agt_x',
        kind: 'Agent',
        name: 'a',
        labels: {},
        annotations: {},
        spec: { instructions: 'long enough text' },
        status: {},
        version: 1,
        createdAt: new Date(0).toISOString(),
        updatedAt: new Date(0).toISOString(),
      },
    ]);
    msg.$unknown = [{ ...entry!, data: entry!.data.subarray(0, entry!.data.length - 3) }];
    expect(() => decodeResources(1, msg.$unknown)).toThrow(/malformed/);
    expect(() => decodeLazyResources(1, msg.$unknown)).toThrow(/malformed/);
  });
});
