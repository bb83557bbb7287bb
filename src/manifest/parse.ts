/**
 * The per-file stage: bytes of one file → its documents as DesiredResources, with every
 * problem as a Diagnostic. A pure function of (path, bytes), so its JSON-serialisable result
 * can be cached by content hash and kept per file by watch mode. Checks here need nothing
 * outside the document: encoding and size, YAML syntax (1.2, unique keys, limited aliases),
 * the envelope (apiVersion, kind, metadata), the kind's schema, reserved annotations and the
 * Workflow task graph and expressions. Cross-file checks live in validate-set.ts.
 */
import {
  type Document,
  isMap,
  isScalar,
  LineCounter,
  type Node,
  type ParsedNode,
  parseAllDocuments,
} from 'yaml';
import type { Diagnostic } from '../errors.js';
import {
  ANNOTATIONS,
  API_VERSION,
  DECLARED_KINDS,
  type DeclaredKind,
  type DesiredResource,
  type JsonObject,
  type JsonValue,
  KINDS,
  type Kind,
  RESERVED_ANNOTATION_PREFIX,
} from '../types.js';
import { fastParseDocuments } from './fast-yaml.js';
import { checkSchema, suggest } from './schema-check.js';
import { DNS_LABEL, ENVELOPE_KEYS } from './schema-constants.js';
import type { InvalidDocument, ParsedDocument, ParsedFile, RefPos } from './types.js';
import { checkWorkflow } from './workflow.js';
import {
  ConvertError,
  documentToJson,
  duplicateKeys,
  nodeAt,
  type PositionTrie,
  positionOf,
  positionTrie,
  toPointer,
} from './yaml-nodes.js';

/** Files larger than this are refused: manifests are text written by people. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Annotations under stigmer.ai/ that users may set, with their accepted values; the rest are
 * written by Stigmer. A misspelt value would silently mean "not set" (and let a prune delete
 * the resource), so values are checked too.
 */
const USER_SETTABLE_ANNOTATIONS: ReadonlyMap<string, readonly string[]> = new Map([
  [ANNOTATIONS.prune, ['disabled', 'enabled']],
  [ANNOTATIONS.preventDestroy, ['true', 'false']],
]);

/** Values cross-file checks and later stages point at, per kind (`*` = any key or index). */
const POSITION_PATTERNS: Record<DeclaredKind, string[][]> = {
  Skill: [['spec', 'skillMdFile']],
  Environment: [
    ['spec', 'data', '*'],
    ['spec', 'data', '*', '*'],
    ['spec', 'data', '*', 'valueFrom', '*'],
  ],
  Agent: [
    ['spec', 'skillRefs', '*'],
    ['spec', 'subAgents', '*'],
  ],
  Workflow: [
    ['spec', 'inputs', '*'],
    ['spec', 'tasks', '*'],
    ['spec', 'tasks', '*', '*'],
    ['spec', 'tasks', '*', 'inputs', '*'],
    ['spec', 'tasks', '*', 'outputs', '*'],
    ['spec', 'tasks', '*', 'dependsOn', '*'],
  ],
  AgentInstance: [
    ['spec', 'agent'],
    ['spec', 'environmentRefs', '*'],
  ],
  WorkflowInstance: [
    ['spec', 'workflow'],
    ['spec', 'environmentRefs', '*'],
  ],
};
const COMMON_PATTERNS: string[][] = [[], ['metadata', 'name'], ['metadata', 'annotations', '*'], ['spec']];

/** Decodes a file's bytes as UTF-8 text, or says why it is not a text file we accept. */
export function decodeManifestText(
  bytes: Buffer | string,
): { text: string } | { error: string; hint: string; line?: number; column?: number } {
  const size = typeof bytes === 'string' ? Buffer.byteLength(bytes) : bytes.length;
  if (size > MAX_FILE_BYTES) {
    return {
      error: `file is larger than ${MAX_FILE_BYTES / (1024 * 1024)} MiB`,
      hint: 'split it into several files; manifests are small text files',
    };
  }
  if (typeof bytes === 'string') {
    const nul = bytes.indexOf('\0');
    if (nul >= 0)
      return {
        error: 'file contains NUL bytes: not a text file',
        hint: binaryHint,
        ...lineColOf(bytes, nul),
      };
    return { text: bytes.charCodeAt(0) === 0xfeff ? bytes.slice(1) : bytes };
  }
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    return { error: 'file contains NUL bytes: not a text file', hint: binaryHint, ...lineColOf(bytes, nul) };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { error: 'file is not valid UTF-8', hint: 'save it as UTF-8 text' };
  }
}

