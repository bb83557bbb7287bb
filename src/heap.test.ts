import { describe, expect, it, vi } from 'vitest';

/** A fresh copy of the module: its settings are per process. */
async function fresh(): Promise<typeof import('./heap.js')> {
  vi.resetModules();
  return import('./heap.js');
}

describe('tuneHeapForLoad', () => {
  it('does nothing until the CLI enables it, nor below LARGE_LOAD_BYTES', async () => {
    const heap = await fresh();
    expect(heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES, '')).toBe(false);
    heap.enableLargeLoadHeapTuning();
    expect(heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES - 1, '')).toBe(false);
    expect(heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES, '')).toBe(true);
    // Once per process.
    expect(heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES * 2, '')).toBe(false);
  });

  it('leaves a setting given to Node alone', async () => {
    for (const given of ['--heap-growing-percent=80', '--max-old-space-size=512 --heap_growing_percent=10']) {
      const heap = await fresh();
      heap.enableLargeLoadHeapTuning();
      expect(heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES, given)).toBe(false);
    }
  });

  it('takes the percent from STIGMER_HEAP_GROWING_PERCENT; 0 leaves V8 its own choice', async () => {
    let heap = await fresh();
    heap.enableLargeLoadHeapTuning();
    expect(heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES, '', { STIGMER_HEAP_GROWING_PERCENT: '0' })).toBe(
      false,
    );
    heap = await fresh();
    heap.enableLargeLoadHeapTuning();
    expect(heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES, '', { STIGMER_HEAP_GROWING_PERCENT: '50' })).toBe(
      true,
    );
  });
});

describe('collectBeforeLargeWrite', () => {
  it('collects only in a process that loaded a large set, and keeps what is alive', async () => {
    const heap = await fresh();
    heap.enableLargeLoadHeapTuning();
    expect(heap.collectBeforeLargeWrite()).toBe(false);
    heap.tuneHeapForLoad(heap.LARGE_LOAD_BYTES, '--heap-growing-percent=80');
    const kept = { value: 'still here' };
    const dropped = new WeakRef({ value: 'garbage' });
    // A WeakRef holds its target until the job that made it ends.
    await new Promise((resolve) => setImmediate(resolve));
    expect(heap.collectBeforeLargeWrite()).toBe(true);
    expect(kept.value).toBe('still here');
    expect(dropped.deref()).toBeUndefined();
  });
});
