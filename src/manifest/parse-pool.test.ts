import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifestFile } from './parse.js';
import { type ParseJob, parseManifestFiles } from './parse-pool.js';

const agent = (i: number) => `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: agent-${i}
spec:
  instructions: |
    Answer questions about product ${i}.
    Say what you did not check.
  skillRefs: [docs]
`;

/** A mix of valid files, schema errors and YAML errors. */
const jobs: ParseJob[] = Array.from({ length: 40 }, (_, i) => ({
  path: `m/file-${i}.yaml`,
  bytes:
    i % 7 === 3
      ? 'kind: [unclosed\n'
      : i % 5 === 1
        ? Buffer.from(`${agent(i)}  colour: blue\n`)
        : `${agent(i)}---\n${agent(i + 1000)}`,
}));
const expected = jobs.map((j) => parseManifestFile(j.path, j.bytes));

// The worker runs compiled code: the build (which `npm test` runs first) puts it in dist/.
const compiled = new URL('../../dist/manifest/parse-pool.js', import.meta.url);

describe('parseManifestFiles', () => {
  it('on one thread returns what parseManifestFile returns, in order', async () => {
    const results = await parseManifestFiles(jobs, { parallel: false });
    expect(results.map((r) => r.parsed)).toEqual(expected);
  });

  it.runIf(existsSync(compiled))(
    'with the worker returns the same results, in order, with their JSON',
    async () => {
      const pool = (await import(compiled.href)) as typeof import('./parse-pool.js');
      // The main thread stops after 10 files: the worker takes the other 30.
      const results = await pool.parseManifestFiles(jobs, { parallel: true, mainLimit: 10 });
      expect(results.map((r) => r.parsed)).toEqual(expected);
      const fromWorker = results.filter((r) => r.byWorker);
      expect(fromWorker.length).toBeGreaterThanOrEqual(30);
      expect(fromWorker.length).toBeLessThan(jobs.length);
      // The JSON is the packed form (src/manifest/packed.ts): unpacked, it reads as the ParsedFile.
      const { unpackParsedFile } = await import('./packed.js');
      for (const r of fromWorker) expect(unpackParsedFile(JSON.parse(r.json as string))).toEqual(r.parsed);
      // Sharing freely: the same results whoever took which file.
      const shared = await pool.parseManifestFiles(jobs, { parallel: true });
      expect(shared.map((r) => r.parsed)).toEqual(expected);
    },
  );

  it('decides on a worker by size, CPUs and STIGMER_PARSE_THREADS', async () => {
    const { PARALLEL_MIN_BYTES, useWorker } = await import('./parse-pool.js');
    const { availableParallelism } = await import('node:os');
    expect(useWorker(PARALLEL_MIN_BYTES - 1, {})).toBe(false);
    expect(useWorker(PARALLEL_MIN_BYTES - 1, { STIGMER_PARSE_THREADS: '2' })).toBe(true);
    expect(useWorker(PARALLEL_MIN_BYTES - 1, { STIGMER_PARSE_THREADS: '1' })).toBe(false);
    expect(useWorker(PARALLEL_MIN_BYTES, {})).toBe(availableParallelism() > 1);
    expect(useWorker(PARALLEL_MIN_BYTES, { STIGMER_PARSE_THREADS: '1' })).toBe(false);
    expect(useWorker(PARALLEL_MIN_BYTES, { STIGMER_PARSE_THREADS: '2' })).toBe(true);
  });

  it('handles no files and one file', async () => {
    expect(await parseManifestFiles([], { parallel: true })).toEqual([]);
    const one = await parseManifestFiles(jobs.slice(0, 1), { parallel: true });
    expect(one.map((r) => r.parsed)).toEqual(expected.slice(0, 1));
  });
});
