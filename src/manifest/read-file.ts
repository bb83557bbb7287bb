/**
 * Reading a file with the manifest size limit: at most MAX_FILE_BYTES + 1 bytes are read, so
 * an oversized (or endless, e.g. a FIFO) file is reported without being read whole.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { MAX_FILE_BYTES } from './parse.js';

export function readFileLimited(abs: string): { bytes: Buffer } | { error: string } {
  let fd: number | undefined;
  try {
    fd = openSync(abs, 'r');
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { error: 'is a directory' };
    if (stat.isFile() && stat.size <= MAX_FILE_BYTES) return { bytes: readFileSync(fd) };
    const chunks: Buffer[] = [];
    let total = 0;
    while (total <= MAX_FILE_BYTES) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, MAX_FILE_BYTES + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
    }
    return { bytes: Buffer.concat(chunks, total) };
  } catch (err) {
    return { error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
