import { jobCatalog, queueKeyBase } from '@kai-jobs/queue';

/**
 * The only place the PDF job builds Redis keys. They live under the `pdf-processing` queue's
 * hash tag (`<prefix>:{pdf-processing}:…`) like the queue's own keys, so they share its slot
 * on a Redis Cluster and `<prefix>:*` cleanup finds them.
 */
export interface PdfKeys {
  /** Hash: material key → material JSON, for one document. */
  materials(documentId: string): string;
}

/** Builds the PDF job's keys under `prefix`. */
export function pdfKeys(prefix: string): PdfKeys {
  const base = queueKeyBase(prefix, jobCatalog.pdf.queueName);
  return {
    materials: (documentId) => `${base}:materials:${documentId}`,
  };
}
