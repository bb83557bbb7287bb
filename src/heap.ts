/**
 * Garbage-collector tuning for large loads (issue 17, docs/performance.md item 35). After each
 * full collection V8 lets the old generation grow to its live size times a factor that it
 * chooses from how fast the program allocates; the pipeline allocates fast, so at 100,000
 * resources the heap ran at up to twice its live size, and the peak RSS of a plan was about
 * 2.5× the memory the plan holds. V8's `--heap-growing-percent=P` fixes the factor at 1 + P/100.
 * It is read at every collection, so setting it once the load is known to be large works.
 *
 * A process-wide setting, so the library never changes it on its own: the CLI calls
 * `enableLargeLoadHeapTuning` at start, and a load of LARGE_LOAD_BYTES or more of manifests then
 * sets it (once). `STIGMER_HEAP_GROWING_PERCENT=P` chooses another percent (0: leave V8's own
 * choice); a `--heap-growing-percent` given to Node on its command line is left alone (Node
 * refuses the flag in NODE_OPTIONS).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** From this many bytes of manifests (about 27,000 resources of the bench's shape). */
export const LARGE_LOAD_BYTES = 16_000_000;

/**
 * The factor's percent for large loads. Measured at 100,000 resources (docs/performance.md
 * item 35): 30 gave the lowest peaks at no measurable cost in time; 60 a little more memory.
 */
export const LARGE_LOAD_HEAP_GROWING_PERCENT = 30;

let enabled = false;
let tuned = false;

/** Lets `tuneHeapForLoad` change the collector's setting in this process (the CLI's start-up). */
export function enableLargeLoadHeapTuning(): void {
  enabled = true;
}

/**
 * Called with the bytes of manifests a load read: from LARGE_LOAD_BYTES, when enabled and Node
 * was given no setting of its own, fixes the old generation's growth. True when it set it now.
 */
export function tuneHeapForLoad(
  totalBytes: number,
  given: string = process.execArgv.join(' '),
  env: Record<string, string | undefined> = process.env,
): boolean {
  if (!enabled || tuned || totalBytes < LARGE_LOAD_BYTES) return false;
  tuned = true;
  if (/heap[-_]growing[-_]percent/.test(given)) return false;
  const chosen = env.STIGMER_HEAP_GROWING_PERCENT?.trim();
  const percent =
    chosen !== undefined && /^\d{1,4}$/.test(chosen) ? Number(chosen) : LARGE_LOAD_HEAP_GROWING_PERCENT;
  if (percent === 0) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}

/**
 * One full collection before the write of a large apply (docs/performance.md item 53), when
 * this process tuned its heap for a large load: planning and printing 100,000 creates leave
 * about 160 MB of garbage in the old generation, which the growth factor lets stand until the
 * write's own allocations push the heap past it, so the apply's peak came at its end with
 * both. Collected first, the write starts from the live size. Costs one full collection
 * (about 0.2 s at 100,000). `gc` is taken from a new context made after `--expose-gc` is set.
 */
export function collectBeforeLargeWrite(): boolean {
  if (!tuned || !enabled) return false;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (() => void) | undefined;
    if (typeof gc !== 'function') return false;
    gc();
    return true;
  } catch {
    return false;
  }
}
