/**
 * The record side of a running execution: RUNNING with a lease, a heartbeat every
 * `heartbeatMs` (lease: six beats) and at every step of the run, which is also where a
 * cancellation made by another process (`stigmer execution cancel`) is seen and turned into an
 * abort of the run; the transcript artifact; the final phase. A cancel that lands while the run
 * is finishing wins: the run's results are then recorded on the CANCELLED record.
 */
import type { Backend, Execution, ExecutionUpdate } from '../backend/types.js';
import { isStigmerError } from '../errors.js';
import { RunCancelled } from './run.js';
import type { Transcript } from './transcript.js';

export const LEASE_BEATS = 6;

export class ExecutionRecorder {
  private timer: NodeJS.Timeout | undefined;
  private readonly leaseMs: number;

  constructor(
    private readonly backend: Backend,
    readonly executionId: string,
    private readonly heartbeatMs: number,
    private readonly controller: AbortController,
  ) {
    this.leaseMs = heartbeatMs * LEASE_BEATS;
  }

  /** RUNNING with a lease (and `extra`, e.g. a workflow's task records), then a beat every heartbeatMs. */
  async start(extra: Omit<ExecutionUpdate, 'phase' | 'leaseMs'> = {}): Promise<Execution> {
    const running = await this.backend.updateExecutionStatus(this.executionId, {
      ...extra,
      phase: 'RUNNING',
      leaseMs: this.leaseMs,
    });
    this.timer = setInterval(() => {
      this.checkpoint().catch(() => undefined);
    }, this.heartbeatMs);
    this.timer.unref();
    return running;
  }

  /** Heartbeats; aborts the run when the record says it was cancelled (or lost) meanwhile. */
  async checkpoint(): Promise<void> {
    if (this.controller.signal.aborted) return;
    const record = await this.backend.heartbeatExecution(this.executionId, { leaseMs: this.leaseMs });
    if (record.phase === 'CANCELLED') {
      this.controller.abort(new RunCancelled('cancelled by `stigmer execution cancel`', false));
    } else if (record.phase !== 'RUNNING' && record.phase !== 'PENDING') {
      this.controller.abort(
        new RunCancelled(`the record became ${record.phase}: ${record.error ?? ''}`, false),
      );
    }
  }

  /**
   * Records progress of a RUNNING execution (a workflow's task records), heartbeating with it.
   * When the record was cancelled (or lost) meanwhile, aborts the run instead.
   */
  async progress(update: Omit<ExecutionUpdate, 'phase' | 'leaseMs'>): Promise<void> {
    if (this.controller.signal.aborted) return;
    try {
      await this.backend.updateExecutionStatus(this.executionId, {
        ...update,
        phase: 'RUNNING',
        leaseMs: this.leaseMs,
      });
    } catch (err) {
      if (!isStigmerError(err) || err.code !== 'CONFLICT') throw err;
      await this.checkpoint();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stores a transcript as an artifact of the execution; its id, or undefined when the store failed. */
  async storeTranscript(transcript: Transcript, name: string): Promise<string | undefined> {
    try {
      const artifact = await this.backend.storeArtifact({
        executionId: this.executionId,
        name,
        contentType: 'application/json',
        data: new TextEncoder().encode(`${JSON.stringify(transcript, null, 2)}\n`),
      });
      return artifact.id;
    } catch {
      return undefined;
    }
  }

  /** Records the final phase; when a cancel got there first, records the results on it. */
  async finish(update: ExecutionUpdate): Promise<Execution> {
    this.stop();
    try {
      return await this.backend.updateExecutionStatus(this.executionId, update);
    } catch (err) {
      if (!isStigmerError(err) || err.code !== 'CONFLICT') throw err;
      const current = await this.backend.getExecution(this.executionId);
      if (current.phase !== 'CANCELLED') return current;
      const results: ExecutionUpdate = { phase: 'CANCELLED' };
      if (update.usage) results.usage = update.usage;
      if (update.transcriptArtifactId) results.transcriptArtifactId = update.transcriptArtifactId;
      if (update.tasks) results.tasks = update.tasks;
      return this.backend.updateExecutionStatus(this.executionId, results);
    }
  }
}
