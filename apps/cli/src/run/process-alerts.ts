import { installProcessAlerter, parseSentryEnv, type ProcessAlerter } from '@kai-jobs/monitor';
import { toError } from '@kai-jobs/queue';
import type { Environment } from '../config/cli-env.js';

/**
 * Installs the process-wide alerter of a long-running command (SENTRY_DSN; the log only
 * without it), so the module-level `captureException`/`captureMessage` of @kai-jobs/monitor
 * report, and reports an uncaught error before exiting 1. Throws ConfigError for a malformed
 * SENTRY_DSN.
 */
export function installCliAlerts(env: Environment, command: string, exit: (code: number) => void): ProcessAlerter {
  const alerts = installProcessAlerter({ service: 'kai-jobs', sentry: parseSentryEnv(env) });
  const fatal = (error: unknown): void => {
    process.stderr.write(`kai-jobs: uncaught error: ${toError(error).stack ?? toError(error).message}\n`);
    void alerts.reportFatal(error, { command, uncaught: 'true' }).finally(() => exit(1));
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  return alerts;
}
