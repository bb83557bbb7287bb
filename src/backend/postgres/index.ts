/**
 * The PostgreSQL store (DESIGN.md §6d): the Backend contract over one PostgreSQL database
 * through node-postgres, for `stigmer server --db postgres://…`, so that any number of server
 * processes can share one state. It behaves exactly like the SQLite store (the contract suite
 * runs against both); what differs is how it stays correct with many writers at once:
 *
 * - a batch is one transaction on one checked-out client (pool.ts) that first takes a
 *   transaction-scoped advisory lock per project (`pg_advisory_xact_lock`, freed by COMMIT or
 *   ROLLBACK), so concurrent applies of one project take turns;
 * - expected versions are checked against rows read `FOR UPDATE` inside that transaction (in a
 *   fixed order: kinds in dependency order, names sorted, so two batches never deadlock on
 *   each other), and a create that races another process's create of the same name loses on
 *   the unique name (`ON CONFLICT DO NOTHING`): the loser gets the same ConflictError as on
 *   SQLite, never a lost update;
 * - writes are a few bulk statements per kind (`unnest` arrays), not a round trip per row, and
 *   every change appends its snapshot to `api_resource_versions`;
 * - every committed batch bumps the change counter behind `stateToken`, so watchers on any
 *   server see each other's writes;
 * - times come from the database's clock, so every server of one database agrees.
 *
 * Errors leave translated (pg-errors.ts): a database that restarts under load is UNAVAILABLE,
 * with nothing of the unfinished batch kept.
 */
import { ConflictError, NotFoundError, StigmerError } from '../../errors.js';
import {
  DECLARED_KINDS,
  type DeclaredKind,
  type JsonObject,
  KINDS,
  type Kind,
  type StoredResource,
} from '../../types.js';
import {
  checkChange,
  checkExecutionUpdate,
  checkRequestId,
  DEFAULT_EXECUTION_PAGE_SIZE,
  DEFAULT_PAGE_SIZE,
  decodePageToken,
  encodePageToken,
  executionContextOf,
  executionKindOf,
  hashBatch,
  isLease,
  isPlainObject,
  leaseError,
  leaseUntil,
  NO_USAGE,
  newId,
  pageSize,
  requestIdReused,
  TERMINAL,
  unknownKind,
} from '../local/index.js';
import type { Migration } from '../local/migrate.js';
import { checkOwnership } from '../ownership.js';
import type {
  AppliedChange,
  ApplyChangesOptions,
  Artifact,
  Backend,
  BackendInfo,
  BackendStatus,
  CreateExecutionInput,
  Execution,
  ExecutionContext,
  ExecutionPhase,
  ExecutionUpdate,
  HistoryEntry,
  ListOptions,
  Page,
  ResourceChange,
  Session,
  TaskExecution,
  TokenUsage,
} from '../types.js';
import { advisoryKey, migratePostgres } from './migrate.js';
import { type Queryable as Db, DEFAULT_POOL_SIZE, type PgClient, PgPool } from './pool.js';

export { migratePostgres, readPostgresMigrations } from './migrate.js';
export { describeDatabase, isPostgresUrl } from './pool.js';

/** Options of `openPostgresBackend`. */
export interface PostgresBackendOptions {
  /** `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, with libpq-style `sslmode`, `sslrootcert`, `options`. */
  url: string;
  /** Connections kept at most by this process. Default 10. */
  poolSize?: number;
  /** How long an apply waits for its project's turn and for row locks before BUSY. Default 30,000 ms. */
  lockTimeoutMs?: number;
  /** Migrations to apply instead of the package's `migrations/postgres/` (tests). */
  migrations?: Migration[];
  /** Where to report an idle connection that failed (a restart of PostgreSQL). */
  log?: (line: string) => void;
}

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * Connects to the database at `options.url` and brings its schema up to date.
 *
 * @throws StigmerError UNAVAILABLE when the database cannot be reached; BACKEND for a refused
 *   login, a missing database or missing rights; SCHEMA_TOO_NEW or MIGRATION_CHANGED for a
 *   database this program must not touch.
 */
