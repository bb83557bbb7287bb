/**
 * The per-file stage of a large load, on two threads when a second CPU exists. Parsing YAML
 * is most of a cold plan and every file is independent, so when the files to parse are large
 * enough to repay a worker's start-up (it loads the parser on the other CPU), a worker thread
 * and the main thread share them: both take the next file from one shared counter until none
 * is left, so a worker that starts late or runs slowly simply takes fewer files, and the main
 * thread waits at most for the file the worker holds. Results are the same as
 * `parseManifestFile`'s, in job order; the files of a worker that fails are parsed on the main
 * thread.
 *
 * When: by default, when a second CPU exists and at least PARALLEL_MIN_BYTES are to be parsed.
 * On the project's 2-CPU machine a cold plan of 10,000 resources (7.5 MB) took 0.68× the time
 * of one thread for 5% more CPU time; at 1,000 resources (0.75 MB) the worker's start-up made
 * it 1.06× (docs/performance.md). An earlier version gave the worker a fixed share of the
 * files and waited for it, which lost on a busy machine; with the shared counter a starved
 * worker costs the main thread nothing but the worker's start. `STIGMER_PARSE_THREADS=1`
 * forces one thread, `=2` two whatever the CPU count and the size.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packParsedFile, unpackParsedFile } from './packed.js';
import { parseManifestFile } from './parse.js';
import type { ParsedFile } from './types.js';

/** Below this many bytes to parse, one thread is faster than starting a worker. */
export const PARALLEL_MIN_BYTES = 1_500_000;

/**
 * From this many bytes to parse, the main thread's results are kept packed like the worker's
 * (`packedResult`): it saves memory at 100,000 resources and costs time (decoding the packed
 * text again) that smaller loads do not need to pay.
 */
export const COMPACT_MIN_BYTES = 16_000_000;

/** One file to parse. */
export interface ParseJob {
  path: string;
  bytes: Buffer | string;
}

/**
 * A parse result; `json` is its packed JSON text (src/manifest/packed.ts) when the load used the
 * worker (the cache stores it as is), and then `parsed` has lazy specs and positions.
 */
export interface ParseResult {
  parsed: ParsedFile;
  json?: string;
  /** True when the worker thread parsed it (tests check that both threads take part). */
  byWorker?: true;
}

export interface ParseFilesOptions {
  /** Force (true) or forbid (false) the worker; default: `useWorker` (size, CPUs). */
  parallel?: boolean;
  /**
   * Also work out each document's applied-hash (src/manifest/links.ts) while parsing, on the
   * parse's threads: for a load that is going to be applied, whose creates and updates record
   * it. A plan that only shows its changes does not pay for it (default false).
   */
  appliedHashes?: boolean;
  /**
   * At most this many files are parsed on the main thread before it waits for the worker (the
   * worker then takes the rest): tests use it to make sure both threads take part.
   */
  mainLimit?: number;
  /**
   * Called with each result as soon as it is made (on either thread), before the next file:
   * the parse cache writes it then, and the returned results leave out its `json`, so a large
   * load never holds the JSON of every file at once.
   */
  onResult?: (index: number, result: ParseResult) => void;
  /**
   * Called once before this thread starts its share of the parsing, right after the worker was
   * started (or at once when there is none): what the caller runs here overlaps the worker's
   * parsing, which takes more files meanwhile (the planner reads the live state here). Given
   * the bytes this call parses.
   */
  beforeOwnShare?: (bytesToParse: number) => void;
  /**
   * While this thread parses, let the event loop run at least every this many milliseconds
   * (between files). The planner sets it while a remote backend's live state is being read:
   * otherwise its responses wait, undecoded and with the next pages unrequested, until the
   * whole parse is done (docs/performance.md item 37).
   */
  yieldMs?: number;
}

/**
 * A function that, called between units of synchronous work, resolves at once or, when
 * `yieldMs` have passed since it last let the event loop run, after letting it run once
 * (setImmediate: pending I/O callbacks go first). Undefined `yieldMs`: never waits.
 */
export function eventLoopYielder(yieldMs: number | undefined): () => Promise<void> | undefined {
  if (yieldMs === undefined) return () => undefined;
  let last = performance.now();
  return () => {
    const now = performance.now();
    if (now - last < yieldMs) return undefined;
    return new Promise<void>((resolve) => {
      setImmediate(() => {
        last = performance.now();
        resolve();
      });
    });
  };
}