const binaryHint = 'only YAML text files (*.yaml, *.yml) belong in a manifest directory';

function lineColOf(text: Buffer | string, index: number): { line: number; column: number } {
  const before = typeof text === 'string' ? text.slice(0, index) : text.subarray(0, index).toString('latin1');
  const lines = before.split('\n');
  return { line: lines.length, column: lines[lines.length - 1]!.length + 1 };
}

export interface ParseFileOptions {
  /**
   * Try the fast path first (fast-yaml.ts). It answers only for files that parse and
   * validate without a single diagnostic; for every other file the `yaml` library parses the
   * whole file, so diagnostics always come from it. Default: on, unless the environment has
   * `STIGMER_FAST_YAML=0` (read once; tests compare both paths with it).
   */
  fast?: boolean;
}

const FAST_BY_DEFAULT = process.env.STIGMER_FAST_YAML !== '0';

/**
 * Parses and checks one manifest file. `displayPath` is the path shown in diagnostics and
 * recorded as each resource's source (relative to the working directory, or `<stdin>`).
 */
export function parseManifestFile(
  displayPath: string,
  bytes: Buffer | string,
  options: ParseFileOptions = {},
): ParsedFile {
  const result: ParsedFile = { file: displayPath, documents: [], diagnostics: [] };
  const decoded = decodeManifestText(bytes);
  if ('error' in decoded) {
    result.diagnostics.push({
      severity: 'error',
      file: displayPath,
      line: decoded.line ?? 1,
      column: decoded.column ?? 1,
      message: decoded.error,
      hint: decoded.hint,
    });
    return result;
  }
  if (options.fast ?? FAST_BY_DEFAULT) {
    const fast = parseFast(displayPath, decoded.text);
    if (fast) return fast;
  }
  const lineCounter = new LineCounter();
  // Duplicate keys are found in linear time, by the conversion to JSON (and duplicateKeys()):
  // the library's own check is quadratic in the number of keys of a mapping (100,000 keys took
  // minutes).
  const docs = parseAllDocuments(decoded.text, { lineCounter, uniqueKeys: false, prettyErrors: true });
  for (const doc of docs) {
    parseDocument(doc, lineCounter, result);
  }
  result.diagnostics.sort((a, b) => a.line - b.line || a.column - b.column);
  return result;
}

/** Thrown by the fast path's reporters: the file has something to report, so the library parses it. */
const NEEDS_LIBRARY: unique symbol = Symbol('needs the library');

/**
 * The fast path of a file: its documents when every one parses on the fast path and passes
 * every check without a diagnostic; undefined otherwise (the caller then parses the file
 * with the library, which gives the diagnostics and their positions).
 */
function parseFast(file: string, text: string): ParsedFile | undefined {
  const docs = fastParseDocuments(text, unionTrie());
  if (!docs) return undefined;
  const result: ParsedFile = { file, documents: [], diagnostics: [] };
  const linePos = lineLocator(text);
  const refuse = (): never => {
    throw NEEDS_LIBRARY;
  };
  try {
    for (const doc of docs) {
      const kind = doc.value.kind;
      const trie = triesFor(typeof kind === 'string' ? kind : undefined);
      const positions: Record<string, RefPos> = {};
      for (const r of doc.recorded) if (trieHas(trie, r.path)) positions[r.pointer] = linePos(r.offset);
      checkDocument(doc.value, positions, linePos(doc.start), refuse, refuse, refuse, result);
    }
  } catch (err) {
    if (err === NEEDS_LIBRARY) return undefined;
    throw err;
  }
  return result;
}

/** Offset → 1-based line and column: the library's LineCounter, fed the text's line starts once. */
function lineLocator(text: string): (offset: number) => RefPos {
  let counter: LineCounter | undefined;
  return (offset) => {
    if (!counter) {
      counter = new LineCounter();
      counter.addNewLine(0);
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) counter.addNewLine(i + 1);
    }
    const { line, col } = counter.linePos(offset);
    return { line, column: col };
  };
}

