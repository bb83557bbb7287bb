import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseManifestFile } from './parse.js';
import { type ParseJob, parseManifestFiles, sharedJob, sharedJobs } from './parse-pool.js';
import { ByteArena } from './read-file.js';

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

  it('with yieldMs lets the event loop run between files, without it not before the end', async () => {
    for (const yieldMs of [0, undefined]) {
      let delivered = 0;
      let ranAfter = -1;
      setImmediate(() => {
        ranAfter = delivered;
      });
      const results = await parseManifestFiles(jobs, {
        parallel: false,
        onResult: () => delivered++,
        ...(yieldMs === undefined ? {} : { yieldMs }),
      });
      expect(results.map((r) => r.parsed)).toEqual(expected);
      if (yieldMs === undefined) expect(ranAfter).toBe(-1);
      else {
        expect(ranAfter).toBeGreaterThanOrEqual(1);
        expect(ranAfter).toBeLessThan(jobs.length);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  });

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

  it('passes bytes read into a ByteArena to the worker without copying them; others are copied', () => {
    const arena = new ByteArena();
    const inArena = (text: string): Buffer => {
      const view = arena.take(Buffer.byteLength(text));
      view.write(text);
      return view;
    };
    const mixed: ParseJob[] = [
      { path: 'a.yaml', bytes: inArena(agent(1)) },
      { path: 'b.yaml', bytes: 'kind: Skill # from stdin: ünïcode\n' },
      { path: 'c.yaml', bytes: Buffer.from(agent(3)) },
      { path: 'd.yaml', bytes: inArena(agent(4)) },
      { path: 'e.yaml', bytes: inArena('') },
    ];
    const shared = sharedJobs(mixed);
    // One arena buffer, passed as it is, plus one buffer for the two copied jobs.
    expect(shared.buffers).toHaveLength(2);
    expect(shared.buffers[0]).toBe((mixed[0]!.bytes as Buffer).buffer);
    expect(shared.buffers[1]!.byteLength).toBe(
      Buffer.byteLength(mixed[1]!.bytes as string) + (mixed[2]!.bytes as Buffer).length,
    );
    mixed.forEach((job, i) => {
      const back = sharedJob(shared, i);
      expect(back.path).toBe(job.path);
      expect(typeof back.bytes).toBe(typeof job.bytes);
      expect(back.bytes.toString()).toBe(job.bytes.toString());
    });
    // A file larger than a chunk gets a buffer of its own; the views never overlap.
    const big = arena.take(ByteArena.CHUNK_BYTES + 1);
    expect(big.buffer).not.toBe((mixed[0]!.bytes as Buffer).buffer);
    expect((mixed[3]!.bytes as Buffer).byteOffset).toBe((mixed[0]!.bytes as Buffer).length);
  });
});
