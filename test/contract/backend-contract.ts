/**
 * The Backend contract suite (DESIGN.md §3, STYLE.md "One Backend contract"): every behaviour
 * the reconciler relies on, written once against the `Backend` interface. Each implementation
 * calls `describeBackendContract` with a factory for fresh, empty backends; the local SQLite
 * store runs it on temp files, the gRPC cloud client against a real server process. Nothing in
 * here knows which implementation it is testing.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, ResourceChange } from '../../src/backend/types.js';
import { ConflictError, StigmerError } from '../../src/errors.js';
import { revealExecutionContext } from '../../src/secrets/context.js';
import { SecretKey } from '../../src/secrets/key.js';
import { sealSecret } from '../../src/secrets/seal.js';
import { DECLARED_KINDS, type DeclaredKind, KINDS } from '../../src/types.js';

/**
 * Makes a fresh, empty backend; `cleanup` (optional) runs after the backend is closed.
 * `sibling` opens another client of the same store (another connection or process's view),
 * closed by the suite.
 */
export type MakeBackend = () => Promise<{
  backend: Backend;
  sibling: () => Promise<Backend>;
  cleanup?: () => Promise<void> | void;
}>;

function create(kind: DeclaredKind, name: string, spec: Record<string, unknown> = {}): ResourceChange {
  return {
    op: 'create',
    kind,
    name,
    labels: { team: 'cs' },
    annotations: { 'stigmer.ai/project': 'demo' },
    spec: { description: `${name} spec`, ...spec } as never,
  };
}

async function failure(promise: Promise<unknown>): Promise<StigmerError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof StigmerError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

/**
 * Defines a vitest `describe` block named `Backend contract: NAME` that exercises every
 * behaviour of the Backend interface on backends made by `makeBackend`.
 */
