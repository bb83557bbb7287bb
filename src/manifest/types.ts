/**
 * What the loader and validator hand to the planner. The per-file stage (parse + schema check
 * of each document) depends only on the file's bytes, so its result is JSON-serialisable and
 * can be cached by content hash (see the performance issue) and kept per file by `watch`.
 */
import type { Diagnostic } from '../errors.js';
import type { DeclaredKind, DesiredResource } from '../types.js';

export interface LoadOptions {
  /** Directory to read recursively (*.yaml, *.yml). */
  dir?: string;
  /** Files given with -f; '-' means stdin. */
  files?: string[];
  /** Stdin contents when files includes '-'. */
  stdin?: string;
  /** Paths in diagnostics and `source` are shown relative to this (default process.cwd()). */
  cwd?: string;
}

/** Position of a value that cross-file checks may need to point at. */
export interface RefPos {
  line: number;
  column: number;
}

/** One document after the per-file stage. */
export interface ParsedDocument {
  resource: DesiredResource;
  /**
   * JSON pointer (into the document) → position, for every value a cross-file check may
   * report on: references, dependsOn entries, expressions. Always has '' (document start).
   */
  positions: Record<string, RefPos>;
}

/** A document that names a (kind, name) but failed validation: it still counts for duplicates and references. */
export interface InvalidDocument {
  kind: DeclaredKind;
  name: string;
  line: number;
  column: number;
}

/** Result of the per-file stage for one file. JSON-serialisable. */
export interface ParsedFile {
  /** Path as shown to the user (relative to cwd). */
  file: string;
  documents: ParsedDocument[];
  diagnostics: Diagnostic[];
  /** Documents with a valid kind and name that failed validation (so no resource was made). */
  invalidDocuments?: InvalidDocument[];
}

/** One file to parse, as read by `readManifestSources`. */
export interface ManifestSource {
  /** Path as shown to the user (relative to cwd), or `<stdin>`. */
  path: string;
  /** Absolute path of the file as reached (before resolving symlinks); null for stdin. */
  absolutePath: string | null;
  /** Contents; at most MAX_FILE_BYTES + 1 bytes are read, so oversized files are still reported. */
  bytes: Buffer | string;
}

/** The file list and contents of a load, before parsing. */
export interface ManifestSources {
  /** Manifest root directory (absolute), or null for -f/stdin input. */
  root: string | null;
  /** `project:` from stigmer.yaml at the root, if any. */
  project: string | null;
  files: ManifestSource[];
  /** Problems found while listing files (symlinks, unreadable files, stigmer.yaml). */
  diagnostics: Diagnostic[];
}

/** Options of the cross-file stage. */
export interface ValidateSetOptions {
  root: string | null;
  project: string | null;
  /** Live names to resolve references against; when absent every reference must resolve in the manifests. */
  liveNames?: LiveNames;
  /** Base of the relative paths in ParsedFile.file (default process.cwd()); used to read skillMdFile. */
  cwd?: string;
  /** Diagnostics from reading the sources (`ManifestSources.diagnostics`), merged into the result. */
  diagnostics?: Diagnostic[];
}

/** Names that exist in the backend, used to resolve references not found in the manifests. */
export type LiveNames = (kind: DeclaredKind) => ReadonlySet<string>;

export interface ManifestSet {
  /** Manifest root directory (absolute), or null for -f/stdin input. */
  root: string | null;
  /** `project:` from stigmer.yaml at the manifest root, if any. */
  project: string | null;
  resources: DesiredResource[];
  /** All problems found, errors and warnings, in file order. */
  diagnostics: Diagnostic[];
  files: string[];
}
