import { EventEmitter } from 'node:events';

/** Every event the failover watcher emits, `noun:verb`, with its payload. */
export interface FailoverEventMap {
  /** This watcher took the leader lease (a new fencing epoch). */
  'leader:acquired': { watcherId: string; epoch: number };
  /** This watcher lost (or gave up) the lease. */
  'leader:lost': { watcherId: string; epoch: number };
  /** A registered worker was found dead. */
  'worker:dead': { workerId: string; goneForMs: number; epoch: number };
  /** A job of a dead worker was handed back to its queue. */
  'job:failed-over': { jobId: string; workerId: string; queue: string; stage: string | null; goneForMs: number; epoch: number };
  /** A pass failed (Redis unreachable, …); the next one runs at the usual interval. */
  'pass:failed': { error: Error };
}

/** A typed event bus for {@link FailoverEventMap}. */
export class FailoverEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(100);
  }

  emit<K extends keyof FailoverEventMap>(event: K, payload: FailoverEventMap[K]): void {
    this.emitter.emit(event, payload);
  }

  on<K extends keyof FailoverEventMap>(event: K, listener: (payload: FailoverEventMap[K]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
}
