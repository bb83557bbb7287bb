/**
 * The patterns and key lists that the schemas (schema.ts) and the per-file checks share, in a
 * module of their own so that loading them does not load TypeBox (about 50 ms at start-up).
 */

/** Resource names: lowercase DNS labels. */
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$';
export const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
/** Names used inside a workflow (task, input and output names): no dots, so expressions can split on them. */
export const IDENTIFIER_PATTERN = '^[A-Za-z0-9_][-A-Za-z0-9_]*$';

/** The top-level keys of a document, for "did you mean" hints before a kind is known. */
export const ENVELOPE_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'] as const;
