/**
 * The reconciler pipeline as one call for every adapter (commands, watch, Action):
 * load → validate (against manifests and live names) → plan. Applying is `applyPlan` in
 * src/apply. Nothing here prints; callers render the returned values.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { type Env, stigmerHome } from '../backend/config.js';
import { combineKindDigests } from '../backend/digest.js';
import type { Backend } from '../backend/types.js';
import { type Diagnostic, StigmerError, ValidationError } from '../errors.js';
import { LARGE_LOAD_BYTES, tuneHeapForLoad } from '../heap.js';
import { defaultParseCache, type ParseCache } from '../manifest/cache.js';
import { hasCachedLinks, needsResolution } from '../manifest/links.js';
import {
  eventLoopYielder,
  type ParseFilesOptions,
  type ParseResult,
  parseManifestFiles,
} from '../manifest/parse-pool.js';
import { readManifestSources } from '../manifest/sources.js';
import type {
  LoadOptions,
  ManifestSet,
  ManifestSource,
  ManifestSources,
  ParsedDocument,
  ParsedFile,
  RefPos,
} from '../manifest/types.js';
import { defineManifests, type ManifestDefinitions, validateManifestSet } from '../manifest/validate-set.js';
import { KindNameMap } from '../plan/kind-map.js';
import { PLAN_DIAGNOSTIC_FILE, planChanges } from '../plan/plan.js';
import type { Plan, PlanOptions } from '../plan/types.js';
import { resolveEnvironmentSecrets, type ValueFromPolicy } from '../secrets/environment.js';
import { loadSecretKey, SecretKey } from '../secrets/key.js';
import { secretKeyMismatch } from '../secrets/key-check.js';
import { secretHash } from '../secrets/seal.js';
import { peekSpec } from '../stored-text.js';
import {
  ANNOTATIONS,
  DECLARED_KINDS,
  type DeclaredKind,
  type DesiredResource,
  type StoredResource,
} from '../types.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface ReconcileOptions extends LoadOptions {
  /** --project; overrides stigmer.yaml and the directory name. */
  project?: string;
  prune?: boolean;
  allowEmpty?: boolean;
  /** Where secrets come from and how they are sealed (default: process env, $STIGMER_HOME). */
  secrets?: SecretOptions;
  /**
   * The plan is made to be applied (`stigmer apply`): the parse then also works out the
   * applied-hash of each document on its threads (ParseFilesOptions.appliedHashes).
   */
  toApply?: boolean;
  /** Passed to planChanges (PlanOptions.noopMemo): watch keeps one per session. */
  noopMemo?: PlanOptions['noopMemo'];
}

export interface SecretOptions {
  /** $STIGMER_HOME, where master.key lives. */
  home?: string;
  /** Variables `valueFrom.env` reads, and STIGMER_SECRET_KEY. */
  env?: Env;
  /** `--allow-plaintext-secrets`: accept a plaintext `value` on a secret entry. */
  allowPlaintextSecrets?: boolean;
  /**
   * `--reseal-secrets`: plan secrets sealed with another key as changed (sealed again under this
   * key: rotation) instead of refusing the plan.
   */
  resealSecrets?: boolean;
  /** Limits on what `valueFrom` may read (the Action's policy for pull requests). */
  valueFromPolicy?: ValueFromPolicy;
  /**
   * Loads the key secrets are sealed with, called only when the manifests hold one (default:
   * `loadSecretKey` from STIGMER_SECRET_KEY or $STIGMER_HOME/master.key, created on first use).
   */
  loadKey?: () => SecretKey;
}

export interface PlanResult {
  plan: Plan;
  manifests: ManifestSet;
  live: StoredResource[];
  /** The resources planned: `manifests.resources` with their secrets sealed. */
  desired: DesiredResource[];
  /** The secret key the plan compared secrets with (null: no secret in the manifests). */
  secretKey: SecretKey | null;
}

/**
 * Every declared resource in the backend, one bulk list per kind. Given the parsed manifests,
 * a backend that `sharesSpecTexts` gives each unchanged resource the manifest's own spec text
 * (BulkListOptions.expectedSpecText), so the two sets hold one copy of it.
 */
