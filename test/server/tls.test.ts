/**
 * TLS between the cloud backend and `stigmer server` (real processes; certificates made with
 * `openssl` at test time): a server certificate signed by a private CA is trusted with --ca-cert
 * or STIGMER_CA_CERT; without the CA the CLI refuses the connection in one line; a certificate
 * and key that do not belong together stop the server from starting.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runStigmer, tempDir } from '../helpers/cli.js';
import { type ServerProcess, startServer } from '../helpers/server.js';

const dir = tempDir('stigmer-tls-');
const file = (name: string) => join(dir.path, name);
const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir.path, stdio: 'pipe' });

let server: ServerProcess;
beforeAll(async () => {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=stigmer test CA',
    '-keyout',
    'ca-key.pem',
    '-out',
    'ca.pem',
  );
  openssl(
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server-key.pem',
    '-out',
    'server.csr',
  );
  writeFileSync(file('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(
    'x509',
    '-req',
    '-in',
    'server.csr',
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
    'server.pem',
  );
  server = await startServer({
    args: ['--tls-cert', file('server.pem'), '--tls-key', file('server-key.pem')],
  });
});
afterAll(async () => {
  await server?.stop();
  server?.cleanup();
  dir.cleanup();
});

const client = (args: string[], env: Record<string, string> = {}) =>
  runStigmer(['get', 'agents', '--backend', 'cloud', '--endpoint', server.url, ...args], {
    cwd: dir.path,
    env: { STIGMER_HOME: file('home'), STIGMER_TOKEN: server.token, ...env },
  });

describe('TLS', () => {
  it('serves https:// and warns about nothing on loopback', () => {
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(server.stderr()).not.toContain('warning:');
  });

  it('a client trusting the private CA (--ca-cert or STIGMER_CA_CERT) works', async () => {
    const flag = await client(['--ca-cert', file('ca.pem')]);
    expect(flag.code, flag.stderr).toBe(0);
    const env = await client([], { STIGMER_CA_CERT: file('ca.pem') });
    expect(env.code, env.stderr).toBe(0);
  });

  it('without the CA: one clear line naming --ca-cert, exit 1', async () => {
    const r = await client([]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toMatch(
      new RegExp(
        `^Error: cannot verify the TLS certificate of the stigmer server at ${server.url} \\(\\w+\\)$`,
      ),
    );
    expect(r.stderr).toContain('--ca-cert');
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('a certificate with the wrong key, or a file that is no certificate, stops the server from starting', async () => {
    const wrong = await runStigmer(
      [
        'server',
        '--port',
        '0',
        '--token',
        't',
        '--tls-cert',
        file('server.pem'),
        '--tls-key',
        file('ca-key.pem'),
      ],
      { env: { STIGMER_HOME: file('home') } },
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`is not the key of the certificate in ${file('server.pem')}`);
    const notCert = await runStigmer(
      [
        'server',
        '--port',
        '0',
        '--token',
        't',
        '--tls-cert',
        file('ext.cnf'),
        '--tls-key',
        file('server-key.pem'),
      ],
      { env: { STIGMER_HOME: file('home') } },
    );
    expect(notCert.code).toBe(1);
    expect(notCert.stderr).toContain('is not a PEM certificate');
  });
});
