import type { MonitorDecision } from '@kai-jobs/monitor';
import type { CommandSpec } from '../cli/command.js';
import { CommandFailedError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { sharedJobStore } from '../config/shared-store-set.js';
import { formatDuration, formatTable, writeJson, writeLines } from '../output/format.js';
import { createCommandLogger } from '../run/logging.js';
import { untilStopped } from '../run/until-stopped.js';

function decisionRows(decisions: readonly MonitorDecision[]): string[] {
  if (decisions.length === 0) return ['no stuck-work candidates'];
  return formatTable(
    ['job', 'type', 'action', 'applied', 'reason', 'bullmq', 'stuck for', 'why'],
    decisions.map((d) => [d.jobId, d.type, d.action, d.applied === false ? 'no (another monitor won)' : 'yes', d.reason, d.classification, formatDuration(d.stuckForMs), d.why]),
  );
}

/** `kai-jobs monitor` — the monitor process, or one tick with `--once`. */
export const monitorCommand: CommandSpec = {
  name: 'monitor',
  summary: 'run the monitor until SIGTERM, or one tick now with --once (printing its decisions)',
  usage: 'monitor [--once] [--json]',
  description:
    'Without --once: runs the monitor — a tick every MONITOR_CHECK_INTERVAL_MS on the job-monitor queue (any number of ' +
    'replicas give one tick per interval), BullMQ stalled events, Sentry alerts (SENTRY_DSN) or the log — until SIGTERM. ' +
    'With --once: runs one tick now, prints every decision (restart, fail, re-add, leave) with its reason, and exits ' +
    '(1 if the tick failed). Thresholds come from the monitor\'s environment variables.',
  handlesSignals: true,
  positionals: [],
  options: { once: { type: 'boolean', description: 'run one tick now and print its decisions' } },
  examples: ['kai-jobs monitor --once', 'kai-jobs monitor --once --json | jq ".decisions[] | {jobId, action, why}"', 'MONITOR_CHECK_INTERVAL_MS=30000 kai-jobs monitor'],
  async run({ io, json }, args) {
    const logger = createCommandLogger(io.env, io.stderr, 'kai-monitor', json);
    const stores = sharedJobStore(io.env, logger);
    // Imported here, not at the top: @kai-jobs/monitor loads the Sentry SDK, which the other commands do not need.
    const { createMonitorService } = await import('../run/monitor-service.js');
    const service = createMonitorService(io.env, logger, stores);
    try {
      if (args.flag('once')) {
        let result;
        try {
          result = await service.monitor.runOnce();
        } catch (error) {
          throw new CommandFailedError(`the monitor tick failed: ${(error as Error).message}`, { cause: error });
        }
        if (json) writeJson(io.stdout, result);
        else {
          const s = result.summary;
          writeLines(io.stdout, [
            `tick by ${s.monitorId}: ${s.candidates} candidates, ${s.restarted} restarted, ${s.failed} failed, ${s.readded} re-added, ${s.left} left, ${s.failureAlerts} failure alerts (${formatDuration(s.durationMs)})`,
            ...decisionRows(result.decisions),
          ]);
        }
        return ExitCode.Ok;
      }
      await service.monitor.start();
      const ready = { ready: true, monitorId: service.monitor.monitorId, checkIntervalMs: service.config.monitor.checkIntervalMs ?? 60_000, sentry: service.alerter.sendsToSentry };
      logger.info('monitor ready', ready);
      if (json) writeJson(io.stdout, ready);
      else writeLines(io.stdout, [`monitor ${ready.monitorId} ready: a tick every ${formatDuration(ready.checkIntervalMs)}, alerts to ${ready.sentry ? 'Sentry' : 'the log'} (Ctrl-C stops it)`]);
      await untilStopped(io.stopSignal);
      logger.info('stopping the monitor', {});
      return ExitCode.Ok;
    } finally {
      await service.close();
      await stores?.close();
      await logger.flush();
    }
  },
};
