/**
 * A watch session (DESIGN.md §7): chokidar reports file events under the manifest root, the
 * scheduler coalesces and debounces them, and each cycle re-reads only the files that had
 * events, re-reads the live state once, plans and applies through the core. The first cycle
 * applies the whole directory. `stop()` lets the running cycle finish (an apply is one
 * atomic batch), then closes the watcher; the caller closes the backend.
 */
import { type Stats, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import type { Backend } from '../backend/types.js';
import { IncrementalPlanner } from '../core/incremental.js';
import { resolveProject, type SecretOptions } from '../core/reconcile.js';
import { StigmerError } from '../errors.js';
import type { ManifestSet } from '../manifest/types.js';
import type { DesiredResource, StoredResource } from '../types.js';
import { isIgnoredPath, ManifestCache } from './cache.js';
import { type CycleReport, reconcileOptionsOf, runCycle } from './cycle.js';
import { LiveStateCache } from './live.js';
import type { WatchPrinter } from './report.js';
import { CycleScheduler } from './scheduler.js';

export interface WatchOptions {
  backend: Backend;
  /** Manifest directory as the user named it (relative to cwd or absolute). */
  dir: string;
  /** Base of the paths shown to the user (default process.cwd()). */
  cwd?: string;
  /** --project. */
  project?: string;
  /** Delete resources whose manifests were removed (off by default in watch mode). */
  prune: boolean;
  allowEmpty?: boolean;
  /** Secret sources and sealing (`--allow-plaintext-secrets`); core defaults when absent. */
  secrets?: SecretOptions;
  /** History message of every write (default "stigmer watch"). */
  message?: string;
  /** Trailing debounce in ms; 0 runs as soon as the events of one tick are in. */
  debounceMs: number;
  /** Longest wait under a steady stream of events (default: see `defaultMaxWait`). */
  maxWaitMs?: number;
  printer: WatchPrinter;
  /** Called after each cycle's report was printed (tests, benchmarks). */
  onCycle?: (report: CycleReport) => void;
}

export interface WatchSession {
  /** Project the session applies to (as resolved when it started). */
  readonly project: string;
  /** Finishes the running cycle (if any), starts no other, closes the watcher. Idempotent. */
  stop(): Promise<void>;
  /** True while a cycle runs. */
  readonly busy: boolean;
}

export const DEFAULT_WATCH_MESSAGE = 'stigmer watch';

const FIRST_RETRY_DELAY_MS = 2000;
const MAX_RETRY_DELAY_MS = 60_000;

/** After an event, when to look at the file again: past chokidar's 50 ms change and 100 ms unlink throttles. */
const RECHECK_DELAY_MS = 150;

/**
 * Starts watching: starts the file watcher, fills the cache from the directory, prints the
 * banner, runs the first cycle (the whole directory), and returns once it has been reported.
 *
 * @throws StigmerError('LOAD' | 'USAGE') when the directory does not exist, is a file, or no
 *   project name can be derived; nothing is applied then.
 */
export async function startWatch(options: WatchOptions): Promise<WatchSession> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const printer = options.printer;
  const root = checkDirectory(resolve(cwd, options.dir), options.dir);

  // The watcher starts before the directory is read, so no change can fall in between: events
  // seen before the cache exists are replayed into the scheduler once it does.
  let cache: ManifestCache | undefined;
  const early: string[] = [];
  let scheduler: CycleScheduler | undefined;
  // chokidar drops a `change` that follows another on the same path within 50 ms (and a second
  // `unlink` within 100 ms), so the last save of a burst may never be reported. Each event is
  // therefore followed by a look at the file once that window has passed: if it differs from
  // what the cache last read (and no cycle is already pending for it), it counts as an event.
  const rechecks = new Map<string, ReturnType<typeof setTimeout>>();
  const recheck = (path: string): void => {
    clearTimeout(rechecks.get(path));
    rechecks.set(
      path,
      setTimeout(() => {
        rechecks.delete(path);
        if (!cache || !scheduler || scheduler.isPending(path)) return;
        if (cache.hasChangedSince(path)) scheduler.notify(path);
      }, RECHECK_DELAY_MS),
    );
  };
  const watcher = await startWatcher(root, printer, (path) => {
    if (!cache || !scheduler) {
      early.push(path);
    } else if (cache.isRelevant(path)) {
      scheduler.notify(path);
      recheck(path);
    }
  });
  let loaded: ManifestCache;
  let project: string;
  try {
    loaded = await ManifestCache.load(root, cwd, {
      ...(options.secrets?.home !== undefined ? { home: options.secrets.home } : {}),
    });
    const set: ManifestSet = { root, project: loaded.projectName, resources: [], diagnostics: [], files: [] };
    project = resolveProject(options.project, set, { cwd });
  } catch (err) {
    await watcher.close();
    throw err;
  }
  cache = loaded;

  let cycles = 0;
  const baseOptions = {
    backend: options.backend,
    cache: loaded,
    cwd,
    ...(options.project !== undefined ? { project: options.project } : {}),
    prune: options.prune,
    allowEmpty: options.allowEmpty ?? false,
    ...(options.secrets ? { secrets: options.secrets } : {}),
    message: options.message ?? DEFAULT_WATCH_MESSAGE,
    onApplyEvent: (event: Parameters<WatchPrinter['applyEvent']>[0]) => printer.applyEvent(event),
    live: new LiveStateCache(options.backend),
    noopMemo: new WeakMap<DesiredResource, StoredResource>(),
  };
  const cycleOptions = {
    ...baseOptions,
    planner: new IncrementalPlanner(options.backend, reconcileOptionsOf(baseOptions)),
  };
  // A cycle that failed outside the manifests (backend locked or unreachable) is retried
  // without waiting for the next edit, backing off while it keeps failing.
  let retryDelayMs = 0;
  const finish = (report: CycleReport): void => {
    printer.cycle(report);
    if (report.outcome === 'failed') {
      retryDelayMs = Math.min(
        MAX_RETRY_DELAY_MS,
        retryDelayMs === 0 ? FIRST_RETRY_DELAY_MS : retryDelayMs * 2,
      );
      printer.notice(`  retrying in ${retryDelayMs / 1000} s, or at the next change`);
      scheduler?.scheduleRetry(retryDelayMs);
    } else {
      retryDelayMs = 0;
    }
    options.onCycle?.(report);
  };

  const cycleScheduler = new CycleScheduler({
    debounceMs: options.debounceMs,
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    run: async (batch) => finish(await runCycle(cycleOptions, ++cycles, batch.paths)),
    onError: (err) => printer.notice(`watch: ${err instanceof Error ? err.message : String(err)}`),
  });

  scheduler = cycleScheduler;
  for (const path of early) {
    if (!loaded.isRelevant(path)) continue;
    cycleScheduler.notify(path);
    recheck(path);
  }
  printer.watching({ dir: options.dir, project, prune: options.prune, debounceMs: options.debounceMs });
  // Events that arrive during the first cycle wait in the scheduler for the next one.
  finish(await runCycle(cycleOptions, ++cycles, [], true));
  cycleScheduler.start();

  let stopping: Promise<void> | undefined;
  return {
    project,
    get busy() {
      return cycleScheduler.busy;
    },
    stop() {
      stopping ??= (async () => {
        await cycleScheduler.stop();
        for (const timer of rechecks.values()) clearTimeout(timer);
        rechecks.clear();
        await watcher.close();
      })();
      return stopping;
    },
  };
}