export async function readLiveState(
  backend: Backend,
  manifests?: readonly ParsedFile[] | ManifestDefinitions,
  onDigest?: (digest: string) => void,
): Promise<StoredResource[]> {
  // The digest of what was read (Backend.resourcesDigest), for the no-op memo.
  const digests = onDigest && backend.resourcesDigest ? new Map<DeclaredKind, string>() : null;
  const digestOf = (kind: DeclaredKind) =>
    digests ? { onDigest: (d: string) => void digests.set(kind, d) } : {};
  let lists: StoredResource[][];
  if (!backend.sharesSpecTexts || manifests === undefined) {
    lists = await Promise.all(DECLARED_KINDS.map((kind) => backend.listAllResources(kind, digestOf(kind))));
  } else {
    // The definitions validation makes anyway hold every accepted resource by (kind, name).
    const definitions = isDefinitions(manifests) ? manifests : defineManifests(manifests);
    lists = await Promise.all(
      DECLARED_KINDS.map((kind) =>
        backend.listAllResources(kind, {
          expectedSpecText: (name) => definitions.specText(kind, name),
          ...digestOf(kind),
        }),
      ),
    );
  }
  if (digests && onDigest && digests.size === DECLARED_KINDS.length)
    onDigest(combineKindDigests((kind) => digests.get(kind) as string));
  return lists.flat();
}

function isDefinitions(m: readonly ParsedFile[] | ManifestDefinitions): m is ManifestDefinitions {
  return !Array.isArray(m);
}

/** Index of live names per kind, for reference resolution. */
export function liveNameIndex(live: StoredResource[]): (kind: DeclaredKind) => ReadonlySet<string> {
  const byKind = new Map<DeclaredKind, Set<string>>();
  for (const r of live) {
    const set = byKind.get(r.kind);
    if (set) set.add(r.name);
    else byKind.set(r.kind, new Set([r.name]));
  }
  const empty: ReadonlySet<string> = new Set();
  return (kind) => byKind.get(kind) ?? empty;
}

/** The project of a load and how it was chosen. */
export interface ProjectChoice {
  name: string;
  /**
   * True when `--project` or `project:` in stigmer.yaml named it. A name derived from the
   * directory is shared by every repository whose manifests sit in a folder of that name
   * (`manifests`), so it never prunes (DESIGN.md §4.4).
   */
  explicit: boolean;
  /** For a derived name: the directory name it was made from. */
  derivedFrom?: string;
}

/**
 * The project that owns what these manifests apply: `--project`, else `project:` in
 * stigmer.yaml at the manifest root, else the root directory's name made into a DNS label.
 */
export function resolveProjectChoice(
  flag: string | undefined,
  manifests: Pick<ManifestSet, 'root' | 'project'>,
  options: LoadOptions,
): ProjectChoice {
  if (flag !== undefined) {
    if (!DNS_LABEL.test(flag)) {
      throw new StigmerError('USAGE', `--project "${flag}" is not a valid project name`, {
        hint: 'use a lowercase DNS label: letters, digits and "-", at most 63 characters',
      });
    }
    return { name: flag, explicit: true };
  }
  if (manifests.project) return { name: manifests.project, explicit: true };
  const dir = manifests.root ?? resolve(options.cwd ?? process.cwd());
  const base = basename(dir);
  const name = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  if (!name) {
    throw new StigmerError('USAGE', `cannot derive a project name from "${dir}"`, {
      hint: 'pass --project NAME or add `project: NAME` to stigmer.yaml',
    });
  }
  return { name, explicit: false, derivedFrom: base };
}

/** The project name alone (see resolveProjectChoice). */
export function resolveProject(
  flag: string | undefined,
  manifests: Pick<ManifestSet, 'root' | 'project'>,
  options: LoadOptions,
): string {
  return resolveProjectChoice(flag, manifests, options).name;
}

const SET_PROJECT_HINT =
  'add `project: NAME` to stigmer.yaml at the manifest root, or pass --project NAME, to turn prune on';

/**
 * The warning a plan under a derived project carries: prune is off (and how many resources it
 * keeps because of that), and the directory name the project was made from when it differs.
 */
