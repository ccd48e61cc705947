import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import type { Express } from 'express';
import { selfHostBullBoardHtml } from './http/board-fonts.js';

/** An Express view engine (`app.engine`'s callback). */
type ViewEngine = (path: string, options: object, callback: (error: Error | null, html?: string) => void) => void;

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
 * Bull Board's environment badge saying so. Its page loads fonts from the board itself
 * (see `board-fonts.ts`), never from Google Fonts.
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
  // Bull Board renders its page with EJS; every rendered page goes through
  // selfHostBullBoardHtml, so the page asks nothing of a third-party host.
  const ejs = (router as unknown as { engines: Record<string, ViewEngine | undefined> }).engines['.ejs'];
  if (ejs === undefined) throw new Error('Bull Board registered no EJS view engine; its page cannot be rewritten to self-hosted fonts');
  router.engine('ejs', (path, options, callback) => {
    ejs(path, options, (error, html) => callback(error, html === undefined ? html : selfHostBullBoardHtml(html)));
  });
  return router;
}