function parseDocument(doc: Document.Parsed, lineCounter: LineCounter, result: ParsedFile): void {
  const file = result.file;
  const diag = (
    pos: RefPos,
    message: string,
    hint?: string,
    path?: string,
    severity: Diagnostic['severity'] = 'error',
  ): void => {
    const d: Diagnostic = { severity, file, line: pos.line, column: pos.column, message };
    if (hint) d.hint = hint;
    if (path !== undefined) d.path = path;
    result.diagnostics.push(d);
  };
  const contents = doc.contents as ParsedNode | null;
  const docStart = contents?.range?.[0] ?? doc.range[0];
  const startPos = positionOf(lineCounter, undefined, docStart);

  // Syntax errors and repeated keys are reported alone: nothing else of the document is checked.
  const reportSyntax = (duplicates: Node[]): void => {
    for (const err of doc.errors) {
      const lp = err.linePos?.[0];
      const message =
        err.code === 'RESOURCE_EXHAUSTION'
          ? 'document is nested too deeply to parse'
          : yamlMessage(err.message);
      diag(lp ? { line: lp.line, column: lp.col } : startPos, message, yamlHint(err.code));
    }
    for (const key of duplicates) {
      diag(positionOf(lineCounter, key, docStart), 'Map keys must be unique', yamlHint('DUPLICATE_KEY'));
    }
  };
  if (doc.errors.length > 0) {
    reportSyntax(duplicateKeys(doc));
    return;
  }
  const empty =
    contents === null ||
    (isScalar(contents) && contents.value === null && contents.range[0] === contents.range[1]);

  // The conversion notices repeated keys in the same pass; only then (or when it fails, as the
  // scan may still find some) does the full scan run, which decides what is reported.
  let value: JsonValue = null;
  let convertError: ConvertError | undefined;
  const positions: Record<string, RefPos> = {};
  if (!empty) {
    const repeated = new Set<Node>();
    try {
      value = documentToJson(doc, {
        lineCounter,
        record: triesFor(peekKind(contents)),
        positions,
        duplicates: repeated,
      });
    } catch (err) {
      if (!(err instanceof ConvertError)) throw err;
      convertError = err;
    }
    if (repeated.size > 0 || convertError) {
      const duplicates = duplicateKeys(doc);
      if (duplicates.length > 0) {
        reportSyntax(duplicates);
        return;
      }
    }
  }
  for (const warning of doc.warnings) {
    const lp = warning.linePos?.[0];
    diag(
      lp ? { line: lp.line, column: lp.col } : startPos,
      yamlMessage(warning.message),
      undefined,
      undefined,
      'warning',
    );
  }
  if (empty) return; // an empty document (only comments or `---`) declares nothing
  if (convertError) {
    diag(positionOf(lineCounter, convertError.node, docStart), convertError.message, convertError.hint);
    return;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    diag(
      startPos,
      `a manifest document must be a mapping, got ${Array.isArray(value) ? 'a list' : `a ${value === null ? 'null' : typeof value}`}`,
      'start with `apiVersion: agentic.stigmer.ai/v1` and `kind:`',
    );
    return;
  }
  const at = (path: string[], atKey = false): RefPos =>
    positionOf(lineCounter, nodeAt(doc, path, atKey) as Node | undefined, docStart);
  checkDocument(
    value,
    positions,
    startPos,
    at,
    diag,
    (kind, path) => quoteHint(doc, kind, value as JsonObject, path),
    result,
  );
}

/**
 * The checks of one document whose value is a mapping, and the resource it declares when
 * they all pass. `at` finds a path's position and `diag` reports; both are called only when
 * there is something to report (the fast path's refuse to, and hand the file to the library).
 */
