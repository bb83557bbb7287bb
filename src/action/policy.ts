/**
 * The Action's untrusted-input policy (DESIGN.md §6): on a pull request the manifests are the
 * PR author's, and the plan runs with the runner's environment and files. So `valueFrom.env`
 * may read only the variables the workflow lists in `allow-env` — never the Action's inputs
 * (`INPUT_*`) nor `GITHUB_*`, `ACTIONS_*`, `RUNNER_*`, `STIGMER_*` — and `valueFrom.file` only
 * files inside the workspace, outside its `.git` directory (actions/checkout keeps the
 * repository token in `.git/config`). The checks run before anything is read; a refusal is a
 * validation error at the manifest's file:line.
 */
import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { StigmerError } from '../errors.js';
import type { ValueFromPolicy } from '../secrets/environment.js';

/** Prefixes of variables a pull request's manifests may never read, whatever `allow-env` says. */
export const FORBIDDEN_ENV_PREFIXES = ['INPUT_', 'GITHUB_', 'ACTIONS_', 'RUNNER_', 'STIGMER_'] as const;

const VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function forbiddenPrefix(name: string): string | undefined {
  const upper = name.toUpperCase();
  return FORBIDDEN_ENV_PREFIXES.find((p) => upper.startsWith(p));
}

/**
 * Parses the `allow-env` input (comma- or newline-separated variable names; empty: none).
 *
 * @throws StigmerError USAGE for a name that is not a variable name, or one the Action never
 *   exposes to a pull request (it would be ignored silently otherwise).
 */
export function parseAllowEnv(input: string): Set<string> {
  const names = input
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const name of names) {
    if (!VARIABLE.test(name)) {
      throw new StigmerError('USAGE', `allow-env: "${name}" is not an environment variable name`, {
        hint: 'list variable names separated by commas, e.g. allow-env: OPENAI_API_KEY,SLACK_WEBHOOK',
      });
    }
    const prefix = forbiddenPrefix(name);
    if (prefix) {
      throw new StigmerError(
        'USAGE',
        `allow-env: ${name} can never be read by a pull request's manifests (${prefix}* variables belong to the runner or the action)`,
        { hint: "map the value to a variable of your own in the step's env: and list that one" },
      );
    }
  }
  return new Set(names);
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

function touchesGitDir(root: string, path: string): boolean {
  return relative(root, path)
    .split(sep)
    .some((segment) => segment.toLowerCase() === '.git');
}

/**
 * The policy for a pull request's manifests: variables from `allowEnv` only, files inside
 * `workspace` (after following symlinks) and outside its `.git` directories.
 */
export function untrustedInputPolicy(options: {
  allowEnv: ReadonlySet<string>;
  workspace: string;
}): ValueFromPolicy {
  const workspace = resolve(options.workspace);
  let realWorkspace: string;
  try {
    realWorkspace = realpathSync(workspace);
  } catch {
    realWorkspace = workspace;
  }
  const fileHint =
    'in a pull request, valueFrom.file may read only files of the checked-out repository, outside its .git directory';
  const shown = (path: string) => (inside(workspace, path) ? relative(workspace, path) || '.' : path);
  return {
    env(name) {
      const prefix = forbiddenPrefix(name);
      if (prefix) {
        return {
          message: `valueFrom.env reads ${name}: a pull request's manifests may never read ${prefix}* variables`,
          hint: "the runner's and the action's own variables stay out of plans; map the value you need to a variable of your own and list it in allow-env",
        };
      }
      if (!options.allowEnv.has(name)) {
        return {
          message: `valueFrom.env reads ${name}, which is not in the action's allow-env list`,
          hint: `a pull request may read only the variables the workflow names in allow-env; add ${name} there if this pull request may read it`,
        };
      }
      return null;
    },
    file(path) {
      const full = resolve(path);
      if (!inside(workspace, full)) {
        return { message: `valueFrom.file reads ${full}, outside the workspace`, hint: fileHint };
      }
      if (touchesGitDir(workspace, full)) {
        return {
          message: `valueFrom.file reads ${shown(full)}, inside the repository's .git directory`,
          hint: fileHint,
        };
      }
      let real: string;
      try {
        real = realpathSync(full);
      } catch {
        // Nothing there to read: the resolver reports the missing file.
        return null;
      }
      if (!inside(realWorkspace, real) || touchesGitDir(realWorkspace, real)) {
        return {
          message: `valueFrom.file reads ${shown(full)}, a symbolic link that leads outside the workspace or into .git`,
          hint: fileHint,
        };
      }
      return null;
    },
  };
}
