import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express } from 'express';

/** One queue shown on the board. */
export interface BoardQueue {
  queue: Queue;
  displayName: string;
  description: string;
}

/** What {@link createBullBoardRouter} needs. */
export interface BullBoardRouterOptions {
  queues: readonly BoardQueue[];
  readOnly: boolean;
  /** The board's base path (`''` or `/ops`). */
  basePath: string;
}

/**
 * Bull Board over the given queues, as an Express sub-app to mount at the base path. The
 * header's links menu (Bull Board's `uiConfig.miscLinks`, its supported way to add header
 * links) leads to the monitoring page and the Prometheus metrics; a read-only board shows
 * Bull Board's environment badge saying so.
 */
export function createBullBoardRouter(options: BullBoardRouterOptions): Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(options.basePath === '' ? '/' : options.basePath);
  createBullBoard({
    queues: options.queues.map(
      ({ queue, displayName, description }) =>
        new BullMQAdapter(queue, { readOnlyMode: options.readOnly, displayName, description }),
    ),
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'kai-jobs',
        miscLinks: [
          { text: 'Monitoring', url: `${options.basePath}/monitoring` },
          { text: 'Prometheus metrics', url: `${options.basePath}/metrics` },
        ],
        ...(options.readOnly ? { environment: { label: 'read-only', color: '#92400e', textColor: '#ffffff' } } : {}),
      },
    },
  });
  const router = serverAdapter.getRouter() as Express;
  router.disable('x-powered-by');
  return router;
}