function checkDocument(
  value: JsonObject,
  positions: Record<string, RefPos>,
  startPos: RefPos,
  at: (path: string[], atKey?: boolean) => RefPos,
  diag: Report,
  quoteHintFor: (kind: DeclaredKind, path: string[]) => string,
  result: ParsedFile,
): void {
  const file = result.file;
  // Envelope: apiVersion and kind decide which schema applies.
  const envelopeOk = checkEnvelope(value, at, diag);
  const kind = envelopeOk ? (value.kind as DeclaredKind) : undefined;
  if (!kind) {
    for (const key of Object.keys(value)) {
      if (!(ENVELOPE_KEYS as readonly string[]).includes(key)) {
        const near = suggest(key, ENVELOPE_KEYS);
        diag(
          at([key], true),
          `unknown field ${JSON.stringify(key)}`,
          near ? `did you mean \`${near}\`?` : `allowed fields: ${ENVELOPE_KEYS.join(', ')}`,
          toPointer([key]),
        );
      }
    }
    return;
  }

  let ok = true;
  for (const issue of checkSchema(kind, value)) {
    if (issue.path[0] === 'apiVersion' || issue.path[0] === 'kind') continue; // reported above
    ok = false;
    const hint = issue.quote ? quoteHintFor(kind, issue.path) : issue.hint;
    diag(at(issue.path, issue.atKey), issue.message, hint, toPointer(issue.path));
  }
  const metadata = value.metadata as JsonObject | undefined;
  const name = typeof metadata?.name === 'string' ? metadata.name : undefined;
  const annotations = (isPlainObject(metadata?.annotations) ? metadata.annotations : {}) as Record<
    string,
    string
  >;
  for (const [key, annotation] of Object.entries(annotations)) {
    if (!key.startsWith(RESERVED_ANNOTATION_PREFIX)) continue;
    const path = ['metadata', 'annotations', key];
    const allowed = USER_SETTABLE_ANNOTATIONS.get(key);
    if (!allowed) {
      ok = false;
      diag(
        at(path, true),
        `annotation ${JSON.stringify(key)} is reserved: keys under ${RESERVED_ANNOTATION_PREFIX} are written by Stigmer`,
        `of these, only ${[...USER_SETTABLE_ANNOTATIONS.keys()].join(' and ')} may be set in manifests`,
        toPointer(path),
      );
    } else if (typeof annotation === 'string' && !allowed.includes(annotation)) {
      ok = false;
      const near = suggest(annotation, allowed);
      diag(
        at(path),
        `annotation ${key} must be ${allowed.map((v) => JSON.stringify(v)).join(' or ')}, got ${JSON.stringify(annotation)}`,
        near ? `did you mean \`${near}\`?` : undefined,
        toPointer(path),
      );
    }
  }
  if (ok && kind === 'Workflow') {
    for (const issue of checkWorkflow(value.spec)) {
      ok = false;
      diag(at(issue.path), issue.message, issue.hint, toPointer(issue.path));
    }
  }
  if (ok && kind === 'Skill') {
    const file = (value.spec as JsonObject).skillMdFile;
    if (typeof file === 'string' && (file.startsWith('/') || /^[A-Za-z]:[\\/]/.test(file))) {
      ok = false;
      diag(
        at(['spec', 'skillMdFile']),
        `spec.skillMdFile must be a path relative to this manifest, got ${JSON.stringify(file)}`,
        'write it relative to the manifest file, inside the manifest directory',
        '/spec/skillMdFile',
      );
    }
  }

  if (!ok) {
    if (name !== undefined && DNS_LABEL.test(name)) {
      const invalid: InvalidDocument = { kind, name, line: startPos.line, column: startPos.column };
      result.invalidDocuments = [...(result.invalidDocuments ?? []), invalid];
    }
    return;
  }

  const resource: DesiredResource = {
    kind,
    name: name!,
    labels: { ...((metadata?.labels as Record<string, string> | undefined) ?? {}) },
    annotations: { ...annotations },
    spec: value.spec as JsonObject,
    source: { file, line: startPos.line, column: startPos.column },
  };
  const parsed: ParsedDocument = { resource, positions };
  result.documents.push(parsed);
}

const tries = new Map<string, PositionTrie>();
let union: PositionTrie | undefined;

/** Every kind's patterns in one trie: the fast path records these, then keeps its kind's. */
function unionTrie(): PositionTrie {
  union ??= positionTrie([...COMMON_PATTERNS, ...Object.values(POSITION_PATTERNS).flat()]);
  return union;
}

/** Whether the trie records the value at `path` (as documentToJson's walk decides). */
function trieHas(trie: PositionTrie, path: readonly string[]): boolean {
  let node: PositionTrie | undefined = trie;
  for (const seg of path) {
    node = node.children.get(seg) ?? node.star;
    if (!node) return false;
  }
  return node.terminal;
}

/** The position trie for a kind (compiled once); undeclared kinds record the common paths only. */
function triesFor(kind: string | undefined): PositionTrie {
  const key = kind !== undefined && (DECLARED_KINDS as readonly string[]).includes(kind) ? kind : '';
  let trie = tries.get(key);
  if (!trie) {
    trie = positionTrie([...COMMON_PATTERNS, ...(key ? POSITION_PATTERNS[key as DeclaredKind] : [])]);
    tries.set(key, trie);
  }
  return trie;
}

