/**
 * Worker thread of `parseManifestFiles`: takes the next file from the counter it shares with
 * the main thread until none is left, runs the per-file stage on it and posts the ParsedFile
 * back as its packed JSON text (src/manifest/packed.ts: cheaper to pass between threads than
 * objects, and the form the parse cache stores), then posts `{ done: true }`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { packParsedFile } from './packed.js';
import { parseManifestFile } from './parse.js';
import { type SharedJobs, sharedJob } from './parse-pool.js';

const { next, appliedHashes, ...jobs } = workerData as SharedJobs & {
  next: Int32Array;
  appliedHashes: boolean;
};
for (;;) {
  const index = Atomics.add(next, 0, 1);
  if (index >= jobs.paths.length) break;
  const job = sharedJob(jobs, index);
  const json = packParsedFile(parseManifestFile(job.path, job.bytes), { appliedHashes });
  parentPort?.postMessage({ index, json });
}
parentPort?.postMessage({ done: true });
