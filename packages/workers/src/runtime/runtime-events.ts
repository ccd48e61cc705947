import { EventEmitter } from 'node:events';
import type { JobType } from '@kai-jobs/queue';

/** Every event the worker runtime emits, `noun:verb`, with its payload. */
export interface RuntimeEventMap {
  'job:started': { jobId: string; type: JobType; attempt: number; restartCount: number; resumeIndex: number; workerId: string };
  /** `percent`: the job's overall 0–100 at the start of the stage. */
  'stage:started': { jobId: string; type: JobType; stage: string; attempt: number; workerId: string; percent: number };
  'stage:completed': { jobId: string; type: JobType; stage: string; attempt: number; workerId: string };
  'job:completed': { jobId: string; type: JobType; attempt: number; workerId: string; maxUpdateGapMs: number };
  'job:failed': { jobId: string; type: JobType; stage: string | null; error: string; workerId: string };
  /**
   * An attempt failed with a retryable error and BullMQ retries the job: `attempt` is BullMQ's
   * attempt that failed (1-based), `attempts` BullMQ's limit, `delayMs` the backoff before the
   * next one as the queue's policy computes it (null when it could not be computed).
   */
  'job:retrying': { jobId: string; type: JobType; stage: string | null; error: string; attempt: number; attempts: number; delayMs: number | null; workerId: string };
  'job:handed-back': { jobId: string; type: JobType; reason: 'shutdown' | 'restart'; stage: string | null; workerId: string };
  'job:lost': { jobId: string; type: JobType; stage: string | null; workerId: string };
  'heartbeat:written': { jobs: number; lagMs: number };
  'worker:error': { queue: string; error: Error };
}

/** A typed event bus for {@link RuntimeEventMap}. */
export class RuntimeEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<K extends keyof RuntimeEventMap>(event: K, payload: RuntimeEventMap[K]): void {
    this.emitter.emit(event, payload);
  }

  on<K extends keyof RuntimeEventMap>(event: K, listener: (payload: RuntimeEventMap[K]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
}
