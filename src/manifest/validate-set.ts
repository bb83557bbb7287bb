/**
 * The cross-file stage: checks that need every parsed file at once. A (kind, name) may be
 * defined once; references (Agent skillRefs/subAgents, Workflow task agents, instance
 * agent/workflow/environmentRefs) must resolve against the manifests, else against the live
 * names when the caller has them (plan/apply) — offline validation has none, so there every
 * reference must resolve within the manifests. A Skill's `skillMdFile` is read here (it must
 * stay inside the manifest root) so that the per-file stage stays a function of one file.
 */

import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../errors.js';
import { peekSpec, specTextOf } from '../stored-text.js';
import type { DeclaredKind, DesiredResource, JsonObject } from '../types.js';
import { cachedLinksResolve, referencesOf } from './links.js';
import { decodeManifestText } from './parse.js';
import { readFileLimited } from './read-file.js';
import { displayPath, suggest } from './schema-check.js';
import { STDIN_PATH } from './sources.js';
import type {
  LiveNames,
  ManifestSet,
  ParsedDocument,
  ParsedFile,
  RefPos,
  ValidateSetOptions,
} from './types.js';

export { type Reference, referencesOf } from './links.js';

/**
 * The first definition of a (kind, name): the resource of an accepted document (no object of
 * its own for each of 100,000 resources), or where an invalid document defined the name.
 */
type Definition = DesiredResource | { file: string; line: number; column: number };

function definedAt(d: Definition): { file: string; line: number; column: number } {
  return 'source' in d ? d.source : d;
}

/**
 * The first definition of every (kind, name) of a set of parsed files, the documents accepted
 * (in order) and an error for each later definition: the first step of validateManifestSet.
 * The planner makes it before reading the live state, which it then compares against the
 * definitions' spec texts (`specText`) without a map of its own.
 */
export interface ManifestDefinitions {
  readonly files: readonly ParsedFile[];
  readonly defined: ReadonlyMap<DeclaredKind, ReadonlyMap<string, Definition>>;
  /** The accepted documents, in order (each one's file is `doc.resource.source.file`). */
  readonly accepted: readonly ParsedDocument[];
  readonly diagnostics: readonly Diagnostic[];
  /** The packed spec text of the accepted resource (kind, name), if it is still one. */
  specText(kind: DeclaredKind, name: string): string | undefined;
}

/** Duplicates: the first definition wins; each later one is an error naming the first. */
export function defineManifests(files: readonly ParsedFile[]): ManifestDefinitions {
  const diagnostics: Diagnostic[] = [];
  const defined = new Map<DeclaredKind, Map<string, Definition>>();
  const accepted: ParsedDocument[] = [];
  const define = (
    file: ParsedFile,
    kind: DeclaredKind,
    name: string,
    pos: RefPos,
    doc: ParsedDocument | undefined,
  ): void => {
    let names = defined.get(kind);
    if (names === undefined) {
      names = new Map();
      defined.set(kind, names);
    }
    const found = names.get(name);
    if (found) {
      const first = definedAt(found);
      diagnostics.push({
        severity: 'error',
        file: file.file,
        line: pos.line,
        column: pos.column,
        message: `duplicate ${kind} "${name}": also defined at ${first.file}:${first.line}:${first.column}`,
        hint: 'names are unique per kind; rename or remove one of the two definitions',
        path: '/metadata/name',
      });
      return;
    }
    if (doc) {
      names.set(name, doc.resource);
      accepted.push(doc);
    } else names.set(name, { file: file.file, line: pos.line, column: pos.column });
  };
  for (const file of files) {
    if (!file.invalidDocuments?.length) {
      // Documents are in the order of the text.
      for (const doc of file.documents)
        define(file, doc.resource.kind, doc.resource.name, doc.resource.source, doc);
      continue;
    }
    const entries: Array<{
      kind: DeclaredKind;
      name: string;
      line: number;
      column: number;
      doc?: ParsedDocument;
    }> = [
      ...file.documents.map((doc) => ({
        kind: doc.resource.kind,
        name: doc.resource.name,
        line: doc.resource.source.line,
        column: doc.resource.source.column,
        doc,
      })),
      ...file.invalidDocuments,
    ].sort((a, b) => a.line - b.line || a.column - b.column);
    for (const entry of entries) define(file, entry.kind, entry.name, entry, entry.doc);
  }
  return {
    files,
    defined,
    accepted,
    diagnostics,
    specText(kind, name) {
      const found = defined.get(kind)?.get(name);
      return found !== undefined && 'source' in found ? specTextOf(found) : undefined;
    },
  };
}

