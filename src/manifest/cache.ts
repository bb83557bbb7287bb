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
 * and rewritten. Writes are atomic (temporary file, then rename). The cache never fails a
 * command: a directory that cannot be read or written is skipped silently.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseManifestFile } from './parse.js';
import type { ParsedFile } from './types.js';

/** Bumped whenever the layout of an entry or of ParsedFile changes. */
export const CACHE_FORMAT_VERSION = 1;

/** Options of `openParseCache`. */
export interface ParseCacheOptions {
  /** Directory that holds the entries (created on the first write). */
  dir: string;
  /** Identifies the program that wrote an entry; entries of another program are never read. */
  programVersion: string;
}

/** What a cache did during one run (for tests and the benchmark). */
export interface ParseCacheStats {
  hits: number;
  misses: number;
  /** Entries that existed but failed the checksum or JSON check (they were parsed again). */
  corrupt: number;
  /** True once a write failed; later misses are then not written. */
  writeDisabled: boolean;
}

/** A parse cache: `parse` returns what `parseManifestFile` would, from the cache when it can. */
export interface ParseCache {
  parse(displayPath: string, bytes: Buffer | string): ParsedFile;
  readonly stats: ParseCacheStats;
}

/** Opens a cache in `options.dir`. Nothing is touched on disk until the first lookup. */
export function openParseCache(options: ParseCacheOptions): ParseCache {
  const stats: ParseCacheStats = { hits: 0, misses: 0, corrupt: 0, writeDisabled: false };
  const createdDirs = new Set<string>();

  const write = (path: string, text: string): void => {
    if (stats.writeDisabled) return;
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const dir = dirname(path);
      if (!createdDirs.has(dir)) {
        mkdirSync(dir, { recursive: true });
        createdDirs.add(dir);
      }
      writeFileSync(temp, text);
      renameSync(temp, path);
    } catch {
      stats.writeDisabled = true;
      try {
        rmSync(temp, { force: true });
      } catch {
        // Nothing was written where nothing can be removed.
      }
    }
  };

  return {
    stats,
    parse(displayPath, bytes) {
      const key = entryKey(options.programVersion, displayPath, bytes);
      const path = join(options.dir, key.slice(0, 2), `${key}.json`);
      let text: string | null = null;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        text = null;
      }
      if (text !== null) {
        const cached = decodeEntry(key, displayPath, text);
        if (cached) {
          stats.hits++;
          return cached;
        }
        stats.corrupt++;
      }
      stats.misses++;
      const parsed = parseManifestFile(displayPath, bytes);
      write(path, encodeEntry(key, parsed));
      return parsed;
    },
  };
}

/** sha256 (hex) naming the entry of these bytes at this display path, for this program. */
export function entryKey(programVersion: string, displayPath: string, bytes: Buffer | string): string {
  return createHash('sha256')
    .update(`stigmer-parse-cache\0${CACHE_FORMAT_VERSION}\0${programVersion}\0${displayPath}\0`)
    .update(typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes)
    .digest('hex');
}

function checksum(key: string, body: string): string {
  return createHash('sha256').update(key).update('\n').update(body).digest('hex');
}

/** An entry is `<checksum of key and body>\n<ParsedFile JSON>`. */
function encodeEntry(key: string, parsed: ParsedFile): string {
  const body = JSON.stringify(parsed);
  return `${checksum(key, body)}\n${body}`;
}

function decodeEntry(key: string, displayPath: string, text: string): ParsedFile | null {
  const newline = text.indexOf('\n');
  if (newline !== 64) return null;
  const body = text.slice(newline + 1);
  if (text.slice(0, newline) !== checksum(key, body)) return null;
  try {
    const value = JSON.parse(body) as ParsedFile;
    if (
      typeof value !== 'object' ||
      value === null ||
      value.file !== displayPath ||
      !Array.isArray(value.documents) ||
      !Array.isArray(value.diagnostics)
    ) {
      return null;
    }
    return value;
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
 * The cache the commands use: `<home>/cache/parse` for $STIGMER_HOME `home`, or null when
 * `STIGMER_NO_CACHE` is set to anything but "" or "0", or when `home` does not exist yet (a
 * `validate` before `init` leaves no directory behind).
 */
export function defaultParseCache(home: string, env: Record<string, string | undefined>): ParseCache | null {
  const off = env.STIGMER_NO_CACHE;
  if (off !== undefined && off !== '' && off !== '0') return null;
  if (!existsSync(home)) return null;
  return openParseCache({ dir: join(home, 'cache', 'parse'), programVersion: programVersion() });
}
