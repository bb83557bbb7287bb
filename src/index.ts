/**
 * The Stigmer library API: load → validate → plan → apply over one Backend interface.
 * The CLI commands, the watcher and the GitHub Action are thin adapters over these exports.
 */
export * from './backend/config.js';
export { openBackend } from './backend/factory.js';
export { parseKind } from './backend/kinds.js';
export { LocalBackend, type LocalBackendOptions, openLocalBackend } from './backend/local/index.js';
export type * from './backend/types.js';
export * from './errors.js';
export * from './types.js';
