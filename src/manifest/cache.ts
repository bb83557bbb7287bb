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
export const CACHE_FORMAT_VERSION = 5;

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
  /**
   * The cached result for these bytes, or undefined (counted as a miss; `store` the parse).
   * `key`, when given, is `keyOf(displayPath, bytes)` computed before.
   */
  lookup(displayPath: string, bytes: Buffer | string, key?: string): ParsedFile | undefined;
  /** The key the entry of these bytes has (entryKey for this cache's program). */
  keyOf(displayPath: string, bytes: Buffer | string): string;
  /** The directory the packs are in, and the scope of this cache's pack. */
  readonly dir: string;
  readonly scope: string;
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

/** Entries are written in chunks of about this many bytes (one write each). */
const WRITE_CHUNK = 1 << 20;
/** The pack is indexed by reading it in pieces of this many bytes. */
const READ_CHUNK = 1 << 20;
const NEWLINE = 0x0a;
const SPACE = 0x20;
/** `<64 hex key> <64 hex checksum> `: the bytes of a line before its JSON. */
const LINE_PREFIX = 130;

/** The new pack being written: a temporary file renamed over the pack by `flush`. */
interface PackWriter {
  fd: number;
  temp: string;
  /** Bytes written or pending so far (the offset of the next byte). */
  offset: number;
  pending: Buffer[];
  pendingBytes: number;
  /** The entries in the new pack. */
  written: Map<string, PackEntry>;
}

