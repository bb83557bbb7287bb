import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ChangeBatch, CycleScheduler, defaultMaxWait } from './scheduler.js';

interface Harness {
  scheduler: CycleScheduler;
  batches: Array<ChangeBatch & { at: number }>;
  errors: unknown[];
  /** Resolves the cycle running now (cycles started with `slow` stay open until then). */
  finish: () => void;
}

function harness(options: {
  debounceMs: number;
  maxWaitMs?: number;
  slow?: boolean;
  fail?: boolean;
}): Harness {
  const batches: Harness['batches'] = [];
  const errors: unknown[] = [];
  let release: (() => void) | undefined;
  const start = Date.now();
  const scheduler = new CycleScheduler({
    debounceMs: options.debounceMs,
    ...(options.maxWaitMs !== undefined ? { maxWaitMs: options.maxWaitMs } : {}),
    run: async (batch) => {
      batches.push({ ...batch, at: Date.now() - start });
      if (options.fail) throw new Error('boom');
      if (options.slow) await new Promise<void>((r) => (release = r));
    },
    onError: (err) => errors.push(err),
  });
  return {
    scheduler,
    batches,
    errors,
    finish: () => {
      const r = release;
      release = undefined;
      r?.();
    },
  };
}

describe('CycleScheduler', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one cycle after the debounce has passed since the last event', async () => {
    const h = harness({ debounceMs: 300 });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(200);
    h.scheduler.notify('b.yaml');
    await vi.advanceTimersByTimeAsync(299);
    expect(h.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.batches).toEqual([{ paths: ['a.yaml', 'b.yaml'], events: 2, at: 500 }]);
  });

  it('coalesces repeated events on one path (an atomic save: unlink then add) into one change', async () => {
    const h = harness({ debounceMs: 50 });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(10);
    h.scheduler.notify('a.yaml');
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.batches).toEqual([{ paths: ['a.yaml'], events: 3, at: 60 }]);
  });

  it('bounds a steady stream of events by the maximum wait', async () => {
    const h = harness({ debounceMs: 300, maxWaitMs: 1000 });
    h.scheduler.start();
    for (let t = 0; t < 2500; t += 100) {
      h.scheduler.notify(`f${t}.yaml`);
      await vi.advanceTimersByTimeAsync(100);
    }
    // Events every 100 ms never leave 300 ms of quiet: only the maximum wait starts cycles.
    expect(h.batches.map((b) => b.at)).toEqual([1000, 2000]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.batches.map((b) => b.at)).toEqual([1000, 2000, 2700]);
    const seen = h.batches.flatMap((b) => b.paths);
    expect(new Set(seen).size).toBe(25);
    expect(seen).toHaveLength(25);
  });

  it('with debounce 0 runs as soon as the events of the current tick are in', async () => {
    const h = harness({ debounceMs: 0 });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    h.scheduler.notify('b.yaml');
    expect(h.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(0);
    expect(h.batches).toEqual([{ paths: ['a.yaml', 'b.yaml'], events: 2, at: 0 }]);
  });

  it('keeps events noted before start() and handles them once started', async () => {
    const h = harness({ debounceMs: 100 });
    h.scheduler.notify('early.yaml');
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.batches).toHaveLength(0);
    h.scheduler.start();
    // The maximum wait counts from the first event, which is long past: run at once.
    await vi.advanceTimersByTimeAsync(0);
    expect(h.batches).toEqual([{ paths: ['early.yaml'], events: 1, at: 1000 }]);
  });

  it('runs one cycle at a time and queues events that arrive during a cycle for the next one', async () => {
    const h = harness({ debounceMs: 100, slow: true });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.batches).toHaveLength(1);
    expect(h.scheduler.busy).toBe(true);
    h.scheduler.notify('b.yaml');
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.batches).toHaveLength(1);
    expect(h.scheduler.pendingCount).toBe(2);
    h.finish();
    // The queued events are older than the debounce already: the next cycle follows at once.
    await vi.advanceTimersByTimeAsync(0);
    expect(h.batches).toHaveLength(2);
    expect(h.batches[1]).toMatchObject({ paths: ['b.yaml', 'a.yaml'], events: 2 });
    h.finish();
    await h.scheduler.idle();
    expect(h.scheduler.busy).toBe(false);
  });

  it('waits for the debounce after a cycle when the queued events are recent', async () => {
    const h = harness({ debounceMs: 300, slow: true });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(300);
    h.scheduler.notify('b.yaml');
    await vi.advanceTimersByTimeAsync(50);
    h.finish();
    await vi.advanceTimersByTimeAsync(249);
    expect(h.batches).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.batches.map((b) => b.at)).toEqual([300, 600]);
  });

  it('stop() waits for the running cycle and starts no other', async () => {
    const h = harness({ debounceMs: 10, slow: true });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(10);
    h.scheduler.notify('b.yaml');
    let stopped = false;
    const stopping = h.scheduler.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(stopped).toBe(false);
    h.finish();
    await stopping;
    expect(stopped).toBe(true);
    h.scheduler.notify('c.yaml');
    await vi.advanceTimersByTimeAsync(1000);
    expect(h.batches).toHaveLength(1);
  });

  it('reports a cycle that throws and keeps scheduling', async () => {
    const h = harness({ debounceMs: 10, fail: true });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(10);
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(10);
    expect(h.batches).toHaveLength(2);
    expect(h.errors).toHaveLength(2);
  });

  it('runs a retry cycle without events, sooner when an event comes first, never after stop()', async () => {
    const h = harness({ debounceMs: 100 });
    h.scheduler.start();
    h.scheduler.scheduleRetry(2000);
    await vi.advanceTimersByTimeAsync(1999);
    expect(h.batches).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.batches).toEqual([{ paths: [], events: 0, at: 2000 }]);

    h.scheduler.scheduleRetry(2000);
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(100);
    expect(h.batches.slice(1)).toEqual([{ paths: ['a.yaml'], events: 1, at: 2100 }]);
    await vi.advanceTimersByTimeAsync(5000);
    expect(h.batches).toHaveLength(2); // the event's cycle spent the retry

    h.scheduler.scheduleRetry(10);
    await h.scheduler.stop();
    await vi.advanceTimersByTimeAsync(100);
    expect(h.batches).toHaveLength(2);
  });

  it('runs a retry that falls due during a cycle right after it', async () => {
    const h = harness({ debounceMs: 10, slow: true });
    h.scheduler.start();
    h.scheduler.notify('a.yaml');
    await vi.advanceTimersByTimeAsync(10);
    h.scheduler.scheduleRetry(50);
    await vi.advanceTimersByTimeAsync(100);
    expect(h.batches).toHaveLength(1);
    h.finish();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.batches).toHaveLength(2);
    expect(h.batches[1]).toMatchObject({ paths: [], events: 0 });
    h.finish();
  });

  it('refuses a negative debounce', () => {
    expect(() => harness({ debounceMs: -1 })).toThrow(RangeError);
  });
});

describe('defaultMaxWait', () => {
  it('is five debounces, between 2 s and 5 s, and never below the debounce', () => {
    expect(defaultMaxWait(0)).toBe(2000);
    expect(defaultMaxWait(50)).toBe(2000);
    expect(defaultMaxWait(300)).toBe(2000);
    expect(defaultMaxWait(600)).toBe(3000);
    expect(defaultMaxWait(2000)).toBe(5000);
    expect(defaultMaxWait(8000)).toBe(8000);
  });
});
