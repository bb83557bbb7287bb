/**
 * Content-addressed cache of the per-file stage (performance issue): the `ParsedFile` of a
 * manifest file, stored as JSON under `$STIGMER_HOME/cache/parse/`, so that a file whose bytes
 * did not change is not parsed and schema-checked again.
 *
 * Safe to use because `parseManifestFile` is a pure function of (display path, bytes): files a
 * manifest includes (a Skill's `skillMdFile`, `valueFrom.file`) are read later, in the
 * cross-file stage, never here. The key is the sha256 of the cache format, the program
 * fingerprint (package version plus the code of the per-file stage), the display path and the
 * file's bytes, so a changed byte or a changed program is a miss. Every entry carries a
 * checksum of its key and body; an entry that fails it, or is not valid JSON, is parsed again
 * and rewritten. The cache never fails a command: a directory that cannot be read or written
 * is skipped silently.
 *
 * Entries are kept in one pack file per load scope (manifest root and working directory),
 * read once and rewritten atomically (temporary file, then rename) only when something
 * changed: on the benchmark machine 1,000 entry files cost about 600 ms to create against
 * about 20 ms for one pack of the same bytes (docs/performance.md).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../private-files.js';
import { packParsedFile, unpackParsedFile } from './packed.js';
import { parseManifestFile } from './parse.js';
import type { ParsedFile } from './types.js';

/** Bumped whenever the layout of a pack or of ParsedFile changes. */
export const CACHE_FORMAT_VERSION = 3;

/** Options of `openParseCache`. */
export interface ParseCacheOptions {
  /** Directory that holds the packs (created on the first write). */
  dir: string;
  /** Identifies the program that wrote an entry; entries of another program are never read. */
  programVersion: string;
  /**
   * What is being loaded (e.g. the manifest root and the working directory): one pack file per
   * scope, so a load reads and writes one file however many manifests it has.
   */
  scope: string;
}

/** What a cache did during one run (for tests and the benchmark). */
export interface ParseCacheStats {
  hits: number;
  misses: number;
  /** Entries that existed but failed the checksum or JSON check (they were parsed again). */
  corrupt: number;
  /** True once reading or writing the pack failed in a way that disables writing. */
  writeDisabled: boolean;
  /** True when `flush` wrote the pack. */
  written: boolean;
}

/**
 * A parse cache for one load: `parse` returns what `parseManifestFile` would, from the cache
 * when it can; `flush` then saves the entries of this load (and only those: entries of files
 * that changed or went away are dropped, so a pack never grows beyond its manifests).
 */
export interface ParseCache {
  parse(displayPath: string, bytes: Buffer | string): ParsedFile;
  /** The cached result for these bytes, or undefined (counted as a miss; `store` the parse). */
  lookup(displayPath: string, bytes: Buffer | string): ParsedFile | undefined;
  /** Records the result of a miss; `json` is its packed text (`packParsedFile`) when the caller has it. */
  store(displayPath: string, bytes: Buffer | string, parsed: ParsedFile, json?: string): void;
  /** Writes the pack if anything changed. Never throws. */
  flush(): void;
  readonly stats: ParseCacheStats;
}

/** An entry of the pack on disk: its checksum and where its JSON lies in the pack file. */
interface PackEntry {
  sum: string;
  /** Byte offset and length of the entry's JSON in the pack file. */
  offset: number;
  length: number;
}

/** An entry of this load: one in the pack, or a fresh parse whose JSON is made when written. */
type UsedEntry = PackEntry | { parsed: ParsedFile; json: string | undefined };

/** Entries are written in chunks of about this many characters (one write each). */
const WRITE_CHUNK = 1 << 20;
/** The pack is indexed by reading it in pieces of this many bytes. */
const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const SPACE = 0x20;
/** `<64 hex key> <64 hex checksum> `: the bytes of a line before its JSON. */
const LINE_PREFIX = 130;

