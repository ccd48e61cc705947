import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** The field mapping of the generated feed. */
export const BENCH_MAPPING = {
  sku: 'sku',
  name: 'name',
  price: 'price',
  currency: 'price/@currency',
  externalId: '@id',
  description: 'description',
  images: 'images/image',
};

function product(index: number, invalid: boolean): string {
  return (
    `  <product id="ext-${index}">\n` +
    `    <sku>SKU-${index}</sku>\n` +
    `    <name>Porcelain tile model ${index} &amp; trim</name>\n` +
    `    <price currency="EUR">${invalid ? 'n/a' : `${(index % 997) + 0.5}`}</price>\n` +
    `    <description><![CDATA[Matt finish <b>60x60</b> tile, rectified edges, frost resistant.]]></description>\n` +
    `    <images><image>https://cdn.example/p/${index}/a.jpg</image><image>https://cdn.example/p/${index}/b.jpg</image></images>\n` +
    `  </product>\n`
  );
}

/** Streams a product feed of about `targetBytes` to `path`; every `invalidEvery`-th product is invalid. */
export async function writeFeed(path: string, targetBytes: number, invalidEvery = 100): Promise<{ products: number; invalid: number; bytes: number }> {
  const out = createWriteStream(path);
  let bytes = 0;
  let products = 0;
  let invalid = 0;
  const write = async (text: string): Promise<void> => {
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await once(out, 'drain');
  };
  await write('<?xml version="1.0" encoding="UTF-8"?>\n<products>\n');
  while (bytes < targetBytes) {
    let chunk = '';
    for (let index = 0; index < 500; index += 1) {
      products += 1;
      const bad = products % invalidEvery === 0;
      if (bad) invalid += 1;
      chunk += product(products, bad);
    }
    await write(chunk);
  }
  await write('</products>\n');
  out.end();
  await once(out, 'finish');
  return { products, invalid, bytes };
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}
