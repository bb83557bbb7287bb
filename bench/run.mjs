#!/usr/bin/env node
/**
 * `npm run bench`: the performance harness of the reconciler (performance issue, docs/performance.md).
 *
 * Generates synthetic stacks (bench/stack.mjs), then measures the real CLI as whole processes
 * on the local backend, each against a fresh $STIGMER_HOME in a temporary directory:
 *   floor (bench/floor.mjs), no-op plan cold (also on one parse thread) and repeated, plan with
 *   1% changed, apply of N creates, watch edit → applied, `stigmer --version` against
 *   `node -e 0`, peak RSS of a plan. Then the same stack through the cloud backend against a real
 *   `stigmer server` process on a loopback port (a fresh store per apply): apply of N creates,
 *   no-op plan cold and repeated, and 8 concurrent no-op plans of the smallest size. Then the
 *   same cloud rows with the server's store in PostgreSQL (a throwaway cluster from
 *   scripts/pg-cluster.mjs, a fresh database per apply), against the cloud rows over SQLite
 *   (docs/scaling.md). Skipped by --quick unless --postgres is given.
 * Prints a table of medians with ratios and targets, and writes everything (raw samples
 * included) to bench/results/<time>.json.
 *
 * `--large` measures the scale rows instead (docs/performance.md, "At 100,000 resources"): at
 * 10,000 and 100,000 resources the floor, the cold and the warm no-op plan, the apply of N creates
 * and the cold and warm no-op plan over the cloud backend, each with its peak RSS, and the growth
 * of every row from the smaller size to the larger.
 *
 * Usage: node bench/run.mjs [--quick | --large] [--postgres] [--runs N] [--sizes 1000,10000] [--watch-sizes 100,10000]
 * Needs a build (`node scripts/build.mjs`): it runs bin/run.js, which runs dist/.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startPgCluster } from '../scripts/pg-cluster.mjs';
import { filePath, fileText, reviseStack, writeStack } from './stack.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const BIN = join(ROOT, 'bin', 'run.js');
const FLOOR = join(ROOT, 'bench', 'floor.mjs');
const MAXRSS = join(ROOT, 'bench', 'maxrss.cjs');

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    postgres: { type: 'boolean', default: false },
    large: { type: 'boolean', default: false },
    runs: { type: 'string' },
    sizes: { type: 'string' },
    'watch-sizes': { type: 'string' },
  },
});
const quick = opts.quick;
const large = opts.large;
/** The PostgreSQL rows start a cluster (about 1-2 s) and apply once more per size: not in --quick or --large. */
const withPostgres = !large && (opts.postgres || !quick);
if (quick && large) {
  process.stderr.write('bench: --quick and --large exclude each other\n');
  process.exit(1);
}
const runs = Number(opts.runs ?? (quick ? 1 : large ? 3 : 5));
const sizes = (opts.sizes ?? (quick ? '100,200' : large ? '10000,100000' : '1000,10000'))
  .split(',')
  .map(Number);
const watchSizes = (opts['watch-sizes'] ?? (quick ? '100,200' : '100,10000')).split(',').map(Number);
/** Runs of the measurements that take many seconds at 10,000 (apply: a fresh database each). */
const expensiveRuns = (n) => (n >= 10_000 ? Math.min(runs, 3) : runs);

if (!existsSync(join(ROOT, 'dist', 'cli', 'run.js'))) {
  process.stderr.write('bench: dist/ is missing; run `node scripts/build.mjs` first\n');
  process.exit(1);
}

const work = mkdtempSync(join(tmpdir(), 'stigmer-bench-'));
const log = (text) => process.stderr.write(`bench: ${text}\n`);
const samples = {};
const record = (name, value) => {
  samples[name] ??= [];
  samples[name].push(value);
};
const median = (values) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function envFor(home) {
  const env = { ...process.env, STIGMER_HOME: home, NO_COLOR: '1' };
  for (const k of [
    'STIGMER_BACKEND',
    'STIGMER_DB',
    'STIGMER_ENDPOINT',
    'STIGMER_TOKEN',
    'STIGMER_NO_CACHE',
  ]) {
    delete env[k];
  }
  return env;
}

