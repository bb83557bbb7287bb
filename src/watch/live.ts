/**
 * The live state a watch session plans against, kept between cycles. Every cycle asks the
 * backend whether anything was committed from outside since the last read (`stateToken`); when
 * nothing was, the kept copy — patched with what this session applied — is used instead of
 * re-reading and re-decoding every stored resource. A changed token, a backend without
 * `stateToken`, or any failure means a full read (`readLiveState`), so no cycle misses an
 * outside change.
 */
import type { Backend } from '../backend/types.js';
import { readLiveState } from '../core/reconcile.js';
import type { DeclaredKind, StoredResource } from '../types.js';

const keyOf = (kind: DeclaredKind, name: string): string => `${kind}/${name}`;

/** Live resources of one backend, re-read only when the backend says they changed from outside. */
export class LiveStateCache {
  private readonly backend: Backend;
  private resources: Map<string, StoredResource> | null = null;
  private token: string | null = null;
  /** Full reads done so far (for tests and diagnostics). */
  fullReads = 0;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /**
   * Every declared resource in the backend, as `readLiveState` returns them (order aside). The
   * token is taken before a full read, so a commit that races with the read changes the token
   * and the next call reads again.
   */
  async read(): Promise<StoredResource[]> {
    const token = this.backend.stateToken ? await this.backend.stateToken() : null;
    if (token !== null && this.resources !== null && token === this.token) {
      return [...this.resources.values()];
    }
    this.resources = null;
    const live = await readLiveState(this.backend);
    this.fullReads++;
    if (token !== null) {
      this.resources = new Map(live.map((r) => [keyOf(r.kind, r.name), r]));
      this.token = token;
    }
    return live;
  }

  /**
   * Brings the kept copy up to date after this session wrote `changed` (created, updated or
   * deleted resources): each is fetched again, or dropped when gone. Without a kept copy it
   * does nothing; on failure the copy is dropped.
   */
  async applied(changed: ReadonlyArray<{ kind: DeclaredKind; name: string }>): Promise<void> {
    const resources = this.resources;
    if (resources === null) return;
    try {
      for (const { kind, name } of changed) {
        const current = await this.backend.getResource(kind, name);
        if (current) resources.set(keyOf(kind, name), current);
        else resources.delete(keyOf(kind, name));
      }
    } catch {
      this.invalidate();
    }
  }

  /** Forgets the kept copy: the next `read` is a full read. */
  invalidate(): void {
    this.resources = null;
    this.token = null;
  }
}
