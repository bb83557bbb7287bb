import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { allSchemas } from './schema.js';

// schema-check compiles with `validateSchema: false` to save start-up time; this is the check it skips.
describe('manifest schemas', () => {
  it.each(Object.entries(allSchemas()))('%s is a valid JSON Schema (draft-07 meta-schema)', (_, schema) => {
    const ajv = new Ajv({ strict: true, strictRequired: false });
    expect(ajv.validateSchema(schema)).toBe(true);
    expect(ajv.errors ?? null).toBeNull();
    expect(() => ajv.compile(schema)).not.toThrow();
  });
});