/** Runs `node ...args` to completion; returns wall time in ms and stdout. Fails on a non-zero exit. */
function timed(args, env, expectOut) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) {
    throw new Error(
      `\`node ${args.join(' ')}\` exited ${result.status}:\n${result.stderr}${result.stdout.slice(-2000)}`,
    );
  }
  if (expectOut && !expectOut.test(result.stdout)) {
    throw new Error(
      `\`node ${args.join(' ')}\` printed something unexpected:\n${result.stdout.slice(-2000)}`,
    );
  }
  return ms;
}

function freshHome(name) {
  const home = join(work, name);
  rmSync(home, { recursive: true, force: true });
  timed([BIN, 'init'], envFor(home));
  return home;
}

/** Peak RSS in MB of `node ...args`: /usr/bin/time when present, else a preload reading maxRSS at exit. */
function peakRss(args, env) {
  const out = join(work, 'rss.txt');
  if (existsSync('/usr/bin/time')) {
    const r = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, ...args], {
      env,
      encoding: 'utf8',
    });
    if (r.status === 0)
      return { mb: Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024, how: '/usr/bin/time' };
  }
  timed(['--require', MAXRSS, ...args], { ...env, BENCH_MAXRSS_FILE: out });
  return { mb: Number(readFileSync(out, 'utf8')) / 1024, how: 'process.resourceUsage().maxRSS' };
}

/**
 * Runs `node ...args` like `timed`, and also measures its peak RSS (MB) in the same run: through
 * /usr/bin/time when present, else the maxrss.cjs preload.
 */
function timedWithRss(args, env, expectOut) {
  const out = join(work, 'rss.txt');
  rmSync(out, { force: true });
  if (existsSync('/usr/bin/time')) {
    const start = process.hrtime.bigint();
    const result = spawnSync('/usr/bin/time', ['-f', '%M', '-o', out, process.execPath, ...args], {
      env,
      encoding: 'utf8',
      maxBuffer: 1 << 30,
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (result.status !== 0 || (expectOut && !expectOut.test(result.stdout))) {
      throw new Error(
        `\`node ${args.join(' ')}\` exited ${result.status}:\n${result.stderr}${result.stdout.slice(-2000)}`,
      );
    }
    return {
      ms,
      mb: Number(readFileSync(out, 'utf8').trim().split('\n').pop()) / 1024,
      how: '/usr/bin/time',
    };
  }
  const ms = timed(['--require', MAXRSS, ...args], { ...env, BENCH_MAXRSS_FILE: out }, expectOut);
  return { ms, mb: Number(readFileSync(out, 'utf8')) / 1024, how: 'process.resourceUsage().maxRSS' };
}

let rssHow = '';
/** Records the wall time under `name` and the peak RSS under `rss-<name>`. */
function recordWithRss(name, args, env, expectOut) {
  const r = timedWithRss(args, env, expectOut);
  record(name, r.ms);
  record(`rss-${name}`, r.mb);
  rssHow = r.how;
}

const NO_CHANGES = /No changes\. Your resources match the manifests\./;
/** Concurrent cloud plans of the smallest size against one server. */
const CONCURRENT_PLANS = 8;

function measureSize(n) {
  const stack = join(work, `stack-${n}`);
  writeStack(stack, n);
  log(`N=${n}: apply of ${n} creates (${expensiveRuns(n)} runs, a fresh database each)`);
  let home;
  for (let r = 0; r < expensiveRuns(n); r++) {
    home = freshHome(`home-${n}`);
    record(
      `apply-${n}`,
      timed([BIN, 'apply', stack, '--auto-approve'], envFor(home), /Apply complete! Resources: \d+ added/),
    );
  }
  const env = envFor(home);
  const cache = join(home, 'cache');
  log(`N=${n}: floor, no-op plan cold (default, and on one parse thread) and repeated (${runs} runs each)`);
  const oneThread = { ...env, STIGMER_PARSE_THREADS: '1' };
  for (let r = 0; r < runs; r++) {
    record(`floor-${n}`, timed([FLOOR, stack, join(home, 'local.db')], env));
    rmSync(cache, { recursive: true, force: true });
    record(`plan-cold-${n}`, timed([BIN, 'plan', stack], env, NO_CHANGES));
    rmSync(cache, { recursive: true, force: true });
    record(`plan-cold-1t-${n}`, timed([BIN, 'plan', stack], oneThread, NO_CHANGES));
  }
  timed([BIN, 'plan', stack], env, NO_CHANGES);
  for (let r = 0; r < runs; r++) record(`plan-repeated-${n}`, timed([BIN, 'plan', stack], env, NO_CHANGES));
  log(`N=${n}: plan with 1% changed (${runs} runs, other files cached)`);
  const changed = Math.max(1, n / 100);
  for (let r = 0; r < runs; r++) {
    reviseStack(stack, n, changed, r + 1);
    record(
      `plan-changed-${n}`,
      timed([BIN, 'plan', stack], env, new RegExp(`0 to add, ${changed} to change, 0 to destroy`)),
    );
  }
  writeStack(stack, n);
  log(`N=${n}: peak RSS of the cold no-op plan`);
  rmSync(cache, { recursive: true, force: true });
  const rss = peakRss([BIN, 'plan', stack], env);
  record(`rss-plan-${n}`, rss.mb);
  return { stack, home, rssHow: rss.how };
}

/** Starts `stigmer server --port 0` on `db`; resolves once it printed its listening line. */
function startServer(db) {
  const token = `bench-${process.pid}-${Date.now()}`;
  const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--db', db, '--token', token], {
    env: envFor(join(work, 'server-home')),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const exited = new Promise((resolve) => child.once('exit', resolve));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stigmer server did not start:\n${stderr}`)), 60_000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /^listening on (\S+)$/m.exec(stderr);
      if (m && timer) {
        clearTimeout(timer);
        // Keep draining the access log so the pipe never fills.
        resolve({
          url: m[1],
          token,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`stigmer server exited ${code}:\n${stderr}`)));
  });
}

function cloudEnv(home, server) {
  return {
    ...envFor(home),
    STIGMER_BACKEND: 'cloud',
    STIGMER_ENDPOINT: server.url,
    STIGMER_TOKEN: server.token,
  };
}

/** `node ...args` as a child process, without blocking: resolves with its wall time in ms. */
function timedAsync(args, env, expectOut) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.once('exit', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0 || (expectOut && !expectOut.test(out))) {
        reject(new Error(`\`node ${args.join(' ')}\` exited ${code}:\n${err}${out.slice(-2000)}`));
      } else resolve(ms);
    });
  });
}

