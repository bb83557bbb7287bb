/**
 * Errors on the wire, both ways (DESIGN.md §6b). The server turns every StigmerError into a
 * gRPC status with an `ErrorDetail` (Stigmer's code, hint and typed fields) — and a
 * `VersionConflict` for a conflict — so the cloud backend raises exactly the error the store
 * raised: ConflictError from ABORTED, NotFoundError from NOT_FOUND, USAGE/VALIDATION/UNKNOWN_KIND
 * from INVALID_ARGUMENT. Statuses without a detail come from the transport or from a server
 * that is not stigmer's; they become one clear line each (unreachable, authentication, TLS,
 * deadline, message size).
 */

import { create } from '@bufbuild/protobuf';
import { Code, ConnectError } from '@connectrpc/connect';
import { ConflictError, type ErrorCode, StigmerError } from '../../errors.js';
import { ErrorDetailSchema, VersionConflictSchema } from '../../gen/stigmer/backend/v1/backend_pb.js';

/** The gRPC status of each Stigmer error code (anything not listed is INTERNAL). */
const STATUS: Partial<Record<ErrorCode, Code>> = {
  CONFLICT: Code.FailedPrecondition,
  STALE_PLAN: Code.Aborted,
  OWNERSHIP: Code.FailedPrecondition,
  PREVENT_DESTROY: Code.FailedPrecondition,
  NOT_FOUND: Code.NotFound,
  ALREADY_EXISTS: Code.AlreadyExists,
  USAGE: Code.InvalidArgument,
  VALIDATION: Code.InvalidArgument,
  UNKNOWN_KIND: Code.InvalidArgument,
  PLAN: Code.FailedPrecondition,
  LOAD: Code.InvalidArgument,
  SECRET: Code.FailedPrecondition,
  BUSY: Code.Unavailable,
  UNAUTHENTICATED: Code.Unauthenticated,
  ABORTED: Code.Canceled,
  CONFIG: Code.FailedPrecondition,
};

/** Fields that a typed error carries besides code, message and hint (sent in ErrorDetail.fields). */
const TYPED_FIELDS = ['kind', 'resourceName', 'project', 'owner', 'file'] as const;

/**
 * Server side: the status for an error a handler raised. A StigmerError keeps its code, message
 * and hint; anything else is a bug, sent as INTERNAL without its details (the server logs it).
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (!(err instanceof StigmerError)) {
    return new ConnectError('internal error in the stigmer server (see its log)', Code.Internal);
  }
  const fields: Record<string, string> = {};
  const record = err as unknown as Record<string, unknown>;
  for (const f of TYPED_FIELDS) if (typeof record[f] === 'string') fields[f] = record[f] as string;
  if (!err.userFixable) fields.userFixable = 'false';
  const detail = create(ErrorDetailSchema, {
    code: err.code,
    ...(err.hint !== undefined ? { hint: err.hint } : {}),
    fields,
  });
  if (err instanceof ConflictError) {
    const conflict = create(VersionConflictSchema, {
      kind: err.kind,
      name: err.resourceName,
      expected:
        err.expectedVersion === null
          ? { case: 'expectedAbsent', value: true }
          : { case: 'expectedVersion', value: BigInt(err.expectedVersion) },
      actual:
        err.actualVersion === null
          ? { case: 'actualAbsent', value: true }
          : { case: 'actualVersion', value: BigInt(err.actualVersion) },
    });
    return new ConnectError(err.message, Code.Aborted, undefined, [
      { desc: ErrorDetailSchema, value: detail },
      { desc: VersionConflictSchema, value: conflict },
    ]);
  }
  return new ConnectError(err.message, STATUS[err.code] ?? Code.Internal, undefined, [
    { desc: ErrorDetailSchema, value: detail },
  ]);
}

/** Where the client was talking to, for messages. */
export interface ClientContext {
  endpoint: string;
  /** The per-call deadline the client set, for the DEADLINE_EXCEEDED message. */
  timeoutMs?: number;
}

const TOKEN_HINT =
  'pass the token the server was started with: --token TOKEN or STIGMER_TOKEN (or `stigmer backend use cloud --endpoint URL --token TOKEN`)';

/** Node error codes in an error's cause chain. */
export function causeCodes(err: unknown): string[] {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e !== null && e !== undefined && depth < 8; depth++) {
    if (typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
      codes.push((e as { code: string }).code);
    }
    e = typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  }
  return codes;
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/**
 * True when the failure is the transport's: nothing reached the server, or the connection broke
 * before the answer came (a reset, a stream cancelled or failed by a dying peer). Statuses a
 * stigmer server sends always carry an ErrorDetail, so they never count.
 */
