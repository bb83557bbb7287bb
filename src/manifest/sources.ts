/**
 * Finding and reading manifest files: a directory walked recursively (`*.yaml`, `*.yml`, in
 * a sorted, deterministic order, skipping hidden entries and node_modules), files given with
 * `-f`, or stdin. Symlinks are followed only while they stay inside the root, and a loop is
 * refused. `stigmer.yaml` at the root is read for `project:`; it is not a manifest. Nothing
 * here parses manifests: that is the per-file stage (parse.ts).
 */
import { type Dirent, readdirSync, realpathSync, type Stats, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { type Diagnostic, StigmerError } from '../errors.js';
import { decodeManifestText } from './parse.js';
import { ByteArena, readFileLimited } from './read-file.js';
import { checkSchema } from './schema-check.js';
import type { LoadOptions, ManifestSources } from './types.js';
import { ConvertError, documentToJson, nodeAt, positionOf } from './yaml-nodes.js';

/** Shown as the file of documents read from standard input. */
export const STDIN_PATH = '<stdin>';
/** Project settings at the manifest root. */
export const PROJECT_FILES = ['stigmer.yaml', 'stigmer.yml'] as const;

const MANIFEST_FILE = /\.ya?ml$/i;

/**
 * Lists and reads the manifest files of a load. Throws StigmerError('LOAD') when the
 * directory or a file given does not exist; every other problem is a diagnostic.
 */
export async function readManifestSources(options: LoadOptions): Promise<ManifestSources> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const show = (abs: string): string => relative(cwd, abs) || '.';
  const sources: ManifestSources = { root: null, project: null, files: [], diagnostics: [] };
  const seen = new Set<string>();
  const arena = new ByteArena();
  const add = (abs: string): void => {
    if (seen.has(abs)) return;
    seen.add(abs);
    const file = readLimited(abs, show(abs), sources.diagnostics, arena);
    if (file !== undefined) sources.files.push({ path: show(abs), absolutePath: abs, bytes: file });
  };

  if (options.dir !== undefined) {
    const root = resolve(cwd, options.dir);
    const stat = statOrThrow(root, options.dir, true);
    if (stat.isFile()) {
      add(root);
    } else {
      sources.root = root;
      readProjectFile(root, show, sources);
      walkDirectory(root, show, add, sources.diagnostics);
    }
  }
  for (const f of options.files ?? []) {
    if (f === '-') {
      if (!seen.has(STDIN_PATH)) {
        seen.add(STDIN_PATH);
        sources.files.push({ path: STDIN_PATH, absolutePath: null, bytes: options.stdin ?? '' });
      }
      continue;
    }
    const abs = resolve(cwd, f);
    const stat = statOrThrow(abs, f, false);
    if (stat.isDirectory()) walkDirectory(abs, show, add, sources.diagnostics);
    else add(abs);
  }
  return sources;
}

function statOrThrow(abs: string, given: string, isDir: boolean): Stats {
  try {
    return statSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = isDir ? 'manifest directory' : 'manifest file';
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new StigmerError('LOAD', `${what} "${given}" does not exist`, {
        hint:
          isDir && given === 'manifests'
            ? 'run from a folder that has ./manifests, or pass a directory (`stigmer plan DIR`) or files (`-f FILE`)'
            : 'check the path',
        cause: err,
      });
    }
    throw new StigmerError('LOAD', `cannot read ${what} "${given}": ${(err as Error).message}`, {
      hint: 'check the path and its permissions',
      cause: err,
    });
  }
}

function readLimited(
  abs: string,
  shown: string,
  diagnostics: Diagnostic[],
  arena?: ByteArena,
): Buffer | undefined {
  const read = readFileLimited(abs, arena);
  if ('bytes' in read) return read.bytes;
  diagnostics.push(
    fileDiag(shown, `cannot read file: ${read.error}`, 'check that the file exists and is readable'),
  );
  return undefined;
}

/**
 * Walks `root` in sorted order. Symlinks are resolved; one that leaves the root, dangles, or
 * leads back to a directory being walked is reported and not followed. A directory reached
 * twice (through a link to it) is read once.
 */
