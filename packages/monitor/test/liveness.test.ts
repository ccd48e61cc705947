import { describe, expect, it } from 'vitest';
import type { WorkerRegistryEntry } from '@kai-jobs/queue';
import {
  assessLiveness,
  CONFIRM_DELAY_MS,
  FailoverWatcher,
  parseClientNames,
  parseFailoverWatcherOptions,
  type LivenessInput,
  type WorkerSighting,
} from '../src/index.js';

function entry(workerId: string): WorkerRegistryEntry {
  return {
    workerId,
    clientName: `kai-worker:${workerId}`,
    host: 'host',
    pid: 1,
    startedAt: 0,
    queues: ['pdf-processing'],
    bullWorkerIds: [`${workerId}-bull`],
    lockTokenPrefixes: [`${workerId}-bull:`],
  };
}

const GRACE = 1500;

function look(overrides: Partial<LivenessInput> & { storeNow: number }): LivenessInput {
  return {
    liveNames: new Set(),
    entries: new Map([['w1', entry('w1')]]),
    heartbeats: new Map(),
    sightings: new Map(),
    observingSince: 0,
    graceMs: GRACE,
    ...overrides,
  };
}

describe('assessLiveness', () => {
  it('a worker whose name is in the client list is alive, however old its heartbeat', () => {
    const verdict = assessLiveness(look({ storeNow: 100_000, liveNames: new Set(['kai-worker:w1']), heartbeats: new Map([['w1', 1]]) }));
    expect(verdict.dead).toEqual([]);
    expect(verdict.missing).toEqual([]);
    expect(verdict.sightings.get('w1')).toEqual({ lastSeenAt: 100_000, missingSince: null, heartbeatWhenMissing: null });
  });

  it('a first sighting of a missing worker is never a verdict, even with a stale heartbeat: it is confirmed by a second look', () => {
    const first = assessLiveness(look({ storeNow: 100_000, heartbeats: new Map([['w1', 10_000]]) }));
    expect(first.dead).toEqual([]);
    expect(first.missing).toEqual([{ workerId: 'w1', goneForMs: 90_000, recheckInMs: CONFIRM_DELAY_MS }]);
    const second = assessLiveness(look({ storeNow: 100_150, heartbeats: new Map([['w1', 10_000]]), sightings: first.sightings }));
    expect(second.dead.map((dead) => [dead.entry.workerId, dead.goneForMs])).toEqual([['w1', 90_150]]);
  });

  it('dates the absence from the last sign of life: the last look that saw the name or the last heartbeat, whichever is later', () => {
    const seen = assessLiveness(look({ storeNow: 10_000, liveNames: new Set(['kai-worker:w1']), heartbeats: new Map([['w1', 9_900]]) }));
    // Heartbeat 10 200 is later than the look at 10 000: gone since 10 200.
    const gone = assessLiveness(look({ storeNow: 10_900, heartbeats: new Map([['w1', 10_200]]), sightings: seen.sightings }));
    expect(gone.missing).toEqual([{ workerId: 'w1', goneForMs: 700, recheckInMs: GRACE - 700 }]);
    const withinGrace = assessLiveness(look({ storeNow: 11_699, heartbeats: new Map([['w1', 10_200]]), sightings: gone.sightings }));
    expect(withinGrace.dead).toEqual([]);
    expect(withinGrace.missing).toEqual([{ workerId: 'w1', goneForMs: 1_499, recheckInMs: 1 }]);
    const graceOver = assessLiveness(look({ storeNow: 11_700, heartbeats: new Map([['w1', 10_200]]), sightings: withinGrace.sightings }));
    expect(graceOver.dead.map((dead) => dead.goneForMs)).toEqual([1_500]);
  });

  it('a heartbeat that moved while the name was missing restarts the observation: the process is alive', () => {
    const first = assessLiveness(look({ storeNow: 20_000, heartbeats: new Map([['w1', 10_000]]) }));
    const moved = assessLiveness(look({ storeNow: 30_000, heartbeats: new Map([['w1', 29_000]]), sightings: first.sightings }));
    expect(moved.dead).toEqual([]);
    expect(moved.sightings.get('w1')).toMatchObject({ missingSince: 30_000, heartbeatWhenMissing: 29_000 });
  });

  it('nobody is dated as gone before the watcher started looking', () => {
    const first = assessLiveness(look({ storeNow: 50_000, heartbeats: new Map([['w1', 1_000]]), observingSince: 49_000 }));
    const second = assessLiveness(look({ storeNow: 50_400, heartbeats: new Map([['w1', 1_000]]), observingSince: 49_000, sightings: first.sightings }));
    expect(second.dead).toEqual([]);
    expect(second.missing[0]?.goneForMs).toBe(1_400);
  });

  it('a worker with no heartbeat and never seen is dated from the first look that missed it', () => {
    const first = assessLiveness(look({ storeNow: 5_000 }));
    const second = assessLiveness(look({ storeNow: 6_000, sightings: first.sightings }));
    expect(second.missing).toEqual([{ workerId: 'w1', goneForMs: 1_000, recheckInMs: GRACE - 1_000 }]);
  });

  it('forgets workers that left the registry', () => {
    const sightings = new Map<string, WorkerSighting>([['gone', { lastSeenAt: 1, missingSince: null, heartbeatWhenMissing: null }]]);
    const verdict = assessLiveness(look({ storeNow: 10, liveNames: new Set(['kai-worker:w1']), sightings }));
    expect([...verdict.sightings.keys()]).toEqual(['w1']);
  });
});

describe('parseClientNames', () => {
  it('reads name= fields and counts every connection, named or not', () => {
    const reply = [
      'id=3 addr=127.0.0.1:50000 laddr=127.0.0.1:6379 fd=8 name=kai-worker:h-1-ab age=10 idle=0 flags=N db=0',
      'id=4 addr=127.0.0.1:50001 laddr=127.0.0.1:6379 fd=9 name= age=10 idle=0 flags=N db=0',
      'id=5 addr=127.0.0.1:50002 laddr=127.0.0.1:6379 fd=10 name=bull:cGRm:w:h-1-ab age=1 idle=1 flags=b db=0',
      '',
    ].join('\n');
    expect(parseClientNames(reply)).toEqual({ names: ['kai-worker:h-1-ab', 'bull:cGRm:w:h-1-ab'], clients: 3 });
  });
});

describe('FailoverWatcher options', () => {
  it('refuses a lease shorter than two check intervals and a watcher id with spaces, naming each field', () => {
    try {
      new FailoverWatcher({ checkIntervalMs: 1000, leaseMs: 1500, watcherId: 'a b' });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).name).toBe('ValidationError');
      const paths = (error as Error & { issues: { path: string }[] }).issues.map((issue) => issue.path).sort();
      expect(paths).toEqual(['leaseMs', 'watcherId']);
    }
  });

  it('defaults: on, 1.5 s grace, 1 s checks, 5 s lease, 3 restarts; a readable watcher id in the client name', () => {
    expect(parseFailoverWatcherOptions({})).toMatchObject({
      enabled: true,
      graceMs: 1500,
      checkIntervalMs: 1000,
      leaseMs: 5000,
      maxRestarts: 3,
      handBackConcurrency: 16,
      redis: { prefix: 'kai' },
    });
    expect(new FailoverWatcher({}).clientName).toMatch(/^kai-monitor:failover:\S+-\d+-[0-9a-f]{6}$/);
    expect(new FailoverWatcher({ watcherId: 'mon-1' }).clientName).toBe('kai-monitor:failover:mon-1');
  });
});
