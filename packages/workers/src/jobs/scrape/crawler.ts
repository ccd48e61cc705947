import { toError, type ArtifactRef, type Clock } from '@kai-jobs/queue';
import { PermanentJobError } from '../../errors.js';
import type { StageContext } from '../../stage-context.js';
import { isHttpFetchError } from '../shared/errors.js';
import { Throttle } from '../shared/throttle.js';
import type { UrlGuard } from '../shared/url-guard.js';
import type { ScrapeJobConfig } from './config.js';
import { CrawlResumeStateSchema, type CrawlResumeState, type SiteCrawledOutput } from './crawl-state.js';
import { StartPageFailedError } from './errors.js';
import { HostLanes, type CrawlEntry } from './host-lanes.js';
import { pageFromError, pageFromResult } from './page-builder.js';
import { MAX_KEPT_FAILURES, PageFailureReason, type PageFailure, type PageRecord } from './page-record.js';
import type { ScrapeProvider } from './provider.js';
import type { RobotsCache } from './robots-cache.js';
import { createUrlFilter, normaliseStartUrl, type UrlFilter } from './url-filter.js';

/** What a {@link Crawler} works with. */
export interface CrawlerDeps {
  ctx: StageContext<'scrape'>;
  config: ScrapeJobConfig;
  provider: ScrapeProvider;
  robots: RobotsCache;
  guard: UrlGuard;
  clock: Clock;
}

/**
 * One crawl of `site_crawled`: a breadth-first frontier split into per-origin lanes,
 * fetched through the provider within the concurrency and delay limits; pages are buffered
 * as JSON lines and cut into artifact parts at each (throttled) save of the resume state.
 */
export class Crawler {
  private readonly ctx: StageContext<'scrape'>;
  private readonly config: ScrapeJobConfig;
  private readonly seed: string;
  private readonly filter: UrlFilter;
  private readonly known = new Set<string>();
  /** Scheduled and not finished (queued or in flight) → depth. */
  private readonly open = new Map<string, number>();
  private readonly robotsSkipped = new Set<string>();
  private readonly lanes: HostLanes;
  private readonly active = new Set<Promise<void>>();
  private counts = { completed: 0, failed: 0, products: 0 };
  private failures: PageFailure[] = [];
  private parts: ArtifactRef[] = [];
  private buffer: string[] = [];
  private bufferBytes = 0;
  private finishedSinceSave = 0;
  /** A save is queued or running (saves are not stacked up). */
  private saving = false;
  private io: Promise<void> = Promise.resolve();
  private fatal: Error | null = null;
  private wake: (() => void) | null = null;
  private seedFailure: (PageFailure & { retryable: boolean }) | null = null;
  private resumed = false;
  private readonly countersThrottle: Throttle;
  private lastSaveAt: number;

  constructor(private readonly deps: CrawlerDeps) {
    this.ctx = deps.ctx;
    this.config = deps.config;
    this.seed = normaliseStartUrl(deps.ctx.payload.sourceUrl);
    this.filter = createUrlFilter(deps.ctx.payload);
    this.lanes = new HostLanes({ perHost: deps.config.perHostConcurrency, total: deps.config.maxConcurrency });
    this.countersThrottle = new Throttle(deps.config.countersEveryPages, deps.config.countersIntervalMs, deps.clock);
    this.lastSaveAt = deps.clock.now();
  }

  /** Crawls until the frontier is empty; returns the stage output. */
  async run(): Promise<SiteCrawledOutput> {
    const state = this.readResumeState();
    await this.ctx.markScraping();
    if (state === null) await this.start();
    else await this.restore(state);
    await this.writeCounters();
    try {
      await this.loop();
    } finally {
      // Never leave fetches or writes running behind a failed or aborted stage.
      await Promise.allSettled([...this.active]);
      await this.io;
    }
    if (this.fatal !== null) throw this.fatal;
    const last = this.takeBuffer();
    if (last !== null) this.parts.push(await this.ctx.artifacts.put(last.name, last.body, { contentType: 'application/x-ndjson' }));
    await this.writeCounters(true);
    this.throwIfStartFailed();
    return {
      sourceUrl: this.seed,
      totalPages: this.total(),
      completedPages: this.counts.completed,
      failedPages: this.counts.failed,
      robotsSkipped: this.robotsSkipped.size,
      productsFound: this.counts.products,
      parts: this.parts,
      failures: this.failures,
      resumed: this.resumed,
    };
  }

  private readResumeState(): CrawlResumeState | null {
    if (this.ctx.resumeState === null || this.ctx.resumeState === undefined) return null;
    const parsed = CrawlResumeStateSchema.safeParse(this.ctx.resumeState);
    if (!parsed.success) {
      this.ctx.logger.warn('ignoring an unreadable crawl resume state; starting over', { issues: parsed.error.issues.length });
      return null;
    }
    // A state for another start URL, or one where nothing succeeded yet (the start page may
    // have failed transiently), is worth nothing: start over.
    if (parsed.data.sourceUrl !== this.seed || parsed.data.counts.completed === 0) return null;
    return parsed.data;
  }

