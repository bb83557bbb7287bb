/**
 * Watch mode's per-file cache (DESIGN.md §7: only changed files are re-read). It holds the
 * per-file stage's result (`ParsedFile`) of every manifest under the root, keyed by absolute
 * path, and `stigmer.yaml`'s project. A cycle refreshes only the paths that had events; the
 * cross-file stage and the plan then run on the cached set through the core functions.
 *
 * The rules for which files are manifests are the loader's (src/manifest/sources.ts): files
 * named *.yaml / *.yml anywhere under the root, skipping hidden entries and node_modules, with
 * stigmer.yaml at the root read for `project:` instead. The initial fill uses the loader itself.
 */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { parseWithCache } from '../core/reconcile.js';
import type { Diagnostic } from '../errors.js';
import {
  PROJECT_FILES,
  parseManifestFile,
  parseProjectConfig,
  readManifestSources,
} from '../manifest/index.js';
import { readFileLimited } from '../manifest/read-file.js';
import type { ParsedFile } from '../manifest/types.js';
import type { DesiredResource } from '../types.js';

const MANIFEST_FILE = /\.ya?ml$/i;
const EDITOR_TEMP_FILE = /(\.sw[a-p]|\.swx|~|\.tmp)$/i;

/** What the cross-file stage and the planner need, as `planParsed` takes it. */
export interface ParsedInput {
  root: string;
  project: string | null;
  files: ParsedFile[];
}

/** What one refresh found. Paths are as shown to the user (relative to cwd). */
export interface RefreshResult {
  /** Manifest files (and stigmer.yaml) re-read: added, changed or removed. */
  changed: string[];
  /** Of those, the files that no longer exist. */
  removed: string[];
  /** Other files a manifest depends on (skillMdFile, valueFrom.file) that had events. */
  included: string[];
}

/** Identity, size and times of a file, or 'absent'; any write changes it. */
function fileSignature(abs: string): string {
  try {
    const s = statSync(abs, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
  } catch {
    return 'absent';
  }
}

/**
 * Files a resource is built from besides its manifest, as written (relative to the manifest's
 * directory): a Skill's `skillMdFile`, an Environment entry's `valueFrom.file`.
 */
function includedFiles(resource: DesiredResource): string[] {
  if (resource.kind === 'Skill') {
    const file = resource.spec.skillMdFile;
    return typeof file === 'string' ? [file] : [];
  }
  if (resource.kind !== 'Environment') return [];
  const data = resource.spec.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return [];
  const files: string[] = [];
  for (const entry of Object.values(data)) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
    const from = entry.valueFrom;
    if (typeof from !== 'object' || from === null || Array.isArray(from)) continue;
    if (typeof from.file === 'string') files.push(from.file);
  }
  return files;
}

