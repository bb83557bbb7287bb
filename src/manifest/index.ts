/**
 * The manifest stage of the pipeline (load → validate): read files, parse and check each one,
 * check the set, hand DesiredResources to the planner.
 */
export { renderSchemaFiles } from './json-schema.js';
export { type LoadManifestsOptions, loadManifests } from './load.js';
export { decodeManifestText, MAX_FILE_BYTES, parseManifestFile } from './parse.js';
export { DNS_LABEL, DNS_LABEL_PATTERN } from './schema.js';
export { PROJECT_FILES, parseProjectConfig, readManifestSources, STDIN_PATH } from './sources.js';
export type * from './types.js';
export { type Reference, referencesOf, validateManifestSet } from './validate-set.js';
export { parseExpression, scanExpressions } from './workflow.js';
export { MAX_ALIAS_EXPANSIONS } from './yaml-nodes.js';
