import type { StatusRefs } from '../status/types.js';
import type { JobType, Payload } from './index.js';

/** The platform ids a status row links to, taken from a validated payload. */
export function refsOfPayload<T extends JobType>(type: T, payload: Payload<T>): StatusRefs {
  switch (type) {
    case 'pdf': {
      const pdf = payload as Payload<'pdf'>;
      return { documentId: pdf.documentId };
    }
    case 'scrape': {
      const scrape = payload as Payload<'scrape'>;
      const refs: StatusRefs = { sessionId: scrape.sessionId, sourceUrl: scrape.sourceUrl };
      if (scrape.backgroundJobId !== undefined) refs.backgroundJobId = scrape.backgroundJobId;
      return refs;
    }
    case 'xml-import': {
      const xml = payload as Payload<'xml-import'>;
      const refs: StatusRefs = { importJobId: xml.importJobId, sourceName: xml.sourceName };
      if (xml.backgroundJobId !== undefined) refs.backgroundJobId = xml.backgroundJobId;
      return refs;
    }
    default: {
      const exhaustive: never = type;
      throw new Error(`unknown job type ${String(exhaustive)}`);
    }
  }
}
