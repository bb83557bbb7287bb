/**
 * Flags shared by validate/plan/apply and turning `[DIR|-f FILE...]` into LoadOptions.
 */
import { existsSync, statSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import * as Flags from '@oclif/core/flags';
import { StigmerError } from '../errors.js';
import type { LoadOptions } from '../manifest/types.js';

export const DEFAULT_DIR = 'manifests';

export const fileFlag = Flags.string({
  char: 'f',
  description: 'Manifest file to read (repeatable); "-" reads standard input.',
  multiple: true,
});

export const projectFlag = Flags.string({
  description:
    'Project that owns these resources (default: `project:` in stigmer.yaml, else the directory name).',
});

export const pruneFlag = Flags.boolean({
  description:
    'Delete resources of this project that are no longer in the manifests (--no-prune or --prune=false to keep them).',
  allowNo: true,
  default: true,
});

export const compactFlag = Flags.boolean({
  allowNo: true,
  description: 'Print one line per changed resource (`~ Agent/support-bot (2 fields)`) and the summary.',
  default: false,
});

export const allowEmptyFlag = Flags.boolean({
  allowNo: true,
  description: 'Allow an empty set of manifests to delete every resource of the project.',
  default: false,
});

/** Builds LoadOptions from the positional DIR and -f flags; reads stdin for "-f -". */
export async function manifestInput(
  dir: string | undefined,
  files: string[] | undefined,
): Promise<LoadOptions> {
  if (dir !== undefined && files && files.length > 0) {
    throw new StigmerError('USAGE', 'give either a directory or -f files, not both', {
      hint: 'e.g. `stigmer plan manifests` or `stigmer plan -f a.yaml -f b.yaml`',
    });
  }
  if (files && files.length > 0) {
    const options: LoadOptions = { files };
    if (files.includes('-')) options.stdin = await text(process.stdin);
    return options;
  }
  const target = dir ?? DEFAULT_DIR;
  if (!existsSync(target)) {
    throw new StigmerError('LOAD', `manifest directory "${target}" does not exist`, {
      hint:
        dir === undefined
          ? 'run from a folder that has ./manifests, or pass a directory (`stigmer plan DIR`) or files (`-f FILE`)'
          : 'check the path',
    });
  }
  if (statSync(target).isFile()) return { files: [target] };
  return { dir: target };
}

export const resealSecretsFlag = Flags.boolean({
  allowNo: true,
  description:
    'Seal every secret again under this key, even where the stored secrets were sealed with another (key rotation).',
  default: false,
});

export const allowPlaintextSecretsFlag = Flags.boolean({
  allowNo: true,
  description: 'Accept a plaintext `value` on an isSecret entry (it is still encrypted at rest).',
  default: false,
});
