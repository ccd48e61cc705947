import { toError, type Logger } from '@kai-jobs/queue';
import { Router } from 'express';
import { MONITORING_CSP } from '../http/security-headers.js';
import { loadMonitoringSnapshot, type MonitoringDeps } from './monitoring-data.js';
import { renderMonitoringPage, renderMonitoringUnavailable, type MonitoringPageOptions } from './monitoring-page.js';

/** `/monitoring`: the server-rendered monitoring page; 503 (still self-refreshing) when Redis fails. */
export function createMonitoringRouter(deps: MonitoringDeps, page: MonitoringPageOptions, logger: Logger): Router {
  const router = Router();
  router.get('/monitoring', (_req, res) => {
    res.set({ 'Content-Security-Policy': MONITORING_CSP, 'Cache-Control': 'no-store' }).type('html');
    loadMonitoringSnapshot(deps).then(
      (snapshot) => res.send(renderMonitoringPage(snapshot, page)),
      (error: unknown) => {
        logger.warn('monitoring page: reading the data failed', { error: toError(error).message });
        res.status(503).send(renderMonitoringUnavailable('Redis (or the status store) did not answer.', page));
      },
    );
  });
  return router;
}
