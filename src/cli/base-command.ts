/**
 * The base of every command: global backend flags (DESIGN.md §5) and opening the backend.
 * Commands stay adapters: parse flags, call one core function, hand the result to a printer.
 */
import { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { type BackendConfig, type BackendFlags, resolveBackendConfig } from '../backend/config.js';
import type { Backend } from '../backend/types.js';

type CommandBackendFlags = BackendFlags & { 'lock-timeout'?: number; 'ca-cert'?: string };

export abstract class StigmerCommand extends Command {
  static override baseFlags = {
    backend: Flags.string({
      description: 'Backend to use: local or cloud. [env: STIGMER_BACKEND]',
      helpGroup: 'GLOBAL',
    }),
    db: Flags.string({
      description: 'Local database file. [env: STIGMER_DB; default: $STIGMER_HOME/local.db]',
      helpGroup: 'GLOBAL',
    }),
    endpoint: Flags.string({
      description: 'Cloud backend URL. [env: STIGMER_ENDPOINT]',
      helpGroup: 'GLOBAL',
    }),
    token: Flags.string({
      description: 'Cloud backend bearer token. [env: STIGMER_TOKEN]',
      helpGroup: 'GLOBAL',
    }),
    'ca-cert': Flags.string({
      description: 'PEM file of a private CA to trust for an https:// endpoint. [env: STIGMER_CA_CERT]',
      helpGroup: 'GLOBAL',
    }),
    'lock-timeout': Flags.integer({
      description:
        'How long to wait for another stigmer process holding the local database, in ms. [env: STIGMER_LOCK_TIMEOUT; default: 5000]',
      helpGroup: 'GLOBAL',
      min: 0,
    }),
  };

  protected backendConfig(flags: CommandBackendFlags): BackendConfig {
    return resolveBackendConfig({
      backend: flags.backend,
      db: flags.db,
      endpoint: flags.endpoint,
      token: flags.token,
      caCert: flags['ca-cert'],
      lockTimeout: flags['lock-timeout'],
    });
  }

  /** Opens the configured backend; the factory is imported lazily to keep start-up small. */
  protected async openBackend(flags: CommandBackendFlags): Promise<Backend> {
    const { openBackend } = await import('../backend/factory.js');
    return openBackend(this.backendConfig(flags));
  }

  /** Writes to stdout without oclif's formatting. */
  protected out(text: string): void {
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  protected err(text: string): void {
    process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
  }
}
