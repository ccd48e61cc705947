import type { PrometheusExporter } from '@kai-jobs/monitor';
import { toError, type Logger } from '@kai-jobs/queue';
import { Router } from 'express';

/** `/metrics`: the Prometheus exposition of the kai-jobs metrics (behind auth); 503 when Redis fails. */
export function createMetricsRouter(exporter: PrometheusExporter, logger: Logger): Router {
  const router = Router();
  router.get('/metrics', (_req, res) => {
    exporter.metrics().then(
      (text) => {
        // Written as is: Express's send() would reorder the exporter's content type.
        res.setHeader('Content-Type', exporter.contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(text);
      },
      (error: unknown) => {
        logger.warn('metrics: reading Redis failed', { error: toError(error).message });
        res.status(503).type('text/plain').send('metrics unavailable: Redis is unreachable\n');
      },
    );
  });
  return router;
}