function walkDirectory(
  root: string,
  show: (abs: string) => string,
  add: (abs: string) => void,
  diagnostics: Diagnostic[],
): void {
  let rootReal: string;
  try {
    rootReal = realpathSync(root);
  } catch (err) {
    diagnostics.push(
      fileDiag(show(root), `cannot read directory: ${(err as Error).message}`, 'check the path'),
    );
    return;
  }
  const visited = new Set<string>([rootReal]);
  const ancestors: string[] = [rootReal];
  const inside = (real: string): boolean => {
    const rel = relative(rootReal, real);
    return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
  };

  const visit = (dir: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      diagnostics.push(
        fileDiag(
          show(dir),
          `cannot read directory: ${(err as NodeJS.ErrnoException).code ?? ''}`,
          'check permissions',
        ),
      );
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const name = entry.name;
      if (name.startsWith('.') || name === 'node_modules') continue;
      const abs = join(dir, name);
      if (dir === root && (PROJECT_FILES as readonly string[]).includes(name)) continue;
      if (entry.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(abs);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (!MANIFEST_FILE.test(name) && code === 'ENOENT') continue; // a dangling link to something we would skip
          diagnostics.push(
            fileDiag(
              show(abs),
              code === 'ELOOP'
                ? 'symlink loop: the link resolves to itself'
                : `broken symlink (${code ?? 'unreadable'})`,
              'remove the link or point it at a file inside the manifest directory',
            ),
          );
          continue;
        }
        let isDir: boolean;
        try {
          isDir = statSync(real).isDirectory();
        } catch {
          continue;
        }
        if (!isDir && !MANIFEST_FILE.test(name)) continue; // not a manifest, wherever it points
        if (!inside(real)) {
          diagnostics.push(
            fileDiag(
              show(abs),
              'symlink points outside the manifest directory; refusing to follow it',
              'copy the file into the manifest directory or pass it with -f',
            ),
          );
          continue;
        }
        if (isDir) {
          if (ancestors.includes(real)) {
            diagnostics.push(
              fileDiag(
                show(abs),
                'symlink loop: the link points at a directory that contains it',
                'remove the link; every directory is read once',
              ),
            );
            continue;
          }
          if (visited.has(real)) continue;
          visited.add(real);
          ancestors.push(real);
          visit(abs);
          ancestors.pop();
        } else {
          add(abs);
        }
        continue;
      }
      if (entry.isDirectory()) {
        let real: string;
        try {
          real = realpathSync(abs);
        } catch {
          real = abs;
        }
        if (visited.has(real)) continue;
        visited.add(real);
        ancestors.push(real);
        visit(abs);
        ancestors.pop();
      } else if (entry.isFile() && MANIFEST_FILE.test(name)) {
        add(abs);
      }
    }
  };
  visit(root);
}

function fileDiag(file: string, message: string, hint: string): Diagnostic {
  return { severity: 'error', file, line: 1, column: 1, message, hint };
}

/** Reads `project:` from stigmer.yaml (or stigmer.yml) at the root, if present. */
function readProjectFile(root: string, show: (abs: string) => string, sources: ManifestSources): void {
  for (const name of PROJECT_FILES) {
    const abs = join(root, name);
    let isFile = false;
    try {
      isFile = statSync(abs).isFile();
    } catch {
      isFile = false;
    }
    if (!isFile) continue;
    const bytes = readLimited(abs, show(abs), sources.diagnostics);
    if (bytes === undefined) return;
    const result = parseProjectConfig(show(abs), bytes);
    sources.project = result.project;
    sources.diagnostics.push(...result.diagnostics);
    return;
  }
}

/** Parses stigmer.yaml: a mapping with an optional `project:` (a DNS label) and nothing else. */
export function parseProjectConfig(
  displayPath: string,
  bytes: Buffer | string,
): { project: string | null; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const report = (line: number, column: number, message: string, hint?: string): void => {
    diagnostics.push({
      severity: 'error',
      file: displayPath,
      line,
      column,
      message,
      ...(hint ? { hint } : {}),
    });
  };
  const decoded = decodeManifestText(bytes);
  if ('error' in decoded) {
    report(decoded.line ?? 1, decoded.column ?? 1, decoded.error, decoded.hint);
    return { project: null, diagnostics };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(decoded.text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const lp = err.linePos?.[0];
      report(
        lp?.line ?? 1,
        lp?.col ?? 1,
        err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?\s*$/, ''),
      );
    }
    return { project: null, diagnostics };
  }
  let value: unknown;
  try {
    value = documentToJson(doc);
  } catch (err) {
    if (!(err instanceof ConvertError)) throw err;
    const pos = positionOf(lineCounter, err.node);
    report(pos.line, pos.column, err.message, err.hint);
    return { project: null, diagnostics };
  }
  if (value === null) return { project: null, diagnostics };
  const issues = checkSchema('stigmer.yaml', value);
  for (const issue of issues) {
    const pos = positionOf(lineCounter, nodeAt(doc, issue.path, issue.atKey));
    report(pos.line, pos.column, issue.message, issue.hint);
  }
  if (issues.length > 0) return { project: null, diagnostics };
  const project = (value as { project?: string }).project;
  return { project: project ?? null, diagnostics };
}
