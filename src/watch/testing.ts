/**
 * Test support for watch mode: an in-memory stand-in for the part of a Backend that a watch
 * cycle uses (bulk list, atomic applyChanges), recording every batch and able to fail on cue.
 */
import type { AppliedChange, Backend, ResourceChange } from '../backend/types.js';
import type { DeclaredKind, StoredResource } from '../types.js';

/** The slice of a backend a cycle uses, in memory, recording every batch. */
export class MemoryBackend {
  readonly info = { type: 'local' as const, location: 'memory' };
  readonly resources = new Map<string, StoredResource>();
  readonly batches: Array<{ changes: ResourceChange[]; message: string | undefined }> = [];
  /** Errors thrown by the next applyChanges calls, in order. */
  readonly failures: Error[] = [];
  private ids = 0;

  /** Runs (once) before the next list: simulates something happening while a cycle reads. */
  beforeNextList: (() => void) | undefined;

  async listAllResources(kind: DeclaredKind): Promise<StoredResource[]> {
    const hook = this.beforeNextList;
    this.beforeNextList = undefined;
    hook?.();
    return [...this.resources.values()].filter((r) => r.kind === kind);
  }

  async applyChanges(
    changes: ResourceChange[],
    options: { message?: string } = {},
  ): Promise<AppliedChange[]> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.batches.push({ changes, message: options.message });
    const out: AppliedChange[] = [];
    for (const c of changes) {
      const key = `${c.kind}/${c.name}`;
      const current = this.resources.get(key);
      if (c.op === 'delete') {
        this.resources.delete(key);
        out.push({ op: 'delete', kind: c.kind, name: c.name, id: current!.id, version: current!.version });
      } else if (c.op === 'create' || c.op === 'update') {
        const now = new Date().toISOString();
        const r: StoredResource = {
          id: current?.id ?? `id_${++this.ids}`,
          kind: c.kind,
          name: c.name,
          labels: c.labels,
          annotations: c.annotations,
          spec: c.spec,
          status: {},
          version: (current?.version ?? 0) + 1,
          createdAt: current?.createdAt ?? now,
          updatedAt: now,
        };
        this.resources.set(key, r);
        out.push({ op: c.op, kind: c.kind, name: c.name, id: r.id, version: r.version });
      }
    }
    return out;
  }

  /** This object typed as a Backend (a cycle calls nothing else). */
  asBackend(): Backend {
    return this as unknown as Backend;
  }

  skill(name: string): StoredResource | undefined {
    return this.resources.get(`Skill/${name}`);
  }
}
