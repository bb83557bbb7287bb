#!/usr/bin/env node
/**
 * Load and fault torture of PostgreSQL behind `stigmer server` (issue 15, item 4; docs/scaling.md).
 * Starts a throwaway PostgreSQL cluster (scripts/pg-cluster.mjs), S `stigmer server` processes
 * on one database of it, and real CLI processes (`stigmer apply --backend cloud`) as clients.
 *
 *   1. overlap: C clients apply, R rounds each, their own variant of one project's stack (same
 *      names, every spec different) through server (client mod S), all at once. Every apply
 *      exits 0 or 1 with a conflict; nothing else may reach a user.
 *   2. kill -9: a large apply through one server, killed with SIGKILL at a random moment; the
 *      state is the old variant or the new one, never a mix; a fresh server and one more apply
 *      converge (the next plan is empty).
 *   3. restart: the clients of phase 1 keep applying while PostgreSQL restarts; every failure is
 *      a conflict or a clear "PostgreSQL database … is restarting / cannot be reached / dropped
 *      the connection" line; afterwards every client's next apply succeeds.
 *
 * After every phase, read straight from the database: each resource's history versions are
 * 1, 2, 3 … without gaps or duplicates; every variant is on all resources of the stack or on
 * none (all or nothing); every apply that reported changes has its variant in the history (no
 * lost update); the live state is the variant written last.
 *
 * Usage: node scripts/torture-postgres.mjs [--servers 4] [--clients 8] [--rounds 4]
 *          [--resources 40] [--kill-resources 2000] [--seed N] [--json] [--keep]
 * Needs a build (`node scripts/build.mjs`). Exit 0 when every check passed. The last line is
 *   torture:postgres applies=N ok=N conflicts=N unavailable=N raw_errors=N lost_updates=N torn=N history_gaps=N non_converging=N
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { startPgCluster } from './pg-cluster.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'run.js');
const PROJECT = 'torture';

const { values: opts } = parseArgs({
  options: {
    servers: { type: 'string', default: '4' },
    clients: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '4' },
    resources: { type: 'string', default: '40' },
    'kill-resources': { type: 'string', default: '2000' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});
const int = (name) => {
  const n = Number(opts[name]);
  if (!Number.isInteger(n) || n < 1) {
    console.error(
      `torture:postgres: --${name} must be a whole number ≥ 1, got ${JSON.stringify(opts[name])}`,
    );
    process.exit(1);
  }
  return n;
};
const SERVERS = int('servers');
const CLIENTS = int('clients');
const ROUNDS = int('rounds');
const RESOURCES = Math.max(2, int('resources'));
const KILL_RESOURCES = Math.max(2, int('kill-resources'));
const seed = opts.seed !== undefined ? Number(opts.seed) : Math.floor(Math.random() * 2 ** 31);
let state = seed >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const log = (text) => process.stderr.write(`torture:postgres: ${text}\n`);
const work = mkdtempSync(join(tmpdir(), 'stigmer-torture-pg-'));
const counts = {
  applies: 0,
  ok: 0,
  conflicts: 0,
  unavailable: 0,
  raw_errors: 0,
  lost_updates: 0,
  torn: 0,
  history_gaps: 0,
  non_converging: 0,
};
const problems = [];
const problem = (kind, text) => {
  counts[kind]++;
  if (problems.length < 50) problems.push(`${kind}: ${text}`);
};

/** A stack of `n` resources (half Skills, half Agents using them), every spec tagged `tag`. */
function writeStack(dir, n, tag) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'manifests'), { recursive: true });
  writeFileSync(join(dir, 'manifests', 'stigmer.yaml'), `project: ${PROJECT}\n`);
  const docs = [];
  for (let i = 0; i < n; i++) {
    const id = String(Math.floor(i / 2)).padStart(5, '0');
    docs.push(
      i % 2 === 0
        ? `apiVersion: agentic.stigmer.ai/v1\nkind: Skill\nmetadata:\n  name: skill-${id}\nspec:\n  tag: ${tag}\n  skillMd: "# Skill ${id}"\n`
        : `apiVersion: agentic.stigmer.ai/v1\nkind: Agent\nmetadata:\n  name: agent-${id}\nspec:\n  description: ${tag}\n  instructions: Agent ${id} answers questions carefully.\n  skillRefs: [skill-${id}]\n`,
    );
  }
  for (let f = 0; f * 100 < docs.length; f++) {
    writeFileSync(join(dir, 'manifests', `part-${f}.yaml`), docs.slice(f * 100, f * 100 + 100).join('---\n'));
  }
  return join(dir, 'manifests');
}

const tagOf = (spec) => spec.tag ?? spec.description;

function run(args, env, { cwd = work, killAfterMs } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const guard = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (code, signal) => {
      clearTimeout(guard);
      resolve({ code: code ?? 128, signal, stdout, stderr });
    });
    if (killAfterMs !== undefined) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  });
}