const workerUrl = new URL('./parse-worker.js', import.meta.url);

/**
 * Whether a load of `totalBytes` should use the worker: enough bytes and a second CPU, or
 * STIGMER_PARSE_THREADS=2 (whatever the size and CPUs: tests compare both paths on small
 * stacks); never with STIGMER_PARSE_THREADS=1.
 */
export function useWorker(
  totalBytes: number,
  env: Record<string, string | undefined> = process.env,
): boolean {
  const setting = env.STIGMER_PARSE_THREADS;
  if (setting === '1') return false;
  if (setting === '2') return true;
  return totalBytes >= PARALLEL_MIN_BYTES && availableParallelism() > 1;
}

/** Parses every job (same results as `parseManifestFile`), on two threads when it pays. */
export async function parseManifestFiles(
  jobs: readonly ParseJob[],
  options: ParseFilesOptions = {},
): Promise<ParseResult[]> {
  const results: Array<ParseResult | undefined> = new Array(jobs.length);
  const onResult = options.onResult;
  const deliver = (i: number, result: ParseResult): void => {
    if (onResult === undefined) {
      results[i] = result;
      return;
    }
    onResult(i, result);
    results[i] = { parsed: result.parsed };
  };
  const totalBytes = jobs.reduce((n, j) => n + j.bytes.length, 0);
  const parallel = options.parallel ?? useWorker(totalBytes);
  const appliedHashes = options.appliedHashes ?? false;
  const ownResult =
    totalBytes >= COMPACT_MIN_BYTES
      ? (parsed: ParsedFile) => packedResult(parsed, appliedHashes)
      : (parsed: ParsedFile) => ({ parsed });
  // Under a TypeScript runner the worker module is not compiled: parse on this thread.
  const pause = eventLoopYielder(options.yieldMs);
  if (!parallel || jobs.length < 2 || !existsSync(fileURLToPath(workerUrl))) {
    options.beforeOwnShare?.(totalBytes);
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i] as ParseJob;
      deliver(i, { parsed: parseManifestFile(j.path, j.bytes) });
      const paused = pause();
      if (paused) await paused;
    }
    return results as ParseResult[];
  }
  const next = new Int32Array(new SharedArrayBuffer(4));
  const worker = startWorker(jobs, next, deliver, appliedHashes);
  options.beforeOwnShare?.(totalBytes);
  const limit = options.mainLimit ?? jobs.length;
  let mine = 0;
  while (mine < limit) {
    const i = Atomics.add(next, 0, 1);
    if (i >= jobs.length) break;
    const job = jobs[i] as ParseJob;
    deliver(i, ownResult(parseManifestFile(job.path, job.bytes)));
    mine++;
    const paused = pause();
    if (paused) await paused;
  }
  // Files the main thread did not parse are the worker's (taken, or left when mainLimit ended
  // the loop): wait for it, unless it never took one (then it is not needed at all).
  if (mine < jobs.length) await worker.done;
  // Waited for: until the worker's thread has exited, its isolate keeps the shared bytes of
  // every job alive, and the synchronous rest of a plan would run with them (issue 17).
  await worker.stop();
  for (let i = 0; i < jobs.length; i++) {
    if (results[i] !== undefined) continue;
    const job = jobs[i] as ParseJob;
    deliver(i, ownResult(parseManifestFile(job.path, job.bytes)));
  }
  return results as ParseResult[];
}

/**
 * A large load's result in the form the worker's take: packed, then unpacked with lazy specs
 * and positions. A ParsedFile straight from the parser holds every spec as objects, whose
 * strings may be slices of the file's whole text; the packed form holds one string per spec.
 * The packed text is what the cache stores, so only its decoding is extra.
 */
function packedResult(parsed: ParsedFile, appliedHashes: boolean): ParseResult {
  const json = packParsedFile(parsed, { appliedHashes });
  return { parsed: unpackParsedFile(JSON.parse(json)) ?? parsed, json };
}

/** What the worker is given to parse: every job's bytes in shared buffers, so none is copied. */
export interface SharedJobs {
  paths: string[];
  /** The buffers that hold the jobs' UTF-8 bytes. */
  buffers: SharedArrayBuffer[];
  /** Job i is buffers[at[3i]] from byte at[3i + 1], at[3i + 2] bytes long. */
  at: Float64Array;
  /** Jobs whose contents were a string (stdin) rather than bytes: decoded back to a string. */
  strings: Uint8Array;
}