/**
 * Opens the pack of `options.scope` in `options.dir`; nothing is read until the first lookup.
 *
 * A pack is a header line `stigmer-parse-pack <format> <program>` followed by one line per
 * entry: `<key> <sha256 of key and JSON> <packed ParsedFile JSON>` (src/manifest/packed.ts:
 * specs and positions as JSON texts, decoded when first read). A line that fails its checksum
 * or does not parse is a miss; a pack of another format or program is ignored as a whole.
 *
 * The pack is never held in memory: the first lookup reads it in 1 MB pieces to index where
 * each entry lies (key, checksum, offset, length), and each hit then reads its own bytes (issue
 * 17: a pack of 100,000 resources is about 110 MB, which one string held through a whole plan).
 */
export function openParseCache(options: ParseCacheOptions): ParseCache {
  const stats: ParseCacheStats = { hits: 0, misses: 0, corrupt: 0, writeDisabled: false, written: false };
  const header = `stigmer-parse-pack ${CACHE_FORMAT_VERSION} ${options.programVersion}`;
  const packPath = join(
    options.dir,
    `${createHash('sha256').update(options.scope).digest('hex').slice(0, 32)}.pack`,
  );
  let stored: Map<string, PackEntry> | null = null;
  /** The pack file the index points into, open from the first lookup to the end of `flush`. */
  let packFd: number | undefined;
  const used = new Map<string, UsedEntry>();
  /** Keys of misses, so `store` does not hash the same bytes again (same bytes object only). */
  const missed = new Map<string, { bytes: Buffer | string; key: string }>();

  const load = (): Map<string, PackEntry> => {
    if (stored) return stored;
    stored = new Map();
    try {
      packFd = openSync(packPath, 'r');
    } catch {
      return stored;
    }
    try {
      indexPack(packFd, header, stored);
    } catch {
      // An unreadable pack indexes what was read before the error; reads of it will fail as misses.
    }
    return stored;
  };

  /**
   * The bytes of an entry's JSON, when they can be read (and, with `verify`, pass the checksum:
   * a hit is checked when it is looked up, not again when `flush` copies it).
   */
  const readEntry = (key: string, entry: PackEntry, verify: boolean): Buffer | null => {
    if (packFd === undefined) return null;
    try {
      const bytes = Buffer.allocUnsafe(entry.length);
      for (let got = 0; got < entry.length; ) {
        const n = readSync(packFd, bytes, got, entry.length - got, entry.offset + got);
        if (n === 0) return null;
        got += n;
      }
      if (verify && createHash('sha256').update(key).update('\n').update(bytes).digest('hex') !== entry.sum)
        return null;
      return bytes;
    } catch {
      return null;
    }
  };

  const closePack = (): void => {
    if (packFd === undefined) return;
    try {
      closeSync(packFd);
    } catch {
      // Already closed.
    }
    packFd = undefined;
  };

  const cache: ParseCache = {
    stats,
    lookup(displayPath, bytes) {
      const key = entryKey(options.programVersion, displayPath, bytes);
      const entry = load().get(key);
      if (entry) {
        const json = readEntry(key, entry, true);
        const cached = json === null ? null : decodeEntry(displayPath, json.toString('utf8'));
        if (cached) {
          stats.hits++;
          used.set(key, entry);
          return cached;
        }
        stats.corrupt++;
      }
      stats.misses++;
      missed.set(displayPath, { bytes, key });
      return undefined;
    },
    store(displayPath, bytes, parsed, json) {
      // A plaintext secret (`value:` on a secret entry, --allow-plaintext-secrets) must not
      // outlive its manifest on disk: such a file is parsed again every time.
      if (holdsPlaintextSecret(parsed)) return;
      const miss = missed.get(displayPath);
      const key = miss?.bytes === bytes ? miss.key : entryKey(options.programVersion, displayPath, bytes);
      // The JSON (when the caller has none) and its checksum are made when the pack is written,
      // one entry at a time, so a load never holds the JSON of every parse at once.
      used.set(key, { parsed, json });
    },
    parse(displayPath, bytes) {
      const cached = cache.lookup(displayPath, bytes);
      if (cached) return cached;
      const parsed = parseManifestFile(displayPath, bytes);
      cache.store(displayPath, bytes, parsed);
      return parsed;
    },
    flush() {
      const before = load();
      const unchanged =
        stats.misses === 0 && before.size === used.size && [...used.keys()].every((k) => before.has(k));
      if (unchanged || stats.writeDisabled) return;
      const temp = `${packPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
      let fd: number | undefined;
      try {
        ensurePrivateDir(options.dir, 'parse cache directory');
        fd = openSync(temp, 'w', PRIVATE_FILE_MODE);
        // Streamed in chunks: the pack of 100,000 resources is about 110 MB, which one joined
        // string (and its encoded copy) would hold twice at the peak of a cold plan. Entries
        // that came from the pack are copied from it as bytes, one at a time.
        const written = new Map<string, PackEntry>();
        const headerBytes = Buffer.from(`${header}\n`, 'utf8');
        let offset = writeAllBytes(fd, headerBytes);
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        const push = (piece: Buffer): void => {
          pending.push(piece);
          pendingBytes += piece.length;
          offset += piece.length;
          if (pendingBytes >= WRITE_CHUNK) {
            writeAllBytes(fd as number, Buffer.concat(pending, pendingBytes));
            pending = [];
            pendingBytes = 0;
          }
        };
        for (const [key, entry] of used) {
          let sum: string;
          let json: Buffer;
          if ('parsed' in entry) {
            json = Buffer.from(entry.json ?? packParsedFile(entry.parsed), 'utf8');
            sum = createHash('sha256').update(key).update('\n').update(json).digest('hex');
          } else {
            const bytes = readEntry(key, entry, false);
            if (bytes === null) continue;
            json = bytes;
            sum = entry.sum;
          }
          push(Buffer.from(`${key} ${sum} `, 'latin1'));
          written.set(key, { sum, offset, length: json.length });
          push(json);
          push(NEWLINE_BYTES);
        }
        if (pendingBytes > 0) writeAllBytes(fd, Buffer.concat(pending, pendingBytes));
        closeSync(fd);
        fd = undefined;
        renameSync(temp, packPath);
        // From now on the index points into the new pack.
        closePack();
        stored = written;
        used.clear();
        for (const [key, entry] of written) used.set(key, entry);
        try {
          packFd = openSync(packPath, 'r');
        } catch {
          stored = new Map();
        }
        stats.written = true;
      } catch {
        stats.writeDisabled = true;
        try {
          if (fd !== undefined) closeSync(fd);
          rmSync(temp, { force: true });
        } catch {
          // Nothing was written where nothing can be removed.
        }
      }
    },
  };
  return cache;
}

const NEWLINE_BYTES = Buffer.from('\n');

/**
 * Reads the pack behind `fd` in pieces and records each well-formed entry line (key, checksum,
 * where its JSON lies) in `into`; nothing when the header is not `header`.
 */
function indexPack(fd: number, header: string, into: Map<string, PackEntry>): void {
  const chunk = Buffer.allocUnsafe(READ_CHUNK);
  /** Bytes of the current line read so far from earlier pieces: only its first LINE_PREFIX matter. */
  let carry = Buffer.alloc(0);
  let lineStart = 0;
  let position = 0;
  let sawHeader = false;
  const headerBytes = Buffer.from(header, 'utf8');
  const endLine = (prefix: Buffer, lineEnd: number): boolean => {
    // `prefix` holds the first bytes of the line (at least LINE_PREFIX of them when it is an entry).
    if (!sawHeader) {
      if (
        lineEnd - lineStart !== headerBytes.length ||
        !prefix.subarray(0, headerBytes.length).equals(headerBytes)
      )
        return false;
      sawHeader = true;
      return true;
    }
    if (lineEnd - lineStart > LINE_PREFIX && prefix[64] === SPACE && prefix[129] === SPACE) {
      into.set(prefix.toString('latin1', 0, 64), {
        sum: prefix.toString('latin1', 65, 129),
        offset: lineStart + LINE_PREFIX,
        length: lineEnd - lineStart - LINE_PREFIX,
      });
    }
    return true;
  };
  const keep = Math.max(LINE_PREFIX, headerBytes.length);
  for (;;) {
    const n = readSync(fd, chunk, 0, READ_CHUNK, position);
    if (n === 0) break;
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, from);
      if (nl < 0 || nl >= n) break;
      const lineEnd = position + nl;
      const prefix =
        carry.length > 0
          ? Buffer.concat([carry, chunk.subarray(from, Math.min(nl, from + keep))])
          : chunk.subarray(from, nl);
      if (!endLine(prefix, lineEnd)) return;
      carry = Buffer.alloc(0);
      from = nl + 1;
      lineStart = lineEnd + 1;
    }
    // The rest of this piece starts a line that ends in a later one.
    if (carry.length < keep)
      carry = Buffer.concat([carry, chunk.subarray(from, Math.min(n, from + keep - carry.length))]);
    position += n;
  }
  // A last line without a newline (a truncated pack) is not an entry: its JSON may be cut.
  if (position > lineStart && sawHeader) {
    // Kept only if complete JSON follows: the checksum decides when it is read.
    endLine(carry, position);
  }
}

/** Writes all of `bytes` at the file position of `fd`; returns its length. */
function writeAllBytes(fd: number, bytes: Buffer): number {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset);
  return bytes.length;
}

/** True when an Environment of the file has a secret entry with a plaintext `value`. */
export function holdsPlaintextSecret(parsed: ParsedFile): boolean {
  return parsed.documents.some(({ resource }) => {
    if (resource.kind !== 'Environment') return false;
    const data = resource.spec.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return false;
    return Object.values(data).some(
      (entry) =>
        typeof entry === 'object' &&
        entry !== null &&
        !Array.isArray(entry) &&
        entry.value !== undefined &&
        entry.isSecret !== undefined &&
        entry.isSecret !== false,
    );
  });
}

/** sha256 (hex) naming the entry of these bytes at this display path, for this program. */
export function entryKey(programVersion: string, displayPath: string, bytes: Buffer | string): string {
  return createHash('sha256')
    .update(`stigmer-parse-cache\0${CACHE_FORMAT_VERSION}\0${programVersion}\0${displayPath}\0`)
    .update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes)
    .digest('hex');
}

function decodeEntry(displayPath: string, json: string): ParsedFile | null {
  try {
    return unpackParsedFile(JSON.parse(json), displayPath);
  } catch {
    return null;
  }
}

let fingerprint: string | undefined;

/**
 * Version of the program as the cache sees it: the package version plus a hash of the code of
 * the per-file stage (this directory's modules, and the shared types and errors), so that a
 * rebuilt parser never reads entries of the old one even when the version number is unchanged.
 */
export function programVersion(): string {
  if (fingerprint !== undefined) return fingerprint;
  const here = dirname(fileURLToPath(import.meta.url));
  const hash = createHash('sha256');
  let version = 'unknown';
  try {
    const pkg = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    if (typeof pkg.version === 'string') version = pkg.version;
  } catch {
    // A missing package.json leaves the code hash as the only identity.
  }
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  const modules = readdirSync(here)
    .filter((f) => f.endsWith(ext) && !f.endsWith('.d.ts') && !f.includes('.test.'))
    .sort()
    .map((f): [string, string] => [`manifest/${f}`, join(here, f)]);
  for (const shared of ['types', 'errors']) modules.push([shared, join(here, '..', `${shared}${ext}`)]);
  for (const [label, file] of modules) {
    hash.update(`${label}\0`);
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update('missing');
    }
    hash.update('\0');
  }
  fingerprint = `${version}+${hash.digest('hex').slice(0, 16)}`;
  return fingerprint;
}

/**
 * The cache the commands use: a pack for `scope` in `<home>/cache/parse` for $STIGMER_HOME `home`, or null when
 * `STIGMER_NO_CACHE` is set to anything but "" or "0", or when `home` does not exist yet (a
 * `validate` before `init` leaves no directory behind).
 */
export function defaultParseCache(
  home: string,
  env: Record<string, string | undefined>,
  scope: string,
): ParseCache | null {
  const off = env.STIGMER_NO_CACHE;
  if (off !== undefined && off !== '' && off !== '0') return null;
  if (!existsSync(home)) return null;
  return openParseCache({ dir: join(home, 'cache', 'parse'), programVersion: programVersion(), scope });
}
