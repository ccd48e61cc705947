import { loadLuaScripts, ScriptSet, type Clock, type RedisClient } from '@kai-jobs/queue';
import type { FailoverLeaseKeys } from '../keys.js';

const scripts = new ScriptSet('kaiFailoverLease', loadLuaScripts(new URL('../lua/', import.meta.url)));

/**
 * Share of the lease a holder trusts by its own clock after a renewal. The rest covers the
 * renewal's round trip and the rate drift between this process's clock and Redis's.
 */
const LOCAL_TRUST_RATIO = 0.8;

/** One term of leadership. */
export interface LeaseTerm {
  /** The fencing epoch: grows by one each time any watcher takes the lease. */
  readonly epoch: number;
  /** The lease's value while this term holds it (`<epoch>|<holder>`). */
  readonly value: string;
  /** This process's clock (ms) until which it may act without renewing. */
  validUntil: number;
}

/** What {@link LeaderLease} needs. */
export interface LeaderLeaseDeps {
  redis: RedisClient;
  keys: FailoverLeaseKeys;
  /** Who is asking (the watcher id). */
  holderId: string;
  leaseMs: number;
  clock: Clock;
}

/**
 * The failover watcher's leader lease: `SET NX PX` with a fencing epoch, renewed by
 * compare-and-extend. A holder trusts its term only until {@link LeaseTerm.validUntil} by its
 * own clock, which is counted from *before* the renewal was sent; so a process that was paused
 * longer than the lease finds its term invalid on waking, before it sends anything, and its
 * next renewal fails because the lease expired or another epoch holds it.
 */
export class LeaderLease {
  private current: LeaseTerm | null = null;

  constructor(private readonly deps: LeaderLeaseDeps) {}

  /** The term this process holds, or null. */
  get term(): LeaseTerm | null {
    return this.current;
  }

  /** True while this process holds a term it may still act on by its own clock. */
  isLocallyValid(): boolean {
    return this.current !== null && this.deps.clock.now() < this.current.validUntil;
  }

  /** Renews the held term, or takes the lease if free; resolves with the term held now (null: another holds it). */
  async hold(): Promise<LeaseTerm | null> {
    if (this.current !== null && (await this.renew())) return this.current;
    const sentAt = this.deps.clock.now();
    const [taken, value] = (await scripts.run(
      this.deps.redis,
      'lease-acquire',
      [this.deps.keys.lease, this.deps.keys.epoch],
      [this.deps.holderId, this.deps.leaseMs],
    )) as [number, number | string];
    if (taken !== 1) {
      this.current = null;
      return null;
    }
    const epoch = Number(value);
    this.current = { epoch, value: `${epoch}|${this.deps.holderId}`, validUntil: this.validFrom(sentAt) };
    return this.current;
  }

  /** Extends the held term; false (and the term is dropped) when it expired or another epoch holds the lease. */
  async renew(): Promise<boolean> {
    const term = this.current;
    if (term === null) return false;
    const sentAt = this.deps.clock.now();
    const extended = Number(
      await scripts.run(this.deps.redis, 'lease-renew', [this.deps.keys.lease], [term.value, this.deps.leaseMs]),
    );
    if (extended === 1 && this.current === term) {
      term.validUntil = this.validFrom(sentAt);
      return true;
    }
    if (this.current === term) this.current = null;
    return false;
  }

  /** Gives the lease up (another watcher takes it at its next check instead of after the lease). */
  async release(): Promise<void> {
    const term = this.current;
    this.current = null;
    if (term !== null) await scripts.run(this.deps.redis, 'lease-release', [this.deps.keys.lease], [term.value]);
  }

  /** Forgets the term without telling Redis (the connection is gone; the lease expires by itself). */
  forget(): void {
    this.current = null;
  }

  private validFrom(sentAt: number): number {
    return sentAt + Math.floor(this.deps.leaseMs * LOCAL_TRUST_RATIO);
  }
}
