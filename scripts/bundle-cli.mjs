// The CLI's start-up bundle (docs/performance.md item 54): the compiled dist/ modules the
// commands load, with the pure-JavaScript dependencies they load on every run, bundled by
// esbuild into DIST/bundle: one ES module per command (DIST/bundle/commands/..., what oclif
// imports), the entry bin/run.js imports (main.js), the parse worker, and chunks of the code
// they share. Node then resolves, reads and compiles a few files instead of about 200, which
// was the larger part of a warm `stigmer plan` at 10,000 resources.
//
// Everything else stays a normal import from node_modules: oclif (it finds its own files and
// plugins by path), native modules, and the dependencies only some commands use (gRPC, MCP,
// PostgreSQL, the model client), which keep their own package layout.
//
// Modules that find files relative to their own location (import.meta.url) must land in a file
// at DIST/bundle/ itself, where `../../package.json` and `./parse-worker.js` still resolve as
// they do from DIST/<dir>/; the build fails otherwise.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { build } from 'esbuild';

/** Dependencies bundled: loaded by the common commands at start-up, plain JavaScript. */
const BUNDLED = new Set(['yaml', 'diff', 'fast-json-patch', 'picocolors', 'fastest-levenshtein']);

function packageOf(spec) {
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

function listJs(dir, base = dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listJs(p, base));
    else if (e.name.endsWith('.js')) out.push(relative(base, p));
  }
  return out.sort();
}

/** Bundles the compiled tree at `dist` (tsc's output) into `dist/bundle`. */
export async function bundleCli(dist) {
  const outdir = join(dist, 'bundle');
  const entryPoints = {
    main: join(dist, 'cli', 'main.js'),
    'parse-worker': join(dist, 'manifest', 'parse-worker.js'),
  };
  for (const file of listJs(join(dist, 'commands'))) {
    entryPoints[`commands/${file.slice(0, -3).split(sep).join('/')}`] = join(dist, 'commands', file);
  }
  const keepExternal = {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('node:')) return { path: args.path, external: true };
        if (BUNDLED.has(packageOf(args.path))) return undefined;
        return { path: args.path, external: true };
      });
    },
  };
  const result = await build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20.19',
    chunkNames: '[name]-[hash]',
    // CommonJS dependencies (yaml) require() Node built-ins: give the ES modules a require.
    banner: {
      js: [
        "import { createRequire as __stigmerCreateRequire } from 'node:module';",
        'const require = __stigmerCreateRequire(import.meta.url);',
      ].join('\n'),
    },
    legalComments: 'none',
    charset: 'utf8',
    metafile: true,
    logLevel: 'warning',
    plugins: [keepExternal],
  });
  // Files whose modules find their neighbours through import.meta.url must sit at the top.
  const misplaced = [];
  for (const [out, meta] of Object.entries(result.metafile.outputs)) {
    const top = relative(outdir, out).split(sep).length === 1;
    if (top) continue;
    for (const input of Object.keys(meta.inputs)) {
      if (/(parse-pool|cache|migrate|plan-file|schema-validators)\.js$/.test(input)) misplaced.push(input);
    }
  }
  if (misplaced.length > 0) {
    throw new Error(
      `bundle: modules that resolve files by location landed below bundle/: ${misplaced.join(', ')}`,
    );
  }
  // The parse cache's program version (src/manifest/cache.ts programVersion): the package
  // version and a hash of every file of the bundle, so a rebuilt bundle never reads entries of
  // another; stamped here so that runs do not hash 1.4 MB of code each time.
  const hash = createHash('sha256');
  for (const out of Object.keys(result.metafile.outputs).sort()) {
    hash.update(`${relative(outdir, out).split(sep).join('/')}\0`);
    hash.update(readFileSync(out));
    hash.update('\0');
  }
  const { version } = JSON.parse(readFileSync(join(dist, '..', 'package.json'), 'utf8'));
  writeFileSync(join(outdir, 'program-version'), `${version}+bundle-${hash.digest('hex').slice(0, 16)}\n`);
  return result;
}
