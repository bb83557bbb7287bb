/**
 * Private directories and files (DESIGN.md §4.6): `$STIGMER_HOME` is 0700 and every file Stigmer
 * creates in it 0600, whichever command creates them first. Directories are created one level
 * at a time after finding the nearest existing ancestor, instead of `mkdir -p`: Node's
 * recursive mkdir loops forever on some paths (`/proc/nonexist`), and a path through a regular
 * file must be one clear error, not an EEXIST stack trace.
 */
import { closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { StigmerError } from './errors.js';

/** Mode of the directories Stigmer creates. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of the files Stigmer creates. */
export const PRIVATE_FILE_MODE = 0o600;

function errnoCode(err: unknown): string {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'error';
}

/**
 * Makes sure `dir` is a directory, creating it and its missing parents with mode 0700. An
 * existing directory is left as it is. `label` names the path in errors (e.g. `STIGMER_HOME`).
 *
 * @throws StigmerError('CONFIG') naming the path when it, or one of its parents, is not a
 *   directory, or when it cannot be created.
 */
export function ensurePrivateDir(dir: string, label = 'directory'): void {
  const target = resolve(dir);
  const missing: string[] = [];
  for (let path = target; ; ) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(path).isDirectory();
    } catch (err) {
      const code = errnoCode(err);
      // ENOTDIR: some parent is a file; walking up finds it and names it.
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw cannotCreate(label, target, code);
      missing.push(path);
      const parent = dirname(path);
      if (parent === path) throw cannotCreate(label, target, code);
      path = parent;
      continue;
    }
    if (!isDirectory) throw notADirectory(label, target, path);
    break;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path, { mode: PRIVATE_DIR_MODE });
    } catch (err) {
      const code = errnoCode(err);
      // Another process created it in between: fine if it is a directory.
      if (code === 'EEXIST' && isDirectoryNow(path)) continue;
      if (code === 'EEXIST' || code === 'ENOTDIR') throw notADirectory(label, target, path);
      throw cannotCreate(label, target, code);
    }
  }
}

function isDirectoryNow(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function notADirectory(label: string, target: string, path: string): StigmerError {
  const what = path === target ? 'is not a directory' : `cannot be a directory: ${path} is a file`;
  return new StigmerError('CONFIG', `${label} ${target} ${what}`, {
    hint:
      label === 'STIGMER_HOME'
        ? 'point STIGMER_HOME at a directory (it is created when missing), or unset it to use ~/.stigmer'
        : 'choose a path inside a directory',
  });
}

function cannotCreate(label: string, target: string, code: string): StigmerError {
  return new StigmerError('CONFIG', `cannot create ${label} ${target} (${code})`, {
    hint:
      label === 'STIGMER_HOME'
        ? 'point STIGMER_HOME at a writable directory, or unset it to use ~/.stigmer'
        : 'check that the path is writable',
  });
}

/**
 * Creates an empty file with mode 0600 when `path` does not exist yet (an existing file is left
 * as it is). SQLite gives its `-wal` and `-shm` files the mode of the database file, so a
 * database created this way stays private too.
 */
export function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return;
    throw err;
  }
  closeSync(fd);
}