export async function openPostgresBackend(options: PostgresBackendOptions): Promise<PostgresBackend> {
  const lockTimeout = options.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isInteger(lockTimeout) || lockTimeout < 1) {
    throw new StigmerError(
      'USAGE',
      `lock timeout must be a whole number of milliseconds ≥ 1, got ${lockTimeout}`,
    );
  }
  const pool = new PgPool({
    url: options.url,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    ...(options.log ? { log: options.log } : {}),
  });
  try {
    const { applied } = await migratePostgres(
      pool,
      options.migrations ? { migrations: options.migrations } : {},
    );
    const schema = (await pool.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    return new PostgresBackend(pool, {
      schema,
      lockTimeoutMs: lockTimeout,
      migrationsApplied: applied.map((m) => m.name),
    });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
}

interface ResourceRow {
  id: string;
  name: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: JsonObject;
  status: JsonObject;
  version: number;
  created_at: Date;
  updated_at: Date;
}

/** A resource as a batch sees it: JSON kept as text, so snapshots need no re-serialising. */
interface Current {
  id: string;
  version: number;
  labels: string;
  annotations: string;
  spec: string;
}

/** The state of one (kind, name) during a batch: as read under lock, and after the changes so far. */
interface Slot {
  kind: DeclaredKind;
  name: string;
  original: Current | null;
  current: Current | null;
}

interface HistoryRow {
  kind: DeclaredKind;
  name: string;
  id: string;
  version: number;
  action: AppliedChange['op'];
  snapshot: Current;
}

interface ExecutionRow {
  id: string;
  target: string;
  session_id: string | null;
  phase: ExecutionPhase;
  spec: { input?: JsonObject; resumedFrom?: string };
  status: {
    output?: JsonObject;
    error?: string | null;
    usage?: TokenUsage;
    transcriptArtifactId?: string | null;
    tasks?: TaskExecution[];
  };
  context_spec: { environmentRefs?: string[] } | null;
  started_at: Date | null;
  finished_at: Date | null;
  heartbeat_at: Date | null;
  lease_until: Date | null;
  created_at: Date;
  updated_at: Date;
}

type ExecutionKind = Execution['kind'];

const EXECUTION_TABLES: Record<ExecutionKind, { table: string; target: string; session: boolean }> = {
  AgentExecution: { table: 'agent_executions', target: 'agent_name', session: true },
  WorkflowExecution: { table: 'workflow_executions', target: 'workflow_name', session: false },
};

const RESOURCE_COLUMNS = 'id, name, labels, annotations, spec, status, version, created_at, updated_at';
/** The database clock at millisecond precision (what SQLite's ISO strings carry). */
const NOW = "date_trunc('milliseconds', clock_timestamp())";

/** The PostgreSQL implementation of Backend. */
export class PostgresBackend implements Backend {
  readonly info: BackendInfo;
  /** Names of the migrations this open applied (empty when the schema was already current). */
  readonly migrationsApplied: readonly string[];
  private readonly pool: PgPool;
  private readonly schema: string;
  private readonly lockTimeoutMs: number;
  private closed = false;

  /** Use `openPostgresBackend`. */
  constructor(
    pool: PgPool,
    options: {
      schema: string;
      lockTimeoutMs: number;
      migrationsApplied: string[];
    },
  ) {
    this.pool = pool;
    this.info = { type: 'postgres', location: pool.location };
    this.schema = options.schema;
    this.lockTimeoutMs = options.lockTimeoutMs;
    this.migrationsApplied = options.migrationsApplied;
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new StigmerError('BACKEND', `the backend for ${this.info.location} is closed`, {
        userFixable: false,
      });
    }
  }

  async listResources(kind: DeclaredKind, options: ListOptions = {}): Promise<Page<StoredResource>> {
    const t = tableOf(kind);
    const size = pageSize(options.pageSize, DEFAULT_PAGE_SIZE);
    const after = options.pageToken === undefined ? '' : decodePageToken(options.pageToken, kind);
    this.checkOpen();
    const { rows } = await this.pool.query<ResourceRow>(
      `SELECT ${RESOURCE_COLUMNS} FROM ${t} WHERE name > $1 ORDER BY name LIMIT $2`,
      [after, size + 1],
      `page-${t}`,
    );
    const items = rows.slice(0, size).map((r) => toResource(kind, r));
    const page: Page<StoredResource> = { items };
    if (rows.length > size) page.nextPageToken = encodePageToken(kind, items.at(-1)!.name);
    return page;
  }

  async listAllResources(kind: DeclaredKind): Promise<StoredResource[]> {
    const t = tableOf(kind);
    this.checkOpen();
    const { rows } = await this.pool.query<ResourceRow>(
      `SELECT ${RESOURCE_COLUMNS} FROM ${t} ORDER BY name`,
      [],
      `all-${t}`,
    );
    return rows.map((r) => toResource(kind, r));
  }

  async getResource(kind: DeclaredKind, name: string): Promise<StoredResource | null> {
    const t = tableOf(kind);
    this.checkOpen();
    const { rows } = await this.pool.query<ResourceRow>(
      `SELECT ${RESOURCE_COLUMNS} FROM ${t} WHERE name = $1`,
      [name],
      `get-${t}`,
    );
    return rows[0] ? toResource(kind, rows[0]) : null;
  }

  /**
   * The store's id and its change counter, bumped in the same transaction as every committed
   * batch, through any server: equal tokens mean no resource changed in between.
   */
  async stateToken(): Promise<string> {
    this.checkOpen();
    const { rows } = await this.pool.query<{ store_id: string; changes: string }>(
      'SELECT store_id, changes FROM stigmer_state',
      [],
      'state-token',
    );
    const row = rows[0];
    if (!row)
      throw new StigmerError('BACKEND', `${this.info.location} has no stigmer_state row`, {
        userFixable: false,
      });
    return `${row.store_id}:${row.changes}`;
  }

  /**
   * The number of resource writes ever committed to this database, through any server (one
   * per create, update or delete, bumped in the batch's transaction): what `stigmer server`
   * sends as StateToken, so that a cloud client can tell its own writes from everyone else's.
   */
  async changeCounter(): Promise<number> {
    this.checkOpen();
    const { rows } = await this.pool.query<{ changes: string }>(
      'SELECT changes FROM stigmer_state',
      [],
      'change-counter',
    );
    const row = rows[0];
    if (!row)
      throw new StigmerError('BACKEND', `${this.info.location} has no stigmer_state row`, {
        userFixable: false,
      });
    return Number(row.changes);
  }

  async applyChanges(changes: ResourceChange[], options: ApplyChangesOptions = {}): Promise<AppliedChange[]> {
    if (!Array.isArray(changes)) throw new StigmerError('USAGE', 'applyChanges expects an array of changes');
    for (const change of changes) checkChange(change);
    this.checkOpen();
    if (changes.length === 0) return [];
    const message = options.message ?? null;
    const project = options.project;
    const requestId = checkRequestId(options.requestId);
    const batchHash = requestId === null ? '' : hashBatch(changes, options);
    return this.pool.transaction(
      async (client, begun) => {
        const now = timeOf(begun);
        // Under the project's advisory lock: a retry through another server waits for the
        // first attempt's commit and then finds its row.
        if (requestId !== null) {
          const { rows } = await client.query<{ batch_hash: string; results: AppliedChange[] }>({
            name: 'get-request',
            text: 'SELECT batch_hash, results FROM apply_requests WHERE request_id = $1',
            values: [requestId],
          });
          const earlier = rows[0];
          if (earlier) {
            if (earlier.batch_hash !== batchHash) throw requestIdReused(requestId);
            return earlier.results;
          }
        }
        const out = await this.applyBatch(client, changes, message, now, project);
        if (requestId !== null) {
          await client.query({
            name: 'prune-requests',
            text: "DELETE FROM apply_requests WHERE created_at < $1::timestamptz - interval '1 day'",
            values: [now],
          });
          await client.query({
            name: 'insert-request',
            text: 'INSERT INTO apply_requests (request_id, batch_hash, results, created_at) VALUES ($1, $2, $3::jsonb, $4)',
            values: [requestId, batchHash, JSON.stringify(out), now],
          });
        }
        return out;
      },
      [
        'BEGIN',
        `SET LOCAL lock_timeout = ${this.lockTimeoutMs}`,
        `SELECT pg_advisory_xact_lock(${advisoryKey('stigmer:apply', this.schema, project ?? '')})`,
        `SELECT ${NOW} AS now`,
      ].join('; '),
    );
  }

  /** The body of one batch transaction; throws (rolling everything back) on the first conflict. */
  private async applyBatch(
    client: PgClient,
    changes: ResourceChange[],
    message: string | null,
    now: string,
    project: string | undefined,
  ): Promise<AppliedChange[]> {
    const slots = await this.lockRows(client, changes);
    const out: AppliedChange[] = [];
    const history: HistoryRow[] = [];
    for (const change of changes) {
      const slot = slots.get(change.kind)!.get(change.name)!;
      const applied = applyOne(slot, change, history, project);
      if (applied) out.push(applied);
    }
    await this.writeSlots(client, slots, now);
    if (history.length > 0) {
      await client.query({
        name: 'insert-history',
        text: `INSERT INTO api_resource_versions
                 (kind, name, resource_id, version, action, labels, annotations, spec, message, created_at)
               SELECT u.kind, u.name, u.id, u.version, u.action, u.labels, u.annotations, u.spec, $2, $3
               FROM json_to_recordset($1::json)
                 AS u(ord int, kind text, name text, id text, version int, action text, labels json,
                      annotations json, spec json)
               ORDER BY u.ord`,
        values: [
          jsonRows(history, (h, i) => [
            ['ord', String(i)],
            ['kind', JSON.stringify(h.kind)],
            ['name', JSON.stringify(h.name)],
            ['id', JSON.stringify(h.id)],
            ['version', String(h.version)],
            ['action', JSON.stringify(h.action)],
            ['labels', h.snapshot.labels],
            ['annotations', h.snapshot.annotations],
            ['spec', h.snapshot.spec],
          ]),
          message,
          now,
        ],
      });
      // One per write, like the history rows: a batch of N writes adds exactly N.
      await client.query({
        name: 'bump-state',
        text: 'UPDATE stigmer_state SET changes = changes + $1',
        values: [history.length],
      });
    }
    return out;
  }

  /** Reads every resource the batch names, locking the rows (kinds in order, names sorted). */
  private async lockRows(
    client: PgClient,
    changes: ResourceChange[],
  ): Promise<Map<DeclaredKind, Map<string, Slot>>> {
    const names = new Map<DeclaredKind, Set<string>>();
    for (const change of changes) {
      const set = names.get(change.kind) ?? new Set<string>();
      names.set(change.kind, set);
      set.add(change.name);
    }
    const slots = new Map<DeclaredKind, Map<string, Slot>>();
    for (const kind of DECLARED_KINDS) {
      const wanted = names.get(kind);
      if (!wanted) continue;
      const t = tableOf(kind);
      const { rows } = await client.query<Current & { name: string }>({
        name: `lock-${t}`,
        text: `SELECT id, name, version, labels::text AS labels, annotations::text AS annotations, spec::text AS spec
               FROM ${t} WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE`,
        values: [[...wanted]],
      });
      const found = new Map(rows.map((r) => [r.name, r]));
      const bySlot = new Map<string, Slot>();
      for (const name of wanted) {
        const r = found.get(name);
        const original = r
          ? { id: r.id, version: r.version, labels: r.labels, annotations: r.annotations, spec: r.spec }
          : null;
        bySlot.set(name, { kind, name, original, current: original });
      }
      slots.set(kind, bySlot);
    }
    return slots;
  }

  /** Writes the net effect of the batch on every slot: deletes first, then inserts and updates. */
  private async writeSlots(client: PgClient, slots: Map<DeclaredKind, Map<string, Slot>>, now: string) {
    for (const kind of DECLARED_KINDS) {
      const bySlot = slots.get(kind);
      if (!bySlot) continue;
      const t = tableOf(kind);
      const deletes: string[] = [];
      const inserts: Array<Current & { name: string }> = [];
      const updates: Current[] = [];
      for (const slot of [...bySlot.values()].sort((a, b) => cmp(a.name, b.name))) {
        const { original, current } = slot;
        if (original && (!current || current.id !== original.id)) deletes.push(original.id);
        if (current && (!original || current.id !== original.id))
          inserts.push({ ...current, name: slot.name });
        else if (current && original && current.version !== original.version) updates.push(current);
      }
      if (deletes.length > 0) {
        await client.query({
          name: `delete-${t}`,
          text: `DELETE FROM ${t} WHERE id = ANY($1::text[])`,
          values: [deletes],
        });
      }
      if (inserts.length > 0) {
        const { rows } = await client.query<{ name: string }>({
          name: `insert-${t}`,
          text: `INSERT INTO ${t} (id, name, labels, annotations, spec, status, version, created_at, updated_at)
                 SELECT u.id, u.name, u.labels, u.annotations, u.spec, '{}', u.version, $2, $2
                 FROM json_to_recordset($1::json)
                   AS u(id text, name text, labels json, annotations json, spec json, version int)
                 ORDER BY u.name
                 ON CONFLICT (name) DO NOTHING
                 RETURNING name`,
          values: [jsonRows(inserts, resourceFields), now],
        });
        if (rows.length !== inserts.length) await this.raceLost(client, kind, inserts, rows);
      }
      if (updates.length > 0) {
        await client.query({
          name: `update-${t}`,
          text: `UPDATE ${t} SET labels = u.labels, annotations = u.annotations, spec = u.spec,
                   version = u.version, updated_at = $2
                 FROM json_to_recordset($1::json)
                   AS u(id text, labels json, annotations json, spec json, version int)
                 WHERE ${t}.id = u.id`,
          values: [jsonRows(updates, resourceFields), now],
        });
      }
    }
  }

  /**
   * Another transaction (another project's apply, on any server) created a name this batch
   * creates, after this batch found it absent: the same conflict as a stale expected version.
   */
  private async raceLost(
    client: PgClient,
    kind: DeclaredKind,
    inserts: Array<{ name: string }>,
    inserted: Array<{ name: string }>,
  ): Promise<never> {
    const done = new Set(inserted.map((r) => r.name));
    const lost = inserts.find((r) => !done.has(r.name))!.name;
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${tableOf(kind)} WHERE name = $1`,
      [lost],
    );
    throw new ConflictError(kind, lost, null, rows[0]?.version ?? null);
  }

  async deleteResource(
    kind: DeclaredKind,
    name: string,
    options: { expectedVersion?: number; message?: string } = {},
  ): Promise<AppliedChange> {
    const change: ResourceChange = { op: 'delete', kind, name };
    if (options.expectedVersion !== undefined) change.expectedVersion = options.expectedVersion;
    const [applied] = await this.applyChanges(
      [change],
      options.message === undefined ? {} : { message: options.message },
    );
    return applied!;
  }

  async listVersions(kind: DeclaredKind, name: string): Promise<HistoryEntry[]> {
    tableOf(kind);
    this.checkOpen();
    const { rows } = await this.pool.query<{
      name: string;
      resource_id: string;
      version: number;
      action: HistoryEntry['action'];
      labels: Record<string, string>;
      annotations: Record<string, string>;
      spec: JsonObject;
      message: string | null;
      created_at: Date;
    }>(
      `SELECT name, resource_id, version, action, labels, annotations, spec, message, created_at
       FROM api_resource_versions WHERE kind = $1 AND name = $2 ORDER BY seq`,
      [kind, name],
      'history',
    );
    return rows.map((r) => ({
      kind,
      name: r.name,
      resourceId: r.resource_id,
      version: r.version,
      action: r.action,
      snapshot: { labels: r.labels, annotations: r.annotations, spec: r.spec },
      message: r.message,
      createdAt: r.created_at.toISOString(),
    }));
  }

  async status(): Promise<BackendStatus> {
    this.checkOpen();
    const kinds = Object.keys(KINDS) as Kind[];
    const columns = kinds.map((k) => `(SELECT count(*) FROM ${KINDS[k].table}) AS "${k}"`).join(', ');
    const { rows } = await this.pool.query<Record<string, string>>(
      `SELECT (SELECT coalesce(max(version), 0) FROM schema_version) AS schema_version, ${columns}`,
      [],
      'status',
    );
    const row = rows[0]!;
    const counts: Record<string, number> = {};
    for (const k of kinds) counts[k] = Number(row[k]);
    return { info: { ...this.info }, schemaVersion: Number(row.schema_version), counts };
  }

  /** One transaction for an execution write, with the database's time of it. */
  private write<T>(fn: (client: PgClient, now: string) => Promise<T>): Promise<T> {
    this.checkOpen();
    return this.pool.transaction(async (client, begun) => {
      return fn(client, timeOf(begun));
    }, `BEGIN; SELECT ${NOW} AS now`);
  }

  async createExecution(input: CreateExecutionInput): Promise<Execution> {
    const kind = input?.kind;
    if (kind !== 'AgentExecution' && kind !== 'WorkflowExecution') {
      throw new StigmerError(
        'USAGE',
        `execution kind must be AgentExecution or WorkflowExecution, got "${String(kind)}"`,
      );
    }
    if (!isPlainObject(input.input)) throw new StigmerError('USAGE', 'execution input must be an object');
    const refs = input.environmentRefs ?? [];
    if (!Array.isArray(refs) || refs.some((r) => typeof r !== 'string')) {
      throw new StigmerError('USAGE', 'environmentRefs must be a list of Environment names');
    }
    if (input.resumedFrom !== undefined && typeof input.resumedFrom !== 'string') {
      throw new StigmerError('USAGE', 'resumedFrom must be an execution id');
    }
    const targetKind: DeclaredKind = kind === 'AgentExecution' ? 'Agent' : 'Workflow';
    const e = EXECUTION_TABLES[kind];
    return this.write(async (client, now) => {
      const target = await client.query(`SELECT 1 FROM ${tableOf(targetKind)} WHERE name = $1`, [
        input.target,
      ]);
      if (target.rowCount === 0) throw new NotFoundError(targetKind, String(input.target));
      const id = newId(KINDS[kind].idPrefix);
      let sessionId: string | null = null;
      if (e.session) {
        if (input.sessionId !== undefined) {
          const found = await client.query('SELECT 1 FROM sessions WHERE id = $1', [input.sessionId]);
          if (found.rowCount === 0) {
            throw new StigmerError('NOT_FOUND', `session "${input.sessionId}" not found`, {
              hint: 'omit the session to start a new conversation',
            });
          }
          sessionId = input.sessionId;
        } else {
          sessionId = newId(KINDS.Session.idPrefix);
          await client.query(
            `INSERT INTO sessions (id, name, agent_name, version, created_at, updated_at) VALUES ($1, $1, $2, 1, $3, $3)`,
            [sessionId, input.target, now],
          );
        }
      }
      if (input.resumedFrom !== undefined && (await readExecution(client, input.resumedFrom)).kind !== kind) {
        throw new StigmerError(
          'USAGE',
          `execution ${input.resumedFrom} is not a${kind === 'AgentExecution' ? 'n agent' : ' workflow'} execution`,
        );
      }
      const spec = JSON.stringify(
        input.resumedFrom === undefined
          ? { input: input.input }
          : { input: input.input, resumedFrom: input.resumedFrom },
      );
      const status = JSON.stringify({ output: {}, error: null });
      if (e.session) {
        await client.query(
          `INSERT INTO ${e.table} (id, name, ${e.target}, session_id, phase, spec, status, version, created_at, updated_at)
           VALUES ($1, $1, $2, $3, 'PENDING', $4, $5, 1, $6, $6)`,
          [id, input.target, sessionId, spec, status, now],
        );
      } else {
        await client.query(
          `INSERT INTO ${e.table} (id, name, ${e.target}, phase, spec, status, version, created_at, updated_at)
           VALUES ($1, $1, $2, 'PENDING', $3, $4, 1, $5, $5)`,
          [id, input.target, spec, status, now],
        );
      }
      await client.query(
        `INSERT INTO execution_contexts (id, name, execution_id, spec, version, created_at, updated_at)
         VALUES ($1, $1, $2, $3, 1, $4, $4)`,
        [newId(KINDS.ExecutionContext.idPrefix), id, JSON.stringify({ environmentRefs: refs }), now],
      );
      return readExecution(client, id);
    });
  }

  async getExecution(id: string): Promise<Execution> {
    this.checkOpen();
    return readExecution(this.pool, id);
  }

  async updateExecutionStatus(id: string, update: ExecutionUpdate): Promise<Execution> {
    checkExecutionUpdate(update);
    return this.write((client, now) => transition(client, id, update, now));
  }

  async heartbeatExecution(id: string, options: { leaseMs: number }): Promise<Execution> {
    if (!isLease(options?.leaseMs)) throw leaseError(options?.leaseMs);
    return this.write(async (client, now) => {
      const current = await readExecution(client, id, true);
      await client.query(
        `UPDATE ${EXECUTION_TABLES[current.kind].table} SET heartbeat_at = $1, lease_until = $2, updated_at = $1
         WHERE id = $3 AND phase IN ('PENDING', 'RUNNING')`,
        [now, leaseUntil(new Date(now), options.leaseMs), id],
      );
      return readExecution(client, id);
    });
  }

  async getSession(id: string): Promise<Session> {
    this.checkOpen();
    return readSession(this.pool, id);
  }

  async cancelExecution(id: string): Promise<Execution> {
    return this.write(async (client, now) => {
      const current = await readExecution(client, id, true);
      if (current.phase === 'CANCELLED') return current;
      return transition(client, id, { phase: 'CANCELLED', error: current.error ?? 'cancelled' }, now);
    });
  }

  async listExecutions(
    filter: { kind?: ExecutionKind; target?: string; pageSize?: number } = {},
  ): Promise<Execution[]> {
    const size = pageSize(filter.pageSize, DEFAULT_EXECUTION_PAGE_SIZE);
    const kinds: ExecutionKind[] = filter.kind ? [filter.kind] : ['AgentExecution', 'WorkflowExecution'];
    this.checkOpen();
    const all: Execution[] = [];
    for (const kind of kinds) {
      const e = EXECUTION_TABLES[kind];
      if (!e) throw new StigmerError('USAGE', `unknown execution kind "${String(kind)}"`);
      await expireLost(this.pool, kind, null);
      const { rows } = await this.pool.query<ExecutionRow>(
        `SELECT ${executionColumns(kind)} FROM ${e.table}
         WHERE ($1::text IS NULL OR ${e.target} = $1) ORDER BY created_at DESC, id DESC LIMIT $2`,
        [filter.target ?? null, size],
        `list-${e.table}`,
      );
      for (const row of rows) all.push(toExecution(kind, row));
    }
    all.sort((a, b) => (a.createdAt === b.createdAt ? cmp(b.id, a.id) : cmp(b.createdAt, a.createdAt)));
    return all.slice(0, size);
  }

  async getExecutionContext(executionId: string): Promise<ExecutionContext> {
    this.checkOpen();
    await readExecution(this.pool, executionId);
    const ctx = await this.pool.query<{ spec: { environmentRefs?: string[] } }>(
      'SELECT spec FROM execution_contexts WHERE execution_id = $1',
      [executionId],
    );
    const refs = ctx.rows[0]?.spec.environmentRefs ?? [];
    const envs = await this.pool.query<{ name: string; spec: JsonObject }>(
      'SELECT name, spec FROM environments WHERE name = ANY($1::text[])',
      [refs],
    );
    const byName = new Map(envs.rows.map((r) => [r.name, r.spec]));
    return executionContextOf(executionId, refs, (name) => byName.get(name));
  }

  async storeArtifact(input: {
    executionId?: string;
    name: string;
    contentType: string;
    data: Uint8Array;
  }): Promise<Artifact> {
    if (typeof input?.name !== 'string' || input.name === '' || !(input.data instanceof Uint8Array)) {
      throw new StigmerError('USAGE', 'an artifact needs a name and its data as bytes');
    }
    return this.write(async (client, now) => {
      if (input.executionId !== undefined) await readExecution(client, input.executionId);
      const id = newId('art_');
      const data = Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength);
      await client.query(
        `INSERT INTO artifacts (id, execution_id, name, content_type, data, size, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          id,
          input.executionId ?? null,
          input.name,
          input.contentType || 'application/octet-stream',
          data,
          data.byteLength,
          now,
        ],
      );
      return readArtifact(client, id);
    });
  }

  async getArtifact(id: string): Promise<Artifact> {
    this.checkOpen();
    return readArtifact(this.pool, id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

/**
 * A JSON array of objects, one per item, as one text parameter: PostgreSQL reads it with
 * `json_to_recordset` in one go. Values are JSON texts already (the specs are kept as text), so
 * the array is joined, not re-serialised: node-postgres's own array parameters escape every
 * element and cost far more at 10,000 rows.
 */
function jsonRows<T>(items: T[], fields: (item: T, index: number) => Array<[string, string]>): string {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) {
    const f = fields(items[i]!, i);
    parts.push(`{${f.map(([k, v]) => `"${k}":${v}`).join(',')}}`);
  }
  return `[${parts.join(',')}]`;
}

function resourceFields(r: Current & { name?: string }): Array<[string, string]> {
  const f: Array<[string, string]> = [
    ['id', JSON.stringify(r.id)],
    ['version', String(r.version)],
    ['labels', r.labels],
    ['annotations', r.annotations],
    ['spec', r.spec],
  ];
  if (r.name !== undefined) f.push(['name', JSON.stringify(r.name)]);
  return f;
}

/** The ISO time selected by the last statement of a transaction's opening round trip. */
function timeOf(begun: Array<{ rows: unknown[] }>): string {
  const row = begun.at(-1)?.rows[0] as { now?: unknown } | undefined;
  if (!(row?.now instanceof Date))
    throw new StigmerError('INTERNAL', 'the transaction did not report its time');
  return row.now.toISOString();
}

function tableOf(kind: DeclaredKind): string {
  if (!(DECLARED_KINDS as readonly string[]).includes(kind)) throw unknownKind(kind);
  return KINDS[kind].table;
}

/**
 * One change against its slot, the same rules as the SQLite store's applyOne: ownership and
 * prevent-destroy (when the batch names its project) against the row as the batch has it.
 */
function applyOne(
  slot: Slot,
  change: ResourceChange,
  history: HistoryRow[],
  project: string | undefined,
): AppliedChange | null {
  const { kind, name } = change;
  const current = slot.current;
  const actual = current ? current.version : null;
  if (project !== undefined) {
    const live = current ? (JSON.parse(current.annotations) as Record<string, string>) : null;
    checkOwnership(change, live, project);
  }
  switch (change.op) {
    case 'assert':
      if (actual !== change.expectedVersion)
        throw new ConflictError(kind, name, change.expectedVersion, actual);
      return null;
    case 'create': {
      if (current) throw new ConflictError(kind, name, null, actual);
      const next: Current = { id: newId(KINDS[kind].idPrefix), version: 1, ...snapshot(change) };
      slot.current = next;
      history.push({ kind, name, id: next.id, version: 1, action: 'create', snapshot: next });
      return { op: 'create', kind, name, id: next.id, version: 1 };
    }
    case 'update': {
      if (!current) {
        if (change.expectedVersion === undefined) throw new NotFoundError(kind, name);
        throw new ConflictError(kind, name, change.expectedVersion, null);
      }
      if (change.expectedVersion !== undefined && change.expectedVersion !== current.version) {
        throw new ConflictError(kind, name, change.expectedVersion, current.version);
      }
      const next: Current = { id: current.id, version: current.version + 1, ...snapshot(change) };
      slot.current = next;
      history.push({ kind, name, id: next.id, version: next.version, action: 'update', snapshot: next });
      return { op: 'update', kind, name, id: next.id, version: next.version };
    }
    case 'delete': {
      if (!current) {
        if (change.expectedVersion === undefined) throw new NotFoundError(kind, name);
        throw new ConflictError(kind, name, change.expectedVersion, null);
      }
      if (change.expectedVersion !== undefined && change.expectedVersion !== current.version) {
        throw new ConflictError(kind, name, change.expectedVersion, current.version);
      }
      slot.current = null;
      history.push({
        kind,
        name,
        id: current.id,
        version: current.version,
        action: 'delete',
        snapshot: current,
      });
      return { op: 'delete', kind, name, id: current.id, version: current.version };
    }
  }
}

function snapshot(change: {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: JsonObject;
}): { labels: string; annotations: string; spec: string } {
  return {
    labels: JSON.stringify(change.labels ?? {}),
    annotations: JSON.stringify(change.annotations ?? {}),
    spec: JSON.stringify(change.spec ?? {}),
  };
}

function toResource(kind: DeclaredKind, r: ResourceRow): StoredResource {
  return {
    id: r.id,
    kind,
    name: r.name,
    labels: r.labels,
    annotations: r.annotations,
    spec: r.spec,
    status: r.status,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

function executionColumns(kind: ExecutionKind): string {
  const e = EXECUTION_TABLES[kind];
  return `id, ${e.target} AS target, ${e.session ? 'session_id' : 'NULL::text AS session_id'}, phase, spec, status,
    (SELECT c.spec FROM execution_contexts c WHERE c.execution_id = ${e.table}.id) AS context_spec,
    started_at, finished_at, heartbeat_at, lease_until, created_at, updated_at`;
}

/**
 * Records unfinished runs whose lease has passed as FAILED, "runner lost" (one run, or with
 * `id` null every one of the kind). A no-op unless such a run exists (partial index).
 */
async function expireLost(db: Db, kind: ExecutionKind, id: string | null): Promise<void> {
  const table = EXECUTION_TABLES[kind].table;
  const expired = `phase IN ('PENDING', 'RUNNING') AND lease_until IS NOT NULL AND lease_until < ${NOW}`;
  const found = await db.query(
    `SELECT 1 FROM ${table} WHERE ($1::text IS NULL OR id = $1) AND ${expired} LIMIT 1`,
    [id],
  );
  if (found.rowCount === 0) return;
  await db.query(
    `UPDATE ${table} SET phase = 'FAILED',
       status = (status::jsonb || jsonb_build_object('error', 'runner lost: no heartbeat since ' ||
         to_char(coalesce(heartbeat_at, started_at, created_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')))::json,
       finished_at = ${NOW}, version = version + 1, updated_at = ${NOW}
     WHERE ($1::text IS NULL OR id = $1) AND ${expired}`,
    [id],
  );
}

interface SessionRow {
  id: string;
  agent_name: string | null;
  status: { messages?: JsonObject[] };
  created_at: Date;
  updated_at: Date;
}

async function readSession(db: Db, id: string, forUpdate = false): Promise<Session> {
  const { rows } = await db.query<SessionRow>(
    `SELECT id, agent_name, status, created_at, updated_at FROM sessions WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  const row = rows[0];
  if (!row) {
    throw new StigmerError('NOT_FOUND', `session "${String(id)}" not found`, {
      hint: 'omit --session to start a new conversation',
    });
  }
  return {
    id: row.id,
    agent: row.agent_name,
    messages: row.status.messages ?? [],
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

async function readExecution(db: Db, id: string, forUpdate = false): Promise<Execution> {
  const kind = executionKindOf(id);
  if (kind) await expireLost(db, kind, id);
  const rows = kind
    ? (
        await db.query<ExecutionRow>(
          `SELECT ${executionColumns(kind)} FROM ${EXECUTION_TABLES[kind].table} WHERE id = $1${forUpdate ? ' FOR UPDATE' : ''}`,
          [id],
        )
      ).rows
    : [];
  if (!kind || !rows[0]) {
    throw new StigmerError('NOT_FOUND', `execution "${id}" not found`, {
      hint: 'execution ids start with aex_ (agent) or wex_ (workflow)',
    });
  }
  return toExecution(kind, rows[0]);
}

/** Moves an execution to a phase; a finished execution (COMPLETED, FAILED, CANCELLED) never changes. */
async function transition(
  client: PgClient,
  id: string,
  update: ExecutionUpdate,
  now: string,
): Promise<Execution> {
  const current = await readExecution(client, id, true);
  const table = EXECUTION_TABLES[current.kind].table;
  if (current.phase === 'CANCELLED' && update.phase === 'CANCELLED') {
    // A cancel from elsewhere ends the record first; the runner then adds its results to it.
    const status = {
      output: current.output,
      error: current.error,
      usage: update.usage ?? current.usage,
      transcriptArtifactId: update.transcriptArtifactId ?? current.transcriptArtifactId,
      tasks: update.tasks ?? current.tasks,
    };
    await client.query(
      `UPDATE ${table} SET status = $1, lease_until = NULL, version = version + 1, updated_at = $2 WHERE id = $3`,
      [JSON.stringify(status), now, id],
    );
    return readExecution(client, id);
  }
  if (TERMINAL.has(current.phase)) {
    throw new StigmerError(
      'CONFLICT',
      `execution ${id} is already ${current.phase} and cannot become ${update.phase}`,
      { hint: 'start a new execution' },
    );
  }
  if (update.phase === 'PENDING' && current.phase !== 'PENDING') {
    throw new StigmerError('CONFLICT', `execution ${id} is ${current.phase} and cannot go back to PENDING`);
  }
  const status = {
    output: update.output ?? current.output,
    error: update.error === undefined ? current.error : update.error,
    usage: update.usage ?? current.usage,
    transcriptArtifactId: update.transcriptArtifactId ?? current.transcriptArtifactId,
    tasks: update.tasks ?? current.tasks,
  };
  const finished = TERMINAL.has(update.phase);
  const leased = update.leaseMs !== undefined && !finished;
  await client.query(
    `UPDATE ${table}
     SET phase = $1, status = $2, started_at = $3, finished_at = $4, heartbeat_at = $5, lease_until = $6,
       version = version + 1, updated_at = $7
     WHERE id = $8`,
    [
      update.phase,
      JSON.stringify(status),
      current.startedAt ?? (update.phase === 'RUNNING' ? now : null),
      finished ? now : null,
      leased ? now : current.heartbeatAt,
      finished ? null : leased ? leaseUntil(new Date(now), update.leaseMs!) : current.leaseUntil,
      now,
      id,
    ],
  );
  if (update.sessionMessages !== undefined && update.sessionMessages.length > 0) {
    if (current.sessionId === undefined) {
      throw new StigmerError('USAGE', `execution ${id} has no session to append messages to`);
    }
    const session = await readSession(client, current.sessionId, true);
    await client.query(
      'UPDATE sessions SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3',
      [JSON.stringify({ messages: [...session.messages, ...update.sessionMessages] }), now, session.id],
    );
  }
  return readExecution(client, id);
}

function toExecution(kind: ExecutionKind, r: ExecutionRow): Execution {
  const execution: Execution = {
    id: r.id,
    kind,
    target: r.target,
    phase: r.phase,
    input: r.spec.input ?? {},
    output: r.status.output ?? {},
    error: r.status.error ?? null,
    environmentRefs: r.context_spec?.environmentRefs ?? [],
    resumedFrom: r.spec.resumedFrom ?? null,
    startedAt: r.started_at?.toISOString() ?? null,
    finishedAt: r.finished_at?.toISOString() ?? null,
    heartbeatAt: r.heartbeat_at?.toISOString() ?? null,
    leaseUntil: r.lease_until?.toISOString() ?? null,
    usage: { ...NO_USAGE, ...r.status.usage },
    transcriptArtifactId: r.status.transcriptArtifactId ?? null,
    tasks: r.status.tasks ?? [],
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
  if (r.session_id !== null) execution.sessionId = r.session_id;
  return execution;
}

async function readArtifact(db: Db, id: string): Promise<Artifact> {
  const { rows } = await db.query<{
    id: string;
    execution_id: string | null;
    name: string;
    content_type: string;
    data: Buffer;
    created_at: Date;
  }>('SELECT id, execution_id, name, content_type, data, created_at FROM artifacts WHERE id = $1', [id]);
  const row = rows[0];
  if (!row) throw new StigmerError('NOT_FOUND', `artifact "${id}" not found`);
  return {
    id: row.id,
    executionId: row.execution_id,
    name: row.name,
    contentType: row.content_type,
    data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength),
    createdAt: row.created_at.toISOString(),
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