/**
 * Checks a set of parsed files together and returns the resources to plan with every
 * diagnostic (from parsing, from reading the sources, and from these checks) in file order.
 * Pure apart from reading the files that Skills name in `skillMdFile`; never mutates `files`.
 * `definitions`: defineManifests of these same files, when the caller made it already.
 */
export function validateManifestSet(
  files: ParsedFile[],
  options: ValidateSetOptions,
  definitions: ManifestDefinitions = defineManifests(files),
): ManifestSet {
  const cwd = resolve(options.cwd ?? process.cwd());
  const diagnostics: Diagnostic[] = [...definitions.diagnostics];
  const { defined, accepted } = definitions;

  const resources: DesiredResource[] = [];
  const context: DocumentCheckContext = {
    names: (kind) => defined.get(kind),
    cwd,
    root: options.root,
    ...(options.liveNames ? { liveNames: options.liveNames } : {}),
  };
  for (const doc of accepted) {
    const r = checkDocument(doc.resource.source.file, doc, context, diagnostics);
    if (r) resources.push(r);
  }

  const all = [...(options.diagnostics ?? [])];
  for (const f of files) for (const d of f.diagnostics) all.push(d);
  for (const d of diagnostics) all.push(d);
  if (all.length > 1) {
    const order = new Map(files.map((f, i) => [f.file, i]));
    const rank = (d: Diagnostic): number => order.get(d.file) ?? -1;
    all.sort((a, b) => rank(a) - rank(b) || a.line - b.line || a.column - b.column);
  }
  return {
    root: options.root,
    project: options.project,
    resources,
    diagnostics: all,
    files: files.map((f) => f.file),
  };
}

/** What the per-document checks of the cross-file stage look names up in. */
export interface DocumentCheckContext {
  /** Names the manifests define, per kind (each defined once): a Set, or a Map keyed by name. */
  names: (kind: DeclaredKind) => { has(name: string): boolean; keys(): Iterable<string> } | undefined;
  /** Names the backend holds; absent offline. */
  liveNames?: LiveNames;
  /** Base of ParsedFile.file, absolute. */
  cwd: string;
  /** Manifest root (absolute) or null. */
  root: string | null;
}

/**
 * The cross-file checks of one accepted document (its references resolve, an Agent is not its
 * own sub-agent, a Skill's skillMdFile is read): pushes its errors onto `diagnostics` and
 * returns the resource to plan (with skillMdFile read into skillMd), or null when the file
 * could not be included. Used by validateManifestSet for every document and by the
 * incremental planner (src/core/incremental.ts) for the documents of changed files.
 */
