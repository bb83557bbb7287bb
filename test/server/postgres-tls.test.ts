/**
 * TLS between `stigmer server` and PostgreSQL (docs/scaling.md): a throwaway cluster with
 * `ssl=on` and a certificate from a private CA (made with `openssl` at test time). With
 * `sslmode=verify-full&sslrootcert=CA` in the URL the server connects over TLS (pg_stat_ssl
 * says so); with another CA it refuses to start with one line and a hint, exit 1.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, startPgCluster } from '../../scripts/pg-cluster.mjs';
import { runStigmer } from '../helpers/cli.js';
import { type ServerProcess, startServer } from '../helpers/server.js';
import { STACK_FRAME } from '../reconcile/stack.js';

// Directly under the temp dir and world-readable: as root, PostgreSQL runs as `postgres` and
// must read the certificate (its key is handed to that user below).
const dir = join(tmpdir(), `stigmer-pg-tls-${process.pid}`);
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

let cluster: PgCluster;
let server: ServerProcess | undefined;
beforeAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  for (const ca of ['ca', 'other-ca']) {
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=stigmer test ${ca}`,
      '-keyout',
      `${ca}-key.pem`,
      '-out',
      `${ca}.pem`,
    );
  }
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'db-key.pem',
    '-out',
    'db.csr',
  );
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'db.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca-key.pem',
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    'ext.cnf',
    '-out',
    'db.pem',
  );
  // PostgreSQL insists that its key is private to the user it runs as.
  chmodSync(file('db-key.pem'), 0o600);
  chmodSync(file('db.pem'), 0o644);
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(file('db-key.pem'), uid, gid);
  }
  cluster = await startPgCluster({
    flags: [
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${file('db.pem')}`,
      '-c',
      `ssl_key_file=${file('db-key.pem')}`,
    ],
  });
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS from stigmer server to PostgreSQL', () => {
  it('sslmode=verify-full with the CA: the server connects over TLS', async () => {
    const url = cluster.url(
      'postgres',
      `sslmode=verify-full&sslrootcert=${encodeURIComponent(file('ca.pem'))}`,
    );
    server = await startServer({ db: url, dbFlag: false, env: { STIGMER_DATABASE_URL: url } });
    const { rows } = await cluster.query(
      "SELECT bool_and(s.ssl) AS all_tls, count(*)::int AS n FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'stigmer'",
    );
    expect(rows[0]).toEqual({ all_tls: true, n: expect.any(Number) });
    expect(rows[0].n).toBeGreaterThan(0);
    // The query string (a key path) is not part of how the database is named.
    for (let i = 0; i < 200 && !server.stderr().includes('store: '); i++)
      await new Promise((r) => setTimeout(r, 25));
    expect(server.stderr()).toContain(`store: postgres://postgres@127.0.0.1:${cluster.port}/postgres `);
    expect(server.stderr()).not.toContain('sslrootcert');
  });

  it('a certificate from another CA: one line with a hint, exit 1, no stack trace', async () => {
    const url = cluster.url(
      'postgres',
      `sslmode=verify-full&sslrootcert=${encodeURIComponent(file('other-ca.pem'))}`,
    );
    const r = await runStigmer(['server', '--port', '0', '--token', 't'], {
      env: { STIGMER_HOME: join(dir, 'home'), STIGMER_DATABASE_URL: url },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `TLS to the PostgreSQL database postgres://postgres@127.0.0.1:${cluster.port}/postgres failed`,
    );
    expect(r.stderr).toContain('sslrootcert=PATH');
    expect(r.stderr).not.toMatch(STACK_FRAME);
  });
});