/** Path segments of `rel`, compared the way the loader's sorted walk orders files. */
function compareRelative(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * True for paths the watcher never needs to see: hidden entries (dot-files such as `.#x.yaml`
 * or `.x.yaml.swp`, and dot-directories such as `.git`), node_modules, and editors' temp and
 * backup files (`*.swp`, `*.swx`, `*~`, vim's `4913` probe). `path` is absolute or relative to
 * the cwd; entries outside `root` and the root itself are never ignored.
 */
export function isIgnoredPath(root: string, path: string): boolean {
  const rel = relative(root, resolve(path));
  if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return false;
  const segments = rel.split(sep);
  for (const s of segments) {
    if (s.startsWith('.') || s === 'node_modules') return true;
  }
  const base = segments[segments.length - 1]!;
  return base === '4913' || EDITOR_TEMP_FILE.test(base);
}

export class ManifestCache {
  readonly root: string;
  private readonly cwd: string;
  private readonly files = new Map<string, ParsedFile>();
  /** Sort keys of the cached files (path segments relative to the root). */
  private readonly segments = new Map<string, string[]>();
  private ordered: ParsedFile[] | undefined;
  private project: string | null = null;
  /** Diagnostics of stigmer.yaml, carried as a pseudo-file so that they block applying. */
  private projectFile: ParsedFile | undefined;
  /** Problems the initial listing found (symlinks leaving the root, unreadable directories). */
  private listingProblems: ParsedFile[] = [];
  /** Absolute path of an included file → the manifests that include it. */
  private includes = new Map<string, Set<string>>();
  /** What a file looked like on disk (`fileSignature`) when a refresh last read it. */
  private signatures = new Map<string, string>();
  /** Manifest → the files it includes (the reverse of `includes`). */
  private includedBy = new Map<string, string[]>();

  private constructor(root: string, cwd: string) {
    this.root = root;
    this.cwd = cwd;
  }

  /**
   * Reads and parses every manifest under `dir` with the loader, through the parse cache of
   * $STIGMER_HOME (`options.home`; the same entries `stigmer plan` uses), so a start over
   * unchanged files parses nothing.
   * @throws StigmerError('LOAD') when the directory does not exist.
   */
  static async load(
    dir: string,
    cwd: string = process.cwd(),
    options: { home?: string } = {},
  ): Promise<ManifestCache> {
    const absCwd = resolve(cwd);
    const sources = await readManifestSources({ dir, cwd: absCwd });
    const parsed = await parseWithCache(sources, {
      cwd: absCwd,
      ...(options.home !== undefined ? { secrets: { home: options.home } } : {}),
    });
    const cache = new ManifestCache(sources.root ?? resolve(absCwd, dir), absCwd);
    cache.project = sources.project;
    const projectDiagnostics: Diagnostic[] = [];
    const byFile = new Map<string, Diagnostic[]>();
    for (const d of sources.diagnostics) {
      if (cache.isProjectFile(resolve(absCwd, d.file))) projectDiagnostics.push(d);
      else byFile.set(d.file, [...(byFile.get(d.file) ?? []), d]);
    }
    if (projectDiagnostics.length > 0) {
      cache.projectFile = {
        file: projectDiagnostics[0]!.file,
        documents: [],
        diagnostics: projectDiagnostics,
      };
    }
    // An unreadable manifest is cached with its diagnostic, so that fixing it (an event) clears it.
    for (const [file, diagnostics] of byFile) {
      const abs = resolve(absCwd, file);
      if (cache.isManifestPath(abs)) cache.put(abs, { file, documents: [], diagnostics });
      else cache.listingProblems.push({ file, documents: [], diagnostics });
    }
    sources.files.forEach((source, i) => {
      if (source.absolutePath !== null) cache.put(source.absolutePath, parsed[i] as ParsedFile);
    });
    return cache;
  }

  /** `project:` from stigmer.yaml, if set and valid. */
  get projectName(): string | null {
    return this.project;
  }

  /** Number of manifest files cached. */
  get size(): number {
    return this.files.size;
  }

  /** The cached set, in the loader's order, for the cross-file stage. */
  input(): ParsedInput {
    this.ordered ??= [...this.files.keys()]
      .sort((a, b) => compareRelative(this.segments.get(a)!, this.segments.get(b)!))
      .map((abs) => this.files.get(abs)!);
    const extra = [...(this.projectFile ? [this.projectFile] : []), ...this.listingProblems];
    return {
      root: this.root,
      project: this.project,
      files: extra.length ? [...extra, ...this.ordered] : this.ordered,
    };
  }

  /**
   * True when an event on `path` (absolute) may change the result of a cycle: a manifest
   * file, stigmer.yaml at the root, a file a manifest includes, or a directory holding
   * cached manifests (removed or renamed as a whole).
   */
  isRelevant(path: string): boolean {
    const abs = resolve(path);
    if (this.isProjectFile(abs) || this.isManifestPath(abs) || this.includes.has(abs)) return true;
    const prefix = abs.endsWith(sep) ? abs : abs + sep;
    for (const key of this.files.keys()) if (key.startsWith(prefix)) return true;
    return false;
  }

  /**
   * Re-reads the given paths (absolute): a manifest that exists is parsed again, one that is
   * gone leaves the cache, a directory that is gone takes its manifests with it, stigmer.yaml
   * is read again for the project. Other paths are ignored.
   */
  refresh(paths: Iterable<string>): RefreshResult {
    const result: RefreshResult = { changed: [], removed: [], included: [] };
    const seen = new Map<string[], Set<string>>();
    const note = (list: string[], abs: string): void => {
      const shown = this.show(abs);
      const inList = seen.get(list) ?? new Set<string>();
      seen.set(list, inList);
      if (inList.has(shown)) return;
      inList.add(shown);
      list.push(shown);
    };
    for (const path of paths) {
      const abs = resolve(path);
      // Taken before reading: a write that lands after it makes `hasChangedSince` true.
      this.signatures.set(abs, fileSignature(abs));
      if (this.isProjectFile(abs)) {
        this.readProject();
        note(result.changed, abs);
        continue;
      }
      if (this.includes.has(abs)) note(result.included, abs);
      if (this.isManifestPath(abs)) {
        const outside = this.linkLeavesRoot(abs);
        const read: { bytes: Buffer } | { error: string } = outside
          ? { error: 'outside' }
          : readFileLimited(abs);
        if ('bytes' in read) {
          this.put(abs, parseManifestFile(this.show(abs), read.bytes));
          note(result.changed, abs);
          continue;
        }
        if (read.error !== 'ENOENT' && read.error !== 'ENOTDIR' && read.error !== 'is a directory') {
          // The loader's words for the same problems, so watch and plan report them alike.
          const problem = outside
            ? {
                message: 'symlink points outside the manifest directory; refusing to follow it',
                hint: 'copy the file into the manifest directory or pass it with -f',
              }
            : {
                message: `cannot read file: ${read.error}`,
                hint: 'check that the file exists and is readable',
              };
          this.put(abs, {
            file: this.show(abs),
            documents: [],
            diagnostics: [{ severity: 'error', file: this.show(abs), line: 1, column: 1, ...problem }],
          });
          note(result.changed, abs);
          continue;
        }
        if (this.drop(abs)) {
          note(result.changed, abs);
          note(result.removed, abs);
        }
      }
      // A directory removed or renamed: its manifests go with it (chokidar may not report each).
      if (!this.exists(abs)) {
        const prefix = abs + sep;
        for (const key of [...this.files.keys()]) {
          if (key.startsWith(prefix) && !this.exists(key) && this.drop(key)) {
            note(result.changed, key);
            note(result.removed, key);
          }
        }
      }
    }
    return result;
  }

  /**
   * True when `path` (absolute) differs on disk from when a refresh last read it, or was never
   * refreshed. The watcher asks this shortly after each event, because chokidar drops a
   * `change` that follows another within 50 ms (and a repeated `unlink` within 100 ms): the
   * last save of a burst would otherwise never be read.
   */
  hasChangedSince(path: string): boolean {
    const abs = resolve(path);
    const recorded = this.signatures.get(abs);
    return recorded === undefined || recorded !== fileSignature(abs);
  }

  private show(abs: string): string {
    return relative(this.cwd, abs) || '.';
  }

  /** True for a symlink whose target resolves outside the root (the loader refuses to follow those). */
  private linkLeavesRoot(abs: string): boolean {
    try {
      if (!lstatSync(abs).isSymbolicLink()) return false;
      const rel = relative(realpathSync(this.root), realpathSync(abs));
      return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
    } catch {
      return false;
    }
  }

  private exists(abs: string): boolean {
    try {
      statSync(abs);
      return true;
    } catch {
      return false;
    }
  }

  private isProjectFile(abs: string): boolean {
    return (
      dirname(abs) === this.root &&
      (PROJECT_FILES as readonly string[]).some((n) => join(this.root, n) === abs)
    );
  }

  /** A *.yaml / *.yml path under the root that the loader would read. */
  private isManifestPath(abs: string): boolean {
    if (!MANIFEST_FILE.test(abs) || this.isProjectFile(abs)) return false;
    const rel = relative(this.root, abs);
    if (rel === '' || rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) return false;
    return !isIgnoredPath(this.root, abs);
  }

  private put(abs: string, parsed: ParsedFile): void {
    if (!this.files.has(abs)) {
      this.segments.set(abs, relative(this.root, abs).split(sep));
      this.ordered = undefined;
    } else if (this.ordered) {
      const i = this.ordered.indexOf(this.files.get(abs)!);
      this.ordered = [...this.ordered];
      this.ordered[i] = parsed;
    }
    this.files.set(abs, parsed);
    this.trackIncludes(abs, parsed);
  }

  private drop(abs: string): boolean {
    if (!this.files.delete(abs)) return false;
    this.segments.delete(abs);
    this.ordered = undefined;
    this.trackIncludes(abs, undefined);
    return true;
  }

  /** Records the files a manifest includes (relative to the manifest's directory). */
  private trackIncludes(abs: string, parsed: ParsedFile | undefined): void {
    for (const target of this.includedBy.get(abs) ?? []) {
      const owners = this.includes.get(target);
      if (owners?.delete(abs) && owners.size === 0) this.includes.delete(target);
    }
    this.includedBy.delete(abs);
    const targets: string[] = [];
    for (const doc of parsed?.documents ?? []) {
      for (const file of includedFiles(doc.resource)) {
        const target = resolve(dirname(abs), file);
        const owners = this.includes.get(target) ?? new Set<string>();
        owners.add(abs);
        this.includes.set(target, owners);
        targets.push(target);
      }
    }
    if (targets.length > 0) this.includedBy.set(abs, targets);
  }

  private readProject(): void {
    this.project = null;
    this.projectFile = undefined;
    for (const name of PROJECT_FILES) {
      const abs = join(this.root, name);
      const read = readFileLimited(abs);
      if ('error' in read) {
        if (read.error === 'ENOENT') continue;
        this.projectFile = {
          file: this.show(abs),
          documents: [],
          diagnostics: [
            {
              severity: 'error',
              file: this.show(abs),
              line: 1,
              column: 1,
              message: `cannot read file: ${read.error}`,
              hint: 'check that the file exists and is readable',
            },
          ],
        };
        return;
      }
      const parsed = parseProjectConfig(this.show(abs), read.bytes);
      this.project = parsed.project;
      if (parsed.diagnostics.length > 0) {
        this.projectFile = { file: this.show(abs), documents: [], diagnostics: parsed.diagnostics };
      }
      return;
    }
  }
}