export function describeBackendContract(name: string, makeBackend: MakeBackend): void {
  describe(`Backend contract: ${name}`, () => {
    let backend: Backend;
    let cleanup: (() => Promise<void> | void) | undefined;
    let openSibling: () => Promise<Backend>;
    const siblings: Backend[] = [];
    const sibling = async () => {
      const b = await openSibling();
      siblings.push(b);
      return b;
    };

    beforeEach(async () => {
      const made = await makeBackend();
      backend = made.backend;
      cleanup = made.cleanup;
      openSibling = made.sibling;
    });

    afterEach(async () => {
      for (const b of siblings.splice(0)) await b.close();
      await backend.close();
      await cleanup?.();
    });

    describe('resources', () => {
      it('creates a resource with a kind-prefixed id at version 1', async () => {
        const [applied] = await backend.applyChanges([create('Agent', 'support-bot')]);
        expect(applied).toMatchObject({ op: 'create', kind: 'Agent', name: 'support-bot', version: 1 });
        expect(applied!.id.startsWith(KINDS.Agent.idPrefix)).toBe(true);

        const stored = await backend.getResource('Agent', 'support-bot');
        expect(stored).toMatchObject({
          id: applied!.id,
          kind: 'Agent',
          name: 'support-bot',
          labels: { team: 'cs' },
          annotations: { 'stigmer.ai/project': 'demo' },
          spec: { description: 'support-bot spec' },
          status: {},
          version: 1,
        });
        expect(Number.isNaN(Date.parse(stored!.createdAt))).toBe(false);
        expect(stored!.updatedAt).toBe(stored!.createdAt);
      });

      it('gives every declared kind its own id prefix and namespace', async () => {
        const applied = await backend.applyChanges(DECLARED_KINDS.map((k) => create(k, 'same-name')));
        for (const [i, kind] of DECLARED_KINDS.entries()) {
          expect(applied[i]!.id.startsWith(KINDS[kind].idPrefix)).toBe(true);
          expect((await backend.getResource(kind, 'same-name'))?.kind).toBe(kind);
        }
        expect(new Set(applied.map((a) => a.id)).size).toBe(DECLARED_KINDS.length);
      });

      it('returns null for a resource that does not exist', async () => {
        expect(await backend.getResource('Skill', 'nope')).toBeNull();
      });

      it('updates in place: same id, version + 1, spec replaced, createdAt kept', async () => {
        const [created] = await backend.applyChanges([create('Skill', 'search', { tag: 'v1' })]);
        const before = await backend.getResource('Skill', 'search');
        await new Promise((r) => setTimeout(r, 5));
        const [updated] = await backend.applyChanges([
          {
            op: 'update',
            kind: 'Skill',
            name: 'search',
            labels: {},
            annotations: { a: 'b' },
            spec: { skillMd: '# new' },
            expectedVersion: 1,
          },
        ]);
        expect(updated).toEqual({ op: 'update', kind: 'Skill', name: 'search', id: created!.id, version: 2 });
        const after = await backend.getResource('Skill', 'search');
        expect(after).toMatchObject({ id: created!.id, version: 2, labels: {}, annotations: { a: 'b' } });
        expect(after!.spec).toEqual({ skillMd: '# new' });
        expect(after!.createdAt).toBe(before!.createdAt);
        expect(after!.updatedAt >= before!.updatedAt).toBe(true);
      });

      it('update without an expected version overwrites whatever is stored', async () => {
        await backend.applyChanges([create('Agent', 'a')]);
        await backend.applyChanges([{ ...create('Agent', 'a'), op: 'update' } as ResourceChange]);
        const [u] = await backend.applyChanges([{ ...create('Agent', 'a'), op: 'update' } as ResourceChange]);
        expect(u!.version).toBe(3);
      });

      it('deletes a resource and reports the version it had', async () => {
        const [created] = await backend.applyChanges([create('Environment', 'prod')]);
        const deleted = await backend.deleteResource('Environment', 'prod', { expectedVersion: 1 });
        expect(deleted).toEqual({
          op: 'delete',
          kind: 'Environment',
          name: 'prod',
          id: created!.id,
          version: 1,
        });
        expect(await backend.getResource('Environment', 'prod')).toBeNull();
        expect(await backend.listAllResources('Environment')).toEqual([]);
      });

      it('deleting a missing resource is NOT_FOUND', async () => {
        const err = await failure(backend.deleteResource('Agent', 'ghost'));
        expect(err.code).toBe('NOT_FOUND');
      });

      it('a deleted name can be created again, as a new resource at version 1', async () => {
        const [first] = await backend.applyChanges([create('Agent', 'phoenix')]);
        await backend.deleteResource('Agent', 'phoenix');
        const [second] = await backend.applyChanges([create('Agent', 'phoenix')]);
        expect(second!.version).toBe(1);
        expect(second!.id).not.toBe(first!.id);
      });

      it('keeps JSON specs intact (nested objects, arrays, unicode, numbers, booleans, null)', async () => {
        const spec = {
          instructions: 'Réponds en français 👋\nline two',
          config: { temperature: '0.2', model: 'llama3' },
          tasks: [{ name: 't', dependsOn: [], inputs: { n: 1.5, ok: true, none: null } }],
        };
        await backend.applyChanges([create('Workflow', 'wf', spec)]);
        expect((await backend.getResource('Workflow', 'wf'))!.spec).toEqual({
          description: 'wf spec',
          ...spec,
        });
      });
    });

    describe('listing', () => {
      it('lists one kind ordered by name, in pages that cover every item exactly once', async () => {
        const names = ['g', 'c', 'a', 'f', 'b', 'e', 'd'].map((n) => `agent-${n}`);
        await backend.applyChanges(names.map((n) => create('Agent', n)));
        await backend.applyChanges([create('Skill', 'agent-zz')]);

        const seen: string[] = [];
        const sizes: number[] = [];
        let token: string | undefined;
        do {
          const page = await backend.listResources(
            'Agent',
            token ? { pageSize: 3, pageToken: token } : { pageSize: 3 },
          );
          sizes.push(page.items.length);
          seen.push(...page.items.map((r) => r.name));
          token = page.nextPageToken;
        } while (token);
        expect(sizes).toEqual([3, 3, 1]);
        expect(seen).toEqual([...names].sort());
      });

      it('a page that ends exactly at the last item has no next token', async () => {
        await backend.applyChanges(['a', 'b', 'c'].map((n) => create('Skill', n)));
        const page = await backend.listResources('Skill', { pageSize: 3 });
        expect(page.items).toHaveLength(3);
        expect(page.nextPageToken).toBeUndefined();
      });

      it('listing an empty kind returns no items and no token', async () => {
        expect(await backend.listResources('WorkflowInstance')).toEqual({ items: [] });
        expect(await backend.listAllResources('WorkflowInstance')).toEqual([]);
      });

      it('listAllResources follows every page', async () => {
        const names = Array.from({ length: 25 }, (_, i) => `skill-${String(i).padStart(2, '0')}`);
        await backend.applyChanges(names.map((n) => create('Skill', n)));
        const all = await backend.listAllResources('Skill');
        expect(all.map((r) => r.name)).toEqual(names);
        expect(all.every((r) => r.kind === 'Skill' && r.version === 1)).toBe(true);
      });

      it('refuses a page token that it did not issue', async () => {
        const err = await failure(backend.listResources('Agent', { pageToken: 'not-a-token' }));
        expect(err.code).toBe('USAGE');
      });
    });

    describe('optimistic concurrency', () => {
      beforeEach(async () => {
        await backend.applyChanges([create('Agent', 'bot')]);
        await backend.applyChanges([
          { ...create('Agent', 'bot'), op: 'update', expectedVersion: 1 } as ResourceChange,
        ]);
      });

      const expectConflict = (err: StigmerError, expected: number | null, actual: number | null) => {
        expect(err).toBeInstanceOf(ConflictError);
        expect(err.code).toBe('CONFLICT');
        expect((err as ConflictError).expectedVersion).toBe(expected);
        expect((err as ConflictError).actualVersion).toBe(actual);
      };

      it('update with a stale expected version conflicts and changes nothing', async () => {
        const err = await failure(
          backend.applyChanges([
            { ...create('Agent', 'bot', { x: 1 }), op: 'update', expectedVersion: 1 } as ResourceChange,
          ]),
        );
        expectConflict(err, 1, 2);
        const stored = await backend.getResource('Agent', 'bot');
        expect(stored!.version).toBe(2);
        expect(stored!.spec).toEqual({ description: 'bot spec' });
      });

      it('delete with a stale expected version conflicts and deletes nothing', async () => {
        expectConflict(await failure(backend.deleteResource('Agent', 'bot', { expectedVersion: 1 })), 1, 2);
        expect(await backend.getResource('Agent', 'bot')).not.toBeNull();
      });

      it('assert checks the version without writing', async () => {
        expect(
          await backend.applyChanges([{ op: 'assert', kind: 'Agent', name: 'bot', expectedVersion: 2 }]),
        ).toEqual([]);
        expectConflict(
          await failure(
            backend.applyChanges([{ op: 'assert', kind: 'Agent', name: 'bot', expectedVersion: 1 }]),
          ),
          1,
          2,
        );
        expectConflict(
          await failure(
            backend.applyChanges([{ op: 'assert', kind: 'Agent', name: 'bot', expectedVersion: null }]),
          ),
          null,
          2,
        );
        await backend.applyChanges([{ op: 'assert', kind: 'Agent', name: 'other', expectedVersion: null }]);
        expectConflict(
          await failure(
            backend.applyChanges([{ op: 'assert', kind: 'Agent', name: 'other', expectedVersion: 3 }]),
          ),
          3,
          null,
        );
        expect((await backend.listVersions('Agent', 'bot')).length).toBe(2);
      });

      it('create of an existing name conflicts (expected absent)', async () => {
        expectConflict(await failure(backend.applyChanges([create('Agent', 'bot')])), null, 2);
      });

      it('update of a missing resource with an expected version conflicts (found absent)', async () => {
        const change = { ...create('Agent', 'missing'), op: 'update', expectedVersion: 4 } as ResourceChange;
        expectConflict(await failure(backend.applyChanges([change])), 4, null);
        expect(await backend.getResource('Agent', 'missing')).toBeNull();
      });

      it('delete of a missing resource with an expected version conflicts (found absent)', async () => {
        expectConflict(
          await failure(backend.deleteResource('Agent', 'missing', { expectedVersion: 1 })),
          1,
          null,
        );
      });
    });

    describe('atomic batches', () => {
      it('applies a whole batch in order and returns one result per write', async () => {
        const results = await backend.applyChanges(
          [
            create('Skill', 's1'),
            create('Agent', 'a1'),
            { op: 'assert', kind: 'Workflow', name: 'w', expectedVersion: null },
            { ...create('Agent', 'a1', { v: 2 }), op: 'update', expectedVersion: 1 } as ResourceChange,
            { op: 'delete', kind: 'Skill', name: 's1', expectedVersion: 1 },
          ],
          { message: 'batch' },
        );
        expect(results.map((r) => `${r.op} ${r.kind}/${r.name}@${r.version}`)).toEqual([
          'create Skill/s1@1',
          'create Agent/a1@1',
          'update Agent/a1@2',
          'delete Skill/s1@1',
        ]);
        expect((await backend.getResource('Agent', 'a1'))!.version).toBe(2);
        expect(await backend.getResource('Skill', 's1')).toBeNull();
      });

      it('a batch whose third change conflicts writes nothing at all', async () => {
        await backend.applyChanges([create('Agent', 'keep'), create('Skill', 'old')], { message: 'setup' });
        const before = {
          agents: await backend.listAllResources('Agent'),
          skills: await backend.listAllResources('Skill'),
          keep: await backend.listVersions('Agent', 'keep'),
          old: await backend.listVersions('Skill', 'old'),
        };
        const err = await failure(
          backend.applyChanges(
            [
              create('Agent', 'new-one'),
              {
                ...create('Agent', 'keep', { changed: true }),
                op: 'update',
                expectedVersion: 1,
              } as ResourceChange,
              { ...create('Skill', 'old'), op: 'update', expectedVersion: 7 } as ResourceChange,
              { op: 'delete', kind: 'Skill', name: 'old' },
            ],
            { message: 'should not appear' },
          ),
        );
        expect(err).toBeInstanceOf(ConflictError);
        expect(await backend.listAllResources('Agent')).toEqual(before.agents);
        expect(await backend.listAllResources('Skill')).toEqual(before.skills);
        expect(await backend.listVersions('Agent', 'keep')).toEqual(before.keep);
        expect(await backend.listVersions('Skill', 'old')).toEqual(before.old);
        expect(await backend.listVersions('Agent', 'new-one')).toEqual([]);
        expect(await backend.getResource('Agent', 'new-one')).toBeNull();
      });

      it('an empty batch is a no-op', async () => {
        expect(await backend.applyChanges([])).toEqual([]);
      });

      it('a batch retried with its request id returns the original results and writes once', async () => {
        const batch = [create('Agent', 'retry-me'), create('Skill', 'retry-skill')];
        const first = await backend.applyChanges(batch, { requestId: 'req-1', message: 'once' });
        // The retry may come through another connection (or another server of the store).
        const other = await sibling();
        const again = await other.applyChanges(batch, { requestId: 'req-1', message: 'once' });
        expect(again).toEqual(first);
        expect(await backend.listVersions('Agent', 'retry-me')).toHaveLength(1);
        expect((await backend.getResource('Agent', 'retry-me'))!.version).toBe(1);
        // Without the id, the same batch is a new one: it conflicts.
        expect(await failure(backend.applyChanges(batch))).toBeInstanceOf(ConflictError);
        // The same id with another batch is refused, and writes nothing.
        const reused = await failure(
          backend.applyChanges([create('Agent', 'other')], { requestId: 'req-1' }),
        );
        expect(reused.code).toBe('USAGE');
        expect(await backend.getResource('Agent', 'other')).toBeNull();
      });

      it('a batch that failed is not remembered: its retry runs again', async () => {
        await backend.applyChanges([create('Agent', 'taken')]);
        const batch = [create('Agent', 'fresh'), create('Agent', 'taken')];
        expect(await failure(backend.applyChanges(batch, { requestId: 'req-fail' }))).toBeInstanceOf(
          ConflictError,
        );
        await backend.deleteResource('Agent', 'taken');
        const results = await backend.applyChanges(batch, { requestId: 'req-fail' });
        expect(results.map((r) => r.name)).toEqual(['fresh', 'taken']);
      });

      it('refuses an invalid name or kind before writing anything', async () => {
        const badName = await failure(
          backend.applyChanges([create('Agent', 'ok'), create('Agent', 'Not_Valid')]),
        );
        expect(badName.code).toBe('VALIDATION');
        const badKind = await failure(backend.applyChanges([create('Gadget' as DeclaredKind, 'x')]));
        expect(badKind.code).toBe('UNKNOWN_KIND');
        expect(await backend.getResource('Agent', 'ok')).toBeNull();
      });
    });

    describe('change detection', () => {
      it("stateToken stays while nothing changes and changes on anyone else's write", async () => {
        if (!backend.stateToken) return;
        await backend.applyChanges([create('Agent', 'mine'), create('Skill', 'mine')]);
        await backend.deleteResource('Skill', 'mine');
        // This client's own writes need not change it (local and cloud ignore them; see
        // test/server/state-token.test.ts); with no write at all it stays.
        const t2 = await backend.stateToken();
        expect(await backend.stateToken()).toBe(t2);
        const other = await sibling();
        await other.applyChanges([create('Agent', 'theirs')]);
        const t3 = await backend.stateToken();
        expect(t3).not.toBe(t2);
        expect(await backend.stateToken()).toBe(t3);
        await other.deleteResource('Agent', 'theirs');
        expect(await backend.stateToken()).not.toBe(t3);
      });

      it('changeCounter grows by one per resource write, from any client, never on a failed batch', async () => {
        if (!backend.changeCounter) return;
        const c0 = await backend.changeCounter();
        await backend.applyChanges([create('Agent', 'a'), create('Agent', 'b'), create('Skill', 's')]);
        expect(await backend.changeCounter()).toBe(c0 + 3);
        await failure(backend.applyChanges([create('Agent', 'c'), create('Agent', 'a')]));
        expect(await backend.changeCounter()).toBe(c0 + 3);
        const other = await sibling();
        await other.deleteResource('Agent', 'b');
        expect(await backend.changeCounter()).toBe(c0 + 4);
      });
    });

    describe('ownership checked inside the batch (applyChanges with a project)', () => {
      const owned = (kind: DeclaredKind, name: string, project: string | null, extra = {}): ResourceChange =>
        ({
          ...create(kind, name),
          annotations: { ...(project === null ? {} : { 'stigmer.ai/project': project }), ...extra },
        }) as ResourceChange;
      const update = (change: ResourceChange): ResourceChange =>
        ({ ...change, op: 'update' }) as ResourceChange;

      beforeEach(async () => {
        await backend.applyChanges([
          owned('Agent', 'mine', 'demo'),
          owned('Agent', 'theirs', 'other'),
          owned('Agent', 'nobodys', null),
          owned('Skill', 'guarded', 'demo', { 'stigmer.ai/prevent-destroy': 'true' }),
        ]);
      });

      async function expectRefused(changes: ResourceChange[], code: string, text: string): Promise<void> {
        const before = await Promise.all(DECLARED_KINDS.map((k) => backend.listAllResources(k)));
        const err = await failure(backend.applyChanges(changes, { project: 'demo', message: 'refused' }));
        expect(err.code).toBe(code);
        expect(err.message).toContain(text);
        expect(err.hint).toBeTruthy();
        expect(await Promise.all(DECLARED_KINDS.map((k) => backend.listAllResources(k)))).toEqual(before);
      }

      it('allows updates of its own and unowned resources (adoption), creates, and deletes of its own', async () => {
        const results = await backend.applyChanges(
          [
            update(owned('Agent', 'mine', 'demo')),
            update(owned('Agent', 'nobodys', 'demo')),
            owned('Agent', 'fresh', 'demo'),
            { op: 'delete', kind: 'Agent', name: 'fresh' },
          ],
          { project: 'demo' },
        );
        expect(results.map((r) => `${r.op} ${r.name}`)).toEqual([
          'update mine',
          'update nobodys',
          'create fresh',
          'delete fresh',
        ]);
        // A release: the project's own resource loses its ownership annotation.
        await backend.applyChanges([update(owned('Agent', 'mine', null))], { project: 'demo' });
        expect(
          (await backend.getResource('Agent', 'mine'))!.annotations['stigmer.ai/project'],
        ).toBeUndefined();
      });

      it("refuses, for the whole batch, an update of another project's resource", async () => {
        await expectRefused(
          [owned('Agent', 'new-one', 'demo'), update(owned('Agent', 'theirs', 'demo'))],
          'OWNERSHIP',
          'Agent/theirs is owned by project "other"',
        );
      });

      it('refuses a write that hands a resource to another project', async () => {
        await expectRefused([update(owned('Agent', 'mine', 'other'))], 'OWNERSHIP', 'Agent/mine');
        await expectRefused([owned('Agent', 'new-one', 'other')], 'OWNERSHIP', 'Agent/new-one');
      });

      it('refuses deletes of resources it does not own, or that prevent-destroy protects', async () => {
        await expectRefused(
          [{ op: 'delete', kind: 'Agent', name: 'theirs' }],
          'OWNERSHIP',
          'Agent/theirs is owned by project "other"',
        );
        await expectRefused(
          [{ op: 'delete', kind: 'Agent', name: 'nobodys' }],
          'OWNERSHIP',
          'Agent/nobodys is not owned by any project',
        );
        await expectRefused(
          [
            { op: 'delete', kind: 'Agent', name: 'mine' },
            { op: 'delete', kind: 'Skill', name: 'guarded' },
          ],
          'PREVENT_DESTROY',
          'Skill/guarded has stigmer.ai/prevent-destroy: "true"',
        );
      });

      it('checks nothing of the kind without a project (stigmer delete, the server admin path)', async () => {
        await backend.applyChanges([update(owned('Agent', 'theirs', 'demo'))]);
        await backend.deleteResource('Skill', 'guarded');
        expect(await backend.getResource('Skill', 'guarded')).toBeNull();
      });
    });

    describe('history', () => {
      it('records a snapshot for every create, update and delete, with the batch message', async () => {
        const [c] = await backend.applyChanges([create('Agent', 'hist', { step: 1 })], { message: 'first' });
        await backend.applyChanges(
          [{ ...create('Agent', 'hist', { step: 2 }), op: 'update', expectedVersion: 1 } as ResourceChange],
          { message: 'second' },
        );
        await backend.applyChanges([
          { ...create('Agent', 'hist', { step: 3 }), op: 'update' } as ResourceChange,
        ]);
        await backend.deleteResource('Agent', 'hist', { message: 'gone' });

        const history = await backend.listVersions('Agent', 'hist');
        expect(history.map((h) => [h.version, h.action, h.message])).toEqual([
          [1, 'create', 'first'],
          [2, 'update', 'second'],
          [3, 'update', null],
          [3, 'delete', 'gone'],
        ]);
        expect(history.every((h) => h.kind === 'Agent' && h.name === 'hist' && h.resourceId === c!.id)).toBe(
          true,
        );
        expect(history.map((h) => h.snapshot.spec.step)).toEqual([1, 2, 3, 3]);
        expect(history[0]!.snapshot.labels).toEqual({ team: 'cs' });
        expect(history[0]!.snapshot.annotations).toEqual({ 'stigmer.ai/project': 'demo' });
        for (let i = 1; i < history.length; i++) {
          expect(history[i]!.createdAt >= history[i - 1]!.createdAt).toBe(true);
        }
      });

      it('keeps the history of earlier incarnations of a name, and of that kind only', async () => {
        await backend.applyChanges([create('Agent', 'again'), create('Skill', 'again')]);
        await backend.deleteResource('Agent', 'again');
        await backend.applyChanges([create('Agent', 'again')]);
        const history = await backend.listVersions('Agent', 'again');
        expect(history.map((h) => h.action)).toEqual(['create', 'delete', 'create']);
        expect(history[0]!.resourceId).not.toBe(history[2]!.resourceId);
        expect((await backend.listVersions('Skill', 'again')).map((h) => h.action)).toEqual(['create']);
      });

      it('is empty for a name that never existed', async () => {
        expect(await backend.listVersions('Workflow', 'never')).toEqual([]);
      });
    });

    describe('status', () => {
      it('reports the backend, a schema version and counts per kind', async () => {
        await backend.applyChanges([create('Agent', 'a'), create('Agent', 'b'), create('Skill', 's')]);
        const status = await backend.status();
        expect(status.info).toEqual(backend.info);
        expect(status.schemaVersion).toBeGreaterThanOrEqual(1);
        expect(status.counts.Agent).toBe(2);
        expect(status.counts.Skill).toBe(1);
        expect(status.counts.Workflow).toBe(0);
        for (const kind of Object.keys(KINDS)) expect(typeof status.counts[kind]).toBe('number');
      });
    });

    describe('executions', () => {
      beforeEach(async () => {
        await backend.applyChanges([create('Agent', 'runner'), create('Workflow', 'flow')]);
      });

      it('runs the lifecycle PENDING → RUNNING → COMPLETED with output', async () => {
        const created = await backend.createExecution({
          kind: 'AgentExecution',
          target: 'runner',
          input: { message: 'hi' },
        });
        expect(created).toMatchObject({
          kind: 'AgentExecution',
          target: 'runner',
          phase: 'PENDING',
          error: null,
        });
        expect(created.id.startsWith(KINDS.AgentExecution.idPrefix)).toBe(true);
        expect(created.input).toEqual({ message: 'hi' });

        const running = await backend.updateExecutionStatus(created.id, { phase: 'RUNNING' });
        expect(running.phase).toBe('RUNNING');
        const done = await backend.updateExecutionStatus(created.id, {
          phase: 'COMPLETED',
          output: { reply: 'hello' },
        });
        expect(done).toMatchObject({
          phase: 'COMPLETED',
          output: { reply: 'hello' },
          input: { message: 'hi' },
        });
        expect(await backend.getExecution(created.id)).toEqual(done);

        const err = await failure(backend.updateExecutionStatus(created.id, { phase: 'RUNNING' }));
        expect(err.code).toBe('CONFLICT');
      });

      it('records failures and cancellations; a finished execution cannot be cancelled', async () => {
        const a = await backend.createExecution({ kind: 'WorkflowExecution', target: 'flow', input: {} });
        expect(a.id.startsWith(KINDS.WorkflowExecution.idPrefix)).toBe(true);
        const failed = await backend.updateExecutionStatus(a.id, {
          phase: 'FAILED',
          error: 'task t1 failed',
        });
        expect(failed).toMatchObject({ phase: 'FAILED', error: 'task t1 failed' });
        expect((await failure(backend.cancelExecution(a.id))).code).toBe('CONFLICT');

        const b = await backend.createExecution({
          kind: 'WorkflowExecution',
          target: 'flow',
          input: { n: 1 },
        });
        const cancelled = await backend.cancelExecution(b.id);
        expect(cancelled.phase).toBe('CANCELLED');
        expect((await backend.cancelExecution(b.id)).phase).toBe('CANCELLED');
      });

      it('agent executions of one session share it', async () => {
        const first = await backend.createExecution({ kind: 'AgentExecution', target: 'runner', input: {} });
        expect(first.sessionId).toBeDefined();
        const second = await backend.createExecution({
          kind: 'AgentExecution',
          target: 'runner',
          input: {},
          sessionId: first.sessionId!,
        });
        expect(second.sessionId).toBe(first.sessionId);
        const err = await failure(
          backend.createExecution({
            kind: 'AgentExecution',
            target: 'runner',
            input: {},
            sessionId: 'ses_missing',
          }),
        );
        expect(err.code).toBe('NOT_FOUND');
      });

      it('lists executions newest first, filtered by kind and target', async () => {
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) {
          ids.push(
            (await backend.createExecution({ kind: 'AgentExecution', target: 'runner', input: { i } })).id,
          );
          await new Promise((r) => setTimeout(r, 3));
        }
        const wf = await backend.createExecution({ kind: 'WorkflowExecution', target: 'flow', input: {} });
        const agentRuns = await backend.listExecutions({ kind: 'AgentExecution', target: 'runner' });
        expect(agentRuns.map((e) => e.id)).toEqual([...ids].reverse());
        const all = await backend.listExecutions();
        expect(all.map((e) => e.id)).toEqual([wf.id, ...[...ids].reverse()]);
        expect(await backend.listExecutions({ kind: 'AgentExecution', target: 'nobody' })).toEqual([]);
        expect(await backend.listExecutions({ pageSize: 2 })).toHaveLength(2);
      });

      it('refuses executions of a missing target and unknown ids', async () => {
        expect(
          (await failure(backend.createExecution({ kind: 'AgentExecution', target: 'ghost', input: {} })))
            .code,
        ).toBe('NOT_FOUND');
        expect((await failure(backend.getExecution('aex_unknown'))).code).toBe('NOT_FOUND');
        expect((await failure(backend.getExecution('nonsense'))).code).toBe('NOT_FOUND');
      });

      it('resolves the execution context from environments just in time', async () => {
        await backend.applyChanges([
          create('Environment', 'base', { data: { REGION: { value: 'eu' }, LEVEL: { value: 'debug' } } }),
          create('Environment', 'prod', {
            data: { LEVEL: { value: 'info' }, EMPTY: { description: 'unset' } },
          }),
        ]);
        const run = await backend.createExecution({
          kind: 'AgentExecution',
          target: 'runner',
          input: {},
          environmentRefs: ['base', 'prod'],
        });
        expect(await backend.getExecutionContext(run.id)).toEqual({
          executionId: run.id,
          data: { REGION: 'eu', LEVEL: 'info' },
          secrets: {},
        });
        await backend.applyChanges([
          {
            ...create('Environment', 'prod', { data: { LEVEL: { value: 'warn' } } }),
            op: 'update',
          } as ResourceChange,
        ]);
        expect((await backend.getExecutionContext(run.id)).data.LEVEL).toBe('warn');
        const bare = await backend.createExecution({ kind: 'WorkflowExecution', target: 'flow', input: {} });
        expect(await backend.getExecutionContext(bare.id)).toEqual({
          executionId: bare.id,
          data: {},
          secrets: {},
        });
      });

      it('returns secret variables sealed, as stored; the client decrypts them with the team key', async () => {
        const key = SecretKey.fromBytes(randomBytes(32));
        const token = sealSecret(key, { kind: 'Environment', name: 'vault', key: 'TOKEN' }, 'tok-123');
        const level = sealSecret(key, { kind: 'Environment', name: 'vault', key: 'LEVEL' }, 'secret-level');
        await backend.applyChanges([
          create('Environment', 'plain', { data: { LEVEL: { value: 'info' }, MODE: { value: 'live' } } }),
          create('Environment', 'vault', {
            data: {
              TOKEN: { isSecret: true, sealed: { ...token } },
              LEVEL: { isSecret: true, sealed: { ...level } },
            },
          }),
          create('Environment', 'last', { data: { MODE: { value: 'test' } } }),
        ]);
        const run = await backend.createExecution({
          kind: 'AgentExecution',
          target: 'runner',
          input: {},
          environmentRefs: ['plain', 'vault', 'last'],
        });
        const context = await backend.getExecutionContext(run.id);
        // Later environments win, whether the earlier value was plain or secret.
        expect(context).toEqual({
          executionId: run.id,
          data: { MODE: 'test' },
          secrets: {
            TOKEN: { environment: 'vault', sealed: token },
            LEVEL: { environment: 'vault', sealed: level },
          },
        });
        expect(JSON.stringify(context)).not.toContain('tok-123');
        expect(revealExecutionContext(context, key)).toEqual({
          MODE: 'test',
          TOKEN: 'tok-123',
          LEVEL: 'secret-level',
        });
        const otherKey = SecretKey.fromBytes(randomBytes(32));
        const err = await failure(Promise.resolve().then(() => revealExecutionContext(context, otherKey)));
        expect(err.code).toBe('SECRET');
        expect(err.message).toContain(key.keyId);
        expect(err.message).toContain(otherKey.keyId);
      });

      it('records times, usage, the transcript and the environments of a run', async () => {
        const created = await backend.createExecution({
          kind: 'AgentExecution',
          target: 'runner',
          input: { message: 'hi' },
          environmentRefs: ['base', 'prod'],
        });
        expect(created).toMatchObject({
          environmentRefs: ['base', 'prod'],
          resumedFrom: null,
          startedAt: null,
          finishedAt: null,
          heartbeatAt: null,
          leaseUntil: null,
          usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
          transcriptArtifactId: null,
          tasks: [],
        });
        const running = await backend.updateExecutionStatus(created.id, {
          phase: 'RUNNING',
          leaseMs: 60_000,
        });
        expect(Number.isNaN(Date.parse(running.startedAt!))).toBe(false);
        expect(running.heartbeatAt).toBe(running.startedAt);
        expect(Date.parse(running.leaseUntil!)).toBeGreaterThan(Date.parse(running.heartbeatAt!));
        const artifact = await backend.storeArtifact({
          executionId: created.id,
          name: 'transcript.json',
          contentType: 'application/json',
          data: new TextEncoder().encode('{}'),
        });
        const usage = { promptTokens: 12, completionTokens: 5, totalTokens: 17 };
        const done = await backend.updateExecutionStatus(created.id, {
          phase: 'COMPLETED',
          output: { reply: 'hello' },
          usage,
          transcriptArtifactId: artifact.id,
        });
        expect(done).toMatchObject({
          usage,
          transcriptArtifactId: artifact.id,
          startedAt: running.startedAt,
        });
        expect(Date.parse(done.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(done.startedAt!));
        expect(done.leaseUntil).toBeNull();
        expect(await backend.getExecution(created.id)).toEqual(done);
        const bad = await failure(
          backend.updateExecutionStatus(created.id, {
            phase: 'FAILED',
            usage: { promptTokens: -1 } as never,
          }),
        );
        expect(bad.code).toBe('USAGE');
      });

      it('keeps one record per task of a workflow execution', async () => {
        const run = await backend.createExecution({ kind: 'WorkflowExecution', target: 'flow', input: {} });
        const task = {
          name: 'fetch',
          agent: 'runner',
          phase: 'RUNNING' as const,
          inputs: { url: 'https://example.test/pr/1' },
          outputs: {},
          error: null,
          startedAt: new Date().toISOString(),
          finishedAt: null,
          usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
          transcriptArtifactId: null,
        };
        await backend.updateExecutionStatus(run.id, { phase: 'RUNNING', tasks: [task] });
        const done = {
          ...task,
          phase: 'COMPLETED' as const,
          outputs: { title: 'Fix' },
          finishedAt: task.startedAt,
        };
        const later = { ...task, name: 'review', phase: 'CANCELLED' as const, error: 'cancelled' };
        const failed = await backend.updateExecutionStatus(run.id, {
          phase: 'FAILED',
          error: 'task review failed',
          tasks: [done, later],
        });
        expect(failed.tasks).toEqual([done, later]);
        expect((await backend.getExecution(run.id)).tasks).toEqual([done, later]);
        const resumed = await backend.createExecution({
          kind: 'WorkflowExecution',
          target: 'flow',
          input: {},
          resumedFrom: run.id,
        });
        expect(resumed.resumedFrom).toBe(run.id);
        expect(
          (
            await failure(
              backend.createExecution({
                kind: 'WorkflowExecution',
                target: 'flow',
                input: {},
                resumedFrom: 'wex_missing',
              }),
            )
          ).code,
        ).toBe('NOT_FOUND');
      });

      it('appends the messages of a completed turn to its session', async () => {
        const first = await backend.createExecution({ kind: 'AgentExecution', target: 'runner', input: {} });
        const session = await backend.getSession(first.sessionId!);
        expect(session).toMatchObject({ id: first.sessionId, agent: 'runner', messages: [] });
        const turn1 = [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ];
        await backend.updateExecutionStatus(first.id, { phase: 'COMPLETED', sessionMessages: turn1 });
        const second = await backend.createExecution({
          kind: 'AgentExecution',
          target: 'runner',
          input: {},
          sessionId: first.sessionId!,
        });
        const turn2 = [{ role: 'user', content: 'again' }];
        await backend.updateExecutionStatus(second.id, { phase: 'COMPLETED', sessionMessages: turn2 });
        expect((await backend.getSession(first.sessionId!)).messages).toEqual([...turn1, ...turn2]);
        expect((await failure(backend.getSession('ses_missing'))).code).toBe('NOT_FOUND');
      });

      it('heartbeats show cancellations, and a run whose lease passed is recorded as runner lost', async () => {
        const run = await backend.createExecution({ kind: 'AgentExecution', target: 'runner', input: {} });
        await backend.updateExecutionStatus(run.id, { phase: 'RUNNING', leaseMs: 60_000 });
        const beat = await backend.heartbeatExecution(run.id, { leaseMs: 60_000 });
        expect(beat.phase).toBe('RUNNING');
        expect(Date.parse(beat.leaseUntil!) - Date.parse(beat.heartbeatAt!)).toBe(60_000);
        const cancelled = await backend.cancelExecution(run.id);
        const seen = await backend.heartbeatExecution(run.id, { leaseMs: 60_000 });
        expect(seen.phase).toBe('CANCELLED');
        const usage = { promptTokens: 3, completionTokens: 4, totalTokens: 7 };
        const kept = await backend.updateExecutionStatus(run.id, {
          phase: 'CANCELLED',
          usage,
          error: 'ignored',
        });
        expect(kept).toMatchObject({
          phase: 'CANCELLED',
          usage,
          error: cancelled.error,
          finishedAt: cancelled.finishedAt,
        });
        expect((await failure(backend.updateExecutionStatus(run.id, { phase: 'COMPLETED' }))).code).toBe(
          'CONFLICT',
        );
        expect((await failure(backend.heartbeatExecution(run.id, { leaseMs: 0 }))).code).toBe('USAGE');

        const lost = await backend.createExecution({ kind: 'AgentExecution', target: 'runner', input: {} });
        await backend.updateExecutionStatus(lost.id, { phase: 'RUNNING', leaseMs: 1 });
        const other = await backend.createExecution({ kind: 'WorkflowExecution', target: 'flow', input: {} });
        await backend.updateExecutionStatus(other.id, { phase: 'RUNNING', leaseMs: 1 });
        await new Promise((r) => setTimeout(r, 20));
        const listed = await backend.listExecutions({ kind: 'WorkflowExecution' });
        expect(listed.find((e) => e.id === other.id)).toMatchObject({ phase: 'FAILED' });
        const read = await backend.getExecution(lost.id);
        expect(read.phase).toBe('FAILED');
        expect(read.error).toMatch(/^runner lost/);
        expect(read.finishedAt).not.toBeNull();
        const late = await failure(backend.updateExecutionStatus(lost.id, { phase: 'COMPLETED' }));
        expect(late.code).toBe('CONFLICT');
      });

      it('stores and returns artifacts byte for byte', async () => {
        const run = await backend.createExecution({ kind: 'AgentExecution', target: 'runner', input: {} });
        const bytes = new Uint8Array([0, 1, 2, 250, 255]);
        const stored = await backend.storeArtifact({
          executionId: run.id,
          name: 'out.bin',
          contentType: 'application/octet-stream',
          data: bytes,
        });
        const loaded = await backend.getArtifact(stored.id);
        expect(loaded).toMatchObject({
          executionId: run.id,
          name: 'out.bin',
          contentType: 'application/octet-stream',
        });
        expect([...loaded.data]).toEqual([...bytes]);
        const loose = await backend.storeArtifact({
          name: 'note.txt',
          contentType: 'text/plain',
          data: new Uint8Array(),
        });
        expect((await backend.getArtifact(loose.id)).executionId).toBeNull();
        expect((await failure(backend.getArtifact('art_missing'))).code).toBe('NOT_FOUND');
      });
    });
  });
}