/**
 * The rows of a stack through `--backend cloud` against a real `stigmer server`: apply of N
 * creates (a fresh server store each run: `store(r)` names it), then no-op plans cold and
 * repeated against the last one, and, when `concurrent` > 0, that many plans at once.
 * `key` prefixes the recorded metrics (`cloud`, `pg`), `label` the progress lines.
 */
async function measureServerRows(n, stack, { key, label, what, store, concurrent = 0 }) {
  log(`${label} N=${n}: apply of ${n} creates (${expensiveRuns(n)} runs, ${what})`);
  let server;
  let home;
  for (let r = 0; r < expensiveRuns(n); r++) {
    await server?.stop();
    server = await startServer(await store(r));
    home = freshHome(`home-${key}-${n}`);
    record(
      `${key}-apply-${n}`,
      timed(
        [BIN, 'apply', stack, '--auto-approve'],
        cloudEnv(home, server),
        /Apply complete! Resources: \d+ added/,
      ),
    );
  }
  try {
    const env = cloudEnv(home, server);
    const cache = join(home, 'cache');
    log(`${label} N=${n}: no-op plan cold and repeated (${runs} runs each)`);
    for (let r = 0; r < runs; r++) {
      rmSync(cache, { recursive: true, force: true });
      record(`${key}-plan-cold-${n}`, timed([BIN, 'plan', stack], env, NO_CHANGES));
    }
    timed([BIN, 'plan', stack], env, NO_CHANGES);
    for (let r = 0; r < runs; r++)
      record(`${key}-plan-repeated-${n}`, timed([BIN, 'plan', stack], env, NO_CHANGES));
    if (concurrent) {
      log(`${label} N=${n}: ${concurrent} concurrent no-op plans against one server (${runs} rounds)`);
      for (let r = 0; r < runs; r++) {
        const times = await Promise.all(
          Array.from({ length: concurrent }, () => timedAsync([BIN, 'plan', stack], env, NO_CHANGES)),
        );
        record(`${key}-concurrent-median-${n}`, median(times));
        record(`${key}-concurrent-worst-${n}`, Math.max(...times));
      }
    }
  } finally {
    await server.stop();
  }
}

