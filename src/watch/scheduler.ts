/**
 * When watch mode runs a cycle (DESIGN.md §7): file events are coalesced into one pending set
 * of paths, a trailing debounce waits for them to settle, and a maximum wait bounds how long a
 * steady stream of events can postpone the cycle. Exactly one cycle runs at a time; events
 * that arrive during a cycle stay pending and start the next one, so none is ever lost.
 *
 * Pure timing logic (global timers and `Date.now`), no file system: the watcher feeds it
 * paths, the session gives it the cycle to run. Unit-tested with fake timers.
 */

/** What one cycle is asked to look at: every path that had an event since the last cycle. */
export interface ChangeBatch {
  /** Distinct paths, in the order of their first event. */
  paths: string[];
  /** Number of raw events coalesced into this batch (≥ paths.length). */
  events: number;
}

export interface SchedulerOptions {
  /** Quiet time after the last event before a cycle starts; 0 = as soon as the current tick's events are in. */
  debounceMs: number;
  /** Longest time a pending event waits for its cycle while events keep coming (default: `defaultMaxWait`). */
  maxWaitMs?: number;
  /** Runs one cycle. Should not throw; if it does, `onError` receives the error and watching goes on. */
  run: (batch: ChangeBatch) => Promise<void>;
  onError: (err: unknown) => void;
}

/**
 * The default maximum wait for a debounce: five debounce periods, at least 2 s and at most
 * 5 s, so a stream of saves applies within a few seconds; never shorter than the debounce.
 */
export function defaultMaxWait(debounceMs: number): number {
  return Math.max(debounceMs, Math.min(5000, Math.max(2000, 5 * debounceMs)));
}

/**
 * Coalesces events and runs cycles one at a time. Events noted before `start()` are kept and
 * handled once started (the session runs its initial cycle first, then starts the scheduler).
 */
export class CycleScheduler {
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly runCycle: SchedulerOptions['run'];
  private readonly onError: (err: unknown) => void;

  private pending = new Set<string>();
  private pendingEvents = 0;
  private firstEventAt: number | undefined;
  private lastEventAt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** A retry is due: the next cycle runs even with no event pending. */
  private retryDue = false;
  private started = false;
  private stopped = false;
  private current: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    if (!Number.isFinite(options.debounceMs) || options.debounceMs < 0) {
      throw new RangeError(
        `debounce must be a non-negative number of milliseconds, got ${options.debounceMs}`,
      );
    }
    this.debounceMs = options.debounceMs;
    this.maxWaitMs = Math.max(options.maxWaitMs ?? defaultMaxWait(options.debounceMs), options.debounceMs);
    this.runCycle = options.run;
    this.onError = options.onError;
  }

  /** True while a cycle runs. */
  get busy(): boolean {
    return this.current !== undefined;
  }

  /** Number of distinct paths waiting for the next cycle. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** True when `path` waits for the next cycle. */
  isPending(path: string): boolean {
    return this.pending.has(path);
  }

  /** Records an event on `path`; the cycle that handles it starts after the debounce. */
  notify(path: string): void {
    if (this.stopped) return;
    const now = Date.now();
    this.pending.add(path);
    this.pendingEvents++;
    this.lastEventAt = now;
    this.firstEventAt ??= now;
    if (this.started && !this.current) this.arm();
  }

  /**
   * Runs a cycle in `delayMs` even if no file changes (after a cycle that failed for a reason
   * outside the manifests, such as a locked or unreachable backend). A file event before then
   * runs the cycle sooner; either way the retry is then spent.
   */
  scheduleRetry(delayMs: number): void {
    if (this.stopped) return;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.retryDue = true;
      if (!this.current) this.fire();
    }, delayMs);
  }

  /** Starts running cycles (for events already noted, too). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    if (this.pending.size > 0) this.arm();
  }

  /**
   * Stops scheduling: no new cycle starts, pending events are dropped. Resolves when the cycle
   * running now (if any) has finished.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.pending.clear();
    this.pendingEvents = 0;
    this.firstEventAt = undefined;
    await this.current;
  }

  /** Resolves when no cycle is running (pending events may still be waiting for their timer). */
  async idle(): Promise<void> {
    while (this.current) await this.current;
  }

  private arm(): void {
    this.clearTimer();
    const due = Math.min(
      this.lastEventAt + this.debounceMs,
      (this.firstEventAt ?? this.lastEventAt) + this.maxWaitMs,
    );
    this.timer = setTimeout(() => this.fire(), Math.max(0, due - Date.now()));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fire(): void {
    this.clearTimer();
    if (this.stopped || this.current || (this.pending.size === 0 && !this.retryDue)) return;
    this.retryDue = false;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const batch: ChangeBatch = { paths: [...this.pending], events: this.pendingEvents };
    this.pending = new Set();
    this.pendingEvents = 0;
    this.firstEventAt = undefined;
    this.current = this.execute(batch);
  }

  private async execute(batch: ChangeBatch): Promise<void> {
    try {
      await this.runCycle(batch);
    } catch (err) {
      this.onError(err);
    } finally {
      this.current = undefined;
      if (!this.stopped && this.retryDue) this.fire();
      else if (!this.stopped && this.pending.size > 0) this.arm();
    }
  }
}
