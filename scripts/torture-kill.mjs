#!/usr/bin/env node
/**
 * Crash-safety torture test (issue 6, docs/reliability.md): starts `stigmer apply --auto-approve`
 * on a large generated stack against one SQLite database and kills it with SIGKILL at a random
 * moment, many times. The stack alternates between two versions (A and B) that differ in every
 * resource, so each apply really rewrites the whole state. After every kill it checks:
 *
 *   - `PRAGMA integrity_check` is "ok" and `PRAGMA foreign_key_check` is empty;
 *   - the declared resources are entirely version A or entirely version B (a digest of every
 *     row's (kind, name, spec) equals one of the two expected digests; anything else is torn);
 *   - one more apply of the target version succeeds and reaches its digest, and the next
 *     `plan --detailed-exitcode` exits 0 (converged).
 *
 * Usage: node scripts/torture-kill.mjs [--runs N] [--resources N] [--seed N] [--json] [--keep]
 *   --runs       kills to perform (env TORTURE_RUNS; default 20)
 *   --resources  approximate size of each stack version (env TORTURE_RESOURCES; default 2000)
 *   --seed       seed of the kill-delay generator (default: random; printed for replay)
 *   --json       print the summary as one JSON object instead of the text line
 *   --keep       keep the temporary directory (its path is printed)
 *
 * Needs a build (`node scripts/build.mjs`): it runs bin/run.js over dist/.
 * Exit code 0 when every run passed, 1 otherwise. The last line of text output is the summary:
 *   torture:kill runs=N integrity_failures=N torn_states=N non_converging=N ...
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(repoRoot, 'bin', 'run.js');
const PROJECT = 'torture';
/** Tables of the declared kinds, whose rows make up "the state". */
const KIND_TABLES = [
  ['Skill', 'skills'],
  ['Environment', 'environments'],
  ['Agent', 'agents'],
  ['Workflow', 'workflows'],
  ['AgentInstance', 'agent_instances'],
  ['WorkflowInstance', 'workflow_instances'],
];
/** Documents per generated file: a few dozen multi-document files, like a real stack. */
const DOCS_PER_FILE = 100;

const { values: opts } = parseArgs({
  options: {
    runs: { type: 'string' },
    resources: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
});

function positiveInt(text, name) {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`torture-kill: ${name} must be a whole number ≥ 1, got ${JSON.stringify(text)}`);
    process.exit(1);
  }
  return n;
}

const runs = positiveInt(opts.runs ?? process.env.TORTURE_RUNS ?? '20', '--runs');
const resources = positiveInt(opts.resources ?? process.env.TORTURE_RESOURCES ?? '2000', '--resources');
const seed = opts.seed !== undefined ? positiveInt(opts.seed, '--seed') : Math.floor(Math.random() * 2 ** 31);

