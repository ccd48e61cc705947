import { scrubSecrets, silentLogger, toError, type Logger } from '@kai-jobs/queue';

/** What {@link createFatalReporter} needs: the worker's Sentry settings (`SENTRY_*`). */
export interface FatalReporterOptions {
  /** The DSN (a secret, from the environment); null or empty: nothing is sent, the log keeps it. */
  dsn: string | null | undefined;
  environment: string;
  release?: string | undefined;
  /** The `service` tag of the event, as the other entry points tag theirs. Default `kai-worker`. */
  service?: string;
  /** How long the send may take before the process exits anyway (ms). Default 5000. */
  sendTimeoutMs?: number;
  logger?: Logger;
}

/** Reports an error that ends the worker process. */
export interface FatalReporter {
  /** Sends `error` as a `fatal` Sentry event tagged `service` (and `tags`), and waits for it to leave. Never throws. */
  reportFatal(error: unknown, tags?: Record<string, string>): Promise<void>;
}

/**
 * The worker bin's fatal reporter: the same `fatal` event, `service` tag and scrubbing as the
 * module-level `captureException` the other entry points install from `@kai-jobs/monitor` — which
 * the workers package may not import (workers and monitor never depend on each other). A
 * dedicated `NodeClient`, never `Sentry.init`; `@sentry/node` is loaded only when an error is
 * reported with a DSN set.
 */
export function createFatalReporter(options: FatalReporterOptions): FatalReporter {
  const logger = options.logger ?? silentLogger;
  const timeoutMs = options.sendTimeoutMs ?? 5000;
  return {
    async reportFatal(error, tags = {}) {
      const dsn = options.dsn?.trim();
      if (!dsn) return;
      try {
        const { NodeClient, makeNodeTransport, defaultStackParser, Scope } = await import('@sentry/node');
        const client = new NodeClient({
          dsn,
          environment: options.environment,
          ...(options.release ? { release: options.release } : {}),
          transport: makeNodeTransport,
          stackParser: defaultStackParser,
          integrations: [],
          sendClientReports: false,
          beforeSend: (event) => scrubSecrets(event),
        });
        const scope = new Scope();
        scope.setClient(client);
        scope.setLevel('fatal');
        scope.setTags({ service: options.service ?? 'kai-worker', ...tags });
        client.captureException(toError(error), {}, scope);
        await client.close(timeoutMs);
      } catch (sendError) {
        logger.warn('could not report the fatal error to Sentry', { error: toError(sendError).message });
      }
    },
  };
}