  private async start(): Promise<void> {
    try {
      await this.deps.guard.check(this.seed);
    } catch (error) {
      if (isHttpFetchError(error) && error.reason === PageFailureReason.Refused) {
        throw new PermanentJobError(`sourceUrl refused by the SSRF guard: ${error.message}`, { cause: error });
      }
      // Not resolvable now: the start page's fetch reports it (and the job may retry).
    }
    const origin = new URL(this.seed).origin;
    const policy = await this.deps.robots.load(origin, this.ctx.signal);
    if (!policy.isAllowed(new URL(this.seed))) {
      // An unreachable robots.txt means "disallow all" (RFC 9309), but it may be back later.
      if (policy.unreachable) throw new StartPageFailedError(this.seed, 'robots_unreachable', policy.source);
      throw new PermanentJobError(`robots.txt of ${origin} disallows the start page ${this.seed} for this crawler (${policy.source})`);
    }
    this.schedule(this.seed, 0);
  }

  private async restore(state: CrawlResumeState): Promise<void> {
    this.resumed = true;
    for (const url of state.known) this.known.add(url);
    for (const url of state.robotsSkipped) this.robotsSkipped.add(url);
    this.counts = { ...state.counts };
    this.failures = [...state.failures];
    this.parts = [...state.parts];
    const origins = new Set(state.frontier.map((entry) => new URL(entry.url).origin));
    await Promise.all([...origins].map((origin) => this.deps.robots.load(origin, this.ctx.signal)));
    for (const entry of state.frontier) this.enqueue(entry.url, entry.depth);
    this.ctx.logger.info('crawl resumed from saved state', {
      finished: this.counts.completed + this.counts.failed,
      frontier: state.frontier.length,
      parts: this.parts.length,
    });
  }

  private total(): number {
    return this.counts.completed + this.counts.failed + this.open.size;
  }

  private schedule(url: string, depth: number): void {
    this.known.add(url);
    this.enqueue(url, depth);
  }

  private enqueue(url: string, depth: number): void {
    this.open.set(url, depth);
    const origin = new URL(url).origin;
    // Crawl-delay counts from robots.txt (loaded before any URL of the origin is scheduled).
    const crawlDelayMs = (this.deps.robots.get(origin)?.crawlDelaySeconds ?? 0) * 1000;
    this.lanes.push(origin, { url, depth }, Math.max(this.config.delayMs, Math.min(crawlDelayMs, this.config.maxCrawlDelayMs)));
  }

  private async loop(): Promise<void> {
    for (;;) {
      if (this.fatal !== null) throw this.fatal;
      this.ctx.throwIfAborted();
      const now = this.deps.clock.now();
      const { start, nextStartAt, queued } = this.lanes.take(now);
      for (const { entry, origin } of start) this.startTask(entry, origin);
      if (!queued && this.active.size === 0) return;
      if (this.countersThrottle.dueByTime()) {
        this.countersThrottle.done();
        this.enqueueIo(() => this.writeCounters());
      }
      if (this.saveDue()) this.scheduleSave();
      await this.waitForChange(nextStartAt === null ? null : nextStartAt - now);
    }
  }

  private startTask(entry: CrawlEntry, origin: string): void {
    const task: Promise<void> = this.crawlPage(entry)
      .catch((error: unknown) => {
        this.fatal ??= toError(error);
      })
      .finally(() => {
        this.lanes.release(origin);
        this.active.delete(task);
        this.wake?.();
      });
    this.active.add(task);
  }

  /** Resolves when a task finishes, the next lane opens after `delayMs`, or the job aborts. */
  private waitForChange(delayMs: number | null): Promise<void> {
    return new Promise<void>((resolve) => {
      const stopTimer = new AbortController();
      const done = (): void => {
        stopTimer.abort();
        this.ctx.signal.removeEventListener('abort', done);
        if (this.wake === done) this.wake = null;
        resolve();
      };
      this.wake = done;
      this.ctx.signal.addEventListener('abort', done, { once: true });
      if (delayMs !== null) this.deps.clock.sleep(Math.max(0, delayMs), stopTimer.signal).then(done, () => undefined);
    });
  }

  private async crawlPage(entry: CrawlEntry): Promise<void> {
    const { provider } = this.deps;
    let record: PageRecord;
    try {
      const result = await provider.fetch({ url: entry.url, signal: this.ctx.signal });
      record = pageFromResult(entry.url, entry.depth, provider.name, result, this.config);
    } catch (error) {
      if (this.ctx.signal.aborted) throw toError(this.ctx.signal.reason);
      record = pageFromError(entry.url, entry.depth, provider.name, error, this.ctx.logger);
    }
    // Pattern matching yields while it works (payload patterns, see url-filter.ts); commit re-checks `known`.
    const candidates = entry.depth < this.ctx.payload.maxDepth ? await this.filter.acceptsAll(record.links.filter((link) => !this.known.has(link))) : [];
    const origins = new Set(candidates.map((link) => new URL(link).origin));
    // Robots policies load before the page is committed, so the commit below is synchronous.
    await Promise.all([...origins].map((origin) => this.deps.robots.load(origin, this.ctx.signal)));
    this.commit(entry, record, candidates);
  }

