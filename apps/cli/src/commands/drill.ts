import type { CommandSpec } from '../cli/command.js';
import { ExitCode } from '../cli/exit-codes.js';
import { sharedJobStore } from '../config/shared-store-set.js';
import { formatDuration, writeJson, writeLines } from '../output/format.js';
import { createCommandLogger } from '../run/logging.js';

/** `kai-jobs drill` — the recovery drill. */
export const drillCommand: CommandSpec = {
  name: 'drill',
  summary: 'recovery drill: a canary PDF hangs, must be detected, restarted from its checkpoint and complete',
  usage: 'drill [--timeout-ms ms] [--update-timeout-ms ms] [--scheduled] [--json]',
  description:
    'Proves that recovery works end to end on a live deployment: enqueues a tiny canary PDF job that hangs once in its ' +
    'second stage, with a per-job update timeout of a few seconds; checks that the monitor detects it, restarts it from ' +
    'its first checkpoint, and that it completes. Needs a running PDF worker. Exit 0 when the drill passes, 1 when it ' +
    'fails (the reason and the timings are printed). Run it periodically (cron, CI against staging).',
  positionals: [],
  options: {
    'timeout-ms': { type: 'string', valueName: 'ms', value: { kind: 'int', min: 1000 }, description: 'fail the drill after this long (default 120000)' },
    'update-timeout-ms': { type: 'string', valueName: 'ms', value: { kind: 'int', min: 100 }, description: 'the canary\'s stuck threshold (default 3000)' },
    scheduled: { type: 'boolean', description: 'wait for the deployed monitor\'s scheduled ticks instead of running ticks itself' },
  },
  examples: ['kai-jobs drill', 'kai-jobs drill --scheduled --timeout-ms 300000', 'kai-jobs drill --json | jq .timings'],
  async run({ io, json }, args) {
    const timeoutMs = args.int('timeout-ms', { min: 1000 });
    const updateTimeoutMs = args.int('update-timeout-ms', { min: 100 });
    const logger = createCommandLogger({ LOG_LEVEL: 'warn', ...io.env }, io.stderr, 'kai-drill', json);
    const stores = sharedJobStore(io.env, logger);
    // Imported here, not at the top: @kai-jobs/monitor loads the Sentry SDK, which the other commands do not need.
    const { createMonitorService } = await import('../run/monitor-service.js');
    const service = createMonitorService(io.env, logger, stores);
    try {
      if (!json) io.stdout.write('drill: enqueuing a canary PDF that hangs once in text_extracted…\n');
      const result = await service.monitor.drill({
        ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(updateTimeoutMs === undefined ? {} : { updateTimeoutMs }),
        driveTicks: !args.flag('scheduled'),
      });
      if (json) writeJson(io.stdout, result);
      else {
        writeLines(io.stdout, [
          ...result.steps.map((step) => `  ${formatDuration(step.atMs).padStart(8)}  ${step.step}${step.detail ? `  ${step.detail}` : ''}`),
          result.passed
            ? `drill passed: detected in ${formatDuration(result.timings.detectionMs)}, recovered in ${formatDuration(result.timings.recoveryMs)} (job ${result.jobId})`
            : `drill FAILED: ${result.failure} (job ${result.jobId}; kai-jobs status ${result.jobId})`,
        ]);
      }
      return result.passed ? ExitCode.Ok : ExitCode.Failed;
    } finally {
      await service.close();
      await stores?.close();
      await logger.flush();
    }
  },
};
