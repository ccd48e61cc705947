import { describe, expect, it } from 'vitest';
import { parseDurationMs, parseRetentionEnv, storeRetentionOptions } from '../src/index.js';

describe('parseDurationMs', () => {
  it('reads whole numbers with a unit, or bare milliseconds', () => {
    expect(parseDurationMs('250')).toBe(250);
    expect(parseDurationMs('500ms')).toBe(500);
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('15m')).toBe(900_000);
    expect(parseDurationMs('12h')).toBe(43_200_000);
    expect(parseDurationMs(' 7d ')).toBe(604_800_000);
  });

  it('refuses anything else', () => {
    for (const text of ['', '7 d', '1.5h', '-1s', '7w', 'd', '99999999999999999d']) expect(parseDurationMs(text), text).toBeNull();
  });
});

describe('parseRetentionEnv', () => {
  it('leaves unset variables out, so each component keeps its default', () => {
    expect(parseRetentionEnv({})).toEqual({ retention: {}, problems: [] });
  });

  it('reads every variable', () => {
    const { retention, problems } = parseRetentionEnv({
      KAI_RETENTION_FINISHED: '3d',
      KAI_RETENTION_CHECKPOINTS: '2d',
      KAI_RETENTION_HISTORY_ENTRIES: '50',
      KAI_RETENTION_ARTIFACTS_COMPLETED: '1h',
      KAI_RETENTION_ARTIFACTS_FAILED: '2d',
      KAI_RETENTION_ARTIFACTS_ORPHAN: '0',
      KAI_ARTIFACT_SWEEP_INTERVAL: '5m',
    });
    expect(problems).toEqual([]);
    expect(retention).toEqual({
      finishedRetentionMs: 3 * 86_400_000,
      checkpointRetentionMs: 2 * 86_400_000,
      maxHistoryEntries: 50,
      artifactsCompletedMs: 3_600_000,
      artifactsFailedMs: 2 * 86_400_000,
      artifactOrphanGraceMs: 0,
      artifactSweepIntervalMs: 300_000,
    });
    expect(storeRetentionOptions(retention)).toEqual({ finishedRetentionMs: 3 * 86_400_000, checkpointRetentionMs: 2 * 86_400_000, maxHistoryEntries: 50 });
  });

  it('names every bad variable at once', () => {
    const { problems } = parseRetentionEnv({ KAI_RETENTION_FINISHED: '0', KAI_RETENTION_CHECKPOINTS: 'a week', KAI_RETENTION_HISTORY_ENTRIES: '5' });
    expect(problems).toEqual([
      'KAI_RETENTION_FINISHED: expected a duration such as 30s, 15m, 12h, 7d or a whole number of milliseconds above 0, got "0"',
      'KAI_RETENTION_CHECKPOINTS: expected a duration such as 30s, 15m, 12h, 7d or a whole number of milliseconds above 0, got "a week"',
      'KAI_RETENTION_HISTORY_ENTRIES: expected a whole number from 10 to 10000, got "5"',
    ]);
  });
});