  /** Records a finished page and schedules its links, in one synchronous step (see CrawlResumeState). */
  private commit(entry: CrawlEntry, record: PageRecord, candidates: readonly string[]): void {
    this.open.delete(entry.url);
    if (record.finalUrl !== entry.url) this.known.add(record.finalUrl);
    if (record.status === 'completed') {
      this.counts.completed += 1;
      this.counts.products += record.products.length;
    } else {
      this.counts.failed += 1;
      const failure = { url: entry.url, reason: record.error?.reason ?? PageFailureReason.Error, message: record.error?.message ?? '' };
      if (this.failures.length < MAX_KEPT_FAILURES) this.failures.push(failure);
      if (entry.depth === 0 && entry.url === this.seed) this.seedFailure = { ...failure, retryable: record.error?.retryable ?? false };
    }
    const line = `${JSON.stringify(record)}\n`;
    this.buffer.push(line);
    this.bufferBytes += line.length;
    for (const link of candidates) {
      if (this.known.has(link)) continue;
      if (this.total() >= this.ctx.payload.maxPages) break;
      const policy = this.deps.robots.get(new URL(link).origin);
      if (policy !== undefined && !policy.isAllowed(new URL(link))) {
        this.known.add(link);
        this.robotsSkipped.add(link);
        continue;
      }
      this.schedule(link, entry.depth + 1);
    }
    this.finishedSinceSave += 1;
    if (this.countersThrottle.tick()) {
      this.countersThrottle.done();
      this.enqueueIo(() => this.writeCounters());
    }
    if (this.saveDue()) this.scheduleSave();
  }

  /**
   * A save is due after `checkpointEveryPages` pages or `checkpointIntervalMs`, or when the
   * buffered records reach `partMaxBytes`. Both thresholds grow with the crawl (to 5% of the
   * finished pages, and 1× the interval per 1000 pages): each save writes the whole known
   * set, so fixed thresholds would write O(pages²) bytes over a 100 000-page crawl; this way
   * a crash costs at most about 5% of the crawl.
   */
  private saveDue(): boolean {
    if (this.finishedSinceSave === 0 || this.saving) return false;
    const finished = this.counts.completed + this.counts.failed;
    if (this.bufferBytes >= this.config.partMaxBytes) return true;
    if (this.finishedSinceSave >= Math.max(this.config.checkpointEveryPages, Math.ceil(finished / 20))) return true;
    return this.deps.clock.now() - this.lastSaveAt >= this.config.checkpointIntervalMs * Math.max(1, finished / 1000);
  }

  private scheduleSave(): void {
    this.saving = true;
    this.lastSaveAt = this.deps.clock.now();
    this.enqueueIo(async () => {
      try {
        await this.saveState();
      } finally {
        this.saving = false;
      }
    });
  }

  private enqueueIo(work: () => Promise<void>): void {
    this.io = this.io.then(work).catch((error: unknown) => {
      this.fatal ??= toError(error);
      this.wake?.();
    });
  }

  private takeBuffer(): { name: string; body: string } | null {
    if (this.buffer.length === 0) return null;
    const body = this.buffer.join('');
    this.buffer = [];
    this.bufferBytes = 0;
    return { name: `pages/part-${String(this.parts.length + 1).padStart(5, '0')}.jsonl`, body };
  }

  private async saveState(): Promise<void> {
    if (this.finishedSinceSave === 0) return;
    // Snapshot and buffer are taken together, before any await: see CrawlResumeState.
    this.finishedSinceSave = 0;
    const snapshot: CrawlResumeState = {
      version: 1,
      sourceUrl: this.seed,
      known: [...this.known],
      frontier: [...this.open].map(([url, depth]) => ({ url, depth })),
      robotsSkipped: [...this.robotsSkipped],
      counts: { ...this.counts },
      failures: [...this.failures],
      parts: [],
    };
    const part = this.takeBuffer();
    if (part !== null) this.parts.push(await this.ctx.artifacts.put(part.name, part.body, { contentType: 'application/x-ndjson' }));
    snapshot.parts = [...this.parts];
    await this.ctx.saveResumeState(snapshot);
  }

  private async writeCounters(final = false): Promise<void> {
    const total = this.total();
    const finished = this.counts.completed + this.counts.failed;
    await this.ctx.setCounters({ total_pages: total, completed_pages: this.counts.completed, failed_pages: this.counts.failed });
    const percent = final ? 100 : total === 0 ? 0 : Math.min(99, Math.floor((finished / total) * 100));
    await this.ctx.progress(percent, `${finished} of ${total} pages`);
  }

  private throwIfStartFailed(): void {
    if (this.counts.completed > 0 || this.seedFailure === null) return;
    const { url, reason, message, retryable } = this.seedFailure;
    if (retryable) throw new StartPageFailedError(url, reason, message);
    throw new PermanentJobError(`the start page ${url} failed (${reason}): ${message}`);
  }
}
