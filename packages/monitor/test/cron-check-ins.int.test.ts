/**
 * Sentry Crons check-ins: the schedule sent matches the interval the monitor really ticks at,
 * and a tick's `ok`/`error` never reaches Sentry before its `in_progress` (the local receiver
 * parks the `in_progress` like a slow Sentry; what it records is the order Sentry would see).
 */
import { useRedisTestContext, waitFor } from '@kai-jobs/queue/testing';
import { describe, expect, it } from 'vitest';
import { Alerter, createMonitor, cronIntervalMinutes } from '../src/index.js';
import { startSentryReceiver } from '../src/testing.js';

describe('cronIntervalMinutes: the Crons interval of the real tick schedule', () => {
  const table: [number, number][] = [
    [500, 1],
    [30_000, 1],
    [60_000, 1],
    [61_000, 2],
    [89_000, 2], // Math.round gave 1: Sentry expected a check-in every minute, ticks came every 89 s
    [90_000, 2],
    [120_000, 2],
    [150_000, 3],
    [300_000, 5],
    [3_600_000, 60],
  ];
  for (const [ms, minutes] of table) {
    it(`${ms} ms → every ${minutes} min`, () => expect(cronIntervalMinutes(ms)).toBe(minutes));
  }
  it('refuses an interval that is not a positive number', () => {
    expect(() => cronIntervalMinutes(0)).toThrow(/positive/);
    expect(() => cronIntervalMinutes(Number.NaN)).toThrow(/positive/);
  });
});

describe('Crons check-ins in order', () => {
  const ctx = useRedisTestContext(import.meta.url);

  it("an ok is sent only once its in_progress was answered, even when Sentry takes the in_progress slowly", async () => {
    const receiver = ctx.manage('receiver', await startSentryReceiver({ holdInProgressCheckIns: true }));
    const alerter = new Alerter({ dsn: receiver.dsn });
    const monitor = ctx.track('monitor', createMonitor({ redis: ctx.redisOptions, checkIntervalMs: 90_000, alerter }));
    await monitor.runOnce();
    // The in_progress is parked at the receiver; the tick's ok is either on the wire too (it would
    // be recorded first) or held by the alerter until the in_progress is answered.
    await waitFor(() => receiver.held === 1 && (receiver.checkIns.length > 0 || alerter.heldCheckInCount === 1), { message: 'neither held nor sent' });
    receiver.releaseHeld();
    const checkIns = await receiver.waitForCheckIns(2);
    expect(checkIns.map((checkIn) => checkIn.status)).toEqual(['in_progress', 'ok']);
    expect(checkIns[1]?.check_in_id).toBe(checkIns[0]?.check_in_id);
    // The schedule sent is the one the monitor ticks at: 90 s → every 2 minutes.
    expect(checkIns[0]?.monitor_config).toMatchObject({ schedule: { type: 'interval', value: 2, unit: 'minute' } });
    await monitor.close();
    await alerter.close();
  });
});