/** The cloud rows (issue 11) over a SQLite server store. */
function measureCloud(n, prepared, concurrent) {
  return measureServerRows(n, prepared.stack, {
    key: 'cloud',
    label: 'cloud',
    what: 'a fresh server store each',
    store: (r) => join(work, `cloud-${n}-${r}`, 'state.db'),
    concurrent,
  });
}

/** The same rows with the server's store in PostgreSQL (a fresh database each apply). */
function measurePostgres(n, prepared, cluster) {
  return measureServerRows(n, prepared.stack, {
    key: 'pg',
    label: 'postgres',
    what: 'a fresh database each',
    store: (r) => cluster.createDatabase(`bench_${n}_${r}`),
  });
}

/** Starts `stigmer watch --debounce 0` on an applied stack; times one-file writes to the summary line. */
async function measureWatch(n, prepared) {
  let stack = prepared?.stack;
  let home = prepared?.home;
  if (!stack) {
    stack = join(work, `stack-${n}`);
    writeStack(stack, n);
    home = freshHome(`home-${n}`);
    timed([BIN, 'apply', stack, '--auto-approve'], envFor(home));
  }
  log(`watch at N=${n}: ${runs} edits`);
  const child = spawn(process.execPath, [BIN, 'watch', stack, '--debounce', '0'], {
    env: envFor(home),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const lines = createInterface({ input: child.stdout });
  let waiter = null;
  lines.on('line', (line) => {
    if (waiter?.pattern.test(line)) {
      const w = waiter;
      waiter = null;
      w.resolve(process.hrtime.bigint());
    }
  });
  const waitFor = (pattern, what) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`watch: no ${what} within 120 s\n${stderr}`)), 120_000);
      waiter = {
        pattern,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      };
    });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await waitFor(/\] (No changes|Apply complete)/, 'first cycle');
    await new Promise((r) => setTimeout(r, 300));
    const file = join(stack, filePath(0));
    for (let r = 0; r < runs; r++) {
      const applied = waitFor(/\] Apply complete! Resources: 0 added, 1 changed/, 'applied line');
      const start = process.hrtime.bigint();
      writeFileSync(file, fileText(0, new Map([[3, `watch ${r + 1}`]])));
      record(`watch-${n}`, Number((await applied) - start) / 1e6);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    child.kill('SIGINT');
    await exited;
  }
}

/** The rows of `--large` at one size: floor, cold and warm no-op plan, apply; time and RSS of each run. */
function measureLarge(n) {
  const stack = join(work, `stack-${n}`);
  writeStack(stack, n);
  const applyRuns = expensiveRuns(n);
  // Interleaved: each apply is followed by the floor and a cold plan of what it wrote, so the
  // ratios between them compare runs minutes apart at most on a machine whose speed drifts.
  log(
    `N=${n}: apply of ${n} creates (${applyRuns} runs, a fresh database each), each followed by the floor and a cold no-op plan (${runs} runs each)`,
  );
  let home;
  for (let r = 0; r < Math.max(runs, applyRuns); r++) {
    if (r < applyRuns) {
      home = freshHome(`home-${n}`);
      recordWithRss(
        `apply-${n}`,
        [BIN, 'apply', stack, '--auto-approve'],
        envFor(home),
        /Apply complete! Resources: \d+ added/,
      );
    }
    if (r >= runs) continue;
    recordWithRss(`floor-${n}`, [FLOOR, stack, join(home, 'local.db')], envFor(home));
    rmSync(join(home, 'cache'), { recursive: true, force: true });
    recordWithRss(`plan-cold-${n}`, [BIN, 'plan', stack], envFor(home), NO_CHANGES);
  }
  const env = envFor(home);
  log(`N=${n}: no-op plan warm (${runs} runs)`);
  // The last cold run left the cache warm.
  for (let r = 0; r < runs; r++) recordWithRss(`plan-warm-${n}`, [BIN, 'plan', stack], env, NO_CHANGES);
  return { stack, home };
}