function baseEnv(home) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STIGMER_')) env[k] = v;
  return { ...env, NO_COLOR: '1', STIGMER_HOME: home, STIGMER_SECRET_KEY: 'a'.repeat(64) };
}

/** Starts `stigmer server --port 0 --db URL`; resolves when it is listening. */
function startServer(url, token, name) {
  const child = spawn(process.execPath, [bin, 'server', '--port', '0', '--db', url, '--token', token], {
    env: baseEnv(join(work, `home-${name}`)),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server ${name} did not start:\n${stderr}`)), 60_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /^listening on (\S+)$/m.exec(stderr);
      if (m && timer) {
        clearTimeout(timer);
        resolve({
          name,
          endpoint: m[1],
          child,
          stderr: () => stderr,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`server ${name} exited (${code ?? signal}):\n${stderr}`)),
    );
  });
}

const CONFLICT = /^Error: (conflict on \S+: expected .*|saved plan is stale: .*)$/m;
const UNAVAILABLE =
  /^Error: the PostgreSQL database postgres:\/\/[^@\s]+@[^/\s]+\/\S+ (is restarting or shutting down|cannot be reached|dropped the connection( while committing)?|has no free connections)$/m;

/** Classifies one apply: ok, conflict, unavailable, or a raw error (anything else that reached the user). */
function classify(result, { faults }) {
  counts.applies++;
  const out = `${result.stdout}\n${result.stderr}`;
  if (/SQLSTATE|\bat .*\.js:\d+|terminating connection|ECONNRESET|internal error/i.test(out)) {
    problem('raw_errors', out.trim().split('\n').slice(-4).join(' | '));
    return 'raw';
  }
  if (result.code === 0) {
    counts.ok++;
    return 'ok';
  }
  if (result.code === 1 && CONFLICT.test(result.stderr)) {
    counts.conflicts++;
    return 'conflict';
  }
  if (result.code === 1 && faults && UNAVAILABLE.test(result.stderr)) {
    counts.unavailable++;
    return 'unavailable';
  }
  problem('raw_errors', `exit ${result.code}: ${result.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
  return 'raw';
}

/** Checks history and live state in the database; `applied` are the tags of applies that reported changes. */
async function checkDatabase(url, n, applied, phase) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows: history } = await client.query(
      'SELECT kind, name, version, spec FROM api_resource_versions ORDER BY seq',
    );
    const versions = new Map();
    const byTag = new Map();
    for (const h of history) {
      const key = `${h.kind}/${h.name}`;
      const list = versions.get(key) ?? [];
      list.push(h.version);
      versions.set(key, list);
      const tag = tagOf(h.spec);
      byTag.set(tag, (byTag.get(tag) ?? 0) + 1);
    }
    for (const [key, list] of versions) {
      if (list.some((v, i) => v !== i + 1))
        problem('history_gaps', `${phase}: ${key} has versions ${list.join(',')}`);
    }
    for (const [tag, count] of byTag) {
      if (count !== n && tag.startsWith(phase))
        problem('torn', `${phase}: variant ${tag} is on ${count} of ${n} resources`);
    }
    for (const tag of applied) {
      if (byTag.get(tag) !== n)
        problem(
          'lost_updates',
          `${phase}: apply of ${tag} reported changes; history has ${byTag.get(tag) ?? 0} of ${n}`,
        );
    }
    const live = [
      ...(await client.query('SELECT spec FROM skills')).rows,
      ...(await client.query('SELECT spec FROM agents')).rows,
    ];
    const liveTags = new Set(live.map((r) => tagOf(r.spec)));
    const last = history.length ? tagOf(history.at(-1).spec) : undefined;
    if (live.length !== n || liveTags.size !== 1 || !liveTags.has(last)) {
      problem(
        'torn',
        `${phase}: live state has ${live.length} resources with variants ${[...liveTags].join(',')} (last written ${last})`,
      );
    }
  } finally {
    await client.end();
  }
}

