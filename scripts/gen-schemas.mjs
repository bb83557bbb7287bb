// Writes schemas/*.json (JSON Schema for editors) from the TypeBox source in
// src/manifest/schema.ts (`npm run gen:schemas`). The few modules involved are transpiled on the
// fly, so this works without a full build. test/manifest/schemas.test.ts fails when the
// committed files are stale.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = ['src/types.ts', 'src/manifest/schema.ts', 'src/manifest/json-schema.ts'];
// Inside node_modules so that the transpiled files resolve packages from the project.
const work = join(root, 'node_modules', '.cache', 'stigmer-gen-schemas');
rmSync(work, { recursive: true, force: true });
for (const file of modules) {
  const { outputText } = ts.transpileModule(readFileSync(join(root, file), 'utf8'), {
    compilerOptions: {
      module: ts.ModuleKind.ESNext,
      target: ts.ScriptTarget.ES2022,
      verbatimModuleSyntax: true,
    },
    fileName: file,
  });
  const out = join(work, file.replace(/\.ts$/, '.js'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outputText);
}
writeFileSync(join(work, 'package.json'), '{"type":"module"}\n');
const { renderSchemaFiles } = await import(pathToFileURL(join(work, 'src/manifest/json-schema.js')).href);
rmSync(work, { recursive: true, force: true });

const outDir = join(root, 'schemas');
mkdirSync(outDir, { recursive: true });
const files = renderSchemaFiles();
for (const name of readdirSync(outDir)) {
  if (name.endsWith('.json') && !(name in files)) rmSync(join(outDir, name));
}
for (const [name, text] of Object.entries(files)) writeFileSync(join(outDir, name), text);
console.log(`wrote ${Object.keys(files).length} schema files to schemas/`);
