/**
 * The live state a watch session plans against, kept between cycles. Every cycle asks the
 * backend whether anything was committed from outside since the last read (`stateToken`); when
 * nothing was, the kept copy — patched with what this session applied — is used instead of
 * re-reading and re-decoding every stored resource. A changed token, a backend without
 * `stateToken`, or any failure means a full read (`readLiveState`), so no cycle misses an
 * outside change.
 *
 * The kept copy is a LiveView (src/core/incremental.ts): a new `epoch` starts with every full
 * read, and each resource this session wrote since is logged, so the incremental planner can
 * re-plan just those.
 */
import type { Backend } from '../backend/types.js';
import type { LiveChange, LiveView } from '../core/incremental.js';
import { readLiveState } from '../core/reconcile.js';
import { resourceKey } from '../plan/order.js';
import type { DeclaredKind, StoredResource } from '../types.js';

/** Past this many logged writes, the next cycle reads everything again (and the log restarts). */
const MAX_LOG = 4096;

interface KeptView extends LiveView {
  byKey: Map<string, StoredResource>;
  log: LiveChange[];
}

/** Live resources of one backend, re-read only when the backend says they changed from outside. */
export class LiveStateCache {
  private readonly backend: Backend;
  private current: KeptView | null = null;
  private token: string | null = null;
  private epochs = 0;
  /** Full reads done so far (for tests and diagnostics). */
  fullReads = 0;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /**
   * The live state as a view (do not mutate it). The token is taken before a full read, so a
   * commit that races with the read changes the token and the next call reads again.
   */
  async view(): Promise<LiveView> {
    const token = this.backend.stateToken ? await this.backend.stateToken() : null;
    if (token !== null && this.current !== null && token === this.token) return this.current;
    this.current = null;
    const live = await readLiveState(this.backend);
    this.fullReads++;
    const view: KeptView = {
      byKey: new Map(live.map((r) => [resourceKey(r.kind, r.name), r])),
      epoch: ++this.epochs,
      log: [],
    };
    if (token !== null) {
      this.current = view;
      this.token = token;
    }
    return view;
  }

  /**
   * Brings the kept copy up to date after this session wrote `changed` (created, updated or
   * deleted resources): each is fetched again, or dropped when gone, and logged. Without a kept
   * copy it does nothing; on failure the copy is dropped.
   */
  async applied(changed: ReadonlyArray<{ kind: DeclaredKind; name: string }>): Promise<void> {
    const view = this.current;
    if (view === null) return;
    try {
      for (const { kind, name } of changed) {
        const key = resourceKey(kind, name);
        const had = view.byKey.has(key);
        const current = await this.backend.getResource(kind, name);
        if (current) {
          view.byKey.set(key, current);
          view.log.push({ key, change: had ? 'updated' : 'added' });
        } else {
          view.byKey.delete(key);
          if (had) view.log.push({ key, change: 'removed' });
        }
      }
      if (view.log.length > MAX_LOG) this.invalidate();
    } catch {
      this.invalidate();
    }
  }

  /** Forgets the kept copy: the next `view` is a full read. */
  invalidate(): void {
    this.current = null;
    this.token = null;
  }
}