/** The `kind:` of a mapping document, read from the node tree before conversion. */
function peekKind(contents: ParsedNode | null): string | undefined {
  if (!isMap(contents)) return undefined;
  for (const pair of contents.items) {
    if (isScalar(pair.key) && pair.key.value === 'kind' && isScalar(pair.value)) {
      return typeof pair.value.value === 'string' ? pair.value.value : undefined;
    }
  }
  return undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

type Report = (pos: RefPos, message: string, hint?: string, path?: string) => void;

/** Checks apiVersion and kind; true when the kind is one that manifests may declare. */
function checkEnvelope(
  value: JsonObject,
  at: (path: string[], atKey?: boolean) => RefPos,
  diag: Report,
): boolean {
  const apiVersion = value.apiVersion;
  if (apiVersion === undefined) {
    diag(at([]), 'missing required field "apiVersion"', `add \`apiVersion: ${API_VERSION}\``, '');
  } else if (apiVersion !== API_VERSION) {
    diag(
      at(['apiVersion']),
      `apiVersion must be ${JSON.stringify(API_VERSION)}, got ${JSON.stringify(apiVersion)}`,
      `write \`apiVersion: ${API_VERSION}\``,
      '/apiVersion',
    );
  }
  const kind = value.kind;
  if (kind === undefined) {
    diag(at([]), 'missing required field "kind"', `kinds: ${DECLARED_KINDS.join(', ')}`, '');
    return false;
  }
  if (typeof kind !== 'string') {
    diag(
      at(['kind']),
      `kind must be a string, got ${JSON.stringify(kind)}`,
      `kinds: ${DECLARED_KINDS.join(', ')}`,
      '/kind',
    );
    return false;
  }
  if ((DECLARED_KINDS as readonly string[]).includes(kind)) return true;
  if (Object.hasOwn(KINDS, kind) && !KINDS[kind as Kind].declared) {
    diag(
      at(['kind']),
      `kind ${kind} cannot be declared in manifests: it is a runtime record created by commands`,
      `manifests declare ${DECLARED_KINDS.join(', ')}`,
      '/kind',
    );
    return false;
  }
  const near = suggest(kind, DECLARED_KINDS);
  diag(
    at(['kind']),
    `unknown kind ${JSON.stringify(kind)}`,
    near ? `did you mean \`${near}\`?` : `kinds: ${DECLARED_KINDS.join(', ')}`,
    '/kind',
  );
  return false;
}

/** yaml's messages end with " at line L, column C:" and a code excerpt; the position is printed already. */
function yamlMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?\s*$/, '');
}

function yamlHint(code: string): string | undefined {
  switch (code) {
    case 'DUPLICATE_KEY':
      return 'each key may appear once per mapping; remove or rename one of them';
    case 'RESOURCE_EXHAUSTION':
      return 'manifests are a handful of levels deep; flatten the structure';
    case 'TAB_AS_INDENT':
      return 'indent with spaces, not tabs';
    case 'BAD_INDENT':
    case 'MISSING_CHAR':
    case 'UNEXPECTED_TOKEN':
      return 'check the indentation and quoting on this line and the one before';
    default:
      return undefined;
  }
}

/**
 * The hint for a number or boolean where a string belongs: quote it, as it was written (`0x10`
 * stays `"0x10"`, not the 16 it parses as). Inside an Environment entry that holds a secret the
 * hint names the entry and never repeats the value.
 */
function quoteHint(doc: Document.Parsed, kind: DeclaredKind, value: JsonObject, path: string[]): string {
  if (kind === 'Environment' && path[0] === 'spec' && path[1] === 'data' && path[2] !== undefined) {
    const data = (value.spec as JsonObject | undefined)?.data;
    const entry = isPlainObject(data) ? data[path[2]] : undefined;
    const secret =
      isPlainObject(entry) &&
      ((entry.isSecret !== undefined && entry.isSecret !== false) || entry.valueFrom !== undefined);
    if (secret) return `write the value of secret ${path[2]} in quotes, so it stays a string`;
  }
  const node = nodeAt(doc, path);
  const source = isScalar(node) && typeof node.source === 'string' ? node.source : undefined;
  return source === undefined || source.includes('\n')
    ? 'quote the value'
    : `quote the value: ${JSON.stringify(source)}`;
}
