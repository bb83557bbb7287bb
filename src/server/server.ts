/**
 * `stigmer server` as a library call (DESIGN.md §6b): BackendService and the standard health
 * service over one Store, served by connect-node on Node's HTTP/2 server — the gRPC protocol
 * itself, so stock gRPC clients can call it, with Connect and gRPC-Web alongside. Plain HTTP/2
 * (h2c) by default; with a certificate and key, TLS (HTTP/1.1 allowed through ALPN for Connect
 * and gRPC-Web). Every handler's signal aborts on shutdown.
 *
 * Shutdown is one ordered function (`close`): health NOT_SERVING, stop accepting connections,
 * GOAWAY to every session so in-flight calls finish (bounded by the grace period), then abort
 * and destroy what is left, and close the store.
 */

import * as http2 from 'node:http2';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { createContextValues } from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { serverService } from '../backend/wire/fast.js';
import { Health } from '../gen/grpc/health/v1/health_pb.js';
import { BackendService } from '../gen/stigmer/backend/v1/backend_pb.js';
import { HealthStatus, healthServiceImpl, ServingStatus } from './health.js';
import { accessLog, bearerAuth, errorMapping, type LogFormat, peerKey } from './interceptors.js';
import { backendServiceImpl } from './service.js';
import type { Store } from './store.js';

/** Largest request or response message: one 100,000-resource batch fits (DESIGN.md §6b). */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;
export const DEFAULT_PORT = 7234;
export const DEFAULT_HOST = '127.0.0.1';
/** How long shutdown waits for in-flight calls. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
/** Longest deadline a client may ask for; calls without one are bounded by the client. */
const MAX_TIMEOUT_MS = 60 * 60 * 1000;
/** HTTP/2 flow-control window: large messages on fast links need more than the 64 KiB default. */
export const HTTP2_WINDOW_BYTES = 16 * 1024 * 1024;

export interface ServerOptions {
  store: Store;
  /** The bearer token every call must carry. */
  token: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** PEM certificate and key: serve TLS. */
  tls?: { cert: Buffer | string; key: Buffer | string };
  /** Where access-log and server lines go (stderr). */
  log?: (line: string) => void;
  logFormat?: LogFormat;
  shutdownGraceMs?: number;
  maxMessageBytes?: number;
}

export interface RunningServer {
  /** `http://HOST:PORT` or `https://HOST:PORT`. */
  url: string;
  host: string;
  port: number;
  /** Ordered shutdown; resolves when the store is closed. Safe to call twice. */
  close(): Promise<void>;
}

/** The version of this program (package.json; the same path from src/ and dist/). */
export function programVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('../../package.json') as { version: string }).version;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts serving; resolves once the port is bound. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? ((line: string) => process.stderr.write(line));
  const maxBytes = options.maxMessageBytes ?? MAX_MESSAGE_BYTES;
  const health = new HealthStatus([BackendService.typeName]);
  const shutdown = new AbortController();
  const logBug = (err: unknown, method: string) => {
    const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`error: internal error in ${method}: ${text}\n`);
  };
  const handler = connectNodeAdapter({
    routes(router) {
      // ApplyChanges requests are read through their view, for the fast codec (wire/fast.ts).
      router.service(serverService(), backendServiceImpl(options.store, { version: programVersion() }));
      router.service(Health, healthServiceImpl(health));
    },
    interceptors: [
      accessLog(log, options.logFormat ?? 'text'),
      bearerAuth(options.token),
      errorMapping(logBug),
    ],
    readMaxBytes: maxBytes,
    writeMaxBytes: maxBytes,
    maxTimeoutMs: MAX_TIMEOUT_MS,
    shutdownSignal: shutdown.signal,
    contextValues(req) {
      const values = createContextValues();
      const socket = req.socket;
      if (socket?.remoteAddress) values.set(peerKey, `${socket.remoteAddress}:${socket.remotePort}`);
      return values;
    },
  });

  const settings: http2.Settings = { initialWindowSize: HTTP2_WINDOW_BYTES, maxFrameSize: 1 << 20 };
  const server = options.tls
    ? http2.createSecureServer(
        { cert: options.tls.cert, key: options.tls.key, allowHTTP1: true, settings, maxSessionMemory: 1024 },
        handler,
      )
    : http2.createServer({ settings, maxSessionMemory: 1024 }, handler);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // The connection-level window too, not only each stream's.
    session.once('connect', () => session.setLocalWindowSize(HTTP2_WINDOW_BYTES));
  });
  // A broken TLS handshake or a client speaking something else must not take the server down.
  server.on('tlsClientError', () => {});
  server.on('sessionError', () => {});

  const host = options.host ?? DEFAULT_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log(`error: ${err.message}\n`));
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      health.setAll(ServingStatus.NOT_SERVING);
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sessions) s.close();
      const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([stopped, new Promise<void>((r) => (timer = setTimeout(r, grace)))]);
      clearTimeout(timer);
      shutdown.abort();
      for (const s of sessions) s.destroy();
      await stopped;
      await options.store.close();
    })();
    return closing;
  };

  return { url: `${options.tls ? 'https' : 'http'}://${formatHost(host)}:${port}`, host, port, close };
}
