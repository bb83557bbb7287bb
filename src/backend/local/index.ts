/**
 * The local backend (DESIGN.md §3): the Backend contract over one SQLite file, through the
 * driver seam of `driver.ts` (better-sqlite3 for the CLI, `node:sqlite` for the Action). Opening
 * creates the file (0600) and its directory (0700), switches to WAL with foreign keys
 * on and a busy timeout, and applies pending migrations. Every write runs in a `BEGIN
 * IMMEDIATE` transaction (one per applyChanges batch: all or nothing) and appends a snapshot to
 * `api_resource_versions`. Statements are prepared once at open; listing is one SELECT per
 * page (keyset paging on name), never a query per row. SQLite errors are translated once, in
 * `guard`, so callers only ever see StigmerErrors.
 */
import { createHash, randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { ConflictError, NotFoundError, StigmerError } from '../../errors.js';
import { createPrivateFile, ensurePrivateDir } from '../../private-files.js';
import { lazyStoredResource } from '../../stored-text.js';
import {
  DECLARED_KINDS,
  type DeclaredKind,
  type JsonObject,
  KINDS,
  type Kind,
  type StoredResource,
} from '../../types.js';
import { combineKindDigests, ROW_DIGEST_SQL, RowDigest } from '../digest.js';
import { checkOwnership } from '../ownership.js';
import type {
  AppliedChange,
  ApplyChangesOptions,
  Artifact,
  Backend,
  BackendInfo,
  BackendStatus,
  BulkListOptions,
  CreateExecutionInput,
  Execution,
  ExecutionContext,
  ExecutionPhase,
  ExecutionUpdate,
  HistoryEntry,
  ListOptions,
  Page,
  ResourceChange,
  SealedVariable,
  Session,
  TaskExecution,
  TokenUsage,
} from '../types.js';
import {
  loadSqliteDriver,
  type SqliteDatabase,
  type SqliteDriver,
  type SqliteDriverName,
  type SqliteStatement,
} from './driver.js';
import { type Migration, migrate, readMigrations } from './migrate.js';
import { sqliteErrorCode, translateSqliteError } from './sqlite-errors.js';

export {
  loadSqliteDriver,
  type SqliteDatabase,
  type SqliteDriver,
  type SqliteDriverName,
} from './driver.js';
export { defaultMigrationsDir, migrate, migrationHash, readMigrations } from './migrate.js';

/** Options of `openLocalBackend`. */
export interface LocalBackendOptions {
  /** Database file; created (with its directory) when missing. `:memory:` for a throw-away store. */
  path: string;
  /** How long a writer waits for another process's lock before failing with BUSY. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Migrations to apply instead of the package's `migrations/` directory (tests). */
  migrations?: Migration[];
  /**
   * The SQLite driver, or its name. Default better-sqlite3 (the CLI); the GitHub Action uses
   * `node:sqlite` (Node ≥ 22.13), which needs no native module.
   */
  driver?: SqliteDriver | SqliteDriverName;
}

export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 5000;
/** How long an ApplyChanges request id is remembered with its results. */
export const REQUEST_ID_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_EXECUTION_PAGE_SIZE = 100;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
export const TERMINAL: ReadonlySet<ExecutionPhase> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
export const PHASES: ReadonlySet<string> = new Set([
  'PENDING',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
]);

/** Random bytes for ids, drawn 4 KB at a time (one `randomBytes` call per id cost 0.5 s at 100,000 creates). */
const idPool = { bytes: Buffer.alloc(0), at: 0 };

/** A random id with the kind's prefix: 16 base32 characters (80 bits), e.g. `agt_k3x9...`. */
export function newId(prefix: string): string {
  if (idPool.at + 10 > idPool.bytes.length) {
    idPool.bytes = randomBytes(4096);
    idPool.at = 0;
  }
  const start = idPool.at;
  idPool.at += 10;
  let bits = 0;
  let value = 0;
  let out = prefix;
  for (let i = start; i < start + 10; i++) {
    const byte = idPool.bytes[i] as number;
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out;
}

/**
 * Opens (creating when needed) the SQLite store at `options.path` and brings its schema up to
 * date.
 *
 * @throws StigmerError SCHEMA_TOO_NEW or MIGRATION_CHANGED for a database this program must
 *   not touch; BUSY when another process holds the lock longer than the busy timeout;
 *   BACKEND when the file cannot be created, opened or is not a stigmer database.
 */
export async function openLocalBackend(options: LocalBackendOptions): Promise<LocalBackend> {
  const driver = typeof options.driver === 'object' ? options.driver : await loadSqliteDriver(options.driver);
  return LocalBackend.open(options, driver);
}

interface ResourceRow {
  id: string;
  name: string;
  labels: string;
  annotations: string;
  spec: string;
  status: string;
  version: number;
  created_at: string;
  updated_at: string;
}

interface CurrentRow {
  id: string;
  version: number;
  labels: string;
  annotations: string;
  spec: string;
}

interface HistoryRow {
  kind: string;
  name: string;
  resource_id: string;
  version: number;
  action: 'create' | 'update' | 'delete';
  labels: string;
  annotations: string;
  spec: string;
  message: string | null;
  created_at: string;
}

interface ExecutionRow {
  id: string;
  target: string;
  session_id: string | null;
  phase: ExecutionPhase;
  spec: string;
  status: string;
  context_spec: string | null;
  started_at: string | null;
  finished_at: string | null;
  heartbeat_at: string | null;
  lease_until: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

interface SessionRow {
  id: string;
  agent_name: string | null;
  status: string;
  created_at: string;
  updated_at: string;
}

interface ArtifactRow {
  id: string;
  execution_id: string | null;
  name: string;
  content_type: string;
  data: Uint8Array;
  created_at: string;
}

type Statement = SqliteStatement;

interface KindStatements {
  get: Statement;
  current: Statement;
  page: Statement;
  all: Statement;
  insert: Statement;
  update: Statement;
  delete: Statement;
}

type ExecutionKind = Execution['kind'];

interface ExecutionStatements {
  get: Statement;
  list: Statement;
  insert: Statement;
  update: Statement;
  heartbeat: Statement;
  /** Records unfinished runs whose lease has passed as FAILED ("runner lost"); @id NULL: all. */
  expire: Statement;
  anyExpired: Statement;
}

/** Columns of a resource row; `ResourceArrayRow` follows this order. */
const RESOURCE_COLUMNS = 'id, name, labels, annotations, spec, status, version, created_at, updated_at';

/** Rows per page of resourcesDigest. */
const DIGEST_PAGE_ROWS = 2000;

/** The local SQLite implementation of Backend. */
export class LocalBackend implements Backend {
  readonly info: BackendInfo;
  readonly sharesSpecTexts = true;
  private readonly db: SqliteDatabase;
  /** The SQLite driver this store runs on. */
  readonly driver: SqliteDriverName;
  private readonly kinds: Record<DeclaredKind, KindStatements>;
  private readonly executions: Record<ExecutionKind, ExecutionStatements>;
  private readonly stmt: Record<
    | 'history'
    | 'insertHistory'
    | 'schemaVersion'
    | 'counts'
    | 'sessionExists'
    | 'insertSession'
    | 'insertContext'
    | 'getContext'
    | 'insertArtifact'
    | 'getArtifact'
    | 'changeCounter'
    | 'getRequest'
    | 'insertRequest'
    | 'pruneRequests'
    | 'getSession'
    | 'updateSession'
    | 'dataVersion',
    Statement
  >;
  /** Names of the migrations this open applied (empty when the schema was already current). */
  readonly migrationsApplied: readonly string[];
  private closed = false;

  private constructor(
    db: SqliteDatabase,
    driver: SqliteDriverName,
    location: string,
    migrationsApplied: string[],
  ) {
    this.db = db;
    this.driver = driver;
    this.info = { type: 'local', location };
    this.migrationsApplied = migrationsApplied;
    const kinds = {} as Record<DeclaredKind, KindStatements>;
    for (const kind of DECLARED_KINDS) {
      const t = KINDS[kind].table;
      kinds[kind] = {
        get: db.prepare(`SELECT ${RESOURCE_COLUMNS} FROM ${t} WHERE name = ?`),
        current: db.prepare(`SELECT id, version, labels, annotations, spec FROM ${t} WHERE name = ?`),
        page: db.prepare(`SELECT ${RESOURCE_COLUMNS} FROM ${t} WHERE name > ? ORDER BY name LIMIT ?`),
        all: db.prepareArrays(`SELECT ${RESOURCE_COLUMNS} FROM ${t} ORDER BY name`),
        insert: db.prepare(
          `INSERT INTO ${t} (id, name, labels, annotations, spec, status, version, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, '{}', 1, ?, ?)`,
        ),
        update: db.prepare(
          `UPDATE ${t} SET labels = ?, annotations = ?, spec = ?, version = ?, updated_at = ? WHERE id = ?`,
        ),
        delete: db.prepare(`DELETE FROM ${t} WHERE id = ?`),
      };
    }
    this.kinds = kinds;
    const execStatements = (
      table: string,
      targetColumn: string,
      hasSession: boolean,
    ): ExecutionStatements => {
      const cols = `id, ${targetColumn} AS target, ${hasSession ? 'session_id' : 'NULL AS session_id'}, phase, spec, status,
        (SELECT c.spec FROM execution_contexts c WHERE c.execution_id = ${table}.id) AS context_spec,
        started_at, finished_at, heartbeat_at, lease_until, version, created_at, updated_at`;
      const expired = `phase IN ('PENDING', 'RUNNING') AND lease_until IS NOT NULL AND lease_until < @now`;
      return {
        get: db.prepare(`SELECT ${cols} FROM ${table} WHERE id = ?`),
        list: db.prepare(
          `SELECT ${cols} FROM ${table} WHERE (@target IS NULL OR ${targetColumn} = @target)
           ORDER BY created_at DESC, id DESC LIMIT @limit`,
        ),
        insert: db.prepare(
          hasSession
            ? `INSERT INTO ${table} (id, name, ${targetColumn}, session_id, phase, spec, status, version, created_at, updated_at)
               VALUES (@id, @id, @target, @session, 'PENDING', @spec, @status, 1, @now, @now)`
            : `INSERT INTO ${table} (id, name, ${targetColumn}, phase, spec, status, version, created_at, updated_at)
               VALUES (@id, @id, @target, 'PENDING', @spec, @status, 1, @now, @now)`,
        ),
        update: db.prepare(
          `UPDATE ${table} SET phase = @phase, status = @status, started_at = @started, finished_at = @finished,
             heartbeat_at = @heartbeat, lease_until = @lease, version = version + 1, updated_at = @now
           WHERE id = @id`,
        ),
        heartbeat: db.prepare(
          `UPDATE ${table} SET heartbeat_at = @now, lease_until = @lease, updated_at = @now
           WHERE id = @id AND phase IN ('PENDING', 'RUNNING')`,
        ),
        expire: db.prepare(
          `UPDATE ${table} SET phase = 'FAILED',
             status = json_set(status, '$.error',
               'runner lost: no heartbeat since ' || coalesce(heartbeat_at, started_at, created_at)),
             finished_at = @now, version = version + 1, updated_at = @now
           WHERE (@id IS NULL OR id = @id) AND ${expired}`,
        ),
        anyExpired: db.prepare(`SELECT 1 FROM ${table} WHERE ${expired} LIMIT 1`),
      };
    };
    this.executions = {
      AgentExecution: execStatements('agent_executions', 'agent_name', true),
      WorkflowExecution: execStatements('workflow_executions', 'workflow_name', false),
    };
    const countColumns = (Object.keys(KINDS) as Kind[])
      .map((k) => `(SELECT count(*) FROM ${KINDS[k].table}) AS ${k}`)
      .join(', ');
    this.stmt = {
      history: db.prepare(
        `SELECT kind, name, resource_id, version, action, labels, annotations, spec, message, created_at
         FROM api_resource_versions WHERE kind = ? AND name = ? ORDER BY seq`,
      ),
      insertHistory: db.prepare(
        `INSERT INTO api_resource_versions
           (kind, name, resource_id, version, action, labels, annotations, spec, message, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      schemaVersion: db.prepare('SELECT coalesce(max(version), 0) AS v FROM schema_version'),
      counts: db.prepare(`SELECT ${countColumns}`),
      sessionExists: db.prepare('SELECT 1 FROM sessions WHERE id = ?'),
      insertSession: db.prepare(
        `INSERT INTO sessions (id, name, agent_name, version, created_at, updated_at) VALUES (@id, @id, @agent, 1, @now, @now)`,
      ),
      insertContext: db.prepare(
        `INSERT INTO execution_contexts (id, name, execution_id, spec, version, created_at, updated_at)
         VALUES (@id, @id, @execution, @spec, 1, @now, @now)`,
      ),
      getContext: db.prepare('SELECT spec FROM execution_contexts WHERE execution_id = ?'),
      insertArtifact: db.prepare(
        `INSERT INTO artifacts (id, execution_id, name, content_type, data, size, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      getArtifact: db.prepare(
        'SELECT id, execution_id, name, content_type, data, created_at FROM artifacts WHERE id = ?',
      ),
      changeCounter: db.prepare(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'api_resource_versions'), 0) AS n",
      ),
      getRequest: db.prepare('SELECT batch_hash, results FROM apply_requests WHERE request_id = ?'),
      insertRequest: db.prepare(
        'INSERT INTO apply_requests (request_id, batch_hash, results, created_at) VALUES (?, ?, ?, ?)',
      ),
      pruneRequests: db.prepare('DELETE FROM apply_requests WHERE created_at < ?'),
      getSession: db.prepare(
        'SELECT id, agent_name, status, created_at, updated_at FROM sessions WHERE id = ?',
      ),
      updateSession: db.prepare(
        'UPDATE sessions SET status = @status, version = version + 1, updated_at = @now WHERE id = @id',
      ),
      dataVersion: db.prepare('PRAGMA data_version'),
    };
  }

  /** See `openLocalBackend`; `driver` is the loaded driver (options.driver is ignored). */
  static open(options: LocalBackendOptions, driver: SqliteDriver): LocalBackend {
    const memory = options.path === ':memory:';
    const location = memory ? ':memory:' : resolve(options.path);
    const timeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout < 0) {
      throw new StigmerError(
        'USAGE',
        `lock timeout must be a whole number of milliseconds ≥ 0, got ${timeout}`,
      );
    }
    let db: SqliteDatabase | undefined;
    try {
      if (!memory) {
        // A new database (and so its -wal and -shm files) is readable by its owner only.
        ensurePrivateDir(dirname(location), 'database directory');
        createPrivateFile(location);
      }
      db = driver.open(location, { busyTimeoutMs: timeout });
      db.exec(`PRAGMA busy_timeout = ${timeout}`);
      db.exec('PRAGMA foreign_keys = ON');
      if (!memory) db.exec('PRAGMA journal_mode = WAL');
      const { applied } = migrate(db, { migrations: options.migrations ?? readMigrations(), location });
      return new LocalBackend(
        db,
        driver.name,
        location,
        applied.map((m) => m.name),
      );
    } catch (err) {
      db?.close();
      throw translateSqliteError(err, location);
    }
  }

  /** Runs `fn`, translating SQLite errors; async so the local and remote backends look alike. */
  private async guard<T>(fn: () => T): Promise<T> {
    if (this.closed) {
      throw new StigmerError('BACKEND', `the backend for ${this.info.location} is closed`, {
        userFixable: false,
      });
    }
    try {
      return fn();
    } catch (err) {
      throw translateSqliteError(err, this.info.location);
    }
  }

  /** Runs `fn` in one BEGIN IMMEDIATE transaction: every write of it commits or none does. */
  private write<T>(fn: () => T): Promise<T> {
    return this.guard(() => this.db.transaction(fn));
  }

  listResources(kind: DeclaredKind, options: ListOptions = {}): Promise<Page<StoredResource>> {
    return this.guard(() => {
      const k = this.kindStatements(kind);
      const size = pageSize(options.pageSize, DEFAULT_PAGE_SIZE);
      const after = options.pageToken === undefined ? '' : decodePageToken(options.pageToken, kind);
      const rows = k.page.all(after, size + 1) as ResourceRow[];
      const items = rows.slice(0, size).map((r) => toResource(kind, r));
      const page: Page<StoredResource> = { items };
      if (rows.length > size) page.nextPageToken = encodePageToken(kind, items.at(-1)!.name);
      return page;
    });
  }

  listAllResources(kind: DeclaredKind, options: BulkListOptions = {}): Promise<StoredResource[]> {
    return this.guard(() => {
      // Row by row: a row's own copy of a spec text that `expectedSpecText` already holds is
      // dropped while it is young, instead of every row of the kind being made first.
      const expected = options.expectedSpecText;
      const items: StoredResource[] = [];
      // Texts that repeat from row to row (an empty status; the timestamps of one apply) are
      // kept once: every string kept here survives to the old generation, copied on the way.
      let status = '{}';
      let stamp = '';
      const digest = options.onDigest ? new RowDigest() : null;
      for (const row of this.kindStatements(kind).all.iterate() as IterableIterator<ResourceArrayRow>) {
        digest?.add(row);
        if (expected !== undefined) {
          const text = expected(row[1]);
          if (text === row[4]) row[4] = text;
        }
        if (row[5] === status) row[5] = status;
        else status = row[5];
        if (row[7] === stamp) row[7] = stamp;
        else stamp = row[7];
        if (row[8] === stamp) row[8] = stamp;
        items.push(arrayToResource(kind, row));
      }
      if (digest) options.onDigest?.(digest.digest());
      return items;
    });
  }

  resourcesDigest(): Promise<string> {
    // Kind by kind, in pages of rows that SQLite joins into one text each (the text RowDigest
    // makes of the same rows, so a bulk list's digest equals this one): one hash update per page
    // instead of a JavaScript array per row; as bytes (the UTF-8 RowDigest hashes), never decoded.
    return this.guard(() =>
      combineKindDigests((kind) => {
        const digest = new RowDigest();
        const t = KINDS[kind].table;
        const fields = RESOURCE_COLUMNS.split(', ').join(` || ${ROW_DIGEST_SQL.field} || `);
        const page = this.db.prepare(
          `SELECT CAST(group_concat(r, '') AS BLOB) AS text, max(name) AS last, count(*) AS n FROM
             (SELECT name, ${fields} || ${ROW_DIGEST_SQL.row} AS r FROM ${t} WHERE name > ? ORDER BY name LIMIT ?)`,
        );
        for (let after = ''; ; ) {
          const got = page.get(after, DIGEST_PAGE_ROWS) as {
            text: string | null;
            last: string | null;
            n: number;
          };
          if (got.text !== null) digest.addText(got.text);
          if (got.n < DIGEST_PAGE_ROWS || got.last === null) break;
          after = got.last;
        }
        return digest.digest();
      }),
    );
  }

  getResource(kind: DeclaredKind, name: string): Promise<StoredResource | null> {
    return this.guard(() => {
      const row = this.kindStatements(kind).get.get(name) as ResourceRow | undefined;
      return row ? toResource(kind, row) : null;
    });
  }

  /**
   * SQLite's `PRAGMA data_version` of this connection: it changes when another connection
   * (another process) commits, not on this connection's own writes.
   */
  stateToken(): Promise<string> {
    return this.guard(() => String(Object.values(this.stmt.dataVersion.get() as object)[0]));
  }

  /**
   * The number of resource writes ever committed, by every connection: the AUTOINCREMENT
   * counter of `api_resource_versions` (one row per create, update or delete; never reused,
   * rolled back with its batch).
   */
  changeCounter(): Promise<number> {
    return this.guard(() => (this.stmt.changeCounter.get() as { n: number }).n);
  }

  async applyChanges(changes: ResourceChange[], options: ApplyChangesOptions = {}): Promise<AppliedChange[]> {
    if (!Array.isArray(changes)) throw new StigmerError('USAGE', 'applyChanges expects an array of changes');
    for (const change of changes) checkChange(change);
    const message = options.message ?? null;
    const project = options.project;
    const requestId = checkRequestId(options.requestId);
    const batchHash = requestId === null ? '' : hashBatch(changes, options);
    return this.write(() => {
      const now = new Date().toISOString();
      if (requestId !== null) {
        const earlier = this.replay(requestId, batchHash);
        if (earlier) return earlier;
      }
      const out: AppliedChange[] = [];
      for (const change of changes) {
        const applied = this.applyOne(change, message, now, project);
        if (applied) out.push(applied);
      }
      if (requestId !== null) {
        this.stmt.pruneRequests.run(new Date(Date.parse(now) - REQUEST_ID_TTL_MS).toISOString());
        this.stmt.insertRequest.run(requestId, batchHash, JSON.stringify(out), now);
      }
      return out;
    });
  }

  /** The results recorded for a request id (inside the batch transaction), or null. */
  private replay(requestId: string, batchHash: string): AppliedChange[] | null {
    const row = this.stmt.getRequest.get(requestId) as { batch_hash: string; results: string } | undefined;
    if (!row) return null;
    if (row.batch_hash !== batchHash) throw requestIdReused(requestId);
    return JSON.parse(row.results) as AppliedChange[];
  }

  /** One change inside the batch transaction; throws (rolling the batch back) on a conflict. */
  private applyOne(
    change: ResourceChange,
    message: string | null,
    now: string,
    project: string | undefined,
  ): AppliedChange | null {
    const { kind, name } = change;
    const k = this.kinds[kind];
    // A create needs no read first: the name's UNIQUE constraint refuses one that exists, and
    // only then is the row read for the conflict's message (one SELECT fewer per create).
    const blind = change.op === 'create' && project === undefined;
    const current = blind ? undefined : (k.current.get(name) as CurrentRow | undefined);
    const actual = current ? current.version : null;
    if (project !== undefined) {
      const live = current ? (JSON.parse(current.annotations) as Record<string, string>) : null;
      checkOwnership(change, live, project);
    }
    const history = (id: string, version: number, action: AppliedChange['op'], s: Snapshot) =>
      this.stmt.insertHistory.run(
        kind,
        name,
        id,
        version,
        action,
        s.labels,
        s.annotations,
        s.spec,
        message,
        now,
      );

    switch (change.op) {
      case 'assert':
        if (actual !== change.expectedVersion)
          throw new ConflictError(kind, name, change.expectedVersion, actual);
        return null;
      case 'create': {
        if (current) throw new ConflictError(kind, name, null, actual);
        const id = newId(KINDS[kind].idPrefix);
        const s = snapshot(change);
        try {
          k.insert.run(id, name, s.labels, s.annotations, s.spec, now, now);
        } catch (err) {
          const existing =
            blind && sqliteErrorCode(err)?.startsWith('SQLITE_CONSTRAINT') ? k.current.get(name) : undefined;
          if (existing) throw new ConflictError(kind, name, null, (existing as CurrentRow).version);
          throw err;
        }
        history(id, 1, 'create', s);
        return { op: 'create', kind, name, id, version: 1 };
      }
      case 'update': {
        if (!current) {
          if (change.expectedVersion === undefined) throw new NotFoundError(kind, name);
          throw new ConflictError(kind, name, change.expectedVersion, null);
        }
        if (change.expectedVersion !== undefined && change.expectedVersion !== current.version) {
          throw new ConflictError(kind, name, change.expectedVersion, current.version);
        }
        const version = current.version + 1;
        const s = snapshot(change);
        k.update.run(s.labels, s.annotations, s.spec, version, now, current.id);
        history(current.id, version, 'update', s);
        return { op: 'update', kind, name, id: current.id, version };
      }
      case 'delete': {
        if (!current) {
          if (change.expectedVersion === undefined) throw new NotFoundError(kind, name);
          throw new ConflictError(kind, name, change.expectedVersion, null);
        }
        if (change.expectedVersion !== undefined && change.expectedVersion !== current.version) {
          throw new ConflictError(kind, name, change.expectedVersion, current.version);
        }
        k.delete.run(current.id);
        history(current.id, current.version, 'delete', current);
        return { op: 'delete', kind, name, id: current.id, version: current.version };
      }
    }
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

  listVersions(kind: DeclaredKind, name: string): Promise<HistoryEntry[]> {
    return this.guard(() => {
      this.kindStatements(kind);
      return (this.stmt.history.all(kind, name) as HistoryRow[]).map((r) => ({
        kind,
        name: r.name,
        resourceId: r.resource_id,
        version: r.version,
        action: r.action,
        snapshot: {
          labels: JSON.parse(r.labels) as Record<string, string>,
          annotations: JSON.parse(r.annotations) as Record<string, string>,
          spec: JSON.parse(r.spec) as JsonObject,
        },
        message: r.message,
        createdAt: r.created_at,
      }));
    });
  }

  status(): Promise<BackendStatus> {
    return this.guard(() => {
      const { v } = this.stmt.schemaVersion.get() as { v: number };
      const counts = { ...(this.stmt.counts.get() as Record<string, number>) };
      return { info: { ...this.info }, schemaVersion: v, counts };
    });
  }

  createExecution(input: CreateExecutionInput): Promise<Execution> {
    const kind = input?.kind;
    if (kind !== 'AgentExecution' && kind !== 'WorkflowExecution') {
      return Promise.reject(
        new StigmerError(
          'USAGE',
          `execution kind must be AgentExecution or WorkflowExecution, got "${String(kind)}"`,
        ),
      );
    }
    if (!isPlainObject(input.input)) {
      return Promise.reject(new StigmerError('USAGE', 'execution input must be an object'));
    }
    const refs = input.environmentRefs ?? [];
    if (!Array.isArray(refs) || refs.some((r) => typeof r !== 'string')) {
      return Promise.reject(new StigmerError('USAGE', 'environmentRefs must be a list of Environment names'));
    }
    if (input.resumedFrom !== undefined && typeof input.resumedFrom !== 'string') {
      return Promise.reject(new StigmerError('USAGE', 'resumedFrom must be an execution id'));
    }
    const targetKind: DeclaredKind = kind === 'AgentExecution' ? 'Agent' : 'Workflow';
    return this.write(() => {
      if (!this.kinds[targetKind].current.get(input.target))
        throw new NotFoundError(targetKind, input.target);
      const now = new Date().toISOString();
      const id = newId(KINDS[kind].idPrefix);
      let sessionId: string | null = null;
      if (kind === 'AgentExecution') {
        if (input.sessionId !== undefined) {
          if (!this.stmt.sessionExists.get(input.sessionId)) {
            throw new StigmerError('NOT_FOUND', `session "${input.sessionId}" not found`, {
              hint: 'omit the session to start a new conversation',
            });
          }
          sessionId = input.sessionId;
        } else {
          sessionId = newId(KINDS.Session.idPrefix);
          this.stmt.insertSession.run({ id: sessionId, agent: input.target, now });
        }
      }
      if (input.resumedFrom !== undefined && this.readExecution(input.resumedFrom).kind !== kind) {
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
      const row = { id, target: input.target, spec, status, now };
      this.executions[kind].insert.run(kind === 'AgentExecution' ? { ...row, session: sessionId } : row);
      this.stmt.insertContext.run({
        id: newId(KINDS.ExecutionContext.idPrefix),
        execution: id,
        spec: JSON.stringify({ environmentRefs: refs }),
        now,
      });
      return this.readExecution(id);
    });
  }

  getExecution(id: string): Promise<Execution> {
    return this.guard(() => this.readExecution(id));
  }

  updateExecutionStatus(id: string, update: ExecutionUpdate): Promise<Execution> {
    try {
      checkExecutionUpdate(update);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.write(() => this.transition(id, update));
  }

  heartbeatExecution(id: string, options: { leaseMs: number }): Promise<Execution> {
    if (!isLease(options?.leaseMs)) return Promise.reject(leaseError(options?.leaseMs));
    return this.write(() => {
      const kind = this.readExecution(id).kind;
      const now = new Date();
      this.executions[kind].heartbeat.run({
        id,
        now: now.toISOString(),
        lease: leaseUntil(now, options.leaseMs),
      });
      return this.readExecution(id);
    });
  }

  getSession(id: string): Promise<Session> {
    return this.guard(() => toSession(this.readSession(id)));
  }

  private readSession(id: string): SessionRow {
    const row = this.stmt.getSession.get(id) as SessionRow | undefined;
    if (!row) {
      throw new StigmerError('NOT_FOUND', `session "${String(id)}" not found`, {
        hint: 'omit --session to start a new conversation',
      });
    }
    return row;
  }

  cancelExecution(id: string): Promise<Execution> {
    return this.write(() => {
      const current = this.readExecution(id);
      if (current.phase === 'CANCELLED') return current;
      return this.transition(id, { phase: 'CANCELLED', error: current.error ?? 'cancelled' });
    });
  }

  /** Moves an execution to a phase; a finished execution (COMPLETED, FAILED, CANCELLED) never changes. */
  private transition(id: string, update: ExecutionUpdate) {
    const current = this.readExecution(id);
    if (current.phase === 'CANCELLED' && update.phase === 'CANCELLED') {
      // A cancel from elsewhere ends the record first; the runner then adds its results to it.
      return this.addCancelledResults(current, update);
    }
    if (TERMINAL.has(current.phase)) {
      throw new StigmerError(
        'CONFLICT',
        `execution ${id} is already ${current.phase} and cannot become ${update.phase}`,
        {
          hint: 'start a new execution',
        },
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
    const now = new Date();
    const stamp = now.toISOString();
    const finished = TERMINAL.has(update.phase);
    const leased = update.leaseMs !== undefined && !finished;
    this.executions[current.kind].update.run({
      id,
      phase: update.phase,
      status: JSON.stringify(status),
      started: current.startedAt ?? (update.phase === 'RUNNING' ? stamp : null),
      finished: finished ? stamp : null,
      heartbeat: leased ? stamp : current.heartbeatAt,
      lease: finished ? null : leased ? leaseUntil(now, update.leaseMs!) : current.leaseUntil,
      now: stamp,
    });
    if (update.sessionMessages !== undefined && update.sessionMessages.length > 0) {
      if (current.sessionId === undefined) {
        throw new StigmerError('USAGE', `execution ${id} has no session to append messages to`);
      }
      const session = this.readSession(current.sessionId);
      const messages = [...toSession(session).messages, ...update.sessionMessages];
      this.stmt.updateSession.run({ id: session.id, status: JSON.stringify({ messages }), now: stamp });
    }
    return this.readExecution(id);
  }

  /** The runner's usage, transcript and task records on an execution cancelled elsewhere. */
  private addCancelledResults(current: Execution, update: ExecutionUpdate): Execution {
    const status = {
      output: current.output,
      error: current.error,
      usage: update.usage ?? current.usage,
      transcriptArtifactId: update.transcriptArtifactId ?? current.transcriptArtifactId,
      tasks: update.tasks ?? current.tasks,
    };
    this.executions[current.kind].update.run({
      id: current.id,
      phase: 'CANCELLED',
      status: JSON.stringify(status),
      started: current.startedAt,
      finished: current.finishedAt,
      heartbeat: current.heartbeatAt,
      lease: null,
      now: new Date().toISOString(),
    });
    return this.readExecution(current.id);
  }

  private readExecution(id: string): Execution {
    const kind = executionKindOf(id);
    if (kind) this.executions[kind].expire.run({ id, now: new Date().toISOString() });
    const row = kind ? (this.executions[kind].get.get(id) as ExecutionRow | undefined) : undefined;
    if (!kind || !row) {
      throw new StigmerError('NOT_FOUND', `execution "${id}" not found`, {
        hint: 'execution ids start with aex_ (agent) or wex_ (workflow)',
      });
    }
    return toExecution(kind, row);
  }

  listExecutions(
    filter: { kind?: ExecutionKind; target?: string; pageSize?: number } = {},
  ): Promise<Execution[]> {
    return this.guard(() => {
      const size = pageSize(filter.pageSize, DEFAULT_EXECUTION_PAGE_SIZE);
      const kinds: ExecutionKind[] = filter.kind ? [filter.kind] : ['AgentExecution', 'WorkflowExecution'];
      const all: Execution[] = [];
      const now = new Date().toISOString();
      for (const kind of kinds) {
        const statements = this.executions[kind];
        if (!statements) throw new StigmerError('USAGE', `unknown execution kind "${String(kind)}"`);
        if (statements.anyExpired.get({ now })) statements.expire.run({ id: null, now });
        const rows = statements.list.all({ target: filter.target ?? null, limit: size }) as ExecutionRow[];
        for (const row of rows) all.push(toExecution(kind, row));
      }
      all.sort((a, b) => (a.createdAt === b.createdAt ? cmp(b.id, a.id) : cmp(b.createdAt, a.createdAt)));
      return all.slice(0, size);
    });
  }

  /**
   * The variables of the execution's environments as stored now: plain values in `data`, secret
   * ones still sealed in `secrets` (the store never decrypts; see revealExecutionContext).
   */
  getExecutionContext(executionId: string): Promise<ExecutionContext> {
    return this.guard(() => {
      this.readExecution(executionId);
      const row = this.stmt.getContext.get(executionId) as { spec: string } | undefined;
      const refs = row
        ? ((JSON.parse(row.spec) as { environmentRefs?: string[] }).environmentRefs ?? [])
        : [];
      return executionContextOf(executionId, refs, (name) => {
        const env = this.kinds.Environment.get.get(name) as ResourceRow | undefined;
        return env ? (JSON.parse(env.spec) as JsonObject) : undefined;
      });
    });
  }

  storeArtifact(input: {
    executionId?: string;
    name: string;
    contentType: string;
    data: Uint8Array;
  }): Promise<Artifact> {
    if (typeof input?.name !== 'string' || input.name === '' || !(input.data instanceof Uint8Array)) {
      return Promise.reject(new StigmerError('USAGE', 'an artifact needs a name and its data as bytes'));
    }
    return this.write(() => {
      if (input.executionId !== undefined) this.readExecution(input.executionId);
      const id = newId('art_');
      const data = Buffer.from(input.data.buffer, input.data.byteOffset, input.data.byteLength);
      this.stmt.insertArtifact.run(
        id,
        input.executionId ?? null,
        input.name,
        input.contentType || 'application/octet-stream',
        data,
        data.byteLength,
        new Date().toISOString(),
      );
      return this.readArtifact(id);
    });
  }

  getArtifact(id: string): Promise<Artifact> {
    return this.guard(() => this.readArtifact(id));
  }

  private readArtifact(id: string): Artifact {
    const row = this.stmt.getArtifact.get(id) as ArtifactRow | undefined;
    if (!row) throw new StigmerError('NOT_FOUND', `artifact "${id}" not found`);
    return {
      id: row.id,
      executionId: row.execution_id,
      name: row.name,
      contentType: row.content_type,
      data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength),
      createdAt: row.created_at,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  private kindStatements(kind: DeclaredKind): KindStatements {
    const k = this.kinds[kind];
    if (!k) throw unknownKind(kind);
    return k;
  }
}

interface Snapshot {
  labels: string;
  annotations: string;
  spec: string;
}

function snapshot(change: {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  spec: JsonObject;
}) {
  return {
    labels: JSON.stringify(change.labels ?? {}),
    annotations: JSON.stringify(change.annotations ?? {}),
    spec: JSON.stringify(change.spec ?? {}),
  };
}

export function unknownKind(kind: unknown): StigmerError {
  return new StigmerError('UNKNOWN_KIND', `"${String(kind)}" is not a kind of resource stored by name`, {
    hint: `kinds: ${DECLARED_KINDS.join(', ')}`,
  });
}

/**
 * An execution's context from the specs of its environments (later ones win per key): plain
 * values in `data`, secret ones still sealed in `secrets`. The store never decrypts; the runner
 * does (revealExecutionContext). Shared by every store.
 */
export function executionContextOf(
  executionId: string,
  refs: readonly string[],
  specOf: (environment: string) => JsonObject | undefined,
): ExecutionContext {
  const data: Record<string, string> = {};
  const secrets: Record<string, SealedVariable> = {};
  for (const envName of refs) {
    const spec = specOf(envName);
    if (!spec) {
      throw new NotFoundError('Environment', envName, {
        hint: `execution ${executionId} refers to it; apply the Environment again or start a new execution`,
      });
    }
    const entries = isPlainObject(spec.data) ? spec.data : {};
    for (const [key, entry] of Object.entries(entries)) {
      if (!isPlainObject(entry)) continue;
      const sealed = entry.sealed;
      if (isPlainObject(sealed) && typeof sealed.hash === 'string' && typeof sealed.ciphertext === 'string') {
        delete data[key];
        secrets[key] = { environment: envName, sealed: { hash: sealed.hash, ciphertext: sealed.ciphertext } };
      } else if (typeof entry.value === 'string') {
        delete secrets[key];
        data[key] = entry.value;
      }
    }
  }
  return { executionId, data, secrets };
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isStringMap(value: unknown): boolean {
  return isPlainObject(value) && Object.values(value).every((v) => typeof v === 'string');
}

/** Rejects a malformed change before the transaction starts (the server passes user input here). */
export function checkChange(change: ResourceChange): void {
  if (!isPlainObject(change)) throw new StigmerError('USAGE', 'a change must be an object');
  if (!(DECLARED_KINDS as readonly string[]).includes(change.kind)) throw unknownKind(change.kind);
  if (typeof change.name !== 'string' || !DNS_LABEL.test(change.name)) {
    throw new StigmerError('VALIDATION', `${change.kind} name "${String(change.name)}" is not a valid name`, {
      hint: 'names are lowercase DNS labels: letters, digits and "-", at most 63 characters',
    });
  }
  const where = `${change.kind}/${change.name}`;
  switch (change.op) {
    case 'create':
    case 'update':
      if (!isStringMap(change.labels ?? {}) || !isStringMap(change.annotations ?? {})) {
        throw new StigmerError('VALIDATION', `${where}: labels and annotations must map strings to strings`);
      }
      if (!isPlainObject(change.spec ?? {}))
        throw new StigmerError('VALIDATION', `${where}: spec must be an object`);
      if (change.op === 'create' && change.expectedVersion !== undefined && change.expectedVersion !== null) {
        throw new StigmerError('USAGE', `${where}: a create can only expect "absent" (null)`);
      }
      if (change.op === 'update') checkVersion(change.expectedVersion, where, true);
      return;
    case 'delete':
      checkVersion(change.expectedVersion, where, true);
      return;
    case 'assert':
      if (change.expectedVersion !== null) checkVersion(change.expectedVersion, where, false);
      return;
    default:
      throw new StigmerError('USAGE', `${where}: unknown change "${String((change as { op: unknown }).op)}"`);
  }
}

function checkVersion(version: unknown, where: string, optional: boolean): void {
  if (version === undefined && optional) return;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new StigmerError(
      'USAGE',
      `${where}: expected version must be a whole number ≥ 1, got ${String(version)}`,
    );
  }
}

export function pageSize(requested: number | undefined, fallback: number): number {
  if (requested === undefined || requested === 0) return fallback;
  if (!Number.isInteger(requested) || requested < 0) {
    throw new StigmerError('USAGE', `page size must be a whole number ≥ 1, got ${requested}`);
  }
  return Math.min(requested, MAX_PAGE_SIZE);
}

/** Page tokens are opaque to callers: base64url of the kind and the last name returned. */
export function encodePageToken(kind: DeclaredKind, lastName: string): string {
  return Buffer.from(JSON.stringify({ v: 1, k: kind, a: lastName }), 'utf8').toString('base64url');
}

export function decodePageToken(token: string, kind: DeclaredKind): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!isPlainObject(parsed) || parsed.v !== 1 || typeof parsed.a !== 'string' || parsed.k !== kind) {
    throw new StigmerError('USAGE', `invalid page token for ${kind}`, {
      hint: 'pass the nextPageToken returned by the previous page of the same kind',
    });
  }
  return parsed.a;
}

/** A stored row as a resource; spec and status are decoded when first read (src/stored-text.ts). */
/** A row of RESOURCE_COLUMNS as an array (`prepareArrays`), in that order. */
type ResourceArrayRow = [string, string, string, string, string, string, number, string, string];

/** toResource of an array row (the bulk list: see SqliteDatabase.prepareArrays). */
function arrayToResource(kind: DeclaredKind, r: ResourceArrayRow): StoredResource {
  return lazyStoredResource(
    {
      id: r[0],
      kind,
      name: r[1],
      labels: JSON.parse(r[2]) as Record<string, string>,
      annotations: JSON.parse(r[3]) as Record<string, string>,
      version: r[6],
      createdAt: r[7],
      updatedAt: r[8],
    },
    r[4],
    r[5],
  );
}

function toResource(kind: DeclaredKind, r: ResourceRow): StoredResource {
  return lazyStoredResource(
    {
      id: r.id,
      kind,
      name: r.name,
      labels: JSON.parse(r.labels) as Record<string, string>,
      annotations: JSON.parse(r.annotations) as Record<string, string>,
      version: r.version,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    },
    r.spec,
    r.status,
  );
}

export function executionKindOf(id: unknown): ExecutionKind | null {
  if (typeof id !== 'string') return null;
  if (id.startsWith(KINDS.AgentExecution.idPrefix)) return 'AgentExecution';
  if (id.startsWith(KINDS.WorkflowExecution.idPrefix)) return 'WorkflowExecution';
  return null;
}

export const NO_USAGE: TokenUsage = { promptTokens: 0, completionTokens: 0, totalTokens: 0 };

function toExecution(kind: ExecutionKind, r: ExecutionRow): Execution {
  const spec = JSON.parse(r.spec) as { input?: JsonObject; resumedFrom?: string };
  const status = JSON.parse(r.status) as {
    output?: JsonObject;
    error?: string | null;
    usage?: TokenUsage;
    transcriptArtifactId?: string | null;
    tasks?: TaskExecution[];
  };
  const context = r.context_spec ? (JSON.parse(r.context_spec) as { environmentRefs?: string[] }) : {};
  const execution: Execution = {
    id: r.id,
    kind,
    target: r.target,
    phase: r.phase,
    input: spec.input ?? {},
    output: status.output ?? {},
    error: status.error ?? null,
    environmentRefs: context.environmentRefs ?? [],
    resumedFrom: spec.resumedFrom ?? null,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    heartbeatAt: r.heartbeat_at,
    leaseUntil: r.lease_until,
    usage: { ...NO_USAGE, ...status.usage },
    transcriptArtifactId: status.transcriptArtifactId ?? null,
    tasks: status.tasks ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
  if (r.session_id !== null) execution.sessionId = r.session_id;
  return execution;
}

/** A request id is optional; when given, a non-empty string of at most 200 characters. */
export function checkRequestId(id: unknown): string | null {
  if (id === undefined || id === '') return null;
  if (typeof id !== 'string' || id.length > 200) {
    throw new StigmerError('USAGE', 'a request id must be a string of at most 200 characters');
  }
  return id;
}

/** The error for a request id already used with another batch. */
export function requestIdReused(requestId: string): StigmerError {
  return new StigmerError('USAGE', `request id "${requestId}" was already used for another batch`, {
    hint: 'use a new request id for every batch; reuse one only to retry the same batch',
  });
}

/** sha256 of a batch and its options: what a request id must name again to be replayed. */
export function hashBatch(changes: ResourceChange[], options: ApplyChangesOptions): string {
  return createHash('sha256')
    .update(JSON.stringify([options.message ?? null, options.project ?? null, changes]))
    .digest('hex');
}

function toSession(r: SessionRow): Session {
  const status = JSON.parse(r.status) as { messages?: JsonObject[] };
  return {
    id: r.id,
    agent: r.agent_name,
    messages: status.messages ?? [],
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** The longest lease a runner may take: a day. */
const MAX_LEASE_MS = 24 * 60 * 60 * 1000;

export function isLease(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_LEASE_MS;
}

export function leaseError(value: unknown): StigmerError {
  return new StigmerError(
    'USAGE',
    `a lease must be a whole number of milliseconds from 1 to ${MAX_LEASE_MS}, got ${String(value)}`,
  );
}

export function leaseUntil(now: Date, leaseMs: number): string {
  return new Date(now.getTime() + leaseMs).toISOString();
}

function isUsage(value: unknown): value is TokenUsage {
  return (
    isPlainObject(value) &&
    ['promptTokens', 'completionTokens', 'totalTokens'].every(
      (k) => typeof value[k] === 'number' && Number.isInteger(value[k]) && (value[k] as number) >= 0,
    )
  );
}

function isTask(value: unknown): value is TaskExecution {
  return (
    isPlainObject(value) &&
    typeof value.name === 'string' &&
    typeof value.agent === 'string' &&
    PHASES.has(value.phase as string) &&
    isPlainObject(value.inputs) &&
    isPlainObject(value.outputs) &&
    (value.error === null || typeof value.error === 'string') &&
    isUsage(value.usage)
  );
}

/** Rejects a malformed update before the transaction starts (the server passes user input here). */
export function checkExecutionUpdate(update: ExecutionUpdate): void {
  if (!isPlainObject(update) || !PHASES.has(update.phase)) {
    throw new StigmerError('USAGE', `unknown execution phase "${String(update?.phase)}"`);
  }
  const bad = (what: string) => new StigmerError('USAGE', `execution update: ${what}`);
  if (update.output !== undefined && !isPlainObject(update.output)) throw bad('output must be an object');
  if (update.error !== undefined && update.error !== null && typeof update.error !== 'string') {
    throw bad('error must be a string or null');
  }
  if (update.usage !== undefined && !isUsage(update.usage)) {
    throw bad('usage needs promptTokens, completionTokens and totalTokens as whole numbers ≥ 0');
  }
  if (update.transcriptArtifactId !== undefined && typeof update.transcriptArtifactId !== 'string') {
    throw bad('transcriptArtifactId must be an artifact id');
  }
  if (update.tasks !== undefined && !(Array.isArray(update.tasks) && update.tasks.every(isTask))) {
    throw bad('tasks must be task records (name, agent, phase, inputs, outputs, error, usage)');
  }
  if (
    update.sessionMessages !== undefined &&
    !(Array.isArray(update.sessionMessages) && update.sessionMessages.every(isPlainObject))
  ) {
    throw bad('sessionMessages must be a list of objects');
  }
  if (update.leaseMs !== undefined && !isLease(update.leaseMs)) throw leaseError(update.leaseMs);
}

export function hasSealed(spec: JsonObject): boolean {
  const data = spec.data;
  return isPlainObject(data) && Object.values(data).some((e) => isPlainObject(e) && e.sealed !== undefined);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
