import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { allSchemas } from './schema.js';
import { SCHEMA_DATA } from './schema-data.js';

const DATA_FILE = fileURLToPath(new URL('./schema-data.ts', import.meta.url));

/** The text of schema-data.ts for the current schemas (biome keeps this layout as it is). */
function renderSchemaData(): string {
  return `// biome-ignore-all lint/suspicious/noTemplateCurlyInString: descriptions quote workflow expressions
/**
 * Generated from schema.ts by schema-data.test.ts: the JSON of \`allSchemas()\`, so that the
 * validator compiles the schemas without loading TypeBox at start-up. Do not edit; after a
 * change to schema.ts run \`UPDATE_SCHEMA_DATA=1 npx vitest run src/manifest/schema-data.test.ts\`.
 */
import type { SchemaObject } from 'ajv';
import type { DeclaredKind } from '../types.js';

/** Every schema the validator compiles, keyed by what it checks (see \`allSchemas\` in schema.ts). */
// biome-ignore format: generated
export const SCHEMA_DATA: Record<DeclaredKind | 'stigmer.yaml', SchemaObject> = ${JSON.stringify(allSchemas(), null, 2)};
`;
}

describe('schema-data.ts', () => {
  it('is the JSON of allSchemas() (regenerate with UPDATE_SCHEMA_DATA=1)', () => {
    if (process.env.UPDATE_SCHEMA_DATA === '1') writeFileSync(DATA_FILE, renderSchemaData());
    expect(JSON.parse(JSON.stringify(SCHEMA_DATA))).toEqual(JSON.parse(JSON.stringify(allSchemas())));
    expect(readFileSync(DATA_FILE, 'utf8')).toBe(renderSchemaData());
  });
});
