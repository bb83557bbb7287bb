/**
 * What `get`, `delete` and the `agent`/`workflow` aliases share: their flags, and the step from
 * a core result to printed output. Each command parses its arguments, opens the backend and
 * calls one of these; the behaviour is written once, so the aliases cannot drift from `get`.
 */
import * as Flags from '@oclif/core/flags';
import type { Backend } from '../../backend/types.js';
import { deleteResourceByName, getResources } from '../../core/resources.js';
import { revealSpec } from '../../secrets/environment.js';
import type { SecretKey } from '../../secrets/key.js';
import type { DeclaredKind, StoredResource } from '../../types.js';
import {
  formatResources,
  noResourcesMessage,
  OUTPUT_FORMATS,
  type OutputFormat,
  type RevealSpec,
} from './resources.js';

export const outputFlag = Flags.string({
  char: 'o',
  description: 'Output format.',
  options: [...OUTPUT_FORMATS],
  default: 'table',
});

export const showSecretsFlag = Flags.boolean({
  allowNo: true,
  description: 'Print the values of Environment secrets instead of "(sensitive)" (decrypts them).',
  default: false,
});

export const messageFlag = Flags.string({
  char: 'm',
  description: 'Message recorded in the history of the resource.',
});

export const forceFlag = Flags.boolean({
  allowNo: true,
  description: 'Delete even a resource annotated stigmer.ai/prevent-destroy: "true".',
  default: false,
});

export interface Printer {
  out(text: string): void;
  err(text: string): void;
}

const line = (text: string) => (text.endsWith('\n') ? text : `${text}\n`);

/** Prints to the process's stdout and stderr, one line per call. */
export const stdio: Printer = {
  out: (text) => process.stdout.write(line(text)),
  err: (text) => process.stderr.write(line(text)),
};

/** Decrypts sealed Environment secrets; `loadKey` runs once, and only if a sealed value is shown. */
export function secretRevealer(loadKey: () => SecretKey): RevealSpec {
  let key: SecretKey | undefined;
  return (resource: StoredResource) => {
    const data = resource.spec.data;
    const sealed =
      typeof data === 'object' &&
      data !== null &&
      Object.values(data).some((e) => typeof e === 'object' && e !== null && 'sealed' in e);
    if (!sealed) return resource.spec;
    key ??= loadKey();
    return revealSpec(resource.spec, { name: resource.name }, key);
  };
}

/** Runs `get KIND [NAME]`: prints the resources, or "No KINDs found." on stderr for an empty list. */
export async function runGet(
  backend: Backend,
  printer: Printer,
  request: { kind: DeclaredKind; name?: string; output: string; showSecrets: boolean; home: string },
): Promise<void> {
  const resources = await getResources(backend, request.kind, request.name);
  if (request.name === undefined && resources.length === 0 && request.output === 'table') {
    printer.err(noResourcesMessage(request.kind));
    return;
  }
  let reveal: RevealSpec | undefined;
  if (request.showSecrets) {
    const { loadSecretKey } = await import('../../secrets/key.js');
    reveal = secretRevealer(() => loadSecretKey({ home: request.home }));
  }
  printer.out(
    formatResources(resources, request.output as OutputFormat, {
      single: request.name !== undefined,
      ...(reveal ? { reveal } : {}),
    }),
  );
}

/** Runs `delete KIND NAME`: one line saying what was deleted, and a note when a project manages it. */
export async function runDelete(
  backend: Backend,
  printer: Printer,
  request: { kind: DeclaredKind; name: string; message?: string; force: boolean },
): Promise<void> {
  const { deleted, project } = await deleteResourceByName(backend, request.kind, request.name, {
    force: request.force,
    ...(request.message !== undefined ? { message: request.message } : {}),
  });
  printer.out(`${deleted.kind} "${deleted.name}" deleted (it was at version ${deleted.version}).`);
  if (project) {
    printer.err(
      `Note: project "${project}" manages it; the next \`stigmer apply\` of that project creates it again unless its manifest is removed.`,
    );
  }
}
