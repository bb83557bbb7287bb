/**
 * Renders the TypeBox schemas of schema.ts as the JSON Schema files committed under schemas/
 * (for editors through yaml-language-server). `npm run gen:schemas` writes them; a test fails
 * when the committed files differ from what this renders.
 */
import { DECLARED_KINDS } from '../types.js';
import { documentSchema, ProjectConfig, SCHEMA_BASE_URL } from './schema.js';

const DRAFT = 'http://json-schema.org/draft-07/schema#';

/** File name (under schemas/) → file contents, for every published schema. */
export function renderSchemaFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  const documents = DECLARED_KINDS.map((kind) => documentSchema(kind));
  for (const [i, kind] of DECLARED_KINDS.entries()) {
    const file = `${kind.toLowerCase()}.json`;
    files[file] = render({
      $schema: DRAFT,
      $id: `${SCHEMA_BASE_URL}/${file}`,
      description: `Stigmer ${kind} manifest (apiVersion agentic.stigmer.ai/v1)`,
      ...documents[i],
    });
  }
  files['manifest.json'] = render({
    $schema: DRAFT,
    $id: `${SCHEMA_BASE_URL}/manifest.json`,
    title: 'Stigmer manifest',
    description:
      'Any Stigmer manifest document (apiVersion agentic.stigmer.ai/v1); the kind selects the spec.',
    oneOf: documents,
  });
  files['stigmer-yaml.json'] = render({
    $schema: DRAFT,
    $id: `${SCHEMA_BASE_URL}/stigmer-yaml.json`,
    description: 'stigmer.yaml at the root of a manifest directory',
    ...ProjectConfig,
  });
  return files;
}

function render(schema: object): string {
  // Symbol-keyed TypeBox metadata is dropped by JSON.stringify, leaving plain JSON Schema.
  return `${JSON.stringify(schema, null, 2)}\n`;
}