async function overlap(cluster, url, servers, token, phase, { restartAt } = {}) {
  const applied = [];
  const clients = Array.from({ length: CLIENTS }, (_, c) => ({
    c,
    dir: join(work, `${phase}-client-${c}`),
    env: {
      ...baseEnv(join(work, `${phase}-home-${c}`)),
      STIGMER_BACKEND: 'cloud',
      STIGMER_ENDPOINT: servers[c % servers.length].endpoint,
      STIGMER_TOKEN: token,
    },
  }));
  let started = 0;
  let restarted = restartAt === undefined;
  const restart = async () => {
    log(`${phase}: restarting PostgreSQL under load`);
    await cluster.restart();
    restarted = true;
  };
  let restarting;
  await Promise.all(
    clients.map(async (client) => {
      for (let r = 0; r < ROUNDS || !restarted; r++) {
        const tag = `${phase}-c${client.c}-r${r}`;
        const manifests = writeStack(client.dir, RESOURCES, tag);
        started++;
        if (!restarting && restartAt !== undefined && started >= restartAt) restarting = restart();
        const result = await run(['apply', manifests, '--auto-approve'], client.env);
        const kind = classify(result, { faults: restartAt !== undefined });
        if (kind === 'ok' && !/Resources: 0 added, 0 changed/.test(result.stdout)) applied.push(tag);
        if (r > ROUNDS * 4) break;
      }
      // Afterwards every client converges: apply its own variant until it sticks.
    }),
  );
  await restarting;
  // Converge: the last client's variant, applied until it succeeds, then an empty plan.
  const last = clients.at(-1);
  const tag = `${phase}-final`;
  const manifests = writeStack(last.dir, RESOURCES, tag);
  let converged = false;
  for (let attempt = 0; attempt < 20 && !converged; attempt++) {
    const result = await run(['apply', manifests, '--auto-approve'], last.env);
    if (classify(result, { faults: true }) === 'ok') {
      applied.push(tag);
      const plan = await run(['plan', manifests, '--detailed-exitcode'], last.env);
      converged = plan.code === 0;
    } else await new Promise((r) => setTimeout(r, 250));
  }
  if (!converged) problem('non_converging', `${phase}: the final apply did not converge`);
  await checkDatabase(url, RESOURCES, applied, phase);
}

async function killMidApply(cluster, token) {
  const url = await cluster.createDatabase('stigmer_kill');
  let server = await startServer(url, token, 'kill-0');
  const dir = join(work, 'kill');
  const home = join(work, 'kill-home');
  const env = () => ({
    ...baseEnv(home),
    STIGMER_BACKEND: 'cloud',
    STIGMER_ENDPOINT: server.endpoint,
    STIGMER_TOKEN: token,
  });
  const first = await run(['apply', writeStack(dir, KILL_RESOURCES, 'kill-a'), '--auto-approve'], env());
  classify(first, { faults: false });
  const delay = Math.round(200 + random() * 2500);
  const manifests = writeStack(dir, KILL_RESOURCES, 'kill-b');
  const applying = run(['apply', manifests, '--auto-approve'], env());
  await new Promise((r) => setTimeout(r, delay));
  await server.stop('SIGKILL');
  const killed = await applying;
  log(`kill: SIGKILL of the server after ${delay} ms; the client exited ${killed.code}`);
  if (/SQLSTATE|terminating connection|\bat .*\.js:\d+/.test(killed.stderr))
    problem('raw_errors', killed.stderr.trim());
  server = await startServer(url, token, 'kill-1');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query(
      "SELECT count(*)::int AS n FROM api_resource_versions WHERE spec->>'tag' = 'kill-b' OR spec->>'description' = 'kill-b'",
    );
    if (rows[0].n !== 0 && rows[0].n !== KILL_RESOURCES) {
      problem('torn', `kill: variant kill-b is on ${rows[0].n} of ${KILL_RESOURCES} resources after SIGKILL`);
    }
  } finally {
    await client.end();
  }
  const again = await run(['apply', manifests, '--auto-approve'], env());
  classify(again, { faults: false });
  const plan = await run(['plan', manifests, '--detailed-exitcode'], env());
  if (again.code !== 0 || plan.code !== 0)
    problem('non_converging', `kill: apply exited ${again.code}, plan ${plan.code}`);
  await checkDatabase(url, KILL_RESOURCES, again.code === 0 ? ['kill-b'] : [], 'kill');
  await server.stop();
}

let cluster;
const servers = [];
try {
  log(`seed ${seed}; ${SERVERS} servers, ${CLIENTS} clients, ${ROUNDS} rounds, ${RESOURCES} resources`);
  cluster = await startPgCluster();
  const token = `torture-${process.pid}`;
  const url = await cluster.createDatabase('stigmer');
  for (let s = 0; s < SERVERS; s++) servers.push(await startServer(url, token, `s${s}`));
  log('overlap: concurrent applies of one project through every server');
  await overlap(cluster, url, servers, token, 'overlap');
  log('kill: SIGKILL of a server in the middle of a large apply');
  await killMidApply(cluster, token);
  log('restart: PostgreSQL restarted while the clients apply');
  await overlap(cluster, url, servers, token, 'restart', { restartAt: Math.ceil(CLIENTS * 1.5) });
  for (const s of servers) {
    if (s.child.exitCode !== null || s.child.signalCode !== null)
      problem('raw_errors', `server ${s.name} exited:\n${s.stderr()}`);
  }
} finally {
  await Promise.all(servers.map((s) => s.stop()));
  await cluster?.stop();
  if (opts.keep) log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

for (const p of problems) log(p);
const failed =
  counts.raw_errors + counts.lost_updates + counts.torn + counts.history_gaps + counts.non_converging;
if (opts.json) console.log(JSON.stringify({ seed, ...counts, problems }));
else
  console.log(
    `torture:postgres ${Object.entries(counts)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')} seed=${seed}`,
  );
process.exitCode = failed === 0 ? 0 : 1;
