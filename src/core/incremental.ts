/**
 * Incremental planning for callers that plan the same directory again and again (watch mode):
 * after an edit, only what the edit touched is validated and planned, so a cycle costs the
 * same at 10,000 resources as at 100.
 *
 * The planner keeps the state of the last plan that was *settled* — applied, or found to have
 * no changes — so that at that moment every desired resource matched the live state. A new
 * plan can then be made from the difference alone, when the difference is one the settled
 * state still answers for:
 *
 * - the same files, in the same order (unchanged files are the same `ParsedFile` objects);
 * - each changed file declares the same (kind, name)s as before, in the same order, and has no
 *   error of its own — so the set of names, and with it every other resource's references,
 *   duplicates and the prune set, are unchanged;
 * - the live state is the same `epoch` (no outside write forced a full read), and the only
 *   writes since are this session's creates and updates of desired resources;
 * - the project, the root and stigmer.yaml are unchanged.
 *
 * Then the documents of the changed files go through the same per-document checks, sealing and
 * per-resource planning as a full plan (`checkDocument`, `sealDesiredSecrets`,
 * `planResource`), together with the desired resources whose live copy this session rewrote;
 * everything else is a no-op. In every other case, and whenever that path finds a problem
 * (which the full plan reports with its context), the full pipeline (`planParsed`) runs and
 * its result becomes the new state once settled. The property test in incremental.test.ts
 * checks that both paths give the same plan.
 */

import { resolve } from 'node:path';
import type { Backend } from '../backend/types.js';
import type { Diagnostic } from '../errors.js';
import type { LiveNames, ParsedDocument, ParsedFile } from '../manifest/types.js';
import { checkDocument, type DocumentCheckContext } from '../manifest/validate-set.js';
import { withUsedBy } from '../plan/blast-radius.js';
import { compareKindName } from '../plan/kind-map.js';
import { orderByReferences, resourceKey } from '../plan/order.js';
import { type Candidate, planResource } from '../plan/plan.js';
import type { Plan, PlanOptions } from '../plan/types.js';
import type { SecretKey } from '../secrets/key.js';
import { secretKeyMismatch } from '../secrets/key-check.js';
import type { DeclaredKind, DesiredResource, StoredResource } from '../types.js';
import {
  type ParsedSources,
  planParsed,
  type ReconcileOptions,
  sealDesiredSecrets,
  secretHasher,
  sourceRecorder,
} from './reconcile.js';

/** A write this session made to the live state since the view's epoch began. */
export interface LiveChange {
  /** `Kind/name`. */
  key: string;
  change: 'added' | 'updated' | 'removed';
}

/** The live state as kept by a caller between plans (see src/watch/live.ts). */
export interface LiveView {
  /** Every declared live resource by `Kind/name`. */
  readonly byKey: ReadonlyMap<string, StoredResource>;
  /** A new number whenever the map was read in full (anything may have changed). */
  readonly epoch: number;
  /** This session's writes since the epoch began, in order. */
  readonly log: readonly LiveChange[];
}

export interface IncrementalPlanResult {
  plan: Plan;
  /**
   * Diagnostics of the input: every file's for a full plan, the changed files' for an
   * incremental one (a plan that goes through has warnings at most).
   */
  diagnostics: Diagnostic[];
  /** How the plan was made. */
  mode: 'full' | 'incremental';
}

/** What a file contributed to a settled plan. */
interface FileState {
  /** `Kind/name` of each document, in order. */
  keys: string[];
  /** The planned resource of each document (validated, secrets sealed). */
  resources: DesiredResource[];
}

interface SettledState {
  root: string | null;
  inputProject: string | null;
  project: string;
  files: ParsedFile[];
  perFile: FileState[];
  byKey: Map<string, DesiredResource>;
  names: Map<DeclaredKind, Set<string>>;
  liveNames: LiveNames;
  epoch: number;
  logLength: number;
  secretKey: SecretKey | null;
}

/** What settling the last plan changes in the settled state. */
type Pending =
  | { mode: 'full'; state: SettledState }
  | {
      mode: 'incremental';
      files: Array<{ index: number; file: ParsedFile; state: FileState }>;
      logLength: number;
      secretKey: SecretKey | null;
    };

export class IncrementalPlanner {
  private readonly backend: Backend;
  private readonly options: ReconcileOptions;
  private settled: SettledState | null = null;
  private pending: Pending | null = null;
  /** Plans made by each path (for tests and diagnostics). */
  readonly counts = { full: 0, incremental: 0 };

