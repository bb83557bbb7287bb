/**
 * The floor of the benchmark, run as its own process: what any reconciler must do at the
 * least, with the same libraries and nothing else — read every manifest file under DIR, parse
 * it (`yaml` parseAllDocuments + toJS) and select every stored row of the six declared kinds
 * from the SQLite file (better-sqlite3, SELECT *). No validation, no planning.
 *
 * Usage: node bench/floor.mjs DIR DB_PATH   (prints "<documents> <rows>")
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parseAllDocuments } from 'yaml';

const TABLES = ['skills', 'environments', 'agents', 'workflows', 'agent_instances', 'workflow_instances'];

function* yamlFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* yamlFiles(path);
    else if (/\.ya?ml$/.test(entry.name)) yield path;
  }
}

const [dir, dbPath] = process.argv.slice(2);
let documents = 0;
for (const file of yamlFiles(dir)) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.toJS() !== null) documents++;
  }
}
const db = new Database(dbPath, { readonly: true });
let rows = 0;
for (const table of TABLES) rows += db.prepare(`SELECT * FROM ${table}`).all().length;
db.close();
process.stdout.write(`${documents} ${rows}\n`);
