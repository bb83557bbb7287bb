import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { specTextOf } from '../stored-text.js';
import { decodePositions, encodePositions, packParsedFile, unpackParsedFile } from './packed.js';
import { parseManifestFile } from './parse.js';

const text = `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: a
  labels: { team: x }
spec:
  instructions: Answer questions about the product.
  skillRefs: [docs, missing]
---
apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata:
  name: docs
spec:
  skillMd: "# Docs"
---
kind: Agent
metadata: { name: broken }
spec: { colour: blue }
`;

describe('packed ParsedFile', () => {
  const parsed = parseManifestFile('m/a.yaml', text);

  it('unpacks to what was packed: same values, same member order, same JSON', () => {
    const unpacked = unpackParsedFile(JSON.parse(packParsedFile(parsed)), 'm/a.yaml');
    expect(unpacked).toEqual(parsed);
    expect(JSON.stringify(unpacked)).toBe(JSON.stringify(parsed));
    expect(Object.keys(unpacked!.documents[0]!.resource)).toEqual(Object.keys(parsed.documents[0]!.resource));
    expect(parsed.diagnostics.length).toBeGreaterThan(0);
    // Packing an unpacked file gives the same text (the cache copies it as is).
    expect(packParsedFile(unpacked!)).toBe(packParsedFile(parsed));
  });

  it('keeps each spec as its JSON text until read, and positions undecoded', () => {
    const unpacked = unpackParsedFile(JSON.parse(packParsedFile(parsed)))!;
    const doc = unpacked.documents[0]!;
    expect(specTextOf(doc.resource)).toBe(JSON.stringify(parsed.documents[0]!.resource.spec));
    expect(doc.positions['/spec/skillRefs/1']).toEqual(parsed.documents[0]!.positions['/spec/skillRefs/1']);
    expect(doc.resource.spec.skillRefs).toEqual(['docs', 'missing']);
    // Read, it may be changed in place: the text no longer stands for it.
    expect(specTextOf(doc.resource)).toBeUndefined();
  });

  it('refuses what is not a packed ParsedFile (of that path)', () => {
    const packed = JSON.parse(packParsedFile(parsed));
    expect(unpackParsedFile(packed, 'other.yaml')).toBeNull();
    expect(unpackParsedFile(JSON.parse(JSON.stringify(parsed)))).toBeNull();
    expect(unpackParsedFile(null)).toBeNull();
    expect(unpackParsedFile({ file: 'x', documents: [{}], diagnostics: [] })).toBeNull();
  });

  it('round-trips any spec and labels', () => {
    const json = fc
      .jsonValue({ maxDepth: 3 })
      .filter((v) => typeof v === 'object' && v !== null && !Array.isArray(v));
    fc.assert(
      fc.property(json, fc.dictionary(fc.string(), fc.string()), (spec, labels) => {
        const file = {
          file: 'f.yaml',
          documents: [
            {
              resource: {
                kind: 'Agent' as const,
                name: 'n',
                labels,
                annotations: {},
                spec: spec as never,
                source: { file: 'f.yaml', line: 1, column: 1 },
              },
              positions: { '': { line: 1, column: 1 } },
            },
          ],
          diagnostics: [],
        };
        const plain = JSON.parse(JSON.stringify(file));
        const unpacked = unpackParsedFile(JSON.parse(packParsedFile(file)));
        expect(JSON.parse(JSON.stringify(unpacked))).toEqual(plain);
      }),
      { numRuns: 200 },
    );
  });
});

describe('positions text', () => {
  it('decodes to the positions it was made from, in order, whatever the pointers hold', () => {
    const pointer = fc
      .array(fc.string({ unit: 'binary', maxLength: 6 }), { maxLength: 4 })
      .map((segments) => segments.map((s) => `/${s}`).join(''));
    const position = fc.record({ line: fc.nat(), column: fc.nat() });
    fc.assert(
      fc.property(fc.dictionary(pointer, position), (positions) => {
        const text = encodePositions(positions);
        const back = decodePositions(text);
        expect(back).toEqual(positions);
        expect(Object.keys(back)).toEqual(Object.keys(positions));
      }),
      { numRuns: 100 },
    );
  });

  it('is shorter than JSON for a real document, and keeps what is well formed of a broken text', () => {
    const doc = parseManifestFile('m/a.yaml', text).documents[0]!;
    const compact = encodePositions(doc.positions);
    expect(compact.length).toBeLessThan(JSON.stringify(doc.positions).length / 2);
    expect(decodePositions(compact)).toEqual(doc.positions);
    expect(decodePositions('3,1,0,0:4,2,0,5:/spec7,x')).toEqual({
      '': { line: 3, column: 1 },
      '/spec': { line: 4, column: 2 },
    });
    expect(decodePositions('')).toEqual({});
  });
});
