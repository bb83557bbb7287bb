/**
 * The whole manifest stage in one call: read the sources, parse each file (per-file stage),
 * then check the set (cross-file stage). Watch mode and caches call the three steps
 * separately; commands call `loadManifests`.
 */
import { parseManifestFile } from './parse.js';
import { readManifestSources } from './sources.js';
import type { LiveNames, LoadOptions, ManifestSet } from './types.js';
import { validateManifestSet } from './validate-set.js';

export interface LoadManifestsOptions extends LoadOptions {
  /** Names in the backend that references may resolve to; omit for offline validation. */
  liveNames?: LiveNames;
}

/**
 * Loads and validates manifests. Throws StigmerError('LOAD') only when the directory or a
 * file given does not exist; every other problem is a diagnostic in the result, and a result
 * with any error diagnostic must not be planned.
 */
export async function loadManifests(options: LoadManifestsOptions): Promise<ManifestSet> {
  const sources = await readManifestSources(options);
  const parsed = sources.files.map((f) => parseManifestFile(f.path, f.bytes));
  return validateManifestSet(parsed, {
    root: sources.root,
    project: sources.project,
    ...(options.liveNames ? { liveNames: options.liveNames } : {}),
    ...(options.cwd ? { cwd: options.cwd } : {}),
    diagnostics: sources.diagnostics,
  });
}