export function derivedProjectWarning(
  choice: ProjectChoice,
  pruneRequested: boolean,
  kept: number,
): Diagnostic | null {
  if (choice.explicit) return null;
  const from =
    choice.derivedFrom !== undefined && choice.derivedFrom !== choice.name ? ` "${choice.derivedFrom}"` : '';
  const named = `the project is "${choice.name}", derived from the directory name${from}`;
  let message: string;
  if (pruneRequested) {
    message = `no project is set, so prune is off: ${named}, which other repositories may share`;
    if (kept > 0) {
      message += `; ${kept} resource${kept === 1 ? '' : 's'} of "${choice.name}" no longer in the manifests ${kept === 1 ? 'is' : 'are'} kept`;
    }
  } else if (from) {
    message = `${named}; other directories whose names normalise to it share it`;
  } else {
    return null;
  }
  return {
    severity: 'warning',
    file: PLAN_DIAGNOSTIC_FILE,
    line: 0,
    column: 0,
    message,
    hint: pruneRequested ? SET_PROJECT_HINT : 'add `project: NAME` to stigmer.yaml, or pass --project NAME',
  };
}

/** The git top level above `dir` (the nearest directory holding `.git`), or null. */
export function gitTopLevel(dir: string): string | null {
  for (let d = resolve(dir); ; ) {
    if (existsSync(join(d, '.git'))) return d;
    const parent = dirname(d);
    if (parent === d) return null;
    d = parent;
  }
}

/**
 * How `stigmer.ai/source` (and a plan's `source`) records where a resource was declared: its
 * path relative to the git top level of the manifest root, else to the manifest root (for `-f`
 * files: the git top level of the file's directory, else the working directory), then `:line`.
 * So the same manifests record the same source from a CI runner and a laptop, whatever the
 * working directory. Standard input stays `<stdin>`.
 */
export function sourceRecorder(
  root: string | null,
  cwd: string = process.cwd(),
): (source: DesiredResource['source']) => string {
  const base = resolve(cwd);
  const rootBase = root === null ? null : (gitTopLevel(root) ?? resolve(root));
  const tops = new Map<string, string>();
  const baseFor = (file: string): string => {
    if (rootBase !== null) return rootBase;
    const dir = dirname(file);
    let top = tops.get(dir);
    if (top === undefined) {
      top = gitTopLevel(dir) ?? base;
      tops.set(dir, top);
    }
    return top;
  };
  // Per file: every document of a file records the same path (10 per file in the benchmark,
  // and path.relative per resource was 0.17 s of an apply of 100,000).
  const recorded = new Map<string, string>();
  return (source) => {
    if (source.file === '<stdin>') return `${source.file}:${source.line}`;
    let path = recorded.get(source.file);
    if (path === undefined) {
      const file = resolve(base, source.file);
      path = relative(baseFor(file), file).split(sep).join('/');
      recorded.set(source.file, path);
    }
    return `${path}:${source.line}`;
  };
}

/** Reads and parses the manifest files (per-file stage); no backend needed. */
export interface ParsedSources {
  root: string | null;
  project: string | null;
  files: ParsedFile[];
  /** Problems found while listing the sources (symlinks, unreadable files, stigmer.yaml). */
  diagnostics?: Diagnostic[];
}

/**
 * Reads the sources and runs the per-file stage on each, through the parse cache under
 * $STIGMER_HOME/cache/parse (see parseWithCache).
 */
export async function parseSources(
  options: LoadOptions & { secrets?: SecretOptions },
  hooks: ParseHooks = {},
  loaded?: LoadedSources,
): Promise<ParsedSources> {
  const sources = loaded?.sources ?? (await readManifestSources(options));
  return {
    root: sources.root,
    project: sources.project,
    diagnostics: sources.diagnostics,
    files: await parseWithCache(sources, options, hooks, loaded?.prepared),
  };
}

/** Sources already read, with their parse cache (planManifests' caller made them). */
export interface LoadedSources {
  sources: ManifestSources;
  prepared: PreparedLoad;
}

/** What planManifests can be given, and tell, besides its options (the no-op memo uses them). */
export interface PlanTaps {
  loaded?: LoadedSources;
  /** Called with the digest of the live state read (Backend.resourcesDigest), when it has one. */
  onDigest?: (digest: string) => void;
  /** Called with the parsed files before anything plans them. */
  onParsed?: (parsed: ParsedSources) => void;
}

/** How a load parses: the parse pool's hooks, and whether a large load tunes the heap. */
export interface ParseHooks extends Pick<ParseFilesOptions, 'beforeOwnShare' | 'yieldMs' | 'appliedHashes'> {
  /**
   * Fix the old generation's growth for a large load (src/heap.ts; default true). A plan
   * against a remote backend leaves V8's own choice: there the setting kept no memory and
   * cost time (docs/performance.md item 43).
   */
  tuneHeap?: boolean;
}

