import { KaiJobsError } from '@kai-jobs/queue';

/** Stable codes of the errors the PDF job throws besides `PermanentJobError`. */
export const PdfJobErrorCode = {
  SourceUnavailable: 'PDF_SOURCE_UNAVAILABLE',
} as const;
/** One of {@link PdfJobErrorCode}. */
export type PdfJobErrorCode = (typeof PdfJobErrorCode)[keyof typeof PdfJobErrorCode];

/**
 * The PDF could not be fetched for a reason that may pass (timeout, network error, 429,
 * 5xx): retryable, so BullMQ's next attempt tries again.
 */
export class SourceUnavailableError extends KaiJobsError {
  override name = 'SourceUnavailableError' as const;
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(PdfJobErrorCode.SourceUnavailable, message, { ...options, retryable: true });
  }
}