export function isTransportFailure(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return false;
  if (err.findDetails(ErrorDetailSchema).length > 0) return false;
  switch (err.code) {
    case Code.Unavailable:
      return true;
    case Code.Aborted:
    case Code.Canceled:
    case Code.Internal:
      return causeCodes(err).length > 0 || err.rawMessage.startsWith('http/2 stream closed');
    default:
      return false;
  }
}

/** True when the request certainly never reached the server (so even a non-idempotent call may be retried). */
export function neverSent(err: unknown): boolean {
  return causeCodes(err).some((c) => c === 'ECONNREFUSED' || c === 'ENOTFOUND' || c === 'EAI_AGAIN');
}

/**
 * Client side: the StigmerError for a failed call. With an ErrorDetail it is the store's own
 * error again; without one, a transport or authentication failure in one line.
 */
export function fromConnectError(err: unknown, ctx: ClientContext): StigmerError {
  if (err instanceof StigmerError) return err;
  const ce = ConnectError.from(err);
  const [detail] = ce.findDetails(ErrorDetailSchema);
  if (detail) {
    const hint = detail.hint;
    const options = {
      ...(hint !== undefined ? { hint } : {}),
      ...(detail.fields.userFixable === 'false' ? { userFixable: false } : {}),
    };
    const [conflict] = ce.findDetails(VersionConflictSchema);
    if (conflict && detail.code === 'CONFLICT') {
      const version = (o: { case: string | undefined; value?: bigint | boolean }) =>
        o.case === 'expectedVersion' || o.case === 'actualVersion' ? Number(o.value) : null;
      return new ConflictError(
        conflict.kind,
        conflict.name,
        version(conflict.expected),
        version(conflict.actual),
        options,
      );
    }
    const e = new StigmerError(detail.code as ErrorCode, ce.rawMessage, options);
    for (const [k, v] of Object.entries(detail.fields)) {
      if (k !== 'userFixable') (e as unknown as Record<string, string>)[k] = v;
    }
    return e;
  }
  const codes = causeCodes(ce);
  const at = `stigmer server at ${ctx.endpoint}`;
  const tls = codes.find((c) => TLS_CODES.has(c));
  if (tls) {
    return new StigmerError('BACKEND', `cannot verify the TLS certificate of the ${at} (${tls})`, {
      cause: ce,
      hint: 'trust the CA that signed it with --ca-cert FILE or STIGMER_CA_CERT (a PEM file)',
    });
  }
  const unreachable = () =>
    new StigmerError('BACKEND', `cannot reach ${at}`, {
      cause: ce,
      hint: `is \`stigmer server\` running there? (${codes[0] ?? ce.rawMessage})`,
    });
  switch (ce.code) {
    case Code.Unauthenticated:
      return new StigmerError('UNAUTHENTICATED', `authentication failed: the ${at} refused the token`, {
        cause: ce,
        hint: TOKEN_HINT,
      });
    case Code.PermissionDenied:
      return new StigmerError('UNAUTHENTICATED', `the ${at} refused the call: ${ce.rawMessage}`, {
        cause: ce,
        hint: TOKEN_HINT,
      });
    case Code.Unavailable:
    case Code.Aborted:
      return unreachable();
    case Code.DeadlineExceeded:
      return new StigmerError(
        'BACKEND',
        `the ${at} did not answer in time${ctx.timeoutMs ? ` (${Math.round(ctx.timeoutMs / 1000)} s)` : ''}`,
        { cause: ce, hint: 'the server may be overloaded or the network slow; try again' },
      );
    case Code.ResourceExhausted:
      return new StigmerError('BACKEND', `the ${at} refused a message: ${ce.rawMessage}`, {
        cause: ce,
        hint: 'a single request or response is over the 256 MiB message limit; apply the manifests in smaller parts',
      });
    case Code.Unimplemented:
      return new StigmerError('BACKEND', `the ${at} does not implement this call: ${ce.rawMessage}`, {
        cause: ce,
        hint: 'upgrade the server to the version of this stigmer CLI',
      });
    default:
      if (isTransportFailure(ce)) return unreachable();
      return new StigmerError('BACKEND', `the ${at} failed: ${ce.rawMessage}`, {
        cause: ce,
        hint: 'see the server log for details',
      });
  }
}
