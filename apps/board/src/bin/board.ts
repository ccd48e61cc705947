#!/usr/bin/env tsx
/**
 * `kai-jobs-board`: the board as a process. Reads the environment (see the README), logs
 * JSON to stdout, stops gracefully on SIGTERM/SIGINT. Exits 1 when the configuration is
 * unusable (e.g. no credentials), with a log line saying what to set.
 */
import { installProcessAlerter, parseSentryEnv, type ProcessAlerter } from '@kai-jobs/monitor';
import { createJobStore, createLogger, isKaiJobsError, toError } from '@kai-jobs/queue';
import { installShutdownSignals } from '@kai-jobs/workers';
import { boardOptionsFromEnv } from '../env.js';
import { startBoard } from '../start-board.js';

const logger = createLogger({ base: { service: 'board' }, level: process.env['LOG_LEVEL'] === 'debug' ? 'debug' : 'info' });

// The module-level captureException/captureMessage of @kai-jobs/monitor report to SENTRY_DSN.
let alerts: ProcessAlerter | null = null;

async function main(): Promise<void> {
  alerts = installProcessAlerter({ service: 'board', sentry: parseSentryEnv(process.env), logger });
  const fatal = (error: unknown): void => {
    logger.error('uncaught error: the board stops', { error: toError(error).stack ?? toError(error).message });
    void (alerts?.reportFatal(error, { uncaught: 'true' }) ?? Promise.resolve()).finally(() => process.exit(1));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  const { options, statusStore: storeChoice } = boardOptionsFromEnv(process.env);
  const statusStore =
    storeChoice.kind === 'supabase' ? createJobStore({ kind: 'supabase', ...storeChoice.options, logger }) : undefined;
  const running = await startBoard({ ...options, logger, ...(statusStore === undefined ? {} : { statusStore }) });
  installShutdownSignals(
    {
      async shutdown() {
        await running.close();
        await statusStore?.close();
        await alerts?.close();
      },
    },
    logger,
  );
}

main().catch(async (error: unknown) => {
  const err = toError(error);
  // A configuration mistake is the operator's to fix from the log; anything else is an alert.
  if (!(isKaiJobsError(error) && error.code === 'CONFIG')) await alerts?.reportFatal(err);
  await alerts?.close();
  logger.error(isKaiJobsError(error) && error.code === 'CONFIG' ? 'board not started: configuration refused' : 'board failed to start', {
    error: err.message,
    code: isKaiJobsError(error) ? error.code : undefined,
  });
  await logger.flush();
  process.exit(1);
});
