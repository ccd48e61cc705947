import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '@kai-jobs/queue';
import { FetchFailureReason, HttpFetchError, UrlRefusedError } from './errors.js';
import { blockedReasonOf, cidrContains, parseCidr, parseIp, type Cidr } from './ip-ranges.js';

/** One resolved address of a host. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves every address of a host name (node's `dns.lookup(host, { all: true })` by default). */
export type ResolveHost = (hostname: string) => Promise<ResolvedAddress[]>;

const HOSTNAME_PATTERN = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/i;

/** Options of {@link UrlGuard}. */
export const UrlGuardOptionsSchema = z
  .object({
    /**
     * Let these through although they resolve into a refused range: host names (exact,
     * case-insensitive: `intranet.example`), addresses (`127.0.0.1`) or networks (`10.1.0.0/16`).
     * Default: none — loopback, private, link-local, CGNAT, multicast and cloud-metadata
     * addresses are all refused.
     */
    allow: z.array(z.string().min(1).max(300)).max(1000).default([]),
    /** Host name resolver; default `dns.lookup` with `all: true` (the resolver sockets use). */
    resolveHost: z.custom<ResolveHost>((value) => typeof value === 'function', 'expected a function').optional(),
  })
  .strict()
  .superRefine((options, ctx) => {
    options.allow.forEach((entry, index) => {
      if (parseCidr(entry) === null && !HOSTNAME_PATTERN.test(entry)) {
        ctx.addIssue({ code: 'custom', path: ['allow', index], message: `"${entry}" is neither a host name, an IP address nor a CIDR` });
      }
    });
  });
/** What callers pass to {@link UrlGuard}. */
export type UrlGuardOptionsInput = z.input<typeof UrlGuardOptionsSchema>;

/** A URL checked by the guard, with the one address a connection to it must use. */
export interface GuardedTarget {
  readonly url: URL;
  /** Host name without IPv6 brackets. */
  readonly hostname: string;
  /** The pinned address: connect here, never re-resolve (that would reopen DNS rebinding). */
  readonly address: string;
  readonly family: 4 | 6;
}

const defaultResolveHost: ResolveHost = async (hostname) =>
  (await dnsLookup(hostname, { all: true, verbatim: true })).map((entry) => ({
    address: entry.address,
    family: entry.family === 6 ? 6 : 4,
  }));

/**
 * The SSRF guard. It resolves a URL's host itself, refuses schemes other than http(s) and
 * any address in a refused range (unless allowed), and returns the address to connect to;
 * the HTTP client then connects to exactly that address (see `guardedRequest`), so a DNS
 * answer that changes between the check and the connection cannot smuggle in a private
 * address. Every redirect hop goes through it again.
 */
export class UrlGuard {
  private readonly allowHosts: ReadonlySet<string>;
  private readonly allowCidrs: readonly Cidr[];
  private readonly resolveHost: ResolveHost;

  constructor(options: UrlGuardOptionsInput = {}) {
    const parsed = UrlGuardOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new ConfigError(
        `invalid URL guard options: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
      );
    }
    const cidrs: Cidr[] = [];
    const hosts = new Set<string>();
    for (const entry of parsed.data.allow) {
      const cidr = parseCidr(entry);
      if (cidr === null) hosts.add(entry.toLowerCase().replace(/\.$/, ''));
      else cidrs.push(cidr);
    }
    this.allowHosts = hosts;
    this.allowCidrs = cidrs;
    this.resolveHost = parsed.data.resolveHost ?? defaultResolveHost;
  }

  /**
   * Checks `url` and resolves its host. Throws {@link UrlRefusedError} for a refused scheme or
   * address, `HttpFetchError` (`network`) when the host does not resolve.
   */
  async check(url: string | URL): Promise<GuardedTarget> {
    let parsed: URL;
    try {
      parsed = typeof url === 'string' ? new URL(url) : url;
    } catch {
      throw new UrlRefusedError(String(url), 'not a valid URL');
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new UrlRefusedError(parsed.href, `scheme "${parsed.protocol.replace(/:$/, '')}" is not allowed (only http and https)`);
    }
    const hostname = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const hostAllowed = this.allowHosts.has(hostname.replace(/\.$/, ''));
    let addresses: ResolvedAddress[];
    const literalFamily = isIP(hostname);
    if (literalFamily !== 0) {
      addresses = [{ address: hostname, family: literalFamily === 6 ? 6 : 4 }];
    } else {
      try {
        addresses = await this.resolveHost(hostname);
      } catch (error) {
        throw new HttpFetchError(FetchFailureReason.Network, parsed.href, `cannot resolve ${hostname}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (addresses.length === 0) {
        throw new HttpFetchError(FetchFailureReason.Network, parsed.href, `${hostname} resolves to no address`);
      }
    }
    if (!hostAllowed) {
      // Every address must pass, not only the first: the resolver's order is not ours to trust.
      for (const { address } of addresses) {
        const blocked = blockedReasonOf(address);
        if (blocked !== null && !this.isAllowedAddress(address)) {
          const via = literalFamily === 0 ? `${hostname} resolves to ${address}, which` : `address ${address}`;
          const inside = blocked.inside === undefined ? '' : ` (${blocked.inside})`;
          throw new UrlRefusedError(
            parsed.href,
            `${via} is ${blocked.kind}${inside}; to permit it, add ${literalFamily === 0 ? `${hostname} or ${address}` : address} to SCRAPE_ALLOW on the workers (comma-separated host names, addresses or CIDRs; the urlGuard allow option in code)`,
          );
        }
      }
    }
    const pinned = addresses[0] as ResolvedAddress;
    return { url: parsed, hostname, address: pinned.address, family: pinned.family };
  }

  private isAllowedAddress(address: string): boolean {
    const ip = parseIp(address);
    return ip !== null && this.allowCidrs.some((cidr) => cidrContains(cidr, ip));
  }
}
