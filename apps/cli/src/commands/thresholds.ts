import type { GapAdvice } from '@kai-jobs/monitor';
import { JOB_TYPES } from '@kai-jobs/queue';
import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliEnv } from '../config/cli-env.js';
import { withSystem } from '../config/system.js';
import { formatDuration, formatTable, writeJson, writeLines } from '../output/format.js';

function adviceRow(type: string, check: string, gap: GapAdvice): string[] {
  return [
    type,
    check,
    gap.configuredMs === null ? 'off' : formatDuration(gap.configuredMs),
    String(gap.samples),
    formatDuration(gap.p50Ms),
    formatDuration(gap.p95Ms),
    formatDuration(gap.p99Ms),
    formatDuration(gap.maxMs),
    String(gap.wouldFlag),
    gap.headroom === null ? '-' : `${gap.headroom.toFixed(1)}×`,
  ];
}

/** `kai-jobs thresholds` — the threshold advice table. */
export const thresholdsCommand: CommandSpec = {
  name: 'thresholds',
  summary: 'compare the stuck-job thresholds with the gaps finished jobs really had',
  usage: 'thresholds [--window-hours n] [--json]',
  description:
    'For each job type, puts the monitor\'s configured heartbeat and update timeouts beside the largest gaps between ' +
    'updates (and heartbeats) that finished jobs had over the window: p50, p95, p99, max, how many jobs a threshold ' +
    'would have flagged as stuck, and the headroom (threshold / p99). A threshold under the p99 flags healthy jobs; ' +
    'one far above it finds stuck jobs late. Tune with PDF_UPDATE_TIMEOUT_MS, SCRAPE_UPDATE_TIMEOUT_MS, ….',
  positionals: [],
  options: { 'window-hours': { type: 'string', valueName: 'n', value: { kind: 'int', min: 1, max: 14 * 24 }, description: 'how far back to look (default 24)' } },
  examples: ['kai-jobs thresholds', 'kai-jobs thresholds --window-hours 168 --json'],
  async run({ io, json }, args) {
    const windowMs = (args.int('window-hours', { min: 1, max: 14 * 24 }) ?? 24) * 3_600_000;
    // Imported here, not at the top: @kai-jobs/monitor loads the Sentry SDK, which the other commands do not need.
    const [{ MetricsReader }, { monitorSettings }] = await Promise.all([import('@kai-jobs/monitor'), import('../config/monitor-settings.js')]);
    const settings = monitorSettings(io.env);
    return withSystem(parseCliEnv(io.env), async (system) => {
      const reader = new MetricsReader({ connection: system.redis, prefix: system.config.redis.prefix });
      const advice = [];
      for (const type of JOB_TYPES) {
        const configured = settings.types[type];
        advice.push(
          await reader.thresholdAdvice({
            type,
            windowMs,
            configured: { heartbeatTimeoutMs: configured.heartbeatTimeoutMs, updateTimeoutMs: configured.updateTimeoutMs },
          }),
        );
      }
      if (json) {
        writeJson(io.stdout, { windowMs, advice });
        return ExitCode.Ok;
      }
      writeLines(io.stdout, [
        `threshold advice over the last ${formatDuration(windowMs)} (gaps = the largest gap of each finished job)`,
        ...formatTable(
          ['type', 'check', 'threshold', 'jobs', 'p50', 'p95', 'p99', 'max', 'would flag', 'headroom'],
          advice.flatMap((a) => [adviceRow(a.type, 'update', a.update), adviceRow(a.type, 'heartbeat', a.heartbeat)]),
        ),
        ...advice.filter((a) => a.truncated).map((a) => `note: ${a.type}: only the newest jobs of the window are sampled`),
      ]);
      return ExitCode.Ok;
    });
  },
};
