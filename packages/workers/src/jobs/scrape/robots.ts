/**
 * robots.txt (RFC 9309): parsing, group selection for a user agent, and the longest-match
 * rule between Allow and Disallow. Pure functions; fetching lives in `robots-cache.ts`.
 */

/** RFC 9309 asks crawlers to parse at least 500 KiB; anything beyond is ignored. */
export const ROBOTS_MAX_BYTES = 500 * 1024;

interface Rule {
  allow: boolean;
  /** The pattern as written (its length decides precedence). */
  pattern: string;
  regex: RegExp;
}

interface Group {
  agents: string[];
  rules: Rule[];
  crawlDelaySeconds: number | null;
}

/** The rules of one site for one user agent. */
export interface RobotsPolicy {
  /** True when `url` (same origin as the robots.txt) may be fetched. */
  isAllowed(url: URL): boolean;
  /** The `Crawl-delay` of the matching group in seconds, or null. */
  readonly crawlDelaySeconds: number | null;
  /** Why the policy is what it is (`parsed`, `not found (404)`, `unreachable: …`). */
  readonly source: string;
  /** True when robots.txt could not be fetched (5xx, timeout, network): a later attempt may get it. */
  readonly unreachable: boolean;
}

/** A policy that allows everything (robots.txt missing: 4xx). */
export function allowAllPolicy(source: string): RobotsPolicy {
  return { isAllowed: () => true, crawlDelaySeconds: null, source, unreachable: false };
}

/** A policy that refuses everything but robots.txt itself (robots.txt unreachable: 5xx or network; RFC 9309 §2.3.1.4). */
export function disallowAllPolicy(source: string): RobotsPolicy {
  return { isAllowed: (url) => url.pathname === '/robots.txt', crawlDelaySeconds: null, source, unreachable: true };
}

/** The product token of a User-Agent string: `KaiJobsBot/1.0 (+https://…)` → `kaijobsbot`. */
export function productToken(userAgent: string): string {
  return (userAgent.trim().split(/[\s/]/)[0] ?? '').toLowerCase();
}

function normalisePath(path: string): string {
  // Compare in one canonical percent-encoding: encode raw non-ASCII, uppercase existing escapes.
  return encodeURI(decodeSafe(path)).replace(/%[0-9a-f]{2}/gi, (escape) => escape.toUpperCase());
}

function decodeSafe(path: string): string {
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

function compile(pattern: string): RegExp {
  const anchored = pattern.endsWith('$');
  const body = normalisePath(anchored ? pattern.slice(0, -1) : pattern)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${body}${anchored ? '$' : ''}`);
}

/** Parses robots.txt text into groups (unknown lines and comments are ignored). */
export function parseRobots(text: string): Group[] {
  const groups: Group[] = [];
  let current: Group | null = null;
  let lastWasAgent = false;
  for (const rawLine of text.slice(0, ROBOTS_MAX_BYTES).split(/\r\n|\r|\n/)) {
    const line = rawLine.replace(/#.*$/, '').trim();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (key === 'user-agent') {
      if (current === null || !lastWasAgent) {
        current = { agents: [], rules: [], crawlDelaySeconds: null };
        groups.push(current);
      }
      current.agents.push(productToken(value) || value.toLowerCase());
      lastWasAgent = true;
      continue;
    }
    lastWasAgent = false;
    if (current === null) continue;
    if ((key === 'allow' || key === 'disallow') && value !== '') {
      current.rules.push({ allow: key === 'allow', pattern: value, regex: compile(value) });
    } else if (key === 'crawl-delay') {
      const seconds = Number(value);
      if (Number.isFinite(seconds) && seconds >= 0 && current.crawlDelaySeconds === null) current.crawlDelaySeconds = seconds;
    }
  }
  return groups;
}

/**
 * The policy for `userAgent` from robots.txt `text`: every group naming the agent's product
 * token (case-insensitive) is merged; without one, the `*` groups; without those, all is allowed.
 */
export function robotsPolicyFor(text: string, userAgent: string, source = 'parsed'): RobotsPolicy {
  const token = productToken(userAgent);
  const groups = parseRobots(text);
  let selected = groups.filter((group) => group.agents.includes(token));
  if (selected.length === 0) selected = groups.filter((group) => group.agents.includes('*'));
  const rules = selected.flatMap((group) => group.rules);
  const crawlDelaySeconds = selected.find((group) => group.crawlDelaySeconds !== null)?.crawlDelaySeconds ?? null;
  return {
    crawlDelaySeconds,
    source,
    unreachable: false,
    isAllowed(url: URL): boolean {
      if (url.pathname === '/robots.txt') return true;
      const target = normalisePath(`${url.pathname}${url.search}`);
      let best: Rule | null = null;
      for (const rule of rules) {
        if (!rule.regex.test(target)) continue;
        // Longest pattern wins; on a tie, Allow wins (RFC 9309 §2.2.2).
        if (best === null || rule.pattern.length > best.pattern.length || (rule.pattern.length === best.pattern.length && rule.allow)) {
          best = rule;
        }
      }
      return best === null || best.allow;
    },
  };
}
