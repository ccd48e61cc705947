import { XmlImportStage } from '@kai-jobs/queue';
import { defineStage, defineStagedJob, type StagedJobDefinition } from '../../staged-job.js';
import { parseXmlImportJobOptions, type XmlImportJobConfig, type XmlImportJobOptions } from './config.js';
import { fetchFeed, FeedFetchedOutputSchema } from './feed-fetch.js';
import { importProducts, ProductsImportedOutputSchema } from './import-products.js';

function feedFetchedStage(config: XmlImportJobConfig) {
  return defineStage<'xml-import', typeof XmlImportStage.FeedFetched, typeof FeedFetchedOutputSchema>({
    name: XmlImportStage.FeedFetched,
    output: FeedFetchedOutputSchema,
    weight: 1,
    run: (ctx) => fetchFeed(ctx, config),
  });
}

function productsImportedStage(config: XmlImportJobConfig, fetched: ReturnType<typeof feedFetchedStage>) {
  return defineStage<'xml-import', typeof XmlImportStage.ProductsImported, typeof ProductsImportedOutputSchema>({
    name: XmlImportStage.ProductsImported,
    output: ProductsImportedOutputSchema,
    weight: 4,
    run: (ctx, previous) => importProducts(ctx, previous.get(fetched), config),
  });
}

/**
 * The XML product import job (`xml-import`): `feed_fetched` stores the feed (checked, hashed),
 * `products_imported` streams it, validates each record and upserts valid products in
 * batches into the configured `ProductStore`. See jobs/xml-import/README.md.
 */
export function createXmlImportJob(options: XmlImportJobOptions): StagedJobDefinition<'xml-import'> {
  const config = parseXmlImportJobOptions(options);
  const fetched = feedFetchedStage(config);
  const imported = productsImportedStage(config, fetched);
  return defineStagedJob<'xml-import'>({
    type: 'xml-import',
    stages: [fetched, imported],
    result(outputs, { payload }) {
      const result = outputs.get(imported);
      return {
        importJobId: payload.importJobId,
        totalProducts: result.totalProducts,
        processedProducts: result.processedProducts,
        failedProducts: result.failedProducts,
        batches: result.batches,
        failures: result.failures,
      };
    },
  });
}
