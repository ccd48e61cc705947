import { ConfigError, silentLogger, toError, type Logger } from '@kai-jobs/queue';
import { z } from 'zod';
import { Alerter } from './alerter.js';
import { captureException, installAlerter } from './default-alerter.js';

/** The Sentry variables every entry point reads. */
export const SentryEnvSchema = z.object({
  /** The DSN (a secret). Unset or empty: alerts and captures go to the log only. */
  SENTRY_DSN: z.string().optional(),
  /** Default `production`. */
  SENTRY_ENVIRONMENT: z.string().min(1).default('production'),
  SENTRY_RELEASE: z.string().min(1).optional(),
});

/** The Sentry settings of a process. */
export interface SentryEnv {
  dsn: string | undefined;
  environment: string;
  release: string | undefined;
}

/** Reads SENTRY_DSN, SENTRY_ENVIRONMENT, SENTRY_RELEASE from `env`; throws ConfigError naming the variable. */
export function parseSentryEnv(env: Record<string, string | undefined>): SentryEnv {
  const result = SentryEnvSchema.safeParse(env);
  if (!result.success) {
    throw new ConfigError(`invalid Sentry environment:\n  - ${result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('\n  - ')}`);
  }
  const dsn = result.data.SENTRY_DSN?.trim();
  return { dsn: dsn === '' ? undefined : dsn, environment: result.data.SENTRY_ENVIRONMENT, release: result.data.SENTRY_RELEASE };
}

/** The process-wide alerter an entry point installed. */
export interface ProcessAlerter {
  readonly alerter: Alerter;
  /**
   * Reports an error that ends the process (a failed start, an uncaught exception) through the
   * module-level `captureException`, tagged with the service, and waits for it to be sent.
   */
  reportFatal(error: unknown, tags?: Record<string, string>): Promise<void>;
  /** Uninstalls the alerter and, when this handle created it, flushes and closes it. Idempotent. */
  close(): Promise<void>;
}

/** Options of {@link installProcessAlerter}. */
export interface ProcessAlerterOptions {
  /** The `service` tag of every capture (`kai-worker`, `kai-monitor`, `board`, `kai-jobs`). */
  service: string;
  /** An alerter the process already has (the monitor's); else one is built from `sentry`. */
  alerter?: Alerter;
  /** Sentry settings, e.g. from {@link parseSentryEnv}; required without `alerter`. */
  sentry?: SentryEnv;
  logger?: Logger;
}

/**
 * Installs the process-wide alerter behind the module-level `captureException` and
 * `captureMessage`, so any code of the process can report (they return null until an entry
 * point calls this). Every entry point calls it once at start, before anything can fail.
 */
export function installProcessAlerter(options: ProcessAlerterOptions): ProcessAlerter {
  const owned = options.alerter === undefined;
  let alerter: Alerter;
  if (options.alerter !== undefined) {
    alerter = options.alerter;
  } else {
    const sentry = options.sentry ?? { dsn: undefined, environment: 'production', release: undefined };
    alerter = new Alerter({
      ...(sentry.dsn ? { dsn: sentry.dsn } : {}),
      environment: sentry.environment,
      ...(sentry.release ? { release: sentry.release } : {}),
      logger: options.logger ?? silentLogger,
    });
  }
  installAlerter(alerter);
  let closing: Promise<void> | undefined;
  return {
    alerter,
    async reportFatal(error, tags = {}) {
      captureException(toError(error), { tags: { service: options.service, ...tags }, level: 'fatal' });
      await alerter.flush();
    },
    close() {
      closing ??= (async () => {
        installAlerter(null);
        if (owned) await alerter.close();
      })();
      return closing;
    },
  };
}
