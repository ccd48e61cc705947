import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { isDrillPayload, toError, type HistoryEntry, type Logger } from '@kai-jobs/queue';
import type { Queue } from 'bullmq';
import type { Express } from 'express';
import { selfHostBullBoardHtml } from './http/board-fonts.js';
import { BOARD_HISTORY_LIMIT, describeHistory } from './job-history.js';

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
  /** A job's history from the job store, oldest first (at most `limit`, newest kept): shown on the job's page. */
  historyOf?(jobId: string, limit: number): Promise<HistoryEntry[]>;
  /** Logs a history read that failed (the page shows the job without it). */
  logger?: Logger;
}

/** Bull Board's route for one job (its page polls it). */
const JOB_ROUTE = '/api/queues/:queueName/:jobId';
/** Strings in job data longer than this are shown by their size only (an inline document would fill the page). */
const LONG_DATA_STRING_CHARS = 2048;

/** Job data with every very long string replaced by a note of its length, for display only. */
export function shortenLongStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') {
    return value.length > LONG_DATA_STRING_CHARS ? `[${value.length} characters, not shown]` : value;
  }
  if (depth > 20 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((item) => shortenLongStrings(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shortenLongStrings(item, depth + 1)]));
}

/**
 * The Progress tab's object: the worker's progress snapshot (stage, `progress` %, detail,
 * counters, attempt, restarts) with the job's history under `history`. A bare number stays
 * Bull Board's ring value under `progress`.
 */
export function progressWithHistory(progress: unknown, history: readonly string[]): Record<string, unknown> {
  const base: Record<string, unknown> =
    progress !== null && typeof progress === 'object' && !Array.isArray(progress)
      ? { ...(progress as Record<string, unknown>) }
      : typeof progress === 'number'
        ? { progress }
        : {};
  return { ...base, history };
}

/** Sets the display formatters every queue on the board shares. */
function setFormatters(adapter: BullMQAdapter): BullMQAdapter {
  // A recovery drill's canary says so in its name, everywhere the board lists it.
  adapter.setFormatter('name', (job: { name?: string; data?: unknown }) =>
    isDrillPayload(job.data) ? `${job.name ?? ''} (recovery drill canary)` : (job.name ?? ''),
  );
  adapter.setFormatter('data', (data: unknown) => shortenLongStrings(data));
  return adapter;
}

type AfterHook = NonNullable<NonNullable<Parameters<typeof createBullBoard>[0]['options']>['handlerHooks']>['after'];

/** Bull Board's `after` hook adding the job store's history of a job to its page's answer. */
function historyHook(historyOf: NonNullable<BullBoardRouterOptions['historyOf']>, logger: Logger | undefined): AfterHook {
  return async (context, result) => {
    if (context.route !== JOB_ROUTE || context.method !== 'get' || (result.status ?? 200) !== 200) return result;
    const body = result.body as { job?: { id?: unknown; progress?: unknown } };
    const jobId = body.job?.id;
    if (body.job === undefined || typeof jobId !== 'string') return result;
    try {
      const history = describeHistory(await historyOf(jobId, BOARD_HISTORY_LIMIT));
      if (history.length === 0) return result;
      return { ...result, body: { ...body, job: { ...body.job, progress: progressWithHistory(body.job.progress, history) } } };
    } catch (error) {
      logger?.warn('could not read the job history for its board page', { jobId, error: toError(error).message });
      return result;
    }
  };
}

/**
 * Bull Board over the given queues, as an Express sub-app to mount at the base path. The
 * header's links menu (Bull Board's `uiConfig.miscLinks`, its supported way to add header
 * links) leads to the monitoring page and the Prometheus metrics; a read-only board shows
 * Bull Board's environment badge saying so. Its page loads fonts from the board itself
 * (see `board-fonts.ts`), never from Google Fonts. Each job's card shows its overall progress
 * (the workers write `{ progress, stage, detail, counters, … }` as BullMQ progress), its Logs
 * tab the job's story, its Progress tab the stage, counters and the job store's history; a
 * drill canary is named as one, and very long strings in job data show as their size.
 */
export function createBullBoardRouter(options: BullBoardRouterOptions): Express {
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(options.basePath === '' ? '/' : options.basePath);
  createBullBoard({
    queues: options.queues.map(
      ({ queue, displayName, description }) =>
        setFormatters(new BullMQAdapter(queue, { readOnlyMode: options.readOnly, displayName, description })),
    ),
    serverAdapter,
    options: {
      // The job's page shows its recovery history (from the job store) in the Progress tab.
      ...(options.historyOf === undefined ? {} : { handlerHooks: { after: historyHook(options.historyOf, options.logger) } }),
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
