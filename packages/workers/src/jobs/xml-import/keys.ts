import { jobCatalog, queueKeyBase } from '@kai-jobs/queue';

/** Redis keys of the product store (the only place they are built). */
export interface ProductKeys {
  /** Hash of one source's products: field = SKU, value = the product as JSON. */
  items(sourceName: string): string;
}

/**
 * Keys under `<prefix>:{xml-import}:products:<sourceName>:…`, sharing the xml-import queue's
 * hash tag. The source name is URI-encoded so a `:` in it cannot collide with another key.
 */
export function productKeys(prefix: string): ProductKeys {
  const base = `${queueKeyBase(prefix, jobCatalog['xml-import'].queueName)}:products`;
  return {
    items: (sourceName) => `${base}:${encodeURIComponent(sourceName)}:items`,
  };
}
