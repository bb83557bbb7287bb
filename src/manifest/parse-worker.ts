/**
 * Worker thread of `parseManifestFiles`: runs the per-file stage on the files it is given and
 * posts back each ParsedFile as JSON text (cheaper to pass between threads than objects, and
 * the form the parse cache stores).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseManifestFile } from './parse.js';
import type { ParseJob } from './parse-pool.js';

const jobs = workerData as ParseJob[];
parentPort?.postMessage(jobs.map((job) => JSON.stringify(parseManifestFile(job.path, job.bytes))));
