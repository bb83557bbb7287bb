/**
 * The settings of `stigmer server` (DESIGN.md §6b). The server reads only its own flags and
 * variables — `--db` (`STIGMER_DATABASE_URL`, then `STIGMER_DB`), `--token`/`--token-file`/
 * `STIGMER_SERVER_TOKEN` — never the client's `STIGMER_TOKEN`. Without a token it refuses to
 * start. The token is never part of a message.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { type Env, stigmerHome } from '../backend/config.js';
import { StigmerError } from '../errors.js';
import type { LogFormat } from './interceptors.js';
import { DEFAULT_HOST, DEFAULT_PORT } from './server.js';
import { isPostgresUrl } from './store.js';

export interface ServerFlags {
  host?: string;
  port?: number;
  db?: string;
  token?: string;
  'token-file'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'log-format'?: string;
  'shutdown-timeout'?: number;
}

export interface ServerConfig {
  host: string;
  port: number;
  /** A SQLite path or a postgres:// URL. */
  db: string;
  token: string;
  /** Where the token came from, for the start-up line (never the token itself). */
  tokenSource: '--token' | '--token-file' | 'STIGMER_SERVER_TOKEN';
  tls?: { cert: Buffer; key: Buffer };
  logFormat: LogFormat;
  shutdownGraceMs?: number;
  /** Lines to print after the listening line (e.g. plain HTTP on a public address). */
  warnings: string[];
}

const TOKEN_HINT =
  'pass --token TOKEN, --token-file FILE or set STIGMER_SERVER_TOKEN; make one with `openssl rand -base64 32`';

function readPem(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new StigmerError('USAGE', `${flag} ${path}: cannot read the file`, {
      cause,
      hint: 'give the path of a PEM file',
    });
  }
}

function readToken(path: string): string {
  let text: string;
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new StigmerError('USAGE', `--token-file ${path}: cannot read the file`, {
      cause,
      hint: TOKEN_HINT,
    });
  }
  const token = text.trim();
  if (token === '') throw new StigmerError('USAGE', `--token-file ${path} is empty`, { hint: TOKEN_HINT });
  if (/\s/.test(token)) {
    throw new StigmerError('USAGE', `--token-file ${path} holds more than one word`, {
      hint: 'the file must hold the token alone (a trailing newline is fine)',
    });
  }
  return token;
}

/** True for an address only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

export function resolveServerConfig(flags: ServerFlags, env: Env = process.env): ServerConfig {
  if (flags.token !== undefined && flags['token-file'] !== undefined) {
    throw new StigmerError('USAGE', '--token and --token-file cannot be used together', {
      hint: 'pass the token one way',
    });
  }
  let token: string;
  let tokenSource: ServerConfig['tokenSource'];
  if (flags.token !== undefined) {
    token = flags.token;
    tokenSource = '--token';
  } else if (flags['token-file'] !== undefined) {
    token = readToken(flags['token-file']);
    tokenSource = '--token-file';
  } else {
    token = env.STIGMER_SERVER_TOKEN ?? '';
    tokenSource = 'STIGMER_SERVER_TOKEN';
  }
  if (token.trim() === '') {
    throw new StigmerError('USAGE', 'stigmer server needs a token and none was given', { hint: TOKEN_HINT });
  }

  const pick = (v: string | undefined) => (v !== undefined && v !== '' ? v : undefined);
  const db =
    flags.db ?? pick(env.STIGMER_DATABASE_URL) ?? pick(env.STIGMER_DB) ?? join(stigmerHome(env), 'server.db');
  if (db === '')
    throw new StigmerError('USAGE', '--db is empty', { hint: 'a SQLite file path or a postgres:// URL' });

  const port = flags.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new StigmerError('USAGE', `--port must be 0..65535, got ${port}`, {
      hint: '--port 0 picks a free port',
    });
  }
  const host = flags.host ?? DEFAULT_HOST;

  const cert = flags['tls-cert'];
  const key = flags['tls-key'];
  if ((cert === undefined) !== (key === undefined)) {
    throw new StigmerError('USAGE', 'TLS needs both --tls-cert and --tls-key', {
      hint: 'pass the certificate and its private key as PEM files',
    });
  }
  const logFormat = flags['log-format'] ?? 'text';
  if (logFormat !== 'text' && logFormat !== 'json') {
    throw new StigmerError('USAGE', `--log-format must be text or json, got "${logFormat}"`);
  }
  const warnings: string[] = [];
  if (cert === undefined && !isLoopback(host)) {
    warnings.push(
      `warning: serving ${host} without TLS: the bearer token and all data cross the network in clear text; use --tls-cert and --tls-key`,
    );
  }
  if (isPostgresUrl(db) && /^[^:]+:\/\/[^/@]*:[^/@]*@/.test(db) && flags.db !== undefined) {
    warnings.push(
      'warning: --db holds a password, which other users of this machine can see in the process list; set STIGMER_DATABASE_URL instead',
    );
  }
  const config: ServerConfig = {
    host,
    port,
    db,
    token,
    tokenSource,
    logFormat: logFormat as LogFormat,
    warnings,
  };
  if (cert !== undefined && key !== undefined) {
    config.tls = checkTls(readPem(cert, '--tls-cert'), cert, readPem(key, '--tls-key'), key);
  }
  if (flags['shutdown-timeout'] !== undefined) config.shutdownGraceMs = flags['shutdown-timeout'];
  return config;
}

/** Refuses a certificate or key that does not parse, or a key that does not match the certificate. */
function checkTls(
  cert: Buffer,
  certPath: string,
  key: Buffer,
  keyPath: string,
): { cert: Buffer; key: Buffer } {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (cause) {
    throw new StigmerError('USAGE', `--tls-cert ${certPath} is not a PEM certificate`, {
      cause,
      hint: 'give the server certificate (chain) in PEM, starting with -----BEGIN CERTIFICATE-----',
    });
  }
  let privateKey: ReturnType<typeof createPrivateKey>;
  try {
    privateKey = createPrivateKey(key);
  } catch (cause) {
    throw new StigmerError('USAGE', `--tls-key ${keyPath} is not a PEM private key (or it is encrypted)`, {
      cause,
      hint: 'give the unencrypted private key of the certificate in PEM',
    });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new StigmerError('USAGE', `--tls-key ${keyPath} is not the key of the certificate in ${certPath}`, {
      hint: 'pass the private key the certificate was made for',
    });
  }
  return { cert, key };
}