  /** `options` as for planParsed; they stay the same for every plan of the session. */
  constructor(backend: Backend, options: ReconcileOptions) {
    this.backend = backend;
    this.options = options;
  }

  /**
   * Plans `input` against `live`: incrementally from the settled state when it answers for the
   * difference, else through planParsed.
   * @throws ValidationError on bad input (as planParsed).
   */
  plan(input: ParsedSources, live: LiveView): IncrementalPlanResult {
    this.pending = null;
    const incremental = this.tryIncremental(input, live);
    if (incremental) {
      this.counts.incremental++;
      return incremental;
    }
    this.counts.full++;
    const result = planParsed(this.backend, input, [...live.byKey.values()], this.options);
    this.pending = { mode: 'full', state: settledStateOf(input, live, result) };
    return { plan: result.plan, diagnostics: result.manifests.diagnostics, mode: 'full' };
  }

  /**
   * The last plan was applied, or had no changes: the live state now matches it, and the
   * next plan may start from it.
   */
  settle(): void {
    const pending = this.pending;
    this.pending = null;
    if (pending === null) return;
    if (pending.mode === 'full') {
      this.settled = pending.state;
      return;
    }
    const s = this.settled;
    if (s === null) return;
    for (const { index, file, state } of pending.files) {
      s.files[index] = file;
      s.perFile[index] = state;
      for (let i = 0; i < state.keys.length; i++) {
        s.byKey.set(state.keys[i] as string, state.resources[i] as DesiredResource);
      }
    }
    s.logLength = pending.logLength;
    s.secretKey ??= pending.secretKey;
  }

  /** Forgets the settled state (something outside the inputs changed): the next plan is full. */
  invalidate(): void {
    this.settled = null;
    this.pending = null;
  }

