/**
 * The no-op memo (docs/performance.md item 55): `stigmer plan` remembers its last no-op plan
 * of a manifest root, and gives it again, without decoding the parse cache, reading every row
 * or planning, when neither side can have changed:
 *
 * - the manifests: the same files with the same bytes (the parse cache's keys, which also cover
 *   the program version), the same stigmer.yaml project, the same problems found listing them,
 *   the same git top level (where `stigmer.ai/source` is recorded from), and the same flags;
 * - the backend: the same location, and the same `resourcesDigest`, a digest of every column of
 *   every stored resource however it was written (so SQL from outside counts too).
 *
 * Only a plan with nothing to do, no error and no input from outside the manifests is kept:
 * a Skill's `skillMdFile`, an Environment's `valueFrom` or secret (the environment, files and
 * the secret key are not in the key) make the plan run in full every time. The memo lives
 * beside the parse cache (`$STIGMER_HOME/cache/plan/`, one file per manifest root and working
 * directory) and obeys the same switch (STIGMER_NO_CACHE). A plan with `--out` always runs in
 * full: the file it saves needs every version the plan looked at.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Backend } from '../backend/types.js';
import { programVersion } from '../manifest/cache.js';
import { hasCachedLinks, needsResolution } from '../manifest/links.js';
import { readManifestSources } from '../manifest/sources.js';
import type { ParsedFile } from '../manifest/types.js';
import type { Plan } from '../plan/types.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from '../private-files.js';
import type { SecretKey } from '../secrets/key.js';
import { peekSpec } from '../stored-text.js';
import type { JsonObject } from '../types.js';
import {
  gitTopLevel,
  type ParsedSources,
  planManifests,
  prepareLoad,
  type ReconcileOptions,
} from './reconcile.js';

/** Bumped when the memo's layout or what its key covers changes. */
const MEMO_FORMAT = 1;

interface MemoFile {
  format: number;
  key: string;
  digest: string;
  plan: Plan;
}

/** What planWithNoopMemo returns: the plan, the key a full plan loaded, and whether it was the memo's. */
export interface MemoPlanResult {
  plan: Plan;
  secretKey: SecretKey | null;
  reused: boolean;
}

/**
 * `planManifests` for a plan that is shown and not saved, through the no-op memo (see above).
 * A memo given back has `observed` empty: it is for showing, never for a plan file.
 */
export async function planWithNoopMemo(backend: Backend, options: ReconcileOptions): Promise<MemoPlanResult> {
  const full = async (): Promise<MemoPlanResult> => {
    const result = await planManifests(backend, options);
    return { plan: result.plan, secretKey: result.secretKey, reused: false };
  };
  if (!backend.resourcesDigest || options.dir === undefined || (options.files?.length ?? 0) > 0)
    return full();
  const sources = await readManifestSources(options);
  const prepared = prepareLoad(sources, options, true);
  const keys = prepared.keys;
  if (!prepared.cache || !keys || sources.root === null || keys.some((k) => k === undefined)) {
    return planFull(backend, options, sources, prepared, null);
  }
  const key = memoKey([
    `stigmer-noop-memo ${MEMO_FORMAT}`,
    programVersion(),
    prepared.cache.scope,
    resolve(options.cwd ?? '.'),
    sources.root,
    sources.project ?? '\0',
    gitTopLevel(sources.root) ?? '\0',
    JSON.stringify(sources.diagnostics),
    JSON.stringify(backend.info),
    JSON.stringify([
      options.project ?? null,
      options.prune ?? true,
      options.allowEmpty ?? false,
      options.secrets?.allowPlaintextSecrets ?? false,
      options.secrets?.resealSecrets ?? false,
    ]),
    ...(keys as string[]).map((k, i) => `${sources.files[i]?.path}\0${k}`),
  ]);
  const path = join(prepared.cache.dir, '..', 'plan', `${hashHex(prepared.cache.scope).slice(0, 32)}.json`);
  const memo = readMemo(path);
  if (memo && memo.key === key && memo.digest === (await backend.resourcesDigest())) {
    return { plan: memo.plan, secretKey: null, reused: true };
  }
  return planFull(backend, options, sources, prepared, { path, key });
}

async function planFull(
  backend: Backend,
  options: ReconcileOptions,
  sources: Awaited<ReturnType<typeof readManifestSources>>,
  prepared: ReturnType<typeof prepareLoad>,
  memo: { path: string; key: string } | null,
): Promise<MemoPlanResult> {
  let digest: string | undefined;
  let eligible = false;
  const result = await planManifests(backend, options, {
    loaded: { sources, prepared },
    ...(memo
      ? {
          onDigest: (d: string) => {
            digest = d;
          },
          onParsed: (parsed: ParsedSources) => {
            eligible = memoEligible(parsed.files);
          },
        }
      : {}),
  });
  const { plan } = result;
  if (
    memo &&
    eligible &&
    digest !== undefined &&
    plan.changes.length === 0 &&
    !plan.diagnostics.some((d) => d.severity === 'error')
  ) {
    writeMemo(memo.path, { format: MEMO_FORMAT, key: memo.key, digest, plan: { ...plan, observed: [] } });
  }
  return { plan, secretKey: result.secretKey, reused: false };
}

/**
 * True when the plan of these files depends on nothing but them and the stored resources: no
 * Skill reads a `skillMdFile`, no Environment resolves a `valueFrom` or seals a secret.
 */
export function memoEligible(files: readonly ParsedFile[]): boolean {
  for (const f of files) {
    for (const { resource } of f.documents) {
      if (resource.kind !== 'Skill' && resource.kind !== 'Environment') continue;
      // Facts kept from the parse cache say the resource has nothing to read or resolve.
      if (hasCachedLinks(resource)) continue;
      const spec = peekSpec(resource) as JsonObject;
      if (resource.kind === 'Skill' ? typeof spec.skillMdFile === 'string' : needsResolution(spec))
        return false;
    }
  }
  return true;
}

function hashHex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function memoKey(parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const p of parts) hash.update(p).update('\n');
  return hash.digest('hex');
}

function readMemo(path: string): MemoFile | null {
  try {
    const memo = JSON.parse(readFileSync(path, 'utf8')) as MemoFile;
    if (memo.format !== MEMO_FORMAT || typeof memo.key !== 'string' || typeof memo.digest !== 'string')
      return null;
    if (typeof memo.plan !== 'object' || memo.plan === null || !Array.isArray(memo.plan.changes)) return null;
    if (memo.plan.changes.length !== 0) return null;
    return memo;
  } catch {
    return null;
  }
}

/** Replaces the memo (temporary file, then rename). Never throws: the memo only saves time. */
function writeMemo(path: string, memo: MemoFile): void {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    ensurePrivateDir(dirname(path), 'plan memo directory');
    writeFileSync(temp, JSON.stringify(memo), { mode: PRIVATE_FILE_MODE });
    renameSync(temp, path);
  } catch {
    try {
      rmSync(temp, { force: true });
    } catch {
      // Nothing to remove.
    }
  }
}
