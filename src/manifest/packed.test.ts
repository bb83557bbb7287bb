import { describe, expect, it } from 'vitest';
import { packParsedFile, unpackParsedFile } from './packed.js';
import { parseManifestFile } from './parse.js';

const text = `apiVersion: agentic.stigmer.ai/v1
kind: Workflow
metadata:
  name: triage
spec:
  tasks:
    - name: fetch
      agent: reader
      outputs: [body]
    - name: answer
      agent: writer
      dependsOn: [fetch]
      inputs:
        text: "\${tasks.fetch.outputs.body}"
---
apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata: {name: broken}
spec: {instructions: 3}
`;

describe('packed ParsedFile', () => {
  it('round-trips to what parseManifestFile returned, positions included', () => {
    const parsed = parseManifestFile('m/flow.yaml', text);
    expect(parsed.invalidDocuments).toHaveLength(1);
    expect(parsed.diagnostics).toHaveLength(1);
    expect(parsed.documents[0]?.positions['/spec/tasks/1/dependsOn/0']).toBeDefined();
    const packed = packParsedFile(parsed);
    expect(packed.length).toBeLessThan(JSON.stringify(parsed).length);
    const back = unpackParsedFile(packed);
    expect(back).toEqual(parsed);
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(parsed)));
    expect({ ...back.documents[0] }).toEqual(parsed.documents[0]);
  });

  it('decodes positions on first read, and they can be replaced', () => {
    const back = unpackParsedFile(packParsedFile(parseManifestFile('m/flow.yaml', text)));
    const doc = back.documents[0]!;
    expect(doc.positions).toBe(doc.positions);
    doc.positions = { '': { line: 9, column: 9 } };
    expect(doc.positions).toEqual({ '': { line: 9, column: 9 } });
  });

  it('refuses JSON whose positions are not packed', () => {
    expect(() => unpackParsedFile(JSON.stringify(parseManifestFile('m/flow.yaml', text)))).toThrow();
  });
});