/** The cloud rows of `--large` at one size: apply once into a fresh server store, then no-op plans. */
async function measureLargeCloud(n, prepared) {
  const { stack } = prepared;
  const server = await startServer(join(work, `cloud-${n}`, 'state.db'));
  try {
    const home = freshHome(`home-cloud-${n}`);
    const env = cloudEnv(home, server);
    log(`cloud N=${n}: apply of ${n} creates (1 run), no-op plan cold and warm (${runs} runs each)`);
    recordWithRss(
      `cloud-apply-${n}`,
      [BIN, 'apply', stack, '--auto-approve'],
      env,
      /Apply complete! Resources: \d+ added/,
    );
    const cache = join(home, 'cache');
    for (let r = 0; r < runs; r++) {
      rmSync(cache, { recursive: true, force: true });
      recordWithRss(`cloud-plan-cold-${n}`, [BIN, 'plan', stack], env, NO_CHANGES);
    }
    for (let r = 0; r < runs; r++)
      recordWithRss(`cloud-plan-warm-${n}`, [BIN, 'plan', stack], env, NO_CHANGES);
  } finally {
    await server.stop();
  }
}

function measureStartup() {
  const n = Math.max(runs, quick ? 3 : 10);
  log(`cold start: ${n} runs each`);
  const env = envFor(join(work, 'home-start'));
  for (let r = 0; r < n; r++) {
    record('node-e-0', timed(['-e', '0'], env));
    record('version', timed([BIN, '--version'], env, /^stigmer\//));
  }
}

function cpuModel() {
  try {
    return /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

const machine = {
  cpus: availableParallelism(),
  cpu: cpuModel(),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  loadAverageAtStart: loadavg().map((x) => Number(x.toFixed(2))),
};

const prepared = new Map();
let cluster;
try {
  if (large) {
    for (const n of sizes) {
      prepared.set(n, measureLarge(n));
      await measureLargeCloud(n, prepared.get(n));
      // The stacks of 100,000 resources take 40 MB of YAML and a 170 MB database each.
      rmSync(join(work, `stack-${n}`), { recursive: true, force: true });
      rmSync(join(work, `home-${n}`), { recursive: true, force: true });
      rmSync(join(work, `home-cloud-${n}`), { recursive: true, force: true });
      rmSync(join(work, `cloud-${n}`), { recursive: true, force: true });
    }
  } else {
    measureStartup();
    for (const n of sizes) prepared.set(n, measureSize(n));
    for (const n of watchSizes) await measureWatch(n, prepared.get(n));
    for (const n of sizes)
      await measureCloud(n, prepared.get(n), n === Math.min(...sizes) ? CONCURRENT_PLANS : 0);
    if (withPostgres) {
      log('postgres: starting a throwaway PostgreSQL cluster');
      cluster = await startPgCluster();
      for (const n of sizes) await measurePostgres(n, prepared.get(n), cluster);
    }
  }
} finally {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
}

// ---- the table -------------------------------------------------------------------------
const m = (name) => (samples[name] ? median(samples[name]) : undefined);
const rows = [];
const big = Math.max(...sizes);
const small = Math.min(...sizes);
const row = (metric, n, value, unit, ratio, target) => {
  const pass = target ? target.ok(target.value) : undefined;
  rows.push({
    metric,
    n,
    median: value,
    unit,
    runs: samples[metric.key]?.length ?? 0,
    ratio: ratio ?? null,
    target: target?.text ?? null,
    result: pass === undefined ? null : pass ? 'PASS' : large ? 'FAIL' : 'MISS',
  });
};
const fmtRatio = (x, of) => `${x.toFixed(2)}× ${of}`;
if (large) largeRows();
else normalRows();

/** The rows of `--large` (targets of the scale issue; docs/performance.md). */
function largeRows() {
  const MB = (limit) => ({ text: `≤ ${limit} MB`, ok: (v) => v <= limit });
  const ratioTarget = (limit, of) => ({ text: `≤ ${limit.toFixed(2)}× ${of}`, ok: (v) => v <= limit });
  /** Every measured row with its key, label, base (for the ratio) and targets per size. */
  const defs = [
    { key: 'floor', label: 'floor: read+parse YAML, SELECT rows' },
    {
      key: 'plan-cold',
      label: 'no-op plan, cold (no cache)',
      base: 'floor',
      targets: { 10000: ratioTarget(1, 'floor'), 100000: ratioTarget(1, 'floor') },
    },
    {
      key: 'plan-warm',
      label: 'no-op plan, warm (cache)',
      base: 'floor',
      targets: {
        10000: ratioTarget(0.25, 'floor'),
        100000: { text: '≤ 2000 ms', abs: true, ok: (v) => v <= 2000 },
      },
    },
    {
      key: 'apply',
      label: 'apply of N creates',
      base: 'plan-cold',
      targets: {
        10000: ratioTarget(1.5, 'cold plan'),
        100000: { text: '≤ 12000 ms', abs: true, ok: (v) => v <= 12000 },
      },
    },
    {
      key: 'cloud-plan-cold',
      label: 'cloud: no-op plan, cold',
      base: 'plan-cold',
      baseName: 'local',
      targets: { 100000: ratioTarget(1.3, 'local') },
    },
    { key: 'cloud-plan-warm', label: 'cloud: no-op plan, warm', base: 'plan-warm', baseName: 'local' },
    { key: 'cloud-apply', label: 'cloud: apply of N creates', base: 'apply', baseName: 'local' },
  ];
  const rssTargets = { 'plan-cold': { 100000: MB(400) }, apply: { 100000: MB(512) } };
  const baseNames = { floor: 'floor', 'plan-cold': 'cold plan', 'plan-warm': 'warm plan', apply: 'apply' };
  for (const n of sizes) {
    for (const d of defs) {
      const v = m(`${d.key}-${n}`);
      if (v === undefined) continue;
      const base = d.base ? m(`${d.base}-${n}`) : undefined;
      const ratio = base ? v / base : undefined;
      const t = d.targets?.[n];
      row(
        { key: `${d.key}-${n}`, label: d.label },
        n,
        v,
        'ms',
        ratio === undefined
          ? d.key === 'floor'
            ? '1.00× floor'
            : null
          : fmtRatio(ratio, d.baseName ?? baseNames[d.base]),
        t ? { text: t.text, value: t.abs ? v : ratio, ok: t.ok } : undefined,
      );
    }
    for (const d of defs) {
      const v = m(`rss-${d.key}-${n}`);
      if (v === undefined) continue;
      const floorRss = m(`rss-floor-${n}`);
      const t = rssTargets[d.key]?.[n];
      row(
        { key: `rss-${d.key}-${n}`, label: `peak RSS: ${d.label}` },
        n,
        v,
        'MB',
        d.key === 'floor' || !floorRss ? null : fmtRatio(v / floorRss, 'floor'),
        t ? { text: t.text, value: v, ok: t.ok } : undefined,
      );
    }
  }
  if (sizes.length > 1) {
    const limit = 1.1 * (big / small);
    for (const prefix of ['', 'rss-']) {
      for (const d of defs) {
        const a = m(`${prefix}${d.key}-${small}`);
        const b = m(`${prefix}${d.key}-${big}`);
        if (a === undefined || b === undefined) continue;
        const growth = b / a;
        row(
          {
            key: `growth-${prefix}${d.key}`,
            label: `growth ${small}→${big}: ${prefix ? 'peak RSS, ' : ''}${d.label}`,
          },
          big,
          null,
          '',
          `${growth.toFixed(2)}×`,
          { text: `≤ ${limit.toFixed(1)}×`, value: growth, ok: (v) => v <= limit },
        );
      }
    }
  }
}

function normalRows() {
  for (const n of sizes) {
    const floor = m(`floor-${n}`);
    const cold = m(`plan-cold-${n}`);
    const isBig = n === big;
    row({ key: `floor-${n}`, label: 'floor: read+parse YAML, SELECT rows' }, n, floor, 'ms', '1.00× floor');
    row(
      { key: `plan-cold-${n}`, label: 'no-op plan, cold (no cache)' },
      n,
      cold,
      'ms',
      fmtRatio(cold / floor, 'floor'),
      isBig ? { text: '≤ 1.30× floor', value: cold / floor, ok: (v) => v <= 1.3 } : undefined,
    );
    const cold1 = m(`plan-cold-1t-${n}`);
    row(
      { key: `plan-cold-1t-${n}`, label: 'no-op plan, cold, one parse thread' },
      n,
      cold1,
      'ms',
      fmtRatio(cold1 / floor, 'floor'),
    );
    const rep = m(`plan-repeated-${n}`);
    row(
      { key: `plan-repeated-${n}`, label: 'no-op plan, repeated (cache warm)' },
      n,
      rep,
      'ms',
      fmtRatio(rep / floor, 'floor'),
      isBig ? { text: '≤ 0.50× floor', value: rep / floor, ok: (v) => v <= 0.5 } : undefined,
    );
    const ch = m(`plan-changed-${n}`);
    row(
      { key: `plan-changed-${n}`, label: 'plan, 1% changed (rest cached)' },
      n,
      ch,
      'ms',
      fmtRatio(ch / floor, 'floor'),
    );
    const ap = m(`apply-${n}`);
    row(
      { key: `apply-${n}`, label: `apply of N creates` },
      n,
      ap,
      'ms',
      fmtRatio(ap / cold, 'cold plan'),
      isBig ? { text: '≤ 2.00× cold plan', value: ap / cold, ok: (v) => v <= 2 } : undefined,
    );
    const rss = m(`rss-plan-${n}`);
    row(
      { key: `rss-plan-${n}`, label: 'peak RSS, cold no-op plan' },
      n,
      rss,
      'MB',
      null,
      isBig ? { text: '≤ 300 MB', value: rss, ok: (v) => v <= 300 } : undefined,
    );
  }
  if (sizes.length > 1) {
    const growth = m(`plan-cold-${big}`) / m(`plan-cold-${small}`);
    const limit = 1.1 * (big / small);
    row(
      { key: 'growth', label: `growth of cold plan ${small}→${big}` },
      big,
      null,
      '',
      `${growth.toFixed(2)}×`,
      { text: `≤ ${limit.toFixed(1)}×`, value: growth, ok: (v) => v <= limit },
    );
  }
  for (const n of sizes) {
    const isBig = n === big;
    const cold = m(`plan-cold-${n}`);
    const cloudCold = m(`cloud-plan-cold-${n}`);
    row(
      { key: `cloud-plan-cold-${n}`, label: 'cloud: no-op plan, cold (no cache)' },
      n,
      cloudCold,
      'ms',
      fmtRatio(cloudCold / cold, 'local'),
      isBig ? { text: '≤ 1.30× local', value: cloudCold / cold, ok: (v) => v <= 1.3 } : undefined,
    );
    const rep = m(`plan-repeated-${n}`);
    const cloudRep = m(`cloud-plan-repeated-${n}`);
    row(
      { key: `cloud-plan-repeated-${n}`, label: 'cloud: no-op plan, repeated (cache warm)' },
      n,
      cloudRep,
      'ms',
      fmtRatio(cloudRep / rep, 'local'),
    );
    const ap = m(`apply-${n}`);
    const cloudAp = m(`cloud-apply-${n}`);
    row(
      { key: `cloud-apply-${n}`, label: 'cloud: apply of N creates' },
      n,
      cloudAp,
      'ms',
      fmtRatio(cloudAp / ap, 'local'),
      isBig ? { text: '≤ 1.50× local', value: cloudAp / ap, ok: (v) => v <= 1.5 } : undefined,
    );
    if (samples[`cloud-concurrent-median-${n}`]) {
      const single = m(`cloud-plan-repeated-${n}`);
      for (const which of ['median', 'worst']) {
        const v = m(`cloud-concurrent-${which}-${n}`);
        row(
          {
            key: `cloud-concurrent-${which}-${n}`,
            label: `cloud: ${CONCURRENT_PLANS} concurrent no-op plans, ${which}`,
          },
          n,
          v,
          'ms',
          fmtRatio(v / single, 'one plan'),
        );
      }
    }
  }
  for (const n of withPostgres ? sizes : []) {
    const isBig = n === big;
    for (const [key, label, target] of [
      ['plan-cold', 'no-op plan, cold (no cache)', 1.5],
      ['plan-repeated', 'no-op plan, repeated (cache warm)', 1.5],
      ['apply', 'apply of N creates', undefined],
    ]) {
      const sqlite = m(`cloud-${key}-${n}`);
      const pg = m(`pg-${key}-${n}`);
      row(
        { key: `pg-${key}-${n}`, label: `cloud on PostgreSQL: ${label}` },
        n,
        pg,
        'ms',
        fmtRatio(pg / sqlite, 'on SQLite'),
        isBig && target
          ? { text: `≤ ${target.toFixed(2)}× on SQLite`, value: pg / sqlite, ok: (v) => v <= target }
          : undefined,
      );
    }
  }
  const ws = [...watchSizes].sort((a, b) => a - b);
  for (const n of ws) {
    const w = m(`watch-${n}`);
    const first = m(`watch-${ws[0]}`);
    row(
      { key: `watch-${n}`, label: 'watch: edit → applied (debounce 0)' },
      n,
      w,
      'ms',
      n === ws[0] ? null : fmtRatio(w / first, `N=${ws[0]}`),
      n === ws[0]
        ? { text: '≤ 150 ms', value: w, ok: (v) => v <= 150 }
        : { text: `≤ 1.50× N=${ws[0]}`, value: w / first, ok: (v) => v <= 1.5 },
    );
  }
  const node0 = m('node-e-0');
  const ver = m('version');
  row({ key: 'node-e-0', label: 'node -e 0' }, null, node0, 'ms', null);
  row(
    { key: 'version', label: 'stigmer --version (cold start)' },
    null,
    ver,
    'ms',
    fmtRatio(ver / node0, 'node -e 0'),
    { text: '≤ 2.50× node -e 0', value: ver / node0, ok: (v) => v <= 2.5 },
  );
}

const header = ['metric', 'N', 'median', 'runs', 'ratio', 'target', 'result'];
const table = rows.map((r) => [
  r.metric.label,
  r.n === null ? '' : String(r.n),
  r.median === null || r.median === undefined ? '' : `${r.median.toFixed(r.unit === 'MB' ? 1 : 0)} ${r.unit}`,
  r.runs ? String(r.runs) : '',
  r.ratio ?? '',
  r.target ?? '',
  r.result ?? '',
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => t[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
const out = [
  `Machine: ${machine.cpus} CPUs, ${machine.cpu}, Node ${machine.node}, load average at start ${machine.loadAverageAtStart.join(' ')}`,
  large
    ? `Medians of ${runs} run(s); apply at N ≥ 10,000: ${expensiveRuns(10_000)} runs; cloud apply: 1 run; peak RSS: every run (${rssHow}), median.`
    : `Medians of ${runs} run(s)${sizes.some((n) => n >= 10_000) ? `; apply at N ≥ 10,000: ${expensiveRuns(10_000)} runs` : ''}; peak RSS: 1 run (${[...prepared.values()][0]?.rssHow ?? ''}).`,
  '',
  line(header),
  line(widths.map((w) => '-'.repeat(w))),
  ...table.map(line),
];
process.stdout.write(`${out.join('\n')}\n`);

const resultsDir = join(ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(
  resultsDir,
  `${new Date().toISOString().replace(/[:.]/g, '-')}${quick ? '-quick' : large ? '-large' : ''}.json`,
);
writeFileSync(
  file,
  `${JSON.stringify({ machine, options: { quick, large, runs, sizes, watchSizes }, rows: rows.map((r) => ({ ...r, metric: r.metric.label, key: r.metric.key })), samples }, null, 2)}\n`,
);
log(`results written to ${file}`);
