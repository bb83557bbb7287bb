/**
 * Reading a file with the manifest size limit: at most MAX_FILE_BYTES + 1 bytes are read, so
 * an oversized (or endless, e.g. a FIFO) file is reported without being read whole.
 */
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { MAX_FILE_BYTES } from './parse.js';

/**
 * Where the files of one load are read to: large SharedArrayBuffers, each file a view of one
 * (issue 17, docs/performance.md item 33). The parse worker is given the buffers themselves,
 * so no file is copied to reach it; and the bytes of 100,000 resources (58 MB) are a few large
 * allocations, which go back to the system when the load drops them, instead of 10,000 small
 * ones that stay in the allocator's heap and in the process's resident memory.
 */
export class ByteArena {
  /** Size of each buffer (a file larger than that gets one of its own). */
  static readonly CHUNK_BYTES = 8 * 1024 * 1024;
  private chunk: SharedArrayBuffer | null = null;
  private used = 0;

  /** A view of `size` bytes that no other file's view shares. */
  take(size: number): Buffer {
    if (size > ByteArena.CHUNK_BYTES) return Buffer.from(new SharedArrayBuffer(size));
    if (this.chunk === null || this.used + size > ByteArena.CHUNK_BYTES) {
      // Pages of the buffer that are never written are never made resident.
      this.chunk = new SharedArrayBuffer(ByteArena.CHUNK_BYTES);
      this.used = 0;
    }
    const view = Buffer.from(this.chunk, this.used, size);
    this.used += size;
    return view;
  }
}

export function readFileLimited(abs: string, arena?: ByteArena): { bytes: Buffer } | { error: string } {
  let fd: number | undefined;
  try {
    fd = openSync(abs, 'r');
    const stat = fstatSync(fd);
    if (stat.isDirectory()) return { error: 'is a directory' };
    if (stat.isFile() && stat.size <= MAX_FILE_BYTES) {
      return { bytes: arena === undefined ? readFileSync(fd) : readInto(fd, arena.take(stat.size)) };
    }
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

/** Reads the file into `view` (its size when it was opened); shorter when it shrank since. */
function readInto(fd: number, view: Buffer): Buffer {
  let got = 0;
  while (got < view.length) {
    const n = readSync(fd, view, got, view.length - got, null);
    if (n === 0) break;
    got += n;
  }
  return got === view.length ? view : view.subarray(0, got);
}
