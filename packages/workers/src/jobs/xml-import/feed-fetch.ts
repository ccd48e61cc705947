import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ArtifactRefSchema, type ArtifactRef } from '@kai-jobs/queue';
import type { ScopedArtifactStore } from '../../artifacts/artifact-store.js';
import { PermanentJobError } from '../../errors.js';
import type { StageContext } from '../../stage-context.js';
import type { XmlImportJobConfig } from './config.js';
import { openFeedSource } from './feed-source.js';
import { scanProlog, type PrologInfo } from './prolog-scan.js';

/** The `feed_fetched` stage's output. */
export const FeedFetchedOutputSchema = z.object({
  /** Where the feed came from (`file:…`, `url:…`, `storage:…`). */
  source: z.string(),
  /** The feed's bytes, split into parts in order (concatenated they are the feed). */
  parts: z.array(ArtifactRefSchema),
  bytes: z.number().int().positive(),
  /** sha256 of the whole feed. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Text encoding used to parse it. */
  encoding: z.string(),
  /** DOCTYPE name when the feed has one (without entity declarations), else null. */
  doctype: z.string().nullable(),
});
/** The `feed_fetched` stage's output. */
export type FeedFetchedOutput = z.infer<typeof FeedFetchedOutputSchema>;

/**
 * Cuts a byte stream into artifact parts of `partBytes`, copying chunks into one part buffer
 * (no list of chunks, no concatenation). With a store on local disk the buffer is reused for
 * every part, since the store has written it out when `put` resolves; other stores get a
 * fresh buffer per part, as they may keep what they are given.
 */
class PartWriter {
  private buffer: Buffer | null = null;
  private size = 0;
  readonly parts: ArtifactRef[] = [];
  private readonly reuse: boolean;

  constructor(
    private readonly artifacts: ScopedArtifactStore,
    private readonly partBytes: number,
  ) {
    this.reuse = artifacts.localPath('feed') !== null;
  }

  async write(chunk: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < chunk.byteLength) {
      this.buffer ??= Buffer.allocUnsafe(this.partBytes);
      const take = Math.min(this.partBytes - this.size, chunk.byteLength - offset);
      this.buffer.set(chunk.subarray(offset, offset + take), this.size);
      this.size += take;
      offset += take;
      if (this.size === this.partBytes) await this.flush();
    }
  }

  async flush(): Promise<void> {
    if (this.size === 0 || this.buffer === null) return;
    const body = this.buffer.subarray(0, this.size);
    const name = `feed/part-${String(this.parts.length + 1).padStart(5, '0')}.xml`;
    this.parts.push(await this.artifacts.put(name, body, { contentType: 'application/xml' }));
    this.size = 0;
    if (!this.reuse) this.buffer = null;
  }
}

/**
 * `feed_fetched`: streams the source into the artifact store (bounded memory), hashing it
 * and scanning its prolog on the way; a DOCTYPE declaring entities, an oversized or empty
 * feed, or an encoding other than UTF-8/ASCII-compatible fails the job permanently.
 */
export async function fetchFeed(ctx: StageContext<'xml-import'>, config: XmlImportJobConfig): Promise<FeedFetchedOutput> {
  const feed = await openFeedSource(ctx.payload.source, config, ctx.signal);
  const writer = new PartWriter(ctx.artifacts, config.partBytes);
  const hash = createHash('sha256');
  let bytes = 0;
  let prologText = '';
  let prolog: PrologInfo | null = null;
  let reported = 0;
  try {
    try {
      for await (const chunk of feed.chunks) {
        feed.touch();
        ctx.throwIfAborted();
        const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        // `buffer` may be reused by the source once we ask for the next chunk: copied below, never kept.
        bytes += buffer.byteLength;
        if (bytes > config.maxFeedBytes) throw new PermanentJobError(`the feed is larger than the limit of ${config.maxFeedBytes} bytes`);
        hash.update(buffer);
        if (prolog === null) {
          prologText += buffer.toString('latin1', 0, Math.min(buffer.byteLength, config.maxPrologBytes + 1 - prologText.length));
          const scan = scanProlog(prologText, false);
          if (scan.done) prolog = scan.info;
          else if (prologText.length > config.maxPrologBytes) {
            throw new PermanentJobError(`no root element within the first ${config.maxPrologBytes} bytes of the feed (prolog too large)`);
          }
        }
        await writer.write(buffer);
        if (feed.declaredBytes !== null && bytes - reported >= feed.declaredBytes / 20) {
          reported = bytes;
          await ctx.progress(Math.min(99, Math.floor((bytes / feed.declaredBytes) * 100)), `${bytes} of ${feed.declaredBytes} bytes`);
        }
      }
    } catch (error) {
      if (error instanceof PermanentJobError) throw error;
      throw feed.mapError(error);
    }
    if (bytes === 0) throw new PermanentJobError(`the feed ${feed.description} is empty`);
    if (prolog === null) {
      const scan = scanProlog(prologText, true);
      prolog = scan.done ? scan.info : { encoding: 'utf-8', doctype: null };
    }
    try {
      new TextDecoder(prolog.encoding);
    } catch {
      throw new PermanentJobError(`the feed declares encoding "${prolog.encoding}", which this worker cannot decode`);
    }
    await writer.flush();
  } finally {
    feed.dispose();
  }
  const sha256 = hash.digest('hex');
  await ctx.progress(100, `${bytes} bytes`);
  ctx.logger.info('feed fetched', { source: feed.description, bytes, sha256, parts: writer.parts.length });
  return { source: feed.description, parts: writer.parts, bytes, sha256, encoding: prolog.encoding, doctype: prolog.doctype };
}
