/**
 * What every call of `stigmer server` goes through, outermost first:
 * - the access log: one line per call on stderr (method, status code, duration; text or JSON),
 *   never a header, a token or a payload;
 * - auth: `authorization: Bearer TOKEN` compared in constant time, UNAUTHENTICATED otherwise;
 *   the health service is exempt;
 * - errors: a StigmerError becomes its status with an ErrorDetail (src/backend/wire/errors.ts);
 *   anything else is a bug, logged with its stack and sent as a bare INTERNAL.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { Code, ConnectError, createContextKey, type Interceptor } from '@connectrpc/connect';
import { toConnectError } from '../backend/wire/errors.js';
import { StigmerError } from '../errors.js';
import { Health } from '../gen/grpc/health/v1/health_pb.js';

/** The peer address of a call, set by the adapter's contextValues. */
export const peerKey = createContextKey<string>('');

export type LogFormat = 'text' | 'json';

/** The canonical gRPC name of a code: `Code.InvalidArgument` → `INVALID_ARGUMENT`. */
export function codeName(code: Code | 0): string {
  if (code === 0) return 'OK';
  return (Code[code] ?? String(code)).replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
}

export function accessLog(write: (line: string) => void, format: LogFormat): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    let code: Code | 0 = 0;
    try {
      return await next(req);
    } catch (err) {
      code = err instanceof ConnectError ? err.code : Code.Internal;
      throw err;
    } finally {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      const method = `${req.service.typeName}/${req.method.name}`;
      const peer = req.contextValues.get(peerKey);
      if (format === 'json') {
        write(
          `${JSON.stringify({ time: new Date().toISOString(), method, code: codeName(code), ms, peer: peer || undefined })}\n`,
        );
      } else {
        write(`${new Date().toISOString()} ${method} ${codeName(code)} ${ms}ms${peer ? ` ${peer}` : ''}\n`);
      }
    }
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Bearer-token auth. Both sides are hashed first so the comparison takes the same time whatever the lengths. */
export function bearerAuth(token: string): Interceptor {
  const expected = digest(token);
  return (next) => async (req) => {
    if (req.service.typeName === Health.typeName) return next(req);
    const header = req.header.get('authorization') ?? '';
    const match = /^Bearer (.+)$/i.exec(header);
    const given = digest(match?.[1] ?? '');
    if (!match || !timingSafeEqual(given, expected)) {
      throw new ConnectError('missing or wrong bearer token', Code.Unauthenticated);
    }
    return next(req);
  };
}

export function errorMapping(logBug: (err: unknown, method: string) => void): Interceptor {
  return (next) => async (req) => {
    try {
      return await next(req);
    } catch (err) {
      if (!(err instanceof StigmerError) && !(err instanceof ConnectError)) {
        logBug(err, `${req.service.typeName}/${req.method.name}`);
      } else if (err instanceof StigmerError && !err.userFixable) {
        logBug(err, `${req.service.typeName}/${req.method.name}`);
      }
      throw toConnectError(err);
    }
  };
}