/** The parse cache of a load, and (when asked for) the cache key of each of its files. */
export interface PreparedLoad {
  cache: ParseCache | null;
  /** keys[i]: the cache key of sources.files[i] (undefined for standard input). */
  keys?: Array<string | undefined>;
}

/**
 * Opens the parse cache a load of `sources` uses: one pack per working directory and manifest
 * root (or list of files). With `withKeys`, also works out each file's cache key, which the
 * lookups then use (the no-op memo digests the same keys).
 */
export function prepareLoad(
  sources: ManifestSources,
  options: { cwd?: string; files?: string[]; secrets?: SecretOptions },
  withKeys = false,
): PreparedLoad {
  const scope = `${resolve(options.cwd ?? '.')}\0${sources.root ?? JSON.stringify(options.files ?? [])}`;
  const cache = defaultParseCache(options.secrets?.home ?? stigmerHome(), process.env, scope);
  if (!withKeys || !cache) return { cache };
  return {
    cache,
    keys: sources.files.map((f) => (f.absolutePath === null ? undefined : cache.keyOf(f.path, f.bytes))),
  };
}

/**
 * The per-file stage of every source, in order, through the parse cache under
 * $STIGMER_HOME/cache/parse (see defaultParseCache; stdin is never cached): files whose bytes,
 * path and program version were parsed before are not parsed again. The others go through
 * parseManifestFiles (shared with a worker thread when they are many) and are stored.
 * Consumes `sources`: each file's bytes are dropped (set to '') once it is parsed or found in
 * the cache, so that 100,000 resources' 58 MB of bytes are not held through the whole load.
 */
export async function parseWithCache(
  sources: ManifestSources,
  options: { cwd?: string; files?: string[]; secrets?: SecretOptions },
  hooks: ParseHooks = {},
  prepared: PreparedLoad = prepareLoad(sources, options),
): Promise<ParsedFile[]> {
  const { cache, keys } = prepared;
  const pause = eventLoopYielder(hooks.yieldMs);
  const files: Array<ParsedFile | undefined> = [];
  for (let i = 0; i < sources.files.length; i++) {
    const f = sources.files[i] as ManifestSource;
    const hit = cache && f.absolutePath !== null ? cache.lookup(f.path, f.bytes, keys?.[i]) : undefined;
    if (hit) f.bytes = '';
    files.push(hit);
    const paused = pause();
    if (paused) await paused;
  }
  const misses = sources.files.filter((_, i) => files[i] === undefined);
  // Only what is parsed counts (docs/performance.md item 46): the tuning keeps the parse's
  // peak down, while a load from the cache holds less and ran about 7% slower tuned.
  if (hooks.tuneHeap !== false) tuneHeapForLoad(misses.reduce((n, f) => n + f.bytes.length, 0));
  // Each parse is stored as soon as it is made: the cache writes it through to the new pack,
  // so the JSON of every file is never held at once (issue 17).
  const parsed = await parseManifestFiles(misses, {
    ...hooks,
    onResult: (m: number, result: ParseResult) => {
      const source = misses[m] as ManifestSource;
      if (cache && source.absolutePath !== null)
        cache.store(source.path, source.bytes, result.parsed, result.json);
      // Not read again: a large load then does not hold every file's bytes to its end.
      source.bytes = '';
    },
  });
  for (let i = 0, m = 0; i < files.length; i++) {
    if (files[i] === undefined) files[i] = (parsed[m++] as ParseResult).parsed;
  }
  cache?.flush();
  return files as ParsedFile[];
}

/**
 * Resolves `valueFrom` of Environment data and seals every secret (AES-256-GCM, keyed hash),
 * so that nothing downstream (plan, plan files, backend) ever holds a plaintext secret.
 * The key is loaded only when a secret exists. Problems become diagnostics at the document.
 */