/**
 * The jobs as views of SharedArrayBuffers: structured cloning the jobs into the worker would
 * copy every byte (58 MB for 100,000 resources), and the clone's serialised form once more.
 * Bytes read into a ByteArena (src/manifest/read-file.ts) already are such views and are
 * passed as they are; the others (stdin, a file read otherwise) are copied into one more buffer.
 */
export function sharedJobs(jobs: readonly ParseJob[]): SharedJobs {
  const at = new Float64Array(jobs.length * 3);
  const strings = new Uint8Array(jobs.length);
  const buffers: SharedArrayBuffer[] = [];
  const indexOf = new Map<SharedArrayBuffer, number>();
  const copied: number[] = [];
  let copyBytes = 0;
  for (let i = 0; i < jobs.length; i++) {
    const bytes = (jobs[i] as ParseJob).bytes;
    if (typeof bytes !== 'string' && bytes.buffer instanceof SharedArrayBuffer) {
      let b = indexOf.get(bytes.buffer);
      if (b === undefined) {
        b = buffers.push(bytes.buffer) - 1;
        indexOf.set(bytes.buffer, b);
      }
      at.set([b, bytes.byteOffset, bytes.length], i * 3);
      continue;
    }
    copied.push(i);
    copyBytes += typeof bytes === 'string' ? Buffer.byteLength(bytes, 'utf8') : bytes.length;
  }
  if (copied.length > 0) {
    const shared = new SharedArrayBuffer(copyBytes);
    const view = Buffer.from(shared);
    const b = buffers.push(shared) - 1;
    let offset = 0;
    for (const i of copied) {
      const bytes = (jobs[i] as ParseJob).bytes;
      let n: number;
      if (typeof bytes === 'string') {
        n = view.write(bytes, offset, 'utf8');
        strings[i] = 1;
      } else n = bytes.copy(view, offset);
      at.set([b, offset, n], i * 3);
      offset += n;
    }
  }
  return { paths: jobs.map((j) => j.path), buffers, at, strings };
}

/** Job `index` of a SharedJobs, as parseManifestFile takes it (a view of the shared bytes). */
export function sharedJob(jobs: SharedJobs, index: number): ParseJob {
  const i = index * 3;
  const buffer = jobs.buffers[jobs.at[i] as number] as SharedArrayBuffer;
  const view = Buffer.from(buffer, jobs.at[i + 1] as number, jobs.at[i + 2] as number);
  return { path: jobs.paths[index] as string, bytes: jobs.strings[index] ? view.toString('utf8') : view };
}

/**
 * Starts the worker on the shared counter; its results land in `results` as they arrive.
 * `done` resolves when it has taken its last file, or failed (its missing files are then
 * parsed by the caller).
 */
function startWorker(
  jobs: readonly ParseJob[],
  next: Int32Array,
  deliver: (index: number, result: ParseResult) => void,
  appliedHashes: boolean,
): { done: Promise<void>; stop: () => Promise<void> } {
  let worker: Worker;
  try {
    worker = new Worker(workerUrl, { workerData: { ...sharedJobs(jobs), next, appliedHashes } });
  } catch {
    return { done: Promise.resolve(), stop: async () => {} };
  }
  // Cleared by `stop`: the worker's listeners share one closure context, which the Worker keeps
  // until its thread has exited, and the event loop sees that exit only after the synchronous
  // rest of a plan. Holding the results there kept every parse result and its JSON (about
  // 110 MB at 100,000 resources) alive through the whole plan.
  let sink: ((index: number, result: ParseResult) => void) | null = deliver;
  const done = new Promise<void>((resolve) => {
    worker.on('message', (message: { index: number; json: string } | { done: true }) => {
      if ('done' in message) {
        resolve();
        return;
      }
      if (sink === null) return;
      try {
        const parsed = unpackParsedFile(JSON.parse(message.json));
        if (parsed) sink(message.index, { parsed, json: message.json, byWorker: true });
      } catch {
        // Left undefined: parsed again on the main thread.
      }
    });
    worker.once('error', () => resolve());
    worker.once('exit', () => resolve());
  });
  return {
    done,
    stop: async () => {
      sink = null;
      worker.removeAllListeners('message');
      await worker.terminate().catch(() => {});
    },
  };
}