/**
 * Opens the pack of `options.scope` in `options.dir`; nothing is read until the first lookup.
 *
 * A pack is a header line `stigmer-parse-pack <format> <program>` followed by one line per
 * entry: `<key> <sha256 of key and JSON> <packed ParsedFile JSON>` (src/manifest/packed.ts:
 * specs and positions as JSON texts, decoded when first read). A line that fails its checksum
 * or does not parse is a miss; a pack of another format or program is ignored as a whole.
 *
 * Neither pack is ever held in memory (issue 17: the pack of 100,000 resources is about
 * 110 MB). The first lookup reads the old one in 1 MB pieces to index where each entry lies
 * (key, checksum, offset, length), and each hit then reads its own bytes. The new one is
 * written through: from the first miss on, a temporary file receives each entry as soon as it
 * is known (the hits so far, copied as bytes from the old pack, then every later hit and
 * stored parse), and `flush` renames it over the old one. A load without a miss writes
 * nothing unless entries must be dropped.
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
  /** Entries of this load found in the old pack, in load order, until a new pack is started. */
  const hits = new Map<string, PackEntry>();
  let writer: PackWriter | null = null;
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
   * The bytes of an entry's JSON in the old pack, when they can be read (and, with `verify`,
   * pass the checksum: a hit is checked when it is looked up, not again when it is copied).
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

  /** Gives up writing this load's pack (the old one stays): removes the temporary file. */
  const abandon = (): void => {
    stats.writeDisabled = true;
    if (!writer) return;
    const { fd, temp } = writer;
    writer = null;
    try {
      closeSync(fd);
    } catch {
      // Already closed.
    }
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing was written where nothing can be removed.
    }
  };

  const push = (w: PackWriter, piece: Buffer): void => {
    w.pending.push(piece);
    w.pendingBytes += piece.length;
    w.offset += piece.length;
    if (w.pendingBytes >= WRITE_CHUNK) drain(w);
  };
  const drain = (w: PackWriter): void => {
    if (w.pendingBytes === 0) return;
    writeAllBytes(
      w.fd,
      w.pending.length === 1 ? (w.pending[0] as Buffer) : Buffer.concat(w.pending, w.pendingBytes),
    );
    w.pending = [];
    w.pendingBytes = 0;
  };
  /** Appends one entry to the new pack. Never throws: a failure abandons the new pack. */
  const append = (key: string, sum: string, json: Buffer): void => {
    const w = writer;
    if (!w || w.written.has(key)) return;
    try {
      push(w, Buffer.from(`${key} ${sum} `, 'latin1'));
      w.written.set(key, { sum, offset: w.offset, length: json.length });
      push(w, json);
      push(w, NEWLINE_BYTES);
    } catch {
      abandon();
    }
  };
  const copyHit = (key: string, entry: PackEntry): void => {
    const bytes = readEntry(key, entry, false);
    if (bytes !== null) append(key, entry.sum, bytes);
  };
  /** Starts the new pack (once per load), with the hits found so far. False when it cannot. */
  const startWriter = (): boolean => {
    if (writer) return true;
    if (stats.writeDisabled) return false;
    const temp = `${packPath}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      ensurePrivateDir(options.dir, 'parse cache directory');
      removeStaleTemps(options.dir);
      const fd = openSync(temp, 'w', PRIVATE_FILE_MODE);
      writer = { fd, temp, offset: 0, pending: [], pendingBytes: 0, written: new Map() };
      push(writer, Buffer.from(`${header}\n`, 'utf8'));
    } catch {
      abandon();
      return false;
    }
    for (const [key, entry] of hits) copyHit(key, entry);
    hits.clear();
    return writer !== null;
  };

  const cache: ParseCache = {
    stats,
    dir: options.dir,
    scope: options.scope,
    keyOf(displayPath, bytes) {
      return entryKey(options.programVersion, displayPath, bytes);
    },
    lookup(displayPath, bytes, known) {
      const key = known ?? entryKey(options.programVersion, displayPath, bytes);
      const entry = load().get(key);
      if (entry) {
        const json = readEntry(key, entry, true);
        const cached = json === null ? null : decodeEntry(displayPath, json.toString('utf8'));
        if (cached) {
          stats.hits++;
          if (writer) append(key, entry.sum, json as Buffer);
          else hits.set(key, entry);
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
      // Dropped once used: the map would otherwise keep every missed file's bytes to the end.
      missed.delete(displayPath);
      const key = miss?.bytes === bytes ? miss.key : entryKey(options.programVersion, displayPath, bytes);
      if (!startWriter()) return;
      // Written now and not kept: a load never holds the JSON of every parse at once.
      const text = Buffer.from(json ?? packParsedFile(parsed), 'utf8');
      append(key, createHash('sha256').update(key).update('\n').update(text).digest('hex'), text);
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
      if (!writer) {
        // Only hits: the pack changes only when it holds entries this load did not use.
        const unchanged = before.size === hits.size && [...hits.keys()].every((k) => before.has(k));
        if (unchanged && stats.misses === 0) return;
        if (!startWriter()) return;
      }
      const w = writer as PackWriter | null;
      if (!w) return;
      try {
        drain(w);
        closeSync(w.fd);
        renameSync(w.temp, packPath);
      } catch {
        abandon();
        return;
      }
      writer = null;
      // From now on the index points into the new pack, and its entries are this load's hits.
      closePack();
      stored = w.written;
      hits.clear();
      for (const [key, entry] of w.written) hits.set(key, entry);
      try {
        packFd = openSync(packPath, 'r');
      } catch {
        stored = new Map();
        hits.clear();
      }
      stats.written = true;
    },
  };
  return cache;
}

/**
 * Removes temporary packs left by processes that no longer run (killed mid-load): their name
 * is `<pack>.<pid>.<random>.tmp`. Those of running processes are theirs to finish.
 */
function removeStaleTemps(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^[0-9a-f]{32}\.pack\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (!m) continue;
    const pid = Number(m[1]);
    if (pid === process.pid || processRuns(pid)) continue;
    try {
      rmSync(join(dir, name), { force: true });
    } catch {
      // Someone else removed it, or cannot: harmless.
    }
  }
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
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

/** The file of the CLI bundle that holds its program version (written by its build). */
export const PROGRAM_VERSION_FILE = 'program-version';

/**
 * Version of the program as the cache sees it: the package version plus a hash of the code of
 * the per-file stage (this directory's modules, the shared types and errors, and the plan modules
 * the packed applied-hash is computed with), so that a
 * rebuilt parser never reads entries of the old one even when the version number is unchanged.
 */
export function programVersion(): string {
  if (fingerprint !== undefined) return fingerprint;
  const here = dirname(fileURLToPath(import.meta.url));
  // The CLI's start-up bundle is stamped with the hash of all its code when it is built
  // (scripts/bundle-cli.mjs): one small read instead of hashing every chunk on every run.
  try {
    const stamped = readFileSync(join(here, PROGRAM_VERSION_FILE), 'utf8').trim();
    if (stamped !== '') {
      fingerprint = stamped;
      return fingerprint;
    }
  } catch {
    // Not the bundle: the compiled modules are hashed below.
  }
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
  // The applied-hash packed with each document (src/manifest/links.ts) is computed by these.
  for (const plan of ['view', 'hash', 'secrets'])
    modules.push([`plan/${plan}`, join(here, '..', 'plan', `${plan}${ext}`)]);
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
