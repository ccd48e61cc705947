import { toError, type Logger, type RedisClient } from '@kai-jobs/queue';
import { Router } from 'express';

/** What {@link createHealthRouter} needs. */
export interface HealthDeps {
  connection: RedisClient;
  logger: Logger;
  /** A PING slower than this is "not ready" (ms). */
  timeoutMs: number;
}

/** Resolves when Redis answers PING within `timeoutMs`; rejects otherwise. */
export async function pingRedis(connection: RedisClient, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/healthz` (the process answers) and `/readyz` (Redis answers PING; 503 otherwise).
 * Both are open — orchestrators probe without credentials — so they say nothing more
 * than ok or not.
 */
export function createHealthRouter(deps: HealthDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    res.set('Cache-Control', 'no-store');
    pingRedis(deps.connection, deps.timeoutMs).then(
      () => res.json({ status: 'ok', checks: { redis: 'ok' } }),
      (error: unknown) => {
        deps.logger.warn('readiness: Redis unreachable', { error: toError(error).message });
        res.status(503).json({ status: 'unavailable', checks: { redis: 'unreachable' } });
      },
    );
  });
  return router;
}