function checkDirectory(abs: string, given: string): string {
  let stat: Stats;
  try {
    stat = statSync(abs);
  } catch (err) {
    throw new StigmerError('LOAD', `manifest directory "${given}" does not exist`, {
      hint:
        given === 'manifests'
          ? 'run from a folder that has ./manifests, or pass the directory to watch (`stigmer watch DIR`)'
          : 'check the path',
      cause: err,
    });
  }
  if (!stat.isDirectory()) {
    throw new StigmerError(
      'USAGE',
      `"${given}" is not a directory; watch mode watches a manifest directory`,
      {
        hint: 'pass the directory that holds the file, e.g. `stigmer watch manifests`',
      },
    );
  }
  return abs;
}

/** Starts chokidar on the root and resolves once its initial scan is done. */
async function startWatcher(
  root: string,
  printer: WatchPrinter,
  onPath: (path: string) => void,
): Promise<FSWatcher> {
  const watcher = watch(root, {
    ignoreInitial: true,
    // An editor's delete-then-recreate within 100 ms arrives as a single `change`.
    atomic: true,
    ignored: (path) => isIgnoredPath(root, path),
  });
  watcher.on('add', onPath);
  watcher.on('change', onPath);
  watcher.on('unlink', onPath);
  watcher.on('unlinkDir', onPath);
  watcher.on('error', (err) => {
    const e = err as NodeJS.ErrnoException;
    const hint =
      e.code === 'ENOSPC'
        ? ' (the system limit of watched files was reached: raise fs.inotify.max_user_watches)'
        : e.code === 'EMFILE'
          ? ' (too many open files: raise the limit with `ulimit -n`)'
          : '';
    printer.notice(`watch: file watcher error: ${e.message ?? String(err)}${hint}`);
  });
  await new Promise<void>((resolve) => watcher.once('ready', () => resolve()));
  return watcher;
}
