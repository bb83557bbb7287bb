/**
 * One error type for everything Stigmer raises. A `StigmerError` carries a stable `code`
 * (scripts may match on it), a `hint` saying what to do next, and the `cause` it wraps.
 * Foreign errors (SQLite, gRPC, file system) are translated into these once, at the edge.
 * `userFixable` errors print one clear line plus the hint and exit 1; anything else is a bug
 * and prints enough to report it.
 */

export type ErrorCode =
  | 'CONFIG'
  | 'USAGE'
  | 'UNKNOWN_KIND'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'CONFLICT'
  | 'STALE_PLAN'
  /** A write would touch a resource of another project (checked inside the apply transaction). */
  | 'OWNERSHIP'
  /** A delete of a resource annotated `stigmer.ai/prevent-destroy: "true"`. */
  | 'PREVENT_DESTROY'
  | 'VALIDATION'
  | 'PLAN'
  | 'LOAD'
  | 'BACKEND'
  | 'BUSY'
  /** The store's database cannot be reached right now (restarting, refused, dropped); retryable. */
  | 'UNAVAILABLE'
  | 'SCHEMA_TOO_NEW'
  | 'MIGRATION_CHANGED'
  | 'UNAUTHENTICATED'
  | 'SECRET'
  | 'ABORTED'
  | 'MODEL'
  | 'MCP'
  | 'INTERNAL';

export interface StigmerErrorOptions {
  hint?: string;
  cause?: unknown;
  /** false for bugs: the CLI then prints details for a bug report. Default true. */
  userFixable?: boolean;
}

export class StigmerError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly userFixable: boolean;

  constructor(code: ErrorCode, message: string, options: StigmerErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StigmerError';
    this.code = code;
    this.hint = options.hint;
    this.userFixable = options.userFixable ?? true;
  }
}

/** A write named an expected version that no longer matches the stored one. */
export class ConflictError extends StigmerError {
  readonly kind: string;
  readonly resourceName: string;
  readonly expectedVersion: number | null;
  readonly actualVersion: number | null;

  constructor(
    kind: string,
    name: string,
    expectedVersion: number | null,
    actualVersion: number | null,
    options: StigmerErrorOptions = {},
  ) {
    const want = expectedVersion === null ? 'absent' : `version ${expectedVersion}`;
    const got = actualVersion === null ? 'absent' : `version ${actualVersion}`;
    super('CONFLICT', `conflict on ${kind}/${name}: expected ${want}, found ${got}`, {
      hint: 'someone else changed it since the plan was made; run `stigmer plan` again',
      ...options,
    });
    this.name = 'ConflictError';
    this.kind = kind;
    this.resourceName = name;
    this.expectedVersion = expectedVersion;
    this.actualVersion = actualVersion;
  }
}

export class NotFoundError extends StigmerError {
  constructor(kind: string, name: string, options: StigmerErrorOptions = {}) {
    super('NOT_FOUND', `${kind} "${name}" not found`, {
      hint: `list what exists with \`stigmer get ${kind.toLowerCase()}\``,
      ...options,
    });
    this.name = 'NotFoundError';
  }
}

/** A position in a manifest file. Lines and columns are 1-based. */
export interface SourcePos {
  file: string;
  line: number;
  column: number;
}

export interface Diagnostic {
  severity: 'error' | 'warning';
  file: string;
  line: number;
  column: number;
  message: string;
  hint?: string;
  /** JSON pointer inside the document, when known. */
  path?: string;
}

/** Loading or validation failed; every problem found is in `diagnostics`. */
export class ValidationError extends StigmerError {
  readonly diagnostics: Diagnostic[];

  constructor(diagnostics: Diagnostic[], options: StigmerErrorOptions = {}) {
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    super('VALIDATION', `${errors} error${errors === 1 ? '' : 's'} in manifests`, {
      hint: 'fix the errors above; nothing was sent to the backend',
      ...options,
    });
    this.name = 'ValidationError';
    this.diagnostics = diagnostics;
  }
}

export function isStigmerError(err: unknown): err is StigmerError {
  return err instanceof StigmerError;
}

/** Formats a diagnostic the way compilers do: `file:line:col: message` (just the message for line 0). */
export function formatDiagnostic(d: Diagnostic): string {
  // Line 0: about the plan as a whole, not a place in a file.
  const where = d.line === 0 ? '' : `${d.file}:${d.line}:${d.column}: `;
  const base = `${where}${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
  return d.hint ? `${base}\n  hint: ${d.hint}` : base;
}
