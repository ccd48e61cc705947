import type { Logger } from '@kai-jobs/queue';

/** Something with a graceful `shutdown()`. */
export interface GracefullyStoppable {
  shutdown(): Promise<void>;
}

/**
 * SIGTERM or SIGINT → graceful shutdown, then exit 0 (1 if shutting down failed). A second
 * signal exits at once with 130. Used by the worker, monitor and all-in-one entry points.
 */
export function installShutdownSignals(
  target: GracefullyStoppable,
  logger: Logger,
  exit: (code: number) => void = (code) => process.exit(code),
): () => void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      logger.warn('second signal: exiting now', { signal });
      exit(130);
      return;
    }
    signalled = true;
    logger.info('signal received: shutting down gracefully', { signal });
    target.shutdown().then(
      async () => {
        await logger.flush();
        exit(0);
      },
      async (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        await logger.flush();
        exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  };
}
