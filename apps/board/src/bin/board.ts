#!/usr/bin/env tsx
/**
 * `kai-jobs-board`: the board as a process. Reads the environment (see the README), logs
 * JSON to stdout, stops gracefully on SIGTERM/SIGINT. Exits 1 when the configuration is
 * unusable (e.g. no credentials), with a log line saying what to set.
 */
import { createLogger, isKaiJobsError, SupabaseStatusStore, toError } from '@kai-jobs/queue';
import { installShutdownSignals } from '@kai-jobs/workers';
import { boardOptionsFromEnv } from '../env.js';
import { startBoard } from '../start-board.js';

const logger = createLogger({ base: { service: 'board' }, level: process.env['LOG_LEVEL'] === 'debug' ? 'debug' : 'info' });

async function main(): Promise<void> {
  const { options, statusStore: storeChoice } = boardOptionsFromEnv(process.env);
  const statusStore =
    storeChoice.kind === 'supabase' ? new SupabaseStatusStore({ ...storeChoice.options, logger }) : undefined;
  const running = await startBoard({ ...options, logger, ...(statusStore === undefined ? {} : { statusStore }) });
  installShutdownSignals(
    {
      async shutdown() {
        await running.close();
        await statusStore?.close();
      },
    },
    logger,
  );
}

main().catch(async (error: unknown) => {
  const err = toError(error);
  logger.error(isKaiJobsError(error) && error.code === 'CONFIG' ? 'board not started: configuration refused' : 'board failed to start', {
    error: err.message,
    code: isKaiJobsError(error) ? error.code : undefined,
  });
  await logger.flush();
  process.exit(1);
});
