import { toError, type Clock } from '@kai-jobs/queue';
import { FetchFailureReason, isHttpFetchError } from '../shared/errors.js';
import { fetchBuffered, type HttpAgents } from '../shared/guarded-http.js';
import type { UrlGuard } from '../shared/url-guard.js';
import { allowAllPolicy, disallowAllPolicy, robotsPolicyFor, ROBOTS_MAX_BYTES, type RobotsPolicy } from './robots.js';

/** Loads the robots policy of an origin (`https://shop.example`). */
export type RobotsLoader = (origin: string, signal: AbortSignal) => Promise<RobotsPolicy>;

/** Settings of {@link httpRobotsLoader}. */
export interface HttpRobotsLoaderSettings {
  guard: UrlGuard;
  userAgent: string;
  timeoutMs: number;
  maxRedirects: number;
  agents: HttpAgents;
  clock: Clock;
}

/**
 * Fetches `/robots.txt` directly (whatever the page provider), as RFC 9309 says: 2xx →
 * its rules; 4xx → no rules (allow all); 5xx, timeout, network error → the file is
 * "unreachable" and everything is disallowed.
 */
export function httpRobotsLoader(settings: HttpRobotsLoaderSettings): RobotsLoader {
  return async (origin, signal) => {
    const url = `${origin}/robots.txt`;
    try {
      const response = await fetchBuffered(url, {
        guard: settings.guard,
        signal,
        timeoutMs: settings.timeoutMs,
        maxBodyBytes: ROBOTS_MAX_BYTES * 4,
        maxRedirects: settings.maxRedirects,
        agents: settings.agents,
        clock: settings.clock,
        headers: { 'user-agent': settings.userAgent, accept: 'text/plain,*/*;q=0.5' },
        accept: (_type, status) => status >= 200 && status < 300,
      });
      if (response.status >= 200 && response.status < 300) {
        return robotsPolicyFor((response.body ?? Buffer.alloc(0)).toString('utf8'), settings.userAgent);
      }
      if (response.status >= 400 && response.status < 500) return allowAllPolicy(`robots.txt answered ${response.status}`);
      return disallowAllPolicy(`robots.txt unreachable: HTTP ${response.status}`);
    } catch (error) {
      if (!isHttpFetchError(error)) throw toError(error);
      // A refused origin is not "unreachable": its pages are scheduled and each fails as
      // refused by the guard, so the session reports them instead of hiding them as skipped.
      if (error.reason === FetchFailureReason.Refused) return allowAllPolicy(`robots.txt refused: ${error.message}`);
      return disallowAllPolicy(`robots.txt unreachable: ${error.message}`);
    }
  };
}

/** Robots policies by origin, each loaded once (concurrent callers share the load). */
export class RobotsCache {
  private readonly loading = new Map<string, Promise<RobotsPolicy>>();
  private readonly loaded = new Map<string, RobotsPolicy>();

  constructor(private readonly loader: RobotsLoader | null) {}

  /** Loads (once) and returns the policy of `origin`; allow-all when robots are not honoured. */
  load(origin: string, signal: AbortSignal): Promise<RobotsPolicy> {
    let pending = this.loading.get(origin);
    if (pending === undefined) {
      pending = (this.loader === null ? Promise.resolve(allowAllPolicy('robots.txt not honoured')) : this.loader(origin, signal)).then(
        (policy) => {
          this.loaded.set(origin, policy);
          return policy;
        },
      );
      // A failed load (the job was aborted) is retried by the next caller.
      pending.catch(() => this.loading.delete(origin));
      this.loading.set(origin, pending);
    }
    return pending;
  }

  /** The policy of an origin already loaded, else undefined. */
  get(origin: string): RobotsPolicy | undefined {
    return this.loaded.get(origin);
  }
}
