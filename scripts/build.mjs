// Build: compile src/ to dist/ with tsc, then write oclif.manifest.json so that start-up
// never has to import every command module to find one. The new dist/ is compiled beside the
// old one and swapped in by rename, so CLI processes running meanwhile never see a half-built tree.
import { execFileSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleCli } from './bundle-cli.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const fresh = join(root, `.dist-build-${process.pid}`);
const old = join(root, `.dist-old-${process.pid}`);
rmSync(fresh, { recursive: true, force: true });
try {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', fresh],
    { cwd: root, stdio: 'inherit' },
  );
} catch {
  rmSync(fresh, { recursive: true, force: true });
  console.error('build failed: TypeScript errors above');
  process.exit(1);
}
try {
  await bundleCli(fresh);
} catch (err) {
  rmSync(fresh, { recursive: true, force: true });
  console.error(`build failed: ${err.message}`);
  process.exit(1);
}
if (existsSync(dist)) renameSync(dist, old);
renameSync(fresh, dist);
rmSync(old, { recursive: true, force: true });

const { Plugin } = await import('@oclif/core');
const plugin = new Plugin({ root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true });
await plugin.load();
const manifest = join(root, 'oclif.manifest.json');
writeFileSync(`${manifest}.${process.pid}.tmp`, JSON.stringify(plugin.manifest));
renameSync(`${manifest}.${process.pid}.tmp`, manifest);
