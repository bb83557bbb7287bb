/**
 * The per-file stage of a large load, optionally on two threads. Parsing YAML is most of a
 * cold plan and every file is independent, so with `STIGMER_PARSE_THREADS=2`, when the files to
 * parse are large enough to repay a worker's start-up (it loads the parser and compiles the
 * schemas again), a share of them is parsed by a worker thread while the main thread parses
 * the rest. Off by default: on the project's shared 2-CPU machines the two threads slowed each
 * other down (a cold plan of 10,000 resources took 2.9 s against 2.25 s on one thread; see
 * docs/performance.md). Results are the same as `parseManifestFile`'s, in job order; a worker
 * that fails is replaced by parsing its share on the main thread.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parseManifestFile } from './parse.js';
import type { ParsedFile } from './types.js';

/** Below this many bytes to parse, one thread is faster than starting a worker. */
export const PARALLEL_MIN_BYTES = 1_500_000;

/**
 * Share of the bytes the worker gets: a little under half, because it starts later (about
 * 0.2 s to load the parser and compile the schemas) while the main thread starts at once.
 */
const WORKER_SHARE = 0.42;

/** One file to parse. */
export interface ParseJob {
  path: string;
  bytes: Buffer | string;
}

/** A parse result; `json` is its JSON text when it crossed from the worker (the cache stores it as is). */
export interface ParseResult {
  parsed: ParsedFile;
  json?: string;
}

export interface ParseFilesOptions {
  /** Force (true) or forbid (false) the worker; default: STIGMER_PARSE_THREADS=2, size and CPUs. */
  parallel?: boolean;
}

const workerUrl = new URL('./parse-worker.js', import.meta.url);

/** Parses every job (same results as `parseManifestFile`), on two threads when it pays. */
export async function parseManifestFiles(
  jobs: readonly ParseJob[],
  options: ParseFilesOptions = {},
): Promise<ParseResult[]> {
  const total = jobs.reduce((n, j) => n + j.bytes.length, 0);
  const parallel =
    options.parallel ??
    (total >= PARALLEL_MIN_BYTES && availableParallelism() > 1 && process.env.STIGMER_PARSE_THREADS === '2');
  // Under a TypeScript runner the worker module is not compiled: parse on this thread.
  if (!parallel || jobs.length < 2 || !existsSync(fileURLToPath(workerUrl))) {
    return jobs.map((j) => ({ parsed: parseManifestFile(j.path, j.bytes) }));
  }
  // The worker takes files from the end until it holds its share of the bytes.
  let split = jobs.length;
  let workerBytes = 0;
  while (split > 1 && workerBytes < total * WORKER_SHARE) {
    split--;
    workerBytes += (jobs[split] as ParseJob).bytes.length;
  }
  const mine = jobs.slice(0, split);
  const theirs = jobs.slice(split);
  const fromWorker = runWorker(theirs);
  const results: ParseResult[] = mine.map((j) => ({ parsed: parseManifestFile(j.path, j.bytes) }));
  const texts = await fromWorker;
  if (texts === null || texts.length !== theirs.length) {
    for (const j of theirs) results.push({ parsed: parseManifestFile(j.path, j.bytes) });
    return results;
  }
  for (const json of texts) results.push({ parsed: JSON.parse(json) as ParsedFile, json });
  return results;
}

/** The worker's JSON texts, or null when it could not run. */
function runWorker(jobs: ParseJob[]): Promise<string[] | null> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(workerUrl, { workerData: jobs });
    } catch {
      resolve(null);
      return;
    }
    let settled = false;
    const settle = (value: string[] | null): void => {
      if (settled) return;
      settled = true;
      resolve(value);
    };
    worker.once('message', (texts: string[]) => settle(Array.isArray(texts) ? texts : null));
    worker.once('error', () => settle(null));
    worker.once('exit', () => settle(null));
  });
}