/** mulberry32: a small seeded generator, so a failing run can be replayed with --seed. */
function rng(s) {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(seed);

const work = mkdtempSync(join(tmpdir(), 'stigmer-torture-'));
const home = join(work, 'home');
const db = join(work, 'state.db');
mkdirSync(home, { recursive: true });

/**
 * Writes one version of the stack. Each unit is a Skill, an Environment, an Agent that uses the
 * skill and an AgentInstance of the agent with the environment (so creates are ordered and
 * deletes reversed). Version B drops the first 5% of units, adds as many new ones, and changes
 * the spec of every unit the two versions share.
 */
function writeStack(version) {
  const dir = join(work, `stack-${version}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'stigmer.yaml'), `project: ${PROJECT}\n`);
  const units = Math.max(1, Math.round(resources / 4));
  const shift = version === 'a' ? 0 : Math.max(1, Math.round(units * 0.05));
  const docs = [];
  for (let u = shift; u < units + shift; u++) {
    const id = String(u).padStart(5, '0');
    docs.push(
      `apiVersion: agentic.stigmer.ai/v1
kind: Skill
metadata:
  name: skill-${id}
spec:
  tag: ${version}1
  skillMd: "# Skill ${id}, version ${version}"
`,
      `apiVersion: agentic.stigmer.ai/v1
kind: Environment
metadata:
  name: env-${id}
spec:
  description: settings ${id} (${version})
  data:
    LEVEL:
      value: "${version}-${u}"
`,
      `apiVersion: agentic.stigmer.ai/v1
kind: Agent
metadata:
  name: agent-${id}
  labels:
    version: ${version}
spec:
  instructions: Agent ${id} follows the rules of stack version ${version} carefully.
  skillRefs: [skill-${id}]
  config:
    model: model-${version}
`,
      `apiVersion: agentic.stigmer.ai/v1
kind: AgentInstance
metadata:
  name: instance-${id}
spec:
  agent: agent-${id}
  description: instance ${id} (${version})
  environmentRefs: [env-${id}]
`,
    );
  }
  for (let i = 0; i < docs.length; i += DOCS_PER_FILE) {
    const name = `part-${String(i / DOCS_PER_FILE).padStart(4, '0')}.yaml`;
    writeFileSync(join(dir, name), docs.slice(i, i + DOCS_PER_FILE).join('---\n'));
  }
  return { dir, count: docs.length };
}

function cliEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('STIGMER_')) env[k] = v;
  return { ...env, STIGMER_HOME: home, NO_COLOR: '1' };
}

/** Starts the CLI; `killAfterMs` (optional) sends SIGKILL after that delay. */
function stigmer(args, killAfterMs) {
  return new Promise((resolvePromise, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...args, '--db', db], {
      env: cliEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d) => {
      stderr += d;
    });
    let killed = false;
    const timer =
      killAfterMs === undefined
        ? undefined
        : setTimeout(() => {
            killed = child.kill('SIGKILL');
          }, killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({
        code,
        signal,
        killed: killed && signal === 'SIGKILL',
        stdout,
        stderr,
        ms: performance.now() - started,
      });
    });
  });
}

const apply = (dir, killAfterMs) =>
  stigmer(['apply', dir, '--auto-approve', '--project', PROJECT], killAfterMs);
const planExit = (dir) => stigmer(['plan', dir, '--detailed-exitcode', '--project', PROJECT]);

/** Canonical JSON: object keys sorted, so the digest does not depend on key order. */
function canonical(value) {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Opens the database as the next stigmer process would (recovering the WAL left by the killed
 * one) and inspects it. Never throws: a failure to open or read is an integrity failure.
 */
function inspect() {
  let conn;
  try {
    conn = new Database(db, { timeout: 5000 });
    const integrity = conn.pragma('integrity_check').map((r) => r.integrity_check);
    const fk = conn.pragma('foreign_key_check');
    const hash = createHash('sha256');
    let rows = 0;
    for (const [kind, table] of KIND_TABLES) {
      for (const row of conn.prepare(`SELECT name, spec FROM ${table} ORDER BY name`).iterate()) {
        hash.update(`${kind}\0${row.name}\0${canonical(JSON.parse(row.spec))}\n`);
        rows++;
      }
    }
    const integrityOk = integrity.length === 1 && integrity[0] === 'ok' && fk.length === 0;
    return {
      integrityOk,
      problem: integrityOk
        ? undefined
        : `integrity_check=${integrity.join('; ')} foreign_key_check=${fk.length} rows`,
      digest: hash.digest('hex'),
      rows,
    };
  } catch (err) {
    return {
      integrityOk: false,
      problem: `cannot inspect the database: ${err.message}`,
      digest: '',
      rows: 0,
    };
  } finally {
    conn?.close();
  }
}

function log(line) {
  if (!opts.json) console.log(line);
}

async function main() {
  const a = writeStack('a');
  const b = writeStack('b');
  log(`torture:kill: ${runs} runs, stacks of ${a.count}/${b.count} resources, seed ${seed}, in ${work}`);

  // Reference digests and the duration of a full rewrite, measured on this database.
  const first = await apply(a.dir);
  if (first.code !== 0) throw new Error(`initial apply of A failed:\n${first.stderr}${first.stdout}`);
  const digestA = inspect().digest;
  const toB = await apply(b.dir);
  if (toB.code !== 0) throw new Error(`initial apply of B failed:\n${toB.stderr}${toB.stdout}`);
  const digestB = inspect().digest;
  if (digestB === digestA) throw new Error('versions A and B of the stack have the same digest');
  const toA = await apply(a.dir);
  if (toA.code !== 0) throw new Error(`apply of A over B failed:\n${toA.stderr}${toA.stdout}`);
  if (inspect().digest !== digestA) throw new Error('re-applying A does not reproduce its digest');
  const applyMs = Math.max(toB.ms, toA.ms);
  log(`measured apply of a full rewrite: ${Math.round(applyMs)} ms`);

  const stats = {
    runs,
    resources: a.count,
    seed,
    applyMs: Math.round(applyMs),
    integrityFailures: 0,
    tornStates: 0,
    nonConverging: 0,
    killedOld: 0,
    killedNew: 0,
    finishedBeforeKill: 0,
    failures: [],
  };
  let current = 'a';
  const dirs = { a: a.dir, b: b.dir };
  const digests = { a: digestA, b: digestB };
  for (let run = 1; run <= runs; run++) {
    const target = current === 'a' ? 'b' : 'a';
    const delay = Math.floor(random() * applyMs);
    const killedRun = await apply(dirs[target], delay);
    const state = inspect();
    const fail = (what) => {
      stats.failures.push({ run, delay, what });
      log(`run ${run}: ${what}`);
    };
    if (!state.integrityOk) {
      stats.integrityFailures++;
      fail(`integrity failure after kill at ${delay} ms: ${state.problem}`);
    }
    const landed =
      state.digest === digests[current] ? 'old' : state.digest === digests[target] ? 'new' : 'torn';
    if (landed === 'torn') {
      stats.tornStates++;
      fail(`torn state after kill at ${delay} ms (${state.rows} rows match neither version)`);
    }
    if (!killedRun.killed) {
      stats.finishedBeforeKill++;
      if (killedRun.code !== 0) fail(`apply exited ${killedRun.code} before the kill:\n${killedRun.stderr}`);
    } else if (landed === 'old') stats.killedOld++;
    else if (landed === 'new') stats.killedNew++;

    const again = await apply(dirs[target]);
    const after = inspect();
    const plan = await planExit(dirs[target]);
    if (again.code !== 0 || after.digest !== digests[target] || !after.integrityOk || plan.code !== 0) {
      stats.nonConverging++;
      fail(
        `did not converge: re-apply exit ${again.code}, digest ${after.digest === digests[target] ? 'ok' : 'wrong'}, ` +
          `plan --detailed-exitcode ${plan.code}\n${again.stderr}${plan.stderr}`,
      );
    }
    current = target;
    if (!opts.json && run % 10 === 0) log(`  ${run}/${runs} runs done`);
  }

  const ok = stats.integrityFailures === 0 && stats.tornStates === 0 && stats.nonConverging === 0;
  if (opts.json) {
    console.log(JSON.stringify(stats));
  } else {
    console.log(
      `torture:kill runs=${runs} integrity_failures=${stats.integrityFailures} torn_states=${stats.tornStates} ` +
        `non_converging=${stats.nonConverging} killed_old=${stats.killedOld} killed_new=${stats.killedNew} ` +
        `finished_before_kill=${stats.finishedBeforeKill} resources=${a.count} apply_ms=${stats.applyMs} seed=${seed}`,
    );
  }
  return ok;
}

let ok = false;
try {
  ok = await main();
} catch (err) {
  console.error(`torture-kill: ${err.message}`);
} finally {
  if (opts.keep) console.error(`torture-kill: kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
