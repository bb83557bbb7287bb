/**
 * The packed form of a ParsedFile: what the parse cache stores and the parse worker sends (issue
 * 17, docs/performance.md item 23). It is the ParsedFile's JSON except that each document's
 * `resource.spec` is its JSON *text* (a string) instead of an object, and `positions` a compact
 * text (`encodePositions`: about a third of its JSON, item 34). Unpacking makes
 * them lazy members (src/stored-text.ts): decoded on first read, so a warm plan of 100,000
 * resources holds each spec as one string instead of a tree of objects, and positions (read
 * only to report an error) are never decoded at all; the planner compares a spec's text with
 * the stored text without decoding either (`specTextOf`).
 *
 * Each packed document also carries `facts`: the references of its spec as the cross-file
 * stage needs them, and the hash a create or update of it records (src/manifest/links.ts);
 * unpacking attaches them to the resource, out of sight of its members.
 *
 * Everything else of the file is plain JSON, and the unpacked ParsedFile reads like the one
 * `parseManifestFile` returned: same members, same order, same values.
 */
// The spec member is shared with lazy stored resources (`specTextOf` reads either).
import { LazyHolder, lazyMember, peekSpec, specMember } from '../stored-text.js';
import { attachFacts, cachedFacts, factsOf, isFacts } from './links.js';
import type { ParsedDocument, ParsedFile, RefPos } from './types.js';

// Slot 1 of a LazyHolder: a document has no `status` (src/stored-text.ts).
const positionsMember = lazyMember('positions', decodePositions, 1);

/**
 * `positions` (JSON pointer → line and column) as one compact text: per entry, in order,
 * `line,column,shared,length:suffix`, where the pointer is the first `shared` characters of
 * the previous entry's pointer followed by the `length` characters of `suffix`. Pointers of a
 * document share long prefixes (`/spec/tasks/0`, `/spec/tasks/0/name`), so an entry takes
 * about 17 characters instead of the 46 of its JSON.
 */
export function encodePositions(positions: Record<string, RefPos>): string {
  let out = '';
  let previous = '';
  for (const pointer of Object.keys(positions)) {
    const at = positions[pointer] as RefPos;
    const max = Math.min(previous.length, pointer.length);
    let shared = 0;
    while (shared < max && previous.charCodeAt(shared) === pointer.charCodeAt(shared)) shared++;
    const suffix = pointer.slice(shared);
    out += `${at.line},${at.column},${shared},${suffix.length}:${suffix}`;
    previous = pointer;
  }
  return out;
}

/** The positions of an `encodePositions` text (what is well formed of it, when it is not). */
export function decodePositions(text: string): Record<string, RefPos> {
  const positions: Record<string, RefPos> = {};
  let previous = '';
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const [line, column, shared, length] = text.slice(i, colon).split(',').map(Number) as number[];
    if (![line, column, shared, length].every((n) => Number.isInteger(n) && (n as number) >= 0)) break;
    const pointer = previous.slice(0, shared) + text.slice(colon + 1, colon + 1 + (length as number));
    positions[pointer] = { line: line as number, column: column as number };
    previous = pointer;
    i = colon + 1 + (length as number);
  }
  return positions;
}

/**
 * The packed JSON text of `parsed` (see the module comment). `appliedHashes: true` works out
 * the applied-hash of each document into its facts (ParseFilesOptions.appliedHashes); without
 * it a resource keeps only the hash it came with, and the planner computes the others when a
 * create or update needs them.
 */
export function packParsedFile(parsed: ParsedFile, options: { appliedHashes?: boolean } = {}): string {
  const withHashes = options.appliedHashes ?? false;
  const documents = parsed.documents.map((doc) => {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(doc) as Array<keyof ParsedDocument>) {
      if (key === 'resource') out.resource = packResource(doc.resource);
      else if (key === 'positions')
        out.positions = positionsMember.text(doc) ?? encodePositions(doc.positions);
      else out[key] = doc[key];
    }
    const resource = doc.resource;
    out.facts = cachedFacts(resource) ?? factsOf(resource, peekSpec(resource), withHashes);
    return out;
  });
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(parsed) as Array<keyof ParsedFile>) {
    out[key] = key === 'documents' ? documents : parsed[key];
  }
  return JSON.stringify(out);
}

function packResource(resource: ParsedDocument['resource']): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(resource) as Array<keyof typeof resource>) {
    out[key] = key === 'spec' ? (specMember.text(resource) ?? JSON.stringify(resource.spec)) : resource[key];
  }
  return out;
}

/**
 * The ParsedFile of a packed value (`JSON.parse` of `packParsedFile`'s text), with lazy specs
 * and positions; null when the value is not a packed ParsedFile of `displayPath` (when given).
 */
export function unpackParsedFile(value: unknown, displayPath?: string): ParsedFile | null {
  if (typeof value !== 'object' || value === null) return null;
  const file = value as Record<string, unknown>;
  if (typeof file.file !== 'string' || (displayPath !== undefined && file.file !== displayPath)) return null;
  if (!Array.isArray(file.documents) || !Array.isArray(file.diagnostics)) return null;
  const documents = file.documents as unknown[];
  for (let i = 0; i < documents.length; i++) {
    const doc = unpackDocument(documents[i]);
    if (doc === null) return null;
    documents[i] = doc;
  }
  return value as ParsedFile;
}

function unpackDocument(value: unknown): ParsedDocument | null {
  if (typeof value !== 'object' || value === null) return null;
  const packed = value as Record<string, unknown>;
  const resource = packed.resource as Record<string, unknown> | null | undefined;
  if (typeof resource !== 'object' || resource === null) return null;
  if (typeof resource.spec !== 'string' || typeof packed.positions !== 'string') return null;
  const doc = new LazyHolder() as unknown as Record<string, unknown>;
  for (const key of Object.keys(packed)) {
    if (key === 'resource') doc.resource = unpackResource(resource, packed.facts);
    else if (key === 'positions') positionsMember.define(doc, packed.positions);
    else if (key !== 'facts') doc[key] = packed[key];
  }
  return doc as unknown as ParsedDocument;
}

function unpackResource(packed: Record<string, unknown>, facts: unknown): LazyHolder {
  const resource = new LazyHolder();
  const members = resource as unknown as Record<string, unknown>;
  for (const key of Object.keys(packed)) {
    if (key === 'spec') specMember.define(resource, packed.spec as string);
    else members[key] = packed[key];
  }
  if (isFacts(facts)) attachFacts(resource, facts);
  return resource;
}