export function sealDesiredSecrets(
  resources: DesiredResource[],
  options: SecretOptions & {
    cwd?: string;
    /** Positions of a resource's values (ParsedDocument.positions), to report at the entry's line. */
    positionsOf?: (resource: DesiredResource) => Record<string, RefPos> | undefined;
  },
): { resources: DesiredResource[]; diagnostics: Diagnostic[]; key: SecretKey | null } {
  const env = options.env ?? process.env;
  let key: SecretKey | null = null;
  // The key is loaded when the first value is sealed. When it cannot be, resolution goes on
  // with a throw-away key (its seals are dropped) so that every problem of the manifests is
  // still reported at its file:line; the key's own error comes when they are all fixed.
  let keyError: unknown;
  let throwaway: SecretKey | null = null;
  const getKey = (): SecretKey => {
    if (key) return key;
    if (keyError === undefined) {
      try {
        key = options.loadKey
          ? options.loadKey()
          : loadSecretKey({ home: options.home ?? stigmerHome(env), env });
        return key;
      } catch (err) {
        keyError = err;
      }
    }
    throwaway ??= SecretKey.fromBytes(randomBytes(32));
    return throwaway;
  };
  const diagnostics: Diagnostic[] = [];
  const out = resources.map((r) => {
    // Links are kept only for an Environment with nothing to resolve (src/manifest/links.ts).
    if (r.kind !== 'Environment' || hasCachedLinks(r) || !needsResolution(peekSpec(r))) return r;
    const result = resolveEnvironmentSecrets(
      r.spec,
      { name: r.name },
      {
        env,
        baseDir:
          r.source.file === '<stdin>'
            ? resolve(options.cwd ?? '.')
            : dirname(resolve(options.cwd ?? '.', r.source.file)),
        get key() {
          return getKey();
        },
        allowPlaintextSecrets: options.allowPlaintextSecrets ?? false,
        ...(options.valueFromPolicy ? { policy: options.valueFromPolicy } : {}),
      },
    );
    const positions = options.positionsOf?.(r);
    const at = (severity: Diagnostic['severity'], e: { message: string; hint: string; path: string }) => {
      const pos = positions?.[e.path] ?? r.source;
      diagnostics.push({
        severity,
        file: r.source.file,
        line: pos.line,
        column: pos.column,
        message: e.message,
        hint: e.hint,
        path: e.path,
      });
    };
    for (const e of result.errors) at('error', e);
    for (const w of result.warnings) at('warning', w);
    return { ...r, spec: result.spec };
  });
  if (keyError !== undefined) {
    if (!diagnostics.some((d) => d.severity === 'error')) throw keyError;
    // Sealed with the throw-away key: callers plan nothing when there are errors.
    return { resources: out, diagnostics, key: null };
  }
  return { resources: out, diagnostics, key };
}

/** The planner's keyed hash of secret values (PlanOptions.secretHash) under `key`. */
export function secretHasher(key: SecretKey): NonNullable<PlanOptions['secretHash']> {
  return (kind, name, k, v) => secretHash(key, { kind, name, key: k }, v);
}

/** Throws ValidationError when the set has any error diagnostic. */
export function assertValid(manifests: ManifestSet): void {
  if (manifests.diagnostics.some((d) => d.severity === 'error')) {
    throw new ValidationError(manifests.diagnostics);
  }
}

/**
 * How often the parse lets a remote backend's responses in (ms): often enough that the next
 * page is requested soon after one arrives, seldom enough to cost nothing measurable.
 */
const REMOTE_YIELD_MS = 10;

/** load → validate → plan against the backend's live state. Throws ValidationError on bad input. */
export async function planManifests(
  backend: Backend,
  options: ReconcileOptions,
  taps: PlanTaps = {},
): Promise<PlanResult> {
  // A remote backend's live state is read from the start, while this thread reads and parses
  // the manifests. The local backend's is read while the parse worker starts on a small load (it
  // takes more files meanwhile), and after the parse when that is large or when nothing is
  // parsed (all from the cache): then the manifests and the live state share one copy of each
  // spec text (docs/performance.md item 32). Errors of the read still come after the
  // manifests' own.
  let live: Promise<StoredResource[]> | undefined;
  const readLive = (files?: ManifestDefinitions): Promise<StoredResource[]> => {
    if (live === undefined) {
      live = readLiveState(backend, files, taps.onDigest);
      live.catch(() => {});
    }
    return live;
  };
  const early = (bytesToParse: number): void => {
    if (bytesToParse > 0 && bytesToParse < LARGE_LOAD_BYTES) void readLive();
  };
  // A backend that does not share spec texts is remote (cloud): its calls go out before the
  // manifests are even read, and this thread lets their responses in while it parses or reads
  // the parse cache, so the server's and the wire's work overlaps ours (item 37).
  const remote = !backend.sharesSpecTexts;
  if (remote) void readLive();
  const parsed = await parseSources(
    options,
    {
      beforeOwnShare: early,
      ...(options.toApply ? { appliedHashes: true } : {}),
      ...(remote ? { yieldMs: REMOTE_YIELD_MS, tuneHeap: false } : {}),
    },
    taps.loaded,
  );
  taps.onParsed?.(parsed);
  // Made before the live read, which compares stored specs with their texts (item 51).
  const definitions = defineManifests(parsed.files);
  return planParsed(backend, parsed, await readLive(definitions), options, definitions);
}