  private tryIncremental(input: ParsedSources, live: LiveView): IncrementalPlanResult | null {
    const s = this.settled;
    if (s === null || s.byKey.size === 0) return null;
    if (input.root !== s.root || input.project !== s.inputProject) return null;
    if ((input.diagnostics?.length ?? 0) > 0) return null;
    if (live.epoch !== s.epoch || input.files.length !== s.files.length) return null;

    // This session's writes since the settled plan: creates and updates of desired resources
    // only. (A created name was already resolved as a manifest name; the live names only
    // answer references the manifests do not.)
    const rewritten = new Set<string>();
    for (let i = s.logLength; i < live.log.length; i++) {
      const entry = live.log[i] as LiveChange;
      if (entry.change === 'removed' || !s.byKey.has(entry.key)) return null;
      rewritten.add(entry.key);
    }

    // Files that changed, each declaring the same names as before and free of errors.
    const changed: Array<{ index: number; file: ParsedFile }> = [];
    for (let i = 0; i < input.files.length; i++) {
      const file = input.files[i] as ParsedFile;
      const before = s.files[i] as ParsedFile;
      if (file === before) continue;
      if (file.file !== before.file || (file.invalidDocuments?.length ?? 0) > 0) return null;
      if (file.diagnostics.some((d) => d.severity === 'error')) return null;
      const keys = (s.perFile[i] as FileState).keys;
      if (file.documents.length !== keys.length) return null;
      for (let d = 0; d < keys.length; d++) {
        const r = (file.documents[d] as ParsedFile['documents'][number]).resource;
        if (resourceKey(r.kind, r.name) !== keys[d]) return null;
      }
      changed.push({ index: i, file });
    }

    // The cross-file checks of the changed documents, against the unchanged names.
    const diagnostics: Diagnostic[] = [];
    const context: DocumentCheckContext = {
      names: (kind) => s.names.get(kind),
      liveNames: s.liveNames,
      cwd: resolve(this.options.cwd ?? process.cwd()),
      root: s.root,
    };
    const checked: DesiredResource[] = [];
    const documents = new Map<DesiredResource, ParsedDocument>();
    for (const { file } of changed) {
      for (const w of file.diagnostics) diagnostics.push(w);
      for (const doc of file.documents) {
        const r = checkDocument(file.file, doc, context, diagnostics);
        if (r === null) return null;
        checked.push(r);
        documents.set(r, doc);
      }
    }
    if (diagnostics.some((d) => d.severity === 'error')) return null;
    const sealed = sealDesiredSecrets(checked, {
      ...this.options.secrets,
      ...(this.options.cwd !== undefined ? { cwd: this.options.cwd } : {}),
      positionsOf: (r) => documents.get(r)?.positions,
    });
    if (sealed.diagnostics.some((d) => d.severity === 'error')) return null;
    diagnostics.push(...sealed.diagnostics);

    // Plan the changed resources and the ones whose live copy this session rewrote.
    const secretKey = s.secretKey ?? sealed.key;
    // Secrets sealed under another key: the full plan reports it.
    if (
      secretKey &&
      secretKeyMismatch(sealed.resources, (k, n) => live.byKey.get(resourceKey(k, n)), secretKey)
    ) {
      return null;
    }
    const planOptions: Pick<PlanOptions, 'project' | 'secretHash' | 'noopMemo' | 'recordSource'> = {
      project: s.project,
      recordSource: sourceRecorder(s.root, this.options.cwd),
      ...(secretKey ? { secretHash: secretHasher(secretKey) } : {}),
      ...(this.options.noopMemo ? { noopMemo: this.options.noopMemo } : {}),
    };
    const toPlan = new Map<string, DesiredResource>();
    for (const r of sealed.resources) toPlan.set(resourceKey(r.kind, r.name), r);
    for (const key of rewritten) if (!toPlan.has(key)) toPlan.set(key, s.byKey.get(key) as DesiredResource);
    const writes: Candidate[] = [];
    const observed: Plan['observed'] = [];
    for (const [key, d] of toPlan) {
      const l = live.byKey.get(key);
      const outcome = planResource(d, l, planOptions);
      if (outcome !== null && !('change' in outcome)) return null;
      if (outcome !== null) writes.push(outcome);
      observed.push({ kind: d.kind, name: d.name, version: l?.version ?? null });
    }
    const desiredNow = new Map(s.byKey);
    for (const [key, d] of toPlan) desiredNow.set(key, d);
    const changes = withUsedBy(
      orderByReferences(writes, (c) => c.change.write?.spec ?? {}).map((c) => c.change),
      desiredNow.values(),
      live.byKey.values(),
    );
    const summary = { create: 0, update: 0, delete: 0, noop: s.byKey.size - changes.length };
    for (const c of changes) summary[c.action]++;

    let at = 0;
    this.pending = {
      mode: 'incremental',
      files: changed.map(({ index, file }) => {
        const keys = (s.perFile[index] as FileState).keys;
        const resources = sealed.resources.slice(at, at + keys.length);
        at += keys.length;
        return { index, file, state: { keys, resources } };
      }),
      logLength: live.log.length,
      secretKey,
    };
    const warnings = diagnostics.filter((d) => d.severity === 'warning');
    return {
      plan: {
        formatVersion: 1,
        project: s.project,
        backend: { ...this.backend.info },
        summary,
        changes,
        diagnostics: warnings,
        // Only what this plan looked at: an incremental plan is never saved to a plan file.
        observed: observed.sort(compareKindName),
      },
      diagnostics: warnings,
      mode: 'incremental',
    };
  }
}

/** The settled state a successful full plan leaves (the plan had no errors). */
function settledStateOf(
  input: ParsedSources,
  live: LiveView,
  result: { plan: Plan; desired: DesiredResource[]; secretKey: SecretKey | null },
): SettledState {
  // With no errors every document of every file was accepted, in file order, one resource each.
  const perFile: FileState[] = [];
  const byKey = new Map<string, DesiredResource>();
  const names = new Map<DeclaredKind, Set<string>>();
  let at = 0;
  for (const file of input.files) {
    const keys: string[] = [];
    const resources: DesiredResource[] = [];
    for (const doc of file.documents) {
      const r = result.desired[at++] as DesiredResource;
      const key = resourceKey(doc.resource.kind, doc.resource.name);
      keys.push(key);
      resources.push(r);
      byKey.set(key, r);
      const set = names.get(r.kind) ?? new Set<string>();
      names.set(r.kind, set);
      set.add(r.name);
    }
    perFile.push({ keys, resources });
  }
  const liveByKind = new Map<DeclaredKind, Set<string>>();
  for (const r of live.byKey.values()) {
    const set = liveByKind.get(r.kind) ?? new Set<string>();
    liveByKind.set(r.kind, set);
    set.add(r.name);
  }
  const none: ReadonlySet<string> = new Set();
  return {
    root: input.root,
    inputProject: input.project,
    project: result.plan.project,
    files: [...input.files],
    perFile,
    byKey,
    names,
    liveNames: (kind) => liveByKind.get(kind) ?? none,
    epoch: live.epoch,
    logLength: live.log.length,
    secretKey: result.secretKey,
  };
}
