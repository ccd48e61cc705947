import type { JobType } from '@kai-jobs/queue';
import { AlertKind } from '../alerts/alert-kinds.js';

/** The stuck alert of a job type. */
export function stuckAlertKind(type: JobType): typeof AlertKind.StuckPdfJob | typeof AlertKind.StuckScrapingSession | typeof AlertKind.StuckImportJob {
  switch (type) {
    case 'pdf':
      return AlertKind.StuckPdfJob;
    case 'scrape':
      return AlertKind.StuckScrapingSession;
    case 'xml-import':
      return AlertKind.StuckImportJob;
    default: {
      const exhaustive: never = type;
      throw new Error(`unknown job type ${String(exhaustive)}`);
    }
  }
}

/** The failure alert of a job type. */
export function failureAlertKind(type: JobType): typeof AlertKind.PdfProcessingFailed | typeof AlertKind.ScrapingSessionFailed | typeof AlertKind.XmlImportFailed {
  switch (type) {
    case 'pdf':
      return AlertKind.PdfProcessingFailed;
    case 'scrape':
      return AlertKind.ScrapingSessionFailed;
    case 'xml-import':
      return AlertKind.XmlImportFailed;
    default: {
      const exhaustive: never = type;
      throw new Error(`unknown job type ${String(exhaustive)}`);
    }
  }
}
