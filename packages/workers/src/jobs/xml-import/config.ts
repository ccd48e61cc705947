import { z } from 'zod';
import { ConfigError, type Clock } from '@kai-jobs/queue';
import type { BlobReader } from '../shared/blob-reader.js';
import { UrlGuardOptionsSchema } from '../shared/url-guard.js';
import type { ProductStore } from './product-store.js';

const MiB = 1024 * 1024;

/** Options of `createXmlImportJob` (the worker's settings; the payload carries the per-feed ones). */
export const XmlImportJobOptionsSchema = z
  .object({
    /** Where valid products are upserted (e.g. `RedisProductStore`). Required. */
    productStore: z.custom<ProductStore>(
      (value) => typeof value === 'object' && value !== null && typeof (value as ProductStore).upsertMany === 'function',
      'expected a ProductStore',
    ),
    /** Reads `{ kind: 'storage' }` sources. Default none: such a source fails permanently. */
    blobStore: z
      .custom<BlobReader>((value) => typeof value === 'object' && value !== null && typeof (value as BlobReader).openRead === 'function', 'expected a BlobReader')
      .optional(),
    /**
     * The only folder `{ kind: 'file' }` feeds may be read from (FILE_ROOT): the real path of the
     * opened file (symlinks followed) must stay inside it. Default unset: file sources are refused.
     */
    fileRoot: z.string().min(1).optional(),
    /** SSRF guard for `{ kind: 'url' }` feeds (`allow`: hosts, addresses, CIDRs). Default: nothing allowed. */
    urlGuard: UrlGuardOptionsSchema.prefault({}),
    /** Whole download of a URL feed (ms). Default 600 000 (10 min). */
    fetchTimeoutMs: z.number().int().positive().default(600_000),
    /** A URL feed sending nothing for this long fails (ms). Default 60 000. */
    idleTimeoutMs: z.number().int().positive().default(60_000),
    /** Redirects followed for a URL feed. Default 5. */
    maxRedirects: z.number().int().min(0).max(20).default(5),
    /** `User-Agent` for URL feeds. Default `KaiJobsImporter/1.0`. */
    userAgent: z.string().min(1).max(500).default('KaiJobsImporter/1.0'),
    /** Largest feed accepted (bytes, after decompression); bigger fails permanently. Default 2 GiB. */
    maxFeedBytes: z.number().int().positive().default(2048 * MiB),
    /** Deepest element nesting accepted. Default 64. */
    maxElementDepth: z.number().int().min(2).max(10_000).default(64),
    /** Largest prolog (XML declaration, comments, DOCTYPE) before the root element (bytes). Default 1 MiB. */
    maxPrologBytes: z.number().int().min(1024).default(MiB),
    /** The stored feed is split into artifact parts of about this size (bytes); memory use follows it. Default 8 MiB. */
    partBytes: z.number().int().min(64 * 1024).default(8 * MiB),
    /** Clock for timeouts. Default the system clock. */
    clock: z.custom<Clock>((value) => typeof value === 'object' && value !== null && 'now' in value && 'sleep' in value).optional(),
  })
  .strict();
/** What callers pass to `createXmlImportJob`. */
export type XmlImportJobOptions = z.input<typeof XmlImportJobOptionsSchema>;
/** Resolved XML import options. */
export type XmlImportJobConfig = z.output<typeof XmlImportJobOptionsSchema>;

/** Parses XML import options; throws one {@link ConfigError} listing every problem. */
export function parseXmlImportJobOptions(input: XmlImportJobOptions): XmlImportJobConfig {
  const result = XmlImportJobOptionsSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigError(`invalid XML import job options: ${problems.join('; ')}`);
  }
  return result.data;
}