/**
 * Reads the live state for parsed sources and plans them (planManifests without its overlap
 * of parsing and reading): for adapters that parse first and decide what to do between (the
 * Action).
 */
export async function planSources(
  backend: Backend,
  parsed: ParsedSources,
  options: ReconcileOptions,
): Promise<PlanResult> {
  const definitions = defineManifests(parsed.files);
  return planParsed(backend, parsed, await readLiveState(backend, definitions), options, definitions);
}

/** The part of planManifests after parsing; watch mode calls it with its per-file cache. */
export function planParsed(
  backend: Backend,
  parsed: ParsedSources,
  live: StoredResource[],
  options: ReconcileOptions,
  definitions: ManifestDefinitions = defineManifests(parsed.files),
): PlanResult {
  const manifests = validateManifestSet(
    parsed.files,
    {
      root: parsed.root,
      project: parsed.project,
      liveNames: liveNameIndex(live),
      ...(parsed.diagnostics ? { diagnostics: parsed.diagnostics } : {}),
      ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    },
    definitions,
  );
  assertValid(manifests);
  const choice = resolveProjectChoice(options.project, manifests, options);
  const project = choice.name;
  const pruneRequested = options.prune ?? true;
  // (kind, name) → document, without a `Kind/name` string per document; made only when an
  // Environment's secret needs its positions (most plans never do).
  let documents: KindNameMap<ParsedDocument> | undefined;
  const positionsOf = (r: DesiredResource) => {
    if (documents === undefined) {
      documents = new KindNameMap<ParsedDocument>();
      for (const f of parsed.files) {
        for (const d of f.documents) documents.set(d.resource.kind, d.resource.name, d);
      }
    }
    return documents.get(r.kind, r.name)?.positions;
  };
  const sealed = sealDesiredSecrets(manifests.resources, {
    ...options.secrets,
    ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
    positionsOf,
  });
  if (sealed.diagnostics.some((d) => d.severity === 'error'))
    throw new ValidationError([...manifests.diagnostics, ...sealed.diagnostics]);
  const key = sealed.key;
  if (key && !options.secrets?.resealSecrets) {
    const byName = new Map(live.filter((r) => r.kind === 'Environment').map((r) => [r.name, r]));
    const mismatch = secretKeyMismatch(sealed.resources, (_, name) => byName.get(name), key);
    if (mismatch) throw mismatch;
  }
  const plan = planChanges(sealed.resources, live, {
    project,
    backend: backend.info,
    prune: pruneRequested && choice.explicit,
    allowEmpty: options.allowEmpty ?? false,
    recordSource: sourceRecorder(parsed.root, options.cwd),
    ...(options.noopMemo ? { noopMemo: options.noopMemo } : {}),
    ...(key ? { secretHash: secretHasher(key) } : {}),
  });
  // Warnings (e.g. an optional secret source that is absent) travel with the plan.
  const warnings = [...manifests.diagnostics, ...sealed.diagnostics].filter((d) => d.severity === 'warning');
  const derived = derivedProjectWarning(
    choice,
    pruneRequested,
    choice.explicit ? 0 : countUndeclared(sealed.resources, live, project),
  );
  if (derived) warnings.push(derived);
  if (warnings.length > 0) plan.diagnostics = [...warnings, ...plan.diagnostics];
  return { plan, manifests, live, desired: sealed.resources, secretKey: key };
}

/** Live resources of `project` that the manifests no longer declare (what a prune would delete). */
function countUndeclared(desired: DesiredResource[], live: StoredResource[], project: string): number {
  const declared = new Set(desired.map((d) => `${d.kind}/${d.name}`));
  let n = 0;
  for (const l of live) {
    if (l.annotations[ANNOTATIONS.project] === project && !declared.has(`${l.kind}/${l.name}`)) n++;
  }
  return n;
}