export function checkDocument(
  file: string,
  doc: ParsedDocument,
  context: DocumentCheckContext,
  diagnostics: Diagnostic[],
): DesiredResource | null {
  const r = doc.resource;
  // Links kept from the per-file stage (src/manifest/links.ts): when they all resolve, there
  // is nothing else to check, and the spec is never read.
  if (cachedLinksResolve(r, (kind, name) => resolves(kind, name, context)) === true) return r;
  const error = (pos: RefPos, message: string, hint?: string, path?: string): void => {
    const d: Diagnostic = { severity: 'error', file, line: pos.line, column: pos.column, message };
    if (hint) d.hint = hint;
    if (path !== undefined) d.path = path;
    diagnostics.push(d);
  };
  const posOf = (pointer: string): RefPos => doc.positions[pointer] ?? doc.positions[''] ?? r.source;
  const liveNames = context.liveNames;
  // Read once without keeping it decoded: a spec unpacked from the parse cache stays text
  // (the planner compares it as text), so a warm plan never builds the objects of its specs.
  const spec = r.kind === 'Skill' || r.kind === 'Environment' ? null : peekSpec(r);
  for (const ref of spec === null ? [] : referencesOf(r, spec)) {
    if (context.names(ref.kind)?.has(ref.name)) continue;
    if (liveNames?.(ref.kind).has(ref.name)) continue;
    const candidates = [...(context.names(ref.kind)?.keys() ?? []), ...(liveNames?.(ref.kind) ?? [])];
    const near = suggest(ref.name, candidates);
    const field = displayPath(ref.pointer.slice(1).split('/'));
    error(
      posOf(ref.pointer),
      `${ref.kind} "${ref.name}" not found (referenced by ${r.kind} "${r.name}" in ${field})`,
      near
        ? `did you mean \`${near}\`?`
        : liveNames
          ? `define a ${ref.kind} named "${ref.name}" in the manifests`
          : `define a ${ref.kind} named "${ref.name}" in the manifests; \`stigmer validate\` works offline, so references must resolve within the manifests`,
      ref.pointer,
    );
  }
  if (r.kind === 'Agent' && Array.isArray(spec?.subAgents) && spec.subAgents.includes(r.name)) {
    const i = spec.subAgents.indexOf(r.name);
    error(
      posOf(`/spec/subAgents/${i}`),
      `Agent "${r.name}" lists itself in subAgents`,
      undefined,
      `/spec/subAgents/${i}`,
    );
  }
  const skillMdFile = r.kind === 'Skill' ? peekSpec(r).skillMdFile : undefined;
  if (typeof skillMdFile === 'string') {
    const included = includeSkillFile(r, skillMdFile, file, context.cwd, context.root);
    if ('error' in included) {
      error(posOf('/spec/skillMdFile'), included.error, included.hint, '/spec/skillMdFile');
      return null;
    }
    const spec: JsonObject = {};
    for (const [k, v] of Object.entries(r.spec)) {
      if (k === 'skillMdFile') spec.skillMd = included.text;
      else spec[k] = v;
    }
    return { ...r, spec, source: { ...r.source, includes: [included.shown] } };
  }
  return r;
}

function resolves(kind: DeclaredKind, name: string, context: DocumentCheckContext): boolean {
  return context.names(kind)?.has(name) === true || context.liveNames?.(kind).has(name) === true;
}

/** Reads a Skill's skillMdFile, which must stay inside the manifest root (or the manifest's directory). */
function includeSkillFile(
  r: DesiredResource,
  skillMdFile: string,
  manifestFile: string,
  cwd: string,
  root: string | null,
): { text: string; shown: string } | { error: string; hint: string } {
  if (manifestFile === STDIN_PATH) {
    return {
      error: `Skill "${r.name}": skillMdFile cannot be used in a manifest read from standard input`,
      hint: 'inline the markdown with skillMd, or pass the manifest as a file',
    };
  }
  const manifestDir = dirname(resolve(cwd, manifestFile));
  const target = resolve(manifestDir, skillMdFile);
  const shown = relative(cwd, target);
  const boundary = root ?? manifestDir;
  let real: string;
  let realBoundary: string;
  try {
    realBoundary = realpathSync(boundary);
    real = realpathSync(target);
  } catch {
    return {
      error: `Skill "${r.name}": skillMdFile "${skillMdFile}" not found (looked for ${shown})`,
      hint: 'the path is relative to the manifest file',
    };
  }
  const rel = relative(realBoundary, real);
  if (rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)) {
    return {
      error: `Skill "${r.name}": skillMdFile "${skillMdFile}" is outside the manifest directory`,
      hint: 'keep the markdown file inside the manifest directory',
    };
  }
  const read = readFileLimited(real);
  if ('error' in read) {
    return {
      error: `Skill "${r.name}": cannot read skillMdFile "${skillMdFile}": ${read.error}`,
      hint: 'check the file',
    };
  }
  const decoded = decodeManifestText(read.bytes);
  if ('error' in decoded) {
    return {
      error: `Skill "${r.name}": skillMdFile "${skillMdFile}": ${decoded.error}`,
      hint: 'save it as UTF-8 text',
    };
  }
  if (decoded.text.trim() === '') {
    return {
      error: `Skill "${r.name}": skillMdFile "${skillMdFile}" is empty`,
      hint: 'write the skill in the file',
    };
  }
  return { text: decoded.text, shown };
}
